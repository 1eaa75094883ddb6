"""The tensor-product bicubic (2-D tables): fit_tensor, the compiled evaluate2d kernels
(Cython and Numba) and evaluate2d_xp with NumPy, against the FITPACK reference."""
import numpy as np
import pytest
from reference_tensor import check_not_a_knot, ref_evaluate2d, ref_splines

from numfit.interpolate._gpu import evaluate2d_xp
from numfit.interpolate._kernels import lookup_table
from numfit.interpolate._tensor import evaluate_tensor, fit_tensor

DERIVS = [(du, dv) for du in range(4) for dv in range(4)]
_RNG = np.random.default_rng(2024)
# (nx, ny, m, seed): the smallest grids, the extremes of the range, random sizes in 4..40
CASES = [(4, 4, 1, 0), (4, 40, 3, 1), (40, 5, 1, 2), (5, 6, 3, 3)] + [
    (int(a), int(b), m, 10 + k) for k, (a, b, m) in enumerate(
        zip(_RNG.integers(4, 41, 4), _RNG.integers(4, 41, 4), [1, 3, 1, 3]))]
_CACHE = {}


def _axis(rng, n):
    """Uneven strictly increasing grid lines (widths up to 20x apart), random origin/scale."""
    h = rng.uniform(0.05, 1.0, n - 1) * rng.choice([0.3, 1.0, 7.0])
    return rng.uniform(-5, 5) + np.r_[0.0, np.cumsum(h)]


def _points(rng, u, v):
    """Random, sorted, on-knot, boundary, NaN and outside points (paired qu, qv)."""
    ua, ub, va, vb = u[0], u[-1], v[0], v[-1]
    wu, wv = ub - ua, vb - va
    rnd_u, rnd_v = rng.uniform(ua, ub, 1500), rng.uniform(va, vb, 1500)
    order = np.argsort(rnd_u + 1e-3 * rnd_v)                     # sorted: the walks hit
    KU, KV = np.meshgrid(u, v, indexing="ij")
    ku, kv = KU.ravel(), KV.ravel()
    sel = rng.permutation(ku.size)[:400]
    edge_u = np.r_[np.full(40, ua), np.full(40, ub), rng.uniform(ua, ub, 80), ua, ua, ub, ub]
    edge_v = np.r_[rng.uniform(va, vb, 80), np.full(40, va), np.full(40, vb), va, vb, va, vb]
    knot_line_u = np.r_[rng.choice(u, 100), rng.uniform(ua, ub, 100)]   # on one grid line
    knot_line_v = np.r_[rng.uniform(va, vb, 100), rng.choice(v, 100)]
    nan = np.nan
    nan_u = np.array([nan, ua, nan, nan, 0.5 * (ua + ub), np.inf * 0])
    nan_v = np.array([va, nan, nan, vb + 1, nan, 0.5 * (va + vb)])
    out_u = np.r_[rng.uniform(ua - 0.3 * wu, ua, 60), rng.uniform(ub, ub + 0.3 * wu, 60),
                  rng.uniform(ua, ub, 120), np.nextafter(ua, -np.inf), np.nextafter(ub, np.inf),
                  ua - 0.2 * wu, ub + 0.2 * wu]
    out_v = np.r_[rng.uniform(va, vb, 120), rng.uniform(va - 0.3 * wv, va, 60),
                  rng.uniform(vb, vb + 0.3 * wv, 60), va, vb, vb + 0.2 * wv, va - 0.2 * wv]
    qu = np.r_[rnd_u, rnd_u[order], ku[sel], edge_u, knot_line_u, nan_u, out_u]
    qv = np.r_[rnd_v, rnd_v[order], kv[sel], edge_v, knot_line_v, nan_v, out_v]
    return qu, qv


def _case(nx, ny, m, seed):
    """Grid, values, points and the reference for every (du, dv, extrapolate), computed once."""
    key = (nx, ny, m, seed)
    if key not in _CACHE:
        rng = np.random.default_rng(seed)
        u, v = _axis(rng, nx), _axis(rng, ny)
        z = rng.normal(size=(nx, ny, m))
        qu, qv = _points(rng, u, v)
        S = ref_splines(u, v, z)
        ref = {(du, dv, e): ref_evaluate2d(u, v, z, qu, qv, du, dv, e, splines=S)
               for du, dv in DERIVS for e in (False, True)}
        _CACHE[key] = (u, v, z, qu, qv, ref)
    return _CACHE[key]


def _close(out, ref):
    """Same NaN pattern; within 1e-11 of the derivative's magnitude over the points."""
    assert out.shape == ref.shape
    assert np.array_equal(np.isnan(out), np.isnan(ref))
    ok = ~np.isnan(ref)
    scale = np.max(np.abs(ref[ok])) if ok.any() else 1.0
    assert np.allclose(out[ok], ref[ok], rtol=1e-11, atol=1e-11 * scale)


def _tables(K, u, v, coarse):
    """lookup_table's (simple) tables, or coarse ones (several knots a bucket: the search)."""
    if not coarse:
        return lookup_table(u, K), lookup_table(v, K)
    tu, tv = np.empty(3, np.intp), np.empty(2, np.intp)
    K.build_table(u, tu)
    K.build_table(v, tv)
    return tu, tv


def test_reference_is_not_a_knot():
    """FITPACK's s=0 interpolant is the tensor not-a-knot bicubic (checked, not assumed)."""
    rng = np.random.default_rng(99)
    for nx, ny in [(4, 4), (5, 4), (4, 7), (9, 23), (40, 31)]:
        res = check_not_a_knot(_axis(rng, nx), _axis(rng, ny), seed=nx * ny)
        assert res["knots"] == 0.0
        for k in ("u_axis", "v_axis", "tensor", "bspline_path"):
            assert res[k] < 1e-12, (nx, ny, k, res[k])


@pytest.mark.parametrize("case", CASES, ids=lambda c: "x".join(map(str, c[:3])))
def test_evaluate2d_matches_reference(kernels, case):
    u, v, z, qu, qv, ref = _case(*case)
    C = fit_tensor(u, v, z, kernels)
    assert C.shape == (u.size - 1, v.size - 1, 4, 4, z.shape[2]) and C.flags.c_contiguous
    tu, tv = _tables(kernels, u, v, coarse=case[3] % 2 == 1)
    for du, dv in DERIVS:
        for ext in (False, True):
            out = np.empty((qu.size, z.shape[2]))
            assert kernels.evaluate2d(u, v, C, tu, tv, qu, qv, du, dv, ext, out) == 0
            _close(out, ref[du, dv, ext])


@pytest.mark.parametrize("case", CASES[:4], ids=lambda c: "x".join(map(str, c[:3])))
def test_evaluate2d_xp_numpy(case):
    """The array-namespace evaluation against the reference and the compiled kernel."""
    from numfit.interpolate import _kernels
    u, v, z, qu, qv, ref = _case(*case)
    C = fit_tensor(u, v, z)
    for du, dv in DERIVS:
        for ext in (False, True):
            out = evaluate2d_xp(np, u, v, C, qu, qv, du, dv, ext)
            _close(out, ref[du, dv, ext])
            cpu = evaluate_tensor(u, v, C, None, None, qu, qv, du, dv, ext, _kernels.kernels)
            ok = ~np.isnan(cpu)
            assert np.array_equal(np.isnan(out), ~ok)
            assert np.allclose(out[ok], cpu[ok], rtol=1e-14, atol=0.0)


@pytest.mark.parametrize("m", [1, 3])
def test_bicubics_are_reproduced(kernels, m):
    """A bicubic polynomial is its own interpolant: the cells hold its Taylor coefficients
    and every derivative is exact to rounding."""
    from math import factorial
    rng = np.random.default_rng(m)
    u = np.sort(rng.uniform(-1.0, 2.0, 9))
    v = np.sort(rng.uniform(-2.0, 1.0, 4))
    A = rng.normal(size=(4, 4, m))                # P_k = sum A[p, q, k] u^p v^q

    def P(x, y, dx, dy):
        out = 0.0
        for p in range(dx, 4):
            for q in range(dy, 4):
                f = factorial(p) // factorial(p - dx) * factorial(q) // factorial(q - dy)
                out = out + f * A[p, q] * (np.asarray(x)[..., None] ** (p - dx)
                                           * np.asarray(y)[..., None] ** (q - dy))
        return out

    U, V = np.meshgrid(u, v, indexing="ij")
    C = fit_tensor(u, v, P(U, V, 0, 0), kernels)
    for a in range(4):
        for b in range(4):
            pa, pb = 3 - a, 3 - b
            taylor = P(U[:-1, :-1], V[:-1, :-1], pa, pb) / (factorial(pa) * factorial(pb))
            assert np.allclose(C[:, :, a, b], taylor, rtol=1e-10, atol=1e-11)
    qu = np.r_[rng.uniform(u[0], u[-1], 500), u, u[0] - 0.5, u[-1] + 0.5]
    qv = np.r_[rng.uniform(v[0], v[-1], 500), rng.choice(v, u.size), v[0] - 0.3, v[-1] + 0.2]
    for du, dv in DERIVS:
        want = P(qu, qv, du, dv)
        got = evaluate_tensor(u, v, C, None, None, qu, qv, du, dv, True, kernels)
        assert np.allclose(got, want, rtol=1e-10, atol=1e-10 * np.abs(want).max())


def test_fit_tensor_shapes(kernels):
    rng = np.random.default_rng(5)
    u, v = _axis(rng, 6), _axis(rng, 5)
    z = rng.normal(size=(6, 5))
    C2 = fit_tensor(u, v, z, kernels)
    C3 = fit_tensor(u, v, z[:, :, None], kernels)
    assert C2.shape == (5, 4, 4, 4, 1) and C2.dtype == np.float64 and C2.flags.c_contiguous
    assert np.array_equal(C2, C3)
    # components are independent fits
    Z = rng.normal(size=(6, 5, 3))
    C = fit_tensor(u, v, Z, kernels)
    for k in range(3):
        assert np.array_equal(C[..., k:k + 1], fit_tensor(u, v, Z[:, :, k], kernels))
    # the cells interpolate the grid: C[i, j, 3, 3] = z[i, j]
    assert np.allclose(C[:, :, 3, 3], Z[:-1, :-1], rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("extrapolate", [False, True])
def test_fast_path_equals_general_path(kernels, extrapolate):
    """m = 1, du = dv = 0 (Horner fast path) == the general sum of a two-component copy."""
    rng = np.random.default_rng(8)
    u, v = _axis(rng, 30), _axis(rng, 17)
    C = fit_tensor(u, v, rng.normal(size=(30, 17)), kernels)
    C2 = np.ascontiguousarray(np.repeat(C, 2, axis=4))
    tu, tv = lookup_table(u, kernels), lookup_table(v, kernels)
    qu, qv = _points(rng, u, v)
    o1, o2 = np.empty((qu.size, 1)), np.empty((qu.size, 2))
    assert kernels.evaluate2d(u, v, C, tu, tv, qu, qv, 0, 0, extrapolate, o1) == 0
    assert kernels.evaluate2d(u, v, C2, tu, tv, qu, qv, 0, 0, extrapolate, o2) == 0
    assert np.array_equal(o1[:, 0], o2[:, 0], equal_nan=True)
    assert np.array_equal(o2[:, 0], o2[:, 1], equal_nan=True)


def test_evaluate2d_bad_sizes(kernels):
    rng = np.random.default_rng(3)
    u, v = _axis(rng, 6), _axis(rng, 5)
    C = fit_tensor(u, v, rng.normal(size=(6, 5, 2)), kernels)
    tu, tv = lookup_table(u, kernels), lookup_table(v, kernels)
    q = np.full(7, 0.5 * (u[0] + u[-1]))
    qv = np.full(7, 0.5 * (v[0] + v[-1]))
    out = np.empty((7, 2))
    ev = kernels.evaluate2d
    assert ev(u, v, C, tu, tv, q, qv, 1, 2, False, out) == 0
    bad = [
        (u[:-1], v, C, tu, tv, q, qv, 0, 0, out),                          # C vs u
        (u, v[1:], C, tu, tv, q, qv, 0, 0, out),                           # C vs v
        (u, v, np.ascontiguousarray(C[:, :, :3]), tu, tv, q, qv, 0, 0, out),   # 3 x 4 cells
        (u, v, np.ascontiguousarray(C[:, :, :, :3]), tu, tv, q, qv, 0, 0, out),
        (u, v, C, tu, tv, q, qv[:-1], 0, 0, out),                          # qv vs qu
        (u, v, C, tu, tv, q, qv, 0, 0, np.empty((6, 2))),                  # out rows
        (u, v, C, tu, tv, q, qv, 0, 0, np.empty((7, 1))),                  # out columns
        (u, v, C, tu[:1].copy(), tv, q, qv, 0, 0, out),                    # empty table
        (u, v, C, tu, tv[:1].copy(), q, qv, 0, 0, out),
        (u, v, C, tu, tv, q, qv, 4, 0, out),                               # orders
        (u, v, C, tu, tv, q, qv, 0, 4, out),
        (u, v, C, tu, tv, q, qv, -1, 0, out),
        (u, v, C, tu, tv, q, qv, 0, -1, out),
    ]
    for args in bad:
        assert ev(*args[:9], False, args[9]) == -1
