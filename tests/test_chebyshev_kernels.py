"""Piecewise-Chebyshev evaluation: the compiled kernels (Cython and Numba ``evaluate_cheb``
and ``evaluate_cheb1``) and the xp evaluator (run with NumPy) against the pure reference.

Tolerance: per point, 1e-13 times the coefficient scale of its piece,
sum_k |a_k| T_k(max(1, |s|)) (= sum_k |a_k| inside the piece; it bounds |p| and the
condition of the sum when extrapolating, |s| > 1).
"""
import numpy as np
import pytest
from numpy.polynomial import chebyshev as npcheb
from reference_chebyshev import ref_evaluate_cheb, ref_local, ref_pieces

from numfit.interpolate import _gpu

RTOL = 1e-13


def _table(n, m, seed, dmax=64, uneven=True):
    """n pieces with degrees 0..dmax mixed, very uneven widths, coefficient scales 1e-3..1e3."""
    rng = np.random.default_rng(seed)
    w = 10.0 ** rng.uniform(-7, 1, n) if uneven else rng.uniform(0.5, 1.0, n)
    t = -3.7 + np.concatenate([[0.0], np.cumsum(w)])
    deg = rng.integers(0, dmax + 1, n)
    deg[: min(n, 3)] = [0, dmax, 1][: min(n, 3)]
    off = np.concatenate([[0], np.cumsum(deg + 1)]).astype(np.intp)
    scale = np.repeat(10.0 ** rng.uniform(-3, 3, n), deg + 1)
    coef = rng.normal(size=(off[-1], m)) * scale[:, None]
    return t, off, np.ascontiguousarray(coef)


def _lookup(K, t, C=None):
    table = np.empty((4 * (t.size - 1) if C is None else C) + 1, dtype=np.intp)
    assert K.build_table(t, table) == 0
    return table


def _points(t, seed, extrapolate):
    """Random, sorted and descending points, every piece hit, breakpoints and their
    neighbours, ends, NaN; outside points near the ends (|s| <= 2) and far away."""
    rng = np.random.default_rng(seed)
    n = t.size - 1
    inside = rng.uniform(t[0], t[-1], 1500)
    per_piece = (t[:-1, None] + rng.uniform(0, 1, (n, 4)) * np.diff(t)[:, None]).ravel()
    w0, wn = t[1] - t[0], t[-1] - t[-2]
    near = np.concatenate([t[0] - rng.uniform(0, 0.5, 20) * w0,
                           t[-1] + rng.uniform(0, 0.5, 20) * wn])
    pts = [inside, np.sort(rng.uniform(t[0], t[-1], 800)), np.sort(per_piece),
           np.sort(per_piece)[::-1], t, np.nextafter(t, -np.inf), np.nextafter(t, np.inf),
           near, [np.nan, t[0], t[-1], np.nan]]
    if not extrapolate:
        pts.append([t[0] - 1e3, t[-1] + 1e3, -np.inf, np.inf])
    mixed = rng.permutation(np.concatenate(pts[:1] + pts[4:]))
    return np.ascontiguousarray(np.concatenate(pts[1:4] + [mixed]))


def _scale(t, off, coef, q):
    """sum_k |a_k| T_k(max(1, |s|)) per point (inf for points that are not finite)."""
    c2 = np.abs(coef.reshape(coef.shape[0], -1)).max(axis=1)
    sc = np.full(q.size, np.inf)
    fin = np.isfinite(q)
    idx = ref_pieces(t, q[fin])
    with np.errstate(over="ignore", invalid="ignore"):
        s = np.maximum(1.0, np.abs(ref_local(t, idx, q[fin])))
        sc[fin] = [npcheb.chebval(si, c2[off[i]:off[i + 1]]) for i, si in zip(idx, s)]
    return sc


def _check(got, ref, scale):
    assert got.shape == ref.shape
    assert np.array_equal(np.isnan(got), np.isnan(ref))
    ok = ~np.isnan(ref)
    err = np.abs(got - ref)
    sc = scale if ref.ndim == 1 else scale[:, None]
    assert np.all(err[ok] <= RTOL * np.broadcast_to(sc, ref.shape)[ok]), np.max(err[ok])


@pytest.mark.parametrize("extrapolate", [False, True])
@pytest.mark.parametrize("m", [1, 3])
@pytest.mark.parametrize("seed", [0, 1])
def test_evaluate_cheb_matches_reference(kernels, m, extrapolate, seed):
    t, off, coef = _table(120, m, seed)
    table = _lookup(kernels, t)
    q = _points(t, seed + 10, extrapolate)
    out = np.empty((q.size, m))
    assert kernels.evaluate_cheb(t, off, coef, table, q, extrapolate, out) == 0
    ref = ref_evaluate_cheb(t, off, coef, q, extrapolate)
    sc = _scale(t, off, coef, q)
    _check(out, ref, sc)
    # the scalar fast path: same arithmetic, so identical to each column
    for j in range(m):
        out1 = np.empty(q.size)
        c1 = np.ascontiguousarray(coef[:, j])
        assert kernels.evaluate_cheb1(t, off, c1, table, q, extrapolate, out1) == 0
        assert np.array_equal(out1, out[:, j], equal_nan=True)
        _check(out1, ref_evaluate_cheb(t, off, c1, q, extrapolate), sc)


@pytest.mark.parametrize("extrapolate", [False, True])
@pytest.mark.parametrize("m", [1, 3])
def test_xp_numpy_matches_reference_and_kernels(kernels, m, extrapolate):
    t, off, coef = _table(80, m, seed=5)
    q = _points(t, 7, extrapolate)
    tab = _gpu.cheb_device_tables(np, t, off, coef)
    got = _gpu.evaluate_cheb_xp(np, tab, q, extrapolate)
    _check(got, ref_evaluate_cheb(t, off, coef, q, extrapolate), _scale(t, off, coef, q))
    out = np.empty((q.size, m))
    assert kernels.evaluate_cheb(t, off, coef, _lookup(kernels, t), q, extrapolate, out) == 0
    assert np.array_equal(got, out, equal_nan=True)          # same arithmetic, bit for bit
    if m == 1:                                               # 1-D coef is one component
        tab1 = _gpu.cheb_device_tables(np, t, off, coef[:, 0])
        assert np.array_equal(_gpu.evaluate_cheb_xp(np, tab1, q, extrapolate), got,
                              equal_nan=True)


def test_breakpoints_belong_to_the_right_piece(kernels):
    """Constant pieces with value i: t[k] -> k (k < n), t[n] and beyond -> n - 1."""
    n = 9
    t = np.cumsum(np.r_[0.0, np.geomspace(1e-6, 1.0, n)])
    off = np.arange(n + 1, dtype=np.intp)
    coef = np.arange(n, dtype=float)
    table = _lookup(kernels, t)
    q = np.concatenate([t, [t[0] - 1.0, t[-1] + 1.0]])
    want = np.r_[np.arange(n), n - 1, 0, n - 1].astype(float)
    out1 = np.empty(q.size)
    assert kernels.evaluate_cheb1(t, off, coef, table, q, True, out1) == 0
    assert np.array_equal(out1, want)
    out = np.empty((q.size, 1))
    assert kernels.evaluate_cheb(t, off, coef[:, None], table, q, True, out) == 0
    assert np.array_equal(out[:, 0], want)
    got = _gpu.evaluate_cheb_xp(np, _gpu.cheb_device_tables(np, t, off, coef), q, True)
    assert np.array_equal(got[:, 0], want)
    assert np.array_equal(ref_evaluate_cheb(t, off, coef, q, True), want)


def test_smooth_function_to_rounding(kernels):
    """Chebyshev interpolants of a smooth function on uneven pieces reproduce it: checks the
    local variable and the coefficient order independently of the reference."""
    def f(x):
        return np.sin(3 * x) + np.exp(-x * x)

    t = np.array([-2.0, -1.3, -1.299, -0.2, 0.0, 1e-9, 0.7, 2.5])
    degs = [30, 4, 25, 12, 1, 18, 40]
    blocks = [npcheb.chebinterpolate(lambda s, a=a, b=b: f(0.5 * (a + b) + 0.5 * (b - a) * s), d)
              for a, b, d in zip(t[:-1], t[1:], degs)]
    off = np.concatenate([[0], np.cumsum([b.size for b in blocks])]).astype(np.intp)
    coef = np.concatenate(blocks)
    q = np.concatenate([np.linspace(t[0], t[-1], 2001), t])
    out1 = np.empty(q.size)
    assert kernels.evaluate_cheb1(t, off, coef, _lookup(kernels, t), q, False, out1) == 0
    assert np.allclose(out1, f(q), rtol=0, atol=5e-14)


@pytest.mark.parametrize("deg", [0, 1, 2, 64, 200])
def test_single_piece(kernels, deg):
    rng = np.random.default_rng(deg)
    t = np.array([0.25, 1.75])
    off = np.array([0, deg + 1], dtype=np.intp)
    coef = rng.normal(size=deg + 1) * 0.97 ** np.arange(deg + 1)
    q = np.concatenate([rng.uniform(0.25, 1.75, 200), t, [0.2, 1.8, np.nan, -5.0]])
    table = _lookup(kernels, t)
    for ext in (False, True):
        out1 = np.empty(q.size)
        assert kernels.evaluate_cheb1(t, off, coef, table, q, ext, out1) == 0
        ref = ref_evaluate_cheb(t, off, coef, q, ext)
        sc = _scale(t, off, coef, q)
        _check(out1, ref, sc)
        out = np.empty((q.size, 1))
        assert kernels.evaluate_cheb(t, off, coef[:, None], table, q, ext, out) == 0
        _check(out, ref[:, None], sc)
        got = _gpu.evaluate_cheb_xp(np, _gpu.cheb_device_tables(np, t, off, coef), q, ext)
        _check(got, ref[:, None], sc)


@pytest.mark.parametrize("cells", ["1", "7", "n", "4n", "50n"])
def test_any_table_size_and_clustered_breakpoints(kernels, cells):
    """The lookup is exact for any bucket count C, also with breakpoints clustered far below
    the bucket width."""
    rng = np.random.default_rng(len(cells))
    t = np.unique(np.concatenate([np.linspace(0, 1, 6), 0.5 + np.geomspace(1e-12, 0.1, 60),
                                  0.5 - np.geomspace(1e-12, 0.1, 60)]))
    n = t.size - 1
    deg = rng.integers(0, 9, n)
    off = np.concatenate([[0], np.cumsum(deg + 1)]).astype(np.intp)
    coef = rng.normal(size=off[-1])
    q = np.concatenate([t, 0.5 + rng.normal(scale=1e-6, size=500), rng.uniform(0, 1, 500),
                        np.sort(rng.uniform(0, 1, 300))])
    C = {"1": 1, "7": 7, "n": n, "4n": 4 * n, "50n": 50 * n}[cells]
    out1 = np.empty(q.size)
    assert kernels.evaluate_cheb1(t, off, coef, _lookup(kernels, t, C), q, False, out1) == 0
    _check(out1, ref_evaluate_cheb(t, off, coef, q), _scale(t, off, coef, q))


def test_empty_query(kernels):
    t, off, coef = _table(5, 2, seed=3)
    table = _lookup(kernels, t)
    q = np.empty(0)
    assert kernels.evaluate_cheb(t, off, coef, table, q, False, np.empty((0, 2))) == 0
    assert kernels.evaluate_cheb1(t, off, np.ascontiguousarray(coef[:, 0]), table, q, False,
                                  np.empty(0)) == 0


def test_bad_sizes_return_minus_one(kernels):
    t, off, coef = _table(6, 2, seed=4)
    table = _lookup(kernels, t)
    c1 = np.ascontiguousarray(coef[:, 0])
    q = np.linspace(t[0], t[-1], 11)
    out, out1 = np.zeros((q.size, 2)), np.zeros(q.size)
    L = off[-1]
    assert kernels.evaluate_cheb(t, off, coef, table, q, False, out) == 0
    assert kernels.evaluate_cheb1(t, off, c1, table, q, False, out1) == 0
    bad2 = [
        (t, off[:-1], coef, table, out),                              # off length != len(t)
        (t[:-1], off, coef, table, out),
        (t, off, coef[:-1], table, out),                              # off[n] != L
        (t, np.r_[off[:-1], L + 1].astype(np.intp), coef, table, out),
        (t, (off + 1).astype(np.intp), np.zeros((L + 1, 2)), table, out),   # off[0] != 0
        (t, off, coef, table, np.zeros((q.size - 1, 2))),             # out rows != len(q)
        (t, off, coef, table, np.zeros((q.size, 3))),                 # out columns != m
        (t, off, coef, table[:1], out),                               # no bucket
        (t[:1], off[:1], coef[:0], table, out[:, :2]),                # no piece
    ]
    for args in bad2:
        o = args[-1]
        before = o.copy()
        assert kernels.evaluate_cheb(*args[:4], q, False, o) == -1
        assert np.array_equal(o, before)                           # nothing written
    bad1 = [
        (t, off[:-1], c1, table, out1),
        (t, off, c1[:-1], table, out1),
        (t, (off + 1).astype(np.intp), np.zeros(L + 1), table, out1),
        (t, off, c1, table, np.zeros(q.size + 1)),
        (t, off, c1, table[:1], out1),
        (t[:1], off[:1], c1[:0], table, out1),
    ]
    for args in bad1:
        assert kernels.evaluate_cheb1(*args[:4], q, True, args[-1]) == -1
