"""Demo sections for SOR: ``sor_demo`` and ``ssor_demo``, each ``(out_dir, quick) -> list of
PNG paths``.

``sor_demo`` prints the Poisson iteration-count table next to reference counts and the
shifted-Laplacian experiment of Khodak et al., *Learning to Relax* (ICLR 2024), sections 2-3
and Figs. 1, 2, 5 (default: T = 1000, ``--full``: T = 5000), and writes the
cumulative-iterations plots ``numfit_demo_sor_{low,high}.png`` into ``out_dir``.
Regenerate the docs figure with::

    python -c "from numfit.linalg._demo import sor_demo; sor_demo('docs/images', quick=False)"

``ssor_demo`` shows, on four matrices (2-D and 3-D Poisson, rotated anisotropic diffusion, a
random graph Laplacian): SSOR-CG in Eisenstat's form against the plain form at equal
iterations, ``omega="auto"`` against the best omega of a grid for SOR and SSOR-CG, and
``RelaxationTuner(policy="auto")`` against Tsallis-INF and the best fixed omega over a
sequence of rotated anisotropic systems (plot ``numfit_demo_ssor_policy_auto.png``); see
docs/sor.md.
"""
import os
import time

import numpy as np

from .._report import pyplot, save_figure
from .._report import table as _table

__all__ = ["sor_demo", "ssor_demo", "plot_cumulative"]


def plot_cumulative(res, path, title=""):
    """Cumulative iterations of the learners and fixed-omega baselines; returns ``path``."""
    plt = pyplot()
    fixed, omegas = res["fixed"], res["omegas"]
    T = fixed.shape[0]
    t = np.arange(1, T + 1)
    jb = int(np.argmin(fixed.sum(axis=0)))
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=90)
    for w, style in ((1.0, ":"), (1.4, ":"), (1.8, ":")):
        j = int(np.argmin(np.abs(omegas - w)))
        ax.plot(t, np.cumsum(fixed[:, j]), style, color="0.5", lw=1)
        ax.annotate(f"ω={w:g}", (T, fixed[:, j].sum()), fontsize=7, color="0.4")
    ax.plot(t, np.cumsum(fixed[:, jb]), "k-", lw=1.5, label=f"best fixed ω={omegas[jb]:.2f}")
    for key, lab, col in (("tsallis", "Tsallis-INF", "C0"), ("binned", "BinnedTsallisINF", "C2"),
                          ("chebcb", "ChebCB", "C3"), ("auto", "policy='auto'", "C4")):
        if key in res:
            ax.plot(t, np.cumsum(res[key]), color=col, lw=1.5, label=lab)
    ax.plot(t, np.cumsum(res["instance_optimal"]), "--", color="C1", lw=1.2,
            label="instance-optimal (grid)")
    ax.set_xlabel("instance t")
    ax.set_ylabel("cumulative SOR iterations")
    ax.set_ylim(0, 1.6 * np.cumsum(fixed[:, jb])[-1] * 1.5)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return save_figure(fig, path, dpi=90)


def sor_demo(out_dir, quick):
    """Print the SOR tables and write the cumulative-iterations plot; return written PNGs."""
    import numfit as nf
    from numfit.linalg import laplacian_2d, prepare
    from numfit.linalg._experiments import shifted_laplacian_experiment, summarize

    print("Poisson (x0 = 0, b = 1, rtol 1e-8, norm r0): SOR iteration counts")
    ref = {10: [223, 62, 89, 187, 41, 1936], 32: [2011, 661, 181, 198, 124, 2012],
            100: [18831, 6268, 2061, 917, 389, 2052]}
    stars = {10: 1.5604, 32: 1.8264, 100: 1.9397}
    rows = []
    for m in ((10, 32) if quick else (10, 32, 100)):
        A = prepare(laplacian_2d(m))
        b = np.ones(m * m)
        got = [nf.sor(A, b, w, maxiter=100_000).nit
               for w in (1.0, 1.5, 1.8, 1.9, stars[m], 1.99)]
        rows.append([m * m] + [f"{g} ({s})" for g, s in zip(got, ref[m])])
    _table(["n", "ω=1", "1.5", "1.8", "1.9", "ω*", "1.99"], rows)
    print("numfit (reference): the reference counts are exact to +-1 and checked by numfit's "
          "tests (docs/results/sor.md)\n")

    T = 1000 if quick else 5000
    written = []
    for variance in ("low", "high"):
        t0 = time.perf_counter()
        res = shifted_laplacian_experiment(T, variance, seed=0)
        s = summarize(res, last=min(1000, T))
        print(f"Shifted Laplacian, {variance} variance, T = {T}, seed 0 "
              f"({time.perf_counter() - t0:.1f} s)")
        r = s["rows"]
        keys = ["omega=1", "omega=1.4", "omega=1.8", "best fixed", "tsallis", "tsallis_rv",
                "binned", "chebcb", "instance_optimal", "young"]
        _table(["method", "total iterations", "last-1000 mean"],
               [[k if k != "best fixed" else f"best fixed ω={s['best_omega']:.2f}",
                 f"{int(r[k][0]):,}", f"{r[k][1]:.1f}"] for k in keys])
        print()
        p = plot_cumulative(res, os.path.join(out_dir, f"numfit_demo_sor_{variance}.png"),
                            title=f"Shifted 10x10 Laplacian, {variance} variance, T={T}")
        if p:
            written.append(p)
    return written


# ------------------------------------------------------------------ ssor_demo
def _ssor_matrices(quick):
    from numfit.linalg import anisotropic_diffusion, laplacian_2d, prepare
    from numfit.linalg._sequences import _graph_laplacian, _laplacian_3d
    m = 100 if quick else 200
    mats = {"2-D Poisson": laplacian_2d(m),
            "3-D Poisson": _laplacian_3d(22 if quick else 34),
            "rotated anisotropic": anisotropic_diffusion(m, epsilon=0.01, theta=np.pi / 8),
            "random graph": _graph_laplacian(m * m, 5)}
    return {k: prepare(A) for k, A in mats.items()}


def _eisenstat_rows(mats, k=40, rounds=5):
    """Time per iteration of the plain and Eisenstat forms (the same k iterations at omega 1,
    min of ``rounds`` alternating calls) and how far apart their iterates are."""
    import numfit as nf
    rows = []
    for name, P in mats.items():
        b = np.random.default_rng(0).standard_normal(P.n)
        P.triangles()                  # split once per PreparedMatrix (a solve includes it)
        times = {True: [], False: []}
        res = {}
        for _ in range(rounds):
            for eis in (True, False):
                t0 = time.perf_counter()
                res[eis] = nf.ssor_cg(P, b, 1.0, rtol=0.0, maxiter=k, eisenstat=eis)
                times[eis].append(time.perf_counter() - t0)
        te, tp = min(times[True]) / k, min(times[False]) / k
        dx = np.max(np.abs(res[True].x - res[False].x)) / np.max(np.abs(res[False].x))
        rows.append([name, f"{P.n:,}", f"{P.nnz:,}", f"{tp * 1e3:.3f}", f"{te * 1e3:.3f}",
                     f"{tp / te:.2f}", f"{dx:.0e}"])
    return rows


def _best_on_grid(solve, grid, start):
    """(omega, iterations) of the fewest iterations over ``grid``, exactly: the points are
    visited from the one nearest ``start`` outwards and each solve is capped at the best
    count so far (a point that needs more cannot be the best)."""
    best_w, best_n = None, None
    for w in sorted(grid, key=lambda v: abs(v - start)):
        r = solve(float(w), best_n)
        if r.converged and (best_n is None or r.nit < best_n):
            best_w, best_n = float(w), r.nit
    return best_w, best_n


def _omega_auto_rows(mats, grid):
    import numfit as nf
    rows = []
    for name, P in mats.items():
        b = np.random.default_rng(0).standard_normal(P.n)
        for solver in ("sor", "ssor_cg"):
            if solver == "sor":
                def solve(w, cap=None):
                    return nf.sor(P, b, w, norm="b", maxiter=cap or 50_000)
            else:
                def solve(w, cap=None):
                    return nf.ssor_cg(P, b, w, maxiter=cap or 10_000)
            r = solve("auto")
            info = r.omega_info
            w_best, n_best = _best_on_grid(solve, grid, r.omega)
            rows.append([name, solver, f"{r.omega:.3f}", f"{r.nit}", f"{info['steps']}",
                         f"{info['time'] * 1e3:.2f} / {r.time * 1e3:.1f}",
                         f"{w_best:.2f}", f"{n_best}", f"{r.nit / n_best:.2f}"])
    return rows


def _policy_auto(out_dir, quick):
    """policy="auto" and Tsallis-INF over rotated anisotropic systems against every grid omega
    on every system; returns the written plot (or nothing without matplotlib)."""
    from numfit.linalg import RelaxationTuner, make_grid, prepare, rotated_anisotropic_sequence
    from numfit.linalg._experiments import fixed_costs
    T = 200
    systems = list(rotated_anisotropic_sequence(T, m=20 if quick else 24, epsilon=0.05,
                                                theta=(0.0, np.pi / 2), wobble=0.02, rng=2026))
    grid = make_grid("paper")
    prepared = [prepare(s.A) for s in systems]
    t0 = time.perf_counter()
    C = fixed_costs(prepared, [s.b for s in systems], grid)
    t_grid = time.perf_counter() - t0
    jb = int(np.argmin(C.sum(axis=0)))
    k = T // 5
    costs, rows = {}, []
    for label, policy in (("policy='auto'", "auto"), ("Tsallis-INF", "tsallis")):
        tuner = RelaxationTuner(policy, grid=grid, rng=7)
        t0 = time.perf_counter()
        for P, s in zip(prepared, systems):
            tuner.solve(P, s.b)
        dt = time.perf_counter() - t0
        c = tuner.history.costs
        costs[policy] = c
        start = (f"{tuner.start_info['omega']:.3f}" if tuner.start_info else "-")
        rows.append([label, f"{c.sum():,.0f}", f"{c.sum() / C[:, jb].sum():.3f}",
                     f"{c[-k:].sum() / C[-k:, jb].sum():.3f}", start, f"{dt:.2f}"])
    rows.append([f"best fixed ω={grid[jb]:.2f}", f"{C[:, jb].sum():,.0f}", "1", "1", "-", "-"])
    rows.append(["instance-optimal", f"{C.min(axis=1).sum():,.0f}",
                 f"{C.min(axis=1).sum() / C[:, jb].sum():.3f}",
                 f"{C[-k:].min(axis=1).sum() / C[-k:, jb].sum():.3f}", "-", "-"])
    n = systems[0].A.shape[0]
    print(f"RelaxationTuner over {T} rotated anisotropic systems (n = {n}, ε = 0.05, angle "
          f"drifting from 0 to π/2; SOR, rtol 1e-8; best fixed ω from all {grid.size} grid "
          f"omegas on every system, {t_grid:.1f} s)")
    _table(["method", "iterations", "total / best fixed", f"last {k} / best fixed",
            "warm start ω", "time (s)"], rows)
    print("numfit's goal for policy='auto': last 20 % within 1.10 and total within 1.15 of "
          "the best fixed ω (docs/sor.md, \"policy='auto'\")\n")
    p = plot_cumulative({"fixed": C, "omegas": grid, "instance_optimal": C.min(axis=1),
                         **costs},
                        os.path.join(out_dir, "numfit_demo_ssor_policy_auto.png"),
                        title=f"Rotated anisotropic diffusion, n={n}, T={T}")
    return [p] if p else []


def ssor_demo(out_dir, quick):
    """Print the Eisenstat, omega="auto" and policy="auto" tables and write the cumulative
    iterations plot of the tuners; return the written PNGs."""
    mats = _ssor_matrices(quick)
    print("SSOR-CG in Eisenstat's form (Eisenstat, SIAM J. Sci. Stat. Comput. 2, 1981): one "
          "solve with each triangle per iteration instead of two triangular solves and a "
          "product. Time per iteration at ω = 1, the same 40 iterations (min of 5 alternating "
          "calls; this machine):")
    _table(["matrix", "n", "nnz", "plain ms/it", "Eisenstat ms/it", "plain / Eisenstat",
            "max|Δx| / max|x|"], _eisenstat_rows(mats))
    print("numfit's goal: plain / Eisenstat >= 1.8 with the iterates equal up to rounding "
          "(docs/sor.md, section D, has the figures on other machines and out of cache)\n")

    grid = np.round(np.arange(1.0, 1.99, 0.02 if not quick else 0.04), 2)
    print("omega='auto': SOR from Young's formula with the Jacobi spectrum from a few Lanczos "
          "steps (then adapted during the solve), SSOR-CG from a documented estimate; "
          f"against the best ω of the grid {grid[0]:.2f}, {grid[1]:.2f}, ..., {grid[-1]:.2f} "
          "(b random, rtol 1e-8):")
    _table(["matrix", "solver", "ω auto", "iterations", "Lanczos steps",
            "estimate / call (ms)", "best grid ω", "its iterations", "auto / best"],
           _omega_auto_rows(mats, grid))
    print("numfit's goals: auto within 1.2x of the best grid ω's iterations, the estimate "
          "within 10 % of the solve (docs/sor.md, \"omega='auto'\")\n")
    return _policy_auto(out_dir, quick)
