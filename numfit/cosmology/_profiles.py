"""Halo density profiles with physical parameters, and the numerical projection behind them.

Two layers:

* :func:`project_profile` projects any dimensionless, spherically symmetric density
  ``ρ̂(x)`` along the line of sight and tabulates the dimensionless surface density
  ``Σ̂(X)``, the cylinder mass ``M̂(X)`` (and with it the mean surface density
  ``Σ̄̂ = 2 M̂ / X²``) and the excess surface density ``ΔΣ̂ = Σ̄̂ − Σ̂`` with AutoKnots in
  log-log space, to a stated relative tolerance.  Projections are cached, so haloes of
  different mass, concentration and redshift share the tables of one shape.
* :class:`NFWProfile`, :class:`HernquistProfile` and :class:`EinastoProfile` (base
  :class:`HaloProfile`) take a mass ``M_Δ``, a concentration ``c = r_Δ / r_s``, an
  overdensity ``Δ`` with respect to the critical or the mean matter density at redshift
  ``z`` of a :class:`~numfit.cosmology.Cosmology`, and return ``ρ(r)``, ``M(<r)``,
  ``Σ(R)``, ``Σ̄(<R)``, ``ΔΣ(R)`` and ``M_cyl(R)`` in M_sun and Mpc (physical, no h);
  the surface densities take ``unit="Msun/pc2"`` for the weak-lensing convention
  (M_sun / pc², the M_sun / Mpc² values divided by 1e12).
  NFW and Hernquist use the closed forms of :mod:`numfit.cosmology._halos` by default
  (``method="closed"``); ``method="numerical"`` uses the projection, which is how the
  projection is tested.  Einasto has no closed form and is numerical only.

Conventions (as in ``_halos``): ``ρ(r) = ρ_s ρ̂(r/r_s)``, ``X = R / r_s``,

    Σ̂(X) = 2 ∫_0^∞ ρ̂(√(X² + z²)) dz,     M̂(X) = ∫_0^X Σ̂(X') X' dX',
    m̂(x) = ∫_0^x ρ̂(y) y² dy,
    Σ = ρ_s r_s Σ̂,  M_cyl = 2π ρ_s r_s³ M̂,  M(<r) = 4π ρ_s r_s³ m̂,
    Σ̄(<R) = ρ_s r_s 2 M̂ / X²,  ΔΣ = Σ̄ − Σ.

Quadrature (the values the tables are built from, accurate to ~1e-14)
-----------------------------------------------------------------------
With ``r = X cosh t`` (``z = X sinh t``) the endpoint singularity of the projection
disappears and, writing ``c = cosh t``, ``s = sinh t``,

    Σ̂(X)  = 2 X ∫_0^∞ ρ̂(X c) c dt,
    M̂(X)  = 2 m̂(X) + 2 X³ ∫_0^∞ ρ̂(X c) c s e^{−t} dt,
    ΔΣ̂(X) = 4 m̂(X) / X² − 2 X ∫_0^∞ ρ̂(X c) c e^{−2t} dt.

The second line is the cylinder mass ``M_cyl = M(<R) + ∫_R^∞ 4π r² ρ (1 − √(1 − R²/r²)) dr``
with ``1 − √(1 − X²/x²) = 1 − tanh t = e^{−t} / cosh t`` (no cancellation); the third
follows from ``Σ̄̂ − Σ̂`` because ``2 s e^{−t} − 1 = −e^{−2t}`` exactly, so ``ΔΣ̂`` is never
formed as the difference of ``Σ̄̂`` and ``Σ̂``.  The two terms of ``ΔΣ̂`` cancel only for a
cored profile at small X (Einasto: by a factor ~4 at X = 1e-4 for α = 0.18; ~1e4 for
α = 1), which is the conditioning of ΔΣ̂ given ρ̂ itself.

Each integral is composite 16-point Gauss–Legendre in ``t`` on panels of width 0.25
(graded to 1/16 at ``t = 0``) up to ``T = ln(2/X_min) + 19``: for a density that falls at
least like ``x⁻³`` the integrands fall like ``e^{−2t}`` past the scale radius, so the
truncation is below 1e-16.  ``m̂`` (if no closed form is given) is ``X³ ∫_0^S ρ̂(X e^{−u})
e^{−3u} du`` with ``S = ln(max(X_max, 1)) + 40`` (inner slopes up to ``x⁻²``).
"""
import math
from collections import OrderedDict

import numpy as np
from scipy.special import gammainc, gammaln

from .._io import SaveMixin
from .._validation import check_float, check_option, check_real_array
from ._units import strip_unit
from ..interpolate import autoknots
from . import _halos
from ._background import Cosmology

__all__ = ["project_profile", "ProjectedProfile", "HaloProfile", "NFWProfile",
           "HernquistProfile", "EinastoProfile"]

_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(16)
_PANEL = 0.25                 # widest Gauss–Legendre panel in t (and in u for m̂)
_T_TAIL = 19.0                # t beyond ln(2/X) kept: 2 e^{-38} ≈ 6e-17 relative tail
_S_TAIL = 40.0                # u beyond ln(max(X, 1)) kept for m̂: e^{-40} for x^-2 cusps
_CHUNK = 1 << 19              # array elements per quadrature chunk (4 MiB of float64)
_EXACT_LO, _EXACT_HI = 1e-30, 1e30
_RANGE_LO, _RANGE_HI = 1e-12, 1e12
_TINY = 1e-290                # smallest value a log-log table accepts (no subnormals)
_TABLES = ("sigma", "mass", "delta_sigma")
_QUANTITY = {"sigma": "Σ̂(X) (surface density)", "mass": "M̂(X) (cylinder mass)",
             "delta_sigma": "ΔΣ̂(X) (excess surface density)"}
_CACHE = OrderedDict()
_CACHE_SIZE = 64


# ============================================================================ validation
def _as_radius(name, value):
    """Radii as a float64 array of finite values > 0 (scalars stay 0-d)."""
    return check_real_array(name, value, lo=0.0, lo_open=True)


def _out(arr, like_ndim):
    return float(arr) if like_ndim == 0 else arr


_SURFACE_UNITS = {"Msun/Mpc2": 1.0, "Msun/pc2": 1e-12}


def _in_unit(value, unit):
    """A surface density in M_sun/Mpc² expressed in ``unit`` ("Msun/Mpc2" or "Msun/pc2";
    1 M_sun/pc² = 1e12 M_sun/Mpc² exactly)."""
    unit = check_option("unit", unit, tuple(_SURFACE_UNITS))
    if unit == "Msun/Mpc2":
        return value
    return value / 1e12


def _check_range(xmin, xmax):
    xmin = check_float("xmin", xmin, lo=_RANGE_LO, hi=_RANGE_HI)
    xmax = check_float("xmax", xmax, lo=_RANGE_LO, hi=_RANGE_HI)
    if not xmax >= 1.01 * xmin:
        raise ValueError(f"`xmax` must be >= 1.01 * `xmin`; got xmin={xmin!r}, xmax={xmax!r}")
    return xmin, xmax


# ============================================================================ quadrature
class _Grid:
    """Gauss–Legendre nodes and weights of the projection integrals for X in [lo, hi]."""

    def __init__(self, lo, hi):
        T = max(math.log(2.0 / lo), 0.0) + _T_TAIL
        n = int(math.ceil((T - _PANEL) / _PANEL))
        edges = np.concatenate(([0.0, _PANEL / 4, _PANEL / 2],
                                _PANEL * np.arange(1, n + 2, dtype=np.float64)))
        t, w = self._nodes(edges)
        c, s, e = np.cosh(t), np.sinh(t), np.exp(-t)
        self.c = c
        self.w_sigma = 2.0 * c * w
        self.w_mass = 2.0 * c * s * e * w
        self.w_delta = 2.0 * c * e * e * w
        S = math.log(max(hi, 1.0)) + _S_TAIL
        edges = _PANEL * np.arange(0, int(math.ceil(S / _PANEL)) + 1, dtype=np.float64)
        u, wu = self._nodes(edges)
        self.y = np.exp(-u)
        self.w_m3d = np.exp(-3.0 * u) * wu

    @staticmethod
    def _nodes(edges):
        a, h = edges[:-1], np.diff(edges)
        t = (a[:, None] + 0.5 * h[:, None] * (_GL_NODES + 1.0)).ravel()
        w = (0.5 * h[:, None] * _GL_WEIGHTS).ravel()
        return t, w


class _Rho:
    """Calls the user's ρ̂ (or m̂) on a flat array and checks what comes back."""

    def __init__(self, func, args, name):
        self.func, self.args, self.name = func, args, name

    def __call__(self, x, *, positive=False):
        flat = np.ascontiguousarray(x, dtype=np.float64).ravel()
        try:
            out = self.func(flat.copy(), *self.args)
        except Exception as exc:
            exc.add_note(f"numfit.cosmology.project_profile: `{self.name}` raised on "
                         f"{flat.size} points in [{float(flat.min())!r}, "
                         f"{float(flat.max())!r}]")
            raise
        a = np.asarray(out)
        if np.iscomplexobj(a):
            raise TypeError(f"`{self.name}` returned complex values; it must return real "
                            "numbers")
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_):
            raise TypeError(f"`{self.name}` returned {a.dtype} values; it must return real "
                            "numbers")
        if a.shape != flat.shape:
            raise ValueError(f"`{self.name}` returned shape {a.shape} for an input of shape "
                             f"{flat.shape}; it must be vectorised (elementwise on arrays)")
        a = a.astype(np.float64, copy=False)
        bad = ~np.isfinite(a)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"`{self.name}` returned {float(a[i])!r} at x={float(flat[i])!r}"
                             "; it must be finite")
        bad = a <= 0 if positive else a < 0
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            want = "> 0" if positive else ">= 0 (a density)"
            raise ValueError(f"`{self.name}` returned {float(a[i])!r} at x={float(flat[i])!r}"
                             f"; it must be {want}")
        return a.reshape(np.shape(x))


def _m3d_quad(rho, X, grid):
    """m̂(X) = X³ ∫_0^S ρ̂(X e^{-u}) e^{-3u} du for a 1-D array X."""
    out = np.empty(X.size)
    step = max(1, _CHUNK // grid.y.size)
    for i in range(0, X.size, step):
        xs = X[i:i + step]
        out[i:i + step] = xs ** 3 * (rho(xs[:, None] * grid.y) @ grid.w_m3d)
    return out


# ============================================================================ projection
class ProjectedProfile(SaveMixin):
    """The line-of-sight projection of a dimensionless density ``ρ̂(x)``, tabulated lazily.

    Made by :func:`project_profile` (which caches and returns shared instances); see there
    for the parameters and the formulas.  Each of ``Σ̂``, ``M̂`` and ``ΔΣ̂`` is an
    :func:`~numfit.autoknots` table in log-log space over ``[xmin, xmax]``, built on the
    first call that needs it; ``Σ̄̂ = 2 M̂ / X²`` is evaluated from the ``M̂`` table (the
    factor is a straight line in log-log space, so the relative error is the same).

    Accuracy: every tabulated quantity meets ``|s/f − 1| <= ~rtol`` on ``[xmin, xmax]``
    (AutoKnots' guarantee, checked at midpoints; the achieved error on a dense grid is
    typically 0.05–0.5 rtol); the quadrature behind the tables and behind ``exact=True``
    is accurate to ~1e-14 relative for densities falling at least like ``x⁻³``.
    """

    def __init__(self, rho_hat, m3d_hat, xmin, xmax, rtol, args):
        self._rho_hat, self._m3d_hat, self._args = rho_hat, m3d_hat, args
        self._xmin, self._xmax, self._rtol = xmin, xmax, rtol
        self._rho = _Rho(rho_hat, args, "rho_hat")
        self._m = None if m3d_hat is None else _Rho(m3d_hat, args, "m3d_hat")
        self._grid = None
        self._tables = {}

    # ----------------------------------------------------------------- attributes
    rho_hat = property(lambda self: self._rho_hat, doc="The dimensionless density ``ρ̂(x, *args)``.")
    m3d_hat = property(lambda self: self._m3d_hat, doc="Closed-form ``m̂(x, *args)``, or None.")
    args = property(lambda self: self._args, doc="Extra arguments of rho_hat and m3d_hat.")
    xmin = property(lambda self: self._xmin, doc="Lower end of the tables' X range.")
    xmax = property(lambda self: self._xmax, doc="Upper end of the tables' X range.")
    rtol = property(lambda self: self._rtol, doc="Relative tolerance of the tables.")

    @property
    def built(self):
        """Names of the tables built so far."""
        return tuple(k for k in _TABLES if k in self._tables)

    def __repr__(self):
        name = getattr(self._rho_hat, "__qualname__", type(self._rho_hat).__name__)
        args = f", args={self._args!r}" if self._args else ""
        built = ", ".join(f"{k} ({self._tables[k].n_evals} evals)" for k in self.built)
        return (f"<ProjectedProfile of {name}{args} on X in [{self._xmin:g}, {self._xmax:g}],"
                f" rtol={self._rtol:g}; tables built: {built or 'none'}>")

    def __reduce__(self):
        return (_restore_projection, (self._rho_hat, self._m3d_hat, self._xmin, self._xmax,
                                      self._rtol, self._args, dict(self._tables)))

    # ----------------------------------------------------------------- values
    def _table_grid(self):
        if self._grid is None:
            self._grid = _Grid(self._xmin, self._xmax)
        return self._grid

    def _m3d(self, X, grid):
        if self._m is not None:
            return self._m(X, positive=True)
        return _m3d_quad(self._rho, X, grid)

    def _values(self, X, name, grid):
        """Σ̂, M̂ or ΔΣ̂ at the 1-D array X by quadrature, checked > 0 and finite."""
        X = np.asarray(X, dtype=np.float64)
        w = {"sigma": grid.w_sigma, "mass": grid.w_mass, "delta_sigma": grid.w_delta}[name]
        integ = np.empty(X.size)
        step = max(1, _CHUNK // grid.c.size)
        for i in range(0, X.size, step):
            xs = X[i:i + step]
            integ[i:i + step] = self._rho(xs[:, None] * grid.c) @ w
        if name == "sigma":
            out = X * integ
        else:
            m = self._m3d(X, grid)
            out = 2.0 * m + X ** 3 * integ if name == "mass" else 4.0 * m / X ** 2 - X * integ
        bad = ~(np.isfinite(out) & (out > _TINY))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            hint = ("the density underflows there: lower `xmax`" if out[i] >= 0 and
                    np.isfinite(out[i]) and name != "delta_sigma" else
                    "a density increasing outwards, or underflow: narrow the range")
            raise ValueError(f"{_QUANTITY[name]} = {float(out[i])!r} at X={float(X[i])!r}; "
                             f"the log-log table needs finite values > {_TINY:g} ({hint})")
        return out

    def table(self, name):
        """The AutoKnots table behind a quantity, built on first use.

        Parameters
        ----------
        name : {"sigma", "mass", "delta_sigma"}
            ``Σ̂(X)``, ``M̂(X)`` (also behind ``mean_sigma_hat``) or ``ΔΣ̂(X)``.

        Returns
        -------
        AutoKnotsSpline
            In log-log space on ``[xmin, xmax]``, with ``n_evals``, ``knots``, ``converged``.
        """
        if name == "mean_sigma":
            name = "mass"
        if not isinstance(name, str) or name not in _TABLES:
            raise ValueError(f"`name` must be one of {', '.join(map(repr, _TABLES))}; "
                             f"got {name!r}")
        tab = self._tables.get(name)
        if tab is None:
            grid = self._table_grid()

            def f(X):
                return self._values(X, name, grid)

            tab = autoknots(f, self._xmin, self._xmax, rtol=self._rtol, space="loglog",
                            vectorized=True)
            self._tables[name] = tab         # only a finished table is kept
        return tab

    def _eval(self, X, name, exact):
        x = _as_radius("X", X)
        nd = x.ndim
        flat = x.ravel()
        if flat.size == 0:
            return x.copy()
        if exact:
            lo, hi = float(flat.min()), float(flat.max())
            if lo < _EXACT_LO or hi > _EXACT_HI:
                bad = lo if lo < _EXACT_LO else hi
                raise ValueError(f"`X` = {bad:g} is outside [{_EXACT_LO:g}, {_EXACT_HI:g}], "
                                 "the range of the direct quadrature (exact=True)")
            vals = self._values(flat, name, _Grid(lo, hi))
        else:
            flat = self._in_range(flat, "X", 1.0, "project_profile(..., xmin=..., xmax=...)"
                                  " or pass exact=True")
            vals = self.table(name)(flat)
        return _out(vals.reshape(x.shape), nd)

    def _in_range(self, flat, label, scale, how, unit=""):
        """Clip X to [xmin, xmax] (8 eps relative slack) or raise a ValueError naming the range."""
        lo, hi = self._xmin, self._xmax
        slack = 8 * np.finfo(float).eps
        out = (flat < lo * (1 - slack)) | (flat > hi * (1 + slack))
        if out.any():
            bad = float(flat[np.flatnonzero(out)[0]])
            raise ValueError(
                f"`{label}` = {bad * scale:g}{unit} (X = R/r_s = {bad:g}) is outside the "
                f"tables' range X in [{lo:g}, {hi:g}]"
                + (f" ({label} in [{lo * scale:g}, {hi * scale:g}]{unit})" if scale != 1.0
                   else "") + f"; build a wider one with {how}")
        return np.clip(flat, lo, hi)

    def sigma_hat(self, X, *, exact=False):
        """Dimensionless surface density ``Σ̂(X) = 2 ∫_0^∞ ρ̂(√(X² + z²)) dz``.

        Parameters
        ----------
        X : array_like
            ``R / r_s``, finite, ``> 0``, in ``[xmin, xmax]`` (any X in [1e-30, 1e30] with
            ``exact=True``).
        exact : bool, optional
            Bypass the table: direct Gauss–Legendre quadrature (~1e-14), for checks.

        Returns
        -------
        float or ndarray
            Same shape as ``X``; a float for a scalar.
        """
        return self._eval(X, "sigma", exact)

    def mass_hat(self, X, *, exact=False):
        """Dimensionless cylinder mass ``M̂(X) = ∫_0^X Σ̂(X') X' dX'``.

        ``M_cyl(R) = 2π ρ_s r_s³ M̂(R/r_s)``.  Parameters and returns as :meth:`sigma_hat`.
        """
        return self._eval(X, "mass", exact)

    def mean_sigma_hat(self, X, *, exact=False):
        """Mean surface density inside X, ``Σ̄̂(<X) = 2 M̂(X) / X²`` (from the M̂ table).

        Parameters and returns as :meth:`sigma_hat`.
        """
        x = _as_radius("X", X)
        m = self._eval(x, "mass", exact)
        return 2.0 * m / float(x) ** 2 if x.ndim == 0 else 2.0 * m / x ** 2

    def delta_sigma_hat(self, X, *, exact=False):
        """Excess surface density ``ΔΣ̂(X) = Σ̄̂(<X) − Σ̂(X)`` (its own table).

        Parameters and returns as :meth:`sigma_hat`.
        """
        return self._eval(X, "delta_sigma", exact)

    def enclosed_mass_hat(self, x):
        """3-D mass ``m̂(x) = ∫_0^x ρ̂(y) y² dy`` (``M(<r) = 4π ρ_s r_s³ m̂``).

        The closed form ``m3d_hat`` if one was given, else quadrature (~1e-14).
        """
        xx = _as_radius("x", x)
        flat = xx.ravel()
        if flat.size == 0:
            return xx.copy()
        vals = self._m3d(flat, _Grid(float(flat.min()), float(flat.max())))
        return _out(vals.reshape(xx.shape), xx.ndim)


def _cache_key(rho_hat, m3d_hat, xmin, xmax, rtol, args):
    key = (rho_hat, m3d_hat, xmin, xmax, rtol, args)
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _remember(key, proj):
    if key is None:
        return
    _CACHE[key] = proj
    _CACHE.move_to_end(key)
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)


def _restore_projection(rho_hat, m3d_hat, xmin, xmax, rtol, args, tables):
    key = _cache_key(rho_hat, m3d_hat, xmin, xmax, rtol, args)
    proj = _CACHE.get(key) if key is not None else None
    if proj is None:
        proj = ProjectedProfile(rho_hat, m3d_hat, xmin, xmax, rtol, args)
        _remember(key, proj)
    for k, v in tables.items():
        proj._tables.setdefault(k, v)
    return proj


def project_profile(rho_hat, *, m3d_hat=None, xmin=1e-4, xmax=1e4, rtol=1e-8, args=()):
    r"""Project a dimensionless 3-D density along the line of sight, tabulated by AutoKnots.

    Parameters
    ----------
    rho_hat : callable
        ``rho_hat(x, *args)``: the density ``ρ̂(x) >= 0`` at ``x = r / r_s``, vectorised
        (a 1-D array in, an array of the same shape out).  It must fall at least like
        ``x⁻³`` at large x (finite cylinder mass) and, when ``m3d_hat`` is None, rise no
        faster than ``x⁻²`` at small x.
    m3d_hat : callable or None, optional
        ``m3d_hat(x, *args)``: the 3-D mass ``m̂(x) = ∫_0^x ρ̂ y² dy`` in closed form.
        None (default): by quadrature.
    xmin, xmax : float, optional
        The tables' range of ``X = R / r_s``, ``1e-12 <= xmin``, ``1.01 xmin <= xmax <=
        1e12``.
    rtol : float, optional
        Relative tolerance of the tables, in ``[1e-12, 1e-2]``.
    args : tuple, optional
        Extra arguments of ``rho_hat`` and ``m3d_hat`` (shape parameters).

    Returns
    -------
    ProjectedProfile
        With ``sigma_hat``, ``mass_hat``, ``mean_sigma_hat``, ``delta_sigma_hat`` (each
        with ``exact=True`` for direct quadrature), ``enclosed_mass_hat`` and
        ``table(name)``.  Calls with the same ``(rho_hat, m3d_hat, xmin, xmax, rtol, args)``
        return the same object (a cache of the last 64), so its tables are shared.

    Raises
    ------
    TypeError
        ``rho_hat``/``m3d_hat`` not callable, ``args`` not a tuple, or ``rho_hat``
        returning complex or non-numeric values.
    ValueError
        A parameter out of range; ``rho_hat`` returning the wrong shape, NaN/inf or
        negative values (found on a probe at construction or while a table is built; a
        failed build leaves no table behind).  Exceptions raised by ``rho_hat`` itself
        propagate with a note naming the points.

    Notes
    -----
    With ``X = R / r_s`` and ``c = cosh t``, ``s = sinh t``:

    .. math::

        \hat\Sigma(X) = 2X\int_0^\infty \hat\rho(Xc)\,c\,dt, \qquad
        \hat M(X) = 2\hat m(X) + 2X^3\int_0^\infty \hat\rho(Xc)\,c\,s\,e^{-t}\,dt,

        \Delta\hat\Sigma(X) = \frac{4\hat m(X)}{X^2} - 2X\int_0^\infty \hat\rho(Xc)\,c\,
        e^{-2t}\,dt, \qquad \bar{\hat\Sigma}(<X) = \frac{2\hat M(X)}{X^2},

    by composite 16-point Gauss–Legendre quadrature (see the module docstring), ~1e-14
    relative.  The tables are :func:`~numfit.autoknots` splines of ``ln f`` against
    ``ln X`` with ``rtol``: ``|s/f − 1| <= ~rtol`` on ``[xmin, xmax]``.  A table costs
    ``n_evals`` quadratures of ~1900 ``ρ̂`` evaluations each (plus ~3200 for ``m̂`` by
    quadrature in the ``M̂`` and ``ΔΣ̂`` tables when ``m3d_hat`` is None).

    Examples
    --------
    A Plummer-like density ``(1 + x²)^{-5/2}`` has ``Σ̂ = (4/3) (1 + X²)^{-2}``:

    >>> import numpy as np
    >>> from numfit.cosmology import project_profile
    >>> def plummer(x):
    ...     return (1.0 + x * x) ** -2.5
    >>> p = project_profile(plummer, xmin=1e-3, xmax=1e3, rtol=1e-8)
    >>> X = np.array([0.01, 1.0, 100.0])
    >>> bool(np.allclose(p.sigma_hat(X), 4 / 3 / (1 + X**2) ** 2, rtol=1e-8, atol=0))
    True
    >>> p.table("sigma").converged, p is project_profile(plummer, xmin=1e-3, xmax=1e3)
    (True, True)
    """
    if not callable(rho_hat):
        raise TypeError(f"`rho_hat` must be callable; got {type(rho_hat).__name__}")
    if m3d_hat is not None and not callable(m3d_hat):
        raise TypeError(f"`m3d_hat` must be callable or None; got {type(m3d_hat).__name__}")
    if not isinstance(args, tuple):
        raise TypeError(f"`args` must be a tuple; got {type(args).__name__}")
    xmin, xmax = _check_range(xmin, xmax)
    rtol = check_float("rtol", rtol, lo=1e-12, hi=1e-2)
    key = _cache_key(rho_hat, m3d_hat, xmin, xmax, rtol, args)
    proj = _CACHE.get(key) if key is not None else None
    if proj is not None:
        _CACHE.move_to_end(key)
        return proj
    proj = ProjectedProfile(rho_hat, m3d_hat, xmin, xmax, rtol, args)
    probe = np.geomspace(xmin, xmax, 9)
    proj._rho(probe)                                   # named errors before any table
    if proj._m is not None:
        proj._m(probe, positive=True)
    _remember(key, proj)
    return proj


# ============================================================================ the shapes
def _nfw_rho(x):
    """NFW ρ̂(x) = 1 / (x (1 + x)²)."""
    return 1.0 / (x * (1.0 + x) ** 2)


_NFW_K = np.arange(2, 19, dtype=np.float64)


def _nfw_m(x):
    """NFW m̂(x) = ln(1 + x) − x/(1 + x) = Σ_{k>=2} u^k / k with u = x/(1+x) (u < 0.1)."""
    x = np.asarray(x, dtype=np.float64)
    u = x / (1.0 + x)
    out = np.log1p(x) - u
    small = u < 0.1
    if np.any(small):
        us = u[small]
        out[small] = (us[:, None] ** _NFW_K / _NFW_K) @ np.ones(_NFW_K.size)
    return out


def _hernquist_rho(x):
    """Hernquist ρ̂(x) = 1 / (x (1 + x)³)."""
    return 1.0 / (x * (1.0 + x) ** 3)


def _hernquist_m(x):
    """Hernquist m̂(x) = x² / (2 (1 + x)²)."""
    u = x / (1.0 + x)
    return 0.5 * u * u


def _einasto_rho(x, alpha):
    """Einasto ρ̂(x) = exp(−(2/α)(x^α − 1)) (r_s = r_{-2})."""
    return np.exp(-(2.0 / alpha) * np.expm1(alpha * np.log(x)))


def _einasto_m(x, alpha):
    """Einasto m̂(x) = e^{2/α} α^{-1} (α/2)^{3/α} γ(3/α, (2/α) x^α)."""
    a3 = 3.0 / alpha
    log_pre = 2.0 / alpha - math.log(alpha) + a3 * math.log(alpha / 2.0) + gammaln(a3)
    return math.exp(log_pre) * gammainc(a3, (2.0 / alpha) * np.asarray(x) ** alpha)


# ============================================================================ halo classes
class HaloProfile(SaveMixin):
    r"""A spherical halo ``ρ(r) = ρ_s ρ̂(r / r_s)`` of mass ``M_Δ`` and concentration ``c``.

    Base class of :class:`NFWProfile`, :class:`HernquistProfile` and
    :class:`EinastoProfile`; not instantiated itself.

    Parameters
    ----------
    mass : float
        ``M_Δ`` [M_sun], the mass inside ``r_Δ``, ``> 0``.
    concentration : float
        ``c = r_Δ / r_s``, ``> 0``.
    z : float, optional
        Redshift, ``>= 0``.
    cosmology : Cosmology or None, optional
        Gives ``ρ_ref``; None: ``Cosmology()`` (flat, H0 = 70, Om0 = 0.3).
    delta : float, optional
        Overdensity ``Δ > 0`` (200 for "200c"/"200m").
    reference : {"critical", "mean"}, optional
        ``ρ_ref`` = ``cosmology.critical_density(z)`` or ``cosmology.mean_matter_density(z)``.
    method : {None, "closed", "numerical"}, optional
        Projections from closed forms (NFW, Hernquist; the default) or from
        :func:`project_profile` tables (Einasto's only option, its default).
    rtol : float, optional
        Relative tolerance of the numerical tables, in ``[1e-12, 1e-2]``.
    xmin, xmax : float, optional
        Range of ``R / r_s`` of the numerical tables (``method="numerical"``).

    Raises
    ------
    TypeError, ValueError
        A parameter of the wrong type, out of range, NaN or infinite.

    Notes
    -----
    ``r_Δ = (3 M / (4π Δ ρ_ref))^{1/3}`` [Mpc], ``r_s = r_Δ / c`` and
    ``ρ_s = M / (4π r_s³ m̂(c))`` [M_sun / Mpc³].  Then ``Σ(R) = ρ_s r_s Σ̂(R/r_s)``,
    ``M_cyl = 2π ρ_s r_s³ M̂``, ``Σ̄(<R) = ρ_s r_s 2M̂/X²``, ``ΔΣ = ρ_s r_s ΔΣ̂``.
    Surface densities (``surface_density``, ``mean_surface_density``, ``delta_sigma``)
    are in M_sun / Mpc² by default and in M_sun / pc² (the weak-lensing convention) with
    ``unit="Msun/pc2"``; ``projected_mass`` and ``enclosed_mass`` are in M_sun.

    Accuracy: ``density`` and ``enclosed_mass`` are closed forms (~1e-15).  With
    ``method="closed"`` the projections are ~1e-14; with ``method="numerical"`` they meet
    ``|s/f − 1| <= ~rtol`` for ``R / r_s`` in ``[xmin, xmax]`` and raise outside.  Radii
    are physical Mpc; scalars give floats, arrays keep their shape.
    """

    _shape = None            # "nfw", "hernquist", "einasto" in subclasses
    _closed = None           # dict of closed-form hat functions, or None

    def __init__(self, mass, concentration, z=0.0, *, cosmology=None, delta=200.0,
                 reference="critical", method=None, rtol=1e-8, xmin=1e-4, xmax=1e4):
        if type(self) is HaloProfile or self._shape is None:
            raise TypeError("HaloProfile is a base class; use NFWProfile, HernquistProfile "
                            "or EinastoProfile")
        self._mass = check_float("mass", strip_unit("mass", mass, "Msun"), lo=0.0,
                                 lo_open=True)
        self._c = check_float("concentration", concentration, lo=0.0, lo_open=True)
        self._z = check_float("z", z, lo=0.0)
        if cosmology is None:
            cosmology = Cosmology()
        elif not isinstance(cosmology, Cosmology):
            raise TypeError("`cosmology` must be a numfit.cosmology.Cosmology or None; got "
                            f"{type(cosmology).__name__}")
        self._cosmo = cosmology
        self._delta = check_float("delta", delta, lo=0.0, lo_open=True)
        self._reference = check_option("reference", reference, ("critical", "mean"))
        if method is None:
            method = "closed" if self._closed is not None else "numerical"
        method = check_option("method", method, ("closed", "numerical"))
        if method == "closed" and self._closed is None:
            raise ValueError(f"{type(self).__name__} has no closed-form projection; use "
                             "method='numerical' (or None)")
        self._method = method
        self._rtol = check_float("rtol", rtol, lo=1e-12, hi=1e-2)
        self._xmin, self._xmax = _check_range(xmin, xmax)
        rho_ref = (cosmology.critical_density(self._z) if self._reference == "critical"
                   else cosmology.mean_matter_density(self._z))
        self._rho_ref = float(rho_ref)
        self._r_delta = (3.0 * self._mass / (4.0 * math.pi * self._delta * self._rho_ref)) \
            ** (1.0 / 3.0)
        self._r_s = self._r_delta / self._c
        m_c = float(self._m_hat(np.array([self._c]))[0])
        self._rho_s = self._mass / (4.0 * math.pi * self._r_s ** 3 * m_c)
        self._proj = None

    # ----------------------------------------------------------------- shape hooks
    def _shape_args(self):
        return ()

    def _rho_hat(self, x):
        raise NotImplementedError   # pragma: no cover

    def _m_hat(self, x):
        raise NotImplementedError   # pragma: no cover

    # ----------------------------------------------------------------- attributes
    mass = property(lambda self: self._mass, doc="M_Δ [M_sun].")
    concentration = property(lambda self: self._c, doc="c = r_Δ / r_s.")
    z = property(lambda self: self._z, doc="Redshift.")
    cosmology = property(lambda self: self._cosmo, doc="The Cosmology giving ρ_ref.")
    delta = property(lambda self: self._delta, doc="Overdensity Δ.")
    reference = property(lambda self: self._reference, doc="'critical' or 'mean'.")
    method = property(lambda self: self._method, doc="'closed' or 'numerical'.")
    rtol = property(lambda self: self._rtol, doc="Tolerance of the numerical tables.")
    xmin = property(lambda self: self._xmin, doc="Lower end of the tables' R/r_s range.")
    xmax = property(lambda self: self._xmax, doc="Upper end of the tables' R/r_s range.")
    rho_ref = property(lambda self: self._rho_ref, doc="Reference density [M_sun/Mpc³].")
    r_delta = property(lambda self: self._r_delta, doc="r_Δ [Mpc].")
    r_s = property(lambda self: self._r_s, doc="Scale radius r_s = r_Δ / c [Mpc].")
    rho_s = property(lambda self: self._rho_s, doc="Density scale ρ_s [M_sun/Mpc³].")

    @property
    def projection(self):
        """The shared :class:`ProjectedProfile` (``method="numerical"``), else None."""
        if self._method != "numerical":
            return None
        if self._proj is None:
            rho, m = {"nfw": (_nfw_rho, _nfw_m), "hernquist": (_hernquist_rho, _hernquist_m),
                      "einasto": (_einasto_rho, _einasto_m)}[self._shape]
            self._proj = project_profile(rho, m3d_hat=m, xmin=self._xmin, xmax=self._xmax,
                                         rtol=self._rtol, args=self._shape_args())
        return self._proj

    def __repr__(self):
        extra = "".join(f", {k}={v:g}" for k, v in self._extra_params().items())
        return (f"{type(self).__name__}(mass={self._mass:.6g}, concentration={self._c:g}, "
                f"z={self._z:g}{extra}, delta={self._delta:g}, reference={self._reference!r},"
                f" method={self._method!r}) <r_delta={self._r_delta:.6g} Mpc, "
                f"r_s={self._r_s:.6g} Mpc, rho_s={self._rho_s:.6g} M_sun/Mpc^3>")

    def _extra_params(self):
        return {}

    # ----------------------------------------------------------------- physics
    def _x(self, r, name):
        x = _as_radius(name, strip_unit(name, r, "Mpc"))
        return x, x / self._r_s

    def density(self, r):
        """Density ``ρ(r) = ρ_s ρ̂(r / r_s)`` [M_sun / Mpc³].

        Parameters
        ----------
        r : array_like
            3-D radii [Mpc], finite, ``> 0``.

        Returns
        -------
        float or ndarray
        """
        r, x = self._x(r, "r")
        return _out(self._rho_s * self._rho_hat(x), r.ndim)

    def enclosed_mass(self, r):
        """3-D mass inside ``r``, ``4π ρ_s r_s³ m̂(r / r_s)`` [M_sun].

        Parameters and returns as :meth:`density`.
        """
        r, x = self._x(r, "r")
        flat = x.ravel()
        vals = self._m_hat(flat).reshape(x.shape) if flat.size else x.copy()
        return _out(4.0 * math.pi * self._rho_s * self._r_s ** 3 * vals, r.ndim)

    def _projected(self, R, name, exact=False):
        R, X = self._x(R, "R")
        if not isinstance(exact, (bool, np.bool_)):
            raise TypeError(f"`exact` must be a bool; got {type(exact).__name__}")
        flat = X.ravel()
        if flat.size == 0:
            return R.copy()
        if self._method == "closed":
            fn = self._closed["mean_sigma" if name == "mean_sigma" else name]
            vals = np.asarray(fn(flat), dtype=np.float64)
        elif exact:
            vals = np.asarray(getattr(self.projection, f"{name}_hat")(flat, exact=True),
                              dtype=np.float64)
        else:
            proj = self.projection
            cls = type(self).__name__
            flat = proj._in_range(flat, "R", self._r_s, f"{cls}(..., xmin=..., xmax=...)",
                                  " Mpc")
            tab = proj.table("mass" if name == "mean_sigma" else name)
            vals = tab(flat)
            if name == "mean_sigma":
                vals = 2.0 * vals / flat ** 2
        return _out(vals.reshape(X.shape), R.ndim)

    def surface_density(self, R, *, exact=False, unit="Msun/Mpc2"):
        """Surface density ``Σ(R) = ρ_s r_s Σ̂(R / r_s)`` [M_sun / Mpc², or M_sun / pc²
        with ``unit="Msun/pc2"``].

        Parameters
        ----------
        R : array_like
            Projected radii [Mpc], finite, ``> 0`` (numerical: ``R / r_s`` in
            ``[xmin, xmax]``).
        exact : bool, optional
            ``method="numerical"``: integrate directly instead of using the table (slow;
            for checks).  The closed forms are exact either way.
        unit : {"Msun/Mpc2", "Msun/pc2"}, optional
            The unit of the result: M_sun / Mpc² (default, the layer's unit) or the weak
            lensing convention M_sun / pc² (the same numbers divided by exactly 1e12).
            Radii are Mpc either way.

        Returns
        -------
        float or ndarray
            ``Σ(R)`` in ``unit``.

        Raises
        ------
        TypeError, ValueError
            Non-real radii; radii <= 0, NaN or inf; outside the table range (numerical);
            an unknown ``unit``.

        Examples
        --------
        >>> from numfit.cosmology import NFWProfile
        >>> halo = NFWProfile(1e14, 5.0, z=0.3)
        >>> s_mpc = halo.surface_density(0.5)                    # M_sun / Mpc²
        >>> s_pc = halo.surface_density(0.5, unit="Msun/pc2")    # M_sun / pc²
        >>> s_pc == s_mpc / 1e12                                 # exactly
        True
        """
        return _in_unit(self._rho_s * self._r_s * self._projected(R, "sigma", exact), unit)

    def mean_surface_density(self, R, *, exact=False, unit="Msun/Mpc2"):
        """Mean surface density inside ``R``, ``Σ̄(<R) = ρ_s r_s 2 M̂ / X²`` [M_sun / Mpc²,
        or M_sun / pc² with ``unit="Msun/pc2"``].

        Parameters, returns and raises as :meth:`surface_density` (``unit`` included).
        """
        return _in_unit(self._rho_s * self._r_s * self._projected(R, "mean_sigma", exact),
                        unit)

    def delta_sigma(self, R, *, exact=False, unit="Msun/Mpc2"):
        """Excess surface density ``ΔΣ(R) = Σ̄(<R) − Σ(R)`` [M_sun / Mpc², or M_sun / pc²
        with ``unit="Msun/pc2"``, the weak-lensing convention].

        Parameters, returns and raises as :meth:`surface_density` (``unit`` included).

        Examples
        --------
        >>> from numfit.cosmology import Cosmology, NFWProfile
        >>> halo = NFWProfile(1e14, 5.0, z=0.3, cosmology=Cosmology(H0=70, Om0=0.3))
        >>> f"{halo.delta_sigma(0.5, unit='Msun/pc2'):.4f}"     # M_sun / pc² at R = 0.5 Mpc
        '67.0259'
        """
        return _in_unit(self._rho_s * self._r_s * self._projected(R, "delta_sigma", exact),
                        unit)

    def projected_mass(self, R, *, exact=False):
        """Mass in the cylinder of radius ``R``, ``2π ρ_s r_s³ M̂(R / r_s)`` [M_sun].

        Parameters, returns and raises as :meth:`surface_density`.
        """
        return 2.0 * math.pi * self._rho_s * self._r_s ** 3 * self._projected(R, "mass", exact)


class NFWProfile(HaloProfile):
    """Navarro–Frenk–White halo, ``ρ̂(x) = 1 / (x (1 + x)²)``.

    ``m̂(c) = ln(1 + c) − c / (1 + c)``.  Parameters, notes and accuracy as
    :class:`HaloProfile`; projections from the closed forms by default.

    Examples
    --------
    >>> from numfit.cosmology import Cosmology, NFWProfile
    >>> halo = NFWProfile(1e14, 5.0, z=0.3, cosmology=Cosmology(H0=70, Om0=0.3))
    >>> round(halo.r_delta, 4), round(halo.r_s, 5)
    (0.8644, 0.17288)
    >>> round(halo.enclosed_mass(halo.r_delta) / 1e14, 12)
    1.0
    >>> f"{halo.delta_sigma(0.5):.6e}"
    '6.702588e+13'
    """

    _shape = "nfw"
    _closed = dict(sigma=_halos.nfw_sigma_hat, mass=_halos.nfw_mass_hat,
                   mean_sigma=_halos.nfw_mean_sigma_hat,
                   delta_sigma=_halos.nfw_delta_sigma_hat)

    def _rho_hat(self, x):
        return _nfw_rho(x)

    def _m_hat(self, x):
        return _nfw_m(x)


class HernquistProfile(HaloProfile):
    """Hernquist halo, ``ρ̂(x) = 1 / (x (1 + x)³)``.

    ``m̂(c) = c² / (2 (1 + c)²)``.  Parameters, notes and accuracy as :class:`HaloProfile`;
    projections from the closed forms by default.

    Examples
    --------
    >>> from numfit.cosmology import HernquistProfile
    >>> halo = HernquistProfile(1e12, 4.0, reference="mean")
    >>> round(halo.enclosed_mass(halo.r_delta) / 1e12, 12)
    1.0
    >>> a = halo.surface_density([0.01, 0.1])
    >>> b = HernquistProfile(1e12, 4.0, reference="mean", method="numerical",
    ...                      rtol=1e-6).surface_density([0.01, 0.1])
    >>> bool(abs(b / a - 1).max() < 1e-6)
    True
    """

    _shape = "hernquist"
    _closed = dict(sigma=_halos.hernquist_sigma_hat, mass=_halos.hernquist_mass_hat,
                   mean_sigma=_halos.hernquist_mean_sigma_hat,
                   delta_sigma=_halos.hernquist_delta_sigma_hat)

    def _rho_hat(self, x):
        return _hernquist_rho(x)

    def _m_hat(self, x):
        return _hernquist_m(x)


class EinastoProfile(HaloProfile):
    """Einasto halo, ``ρ̂(x) = exp(−(2/α)(x^α − 1))`` with ``r_s = r_{−2}``.

    Numerical projection only (:func:`project_profile`, tables shared by every Einasto
    halo with the same ``alpha``, ``rtol``, ``xmin``, ``xmax``).

    Parameters
    ----------
    mass, concentration, z, cosmology, delta, reference, rtol, xmin, xmax :
        As :class:`HaloProfile`.
    alpha : float, optional
        Shape parameter, in ``[0.05, 1]`` (0.18 is typical of cluster haloes).
    method : {None, "numerical"}, optional
        ``"closed"`` raises ``ValueError`` (there is no closed form).

    Notes
    -----
    ``m̂(c) = e^{2/α} α⁻¹ (α/2)^{3/α} γ(3/α, (2/α) c^α)`` with the lower incomplete gamma
    function ``γ`` (``scipy.special.gammainc · gamma``).  Accuracy: ``|s/f − 1| <= ~rtol``
    for ``R / r_s`` in ``[xmin, xmax]``.  For large ``alpha`` the density underflows at
    large ``x``: lower ``xmax`` (a clear error says so).

    Examples
    --------
    >>> import numpy as np
    >>> from numfit.cosmology import EinastoProfile
    >>> halo = EinastoProfile(1e14, 5.0, alpha=0.18, rtol=1e-6)
    >>> ds = halo.delta_sigma(np.array([0.1, 1.0]))
    >>> ds.shape, bool(np.all(ds > 0))
    ((2,), True)
    >>> p = halo.projection
    >>> X = 0.1 / halo.r_s
    >>> bool(abs(p.delta_sigma_hat(X) / p.delta_sigma_hat(X, exact=True) - 1) < 1e-6)
    True
    """

    _shape = "einasto"

    def __init__(self, mass, concentration, z=0.0, *, alpha=0.18, cosmology=None,
                 delta=200.0, reference="critical", method=None, rtol=1e-8, xmin=1e-4,
                 xmax=1e4):
        self._alpha = check_float("alpha", alpha, lo=0.05, hi=1.0)
        super().__init__(mass, concentration, z, cosmology=cosmology, delta=delta,
                         reference=reference, method=method, rtol=rtol, xmin=xmin, xmax=xmax)

    alpha = property(lambda self: self._alpha, doc="Einasto shape parameter α.")

    def _shape_args(self):
        return (self._alpha,)

    def _extra_params(self):
        return {"alpha": self._alpha}

    def _rho_hat(self, x):
        return _einasto_rho(x, self._alpha)

    def _m_hat(self, x):
        return _einasto_m(x, self._alpha)
