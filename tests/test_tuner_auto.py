"""RelaxationTuner(policy="auto"): UnimodalSearch (sliding-window OSUB along the omega grid,
Combes and Proutiere, ICML 2014) warm-started by estimate_omega (issue 18, item 3; numfit's
SOR guide, docs/sor.md, "policy='auto'").

The learner bands are checked on sequences that neither the design nor the benchmark
(benchmarks/bench_sor.py, section F) used: other grid shapes, anisotropy ranges, angles and
seeds. The best fixed omega in hindsight is found by solving every system with every grid
omega (x0 = 0: solves are deterministic, so the learner's cost for an arm equals the table's).
"""
import math
import pickle

import numpy as np
import pytest

import numfit as nf
from numfit.linalg import (RelaxationTuner, TsallisINF, UnimodalSearch, anisotropic_diffusion,
                           anisotropic_sequence, laplacian_2d, make_grid, prepare,
                           rotated_anisotropic_sequence, shifted_laplacian_sequence)
from numfit.linalg._sor import _sor_prepared

GRID = make_grid("paper")


def _table(systems, grid=GRID, rtol=1e-8):
    C = np.empty((len(systems), grid.size))
    for t, s in enumerate(systems):
        P = prepare(s.A)
        for j, w in enumerate(grid):
            r = _sor_prepared(P, s.b, np.zeros(P.n), float(w), 0, 0, rtol, 0.0, 1e10, 10_000)
            C[t, j] = r.nit if r.status == 0 else 10_000
    return C


def _bands(systems, **kw):
    """(last-20 % ratio, total ratio) of policy="auto" against the best fixed grid omega."""
    C = _table(systems)
    tuner = RelaxationTuner("auto", grid=GRID, rng=0, **kw)
    costs = np.array([tuner.solve(s.A, s.b).cost for s in systems])
    # the tuner's costs are the table's (same deterministic solves)
    np.testing.assert_array_equal(costs, C[np.arange(len(systems)), tuner.history.arms])
    jb = int(np.argmin(C.sum(axis=0)))
    k = max(1, len(systems) // 5)
    return costs[-k:].sum() / C[-k:, jb].sum(), costs.sum() / C[:, jb].sum(), tuner


# ------------------------------------------------------------------ learner bands
def test_auto_bands_on_an_iid_anisotropic_sequence():
    systems = list(anisotropic_sequence(300, mx=28, my=9, eps_range=(0.03, 30.0), rng=21))
    last, total, tuner = _bands(systems)
    assert last <= 1.10 and total <= 1.15, (last, total)
    assert len(tuner.start_info["omegas"]) == 3


def test_auto_bands_on_a_slowly_rotating_anisotropic_sequence():
    systems = list(rotated_anisotropic_sequence(150, m=18, epsilon=0.08, theta=(0.4, 1.3),
                                                rng=22))
    last, total, _ = _bands(systems)
    assert last <= 1.10 and total <= 1.15, (last, total)


@pytest.mark.slow
def test_auto_bands_on_1500_anisotropic_systems():
    """The issue's length: last 20 % within 1.10x, total within 1.15x, and better than
    Tsallis-INF on the same table."""
    systems = list(anisotropic_sequence(1500, mx=20, my=11, eps_range=(0.01, 50.0), rng=23))
    C = _table(systems)
    tuner = RelaxationTuner("auto", grid=GRID, rng=1)
    costs = np.array([tuner.solve(s.A, s.b).cost for s in systems])
    jb = int(np.argmin(C.sum(axis=0)))
    last = costs[-300:].sum() / C[-300:, jb].sum()
    total = costs.sum() / C[:, jb].sum()
    assert last <= 1.10 and total <= 1.15, (last, total)
    pol = TsallisINF(GRID, rng=1)
    ts = 0.0
    for t in range(len(systems)):
        pol.select()
        ts += C[t, pol.arm]
        pol.update(C[t, pol.arm])
    assert costs.sum() < ts


# ------------------------------------------------------------------ the policy alone
def _noisy(rng, mean):
    return mean * rng.lognormal(0.0, 0.3)       # multiplicative noise, like system difficulty


@pytest.mark.parametrize("start", [None, 1.0, 1.95])
def test_policy_finds_the_optimum_of_a_noisy_unimodal_cost(start):
    grid = np.linspace(1.0, 1.95, 20)
    best = 13
    mean = 60.0 + 900.0 * (grid - grid[best]) ** 2
    rng = np.random.default_rng(5)
    pol = UnimodalSearch(grid, start=start, rng=0, window=None)
    arms = []
    for _ in range(3000):
        pol.select()
        arms.append(pol.arm)
        pol.update(_noisy(rng, mean[pol.arm]))
    assert pol.leader == best
    tail = np.asarray(arms[-1000:])
    assert np.all(np.abs(tail - best) <= 1)            # only the leader's neighbourhood
    assert np.mean(tail == best) > 0.5
    # regret relative to the best arm: the whole run (from the far end of the grid, where
    # the arms cost up to 7x) and the last third (neighbours 4 % worse, noise 30 %)
    assert np.sum(mean[arms] - mean[best]) / (3000 * mean[best]) < 0.08
    assert np.sum(mean[tail] - mean[best]) / (1000 * mean[best]) < 0.02


def test_sliding_window_tracks_a_drifting_optimum():
    grid = np.linspace(1.0, 1.95, 20)
    rng = np.random.default_rng(6)
    T = 4000
    pol = UnimodalSearch(grid, start=1.25, rng=0, window=300)
    for t in range(T):
        opt = 1.25 + 0.5 * t / (T - 1)                    # 1.25 -> 1.75
        pol.select()
        pol.update(_noisy(rng, 60.0 + 900.0 * (grid[pol.arm] - opt) ** 2))
    assert abs(grid[pol.leader] - 1.75) <= 0.05 + 1e-12


def test_policy_protocol_probabilities_and_one_draw_per_round():
    pol = UnimodalSearch("paper", start=1.6, rng=3)
    ref = np.random.default_rng(3)
    for t in range(50):
        w = pol.select()
        assert w == pol.grid[pol.arm] and pol.probabilities.sum() == pytest.approx(1.0)
        assert pol.probabilities[pol.arm] > 0
        pol.update(100 + 10 * abs(pol.arm - 12))
        ref.random()
        assert pol.rng.bit_generator.state == ref.bit_generator.state
    assert pol.t == 51 and pol.arm in (11, 12, 13)
    assert int(pol.n.sum()) == pol.window == 40 and np.isnan(pol.means[0])


def test_window_keeps_counts_consistent():
    pol = UnimodalSearch("paper", start=1.5, window=7, rng=0)
    rng = np.random.default_rng(0)
    hist = []
    for _ in range(40):
        pol.select()
        c = float(rng.integers(50, 200))
        hist.append((pol.arm, c - 1.0))
        pol.update(c)
        last = hist[-7:]
        n = np.bincount([a for a, _ in last], minlength=20)
        s = np.bincount([a for a, _ in last], weights=[x for _, x in last], minlength=20)
        np.testing.assert_array_equal(pol.n, n)
        np.testing.assert_allclose(pol._sum, s, rtol=1e-12, atol=1e-9)


# ------------------------------------------------------------------ reproducibility, state
def test_auto_same_seed_same_sequence_and_other_policies_unchanged():
    systems = list(shifted_laplacian_sequence(25, m=8, rng=4))
    runs = []
    for _ in range(2):
        t = RelaxationTuner("auto", rng=9)
        for s in systems:
            t.solve(s.A, s.b)
        runs.append(t.history)
    for k in runs[0]:
        np.testing.assert_array_equal(runs[0][k], runs[1][k])
    assert RelaxationTuner().policy_name == "tsallis"        # the default is unchanged
    assert isinstance(t.policy, UnimodalSearch)
    assert t.grid_info is not None                            # grid=None: auto_grid as before


def _run(tuner, systems):
    return [(r.omega, r.nit) for r in (tuner.solve(s.A, s.b) for s in systems)]


@pytest.mark.parametrize("cut", [1, 2, 12])
def test_pickle_and_save_load_mid_sequence_continue_identically(tmp_path, cut):
    systems = list(anisotropic_sequence(30, mx=10, my=6, rng=31))
    tuner = RelaxationTuner("auto", grid="paper", rng=2, policy_options={"window": 8})
    _run(tuner, systems[:cut])
    pick = pickle.loads(pickle.dumps(tuner))
    loaded = nf.load(tuner.save(tmp_path / "auto.npz"))
    assert isinstance(loaded.policy, UnimodalSearch)
    ref = _run(tuner, systems[cut:])
    assert _run(pick, systems[cut:]) == ref
    assert _run(loaded, systems[cut:]) == ref
    assert loaded.start_info["omegas"] == tuner.start_info["omegas"]
    pol = UnimodalSearch("paper", rng=1)
    pol.select()
    pol.update(80)
    copy = nf.load(pol.save(tmp_path / "pol"))
    assert [copy.select() for _ in range(1)] == [pol.select()]


def test_interrupted_auto_solve_is_rolled_back():
    systems = list(anisotropic_sequence(6, mx=10, my=6, rng=32))
    fresh = RelaxationTuner("auto", grid="paper", rng=5)
    tuner = RelaxationTuner("auto", grid="paper", rng=5)

    def boom(info):
        raise KeyboardInterrupt

    for i, s in enumerate(systems):
        if i in (0, 1, 4):
            before = (pickle.dumps(tuner.policy), tuner.start_info, tuner.t,
                      tuner.rng.bit_generator.state)
            with pytest.raises(KeyboardInterrupt):
                tuner.solve(s.A, s.b, callback=boom)
            assert (pickle.dumps(tuner.policy), tuner.start_info, tuner.t,
                    tuner.rng.bit_generator.state) == before
        r1, r2 = fresh.solve(s.A, s.b), tuner.solve(s.A, s.b)
        assert (r1.omega, r1.nit) == (r2.omega, r2.nit)
    strip = lambda info: {k: v for k, v in info.items() if k != "time"}  # noqa: E731
    assert strip(tuner.start_info) == strip(fresh.start_info)


def test_start_option_skips_the_estimate_and_ssor_cg_works():
    A = laplacian_2d(12)
    b = np.ones(144)
    t = RelaxationTuner("auto", grid="paper", rng=0, policy_options={"start": 1.3})
    assert isinstance(t.policy, UnimodalSearch)              # built at once: no estimate
    r = t.solve(A, b)
    assert r.omega == pytest.approx(1.3) and t.start_info is None
    t = RelaxationTuner("auto", solver="ssor_cg", grid="paper", rng=0)
    for _ in range(4):
        r = t.solve(A, b)
        assert r.converged
    assert len(t.start_info["omegas"]) == 3


# ------------------------------------------------------------------ bad input
def test_bad_input():
    with pytest.raises(ValueError, match="at least 2 points"):
        UnimodalSearch([1.5])
    with pytest.raises(ValueError, match="strictly increasing"):
        UnimodalSearch([1.5, 1.2, 1.7])
    with pytest.raises(ValueError, match=r"\(0, 2\)"):
        UnimodalSearch([1.0, 2.5])
    with pytest.raises(TypeError):
        UnimodalSearch(["a", "b"])
    with pytest.raises(ValueError, match="window"):
        UnimodalSearch("paper", window=1)
    with pytest.raises(ValueError, match="leader_period"):
        UnimodalSearch("paper", leader_period=0)
    with pytest.raises(ValueError, match="start"):
        UnimodalSearch("paper", start=2.5)
    with pytest.raises(ValueError, match="start"):
        UnimodalSearch("paper", start=math.nan)
    pol = UnimodalSearch("paper", rng=0)
    with pytest.raises(RuntimeError, match="without a preceding select"):
        pol.update(10)
    pol.select()
    with pytest.raises(RuntimeError, match="twice"):
        pol.select()
    with pytest.raises(ValueError, match="cost"):
        pol.update(-1.0)
    with pytest.raises(ValueError, match="omega"):
        pol.hint(math.inf)
    with pytest.raises(ValueError, match="policy"):
        RelaxationTuner("Auto")
    with pytest.raises(ValueError, match="grid"):
        RelaxationTuner("auto", grid=[1.2])
    with pytest.raises(TypeError):
        RelaxationTuner("auto", grid="paper", policy_options={"bogus": 1}).solve(
            laplacian_2d(4), np.ones(16))


def test_anisotropic_matrices():
    A = anisotropic_diffusion(5, 4, epsilon=0.1, theta=0.7, shift=0.5).toarray()
    assert np.allclose(A, A.T) and np.linalg.eigvalsh(A).min() > 0
    B = anisotropic_diffusion(5, 4, epsilon=0.1).toarray()     # axis-aligned: 5-point
    assert np.count_nonzero(B[7]) == 5 and B[7, 7] == pytest.approx(2.2)
    with pytest.raises(ValueError, match="epsilon"):
        anisotropic_diffusion(5, epsilon=0.0)
    with pytest.raises(ValueError, match="eps_range"):
        anisotropic_sequence(3, eps_range=(1.0,))
    with pytest.raises(ValueError, match="theta"):
        rotated_anisotropic_sequence(3, theta=0.3)
    s1 = [s.context for s in rotated_anisotropic_sequence(5, m=4, rng=1)]
    s2 = [s.context for s in rotated_anisotropic_sequence(5, m=4, rng=1)]
    assert s1 == s2 and s1[0] < s1[-1]
