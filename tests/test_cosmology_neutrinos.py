"""Massive neutrinos with the exact Fermi–Dirac density (issue 16, part 3).

The reference is built here from scratch with SciPy only: the Fermi–Dirac integrals

    F(v) = ∫ x² √(x² + v²) / (eˣ + 1) dx,   v F'(v) = v² ∫ x² / √(x² + v²) / (eˣ + 1) dx

by ``scipy.integrate.quad`` (QUADPACK's adaptive Gauss–Kronrod, epsrel 1e-13, on pieces
split at a geometric sequence below min(v, 1) and at v) — a different algorithm from numfit's
series and Gauss–Legendre-built interpolants —, E(z) from those integrals and the public
parameters (Ogamma0, Om0, Ok0, Neff, m_nu, Tcmb0; the neutrino temperature and k_B written
out here), and comoving distances by ``quad`` of 1/E between consecutive redshifts.

Measured: F(v)/F(0) within 8.9e-16 of the reference on 2000 points of [1e-6, 1e6] (bar
1e-14), d ln F / d ln v within 7.2e-16 (bar 1e-14); E(z) within 3.3e-16 (bar 1e-14) up to
z = 1e6; comoving distances within 1.4e-8 (rtol 1e-6) and 5.7e-10 (rtol 1e-8) of the
reference on 57 redshifts in [1e-5, 10]; the exact density differs from astropy's Komatsu
et al. (2011) fit by up to 0.34% (at v ≈ 10), which moves D_L by up to 2e-6 at z <= 10.
"""
import math
import pickle
import warnings

import numpy as np
import pytest
from scipy import integrate

import numfit
from numfit.cosmology import Cosmology
from numfit.cosmology._background import _fd_density

F0 = 7.0 * math.pi ** 4 / 120.0                  # F(0): the massless limit
KB_EV = 1.380649e-23 / 1.602176634e-19          # Boltzmann constant [eV/K] (SI, exact)
NU_PER = 7.0 / 8.0 * (4.0 / 11.0) ** (4.0 / 3.0)  # massless species / photons
CASES = {
    "3 x 0.06": 0.06,                           # one value: every species has it (as astropy)
    "0, 0, 0.06": [0.0, 0.0, 0.06],
    "3 x 0.1": [0.1, 0.1, 0.1],
}
BASE = dict(H0=67.7, Om0=0.31, Ob0=0.049, Tcmb0=2.7255, Neff=3.046)


# ------------------------------------------------------------------ the reference
def _pieces(v):
    s0 = min(v, 1.0)
    pts = {0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 40.0, 80.0}
    pts |= {s0 * 2.0 ** k for k in range(-3, 80) if 0.0 < s0 * 2.0 ** k < 1.0}
    if 1.0 < v < 80.0:
        pts.add(v)
    return sorted(pts)


def fd_ref(v, deriv=False):
    """F(v) (or v F'(v)) by scipy.integrate.quad; the integrand is below 1e-30 of F past 80."""
    v = float(v)
    if deriv:
        def f(x):
            return v * v * x * x / math.sqrt(x * x + v * v) / (math.exp(x) + 1.0)
    else:
        def f(x):
            return x * x * math.sqrt(x * x + v * v) / (math.exp(x) + 1.0)
    pts = _pieces(v)
    with warnings.catch_warnings():
        warnings.simplefilter("error")               # a QUADPACK warning fails the test
        return math.fsum(integrate.quad(f, a, b, epsabs=0.0, epsrel=1e-13, limit=200)[0]
                         for a, b in zip(pts[:-1], pts[1:]))


class RefBackground:
    """E(z) of a massive-neutrino cosmology from its public parameters and fd_ref."""

    def __init__(self, c):
        n = int(math.floor(c.Neff))
        self.scale = NU_PER * c.Neff / n
        tnu = (4.0 / 11.0) ** (1.0 / 3.0) * c.Tcmb0
        self.y = [m / (KB_EV * tnu) for m in c.m_nu if m > 0]
        self.n_massless = n - len(self.y)
        self.og, self.om, self.ok = c.Ogamma0, c.Om0, c.Ok0
        self.onu0 = self.og * self.rel(1.0)
        # flat: the dark energy closes the budget with the reference's own neutrinos
        self.ode = 1.0 - self.om - self.ok - self.og - self.onu0

    def rel(self, a, deriv=False):
        if deriv:
            return self.scale * sum(fd_ref(y * a, True) for y in self.y) / F0
        return self.scale * (self.n_massless + sum(fd_ref(y * a) for y in self.y) / F0)

    def e2(self, z):
        a = 1.0 / (1.0 + z)
        return (self.og * (1.0 + self.rel(a)) / a + self.om) / a ** 3 + self.ok / a ** 2 \
            + self.ode

    def chi(self, z, dh):
        """Comoving distances at sorted z by quad of 1/E between consecutive redshifts."""
        edges = np.concatenate(([0.0], z))
        parts = [integrate.quad(lambda t: 1.0 / math.sqrt(self.e2(t)), a, b, epsabs=0.0,
                                epsrel=1e-12, limit=200)[0]
                 for a, b in zip(edges[:-1], edges[1:])]
        return dh * np.cumsum(parts)


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    c = Cosmology(**BASE, m_nu=CASES[request.param], rtol=1e-8)
    return request.param, c, RefBackground(c)


# ------------------------------------------------------------------ the kernel
def test_fd_density_against_quad_on_a_dense_grid():
    v = np.geomspace(1e-6, 1e6, 2000)
    ref = np.array([fd_ref(x) for x in v]) / F0
    r, d = _fd_density(v, dlog=True)
    err = np.abs(r / ref - 1.0)
    print(f"max |F/F(0) - quad| / quad = {err.max():.2e} at v = {v[err.argmax()]:.3g}")
    assert err.max() <= 1e-14
    sub = v[::4]                                       # d ln F / d ln v = v F'(v) / F(v)
    dref = np.array([fd_ref(x, True) / fd_ref(x) for x in sub])
    derr = np.abs(d[::4] - dref)
    print(f"max |d ln F/d ln v - quad| = {derr.max():.2e}")
    assert derr.max() <= 1e-14


def test_fd_density_limits_and_switches():
    zeta3 = 1.2020569031595942
    # massless limit: exactly the relativistic density, slope 0
    r, d = _fd_density(np.array([0.0, 1e-300, 1e-12]), dlog=True)
    assert np.all(r == 1.0) and np.all(d >= 0) and d[0] == 0.0
    # non-relativistic limit: F -> (3/2) zeta(3) v, d ln F / d ln v -> 1 (1 - 1.3e-15 at 1e8)
    v = np.array([1e9, 1e12, 1e200])
    r, d = _fd_density(v, dlog=True)
    np.testing.assert_allclose(r, 1.5 * zeta3 * v / F0, rtol=1e-15)
    np.testing.assert_allclose(d, 1.0, rtol=0, atol=1e-15)
    # the three regimes join: both sides of each switch agree with quad
    for edge in (1e-4, 100.0):
        v = edge * np.array([1 - 1e-12, 1.0, 1 + 1e-12])
        ref = np.array([fd_ref(x) for x in v]) / F0
        np.testing.assert_allclose(_fd_density(v), ref, rtol=2e-15, atol=0)
    # monotone increasing density, slope in [0, 1]
    v = np.geomspace(1e-6, 1e6, 100_001)
    r, d = _fd_density(v, dlog=True)
    assert np.all(np.diff(r) >= 0) and d.min() >= 0 and d.max() <= 1 + 1e-15


def test_fd_density_shapes_and_regimes_mixed():
    v = np.array([[0.0, 5e-5, 0.3], [50.0, 150.0, 1e5]])
    r = _fd_density(v)
    assert r.shape == (2, 3)
    np.testing.assert_array_equal(r.ravel(), [float(_fd_density(np.array([x]))[0])
                                              for x in v.ravel()])
    assert _fd_density(np.array([])).shape == (0,)
    assert np.ndim(_fd_density(2.0)) == 0
    # one value takes a float-arithmetic path: the same formulas, bit for bit
    v = np.geomspace(1e-7, 1e7, 701)
    r, d = _fd_density(v, dlog=True)
    one = np.array([[float(q) for q in _fd_density(x, dlog=True)] for x in v])
    np.testing.assert_array_equal(one[:, 0], r)
    np.testing.assert_array_equal(one[:, 1], d)


# ------------------------------------------------------------------ the background
def test_densities_today(case):
    name, c, ref = case
    assert c.neutrino_model == "exact"
    assert c.Onu0 == pytest.approx(ref.onu0, rel=1e-14)
    assert c.Ode0 == pytest.approx(ref.ode, rel=1e-14)
    assert c.Or0 == pytest.approx(c.Ogamma0 + ref.onu0, rel=1e-14)


def test_efunc_against_reference(case):
    name, c, ref = case
    z = np.concatenate(([0.0, 1e-6], np.geomspace(1e-3, 1e6, 80)))
    want = np.sqrt([ref.e2(zi) for zi in z])
    err = np.max(np.abs(c.efunc(z) / want - 1.0))
    print(f"{name}: max |E/E_ref - 1| = {err:.2e}")
    assert err <= 1e-14


@pytest.mark.parametrize("rtol", [1e-6, 1e-8])
def test_distances_against_independent_quadrature(case, rtol):
    name, c, ref = case
    c = Cosmology(**BASE, m_nu=CASES[name], rtol=rtol)
    z = np.unique(np.concatenate((np.geomspace(1e-5, 0.1, 12), np.linspace(0.1, 10.0, 45))))
    want = ref.chi(z, c.hubble_distance)
    got = c.comoving_distance(z)
    err = float(np.max(np.abs(got / want - 1.0)))
    print(f"{name}, rtol {rtol:g}: max |chi/chi_ref - 1| = {err:.2e} (err/rtol {err / rtol:.2f})")
    assert err <= rtol
    assert c.comoving_distance(10.0) == pytest.approx(want[-1], rel=rtol, abs=0)
    # D_L and D_A are (1+z)^±1 chi in the flat case
    np.testing.assert_allclose(c.luminosity_distance(z), (1 + z) * want, rtol=rtol, atol=0)
    if rtol == 1e-8:
        ex = c.comoving_distance(z[::6], exact=True)
        assert np.max(np.abs(ex / want[::6] - 1.0)) <= 1e-11


def test_growth_background_is_the_same_E(case):
    """The growth ODE's coefficients use the same E(z) and d ln E/d ln a (from the reference
    pressure integral) as the distances; only Om0 clusters."""
    name, c, ref = case
    s = np.log(np.geomspace(1e-6, 1.0, 25))
    alpha, beta = c._growth_coeffs(s)
    a = np.exp(s)
    e2 = np.array([ref.e2(1.0 / ai - 1.0) for ai in a])
    np.testing.assert_allclose(alpha, 1.5 * c.Om0 / a ** 3 / e2, rtol=1e-14)
    rel = np.array([ref.rel(ai) for ai in a])
    drel = np.array([ref.rel(ai, deriv=True) for ai in a])
    de2 = ref.og / a ** 4 * (-4.0 * (1.0 + rel) + drel) - 3.0 * ref.om / a ** 3 \
        - 2.0 * ref.ok / a ** 2
    # d ln E / d ln a = -(2 + beta), between -2 (radiation) and ~-0.5 today
    np.testing.assert_allclose(-(2.0 + beta), 0.5 * de2 / e2, rtol=1e-14)
    z = np.linspace(0.0, 10.0, 21)
    g = c.growth_factor(z)
    assert np.max(np.abs(g / c.growth_factor(z, exact=True) - 1.0)) <= 1e-8


# ------------------------------------------------------------------ exact vs astropy's fit
def test_exact_vs_astropy_fit_difference(case):
    """astropy's treatment (the Komatsu et al. 2011 fit) stays available and differs from the
    exact density by the fit's error: bounded and reported, never zero."""
    name, c, _ = case
    fit = Cosmology(**BASE, m_nu=CASES[name], neutrino_model="astropy", rtol=1e-10)
    ex = Cosmology(**BASE, m_nu=CASES[name], rtol=1e-10)
    z = np.linspace(0.0, 10.0, 501)[1:]
    d = np.max(np.abs(ex.luminosity_distance(z) / fit.luminosity_distance(z) - 1.0))
    e = np.max(np.abs(ex.efunc(z) / fit.efunc(z) - 1.0))
    print(f"{name}: max |D_L exact / D_L astropy-fit - 1| = {d:.2e}, E(z): {e:.2e}")
    assert 1e-8 < d < 5e-6 and 1e-7 < e < 3e-5


def test_astropy_fit_error_of_the_density():
    """The Komatsu et al. (2011, eq. 26) fit against the exact density: 0.34% at most."""
    v = np.geomspace(1e-3, 1e5, 4001)
    komatsu = (1.0 + (0.3173 * v) ** 1.83) ** (1.0 / 1.83)
    worst = np.max(np.abs(komatsu / _fd_density(v) - 1.0))
    print(f"Komatsu et al. fit: max |rho_fit / rho_exact - 1| = {worst:.2e}")
    assert 1e-3 < worst < 5e-3


def test_from_astropy_default_keeps_the_1e8_bar():
    ac = pytest.importorskip("astropy.cosmology")
    c = Cosmology.from_astropy(ac.Planck18)
    assert c.neutrino_model == "astropy"
    z = np.linspace(1e-3, 10.0, 2000)
    ref = ac.Planck18.comoving_distance(z).value
    assert np.max(np.abs(c.comoving_distance(z) / ref - 1.0)) <= 1e-8
    e = Cosmology.from_astropy(ac.Planck18, neutrino_model="exact")
    assert e.neutrino_model == "exact" and e != c
    diff = np.max(np.abs(e.comoving_distance(z) / ref - 1.0))
    print(f"Planck18, exact density: max |chi / chi_astropy - 1| = {diff:.2e}")
    assert 1e-8 < diff < 2e-6
    # the astropy twin always has astropy's fit; back it comes as "astropy"
    back = Cosmology.from_astropy(e.to_astropy())
    assert back == c and back.neutrino_model == "astropy"


# ------------------------------------------------------------------ the option carried
def test_option_round_trips(tmp_path):
    c = Cosmology(**BASE, m_nu=[0.0, 0.0, 0.06], neutrino_model="astropy", name="fit")
    e = Cosmology(**BASE, m_nu=[0.0, 0.0, 0.06], name="fit")
    assert c != e and hash(c) != hash(e)
    assert "neutrino_model='astropy'" in repr(c) and "neutrino_model='exact'" in repr(e)
    z = np.linspace(0.0, 10.0, 101)
    for obj in (c, e):
        want = obj.comoving_distance(z)
        for back in (pickle.loads(pickle.dumps(obj)),
                     numfit.load(obj.save(tmp_path / f"{obj.neutrino_model}.npz"))):
            assert back == obj and back.neutrino_model == obj.neutrino_model
            np.testing.assert_array_equal(back.comoving_distance(z), want)
        assert obj.extended(20.0).neutrino_model == obj.neutrino_model
    # without massive neutrinos both models are the same background
    a = Cosmology(**BASE, neutrino_model="astropy")
    b = Cosmology(**BASE)
    assert a == b and hash(a) == hash(b) and "neutrino_model" not in repr(b)
    assert a.comoving_distance(3.0) == b.comoving_distance(3.0)


def test_objects_saved_before_the_option_load():
    """State written before the option existed: massive neutrinos then used the fit, and
    keep it; without them the object equals the same parameters built now."""
    for m, model in ((0.06, "astropy"), (0.0, "exact")):
        c = Cosmology(**BASE, m_nu=m, neutrino_model=model)
        state = dict(c.__dict__)
        state["_p"] = {k: v for k, v in c._p.items() if k != "neutrino_model"}
        old = Cosmology.__new__(Cosmology)
        old.__setstate__(state)
        assert old.neutrino_model == model and old == c
        assert old.comoving_distance(2.0) == c.comoving_distance(2.0)


@pytest.mark.parametrize("bad", ["Exact", "komatsu", "", None, 1, ("exact",)])
def test_bad_neutrino_model(bad):
    with pytest.raises(ValueError, match=r"`neutrino_model` must be one of 'exact', "
                                         r"'astropy'; got"):
        Cosmology(**BASE, m_nu=0.06, neutrino_model=bad)
    with pytest.raises(ValueError, match="`neutrino_model`"):
        Cosmology(neutrino_model=bad)                     # checked even without masses


def test_bad_neutrino_model_from_astropy():
    ac = pytest.importorskip("astropy.cosmology")
    with pytest.raises(ValueError, match="`neutrino_model` must be one of"):
        Cosmology.from_astropy(ac.Planck18, neutrino_model="fit")


def test_masses_as_quantities():
    """m_nu as an astropy Quantity in eV (or any energy unit) is converted once; another
    dimension is a ValueError naming `m_nu`."""
    u = pytest.importorskip("astropy.units")
    ref = Cosmology(H0=67.7, Om0=0.31, Tcmb0=2.7255, m_nu=[0.0, 0.0, 0.06])
    assert Cosmology(H0=67.7, Om0=0.31, Tcmb0=2.7255, m_nu=[0.0, 0.0, 0.06] * u.eV) == ref
    meV = Cosmology(H0=67.7, Om0=0.31, Tcmb0=2.7255, m_nu=[0.0, 0.0, 60.0] * u.meV)
    assert meV.m_nu == pytest.approx(ref.m_nu, rel=1e-15)
    with pytest.raises(ValueError, match="`m_nu` has unit"):
        Cosmology(H0=67.7, Om0=0.31, Tcmb0=2.7255, m_nu=0.06 * u.kg)
