"""sor(..., omega="auto") and ssor_cg(..., omega="auto"): the Lanczos estimate of
lambda_min(D^{-1/2} A D^{-1/2}) in Young's formula (numfit.linalg._omega; docs/sor.md,
"omega='auto'"), on numfit's Poisson matrices (Young's omega* known in closed form) and on
PyAMG gallery matrices when PyAMG is installed."""
import importlib.util
import math

import numpy as np
import pytest
import scipy.sparse as sp

import numfit as nf
from numfit.linalg import laplacian_2d, prepare
from numfit.linalg._omega import estimate_omega
from numfit.linalg._sequences import _graph_laplacian   # random graph + 0.01 I


@pytest.mark.parametrize("m", [10, 32, 60])
def test_converged_estimate_is_youngs_omega_on_poisson(m):
    omega, info = estimate_omega(laplacian_2d(m), "sor", budget=100.0, max_steps=2000)
    assert info["converged"]
    assert info["lambda_min"] == pytest.approx(1 - math.cos(math.pi / (m + 1)), rel=1e-3)
    assert omega == pytest.approx(2 / (1 + math.sin(math.pi / (m + 1))), abs=2e-3)
    w_ssor, si = estimate_omega(laplacian_2d(m), "ssor_cg", budget=100.0, max_steps=2000)
    assert si["converged"] and si["lambda_used"] == si["lambda_min"]
    assert si["lambda_min"] == pytest.approx(1 - math.cos(math.pi / (m + 1)), rel=1e-3)
    # Young's beta - 1/4 at the Ritz vector: <= 0 for the 5-point Laplacian, so Young's
    # SSOR parameter 2 / (1 + sqrt(2 lambda_min)) itself
    assert si["beta"] <= 0.0
    assert w_ssor == pytest.approx(2 / (1 + math.sqrt(2 * si["lambda_min"])), rel=1e-12)


def test_estimate_is_deterministic_and_bounded():
    A = laplacian_2d(20)
    a = estimate_omega(A)
    b = estimate_omega(prepare(A))
    assert a[0] == b[0] and a[1]["steps"] == b[1]["steps"]
    assert 1.0 <= a[0] <= 1.99
    w, info = estimate_omega(sp.eye_array(5) * 3.0)           # Jacobi-exact: omega = 1
    assert w == 1.0 and info["converged"]
    w, info = estimate_omega(np.array([[2.0]]))
    assert w == 1.0


def test_auto_in_sor_and_ssor_cg_reports_the_estimate():
    A = laplacian_2d(32)
    b = np.ones(A.shape[0])
    best = min(nf.sor(A, b, om).nit for om in np.arange(1.0, 1.99, 0.02))
    # forward sweeps: the 12-step estimate, then adapted during the solve
    r = nf.sor(A, b, "auto", return_history=True)
    w0, info = estimate_omega(A, "sor", max_steps=12)
    assert r.converged and r.omega_info["adapted"][0] == (0, w0)
    assert r.omega == r.omega_info["adapted"][-1][1] and r.omega > w0
    assert set(r.omega_info) >= {"lambda_min", "steps", "converged", "time", "adapted"}
    assert r.nit <= 1.2 * best and len(r.residual_history) == r.nit + 1
    assert r.relres < 1e-8
    assert np.linalg.norm(b - A @ r.x) == pytest.approx(r.residual, rel=1e-8)
    # symmetric sweeps (and callbacks): the Lanczos estimate only, a fixed-omega solve
    s = nf.sor(A, b, "auto", sweep="symmetric")
    w, _ = estimate_omega(A, "sor")
    fixed = nf.sor(A, b, w, sweep="symmetric")
    assert s.omega == w and s.nit == fixed.nit and np.array_equal(s.x, fixed.x)
    c = nf.ssor_cg(A, b, "auto")
    assert c.converged and 1.0 <= c.omega < 2.0 and "omega_info" in c
    assert "omega_info" not in nf.sor(A, b, 1.5)
    for res in (r, s, c):
        assert res.time >= res.omega_info["time"] > 0


def test_result_time_counts_the_estimate(monkeypatch):
    """``time`` of a solve with omega="auto" includes the estimate on the paths that solve
    at the estimated omega (SSOR-CG, SOR with symmetric sweeps or a callback), as on SOR's
    adapted path (whose clock starts before the estimate): an estimate that reports 1000 s
    shows in the result."""
    import numfit.linalg._sor as S
    real = S.estimate_omega

    def slow(*args, **kwargs):
        w, info = real(*args, **kwargs)
        return w, {**info, "time": 1000.0}
    monkeypatch.setattr(S, "estimate_omega", slow)
    A = laplacian_2d(16)
    b = np.ones(A.shape[0])
    for res in (nf.ssor_cg(A, b, "auto"), nf.sor(A, b, "auto", sweep="symmetric"),
                nf.sor(A, b, "auto", callback=lambda info: False)):
        assert res.converged and res.omega_info["time"] == 1000.0
        assert 1000.0 < res.time < 1010.0
    # maxiter and a zero right-hand side
    assert nf.sor(A, b, "auto", maxiter=30).status == 1
    assert nf.sor(A, b, "auto", maxiter=30).nit == 30
    assert nf.sor(A, np.zeros_like(b), "auto").status == 0


def test_gallery_sor_auto_adapts():
    """SOR with omega='auto' (estimate + adaptation): converges on every gallery matrix and
    never ends below the 12-step Lanczos estimate."""
    for name, A in _gallery().items():
        P = prepare(sp.csr_array(A))
        b = np.random.default_rng(0).standard_normal(P.n)
        r = nf.sor(P, b, "auto", norm="b", maxiter=50_000)
        assert r.converged, name
        assert r.omega >= r.omega_info["adapted"][0][1]


def test_auto_errors():
    A = laplacian_2d(5)
    b = np.ones(25)
    with pytest.raises(ValueError, match="`omega` must be a number in \\(0, 2\\) or 'auto'"):
        nf.sor(A, b, "Auto")
    with pytest.raises(ValueError, match="omega='auto'.*natural"):
        nf.sor(A, b, "auto", ordering="multicolor")
    with pytest.raises(ValueError, match="omega='auto'.*natural"):
        nf.ssor_cg(A, b, "auto", ordering="multicolor")
    with pytest.raises(ValueError, match="`solver` must be one of"):
        estimate_omega(A, "jacobi")
    with pytest.raises(ValueError, match="`budget`"):
        estimate_omega(A, budget=0.0)


def _gallery(scale=1, graph=False):
    pyamg = pytest.importorskip("pyamg")
    g = pyamg.gallery
    nine = np.array([[-1.0, -1.0, -1.0], [-1.0, 8.0, -1.0], [-1.0, -1.0, -1.0]])
    m = 30 * scale
    extra = {"graph_laplacian": _graph_laplacian(m * m, 11 + scale)} if graph else {}
    return extra | {
        "poisson2d": g.poisson((m, m), format="csr"),
        "poisson3d": g.poisson((10 * scale, 10 * scale, 10 * scale), format="csr"),
        "rotated_anisotropic": g.stencil_grid(
            g.diffusion_stencil_2d(epsilon=0.01, theta=np.pi / 8, type="FE"), (m, m),
            format="csr"),
        "elasticity": g.linear_elasticity((m // 2, m // 2), format="csr")[0],
        "nine_point": g.stencil_grid(nine, (m, m), format="csr"),
    }


def test_gallery_estimates_with_a_converged_lanczos_are_near_the_best_grid_omega():
    """Young's formula with lambda_min(D^{-1/2} A D^{-1/2}) resolved (large budget): SOR
    within 1.25x and SSOR-CG within 1.2x of the best omega of a 0.02-spaced grid on every
    gallery matrix, although rotated anisotropic diffusion and elasticity are not consistently
    ordered (their Jacobi iteration diverges)."""
    grid = np.round(np.arange(1.0, 1.99, 0.02), 2)
    for name, A in _gallery().items():
        P = prepare(sp.csr_array(A))
        b = np.random.default_rng(0).standard_normal(P.n)
        best_sor = min(nf.sor(P, b, w, norm="b", maxiter=20_000).nit for w in grid)
        best_cg = min(nf.ssor_cg(P, b, w).nit for w in grid)
        w, info = estimate_omega(P, "sor", budget=100.0, max_steps=3000)
        assert info["converged"], name
        nit = nf.sor(P, b, w, norm="b", maxiter=20_000).nit
        assert nit <= 1.25 * best_sor, (name, w, nit, best_sor)
        w, info = estimate_omega(P, "ssor_cg", budget=100.0, max_steps=3000)
        nit = nf.ssor_cg(P, b, w).nit
        assert nit <= 1.2 * best_cg, (name, w, nit, best_cg)


def test_gallery_auto_default_budget_converges():
    """The default budget: every solve converges and omega_info is reported (how close the
    default estimate comes to the best omega is measured in benchmarks/bench_sor.py)."""
    for name, A in _gallery().items():
        P = prepare(sp.csr_array(A))
        b = np.ones(P.n)
        r = nf.sor(P, b, "auto", maxiter=50_000)
        c = nf.ssor_cg(P, b, "auto")
        assert r.converged and c.converged, name
        assert r.omega_info["steps"] >= 12
        assert c.omega_info["steps"] >= 3 or c.omega_info["insensitive"]


@pytest.mark.parametrize("scale", [1, 2])
def test_gallery_ssor_cg_default_estimate_near_best_grid_omega(scale):
    """SSOR-CG with the default estimate (Lanczos from the smooth start, at least 3 steps,
    theta / 2 and Young's beta at the Ritz vector): within 1.2x of the best omega of a
    0.02-spaced grid on every gallery matrix, the random graph Laplacian included (n = 450
    to 8000; the benchmark uses other sizes and another graph)."""
    grid = np.round(np.arange(1.0, 1.99, 0.02), 2)
    for name, A in _gallery(scale, graph=True).items():
        P = prepare(sp.csr_array(A))
        b = np.random.default_rng(0).standard_normal(P.n)
        best = min(nf.ssor_cg(P, b, w).nit for w in grid)
        r = nf.ssor_cg(P, b, "auto")
        assert r.converged and r.nit <= 1.2 * best, (name, r.omega, r.nit, best)
        assert r.omega_info["lambda_used"] <= r.omega_info["lambda_min"]


def test_graph_laplacian_gets_omega_near_one_and_poisson_young():
    """Young's beta - 1/4 at the Ritz vector: clearly positive for random graph Laplacians
    (no property A), whose best SSOR omega is near 1, and <= 0 on the 5-point Laplacian
    (Young's SSOR parameter unchanged)."""
    for n, seed in ((1600, 3), (6400, 4)):
        A = _graph_laplacian(n, seed)
        w, info = estimate_omega(A, "ssor_cg")
        assert info["beta"] > 0.05 and 1.0 <= w <= 1.3, (n, w, info["beta"])
        b = np.random.default_rng(1).standard_normal(n)
        assert nf.ssor_cg(A, b, "auto").nit <= 1.2 * nf.ssor_cg(A, b, 1.0).nit
    w, info = estimate_omega(laplacian_2d(50), "ssor_cg")
    assert info["beta"] <= 0.0
    assert w == pytest.approx(2 / (1 + math.sqrt(2 * info["lambda_used"])), rel=1e-12)


def test_ssor_estimate_skips_the_ritz_vector_where_beta_is_bounded_by_0(monkeypatch):
    """SSOR-CG: where Schur's test bounds ||D^{-1/2} U D^{-1/2}||^2 by 1/4 (the Poisson
    matrices, the 9-point stencil: each row's lower and upper halves sum to half its
    diagonal; a tridiagonal matrix with diagonal >= 2 and off-diagonal -1), Young's beta is
    <= 0 at every vector: the estimate skips the Ritz vector and its product, reports the
    bound, and returns the omega of the Ritz route bit for bit (there beta < 0). Rotated
    anisotropic diffusion, elasticity, graph Laplacians and a symmetrically scaled Poisson
    matrix (the test is not scale invariant) take the Ritz route."""
    import numfit.linalg._omega as om
    from reference_omega import ref_schur_bound
    mats = {"poisson_numfit": laplacian_2d(40), "tridiagonal": _spd_matrices()["tridiagonal"],
            "scaled_poisson": _spd_matrices()["scaled_poisson"],
            "graph": _graph_laplacian(900, 7)}
    if importlib.util.find_spec("pyamg") is not None:
        mats.update(_gallery(1, graph=False))
    bounded = {"poisson_numfit", "tridiagonal", "poisson2d", "poisson3d", "nine_point"}
    for name, A in mats.items():
        w, info = estimate_omega(A, "ssor_cg")
        with monkeypatch.context() as mp:
            mp.setattr(om, "SCHUR_SLACK", -1.0)          # the Ritz route everywhere
            w2, info2 = estimate_omega(A, "ssor_cg")
        assert not info2["beta_bounded"]
        if name in bounded:
            assert info["beta_bounded"], name
            assert info["beta"] == pytest.approx(ref_schur_bound(A) - 0.25, abs=1e-15)
            assert info["beta"] <= 1e-15 and info2["beta"] < 0, name
            assert info["matvecs"] == info["steps"] == info2["matvecs"] - 1
            assert w == w2 and info["lambda_used"] == info2["lambda_used"], name
            assert info["predicted_iterations"] == info2["predicted_iterations"]
        else:
            assert not info["beta_bounded"] and ref_schur_bound(A) > 0.26, name
            assert w == w2 and info == {**info2, "time": info["time"]}, name


def test_ssor_estimate_cost_is_bounded_by_the_solve():
    """The cost bound in products with A, not wall time: the Lanczos steps are at most
    max(SSOR_STEPS, budget x the iterations predicted from the value used) + 1 (checks every
    2 steps), one more product for Young's beta at the Ritz vector; on solves of >= 60
    iterations that is <= 10 % of the actual iterations."""
    from numfit.linalg._omega import SSOR_STEPS, _predicted_iterations
    mats = dict(_gallery(1, graph=True))
    mats["poisson2d_150"] = laplacian_2d(150)
    mats["poisson2d_250"] = laplacian_2d(250)
    long_solves = 0
    for name, A in mats.items():
        P = prepare(sp.csr_array(A))
        b = np.random.default_rng(2).standard_normal(P.n)
        w, info = estimate_omega(P, "ssor_cg")
        pred = _predicted_iterations("ssor_cg", info["lambda_used"], 1e-8)
        assert info["steps"] <= max(SSOR_STEPS, 0.1 * pred + 2), name
        # Young's beta: one product with the upper triangle at the Ritz vector, or none when
        # Lanczos stopped after step 0 (whose product summed it for the start vector) or
        # Schur's test bounded it by 0 at every vector
        assert info["matvecs"] == info["steps"] + (info["steps"] > 1
                                                   and not info["beta_bounded"])
        nit = nf.ssor_cg(P, b, w).nit
        if nit >= 60:
            long_solves += 1
            assert info["matvecs"] <= 0.1 * nit, (name, info["matvecs"], nit)
    assert long_solves >= 1


def test_insensitivity_is_the_worst_case_over_lambda_min():
    """_insensitivity (the stop after step 0): ``_omega_from`` minimises Axelsson's quotient
    over omega in [1, 1.99] (a 0.0001 grid); the maximum of the iteration ratio over
    ``lambda_min`` in [0, theta] is at an end (a dense grid of 400 values gives no more);
    infinite for beta <= 0; small where Young's beta dominates 2 lambda."""
    from numfit.linalg._omega import _axelsson, _insensitivity, _omega_from
    from reference_omega import ref_insensitivity
    ws = np.linspace(1.0, 1.99, 9901)
    rng = np.random.default_rng(8)
    for _ in range(60):
        theta = 10.0 ** rng.uniform(-4, -0.3)
        beta = 10.0 ** rng.uniform(-4, -0.5)
        used = theta / rng.choice([1.0, 2.0])
        for lam in (0.0, used, theta):
            w = _omega_from("ssor_cg", lam, beta)
            assert _axelsson(w, lam, beta) <= _axelsson(ws, lam, beta).min() * (1 + 1e-12)
        lams = np.concatenate([theta * np.linspace(0.0, 1.0, 200),
                               theta * np.geomspace(1e-8, 1.0, 200)])
        got = _insensitivity(theta, used, beta)
        assert got >= 0.0
        assert ref_insensitivity(theta, used, beta, lams) <= got + 1e-12
        assert got == pytest.approx(ref_insensitivity(theta, used, beta), rel=1e-12, abs=1e-15)
    for beta in (0.0, -0.01, -0.2):
        assert _insensitivity(0.05, 0.025, beta) == math.inf
    for theta in (0.0, -0.1, math.nan):          # not positive definite: never insensitive
        assert _insensitivity(theta, theta / 2, 0.2) == math.inf
    # an indefinite matrix with a positive diagonal and beta > 0 at the start vector: no stop
    # after one step on a negative Ritz value
    A = _graph_laplacian(500, 3)
    B = sp.csr_array(A - sp.diags_array(0.5 * A.diagonal()))
    w, info = estimate_omega(B, "ssor_cg")
    assert info["lambda_min"] < 0 and not info["insensitive"] and info["steps"] >= 3
    assert _insensitivity(0.08, 0.04, 0.1) < 0.005        # the benchmark's graph, step 0
    assert _insensitivity(0.08, 0.04, 0.001) > 0.5


def _permuted(A, seed):
    p = np.random.default_rng(seed).permutation(A.shape[0])
    A = sp.csr_array(A)
    return sp.csr_array(A[p][:, p])


def test_ssor_estimate_stops_after_step_0_where_omega_is_insensitive(monkeypatch):
    """SSOR-CG: where Young's beta at the start vector is positive and omega barely depends
    on lambda_min (random graph Laplacians; 2-D Poisson in a random order, which loses
    property A), Lanczos stops after one step and Young's beta is that of the start vector;
    the iterations stay within 1.2x of the best omega of a 0.02-spaced grid and within one of
    the 3-step estimate's (the test disabled). On the natural-order Poisson matrix beta < 0
    and the estimate runs its 3 steps."""
    import numfit.linalg._omega as om
    from reference_omega import ref_upper_term, ref_start
    grid = np.round(np.arange(1.0, 1.99, 0.02), 2)
    mats = {"graph_2500": _graph_laplacian(2500, 21), "graph_6400": _graph_laplacian(6400, 22),
            "poisson2d_60_permuted": _permuted(laplacian_2d(60), 23)}
    for name, A in mats.items():
        P = prepare(A)
        b = np.random.default_rng(3).standard_normal(P.n)
        w, info = estimate_omega(P, "ssor_cg")
        assert info["insensitive"] and info["steps"] == info["matvecs"] == 1, name
        v, _ = ref_start(P.diag, P.inv_diag, om._SEED, True, om.SSOR_SPREAD)
        assert info["beta"] == pytest.approx(ref_upper_term(A, v), rel=1e-12), name
        assert info["beta"] > 0.05 and info["lambda_min"] == info["lambda_used"] * 2, name
        nit = nf.ssor_cg(P, b, w).nit
        best = min(nf.ssor_cg(P, b, x).nit for x in grid)
        assert nit <= 1.2 * best, (name, w, nit, best)
        with monkeypatch.context() as mp:
            mp.setattr(om, "INSENSITIVE", -1.0)
            w4, info4 = estimate_omega(P, "ssor_cg")
        assert info4["steps"] >= 3 and not info4["insensitive"]
        assert nit <= nf.ssor_cg(P, b, w4).nit + 1, (name, w, w4)
    w, info = estimate_omega(laplacian_2d(60), "ssor_cg")
    assert not info["insensitive"] and info["steps"] >= 3 and info["beta"] <= 0
    assert info["beta_bounded"]


@pytest.mark.parametrize("scale", [1, 2])
def test_gallery_sor_auto_on_z_matrices_near_best_grid_omega(scale):
    """SOR with omega='auto' on the gallery's Z-matrices (off-diagonal entries <= 0: the
    Poisson matrices, the 9-point stencil, the graph Laplacian), where Lanczos starts from
    the smooth vector and 1 - lambda_min is the Jacobi spectral radius (Perron-Frobenius):
    within 1.25x of the best omega of a 0.02-spaced grid (n = 900-8000; the benchmark
    measures other sizes). Rotated anisotropic diffusion and elasticity (positive
    off-diagonal entries, random start) are not asserted: 1.3-1.4x on rotated anisotropic
    diffusion at these sizes (docs/sor.md)."""
    grid = np.round(np.arange(1.0, 1.99, 0.02), 2)
    for name, A in _gallery(scale, graph=True).items():
        P = prepare(sp.csr_array(A))
        if np.count_nonzero(P.data > 0) != P.n:
            continue
        b = np.random.default_rng(0).standard_normal(P.n)
        best = min(nf.sor(P, b, w, norm="b", maxiter=20_000).nit for w in grid)
        r = nf.sor(P, b, "auto", norm="b", maxiter=50_000)
        assert r.converged and r.nit <= 1.25 * best, (name, r.omega, r.nit, best)
        assert r.omega_info["matvecs"] == r.omega_info["steps"] == 12


def test_sor_start_vector_follows_the_sign_pattern():
    """SOR: the smooth start on a Z-matrix resolves lambda_min of the 3-D Poisson matrix in
    12 steps (a random start does not), so omega starts at Young's value; with a positive
    off-diagonal entry the random start is kept (omega starts below Young's value)."""
    pyamg = pytest.importorskip("pyamg")
    A = sp.csr_array(pyamg.gallery.poisson((14, 14, 14), format="csr"))
    w, info = estimate_omega(A, "sor", max_steps=12)
    lam = 1 - math.cos(math.pi / 15)                    # lambda_min of D^{-1/2} A D^{-1/2}
    assert info["lambda_min"] == pytest.approx(lam, rel=0.1)
    B = A.copy()
    B[0, 1] = B[1, 0] = 0.01                            # one positive pair: not a Z-matrix
    w2, info2 = estimate_omega(B, "sor", max_steps=12)
    assert info2["lambda_min"] > 1.5 * lam and w2 < w


# ------------------------------------------------------------------ compiled Lanczos kernel
def _kernel_sets():
    from numfit._core import _nb_sor, _sor as _cy_sor
    return [pytest.param(_cy_sor, id="cython"), pytest.param(_nb_sor, id="numba")]


def _spd_matrices():
    """Small SPD test matrices: Poisson, a random graph Laplacian, a random SPD matrix with
    positive off-diagonal entries, a tridiagonal one with a random diagonal, and Poisson
    scaled on both sides so that its diagonal spans 12 decades (the Lanczos kernel works
    with ``D^{-1/2} v``, whose entries then span 6)."""
    rng = np.random.default_rng(3)
    B = sp.random_array((80, 80), density=0.1, rng=rng, format="csr")
    sc = sp.diags_array(10.0 ** rng.uniform(-3.0, 3.0, 144))
    return {"poisson": laplacian_2d(12), "graph": _graph_laplacian(300, 5),
            "random_spd": sp.csr_array(B @ B.T + sp.diags_array(rng.uniform(0.5, 2, 80))),
            "tridiagonal": sp.diags_array([-np.ones(49), rng.uniform(2.0, 4.0, 50),
                                           -np.ones(49)], offsets=[-1, 0, 1], format="csr"),
            "scaled_poisson": sp.csr_array(sc @ sp.csr_array(laplacian_2d(12)) @ sc)}


def _run_kernel(K, P, v0, blocks, keep, upper=None):
    """lanczos_steps from the unit vector ``v0`` of ``S = D^{-1/2} A D^{-1/2}`` (its start
    ``q = D^{-1/2} v0``), in blocks of the given sizes; the kept vectors are the ``q``.
    ``upper``: an array for step 0's upper-triangle sum (none by default); a block that
    returns early ends the run."""
    n = P.n
    q, q_old, w = np.sqrt(P.inv_diag) * v0, np.zeros(n), np.empty(n)
    steps = sum(blocks)
    alphas, betas = np.full(steps, np.nan), np.full(steps, np.nan)
    kept = np.zeros((steps, n) if keep else (0, 1), dtype=np.float32)
    upper = np.empty(0) if upper is None else upper
    k = 0
    for size in blocks:
        k0 = k
        k = int(K.lanczos_steps(P.indptr, P.indices, P.data, P.diag, P.inv_diag, q, q_old, w,
                                alphas, betas, k, k + size, kept, P.diag_pos, upper))
        if k < k0 + size:
            break
    return k, alphas, betas, kept


@pytest.mark.parametrize("K", _kernel_sets())
@pytest.mark.parametrize("name", sorted(_spd_matrices()))
def test_lanczos_steps_kernel_against_numpy_reference(K, name):
    """lanczos_steps (D-inner product): the alphas and betas of the NumPy Lanczos loop on
    ``S`` up to rounding, the kept float32 vectors ``D^{-1/2} v`` of its vectors ``v``; a
    run in blocks of 1, 2, 4 steps equals one call bit for bit; the step count stops at an
    invariant subspace."""
    from reference_omega import ref_lanczos
    A = _spd_matrices()[name]
    P = prepare(sp.csr_array(A))
    v0 = np.random.default_rng(1).random(P.n) + 0.5
    v0 /= np.linalg.norm(v0)
    steps = 12
    k, al, be, kept = _run_kernel(K, P, v0, [steps], keep=True)
    assert k == steps                   # no invariant subspace within 12 steps
    ra, rb, rk = ref_lanczos(A, v0, k, keep=True)
    scale = np.abs(ra).max()
    np.testing.assert_allclose(al[:k], ra, rtol=1e-12, atol=1e-13 * scale)
    np.testing.assert_allclose(be[:k], rb, rtol=1e-10, atol=1e-12 * scale)
    ds = np.sqrt(P.inv_diag)         # kept D^{-1/2} v: back to v, entry by entry
    np.testing.assert_allclose(kept[:k] / ds, rk, rtol=1e-5, atol=1e-6)
    for blocks in ([1] * steps, [2] * (steps // 2), [4, 4, 2, 2]):
        k2, al2, be2, kept2 = _run_kernel(K, P, v0, blocks, keep=True)
        assert k2 == k
        assert np.array_equal(al2[:k], al[:k]) and np.array_equal(be2[:k], be[:k])
        assert np.array_equal(kept2[:k], kept[:k])
    k3, al3, be3, _ = _run_kernel(K, P, v0, [steps], keep=False)      # no kept vectors
    assert k3 == k and np.array_equal(al3[:k], al[:k]) and np.array_equal(be3[:k], be[:k])


def test_lanczos_kernels_twins_agree():
    """The Cython kernels and their Numba twins: the same operations in the same order, the
    same Lanczos coefficients, kept vectors, start vectors, tridiagonal eigenpairs, Ritz
    vectors and beta terms bit for bit."""
    from numfit._core import _nb_sor, _sor as _cy_sor
    for A in _spd_matrices().values():
        P = prepare(sp.csr_array(A))
        v0 = np.random.default_rng(4).random(P.n) + 0.5
        v0 /= np.linalg.norm(v0)
        k, al, be, kept = _run_kernel(_cy_sor, P, v0, [3, 5], keep=True)
        k2, al2, be2, kept2 = _run_kernel(_nb_sor, P, v0, [3, 5], keep=True)
        assert k == k2 and np.array_equal(kept2, kept)
        assert np.array_equal(al2[:k], al[:k]) and np.array_equal(be2[:k], be[:k])
        for lim in (math.inf, 0.25 * (1.0 + 1e-12), -1.0):      # Schur's sums: all, some
            ups = [np.array([np.nan, lim]), np.array([np.nan, lim])]
            runs = [_run_kernel(Km, P, v0, [4], keep=False, upper=u)
                    for Km, u in zip((_cy_sor, _nb_sor), ups)]
            assert np.array_equal(ups[0], ups[1]) and runs[0][0] == runs[1][0]
        assert np.array_equal(runs[0][1], runs[1][1], equal_nan=True)
        args = (P.indptr, P.indices, P.data, P.diag_pos, P.inv_diag, v0)
        assert _nb_sor.upper_norm2(*args) == _cy_sor.upper_norm2(*args)
        s = np.random.default_rng(5).standard_normal(8)
        out = [(np.empty(P.n), np.empty(8), np.empty(40)) for _ in range(2)]
        res = [(Km.ritz_scaled(kept, s, k, P.diag, xs),
                Km.tridiag_smallest(al, be, k, sv, wk))
               for Km, (xs, sv, wk) in zip((_cy_sor, _nb_sor), out)]
        assert res[0] == res[1]
        assert np.array_equal(out[0][0], out[1][0]) and np.array_equal(out[0][1], out[1][1])
        for smooth in (True, False):
            out = [np.empty(P.n) for _ in range(2)]
            for Km, q in zip((_cy_sor, _nb_sor), out):
                Km.lanczos_start(P.diag, P.inv_diag, 0x5EED, smooth, 0.3, q)
            assert np.array_equal(out[0], out[1])


@pytest.mark.parametrize("K", _kernel_sets())
@pytest.mark.parametrize("name", sorted(_spd_matrices()))
def test_lanczos_steps_upper_sum_at_step_0(K, name):
    """With ``upper``, step 0 also returns ``sum_i inv_diag[i] (U q)_i^2`` for the start
    vector: upper_norm2's value bit for bit (the same sums in the same order) and the NumPy
    reference's Young's beta to rounding; the alphas, betas and kept vectors are those of
    the run without it, bit for bit. The block returns after step 0 exactly when that beta is
    positive (graph Laplacian, random SPD matrix) and runs on otherwise (Poisson). With a
    second entry, step 0 also stores the bound of Schur's test (the NumPy reference's), and
    where that is within the limit passed in, the block keeps no more vectors."""
    from reference_omega import ref_schur_bound, ref_upper_term
    A = _spd_matrices()[name]
    P = prepare(sp.csr_array(A))
    v0 = np.random.default_rng(1).random(P.n) + 0.5
    v0 /= np.linalg.norm(v0)
    k, al, be, kept = _run_kernel(K, P, v0, [6], keep=True)
    upper = np.array([np.nan, np.inf])
    ku, alu, beu, keptu = _run_kernel(K, P, v0, [6], keep=True, upper=upper)
    q0 = np.sqrt(P.inv_diag) * v0
    u = K.upper_norm2(P.indptr, P.indices, P.data, P.diag_pos, P.inv_diag, q0)
    assert upper[0] == u
    # Schur's bound on ||D^{-1/2} U D^{-1/2}||^2 in upper[1] (1/4 on Poisson; limit inf: all
    # rows); with the estimate's limit the sums stop early where the bound exceeds it (a
    # partial product above the limit), with a negative one they do not run; a one-entry
    # upper gets the same run without them
    bound = ref_schur_bound(A)
    assert upper[1] == pytest.approx(bound, rel=1e-13)
    lim = 0.25 * (1.0 + 1e-12)
    runs = {}
    for key, up in (("lim", np.array([np.nan, lim])), ("neg", np.array([np.nan, -1.0])),
                    ("one", np.full(1, np.nan))):
        k1, al1, be1, kept1 = _run_kernel(K, P, v0, [6], keep=True, upper=up)
        assert k1 == ku and up[0] == upper[0]
        assert np.array_equal(al1[:ku], alu[:ku]) and np.array_equal(be1[:ku], beu[:ku])
        full = up.size == 1 or up[1] > lim             # Schur's test failed or did not run
        assert np.array_equal(kept1[:ku] if full else kept1[:1], kept[:ku] if full else kept[:1])
        runs[key] = up
    assert runs["neg"][1] == np.inf
    if bound <= lim:
        assert runs["lim"][1] == upper[1]
    else:
        assert lim < runs["lim"][1] <= upper[1]
    if name == "poisson":
        assert upper[1] == pytest.approx(0.25, rel=1e-15)
    assert upper[0] - 0.25 == pytest.approx(ref_upper_term(A, v0), rel=1e-12, abs=1e-14)
    assert ku == (1 if upper[0] > 0.25 else k)
    assert np.array_equal(alu[:ku], al[:ku]) and np.array_equal(beu[:ku], be[:ku])
    # the bound is within the limit (inf): no kept vectors after step 0's
    assert np.array_equal(keptu[:1], kept[:1]) and not np.any(keptu[1:])
    if name in ("graph", "random_spd"):
        assert ku == 1
    if name == "poisson":
        assert ku == 6
    # only a block that starts at step 0 touches upper
    upper[0] = -1.0
    q, q_old, w = q0.copy(), np.zeros(P.n), np.empty(P.n)
    al2, be2 = np.empty(6), np.empty(6)
    k2 = K.lanczos_steps(P.indptr, P.indices, P.data, P.diag, P.inv_diag, q, q_old, w,
                         al2, be2, 0, 2, np.zeros((0, 1), dtype=np.float32), P.diag_pos,
                         np.empty(0))
    K.lanczos_steps(P.indptr, P.indices, P.data, P.diag, P.inv_diag, q, q_old, w, al2, be2,
                    k2, k2 + 1, np.zeros((0, 1), dtype=np.float32), P.diag_pos, upper)
    assert upper[0] == -1.0


@pytest.mark.parametrize("K", _kernel_sets())
def test_lanczos_steps_stops_at_an_invariant_subspace(K):
    P = prepare(sp.diags_array(np.array([1.0, 2.0, 2.0, 1.0]), format="csr"))
    v0 = np.array([1.0, 0.0, 0.0, 1.0]) / math.sqrt(2.0)      # an eigenvector of S = I
    k, al, be, _ = _run_kernel(K, P, v0, [5], keep=False)
    assert k == 1 and al[0] == pytest.approx(1.0) and be[0] <= 1e-14
    # an unequal diagonal: S = [[1, 1/2], [1/2, 1]], v0 its eigenvector of 3/2
    P = prepare(sp.csr_array(np.array([[1.0, 1.0], [1.0, 4.0]])))
    v0 = np.array([1.0, 1.0]) / math.sqrt(2.0)
    k, al, be, _ = _run_kernel(K, P, v0, [5], keep=False)
    assert k == 1 and al[0] == pytest.approx(1.5, rel=1e-15) and be[0] <= 1e-14


@pytest.mark.parametrize("K", _kernel_sets())
@pytest.mark.parametrize("name", sorted(_spd_matrices()))
def test_upper_norm2_kernel_against_numpy_reference(K, name):
    from reference_omega import ref_upper_term
    A = _spd_matrices()[name]
    P = prepare(sp.csr_array(A))
    x = np.random.default_rng(2).standard_normal(P.n)
    ds = np.sqrt(P.inv_diag)
    got = K.upper_norm2(P.indptr, P.indices, P.data, P.diag_pos, P.inv_diag, ds * x) / \
        float(x @ x) - 0.25
    assert got == pytest.approx(ref_upper_term(A, x), rel=1e-12, abs=1e-14)


def _tridiagonals():
    """Symmetric tridiagonals (alphas, betas) for the eigensolver: random, Lanczos-like (a
    small smallest eigenvalue), graded with tiny off-diagonals, Wilkinson's W+ (close pairs),
    reducible (zero off-diagonals), 1 x 1, and Lanczos matrices of the test matrices."""
    rng = np.random.default_rng(11)
    out = [(np.array([2.5]), np.array([0.0])), (np.array([3.0, 1.0, 2.0]), np.zeros(2)),
           (np.array([1.0, 1.0]), np.array([1e-300])), (np.zeros(4), np.zeros(3))]
    for k in (2, 3, 4, 5, 8, 12, 21, 64, 150):
        out.append((rng.standard_normal(k), rng.standard_normal(k)))
        out.append((1 + 0.5 * rng.standard_normal(k), np.abs(0.4 + 0.1 * rng.standard_normal(k))))
        out.append((rng.random(k) * 10.0 ** rng.integers(-6, 2, size=k),
                    rng.random(k) * 10.0 ** -rng.integers(0, 12, size=k)))
        out.append((np.abs(np.arange(k) - (k - 1) / 2), np.ones(k)))
    from reference_omega import ref_lanczos
    for A in _spd_matrices().values():
        v0 = np.random.default_rng(1).random(A.shape[0]) + 0.5
        al, be, _ = ref_lanczos(A, v0 / np.linalg.norm(v0), 12)
        out += [(al[:k], be[:k]) for k in (1, 2, 4, 12)]
    return out


@pytest.mark.parametrize("K", _kernel_sets())
def test_tridiag_smallest_against_lapack(K):
    """tridiag_smallest (bisection and inverse iteration) against LAPACK's eigh
    (tests/reference_omega.py): the eigenvalue to 4.5 eps ||T||_1 (each to ~2 eps), a
    unit vector with s[0] >= 0, residual ||T s - lambda s|| <= 1e-14 ||T||_1, and the
    reference's vector where the gap to the next eigenvalue is not tiny."""
    from reference_omega import ref_smallest
    for al, be in _tridiagonals():
        al, be = np.ascontiguousarray(al, dtype=float), np.ascontiguousarray(be, dtype=float)
        k = len(al)
        s, work = np.full(k, np.nan), np.full(5 * k, np.nan)
        lam = K.tridiag_smallest(al, be, k, s, work)
        rl, rs = ref_smallest(al, be)
        T = np.diag(al) + np.diag(be[:k - 1], 1) + np.diag(be[:k - 1], -1)
        tn = max(np.abs(T).sum(axis=1).max(), 1e-300)
        tag = (k, al[:3], be[:3])
        assert abs(lam - rl) <= 1e-15 * tn, tag
        assert np.linalg.norm(s) == pytest.approx(1.0, rel=1e-14) and s[0] >= 0, tag
        assert np.linalg.norm(T @ s - lam * s) <= 1e-14 * tn, tag
        th = np.linalg.eigvalsh(T)
        if k > 1 and th[1] - th[0] > 1e-6 * tn:
            assert abs(s @ rs) == pytest.approx(1.0, abs=1e-10), tag
    # a 2 x 2 in closed form: [[a, b], [b, c]]
    s, work = np.empty(2), np.empty(10)
    lam = K.tridiag_smallest(np.array([2.0, 1.0]), np.array([0.5]), 2, s, work)
    assert lam == pytest.approx(1.5 - math.sqrt(0.5), rel=1e-15)
    # only the first k entries are read and written
    al, be = np.array([4.0, 1.0, 0.0, -7.0]), np.array([0.5, 0.5, 9.0])
    s = np.array([0.0, 0.0, 42.0, 42.0])
    lam = K.tridiag_smallest(al, be, 2, s, np.empty(10))
    assert lam == pytest.approx(2.5 - math.sqrt(2.5), rel=1e-15) and list(s[2:]) == [42.0] * 2


@pytest.mark.parametrize("K", _kernel_sets())
def test_ritz_scaled_against_numpy(K):
    """ritz_scaled: ``xs = s @ keep`` with float64 sums of the float32 rows (``D^{-1/2}``
    times the Ritz vector ``x``), and ``x'x = xs' D xs``; rows of ``keep`` past ``k`` are not
    read."""
    rng = np.random.default_rng(7)
    n, k = 1001, 5
    keep = rng.standard_normal((8, n)).astype(np.float32)
    keep[k:] = np.nan
    s, d = rng.standard_normal(k), rng.random(n) * 10.0 + 0.5
    xs = np.empty(n)
    xx = K.ritz_scaled(keep, s, k, d, xs)
    xq = s @ keep[:k].astype(np.float64)
    np.testing.assert_allclose(xs, xq, rtol=1e-14, atol=1e-15)
    x = np.sqrt(d) * xq
    assert xx == pytest.approx(float(x @ x), rel=1e-13)


def _reference_matrices():
    mats = {"poisson2d_40": laplacian_2d(40), "graph_1600": _graph_laplacian(1600, 3),
            "eye": sp.eye_array(5, format="csr") * 3.0}
    try:
        mats.update({k: v for k, v in _gallery().items() if k != "poisson2d"})
    except pytest.skip.Exception:
        pass
    return mats


@pytest.mark.parametrize("K", _kernel_sets())
def test_estimate_omega_equals_the_numpy_lanczos_loop(K, monkeypatch):
    """estimate_omega with the compiled Lanczos blocks: omega, lambda_min, the residual and
    Young's beta of the NumPy loop (tests/reference_omega.py) to 1e-10 relative, the same
    steps, products and convergence, for both solvers, default and large budgets, on both
    kernel sets. Runs of more than 64 steps (here only SOR on rotated anisotropic diffusion
    with budget 100: 176 steps from the random start) amplify rounding (no
    reorthogonalisation): there omega to 1e-6 and lambda_min to 1e-5, the level at which the
    Python loop that the kernel replaced also differed from this reference (2e-8, 4e-7)."""
    from numfit.linalg import _kernels
    from reference_omega import ref_estimate_omega
    monkeypatch.setattr(_kernels, "kernels", K)
    for name, A in _reference_matrices().items():
        for solver in ("sor", "ssor_cg"):
            for kw in ({}, {"max_steps": 12}, {"budget": 100.0, "max_steps": 400}):
                w, info = estimate_omega(A, solver, **kw)
                rw, ref = ref_estimate_omega(A, solver, **kw)
                tag = (name, solver, kw)
                for key in ("steps", "matvecs", "converged"):
                    assert info[key] == ref[key], tag
                short = info["steps"] <= 64
                tol_w, tol_lam, tol_res = (1e-10, 1e-10, 1e-8) if short else (1e-6, 1e-5, 0.1)
                assert w == pytest.approx(rw, rel=tol_w), tag
                for key in ("lambda_min", "lambda_used", "predicted_iterations"):
                    assert info[key] == pytest.approx(ref[key], rel=tol_lam), tag
                assert info["ritz_residual"] == pytest.approx(ref["ritz_residual"],
                                                              rel=tol_res, abs=1e-14), tag
                if solver == "ssor_cg":
                    assert info["beta"] == pytest.approx(ref["beta"], rel=1e-10,
                                                         abs=1e-12), tag
                else:
                    assert info["beta"] is None and ref["beta"] is None


@pytest.mark.parametrize("K", _kernel_sets())
def test_lanczos_start_against_numpy_reference(K):
    """lanczos_start: SplitMix64's published first outputs (seed 0: 0xE220A8397B1DCDAF,
    0x6E789E6AA1B965F4), the NumPy draw of tests/reference_omega.py for both starts to
    rounding (the start ``q = D^{-1/2} v`` of ``S``'s unit start ``v``): ``q'Dq = 1``,
    positive for the smooth start, the same vector for the same seed and another for another
    seed."""
    from reference_omega import ref_start, ref_unit_hash
    assert np.array_equal(ref_unit_hash(0, 2), np.array([0xE220A8397B1DCDAF >> 11,
                                                         0x6E789E6AA1B965F4 >> 11]) * 2.0 ** -53)
    P = prepare(_graph_laplacian(501, 3))
    for smooth, spread in ((True, 1.0), (True, 0.3), (False, 1.0)):
        q = np.empty(P.n)
        K.lanczos_start(P.diag, P.inv_diag, 0x5EED, smooth, spread, q)
        rv, rds = ref_start(P.diag, P.inv_diag, 0x5EED, smooth, spread)
        np.testing.assert_allclose(q, rds * rv, rtol=1e-14, atol=1e-16)
        assert float(q @ (P.diag * q)) == pytest.approx(1.0, rel=1e-14)
        assert (q > 0).all() if smooth else ((q > 0).any() and (q < 0).any())
        if smooth:         # q is proportional to e = 1 + spread (u - 1/2), within that band
            e = q / q.mean()
            assert e.max() / e.min() <= (1 + spread / 2) / (1 - spread / 2)
            assert e.max() / e.min() >= 0.95 * (1 + spread / 2) / (1 - spread / 2)
        q2 = np.empty(P.n)
        K.lanczos_start(P.diag, P.inv_diag, 0x5EED, smooth, spread, q2)
        assert np.array_equal(q2, q)
        K.lanczos_start(P.diag, P.inv_diag, 0x5EEE, smooth, spread, q2)
        assert np.abs(q2 - q).max() > 0.01 / math.sqrt(P.n) * rds.min()
    # spread 1 and the random start ignore nothing: 1/2 + u exactly
    q, q1 = np.empty(P.n), np.empty(P.n)
    K.lanczos_start(P.diag, P.inv_diag, 0x5EED, True, 1.0, q)
    rv, rds = ref_start(P.diag, P.inv_diag, 0x5EED, True)
    u = ref_unit_hash(0x5EED, P.n)
    np.testing.assert_allclose(q / q.max(), (0.5 + u) / (0.5 + u).max(), rtol=1e-14)
    K.lanczos_start(P.diag, P.inv_diag, 0x5EED, False, 0.3, q1)
    K.lanczos_start(P.diag, P.inv_diag, 0x5EED, False, 1.0, q)
    assert np.array_equal(q, q1)


def test_estimate_caches_give_the_uncached_result():
    """The per-matrix cache (``PreparedMatrix.is_z_matrix()``) changes nothing: a second
    estimate on the same PreparedMatrix, one on a new PreparedMatrix and one with the cache
    emptied return the same omega and info (all but the time)."""
    A = _graph_laplacian(900, 2)
    B = sp.csr_array(laplacian_2d(30)) + sp.csr_array(([1.2, 1.2], ([0, 1], [1, 0])),
                                                      shape=(900, 900))
    for M in (A, B):
        P = prepare(M)
        for solver in ("sor", "ssor_cg"):
            runs = [estimate_omega(P, solver), estimate_omega(P, solver),
                    estimate_omega(prepare(M), solver)]
            P._z_matrix = None
            runs.append(estimate_omega(P, solver))
            for w, info in runs[1:]:
                assert w == runs[0][0]
                assert {k: x for k, x in info.items() if k != "time"} == \
                    {k: x for k, x in runs[0][1].items() if k != "time"}
            if solver == "sor":                  # B: a positive off-diagonal pair
                assert P.is_z_matrix() is (M is A)
