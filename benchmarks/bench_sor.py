"""Benchmarks of numfit.linalg (SOR, SSOR-CG, bandit-tuned relaxation) against the peers.

Paper: Khodak, Chow, Balcan, Talwalkar, *Learning to Relax: Setting Solver Parameters Across a
Sequence of Linear System Instances*, ICLR 2024 (arXiv:2310.02246); setups, goals and results in
docs/sor.md (Reproduced numbers). "Reference" values are numfit's reference values: an
independent reproduction of the paper's experiments (not numbers printed in the paper) and
sweep timings measured on a current x86-64 server core. Goals are reported, never asserted;
a test fails only when numfit is functionally wrong. ``NUMFIT_BENCH_QUICK=1`` selects smaller
sizes.

A. Sweep throughput (``test_sweep_throughput``): 2-D Poisson (5-point, m x m), n = 10^4, 10^5,
   10^6 (quick: 10^4, 10^5). numfit ``sor_sweep`` on a :class:`PreparedMatrix`
   (``check_finite=False``: the bare kernel) against PyAMG's compiled
   ``pyamg.relaxation.relaxation.sor`` (forward, the same omega, the same number of sweeps),
   timed in alternating rounds (``timing.paired``). Reported: G nonzeros/s and
   pyamg_time / numfit_time (goal >= 1). Also a full ``nf.sor`` iteration (fused residual and
   stopping test) against a PyAMG sweep plus ``A @ x``. Functional check: identical iterates.
B. Shifted-Laplacian experiment (``test_shifted_laplacian``; paper §2-3, Figs. 1, 2, 5):
   T = 5000, 3 seeds per variance (quick: T = 1000, 1 seed). Totals of the fixed-omega
   baselines, Tsallis-INF (IW and RV), BinnedTsallisINF, ChebCB, instance-optimal and Young's
   omega*(c); goals: Tsallis-INF last-1000 mean within 10 % of the best fixed omega (3-seed
   mean), ChebCB last-1000 within 6 % of instance-optimal; report-only: total-based ratios and
   RV with d = 10 on [1, 1.9].
C. Heat equation (``test_heat_wall_time``; paper App. G.2): ``HeatEquation2D(nx=200)``
   (n = 39,601; quick: nx = 100), warm-started steps (full: the first 1000 steps = one period
   of kappa; quick: 100), rtol 1e-8 relative to ||b||. Wall time of the solve calls of SciPy
   ``cg``, ``ssor_cg`` omega = 1 and 1.5, and ``RelaxationTuner`` with Tsallis-INF / ChebCB over
   the paper grid (SSOR-CG); ratios cg_time / tuned_time and ssor1_time / tuned_time.
D. SSOR-CG in Eisenstat's form (``test_eisenstat``; Eisenstat, SIAM J. Sci. Stat. Comput. 2(1),
   1981; issue 18 item 1) on matrices numfit did not write, PyAMG's gallery: 2-D Poisson,
   3-D Poisson, rotated anisotropic diffusion (epsilon 0.01, theta pi/8, FE stencil), 2-D
   linear elasticity, a 9-point stencil, and a random graph Laplacian (+0.01 I). Full:
   n ~ 0.6-1.3e5 (quick: ~1-2e4). (a) time per PCG iteration of the plain form
   (``eisenstat=False``: two triangular solves and a product) over Eisenstat's form, the same
   fixed number of iterations at omega = 1 and 1.5, the four calls timed in turn for at least
   4 s (min of each); goal >= 1.8. (b) whole
   solves to rtol 1e-8 (||b||) from x0 = 0, b standard normal: SSOR-CG (Eisenstat) at
   omega = 1 and at the best omega of a coarse grid, against SciPy ``cg`` and CG preconditioned by PyAMG smoothed
   aggregation (``smoothed_aggregation_solver(A).solve(..., accel="cg")``, setup included and
   reported separately); ratios peer_time / numfit_time.
E. ``omega="auto"`` (``test_omega_auto``; issue 18 item 2) on the gallery of D at its quick-mode
   sizes (n ~ 1e4, both modes): SOR (``norm="b"``,
   rtol 1e-8) and SSOR-CG iterations at the estimated omega over those at the best omega of a
   0.02-spaced grid on [1, 1.98] (goal <= 1.2), and the Lanczos time over the time of a solve
   at the final omega (alternating rounds, min of 5; goal <= 0.1; SOR: the 12-step estimate
   alone, its adaptation during the solve is not counted there),
   also as products with A (Lanczos steps, plus one for SSOR-CG's beta at a Ritz vector; none
   where SSOR-CG stops after one step, whose product gives beta) over iterations.
   Peers in the same run: SciPy ``cg`` and PyAMG smoothed aggregation CG (setup + solve)
   against SSOR-CG with omega="auto" (estimate + solve).
F. ``RelaxationTuner(policy="auto")`` (``test_policy_auto``; issue 18 item 3): the issue's two
   sequences, 1500 i.i.d. anisotropic systems (``anisotropic_sequence``, 32 x 12 grid,
   epsilon log-uniform on [0.01, 100]; quick: the first 300) and 200 slowly rotating
   anisotropic systems (``rotated_anisotropic_sequence``, epsilon 0.05, theta from 0 to pi/2;
   24 x 24, quick 20 x 20), SOR to rtol 1e-8 on the paper grid. Reported for "auto",
   Tsallis-INF and ChebCB: last-20 % and total iterations over those of the best fixed grid
   omega in hindsight (every grid omega solved on every system); goals for "auto": <= 1.10
   and <= 1.15. Wall time of the tuned solves (auto: warm-start Lanczos included) against
   SciPy ``cg`` and PyAMG smoothed aggregation CG (setup + solve per system) on the same
   systems. The tests check the bands on other sequences (tests/test_tuner_auto.py).
"""
import os
import time

import numpy as np
import pytest

import numfit as nf
from numfit.linalg import (HeatEquation2D, RelaxationTuner, TsallisINF, laplacian_2d, prepare,
                           sor_sweep)
from numfit.linalg._experiments import (fixed_costs, shifted_laplacian_experiment,
                                        summarize)
from numfit.linalg._omega import estimate_omega
from numfit.linalg._sequences import _graph_laplacian

QUICK = os.environ.get("NUMFIT_BENCH_QUICK", "0") == "1"

# --------------------------------------------------------------------------- A. sweeps
SIZES = [100, 316] if QUICK else [100, 316, 1000]


@pytest.mark.parametrize("m", SIZES)
def test_sweep_throughput(m, benchmark, timing, report):
    pyamg_relax = pytest.importorskip("pyamg.relaxation.relaxation")
    A = laplacian_2d(m)
    P = prepare(A)
    n = m * m
    b = np.random.default_rng(0).standard_normal(n)
    omega = 1.5
    iters = max(1, int(2e7 // P.nnz))        # ~20M nonzeros per call
    x_nf = np.zeros(n)
    x_pa = np.zeros(n)
    sor_sweep(P, x_nf, b, omega, iterations=3, check_finite=False)
    pyamg_relax.sor(A, x_pa, b, omega, iterations=3, sweep="forward")
    np.testing.assert_allclose(x_nf, x_pa, rtol=1e-12, atol=1e-12)   # same iterates

    def run_nf():
        sor_sweep(P, x_nf, b, omega, iterations=iters, check_finite=False)

    def run_pa():
        pyamg_relax.sor(A, x_pa, b, omega, iterations=iters, sweep="forward")

    timing.numfit(benchmark, run_nf)
    t_nf, t_pa = timing.paired(run_nf, run_pa)
    g = f"A sweep: Poisson n={n}"
    report.add(g, "numfit sweep throughput", P.nnz * iters / t_nf / 1e9, unit="G nnz/s",
               note=f"{t_nf / iters * 1e3:.3f} ms/sweep")
    report.add(g, "PyAMG sweep throughput", P.nnz * iters / t_pa / 1e9, unit="G nnz/s",
               note=f"{t_pa / iters * 1e3:.3f} ms/sweep "
                    "(reference: 0.10 ms at 1e4, 10.7 ms at 1e6)")
    report.ratio(g, "pyamg_time / numfit_time (sweep)", t_pa, t_nf, goal=1.0,
                 note="alarm below 0.9")

    # a full solver iteration: fused residual + stopping test vs PyAMG sweep + A@x
    k = max(2, iters // 2)
    bz = b.copy()

    def run_nf_sor():
        return nf.sor(P, bz, omega, rtol=0.0, maxiter=k)

    def run_pa_sor():
        x = np.zeros(n)
        for _ in range(k):
            pyamg_relax.sor(A, x, bz, omega, iterations=1, sweep="forward")
            np.linalg.norm(bz - A @ x)
        return x

    r = run_nf_sor()
    assert r.nit == k and r.status == 1
    np.testing.assert_allclose(r.x, run_pa_sor(), rtol=1e-10, atol=1e-12)
    t_a, t_b = timing.with_rounds(3 if QUICK else 5).paired(run_nf_sor, run_pa_sor)
    report.ratio(g, "(PyAMG sweep + A@x) / nf.sor iteration", t_b, t_a, goal=1.0,
                 note=f"nf.sor {t_a / k * 1e3:.3f} ms/iteration "
                      "(reference: 1.56x vs sweep+SpMV at n=1e6)")


# --------------------------------------------------------------------------- B. experiment
T_EXP = 1000 if QUICK else 5000
SEEDS = [0] if QUICK else [0, 1, 2]
REF_71 = {   # reference totals of the paper's section 2-3 experiment (mean of 3 seeds)
    "low": {"omega=1": 1_359_041, "best fixed": 296_303, "tsallis": 335_922,
            "tsallis_rv": 327_705, "binned": 327_124, "chebcb": 232_891,
            "instance_optimal": 216_254, "young": 209_065},
    "high": {"omega=1": 3_070_783, "best fixed": 516_717, "tsallis": 607_510,
             "tsallis_rv": 594_142, "binned": 525_294, "chebcb": 332_299,
             "instance_optimal": 294_439, "young": 282_275},
}
REF_FIXED = {"low": {1.0: 1_359_041, 1.2: 894_434, 1.4: 552_496, 1.6: 317_065, 1.8: 429_584},
              "high": {1.0: 3_070_783, 1.2: 2_037_265, 1.4: 1_290_098, 1.6: 758_726,
                       1.8: 516_717}}


def _rv10_total(res, seed):
    """Tsallis-INF, RV estimator, d = 10 on [1, 1.9], played on the tabulated costs."""
    grid = np.linspace(1.0, 1.9, 10)
    pol = TsallisINF(grid, estimator="rv", rng=seed + 2000)
    fixed, omegas = res["fixed"], res["omegas"]
    costs = np.empty(fixed.shape[0])
    for t in range(fixed.shape[0]):
        w = pol.select()
        c = fixed[t, int(np.argmin(np.abs(omegas - w)))]
        pol.update(c)
        costs[t] = c
    return costs


@pytest.mark.parametrize("variance", ["low", "high"])
def test_shifted_laplacian(variance, report):
    g = f"B shifted Laplacian ({variance}, T={T_EXP}, {len(SEEDS)} seed(s))"
    sums = {}
    last = {}
    ratios = {"ts_total": [], "ts_last": [], "cb_last": [], "rv10": []}
    t0 = time.perf_counter()
    for seed in SEEDS:
        res = shifted_laplacian_experiment(T_EXP, variance, seed=seed)
        s = summarize(res, last=1000)
        rows = s["rows"]
        rv10 = _rv10_total(res, seed)
        for key, (tot, lm) in rows.items():
            sums[key] = sums.get(key, 0.0) + tot / len(SEEDS)
            last[key] = last.get(key, 0.0) + lm / len(SEEDS)
        bf = rows["best fixed"]
        ratios["ts_total"].append(rows["tsallis"][0] / bf[0])
        ratios["ts_last"].append(rows["tsallis"][1] / bf[1])
        ratios["cb_last"].append(rows["chebcb"][1] / rows["instance_optimal"][1])
        ratios["rv10"].append(rv10.sum() / bf[0])
        # functional: the ordering of the reference reproduction
        assert rows["omega=1"][0] > bf[0] > rows["chebcb"][0] > rows["instance_optimal"][0]
        if not QUICK:   # fixed-omega totals within +-3 % of the reference table, per seed
            for w, total in REF_FIXED[variance].items():
                j = int(np.argmin(np.abs(res["omegas"] - w)))
                assert res["fixed"][:, j].sum() == pytest.approx(total, rel=0.03)
        report.add(g, f"seed {seed}: best fixed omega", s["best_omega"])
    scale = T_EXP / 5000
    for key in ("omega=1", "best fixed", "tsallis", "tsallis_rv", "binned", "chebcb",
                "instance_optimal", "young"):
        ref = REF_71[variance][key]
        report.add(g, f"total iterations: {key}", sums[key],
                   note=f"last-1000 mean {last[key]:.1f}; reference {ref:,}"
                        + (f" (x{scale:g} = {ref * scale:,.0f})" if scale != 1 else ""))
    report.add(g, "Tsallis-INF last-1000 / best fixed (mean over seeds)",
               float(np.mean(ratios["ts_last"])), unit="x", goal=1.10,
               higher_is_better=False, note="reference reproduction 1.050 (low) / 1.052 (high)")
    report.add(g, "ChebCB last-1000 / instance-optimal (mean over seeds)",
               float(np.mean(ratios["cb_last"])), unit="x", goal=1.06, higher_is_better=False,
               note=f"worst seed {max(ratios['cb_last']):.3f}; reference 1.021 / 1.047 "
                    "(worst seed 1.058)")
    report.add(g, "Tsallis-INF total / best fixed", float(np.mean(ratios["ts_total"])),
               unit="x", note="report only; reference 1.134 (low) / 1.176 (high)")
    report.add(g, "Tsallis-INF RV d=10 on [1,1.9] total / best fixed",
               float(np.mean(ratios["rv10"])), unit="x",
               note="report only; reference 1.096 (low) / 1.086 (high)")
    report.add(g, "wall time", time.perf_counter() - t0, unit="s")


# --------------------------------------------------------------------------- C. heat equation
NX = 100 if QUICK else 200
STEPS = 100 if QUICK else 1000


def _heat_run(method):
    """Total solve wall time and PCG iterations over STEPS steps for one method."""
    from scipy.sparse.linalg import cg
    seq = HeatEquation2D(NX, t_end=STEPS * 1e-3)
    tuner = None
    if method in ("tsallis", "chebcb"):
        tuner = RelaxationTuner(method, solver="ssor_cg", grid="paper", rng=0,
                                context_range=(0.0, 10.0), horizon=STEPS,
                                solver_options={"check_symmetry": False})
    t_solve, iters = 0.0, 0
    for sysm in seq:
        if method == "cg":
            count = [0]

            def cb(_xk):
                count[0] += 1
            t0 = time.perf_counter()
            x, info = cg(sysm.A, sysm.b, x0=sysm.x0, rtol=1e-8, maxiter=10_000, callback=cb)
            t_solve += time.perf_counter() - t0
            assert info == 0
            iters += count[0]
        elif tuner is not None:
            t0 = time.perf_counter()
            r = tuner.solve(sysm.A, sysm.b, context=sysm.context, x0=sysm.x0)
            t_solve += time.perf_counter() - t0
            assert r.converged
            x, iters = r.x, iters + r.nit
        else:
            t0 = time.perf_counter()
            r = nf.ssor_cg(sysm.A, sysm.b, omega=method, x0=sysm.x0, check_symmetry=False)
            t_solve += time.perf_counter() - t0
            assert r.converged
            x, iters = r.x, iters + r.nit
        seq.advance(x)
    return t_solve, iters


def test_heat_wall_time(report):
    g = f"C heat equation nx={NX} (n={(NX - 1) ** 2}), {STEPS} steps"
    res = {m: _heat_run(m) for m in ("cg", 1.0, 1.5, "tsallis", "chebcb")}
    for m, (t, it) in res.items():
        label = f"ssor_cg omega={m}" if isinstance(m, float) else (
            "SciPy cg" if m == "cg" else f"tuned ssor_cg ({m})")
        report.add(g, f"{label}: solve wall time", t, unit="s", note=f"{it:,} iterations")
    for m in ("tsallis", "chebcb"):
        report.ratio(g, f"cg_time / tuned({m})_time", res["cg"][0], res[m][0], goal=1.0,
                     note="numfit's goal: below SciPy cg for n >= 39,601")
        report.ratio(g, f"ssor1_time / tuned({m})_time", res[1.0][0], res[m][0],
                     note="paper headline (its setting): 2.4x Tsallis, 3.5x ChebCB")
        report.ratio(g, f"ssor1_iters / tuned({m})_iters", res[1.0][1], res[m][1])


# --------------------------------------------------------------------------- D. Eisenstat
GALLERY_SCALE = 1 if QUICK else 3


def gallery(scale=GALLERY_SCALE):
    """PyAMG gallery matrices (plus a random graph Laplacian), as CSR arrays."""
    import scipy.sparse as sp
    from pyamg.gallery import (diffusion_stencil_2d, linear_elasticity, poisson,
                               stencil_grid)
    m = 120 * scale
    out = {
        "poisson2d": poisson((m, m), format="csr"),
        "poisson3d": poisson((22 * scale, 22 * scale, 22 * scale), format="csr"),
        "rotated_aniso": stencil_grid(diffusion_stencil_2d(epsilon=0.01, theta=np.pi / 8,
                                                           type="FE"), (m, m), format="csr"),
        "elasticity": linear_elasticity((m // 2, m // 2), format="csr")[0],
        "nine_point": stencil_grid(np.array([[-1.0, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
                                   (m, m), format="csr"),
    }
    out["graph_laplacian"] = _graph_laplacian(m * m, 5)
    return {k: sp.csr_array(v) for k, v in out.items()}


GALLERY_NAMES = ["poisson2d", "poisson3d", "rotated_aniso", "elasticity", "nine_point",
                 "graph_laplacian"]
_GALLERY = {}


def _gallery_matrix(name):
    if not _GALLERY:
        _GALLERY.update(gallery())
    return _GALLERY[name]


@pytest.mark.parametrize("name", GALLERY_NAMES)
def test_eisenstat(name, benchmark, timing, report):
    pytest.importorskip("pyamg")
    import pyamg
    from scipy.sparse.linalg import cg
    A = _gallery_matrix(name)
    P = prepare(A)
    n = P.n
    b = np.random.default_rng(0).standard_normal(n)     # (b = 1 is an eigenvector of some)
    g = f"D Eisenstat SSOR-CG: {name} n={n} nnz={P.nnz}"
    # (a) time per iteration, the same iterations (rtol=0, fixed maxiter)
    # 40 iterations (fewer where nnz > 1.25e6). The stencils stay above the stagnation gate;
    # the graph Laplacian passes it (relative residual ~1e-13 at the end), so each form
    # makes one true-residual check in its call
    k = int(min(40, max(10, 1e8 // (2 * P.nnz))))
    omegas = (1.0, 1.5)
    runs = []
    for omega in omegas:
        def run_eis(omega=omega):
            return nf.ssor_cg(P, b, omega, rtol=0.0, maxiter=k, eisenstat=True)

        def run_plain(omega=omega):
            return nf.ssor_cg(P, b, omega, rtol=0.0, maxiter=k, eisenstat=False)

        re_, rp = run_eis(), run_plain()
        assert re_.nit == rp.nit == k
        np.testing.assert_allclose(re_.x, rp.x, rtol=0, atol=1e-8 * np.abs(rp.x).max())
        runs += [run_eis, run_plain]
    timing.numfit(benchmark, runs[0])
    # both omegas' four calls in turn, at least 9 rounds and 4 s: in quick mode one run is a
    # few milliseconds, where 3 rounds left the minimum to the load of the moment, 9 rounds
    # (0.15 s) to a stretch of load lasting seconds (CI, 2026-12-07: single rows at
    # 1.43-1.79 against 1.93-2.48 in a run alone), and a 2 s window a row to the longer
    # stretches (a later run: 1.69-1.75 on two matrices' omega = 1.5 rows, 2.04-2.11 on
    # their omega = 1 rows seconds before, the same work); one window for both rows gives
    # each of them 4 s
    times = timing.with_rounds(max(timing.rounds, 9)).interleaved(runs, min_time=4.0)
    for j, omega in enumerate(omegas):
        t_e, t_p = times[2 * j], times[2 * j + 1]
        report.ratio(g, f"time/iteration plain / Eisenstat (omega={omega:g})", t_p, t_e,
                     goal=1.8, note=f"Eisenstat {t_e / k * 1e3:.3f} ms/it, plain "
                                    f"{t_p / k * 1e3:.3f} ms/it, {k} iterations")
    # the split of A into its two triangles, once per PreparedMatrix (Eisenstat's form
    # streams one triangle per pass); the timed runs above reuse P and find it cached

    def split():
        P._triangles = None
        return P.triangles()
    _, t_split = timing.with_rounds(5).peer(split)
    report.add(g, "split of A into its triangles (once per PreparedMatrix)", t_split,
               unit="s", note=f"{t_split / (times[0] / k):.2f} Eisenstat iterations")
    # (b) whole solves
    bn = float(np.linalg.norm(b))
    grid = (1.0, 1.2, 1.4, 1.6, 1.7, 1.8, 1.9)
    nits = {w: nf.ssor_cg(P, b, w, eisenstat=True).nit for w in grid}
    w_best = min(grid, key=lambda w: nits[w])

    def solve(omega):
        r = nf.ssor_cg(P, b, omega)
        assert r.converged
        return r

    def scipy_cg():
        x, info = cg(A, b, rtol=1e-8, maxiter=100_000)
        assert info == 0
        return x

    ml = pyamg.smoothed_aggregation_solver(A)
    _, t_setup = timing.with_rounds(3).peer(lambda: pyamg.smoothed_aggregation_solver(A))

    def pyamg_sa():
        res = []
        x = ml.solve(b, tol=1e-8, accel="cg", maxiter=1000, residuals=res)
        assert np.linalg.norm(b - A @ x) <= 1.01e-8 * bn
        return x

    tm = timing.with_rounds(3)
    _, t1 = tm.peer(lambda: solve(1.0))
    _, tb = tm.peer(lambda: solve(w_best))
    _, t1p = tm.peer(lambda: nf.ssor_cg(P, b, 1.0, eisenstat=False))
    _, tcg = tm.peer(scipy_cg)
    _, tsa = tm.peer(pyamg_sa)
    report.ratio(g, "SSOR-CG iterations omega=1 / best grid omega", nits[1.0], nits[w_best],
                 note=f"{nits[1.0]} / {nits[w_best]} (best grid omega {w_best:g})")
    report.add(g, "solve time: SSOR-CG (Eisenstat) omega=1", t1, unit="s",
               note=f"plain form {t1p:.4f} s")
    report.add(g, f"solve time: SSOR-CG (Eisenstat) omega={w_best:g}", tb, unit="s")
    report.add(g, "solve time: SciPy cg", tcg, unit="s")
    report.add(g, "solve time: PyAMG SA + CG (solve only)", tsa, unit="s",
               note=f"setup {t_setup:.4f} s")
    report.ratio(g, "plain / Eisenstat SSOR-CG solve (omega=1)", t1p, t1)
    report.ratio(g, "SciPy cg / SSOR-CG omega=1", tcg, t1)
    report.ratio(g, "PyAMG SA-CG (solve) / SSOR-CG omega=1", tsa, t1, goal=1.0)
    report.ratio(g, "PyAMG SA-CG (setup+solve) / SSOR-CG omega=1", tsa + t_setup, t1)
    report.ratio(g, "PyAMG SA-CG (solve) / SSOR-CG best omega", tsa, tb, goal=1.0)


# --------------------------------------------------------------------------- E. omega="auto"
_GALLERY_E = {}          # the quick-mode gallery (n ~ 1e4) in both modes: the grid search of
                         # SOR's best omega at n ~ 1e5 would take minutes per matrix

@pytest.mark.parametrize("name", GALLERY_NAMES)
def test_omega_auto(name, report, timing):
    pytest.importorskip("pyamg")
    if not _GALLERY_E:
        _GALLERY_E.update(gallery(1))
    A = _GALLERY_E[name]
    P = prepare(A)
    b = np.random.default_rng(0).standard_normal(P.n)
    g = f"E omega='auto': {name} n={P.n}"
    grid = np.round(np.arange(1.0, 1.99, 0.02), 2)
    for solver in ("sor", "ssor_cg"):
        if solver == "sor":
            def solve(w):
                return nf.sor(P, b, w, norm="b", maxiter=50_000)
        else:
            def solve(w):
                return nf.ssor_cg(P, b, w)
        its = {}
        for w in grid:      # coarse first: the grid around the best of every 5th point
            if int(round(w * 50)) % 5 == 0:
                its[w] = solve(w).nit
        w0 = min(its, key=its.get)
        for w in grid:
            if abs(w - w0) <= 0.11 and w not in its:
                its[w] = solve(w).nit
        w_best = min(its, key=its.get)
        r = solve("auto")
        assert r.status in (0, 1)
        # alternating rounds (the machine is shared): the estimate alone, a solve at the
        # final omega; min of 5 each
        tm = timing.with_rounds(5)
        kind = "sor" if solver == "sor" else "ssor_cg"

        def estimate():
            return estimate_omega(P, kind, max_steps=12) if kind == "sor" else \
                estimate_omega(P, kind)

        def estimate_first():
            # a single solve's estimate: nothing cached from an earlier estimate (the
            # per-matrix Z-matrix test)
            P._z_matrix = None
            return estimate()
        # (at least 1 s of alternating rounds: see the note in section D)
        t_est, t_solve = tm.paired(estimate_first, lambda: solve(r.omega), min_time=1.0)
        t_rep, t_solve2 = tm.paired(estimate, lambda: solve(r.omega))
        report.ratio(g, f"{solver}: iterations at omega='auto' / best grid omega", r.nit,
                     its[w_best], goal=1.2, higher_is_better=False,
                     note=f"auto omega {r.omega:.4f} ({r.nit} it., {r.omega_info['steps']} "
                          f"Lanczos steps); best grid {w_best:g} ({its[w_best]} it.)")
        report.ratio(g, f"{solver}: estimation time / solve time", t_est, t_solve, goal=0.1,
                     higher_is_better=False,
                     note=f"{t_est * 1e3:.2f} ms / {t_solve * 1e3:.2f} ms (first estimate "
                          "on the matrix: no cache)")
        report.ratio(g, f"{solver}: repeated estimate time / solve time", t_rep, t_solve2,
                     higher_is_better=False,
                     note=f"{t_rep * 1e3:.2f} ms / {t_solve2 * 1e3:.2f} ms (the same "
                          "PreparedMatrix again: its cached Z-matrix test)")
        report.ratio(g, f"{solver}: estimation products with A / iterations",
                     r.omega_info["matvecs"], r.nit, higher_is_better=False,
                     note=f"{r.omega_info['matvecs']} / {r.nit} (a Lanczos step ~ one "
                          "sweep or one Eisenstat PCG iteration in arithmetic)")
    # the peers, in the same run: SciPy cg and PyAMG smoothed aggregation + CG against the
    # whole SSOR-CG omega="auto" call (estimate + solve), alternating rounds
    import pyamg
    from scipy.sparse.linalg import cg
    bn = float(np.linalg.norm(b))

    def auto_cg():
        assert nf.ssor_cg(P, b, "auto", check_symmetry=False).converged

    def scipy_cg():
        x, info = cg(A, b, rtol=1e-8, maxiter=100_000)
        assert info == 0

    def pyamg_sa():
        ml = pyamg.smoothed_aggregation_solver(A)
        x = ml.solve(b, tol=1e-8, accel="cg", maxiter=1000)
        assert np.linalg.norm(b - A @ x) <= 1.01e-8 * bn

    tm = timing.with_rounds(5)
    t_auto, t_cg = tm.paired(auto_cg, scipy_cg)
    t_auto2, t_sa = tm.paired(auto_cg, pyamg_sa)
    report.add(g, "SSOR-CG omega='auto': estimate + solve time", min(t_auto, t_auto2), unit="s",
               note=f"SciPy cg {t_cg:.4f} s, PyAMG SA-CG (setup + solve) {t_sa:.4f} s")
    report.ratio(g, "SciPy cg / SSOR-CG omega='auto' (estimate + solve)", t_cg, t_auto)
    report.ratio(g, "PyAMG SA-CG (setup + solve) / SSOR-CG omega='auto'", t_sa, t_auto2)


# --------------------------------------------------------------------------- F. policy="auto"
# The two sequences (issue 18, item 3). The tests (tests/test_tuner_auto.py) check the
# bands on other sequences; these are reported only.
F_SEQUENCES = {
    "anisotropic": dict(T=300 if QUICK else 1500, mx=32, my=12, eps_range=(0.01, 100.0),
                        rng=2026),
    "rotated": dict(T=200, m=20 if QUICK else 24, epsilon=0.05, theta=(0.0, np.pi / 2),
                    wobble=0.02, rng=2026),
}


def _f_systems(kind):
    from numfit.linalg import anisotropic_sequence, rotated_anisotropic_sequence
    kw = dict(F_SEQUENCES[kind])
    if kind == "anisotropic":
        return list(anisotropic_sequence(**kw)), (-2.0, 2.0)
    lo, hi = kw["theta"]
    pad = 4 * kw["wobble"]
    return list(rotated_anisotropic_sequence(**kw)), (lo - pad, hi + pad)


@pytest.mark.parametrize("kind", list(F_SEQUENCES))
def test_policy_auto(kind, report):
    """Last-20 % and total iterations of policy="auto", Tsallis-INF and ChebCB over those of
    the best fixed grid omega in hindsight (every grid omega solved on every system), and the
    wall time of the tuned solves against SciPy ``cg`` and PyAMG smoothed aggregation CG
    (setup included: every system has its own matrix) on the same systems."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import cg
    systems, crange = _f_systems(kind)
    T = len(systems)
    n = systems[0].A.shape[0]
    g = f"F policy='auto': {kind}, T={T}, n={n}"
    grid = nf.linalg.make_grid("paper")
    prepared = [prepare(s.A) for s in systems]
    C = fixed_costs(prepared, [s.b for s in systems], grid)
    jb = int(np.argmin(C.sum(axis=0)))
    k = max(1, T // 5)
    best_total, best_last = C[:, jb].sum(), C[-k:, jb].sum()
    report.add(g, "best fixed omega (paper grid)", grid[jb],
               note=f"{best_total:,.0f} iterations; instance-optimal "
                    f"{C.min(axis=1).sum():,.0f}")
    times = {}
    for name, policy, opts in (("auto", "auto", {}), ("Tsallis-INF", "tsallis", {}),
                               ("ChebCB", "chebcb", {})):
        tuner = RelaxationTuner(policy, grid=grid, rng=7, context_range=crange,
                                policy_options=opts)
        t0 = time.perf_counter()
        for P, s in zip(prepared, systems):
            tuner.solve(P, s.b, context=s.context)
        times[name] = time.perf_counter() - t0
        h = tuner.history
        assert h.converged.all()
        np.testing.assert_array_equal(h.costs, C[np.arange(T), h.arms])
        last = h.costs[-k:].sum() / best_last
        total = h.costs.sum() / best_total
        extra = ""
        if name == "auto":
            si = tuner.start_info
            extra = (f"; warm start {si['omega']:.3f} from {len(si['omegas'])} estimates, "
                     f"{sum(si['steps'])} Lanczos steps")
        report.add(g, f"{name}: last-20% / best fixed", last, unit="x",
                   goal=1.10 if name == "auto" else None, higher_is_better=False,
                   note=f"last {k} systems{extra}")
        report.add(g, f"{name}: total / best fixed", total, unit="x",
                   goal=1.15 if name == "auto" else None, higher_is_better=False,
                   note=f"{h.costs.sum():,.0f} iterations")
        report.add(g, f"{name}: wall time (tuned SOR solves)", times[name], unit="s")

    t0 = time.perf_counter()
    for s in systems:
        _, info = cg(s.A, s.b, rtol=1e-8, maxiter=100_000)
        assert info == 0
    t_cg = time.perf_counter() - t0
    report.add(g, "SciPy cg: wall time", t_cg, unit="s")
    report.ratio(g, "SciPy cg time / auto time", t_cg, times["auto"])
    try:
        import pyamg
    except ImportError:   # pragma: no cover - pyamg is a benchmark dependency
        return
    t0 = time.perf_counter()
    for s in systems:
        A = sp.csr_matrix(s.A)
        ml = pyamg.smoothed_aggregation_solver(A)
        x = ml.solve(s.b, tol=1e-8, accel="cg", maxiter=1000)
        assert np.linalg.norm(s.b - A @ x) <= 1.01e-8 * np.linalg.norm(s.b)
    t_amg = time.perf_counter() - t0
    report.add(g, "PyAMG SA + CG (setup + solve): wall time", t_amg, unit="s")
    report.ratio(g, "PyAMG time / auto time", t_amg, times["auto"])
