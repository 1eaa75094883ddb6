r"""Linear matter power spectrum: Eisenstein & Hu (1998) transfer functions and σ(R).

Implemented from the published equations of D. J. Eisenstein & W. Hu, *Baryonic features in
the matter transfer function*, ApJ 496, 605 (1998) (EH98 below; equation numbers refer to
it).  Units are physical throughout: wavenumbers ``k`` in 1/Mpc (not h/Mpc), radii in Mpc,
masses in M_sun, the power spectrum in Mpc³.

* :func:`eisenstein_hu` — the full fit with baryon acoustic oscillations (EH98 eqs. 2–24);
* :func:`eisenstein_hu_nowiggle` — the zero-oscillation ("no-wiggle") form (eqs. 26–31);
* :class:`LinearPower` — ``P(k, z) = A k^ns T(k)² D(z)²`` normalised to ``sigma8`` and the
  rms top-hat fluctuation ``σ(R, z)``, tabulated lazily by AutoKnots.

The σ quadrature
----------------
``σ²(R) = (1/2π²) ∫ k³ P(k) W²(kR) d ln k`` over ``[kmin, kmax]`` is a composite 16-point
Gauss–Legendre rule in ``t = ln k`` on one *k*-grid shared by all radii, so ``P`` is
evaluated once per grid and every radius costs one weighted sum.  The panels are placed so
that each spans at most ``_PHASE`` (4π) radians of the oscillations present: the baryon
wiggles of ``T²`` (``sin ks``, ``s`` the sound horizon, below ``_K_BAO`` = 10/Mpc, beyond
which their relative amplitude ``~ 27 (Ω_b/Ω_0) (ks)⁻³`` is ~1e-9 and what is left
averages out) plus the window's ``cos 2kR`` for every radius of the grid's range while
``y = kR <= _Y2``; elsewhere they are at most ``_H0`` = 0.25 wide in ``ln k``.  Per radius
the nodes with ``y < 0.5`` are summed through prefix moments (``W²`` is a polynomial in
``y²`` there) and those with ``y > _Y2`` through suffix sums, so a radius costs only the
nodes of ``0.5 <= y <= _Y2``.  These sums are :class:`_WindowSums`, the one σ quadrature of
:mod:`numfit.cosmology`: :class:`~numfit.cosmology.PowerSpectrum` uses the same class on its
own nodes (with the slope ``d ln σ / d ln R``, the Gaussian window and the end terms at
``kmax``), and the window values of a radius, a sparse row over the nodes, serve any number
of spectra (the redshifts of a P(k, z)) in one product.  Beyond ``y = _Y2`` only the smooth mean of the
squared window, ``⟨W²⟩ = 9 (1 + y²) / (2 y⁶)``, is kept; the oscillating remainder is
switched off by a C^∞ taper on ``_Y1 <= y <= _Y2`` (so the integrand stays smooth for the
Gauss rule) and what the taper discards is an oscillatory integral of a smooth amplitude,
far below 1e-13 relative.  The tests compare against ``scipy.integrate.quad`` (QAWO for the
oscillating part, no taper) to ~1e-11; doubling every resolution setting changes σ² by <
1e-13.
"""
import math

import numpy as np

from .._io import SaveMixin
from .._validation import check_float, check_option, check_real_array
from ..interpolate import autoknots, autoknots2d
from ._background import Cosmology
from ._units import strip_unit

__all__ = ["eisenstein_hu", "eisenstein_hu_nowiggle", "LinearPower"]

_T_CMB_DEFAULT = 2.7255       # K, used when the cosmology has Tcmb0 = 0 (no radiation)
_E = math.e
_TRANSFERS = ("eisenstein_hu", "eisenstein_hu_nowiggle")

# quadrature settings of the σ integral (see the module docstring)
_GL_N = 16
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(_GL_N)
_H0 = 0.25                # widest panel in ln k
_PHASE = 4.0 * math.pi    # largest phase of any resolved oscillation across one panel
_BAO_FREQ = 1.0           # wiggle frequency in k, in units of s (T² ~ sin ks)
_K_BAO = 10.0             # [1/Mpc] wiggles resolved below this k
_Y1, _Y2 = 100.0, 400.0   # the window's oscillation is tapered off on [Y1, Y2]
_Y_SERIES = 0.5           # W(y) from its Taylor series below this y


# =========================================================================== validation
_ASTROPY_UNITS = {"k": "1 / Mpc", "R": "Mpc", "M": "Msun"}


def _as_positive(name, value, unit=""):
    """Validated float64 array of finite values > 0 (TypeError for non-real input); an
    astropy Quantity is converted to numfit's unit first."""
    if name in _ASTROPY_UNITS:
        value = strip_unit(name, value, _ASTROPY_UNITS[name])
    return check_real_array(name, value, lo=0.0, lo_open=True, unit=unit)


def _out(arr, like):
    return float(arr) if np.ndim(like) == 0 else arr


def _check_cosmology(cosmology):
    if not isinstance(cosmology, Cosmology):
        raise TypeError("`cosmology` must be a numfit.cosmology.Cosmology; got "
                        f"{type(cosmology).__name__}")
    return cosmology


# =========================================================================== EH98
def _tcmb(cosmology):
    t = cosmology.Tcmb0
    return t if t > 0.0 else _T_CMB_DEFAULT


def _eh_scales(h, Om0, Ob0, Tcmb):
    """The scalars of EH98 section 2–3 (k in 1/Mpc, lengths in Mpc)."""
    wm = Om0 * h * h                       # ω_m = Ω0 h²
    wb = Ob0 * h * h                       # ω_b = Ω_b h²
    th = Tcmb / 2.7                        # Θ_2.7
    fb = Ob0 / Om0
    fc = 1.0 - fb
    z_eq = 2.50e4 * wm * th ** -4                                         # eq. 2
    k_eq = 7.46e-2 * wm * th ** -2                                        # eq. 3 [1/Mpc]
    b1 = 0.313 * wm ** -0.419 * (1.0 + 0.607 * wm ** 0.674)               # eq. 4
    b2 = 0.238 * wm ** 0.223
    z_d = 1291.0 * wm ** 0.251 / (1.0 + 0.659 * wm ** 0.828) * (1.0 + b1 * wb ** b2)
    p = dict(wm=wm, wb=wb, theta=th, fb=fb, fc=fc, z_eq=z_eq, k_eq=k_eq, z_d=z_d)
    a1 = (46.9 * wm) ** 0.670 * (1.0 + (32.1 * wm) ** -0.532)             # eq. 11
    a2 = (12.0 * wm) ** 0.424 * (1.0 + (45.0 * wm) ** -0.582)
    p["alpha_c"] = a1 ** -fb * a2 ** -(fb ** 3)
    bb1 = 0.944 / (1.0 + (458.0 * wm) ** -0.708)                          # eq. 12
    bb2 = (0.395 * wm) ** -0.0266
    p["beta_c"] = 1.0 / (1.0 + bb1 * (fc ** bb2 - 1.0))
    if wb > 0.0:
        R_d = 31.5 * wb * th ** -4 * 1e3 / z_d                            # eq. 5
        R_eq = 31.5 * wb * th ** -4 * 1e3 / z_eq
        # eq. 6, ln[(√(1+R_d) + √(R_d+R_eq)) / (1 + √R_eq)] written with log1p
        num = R_d / (math.sqrt(1.0 + R_d) + 1.0) + math.sqrt(R_d + R_eq) - math.sqrt(R_eq)
        s = 2.0 / (3.0 * k_eq) * math.sqrt(6.0 / R_eq) \
            * math.log1p(num / (1.0 + math.sqrt(R_eq)))
        k_silk = 1.6 * wb ** 0.52 * wm ** 0.73 * (1.0 + (10.4 * wm) ** -0.95)  # eq. 7
        y = (1.0 + z_eq) / (1.0 + z_d)                                    # eq. 15
        sq = math.sqrt(1.0 + y)
        G = y * (-6.0 * sq + (2.0 + 3.0 * y) * math.log((sq + 1.0) / (sq - 1.0)))
        alpha_b = 2.07 * k_eq * s * (1.0 + R_d) ** -0.75 * G                 # eq. 14
        beta_b = 0.5 + fb + (3.0 - 2.0 * fb) * math.sqrt((17.2 * wm) ** 2 + 1.0)  # eq. 24
        beta_node = 8.41 * wm ** 0.435                                    # eq. 23
        p.update(R_d=R_d, R_eq=R_eq, s=s, k_silk=k_silk, alpha_b=alpha_b, beta_b=beta_b,
                 beta_node=beta_node)
    # eq. 26: the fitted sound horizon of the no-wiggle form
    p["s_fit"] = 44.5 * math.log(9.83 / wm) / math.sqrt(1.0 + 10.0 * wb ** 0.75)
    fb2 = fb * fb                                                         # eq. 31
    p["alpha_gamma"] = 1.0 - 0.328 * math.log(431.0 * wm) * fb \
        + 0.38 * math.log(22.3 * wm) * fb2
    return p


def _t0_tilde(k, q, alpha_c, beta_c):
    """EH98 eqs. 19–20: ``ln(e + 1.8 β q) / (ln(e + 1.8 β q) + C q²)``."""
    L = np.log(_E + 1.8 * beta_c * q)
    C = 14.2 / alpha_c + 386.0 / (1.0 + 69.9 * q ** 1.08)
    return L / (L + C * q * q)


def _eh_wiggle(k, p):
    """T(k) of EH98 eqs. 16–24 for k in 1/Mpc (array), scales ``p`` from _eh_scales."""
    q = k / (13.41 * p["k_eq"])                                           # eq. 10
    if p["wb"] == 0.0:
        # Ω_b -> 0: α_c = β_c = 1, T_c = T̃0(k, 1, 1) whatever f is, and T = T_c.
        return _t0_tilde(k, q, 1.0, 1.0)
    s = p["s"]
    ks = k * s
    f = 1.0 / (1.0 + (ks / 5.4) ** 4)                                     # eq. 18
    T_c = f * _t0_tilde(k, q, 1.0, p["beta_c"]) \
        + (1.0 - f) * _t0_tilde(k, q, p["alpha_c"], p["beta_c"])          # eq. 17
    s_tilde = s / np.cbrt(1.0 + (p["beta_node"] / ks) ** 3)               # eq. 22
    x = k * s_tilde
    j0 = np.where(x < 1e-4, 1.0 - x * x / 6.0, np.sin(x) / np.where(x < 1e-4, 1.0, x))
    T_b = (_t0_tilde(k, q, 1.0, 1.0) / (1.0 + (ks / 5.2) ** 2)
           + p["alpha_b"] / (1.0 + (p["beta_b"] / ks) ** 3)
           * np.exp(-(k / p["k_silk"]) ** 1.4)) * j0                      # eq. 21
    return p["fb"] * T_b + p["fc"] * T_c                                  # eq. 16


def _eh_nowiggle(k, p, h):
    """T(k) of EH98 eqs. 28–31 for k in 1/Mpc."""
    ag = p["alpha_gamma"]
    gamma_eff = p["wm"] / h * (ag + (1.0 - ag) / (1.0 + (0.43 * k * p["s_fit"]) ** 4))
    q = k / h * p["theta"] ** 2 / gamma_eff                               # eq. 28
    L0 = np.log(2.0 * _E + 1.8 * q)                                       # eq. 29
    C0 = 14.2 + 731.0 / (1.0 + 62.5 * q)
    return L0 / (L0 + C0 * q * q)


def eisenstein_hu(k, cosmology):
    r"""Eisenstein & Hu (1998) matter transfer function with baryon oscillations.

    .. math::

        T(k) = \frac{\Omega_b}{\Omega_0} T_b(k) + \frac{\Omega_c}{\Omega_0} T_c(k)

    with the CDM part ``T_c`` (EH98 eqs. 17–20) and the baryon part
    ``T_b = [T̃_0(k,1,1)/(1 + (ks/5.2)²) + α_b e^{-(k/k_silk)^1.4}/(1 + (β_b/ks)³)]
    j_0(k s̃)`` (eq. 21), ``s`` the sound horizon at the drag epoch (eq. 6).

    Parameters
    ----------
    k : array_like
        Wavenumbers [1/Mpc], finite and ``> 0``.
    cosmology : Cosmology
        Supplies ``h``, ``Om0``, ``Ob0`` and ``Tcmb0``.

    Returns
    -------
    float or ndarray
        ``T(k)``, normalised to ``T -> 1`` as ``k -> 0``; a float for scalar ``k``.

    Raises
    ------
    TypeError
        ``k`` not real numbers, or ``cosmology`` not a :class:`Cosmology`.
    ValueError
        ``k`` not finite or ``<= 0``.

    Notes
    -----
    ``Ob0 = 0`` is the limit of the formulas: ``α_c = β_c = 1`` and ``T = T̃_0(k, 1, 1)``
    with ``q = k / (13.41 k_eq)``, the paper's pure-CDM form.

    The CMB temperature is ``cosmology.Tcmb0`` when it is ``> 0``; a cosmology built with
    the default ``Tcmb0 = 0`` (no radiation in ``E(z)``) gets the EH98 transfer function
    evaluated at ``Tcmb = 2.7255 K``.  EH98 write ``ω_m = Ω_0 h²``, ``ω_b = Ω_b h²``,
    ``Θ_{2.7} = T_cmb / 2.7 K`` and use k in Mpc⁻¹ except in the no-wiggle ``q``
    (eq. 28), which is in h Mpc⁻¹; here every k is in Mpc⁻¹ and converted internally.
    The fits are accurate to a few per cent against Boltzmann codes (EH98) and are not
    meant for massive neutrinos.

    Examples
    --------
    >>> from numfit.cosmology import Cosmology, eisenstein_hu
    >>> cosmo = Cosmology(H0=67.7, Om0=0.31, Ob0=0.049, Tcmb0=2.7255)
    >>> round(eisenstein_hu(1e-6, cosmo), 6)
    1.0
    >>> round(eisenstein_hu(0.1, cosmo), 4)
    0.0829
    """
    _check_cosmology(cosmology)
    kk = _as_positive("k", k, " [1/Mpc]")
    p = _eh_scales(cosmology.h, cosmology.Om0, cosmology.Ob0, _tcmb(cosmology))
    return _out(_eh_wiggle(kk, p), k)


def eisenstein_hu_nowiggle(k, cosmology):
    r"""Eisenstein & Hu (1998) transfer function without baryon oscillations.

    .. math::

        T_0(q) = \frac{L_0}{L_0 + C_0 q^2},\quad L_0 = \ln(2e + 1.8 q),\quad
        C_0 = 14.2 + \frac{731}{1 + 62.5 q}

    with ``q = (k / h Mpc⁻¹) Θ²_{2.7} / Γ_eff`` and the scale-dependent shape
    ``Γ_eff = Ω_0 h [α_Γ + (1 − α_Γ) / (1 + (0.43 k s)⁴)]`` (EH98 eqs. 28–31), ``s`` the
    fitted sound horizon of eq. 26.

    Parameters
    ----------
    k : array_like
        Wavenumbers [1/Mpc], finite and ``> 0``.
    cosmology : Cosmology
        Supplies ``h``, ``Om0``, ``Ob0`` and ``Tcmb0``.

    Returns
    -------
    float or ndarray
        ``T(k)`` (``-> 1`` as ``k -> 0``); a float for scalar ``k``.

    Raises
    ------
    TypeError
        ``k`` not real numbers, or ``cosmology`` not a :class:`Cosmology`.
    ValueError
        ``k`` not finite or ``<= 0``.

    Notes
    -----
    The CMB temperature is ``cosmology.Tcmb0`` when it is ``> 0``; a cosmology built with
    the default ``Tcmb0 = 0`` (no radiation in ``E(z)``) gets the EH98 transfer function
    evaluated at ``Tcmb = 2.7255 K``.  EH98 write ``ω_m = Ω_0 h²``, ``ω_b = Ω_b h²``,
    ``Θ_{2.7} = T_cmb / 2.7 K`` and use k in Mpc⁻¹ except in the no-wiggle ``q``
    (eq. 28), which is in h Mpc⁻¹; here every k is in Mpc⁻¹ and converted internally.
    The fits are accurate to a few per cent against Boltzmann codes (EH98) and are not
    meant for massive neutrinos.

    Examples
    --------
    >>> from numfit.cosmology import Cosmology, eisenstein_hu_nowiggle
    >>> cosmo = Cosmology(H0=67.7, Om0=0.31, Ob0=0.049, Tcmb0=2.7255)
    >>> round(eisenstein_hu_nowiggle(0.1, cosmo), 4)
    0.0822
    """
    _check_cosmology(cosmology)
    kk = _as_positive("k", k, " [1/Mpc]")
    p = _eh_scales(cosmology.h, cosmology.Om0, cosmology.Ob0, _tcmb(cosmology))
    return _out(_eh_nowiggle(kk, p, cosmology.h), k)


# =========================================================================== the window
_W_SERIES = [3.0 * (-1) ** m * 2 * (m + 1) / math.factorial(2 * m + 3) for m in range(8)]


def _window2(y):
    """The squared top-hat window ``W(y)² = [3 (sin y − y cos y) / y³]²`` (y > 0 array)."""
    out = np.empty_like(y)
    small = y < _Y_SERIES
    if small.any():
        ys2 = y[small] ** 2
        w = np.zeros_like(ys2)
        for c in reversed(_W_SERIES):
            w = w * ys2 + c
        out[small] = w * w
    big = ~small
    if big.any():
        yb = y[big]
        w = 3.0 * (np.sin(yb) - yb * np.cos(yb)) / yb ** 3
        out[big] = w * w
    return out


def _taper(y):
    """1 for y <= Y1, 0 for y >= Y2, C^∞ in between (in ln y)."""
    u = np.clip(np.log(y / _Y1) / math.log(_Y2 / _Y1), 0.0, 1.0)
    with np.errstate(divide="ignore", over="ignore"):
        a = np.where(u > 0.0, np.exp(-1.0 / np.where(u > 0.0, u, 1.0)), 0.0)
        b = np.where(u < 1.0, np.exp(-1.0 / np.where(u < 1.0, 1.0 - u, 1.0)), 0.0)
    return b / (a + b)


def _k_grid(kmin, kmax, rlo, rhi, s_bao):
    """Gauss–Legendre nodes ``t = ln k`` and weights resolving W²(kR) for R in [rlo, rhi]
    while kR <= Y2, and the baryon wiggles (frequency ~2 s_bao in k) below _K_BAO."""
    t0, t1 = math.log(kmin), math.log(kmax)
    t = np.linspace(t0, t1, 1 + int(math.ceil((t1 - t0) * 2000)))
    k = np.exp(t)
    # panels per unit ln k: base + k * (total frequency in k) / _PHASE
    r_res = np.where(k <= _Y2 / rhi, rhi, np.where(k <= _Y2 / rlo, _Y2 / k, 0.0))
    freq = 2.0 * r_res + np.where(k <= _K_BAO, _BAO_FREQ * s_bao, 0.0)
    dens = 1.0 / _H0 + k * freq / _PHASE
    N = np.concatenate(([0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(t))))
    m = max(1, int(math.ceil(N[-1])))
    edges = np.interp(np.linspace(0.0, N[-1], m + 1), N, t)
    edges[0], edges[-1] = t0, t1
    h = np.diff(edges)
    nodes = (edges[:-1, None] + 0.5 * h[:, None] * (_GL_NODES + 1.0)).ravel()
    weights = (0.5 * h[:, None] * _GL_WEIGHTS).ravel()
    return nodes, weights


_W2_SERIES = np.convolve(_W_SERIES, _W_SERIES)     # W(y)² = Σ_n d_n y^(2n), y < _Y_SERIES


# W(y) y W'(y) = Σ e_n y^(2n) for y < _Y_SERIES (W = Σ c_m y^(2m), y W' = Σ 2m c_m y^(2m))
_WD_SERIES = np.convolve(_W_SERIES, 2.0 * np.arange(len(_W_SERIES)) * np.asarray(_W_SERIES))
_TWO_N = 2.0 * np.arange(_W2_SERIES.size)
_Y_GAUSS = 40.0           # exp(-y²) < 1e-690 beyond: those nodes are skipped
_END_STEP = 1e-3          # step (relative to kmax) of the end terms' differences
_X_DIRECT = 1e6           # R kref above this: the series through log moments (no overflow)
_NNZ_CHUNK = 1 << 21      # window values held at once (radii are taken in chunks)
_MATRIX_CACHE = 4         # window matrices (chunks of radii) kept for the next lines
_BLOCK = 1 << 14          # window values computed per pass (cache-sized)


class _WindowSums:
    """The σ quadrature of every spectrum (:class:`LinearPower` and
    :class:`~numfit.cosmology.PowerSpectrum`): ``S0 = Σ_i w_i W²(k_i R)`` and
    ``S1 = Σ_i w_i W(y) y W'(y)|_{y = k_i R}`` over one node set for many radii and any
    number of spectra at once; ``wk`` (nodes, or nodes x lines) holds the Gauss weights
    times ``k³ P / 2π²`` of each line (e.g. the redshifts of a P(k, z)).

    Top-hat: per radius only the nodes with ``_Y_SERIES <= kR < _Y2`` are summed directly
    (the window tapered to its smooth mean on ``[_Y1, _Y2]``).  Below, ``W²`` and
    ``W y W'`` are polynomials in ``y² = (kR)²`` and the sums are ``Σ_n d_n (R kref)^(2n)
    M_n`` with prefix moments ``M_n = Σ w_i (k_i / kref)^(2n)``, ``kref = _Y_SERIES / rlo``
    (all terms of ``M_n`` positive: no cancellation; through ``exp(2n ln(R kref) + ln M_n)``
    where ``R kref > _X_DIRECT`` so nothing overflows).  Above, the means ``4.5 (y⁻⁴ + y⁻⁶)``
    and ``-9 y⁻⁴ - 13.5 y⁻⁶`` against suffix sums ``S_p = Σ w_i k_i^(-p)``.  With ``kmax``
    and ``g_end`` (``k³P/2π²`` at ``kmax (1 - j _END_STEP)``, j < 4, per line) the
    oscillating part that the taper drops at the hard end ``kmax`` is added (see
    :meth:`_end_terms`).  Gaussian: ``exp(-y²)`` on the nodes with ``y < _Y_GAUSS``.

    The window values depend on R and the nodes only, so they are computed once per radius
    (in cache-sized blocks) and applied to every line by sparse (radii x nodes) products,
    the untapered and the tapered nodes apart: a block of lines gives the same numbers as
    one line at a time (bit for bit as measured), and with ``cache`` the matrices serve the
    next lines at the same radii.  With ``keep`` (an object reused for many calls, as
    LinearPower's grid) the cumulative sums are computed once for every index.
    """

    def __init__(self, k, wk, rlo, window="tophat", kmax=None, g_end=None, rhi=None,
                 cache=None, keep=False):
        wk = np.asarray(wk, dtype=np.float64)
        self.cache = cache        # a dict shared by the sums on these nodes (or None)
        self.keep, self._full = keep, None
        self.vector = wk.ndim == 1
        self.k, self.wk, self.window = k, wk.reshape(k.size, -1), window
        self.rlo, self.rhi = rlo, rhi
        self.kmax = kmax
        self.g_end = None if g_end is None else \
            np.asarray(g_end, dtype=np.float64).reshape(4, -1)
        if window == "tophat":
            self.kref = _Y_SERIES / rlo

    def __call__(self, R, slope=True):
        """(S0, S1) at radii R (1-D): arrays (radii,) for a 1-D ``wk``, else (radii, lines);
        S1 is None unless ``slope``."""
        R = np.asarray(R, dtype=np.float64).ravel()
        k, m = self.k, self.wk.shape[1]
        if R.size == 0:
            e = np.empty((0,) if self.vector else (0, m))
            return e, (e.copy() if slope else None)
        if self.window == "gaussian":
            lo = np.zeros(R.size, dtype=np.int64)
            hi = np.searchsorted(k, _Y_GAUSS / R)
        else:
            lo = np.searchsorted(k, _Y_SERIES / R)    # first node with y = kR >= _Y_SERIES
            mid = np.searchsorted(k, _Y1 / R)         # ... y >= Y1
            hi = np.searchsorted(k, _Y2 / R)          # ... y >= Y2
            mom, s4, s6 = self._moments(lo, hi)
        s0 = np.empty((R.size, m))
        s1 = np.empty((R.size, m)) if slope else None
        cnt = np.maximum(hi - lo, 0)
        cs = np.cumsum(cnt)
        j0 = 0
        while j0 < R.size:                            # chunks of at most _NNZ_CHUNK values
            base = cs[j0] - cnt[j0]
            j1 = max(j0 + 1, int(np.searchsorted(cs, base + _NNZ_CHUNK, side="right")))
            sl = slice(j0, j1)
            if self.window == "gaussian":
                a0, a1 = self._gauss(R[sl], lo[sl], hi[sl], cnt[sl], slope)
            else:
                a0, a1 = self._tophat(R[sl], lo[sl], mid[sl], cnt[sl], mom[:, sl], s4[sl],
                                      s6[sl], slope)
            s0[sl] = a0
            if slope:
                s1[sl] = a1
            j0 = j1
        if self.vector:
            return s0[:, 0], (s1[:, 0] if slope else None)
        return s0, s1

    def _moments(self, a, c, keep=None):
        """The prefix moments ``M_n = Σ_{i<a} w_i (k_i / kref)^(2n)`` (terms, radii, lines)
        and the suffix sums ``S_p = Σ_{i>=c} w_i k_i^(-p)``, p = 4, 6 (radii, lines) at the
        radii's first direct node ``a`` and first node past ``_Y2``, ``c`` (sequential
        cumulative sums: a radius' numbers do not depend on the others).  With ``keep``
        (an object reused for many calls) the sums at every index are computed once."""
        if self.keep and keep is None:
            if self._full is None:    # every index (a <= the nodes below kref), once
                n_small = int(np.searchsorted(self.k, self.kref, side="right"))
                self._full = self._moments_at(np.arange(n_small + 1),
                                              np.arange(self.k.size + 1))
            mom, s4, s6 = self._full
            return mom[:, a], s4[c], s6[c]
        return self._moments_at(a, c)

    def _moments_at(self, a, c):
        k, wk = self.k, self.wk
        m = wk.shape[1]
        mom = np.zeros((_W2_SERIES.size, a.size, m))
        amax = int(a.max())
        if amax:
            x2 = (k[:amax] / self.kref) ** 2
            pw = np.ones(amax)
            prod, acc = np.empty((amax, m)), np.empty((amax, m))
            nz = a > 0
            for n in range(_W2_SERIES.size):
                np.multiply(wk[:amax], pw[:, None], out=prod)
                np.cumsum(prod, axis=0, out=acc)
                mom[n, nz] = acc[a[nz] - 1]
                pw = pw * x2
        cmin = int(c.min())
        out = []
        for p in (4.0, 6.0):
            suf = np.zeros((k.size - cmin + 1, m))
            suf[:-1] = np.cumsum((wk[cmin:] * k[cmin:, None] ** -p)[::-1], axis=0)[::-1]
            out.append(suf[c - cmin])
        return mom, out[0], out[1]

    def _matrix(self, R, lo, cnt):
        """Row pointers, node indices and radii of the nodes ``lo, lo + 1, ...`` (``cnt`` of
        them) of each radius, in row order."""
        it = np.int32 if self.k.size < 2 ** 31 - _NNZ_CHUNK else np.int64   # scipy's
        indptr = np.zeros(R.size + 1, dtype=it)
        np.cumsum(cnt, out=indptr[1:])
        idx = np.arange(indptr[-1], dtype=it) + np.repeat((lo - indptr[:-1]).astype(it), cnt)
        return indptr, idx, np.repeat(R, cnt)

    def _window_matrices(self, R, a, b, cnt, slope):
        """The window products on the direct nodes (``cnt`` per radius from node ``a``; the
        top-hat tapered from node ``b`` on) as sparse (radii x nodes) matrices: a list of
        pairs (W², W y W' with ``slope``, else None), the top-hat's untapered and tapered
        nodes apart.  Kept in ``self.cache`` (when given) for the next lines at the same
        radii."""
        cache = self.cache
        key = R.tobytes()
        if cache is not None:
            hit = cache.get(key)
            if hit is not None and (hit[0][1] is not None or not slope):
                return hit
        if self.window == "gaussian":
            out = [self._part(R, a, cnt, slope, "gaussian")]
        else:
            nb = np.clip(b - a, 0, cnt)
            out = [self._part(R, a, nb, slope, "plain"),
                   self._part(R, a + nb, cnt - nb, slope, "taper")]
        return self._keep(key, out)

    def _part(self, R, lo, cnt, slope, kind):
        from scipy.sparse import csr_matrix
        indptr, idx, rr = self._matrix(R, lo, cnt)
        nnz = idx.size
        f0 = np.empty(nnz)
        f1 = np.empty(nnz) if slope else None
        for s in range(0, nnz, _BLOCK):          # in cache-sized blocks
            sl = slice(s, s + _BLOCK)
            y = rr[sl] * self.k[idx[sl]]
            if kind == "gaussian":
                y2 = y * y
                g = np.exp(-y2)
                f0[sl] = g
                if slope:
                    f1[sl] = -(y2 * g)
                continue
            sn, cs = np.sin(y), np.cos(y)
            iy3 = 3.0 / (y * y * y)
            w = (sn - y * cs) * iy3
            v0 = w * w
            if slope:
                v1 = w * ((y * y - 3.0) * sn + 3.0 * y * cs) * iy3
            if kind == "taper":                  # to the mean on [Y1, Y2]
                tp = _taper(y)
                iy2 = 1.0 / (y * y)
                m0 = 4.5 * iy2 * iy2 * (1.0 + iy2)
                v0 = m0 + tp * (v0 - m0)
                if slope:
                    m1 = -iy2 * iy2 * (9.0 + 13.5 * iy2)
                    v1 = m1 + tp * (v1 - m1)
            f0[sl] = v0
            if slope:
                f1[sl] = v1
        shape = (R.size, self.k.size)
        return (csr_matrix((f0, idx, indptr), shape=shape),
                csr_matrix((f1, idx, indptr), shape=shape) if slope else None)

    def _apply(self, mats, j):
        """Σ over the parts of (window matrix j) @ wk: (radii, lines)."""
        wk = self.wk[:, 0] if self.wk.shape[1] == 1 else self.wk   # one line: a matvec
        out = np.asarray(mats[0][j] @ wk)
        for m in mats[1:]:
            out += np.asarray(m[j] @ wk)
        return out.reshape(-1, self.wk.shape[1])

    def _keep(self, key, out):
        cache = self.cache
        if cache is not None:
            while len(cache) >= _MATRIX_CACHE:
                cache.pop(next(iter(cache)))
            cache[key] = out
        return out

    def _gauss(self, R, lo, hi, cnt, slope):
        mats = self._window_matrices(R, lo, None, cnt, slope)
        return self._apply(mats, 0), (self._apply(mats, 1) if slope else None)

    def _tophat(self, R, a, b, cnt, mom, s4, s6, slope):
        n = R.size
        # y < _Y_SERIES: the series against the prefix moments
        x = R * self.kref
        terms = np.empty((_W2_SERIES.size, n, self.wk.shape[1]))
        direct = x <= _X_DIRECT
        if direct.all():
            terms[:] = x[None, :, None] ** _TWO_N[:, None, None] * mom
        else:
            with np.errstate(divide="ignore"):           # ln 0 = -inf: a zero moment
                log_mom = np.log(mom)
            terms[:] = np.exp(_TWO_N[:, None, None] * np.log(x)[None, :, None] + log_mom)
            terms[:, direct] = (x[direct][None, :, None] ** _TWO_N[:, None, None]
                                * mom[:, direct])
        s0 = np.sum(_W2_SERIES[:, None, None] * terms, axis=0)
        s1 = np.sum(_WD_SERIES[:, None, None] * terms, axis=0) if slope else None
        # _Y_SERIES <= y < _Y2: the window, tapered to its mean on [Y1, Y2]
        if cnt.any():
            mats = self._window_matrices(R, a, b, cnt, slope)
            s0 += self._apply(mats, 0)
            if slope:
                s1 += self._apply(mats, 1)
        # y >= Y2: the smooth means against the suffix sums
        r4, r6 = (R ** -4.0)[:, None], (R ** -6.0)[:, None]
        s0 += 4.5 * (s4 * r4 + s6 * r6)
        if slope:
            s1 -= 9.0 * s4 * r4 + 13.5 * s6 * r6
        if self.g_end is not None:
            e = self.kmax * R > _Y1
            if e.any():
                e0, e1 = self._end_terms(R[e], slope)
                s0[e] += e0
                if slope:
                    s1[e] += e1
        return s0, s1

    def _end_terms(self, r, slope):
        """The oscillating part of the window product that the taper drops, from its hard
        end at kmax: Re ∫^{kmax} F(k) e^{2ikR} dk with F = (1 - taper) (g/k) (A - iB)
        (A cos 2y + B sin 2y the oscillating part of W², or of W y W') by its endpoint
        expansion Σ_n (-1)^n F^(n)(kmax) e^{2i kmax R} / (2iR)^(n+1), n < 3 (successive
        terms shrink like 1/(2y) <= 1/(2 Y1); the lower end adds nothing: 1 - taper is
        flat zero there).  Derivatives by one-sided differences on 4 points.  Radii r
        (1-D); returns (radii, lines) arrays."""
        kk = self.kmax * (1.0 - _END_STEP * np.arange(4))
        y = r[:, None] * kk[None, :]
        iy = 1.0 / y
        A = 4.5 * (y * y - 1.0) * iy ** 6
        B = -9.0 * iy ** 5
        base = ((1.0 - _taper(y))[:, :, None] * self.g_end[None, :, :]) / kk[None, :, None]
        h = _END_STEP * self.kmax
        om = 2.0 * r
        ph = np.exp(1j * om * self.kmax)[:, None]
        io = (1j * om)[:, None]

        def expand(F):
            F0, F1, F2, F3 = F[:, 0], F[:, 1], F[:, 2], F[:, 3]
            d1 = (3.0 * F0 - 4.0 * F1 + F2) / (2.0 * h)               # backward differences
            d2 = (2.0 * F0 - 5.0 * F1 + 4.0 * F2 - F3) / (h * h)
            return (ph * (F0 / io - d1 / io ** 2 + d2 / io ** 3)).real

        e0 = expand(base * (A - 1j * B)[:, :, None])
        if not slope:
            return e0, 0.0
        dA = 4.5 * (6.0 - 4.0 * y * y) * iy ** 7
        dB = 45.0 * iy ** 6
        A1, B1 = 0.5 * y * (dA + 2.0 * B), 0.5 * y * (dB - 2.0 * A)
        return e0, expand(base * (A1 - 1j * B1)[:, :, None])


# =========================================================================== LinearPower
class LinearPower(SaveMixin):
    r"""Linear matter power spectrum with an Eisenstein–Hu transfer function, and σ(R).

    .. math::

        P(k, z) = A\,k^{n_s}\,T(k)^2\,D(z)^2,\qquad
        \sigma^2(R, z) = \frac{1}{2\pi^2}\int_{k_{min}}^{k_{max}} k^2 P(k, z)\,W(kR)^2\,dk,

    with the top-hat window ``W(y) = 3 (sin y − y cos y) / y³`` and ``A`` fixed so that
    ``σ(8/h Mpc, 0) = sigma8``.  ``σ(R, 0)`` is an AutoKnots table (``space="loglog"``)
    on ``[Rmin, Rmax]``, built on first use to ``rtol``; each of its ordinates is a
    quadrature accurate to about 1e-12 (see the module notes of ``numfit.cosmology._power``).

    Parameters
    ----------
    cosmology : Cosmology or None, optional
        The background; ``None`` is ``Cosmology()`` (H0 = 70, Om0 = 0.3, Ob0 = 0.05).
        Supplies ``h``, ``Om0``, ``Ob0``, ``Tcmb0`` (2.7255 K if 0) and ``growth_factor``.
    ns : float, optional
        Primordial spectral index, finite.
    sigma8 : float, optional
        rms linear fluctuation in spheres of radius ``8/h`` Mpc at z = 0, finite ``> 0``.
    transfer : {"eisenstein_hu", "eisenstein_hu_nowiggle"}, optional
        The transfer function (:func:`eisenstein_hu` or :func:`eisenstein_hu_nowiggle`).
    kmin, kmax : float or None, optional
        The k-range of the σ integral [1/Mpc]; ``P`` is taken as zero outside it.
        Defaults: ``kmin = 1e-5``, ``kmax = 1e3 / min(Rmin, 8/h)`` (1e6 for the default
        ``Rmin``), so that the window has decayed to ``y = kR >= 1e3`` for every tabulated
        radius (truncation below 1e-12 relative).
    Rmin, Rmax : float, optional
        The σ table's radius range [Mpc], ``0 < Rmin < Rmax``.
    rtol : float, optional
        Relative tolerance of the σ table, in ``[1e-12, 1e-2]``.

    Raises
    ------
    TypeError
        ``cosmology`` not a :class:`Cosmology`, a non-real parameter.
    ValueError
        Unknown ``transfer``; ``ns`` not finite; ``sigma8 <= 0`` or not finite; bad
        ``kmin``/``kmax``/``Rmin``/``Rmax``/``rtol``.

    Notes
    -----
    Units: k in 1/Mpc, R in Mpc, M in M_sun, P in Mpc³ (no factors of h).  The growth
    factor is ``cosmology.growth_factor(z)`` (normalised to 1 at z = 0), so redshifts above
    the cosmology's ``zmax`` raise :class:`~numfit.RedshiftRangeError` from there.
    ``σ(8/h, exact=True)`` equals ``sigma8`` to rounding; the table meets it to ``rtol``.

    Examples
    --------
    >>> from numfit.cosmology import Cosmology, LinearPower
    >>> cosmo = Cosmology(H0=67.7, Om0=0.31, Ob0=0.049, Tcmb0=2.7255)
    >>> lp = LinearPower(cosmo, ns=0.965, sigma8=0.81, rtol=1e-5)
    >>> round(lp.sigma(8.0 / cosmo.h, exact=True), 12)
    0.81
    >>> round(lp.sigma(8.0 / cosmo.h), 4)
    0.81
    >>> round(lp.sigma_mass(1e14), 3) > round(lp.sigma_mass(1e15), 3)
    True
    """

    def __init__(self, cosmology=None, *, ns=0.965, sigma8=0.8, transfer="eisenstein_hu",
                 kmin=None, kmax=None, Rmin=1e-3, Rmax=3e2, rtol=1e-8):
        if cosmology is None:
            cosmology = Cosmology()
        _check_cosmology(cosmology)
        ns = check_float("ns", ns)
        sigma8 = check_float("sigma8", sigma8, lo=0.0, lo_open=True)
        transfer = check_option("transfer", transfer, _TRANSFERS)
        Rmin = check_float("Rmin", Rmin, lo=0.0, lo_open=True)
        Rmax = check_float("Rmax", Rmax, lo=0.0, lo_open=True)
        if not Rmin < Rmax:
            raise ValueError(f"`Rmin` must be < `Rmax`; got Rmin={Rmin:g}, Rmax={Rmax:g}")
        r8 = 8.0 / cosmology.h
        kmin = 1e-5 if kmin is None else check_float("kmin", kmin, lo=0.0, lo_open=True)
        kmax = 1e3 / min(Rmin, r8) if kmax is None else \
            check_float("kmax", kmax, lo=0.0, lo_open=True)
        if not kmin < kmax:
            raise ValueError(f"`kmin` must be < `kmax`; got kmin={kmin:g}, kmax={kmax:g}")
        rtol = check_float("rtol", rtol, lo=1e-12, hi=1e-2)
        self._cosmo = cosmology
        self._ns, self._sigma8, self._transfer = ns, sigma8, transfer
        self._kmin, self._kmax, self._Rmin, self._Rmax = kmin, kmax, Rmin, Rmax
        self._rtol = rtol
        self._p = _eh_scales(cosmology.h, cosmology.Om0, cosmology.Ob0, _tcmb(cosmology))
        self._reset()

    def _reset(self):
        self._grid = None         # (rlo, rhi, t nodes, weights * k³ k^ns T²)
        self._amp = None          # A
        self._table = None
        self._tables2d = {}

    # ------------------------------------------------------------------ properties
    cosmology = property(lambda self: self._cosmo, doc="The background Cosmology.")
    ns = property(lambda self: self._ns, doc="Spectral index.")
    sigma8 = property(lambda self: self._sigma8, doc="σ(8/h Mpc, z=0).")
    transfer_name = property(lambda self: self._transfer, doc="The transfer function.")
    kmin = property(lambda self: self._kmin, doc="Lower limit of the σ integral [1/Mpc].")
    kmax = property(lambda self: self._kmax, doc="Upper limit of the σ integral [1/Mpc].")
    Rmin = property(lambda self: self._Rmin, doc="Lower end of the σ table [Mpc].")
    Rmax = property(lambda self: self._Rmax, doc="Upper end of the σ table [Mpc].")
    rtol = property(lambda self: self._rtol, doc="Relative tolerance of the σ table.")

    @property
    def amplitude(self):
        """The normalisation ``A`` of ``P = A k^ns T² D²`` [Mpc^(3+ns)]."""
        if self._amp is None:
            r8 = np.array([8.0 / self._cosmo.h])
            self._amp = self._sigma8 ** 2 / float(self._sigma2_unnormalised(r8)[0])
        return self._amp

    def __repr__(self):
        return (f"LinearPower({self._cosmo!r}, ns={self._ns:g}, sigma8={self._sigma8:g}, "
                f"transfer={self._transfer!r}, kmin={self._kmin:g}, kmax={self._kmax:g}, "
                f"Rmin={self._Rmin:g}, Rmax={self._Rmax:g}, rtol={self._rtol:g})")

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_grid"] = None     # large and cheap to rebuild; the table is kept
        return state

    def _growth(self, z):
        """D(z)/D(0) as an array; z = 0 exactly needs no growth table."""
        arr = np.asarray(z)
        if arr.dtype.kind in "iuf" and arr.size and not arr.any():
            return np.ones(arr.shape)
        return np.asarray(self._cosmo.growth_factor(z), dtype=np.float64)

    # ------------------------------------------------------------------ P(k)
    def _t(self, k):
        if self._transfer == "eisenstein_hu":
            return _eh_wiggle(k, self._p)
        return _eh_nowiggle(k, self._p, self._cosmo.h)

    def transfer(self, k):
        """The transfer function ``T(k)`` (``-> 1`` as ``k -> 0``).

        Parameters
        ----------
        k : array_like
            Wavenumbers [1/Mpc], finite and ``> 0``.

        Returns
        -------
        float or ndarray
        """
        kk = _as_positive("k", k, " [1/Mpc]")
        return _out(self._t(kk), k)

    def power(self, k, z=0.0):
        """The linear power spectrum ``P(k, z) = A k^ns T(k)² D(z)²`` [Mpc³].

        Parameters
        ----------
        k : array_like
            Wavenumbers [1/Mpc], finite and ``> 0``.
        z : array_like, optional
            Redshifts (broadcast against ``k``), within the cosmology's growth table.

        Returns
        -------
        float or ndarray

        Raises
        ------
        RedshiftRangeError
            ``z > cosmology.zmax``.
        """
        kk = _as_positive("k", k, " [1/Mpc]")
        D = self._growth(z)
        T = self._t(kk)
        out = self.amplitude * kk ** self._ns * T * T * D * D
        if np.ndim(k) == 0 and np.ndim(z) == 0:
            return float(out)
        return np.asarray(out, dtype=np.float64)

    # ------------------------------------------------------------------ σ(R)
    def _get_grid(self, rlo, rhi):
        g = self._grid
        if g is not None and g.rlo <= rlo and rhi <= g.rhi:
            return g
        r8 = 8.0 / self._cosmo.h
        rlo, rhi = min(rlo, self._Rmin, r8), max(rhi, self._Rmax, r8)
        s_bao = self._p.get("s", 0.0) if self._transfer == "eisenstein_hu" else 0.0
        t, w = _k_grid(self._kmin, self._kmax, rlo, rhi, s_bao)
        k = np.exp(t)
        T = self._t(k)
        g = _WindowSums(k, w * k ** (3.0 + self._ns) * T * T / (2.0 * math.pi ** 2), rlo,
                        rhi=rhi, keep=True)
        if rlo == min(self._Rmin, r8) and rhi == max(self._Rmax, r8):
            self._grid = g        # the table's grid is kept; wider ad-hoc ones are not
        return g

    def _sigma2_unnormalised(self, R):
        """``σ²(R) / A`` at z = 0 for a 1-D array of radii, by the shared-grid quadrature."""
        return self._get_grid(float(R.min()), float(R.max()))(R, slope=False)[0]

    def _sigma0(self, R):
        """σ(R, z=0) for a 1-D array (the table's function)."""
        return np.sqrt(self.amplitude * self._sigma2_unnormalised(R))

    def table(self, name="sigma"):
        """The AutoKnots table of ``σ(R, z=0)`` on ``[Rmin, Rmax]`` (log-log), built on
        first use.

        Parameters
        ----------
        name : {"sigma"}
            The only table.

        Returns
        -------
        AutoKnotsSpline
        """
        check_option("name", name, ("sigma",))
        if self._table is None:
            tab = autoknots(self._sigma0, self._Rmin, self._Rmax, rtol=self._rtol,
                            space="loglog", vectorized=True)
            self._table = tab
        return self._table

    def table2d(self, name="power", *, zmax=None, k_range=(1e-4, 10.0), rtol=None):
        """A 2-D AutoKnots table of ``P(k, z)`` or ``σ(R, z)`` for many redshifts at once.

        ``ln P`` is tabulated against ``ln k`` and ``z`` (``ln σ`` against ``ln R`` and
        ``z``) by :func:`numfit.autoknots2d` with ``log_f=True``: the table meets ``rtol``
        relative to ``power(k, z)`` (to ``σ(R, z)`` with ``exact=True``, i.e. the
        quadrature times the growth table) on the whole rectangle, and evaluates on grids
        with ``t(k, z, grid=True)``. Built on first use and kept (pickled with the object).

        Known limitation: the BAO wiggles of the Eisenstein–Hu transfer function decay
        slowly with k; where their amplitude is close to ``rtol`` their period is below the
        grid spacing and they can alias between grid lines, so the ``"power"`` table with
        ``transfer="eisenstein_hu"`` can miss ``rtol`` by up to ~1.3x there (measured:
        1.18x at rtol 1e-6 on k in [1e-4, 10]); the 1-D tables share it (see
        :doc:`/kinds`). The no-wiggle transfer and the ``"sigma"`` table (an integral over
        k, smooth) meet ``rtol``.

        Parameters
        ----------
        name : {"power", "sigma"}
            The function.
        zmax : float, optional
            The redshift range ``[0, zmax]`` (default: the cosmology's ``zmax``).
        k_range : (float, float), optional
            The k-range of the power table [1/Mpc] (the σ table uses ``[Rmin, Rmax]``).
        rtol : float, optional
            Relative tolerance (default: this object's ``rtol``).

        Returns
        -------
        AutoKnots2D

        Examples
        --------
        >>> from numfit.cosmology import LinearPower
        >>> lp = LinearPower(rtol=1e-6)
        >>> t = lp.table2d("power", zmax=3.0, k_range=(1e-3, 1.0))
        >>> t.converged, bool(abs(t(0.1, 1.5) / lp.power(0.1, 1.5) - 1) < 1e-6)
        (True, True)
        """
        name = check_option("name", name, ("power", "sigma"))
        zmax = float(self._cosmo.zmax) if zmax is None else \
            check_float("zmax", zmax, lo=0.0, lo_open=True)
        rtol = self._rtol if rtol is None else check_float("rtol", rtol, lo=1e-12, hi=1e-2)
        if name == "power":
            if not (isinstance(k_range, (tuple, list)) and len(k_range) == 2):
                raise TypeError(f"`k_range` must be a pair (kmin, kmax); got {k_range!r}")
            lo = check_float("k_range[0]", k_range[0], lo=0.0, lo_open=True)
            hi = check_float("k_range[1]", k_range[1], lo=0.0, lo_open=True)
            if not lo < hi:
                raise ValueError(f"`k_range` must be increasing; got ({lo:g}, {hi:g})")
        else:
            lo, hi = self._Rmin, self._Rmax
        key = (name, zmax, lo, hi, rtol)
        tab = self._tables2d.get(key)
        if tab is None:
            f = self._power2d if name == "power" else self._sigma2d
            tab = autoknots2d(f, (lo, hi), (0.0, zmax), rtol=rtol, x_knots="log",
                              log_f=True, vectorized=True)
            self._tables2d[key] = tab
        return tab

    def _power2d(self, k, z):
        return self.power(k, z)

    def _sigma2d(self, R, z):
        R = np.asarray(R, dtype=np.float64)
        s0 = self._sigma0(R.ravel()).reshape(R.shape)
        return s0 * self._growth(z)

    def _as_R(self, R, exact):
        rr = _as_positive("R", R, " [Mpc]")
        if not exact and rr.size:
            lo, hi = float(rr.min()), float(rr.max())
            if lo < self._Rmin or hi > self._Rmax:
                bad = lo if lo < self._Rmin else hi
                raise ValueError(
                    f"R = {bad:g} Mpc is outside the sigma table's range "
                    f"[{self._Rmin:g}, {self._Rmax:g}] Mpc; widen it with "
                    "LinearPower(..., Rmin=..., Rmax=...) or pass exact=True")
        return rr

    def sigma(self, R, z=0.0, *, exact=False):
        """rms linear density fluctuation in top-hat spheres of radius ``R``.

        Parameters
        ----------
        R : array_like
            Radii [Mpc], ``> 0``, within ``[Rmin, Rmax]`` unless ``exact``.
        z : array_like, optional
            Redshifts, broadcast against ``R``.
        exact : bool, optional
            Do the quadrature (about 1e-12 relative) instead of using the table; any
            ``R > 0`` (still integrated over ``[kmin, kmax]`` only).

        Returns
        -------
        float or ndarray
            ``σ(R, z) = σ(R, 0) D(z)``; relative error ``<= ~rtol`` from the table.

        Raises
        ------
        TypeError
            Non-real ``R``.
        ValueError
            ``R`` not finite, ``<= 0``, or outside the table's range.
        RedshiftRangeError
            ``z > cosmology.zmax``.
        """
        rr = self._as_R(R, exact)
        D = self._growth(z)
        if rr.size == 0:
            s0 = rr
        elif exact:
            s0 = self._sigma0(rr.ravel()).reshape(rr.shape)
        else:
            s0 = self.table()(rr)
        out = s0 * D
        if np.ndim(R) == 0 and np.ndim(z) == 0:
            return float(out)
        return np.asarray(out, dtype=np.float64)

    def power_spectrum(self, *, k_range=None, rtol=None, R_range=None, window="tophat"):
        """This spectrum as a :class:`~numfit.cosmology.PowerSpectrum` source.

        ``P(k) = power(k)`` at z = 0 is tabulated by AutoKnots on ``k_range`` and the
        PowerSpectrum's tables (σ, ``d ln σ / d ln R``, either window) are built from it;
        redshifts enter through this object's cosmology (``σ(R, z) = σ(R) D(z)``).
        Cost: with the default wide k range (1e-5 to 1e6 /Mpc) the wiggles need ~8700 P
        evaluations at rtol 1e-8 and the σ table about 0.6 s (agreeing with this object's
        own σ quadrature to 4.4e-10, the quadratures to 2e-12); this object's
        :meth:`sigma` is the faster route to σ of the EH spectrum itself.

        Parameters
        ----------
        k_range : (float, float), optional
            Default ``(kmin, kmax)`` of this object.
        rtol : float, optional
            Default this object's ``rtol`` (at least 1e-10).
        R_range : (float, float), optional
            Default ``(Rmin, Rmax)`` of this object.
        window : {"tophat", "gaussian"}, optional

        Returns
        -------
        PowerSpectrum

        Examples
        --------
        >>> from numfit.cosmology import LinearPower
        >>> lp = LinearPower(rtol=1e-6)
        >>> ps = lp.power_spectrum(R_range=(1.0, 50.0))
        >>> bool(abs(ps.sigma(8 / 0.7) / lp.sigma(8 / 0.7, exact=True) - 1) < 1e-6)
        True
        """
        from ._spectrum import PowerSpectrum
        return PowerSpectrum(self, k_range=k_range or (self._kmin, self._kmax),
                             rtol=max(self._rtol, 1e-10) if rtol is None else rtol,
                             R_range=R_range or (self._Rmin, self._Rmax), window=window,
                             cosmology=self._cosmo)

    def lagrangian_radius(self, M):
        """``R(M) = (3 M / (4 π ρ̄_m0))^(1/3)`` [Mpc] for masses ``M`` [M_sun].

        Parameters
        ----------
        M : array_like
            Masses [M_sun], ``> 0``.

        Returns
        -------
        float or ndarray
        """
        mm = _as_positive("M", M, " [M_sun]")
        rho = float(self._cosmo.mean_matter_density(0.0))
        return _out(np.cbrt(3.0 * mm / (4.0 * math.pi * rho)), M)

    def sigma_mass(self, M, z=0.0, *, exact=False):
        """``σ(R(M), z)`` with the Lagrangian radius ``R(M) = (3M / (4π ρ̄_m0))^(1/3)``.

        Parameters
        ----------
        M : array_like
            Masses [M_sun], ``> 0``; ``R(M)`` must lie in ``[Rmin, Rmax]`` unless ``exact``.
        z : array_like, optional
            Redshifts, broadcast against ``M``.
        exact : bool, optional
            Quadrature instead of the table.

        Returns
        -------
        float or ndarray

        Raises
        ------
        ValueError
            ``M <= 0`` or not finite, or ``R(M)`` outside the table's range.
        """
        R = self.lagrangian_radius(M)
        try:
            return self.sigma(R, z, exact=exact)
        except ValueError as exc:
            if "outside the sigma table" in str(exc):
                mm = np.asarray(M, dtype=np.float64)
                rho = float(self._cosmo.mean_matter_density(0.0))
                m_lo, m_hi = (4.0 * math.pi * rho / 3.0 * r ** 3
                              for r in (self._Rmin, self._Rmax))
                raise ValueError(
                    f"M in [{mm.min():g}, {mm.max():g}] M_sun has Lagrangian radii outside "
                    f"the sigma table's range [{self._Rmin:g}, {self._Rmax:g}] Mpc, i.e. "
                    f"M in [{m_lo:.4g}, {m_hi:.4g}] M_sun; widen it with "
                    "LinearPower(..., Rmin=..., Rmax=...) or pass exact=True") from None
            raise
