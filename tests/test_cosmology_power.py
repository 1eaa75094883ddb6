"""Tests of the linear power spectrum (numfit.cosmology._power).

References are independent of the code under test:

* the Eisenstein & Hu (1998) transfer functions against colossus's implementations
  (``modelEisenstein98`` / ``modelEisenstein98ZeroBaryon``, k in h/Mpc) used as a black box;
* physical checks of the EH98 scales: the closed-form sound horizon (eq. 6) against the
  defining integral done by quadrature, the fitted one (eq. 26) against eq. 6, the
  relation ``k_eq = sqrt(2 Ω0 H0² z_eq) / c`` behind eqs. 2–3, the k -> 0 limits;
* the σ(R) quadrature against ``scipy.integrate.quad`` (QAWO for the window's
  oscillating part, no taper, no shared grid), and the σ table against the quadrature.

Measured on x86-64 (for the record; the asserts leave margins):
  EH vs colossus: max |T/T_colossus - 1| = 1.3e-15 (wiggle), 8.9e-16 (no-wiggle) over
  k in [1e-4, 1e2]/Mpc for four cosmologies; no-wiggle/wiggle - 1 at most 3.2% (Planck-like),
  5.0% (Om0 = 0.5, Ob0 = 0.12); s_fit/s - 1 in [-1.1%, -0.5%].
  Quadrature vs quad: |ratio - 1| <= 3.5e-12 at R = 1e-3 ... 300 Mpc.
  σ table (R in [1e-3, 300] Mpc, 2000 log points): rtol 1e-6: 6.7e-8 (127 evaluations);
  rtol 1e-8: 8.1e-10 (339 evaluations).
"""
import math
import pickle
import warnings

import numpy as np
import pytest
from scipy import integrate

from numfit.cosmology import Cosmology, RedshiftRangeError
from numfit.cosmology import _power
from numfit.cosmology._power import LinearPower, eisenstein_hu, eisenstein_hu_nowiggle

C_KM_S = 299792.458

COSMOS = [
    dict(H0=67.7, Om0=0.31, Ob0=0.049),
    dict(H0=70.0, Om0=0.3, Ob0=0.05),
    dict(H0=60.0, Om0=0.5, Ob0=0.12),
    dict(H0=75.0, Om0=0.2, Ob0=0.01),
]


@pytest.fixture(scope="module")
def planck():
    return Cosmology(H0=67.7, Om0=0.31, Ob0=0.049, Tcmb0=2.7255)


@pytest.fixture(scope="module")
def lp(planck):
    return LinearPower(planck, ns=0.965, sigma8=0.81, rtol=1e-8)


# =========================================================================== (a) transfer
@pytest.mark.parametrize("pars", COSMOS)
def test_eh_against_colossus(pars):
    ps = pytest.importorskip("colossus.cosmology.power_spectrum")
    c = Cosmology(**pars, Tcmb0=2.7255)
    h = c.h
    k = np.logspace(-4, 2, 3001)                          # 1/Mpc
    ours = eisenstein_hu(k, c)
    ref = ps.modelEisenstein98(k / h, h, c.Om0, c.Ob0, 2.7255)
    ours_nw = eisenstein_hu_nowiggle(k, c)
    ref_nw = ps.modelEisenstein98ZeroBaryon(k / h, h, c.Om0, c.Ob0, 2.7255)
    d, d_nw = np.max(np.abs(ours / ref - 1)), np.max(np.abs(ours_nw / ref_nw - 1))
    print(f"{pars}: max rel diff wiggle {d:.2e}, no-wiggle {d_nw:.2e}")
    # Same published equations evaluated in double precision: the difference is rounding
    # (measured <= 1.3e-15).  Any transcribed coefficient or a k / (k/h) mix-up moves
    # T by >= 1e-4 somewhere on this range, so 1e-12 separates the two by 8 decades.
    assert d < 1e-12 and d_nw < 1e-12


def test_default_tcmb_is_27255():
    """Tcmb0 = 0 (no radiation in E(z)) uses 2.7255 K in the transfer function."""
    k = np.logspace(-3, 1, 50)
    c0 = Cosmology(H0=70, Om0=0.3, Ob0=0.05)
    c1 = Cosmology(H0=70, Om0=0.3, Ob0=0.05, Tcmb0=2.7255)
    c2 = Cosmology(H0=70, Om0=0.3, Ob0=0.05, Tcmb0=2.9)
    np.testing.assert_array_equal(eisenstein_hu(k, c0), eisenstein_hu(k, c1))
    np.testing.assert_array_equal(eisenstein_hu_nowiggle(k, c0), eisenstein_hu_nowiggle(k, c1))
    assert np.max(np.abs(eisenstein_hu(k, c2) / eisenstein_hu(k, c1) - 1)) > 1e-3


@pytest.mark.parametrize("pars", COSMOS)
def test_eh_limits_and_nowiggle_tracks(pars):
    c = Cosmology(**pars)
    for f in (eisenstein_hu, eisenstein_hu_nowiggle):
        assert abs(f(1e-8, c) - 1) < 1e-8
        t = f(np.logspace(-6, 3, 500), c)
        assert np.all(t > 0) and np.all(t <= 1 + 1e-12)
        assert np.all(np.diff(t[:200]) <= 0)             # decreasing on large scales
    k = np.logspace(-4, 2, 2000)
    rel = np.abs(eisenstein_hu_nowiggle(k, c) / eisenstein_hu(k, c) - 1)
    assert rel.max() < 0.06                              # measured <= 5.0%
    assert rel[k < 2e-3].max() < 2e-3


@pytest.mark.parametrize("pars", COSMOS)
def test_sound_horizon(pars):
    c = Cosmology(**pars)
    p = _power._eh_scales(c.h, c.Om0, c.Ob0, 2.7255)
    # eq. 6 is the closed form of s = ∫_0^{a_d} c_s dη for matter + radiation with
    # a_eq = 1/z_eq, R = 3ρ_b/4ρ_γ = R_eq a / a_eq and H = H0 sqrt(Ω0) a^-2 sqrt(a + a_eq)
    a_eq, a_d, R_eq = 1 / p["z_eq"], 1 / p["z_d"], p["R_eq"]
    H0c = c.H0 / C_KM_S                                  # H0 / c [1/Mpc]

    def ds(a):
        cs = 1 / math.sqrt(3 * (1 + R_eq * a / a_eq))
        return cs / (H0c * math.sqrt(c.Om0) * math.sqrt(a + a_eq))

    s_int = integrate.quad(ds, 0, a_d, epsabs=0, epsrel=1e-13)[0]
    assert p["s"] == pytest.approx(s_int, rel=1e-3)      # 3-digit k_eq of eq. 3
    # eq. 3 is k_eq = sqrt(2 Ω0 H0² z_eq) / c with eq. 2's z_eq (3 digits)
    assert p["k_eq"] == pytest.approx(math.sqrt(2 * c.Om0 * p["z_eq"]) * H0c, rel=1e-3)
    # eq. 26 fits eq. 6 "to 2%" (EH98 section 4.2)
    assert abs(p["s_fit"] / p["s"] - 1) < 0.02


def test_planck_like_scales():
    """z_eq, z_drag and s for a Planck-like cosmology.  EH98's fits are known to put the
    drag epoch near z = 1020 and the sound horizon near 150 Mpc for these parameters
    (Boltzmann codes give z_drag ~ 1060, r_drag ~ 147 Mpc); the exact numbers here are
    eqs. 2, 4 and 6 evaluated, pinned against drift."""
    p = _power._eh_scales(0.677, 0.31, 0.049, 2.7255)
    assert p["z_eq"] == pytest.approx(2.5e4 * 0.31 * 0.677 ** 2 * (2.7255 / 2.7) ** -4)
    assert 3400 < p["z_eq"] < 3450
    assert 1010 < p["z_d"] < 1030
    assert 145 < p["s"] < 155 and 145 < p["s_fit"] < 155
    assert p["z_d"] == pytest.approx(1020.8325154439959, rel=1e-12)
    assert p["s"] == pytest.approx(151.089494470946, rel=1e-12)


def test_zero_baryons_is_the_limit():
    k = np.logspace(-4, 2, 400)
    t0 = eisenstein_hu(k, Cosmology(H0=70, Om0=0.3, Ob0=0.0))
    t1 = eisenstein_hu(k, Cosmology(H0=70, Om0=0.3, Ob0=1e-9))
    assert np.max(np.abs(t1 / t0 - 1)) < 1e-6
    lp0 = LinearPower(Cosmology(H0=70, Om0=0.3, Ob0=0.0), rtol=1e-4)
    assert lp0.sigma(8 / 0.7, exact=True) == pytest.approx(0.8, rel=1e-12)
    # all-baryon matter (Ωc = 0) is allowed too
    assert np.all(np.isfinite(eisenstein_hu(k, Cosmology(H0=70, Om0=0.05, Ob0=0.05))))


# =========================================================================== (b) table
@pytest.mark.parametrize("rtol", [1e-6, 1e-8])
def test_sigma_table_vs_quadrature(planck, rtol):
    lp = LinearPower(planck, sigma8=0.81, rtol=rtol)
    tab = lp.table("sigma")
    R = np.logspace(-3, math.log10(300), 400)
    R[0], R[-1] = lp.Rmin, lp.Rmax
    err = np.abs(lp.sigma(R) / lp.sigma(R, exact=True) - 1)
    print(f"rtol {rtol:g}: max |table/exact - 1| = {err.max():.2e}, n_evals {tab.n_evals}")
    assert tab.converged and tab.n_evals == len(tab.knots)
    assert err.max() <= rtol
    assert tab.n_evals < (200 if rtol == 1e-6 else 500)


# =========================================================================== (c) quadrature
def _quad_sigma2(lp, R, epsrel=1e-12):
    """σ²/A by scipy.integrate.quad: ln-k pieces for kR < 1; above, the mean of W² plus
    the oscillating remainder by QAWO (weight cos/sin 2kR), pieces of 1/2 in ln k."""
    ns, kmin, kmax = lp.ns, lp.kmin, lp.kmax

    def g(k):
        return k ** (3 + ns) * float(lp.transfer(k)) ** 2 / (2 * math.pi ** 2)

    def w2(y):
        return float(_power._window2(np.array([y]))[0])

    def pieces(a, b, step):
        e = np.exp(np.arange(math.log(a), math.log(b), step))
        e = np.append(e[e < b], b)
        e[0] = a
        return zip(e[:-1], e[1:])

    opts = dict(epsabs=0.0, epsrel=epsrel, limit=500)
    k1 = min(1 / R, kmax)
    tot = 0.0
    for a, b in pieces(kmin, k1, 1.0):
        tot += integrate.quad(lambda t: g(math.exp(t)) * w2(math.exp(t) * R),
                              math.log(a), math.log(b), **opts)[0]
    if k1 < kmax:
        tot += integrate.quad(lambda t: g(math.exp(t)) * 4.5 * ((math.exp(t) * R) ** -4
                                                               + (math.exp(t) * R) ** -6),
                              math.log(k1), math.log(kmax), **opts)[0]
        for a, b in pieces(k1, min(kmax, 1e4 / R), 0.5):
            tot += integrate.quad(lambda k: g(k) / k * 4.5 * ((k * R) ** 2 - 1) / (k * R) ** 6,
                                  a, b, weight="cos", wvar=2 * R, **opts)[0]
            tot += integrate.quad(lambda k: -g(k) / k * 9.0 / (k * R) ** 5,
                                  a, b, weight="sin", wvar=2 * R, **opts)[0]
    return tot


@pytest.mark.parametrize("R", [0.01, 8 / 0.677, 100.0])
def test_quadrature_vs_scipy_quad(lp, R):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        ref = _quad_sigma2(lp, R)
    ours = lp._sigma2_unnormalised(np.array([R]))[0]
    print(f"R = {R:g}: quadrature / quad - 1 = {ours / ref - 1:.2e}")
    assert ours == pytest.approx(ref, rel=1e-10)


def test_sigma8_normalisation(lp, planck):
    r8 = 8 / planck.h
    assert abs(lp.sigma(r8, exact=True) / 0.81 - 1) <= 1e-12
    assert abs(lp.sigma(r8) / 0.81 - 1) <= lp.rtol
    # σ² is the integral of the power spectrum itself
    k = np.exp(np.linspace(math.log(1e-5), math.log(1e3), 400001))
    y = k * r8
    w = 3 * (np.sin(y) - y * np.cos(y)) / y ** 3
    f = k ** 3 * lp.power(k) * w * w / (2 * math.pi ** 2)
    s2 = integrate.simpson(f, x=np.log(k))
    assert s2 == pytest.approx(0.81 ** 2, rel=1e-7)


def test_window_series_matches_closed_form():
    y = np.linspace(0.3, 0.7, 41)
    ser = np.zeros_like(y)
    for c in reversed(_power._W_SERIES):
        ser = ser * y * y + c
    direct = 3 * (np.sin(y) - y * np.cos(y)) / y ** 3
    assert np.max(np.abs(ser / direct - 1)) < 1e-14
    assert _power._window2(np.array([1e-9]))[0] == 1.0


# =========================================================================== (d) z and M
def test_redshift_and_mass(lp, planck):
    R = np.logspace(-2, 2, 7)
    z = np.array([0.0, 0.5, 2.0])
    s = lp.sigma(R[:, None], z[None, :])
    assert s.shape == (7, 3)
    D = planck.growth_factor(z)
    np.testing.assert_allclose(s, lp.sigma(R)[:, None] * D[None, :], rtol=1e-15)
    np.testing.assert_allclose(lp.power(0.1, z), lp.power(0.1) * D ** 2, rtol=1e-15)
    with pytest.raises(RedshiftRangeError):
        lp.sigma(8.0, z=11.0)
    M = np.array([1e10, 1e12, 1e14, 1e15])
    RM = (3 * M / (4 * math.pi * planck.mean_matter_density(0))) ** (1 / 3)
    np.testing.assert_allclose(lp.lagrangian_radius(M), RM, rtol=1e-14)
    np.testing.assert_allclose(lp.sigma_mass(M, 1.0), lp.sigma(RM, 1.0), rtol=1e-14)
    assert np.all(np.diff(lp.sigma_mass(M)) < 0)


def test_nowiggle_power(planck):
    lpw = LinearPower(planck, rtol=1e-5)
    lpn = LinearPower(planck, rtol=1e-5, transfer="eisenstein_hu_nowiggle")
    assert lpn.sigma(8 / planck.h, exact=True) == pytest.approx(0.8, rel=1e-12)
    R = np.logspace(-2, 2, 9)
    assert np.max(np.abs(lpn.sigma(R) / lpw.sigma(R) - 1)) < 0.03
    k = np.logspace(-3, 0, 30)
    np.testing.assert_allclose(lpn.transfer(k), eisenstein_hu_nowiggle(k, planck), rtol=1e-15)


# =========================================================================== (e) bad input
@pytest.mark.parametrize("k, exc", [
    (0.0, ValueError), (-1.0, ValueError), (np.nan, ValueError), (np.inf, ValueError),
    ([0.1, -0.2], ValueError), (1 + 1j, TypeError), ("0.1", TypeError), (None, TypeError),
])
def test_bad_k(lp, planck, k, exc):
    for f in (lambda k: eisenstein_hu(k, planck), lambda k: eisenstein_hu_nowiggle(k, planck),
              lp.transfer, lp.power):
        with pytest.raises(exc, match="`k`"):
            f(k)


def test_bad_constructor(planck):
    with pytest.raises(TypeError, match="`cosmology` must be a numfit.cosmology.Cosmology"):
        LinearPower("planck")
    with pytest.raises(TypeError, match="`cosmology`"):
        eisenstein_hu(0.1, {"H0": 70})
    for kw, match in [(dict(ns=np.nan), "`ns`"), (dict(ns=np.inf), "`ns`"),
                      (dict(sigma8=0.0), "`sigma8`"), (dict(sigma8=-0.8), "`sigma8`"),
                      (dict(sigma8=np.inf), "`sigma8`"), (dict(transfer="bbks"), "`transfer`"),
                      (dict(Rmin=0.0), "`Rmin`"), (dict(Rmin=10.0, Rmax=1.0), "`Rmin`"),
                      (dict(kmin=1e3, kmax=1.0), "`kmin`"), (dict(rtol=0.5), "`rtol`")]:
        with pytest.raises(ValueError, match=match):
            LinearPower(planck, **kw)
    with pytest.raises(TypeError, match="`sigma8`"):
        LinearPower(planck, sigma8="0.8")


def test_bad_radius_and_mass(planck):
    lp = LinearPower(planck, rtol=1e-4, Rmin=0.1, Rmax=100.0)
    for R, exc in [(0.0, ValueError), (-1.0, ValueError), (np.nan, ValueError),
                   ("8", TypeError), (8 + 0j, TypeError)]:
        with pytest.raises(exc, match="`R`"):
            lp.sigma(R)
    assert lp._table is None                           # nothing built by a failed call
    with pytest.raises(ValueError, match=r"outside the sigma table's range \[0.1, 100\].*"
                                         r"Rmin=\.\.\., Rmax=\.\.\..*exact=True"):
        lp.sigma([1.0, 200.0])
    with pytest.raises(ValueError, match="outside the sigma table"):
        lp.sigma(0.01)
    for M in (0.0, -1e12, np.nan):
        with pytest.raises(ValueError, match="`M`"):
            lp.sigma_mass(M)
    with pytest.raises(ValueError, match=r"M in \[.*\] M_sun"):
        lp.sigma_mass(1e25)
    assert lp._table is None
    assert 0 < lp.sigma(200.0, exact=True) < lp.sigma(100.0)     # exact: any R > 0
    assert lp.sigma(8.0) == pytest.approx(lp.sigma(8.0, exact=True), rel=1e-4)


def test_failed_build_leaves_no_table(planck, monkeypatch):
    lp = LinearPower(planck, rtol=1e-4)

    def boom(R):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(lp, "_sigma0", boom)
    with pytest.raises(RuntimeError, match="interrupted"):
        lp.sigma(8.0)
    assert lp._table is None
    monkeypatch.undo()
    assert lp.sigma(8.0 / planck.h) == pytest.approx(0.8, rel=1e-4)
    assert lp.table().converged


# =========================================================================== (f) pickle, shapes
def test_pickle_repr_shapes(planck):
    lp = LinearPower(planck, rtol=1e-5)
    R = np.logspace(-2, 2, 12).reshape(3, 4)
    before = lp.sigma(R)
    lp2 = pickle.loads(pickle.dumps(lp))
    assert lp2._table is not None and lp2._grid is None
    np.testing.assert_array_equal(lp2.sigma(R), before)
    assert lp2.sigma(5.0, exact=True) == lp.sigma(5.0, exact=True)
    assert "LinearPower(Cosmology(" in repr(lp) and "sigma8=0.8" in repr(lp)
    assert isinstance(lp.sigma(8.0), float) and isinstance(lp.power(0.1), float)
    assert isinstance(lp.transfer(0.1), float) and isinstance(lp.sigma_mass(1e13), float)
    assert isinstance(eisenstein_hu(0.1, planck), float)
    assert before.shape == (3, 4) and lp.power(R).shape == (3, 4)
    assert lp.sigma(np.array([])).shape == (0,)
    assert lp.sigma([8.0]).shape == (1,)
    assert lp.sigma(8.0, z=[0.0, 1.0]).shape == (2,)
    assert lp.transfer(np.float32(0.1)) == pytest.approx(lp.transfer(0.1), rel=1e-7)
    assert LinearPower().cosmology == Cosmology()


# --------------------------------------------------------------------------- 2-D tables
def test_table2d_sigma_and_nowiggle_power_meet_rtol():
    from numfit.interpolate._family import error_ratio2d
    from numfit.cosmology import LinearPower
    lp = LinearPower(rtol=1e-6, transfer="eisenstein_hu_nowiggle", Rmin=0.1, Rmax=50.0)
    tp = lp.table2d("power", zmax=3.0, k_range=(1e-3, 5.0))
    from numfit import AutoKnots2D
    assert isinstance(tp, AutoKnots2D) and tp.converged and tp.log_f
    assert error_ratio2d(tp, lp.power, n=101) <= 1
    ts = lp.table2d("sigma", zmax=3.0)
    assert ts.converged and error_ratio2d(ts, lp._sigma2d, n=61) <= 1
    R, z = np.geomspace(0.2, 40, 7), np.linspace(0, 3, 5)
    assert np.allclose(ts(R, z, grid=True), lp.sigma(R[:, None], z[None, :], exact=True),
                       rtol=1e-6)
    assert lp.table2d("sigma", zmax=3.0) is ts                  # cached
    p = pickle.loads(pickle.dumps(lp))
    assert np.array_equal(p.table2d("sigma", zmax=3.0)(R, 1.0), ts(R, 1.0))


def test_table2d_bad_input():
    from numfit.cosmology import LinearPower
    lp = LinearPower(rtol=1e-5)
    with pytest.raises(ValueError, match="`name`"):
        lp.table2d("pk")
    with pytest.raises(ValueError, match="`zmax`"):
        lp.table2d("power", zmax=-1.0)
    with pytest.raises(ValueError, match="k_range"):
        lp.table2d("power", k_range=(1.0, 0.1))
    with pytest.raises(TypeError, match="k_range"):
        lp.table2d("power", k_range=1.0)
    with pytest.raises(ValueError, match="`rtol`"):
        lp.table2d("power", rtol=0.5)
