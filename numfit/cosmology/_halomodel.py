"""Halo-model basics: spherical-overdensity mass definitions, NFW conversion between them,
concentration–mass relations, the halo mass function and the linear halo bias.

Units (as in the rest of :mod:`numfit.cosmology`, no factors of h): masses in M_sun,
radii in physical Mpc, densities in M_sun / Mpc³ (physical), number densities
``dn/dlnM`` in comoving 1 / Mpc³.

Mass definitions
----------------
``"<N>c"`` (e.g. ``"200c"``, ``"500c"``): mean density inside ``R_Δ`` is ``N ρ_c(z)``;
``"<N>m"`` (``"200m"``): ``N ρ_m(z)`` with the physical mean matter density
``ρ_m(z) = Om0 ρ_c0 (1 + z)³``; ``"vir"``: ``Δ_vir(z) ρ_c(z)`` with the fit of Bryan &
Norman (1998, ApJ 495, 80), ``Δ_vir = 18π² + 82x − 39x²``, ``x = Ω_m(z) − 1`` (flat ΛCDM,
accurate to ~1 % there) or ``18π² + 60x − 32x²`` for a universe without dark energy
(``Ode0 == 0``).  For curved models with dark energy and for ``w ≠ −1`` no closed fit
exists: the flat-Λ fit is applied with that model's own ``Ω_m(z)`` (the common
approximation; it is not the spherical-collapse solution of such models).

NFW conversion
--------------
With ``m̂(x) = ln(1 + x) − x / (1 + x)`` the mean density inside ``x = r / r_s`` is
``∝ m̂(x) / x³``, so the radius of a new definition solves

    m̂(x) / x³ = (ρ_out / ρ_in) m̂(c) / c³,

which is solved for ``ln x`` by Newton's method safeguarded by a bracket: the slope
``d ln(m̂/x³) / d ln x = x² / ((1 + x)² m̂) − 3`` lies in ``(−3, −1]``, so the root lies
between ``ln c − Δ`` and ``ln c − Δ/3`` for ``Δ = ln(target) − ln(m̂(c)/c³)``.  The result
is converged to rounding (~1e-15 relative in ``x``).
"""
import functools
import math
import re
import warnings

import numpy as np

from .._errors import CalibrationRangeWarning
from .._io import SaveMixin
from .._validation import check_float, check_option, check_real_array
from ._background import Cosmology
from ._power import LinearPower
from ._profiles import _nfw_m
from ._spectrum import PowerSpectrum, _user_level
from ._units import strip_unit

__all__ = ["parse_mdef", "delta_vir", "density_threshold", "mass_to_radius",
           "radius_to_mass", "convert_mass", "concentration", "multiplicity", "halo_bias",
           "MassFunction", "DELTA_C"]

#: The linear collapse threshold of an Einstein–de Sitter universe, (3/20) (12π)^(2/3).
DELTA_C = 0.15 * (12.0 * math.pi) ** (2.0 / 3.0)

_MDEF_RE = re.compile(r"^([0-9]+(?:\.[0-9]*)?)([cm])$")


# ============================================================================ helpers
def _check_cosmology(cosmology):
    if cosmology is None:
        return Cosmology()
    if not isinstance(cosmology, Cosmology):
        raise TypeError("`cosmology` must be a numfit.cosmology.Cosmology or None; got "
                        f"{type(cosmology).__name__}")
    return cosmology


def _as_z(z):
    return check_real_array("z", z, lo=0.0)


def _out(arr, *inputs):
    arr = np.asarray(arr, dtype=np.float64)
    if all(np.ndim(v) == 0 for v in inputs):
        return float(arr)
    return arr


def parse_mdef(mdef):
    """Split a mass-definition string into its reference and overdensity.

    Parameters
    ----------
    mdef : str
        ``"<N>c"`` (``N`` times the critical density, e.g. ``"200c"``, ``"500c"``),
        ``"<N>m"`` (``N`` times the mean matter density, ``"200m"``) or ``"vir"``
        (Bryan & Norman 1998).  ``N`` is a positive number.

    Returns
    -------
    (str, float or None)
        ``("critical", N)``, ``("mean", N)`` or ``("vir", None)``.

    Raises
    ------
    TypeError
        ``mdef`` not a string.
    ValueError
        An unknown definition (the message names ``mdef``).

    Examples
    --------
    >>> from numfit.cosmology import parse_mdef
    >>> parse_mdef("500c"), parse_mdef("200m"), parse_mdef("vir")
    (('critical', 500.0), ('mean', 200.0), ('vir', None))
    """
    if not isinstance(mdef, str):
        raise TypeError(f"`mdef` must be a str such as '200c', '500c', '200m' or 'vir'; got "
                        f"{type(mdef).__name__}")
    if mdef == "vir":
        return "vir", None
    m = _MDEF_RE.match(mdef)
    if m is None or not float(m.group(1)) > 0:
        raise ValueError(f"`mdef` must be '<N>c', '<N>m' (N > 0, e.g. '200c', '500c', "
                         f"'200m') or 'vir'; got {mdef!r}")
    return ("critical" if m.group(2) == "c" else "mean"), float(m.group(1))


def delta_vir(z, cosmology=None):
    """The virial overdensity ``Δ_vir(z)`` with respect to the critical density.

    Bryan & Norman (1998, ApJ 495, 80): ``18π² + 82x − 39x²`` with ``x = Ω_m(z) − 1``
    (flat ΛCDM) and ``18π² + 60x − 32x²`` when ``Ode0 == 0``; other models (curved with
    dark energy, ``w ≠ −1``) use the first form with their own ``Ω_m(z)`` (an
    approximation, see the module notes).

    Parameters
    ----------
    z : array_like
        Redshifts, ``>= 0``.
    cosmology : Cosmology or None, optional
        Default ``Cosmology()``.

    Returns
    -------
    float or ndarray
        Dimensionless; multiply by ``cosmology.critical_density(z)`` [M_sun/Mpc³].

    Examples
    --------
    >>> from numfit.cosmology import Cosmology, delta_vir
    >>> round(delta_vir(0.0, Cosmology(H0=70, Om0=0.3)), 4)
    101.1429
    """
    cosmo = _check_cosmology(cosmology)
    zz = _as_z(z)
    x = np.asarray(cosmo.Om(zz), dtype=np.float64) - 1.0
    if cosmo.Ode0 == 0.0:
        d = 18.0 * math.pi ** 2 + 60.0 * x - 32.0 * x * x
    else:
        d = 18.0 * math.pi ** 2 + 82.0 * x - 39.0 * x * x
    return _out(d, z)


def _threshold_over_crit(mdef, zz, cosmo):
    """Δ with respect to ρ_c(z) (array over zz)."""
    ref, n = parse_mdef(mdef)
    if ref == "critical":
        return np.full(np.shape(zz), n)
    if ref == "mean":
        return n * np.asarray(cosmo.Om(zz), dtype=np.float64)
    return np.asarray(delta_vir(zz, cosmo), dtype=np.float64)


def density_threshold(mdef, z, cosmology=None):
    """The mean density inside ``R_Δ`` for a mass definition [M_sun / Mpc³], physical.

    Parameters
    ----------
    mdef : str
        ``"200c"``, ``"500c"``, ``"200m"``, ``"vir"`` or any ``"<N>c"`` / ``"<N>m"``
        (:func:`parse_mdef`).
    z : array_like
        Redshifts, ``>= 0``.
    cosmology : Cosmology or None, optional
        Default ``Cosmology()`` (flat, H0 = 70, Om0 = 0.3).

    Returns
    -------
    float or ndarray
        ``N ρ_c(z)``, ``N ρ_m(z)`` (``ρ_m = Om0 ρ_c0 (1+z)³``) or ``Δ_vir(z) ρ_c(z)``, in
        M_sun / Mpc³ (physical).

    Raises
    ------
    ValueError
        Unknown ``mdef``; ``z`` negative or not finite.

    Examples
    --------
    >>> from numfit.cosmology import Cosmology, density_threshold
    >>> cosmo = Cosmology(H0=70, Om0=0.3)
    >>> f"{density_threshold('200c', 0.0, cosmo):.6e}"
    '2.719859e+13'
    >>> round(density_threshold('200m', 0.5, cosmo) / density_threshold('200c', 0.5, cosmo), 6)
    0.591241
    """
    cosmo = _check_cosmology(cosmology)
    parse_mdef(mdef)
    zz = _as_z(z)
    rho_c = np.asarray(cosmo.critical_density(zz), dtype=np.float64)
    return _out(_threshold_over_crit(mdef, zz, cosmo) * rho_c, z)


def _masses(name, value):
    return check_real_array(name, strip_unit(name, value, "Msun"), lo=0.0, lo_open=True,
                            unit=" [M_sun]")


def mass_to_radius(M, z, mdef, cosmology=None):
    """The radius ``R_Δ = (3 M / (4π ρ_Δ))^(1/3)`` [Mpc, physical] of a mass ``M_Δ``.

    Parameters
    ----------
    M : array_like
        Masses ``M_Δ`` [M_sun], ``> 0``.
    z : array_like
        Redshifts, ``>= 0``, broadcast against ``M``.
    mdef : str
        Mass definition (:func:`parse_mdef`).
    cosmology : Cosmology or None, optional

    Returns
    -------
    float or ndarray
        ``R_Δ`` in physical Mpc.

    Raises
    ------
    ValueError
        ``M <= 0``, unknown ``mdef`` or bad ``z`` (the message names the argument).

    Examples
    --------
    >>> from numfit.cosmology import mass_to_radius, radius_to_mass
    >>> R = mass_to_radius(1e14, 0.3, "200c")
    >>> round(R, 4), round(radius_to_mass(R, 0.3, "200c") / 1e14, 12)
    (0.8644, 1.0)
    """
    mm = _masses("M", M)
    rho = density_threshold(mdef, z, cosmology)
    return _out(np.cbrt(3.0 * mm / (4.0 * math.pi * np.asarray(rho))), M, z)


def radius_to_mass(R, z, mdef, cosmology=None):
    """The mass ``M_Δ = (4π/3) ρ_Δ R³`` [M_sun] inside a radius ``R`` [Mpc, physical].

    Parameters
    ----------
    R : array_like
        Radii [Mpc, physical], ``> 0``.
    z : array_like
        Redshifts, ``>= 0``, broadcast against ``R``.
    mdef : str
        Mass definition (:func:`parse_mdef`).
    cosmology : Cosmology or None, optional

    Returns
    -------
    float or ndarray
        ``M_Δ`` in M_sun.

    Raises
    ------
    ValueError
        ``R <= 0``, unknown ``mdef`` or bad ``z``.
    """
    rr = check_real_array("R", strip_unit("R", R, "Mpc"), lo=0.0, lo_open=True,
                          unit=" [Mpc]")
    rho = density_threshold(mdef, z, cosmology)
    return _out(4.0 * math.pi / 3.0 * np.asarray(rho) * rr ** 3, R, z)


# ============================================================================ NFW conversion
def _ln_g(x):
    """ln(m̂(x) / x³) and its slope in ln x, ``x² / ((1 + x)² m̂) − 3``, for the NFW m̂."""
    u = x / (1.0 + x)
    m = np.log1p(x) - u
    if np.any(u < 0.1):                   # m̂ cancels there: its series (profiles module)
        m = _nfw_m(x)
    return np.log(m / (x * x * x)), u * u / m - 3.0


def _solve_nfw_x(c, ratio):
    """x with m̂(x)/x³ = ratio · m̂(c)/c³ (flat arrays of equal shape).

    Newton's method in ``ln x`` started from ``ln c`` (where ``ln g`` and its slope are
    known), safeguarded by the bracket ``[ln c − Δ, ln c − Δ/3]`` (bisection when a step
    leaves it).  Once a step is below 1e-9 the next one would be below rounding
    (quadratic convergence, curvature O(1)), so it is taken and the loop stops.
    """
    u0 = np.log(c)
    g0, s0 = _ln_g(c)
    d = np.log(ratio)                     # ln(target) − ln g(c)
    pad = 1e-12 * (1.0 + np.abs(u0))
    lo = u0 + np.minimum(-d, -d / 3.0) - pad
    hi = u0 + np.maximum(-d, -d / 3.0) + pad
    target = g0 + d
    u = u0 + d / s0                       # the first Newton step from ln c
    for _ in range(100):
        f, s = _ln_g(np.exp(u))
        f -= target
        # ln g is decreasing: f > 0 puts the root above u, f < 0 below
        lo = np.where(f > 0, u, lo)
        hi = np.where(f < 0, u, hi)
        step = f / s
        un = u - step
        bad = (un <= lo) | (un >= hi)
        if bad.any():
            un = np.where(bad, 0.5 * (lo + hi), un)
        elif np.max(np.abs(step)) <= 1e-9:
            return np.exp(un)
        u = un
    return np.exp(u)                      # pragma: no cover - bisection converges first


def convert_mass(M, c, z, mdef_in, mdef_out, cosmology=None):
    """Convert an NFW halo's mass and concentration to another mass definition.

    The NFW profile with ``M_in``, ``c_in`` (``c = R_Δ / r_s``) is kept fixed and the radius
    where its mean enclosed density equals the new threshold is found (module notes).

    Parameters
    ----------
    M : array_like
        Masses ``M_in`` [M_sun] in definition ``mdef_in``, ``> 0``.
    c : array_like
        Concentrations ``c_in = R_in / r_s``, ``> 0``.
    z : array_like
        Redshifts, ``>= 0``.  ``M``, ``c`` and ``z`` are broadcast together.
    mdef_in, mdef_out : str
        Mass definitions (:func:`parse_mdef`): ``"200c"``, ``"500c"``, ``"200m"``,
        ``"vir"``, ...
    cosmology : Cosmology or None, optional
        Default ``Cosmology()``.

    Returns
    -------
    M_out : float or ndarray
        Mass in ``mdef_out`` [M_sun].
    R_out : float or ndarray
        Its radius [Mpc, physical].
    c_out : float or ndarray
        Its concentration ``R_out / r_s``.

    Raises
    ------
    ValueError
        ``M <= 0`` or ``c <= 0``, an unknown ``mdef_in`` / ``mdef_out``, a bad ``z``.

    Notes
    -----
    Converged to rounding (relative error ~1e-15 in ``c_out``, ~1e-14 in ``M_out``); the
    round trip ``mdef_in → mdef_out → mdef_in`` returns ``M`` to ~1e-14.

    Examples
    --------
    >>> from numfit.cosmology import Cosmology, convert_mass
    >>> cosmo = Cosmology(H0=70, Om0=0.3)
    >>> M500, R500, c500 = convert_mass(1e14, 5.0, 0.3, "200c", "500c", cosmo)
    >>> round(M500 / 1e14, 6), round(c500, 6)
    (0.722114, 3.305156)
    >>> M200, _, c200 = convert_mass(M500, c500, 0.3, "500c", "200c", cosmo)
    >>> round(M200 / 1e14, 12), round(c200, 12)
    (1.0, 5.0)
    """
    cosmo = _check_cosmology(cosmology)
    parse_mdef(mdef_in)
    parse_mdef(mdef_out)
    mm = _masses("M", M)
    cc = check_real_array("c", c, lo=0.0, lo_open=True)
    zz = _as_z(z)
    mb, cb, zb = np.broadcast_arrays(mm, cc, zz)
    shape = mb.shape
    mb, cb, zb = (np.ascontiguousarray(a, dtype=np.float64).ravel() for a in (mb, cb, zb))
    d_in = _threshold_over_crit(mdef_in, zb, cosmo)
    d_out = _threshold_over_crit(mdef_out, zb, cosmo)
    rho_c = np.asarray(cosmo.critical_density(zb), dtype=np.float64)
    if mb.size:
        x = _solve_nfw_x(cb, d_out / d_in)
        m_out = mb * _nfw_m(x) / _nfw_m(cb)
    else:
        x = m_out = mb.copy()
    r_out = np.cbrt(3.0 * m_out / (4.0 * math.pi * d_out * rho_c))
    res = [a.reshape(shape) for a in (m_out, r_out, x)]
    if all(np.ndim(v) == 0 for v in (M, c, z)):
        return tuple(float(a) for a in res)
    return tuple(res)


# ============================================================================ σ sources
def _check_power(power):
    if isinstance(power, LinearPower):
        return power
    if isinstance(power, PowerSpectrum):
        if power._window != "tophat":
            raise ValueError("`power` must use the top-hat window (M = 4π ρ̄_m R³ / 3); got "
                             f"window={power._window!r}")
        if power.cosmology is None:
            raise ValueError("`power` needs a cosmology (for ρ̄_m): build the PowerSpectrum "
                             "with cosmology=")
        return power
    raise TypeError("`power` must be a numfit.cosmology.LinearPower or PowerSpectrum; got "
                    f"{type(power).__name__}")


class _SigmaSource:
    """σ(M, z) and d ln σ / d ln M from a LinearPower or a top-hat PowerSpectrum."""

    def __init__(self, power):
        self.power = _check_power(power)
        self._deriv = None
        self._rho_m0 = None

    @property
    def cosmology(self):
        return self.power.cosmology

    def sigma(self, M, z):
        return np.asarray(self.power.sigma_mass(M, z), dtype=np.float64)

    def sigma_and_slope(self, M, z):
        """σ(M, z) and d ln σ / d ln M for a validated float array M and a float z."""
        p = self.power
        if isinstance(p, PowerSpectrum):
            return (np.asarray(p.sigma_mass(M, z), dtype=np.float64),
                    np.asarray(p.dlnsigma_dlnM(M, z), dtype=np.float64))
        rho = self._rho_m0
        if rho is None:
            rho = self._rho_m0 = float(p.cosmology.mean_matter_density(0.0))
        R = np.cbrt(3.0 * M / (4.0 * math.pi * rho))    # as LinearPower.lagrangian_radius
        if R.size and (R.min() < p.Rmin or R.max() > p.Rmax):
            p.sigma_mass(M, z)            # raises LinearPower's own range message
        tab = p.table()
        if self._deriv is None:
            self._deriv = tab.derivative()
        s0 = np.asarray(tab(R), dtype=np.float64)
        slope = R * np.asarray(self._deriv(R), dtype=np.float64) / s0 / 3.0
        D = 1.0 if z == 0.0 else float(p.cosmology.growth_factor(z))
        return s0 * D, slope

    def dlnsigma_dlnM(self, M, z):
        return self.sigma_and_slope(np.asarray(M, dtype=np.float64), z)[1]

    def __getstate__(self):
        return {"power": self.power, "_deriv": None, "_rho_m0": None}


# ============================================================================ c(M)
_DUFFY08 = {"200c": (5.71, -0.084, -0.47), "vir": (7.85, -0.081, -0.71),
            "200m": (10.14, -0.081, -1.01)}
_BHATTACHARYA13 = {"200c": (5.9, 0.54, -0.35), "vir": (7.7, 0.9, -0.29),
                   "200m": (9.0, 1.15, -0.29)}
_CM_MODELS = ("duffy08", "bhattacharya13")


def concentration(M, z, mdef="200c", model="duffy08", *, cosmology=None, power=None,
                  delta_c=DELTA_C):
    """NFW concentration–mass relation ``c_Δ(M_Δ, z)``.

    Parameters
    ----------
    M : array_like
        Masses ``M_Δ`` [M_sun] (no h), ``> 0``.
    z : array_like
        Redshifts, ``>= 0``, broadcast against ``M``.
    mdef : str, optional
        The mass definition of ``M`` and of the returned concentration.  The models are
        calibrated for ``"200c"``, ``"vir"`` and ``"200m"``; any other definition
        (``"500c"``, ...) is reached through the NFW profile: the ``"200c"`` halo whose
        :func:`convert_mass` to ``mdef`` has mass ``M`` is found by fixed-point
        iteration (to 1e-13 in mass) and its converted concentration returned.
    model : {"duffy08", "bhattacharya13"}, optional
        ``"duffy08"``: Duffy et al. (2008, MNRAS 390, L64), full sample, NFW fits,
        ``c = A (M / M_pivot)^B (1 + z)^C`` with ``M_pivot = 2e12 M_sun/h`` (this function
        converts: ``M_pivot = 2e12 / h`` M_sun); calibrated for ``1e11–1e15 M_sun/h``,
        ``0 <= z <= 2`` (WMAP5).
        ``"bhattacharya13"``: Bhattacharya et al. (2013, ApJ 766, 32), Table 2,
        ``c = A D(z)^B ν^C`` with the peak height ``ν = δ_c / σ(M, z)`` and the linear
        growth factor ``D(z)`` (``D(0) = 1``); needs ``power``.  Calibrated for
        ``0 <= z <= 2`` and ``M >~ 2e12 M_sun/h``.
    cosmology : Cosmology or None, optional
        Gives ``h`` (Duffy); default: ``power.cosmology`` or ``Cosmology()``.
    power : LinearPower or PowerSpectrum, optional
        σ(M, z) for the ν-based model; ``M`` is its Lagrangian mass
        ``(4π/3) ρ̄_m0 R³`` (the usual convention of the fit).
    delta_c : float, optional
        Collapse threshold in ν (default :data:`DELTA_C` = 1.68647).

    Returns
    -------
    float or ndarray
        Concentration ``c_Δ = R_Δ / r_s`` (dimensionless).

    Raises
    ------
    ValueError
        Unknown ``model`` or ``mdef``; ``M <= 0``; bad ``z``; ``power`` missing for
        ``"bhattacharya13"``.

    Examples
    --------
    >>> from numfit.cosmology import Cosmology, LinearPower, concentration
    >>> cosmo = Cosmology(H0=70, Om0=0.3)
    >>> round(concentration(2e12 / 0.7, 0.0, "200c", cosmology=cosmo), 6)
    5.71
    >>> lp = LinearPower(cosmo, sigma8=0.8, rtol=1e-6)
    >>> round(concentration(1e14, 0.5, "200c", "bhattacharya13", power=lp), 3)
    3.881
    """
    model = check_option("model", model, _CM_MODELS)
    parse_mdef(mdef)
    table = _DUFFY08 if model == "duffy08" else _BHATTACHARYA13
    mm = _masses("M", M)
    zz = _as_z(z)
    if model == "duffy08":
        if cosmology is None and power is not None:
            cosmology = _check_power(power).cosmology
        cosmo = _check_cosmology(cosmology)
        src = None
    else:
        if power is None:
            raise ValueError("`power` (a LinearPower or PowerSpectrum) is needed for "
                             "model='bhattacharya13' (it uses σ(M, z))")
        src = _SigmaSource(power)
        cosmo = src.cosmology if cosmology is None else _check_cosmology(cosmology)
        delta_c = check_float("delta_c", delta_c, lo=0.0, lo_open=True)
    if mdef in table:
        return _out(_c_native(mm, zz, model, mdef, cosmo, src, delta_c), M, z)
    # another definition: the native 200c halo whose NFW profile has mass M in `mdef`
    mb, zb = np.broadcast_arrays(mm, zz)
    shape = mb.shape
    mt, zf = mb.ravel().astype(np.float64), zb.ravel().astype(np.float64)
    mn = mt.copy()
    c_out = mn
    for _ in range(60):
        cn = _c_native(mn, zf, model, "200c", cosmo, src, delta_c)
        m_out, _, c_out = convert_mass(mn, cn, zf, "200c", mdef, cosmo)
        m_out, c_out = np.atleast_1d(m_out), np.atleast_1d(c_out)
        corr = mt / m_out
        mn = mn * corr
        if mt.size == 0 or np.max(np.abs(corr - 1.0)) <= 1e-13:
            break
    return _out(c_out.reshape(shape), M, z)


def _c_native(mb, zb, model, mdef, cosmo, src, delta_c):
    """c(M, z) of a model in one of its calibrated definitions (validated arrays, which
    broadcast)."""
    if model == "duffy08":
        A, B, C = _DUFFY08[mdef]
        return A * (mb * cosmo.h / 2e12) ** B * (1.0 + zb) ** C
    A, B, C = _BHATTACHARYA13[mdef]
    sig = src.sigma(mb, zb)
    D = np.asarray(src.cosmology.growth_factor(zb), dtype=np.float64)
    return A * D ** B * (delta_c / sig) ** C


# ============================================================================ f(σ), b(ν)
_HMF_MODELS = ("press_schechter", "sheth_tormen", "tinker08", "tinker10")
_BIAS_MODELS = ("press_schechter", "sheth_tormen", "tinker10")
_DEFAULT_BIAS = {"press_schechter": "press_schechter", "sheth_tormen": "sheth_tormen",
                 "tinker08": "tinker10", "tinker10": "tinker10"}
# Sheth & Tormen (1999, MNRAS 308, 119)
_ST_A, _ST_a, _ST_p = 0.3222, 0.707, 0.3
# Tinker et al. (2008, ApJ 688, 709), Table 2 (Δ with respect to the mean density)
_T08_DELTA = (200.0, 300.0, 400.0, 600.0, 800.0, 1200.0, 1600.0, 2400.0, 3200.0)
_T08_A = (0.186, 0.200, 0.212, 0.218, 0.248, 0.255, 0.260, 0.260, 0.260)
_T08_a = (1.47, 1.52, 1.56, 1.61, 1.87, 2.13, 2.30, 2.53, 2.66)
_T08_b = (2.57, 2.25, 2.05, 1.87, 1.59, 1.51, 1.46, 1.44, 1.41)
_T08_c = (1.19, 1.27, 1.34, 1.45, 1.58, 1.80, 1.97, 2.24, 2.44)
# Tinker et al. (2010, ApJ 724, 878), Table 4 (α, β, γ, φ, η at z = 0)
_T10_alpha = (0.368, 0.363, 0.385, 0.389, 0.393, 0.365, 0.379, 0.355, 0.327)
_T10_beta = (0.589, 0.585, 0.544, 0.543, 0.564, 0.623, 0.637, 0.673, 0.702)
_T10_gamma = (0.864, 0.922, 0.987, 1.09, 1.20, 1.34, 1.50, 1.68, 1.81)
_T10_phi = (-0.729, -0.789, -0.910, -1.05, -1.20, -1.26, -1.45, -1.50, -1.49)
_T10_eta = (-0.243, -0.261, -0.261, -0.273, -0.278, -0.301, -0.301, -0.319, -0.336)
_SPLINES = {}
# the ranges the papers calibrated the fits on: simulation outputs at 0 <= z <= 2.5
# (Tinker et al. 2008) and 0 <= z <= 3 (Tinker et al. 2010), overdensities
# 200 <= Δ_m <= 3200 (both papers' tables)
_Z_CALIBRATED = {"tinker08": 2.5, "tinker10": 3.0}
_PAPERS = {"tinker08": "Tinker et al. 2008", "tinker10": "Tinker et al. 2010"}
_DELTA_LO, _DELTA_HI = 200.0, 3200.0


def _warn_z(model, z):
    """CalibrationRangeWarning if a Tinker fit is used beyond its calibrated redshifts
    (a scalar comparison: no cost on the arrays)."""
    zmax = _Z_CALIBRATED.get(model)
    if zmax is None or not z > zmax:
        return
    what = ("its redshift evolution (A, a, b ∝ powers of 1 + z) is extrapolated"
            if model == "tinker08" else "its parameters are held at their z = 3 values")
    warnings.warn(CalibrationRangeWarning(
        f"model={model!r} ({_PAPERS[model]}) is calibrated for 0 <= z <= {zmax:g}; got "
        f"z = {z:g}: {what}", model=model, quantity="z", value=float(z),
        valid=(0.0, zmax)), stacklevel=_user_level())


def _warn_delta(model, d):
    """CalibrationRangeWarning for the Tinker10 bias at Δ_m outside [200, 3200]."""
    if _DELTA_LO * (1 - 1e-12) <= d <= _DELTA_HI * (1 + 1e-12):
        return
    warnings.warn(CalibrationRangeWarning(
        f"`delta_m` = {d:.6g} (overdensity with respect to the mean density) is outside "
        f"[200, 3200], where model={model!r} ({_PAPERS[model]}) is calibrated: the fit is "
        "extrapolated", model=model, quantity="delta_m", value=float(d),
        valid=(_DELTA_LO, _DELTA_HI)), stacklevel=_user_level())


def _spline(name, values):
    """Natural cubic spline of a Tinker parameter in log10 Δ (cached)."""
    sp = _SPLINES.get(name)
    if sp is None:
        from scipy.interpolate import CubicSpline
        sp = CubicSpline(np.log10(_T08_DELTA), np.asarray(values), bc_type="natural")
        _SPLINES[name] = sp
    return sp


def _check_delta_m(delta_m, model):
    d = check_float("delta_m", delta_m, lo=0.0, lo_open=True)
    if not (200.0 * (1 - 1e-12) <= d <= 3200.0 * (1 + 1e-12)):
        raise ValueError(f"`delta_m` (overdensity with respect to the mean density) must lie "
                         f"in [200, 3200] for model={model!r} (the range of its calibration); "
                         f"got {d:g}")
    return min(max(d, 200.0), 3200.0)


def _tinker_params(names, values, d):
    if d in _T08_DELTA:
        i = _T08_DELTA.index(d)
        return [v[i] for v in values]
    ld = math.log10(d)
    return [float(_spline(n, v)(ld)) for n, v in zip(names, values)]


def _sigma_array(sigma):
    return check_real_array("sigma", sigma, lo=0.0, lo_open=True)


def multiplicity(sigma, model, *, z=0.0, delta_m=200.0, delta_c=DELTA_C):
    r"""The multiplicity function ``f(σ)`` of a halo mass function.

    ``dn/dlnM = f(σ) (ρ̄_m0 / M) |d ln σ / d ln M|`` [comoving 1/Mpc³]; this function is
    the dimensionless ``f`` alone, so that fits can be compared for the same σ.

    Parameters
    ----------
    sigma : array_like
        ``σ(M, z)`` (top-hat, linear), ``> 0``.
    model : {"press_schechter", "sheth_tormen", "tinker08", "tinker10"}
        ``"press_schechter"`` (Press & Schechter 1974, ApJ 187, 425):
        ``f = √(2/π) ν e^{−ν²/2}``, ``ν = δ_c / σ``.
        ``"sheth_tormen"`` (Sheth & Tormen 1999, MNRAS 308, 119):
        ``f = A √(2a/π) [1 + (aν²)^{−p}] ν e^{−aν²/2}``, ``A = 0.3222``, ``a = 0.707``,
        ``p = 0.3``.
        ``"tinker08"`` (Tinker et al. 2008, ApJ 688, 709, eqs. 3, 5–8, Table 2):
        ``f = A [(σ/b)^{−a} + 1] e^{−c/σ²}``; the parameters are natural cubic splines in
        ``log10 Δ_m`` through Table 2 (the paper's prescription) and evolve as
        ``A (1+z)^{−0.14}``, ``a (1+z)^{−0.06}``, ``b (1+z)^{−α}``,
        ``log10 α = −[0.75 / log10(Δ_m / 75)]^{1.2}`` (calibrated for ``0 <= z <= 2.5``
        and, at z = 0, ``−0.6 <= ln σ⁻¹ <= 0.4``, about ``1e11–1e15 M_sun/h``; beyond
        ``z = 2.5`` the evolution is extrapolated).
        ``"tinker10"`` (Tinker et al. 2010, ApJ 724, 878, eq. 8, Table 4):
        ``f = ν g(ν)``, ``g = α [1 + (βν)^{−2φ}] ν^{2η} e^{−γν²/2}`` with
        ``β (1+z)^{0.20}``, ``φ (1+z)^{−0.08}``, ``η (1+z)^{0.27}``, ``γ (1+z)^{−0.01}``
        (calibrated for ``0 <= z <= 3``; beyond, z is capped at 3: the parameters keep
        their z = 3 values).
    z : float, optional
        Redshift (Tinker models only), ``>= 0``.
    delta_m : float, optional
        Overdensity with respect to the mean matter density (Tinker models), in
        ``[200, 3200]`` (the range of both papers' tables; outside it is an error: the
        parameter splines are not extrapolated).
    delta_c : float, optional
        Collapse threshold in ``ν = δ_c / σ`` (PS, ST, Tinker10), default 1.68647.

    Returns
    -------
    float or ndarray
        ``f(σ)`` (dimensionless).

    Raises
    ------
    ValueError
        Unknown ``model``; ``sigma <= 0``; ``delta_m`` outside ``[200, 3200]``; ``z < 0``.

    Warns
    -----
    CalibrationRangeWarning
        ``z > 2.5`` (``"tinker08"``) or ``z > 3`` (``"tinker10"``): beyond the redshifts
        the fit was calibrated on (``numfit._errors.CalibrationRangeWarning``, a
        ``NumfitWarning``; silence it with ``warnings.simplefilter("ignore",
        CalibrationRangeWarning)``).  σ outside Tinker08's ``ln σ⁻¹`` range is not
        warned about (common halo-model integrals reach it at every redshift).

    Examples
    --------
    >>> import numpy as np
    >>> from numfit.cosmology import multiplicity
    >>> round(multiplicity(1.0, "tinker08"), 6)
    0.283208
    >>> from scipy.integrate import quad
    >>> f = lambda lnnu: multiplicity(1.68647 / np.exp(lnnu), "press_schechter")
    >>> round(quad(f, -30, 5)[0], 10)
    1.0
    """
    model = check_option("model", model, _HMF_MODELS)
    s = _sigma_array(sigma)
    z = check_float("z", z, lo=0.0)
    delta_c = check_float("delta_c", delta_c, lo=0.0, lo_open=True)
    d = _check_delta_m(delta_m, model) if model in ("tinker08", "tinker10") else 200.0
    _warn_z(model, z)
    return _out(_multiplicity(s, model, z, d, delta_c), sigma)


@functools.lru_cache(maxsize=256)
def _fit_params(model, z, d):
    """The z-evolved parameters of a Tinker fit at Δ_m = d (validated floats)."""
    if model == "tinker08":
        A, a, b, c = _tinker_params(("A", "a", "b", "c"), (_T08_A, _T08_a, _T08_b, _T08_c), d)
        alpha = 10.0 ** (-(0.75 / math.log10(d / 75.0)) ** 1.2)
        zp = 1.0 + z
        return A * zp ** -0.14, a * zp ** -0.06, b * zp ** -alpha, c
    al, be, ga, ph, et = _tinker_params(
        ("alpha", "beta", "gamma", "phi", "eta"),
        (_T10_alpha, _T10_beta, _T10_gamma, _T10_phi, _T10_eta), d)
    zp = 1.0 + min(z, 3.0)
    return al, be * zp ** 0.20, ga * zp ** -0.01, ph * zp ** -0.08, et * zp ** 0.27


def _multiplicity(s, model, z, d, delta_c):
    """f(σ) for a validated float array s and validated scalars."""
    nu = delta_c / s
    if model == "press_schechter":
        return math.sqrt(2.0 / math.pi) * nu * np.exp(-0.5 * nu * nu)
    if model == "sheth_tormen":
        anu2 = _ST_a * nu * nu
        return (_ST_A * math.sqrt(2.0 * _ST_a / math.pi) * (1.0 + anu2 ** -_ST_p) * nu
                * np.exp(-0.5 * anu2))
    if model == "tinker08":
        A, a, b, c = _fit_params(model, z, d)
        return A * ((s / b) ** -a + 1.0) * np.exp(-c / (s * s))
    al, be, ga, ph, et = _fit_params(model, z, d)
    return nu * al * (1.0 + (be * nu) ** (-2.0 * ph)) * nu ** (2.0 * et) \
        * np.exp(-0.5 * ga * nu * nu)


def halo_bias(sigma, model, *, delta_m=200.0, delta_c=DELTA_C):
    """The large-scale linear halo bias ``b(ν)``, ``ν = δ_c / σ``.

    Parameters
    ----------
    sigma : array_like
        ``σ(M, z)``, ``> 0``.
    model : {"press_schechter", "sheth_tormen", "tinker10"}
        ``"press_schechter"``: ``1 + (ν² − 1)/δ_c`` (Cole & Kaiser 1989; Mo & White 1996).
        ``"sheth_tormen"``: ``1 + (aν² − 1)/δ_c + 2p / (δ_c (1 + (aν²)^p))`` (Sheth &
        Tormen 1999, eq. 12; ``a = 0.707``, ``p = 0.3``).
        ``"tinker10"``: Tinker et al. (2010, eq. 6 and Table 2),
        ``1 − A ν^a / (ν^a + δ_c^a) + B ν^b + C ν^c`` with ``y = log10 Δ_m``,
        ``A = 1 + 0.24 y e^{−(4/y)⁴}``, ``a = 0.44 y − 0.88``, ``B = 0.183``, ``b = 1.5``,
        ``C = 0.019 + 0.107 y + 0.19 e^{−(4/y)⁴}``, ``c = 2.4``.
    delta_m : float, optional
        Overdensity with respect to the mean density (Tinker10), ``> 0`` (calibrated
        for 200–3200; outside, the fit is extrapolated with a warning).
    delta_c : float, optional
        Collapse threshold, default 1.68647.

    Returns
    -------
    float or ndarray
        ``b`` (dimensionless).

    Raises
    ------
    ValueError
        Unknown ``model``; ``sigma <= 0`` or not finite; ``delta_m <= 0``;
        ``delta_c <= 0`` (the message names the argument).

    Warns
    -----
    CalibrationRangeWarning
        ``"tinker10"`` with ``delta_m`` outside ``[200, 3200]``.

    Examples
    --------
    >>> from numfit.cosmology import halo_bias
    >>> from numfit.cosmology import DELTA_C
    >>> round(halo_bias(DELTA_C, "press_schechter"), 12)
    1.0
    >>> round(halo_bias(1.0, "tinker10"), 6)
    1.830526
    """
    model = check_option("model", model, _BIAS_MODELS)
    s = _sigma_array(sigma)
    dc = check_float("delta_c", delta_c, lo=0.0, lo_open=True)
    nu = dc / s
    if model == "press_schechter":
        b = 1.0 + (nu * nu - 1.0) / dc
    elif model == "sheth_tormen":
        anu2 = _ST_a * nu * nu
        b = 1.0 + (anu2 - 1.0) / dc + 2.0 * _ST_p / (dc * (1.0 + anu2 ** _ST_p))
    else:
        d = check_float("delta_m", delta_m, lo=0.0, lo_open=True)
        _warn_delta(model, d)
        y = math.log10(d)
        e = math.exp(-(4.0 / y) ** 4)
        A, a = 1.0 + 0.24 * y * e, 0.44 * y - 0.88
        B, bb = 0.183, 1.5
        C, cc = 0.019 + 0.107 * y + 0.19 * e, 2.4
        b = 1.0 - A * nu ** a / (nu ** a + dc ** a) + B * nu ** bb + C * nu ** cc
    return _out(b, sigma)


# ============================================================================ MassFunction
class MassFunction(SaveMixin):
    """Halo mass function ``dn/dlnM`` and linear bias from σ(M, z) of a linear spectrum.

    Parameters
    ----------
    power : LinearPower or PowerSpectrum
        The source of σ(M, z) (top-hat window, ``M = (4π/3) ρ̄_m0 R³``) and of
        ``d ln σ / d ln M``; its cosmology gives ``ρ̄_m0`` and ``Ω_m(z)``.
    model : {"tinker08", "tinker10", "sheth_tormen", "press_schechter"}, optional
        The fit (:func:`multiplicity`).
    mdef : str, optional
        The spherical-overdensity mass definition of ``M`` for the Tinker fits
        (``"200m"``, ``"200c"``, ``"500c"``, ``"vir"``, ...; its overdensity with respect to
        the mean, ``Δ_m(z) = ρ_Δ(z) / ρ_m(z)``, must lie in [200, 3200]).  The
        Press–Schechter and Sheth–Tormen fits have no overdensity and ignore it.
    bias_model : {None, "tinker10", "sheth_tormen", "press_schechter"}, optional
        The bias of :meth:`bias`; None picks the model's own (Tinker10 for the Tinker
        fits, ST for ST, PS for PS).
    delta_c : float, optional
        Collapse threshold, default :data:`DELTA_C` = (3/20)(12π)^(2/3) ≈ 1.68647.

    Raises
    ------
    TypeError
        ``power`` not a LinearPower / PowerSpectrum.
    ValueError
        Unknown ``model``, ``bias_model`` or ``mdef``; a Gaussian-window PowerSpectrum or
        one without a cosmology.

    Warns
    -----
    CalibrationRangeWarning
        From :meth:`dndlnM`, :meth:`dndM` and :meth:`multiplicity` at redshifts beyond
        the fit's calibration (Tinker08 ``z > 2.5``, Tinker10 ``z > 3``), and from
        :meth:`bias` when the Tinker10 bias gets ``Δ_m(z)`` outside [200, 3200] (e.g.
        ``mdef="vir"`` at high z, where ``Δ_vir ρ_c / ρ_m → 18π² ≈ 178``).

    Notes
    -----
    ``dn/dlnM = f(σ) (ρ̄_m0 / M) |d ln σ / d ln M|`` in comoving 1/Mpc³ (M in M_sun,
    ``ρ̄_m0 = Om0 ρ_c0`` in M_sun/Mpc³).  With a :class:`LinearPower` the slope is the
    derivative of its σ table (agreeing with the quadrature to ~1e-8); with a
    :class:`PowerSpectrum` it is that object's own slope table.  The object holds only
    the spectrum and its options: it pickles and saves (``numfit.load``) with it.

    With massive neutrinos ``Om0`` counts CDM and baryons only (astropy's convention, see
    :class:`Cosmology`), so ``ρ̄_m0`` and ``M = (4π/3) ρ̄_m0 R³`` are those of CDM +
    baryons: give the CDM + baryon spectrum (CAMB's ``var1=var2="delta_nonu"``), as the
    mass function of cosmologies with massive neutrinos is best described by it
    (Castorina et al. 2014, JCAP 02, 049; Costanzi et al. 2013, JCAP 12, 012).

    Examples
    --------
    >>> import numpy as np
    >>> from numfit.cosmology import Cosmology, LinearPower, MassFunction
    >>> lp = LinearPower(Cosmology(H0=70, Om0=0.3), sigma8=0.8, rtol=1e-6)
    >>> hmf = MassFunction(lp, model="tinker08", mdef="200m")
    >>> n = hmf.dndlnM(np.array([1e13, 1e14, 1e15]), z=0.0)    # comoving 1/Mpc³
    >>> [f"{v:.3e}" for v in n]
    ['2.445e-04', '2.342e-05', '5.367e-07']
    >>> round(hmf.bias(1e14, 0.0), 4)
    1.8875
    """

    def __init__(self, power, model="tinker08", mdef="200m", *, bias_model=None,
                 delta_c=DELTA_C):
        self._src = _SigmaSource(power)
        self._model = check_option("model", model, _HMF_MODELS)
        parse_mdef(mdef)
        self._mdef = mdef
        if bias_model is None:
            bias_model = _DEFAULT_BIAS[self._model]
        self._bias_model = check_option("bias_model", bias_model, _BIAS_MODELS)
        self._delta_c = check_float("delta_c", delta_c, lo=0.0, lo_open=True)

    power = property(lambda self: self._src.power, doc="The σ source.")
    cosmology = property(lambda self: self._src.cosmology, doc="Its Cosmology.")
    model = property(lambda self: self._model, doc="The mass-function fit.")
    mdef = property(lambda self: self._mdef, doc="The mass definition.")
    bias_model = property(lambda self: self._bias_model, doc="The bias fit.")
    delta_c = property(lambda self: self._delta_c, doc="The collapse threshold δ_c.")

    def __repr__(self):
        return (f"MassFunction(model={self._model!r}, mdef={self._mdef!r}, bias_model="
                f"{self._bias_model!r}, delta_c={self._delta_c:.6g}, power="
                f"{type(self.power).__name__})")

    def _at_z(self, z):
        """(Δ_m(z) checked for the Tinker fits, ρ̄_m0) for a validated float z (cached)."""
        cache = self.__dict__.setdefault("_zcache", {})
        hit = cache.get(z)
        if hit is None:
            if len(cache) > 64:
                cache.clear()
            hit = cache[z] = (self._checked_delta_m(z),
                              float(self.cosmology.mean_matter_density(0.0)))
        return hit

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_zcache", None)
        return state

    def delta_m(self, z):
        """The overdensity of ``mdef`` with respect to the mean matter density at ``z``.

        Parameters
        ----------
        z : float
            Redshift, ``>= 0``.

        Returns
        -------
        float
            ``Δ_m = ρ_Δ(z) / ρ_m(z)`` (dimensionless).
        """
        z = check_float("z", z, lo=0.0)
        cosmo = self.cosmology
        return float(density_threshold(self._mdef, z, cosmo) / cosmo.mean_matter_density(z))

    def _checked_delta_m(self, z):
        if self._model not in ("tinker08", "tinker10"):
            return 200.0
        d = self.delta_m(z)
        if not (200.0 * (1 - 1e-12) <= d <= 3200.0 * (1 + 1e-12)):
            raise ValueError(f"`mdef`={self._mdef!r} has Δ_m = {d:.6g} times the mean density "
                             f"at z={z:g}, outside the [200, 3200] calibrated by Tinker et al.")
        return min(max(d, 200.0), 3200.0)

    def sigma(self, M, z=0.0):
        """``σ(M, z)`` of the spectrum (dimensionless).

        Parameters
        ----------
        M : array_like
            Masses [M_sun], ``> 0``, inside the spectrum's table range.
        z : float, optional
            Redshift, ``>= 0``.

        Returns
        -------
        float or ndarray
        """
        z = check_float("z", z, lo=0.0)
        return _out(self._src.sigma(_masses("M", M), z), M)

    def peak_height(self, M, z=0.0):
        """``ν = δ_c / σ(M, z)`` (dimensionless); parameters as :meth:`sigma`."""
        return _out(self._delta_c / np.asarray(self.sigma(M, z)), M)

    def multiplicity(self, M, z=0.0):
        """``f(σ(M, z))`` of :func:`multiplicity` (dimensionless); parameters as
        :meth:`sigma`."""
        z = check_float("z", z, lo=0.0)
        mm = _masses("M", M)
        d = self._checked_delta_m(z)
        f = multiplicity(self._src.sigma(mm, z), self._model, z=z, delta_m=d,
                         delta_c=self._delta_c)
        return _out(f, M)

    def dndlnM(self, M, z=0.0):
        """Halo number density per unit ``ln M``, ``dn/dlnM`` [comoving 1/Mpc³].

        Parameters
        ----------
        M : array_like
            Masses ``M_Δ`` [M_sun] in :attr:`mdef`, ``> 0``, whose Lagrangian radii lie in
            the spectrum's σ-table range.
        z : float, optional
            Redshift, ``>= 0`` (a scalar: the fits' parameters depend on it).

        Returns
        -------
        float or ndarray
            ``f(σ) (ρ̄_m0 / M) |d ln σ / d ln M|`` in comoving 1/Mpc³.

        Raises
        ------
        ValueError
            ``M <= 0`` or outside the table; ``z < 0`` or beyond the cosmology's ``zmax``;
            ``mdef`` whose ``Δ_m(z)`` leaves [200, 3200] (Tinker).

        Warns
        -----
        CalibrationRangeWarning
            ``z`` beyond the fit's calibrated redshifts (Tinker08 ``z > 2.5``, Tinker10
            ``z > 3``; :func:`multiplicity`).
        """
        z = check_float("z", z, lo=0.0)
        mm = _masses("M", M)
        d, rho = self._at_z(z)
        sig, slope = self._src.sigma_and_slope(mm, z)
        out = _multiplicity(sig, self._model, z, d, self._delta_c) * rho / mm * np.abs(slope)
        _warn_z(self._model, z)
        return _out(out, M)

    def dndM(self, M, z=0.0):
        """``dn/dM = (dn/dlnM) / M`` [comoving 1/(Mpc³ M_sun)]; as :meth:`dndlnM`."""
        mm = _masses("M", M)
        return _out(np.asarray(self.dndlnM(mm, z)) / mm, M)

    def bias(self, M, z=0.0):
        """Linear halo bias ``b(M, z)`` of :attr:`bias_model` (dimensionless).

        Parameters
        ----------
        M : array_like
            Masses [M_sun] in :attr:`mdef`, ``> 0``.
        z : float, optional
            Redshift, ``>= 0``.

        Returns
        -------
        float or ndarray
            ``b(ν = δ_c / σ(M, z))`` of :func:`halo_bias` (Tinker10 with ``Δ_m(z)`` of
            :attr:`mdef`).

        Warns
        -----
        CalibrationRangeWarning
            Tinker10 bias with ``Δ_m(z)`` outside [200, 3200].
        """
        z = check_float("z", z, lo=0.0)
        mm = _masses("M", M)
        d = self.delta_m(z) if self._bias_model == "tinker10" else 200.0
        b = halo_bias(self._src.sigma(mm, z), self._bias_model, delta_m=d,
                      delta_c=self._delta_c)
        return _out(b, M)
