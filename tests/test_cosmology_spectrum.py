"""Tests of numfit.cosmology.PowerSpectrum: σ(R, z), σ(M, z) and d ln σ / d ln R of any
P(k) or P(k, z) (callable or arrays) as AutoKnots tables.

References independent of the code under test:

* ``scipy.integrate.quad`` of the *same interpolated spectrum* (a SciPy CubicSpline of
  ln P in ln k through the same data, evaluated point by point): ln-k pieces below kR = 1,
  above it the mean of the window product plus its oscillating remainder by QAWO (weights
  cos 2kR and sin 2kR), no taper, no shared grid;
* numfit's Eisenstein–Hu :class:`LinearPower`, whose σ quadrature is a different code
  (a k grid of its own, no knot alignment) over the same k range;
* finite differences of the exact σ for the slope; the tables against the quadrature on
  dense grids (a tolerance is a promise).

Measured on x86-64 (the asserts leave margins): quadrature vs quad, EH with wiggles sampled
at 500 log points, R = 0.1 ... 100 Mpc: σ² within 7e-13 (top-hat) except R = 3 Mpc, where quad
itself is 1.4e-10 off (a brute-force Gauss–Legendre agrees with numfit to ~1e-15), 1.1e-10
(Gaussian), the slope's integral within 8e-12; tables on 2000 radii: σ 0.06 rtol at 1e-6,
0.04 rtol at 1e-8.
"""
import math
import pickle
import warnings

import numpy as np
import pytest
from scipy import integrate
from scipy.interpolate import CubicSpline

import numfit
from numfit.cosmology import Cosmology, KRangeWarning, LinearPower, PowerSpectrum

PLANCK = dict(H0=67.7, Om0=0.31, Ob0=0.049, Tcmb0=2.7255)
K = np.geomspace(1e-5, 1e3, 500)          # a CAMB-like table: 500 log points


@pytest.fixture(scope="module")
def cosmo():
    return Cosmology(**PLANCK)


@pytest.fixture(scope="module")
def lp(cosmo):
    return LinearPower(cosmo, ns=0.965, sigma8=0.81)


@pytest.fixture(scope="module")
def table_ps(cosmo, lp):
    return PowerSpectrum.from_arrays(K, lp.power(K), cosmology=cosmo, rtol=1e-6,
                                     R_range=(0.1, 100.0))


def quad_sums(pfun, kmin, kmax, R, window="tophat", epsrel=1e-12):
    """(σ², σ² d ln σ / d ln R) by scipy.integrate.quad; pfun(k) -> P for a float k."""
    def g(k):
        return k ** 3 * pfun(k) / (2 * math.pi ** 2)

    def wpair(y):
        if window == "gaussian":
            e = math.exp(-y * y)
            return e, -y * y * e
        if y < 1e-2:
            return (1 - y * y / 10) ** 2, (1 - y * y / 10) * (-y * y / 5)
        w = 3 * (math.sin(y) - y * math.cos(y)) / y ** 3
        yw = 3 * ((y * y - 3) * math.sin(y) + 3 * y * math.cos(y)) / y ** 3
        return w * w, w * yw

    def pieces(a, b, step):
        e = np.exp(np.arange(math.log(a), math.log(b), step))
        e = np.append(e[e < b], b)
        e[0] = a
        return list(zip(e[:-1], e[1:]))

    opts = dict(epsabs=0.0, epsrel=epsrel, limit=500)
    k1 = min(1 / R if window == "tophat" else 50 / R, kmax)
    out = np.zeros(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        for a, b in pieces(kmin, k1, 0.1):
            for i in range(2):
                out[i] += integrate.quad(lambda t: g(math.exp(t)) * wpair(math.exp(t) * R)[i],
                                         math.log(a), math.log(b), **opts)[0]
        if window == "tophat" and k1 < kmax:
            # W² = 4.5 (1 + y²)/y⁶ + A cos 2y + B sin 2y, A = 4.5 (y² - 1)/y⁶, B = -9/y⁵,
            # and W y W' = (y/2) d(W²)/dy term by term
            # (in pieces: one quad over the whole range can stop early, off by 4e-10)
            for a, b in pieces(k1, kmax, 0.1):
                out[0] += integrate.quad(lambda t: g(math.exp(t)) * 4.5 * (
                    (math.exp(t) * R) ** -4 + (math.exp(t) * R) ** -6), math.log(a),
                    math.log(b), **opts)[0]
                out[1] += integrate.quad(lambda t: -g(math.exp(t)) * (
                    9 * (math.exp(t) * R) ** -4 + 13.5 * (math.exp(t) * R) ** -6),
                    math.log(a), math.log(b), **opts)[0]

            def A(y):
                return 4.5 * (y * y - 1) / y ** 6

            def Ap(y):
                return 4.5 * (2 * y / y ** 6 - 6 * (y * y - 1) / y ** 7)

            for a, b in pieces(k1, kmax, 0.1):
                out[0] += integrate.quad(lambda k: g(k) / k * A(k * R), a, b, weight="cos",
                                         wvar=2 * R, **opts)[0]
                out[0] += integrate.quad(lambda k: -g(k) / k * 9.0 / (k * R) ** 5, a, b,
                                         weight="sin", wvar=2 * R, **opts)[0]
                out[1] += integrate.quad(lambda k: g(k) / k * 0.5 * (
                    k * R * Ap(k * R) - 18.0 / (k * R) ** 4), a, b, weight="cos",
                    wvar=2 * R, **opts)[0]
                out[1] += integrate.quad(lambda k: g(k) / k * 0.5 * (
                    45.0 / (k * R) ** 5 - 2 * k * R * A(k * R)), a, b, weight="sin",
                    wvar=2 * R, **opts)[0]
    return out


# =========================================================================== quadrature
@pytest.mark.parametrize("window", ["tophat", "gaussian"])
@pytest.mark.parametrize("R", [0.3, 1.0, 8 / 0.677, 60.0])
def test_quadrature_vs_scipy_quad_of_the_same_spectrum(lp, cosmo, window, R):
    """R = 0.3 Mpc puts the end of the table, kmax R = 300, inside the taper band: the
    hard end's oscillating contribution (2.1e-9 of the slope's integral) is added by its
    endpoint expansion."""
    P = lp.power(K)
    cs = CubicSpline(np.log(K), np.log(P))

    def pf(k):
        return math.exp(float(cs(math.log(k))))

    ref = quad_sums(pf, K[0], K[-1], R, window)
    ps = PowerSpectrum.from_arrays(K, P, cosmology=cosmo, rtol=1e-6, R_range=(0.1, 100.0),
                                   window=window)
    s0, s1 = ps._sums(np.array([R]), None)
    print(f"{window} R={R:.4g}: sigma2 {s0[0] / ref[0] - 1:.2e}, slope {s1[0] / ref[1] - 1:.2e}")
    assert s0[0] == pytest.approx(ref[0], rel=1e-9)
    assert s1[0] == pytest.approx(ref[1], rel=1e-9)


@pytest.mark.parametrize("R", [0.3, 3.0])
def test_quadrature_vs_brute_force_gauss_legendre(lp, table_ps, R):
    """σ² against brute force: 20-point Gauss–Legendre on 64 sub-panels of every data
    interval, the window evaluated directly (no taper, no mean, no series).  At R = 3 Mpc
    scipy's quad (above) is off by 1.4e-10 while these two agree to ~1e-15."""
    cs = CubicSpline(np.log(K), np.log(lp.power(K)))
    x, w = np.polynomial.legendre.leggauss(20)
    t = np.log(K)
    e = (t[:-1, None] + (t[1:] - t[:-1])[:, None] * np.linspace(0, 1, 65)[None, :])
    lo, hi = e[:, :-1].ravel(), e[:, 1:].ravel()
    tt = (0.5 * (lo + hi))[:, None] + (0.5 * (hi - lo))[:, None] * x[None, :]
    y = np.exp(tt) * R
    W = 3 * (np.sin(y) - y * np.cos(y)) / y ** 3
    small = y < 1e-3
    W[small] = 1 - y[small] ** 2 / 10
    brute = float(np.sum((0.5 * (hi - lo))[:, None] * w[None, :] * np.exp(3 * tt + cs(tt))
                         * W * W) / (2 * math.pi ** 2))
    ours = table_ps._sums(np.array([R]), None)[0][0]
    assert ours == pytest.approx(brute, rel=1e-12)


def test_slope_against_finite_differences(table_ps):
    R = np.geomspace(0.2, 80.0, 9)
    h = 1e-4
    fd = (np.log(table_ps.sigma(R * math.exp(h), exact=True))
          - np.log(table_ps.sigma(R * math.exp(-h), exact=True))) / (2 * h)
    ex = table_ps.dlnsigma_dlnR(R, exact=True)
    assert np.all(ex < 0)
    assert np.max(np.abs(ex / fd - 1)) < 1e-7                  # fd's own error ~h²


def test_tabulated_spectrum_against_linearpower(lp, table_ps):
    """The interpolated 500-point EH spectrum against LinearPower's own σ quadrature (a
    different code over k in [1e-5, 1e6]): the interpolation of P with wiggles and the
    truncation at 1e3 leave ~1e-5; σ8 is reproduced to that level."""
    R = np.geomspace(0.5, 100.0, 25)
    assert np.max(np.abs(table_ps.sigma(R, exact=True) / lp.sigma(R, exact=True) - 1)) < 3e-5
    assert table_ps.sigma(8 / 0.677) == pytest.approx(0.81, rel=3e-5)


# =========================================================================== tables
@pytest.mark.parametrize("rtol, window", [(1e-6, "tophat"), (1e-8, "tophat"),
                                          (1e-6, "gaussian")])
def test_tables_meet_rtol_on_dense_grid(lp, cosmo, rtol, window):
    ps = PowerSpectrum.from_arrays(K, lp.power(K), cosmology=cosmo, rtol=rtol,
                                   R_range=(0.1, 100.0), window=window)
    R = np.geomspace(0.1, 100.0, 2000)
    sub = R[::4]
    s, d = ps.sigma(R), ps.dlnsigma_dlnR(R)
    es = np.max(np.abs(s[::4] / ps.sigma(sub, exact=True) - 1))
    ed = np.max(np.abs(d[::4] / ps.dlnsigma_dlnR(sub, exact=True) - 1))
    print(f"{window} rtol {rtol:g}: sigma {es / rtol:.3f} rtol ({ps.table().n_evals} evals), "
          f"slope {ed / rtol:.3f} rtol ({ps.table('dlnsigma_dlnR').n_evals})")
    assert es <= rtol and ed <= rtol
    assert ps.table().converged and ps.table("dlnsigma_dlnR").converged


def test_callable_pk_and_linearpower_source(lp, cosmo):
    """A callable P(k) is tabulated by AutoKnots first; σ from it agrees with LinearPower's
    own quadrature of the same P over the same k range to rtol."""
    rtol = 1e-6
    k_range = (1e-5, 1e4)
    R = np.geomspace(0.5, 100.0, 300)
    # LinearPower's quadrature over the same k range, with lp's amplitude
    lp_cut = LinearPower(cosmo, ns=0.965, sigma8=0.81, kmin=k_range[0], kmax=k_range[1])
    ref = lp_cut._sigma0(R) * math.sqrt(lp.amplitude / lp_cut.amplitude)
    ps = PowerSpectrum(lp.power, k_range=k_range, cosmology=cosmo, rtol=rtol,
                       R_range=(0.5, 100.0))
    err = np.max(np.abs(ps.sigma(R) / ref - 1))
    print(f"callable: {err / rtol:.3f} rtol, P table {ps.table('power').n_evals} evals")
    assert err <= rtol
    # the P table itself meets rtol/4 on a dense grid (10 points per knot interval)
    kd = np.geomspace(*k_range, 20 * ps.table("power").n_evals)
    assert np.max(np.abs(ps.power(kd) / lp.power(kd) - 1)) <= rtol / 4
    ps2 = lp.power_spectrum(k_range=k_range, rtol=rtol, R_range=(0.5, 100.0))
    assert np.max(np.abs(ps2.sigma(R) / ref - 1)) <= rtol
    # redshifts through the LinearPower's cosmology
    assert ps2.sigma(8.0, 1.0) == pytest.approx(ps2.sigma(8.0) * cosmo.growth_factor(1.0),
                                                rel=1e-14)
    assert ps2.cosmology is cosmo


def _pkz(lp):
    """A non-separable P(k, z): the growth plus a scale-dependent z factor."""
    def pk(k, z):
        return lp.power(k, z) * (1.0 + 0.1 * z * k / (k + 0.3))
    return pk


def test_callable_pkz_two_d_tables(lp, cosmo):
    rtol = 1e-5
    ps = PowerSpectrum(_pkz(lp), k_range=(1e-5, 1e3), z_range=(0.0, 3.0), cosmology=cosmo,
                       rtol=rtol, R_range=(0.5, 50.0))
    R = np.geomspace(0.5, 50.0, 40)
    z = np.linspace(0.0, 3.0, 13)
    s = ps.sigma(R[:, None], z[None, :])
    d = ps.dlnsigma_dlnR(R[:, None], z[None, :])
    ex = ps.sigma(R[:, None], z[None, :], exact=True)
    exd = ps.dlnsigma_dlnR(R[:, None], z[None, :], exact=True)
    assert s.shape == (40, 13)
    assert np.max(np.abs(s / ex - 1)) <= rtol and np.max(np.abs(d / exd - 1)) <= rtol
    # the exact quadrature at one z equals a 1-D spectrum of P(k, z) at that z
    one = PowerSpectrum(lambda k: _pkz(lp)(k, 2.0), k_range=(1e-5, 1e3), rtol=rtol,
                        R_range=(0.5, 50.0))
    assert np.max(np.abs(one.sigma(R) / ex[:, 8] - 1)) <= 2 * rtol
    # not separable: sigma(R, z) / sigma(R, 0) depends on R
    ratio = s[:, -1] / s[:, 0]
    assert ratio.max() / ratio.min() - 1 > 1e-3
    assert ps.sigma_mass(1e14, 1.0) == pytest.approx(
        ps.sigma(ps.lagrangian_radius(1e14), 1.0), rel=1e-15)


def test_arrays_with_redshift(lp, cosmo):
    z = np.array([0.0, 0.5, 1.0, 2.0, 3.0])
    P = np.array([lp.power(K, zz) for zz in z])             # (nz, nk), CAMB's layout
    ps = PowerSpectrum.from_arrays(K, P, z, cosmology=cosmo, rtol=1e-6, R_range=(0.5, 50.0))
    R = np.geomspace(0.5, 50.0, 30)
    row = PowerSpectrum.from_arrays(K, P[3], cosmology=cosmo, rtol=1e-6, R_range=(0.5, 50.0))
    np.testing.assert_allclose(ps.sigma(R, 2.0, exact=True), row.sigma(R, exact=True),
                               rtol=1e-12)
    assert np.max(np.abs(ps.sigma(R, 2.0) / row.sigma(R, exact=True) - 1)) <= 1e-6
    np.testing.assert_allclose(ps.power(K[::50], 2.0), P[3, ::50], rtol=1e-12)
    with pytest.raises(ValueError, match=r"z = 3.5 is outside z_range \[0, 3\]"):
        ps.sigma(8.0, 3.5)
    # decreasing redshifts (CAMB's internal order) give the same object
    rev = PowerSpectrum.from_arrays(K, P[::-1], z[::-1], cosmology=cosmo, rtol=1e-6,
                                    R_range=(0.5, 50.0))
    assert rev.sigma(8.0, 1.5, exact=True) == ps.sigma(8.0, 1.5, exact=True)
    with pytest.raises(ValueError, match="`z` must be a strictly monotonic"):
        PowerSpectrum.from_arrays(K, P, [0.0, 1.0, 0.5, 2.0, 3.0])


# =========================================================================== one quadrature
def test_linearpower_and_powerspectrum_share_one_quadrature(lp, cosmo):
    """LinearPower's σ and PowerSpectrum(LinearPower)'s σ come from the same class on two
    node sets (LinearPower's resolves the baryon wiggles, the PowerSpectrum's ends its
    panels at the knots of its P table): the quadratures agree far below rtol, the tables
    to rtol."""
    from numfit.cosmology import _power, _spectrum
    assert _spectrum._WindowSums is _power._WindowSums
    assert not hasattr(_power, "_SigmaQuadrature") and not hasattr(_power, "_window_moments")
    assert isinstance(lp._get_grid(lp.Rmin, lp.Rmax), _power._WindowSums)
    rtol = 1e-8
    ps = lp.power_spectrum(rtol=rtol, R_range=(0.5, 100.0))
    R = np.geomspace(0.53, 97.0, 41)                   # off the tables' knots
    ex_lp, ex_ps = lp.sigma(R, exact=True), ps.sigma(R, exact=True)
    err_exact = np.max(np.abs(ex_ps / ex_lp - 1))
    err_table = np.max(np.abs(ps.sigma(R) / ex_lp - 1))
    print(f"PowerSpectrum(LinearPower) vs LinearPower: quadratures {err_exact:.2g}, "
          f"table {err_table:.2g}")
    assert err_exact < 1e-12                       # measured 1.3e-14
    assert err_table <= rtol
    assert ps.sigma(8.0 / cosmo.h, exact=True) == pytest.approx(lp.sigma8, rel=1e-10)
    assert np.all(lp.sigma(R, 1.0) == lp.sigma(R) * cosmo.growth_factor(1.0))


def _pk_table(lp, cosmo, z):
    """A CAMB-like (nz, nk) table, not separable in k and z."""
    kk = K[None, :]
    return lp.power(K)[None, :] * cosmo.growth_factor(z)[:, None] ** 2 \
        * (1.0 + 0.1 * z[:, None] * kk / (kk + 0.3))


@pytest.mark.parametrize("window", ["tophat", "gaussian"])
def test_block_of_redshifts_equals_one_line_at_a_time(lp, cosmo, window, monkeypatch):
    """The 2-D tables evaluate σ² and its slope integral for a block of (R, z) at once (the
    window values of a radius computed once for all redshifts): the same numbers as one
    redshift line at a time, through the tables' function too, and with the radii taken in
    small chunks."""
    from numfit.cosmology import _power
    z = np.linspace(0.0, 3.0, 7)
    P = _pk_table(lp, cosmo, z)
    R = np.geomspace(0.3, 60.0, 37)
    zs = [0.0, 0.37, 1.0, 1.91, 2.5, 3.0]
    kw = dict(cosmology=cosmo, rtol=1e-6, R_range=(0.5, 50.0), window=window)
    block = PowerSpectrum.from_arrays(K, P, z, **kw)._sums_block(R, zs)
    line = PowerSpectrum.from_arrays(K, P, z, **kw)
    worst = 0.0
    for j, zv in enumerate(zs):
        s0, s1 = line._sums(R, zv)
        for b, a in ((block[0][:, j], s0), (block[1][:, j], s1)):
            worst = max(worst, float(np.max(np.abs(b / a - 1))))
    print(f"{window}: block vs per line max rel {worst:.2g}")
    assert worst <= 1e-14                              # measured: bit for bit
    g = line._grid_fn("sigma")(R[:, None], np.array(zs)[None, :])
    ref = np.column_stack([line._sigma_fn(R, zv) for zv in zs])
    assert np.max(np.abs(g / ref - 1)) <= 1e-14
    gd = line._grid_fn("dlnsigma_dlnR")(R[:, None], np.array(zs)[None, :])
    refd = np.column_stack([line._slope_fn(R, zv) for zv in zs])
    assert np.max(np.abs(gd / refd - 1)) <= 1e-14
    monkeypatch.setattr(_power, "_NNZ_CHUNK", 5000)   # several chunks of radii
    small = PowerSpectrum.from_arrays(K, P, z, **kw)._sums_block(R, zs)
    for b, a in zip(block, small):
        assert np.max(np.abs(a / b - 1)) <= 1e-14


def test_block_path_for_a_callable_pkz_and_the_table(lp, cosmo):
    """A callable P(k, z) (its AutoKnots2D table): block and per-line sums agree, and the 2-D
    σ table built by blocks meets rtol against the per-line exact quadrature."""
    rtol = 1e-5
    kw = dict(k_range=(1e-5, 1e3), z_range=(0.0, 3.0), cosmology=cosmo, rtol=rtol,
              R_range=(0.5, 50.0))
    ps = PowerSpectrum(_pkz(lp), **kw)
    R = np.geomspace(0.5, 50.0, 23)
    zs = [0.0, 0.8, 2.2, 3.0]
    b0, b1 = ps._sums_block(R, zs)
    for j, zv in enumerate(zs):
        s0, s1 = ps._sums(R, zv)
        assert np.max(np.abs(b0[:, j] / s0 - 1)) <= 1e-14
        assert np.max(np.abs(b1[:, j] / s1 - 1)) <= 1e-14
    zz = np.linspace(0.0, 3.0, 9)
    err = np.max(np.abs(ps.sigma(R[:, None], zz) / ps.sigma(R[:, None], zz, exact=True) - 1))
    assert err <= rtol


# =========================================================================== truncation
def test_truncation_warning(lp, cosmo):
    k = np.geomspace(1e-3, 2.0, 300)
    ps = PowerSpectrum.from_arrays(k, lp.power(k), cosmology=cosmo, rtol=1e-6,
                                   R_range=(0.5, 100.0))
    with pytest.warns(KRangeWarning, match=r"k_range = \[0.001, 2\] 1/Mpc.*R in \[0.5, "):
        ps.sigma(8.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", KRangeWarning)
        PowerSpectrum.from_arrays(K, lp.power(K), cosmology=cosmo, rtol=1e-6,
                                  R_range=(0.5, 100.0)).sigma(8.0)


def test_truncation_estimate_is_right(lp, cosmo):
    """The warning's estimate against the real change: σ from k in [1e-3, 2] vs from
    [1e-5, 1e3] (same EH spectrum) at R = 0.5 and 5 Mpc, within a factor 3."""
    k = np.geomspace(1e-3, 2.0, 300)
    cut = PowerSpectrum.from_arrays(k, lp.power(k), cosmology=cosmo, rtol=1e-6,
                                    R_range=(0.5, 100.0))
    full = PowerSpectrum.from_arrays(K, lp.power(K), cosmology=cosmo, rtol=1e-6,
                                     R_range=(0.5, 100.0))
    with pytest.warns(KRangeWarning) as rec:
        cut.sigma(8.0)
    est = float(str(rec[0].message).split("up to ")[1].split(" ")[0])
    R = np.geomspace(0.5, 100.0, 25)
    real = np.max(np.abs(cut.sigma(R, exact=True) / full.sigma(R, exact=True) - 1))
    assert real / 3 < est < real * 3


# =========================================================================== save, pickle
def test_save_load_and_pickle(lp, cosmo, tmp_path, table_ps):
    R = np.geomspace(0.1, 100.0, 50)
    want = table_ps.sigma(R), table_ps.dlnsigma_dlnR(R)
    path = table_ps.save(tmp_path / "ps.npz")
    back = numfit.load(path)
    assert isinstance(back, PowerSpectrum)
    np.testing.assert_array_equal(back.sigma(R), want[0])
    np.testing.assert_array_equal(back.dlnsigma_dlnR(R), want[1])
    assert back.sigma(3.0, exact=True) == table_ps.sigma(3.0, exact=True)
    p2 = pickle.loads(pickle.dumps(table_ps))
    np.testing.assert_array_equal(p2.sigma(R), want[0])
    # a LinearPower source saves
    ps = lp.power_spectrum(k_range=(1e-4, 1e2), rtol=1e-4, R_range=(1.0, 50.0))
    ps.sigma(8.0)
    back = numfit.load(ps.save(tmp_path / "lp.npz"))
    assert back.sigma(8.0) == ps.sigma(8.0)


@pytest.mark.parametrize("with_z", [False, True])
def test_callable_source_saves_and_pickles_its_table(lp, cosmo, tmp_path, with_z):
    """A user callable (a lambda around CAMB's interpolator, say) is only called to build
    the P table: save and pickle store that table, built first if need be, and the copy
    gives bit-identical results without the function."""
    if with_z:
        user = PowerSpectrum(lambda k, z: lp.power(k, z), k_range=(1e-4, 1e2),
                             z_range=(0.0, 2.0), cosmology=cosmo, R_range=(1.0, 50.0),
                             rtol=1e-4)
    else:
        user = PowerSpectrum(lambda k: lp.power(k), k_range=(1e-4, 1e2),
                             cosmology=cosmo, R_range=(1.0, 50.0), rtol=1e-4)
    fresh = pickle.loads(pickle.dumps(user))          # nothing built yet: P table made now
    R, z = np.array([2.0, 8.0, 30.0]), 0.7
    want = user.sigma(R, z), user.sigma(5.0, z, exact=True), user.power(0.1, z)
    for back in (fresh, pickle.loads(pickle.dumps(user)),
                 numfit.load(user.save(tmp_path / f"user{with_z}.npz"))):
        assert isinstance(back, PowerSpectrum) and back._pk is None
        np.testing.assert_array_equal(back.sigma(R, z), want[0])
        assert back.sigma(5.0, z, exact=True) == want[1]
        assert back.power(0.1, z) == want[2]
        assert "<lambda>" in repr(back)
    assert user._pk is not None                       # the original keeps its function
    z = np.array([0.0, 1.0])
    P2 = np.array([lp.power(K, zz) for zz in z])
    ps2 = PowerSpectrum.from_arrays(K, P2, z, cosmology=cosmo, rtol=1e-4, R_range=(1.0, 50.0))
    v = ps2.sigma(R[20:30], 0.5)
    back2 = numfit.load(ps2.save(tmp_path / "ps2.npz"))
    np.testing.assert_array_equal(back2.sigma(R[20:30], 0.5), v)


# =========================================================================== masses etc.
def test_masses_windows_shapes(cosmo, lp, table_ps):
    rho = cosmo.mean_matter_density(0.0)
    M = np.array([1e11, 1e13, 1e15])
    np.testing.assert_allclose(table_ps.lagrangian_radius(M),
                               np.cbrt(3 * M / (4 * math.pi * rho)), rtol=1e-14)
    np.testing.assert_allclose(table_ps.sigma_mass(M, 0.5),
                               table_ps.sigma(table_ps.lagrangian_radius(M), 0.5), rtol=1e-15)
    np.testing.assert_allclose(table_ps.dlnsigma_dlnM(M),
                               table_ps.dlnsigma_dlnR(table_ps.lagrangian_radius(M)) / 3,
                               rtol=1e-15)
    g = PowerSpectrum.from_arrays(K, lp.power(K), cosmology=cosmo, window="gaussian",
                                  rtol=1e-5, R_range=(0.1, 100.0))
    np.testing.assert_allclose(g.lagrangian_radius(M),
                               np.cbrt(M / ((2 * math.pi) ** 1.5 * rho)), rtol=1e-14)
    # same R: the Gaussian filter reaches further in x (smaller σ); same mass: close
    assert g.sigma(8.0) < table_ps.sigma(8.0)
    assert 0.8 < g.sigma_mass(1e14) / table_ps.sigma_mass(1e14) < 1.25
    assert isinstance(table_ps.sigma(8.0), float)
    assert table_ps.sigma(np.ones((2, 3))).shape == (2, 3)
    assert table_ps.sigma(8.0, [0.0, 1.0]).shape == (2,)
    assert table_ps.sigma(8.0, 1.0) == pytest.approx(
        table_ps.sigma(8.0) * cosmo.growth_factor(1.0), rel=1e-14)
    assert "PowerSpectrum(arrays" in repr(table_ps)


# =========================================================================== bad input
def test_bad_input(lp, cosmo):
    P = lp.power(K)
    with pytest.raises(TypeError, match="`pk` must be a callable"):
        PowerSpectrum(3.0, k_range=(1e-4, 1.0))
    with pytest.raises(TypeError, match="`k_range` must be a pair"):
        PowerSpectrum(lp.power, k_range=1.0)
    with pytest.raises(ValueError, match="`k_range` must be increasing"):
        PowerSpectrum(lp.power, k_range=(1.0, 1e-4))
    with pytest.raises(ValueError, match=r"`k_range\[0\]`"):
        PowerSpectrum(lp.power, k_range=(0.0, 1.0))
    with pytest.raises(ValueError, match="`rtol`"):
        PowerSpectrum(lp.power, k_range=(1e-4, 1.0), rtol=1e-13)
    with pytest.raises(ValueError, match="`window`"):
        PowerSpectrum(lp.power, k_range=(1e-4, 1.0), window="sharp")
    with pytest.raises(TypeError, match="`cosmology`"):
        PowerSpectrum(lp.power, k_range=(1e-4, 1.0), cosmology="planck")
    with pytest.raises(ValueError, match="`z_range`"):
        PowerSpectrum(lp.power, k_range=(1e-4, 1.0), z_range=(2.0, 1.0))
    with pytest.raises(ValueError, match=r"default `R_range`.*pass R_range="):
        PowerSpectrum(lp.power, k_range=(1e-4, 1.0))
    with pytest.raises(ValueError, match="`R_range` must be increasing"):
        PowerSpectrum(lp.power, k_range=(1e-4, 1.0), R_range=(5.0, 1.0))
    with pytest.raises(ValueError, match="`z_range` must be None for a LinearPower"):
        PowerSpectrum(lp, k_range=(1e-4, 1.0), z_range=(0.0, 1.0))
    with pytest.raises(ValueError, match="`P` must have the shape of `k`"):
        PowerSpectrum.from_arrays(K, P[:-1])
    with pytest.raises(ValueError, match="`k` must be strictly increasing"):
        PowerSpectrum.from_arrays(K[::-1], P)
    with pytest.raises(ValueError, match="`P`"):
        PowerSpectrum.from_arrays(K, -P)
    with pytest.raises(ValueError, match=r"`P` must have shape \(len\(z\), len\(k\)\)"):
        PowerSpectrum.from_arrays(K, np.stack([P, P]), [0.0, 1.0, 2.0])
    ps = PowerSpectrum.from_arrays(K, P, rtol=1e-4, R_range=(1.0, 50.0))
    with pytest.raises(ValueError, match="R = 100 Mpc is outside R_range"):
        ps.sigma(100.0)
    with pytest.raises(ValueError, match="`z` > 0 needs the growth factor.*cosmology="):
        ps.sigma(8.0, 1.0)
    with pytest.raises(ValueError, match="masses need the mean matter density.*cosmology="):
        ps.sigma_mass(1e14)
    with pytest.raises(ValueError, match="`k` must lie in k_range"):
        ps.power(1e4)
    with pytest.raises(ValueError, match="`name`='power'"):
        ps.table("power")
    bad = PowerSpectrum(lambda k: np.ones(3), k_range=(1e-4, 1.0), R_range=(1.0, 50.0))
    with pytest.raises(ValueError, match="`pk` returned 3 values"):
        bad.sigma(8.0)
    neg = PowerSpectrum(lambda k: -k, k_range=(1e-4, 1.0), R_range=(1.0, 50.0))
    with pytest.raises(ValueError, match="P must be finite and > 0"):
        neg.sigma(8.0)
    scal = PowerSpectrum(lambda k: float(lp.power(k)), k_range=(1e-4, 10.0),
                         R_range=(1.0, 50.0), rtol=1e-4, vectorized=False)
    assert scal.power(0.1) == pytest.approx(lp.power(0.1), rel=1e-4)


class _CambLike:
    """An interpolator with CAMB's calling convention: ``P(z, k)``, redshift first, a
    RectBivariateSpline in (z, ln k) returning a (1, nk) block for a scalar z."""

    def __init__(self, lp, z):
        from scipy.interpolate import RectBivariateSpline
        self._s = RectBivariateSpline(z, np.log(K), np.log([lp.power(K, zz) for zz in z]))

    def P(self, z, k):
        return np.exp(self._s(np.atleast_1d(z), np.log(k)))


def test_camb_argument_order(lp, cosmo):
    """The documented wrapper ``lambda k, z: PK.P(z, k)`` for CAMB's interpolator."""
    PK = _CambLike(lp, np.array([0.0, 0.5, 1.0, 2.0]))
    ps = PowerSpectrum(lambda k, z: PK.P(z, k), k_range=(1e-5, 1e3), z_range=(0.0, 2.0),
                       cosmology=cosmo, rtol=1e-5, R_range=(1.0, 50.0))
    R = np.geomspace(1.0, 50.0, 7)
    ref = lp.sigma(R, exact=True) * cosmo.growth_factor(1.0)
    assert np.max(np.abs(ps.sigma(R, 1.0) / ref - 1)) < 1e-4      # truncated at 1e3 only
    assert ps.power(0.1, 0.5) == pytest.approx(float(PK.P(0.5, np.array([0.1]))[0, 0]),
                                               rel=1e-5)
