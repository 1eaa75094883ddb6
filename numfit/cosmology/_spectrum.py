r"""Any linear power spectrum — a callable P(k) or P(k, z) (CAMB, CLASS, ...), a table of
numbers, or numfit's Eisenstein–Hu :class:`~numfit.cosmology.LinearPower` — with σ(R, z),
σ(M, z) and d ln σ / d ln R as AutoKnots tables.

Units are numfit's: k in 1/Mpc, P in Mpc³, R in Mpc, M in M_sun (no factors of h).

The quadrature
--------------
``σ²(R) = (1/2π²) ∫ k³ P(k) W²(kR) d ln k`` and
``d ln σ / d ln R = [(1/2π²) ∫ k³ P W(kR) y W'(y)|_{y=kR} d ln k] / σ²`` are composite
16-point Gauss–Legendre sums in ``t = ln k`` on one node set shared by every radius.  The
spectrum enters only through its interpolant (a cubic in ``ln k`` for ``ln P`` between
consecutive data points or AutoKnots knots), and the panels *end at its knots*, so inside a
panel the integrand is analytic; panels are further split so that none is wider than 0.25
in ``ln k`` nor spans more than 4π radians of the top-hat window's ``cos 2kR`` for any
radius of the table while ``kR <= 400``.  Beyond ``kR = 400`` only the smooth mean of the
window product is kept (``<W²> = 9 (1 + y²) / (2 y⁶)``, ``<W y W'> = -9/y⁴ - 27/(2 y⁶)``),
switched on by a C^∞ taper on ``100 <= kR <= 400`` (the construction, and the class
``_WindowSums``, of :mod:`numfit.cosmology._power`, shared with
:class:`~numfit.cosmology.LinearPower`); below ``kR = 0.5`` the window is its Taylor series summed
through prefix moments.  Because the integral stops hard at ``kmax``, the oscillating part
that the taper drops leaves an end contribution (up to 2e-9 of the slope's integral where
``kmax R`` falls in the taper band); it is added from the endpoint expansion
``Σ_n (-1)^n F^(n)(kmax) e^{2i kmax R} / (2iR)^(n+1)``, three terms.  The tests compare with
``scipy.integrate.quad`` of the same interpolated spectrum (no taper, QAWO for the
oscillating part) to ~1e-11 and with a brute-force Gauss–Legendre sum to ~1e-15.

A P(k, z) has one node set for every redshift (its knots in ``ln k`` do not depend on z):
the window values of a block of radii are computed once, as a sparse (radii x nodes)
matrix, and applied to all the redshift lines of an :func:`~numfit.autoknots2d` block in
one product (and kept for the next lines at the same radii), with the same numbers as one
redshift at a time.

Truncation
----------
P is integrated over ``k_range`` only.  When a σ table is built, the spectrum is extended
beyond both ends as power laws with the end slopes of ``ln P``, and where those tails would
change σ by more than ``rtol`` a :class:`KRangeWarning` names the radii and the k range.
"""
import math
import warnings

import numpy as np

from .._errors import NumfitWarning
from .._io import SaveMixin
from .._validation import check_float, check_option, check_real_array
from ..interpolate import autoknots, autoknots2d
from ._background import Cosmology
from ._units import strip_unit
from ._power import (_END_STEP, _GL_NODES, _GL_WEIGHTS, _H0, _PHASE, _W_SERIES, _Y2,
                     _Y_SERIES, LinearPower, _WindowSums)

__all__ = ["PowerSpectrum", "KRangeWarning"]

_WINDOWS = ("tophat", "gaussian")
_SIGMA_SHARE = 0.8               # σ tables are built to 0.8 rtol ...
_P_SHARE = 0.25                  # ... and a callable P(k) to 0.25 rtol (σ then <= 0.125 rtol)
_TAIL_EFOLDS = 20.0              # the truncation estimate extends P by 20 e-folds each way
_WK_CACHE = 512                  # weight columns (one per redshift) kept with a node set
_LINES_KEPT = 4                  # one-line sums (with their cumulative sums) kept


class KRangeWarning(NumfitWarning):
    """σ(R) misses more than ``rtol`` from outside the spectrum's k range."""


# =========================================================================== quadrature
def _panel_nodes(breaks, t0, t1, rlo, rhi):
    """Gauss–Legendre nodes and weights in t = ln k on [t0, t1]: panels end at every break
    (the spectrum's knots) and resolve the window's oscillation for R in [rlo, rhi]."""
    t = np.linspace(t0, t1, 1 + int(math.ceil((t1 - t0) * 2000)))
    k = np.exp(t)
    r_res = np.where(k <= _Y2 / rhi, rhi, np.where(k <= _Y2 / rlo, _Y2 / k, 0.0))
    dens = 1.0 / _H0 + k * 2.0 * r_res / _PHASE
    N = np.concatenate(([0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(t))))
    b = np.unique(np.concatenate(([t0, t1], breaks[(breaks > t0) & (breaks < t1)])))
    Nb = np.interp(b, t, N)
    m = np.maximum(1, np.ceil(np.diff(Nb) - 1e-9)).astype(np.int64)
    owner = np.repeat(np.arange(m.size), m)
    j = np.arange(owner.size) - np.repeat(np.cumsum(m) - m, m)
    lo = np.interp(Nb[owner] + np.diff(Nb)[owner] * j / m[owner], N, t)
    lo[j == 0] = b[owner[j == 0]]
    h = np.diff(np.append(lo, t1))
    nodes = (lo[:, None] + 0.5 * h[:, None] * (_GL_NODES + 1.0)).ravel()
    weights = (0.5 * h[:, None] * _GL_WEIGHTS).ravel()
    return nodes, weights


def _window_values(y, window):
    """W²(y) (no taper, closed forms) for the truncation estimate."""
    if window == "gaussian":
        return np.exp(-y * y)
    out = np.empty_like(y)
    small = y < _Y_SERIES
    ys2 = y[small] ** 2
    w = np.zeros_like(ys2)
    for c in reversed(_W_SERIES):
        w = w * ys2 + c
    out[small] = w * w
    yb = y[~small]
    wb = 3.0 * (np.sin(yb) - yb * np.cos(yb)) / yb ** 3
    out[~small] = np.where(yb > 50.0, 4.5 * (yb ** -4.0 + yb ** -6.0), wb * wb)
    return out


# =========================================================================== the class
class PowerSpectrum(SaveMixin):
    r"""A linear matter power spectrum from any source, with σ(R, z), σ(M, z) and
    ``d ln σ / d ln R`` as AutoKnots tables.

    .. math::

        \sigma^2(R, z) = \frac{1}{2\pi^2}\int_{k_{min}}^{k_{max}} k^2 P(k, z)\,W(kR)^2\,dk,
        \qquad
        \frac{d\ln\sigma}{d\ln R} = \frac{1}{2\pi^2\sigma^2}\int k^2 P\,W(y)\,y W'(y)\,dk

    with the top-hat window ``W(y) = 3 (sin y − y cos y) / y³`` or the Gaussian
    ``W(y) = exp(−y²/2)``, ``y = kR``.

    Parameters
    ----------
    pk : callable or LinearPower
        ``pk(k)`` [Mpc³] of wavenumbers ``k`` [1/Mpc] when ``z_range`` is None, else
        ``pk(k, z)``.  It is called with a 1-D float array ``k`` (and a float ``z``) and
        must return an array of ``k``'s size (set ``vectorized=False`` for a function of
        floats, e.g. CLASS's ``cosmo.pk_lin(k, z)``, which takes k in 1/Mpc and returns
        Mpc³).  CAMB's interpolator is called with the redshift *first*: pass
        ``lambda k, z: PK.P(z, k)`` for
        ``PK = camb.get_matter_power_interpolator(pars, nonlinear=False,
        hubble_units=False, k_hunit=False)`` (those two options give Mpc³ and 1/Mpc).  A
        :class:`LinearPower` is used as ``P(k, z=0)``; its cosmology supplies the growth.
    k_range : (float, float)
        ``(kmin, kmax)`` [1/Mpc]: where P is defined; σ integrates over it only.
    z_range : (float, float) or None, optional
        The redshift range of a ``pk(k, z)``.  None: ``pk(k)`` has no redshift argument and
        ``σ(R, z) = σ(R) D(z)`` with the growth factor of ``cosmology``.
    cosmology : Cosmology or None, optional
        Needed for masses (``ρ̄_m0``) and, without ``z_range``, for ``z > 0`` (growth).
    rtol : float, optional
        Relative tolerance of every table, in ``[1e-10, 1e-2]``.
    R_range : (float, float) or None, optional
        Radii [Mpc] of the σ tables; default ``(100 / kmax, 0.01 / kmin)``.
    window : {"tophat", "gaussian"}, optional
        The filter.  Masses: ``M = 4π ρ̄ R³ / 3`` (top-hat), ``(2π)^{3/2} ρ̄ R³``
        (Gaussian).
    vectorized : bool, optional
        Whether ``pk`` takes arrays (default) or only floats.

    Raises
    ------
    TypeError
        ``pk`` not callable, ``cosmology`` not a :class:`Cosmology`, non-real numbers.
    ValueError
        A range not increasing or not positive, ``rtol`` outside ``[1e-10, 1e-2]``, an
        unknown ``window``.

    Warns
    -----
    KRangeWarning
        When a σ table is built and power-law tails of P beyond ``k_range`` would change σ
        by more than ``rtol`` somewhere on ``R_range``.

    See Also
    --------
    PowerSpectrum.from_arrays : a spectrum given as numbers (CAMB's or CLASS's output).
    LinearPower.power_spectrum : the Eisenstein–Hu spectrum as a source.

    Notes
    -----
    A callable P is tabulated first (:func:`numfit.autoknots` of ``P(k)`` in log-log
    space, ``kind="chebyshev"``: piecewise polynomials of ``ln k`` whose breakpoints end
    the quadrature's panels, or :func:`numfit.autoknots2d` of ``ln P(ln k, z)``) to
    ``rtol / 4``, so σ
    (a positive average of P) inherits at most ``rtol / 8``; the σ tables are built to
    ``0.8 rtol`` against the quadrature of that table.  σ and its slope at a redshift are
    integrals over k of the spectrum at that redshift: with ``z_range``, σ(R, z) and the
    slope are 2-D AutoKnots tables (``ln σ`` against ``ln R`` and ``z``), not σ(R) times a
    growth factor.  :meth:`save` and pickling store the tables, not ``pk``: a callable
    is only called to build its P table (built at the save if it was not yet), so a
    spectrum from CAMB's interpolator or a lambda saves and loads without CAMB and gives
    the same numbers bit for bit.  The mass variance follows Press & Schechter (1974, ApJ
    187, 425); the filters are those of Bardeen, Bond, Kaiser & Szalay (1986, ApJ 304,
    15).

    Examples
    --------
    >>> import numpy as np
    >>> from numfit.cosmology import Cosmology, LinearPower, PowerSpectrum
    >>> cosmo = Cosmology(H0=67.7, Om0=0.31, Ob0=0.049, Tcmb0=2.7255)
    >>> lp = LinearPower(cosmo, ns=0.965, sigma8=0.81)
    >>> k = np.geomspace(1e-5, 1e3, 600)
    >>> ps = PowerSpectrum.from_arrays(k, lp.power(k), cosmology=cosmo, rtol=1e-6)
    >>> round(ps.sigma(8.0 / cosmo.h), 4)
    0.81
    >>> bool(ps.dlnsigma_dlnR(8.0 / cosmo.h) < 0)
    True
    """

    def __init__(self, pk, *, k_range, z_range=None, cosmology=None, rtol=1e-6,
                 R_range=None, window="tophat", vectorized=True):
        self._lp = None
        if isinstance(pk, LinearPower):
            if z_range is not None:
                raise ValueError("`z_range` must be None for a LinearPower source (its "
                                 "redshift dependence is the growth factor of its cosmology)")
            self._lp, pk = pk, None
            if cosmology is None:
                cosmology = self._lp.cosmology
        elif not callable(pk):
            raise TypeError(f"`pk` must be a callable P(k) or P(k, z), or a LinearPower; got "
                            f"{type(pk).__name__}")
        self._pk = pk
        self._vectorized = bool(vectorized)
        self._setup(k_range, z_range, cosmology, rtol, R_range, window)
        self._arrays = None

    def _setup(self, k_range, z_range, cosmology, rtol, R_range, window):
        kmin, kmax = _pair("k_range", k_range, positive=True)
        self._kmin, self._kmax = kmin, kmax
        self._z = None if z_range is None else _pair("z_range", z_range, positive=False)
        if self._z is not None and self._z[0] < 0.0:
            raise ValueError(f"`z_range` must be within z >= 0; got {self._z}")
        if cosmology is not None and not isinstance(cosmology, Cosmology):
            raise TypeError("`cosmology` must be a numfit.cosmology.Cosmology or None; got "
                            f"{type(cosmology).__name__}")
        self._cosmo = cosmology
        self._rtol = check_float("rtol", rtol, lo=1e-10, hi=1e-2)
        self._window = check_option("window", window, _WINDOWS)
        if R_range is None:
            R_range = (100.0 / kmax, 0.01 / kmin)
            if not R_range[0] < R_range[1]:
                raise ValueError(
                    f"the default `R_range` (100/kmax, 0.01/kmin) = ({R_range[0]:g}, "
                    f"{R_range[1]:g}) Mpc is empty for k_range = ({kmin:g}, {kmax:g}) 1/Mpc; "
                    "pass R_range=(Rmin, Rmax)")
        self._Rmin, self._Rmax = _pair("R_range", R_range, positive=True)
        self._tables = {}
        self._interp = None       # the interpolant of array data (rebuilt, not saved)
        self._nodes = {}          # the quadrature node set and its P columns (cache, not saved)

    @classmethod
    def from_arrays(cls, k, P, z=None, *, cosmology=None, rtol=1e-6, R_range=None,
                    window="tophat"):
        """A spectrum given as numbers: ``P[i]`` at ``k[i]``, or ``P[j, i]`` at
        ``(z[j], k[i])``.

        ``ln P`` is interpolated by a not-a-knot cubic spline in ``ln k`` (and, with ``z``,
        a bicubic spline in ``(ln k, z)``, cubic in z from 4 redshifts on), and the σ
        quadrature's panels end at the data points.  The object saves with
        :meth:`save` (the arrays are its state).

        Parameters
        ----------
        k : array_like
            Increasing wavenumbers [1/Mpc], at least 4, ``> 0``.
        P : array_like
            ``P(k)`` [Mpc³], ``> 0``: shape ``(nk,)``, or ``(nz, nk)`` with ``z`` (the
            layout of CAMB's ``get_linear_matter_power_spectrum`` and of
            ``get_matter_power_spectrum``; convert its k in h/Mpc and P in (Mpc/h)³ with
            ``k * h`` and ``P / h**3``).
        z : array_like or None, optional
            Redshifts ``>= 0`` of the rows of ``P`` (at least 2), increasing or decreasing
            (rows are reordered).
        cosmology, rtol, R_range, window
            As for :class:`PowerSpectrum`.

        Returns
        -------
        PowerSpectrum

        Raises
        ------
        ValueError
            Shapes that do not match, fewer than 4 ``k`` or 2 ``z``, ``k`` not strictly
            increasing or ``z`` not strictly monotonic, ``P <= 0`` or not finite.

        Examples
        --------
        >>> import numpy as np
        >>> from numfit.cosmology import PowerSpectrum
        >>> k = np.geomspace(1e-4, 1e2, 400)
        >>> P = 2e4 * k / (1 + (k / 0.02) ** 2) ** 1.5       # a toy spectrum [Mpc^3]
        >>> ps = PowerSpectrum.from_arrays(k, P, rtol=1e-6, R_range=(1.0, 100.0))
        >>> s = ps.sigma(10.0)
        >>> bool(abs(s / ps.sigma(10.0, exact=True) - 1) < 1e-6)
        True
        """
        kk = check_real_array("k", k, lo=0.0, lo_open=True, unit=" [1/Mpc]")
        if kk.ndim != 1 or kk.size < 4:
            raise ValueError(f"`k` must be a 1-D array of at least 4 wavenumbers; got shape "
                             f"{kk.shape}")
        if np.any(np.diff(kk) <= 0):
            raise ValueError("`k` must be strictly increasing")
        PP = check_real_array("P", P, lo=0.0, lo_open=True, unit=" [Mpc^3]")
        if z is None:
            if PP.shape != kk.shape:
                raise ValueError(f"`P` must have the shape of `k` {kk.shape}; got {PP.shape}")
            zz = None
        else:
            zz = check_real_array("z", z, lo=0.0)
            if PP.shape != (zz.size, kk.size) or zz.ndim != 1:
                raise ValueError(f"`P` must have shape (len(z), len(k)) = "
                                 f"{(zz.size, kk.size)}; got {PP.shape}")
            if zz.size >= 2 and np.all(np.diff(zz) < 0):     # CAMB's internal order
                zz, PP = zz[::-1].copy(), PP[::-1].copy()
            if zz.size < 2 or np.any(np.diff(zz) <= 0):
                raise ValueError("`z` must be a strictly monotonic 1-D array of at least 2 "
                                 "redshifts")
        self = cls.__new__(cls)
        self._lp, self._pk, self._vectorized = None, None, True
        self._setup((float(kk[0]), float(kk[-1])),
                    None if zz is None else (float(zz[0]), float(zz[-1])), cosmology, rtol,
                    R_range, window)
        self._arrays = (kk, PP, zz)
        return self

    # ------------------------------------------------------------------ properties
    k_range = property(lambda self: (self._kmin, self._kmax), doc="(kmin, kmax) [1/Mpc].")
    z_range = property(lambda self: self._z, doc="Redshift range of P(k, z), or None.")
    R_range = property(lambda self: (self._Rmin, self._Rmax), doc="σ tables' radii [Mpc].")
    rtol = property(lambda self: self._rtol, doc="Relative tolerance of the tables.")
    window = property(lambda self: self._window, doc="'tophat' or 'gaussian'.")
    cosmology = property(lambda self: self._cosmo, doc="The Cosmology, or None.")

    def __repr__(self):
        src = self._source_name()
        return (f"PowerSpectrum({src}, k_range=({self._kmin:g}, {self._kmax:g}), "
                f"z_range={self._z}, R_range=({self._Rmin:g}, {self._Rmax:g}), "
                f"window={self._window!r}, rtol={self._rtol:g})")

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_interp"] = None
        state["_nodes"] = {}
        if self._pk is not None:
            # a callable P (CAMB's interpolator, a lambda) is only ever called to build
            # its AutoKnots table, which every later result uses: the state holds that
            # table (built now if need be) instead of the function, which seldom pickles
            state["_tables"] = dict(self._tables, power=self._ptable())
            state["_pk"] = None
            state["_pk_name"] = self._source_name()
        return state

    def _source_name(self):
        if self._arrays is not None:
            return "arrays"
        if self._lp is not None:
            return "LinearPower"
        if self._pk is None:                 # a callable, dropped once tabulated (saved)
            return self.__dict__.get("_pk_name", "callable")
        return getattr(self._pk, "__name__", type(self._pk).__name__)

    # ------------------------------------------------------------------ P(k, z)
    def _call_pk(self, k, z):
        if self._lp is not None:
            return np.asarray(self._lp.power(k), dtype=np.float64)
        args = (k,) if z is None else (k, z)
        if self._vectorized:
            out = np.asarray(self._pk(*args), dtype=np.float64)
        else:
            out = np.array([float(self._pk(kk, *args[1:])) for kk in k.tolist()])
        if out.size != k.size:
            raise ValueError(f"`pk` returned {out.size} values for {k.size} wavenumbers "
                             f"(shape {out.shape}); it must return one per k (see "
                             "`vectorized`; CAMB's PK.P takes (z, k))")
        out = out.reshape(k.shape)
        if not np.all(np.isfinite(out) & (out > 0)):
            bad = int(np.flatnonzero(~(np.isfinite(out) & (out > 0)))[0])
            raise ValueError(f"`pk` returned P = {out.flat[bad]!r} at k = {k.flat[bad]:g} "
                             "1/Mpc; P must be finite and > 0 on k_range")
        return out

    def _interpolant(self):
        if self._interp is None:
            from scipy.interpolate import CubicSpline, RectBivariateSpline
            kk, PP, zz = self._arrays
            if zz is None:
                self._interp = CubicSpline(np.log(kk), np.log(PP))
            else:
                self._interp = RectBivariateSpline(np.log(kk), zz, np.log(PP).T,
                                                   kx=3, ky=min(3, zz.size - 1), s=0)
        return self._interp

    def _ptable(self):
        """The AutoKnots table of a callable P (built on first use)."""
        tab = self._tables.get("power")
        if tab is None:
            rt = _P_SHARE * self._rtol
            if self._z is None:
                # piecewise Chebyshev: a few hundred smooth pieces (the quadrature's panels
                # end at their breakpoints) instead of a cubic's thousands of knots
                tab = autoknots(lambda k: self._call_pk(k, None), self._kmin, self._kmax,
                                rtol=rt, space="loglog", kind="chebyshev", vectorized=True)
            else:
                def f(K, Z):
                    K, Z = np.broadcast_arrays(K, Z)
                    out = np.empty(K.shape)
                    for j in range(K.shape[1]):
                        out[:, j] = self._call_pk(np.ascontiguousarray(K[:, j]),
                                                  float(Z[0, j]))
                    return out
                tab = autoknots2d(f, (self._kmin, self._kmax), self._z, rtol=rt,
                                  x_knots="log", log_f=True, vectorized=True)
            self._tables["power"] = tab
        return tab

    def _breaks(self):
        """ln k of the interpolant's knots (the panels end there)."""
        if self._arrays is not None:
            return np.log(self._arrays[0])
        tab = self._ptable()
        return np.log(np.asarray(tab.breakpoints if self._z is None else tab.x_knots))

    def _p(self, k, z):
        """P at wavenumbers k (1-D, inside k_range) and one redshift (None: no z)."""
        if self._arrays is not None:
            f = self._interpolant()
            t = np.log(k)
            return np.exp(f(t) if self._z is None else f(t, np.full_like(t, z), grid=False))
        tab = self._ptable()
        return tab(k) if self._z is None else tab(k, np.full_like(k, z))

    def _check_z(self, z):
        zz = check_real_array("z", z, lo=0.0)
        if self._z is not None:
            if zz.size and (zz.min() < self._z[0] or zz.max() > self._z[1]):
                bad = float(zz.min() if zz.min() < self._z[0] else zz.max())
                raise ValueError(f"z = {bad:g} is outside z_range [{self._z[0]:g}, "
                                 f"{self._z[1]:g}] of this P(k, z)")
        elif zz.size and zz.any() and self._cosmo is None:
            raise ValueError("`z` > 0 needs the growth factor: this P(k) has no redshift "
                             "argument, so pass cosmology= (or give P(k, z) with z_range)")
        return zz

    def _growth(self, zz):
        if self._z is not None or not zz.size or not zz.any():
            return np.ones(zz.shape)
        return np.asarray(self._cosmo.growth_factor(zz), dtype=np.float64)

    def power(self, k, z=0.0):
        """``P(k, z)`` [Mpc³] from the spectrum's interpolant (data) or AutoKnots table.

        Parameters
        ----------
        k : array_like
            Wavenumbers [1/Mpc] inside ``k_range``.
        z : array_like, optional
            Redshifts (broadcast against ``k``): inside ``z_range``, or any with a
            cosmology when P has no redshift argument (then ``P(k) D(z)²``).

        Returns
        -------
        float or ndarray

        Raises
        ------
        ValueError
            ``k`` outside ``k_range`` or ``z`` outside ``z_range`` (or ``z > 0`` without a
            cosmology for a P(k)).
        """
        kk = check_real_array("k", strip_unit("k", k, "1 / Mpc"), lo=0.0, lo_open=True,
                              unit=" [1/Mpc]")
        if kk.size and (kk.min() < self._kmin * (1 - 1e-12)
                        or kk.max() > self._kmax * (1 + 1e-12)):
            raise ValueError(f"`k` must lie in k_range [{self._kmin:g}, {self._kmax:g}] "
                             "1/Mpc")
        zz = self._check_z(z)
        kb, zb = np.broadcast_arrays(np.clip(kk, self._kmin, self._kmax), zz)
        out = np.empty(kb.shape)
        if out.size:
            if self._z is None:
                out = self._p(kb.ravel(), None).reshape(kb.shape) * self._growth(zb) ** 2
            else:
                for zv in np.unique(zb):
                    sel = zb == zv
                    out[sel] = self._p(kb[sel], float(zv))
        return float(out) if np.ndim(k) == 0 and np.ndim(z) == 0 else out

    # ------------------------------------------------------------------ σ quadrature
    def _sums(self, R, z, slope=True):
        """(σ², σ² d ln σ / d ln R) at radii R (1-D) and one redshift (None: no z); the
        second is None unless ``slope``."""
        s0, s1 = self._sums_block(R, [z], slope)
        return s0[:, 0], (s1[:, 0] if slope else None)

    def _sums_block(self, R, zs, slope=True):
        """(σ², σ² d ln σ / d ln R) at radii R (1-D) and redshifts ``zs`` (a list; None: no
        z), arrays (radii, redshifts): one node set, the window values of each radius
        computed once for every redshift (the second is None unless ``slope``)."""
        rlo, rhi = min(float(R.min()), self._Rmin), max(float(R.max()), self._Rmax)
        grid = self._nodes.get("grid")
        if grid is None or not (grid[2] <= rlo and rhi <= grid[3]):
            t, w = _panel_nodes(self._breaks(), math.log(self._kmin), math.log(self._kmax),
                                rlo, rhi)
            k = np.exp(t)
            k[0], k[-1] = max(k[0], self._kmin), min(k[-1], self._kmax)
            grid = (k, w, rlo, rhi, {}, {}, {})  # nodes; P columns, window matrices, lines
            if rlo == self._Rmin and rhi == self._Rmax:
                self._nodes = {"grid": grid}
        k, w, rlo, cols = grid[0], grid[1], grid[2], grid[4]
        new = [z for z in dict.fromkeys(zs) if z not in cols]
        if new:
            if len(cols) + len(new) > _WK_CACHE:
                cols.clear()
            ke = self._kmax * (1.0 - _END_STEP * np.arange(4))
            P, Pe = self._p_lines(k, new), self._p_lines(ke, new)
            wk = (w * k ** 3)[:, None] * P / (2.0 * math.pi ** 2)
            ge = (ke ** 3)[:, None] * Pe / (2.0 * math.pi ** 2)
            for j, z in enumerate(new):
                cols[z] = (wk[:, j], ge[:, j])
        if len(zs) == 1:              # one line (σ(R), exact=True): reused, sums kept
            ws = grid[6].get(zs[0])
            if ws is None:
                ws = _WindowSums(k, cols[zs[0]][0], rlo, self._window, self._kmax,
                                 cols[zs[0]][1], cache=grid[5], keep=True)
                while len(grid[6]) >= _LINES_KEPT:
                    grid[6].pop(next(iter(grid[6])))
                grid[6][zs[0]] = ws
            s0, s1 = ws(R, slope)
            return s0[:, None], (s1[:, None] if slope else None)
        wk = np.stack([cols[z][0] for z in zs], axis=1)
        ge = np.stack([cols[z][1] for z in zs], axis=1)
        return _WindowSums(k, wk, rlo, self._window, self._kmax, ge, cache=grid[5])(R, slope)

    def _p_lines(self, k, zs):
        """P at wavenumbers k (1-D, inside k_range) and redshifts zs (a list; [None]: no z),
        an array (k, redshifts)."""
        if self._z is not None and self._arrays is not None:
            # the bicubic spline on the (ln k, z) grid: one call for all redshifts
            zz = np.asarray(zs, dtype=np.float64)
            order = np.argsort(zz)
            ko = np.argsort(k)
            out = np.empty((k.size, zz.size))
            out[np.ix_(ko, order)] = np.exp(self._interpolant()(np.log(k[ko]), zz[order]))
            return out
        return np.stack([self._p(k, z) for z in zs], axis=1)

    def _zkey(self, z):
        return None if self._z is None else float(z)

    def _sigma_fn(self, R, z=None):
        return np.sqrt(self._sums(np.asarray(R, dtype=np.float64), z, slope=False)[0])

    def _slope_fn(self, R, z=None):
        s0, s1 = self._sums(np.asarray(R, dtype=np.float64), z)
        return -s1 / s0                        # -d ln σ / d ln R > 0

    def _grid_fn(self, which):
        def g(R, Z):
            R, Z = np.broadcast_arrays(R, Z)
            r = np.ascontiguousarray(R[:, 0], dtype=np.float64)
            if not (R == r[:, None]).all():            # not a tensor block: line by line
                f = self._sigma_fn if which == "sigma" else self._slope_fn
                out = np.empty(R.shape)
                for j in range(R.shape[1]):
                    out[:, j] = f(np.ascontiguousarray(R[:, j]), float(Z[0, j]))
                return out
            zs = [float(z) for z in Z[0].tolist()]
            if which == "sigma":
                return np.sqrt(self._sums_block(r, zs, slope=False)[0])
            s0, s1 = self._sums_block(r, zs)
            return -s1 / s0
        return g

    def table(self, name="sigma"):
        """The AutoKnots table behind a quantity, built on first use.

        Parameters
        ----------
        name : {"sigma", "dlnsigma_dlnR", "power"}
            ``"sigma"``: σ(R) (log-log :func:`numfit.autoknots` on ``R_range``) or, with
            ``z_range``, ``ln σ(ln R, z)`` (:func:`numfit.autoknots2d`);
            ``"dlnsigma_dlnR"``: ``−d ln σ / d ln R`` likewise (positive);
            ``"power"``: the table of a callable P (not for array data).

        Returns
        -------
        AutoKnotsSpline or AutoKnots2D
        """
        name = check_option("name", name, ("sigma", "dlnsigma_dlnR", "power"))
        if name == "power":
            if self._arrays is not None:
                raise ValueError("`name`='power': a spectrum from arrays has no P table "
                                 "(its interpolant is a cubic spline through the data)")
            return self._ptable()
        tab = self._tables.get(name)
        if tab is None:
            rt = _SIGMA_SHARE * self._rtol
            if self._z is None:
                f = self._sigma_fn if name == "sigma" else self._slope_fn
                tab = autoknots(f, self._Rmin, self._Rmax, rtol=rt, space="loglog",
                                vectorized=True)
            else:
                tab = autoknots2d(self._grid_fn(name), (self._Rmin, self._Rmax), self._z,
                                  rtol=rt, x_knots="log", log_f=True, vectorized=True)
            self._tables[name] = tab
            if name == "sigma":
                self._check_truncation()
        return tab

    def _check_truncation(self):
        """Warn where power-law tails of P beyond k_range change σ by more than rtol."""
        R = np.geomspace(self._Rmin, self._Rmax, 25)
        worst = np.zeros(R.size)
        slopes = []
        tab = self._tables["sigma"]
        for z in ([None] if self._z is None else list(self._z)):
            s0 = (tab(R) if z is None else tab(R, np.full_like(R, z))) ** 2
            t0, t1 = math.log(self._kmin), math.log(self._kmax)
            d = 1e-3 * (t1 - t0)
            ends = np.exp(np.array([t0, t0 + d, t1 - d, t1]))
            p = self._p(ends, z)
            n_lo = math.log(p[1] / p[0]) / d
            n_hi = math.log(p[3] / p[2]) / d
            slopes.append((n_lo, n_hi))
            tl = np.linspace(t0 - _TAIL_EFOLDS, t0, 1001)
            th = np.linspace(t1, t1 + _TAIL_EFOLDS, 1001)
            tail = np.zeros(R.size)
            for tt, n, pend, tend in ((tl, n_lo, p[0], t0), (th, n_hi, p[3], t1)):
                k = np.exp(tt)
                with np.errstate(over="ignore"):
                    g = k ** 3 * pend * np.exp(n * (tt - tend)) / (2.0 * math.pi ** 2)
                w2 = _window_values(R[:, None] * k[None, :], self._window)
                tail += np.trapezoid(g[None, :] * w2, tt, axis=1)
            worst = np.maximum(worst, 0.5 * tail / s0)
        bad = worst > self._rtol
        if bad.any():
            i = np.flatnonzero(bad)
            sl = ", ".join(f"{a:.3g} / {b:.3g}" for a, b in slopes)
            warnings.warn(
                f"PowerSpectrum: P(k) is integrated over k_range = [{self._kmin:g}, "
                f"{self._kmax:g}] 1/Mpc only; power-law tails beyond it (end slopes of "
                f"ln P: {sl}) would change sigma by up to {worst.max():.2g} (relative) for R "
                f"in [{R[i[0]]:.4g}, {R[i[-1]]:.4g}] Mpc, above rtol = {self._rtol:g}: "
                "widen k_range or narrow R_range", KRangeWarning, stacklevel=_user_level())

    # ------------------------------------------------------------------ public σ
    def _as_R(self, R, exact):
        rr = check_real_array("R", strip_unit("R", R, "Mpc"), lo=0.0, lo_open=True,
                              unit=" [Mpc]")
        if not exact and rr.size and (rr.min() < self._Rmin or rr.max() > self._Rmax):
            bad = float(rr.min() if rr.min() < self._Rmin else rr.max())
            raise ValueError(f"R = {bad:g} Mpc is outside R_range [{self._Rmin:g}, "
                             f"{self._Rmax:g}] Mpc of the tables; widen it with "
                             "PowerSpectrum(..., R_range=...) or pass exact=True")
        return rr

    def _eval(self, which, R, z, exact):
        rr = self._as_R(R, exact)
        zz = self._check_z(z)
        Rb, zb = np.broadcast_arrays(rr, zz)
        out = np.empty(Rb.shape)
        if out.size:
            if self._z is None:
                if exact:
                    f = self._sigma_fn if which == "sigma" else self._slope_fn
                    v = f(Rb.ravel()).reshape(Rb.shape)
                else:
                    v = self.table(which)(Rb)
                out = v * self._growth(zb) if which == "sigma" else v
            elif exact:
                f = self._sigma_fn if which == "sigma" else self._slope_fn
                for zv in np.unique(zb):
                    sel = zb == zv
                    out[sel] = f(Rb[sel], float(zv))
            else:
                out = self.table(which)(Rb, zb)
        if which != "sigma":
            out = -out
        return float(out) if np.ndim(R) == 0 and np.ndim(z) == 0 else np.asarray(out)

    def sigma(self, R, z=0.0, *, exact=False):
        """rms linear fluctuation ``σ(R, z)`` in the window of radius ``R``.

        Parameters
        ----------
        R : array_like
            Radii [Mpc] in ``R_range`` (any ``R > 0`` with ``exact``).
        z : array_like, optional
            Redshifts, broadcast against ``R``.
        exact : bool, optional
            The quadrature (~1e-11 relative to the spectrum's interpolant) instead of
            the table.

        Returns
        -------
        float or ndarray
            Relative error ``<= rtol`` (table).

        Raises
        ------
        ValueError
            ``R`` outside ``R_range``; ``z`` outside ``z_range`` or ``z > 0`` without a
            cosmology for a P(k).

        Examples
        --------
        >>> import numpy as np
        >>> from numfit.cosmology import Cosmology, PowerSpectrum
        >>> k = np.geomspace(1e-4, 1e2, 400)
        >>> P = 2e4 * k / (1 + (k / 0.02) ** 2) ** 1.5
        >>> ps = PowerSpectrum.from_arrays(k, P, cosmology=Cosmology(), rtol=1e-6,
        ...                                R_range=(1.0, 100.0))
        >>> s = ps.sigma([5.0, 10.0], z=[0.0, 1.0])
        >>> bool(s[1] / ps.sigma(10.0) < 0.7)           # grown by D(1) / D(0) ~ 0.61
        True
        """
        return self._eval("sigma", R, z, exact)

    def dlnsigma_dlnR(self, R, z=0.0, *, exact=False):
        """The logarithmic slope ``d ln σ / d ln R`` (negative), from its own table.

        Parameters
        ----------
        R, z, exact
            As for :meth:`sigma`.

        Returns
        -------
        float or ndarray
            Relative error ``<= rtol`` (table).  Without ``z_range`` the slope does not
            depend on z.

        Examples
        --------
        >>> import numpy as np
        >>> from numfit.cosmology import Cosmology, PowerSpectrum
        >>> k = np.geomspace(1e-4, 1e2, 400)
        >>> P = 2e4 * k / (1 + (k / 0.02) ** 2) ** 1.5
        >>> ps = PowerSpectrum.from_arrays(k, P, cosmology=Cosmology(), rtol=1e-6,
        ...                                R_range=(1.0, 100.0))
        >>> d = ps.dlnsigma_dlnR(10.0)
        >>> bool(abs(d / ps.dlnsigma_dlnR(10.0, exact=True) - 1) < 1e-6)
        True
        """
        return self._eval("dlnsigma_dlnR", R, z, exact)

    def _need_cosmology(self):
        if self._cosmo is None:
            raise ValueError("masses need the mean matter density: build the PowerSpectrum "
                             "with cosmology=")
        return self._cosmo

    def lagrangian_radius(self, M):
        """The window radius [Mpc] enclosing mass ``M`` [M_sun] at the mean density today:
        ``(3M / 4πρ̄)^(1/3)`` (top-hat) or ``(M / (2π)^{3/2} ρ̄)^(1/3)`` (Gaussian).

        Parameters
        ----------
        M : array_like
            Masses [M_sun], ``> 0``.

        Returns
        -------
        float or ndarray
        """
        mm = check_real_array("M", strip_unit("M", M, "Msun"), lo=0.0, lo_open=True,
                              unit=" [M_sun]")
        rho = float(self._need_cosmology().mean_matter_density(0.0))
        vol = 4.0 * math.pi / 3.0 if self._window == "tophat" else (2.0 * math.pi) ** 1.5
        out = np.cbrt(mm / (vol * rho))
        return float(out) if np.ndim(M) == 0 else out

    def sigma_mass(self, M, z=0.0, *, exact=False):
        """``σ(R(M), z)`` with the Lagrangian radius of :meth:`lagrangian_radius`.

        Parameters
        ----------
        M : array_like
            Masses [M_sun] whose radii lie in ``R_range`` (unless ``exact``).
        z, exact
            As for :meth:`sigma`.

        Returns
        -------
        float or ndarray

        Examples
        --------
        >>> import numpy as np
        >>> from numfit.cosmology import Cosmology, PowerSpectrum
        >>> k = np.geomspace(1e-4, 1e2, 400)
        >>> P = 2e4 * k / (1 + (k / 0.02) ** 2) ** 1.5
        >>> ps = PowerSpectrum.from_arrays(k, P, cosmology=Cosmology(), rtol=1e-6,
        ...                                R_range=(1.0, 100.0))
        >>> M = 1e14                                      # M_sun
        >>> ps.sigma_mass(M) == ps.sigma(ps.lagrangian_radius(M))
        True
        """
        return self.sigma(self.lagrangian_radius(M), z, exact=exact)

    def dlnsigma_dlnM(self, M, z=0.0, *, exact=False):
        """``d ln σ / d ln M = (1/3) d ln σ / d ln R`` at ``R(M)``.

        Parameters
        ----------
        M, z, exact
            As for :meth:`sigma_mass`.

        Returns
        -------
        float or ndarray
        """
        return self.dlnsigma_dlnR(self.lagrangian_radius(M), z, exact=exact) / 3.0


def _user_level():
    """The warnings stacklevel of the first caller outside numfit (as seen from the
    function calling warnings.warn)."""
    import sys
    f, level = sys._getframe(2), 2
    while f is not None and f.f_globals.get("__name__", "").startswith("numfit"):
        f, level = f.f_back, level + 1
    return level


def _pair(name, value, *, positive):
    if not (isinstance(value, (tuple, list, np.ndarray)) and len(value) == 2):
        raise TypeError(f"`{name}` must be a pair (low, high); got {value!r}")
    lo = check_float(f"{name}[0]", value[0], lo=0.0 if positive else None, lo_open=positive)
    hi = check_float(f"{name}[1]", value[1], lo=0.0 if positive else None, lo_open=positive)
    if not lo < hi:
        raise ValueError(f"`{name}` must be increasing; got ({lo:g}, {hi:g})")
    return lo, hi
