"""GPU paths of AutoKnotsSpline evaluation and weighted least squares (numfit/_backend.py).

Three parts:

(a) The xp-generic code (``numfit/interpolate/_gpu.py``, ``numfit/approx/_gpu.py``) run with
    ``xp = numpy`` against the compiled CPU path. Always run. Tolerances:

    * spline values and derivatives: ``rtol = 1e-14``, ``atol = 0``, NaN where the CPU has
      NaN. The xp code performs the CPU kernels' floating-point operations in the same order
      (same interval convention, pure Horner for nu = 0 of a cubic, ``acc * s + c * fall``
      otherwise, the same chain rule), so with NumPy the two agree bit for bit here (checked
      too); 1e-14 is the bar, one that a NumPy or compiler that contracts to FMA still meets
      away from roots of the spline.
    * features: bitwise (same recurrence, same product order); the stated bar is
      ``rtol = 1e-13``. ``k_m`` sums in a different order: ``rtol = 1e-13`` (positive terms).
    * Gram matrix, ``Phi @ coef``: ``1e-13 * max|.|`` absolute (sums of O(m) products in
      another order; entries of G are O(1)).
    * WLS coefficients: ``1e-12 * ||coef||`` (the same Householder QR on both sides; a stable
      design has cond(sqrt(w/n) Phi) < 2, so backward-stable solvers agree to a few eps).
(b) The same comparisons on a GPU (``@pytest.mark.gpu``): skipped unless CuPy imports and sees
    a device. CuPy results come back with ``.get()``; the GPU compiler contracts to FMA, so the
    bars are ``rtol = 1e-13`` plus ``1e-13 * max|.|`` (linear splines), ``rtol = 1e-12``
    (log-log: exp amplifies the absolute error of ``S`` into a relative one), and as in (a)
    for the WLS quantities.
(c) ``numfit._backend`` without CuPy.
"""
import importlib
import pickle
import sys
import types

import numpy as np
import pytest

import numfit as nf
from numfit import _backend
from numfit.approx import PolynomialExpansion, WeightedSample
from numfit.approx import _gpu as AG
from numfit.approx import _wls as W
from numfit.approx._sample import _spread, gram_stats
from numfit.interpolate import _gpu as IG

RTOL_SPLINE = 1e-14


# =============================================================================== splines
def _f_lin(x):
    return np.exp(-x) * np.sin(3 * x) + 2


_SPLINES = {
    "linear": lambda: nf.autoknots(_f_lin, 0.1, 5.0, rtol=1e-8),
    "knots_log": lambda: nf.autoknots(_f_lin, 0.1, 5.0, rtol=1e-8, knots="log"),
    "knots_asinh": lambda: nf.autoknots(lambda x: np.sinh(x) + 30, -3.0, 4.0, rtol=1e-8,
                                        knots="asinh"),
    "loglog": lambda: nf.autoknots(lambda x: 1 / (x * (1 + x) ** 2), 1e-3, 1e3, rtol=1e-8,
                                   space="loglog"),
    "vector": lambda: nf.autoknots(lambda x: np.stack([np.sin(x), np.cos(x) + 2], axis=-1),
                                   0.0, 4.0, rtol=1e-8, atol=1e-12),
    "vector_loglog": lambda: nf.autoknots(lambda x: np.stack([1 / x, x ** 1.5], axis=-1),
                                          0.1, 40.0, rtol=1e-8, space="loglog"),
    "derivative": lambda: nf.autoknots(np.sin, 0.0, 4.0, rtol=1e-8, atol=1e-12).derivative(1),
    "antiderivative_k5": lambda: nf.autoknots(np.sin, 0.0, 4.0, rtol=1e-6, atol=1e-12).antiderivative(2),
    "two_knots_k1": lambda: nf.AutoKnotsSpline.from_dict({
        **nf.autoknots(np.sin, 0.0, 4.0, atol=1e-12).to_dict(), "knots": [0.0, 2.0],
        "values": [0.0, 1.0], "u": [0.0, 2.0], "coefficients": [[0.5], [0.0]]}),
}


@pytest.fixture(scope="module", params=sorted(_SPLINES))
def spline(request):
    return _SPLINES[request.param]()


def _points(s, rng, n=3000):
    """Random points, every knot, its neighbours, the ends, outside points, NaN, inf."""
    a, b = s.interval
    k = s.knots
    pts = [rng.uniform(a, b, n), k, np.nextafter(k, np.inf), np.nextafter(k, -np.inf),
           0.5 * (k[1:] + k[:-1]),
           [a, b, a - 1e-9 * abs(a) - 1e-300, b + 1e-9 * abs(b), np.nan, np.inf, -np.inf,
            a - 0.3 * (b - a), b + 0.3 * (b - a), 0.0, -1.0]]
    return rng.permutation(np.concatenate(pts))


def _compare(cpu, got, rtol, atol=0.0):
    assert got.shape == cpu.shape
    assert np.array_equal(np.isnan(cpu), np.isnan(got))
    np.testing.assert_allclose(got, cpu, rtol=rtol, atol=atol, equal_nan=True)


def test_spline_xp_numpy_matches_cpu(spline, use_kernels):
    rng = np.random.default_rng(0)
    x = _points(spline, rng)
    hi = 3 if spline.space == "linear" else 2
    for nu in range(hi + 1):
        for ext in (False, True):
            cpu = spline(x, nu=nu, extrapolate=ext)
            got = spline._call_xp(np, x, nu, ext)
            _compare(cpu, got, RTOL_SPLINE)
            same = (cpu == got) | (np.isnan(cpu) & np.isnan(got))
            assert same.all(), f"nu={nu} extrapolate={ext}: not bitwise equal"


def test_spline_xp_shapes_and_default_extrapolate(spline):
    x = np.random.default_rng(1).uniform(*spline.interval, (3, 4))
    extra = (spline.ndim_out,) if spline.ndim_out else ()
    assert spline._call_xp(np, x, 0, spline.extrapolate).shape == (3, 4) + extra
    assert spline._call_xp(np, 1.5, 0, False).shape == extra
    np.testing.assert_array_equal(spline._call_xp(np, x, 0, spline.extrapolate), spline(x))


def test_interval_convention_matches_kernels():
    """searchsorted(t[1:-1], q, 'right') is the CPU kernels' interval: t[i] <= q, clamped."""
    s = _SPLINES["linear"]()
    t = s._t
    tab = IG.device_tables(np, s._t, s._c3, s.knots)
    q = np.concatenate([t, np.nextafter(t, -np.inf), np.nextafter(t, np.inf),
                        [t[0] - 1.0, t[-1] + 1.0]])
    i = np.searchsorted(tab.t_inner, q, side="right")
    ref = np.clip(np.searchsorted(t, q, side="right") - 1, 0, t.size - 2)
    np.testing.assert_array_equal(i, ref)
    assert i[t.size - 1] == t.size - 2                      # the last knot: last interval
    np.testing.assert_array_equal(i[:t.size - 1], np.arange(t.size - 1))   # on a knot


def test_device_tables_layout():
    s = _SPLINES["vector"]()
    tab = IG.device_tables(np, s._t, s._c3, s.knots)
    K1, n1, m = s._c3.shape
    assert tab.rows.shape == (n1, 1 + K1 * m) and (tab.K, tab.m) == (K1 - 1, m)
    np.testing.assert_array_equal(tab.rows[:, 0], s._t[:-1])
    for j in range(K1):
        np.testing.assert_array_equal(tab.rows[:, 1 + j * m:1 + (j + 1) * m], s._c3[j])


def test_spline_cache_is_per_device_and_not_pickled():
    s = _SPLINES["loglog"]()
    s._call_xp(np, np.array([1.0, 2.0]), 1, False)
    tab = s._dev["numpy"]
    s._call_xp(np, np.array([3.0]), 0, False)
    assert s._dev["numpy"] is tab                            # built once
    clone = pickle.loads(pickle.dumps(s))
    assert clone._dev == {} and clone == s
    assert "_dev" not in str(sorted(s.to_dict()))
    np.testing.assert_array_equal(clone(np.array([1.0, 2.0])), s(np.array([1.0, 2.0])))


def test_numpy_input_never_takes_the_xp_path(monkeypatch):
    s = _SPLINES["linear"]()
    ref = s(np.linspace(0.1, 5, 7))

    def boom(*args, **kwargs):
        raise AssertionError("the xp path ran for NumPy input")
    monkeypatch.setattr(IG, "evaluate_xp", boom)
    np.testing.assert_array_equal(s(np.linspace(0.1, 5, 7)), ref)
    assert s._dev == {}


def test_spline_xp_rejects_complex():
    s = _SPLINES["linear"]()
    with pytest.raises(TypeError, match="real"):
        s._call_xp(np, np.array([1.0 + 1j]), 0, False)


# =============================================================================== WLS
_SPACES = {
    "legendre_total_3d": lambda: nf.PolynomialSpace("legendre", 5, 3, "total",
                                                    domain=[[0, 2], [-1, 3], [1, 2]]),
    "chebyshev_tensor_2d": lambda: nf.PolynomialSpace("chebyshev", 6, 2, "tensor"),
    "hermite_hyperbolic_3d": lambda: nf.PolynomialSpace("hermite", 7, 3, "hyperbolic",
                                                        loc=[1, 0, 0], scale=[2, 1, 0.5]),
    "legendre_1d": lambda: nf.PolynomialSpace("legendre", 12),
    "custom": lambda: nf.PolynomialSpace("chebyshev", dim=2,
                                         indices=[[0, 0], [3, 0], [1, 4], [0, 2]]),
}


@pytest.fixture(scope="module", params=sorted(_SPACES))
def space(request):
    return _SPACES[request.param]()


def _space_points(V, n, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.standard_normal((n, V.dim)) if V.family == "hermite" else \
        rng.uniform(-1, 1, (n, V.dim))
    return V.from_reference(t)


def test_features_xp_numpy_matches_numba(space):
    x = _space_points(space, 2000)
    t = AG.reference_xp(np, space, x)
    np.testing.assert_array_equal(t, space.to_reference(x))
    cpu = space.eval(x)
    got = AG.features_xp(np, space, t)
    np.testing.assert_allclose(got, cpu, rtol=1e-13, atol=0)
    assert np.array_equal(got, cpu)                         # in fact bitwise
    k = AG.christoffel_xp(np, space, t)
    np.testing.assert_allclose(k, space.christoffel(x), rtol=1e-13)
    np.testing.assert_allclose(AG.measure_density_xp(np, space, t),
                               space.measure_density(x), rtol=1e-14)


def test_blocked_reductions_match(space, monkeypatch):
    """Blocks of a few rows (the GPU memory bound) give the same results."""
    x = _space_points(space, 777, seed=1)
    t = AG.reference_xp(np, space, x)
    w = space.weights(x)
    coef = np.random.default_rng(2).standard_normal((space.m, 3))
    full = (AG.christoffel_xp(np, space, t), AG.gram_xp(np, space, t, w),
            AG.expansion_xp(np, space, t, coef))
    monkeypatch.setattr(AG, "CHUNK_ELEMENTS", 50 * space.m)
    blocked = (AG.christoffel_xp(np, space, t), AG.gram_xp(np, space, t, w),
               AG.expansion_xp(np, space, t, coef))
    for a, b in zip(full, blocked):
        np.testing.assert_allclose(b, a, rtol=1e-13, atol=1e-13 * np.abs(a).max())


def test_gram_xp_numpy_matches_cpu(space):
    x = _space_points(space, 3000, seed=3)
    w = space.weights(x)
    phi = space.eval(x)
    ref = (phi * w[:, None]).T @ phi / x.shape[0]           # numfit.approx._sample._gram
    for g in (space.gram(x, w), space.gram(x), space._gram_xp(np, x, w),
              space._gram_xp(np, x, None)):
        np.testing.assert_allclose(g, ref, rtol=0, atol=1e-13 * np.abs(ref).max())
    lmin, lmax, err = AG.spread_xp(np, space._gram_xp(np, x, w))
    cpu = gram_stats(phi, w)
    np.testing.assert_allclose([lmin, lmax, err], cpu, rtol=1e-12, atol=1e-13)
    assert _spread(np.linalg.eigvalsh(ref)) == pytest.approx(cpu, abs=1e-13)


def test_gram_checks_weights():
    V = _SPACES["legendre_1d"]()
    with pytest.raises(ValueError, match="shape"):
        V.gram(np.zeros(5), np.ones(4))
    with pytest.raises(ValueError, match="shape"):
        V._gram_xp(np, np.zeros(5), np.ones(4))


def test_gram_error_of_a_sample():
    V = nf.PolynomialSpace("legendre", degree=4, dim=2)
    smp = nf.sample_points(V, method="iid", rng=5)
    lam = np.linalg.eigvalsh(V.gram(smp.points, smp.weights))
    assert _spread(lam)[2] == pytest.approx(smp.gram_error, abs=1e-12)


def test_expansion_xp_numpy_matches_cpu(space):
    rng = np.random.default_rng(4)
    x = _space_points(space, 1500, seed=5)
    for coef in (rng.standard_normal(space.m), rng.standard_normal((space.m, 2))):
        p = PolynomialExpansion(space, coef)
        cpu = p(x)
        got = p._call_xp(np, x)
        assert got.shape == cpu.shape
        np.testing.assert_allclose(got, cpu, rtol=0, atol=1e-13 * np.abs(cpu).max())
    x1 = x[0] if space.dim > 1 else float(x[0, 0])
    assert np.shape(p._call_xp(np, x1)) == np.shape(p(x1))


def test_expansion_pickles_without_device_cache():
    V = _SPACES["legendre_1d"]()
    p = PolynomialExpansion(V, np.arange(V.m, dtype=float))
    p._call_xp(np, np.array([0.1, 0.2]))
    assert "numpy" in p._dev
    q = pickle.loads(pickle.dumps(p))
    assert q._dev == {}
    np.testing.assert_array_equal(q(np.array([0.3])), p(np.array([0.3])))


def test_reference_xp_validates_like_cpu():
    V = _SPACES["legendre_total_3d"]()
    with pytest.raises(ValueError, match="finite"):
        AG.reference_xp(np, V, np.array([[0.5, 0.5, np.nan]]))
    with pytest.raises(ValueError, match=r"shape \(N, 3\)"):
        AG.reference_xp(np, V, np.zeros((4, 2)))
    np.testing.assert_array_equal(AG.reference_xp(np, V, np.array([1.0, 1.0, 1.5])),
                                  V.to_reference([1.0, 1.0, 1.5]))


def _f_vec(x):
    x = np.atleast_2d(x.T).T
    return np.stack([np.exp(0.3 * x[:, 0]) * np.cos(x[:, -1]), (x ** 2).sum(axis=1)], axis=1)


@pytest.mark.parametrize("name,method,scalar", [
    ("legendre_total_3d", "iid_conditioned", True),
    ("chebyshev_tensor_2d", "repeated_dpp", False),
    ("hermite_hyperbolic_3d", "iid", True),
    ("legendre_1d", "volume", False),
])
def test_wls_xp_numpy_matches_cpu(name, method, scalar):
    V = _SPACES[name]()
    smp = nf.sample_points(V, method=method, rng=7)
    f = (lambda x: _f_vec(x)[:, 0]) if scalar else _f_vec
    cpu = nf.wls(f, V, sample=smp)
    got = W._wls_xp(np, f, V, smp, None)
    assert got.coef.shape == cpu.coef.shape
    np.testing.assert_allclose(got.coef, cpu.coef, rtol=0,
                               atol=1e-12 * np.linalg.norm(cpu.coef))
    for key in ("residual", "cond", "as_factor"):
        assert got[key] == pytest.approx(cpu[key], rel=1e-10, abs=1e-14)
    for key in ("gram_error", "success", "status", "bound_factor"):
        assert got[key] == cpu[key]
    assert got.n_evals == smp.n
    np.testing.assert_array_equal(got["values"], cpu["values"])
    x = _space_points(V, 300, seed=8)
    np.testing.assert_allclose(got(x), cpu(x), rtol=0, atol=1e-12 * np.abs(cpu(x)).max())


def test_wls_xp_rank_deficient_is_minimum_norm():
    """Both paths return the minimum-norm solution with numpy.linalg.lstsq's cut (CPU:
    LAPACK gelsd; xp: the SVD of R). Both interpolate."""
    V = nf.PolynomialSpace("legendre", degree=8)
    smp = nf.sample_points(V, method="iid", n=50, rng=0)
    pts = np.repeat(smp.points[:5], 10, axis=0)             # 5 distinct points for m = 9
    bad = WeightedSample(smp, points=pts, weights=V.weights(pts))
    cpu = nf.wls(np.exp, V, sample=bad)
    got = W._wls_xp(np, np.exp, V, bad, None)
    a = V.eval(pts) * np.sqrt(bad.weights / 50)[:, None]
    b = np.exp(pts[:, 0]) * np.sqrt(bad.weights / 50)
    ref = np.linalg.lstsq(a, b, rcond=None)[0]
    np.testing.assert_allclose(got.coef, ref, rtol=0, atol=1e-12 * np.linalg.norm(ref))
    assert got.residual < 1e-12 and cpu.residual < 1e-12
    np.testing.assert_allclose(cpu.coef, ref, rtol=0, atol=1e-12 * np.linalg.norm(ref))


def test_wls_xp_checks_f():
    V = _SPACES["legendre_1d"]()
    smp = nf.sample_points(V, method="iid", n=40, rng=0)
    with pytest.raises(ValueError, match="vectorised"):
        W._wls_xp(np, np.exp, V, smp, False)
    with pytest.raises(TypeError, match="callable"):
        W._wls_xp(np, 3.0, V, smp, None)
    with pytest.raises(ValueError, match="shape"):
        W._wls_xp(np, lambda x: np.ones(3), V, smp, None)
    with pytest.raises(ValueError, match="non-finite"):
        W._wls_xp(np, lambda x: np.where(x > 0, np.inf, 1.0), V, smp, None)
    with pytest.raises(ValueError, match="dtype"):
        W._wls_xp(np, lambda x: x.astype(complex), V, smp, None)


# =============================================================================== fake CuPy
class _FakeDeviceArray(np.ndarray):
    """A NumPy array whose type claims to be CuPy's (module "cupy"), with ``.get()``."""

    def get(self):
        return np.asarray(self).copy()


_FakeDeviceArray.__module__ = "cupy"


def _wrap_module(name, mod):
    """A module forwarding to ``mod`` whose array results are _FakeDeviceArray."""
    fake = types.ModuleType(name)

    def conv(r):
        if isinstance(r, np.ndarray):
            return r.view(_FakeDeviceArray)
        if isinstance(r, tuple):
            return tuple(conv(v) for v in r)
        return r

    def getattr_(attr):
        obj = getattr(mod, attr)
        if callable(obj) and not isinstance(obj, type):
            return lambda *a, **k: conv(obj(*a, **k))
        return obj
    fake.__getattr__ = getattr_
    return fake


@pytest.fixture
def fake_cupy(monkeypatch):
    """CuPy simulated over NumPy: exercises numfit's dispatch wiring (the ``is_cupy``
    branches marked ``pragma: no cover``) on machines without a GPU. Only the dispatch is
    checked this way; CuPy's own kernels (fuse, cuSOLVER) are not."""
    import scipy.linalg
    xp = _wrap_module("cupy", np)
    xp.ndarray = _FakeDeviceArray
    xp.linalg = _wrap_module("cupy.linalg", np.linalg)
    xp.cuda = types.SimpleNamespace(Device=lambda: types.SimpleNamespace(id=0))
    xp.fuse = lambda f: f
    sl = _wrap_module("cupyx.scipy.linalg", scipy.linalg)
    monkeypatch.setattr(_backend, "_CUPY", xp)
    for name, mod in (("cupyx", types.ModuleType("cupyx")),
                      ("cupyx.scipy", types.ModuleType("cupyx.scipy")),
                      ("cupyx.scipy.linalg", sl)):
        monkeypatch.setitem(sys.modules, name, mod)
    with np.errstate(all="ignore"):
        yield xp


def test_dispatch_with_fake_cupy_spline(fake_cupy):
    for name in ("linear", "loglog", "vector"):
        s = _SPLINES[name]()
        x = _points(s, np.random.default_rng(20), n=500)
        xd = fake_cupy.asarray(x)
        got = s(xd, nu=1)
        assert isinstance(got, _FakeDeviceArray)
        np.testing.assert_array_equal(got.get(), s(x, nu=1))
        assert ("cupy", 0) in s._dev


def test_dispatch_with_fake_cupy_wls(fake_cupy):
    V = _SPACES["legendre_total_3d"]()
    smp = nf.sample_points(V, method="iid_conditioned", rng=21)
    x = smp.points
    xd = fake_cupy.asarray(x)
    for meth in ("eval", "christoffel", "weights", "optimal_density", "measure_density",
                 "to_reference", "gram"):
        got = getattr(V, meth)(xd)
        assert isinstance(got, _FakeDeviceArray), meth
        np.testing.assert_allclose(got.get(), getattr(V, meth)(x), rtol=1e-13, atol=1e-14)
    back = V.from_reference(fake_cupy.asarray(V.to_reference(x)))
    assert isinstance(back, _FakeDeviceArray)
    np.testing.assert_allclose(back.get(), x, rtol=1e-15, atol=1e-15)
    dev = WeightedSample(smp, points=xd, weights=fake_cupy.asarray(smp.weights))
    f = (lambda z: np.exp(0.3 * z[:, 0]) * np.cos(z[:, 2]))
    cpu = nf.wls(f, V, sample=smp)
    got = nf.wls(f, V, sample=dev)
    assert isinstance(got.coef, _FakeDeviceArray)
    np.testing.assert_allclose(got.coef.get(), cpu.coef, rtol=0,
                               atol=1e-12 * np.linalg.norm(cpu.coef))
    out = got(x)                                             # NumPy x, device coefficients
    assert isinstance(out, _FakeDeviceArray)
    np.testing.assert_allclose(out.get(), cpu(x), rtol=0, atol=1e-12 * np.abs(cpu(x)).max())
    p = PolynomialExpansion(V, cpu.coef)
    assert isinstance(p(xd), _FakeDeviceArray)
    assert pickle.loads(pickle.dumps(p))._dev == {}


# =============================================================================== GPU
@pytest.fixture(scope="module")
def cp():
    cupy = pytest.importorskip("cupy")
    if not _backend.have_gpu():
        pytest.skip("CuPy is installed but no CUDA device is usable")
    return cupy


@pytest.mark.gpu
def test_gpu_spline_matches_cpu(cp, spline):
    x = _points(spline, np.random.default_rng(10), n=20_000)
    hi = 3 if spline.space == "linear" else 2
    xd = cp.asarray(x)
    for nu in range(hi + 1):
        for ext in (False, True):
            cpu = spline(x, nu=nu, extrapolate=ext)
            got = spline(xd, nu=nu, extrapolate=ext)
            assert isinstance(got, cp.ndarray)
            fin = cpu[np.isfinite(cpu)]
            scale = np.abs(fin).max() if fin.size else 0.0
            if spline.space == "linear":
                _compare(cpu, got.get(), 1e-13, 1e-13 * scale)
            else:
                _compare(cpu, got.get(), 1e-12)
    x2 = x[:12].reshape(6, 2)
    assert spline(cp.asarray(x2)).shape == spline(x2).shape


@pytest.mark.gpu
def test_gpu_spline_cache_per_device(cp):
    s = _SPLINES["linear"]()
    s(cp.linspace(0.1, 5.0, 11))
    assert _backend.device_key(cp) in s._dev
    assert pickle.loads(pickle.dumps(s))._dev == {}


@pytest.mark.gpu
def test_gpu_features_gram_expansion(cp, space):
    x = _space_points(space, 5000, seed=11)
    xd = cp.asarray(x)
    phi = space.eval(xd)
    assert isinstance(phi, cp.ndarray)
    cpu = space.eval(x)
    np.testing.assert_allclose(phi.get(), cpu, rtol=1e-13, atol=1e-13 * np.abs(cpu).max())
    np.testing.assert_allclose(space.christoffel(xd).get(), space.christoffel(x), rtol=1e-13)
    np.testing.assert_allclose(space.weights(xd).get(), space.weights(x), rtol=1e-13)
    ref = space.gram(x)
    np.testing.assert_allclose(space.gram(xd).get(), ref, rtol=0,
                               atol=1e-13 * np.abs(ref).max())
    p = PolynomialExpansion(space, np.random.default_rng(12).standard_normal(space.m))
    got = p(xd)
    assert isinstance(got, cp.ndarray)
    np.testing.assert_allclose(got.get(), p(x), rtol=0, atol=1e-13 * np.abs(p(x)).max())


@pytest.mark.gpu
def test_gpu_wls_matches_cpu(cp):
    V = _SPACES["legendre_total_3d"]()
    smp = nf.sample_points(V, method="iid_conditioned", rng=13)
    dev = WeightedSample(smp, points=cp.asarray(smp.points), weights=cp.asarray(smp.weights))

    def f(x):
        xp = cp.get_array_module(x)
        return xp.exp(0.3 * x[:, 0]) * xp.cos(x[:, 2])
    cpu = nf.wls(f, V, sample=smp)
    got = nf.wls(f, V, sample=dev)
    assert isinstance(got.coef, cp.ndarray) and isinstance(got["values"], cp.ndarray)
    np.testing.assert_allclose(got.coef.get(), cpu.coef, rtol=0,
                               atol=1e-12 * np.linalg.norm(cpu.coef))
    assert got.residual == pytest.approx(cpu.residual, rel=1e-10)
    assert got.cond == pytest.approx(cpu.cond, rel=1e-12)
    x = _space_points(V, 100, seed=14)
    assert isinstance(got(x), cp.ndarray)                    # coefficients on the device
    np.testing.assert_allclose(got(cp.asarray(x)).get(), cpu(x), rtol=0,
                               atol=1e-12 * np.abs(cpu(x)).max())


# =============================================================================== _backend
def _fake_cupy_array_type(module="cupy"):
    return type("ndarray", (), {"__module__": module, "get": lambda self: np.arange(3.0)})


def test_is_cupy_by_module_name():
    for mod in ("cupy", "cupy._core.core", "cupyx.scipy.sparse._csr"):
        assert _backend.is_cupy(_fake_cupy_array_type(mod)())
    for obj in (np.zeros(2), [1.0], 1.0, None, _fake_cupy_array_type("cupyish")()):
        assert not _backend.is_cupy(obj)


def test_numpy_path_never_imports_cupy(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)          # any `import cupy` would fail
    monkeypatch.setattr(_backend, "_CUPY", None)
    assert _backend.array_namespace(np.zeros(3), None, [1.0], 2.0) is np
    assert _backend._CUPY is None                           # not even tried
    assert _backend.fuse(np, _f_lin) is _f_lin
    assert _backend.device_key(np) == "numpy"


def test_fake_cupy_array_selects_cupy(monkeypatch):
    fake = _fake_cupy_array_type()()
    monkeypatch.setattr(_backend, "_CUPY", False)           # CuPy unusable
    with pytest.raises(RuntimeError, match="CuPy"):
        _backend.array_namespace(np.zeros(2), fake)
    module = types.ModuleType("cupy")
    monkeypatch.setattr(_backend, "_CUPY", module)          # CuPy "available"
    assert _backend.array_namespace(np.zeros(2), fake) is module
    np.testing.assert_array_equal(_backend.to_numpy(fake), np.arange(3.0))
    np.testing.assert_array_equal(_backend.to_numpy([1, 2]), [1, 2])
    assert _backend.asarray(np, [1, 2], dtype=float).dtype == np.float64


def test_have_gpu_false_without_cupy(monkeypatch):
    try:
        importlib.import_module("cupy")
    except Exception:
        monkeypatch.setattr(_backend, "_CUPY", None)
        assert not _backend.have_gpu() and _backend.cupy_or_none() is None
        assert _backend._CUPY is False                      # the failure is cached
    else:                                                    # pragma: no cover - CuPy here
        pytest.skip("CuPy is importable on this machine")
