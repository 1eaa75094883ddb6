"""Bad input for PolynomialSpace, sample_points and wls (clear messages naming the argument)."""
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


# ============================================================================ sizes first
def test_certified_size_is_refused_before_drawing():
    """delta = 1e-3 certifies n ~ 1.5e8 points for m = 10: refused at once, naming the size
    and the options to change, instead of sampling for minutes into a MemoryError."""
    V = nf.PolynomialSpace("legendre", 9)
    g = np.random.default_rng(3)
    state = g.bit_generator.state
    for kw in (dict(delta=1e-3), dict(delta=1e-3, method="iid"),
               dict(delta=1e-3, method="iid_conditioned"), dict(delta=1e-3, method="volume")):
        with pytest.raises(ValueError, match=r"n=1\.52\d*e\+08 .*max_points=\d+.*raise "
                                             r"`delta`.*`max_points`"):
            nf.sample_points(V, rng=g, **kw)
    assert g.bit_generator.state == state
    # an explicit repeated_dpp batch cap bounds the size instead of the certified one
    with pytest.raises(ValueError, match=r"max_batches=5000000 .* n=5e\+07 "):
        nf.sample_points(V, max_batches=5_000_000, rng=0)
    # a given n is checked too, and max_points is the documented knob
    with pytest.raises(ValueError, match=r"`n`=2000 exceeds max_points=1000"):
        nf.sample_points(V, n=2000, method="iid", max_points=1000, rng=0)
    smp = nf.sample_points(V, n=2000, method="iid", max_points=2000, rng=0)
    assert smp.n == 2000


@pytest.mark.parametrize("kw", [dict(delta=1e-20), dict(delta=1e-10, method="iid"),
                                dict(delta=5e-324, method="iid_conditioned"),
                                dict(delta=1e-200, method="volume")])
def test_tiny_delta_is_a_clear_size_error(V, kw):
    with pytest.raises(ValueError, match=r"needs up to n=(\d\.\d+e\+\d+|inf) points .*"
                                         r"max_points"):
        nf.sample_points(V, rng=0, **kw)


def test_tiny_delta_without_a_certified_size_is_allowed(V):
    smp = nf.sample_points(V, method="dpp", delta=1e-20, rng=0)     # delta only judges
    assert smp.n == V.m and not smp.stable and "not stable" in smp.message


def test_chernoff_constants_for_small_delta():
    from numfit.approx import c_delta, d_delta, n_iid
    from fractions import Fraction

    def series(d, sign):                         # exact rational partial sums, 40 terms
        t = Fraction(d) * sign
        return float(sum(t ** k / (k * (k - 1)) for k in range(2, 42)))

    for d in (1e-20, 1e-9, 1e-5, 9.99e-4, 1e-3, 1.01e-3, 1e-2):
        assert d_delta(d) == pytest.approx(series(d, -1), rel=1e-12)
        assert c_delta(d) == pytest.approx(series(d, 1), rel=1e-12)
    assert n_iid(10, delta=1e-20) > 10 ** 41
    assert n_iid(10) == 703                      # unchanged for ordinary deltas
    with pytest.raises(ValueError, match="`delta`"):
        n_iid(10, delta=1e-300)
    with pytest.raises(ValueError, match="`delta` must be a finite float in"):
        n_iid(10, delta=1.5)
    with pytest.raises(ValueError, match="`m` must be an integer >= 1"):
        n_iid(0)


@pytest.mark.parametrize("bad, exc", [(0, ValueError), (1.5, TypeError), ("big", TypeError)])
def test_max_points_validated(V, bad, exc):
    with pytest.raises(exc, match="`max_points`"):
        nf.sample_points(V, max_points=bad, rng=0)


def test_wls_refuses_the_size_before_calling_f():
    V = nf.PolynomialSpace("legendre", 9)
    calls = []

    def f(x):
        calls.append(1)
        return x

    with pytest.raises(ValueError, match="max_points"):
        nf.wls(f, V, delta=1e-3, rng=0)
    assert not calls


def test_high_dimensional_space_without_recursion():
    """dim = 1000 (m = 1001) used to hit Python's recursion limit."""
    for index_set in ("total", "hyperbolic"):
        V = nf.PolynomialSpace("legendre", degree=1, dim=1000, index_set=index_set)
        assert V.m == 1001
        assert V.indices[0].sum() == 0
        assert np.array_equal(V.indices[1:], np.eye(1000, dtype=np.int64))
    with pytest.raises(ValueError, match="m=1267650600228229401496703205376 > max_size"):
        nf.PolynomialSpace("legendre", degree=1, dim=100, index_set="tensor")
    with pytest.raises(ValueError, match=r"hyperbolic index set .* m >= 1000001 > max_size"):
        nf.PolynomialSpace("legendre", degree=10 ** 6, dim=1, index_set="hyperbolic")
    V = nf.PolynomialSpace("hermite", degree=3, dim=300, index_set="hyperbolic")
    # nu with prod(nu_k + 1) <= 4: 0, one coordinate 1..3, or two coordinates equal to 1
    assert V.m == 1 + 3 * 300 + 300 * 299 // 2
    assert np.all(np.prod(V.indices + 1, axis=1) <= 4)
    assert V.eval(np.zeros((2, 300))).shape == (2, V.m)


def test_index_array_size_is_limited():
    # m = 50001 is allowed by max_size, but the (m, dim) index array has 2.5e9 entries
    with pytest.raises(ValueError, match=r"index array .* 2\.5\d*e\+09 entries"):
        nf.PolynomialSpace("legendre", degree=1, dim=50_000, max_size=100_000)


@pytest.mark.parametrize("index_set", ["total", "tensor", "hyperbolic"])
@pytest.mark.parametrize("degree, dim", [(0, 1), (0, 4), (5, 1), (4, 3), (7, 2), (3, 5)])
def test_index_sets_match_their_definition(index_set, degree, dim):
    import itertools
    V = nf.PolynomialSpace("legendre", degree=degree, dim=dim, index_set=index_set)
    rule = {"total": lambda nu: sum(nu) <= degree, "tensor": lambda nu: max(nu) <= degree,
            "hyperbolic": lambda nu: math.prod(v + 1 for v in nu) <= degree + 1}[index_set]
    want = {nu for nu in itertools.product(range(degree + 1), repeat=dim) if rule(nu)}
    got = [tuple(r) for r in V.indices.tolist()]
    assert len(got) == len(set(got)) == len(want) and set(got) == want
    s = V.indices.sum(axis=1)
    assert np.all(np.diff(s) >= 0)                        # ordered by total degree
