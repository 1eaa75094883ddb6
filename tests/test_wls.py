"""numfit.wls / sample_points / PolynomialSpace: behaviour, reproducibility, exactness."""
import math
import pickle
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import numfit as nf
from numfit.approx import PolynomialExpansion, best_approximation


def runge(x):
    return 1.0 / (1.0 + 25.0 * np.asarray(x) ** 2)


def slow_scalar(x):          # module level: picklable for process pools
    return math.exp(math.sin(3.0 * float(x)))


@pytest.mark.parametrize("method", nf.approx.METHODS)
def test_every_method_fits_and_reports(method):
    V = nf.PolynomialSpace("legendre", 9)
    fit = nf.wls(runge, V, method=method, rng=3)
    smp = fit.sample
    assert fit.n_evals == smp.n and smp.points.shape == (smp.n, 1)
    assert np.allclose(smp.weights * V.christoffel(smp.points), V.m, rtol=1e-12)
    assert np.all(np.abs(smp.points) <= 1)
    assert fit.success and fit.status == 0
    assert fit.cond >= 1 and fit.as_factor > 1
    r = fit.error_ratio(runge)
    assert r["ratio"] >= 1 and r["n_quad_evals"] == 2000
    if method != "dpp":
        assert smp.stable and r["ratio"] < 3
    assert smp.n == {"iid": 703, "iid_conditioned": 703, "dpp": 10,
                     "volume": 713}.get(method, smp.n)
    if method == "iid_conditioned":
        assert fit.bound_factor == pytest.approx(1 + 10 / (703 * 0.25 * 0.99))
    else:
        assert fit.bound_factor is None


@pytest.mark.parametrize("family,dim,index_set,degree,kw", [
    ("legendre", 2, "total", 4, dict(domain=[[0, 2], [-3, 1]])),
    ("chebyshev", 3, "tensor", 2, {}),
    ("hermite", 2, "hyperbolic", 6, dict(loc=[1.0, -2.0], scale=[0.5, 2.0])),
    ("legendre", 5, "total", 2, {}),
])
def test_exact_on_polynomials_in_the_space(family, dim, index_set, degree, kw):
    V = nf.PolynomialSpace(family, degree, dim=dim, index_set=index_set, **kw)
    rng = np.random.default_rng(0)
    c = rng.normal(size=V.m)
    poly = PolynomialExpansion(V, c)
    fit = nf.wls(poly, V, rng=1)
    assert fit.sample.stable and fit.success
    assert np.allclose(fit.coef, c, atol=1e-10)
    X = V.from_reference(rng.uniform(-1, 1, (20, dim)))
    assert np.allclose(fit(X), poly(X), atol=1e-9)
    assert math.isnan(fit.error_ratio(poly, quad=max(degree + 2, 6))["ratio"])


def test_affine_domain_points_and_weights():
    V = nf.PolynomialSpace("legendre", 5, domain=[2.0, 5.0])
    smp = nf.sample_points(V, method="volume", n=30, rng=2)
    assert smp.points.min() >= 2 and smp.points.max() <= 5
    ref = nf.PolynomialSpace("legendre", 5)
    assert np.allclose(V.weights(smp.points), ref.weights((smp.points - 3.5) / 1.5))
    fit = nf.wls(np.log, V, sample=smp)
    assert abs(fit(3.0) - math.log(3.0)) < 1e-3


def test_same_seed_identical_and_generator_advances():
    V = nf.PolynomialSpace("legendre", 3, dim=2)
    a = nf.sample_points(V, rng=5)
    b = nf.sample_points(V, rng=5)
    assert np.array_equal(a.points, b.points) and a.n == b.n
    g = np.random.default_rng(5)
    c = nf.sample_points(V, method="iid", n=20, rng=g)
    d = nf.sample_points(V, method="iid", n=20, rng=g)
    assert not np.array_equal(c.points, d.points)
    for method in ("volume", "iid_conditioned"):
        x = nf.sample_points(V, method=method, rng=np.random.default_rng(9)).points
        y = nf.sample_points(V, method=method, rng=9).points
        assert np.array_equal(x, y)


def test_repeated_dpp_fixed_budget_remainder():
    V = nf.PolynomialSpace("legendre", 9)
    smp = nf.sample_points(V, n=37, method="repeated_dpp", rng=4)
    assert smp.n == 37 and smp.n_batches == 4 and smp.is_dpp.all()
    # the remainder is a uniformly chosen subset of a 4th DPP (rng.spawn child), not the
    # head of the sorted tridiagonal output
    rng = np.random.default_rng(4)
    children = [rng.spawn(1)[0] for _ in range(4)]
    fourth = nf.approx._kernels.dpp_tridiagonal(children[3], V)[:, 0]
    pick = np.sort(children[3].choice(10, size=7, replace=False))
    assert np.array_equal(smp.points[30:, 0], fourth[pick])
    assert not np.array_equal(pick, np.arange(7))


def test_workers_give_identical_results():
    V = nf.PolynomialSpace("legendre", 8)
    serial = nf.wls(slow_scalar, V, rng=7, vectorized=False)
    with ThreadPoolExecutor(2) as ex:
        threaded = nf.wls(slow_scalar, V, rng=7, vectorized=False, workers=ex.map)
    pooled = nf.wls(slow_scalar, V, rng=7, vectorized=False, workers=2)
    assert np.array_equal(serial.coef, threaded.coef)
    assert np.array_equal(serial.coef, pooled.coef)
    assert serial.n_evals == serial.sample.n


def test_probe_falls_back_to_per_point_and_counts():
    V = nf.PolynomialSpace("chebyshev", 6)
    fit = nf.wls(slow_scalar, V, rng=1)          # math.* rejects arrays: probe fails
    assert fit.n_evals == fit.sample.n + 2
    fit2 = nf.wls(np.cos, V, rng=1)
    assert fit2.n_evals == fit2.sample.n
    assert np.array_equal(fit.sample.points, fit2.sample.points)


def test_vector_valued_f_and_sample_reuse():
    V = nf.PolynomialSpace("legendre", 3, dim=2)
    smp = nf.sample_points(V, rng=2)

    def f(X):
        return np.stack([X[:, 0] * X[:, 1], X[:, 0] ** 3 - 1], axis=1)

    fit = nf.wls(f, V, sample=smp)
    assert fit.coef.shape == (V.m, 2)
    X = np.array([[0.1, 0.2], [-0.5, 0.9]])
    assert np.allclose(fit(X), f(X), atol=1e-12)
    g = nf.wls(lambda X: X[:, 0] * X[:, 1], V, sample=smp)
    assert np.allclose(g.coef, fit.coef[:, 0], atol=1e-13)
    assert g.sample is smp


def test_fit_accepts_scalars_and_1d_arrays():
    V = nf.PolynomialSpace("hermite", 5)
    fit = nf.wls(lambda x: x ** 3, V, rng=0)
    assert np.ndim(fit(0.5)) == 0 and fit(0.5) == pytest.approx(0.125)
    assert fit(np.array([0.5, 1.0])).shape == (2,)
    assert fit(np.array([[0.5], [1.0]])).shape == (2,)


def test_pickle_and_dict_roundtrip():
    V = nf.PolynomialSpace("hermite", 4, dim=2, index_set="hyperbolic", loc=1.0, scale=2.0)
    W = nf.PolynomialSpace.from_dict(V.to_dict())
    assert W == V and W.index_set == "hyperbolic" and pickle.loads(pickle.dumps(V)) == V
    C = nf.PolynomialSpace("legendre", 2, dim=2, indices=[[0, 0], [2, 1]])
    assert nf.PolynomialSpace.from_dict(C.to_dict()) == C
    fit = nf.wls(lambda X: np.sin(X[:, 0]) + X[:, 1], V, rng=1)
    back = pickle.loads(pickle.dumps(fit))
    X = np.array([[0.3, 1.0], [1.2, -0.4]])
    assert np.array_equal(back(X), fit(X)) and back.n_evals == fit.n_evals
    assert not fit.coef.flags.writeable and not V.indices.flags.writeable


def test_caps_return_status_two_with_message():
    V = nf.PolynomialSpace("legendre", 9)
    smp = nf.sample_points(V, n=12, method="iid_conditioned", max_redraws=5, rng=0)
    assert smp.status == 2 and not smp.success and smp.n_redraws == 5
    assert "not reached in 5 redraws of n=12" in smp.message and "certified n=703" in smp.message
    smp = nf.sample_points(V, method="repeated_dpp", max_batches=1, rng=0)
    assert smp.status == 2 and smp.n == 10 and "max_batches=1" in smp.message
    fit = nf.wls(runge, V, method="repeated_dpp", max_batches=1, rng=0)
    assert not fit.success and fit.status == 2


def test_best_approximation_multivariate():
    V = nf.PolynomialSpace("legendre", 2, dim=2)
    a, norm2 = best_approximation(lambda X: X[:, 0] * X[:, 1] + 1, V)
    expect = np.zeros(6)
    expect[0], expect[4] = 1.0, 1.0 / 3.0    # x y = phi_1(x) phi_1(y) / 3
    assert np.allclose(a, expect, atol=1e-12)
    assert norm2 == pytest.approx(1 + 1 / 9)
