"""Policies (Tsallis-INF, binned, ChebCB), RelaxationTuner, grids and sequences (Khodak et al.,
*Learning to Relax*, ICLR 2024: algorithms, section 2-3 and App. G experiments; docs/sor.md)."""
import math
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import brentq, minimize
from scipy.sparse.linalg import cg, spsolve

import numfit as nf
from numfit.linalg import (BinnedTsallisINF, ChebCB, HeatEquation2D, RelaxationTuner,
                           TsallisINF, auto_grid, laplacian_2d, make_grid, prepare,
                           shifted_laplacian_sequence, tsallis_probabilities)
from numfit.linalg._experiments import shifted_laplacian_experiment, summarize, young_omega
from numfit.linalg._policies import _box_qp


# ------------------------------------------------------------------ Tsallis-INF normaliser
def test_normaliser_matches_brentq_root():
    rng = np.random.default_rng(0)
    for _ in range(200):
        d = int(rng.integers(2, 40))
        a = rng.exponential(10.0 ** rng.uniform(-3, 4), d)
        eta = 10.0 ** rng.uniform(-3, 1)
        p, x, _ = tsallis_probabilities(a, eta)
        a0 = a - a.min()

        def f(z):
            return np.sum(4.0 / (eta * (a0 - z)) ** 2) - 1.0

        root = brentq(f, -2 * math.sqrt(d) / eta, -2 / eta, xtol=1e-300, rtol=1e-15)
        assert abs(p.sum() - 1.0) <= 1e-12
        assert x == pytest.approx(root, rel=1e-10)
        assert np.all(p > 0)


def _fixed_start_newton(a, eta, steps=20):
    """The flawed reference normaliser (Khodak et al., ICLR 2024, Alg. 2): restart at x = -1
    (unshifted), 20 steps."""
    x = -1.0
    with np.errstate(all="ignore"):
        for _ in range(steps):
            p = 4.0 / (eta * (a - x)) ** 2
            x -= (p.sum() - 1.0) / (eta * np.sum(p ** 1.5))
        return 4.0 / (eta * (a - x)) ** 2


def test_normaliser_sums_to_one_over_thousands_of_rounds_and_flaw_is_avoided():
    rng = np.random.default_rng(1)
    means = np.linspace(50, 120, 20)
    pol = TsallisINF("paper", rng=2)
    flawed_wrong = 0
    for t in range(3000):
        pol.select()
        assert abs(pol.raw_sum - 1.0) <= 1e-12
        assert np.all(pol.probabilities > 0)
        assert abs(pol.probabilities.sum() - 1.0) <= 1e-12
        if t % 50 == 49:
            S = pol._S_used
            pf = _fixed_start_newton(pol.k / S, pol._eta_used)
            flawed_wrong += abs(pf.sum() - 1.0) > 1e-6
        pol.update(rng.poisson(means[pol.arm]) + 1)
    assert pol.t == 3001
    # the restarted Newton iteration of the reference scripts fails once k/S is large
    assert flawed_wrong > 0


def test_leader_probability_stays_below_one_at_large_k_over_S():
    """Tsallis-INF: once k/S ~ 1e3 the leader keeps exploring (p_leader < 1 - 1e-3)."""
    rng = np.random.default_rng(1)
    means = 58 + 400 * (np.linspace(1, 1.95, 20) - 1.65) ** 2
    pol = TsallisINF("paper", rng=2)
    checked = 0
    for _ in range(4000):
        pol.select()
        if (pol.k / pol._S_used).min() >= 1e3:
            checked += 1
            assert pol.probabilities.max() < 1 - 1e-3
        pol.update(rng.poisson(means[pol.arm]) + 1)
    assert checked > 1000


def test_repr_names_policy_solver_grid_and_count():
    """The tuner's and the policies' reprs say what they are (not an object address)."""
    tuner = RelaxationTuner("tsallis", solver="ssor_cg", rng=0)
    assert repr(tuner) == ("RelaxationTuner(policy='tsallis', solver='ssor_cg', grid: chosen "
                           "at the first solve, systems solved: 0)")
    tuner.solve(laplacian_2d(8), np.ones(64))
    g = tuner.grid
    assert repr(tuner) == (f"RelaxationTuner(policy='tsallis', solver='ssor_cg', grid: "
                           f"{len(g)} omegas in [{g[0]:.4g}, {g[-1]:.4g}], systems solved: 1)")
    assert repr(tuner.policy) == f"TsallisINF({len(g)} omegas in [{g[0]:.4g}, {g[-1]:.4g}])"
    assert repr(ChebCB([1.0, 1.5], (0.0, 1.0))) == "ChebCB(2 omegas in [1, 1.5])"
    assert repr(BinnedTsallisINF([1.2, 1.9], (0.0, 1.0))).startswith("BinnedTsallisINF(2 ")
    assert "policy=" in repr(RelaxationTuner(TsallisINF([1.0, 1.5])))


def test_tsallis_same_seed_same_sequence_and_pickle_resume():
    def run(pol, n, rng):
        out = []
        for _ in range(n):
            w = pol.select()
            out.append(w)
            pol.update(10 + 100 * abs(w - 1.6) + rng.integers(0, 5))
        return out

    a = run(TsallisINF(rng=5), 300, np.random.default_rng(0))
    b = run(TsallisINF(rng=5), 300, np.random.default_rng(0))
    assert a == b
    p1 = TsallisINF(rng=5)
    r1 = np.random.default_rng(0)
    first = run(p1, 150, r1)
    p2 = pickle.loads(pickle.dumps(p1))
    r2 = pickle.loads(pickle.dumps(r1))
    assert first + run(p1, 150, r1) == a
    assert first + run(p2, 150, r2) == a


def test_tsallis_learns_best_arm_and_variants_sum_to_one():
    rng = np.random.default_rng(3)
    means = 20 + 200 * (np.linspace(1, 1.95, 20) - 1.6) ** 2
    for kw in ({}, {"estimator": "rv"}, {"eta": "horizon", "horizon": 2000},
               {"scale": 400.0}, {"eta": lambda t: 1.0 / math.sqrt(t)}):
        pol = TsallisINF("paper", rng=4, **kw)
        counts = np.zeros(20)
        for t in range(2000):
            pol.select()
            assert abs(pol.raw_sum - 1) <= 1e-12
            counts[pol.arm] += t >= 1000
            pol.update(rng.poisson(means[pol.arm]) + 1)
        assert np.argmax(counts) in (11, 12, 13), kw   # omegas 1.55..1.65


def test_rv_estimator_update_rule():
    pol = TsallisINF([1.0, 1.5, 1.9], estimator="rv", rng=0)
    pol.select()
    p, eta, S, I = pol.probabilities.copy(), pol._eta_used, pol._S_used, pol.arm
    assert eta == pytest.approx(4.0)
    pol.update(11)
    B = 0.5 * S * (p >= eta ** 2)
    expect = B.copy()
    expect[I] += (10 - B[I]) / p[I]
    np.testing.assert_allclose(pol.k, expect)


# ------------------------------------------------------------------ binned and ChebCB
def test_binned_bins_and_ties():
    pol = BinnedTsallisINF("paper", (0.0, 1.0), bins=4, rng=0)
    np.testing.assert_allclose(pol.centres, [0.125, 0.375, 0.625, 0.875])
    for c, expect in [(0.0, 0), (0.25, 0), (0.2501, 1), (0.5, 1), (0.99, 3)]:
        pol.select(c)
        assert pol.bin == expect
        pol.update(5)
    assert pol.t == 6 and pol.learners[1].t == 3


def test_box_qp_matches_scipy():
    rng = np.random.default_rng(0)
    for _ in range(50):
        m = 6
        B = rng.standard_normal((10, m))
        G = B.T @ B + 1e-9 * np.eye(m)
        g = rng.standard_normal(m) * 5
        bound = rng.uniform(0.0, 1.0, m)
        bound[rng.integers(0, m)] = 0.0
        x = _box_qp(G, g, bound, np.zeros(m))
        assert np.all(np.abs(x) <= bound + 1e-15)
        res = minimize(lambda z: 0.5 * z @ G @ z - g @ z, np.zeros(m),
                       jac=lambda z: G @ z - g, bounds=list(zip(-bound, bound)),
                       method="L-BFGS-B", options={"ftol": 1e-15, "gtol": 1e-12})
        fx = 0.5 * x @ G @ x - g @ x
        assert fx <= res.fun + 1e-9 * max(1.0, abs(res.fun))


def test_chebcb_first_round_uniform_then_probabilities_valid():
    pol = ChebCB("paper", (-1.0, 1.0), rng=0)
    pol.select(0.3)
    np.testing.assert_allclose(pol.probabilities, np.full(20, 1 / 20))
    pol.update(40)
    rng = np.random.default_rng(1)
    for t in range(300):
        c = rng.uniform(-1, 1)
        pol.select(c)
        p = pol.probabilities
        assert np.all(p > 0) and abs(p.sum() - 1) <= 1e-12
        pol.update(30 + 50 * abs(pol.grid[pol.arm] - (1.5 + 0.4 * c)))
    assert pol.eta > 0 and pol.t == 302
    # scale and box of ChebCB (docs/sor.md)
    C = 2.0
    K = max(pol.c_max, 1.0)
    L = (pol.c_max - pol.c_min) / C
    N = 2 + 4 * C * L / K * (1 + math.log(pol.m))
    assert pol.S == pytest.approx(K * N)
    j = np.arange(1, pol.m)
    played = pol.n > 0
    assert np.all(np.abs(pol.theta[played, 0]) <= 1 / N * (1 + 1e-9))
    assert np.all(np.abs(pol.theta[played][:, 1:]) <= 2 * C * L / (pol.S * j) * (1 + 1e-9))
    assert np.all(pol.theta[~played] == 0)


def test_chebcb_learns_context_dependent_best_arm():
    grid = make_grid("paper")
    rng = np.random.default_rng(2)
    pol = ChebCB(grid, (0.0, 1.0), rng=3)
    hits = 0
    for t in range(3000):
        c = rng.uniform()
        best = 1.2 + 0.6 * c                      # best omega moves with the context
        w = pol.select(c)
        cost = 20 + 400 * (w - best) ** 2 + rng.integers(0, 3)
        if t >= 2000:
            hits += abs(w - best) <= 0.1
        pol.update(cost)
    assert hits / 1000 > 0.8


# ------------------------------------------------------------------ grids
def test_grids():
    g = make_grid("paper")
    np.testing.assert_allclose(g, np.linspace(1, 1.95, 20))
    lg = make_grid("log", omega_hi=1.999)
    assert lg[0] == 1.0 and lg[-1] == pytest.approx(1.999) and lg.size == 20
    assert np.all(np.diff(lg) > 0) and np.all(np.diff(2 - lg) < 0)
    # log spacing in 2 - omega
    assert np.allclose(np.diff(np.log(2 - lg)), np.log(2 - lg[1]) - np.log(1.0))


@pytest.mark.parametrize("m,ratio", [(10, None), (100, 0.98), (316, 0.69)])
def test_auto_grid_contains_omega_star(m, ratio):
    h = 1.0 / (m + 1)
    w_star = 2.0 / (1.0 + math.sin(math.pi * h))
    grid, info = auto_grid(laplacian_2d(m))
    assert grid[0] == 1.0
    if m == 10:
        assert info["kind"] == "paper"
    else:
        assert info["kind"] == "log" and w_star < grid[-1]
        # auto grid (docs/sor.md): (2 - w*)/(2 - w_hat) = 0.98 / 0.69 at m = 100 / 316
        assert (2 - w_star) / (2 - info["omega_hat"]) == pytest.approx(ratio, abs=0.02)


# ------------------------------------------------------------------ RelaxationTuner
@pytest.mark.parametrize("policy", ["tsallis", "binned", "chebcb"])
def test_tuner_equals_table_experiment(policy):
    """Real solves through RelaxationTuner give the same omegas and costs as the table run."""
    name = policy
    a = shifted_laplacian_experiment(120, "high", seed=7, learners=(name,), young=False)
    b = shifted_laplacian_experiment(120, "high", seed=7, learners=(name,), young=False,
                                     table=False)
    np.testing.assert_array_equal(a[name + "_omegas"], b[name + "_omegas"])
    np.testing.assert_array_equal(a[name], b[name])


def test_tuner_history_and_result():
    tuner = RelaxationTuner("chebcb", grid="paper", rng=0, context_range=(-0.15, 0.65))
    for sysm in shifted_laplacian_sequence(30, rng=3):
        r = tuner.solve(sysm.A, sysm.b, context=sysm.context)
        assert r.converged and r.cost == r.nit and r.omega in tuner.grid
        assert 0 < r.probability <= 1
        assert np.linalg.norm(sysm.b - sysm.A @ r.x) < 1e-8 * np.linalg.norm(sysm.b)
    h = tuner.history
    assert h.omegas.shape == h.costs.shape == h.contexts.shape == (30,)
    assert r.t == 30 == tuner.t
    t2 = pickle.loads(pickle.dumps(tuner))
    assert t2.t == 30 and np.array_equal(t2.history.omegas, h.omegas)


def test_tuner_same_seed_same_omegas_and_auto_grid():
    runs = []
    for _ in range(2):
        tuner = RelaxationTuner("tsallis", rng=11)          # grid=None: Lanczos
        for sysm in shifted_laplacian_sequence(25, rng=1):
            tuner.solve(sysm.A, sysm.b)
        runs.append(tuner.history.omegas)
        assert tuner.grid_info["kind"] == "paper"
    np.testing.assert_array_equal(*runs)


def test_tuner_cap_and_backstop():
    grid = [0.05, 1.65]
    tuner = RelaxationTuner("tsallis", grid=grid, rng=0, cap_factor=1.5)
    backstops, late = 0, 0
    for t, sysm in enumerate(shifted_laplacian_sequence(60, rng=2)):
        r = tuner.solve(sysm.A, sysm.b)
        assert r.converged                       # omega = 0.05 needs > 10^4 sweeps
        if r.backstop:
            backstops += 1
            assert r.nit > r.cost and r.safe_omega in (1.0, 1.65)
            if t >= 20:                          # cap_factor active: cap = 1.5 * median
                late += 1
                med = np.median(tuner.history.costs[:t])
                assert r.cost == min(10_000, math.ceil(1.5 * med))
                assert r.safe_omega == 1.65
    assert late > 0
    assert tuner.history.backstop.sum() == backstops


def test_tuner_backstop_failure_is_bounded():
    A = np.array([[1.0, 3.0], [3.0, 1.0]])            # SOR diverges for every omega
    tuner = RelaxationTuner("tsallis", grid="paper", rng=0, maxiter=50)
    r = tuner.solve(A, np.array([1.0, 2.0]))
    assert not r.converged and r.backstop and r.cost == 50
    r = RelaxationTuner("tsallis", grid="paper", backstop=False, maxiter=50).solve(
        A, np.array([1.0, 2.0]))
    assert not r.converged and not r.backstop and r.status == 2


def test_tuner_with_policy_instance_and_ssor_cg():
    pol = TsallisINF([1.2, 1.5, 1.8], rng=1)
    tuner = RelaxationTuner(pol, solver="ssor_cg")
    seq = HeatEquation2D(10, t_end=0.02)
    for sysm in seq:
        r = tuner.solve(sysm.A, sysm.b, x0=sysm.x0)
        assert r.converged and r.omega in (1.2, 1.5, 1.8)
        seq.advance(r.x)
    assert tuner.t == 20 and pol.t == 21


# ------------------------------------------------------------------ sequences
def test_shifted_laplacian_sequence_spec():
    s1 = list(shifted_laplacian_sequence(50, rng=9))
    s2 = list(shifted_laplacian_sequence(50, rng=9))
    for a, b in zip(s1, s2):
        assert a.context == b.context and np.array_equal(a.b, b.b)
        assert -0.15 <= a.context <= 0.45 and np.linalg.norm(a.b) <= 10.0
        assert a.x0 is None
        np.testing.assert_allclose(a.A.diagonal(), 4 + a.context)
    A0 = laplacian_2d(10).toarray()
    assert np.linalg.eigvalsh(A0).min() == pytest.approx(0.162, abs=1e-3)
    hi = [s.context for s in shifted_laplacian_sequence(400, variance="high", rng=1)]
    lo = [s.context for s in shifted_laplacian_sequence(400, variance="low", rng=1)]
    assert np.std(hi) > np.std(lo)
    assert abs(np.mean(lo) - (-0.15 + 0.6 * 2 / 8)) < 0.01          # Beta(2,6) mean 1/4
    assert abs(np.mean(hi) - (-0.15 + 0.6 * 0.25)) < 0.03           # Beta(1/2,3/2) mean 1/4


def test_young_omega_formula():
    m = 10
    A0 = laplacian_2d(m).toarray()
    c = 0.1
    Jac = np.eye(m * m) - (A0 + c * np.eye(m * m)) / (4 + c)
    beta = np.abs(np.linalg.eigvals(Jac)).max()
    assert young_omega(c, m) == pytest.approx(2 / (1 + math.sqrt(1 - beta ** 2)), rel=1e-12)


def test_heat_equation_step_matches_direct_crank_nicolson():
    nx = 8
    seq = HeatEquation2D(nx, t_end=0.004)
    h = 1.0 / nx
    x = np.arange(1, nx) * h
    # index (i-1)(nx-1) + (j-1) -> point (i/nx, j/nx)
    assert seq.x[nx - 1] == pytest.approx(2 * h) and seq.y[nx - 1] == pytest.approx(h)
    assert seq.x[1] == pytest.approx(h) and seq.y[1] == pytest.approx(2 * h)
    T = sp.diags_array([-np.ones(nx - 2), 2 * np.ones(nx - 1), -np.ones(nx - 2)],
                       offsets=[-1, 0, 1])
    Lh = -(sp.kron(T, sp.eye(nx - 1)) + sp.kron(sp.eye(nx - 1), T)) / h ** 2
    u = seq.u.copy()
    assert u.max() == pytest.approx(1.0, abs=0.2) and seq.n == (nx - 1) ** 2
    for s, sysm in enumerate(seq):
        tau = (s + 0.5) * 1e-3
        kap = max(0.1 * math.sin(2 * math.pi * tau), -10 * math.sin(2 * math.pi * tau))
        assert sysm.context == pytest.approx(kap)
        A = sp.eye(seq.n) - 0.5 * kap * 1e-3 * Lh
        cx, cy = 0.5 + math.cos(16 * math.pi * tau) / 4, 0.5 + math.sin(16 * math.pi * tau) / 4
        X, Y = np.meshgrid(x, x, indexing="ij")
        q = np.minimum(1, ((X - cx) ** 2 + (Y - cy) ** 2) * 64).ravel()
        with np.errstate(divide="ignore"):
            f = 32 * np.where(q < 1, np.exp(1 - 1 / (1 - q)), 0.0)
        b = (sp.eye(seq.n) + 0.5 * kap * 1e-3 * Lh) @ u + 1e-3 * f
        np.testing.assert_allclose(sysm.A.toarray(), A.toarray(), atol=1e-12)
        np.testing.assert_allclose(sysm.b, b, rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(sysm.x0, u)
        u = spsolve(sp.csc_matrix(A), b)
        seq.advance(u)
    assert seq.step == 4
    with pytest.raises(StopIteration):
        next(iter(seq))


def test_heat_default_kappa_range_and_start_context():
    seq = HeatEquation2D(4, context="start")
    sysm = next(iter(seq))
    assert sysm.context == 0.0
    from numfit.linalg._sequences import default_kappa
    ks = np.array([default_kappa(t) for t in np.linspace(0, 1, 1001)])
    assert ks.min() == 0.0 and ks.max() == pytest.approx(10.0)


@pytest.mark.slow
def test_heat_oracle_nx25_iteration_totals():
    """Heat-equation reference values (Khodak et al., App. G.2) at nx = 25 (+-1 %): CG 85,422;
    SSOR-CG omega=1 32,793; 1.5 32,318."""
    totals = {}
    for method in ("cg", 1.0, 1.5):
        seq = HeatEquation2D(25)
        tot = 0
        for sysm in seq:
            if method == "cg":
                count = [0]
                x, info = cg(sysm.A, sysm.b, x0=sysm.x0, rtol=1e-8, maxiter=10_000,
                             callback=lambda xk: count.__setitem__(0, count[0] + 1))
                assert info == 0
                tot += count[0]
            else:
                r = nf.ssor_cg(prepare(sysm.A), sysm.b, omega=method, x0=sysm.x0,
                               check_symmetry=False)
                assert r.converged
                x = r.x
                tot += r.nit
            seq.advance(x)
        totals[method] = tot
    assert totals["cg"] == pytest.approx(85_422, rel=0.01)
    assert totals[1.0] == pytest.approx(32_793, rel=0.01)
    assert totals[1.5] == pytest.approx(32_318, rel=0.01)


# ------------------------------------------------------------------ the 7.1 experiment
@pytest.mark.slow
@pytest.mark.parametrize("variance", ["low", "high"])
def test_shifted_laplacian_ordering_reduced_T(variance):
    """T = 2000 (paper: 5000): GS > best fixed ~ Tsallis-INF > ChebCB ~ instance-optimal."""
    res = shifted_laplacian_experiment(2000, variance, seed=0,
                                       learners=("tsallis", "chebcb"), young=False)
    s = summarize(res, last=1000)
    rows = s["rows"]
    gs, bf = rows["omega=1"][0], rows["best fixed"][0]
    ts, cb, io = rows["tsallis"][0], rows["chebcb"][0], rows["instance_optimal"][0]
    # The reference bands (Tsallis total <= 1.30x best fixed, ChebCB last-1000 <= 1.08x
    # instance-optimal) are set for T = 5000 and are checked at full size in
    # benchmarks/bench_sor.py. At T = 2000 learning is less complete; measured over seeds
    # 0-2: Tsallis total 1.19-1.26x (low) / 1.27-1.30x (high); ChebCB last-1000 1.03-1.06x
    # (low) / 1.080-1.087x (high). The reduced-T bands below are 1.35x and 1.08x / 1.10x.
    assert gs > 2 * bf                       # Gauss-Seidel far behind
    assert bf < ts <= 1.35 * bf
    assert ts < gs
    assert io < cb < bf                      # context pays
    band = 1.08 if variance == "low" else 1.10
    assert rows["chebcb"][1] <= band * rows["instance_optimal"][1]
    # fixed-omega per-instance means vs the reference table (mean over 5000, 3 seeds): +-4 %
    ref = {"low": {1.0: 1_359_041, 1.4: 552_496, 1.8: 429_584},
           "high": {1.0: 3_070_783, 1.4: 1_290_098, 1.8: 516_717}}[variance]
    for w, total in ref.items():
        j = int(np.argmin(np.abs(res["omegas"] - w)))
        assert res["fixed"][:, j].mean() == pytest.approx(total / 5000, rel=0.04)
    if variance == "low":
        assert s["best_omega"] == pytest.approx(1.65)
