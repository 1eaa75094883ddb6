"""Demo section for bandit-tuned SOR: ``sor_demo(out_dir, quick) -> list of PNG paths``.

Prints the Poisson iteration-count table next to reference counts and the shifted-Laplacian
experiment of Khodak et al., *Learning to Relax* (ICLR 2024), sections 2-3 and Figs. 1, 2, 5
(default: T = 1000, ``--full``: T = 5000), and writes the cumulative-iterations plots
``numfit_demo_sor_{low,high}.png`` into ``out_dir``.
Regenerate the docs figure with::

    python -c "from numfit.linalg._demo import sor_demo; sor_demo('docs/images', quick=False)"
"""
import os
import time

import numpy as np

from .._report import pyplot, save_figure
from .._report import table as _table

__all__ = ["sor_demo", "plot_cumulative"]


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
                          ("chebcb", "ChebCB", "C3")):
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
