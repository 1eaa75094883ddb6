"""Bad input for PolynomialSpace, sample_points and wls (specs/wls.md §8)."""
import math

import numpy as np
import pytest

import numfit as nf
from numfit.approx import PolynomialExpansion, SamplingError


@pytest.fixture
def V():
    return nf.PolynomialSpace("legendre", 4)


@pytest.mark.parametrize("kw,exc,match", [
    (dict(family="laguerre", degree=2), ValueError, "`family` must be one of 'legendre'"),
    (dict(family="legendre", degree=2, index_set="full"), ValueError,
     "`index_set` must be one of 'total', 'tensor', 'hyperbolic'"),
    (dict(family="legendre", degree=-1), ValueError, "`degree` must be an integer >= 0"),
    (dict(family="legendre", degree=2.0), TypeError, "`degree` must be an integer"),
    (dict(family="legendre", degree=True), TypeError, "`degree` must be an integer"),
    (dict(family="legendre", degree=2, dim=0), ValueError, "`dim` must be an integer >= 1"),
    (dict(family="legendre", degree=2, dim=1.5), TypeError, "`dim` must be an integer"),
    (dict(family="legendre"), TypeError, "`degree` is required"),
    (dict(family="legendre", degree=2, domain=[1.0, 1.0]), ValueError, "lower < upper"),
    (dict(family="legendre", degree=2, domain=[0.0, np.inf]), ValueError, "finite"),
    (dict(family="legendre", degree=2, dim=2, domain=[[0, 1]] * 3), ValueError,
     r"`domain` must have shape \(2,\) or \(2, 2\)"),
    (dict(family="hermite", degree=2, scale=0.0), ValueError, "`scale` must be > 0"),
    (dict(family="hermite", degree=2, loc=np.nan), ValueError, "finite"),
    (dict(family="hermite", degree=2, domain=[0, 1]), ValueError, "use loc/scale"),
    (dict(family="legendre", degree=2, scale=2.0), ValueError, "use domain"),
    (dict(family="legendre", degree=10, dim=5, index_set="tensor"), ValueError,
     "m=161051 > max_size=100000"),
    (dict(family="legendre", degree=10 ** 6, dim=40, index_set="total"), ValueError,
     "max_size"),
    (dict(family="legendre", dim=2, indices=[[0, 0], [0, 0]]), ValueError, "distinct"),
    (dict(family="legendre", dim=2, indices=[[0, -1]]), ValueError, "non-negative"),
    (dict(family="legendre", dim=2, indices=[0, 1, 2]), ValueError, "dim=2 columns"),
    (dict(family="legendre", indices=[[0.5]]), TypeError, "integers"),
])
def test_space_bad_input(kw, exc, match):
    with pytest.raises(exc, match=match):
        nf.PolynomialSpace(**kw)


@pytest.mark.parametrize("kw,exc,match", [
    (dict(method="random"), ValueError, "`method` must be one of 'iid'"),
    (dict(method="iid", n=4), ValueError, "`n` must be >= m=5 for method='iid'"),
    (dict(method="volume", n=3), ValueError, "`n` must be >= m=5"),
    (dict(method="repeated_dpp", n=2), ValueError, "`n` must be >= m=5"),
    (dict(method="iid_conditioned", n=1), ValueError, "`n` must be >= m=5"),
    (dict(method="dpp", n=7), ValueError, "`n` must be None or m=5"),
    (dict(n=0), ValueError, "`n` must be an integer >= 1"),
    (dict(n=10.0), TypeError, "`n` must be an integer"),
    (dict(delta=0.0), ValueError, r"`delta` must be a finite float in \(0, 1\)"),
    (dict(delta=1.0), ValueError, "`delta`"),
    (dict(delta=np.nan), ValueError, "`delta`"),
    (dict(eta=1.5), ValueError, "`eta`"),
    (dict(rng=-1), ValueError, "`rng` must be a non-negative int"),
    (dict(rng=1.5), TypeError, "default_rng"),
    (dict(rng=True), TypeError, "default_rng"),
    (dict(rng=np.random.RandomState(0)), TypeError, "default_rng"),
    (dict(max_redraws=0), ValueError, "`max_redraws`"),
    (dict(max_batches=0), ValueError, "`max_batches`"),
    (dict(max_proposals=0), ValueError, "`max_proposals`"),
    (dict(dpp_sampler="fast"), ValueError, "`dpp_sampler` must be one of 'auto'"),
])
def test_sample_points_bad_input(V, kw, exc, match):
    with pytest.raises(exc, match=match):
        nf.sample_points(V, **kw)


def test_sample_points_needs_a_space():
    with pytest.raises(TypeError, match="`space` must be a numfit.PolynomialSpace"):
        nf.sample_points("legendre")
    V2 = nf.PolynomialSpace("legendre", 2, dim=2)
    with pytest.raises(ValueError, match="tridiagonal"):
        nf.sample_points(V2, method="dpp", dpp_sampler="tridiagonal")


def test_rejection_cap_raises_sampling_error():
    V = nf.PolynomialSpace("legendre", 6, dim=2)
    with pytest.raises(SamplingError, match=r"max_proposals=1 at DPP step k=\d+ of m=28"):
        nf.sample_points(V, method="dpp", max_proposals=1, rng=0)
    with pytest.raises(SamplingError, match="max_proposals=1"):
        nf.sample_points(V, method="iid", n=200, max_proposals=1, rng=0)


def test_wls_bad_f(V):
    with pytest.raises(TypeError, match="`f` must be callable"):
        nf.wls(3.0, V, rng=0)
    with pytest.raises(ValueError, match=r"must return shape \(\d+,\) or \(\d+, q\)"):
        nf.wls(lambda x: np.zeros((len(x), 2, 2)), V, vectorized=True, rng=0)
    with pytest.raises(ValueError, match=r"must return shape \(\d+,\)"):
        nf.wls(lambda x: np.zeros(3), V, vectorized=True, rng=0)

    def nan_at_half(x):
        return np.where(x > 0.5, np.nan, x)

    with pytest.raises(ValueError, match=r"non-finite values at \d+ of \d+ points; the first "
                                         r"at x=\[0\.[5-9]"):
        nf.wls(nan_at_half, V, rng=0)

    def inf_scalar(x):
        return math.inf if x > 0 else 1.0

    with pytest.raises(ValueError, match="non-finite"):
        nf.wls(inf_scalar, V, vectorized=False, rng=0)

    def ragged(x):
        return [1.0, 2.0] if x > 0 else 1.0

    with pytest.raises(ValueError, match="expected .* like the first point"):
        nf.wls(ragged, V, vectorized=False, rng=3)
    with pytest.raises(ValueError, match="dtype"):
        nf.wls(lambda x: np.array(["a"] * len(x)), V, vectorized=True, rng=0)

    def boom(x):
        raise RuntimeError("simulator crashed")

    with pytest.raises(RuntimeError, match="simulator crashed"):
        nf.wls(boom, V, rng=0)
    with pytest.raises(TypeError, match="`vectorized` must be None, True or False"):
        nf.wls(np.sin, V, vectorized="yes")


def test_wls_bad_workers_and_sample(V):
    calls = []

    def f(x):
        calls.append(1)
        return x

    with pytest.raises(ValueError, match="`workers` must be an int >= 1"):
        nf.wls(f, V, workers=0, rng=0)
    with pytest.raises(TypeError, match="`workers` must be None"):
        nf.wls(f, V, workers="all", rng=0)
    assert not calls
    with pytest.raises(TypeError, match="cannot be pickled"):
        nf.wls(lambda x: x, V, vectorized=False, workers=2, rng=0)
    with pytest.raises(TypeError, match="`sample` must be a WeightedSample"):
        nf.wls(f, V, sample={"points": [[0.0]]})
    other = nf.sample_points(nf.PolynomialSpace("legendre", 3), rng=0)
    with pytest.raises(ValueError, match="different space"):
        nf.wls(f, V, sample=other)


def test_fit_and_expansion_bad_points():
    V = nf.PolynomialSpace("legendre", 2, dim=2)
    fit = nf.wls(lambda X: X[:, 0], V, rng=0)
    with pytest.raises(ValueError, match=r"`x` must have shape \(N, 2\)"):
        fit(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="`x` must be finite; 1 non-finite point"):
        fit(np.array([[0.0, 0.0], [np.nan, 0.0]]))
    with pytest.raises(ValueError, match=r"`coef` must have shape \(6,\)"):
        PolynomialExpansion(V, np.zeros(5))
    with pytest.raises(ValueError, match="`quad`=2 nodes"):
        fit.error_ratio(lambda X: X[:, 0], quad=2)


def test_bad_input_leaves_rng_untouched(V):
    g = np.random.default_rng(1)
    state = g.bit_generator.state
    with pytest.raises(ValueError):
        nf.sample_points(V, n=2, method="iid", rng=g)
    assert g.bit_generator.state == state
