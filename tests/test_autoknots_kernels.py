"""The compiled AutoKnots kernels (Cython and Numba) against the pure reference."""
import numpy as np
import pytest
from reference_autoknots import (ref_closure_flags, ref_evaluate, ref_interval_integrals,
                                 ref_notaknot, ref_round_tests)
from scipy.interpolate import CubicSpline

RNG = np.random.default_rng(12345)


def _mesh(n, m=1, seed=0):
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.uniform(0.1, 1.0, n))
    y = rng.normal(size=(n, m))
    return t, y


def _fit(K, t, y):
    n, m = y.shape
    c = np.empty((4, n - 1, m))
    assert K.notaknot(t, y, c, np.empty(n), np.empty((n, m))) == 0
    return c


@pytest.mark.parametrize("n", [4, 5, 6, 11, 200])
@pytest.mark.parametrize("m", [1, 3])
def test_notaknot_matches_scipy(kernels, n, m):
    t, y = _mesh(n, m, seed=n)
    c = _fit(kernels, t, y)
    ref = ref_notaknot(t, y)
    assert np.allclose(c, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    # interpolates the data exactly (to rounding) and K2 order matches PPoly's
    assert np.array_equal(c[3], y[:-1])


def test_notaknot_reproduces_cubics_exactly(kernels):
    t = np.array([0.0, 0.3, 1.1, 1.2, 2.0, 3.5])
    y = (1 - 2 * t + 0.5 * t ** 2 - 0.25 * t ** 3)[:, None]
    c = _fit(kernels, t, y)
    assert np.allclose(c[0], -0.25) and np.allclose(c[0, :, 0], c[0, 0, 0])


def test_notaknot_rejects_small_n(kernels):
    t = np.array([0.0, 1.0, 2.0])
    y = np.zeros((3, 1))
    assert kernels.notaknot(t, y, np.empty((4, 2, 1)), np.empty(3), np.empty((3, 1))) == -1


@pytest.mark.parametrize("nu", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("extrapolate", [False, True])
def test_evaluate_matches_ppoly(kernels, nu, extrapolate):
    t, y = _mesh(300, 2, seed=1)
    c = _fit(kernels, t, y)
    table = np.empty(4 * 299 + 1, dtype=np.intp)
    kernels.build_table(t, table)
    q = np.concatenate([RNG.uniform(t[0], t[-1], 5000), t, np.sort(RNG.uniform(t[0], t[-1], 50)),
                        [t[0] - 0.5, t[-1] + 0.5, np.nan, np.nextafter(t[-1], np.inf)]])
    out = np.empty((q.size, 2))
    assert kernels.evaluate(t, c, table, q, nu, extrapolate, out) == 0
    ref = ref_evaluate(t, c, q, nu, extrapolate)
    scale = np.nanmax(np.abs(ref))
    assert np.array_equal(np.isnan(out), np.isnan(ref))
    ok = ~np.isnan(ref)
    assert np.allclose(out[ok], ref[ok], rtol=1e-12, atol=1e-13 * scale)


def test_lookup_on_clustered_knots(kernels):
    """Bucket table with many knots per cell (dyadic refinement near one point)."""
    t = np.unique(np.concatenate([np.linspace(0, 1, 6), 0.5 + np.geomspace(1e-12, 0.1, 400),
                                  0.5 - np.geomspace(1e-12, 0.1, 400)]))
    y = np.sin(40 * t)[:, None]
    c = _fit(kernels, t, y)
    table = np.empty(4 * (t.size - 1) + 1, dtype=np.intp)
    kernels.build_table(t, table)
    q = np.concatenate([t, 0.5 + RNG.normal(scale=1e-6, size=2000), RNG.uniform(0, 1, 2000)])
    out = np.empty((q.size, 1))
    kernels.evaluate(t, c, table, q, 0, False, out)
    idx = np.clip(np.searchsorted(t, q, "right") - 1, 0, t.size - 2)
    s = q - t[idx]
    ref = ((c[0, idx, 0] * s + c[1, idx, 0]) * s + c[2, idx, 0]) * s + c[3, idx, 0]
    assert np.array_equal(out[:, 0], ref)


def test_interval_integrals_and_integrate(kernels):
    t, y = _mesh(50, 2, seed=3)
    c = _fit(kernels, t, y)
    ints = np.empty((49, 2))
    kernels.interval_integrals(t, c, ints)
    assert np.allclose(ints, ref_interval_integrals(t, c), rtol=1e-12, atol=1e-12)
    table = np.empty(4 * 49 + 1, dtype=np.intp)
    kernels.build_table(t, table)
    cs = CubicSpline(t, y, bc_type="not-a-knot")
    out = np.empty(2)
    for lo, hi in [(t[0], t[-1]), (t[3] + 0.01, t[20] - 0.02), (t[10], t[2]),
                   (t[0] - 1, t[-1] + 1), (t[5] + 0.1, t[5] + 0.2)]:
        kernels.integrate(t, c, table, lo, hi, out)
        assert np.allclose(out, cs.integrate(lo, hi, extrapolate=True), rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("mode,norm,simpson", [(0, 0, True), (0, 0, False), (1, 0, True),
                                               (0, 1, True)])
def test_round_tests_match_reference(kernels, mode, norm, simpson):
    rng = np.random.default_rng(7)
    t = np.linspace(0.0, 2.0, 40)
    m = 2
    F = np.exp(np.stack([np.sin(3 * t), np.cos(2 * t)], 1))
    y = np.log(F) if mode == 1 else F
    c = _fit(kernels, t, np.ascontiguousarray(y))
    idx = np.arange(0, 39, 2)
    frac = 0.5 if simpson else rng.uniform(0.3, 0.7, idx.size)
    tm = t[idx] + frac * (t[idx + 1] - t[idx])
    Fm = np.exp(np.stack([np.sin(3 * tm), np.cos(2 * tm)], 1))
    # perturb some midpoints so that some intervals fail
    Fm *= 1 + rng.choice([0.0, 1e-7, 1e-3], size=(idx.size, m))
    ym = np.log(Fm) if mode == 1 else Fm
    for rtol, atol in [(1e-4, 0.0), (1e-6, 1e-7), (1e-2, 0.0)]:
        passed = np.empty(idx.size, np.uint8)
        ratio = np.empty(idx.size)
        fails = kernels.round_tests(t, c, y, F, idx, tm, ym, Fm, rtol, atol, mode, norm,
                                    simpson, passed, ratio)
        ref = ref_round_tests(t, c, y, F, idx, tm, ym, Fm, rtol, atol, mode, norm, simpson)
        assert np.array_equal(passed.astype(bool), ref)
        assert fails == np.count_nonzero(~ref)
        assert np.all((ratio <= 1) == ref)


def test_merge(kernels):
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    y = (x ** 2)[:, None]
    idx = np.array([1, 3], dtype=np.intp)
    xm = np.array([1.5, 3.5])
    ym = (xm ** 2)[:, None]
    passed = np.array([1, 0], np.uint8)
    xo, uo, to = np.empty(7), np.empty(7), np.empty(7)
    yo = np.empty((7, 1))
    op = np.empty(6, np.uint8)
    n = kernels.merge(x, x, x, y, np.empty((0, 1)), idx, xm, xm, xm, ym, np.empty((0, 1)),
                      passed, xo, uo, to, yo, np.empty((0, 1)), op)
    assert n == 7
    assert np.array_equal(xo, [0, 1, 1.5, 2, 3, 3.5, 4])
    assert np.array_equal(yo[:, 0], xo ** 2)
    assert np.array_equal(op, [0, 0, 0, 0, 1, 1])


def test_width_stats_sigma_and_closure(kernels):
    rng = np.random.default_rng(2)
    u = np.cumsum(rng.choice([0.25, 0.5, 1.0], size=30))
    out = np.empty(3)
    kernels.width_stats(u, out)
    w = np.diff(u)
    assert np.allclose(out, [w.mean(), w.std(ddof=1), w.max()], rtol=1e-14)
    lim = w.mean() + w.std(ddof=1)
    op = np.empty(29, np.uint8)
    assert kernels.sigma_reopen(u, lim, op) == np.count_nonzero(w > lim)
    assert np.array_equal(op.astype(bool), w > lim)
    assert kernels.closure_flags(u, 1e-8, op) == np.count_nonzero(ref_closure_flags(u))
    assert np.array_equal(op.astype(bool), ref_closure_flags(u))


@pytest.mark.parametrize("extrapolate", [False, True])
def test_evaluate_cubic_fast_path_is_identical(kernels, extrapolate):
    """Interleaved-coefficient fast path (with the sorted-walk hint) == general kernel."""
    t = np.unique(np.concatenate([np.linspace(0, 1, 50), 0.3 + np.geomspace(1e-9, 0.05, 300)]))
    y = np.cos(7 * t)[:, None]
    c = _fit(kernels, t, y)
    table = np.empty(4 * (t.size - 1) + 1, dtype=np.intp)
    kernels.build_table(t, table)
    cT = np.ascontiguousarray(c[:, :, 0].T)
    rnd = RNG.uniform(-0.1, 1.1, 20_000)
    for q in (rnd, np.sort(rnd), np.sort(rnd)[::-1].copy(), np.concatenate([t, t[::-1], [np.nan]])):
        out = np.empty(q.size)
        ref = np.empty((q.size, 1))
        assert kernels.evaluate_cubic(t, cT, table, q, extrapolate, out) == 0
        kernels.evaluate(t, c, table, q, 0, extrapolate, ref)
        assert np.array_equal(out, ref[:, 0], equal_nan=True)


@pytest.mark.parametrize("dyadic", [True, False])
def test_simple_tables_need_no_search(kernels, dyadic):
    """lookup_table's buckets are half the narrowest interval where that fits: no bucket
    holds two breakpoints and the kernels read the interval without a search (_find1);
    the result equals the reference everywhere, breakpoints and both sides included."""
    from numfit.interpolate._kernels import lookup_table
    rng = np.random.default_rng(5)
    if dyadic:
        t = np.sort(np.unique(np.r_[0.0, 3.0, rng.integers(1, 512, 60) * (3.0 / 512)]))
    else:
        t = np.cumsum(rng.uniform(0.01, 1.0, 80))
    y = rng.normal(size=(t.size, 1))
    c = _fit(kernels, t, y)
    table = lookup_table(t, kernels)
    assert table.size - 1 >= 2 * (t[-1] - t[0]) / np.diff(t).min() - 1
    assert np.all(np.diff(table) <= 1)                    # a "simple" table
    eps = np.spacing(t)
    q = np.concatenate([rng.uniform(t[0] - 1, t[-1] + 1, 5000), t, t - eps, t + eps,
                        np.sort(rng.uniform(t[0], t[-1], 2000))])
    for extrapolate in (False, True):
        ref = ref_evaluate(t, c, q, 0, extrapolate)
        out = np.empty((q.size, 1))
        assert kernels.evaluate(t, c, table, q, 0, extrapolate, out) == 0
        out1 = np.empty(q.size)
        cT = np.ascontiguousarray(c[:, :, 0].T)
        assert kernels.evaluate_cubic(t, cT, table, q, extrapolate, out1) == 0
        ok = ~np.isnan(ref[:, 0])
        assert np.array_equal(np.isnan(out1), ~ok)
        assert np.allclose(out1[ok], ref[ok, 0], rtol=1e-12, atol=1e-12)
        assert np.allclose(out[ok, 0], ref[ok, 0], rtol=1e-12, atol=1e-12)
