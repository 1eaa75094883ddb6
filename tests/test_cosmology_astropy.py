"""astropy interoperability: Cosmology.from_astropy / to_astropy, massive neutrinos as
astropy models them, astropy Quantities for H0, radii and masses, and the conventions numfit
shares with astropy (Neff default 3.04, the Julian year of lookback times).

The reference is astropy itself (its E(z) and distances for the same object); astropy's
distances are quadrature or elliptic integrals exact to ~1e-13 except the flat-ΛCDM fast
path as z -> 0 (4.7e-11 at z = 1.2e-5; see the background tests), so z >= 1e-3 here.
Measured: E(z) within 8e-14 of astropy's (Planck18, massive neutrinos included); the tables
(rtol 1e-8) within 8e-10; exact=True within 3e-12.
"""
import math
import pickle

import numpy as np
import pytest

ac = pytest.importorskip("astropy.cosmology")
u = pytest.importorskip("astropy.units")

import numfit  # noqa: E402
from numfit.cosmology import (Cosmology, LinearPower, NFWProfile,  # noqa: E402
                              PowerSpectrum)

Z = np.concatenate((np.geomspace(1e-3, 0.1, 50), np.linspace(0.1, 10.0, 1000)))
DIST = ["comoving_distance", "comoving_transverse_distance", "angular_diameter_distance",
        "luminosity_distance", "lookback_time"]


def twins():
    return {
        "Planck18": ac.Planck18,
        "WMAP9": ac.WMAP9,
        "flat no radiation": ac.FlatLambdaCDM(H0=70, Om0=0.3),
        "curved + massive nu": ac.LambdaCDM(H0=68, Om0=0.31, Ode0=0.67, Tcmb0=2.7255,
                                            Neff=3.046, m_nu=[0.02, 0.03, 0.05] * u.eV,
                                            Ob0=0.049),
        "flat wCDM": ac.FlatwCDM(H0=69, Om0=0.3, w0=-0.9, Tcmb0=2.7255),
        "wCDM": ac.wCDM(H0=69, Om0=0.3, Ode0=0.72, w0=-1.1, Tcmb0=2.7255, m_nu=0.1 * u.eV),
        "flat w0wa": ac.Flatw0waCDM(H0=67, Om0=0.32, w0=-0.8, wa=-0.5, Tcmb0=2.7255,
                                    m_nu=[0, 0, 0.06] * u.eV, Ob0=0.05),
        "w0wa": ac.w0waCDM(H0=67, Om0=0.32, Ode0=0.66, w0=-0.95, wa=0.3, Tcmb0=2.7255),
    }


@pytest.mark.parametrize("name", list(twins()))
def test_from_astropy_distances(name):
    a = twins()[name]
    c = Cosmology.from_astropy(a)
    # photon and neutrino densities from the same formulas agree to ~3e-11 relative
    # (astropy's Ogamma0 goes through cgs constants; measured 3.3e-11), so the derived Ok0
    # or Ode0 to ~2e-13 absolute; radiation is <= 1e-3 of E² here, so E agrees to ~1e-14
    assert abs(c.Ok0 - a.Ok0) < 1e-12 and abs(c.Ode0 - a.Ode0) < 1e-12
    assert c.Ogamma0 == pytest.approx(a.Ogamma0, rel=1e-10)
    assert abs(c.Onu0 / a.Onu0 - 1) < 1e-10 if a.Onu0 else c.Onu0 == 0
    np.testing.assert_allclose(c.efunc(Z), a.efunc(Z), rtol=1e-12, atol=0)
    worst = 0.0
    for q in DIST:
        ours, ref = getattr(c, q)(Z), getattr(a, q)(Z).value
        worst = max(worst, float(np.max(np.abs(ours / ref - 1))))
    print(f"{name}: max |numfit/astropy - 1| = {worst:.2e}")
    assert worst <= 1e-8                                          # the bar of issue 16
    sub = Z[::100]
    ex = c.luminosity_distance(sub, exact=True) / a.luminosity_distance(sub).value - 1
    assert np.max(np.abs(ex)) < 1e-10
    # the growth (massive neutrinos in E(z), not clustering) stays within rtol of the
    # independent DOP853 solve
    z = np.linspace(0, 10, 41)
    assert np.max(np.abs(c.growth_factor(z) / c.growth_factor(z, exact=True) - 1)) <= 1e-8


def test_planck18_bar():
    """from_astropy(Planck18) distances to 1e-8 of astropy's on 10^4 redshifts."""
    c = Cosmology.from_astropy(ac.Planck18)
    z = np.linspace(1e-3, 10.0, 10_000)
    for q in ("comoving_distance", "luminosity_distance", "angular_diameter_distance"):
        assert np.max(np.abs(getattr(c, q)(z) / getattr(ac.Planck18, q)(z).value - 1)) <= 1e-8
    assert c.name == "Planck18" and c.m_nu == (0.0, 0.0, 0.06) and c.Neff == 3.046
    assert c.H0 == 67.66 and c.Ob0 == 0.04897 and c.is_flat


@pytest.mark.parametrize("name", list(twins()))
def test_round_trips(name):
    a = twins()[name]
    c = Cosmology.from_astropy(a)
    b = c.to_astropy()
    assert type(b) is type(a) or type(a).__name__.startswith(type(b).__name__.lstrip("Flat"))
    for par in ("H0", "Om0", "Ode0", "Tcmb0", "Neff", "Ob0"):
        va, vb = getattr(a, par), getattr(b, par)
        va = getattr(va, "value", va)
        vb = getattr(vb, "value", vb)
        assert vb == pytest.approx(va or 0.0, rel=1e-14, abs=1e-15), par
    if a.m_nu is not None and a.Tcmb0.value > 0:
        np.testing.assert_allclose(b.m_nu.value, a.m_nu.value, rtol=1e-15)
    np.testing.assert_allclose(b.efunc(Z), a.efunc(Z), rtol=1e-14)
    assert Cosmology.from_astropy(b) == c
    c2 = pickle.loads(pickle.dumps(c))
    assert c2 == c


def test_save_load_massive_neutrinos(tmp_path):
    c = Cosmology.from_astropy(ac.Planck18)
    want = c.comoving_distance(Z)
    back = numfit.load(c.save(tmp_path / "p18.npz"))
    assert back == c
    np.testing.assert_array_equal(back.comoving_distance(Z), want)


def test_to_astropy_classes():
    assert type(Cosmology().to_astropy()) is ac.FlatLambdaCDM
    assert type(Cosmology(Ode0=0.6).to_astropy()) is ac.LambdaCDM
    assert type(Cosmology(w0=-0.9).to_astropy()) is ac.FlatwCDM
    assert type(Cosmology(w0=-0.9, wa=0.1, Ode0=0.6).to_astropy()) is ac.w0waCDM
    a = Cosmology(Tcmb0=2.7255, m_nu=0.05, name="x").to_astropy()
    np.testing.assert_array_equal(a.m_nu.value, [0.05, 0.05, 0.05])
    assert a.name == "x"


def test_conventions_match_astropy():
    """Neff defaults to astropy's 3.04; lookback times use the Julian year (365.25 d),
    as astropy's Gyr does."""
    c = Cosmology(H0=70, Om0=0.3, Tcmb0=2.7255)
    a = ac.FlatLambdaCDM(H0=70, Om0=0.3, Tcmb0=2.7255)
    assert c.Neff == a.Neff == 3.04
    assert c.Onu0 == pytest.approx(a.Onu0, rel=1e-10)
    assert c.hubble_time == pytest.approx(a.hubble_time.to_value(u.Gyr), rel=1e-15)
    z = np.linspace(0.01, 10, 500)
    assert np.max(np.abs(c.lookback_time(z) / a.lookback_time(z).value - 1)) <= 1e-8
    assert c.critical_density0 == pytest.approx(
        a.critical_density0.to_value(u.Msun / u.Mpc ** 3), rel=1e-12)


def test_quantities_are_converted_once():
    c = Cosmology(H0=67.7 * u.km / u.s / u.Mpc, Tcmb0=2.7255 * u.K)
    assert c == Cosmology(H0=67.7, Tcmb0=2.7255)
    assert Cosmology(H0=0.0677 * u.km / u.s / u.kpc).H0 == pytest.approx(67.7, rel=1e-14)
    with pytest.raises(ValueError, match="`H0` has unit"):
        Cosmology(H0=67.7 * u.km)
    lp = LinearPower(c, rtol=1e-5)
    assert lp.sigma(8000 * u.kpc) == lp.sigma(8.0)
    assert lp.sigma_mass(1e14 * u.Msun) == lp.sigma_mass(1e14)
    assert lp.sigma_mass((1e14 * u.Msun).to(u.kg)) == pytest.approx(lp.sigma_mass(1e14),
                                                                     rel=1e-14)
    assert lp.power(0.1 / u.Mpc) == lp.power(0.1)
    with pytest.raises(ValueError, match="`R` has unit s"):
        lp.sigma(8 * u.s)
    k = np.geomspace(1e-5, 1e3, 300)
    ps = PowerSpectrum.from_arrays(k, lp.power(k), cosmology=c, rtol=1e-5,
                                   R_range=(1.0, 50.0))
    assert ps.sigma(8 * u.Mpc) == ps.sigma(8.0)
    assert ps.sigma_mass(1e14 * u.Msun) == ps.sigma_mass(1e14)
    halo = NFWProfile(1e14 * u.Msun, 5.0, cosmology=c)
    R = np.array([0.1, 1.0])
    np.testing.assert_array_equal(halo.delta_sigma(R * 1000 * u.kpc),
                                  NFWProfile(1e14, 5.0, cosmology=c).delta_sigma(R))


def test_bad_input():
    with pytest.raises(TypeError, match="`cosmo` must be an astropy LambdaCDM"):
        Cosmology.from_astropy(ac.w0wzCDM(H0=70, Om0=0.3, Ode0=0.7, w0=-1, wz=0.1))
    with pytest.raises(TypeError, match="`cosmo`"):
        Cosmology.from_astropy("Planck18")
    with pytest.raises(ValueError, match="`m_nu` > 0 needs `Tcmb0` > 0"):
        Cosmology(m_nu=0.06)
    with pytest.raises(ValueError, match="`m_nu` must have floor\\(Neff\\) = 3 entries"):
        Cosmology(Tcmb0=2.7255, m_nu=[0.06, 0.0])
    with pytest.raises(ValueError, match="`m_nu` must be a neutrino mass >= 0"):
        Cosmology(Tcmb0=2.7255, m_nu=-0.1)
    assert math.isfinite(Cosmology(Tcmb0=2.7255, m_nu=[0, 0, 0.06]).comoving_distance(1.0))


def test_objects_saved_before_massive_neutrinos_load():
    """A Cosmology pickled before issue 16 (no neutrino-mass keys) loads and equals the
    same parameters built now."""
    c = Cosmology(Tcmb0=2.7255, Neff=3.046, Ode0=0.65)
    state = dict(c.__dict__)
    state["_p"] = {k: v for k, v in c._p.items()
                   if k not in ("Orad_early", "m_nu", "nu_y", "neff_per_nu", "n_massless")}
    old = Cosmology.__new__(Cosmology)
    old.__setstate__(state)
    assert old == c
    assert old.comoving_distance(2.0) == c.comoving_distance(2.0)
    assert old.growth_factor(1.0) == c.growth_factor(1.0)
