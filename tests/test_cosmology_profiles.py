"""Halo profiles with physical parameters and the numerical projection (numfit.cosmology).

* NFW and Hernquist ``method="numerical"`` (AutoKnots tables of the Gauss–Legendre
  projection) against the closed forms of ``_halos`` on 20001 points of X = R/r_s in
  [1e-4, 1e4], for rtol 1e-6 and 1e-8 (measured maxima: 0.07–0.13 rtol);
* Einasto against brute-force ``scipy.integrate.quad`` of the defining integrals
  (Σ̂ directly in z; M̂ nested) and against mpmath;
* m̂(c) closed forms against quadrature, r_Δ / ρ_s consistency, a pure-NumPy reference of
  the physical scaling, colossus (NFW and Einasto ΔΣ), bad inputs, pickling and shapes.
"""
import math
import pickle

import numpy as np
import pytest
from scipy import integrate

from numfit.cosmology import Cosmology
from numfit.cosmology import _halos as H
from numfit.cosmology import _profiles as P
from numfit.cosmology._profiles import (EinastoProfile, HaloProfile, HernquistProfile,
                                        NFWProfile, ProjectedProfile, project_profile)

X_DENSE = np.geomspace(1e-4, 1e4, 20001)
CLOSED = {
    "nfw": (NFWProfile, H.nfw_sigma_hat, H.nfw_mass_hat, H.nfw_mean_sigma_hat,
            H.nfw_delta_sigma_hat),
    "hernquist": (HernquistProfile, H.hernquist_sigma_hat, H.hernquist_mass_hat,
                  H.hernquist_mean_sigma_hat, H.hernquist_delta_sigma_hat),
}


def rel(a, b):
    return float(np.max(np.abs(np.asarray(a) / np.asarray(b) - 1.0)))


# ============================================================================ (a) closed forms
@pytest.mark.parametrize("rtol", [1e-6, 1e-8])
@pytest.mark.parametrize("shape", ["nfw", "hernquist"])
def test_numerical_projection_matches_closed_forms(shape, rtol):
    cls, sig, mass, mean, delta = CLOSED[shape]
    p = cls(1e14, 5.0, method="numerical", rtol=rtol).projection
    assert isinstance(p, ProjectedProfile)
    errs = {
        "sigma": rel(p.sigma_hat(X_DENSE), sig(X_DENSE)),
        "mass": rel(p.mass_hat(X_DENSE), mass(X_DENSE)),
        "mean_sigma": rel(p.mean_sigma_hat(X_DENSE), mean(X_DENSE)),
        "delta_sigma": rel(p.delta_sigma_hat(X_DENSE), delta(X_DENSE)),
    }
    for name, err in errs.items():
        assert err <= rtol, f"{shape} {name}: max |num/closed - 1| = {err:.3g} > {rtol:g}"
    for name in ("sigma", "mass", "delta_sigma"):
        tab = p.table(name)
        assert tab.converged and tab.space == "loglog" and tab.n_evals == len(tab.knots)


@pytest.mark.parametrize("shape", ["nfw", "hernquist"])
def test_quadrature_matches_closed_forms(shape):
    """The values the tables are built from (exact=True) are accurate to ~1e-14."""
    _, sig, mass, mean, delta = CLOSED[shape]
    p = CLOSED[shape][0](1e14, 5.0, method="numerical").projection
    X = np.geomspace(1e-4, 1e4, 401)
    assert rel(p.sigma_hat(X, exact=True), sig(X)) < 1e-13
    assert rel(p.mass_hat(X, exact=True), mass(X)) < 1e-13
    assert rel(p.mean_sigma_hat(X, exact=True), mean(X)) < 1e-13
    assert rel(p.delta_sigma_hat(X, exact=True), delta(X)) < 1e-13


def test_m3d_by_quadrature_nfw():
    """Without m3d_hat, m̂ comes from quadrature: the NFW cylinder mass still matches."""
    p = project_profile(P._nfw_rho, xmin=1e-4, xmax=1e4, rtol=1e-6)
    X = np.geomspace(1e-4, 1e4, 301)
    assert rel(p.enclosed_mass_hat(X), P._nfw_m(X)) < 1e-13
    assert rel(p.mass_hat(X, exact=True), H.nfw_mass_hat(X)) < 1e-13
    assert rel(p.delta_sigma_hat(X, exact=True), H.nfw_delta_sigma_hat(X)) < 1e-13
    assert rel(p.delta_sigma_hat(X), H.nfw_delta_sigma_hat(X)) <= 1e-6


# ============================================================================ (b) Einasto
ALPHA = 0.18
X_SAMPLE = np.geomspace(1e-4, 1e4, 10)


def ein_rho(r, alpha=ALPHA):
    return np.exp(-(2.0 / alpha) * (r ** alpha - 1.0))


def sigma_quad(X, alpha=ALPHA):
    """Σ̂ = 2 ∫_0^∞ ρ̂(√(X² + z²)) dz by quad on [0, X] and decades beyond."""
    edges = np.concatenate(([0.0], X * np.geomspace(1.0, 1e9 / min(X, 1.0), 16)))

    def f(z):
        return ein_rho(math.hypot(X, z), alpha)

    return 2.0 * sum(integrate.quad(f, a, b, epsabs=0.0, epsrel=1e-13, limit=200)[0]
                     for a, b in zip(edges[:-1], edges[1:]))


def mass_quad(X, alpha=ALPHA):
    """M̂ = ∫_0^X Σ̂(X') X' dX' (nested quad, outer in ln X')."""
    def g(u):
        x = math.exp(u)
        return sigma_quad(x, alpha) * x * x

    lo = math.log(X) - 30.0
    return integrate.quad(g, lo, math.log(X), epsabs=0.0, epsrel=1e-11, limit=200)[0]


@pytest.fixture(scope="module")
def einasto():
    return EinastoProfile(1e14, 5.0, alpha=ALPHA, rtol=1e-8).projection


def test_einasto_sigma_vs_quad(einasto):
    ref = np.array([sigma_quad(X) for X in X_SAMPLE])
    assert rel(einasto.sigma_hat(X_SAMPLE, exact=True), ref) < 1e-11
    assert rel(einasto.sigma_hat(X_SAMPLE), ref) <= 1e-8


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
def test_einasto_mass_and_delta_vs_nested_quad(einasto):
    Xs = X_SAMPLE[[0, 3, 5, 9]]
    sig = np.array([sigma_quad(X) for X in Xs])
    mass = np.array([mass_quad(X) for X in Xs])
    delta = 2.0 * mass / Xs ** 2 - sig
    assert rel(einasto.mass_hat(Xs, exact=True), mass) < 1e-9
    assert rel(einasto.mass_hat(Xs), mass) <= 1e-8
    assert rel(einasto.mean_sigma_hat(Xs), 2.0 * mass / Xs ** 2) <= 1e-8
    assert rel(einasto.delta_sigma_hat(Xs, exact=True), delta) < 1e-9
    assert rel(einasto.delta_sigma_hat(Xs), delta) <= 1e-8


def test_einasto_cylinder_mass_formula_vs_quad(einasto):
    """M̂ = 2[m̂(X) + ∫_X^∞ ρ̂ x² (1 − √(1 − X²/x²)) dx], quad in x, at all 10 radii."""
    def tail(X):
        def f(x):
            q = X / x
            return ein_rho(x) * x * x * q * q / (1.0 + math.sqrt((1.0 - q) * (1.0 + q)))
        edges = X * np.geomspace(1.0, 1e9 / min(X, 1.0), 16)
        return sum(integrate.quad(f, a, b, epsabs=0.0, epsrel=1e-13, limit=200)[0]
                   for a, b in zip(edges[:-1], edges[1:]))

    ref = np.array([2.0 * (P._einasto_m(X, ALPHA) + tail(X)) for X in X_SAMPLE])
    assert rel(einasto.mass_hat(X_SAMPLE, exact=True), ref) < 1e-11
    assert rel(einasto.mass_hat(X_SAMPLE), ref) <= 1e-8


def test_einasto_sigma_vs_mpmath(einasto):
    mpmath = pytest.importorskip("mpmath")
    old = mpmath.mp.dps
    mpmath.mp.dps = 25
    try:
        a = mpmath.mpf(ALPHA)
        for X in (1e-3, 1.0, 1e3):
            Xm = mpmath.mpf(X)

            def f(z, Xm=Xm):
                return mpmath.exp(-(2 / a) * ((Xm * Xm + z * z) ** (a / 2) - 1))

            pts = [0, Xm, 10 * Xm, 100 * Xm, 1e4 * Xm + 1e4, mpmath.inf]
            ref = float(2 * mpmath.quad(f, sorted(set(pts), key=float)))
            assert abs(einasto.sigma_hat(X, exact=True) / ref - 1) < 1e-12
            assert abs(einasto.sigma_hat(X) / ref - 1) <= 1e-8
    finally:
        mpmath.mp.dps = old


# ============================================================================ (c) m̂, r_Δ, ρ_s
@pytest.mark.parametrize("m_hat, rho_hat", [
    (P._nfw_m, P._nfw_rho),
    (P._hernquist_m, P._hernquist_rho),
    (lambda x: P._einasto_m(x, 0.18), lambda x: P._einasto_rho(x, 0.18)),
    (lambda x: P._einasto_m(x, 0.5), lambda x: P._einasto_rho(x, 0.5)),
])
def test_m3d_closed_forms_vs_quad(m_hat, rho_hat):
    for c in (1e-4, 0.05, 1.0, 4.0, 30.0, 1e3):
        ref = integrate.quad(lambda u: rho_hat(math.exp(u)) * math.exp(3 * u),
                             math.log(c) - 40.0, math.log(c), epsabs=0.0, epsrel=1e-13,
                             limit=200)[0]
        assert abs(float(m_hat(np.array([c]))[0]) / ref - 1) < 1e-12, c


@pytest.mark.parametrize("cls", [NFWProfile, HernquistProfile, EinastoProfile])
@pytest.mark.parametrize("reference", ["critical", "mean"])
def test_rdelta_rhos_consistency(cls, reference):
    cosmo = Cosmology(H0=67.7, Om0=0.31)
    h = cls(3e14, 4.0, 0.5, cosmology=cosmo, delta=500.0, reference=reference)
    rho_ref = (cosmo.critical_density(0.5) if reference == "critical"
               else cosmo.mean_matter_density(0.5))
    assert h.rho_ref == rho_ref
    assert abs(h.enclosed_mass(h.r_delta) / 3e14 - 1) < 1e-12
    mean_density = h.enclosed_mass(h.r_delta) / (4.0 / 3.0 * math.pi * h.r_delta ** 3)
    assert abs(mean_density / (500.0 * rho_ref) - 1) < 1e-12
    assert abs(h.r_s * 4.0 / h.r_delta - 1) < 1e-15
    # the density integrates to the enclosed mass
    r = 0.3 * h.r_s
    m = integrate.quad(lambda u: 4 * math.pi * h.density(math.exp(u)) * math.exp(3 * u),
                       math.log(r) - 40, math.log(r), epsrel=1e-12)[0]
    assert abs(h.enclosed_mass(r) / m - 1) < 1e-10


# ============================================================================ (d) scaling
@pytest.mark.parametrize("shape", ["nfw", "hernquist"])
def test_physical_scaling_reference(shape):
    """Σ = ρ_s r_s Σ̂ etc., recomputed with NumPy only from the defining formulas."""
    cosmo = Cosmology(H0=70.0, Om0=0.3)
    M, c, z, delta = 2e14, 6.0, 0.25, 200.0
    h = CLOSED[shape][0](M, c, z, cosmology=cosmo, delta=delta, reference="mean")
    G = 6.67430e-11
    Mpc, Msun = 3.0856775814913673e22, 1.988409870698051e30
    H = 70.0 / (Mpc / 1e3) * np.sqrt(0.3 * (1 + z) ** 3 + 0.7)
    rho_crit0 = 3 * (70.0 / (Mpc / 1e3)) ** 2 / (8 * np.pi * G) * Mpc ** 3 / Msun
    rho_m = 0.3 * rho_crit0 * (1 + z) ** 3
    del H
    r_delta = np.cbrt(3 * M / (4 * np.pi * delta * rho_m))
    r_s = r_delta / c
    mc = np.log1p(c) - c / (1 + c) if shape == "nfw" else c ** 2 / (2 * (1 + c) ** 2)
    rho_s = M / (4 * np.pi * r_s ** 3 * mc)
    assert abs(h.r_delta / r_delta - 1) < 1e-13 and abs(h.rho_s / rho_s - 1) < 1e-12
    R = np.geomspace(1e-3, 30.0, 50)
    X = R / r_s
    _, sig, mass, mean, delta_fn = CLOSED[shape]
    assert rel(h.surface_density(R), rho_s * r_s * sig(X)) < 1e-12
    assert rel(h.projected_mass(R), 2 * np.pi * rho_s * r_s ** 3 * mass(X)) < 1e-12
    assert rel(h.mean_surface_density(R), rho_s * r_s * 2 * mass(X) / X ** 2) < 1e-12
    assert rel(h.delta_sigma(R), rho_s * r_s * delta_fn(X)) < 1e-12
    rho = 1 / (X * (1 + X) ** 2) if shape == "nfw" else 1 / (X * (1 + X) ** 3)
    assert rel(h.density(R), rho_s * rho) < 1e-13
    num = CLOSED[shape][0](M, c, z, cosmology=cosmo, delta=delta, reference="mean",
                           method="numerical", rtol=1e-8)
    assert rel(num.delta_sigma(R), h.delta_sigma(R)) <= 1e-8
    assert rel(num.projected_mass(R), h.projected_mass(R)) <= 1e-8


# ============================================================================ (e) colossus
@pytest.fixture(scope="module")
def colossus_cosmo():
    pytest.importorskip("colossus")
    from colossus.cosmology import cosmology as cc
    cc.setCosmology("numfit_profiles_test",
                    params=dict(flat=True, H0=70.0, Om0=0.3, Ob0=0.05, sigma8=0.81,
                                ns=0.96, relspecies=False))
    return Cosmology(H0=70.0, Om0=0.3)


def test_colossus_nfw_delta_sigma(colossus_cosmo):
    """colossus: M in M_sun/h, R in kpc/h, Σ in M_sun h/kpc²; ours: M_sun, Mpc, M_sun/Mpc²."""
    from colossus.halo import profile_nfw
    hh = 0.7
    M, c, z = 1e14, 5.0, 0.3
    ours = NFWProfile(M, c, z, cosmology=colossus_cosmo)
    col = profile_nfw.NFWProfile(M=M * hh, c=c, z=z, mdef="200c")
    assert abs(ours.r_s / (col.par["rs"] / 1e3 / hh) - 1) < 1e-10
    assert abs(ours.rho_s / (col.par["rhos"] * hh ** 2 * 1e9) - 1) < 1e-10
    R = np.geomspace(1e-4, 1e2, 61) * ours.r_s
    ds_col = col.deltaSigma(R * 1e3 * hh) * hh * 1e6
    sig_col = col.surfaceDensity(R * 1e3 * hh) * hh * 1e6
    assert rel(ours.surface_density(R), sig_col) < 1e-10
    # colossus integrates a 0.1-step spline of Σ with quad at epsrel 1e-4: 4.6e-5 at X ~ 2e3
    assert rel(ours.delta_sigma(R), ds_col) < 1e-5


def test_colossus_einasto_delta_sigma(colossus_cosmo):
    from colossus.halo import profile_einasto
    hh = 0.7
    M, c, z = 1e14, 5.0, 0.3
    ours = EinastoProfile(M, c, z, alpha=0.18, cosmology=colossus_cosmo, rtol=1e-6)
    col = profile_einasto.EinastoProfile(M=M * hh, c=c, z=z, mdef="200c", alpha=0.18)
    assert abs(ours.r_s / (col.par["rs"] / 1e3 / hh) - 1) < 1e-10
    assert abs(ours.rho_s / (col.par["rhos"] * hh ** 2 * 1e9) - 1) < 1e-10
    R = np.geomspace(1e-3, 1e2, 11) * ours.r_s
    ds_col = col.deltaSigma(R * 1e3 * hh) * hh * 1e6
    assert rel(ours.delta_sigma(R), ds_col) < 1e-4      # colossus' default accuracy: 1e-4


# ============================================================================ (f) bad inputs
GOOD = dict(mass=1e14, concentration=5.0)


@pytest.mark.parametrize("kw, exc, match", [
    (dict(mass=0.0), ValueError, "`mass` must be"),
    (dict(mass=-1e14), ValueError, "`mass` must be"),
    (dict(mass=float("nan")), ValueError, "`mass` must be"),
    (dict(mass=float("inf")), ValueError, "`mass` must be"),
    (dict(mass="1e14"), TypeError, "`mass` must be a real number"),
    (dict(mass=1e14 + 0j), TypeError, "`mass` must be a real number"),
    (dict(mass=True), TypeError, "`mass` must be a real number"),
    (dict(concentration=0.0), ValueError, "`concentration` must be"),
    (dict(concentration=float("nan")), ValueError, "`concentration` must be"),
    (dict(concentration=None), TypeError, "`concentration` must be a real number"),
    (dict(z=-0.1), ValueError, "`z` must be"),
    (dict(z=float("inf")), ValueError, "`z` must be"),
    (dict(z=[0.1]), TypeError, "`z` must be a real number"),
    (dict(delta=0.0), ValueError, "`delta` must be"),
    (dict(delta=float("nan")), ValueError, "`delta` must be"),
    (dict(reference="virial"), ValueError, "`reference` must be one of"),
    (dict(reference=None), ValueError, "`reference` must be one of"),
    (dict(method="spline"), ValueError, "`method` must be one of"),
    (dict(cosmology="planck"), TypeError, "`cosmology` must be a numfit"),
    (dict(rtol=0.0), ValueError, "`rtol` must be"),
    (dict(rtol=0.5), ValueError, "`rtol` must be"),
    (dict(xmin=0.0), ValueError, "`xmin` must be"),
    (dict(xmin=10.0, xmax=10.0), ValueError, "`xmax` must be >= 1.01"),
    (dict(xmax=float("inf")), ValueError, "`xmax` must be"),
])
@pytest.mark.parametrize("cls", [NFWProfile, EinastoProfile])
def test_constructor_bad_input(cls, kw, exc, match):
    args = dict(GOOD, **kw)
    with pytest.raises(exc, match=match):
        cls(args.pop("mass"), args.pop("concentration"), **args)


def test_constructor_specific_errors():
    with pytest.raises(ValueError, match="no closed-form projection"):
        EinastoProfile(1e14, 5.0, method="closed")
    for bad in (0.0, -0.2, 3.0, float("nan"), "0.2"):
        with pytest.raises((ValueError, TypeError), match="`alpha` must be"):
            EinastoProfile(1e14, 5.0, alpha=bad)
    with pytest.raises(TypeError, match="base class"):
        HaloProfile(1e14, 5.0)


@pytest.mark.parametrize("method", ["closed", "numerical"])
@pytest.mark.parametrize("R, exc, match", [
    (0.0, ValueError, "`R` must be finite and > 0; got 0.0"),
    (-1.0, ValueError, "`R` must be finite and > 0"),
    (float("nan"), ValueError, "`R` must be finite and > 0; got nan"),
    (float("inf"), ValueError, "`R` must be finite and > 0; got inf"),
    ([0.1, -0.2], ValueError, "at index 1"),
    (np.array([[0.1, 0.2], [0.3, np.nan]]), ValueError, r"at index \(1, 1\)"),
    (1 + 1j, TypeError, "`R` must be a real number"),
    (np.array([0.1 + 0j]), TypeError, "dtype complex128"),
    ("0.1", TypeError, "`R` must be a real number"),
    (["0.1", "0.2"], TypeError, "`R` must be a real number"),
    (None, TypeError, "`R` must be a real number"),
    (True, TypeError, "`R` must be a real number"),
])
def test_bad_radii(method, R, exc, match):
    h = NFWProfile(1e14, 5.0, method=method, rtol=1e-6)
    for fn in (h.surface_density, h.mean_surface_density, h.delta_sigma, h.projected_mass):
        with pytest.raises(exc, match=match):
            fn(R)
    with pytest.raises(exc, match=match.replace("`R`", "`r`")):
        h.density(R)
    with pytest.raises(exc, match=match.replace("`R`", "`r`")):
        h.enclosed_mass(R)


def test_radii_outside_table_range():
    h = EinastoProfile(1e14, 5.0, rtol=1e-6, xmin=1e-3, xmax=1e3)
    ok = h.delta_sigma(np.array([1e-3, 1e3]) * h.r_s)       # the ends themselves are fine
    assert ok.shape == (2,) and np.all(ok > 0)
    for R in (1e-4 * h.r_s, [1.0, 2e3 * h.r_s]):
        with pytest.raises(ValueError, match=r"outside the tables' range X in "
                           r"\[0.001, 1000\].*EinastoProfile\(\.\.\., xmin=\.\.\., xmax"):
            h.delta_sigma(R)
    # closed forms have no range; the projection itself names project_profile / exact=True
    assert NFWProfile(1e14, 5.0).delta_sigma(1e5) > 0
    with pytest.raises(ValueError, match="exact=True"):
        h.projection.sigma_hat(1e4)
    assert h.projection.sigma_hat(1e4, exact=True) > 0
    with pytest.raises(ValueError, match="range of the direct quadrature"):
        h.projection.sigma_hat(1e-40, exact=True)
    wide = EinastoProfile(1e14, 5.0, rtol=1e-6, xmin=1e-5, xmax=1e4)
    assert wide.delta_sigma(1e-4 * wide.r_s) > 0


class Flaky:
    """A ρ̂ that misbehaves (mode) until fixed; NFW otherwise."""

    def __init__(self, mode):
        self.mode = mode

    def __call__(self, x):
        out = 1.0 / (x * (1.0 + x) ** 2)
        if self.mode == "raise" and x.max() > 1e6:
            raise ZeroDivisionError("boom")
        if self.mode == "nan":
            out = np.where(x > 1e6, np.nan, out)
        if self.mode == "negative":
            out = np.where(x > 1e6, -out, out)
        if self.mode == "shape":
            out = out[:-1] if x.max() > 1e6 else out
        if self.mode == "complex":
            out = out + 0j if x.max() > 1e6 else out
        return out


@pytest.mark.parametrize("mode, exc, match", [
    ("raise", ZeroDivisionError, "boom"),
    ("nan", ValueError, r"`rho_hat` returned nan at x=.*must be finite"),
    ("negative", ValueError, r"`rho_hat` returned -.* must be >= 0"),
    ("shape", ValueError, r"`rho_hat` returned shape .* must be vectorised"),
    ("complex", TypeError, "`rho_hat` returned complex values"),
])
def test_bad_rho_hat_leaves_no_table(mode, exc, match):
    """Misbehaviour only beyond x = 1e6 passes the probe and fails during the table build."""
    f = Flaky(mode)
    p = project_profile(f, m3d_hat=lambda x: P._nfw_m(x), rtol=1e-6)
    with pytest.raises(exc, match=match) as info:
        p.sigma_hat(1.0)
    if mode == "raise":
        assert any("rho_hat" in n for n in getattr(info.value, "__notes__", []))
    assert p.built == ()
    with pytest.raises(exc, match=match):            # again: still nothing half-built
        p.delta_sigma_hat([1.0, 2.0])
    assert p.built == ()
    f.mode = None                                     # fixed: the same object now works
    assert abs(p.sigma_hat(2.0) / H.nfw_sigma_hat(2.0) - 1) <= 1e-6
    assert p.built == ("sigma",)


def test_project_profile_argument_errors():
    with pytest.raises(TypeError, match="`rho_hat` must be callable"):
        project_profile(1.0)
    with pytest.raises(TypeError, match="`m3d_hat` must be callable or None"):
        project_profile(P._nfw_rho, m3d_hat=2.0)
    with pytest.raises(TypeError, match="`args` must be a tuple"):
        project_profile(P._einasto_rho, args=[0.2])
    with pytest.raises(ValueError, match="`rtol` must be"):
        project_profile(P._nfw_rho, rtol=1e-13)
    # the probe at construction: a density that is wrong everywhere never enters the cache
    n = len(P._CACHE)

    def scalar_only(x):
        return 1.0

    with pytest.raises(ValueError, match="`rho_hat` returned shape"):
        project_profile(scalar_only)
    with pytest.raises(ValueError, match="`rho_hat` returned -1"):
        project_profile(lambda x: -np.ones_like(x))
    with pytest.raises(ValueError, match="`m3d_hat` returned 0.0 .* must be > 0"):
        project_profile(P._nfw_rho, m3d_hat=np.zeros_like)
    with pytest.raises(RuntimeError):
        project_profile(lambda x: (_ for _ in ()).throw(RuntimeError("nope")))
    assert len(P._CACHE) == n
    with pytest.raises(ValueError, match="`name` must be one of"):
        project_profile(P._nfw_rho, m3d_hat=P._nfw_m).table("kappa")


def test_underflowing_density_is_named():
    """A density that underflows inside the range gives a clear error, not a log(0)."""
    p = project_profile(lambda x: np.exp(-x), xmin=1e-2, xmax=1e3, rtol=1e-4)
    with pytest.raises(ValueError, match=r"Σ̂\(X\).*underflows there: lower `xmax`"):
        p.sigma_hat(1.0)
    assert p.built == ()


# ============================================================================ (g) misc
def test_cache_shared_between_haloes():
    a = EinastoProfile(1e13, 7.0, z=0.5, alpha=0.2, rtol=1e-6)
    b = EinastoProfile(1e15, 3.0, z=0.0, alpha=0.2, rtol=1e-6)
    c = EinastoProfile(1e15, 3.0, z=0.0, alpha=0.25, rtol=1e-6)
    assert a.projection is b.projection
    assert c.projection is not a.projection
    n = a.projection.table("delta_sigma").n_evals
    b.delta_sigma(0.2)
    assert b.projection.table("delta_sigma").n_evals == n


@pytest.mark.parametrize("cls, kw", [(NFWProfile, {}), (NFWProfile, dict(method="numerical")),
                                     (HernquistProfile, {}), (EinastoProfile, dict(alpha=0.3))])
def test_pickle_and_shapes(cls, kw):
    h = cls(2e14, 4.0, 0.2, rtol=1e-6, **kw)
    R = np.geomspace(0.01, 3.0, 12).reshape(3, 4)
    before = h.delta_sigma(R)
    h2 = pickle.loads(pickle.dumps(h))
    assert type(h2) is cls and repr(h2) == repr(h)
    assert np.array_equal(h2.delta_sigma(R), before)
    for fn in ("density", "enclosed_mass", "surface_density", "mean_surface_density",
               "delta_sigma", "projected_mass"):
        v = getattr(h2, fn)(R)
        assert isinstance(v, np.ndarray) and v.shape == (3, 4) and np.all(v > 0)
        s = getattr(h2, fn)(0.5)
        assert type(s) is float
        assert getattr(h2, fn)(np.float32(0.5)) == pytest.approx(s, rel=1e-7)
        assert getattr(h2, fn)([]).shape == (0,)
        assert getattr(h2, fn)(np.array([0.5])).shape == (1,)
    assert f"{cls.__name__}(mass=200000000000000" in repr(h) or "mass=2e+14" in repr(h)
    assert "r_s=" in repr(h) and "Mpc" in repr(h)


def test_projection_pickle_keeps_tables_and_cache():
    p = project_profile(P._hernquist_rho, m3d_hat=P._hernquist_m, rtol=1e-5)
    p.sigma_hat(1.0)
    q = pickle.loads(pickle.dumps(p))
    assert q is p                                      # same process: the cached object
    P._CACHE.clear()
    r = pickle.loads(pickle.dumps(p))
    assert r is not p and r.built == ("sigma",)
    assert r.sigma_hat(1.0) == p.sigma_hat(1.0)
    assert r is project_profile(P._hernquist_rho, m3d_hat=P._hernquist_m, rtol=1e-5)
    assert "ProjectedProfile of _hernquist_rho" in repr(r) and "sigma (" in repr(r)


def test_projection_scalar_and_shapes():
    p = NFWProfile(1e14, 5.0, method="numerical", rtol=1e-6).projection
    assert type(p.sigma_hat(1.0)) is float
    assert type(p.mean_sigma_hat(2)) is float
    assert type(p.enclosed_mass_hat(2.0)) is float
    X = np.geomspace(1e-4, 1e4, 6).reshape(2, 3)
    for fn in (p.sigma_hat, p.mass_hat, p.mean_sigma_hat, p.delta_sigma_hat):
        assert fn(X).shape == (2, 3) and fn(X, exact=True).shape == (2, 3)
    assert p.sigma_hat(1e-4) > 0 and p.sigma_hat(1e4) > 0


def test_exact_keyword_on_haloes():
    """``exact=True`` bypasses the tables of numerical haloes; closed forms ignore it."""
    cosmo = Cosmology()
    ein = EinastoProfile(1e14, 5.0, z=0.3, cosmology=cosmo, rtol=1e-6)
    R = np.array([0.01, 0.1, 1.0, 5.0])
    for name in ("surface_density", "mean_surface_density", "delta_sigma", "projected_mass"):
        tab = getattr(ein, name)(R)
        ex = getattr(ein, name)(R, exact=True)
        assert rel(tab, ex) <= 1e-6
        assert not np.array_equal(tab, ex)
    X = R / ein.r_s
    assert np.allclose(ein.delta_sigma(R, exact=True) / (ein.rho_s * ein.r_s),
                       ein.projection.delta_sigma_hat(X, exact=True), rtol=1e-15, atol=0)
    nfw = NFWProfile(1e14, 5.0, cosmology=cosmo)
    assert np.array_equal(nfw.delta_sigma(R, exact=True), nfw.delta_sigma(R))
    with pytest.raises(TypeError, match="`exact` must be a bool"):
        ein.delta_sigma(R, exact="yes")


# ----------------------------------------------------------------- lensing unit keyword
SURFACE_METHODS = ("surface_density", "mean_surface_density", "delta_sigma")


@pytest.mark.parametrize("cls,kw", [(NFWProfile, {}), (HernquistProfile, {}),
                                    (NFWProfile, {"method": "numerical", "rtol": 1e-6}),
                                    (EinastoProfile, {"rtol": 1e-6})])
@pytest.mark.parametrize("name", SURFACE_METHODS)
def test_surface_unit_keyword_is_exactly_1e12(cls, kw, name):
    halo = cls(3e14, 4.0, z=0.2, cosmology=Cosmology(), **kw)
    R = np.array([[0.05, 0.3], [1.0, 2.5]])
    base = getattr(halo, name)(R)
    assert np.array_equal(getattr(halo, name)(R, unit="Msun/Mpc2"), base)
    pc = getattr(halo, name)(R, unit="Msun/pc2")
    assert pc.shape == R.shape
    assert np.array_equal(pc, base / 1e12)            # exactly the M_sun/Mpc² value / 1e12
    assert isinstance(getattr(halo, name)(0.3, unit="Msun/pc2"), float)


def test_delta_sigma_lensing_unit_magnitude():
    # a 1e14 M_sun cluster has ΔΣ of order 10-100 M_sun/pc² at 0.5 Mpc
    halo = NFWProfile(1e14, 5.0, z=0.3, cosmology=Cosmology(H0=70, Om0=0.3))
    assert 10.0 < halo.delta_sigma(0.5, unit="Msun/pc2") < 100.0
    assert halo.delta_sigma(0.5, unit="Msun/pc2") == halo.delta_sigma(0.5) / 1e12


@pytest.mark.parametrize("bad", ["Msun/pc^2", "msun/pc2", "pc2", "", None, 1e12])
@pytest.mark.parametrize("name", SURFACE_METHODS)
def test_surface_unit_keyword_bad(bad, name):
    halo = NFWProfile(1e14, 5.0)
    with pytest.raises(ValueError, match="`unit` must be one of 'Msun/Mpc2', 'Msun/pc2'"):
        getattr(halo, name)(0.5, unit=bad)


def test_projected_mass_has_no_unit_keyword():
    # the cylinder mass is in M_sun whatever the surface-density convention
    with pytest.raises(TypeError):
        NFWProfile(1e14, 5.0).projected_mass(0.5, unit="Msun/pc2")
