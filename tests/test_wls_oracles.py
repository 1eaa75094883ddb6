"""Oracles of WLS (Nouy & Michel, arXiv:2312.14057; docs/wls.md): 1-D Legendre, Runge's
function, and invariants.

Monte-Carlo tests use fixed seeds and tolerances of about 4 standard errors (binomial for
probabilities), so a correct implementation fails with probability ~1e-4 per assertion only
if the seed is changed; the measured values are noted beside each test.
"""
import math

import numpy as np
import pytest
from scipy import stats

import numfit as nf
from numfit.approx import _kernels as K
from numfit.approx import _reference as R
from numfit.approx import best_approximation, c_delta, d_delta, n_iid
from numfit.approx._reference import design_ref
from numfit.approx._sample import _Draws, _weights_phi, gram_stats


def runge(x):
    return 1.0 / (1.0 + 25.0 * np.asarray(x) ** 2)


def legendre(m):
    return nf.PolynomialSpace("legendre", m - 1)


def runge_best(m):
    """a* (m,) and e_m^2 of Runge's function, with ||f||^2 from a degree-59 rule."""
    a_big, norm2 = best_approximation(runge, legendre(60))
    return a_big[:m], norm2 - np.sum(a_big[:m] ** 2)


def gram_err(space, t):
    return gram_stats(*_weights_phi(space, t))[2]


def solve(space, t, y):
    phi, w = _weights_phi(space, t)
    sw = np.sqrt(w)
    return np.linalg.lstsq(phi * sw[:, None], y * sw, rcond=None)[0]


# -- 1. constants ------------------------------------------------------------------------
def test_chernoff_constants_and_certified_sizes():
    deltas = (0.1, 0.25, 0.5, 0.75, 0.9)
    assert [round(c_delta(d), 6) for d in deltas] == \
        [0.005176, 0.034238, 0.153426, 0.403426, 0.669741]
    assert [round(d_delta(d), 6) for d in deltas] == \
        [0.004841, 0.028929, 0.108198, 0.229328, 0.319522]
    assert all(d_delta(d) <= c_delta(d) for d in deltas)
    assert [n_iid(m) for m in (10, 20, 40, 100)] == [703, 1534, 3323, 9154]
    assert [n_iid(m, 0.9) for m in (10, 20, 40, 100)] == [238, 520, 1126, 3100]
    assert n_iid(11, delta=0.9) == 265


# -- 3. Runge's function -----------------------------------------------------------------
def test_runge_best_approximation():
    a, norm2 = best_approximation(runge, legendre(40))
    assert norm2 == pytest.approx(1 / 52 + math.atan(5) / 10, rel=1e-12)
    assert round(norm2, 6) == 0.156571
    assert a[0] == pytest.approx(math.atan(5) / 5, rel=1e-12)
    assert [round(v, 6) for v in a[[0, 2, 4]]] == [0.27468, -0.20979, 0.14239]
    assert np.abs(a[1::2]).max() < 1e-15
    em2 = {m: norm2 - np.sum(a[:m] ** 2) for m in (5, 10, 20, 40)}
    assert em2[5] == pytest.approx(0.0168351, rel=1e-5)
    assert em2[10] == pytest.approx(3.44661e-3, rel=1e-5)
    assert em2[20] == pytest.approx(6.49675e-5, rel=1e-5)
    assert em2[40] == pytest.approx(2.29953e-8, rel=1e-4)


# -- 4. samplers -------------------------------------------------------------------------
@pytest.mark.parametrize("family", ["legendre", "chebyshev"])
def test_one_dimensional_acceptance_is_one_half(family):
    # every degree >= 1 is accepted with probability exactly 1/C = 1/2
    V = nf.PolynomialSpace(family, 1, indices=[[1], [4], [17]])
    smp = nf.sample_points(V, n=20_000, method="iid", rng=11)
    p, n = smp.acceptance_rate_1d, smp.n_proposals_1d
    assert abs(p - 0.5) < 4 * math.sqrt(0.25 / n)          # measured 0.4997


def test_legendre_bound_constant_two():
    # accepting V <= (pi/4) sqrt(1 - t^2) phi_j(t)^2 is valid only if the right side <= 1
    t = np.cos(np.linspace(0, np.pi, 20001))
    ratios = [np.max(np.pi / 4 * np.sqrt(1 - t * t) * R.phi_ref("legendre", j, t) ** 2) * 2
              for j in (1, 2, 10, 60)]
    assert ratios[0] == pytest.approx(1.8138, abs=1e-4)
    assert ratios[1] == pytest.approx(1.9635, abs=1e-4)
    assert max(ratios) <= 2.0


def test_optimal_density_ks_and_cdf_values():
    V = legendre(10)
    x = nf.sample_points(V, n=10_000, method="iid", rng=5).points[:, 0]
    def F(t):
        return R.mixture_cdf_ref("legendre", 10, t)
    assert [round(float(F(t)), 4) for t in (-0.9, -0.5, 0.0, 0.5, 0.9)] == \
        [0.1418, 0.3323, 0.5, 0.6677, 0.8582]
    assert stats.kstest(x, F).pvalue > 1e-3
    # chi-square on 20 equiprobable bins of F
    qs = np.linspace(0, 1, 21)[1:-1]
    edges = np.concatenate([[-1.0], [_inv(F, q) for q in qs], [1.0]])
    counts = np.histogram(x, edges)[0]
    assert stats.chisquare(counts).pvalue > 1e-3


def _inv(F, q):
    from scipy.optimize import brentq
    return brentq(lambda t: float(F(t)) - q, -1, 1, xtol=1e-13)


@pytest.mark.parametrize("family,j", [("legendre", 3), ("chebyshev", 5), ("hermite", 4)])
def test_rejection_sampler_matches_inverse_cdf_sampler(family, j):
    V = nf.PolynomialSpace(family, j, indices=[[j]])
    a = nf.sample_points(V, n=3000, method="iid", rng=2).points[:, 0]
    rng = np.random.default_rng(3)
    b = np.array([R.inverse_cdf_ref(family, j, u) for u in rng.random(1000)])
    assert stats.ks_2samp(a, b).pvalue > 1e-3
    assert stats.kstest(a, lambda t: R.cdf_1d_ref(family, j, t)).pvalue > 1e-3


# -- 5-7. projection DPP -------------------------------------------------------------------
def _dpps(space, kind, runs, seed):
    draws = _Draws(space, 10_000, kind)
    rng = np.random.default_rng(seed)
    return np.array([draws.dpp(rng) for _ in range(runs)]), draws


@pytest.mark.parametrize("kind", ["chain", "tridiagonal"])
def test_dpp_marginal_is_optimal_density(kind):
    X, _ = _dpps(legendre(10), kind, 3000, 7)
    rng = np.random.default_rng(0)
    one = X[np.arange(len(X)), rng.integers(0, 10, len(X)), 0]
    assert stats.kstest(one, lambda t: R.mixture_cdf_ref("legendre", 10, t)).pvalue > 1e-3
    # reference (independent Monte Carlo) 0.1434, 0.3326, 0.5000, 0.6682, 0.8584 (3000 DPPs)
    emp = [np.mean(one <= t) for t in (-0.9, -0.5, 0.0, 0.5, 0.9)]
    exact = [0.1418, 0.3323, 0.5, 0.6677, 0.8582]
    assert all(abs(e - p) < 4 * math.sqrt(p * (1 - p) / len(one)) for e, p in zip(emp, exact))


def test_dpp_mean_proposals_is_m_harmonic():
    for m, expect in ((5, 11.42), (10, 29.29), (20, 71.95)):
        runs = 400
        props = []
        draws = _Draws(legendre(m), 10_000, "chain")
        rng = np.random.default_rng(m)
        for _ in range(runs):
            before = draws.n_proposals
            draws.dpp(rng)
            props.append(draws.n_proposals - before)
        props = np.array(props)
        assert m * sum(1 / k for k in range(1, m + 1)) == pytest.approx(expect, abs=0.01)
        assert abs(props.mean() - expect) < 4 * props.std() / math.sqrt(runs)


def _pairs(X, eps=0.1):
    d = np.abs(X[:, :, None, 0] - X[:, None, :, 0])
    return ((d < eps).sum(axis=(1, 2)) - X.shape[1]).astype(float)


def test_dpp_repulsion():
    # ordered pairs with |x_i - x_j| < 0.1, m = 10: DPP 3.42, i.i.d. rho_m 9.83
    V = legendre(10)
    for kind in ("chain", "tridiagonal"):
        X, _ = _dpps(V, kind, 4000, 3)
        p = _pairs(X)
        assert abs(p.mean() - 3.42) < 4 * p.std() / math.sqrt(len(p))   # 3.37-3.42
    rng = np.random.default_rng(4)
    Y = K.draw_rho(rng, V, 40_000, 10_000, np.zeros(4, np.int64)).reshape(4000, 10, 1)
    q = _pairs(Y)
    assert abs(q.mean() - 9.83) < 4 * q.std() / math.sqrt(len(q))


# -- 8, 9. unbiasedness ----------------------------------------------------------------------
@pytest.mark.parametrize("method,n", [("iid", 13), ("volume", 13), ("dpp", None),
                                      ("repeated_dpp", 23)])
def test_expected_gram_is_identity(method, n):
    V = legendre(5)
    runs = 1500
    rng = np.random.default_rng(21)
    G = []
    for _ in range(runs):
        smp = nf.sample_points(V, n=n, method=method, rng=rng)
        phi, w = _weights_phi(V, V.to_reference(smp.points))
        G.append((phi * w[:, None]).T @ phi / len(w))
    G = np.array(G)
    se = G.std(axis=0) / math.sqrt(runs)
    assert np.all(np.abs(G.mean(axis=0) - np.eye(5)) <= 4.5 * se + 1e-12)


def test_volume_sampling_is_unbiased():
    # m = 5, n = 8: mean coef (0.2739, -0.0007, -0.2108, -0.0003, 0.1421) +- 0.0012 in the
    # reference; measured here (0.2742, -0.0005, -0.2099, 0.0001, 0.1424)
    V = legendre(5)
    a_star, _ = best_approximation(runge, V)
    runs = 20_000
    X, draws = _dpps(V, "auto", runs, 9)
    rng = np.random.default_rng(10)
    T = np.concatenate([X, draws.rho(rng, 3 * runs).reshape(runs, 3, 1)], axis=1)[:, :, 0]
    phi, w = _weights_phi(V, T.reshape(-1, 1))
    sw = np.sqrt(w).reshape(runs, 8, 1)
    A = phi.reshape(runs, 8, 5) * sw
    C = (np.linalg.pinv(A) @ (runge(T)[:, :, None] * sw))[:, :, 0]
    se = C.std(axis=0) / math.sqrt(runs)
    assert np.all(np.abs(C.mean(axis=0) - a_star) < 4 * se)
    assert np.all(se < 0.0012)


# -- 10, 11. single DPP --------------------------------------------------------------------
def test_single_dpp_error_ratio_is_m_plus_one():
    # E||f - I_x f||^2 / e_m^2 = m + 1 for every f; reference 2e4 runs: 11.05 (median 4.43)
    m = 10
    V = legendre(m)
    a_star, em2 = runge_best(m)
    X, _ = _dpps(V, "tridiagonal", 20_000, 2024)
    phi = V.eval(X.reshape(-1, 1)).reshape(len(X), m, m)
    a = np.linalg.solve(phi, runge(X))[:, :, 0]
    r1 = (em2 + np.sum((a - a_star) ** 2, axis=1)) / em2
    # f = phi_m (degree m): e_m = 1 and P_m f = 0
    c = np.linalg.solve(phi, R.phi_ref("legendre", m, X))[:, :, 0]
    r2 = 1 + np.sum(c ** 2, axis=1)
    assert abs(r1.mean() / (m + 1) - 1) < 0.15
    assert abs(r2.mean() / (m + 1) - 1) < 0.15
    assert 3.5 < np.median(r1) < 5.5                       # heavy tail: median ~0.4 (m + 1)


def test_single_dpp_median_gram_error():
    for m, med in ((10, 0.96), (20, 1.04), (40, 1.14)):
        X, _ = _dpps(legendre(m), "tridiagonal", 400, m)
        errs = [gram_err(legendre(m), x) for x in X]
        assert abs(np.median(errs) - med) < 0.05


# -- 12-14. stability and error ratios at n = r m -------------------------------------------
@pytest.mark.parametrize("m,r,expect", [(10, 4, (0.02, 0.04, 0.54)), (10, 8, (0.18, 0.28, 0.97)),
                                        (20, 8, (0.03, 0.04, 0.94))])
def test_probability_of_stability(m, r, expect):
    V = legendre(m)
    draws = _Draws(V, 10_000, "auto")
    rng = np.random.default_rng(100 + m + r)
    runs = 400
    for method, p in zip(("iid", "volume", "repeated_dpp"), expect):
        hits = np.mean([gram_err(V, design_ref(V, draws, method, r * m, rng)) <= 0.5
                        for _ in range(runs)])
        assert abs(hits - p) <= 4 * math.sqrt(max(p * (1 - p), 0.01) / runs) + 0.01


def test_samples_to_stability_repeated_dpp_vs_iid():
    # median n/m to reach ||G - I|| <= 1/2, m = 10: iid one point at a time 9.6, repeated 4
    V = legendre(10)
    rng = np.random.default_rng(77)
    rep = [nf.sample_points(V, method="repeated_dpp", rng=rng).n_batches for _ in range(200)]
    assert np.median(rep) == 4
    draws = _Draws(V, 10_000, "auto")
    iid = []
    for _ in range(100):
        t = draws.rho(rng, 300)
        phi, w = _weights_phi(V, t)
        S = np.zeros((10, 10))
        for i in range(300):
            S += w[i] * np.outer(phi[i], phi[i])
            if i >= 9:
                lam = np.linalg.eigvalsh(S / (i + 1))
                if max(lam[-1] - 1, 1 - lam[0]) <= 0.5:
                    break
        iid.append((i + 1) / 10)
    assert 8.5 < np.median(iid) < 11.0                        # measured 9.7


def test_error_ratio_at_two_m():
    # reference (m = 10, n = 2m), mean (median): iid 5.6e4 (3.6), volume 2.74 (1.94),
    # repeated_dpp 1.86 (1.48)
    m = 10
    V = legendre(m)
    a_star, em2 = runge_best(m)
    draws = _Draws(V, 10_000, "auto")
    rng = np.random.default_rng(5)
    med = {}
    mean = {}
    for method in ("iid", "volume", "repeated_dpp"):
        ratios = []
        for _ in range(400):
            t = design_ref(V, draws, method, 2 * m, rng)
            a = solve(V, t, runge(t[:, 0]))
            ratios.append(1 + np.sum((a - a_star) ** 2) / em2)
        med[method], mean[method] = np.median(ratios), np.mean(ratios)
    assert 1.35 < med["repeated_dpp"] < 1.65
    assert 1.7 < med["volume"] < 2.2
    assert 2.8 < med["iid"] < 4.5
    assert mean["repeated_dpp"] < mean["volume"] < mean["iid"]
    assert 1.6 < mean["repeated_dpp"] < 2.2 and 2.2 < mean["volume"] < 3.4


# -- 15. cross-checks ----------------------------------------------------------------------
def test_legfit_cross_check():
    V = legendre(10)
    smp = nf.sample_points(V, n=37, method="iid", rng=3)
    fit = nf.wls(runge, V, sample=smp)
    x = smp.points[:, 0]
    c = np.polynomial.legendre.legfit(x, runge(x), 9, w=np.sqrt(smp.weights))
    assert np.allclose(fit.coef, c / np.sqrt(2 * np.arange(10) + 1), rtol=1e-10, atol=1e-13)


# -- 16. Chebyshev, Hermite, d >= 2: invariants ---------------------------------------------
@pytest.mark.parametrize("family,dim,index_set,degree", [
    ("chebyshev", 1, "total", 7), ("hermite", 1, "total", 6), ("legendre", 2, "total", 3),
    ("hermite", 2, "hyperbolic", 5), ("chebyshev", 3, "total", 2), ("legendre", 5, "total", 1)])
def test_invariants_other_families(family, dim, index_set, degree):
    V = nf.PolynomialSpace(family, degree, dim=dim, index_set=index_set)
    m = V.m
    rng = np.random.default_rng(31)
    runs = 600
    draws = _Draws(V, 10_000, "chain")
    G, one = [], []
    for _ in range(runs):
        t = draws.dpp(rng)
        phi, w = _weights_phi(V, t)
        G.append((phi * w[:, None]).T @ phi / m)
        one.append(t[rng.integers(0, m)])
    G, one = np.array(G), np.array(one)
    se = G.std(axis=0) / math.sqrt(runs)
    assert np.all(np.abs(G.mean(axis=0) - np.eye(m)) <= 4.5 * se + 1e-12)
    Hm = m * sum(1 / k for k in range(1, m + 1))
    assert abs(draws.counts[2] / runs - Hm) < 0.1 * Hm
    # marginal of coordinate 0 against i.i.d. rho_m draws
    iid = K.draw_rho(rng, V, 4000, 10_000, np.zeros(4, np.int64))
    assert stats.ks_2samp(one[:, 0], iid[:, 0]).pvalue > 1e-3
    if dim == 1:       # tridiagonal model against the chain rule (law tests of §3.3)
        X, _ = _dpps(V, "tridiagonal", runs, 5)
        Y, _ = _dpps(V, "chain", runs, 6)
        assert stats.ks_2samp(X.ravel(), Y.ravel()).pvalue > 1e-3
        gx = np.median([gram_err(V, x) for x in X])
        gy = np.median([gram_err(V, y) for y in Y])
        assert abs(gx - gy) < 0.1
