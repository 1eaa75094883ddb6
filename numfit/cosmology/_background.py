"""Background cosmology: flat and curved ΛCDM with w0–wa dark energy and optional radiation.

Every quantity that needs an integral or an ODE (comoving distance, lookback time, linear
growth factor and growth rate) is an AutoKnots table built lazily, on first use, over the
declared range ``0 <= z <= zmax`` in the variable ``x = ln(1 + z)``, to a stated relative
tolerance ``rtol``.  The table's ordinates are computed by adaptive composite Gauss–Legendre
quadrature (distances: every panel's 16-point value agrees with the sum over its halves to
1e-14, also next to a zero of E² just outside the range) or, for the growth, from one
solve of the linear growth ODE per cosmology by piecewise Chebyshev collocation (degree 16
on panels of at most 0.5 in ln a, each panel's propagator from one batched linear solve,
panels halved until their last Chebyshev coefficients are below 1e-14; within ~2e-15 of
Heath's integral), so the tables' error is AutoKnots' interpolation error and a growth
table costs one solve whatever its number of knots.  ``exact=True`` bypasses the
tables with ``scipy.integrate.quad`` per redshift (slow; for checks).
"""
import functools
import math

import numpy as np
from scipy import integrate
from scipy.optimize import minimize_scalar

from .._errors import CosmologyError, RedshiftRangeError
from .._io import SaveMixin
from .._validation import check_float, check_real_array
from ..interpolate import autoknots
from . import _constants as const
from ._units import strip_unit

__all__ = ["Cosmology"]

_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(16)
_PANEL = 0.05            # widest Gauss–Legendre panel in x = ln(1+z)
# A panel is accepted when its 16-point value and the sum of 16-point values over its two
# halves agree to _QUAD_RTOL (relative: the integrands are positive, so the cumulative sums
# inherit it) plus the rounding noise of the integrand itself (see _cumulative); otherwise it
# is halved.  Smooth panels pass at once; next to a branch point of 1/E at distance d (a zero
# of E² just outside the range) the panels shrink geometrically to ~d, one halving per level.
_QUAD_RTOL = 1e-14
_QUAD_MAX_LEVEL = 60     # panels down to _PANEL / 2**60 ~ 4e-20 (x is at least ~1e-16 apart)
_QUAD_MAX_PANELS = 1_000_000
_EPS = float(np.finfo(np.float64).eps)
# relative rounding error of the integrands per unit of cond(E²) = sum|terms| / E²: the four
# terms of E² each to a few ulps, their sum, the square root and e^t (a generous bound)
_NOISE_PER_COND = 8.0 * _EPS
_A_INIT = 1e-6           # scale factor where the growth ODE starts (Meszaros growing mode)
_TABLES = {
    "comoving_distance": "chi(z) / (D_H ln(1+z))",
    "lookback_time": "t_L(z) / (t_H ln(1+z))",
    "growth": "(D(z)/D(0), f(z))",
}


def _gauss16(g, lo, h):
    """16-point Gauss–Legendre values of ``∫ g`` over the panels ``[lo, lo + h]``, with the
    nodes and the integrand there."""
    t = lo[:, None] + 0.5 * h[:, None] * (_GL_NODES + 1.0)
    gt = g(t)
    return 0.5 * h * (gt @ _GL_WEIGHTS), t, gt


def _noise16(noise, t, gt, h):
    """The Gauss–Legendre sums of ``|g| noise``: the rounding error a panel value carries."""
    return 0.5 * h * ((np.abs(gt) * noise(t)) @ _GL_WEIGHTS)


def _cumulative(g, x, noise=None):
    """``∫_0^{x_i} g(t) dt`` for every ``x_i >= 0`` by adaptive composite 16-point
    Gauss–Legendre, for a positive integrand ``g``.

    ``x`` may be unsorted and repeat; panels are at most ``_PANEL`` wide, end at every
    ``x_i`` and are halved until their 16-point value agrees with the sum over their halves
    to ``_QUAD_RTOL`` plus twice the rounding noise of g on the panel (``noise(t)``: a bound
    on the relative error of ``g(t)``; where E² cancels, g itself is no more accurate), so
    each integral is a sum of panel integrals accurate to ~1e-14 or g's own accuracy,
    whichever points share a call.

    Raises
    ------
    CosmologyError
        A panel not resolved after ``_QUAD_MAX_LEVEL`` halvings, or more than
        ``_QUAD_MAX_PANELS`` panels (g singular on the range or noisier than ``noise``).
    """
    x = np.asarray(x, dtype=np.float64)
    xs, inv = np.unique(x, return_inverse=True)
    edges = np.concatenate(([0.0], xs))
    gaps = np.diff(edges)
    npan = np.maximum(1, np.ceil(gaps / _PANEL).astype(np.int64))
    owner = np.repeat(np.arange(len(gaps)), npan)
    first = np.cumsum(npan) - npan
    k = np.arange(owner.size) - np.repeat(first, npan)
    h = gaps[owner] / npan[owner]
    lo = edges[owner] + k * h
    whole = _gauss16(g, lo, h)[0]
    per_gap = np.zeros(len(gaps))
    for _ in range(_QUAD_MAX_LEVEL):
        h2 = 0.5 * h
        (left, tl, gl), (right, tr, gr) = _gauss16(g, lo, h2), _gauss16(g, lo + h2, h2)
        both = left + right
        diff = np.abs(whole - both)
        ok = diff <= _QUAD_RTOL * np.abs(both)
        if noise is not None and not ok.all():      # g's own rounding error, where needed
            i = np.flatnonzero(~ok)
            floor = 2.0 * (_noise16(noise, tl[i], gl[i], h2[i])
                           + _noise16(noise, tr[i], gr[i], h2[i]))
            ok[i] = diff[i] <= _QUAD_RTOL * np.abs(both[i]) + floor
        per_gap += np.bincount(owner[ok], weights=both[ok], minlength=len(gaps))
        if ok.all():
            return np.cumsum(per_gap)[inv].reshape(x.shape)
        bad = ~ok                     # halve the rest: [left half, right half] per panel
        if 2 * int(bad.sum()) > _QUAD_MAX_PANELS:
            break
        owner = np.repeat(owner[bad], 2)
        lo = np.stack((lo[bad], lo[bad] + h2[bad]), axis=1).ravel()
        h = np.repeat(h2[bad], 2)
        whole = np.stack((left[bad], right[bad]), axis=1).ravel()
    t_bad = float(lo[np.flatnonzero(~ok)[0]])
    raise CosmologyError(f"the distance quadrature does not converge near "
                         f"z = {math.expm1(t_bad):.6g} (panels of width {float(h.min()):.3g} "
                         "in ln(1+z)): the integrand 1/E(z) is not smooth there")


# ------------------------------------------------------------------ massive neutrinos
# Per massive species of mass m, with v = m a / (k_B T_nu0) (T_nu0 = (4/11)^(1/3) Tcmb0),
# the Fermi-Dirac energy density is rho_nu(a) ∝ a^-4 F(v),
#     F(v) = ∫_0^∞ x² √(x² + v²) / (eˣ + 1) dx,      F(0) = 7 π⁴ / 120,
# and numfit's massive species carries NU_PER_SPECIES (Neff / floor(Neff)) rho_gamma F(v)/F(0)
# (astropy's sharing of Neff).  "exact" evaluates F(v)/F(0) and d ln F / d ln v to ~1e-15
# relative for every v >= 0 (Lesgourgues & Pastor 2006, Phys. Rep. 429, 307):
#   v <= _FD_VLO: F/F(0) = 1 + 5 v² / (7 π²), the next term ~ 0.011 v⁴ ln v (< 1e-17);
#   v >= _FD_VHI: the large-mass series F(v) = Σ_k C(1/2, k) I_{2k+2} v^{1-2k},
#       I_n = ∫ xⁿ/(eˣ+1) dx = (1 - 2^-n) n! ζ(n+1), 8 terms (the omitted ones and the
#       e^-v remainder below 1e-18 at v = 100);
#   in between: piecewise polynomial interpolants in u = ln v (112 panels of ~0.123,
#       degree 9 at Chebyshev points, Horner's rule) of F(v) / (F(0) √(1 + (c v)²)), c the
#       large-v slope 3 ζ(3) / (2 F(0)), and of d ln F / d ln v, built once on first use
#       from a composite 20-point Gauss-Legendre quadrature in x (geometric panels from
#       1e-5 to 1, then wider to x = 64: exact to ~3e-16 for v >= 1e-5).
# "astropy" is the Komatsu et al. (2011, ApJS 192, 18, eq. 26) fit of F(v)/F(0) with
# astropy's constants (so that from_astropy reproduces astropy's E(z) to ~1e-13).
_NU_MODELS = ("exact", "astropy")
_KOMATSU_P, _KOMATSU_INVP, _KOMATSU_K = 1.83, 0.54644808743, 0.3173
_TNU_TCMB = (4.0 / 11.0) ** (1.0 / 3.0)
_KB_EV_K = 1.380649e-23 / 1.602176634e-19   # Boltzmann constant [eV/K] (SI 2019, exact)
_FD_F0 = 7.0 * math.pi ** 4 / 120.0
_FD_VLO, _FD_VHI = 1e-4, 100.0
_FD_SMALL = 5.0 / (7.0 * math.pi ** 2)       # F(v)/F(0) = 1 + _FD_SMALL v² + O(v⁴ ln v)
_FD_DEG = 9                # per panel, in the monomial (Horner) form of the local variable
_FD_NPAN = 112             # panels of ~0.123 in ln v on [ln _FD_VLO, ln _FD_VHI]
_FD_U0 = math.log(_FD_VLO)
_FD_W = (math.log(_FD_VHI) - _FD_U0) / _FD_NPAN
_FD_TABLE = None          # (coefficients (deg+1, npan) of the scaled F, of d ln F / d ln v)


def _fd_large_series():
    """Coefficients b_k of F(v)/F(0) = Σ b_k v^(1-2k) for large v (k = 0..7)."""
    from scipy.special import binom, zeta
    k = np.arange(8)
    n = 2 * k + 2
    moments = (1.0 - 2.0 ** (-n)) * np.array([math.factorial(int(j)) for j in n]) \
        * zeta(n + 1.0)
    return binom(0.5, k) * moments / _FD_F0


_FD_B = _fd_large_series()
_FD_SLOPE = float(_FD_B[0])                   # F(v)/F(0) -> _FD_SLOPE v (3 ζ(3) / (2 F(0)))
_FD_BL = tuple(float(b) for b in _FD_B)                                  # Horner: floats
_FD_DBL = tuple(float((1 - 2 * k) * b) for k, b in enumerate(_FD_B))    # of v F'(v)/F(0)


def _fd_quadrature(v):
    """(F(v), v F'(v)) by composite 20-point Gauss–Legendre in x for an array of v >= 1e-5:
    panels doubling from [0, 1e-5] to 1 (the branch points ±iv of √(x²+v²) stay at least a
    panel's width away), then widening to 4 up to x = 64 (the poles of 1/(eˣ+1) are π away;
    the integrand is below 1e-22 of F beyond): exact to ~3e-16 (pairwise sums)."""
    nodes, weights = np.polynomial.legendre.leggauss(20)
    edges = np.concatenate(([0.0], 1e-5 * 2.0 ** np.arange(17),
                            [1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0], np.arange(12.0, 65.0, 4.0)))
    lo, h = edges[:-1], np.diff(edges)
    x = (lo[:, None] + 0.5 * h[:, None] * (nodes + 1.0)).ravel()
    w = (0.5 * h[:, None] * weights).ravel()
    x2 = x * x
    x2fw = x2 * w * (np.exp(-x) / (1.0 + np.exp(-x)))        # x² w / (eˣ + 1)
    v2 = np.asarray(v, dtype=np.float64)[:, None] ** 2
    root = np.sqrt(x2 + v2)
    # pairwise summation (np.sum) keeps the sums to a few ulps; a BLAS dot product loses ~1e-15
    F = np.sum(x2fw * root, axis=1)
    vdF = v2[:, 0] * np.sum(x2fw / root, axis=1)
    return F, vdF


def _fd_table():
    """The interpolants of the middle range, built once on first use (~0.05 s): Chebyshev
    interpolation at the 10 first-kind points of each panel, then the monomial coefficients
    in the panel's local variable t in [-1, 1] (the Chebyshev coefficients fall below 3e-16
    by degree 9, so the monomial ones are as small and Horner's rule is stable)."""
    global _FD_TABLE
    if _FD_TABLE is None:
        n = _FD_DEG
        theta = np.pi * (np.arange(n + 1) + 0.5) / (n + 1)
        t = np.cos(theta)                                         # Chebyshev points, 1st kind
        u = _FD_U0 + _FD_W * (np.arange(_FD_NPAN)[:, None] + 0.5 * (t + 1.0))
        v = np.exp(u.ravel())
        F, vdF = _fd_quadrature(v)
        scaled = (F / _FD_F0 / np.sqrt(1.0 + (_FD_SLOPE * v) ** 2)).reshape(u.shape)
        dlog = (vdF / F).reshape(u.shape)
        # discrete orthogonality, T_k(t_j) = cos(k theta_j) = cos(pi m / (2n + 2)) with
        # m = k (2j + 1) reduced mod 4n + 4 in integers, so every entry is exact to an ulp (a
        # recurrence, or cos of the rounded k theta_j, leaves ~2e-15 in the high coefficients)
        m = np.outer(2 * np.arange(n + 1) + 1, np.arange(n + 1)) % (4 * n + 4)
        to_coef = (2.0 / (n + 1)) * np.cos(np.pi * m / (2 * n + 2))
        to_coef[:, 0] *= 0.5
        cheb2poly = np.polynomial.chebyshev.cheb2poly
        _FD_TABLE = tuple(np.array([cheb2poly(c) for c in vals @ to_coef]).T.copy()
                          for vals in (scaled, dlog))
    return _FD_TABLE


def _fd_horner(coef, u):
    """The piecewise polynomial ``coef`` (deg+1, npan) at u = ln v (1-d array)."""
    s = (u - _FD_U0) * (1.0 / _FD_W)
    p = np.clip(s.astype(np.int64), 0, _FD_NPAN - 1)
    t = 2.0 * (s - p) - 1.0
    b = coef[_FD_DEG][p]
    for k in range(_FD_DEG - 1, -1, -1):
        b = b * t + coef[k][p]
    return b


def _fd_scalar(v, dlog):
    """``_fd_density`` for one float in plain float arithmetic (the same formulas: the
    background's scalar callers, root finding and the check of E², pay no array overhead)."""
    if v <= _FD_VLO:
        q = _FD_SMALL * v * v
        return 1.0 + q, 2.0 * q / (1.0 + q)
    if v >= _FD_VHI:
        iw2 = (1.0 / v) ** 2
        s = ds = 0.0
        for b, db in zip(_FD_BL[::-1], _FD_DBL[::-1]):
            s = s * iw2 + b
            ds = ds * iw2 + db
        return v * s, ds / s
    x = (math.log(v) - _FD_U0) * (1.0 / _FD_W)
    p = min(max(int(x), 0), _FD_NPAN - 1)
    t = 2.0 * (x - p) - 1.0
    out = []
    for rows in _fd_table_rows():
        c = rows[p]
        b = c[-1]
        for k in range(_FD_DEG - 1, -1, -1):
            b = b * t + c[k]
        out.append(b)
    return out[0] * math.sqrt(1.0 + (_FD_SLOPE * v) ** 2), out[1]


@functools.lru_cache(maxsize=1)
def _fd_table_rows():
    """The interpolants' coefficients as lists of floats per panel (for ``_fd_scalar``)."""
    return tuple(coef.T.tolist() for coef in _fd_table())


def _fd_density(v, *, dlog=False):
    r"""The energy density of one massive neutrino species relative to its massless value:
    ``F(v) / F(0)`` with :math:`F(v) = \int_0^\infty x^2 \sqrt{x^2 + v^2} / (e^x + 1)\,dx`,
    ``v = m a / (k_B T_ν0)``; with ``dlog=True`` also ``d ln F / d ln v``.

    Accurate to ~1e-15 relative for every ``v >= 0`` (the tests check 1e-14 against
    ``scipy.integrate.quad`` on 2000 points of ``[1e-6, 1e6]``); vectorised.

    Parameters
    ----------
    v : array_like
        ``m a / (k_B T_ν0)``, finite and ``>= 0``.
    dlog : bool, optional
        Also return ``d ln F / d ln v`` (0 when relativistic, 1 when non-relativistic;
        ``1 - 3 w`` of the species).

    Returns
    -------
    ndarray or tuple of ndarray

    Examples
    --------
    >>> import numpy as np
    >>> from numfit.cosmology._background import _fd_density
    >>> from scipy.integrate import quad
    >>> F = lambda v: quad(lambda x: x * x * np.hypot(x, v) / (np.exp(x) + 1), 0, 100,
    ...                    epsabs=0, epsrel=1e-13, limit=200)[0]
    >>> r = _fd_density(np.array([0.0, 1.0, 30.0]))
    >>> bool(r[0] == 1.0)
    True
    >>> bool(np.all(np.abs(r[1:] / (np.array([F(1.0), F(30.0)]) / F(0.0)) - 1) < 1e-12))
    True
    """
    v = np.asarray(v, dtype=np.float64)
    if v.size == 1:
        r, d = _fd_scalar(float(v.flat[0]), dlog)
        return (np.full(v.shape, r), np.full(v.shape, d)) if dlog else np.full(v.shape, r)
    flat = v.ravel()
    if flat.size == 0:
        return (v.copy(), v.copy()) if dlog else v.copy()
    vmin, vmax = float(flat.min()), float(flat.max())
    if vmin >= _FD_VHI or vmax <= _FD_VLO or (vmin > _FD_VLO and vmax < _FD_VHI):
        parts = [(slice(None), _fd_regime(flat, dlog))]          # one regime: no masks
    else:
        lo, hi = flat <= _FD_VLO, flat >= _FD_VHI
        parts = [(m, _fd_regime(flat[m], dlog)) for m in (lo, hi, ~(lo | hi)) if m.any()]
    out = np.empty(flat.shape)
    der = np.empty(flat.shape) if dlog else None
    for where, (r, d) in parts:
        out[where] = r
        if dlog:
            der[where] = d
    out = out.reshape(v.shape)
    return (out, der.reshape(v.shape)) if dlog else out


def _fd_regime(w, dlog):
    """(F/F(0), d ln F / d ln v or None) for a 1-d array w of v all in one regime."""
    w0 = float(w[0])
    if w0 <= _FD_VLO:                                             # relativistic series
        q = _FD_SMALL * w * w
        return 1.0 + q, (2.0 * q / (1.0 + q) if dlog else None)
    if w0 >= _FD_VHI:                                             # non-relativistic series
        iw2 = (1.0 / w) ** 2                                     # no overflow
        s = _FD_BL[-1] * iw2 + _FD_BL[-2]
        for b in _FD_BL[-3::-1]:
            s = s * iw2 + b
        if not dlog:
            return w * s, None
        ds = _FD_DBL[-1] * iw2 + _FD_DBL[-2]
        for b in _FD_DBL[-3::-1]:
            ds = ds * iw2 + b
        return w * s, ds / s
    scaled, dl = _fd_table()                                      # the interpolants
    u = np.log(w)
    r = _fd_horner(scaled, u) * np.sqrt(1.0 + (_FD_SLOPE * w) ** 2)
    return r, (_fd_horner(dl, u) if dlog else None)


def _neutrinos(m_nu, Neff, Tcmb0):
    """astropy's neutrino bookkeeping: floor(Neff) species sharing Neff equally, masses
    ``m_nu`` [eV] (one value for all, or one per species), ``nu_y = m / (k_B T_nu0)``."""
    m = np.atleast_1d(np.asarray(m_nu, dtype=np.float64)) if not isinstance(m_nu, str) \
        else None
    if m is None or m.ndim != 1 or not np.all(np.isfinite(m)) or np.any(m < 0):
        raise ValueError(f"`m_nu` must be a neutrino mass >= 0 [eV] or one per species; "
                         f"got {m_nu!r}")
    n_nu = int(math.floor(Neff))
    if not np.any(m > 0):
        return dict(m_nu=tuple(0.0 for _ in range(max(n_nu, 1) if m.size == 1 else m.size)),
                    nu_y=(), neff_per_nu=0.0, n_massless=0)
    if Tcmb0 == 0.0:
        raise ValueError("`m_nu` > 0 needs `Tcmb0` > 0 (neutrinos are part of the radiation, "
                         "which Tcmb0 = 0 leaves out)")
    if n_nu == 0:
        raise ValueError(f"`m_nu` > 0 needs at least one neutrino species; Neff={Neff:g}")
    if m.size == 1:
        m = np.full(n_nu, float(m[0]))
    elif m.size != n_nu:
        raise ValueError(f"`m_nu` must have floor(Neff) = {n_nu} entries (one per species, "
                         f"as astropy); got {m.size}")
    massive = m[m > 0]
    nu_y = tuple(float(v) for v in massive / (_KB_EV_K * _TNU_TCMB * Tcmb0))
    return dict(m_nu=tuple(float(v) for v in m), nu_y=nu_y, neff_per_nu=Neff / n_nu,
                n_massless=n_nu - massive.size)


@functools.lru_cache(maxsize=256)
def _species(nu_y):
    """The distinct massive ``nu_y`` with their multiplicities, ((y, count), ...): equal masses
    are one evaluation of the density."""
    return tuple((y, nu_y.count(y)) for y in sorted(set(nu_y)))


def _nu_rel(a, p, dlog=False):
    """ρ_ν / ρ_γ at scale factors a with massive neutrinos, by ``p["neutrino_model"]``: the
    exact Fermi–Dirac density or the Komatsu et al. (2011, eq. 26) fit (astropy's).  With
    ``dlog`` also ``a d(ρ_ν/ρ_γ)/da``."""
    a = np.asarray(a, dtype=np.float64)
    tot = np.full(a.shape, float(p["n_massless"]))
    drel = np.zeros(a.shape) if dlog else None
    exact = p["neutrino_model"] == "exact"
    for y, count in _species(tuple(p["nu_y"])):
        if exact:
            r = _fd_density(y * a, dlog=dlog)
            if dlog:
                r, d = r
                drel = drel + count * (r * d)
        else:
            x = (_KOMATSU_K * y * a) ** _KOMATSU_P
            r = (1.0 + x) ** _KOMATSU_INVP
            if dlog:
                drel = drel + count * ((1.0 + x) ** (_KOMATSU_INVP - 1.0) * x)
        tot = tot + count * r
    scale = const.NU_PER_SPECIES * p["neff_per_nu"]
    return (scale * tot, scale * drel) if dlog else scale * tot


def _radiation(a, p):
    """(Ω_r(a) a⁻⁴ ... the radiation term of E², and its derivative d/d ln a)."""
    if not p["nu_y"]:
        r = p["Or0"] / a ** 4
        return r, -4.0 * r
    a = np.asarray(a, dtype=np.float64)
    rel, drel = _nu_rel(a, p, dlog=True)                 # drel = a d(rel)/da
    g = p["Ogamma0"] / a ** 4
    return g * (1.0 + rel), g * (-4.0 * (1.0 + rel) + drel)


# --------------------------------------------------------------------------- growth solver
# The growth ODE is linear, y' = A(s) y with y = (D, dD/ds), s = ln a.  It is solved once per
# cosmology by piecewise Chebyshev collocation in its integral (Picard) form: on a panel
# [s_a, s_b] the values at the n + 1 Chebyshev–Lobatto points satisfy
# Y = y_a + (h/2) S A Y, S the spectral integration matrix, a (2n+2)-square linear system.
# Because the ODE is linear all panels are solved at once (a batched solve for the two unit
# initial conditions, i.e. each panel's propagator) and chained by 2x2 products.  A panel is
# accepted when the last two Chebyshev coefficients of D and D' are below _GROWTH_TAIL of
# the panel's largest value, else halved (spectral accuracy: ~1e-15 on panels of 0.5 in s).
_GROWTH_N = 16                       # Chebyshev degree per panel
_GROWTH_PANEL = 0.5                  # widest panel in s = ln a
_GROWTH_TAIL = 1e-14                 # accepted size of the last two coefficients
_GROWTH_MAX_LEVEL = 40


def _cheb_setup(n):
    """Lobatto nodes u_j = -cos(pi j / n) (ascending), the map values -> Chebyshev
    coefficients, and the integration matrix S (values -> integral from -1 to u_j)."""
    u = -np.cos(np.pi * np.arange(n + 1) / n)
    V = np.polynomial.chebyshev.chebvander(u, n)
    C = np.linalg.inv(V)
    Vint = np.empty((n + 1, n + 1))
    for k in range(n + 1):
        e = np.zeros(n + 1)
        e[k] = 1.0
        Vint[:, k] = np.polynomial.chebyshev.chebval(u, np.polynomial.chebyshev.chebint(
            e, lbnd=-1.0))
    return u, C, Vint @ C


_CHEB_U, _CHEB_C, _CHEB_S = _cheb_setup(_GROWTH_N)


class _GrowthSolution:
    """The growth ODE solved once on [s0, 0] by piecewise Chebyshev collocation; evaluates
    ``(D(s)/D(0), f(s))`` anywhere on the range (vectorised Clenshaw sums)."""

    def __init__(self, coeffs, s0, y0):
        self.coeffs = coeffs             # (alpha(s), beta(s)) of A = [[0, 1], [alpha, beta]]
        n = _GROWTH_N
        npan = max(1, int(math.ceil(-s0 / _GROWTH_PANEL)))
        edges = np.linspace(s0, 0.0, npan + 1)
        lo, h = edges[:-1], np.diff(edges)
        for _ in range(_GROWTH_MAX_LEVEL):
            phi = self._propagators(lo, h)                       # (P, 2n+2, 2)
            ok = self._resolved(phi)
            if ok.all():
                break
            # halve the unresolved panels
            lo = np.concatenate([np.stack((l, l + 0.5 * w)) if not g else np.array([l])
                                 for l, w, g in zip(lo, h, ok)])
            h = np.concatenate([np.array([0.5 * w, 0.5 * w]) if not g else np.array([w])
                                for w, g in zip(h, ok)])
        else:
            i = int(np.flatnonzero(~ok)[0])
            raise CosmologyError(
                f"the growth ODE is not resolved near a = {math.exp(lo[i]):.6g} (panels of "
                f"{h[i]:.3g} in ln a): its coefficients are not smooth there")
        # chain the panels: Y_p = phi_p @ y_p, y_{p+1} = Y_p at the panel's right end
        npan = lo.size
        Y = np.empty((npan, 2 * n + 2))
        y = np.asarray(y0, dtype=np.float64)
        for p in range(npan):
            Y[p] = phi[p] @ y
            y = np.array([Y[p, n], Y[p, 2 * n + 1]])
        self.lo, self.h = lo, h
        self.edges = np.append(lo, 0.0)
        # Chebyshev coefficients of D and D' per panel: (P, n+1, 2)
        self.c = np.stack((Y[:, :n + 1] @ _CHEB_C.T, Y[:, n + 1:] @ _CHEB_C.T), axis=-1)
        self.D0 = float(y[0])

    def _propagators(self, lo, h):
        n = _GROWTH_N
        s = lo[:, None] + 0.5 * h[:, None] * (_CHEB_U + 1.0)    # (P, n+1)
        alpha, beta = self.coeffs(s)
        hS = 0.5 * h[:, None, None] * _CHEB_S                    # (P, n+1, n+1)
        M = np.zeros((lo.size, 2 * n + 2, 2 * n + 2))
        eye = np.eye(n + 1)
        M[:, :n + 1, :n + 1] = eye
        M[:, :n + 1, n + 1:] = -hS
        M[:, n + 1:, :n + 1] = -hS * alpha[:, None, :]
        M[:, n + 1:, n + 1:] = eye - hS * beta[:, None, :]
        rhs = np.zeros((2 * n + 2, 2))
        rhs[:n + 1, 0] = 1.0
        rhs[n + 1:, 1] = 1.0
        return np.linalg.solve(M, np.broadcast_to(rhs, M.shape[:1] + rhs.shape))

    @staticmethod
    def _resolved(phi):
        n = _GROWTH_N
        ok = np.ones(phi.shape[0], dtype=bool)
        for part in (phi[:, :n + 1, :], phi[:, n + 1:, :]):
            c = np.einsum("kj,pjm->pkm", _CHEB_C, part)          # (P, n+1, 2)
            scale = np.max(np.abs(part), axis=1)                 # (P, 2)
            tail = np.max(np.abs(c[:, -2:, :]), axis=1)
            ok &= np.all(tail <= _GROWTH_TAIL * np.maximum(scale, 1e-300), axis=1)
        return ok

    def __call__(self, s):
        """(D(s)/D(0), f(s)) for an array of s = ln a in [s0, 0]; shape s.shape + (2,)."""
        s = np.asarray(s, dtype=np.float64)
        flat = s.ravel()
        p = np.clip(np.searchsorted(self.edges, flat, side="right") - 1, 0, self.lo.size - 1)
        u = (2.0 * (flat - self.lo[p]) / self.h[p] - 1.0)[:, None]
        DP = _clenshaw(self.c[p], u)                              # (m, 2): D and D'
        D = DP[:, 0]
        return np.stack((D / self.D0, DP[:, 1] / D), axis=-1).reshape(s.shape + (2,))


def _clenshaw(c, u):
    """sum_k c[:, k] T_k(u) for per-point coefficients c (m, n+1, q), points u (m, 1)."""
    b1 = np.zeros((c.shape[0], c.shape[2]))
    b2 = np.zeros_like(b1)
    u2 = 2.0 * u
    for k in range(c.shape[1] - 1, 0, -1):
        b1, b2 = c[:, k] + u2 * b1 - b2, b1
    return c[:, 0] + u * b1 - b2


class Cosmology(SaveMixin):
    r"""A homogeneous background: ΛCDM, curved or flat, with w0–wa dark energy.

    .. math::

        E^2(z) = \Omega_r (1+z)^4 + \Omega_m (1+z)^3 + \Omega_k (1+z)^2
                 + \Omega_{de} (1+z)^{3(1+w_0+w_a)} e^{-3 w_a z/(1+z)}

    Distances (Mpc), lookback time (Gyr) and the linear growth factor are AutoKnots tables
    built on first use over ``0 <= z <= zmax`` to the relative tolerance ``rtol``; ``E(z)``,
    ``H(z)`` and densities are closed forms.

    Parameters
    ----------
    H0 : float, optional
        Hubble constant today [km/s/Mpc], ``> 0`` (an astropy Quantity is converted).
    Om0 : float, optional
        Matter density today (baryons included) in units of the critical density, ``> 0``.
    Ode0 : float or None, optional
        Dark-energy density today.  ``None`` (default) makes the universe flat:
        ``Ode0 = 1 - Om0 - Or0``.  Otherwise ``Ok0 = 1 - Om0 - Ode0 - Or0``.
    Ob0 : float, optional
        Baryon density today, ``0 <= Ob0 <= Om0`` (used by the power spectrum).
    w0, wa : float, optional
        Dark-energy equation of state ``w(a) = w0 + wa (1 - a)``; ``-1, 0`` is Λ.
    Tcmb0 : float, optional
        CMB temperature today [K].  ``0`` (default) leaves radiation out; ``> 0`` adds
        photons and ``Neff`` massless neutrino species (as astropy does), a density
        ``Or0 = 2.47e-5 (Tcmb0 / 2.7255 K)⁴ (1 + 0.2271 Neff) / h²``, which must stay below
        the matter density, ``Or0 < Om0`` (matter–radiation equality in the past,
        ``z_eq = Om0 / Or0 - 1 > 0``; about 3400 for the measured 2.7255 K). At
        ``H0 = 70`` and ``Om0 = 0.3`` that allows ``Tcmb0`` up to about 21 K.
    Neff : float, optional
        Effective number of neutrino species, ``>= 0`` (bounded through ``Or0``).  The
        default 3.04 is astropy's (numfit used 3.046 before; pass ``Neff=3.046`` for it).
    m_nu : float or sequence of float, optional
        Neutrino masses [eV] (or an astropy Quantity), one for all ``floor(Neff)`` species
        or one per species, as astropy takes them; needs ``Tcmb0 > 0``.  The species share
        ``Neff`` equally (each is ``Neff / floor(Neff)`` times a massless species while
        relativistic) and have the temperature ``T_ν0 = (4/11)^(1/3) Tcmb0``.  ``Om0``
        excludes them (astropy's convention); they enter ``E(z)``, the distances and the
        background of the growth ODE, but do not cluster in it (see :meth:`growth_factor`).
    neutrino_model : {"exact", "astropy"}, optional
        The energy density of the massive species. ``"exact"`` (default): the Fermi–Dirac
        integral :math:`\rho_\nu \propto a^{-4} \int_0^\infty x^2 \sqrt{x^2 + (m a /
        k_B T_{\nu 0})^2} / (e^x + 1)\,dx` [Lesgourgues & Pastor 2006, Phys. Rep. 429, 307],
        evaluated to ~1e-15 relative at every scale factor. ``"astropy"``: astropy's
        treatment, the Komatsu et al. (2011, ApJS 192, 18, eq. 26) fit of that integral
        (off by up to 0.34% in ρ_ν where the species turn non-relativistic, which moves
        ``E(z)`` by up to ~1e-5 and distances by up to ~2e-6 at ``z <= 10`` for masses of
        0.06–0.5 eV), so that :meth:`from_astropy` reproduces astropy's ``E(z)`` to ~1e-13.
        Without massive neutrinos both are the same background.
    zmax : float, optional
        Upper end of the tables' redshift range, ``0 < zmax <= 1e4``.
    rtol : float, optional
        Relative tolerance of every table, in ``[1e-12, 1e-2]``.
    name : str, optional
        A label for ``repr``.

    Raises
    ------
    ValueError
        A parameter out of range or non-finite: ``H0 <= 0``, ``Om0 <= 0``, ``Ob0`` outside
        ``[0, Om0]``, ``Tcmb0 < 0``, ``Neff < 0``, a ``neutrino_model`` other than
        ``"exact"`` or ``"astropy"``, radiation at or above matter today
        (``Or0 >= Om0``), ``zmax`` outside ``(0, 1e4]`` or ``rtol`` outside
        ``[1e-12, 1e-2]``.
    CosmologyError
        ``E(z)**2 <= 0`` somewhere on ``[0, zmax]`` (no expanding background there).
        A zero of ``E²`` just outside the range (the expansion stopping shortly after
        today, or a bounce just above ``zmax``) is allowed: the tables then resolve the
        steep ``1/E`` near that end, with more evaluations. Also raised where the terms of
        ``E²`` cancel so much (``sum |terms| / E² > rtol / (80 eps)``, about 56 at
        ``rtol = 1e-12``) that ``E`` itself is not computed to ``rtol / 10``.

    See Also
    --------
    numfit.autoknots : the adaptive spline every table is.

    Notes
    -----
    Conventions shared with astropy: ``Neff`` defaults to 3.04; lookback times and
    ``hubble_time`` are in gigayears of Julian years (365.25 d), as astropy's ``u.Gyr``;
    constants are CODATA 2018 / IAU 2015.  :meth:`from_astropy` and :meth:`to_astropy`
    convert between the two.

    Tables are in ``x = ln(1 + z)``: the comoving distance and the lookback time are
    stored divided by ``x`` (a smooth function equal to ``D_H`` or ``t_H`` at ``z = 0``),
    so ``rtol`` is a relative tolerance down to ``z = 0``.  The growth ODE

    .. math:: D'' + (2 + d\ln E/d\ln a) D' = \tfrac32 \Omega_m(a) D

    (primes: ``d/d ln a``) starts at ``a = 1e-6`` on the growing mode of a matter plus
    radiation universe, ``D = a + 2 a_eq / 3`` [Meszaros 1974, A&A 37, 225], and is
    solved once per cosmology by piecewise Chebyshev collocation (accurate to ~1e-14; the
    table samples that solution); the table holds ``D(z) / D(0)`` and
    ``f = d ln D / d ln a``.  ``exact=True`` solves it independently with DOP853 at rtol
    1e-12 (for checks).

    Examples
    --------
    >>> from numfit.cosmology import Cosmology
    >>> cosmo = Cosmology(H0=70.0, Om0=0.3)
    >>> round(float(cosmo.comoving_distance(1.0)), 3)
    3303.829
    >>> cosmo.table("comoving_distance").n_evals < 200
    True
    >>> round(float(cosmo.growth_factor(1.0)), 6)
    0.611806

    Massive neutrinos, with the exact Fermi–Dirac density or astropy's fit of it:

    >>> nu = Cosmology(H0=67.7, Om0=0.31, Tcmb0=2.7255, m_nu=[0.0, 0.0, 0.06])
    >>> nu.neutrino_model
    'exact'
    >>> fit = Cosmology(H0=67.7, Om0=0.31, Tcmb0=2.7255, m_nu=[0.0, 0.0, 0.06],
    ...                 neutrino_model="astropy")
    >>> bool(1e-9 < abs(nu.luminosity_distance(2.0) / fit.luminosity_distance(2.0) - 1) < 1e-6)
    True
    """

    def __init__(self, H0=70.0, Om0=0.3, Ode0=None, *, Ob0=0.05, w0=-1.0, wa=0.0,
                 Tcmb0=0.0, Neff=3.04, m_nu=0.0, neutrino_model="exact", zmax=10.0,
                 rtol=1e-8, name=None):
        H0 = check_float("H0", strip_unit("H0", H0, "km / (s Mpc)"), lo=0.0, lo_open=True)
        Tcmb0 = strip_unit("Tcmb0", Tcmb0, "K")
        Om0 = check_float("Om0", Om0, lo=0.0, lo_open=True)
        Ob0 = check_float("Ob0", Ob0, lo=0.0)
        if Ob0 > Om0:
            raise ValueError(f"`Ob0` must be <= `Om0` (baryons are part of the matter); "
                             f"got Ob0={Ob0}, Om0={Om0}")
        w0 = check_float("w0", w0)
        wa = check_float("wa", wa)
        Tcmb0 = check_float("Tcmb0", Tcmb0, lo=0.0)
        Neff = check_float("Neff", Neff, lo=0.0)
        zmax = check_float("zmax", zmax, lo=0.0, hi=1e4, lo_open=True)
        rtol = check_float("rtol", rtol, lo=1e-12, hi=1e-2)
        if name is not None and not isinstance(name, str):
            raise TypeError(f"`name` must be a str or None; got {type(name).__name__}")
        if not isinstance(neutrino_model, str) or neutrino_model not in _NU_MODELS:
            raise ValueError(f"`neutrino_model` must be one of "
                             f"{', '.join(map(repr, _NU_MODELS))}; got {neutrino_model!r}")
        Ogamma0 = const.photon_density0(H0, Tcmb0)
        nu = _neutrinos(strip_unit("m_nu", m_nu, "eV"), Neff, Tcmb0)
        nu["neutrino_model"] = neutrino_model
        Or0 = Ogamma0 * (1.0 + const.NU_PER_SPECIES * Neff)     # while all are relativistic
        if Or0 >= Om0:
            raise ValueError(
                f"`Tcmb0`={Tcmb0:g} K with Neff={Neff:g} and H0={H0:g} km/s/Mpc gives a "
                f"radiation density Or0={Or0:.4g} (Or0 ∝ Tcmb0⁴ (1 + 0.2271 Neff) / h²) >= "
                f"Om0={Om0:g}: radiation would dominate matter today, with matter-radiation "
                f"equality in the future (z_eq = Om0/Or0 - 1 = {Om0 / Or0 - 1.0:.3g}). The "
                "supported backgrounds have z_eq > 0 (the measured Tcmb0 = 2.7255 K gives "
                "z_eq ≈ 3400 for Om0 h² ≈ 0.14); lower Tcmb0 or Neff, or raise H0 or Om0")
        Orad_early = Or0
        if nu["nu_y"]:
            Onu0 = Ogamma0 * _nu_rel(1.0, nu)
            Or0 = Ogamma0 + Onu0
        else:
            Onu0 = Ogamma0 * const.NU_PER_SPECIES * Neff
            Or0 = Ogamma0 + Onu0                  # as before issue 16, to the last bit
            Orad_early = Or0
        if Ode0 is None:
            Ode0 = 1.0 - Om0 - Or0
            Ok0 = 0.0
        else:
            Ode0 = check_float("Ode0", Ode0)
            Ok0 = 1.0 - Om0 - Ode0 - Or0
            if abs(Ok0) < 1e-15:
                Ok0 = 0.0
        self._p = dict(H0=H0, Om0=Om0, Ode0=Ode0, Ob0=Ob0, w0=w0, wa=wa, Tcmb0=Tcmb0,
                       Neff=Neff, Ok0=Ok0, Or0=Or0, Ogamma0=Ogamma0, Onu0=Onu0,
                       Orad_early=Orad_early, m_nu=nu["m_nu"], nu_y=nu["nu_y"],
                       neff_per_nu=nu["neff_per_nu"], n_massless=nu["n_massless"],
                       neutrino_model=nu["neutrino_model"])
        self._zmax = zmax
        self._rtol = rtol
        self._name = name
        self._tables = {}
        self._check_positive(0.0, zmax, "the tables' range")
        self._check_conditioning()

    # ----------------------------------------------------------------- parameters
    H0 = property(lambda self: self._p["H0"], doc="Hubble constant [km/s/Mpc].")
    h = property(lambda self: self._p["H0"] / 100.0, doc="H0 / (100 km/s/Mpc).")
    Om0 = property(lambda self: self._p["Om0"],
                   doc="Matter density today / critical (CDM + baryons, no neutrinos).")
    Ob0 = property(lambda self: self._p["Ob0"], doc="Baryon density today.")
    Ode0 = property(lambda self: self._p["Ode0"], doc="Dark-energy density today.")
    Ok0 = property(lambda self: self._p["Ok0"], doc="Curvature density today.")
    Or0 = property(lambda self: self._p["Or0"], doc="Radiation (photons + neutrinos) today.")
    Ogamma0 = property(lambda self: self._p["Ogamma0"], doc="Photon density today.")
    Onu0 = property(lambda self: self._p["Onu0"],
                    doc="Neutrino density today / critical (massless and massive species).")
    w0 = property(lambda self: self._p["w0"], doc="Dark-energy w today.")
    wa = property(lambda self: self._p["wa"], doc="Dark-energy w slope: w = w0 + wa (1-a).")
    Tcmb0 = property(lambda self: self._p["Tcmb0"], doc="CMB temperature today [K].")
    Neff = property(lambda self: self._p["Neff"], doc="Effective number of neutrino species.")
    m_nu = property(lambda self: self._p["m_nu"], doc="Neutrino masses [eV] (a tuple).")
    neutrino_model = property(lambda self: self._p["neutrino_model"],
                              doc='Density of massive neutrinos: "exact" or "astropy".')
    zmax = property(lambda self: self._zmax, doc="Upper end of the tables' redshift range.")
    rtol = property(lambda self: self._rtol, doc="Relative tolerance of the tables.")
    name = property(lambda self: self._name, doc="Label or None.")

    @property
    def is_flat(self):
        """True when ``Ok0 == 0``."""
        return self._p["Ok0"] == 0.0

    @property
    def hubble_distance(self):
        """``D_H = c / H0`` [Mpc]."""
        return const.C_KM_S / self._p["H0"]

    @property
    def hubble_time(self):
        """``t_H = 1 / H0`` [Gyr]."""
        return const.MPC_KM / self._p["H0"] / const.GYR_S

    @property
    def critical_density0(self):
        """Critical density today, ``3 H0² / (8 π G)`` [M_sun / Mpc³]."""
        return const.critical_density0(self._p["H0"])

    def __repr__(self):
        p = self._p
        bits = [f"H0={p['H0']:g}", f"Om0={p['Om0']:g}", f"Ode0={p['Ode0']:.6g}",
                f"Ok0={p['Ok0']:.3g}", f"Ob0={p['Ob0']:g}"]
        if p["w0"] != -1.0 or p["wa"] != 0.0:
            bits += [f"w0={p['w0']:g}", f"wa={p['wa']:g}"]
        if p["Tcmb0"]:
            bits += [f"Tcmb0={p['Tcmb0']:g}", f"Neff={p['Neff']:g}"]
            if any(p["m_nu"]):
                bits += [f"m_nu={list(p['m_nu'])}",
                         f"neutrino_model={p['neutrino_model']!r}"]
        bits += [f"zmax={self._zmax:g}", f"rtol={self._rtol:g}"]
        label = f"{self._name!r}, " if self._name else ""
        return f"Cosmology({label}{', '.join(bits)})"

    def _init_args(self):
        p = self._p
        return dict(H0=p["H0"], Om0=p["Om0"], Ode0=p["Ode0"], Ob0=p["Ob0"], w0=p["w0"],
                    wa=p["wa"], Tcmb0=p["Tcmb0"], Neff=p["Neff"], m_nu=p["m_nu"],
                    neutrino_model=p["neutrino_model"], zmax=self._zmax,
                    rtol=self._rtol, name=self._name)

    def __setstate__(self, state):
        # objects pickled or saved before massive neutrinos (issue 16) lack these keys
        p = state.get("_p")
        if isinstance(p, dict) and "nu_y" not in p:
            p = dict(p)
            p.setdefault("Orad_early", p.get("Or0", 0.0))
            n = max(int(math.floor(p.get("Neff", 0.0))), 1)
            p.update(m_nu=tuple(0.0 for _ in range(n)), nu_y=(), neff_per_nu=0.0,
                     n_massless=0)
            state = {**state, "_p": p}
        # ... and before the exact Fermi-Dirac density, which massive neutrinos then used
        # the Komatsu et al. fit for: they keep it (their tables were built with it)
        p = state.get("_p")
        if isinstance(p, dict) and "neutrino_model" not in p:
            p = {**p, "neutrino_model": "astropy" if p.get("nu_y") else "exact"}
            state = {**state, "_p": p}
        self.__dict__.update(state)

    def _key(self):
        """The parameters that define the background: ``neutrino_model`` only counts where
        there are massive neutrinos (without them both models are the same background)."""
        p = self._p
        if not p["nu_y"]:
            p = {k: v for k, v in p.items() if k != "neutrino_model"}
        return p

    def __eq__(self, other):
        if not isinstance(other, Cosmology):
            return NotImplemented
        return self._key() == other._key() and self._zmax == other._zmax \
            and self._rtol == other._rtol

    def __hash__(self):
        return hash((tuple(sorted(self._key().items())), self._zmax, self._rtol))

    # ----------------------------------------------------------------- astropy
    @classmethod
    def from_astropy(cls, cosmo, *, neutrino_model="astropy", zmax=10.0, rtol=1e-8):
        """The numfit twin of an astropy FLRW cosmology (same E(z), same parameters).

        Supported: ``FlatLambdaCDM``, ``LambdaCDM``, ``FlatwCDM``, ``wCDM``,
        ``Flatw0waCDM`` and ``w0waCDM`` (and subclasses), with ``Tcmb0``, ``Neff`` and
        ``m_nu`` (massive neutrinos as astropy models them: floor(Neff) species sharing
        Neff; by default their density is astropy's Komatsu et al. 2011 fit too).
        Quantities are converted once; ``Ob0 = None`` becomes 0.

        Parameters
        ----------
        cosmo : astropy.cosmology.FLRW
            The astropy cosmology.
        neutrino_model : {"astropy", "exact"}, optional
            The density of massive neutrinos (see :class:`Cosmology`): ``"astropy"``
            (default) reproduces astropy's ``E(z)`` to ~1e-13 and its distances to the
            tables' rtol; ``"exact"`` uses the exact Fermi–Dirac integral instead (the same
            parameters, a background that differs from astropy's by astropy's fit error:
            up to 6.6e-7 in distances for Planck18 at ``z <= 10``).
        zmax, rtol : float, optional
            The tables' range and tolerance.

        Returns
        -------
        Cosmology

        Raises
        ------
        TypeError
            ``cosmo`` is not one of the supported astropy classes.
        ValueError
            ``neutrino_model`` is not ``"astropy"`` or ``"exact"``.

        Examples
        --------
        >>> from astropy.cosmology import Planck18
        >>> from numfit.cosmology import Cosmology
        >>> c = Cosmology.from_astropy(Planck18)
        >>> c.name, c.m_nu
        ('Planck18', (0.0, 0.0, 0.06))
        >>> d = float(Planck18.comoving_distance(1.0).value)
        >>> bool(abs(c.comoving_distance(1.0) / d - 1) < 1e-8)
        True
        >>> e = Cosmology.from_astropy(Planck18, neutrino_model="exact")
        >>> bool(1e-9 < abs(e.comoving_distance(1.0) / d - 1) < 1e-6)
        True
        """
        try:
            import astropy.cosmology as ac
            import astropy.units as u
        except ImportError as exc:                                  # pragma: no cover
            raise ImportError("Cosmology.from_astropy needs astropy") from exc
        kinds = (ac.LambdaCDM, ac.wCDM, ac.w0waCDM)
        if not isinstance(cosmo, kinds):
            raise TypeError(f"`cosmo` must be an astropy LambdaCDM, wCDM or w0waCDM (flat or "
                            f"not); got {type(cosmo).__name__}")
        if isinstance(cosmo, ac.w0waCDM):
            w0, wa = float(cosmo.w0), float(cosmo.wa)
        elif isinstance(cosmo, ac.wCDM):
            w0, wa = float(cosmo.w0), 0.0
        else:
            w0, wa = -1.0, 0.0
        flat = isinstance(cosmo, ac.FlatFLRWMixin)
        tcmb = float(cosmo.Tcmb0.to_value(u.K))
        m_nu = 0.0 if cosmo.m_nu is None else cosmo.m_nu.to_value(u.eV)
        return cls(H0=float(cosmo.H0.to_value(u.km / u.s / u.Mpc)), Om0=float(cosmo.Om0),
                   Ode0=None if flat else float(cosmo.Ode0),
                   Ob0=float(cosmo.Ob0 or 0.0), w0=w0, wa=wa, Tcmb0=tcmb,
                   Neff=float(cosmo.Neff), m_nu=m_nu if tcmb > 0 else 0.0,
                   neutrino_model=neutrino_model, zmax=zmax, rtol=rtol, name=cosmo.name)

    def to_astropy(self):
        """The astropy twin: ``FlatLambdaCDM``, ``LambdaCDM``, ``(Flat)wCDM`` or
        ``(Flat)w0waCDM``, whichever is the simplest that holds these parameters.

        astropy has one treatment of massive neutrinos, the Komatsu et al. (2011) fit of
        their density: the twin of a ``neutrino_model="exact"`` cosmology with massive
        neutrinos has the same parameters but astropy's fitted density (distances differ by
        up to ~2e-6 at ``z <= 10`` for masses of 0.06–0.5 eV), and converting it back
        with :meth:`from_astropy` gives ``neutrino_model="astropy"`` unless asked otherwise.

        Returns
        -------
        astropy.cosmology.FLRW

        Examples
        --------
        >>> from numfit.cosmology import Cosmology
        >>> a = Cosmology(H0=70.0, Om0=0.3, Ode0=0.65, w0=-0.9).to_astropy()
        >>> type(a).__name__, a.H0, a.Ode0, a.w0
        ('wCDM', <Quantity 70. km / (Mpc s)>, 0.65, -0.9)
        """
        import astropy.cosmology as ac
        import astropy.units as u
        p = self._p
        kw = dict(H0=p["H0"] * u.km / u.s / u.Mpc, Om0=p["Om0"], Tcmb0=p["Tcmb0"] * u.K,
                  Neff=p["Neff"], Ob0=p["Ob0"], name=self._name)
        if p["Tcmb0"] > 0:
            kw["m_nu"] = list(p["m_nu"]) * u.eV if any(p["m_nu"]) else 0.0 * u.eV
        flat = self.is_flat
        if not flat:
            kw["Ode0"] = p["Ode0"]
        if p["wa"] != 0.0:
            cls = ac.Flatw0waCDM if flat else ac.w0waCDM
            kw.update(w0=p["w0"], wa=p["wa"])
        elif p["w0"] != -1.0:
            cls = ac.FlatwCDM if flat else ac.wCDM
            kw.update(w0=p["w0"])
        else:
            cls = ac.FlatLambdaCDM if flat else ac.LambdaCDM
        return cls(**kw)

    def extended(self, zmax):
        """A copy with the tables' range widened to ``[0, zmax]`` (tables rebuilt lazily).

        Parameters
        ----------
        zmax : float
            New upper end, ``>=`` the current one.

        Returns
        -------
        Cosmology
        """
        zmax = check_float("zmax", zmax, lo=self._zmax, hi=1e4)
        return Cosmology(**{**self._init_args(), "zmax": zmax})

    # ----------------------------------------------------------------- closed forms
    def _e2_a(self, a):
        """E(a)² for scale factors a (array), no validation."""
        p = self._p
        de = p["Ode0"] * a ** (-3.0 * (1.0 + p["w0"] + p["wa"])) \
            * np.exp(-3.0 * p["wa"] * (1.0 - a))
        if p["nu_y"]:
            orad = p["Ogamma0"] * (1.0 + _nu_rel(a, p))
            return ((orad / a + p["Om0"]) / a + p["Ok0"]) / (a * a) + de
        return ((p["Or0"] / a + p["Om0"]) / a + p["Ok0"]) / (a * a) + de

    def _e2_cond_a(self, a):
        """cond(E²) = (sum of |terms|) / E² at scale factors a: the relative rounding error
        of E² is a few ulps times this (1 when every density is positive)."""
        p = self._p
        de = p["Ode0"] * a ** (-3.0 * (1.0 + p["w0"] + p["wa"])) \
            * np.exp(-3.0 * p["wa"] * (1.0 - a))
        orad = p["Ogamma0"] * (1.0 + _nu_rel(a, p)) if p["nu_y"] else p["Or0"]
        terms = ((abs(orad) / a + abs(p["Om0"])) / a + abs(p["Ok0"])) / (a * a) \
            + np.abs(de)
        return terms / self._e2_a(a)

    def _integrand_noise(self, t):
        """Bound on the relative rounding error of the distance integrands at t = ln(1+z)."""
        return _NOISE_PER_COND * self._e2_cond_a(np.exp(-t))

    def _check_conditioning(self):
        """CosmologyError where E² cancels so much that the tables cannot reach rtol."""
        x = np.linspace(0.0, math.log1p(self._zmax), 4097)
        cond = self._e2_cond_a(np.exp(-x))
        i = int(np.argmax(cond))
        noise = _NOISE_PER_COND * float(cond[i])
        if noise > 0.1 * self._rtol:
            p = self._p
            raise CosmologyError(
                f"E(z)^2 at z = {math.expm1(x[i]):.6g} is a sum of terms {cond[i]:.3g} times "
                f"larger than itself (Om0={p['Om0']:g}, Ode0={p['Ode0']:g}, Ok0={p['Ok0']:g}, "
                f"Or0={p['Or0']:.3g} cancel), so E is computed only to ~{noise:.2g}, above "
                f"rtol/10 = {0.1 * self._rtol:.2g}: the tables cannot promise rtol={self._rtol:g}; "
                "raise rtol or lower zmax")

    def _check_positive(self, z0, z1, what):
        """Raise CosmologyError unless E² > 0 on [z0, z1] (dense scan plus a local refine)."""
        x = np.linspace(math.log1p(z0), math.log1p(z1), 4097)
        e2 = self._e2_a(np.exp(-x))
        i = int(np.argmin(e2))
        lo, hi = x[max(i - 1, 0)], x[min(i + 1, x.size - 1)]
        if hi > lo:
            r = minimize_scalar(lambda t: float(self._e2_a(np.exp(-t))), bounds=(lo, hi),
                                method="bounded", options=dict(xatol=1e-12))
            xm, e2m = (r.x, r.fun) if r.fun < e2[i] else (x[i], e2[i])
        else:
            xm, e2m = x[i], e2[i]
        if not (np.isfinite(e2).all() and e2m > 0.0):
            p = self._p
            raise CosmologyError(
                f"E(z)^2 = {e2m:.3g} <= 0 at z = {math.expm1(xm):.6g} on {what} "
                f"[{z0:g}, {z1:g}]: Om0={p['Om0']:g}, Ode0={p['Ode0']:g}, Ok0={p['Ok0']:g}, "
                f"Or0={p['Or0']:.3g}, w0={p['w0']:g}, wa={p['wa']:g} describe no expanding "
                "universe there (a bounce or recollapse); change the densities or lower zmax")

    def _as_z(self, z, *, table=True):
        """Validated float64 redshift array; checks the table range when ``table``."""
        arr = check_real_array("z", z, lo=0.0)
        if arr.size == 0:
            return arr
        zbig = float(arr.max())
        if table and zbig > self._zmax:
            raise RedshiftRangeError(
                f"z = {zbig:g} is outside the tables' range [0, {self._zmax:g}]; build a "
                f"larger range with Cosmology(..., zmax=...) or cosmo.extended({zbig:g})",
                z=zbig, zmax=self._zmax)
        return arr

    @staticmethod
    def _out(arr, like):
        return float(arr) if np.ndim(like) == 0 else arr

    def efunc(self, z):
        """``E(z) = H(z) / H0`` (closed form; any ``z >= 0`` where ``E² > 0``).

        Parameters
        ----------
        z : array_like
            Redshifts, finite and ``>= 0``.

        Returns
        -------
        float or ndarray
        """
        zz = self._as_z(z, table=False)
        e2 = self._e2_a(1.0 / (1.0 + zz))
        if np.any(e2 <= 0):
            raise CosmologyError(f"E(z)^2 <= 0 at z = {float(zz[e2 <= 0].flat[0]):g}")
        return self._out(np.sqrt(e2), z)

    def H(self, z):
        """Hubble rate ``H(z) = H0 E(z)`` [km/s/Mpc].

        Parameters
        ----------
        z : array_like
            Redshifts.

        Returns
        -------
        float or ndarray
        """
        return self.efunc(z) * self._p["H0"]

    def Om(self, z):
        """Matter density parameter ``Ω_m(z) = Om0 (1+z)³ / E²`` (dimensionless; CDM and
        baryons, without massive neutrinos, as ``Om0``).

        Parameters
        ----------
        z : array_like
            Redshifts.

        Returns
        -------
        float or ndarray
        """
        zz = self._as_z(z, table=False)
        return self._out(self._p["Om0"] * (1 + zz) ** 3 / self.efunc(zz) ** 2, z)

    def critical_density(self, z):
        """Critical density ``3 H(z)² / (8 π G)`` [M_sun / Mpc³].

        Parameters
        ----------
        z : array_like
            Redshifts.

        Returns
        -------
        float or ndarray
        """
        return self.critical_density0 * self.efunc(z) ** 2

    def mean_matter_density(self, z):
        """Mean matter density ``Om0 ρ_c0 (1+z)³`` [M_sun / Mpc³, physical].

        ``Om0`` counts CDM and baryons: massive neutrinos are not included (astropy's
        convention; their density today is ``Onu0 ρ_c0``, and they dilute as radiation
        while relativistic).

        Parameters
        ----------
        z : array_like
            Redshifts.

        Returns
        -------
        float or ndarray
        """
        zz = self._as_z(z, table=False)
        return self._out(self._p["Om0"] * self.critical_density0 * (1 + zz) ** 3, z)

    # ----------------------------------------------------------------- tables
    def _integrand(self, which):
        """g(t), t = ln(1+z): e^t/E (comoving distance) or 1/E (lookback time); vectorised."""
        if which == "comoving_distance":
            def g(t):
                return np.exp(t) / np.sqrt(self._e2_a(np.exp(-t)))
        else:
            def g(t):
                return 1.0 / np.sqrt(self._e2_a(np.exp(-t)))
        return g

    def _reduced_integral(self, which, x):
        """∫_0^x g / x with g = e^t/E (comoving) or 1/E (lookback); limit at x = 0."""
        g = self._integrand(which)
        x = np.asarray(x, dtype=np.float64)
        out = np.empty_like(x)
        small = x == 0.0
        out[small] = g(np.zeros(1))[0]
        out[~small] = _cumulative(g, x[~small], self._integrand_noise) / x[~small]
        return out

    def _growth_values(self, x):
        """(D(z)/D(0), f(z)) at x = ln(1+z) by one ODE solve from a = 1e-6 to a = 1."""
        x = np.asarray(x, dtype=np.float64)
        s_eval = np.unique(np.concatenate((-x, [0.0])))       # ln a, increasing
        aeq = self._p["Orad_early"] / self._p["Om0"]
        a0 = min(_A_INIT, 1e-3 * math.exp(float(s_eval[0])))

        p = self._p
        orad, om0, ok0, ode0 = p["Or0"], p["Om0"], p["Ok0"], p["Ode0"]
        w0, wa = p["w0"], p["wa"]
        de_pow = -3.0 * (1.0 + w0 + wa)
        massive = bool(p["nu_y"])

        def rhs(s, y):
            # E² (as _e2_a) and d ln E / d ln a in scalar math: the ODE calls this ~10^4
            # times per solve (checked by the Heath, EdS, Meszaros and Radau oracles)
            a = math.exp(s)
            de = ode0 * a ** de_pow * math.exp(-3.0 * wa * (1.0 - a))
            m, k = om0 / a ** 3, ok0 / (a * a)
            if massive:
                r, dr = (float(v) for v in _radiation(np.array(a), p))
            else:
                r = orad / a ** 4
                dr = -4.0 * r
            e2 = r + m + k + de
            dlne = 0.5 * (dr - 3.0 * m - 2.0 * k
                          - 3.0 * (1.0 + w0 + wa * (1.0 - a)) * de) / e2
            return [y[1], -(2.0 + dlne) * y[1] + 1.5 * (m / e2) * y[0]]

        y0 = [a0 + 2.0 * aeq / 3.0, a0]
        sol = integrate.solve_ivp(rhs, (math.log(a0), 0.0), y0, method="DOP853",
                                  t_eval=s_eval, rtol=1e-12, atol=1e-30)
        if not sol.success:                                   # pragma: no cover
            raise CosmologyError(f"the growth ODE failed: {sol.message}")
        D, dD = sol.y
        idx = np.searchsorted(s_eval, -x)
        return np.stack((D[idx] / D[-1], dD[idx] / D[idx]), axis=-1)

    def _growth_coeffs(self, s):
        """(1.5 Ω_m(a), -(2 + d ln E / d ln a)) at s = ln a (arrays): the growth ODE's
        coefficients, D'' = alpha D + beta D'."""
        p = self._p
        a = np.exp(s)
        de = p["Ode0"] * a ** (-3.0 * (1.0 + p["w0"] + p["wa"])) \
            * np.exp(-3.0 * p["wa"] * (1.0 - a))
        m, k = p["Om0"] / a ** 3, p["Ok0"] / (a * a)
        r, dr = _radiation(a, p)
        e2 = r + m + k + de
        dlne = 0.5 * (dr - 3.0 * m - 2.0 * k
                      - 3.0 * (1.0 + p["w0"] + p["wa"] * (1.0 - a)) * de) / e2
        return 1.5 * m / e2, -(2.0 + dlne)

    def _growth_solve(self):
        """The growth ODE solved once from a0 = min(1e-6, 1e-3/(1+zmax)) to a = 1 (a
        :class:`_GrowthSolution`; accurate to ~1e-14, see the tests)."""
        aeq = self._p["Orad_early"] / self._p["Om0"]
        a0 = min(_A_INIT, 1e-3 / (1.0 + self._zmax))
        return _GrowthSolution(self._growth_coeffs, math.log(a0),
                               [a0 + 2.0 * aeq / 3.0, a0])

    def table(self, name):
        """The AutoKnots table behind a quantity, built on first use.

        Parameters
        ----------
        name : {"comoving_distance", "lookback_time", "growth"}
            ``"comoving_distance"`` tabulates ``χ(z) / (D_H x)``, ``"lookback_time"``
            ``t_L(z) / (t_H x)`` (both equal to 1 at z = 0), ``"growth"`` the pair
            ``(D(z)/D(0), f(z))``, all against ``x = ln(1+z)`` on ``[0, ln(1+zmax)]``.

        Returns
        -------
        AutoKnotsSpline
            With ``n_evals``, ``knots``, ``converged`` and the other counts.
        """
        if name not in _TABLES:
            raise ValueError(f"`name` must be one of {', '.join(map(repr, _TABLES))}; "
                             f"got {name!r}")
        tab = self._tables.get(name)
        if tab is None:
            xmax = math.log1p(self._zmax)
            if name == "growth":
                self._check_positive(0.0, 1.0 / _A_INIT - 1.0, "the growth ODE's range")
                sol = self._growth_solve()     # once; the table samples the solution

                def f(x, sol=sol):
                    return sol(-np.asarray(x, dtype=np.float64))
            else:
                def f(x, which=name):
                    return self._reduced_integral(which, x)
            tab = autoknots(f, 0.0, xmax, rtol=self._rtol, vectorized=True)
            self._tables[name] = tab
        return tab

    def _reduced(self, name, z, exact):
        zz = self._as_z(z, table=not exact)
        x = np.log1p(zz)
        if exact:
            r = self._quad(name, x)
        else:
            r = self.table(name)(x)
        return zz, x, r

    def _quad(self, name, x):
        """The reduced integral by scipy.integrate.quad per point (epsrel 1e-13)."""
        gv = self._integrand(name)

        def g(t):
            return float(gv(t))

        out = np.empty(x.shape)
        for i, xi in np.ndenumerate(x):
            if xi == 0.0:
                out[i] = g(0.0)
            else:
                val, _ = integrate.quad(g, 0.0, float(xi), epsabs=0.0, epsrel=1e-13,
                                        limit=200)
                out[i] = val / xi
        return out

    def comoving_distance(self, z, *, exact=False):
        """Line-of-sight comoving distance ``χ(z) = D_H ∫_0^z dz'/E(z')`` [Mpc].

        Parameters
        ----------
        z : array_like
            Redshifts in ``[0, zmax]``.
        exact : bool, optional
            Integrate with ``scipy.integrate.quad`` per redshift instead of the table
            (slow; any ``z >= 0``).

        Returns
        -------
        float or ndarray
            Relative error ``<= rtol`` (table) or about 1e-13 (exact).

        Raises
        ------
        RedshiftRangeError
            A redshift above ``zmax`` (table only).
        """
        _, x, r = self._reduced("comoving_distance", z, exact)
        return self._out(self.hubble_distance * x * r, z)

    def comoving_transverse_distance(self, z, *, exact=False):
        """Transverse comoving distance ``D_M`` [Mpc]: ``χ`` if flat, else
        ``D_H sinh(√Ok χ/D_H)/√Ok`` (open) or ``D_H sin(√|Ok| χ/D_H)/√|Ok|`` (closed).

        Parameters
        ----------
        z : array_like
            Redshifts in ``[0, zmax]``.
        exact : bool, optional
            Use quadrature instead of the table.

        Returns
        -------
        float or ndarray
        """
        chi = np.asarray(self.comoving_distance(z, exact=exact), dtype=np.float64)
        ok, dh = self._p["Ok0"], self.hubble_distance
        if ok > 0:
            s = math.sqrt(ok)
            chi = dh / s * np.sinh(s * chi / dh)
        elif ok < 0:
            s = math.sqrt(-ok)
            chi = dh / s * np.sin(s * chi / dh)
        return self._out(chi, z)

    def angular_diameter_distance(self, z, *, exact=False):
        """Angular-diameter distance ``D_A = D_M / (1 + z)`` [Mpc].

        Parameters
        ----------
        z : array_like
            Redshifts in ``[0, zmax]``.
        exact : bool, optional
            Use quadrature instead of the table.

        Returns
        -------
        float or ndarray
        """
        dm = self.comoving_transverse_distance(z, exact=exact)
        return dm / (1.0 + np.asarray(z, dtype=np.float64)) if np.ndim(z) else \
            dm / (1.0 + float(z))

    def luminosity_distance(self, z, *, exact=False):
        """Luminosity distance ``D_L = (1 + z) D_M`` [Mpc].

        Parameters
        ----------
        z : array_like
            Redshifts in ``[0, zmax]``.
        exact : bool, optional
            Use quadrature instead of the table.

        Returns
        -------
        float or ndarray
        """
        dm = self.comoving_transverse_distance(z, exact=exact)
        return dm * (1.0 + np.asarray(z, dtype=np.float64)) if np.ndim(z) else \
            dm * (1.0 + float(z))

    def distmod(self, z, *, exact=False):
        """Distance modulus ``5 log10(D_L / 10 pc)`` [mag]; ``-inf`` at ``z = 0``.

        Parameters
        ----------
        z : array_like
            Redshifts in ``[0, zmax]``.
        exact : bool, optional
            Use quadrature instead of the table.

        Returns
        -------
        float or ndarray
            Absolute error ``<= 5 rtol / ln 10`` (about ``2.2 rtol``).
        """
        dl = np.asarray(self.luminosity_distance(z, exact=exact), dtype=np.float64)
        with np.errstate(divide="ignore"):
            mu = 5.0 * np.log10(dl) + 25.0
        return self._out(mu, z)

    def lookback_time(self, z, *, exact=False):
        """Lookback time ``t_H ∫_0^z dz' / ((1+z') E(z'))`` [Gyr].

        Parameters
        ----------
        z : array_like
            Redshifts in ``[0, zmax]``.
        exact : bool, optional
            Use quadrature instead of the table.

        Returns
        -------
        float or ndarray
            Relative error ``<= rtol`` (table).
        """
        _, x, r = self._reduced("lookback_time", z, exact)
        return self._out(self.hubble_time * x * r, z)

    def _growth(self, z, exact, col):
        zz = self._as_z(z, table=not exact)
        x = np.log1p(zz)
        if exact:
            self._check_positive(0.0, 1.0 / _A_INIT - 1.0, "the growth ODE's range")
            v = self._growth_values(x.ravel())[:, col].reshape(x.shape)
        else:
            v = self.table("growth")(x)[..., col]
        return self._out(v, z)

    def growth_factor(self, z, *, exact=False):
        """Linear growth factor ``D(z) / D(0)`` of matter perturbations.

        Parameters
        ----------
        z : array_like
            Redshifts in ``[0, zmax]``.
        exact : bool, optional
            Solve the ODE (rtol 1e-12) at these redshifts instead of the table.

        Returns
        -------
        float or ndarray
            Relative error ``<= rtol`` (table).

        Notes
        -----
        Sub-horizon, scale-independent growth of pressureless matter in the full
        background: the source term is ``(3/2) Ω_m(a) D`` with ``Ω_m(a) = Om0 a⁻³ / E²``
        (cold dark matter and baryons only), while ``E(z)`` and ``d ln E / d ln a`` in the
        friction term are the same as the distances' (radiation and massive neutrinos
        included, with the chosen ``neutrino_model``).  Massive neutrinos thus enter the
        expansion only and do not cluster: the scale-dependent suppression of growth below
        their free-streaming scale, and dark-energy perturbations, are not modelled.
        """
        return self._growth(z, exact, 0)

    def growth_rate(self, z, *, exact=False):
        """Linear growth rate ``f = d ln D / d ln a``.

        Parameters
        ----------
        z : array_like
            Redshifts in ``[0, zmax]``.
        exact : bool, optional
            Solve the ODE instead of the table.

        Returns
        -------
        float or ndarray
            Relative error ``<= rtol`` (table; the growth table holds ``D`` and ``f`` as
            one vector-valued AutoKnots spline and every component meets the tolerance).
        """
        return self._growth(z, exact, 1)
