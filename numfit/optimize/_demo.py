"""Demo section for AL-sketch: ``alsketch_demo(out_dir, quick) -> list of written PNG paths``.

Prints the theory-mode outer-iteration counts on the paper's Hock-Schittkowski problems next
to the paper's (Gaussian / Kaczmarz), practical-mode counts and sketch steps, and the PDE
control problem at N = 3 (quick) or N = 3 and 16; writes the KKT-residual convergence plot
``numfit_demo_alsketch.png``. Regenerate the docs figure with::

    python -c "from numfit.optimize._demo import alsketch_demo; \\
alsketch_demo('docs/images', quick=False)"
"""
import os
import time

import numpy as np

from .._report import pyplot, save_figure
from .._report import table as _table

__all__ = ["alsketch_demo", "plot_kkt"]


def plot_kkt(curves, path, title=""):
    """Plot KKT residual against outer iteration for ``curves`` = [(label, kkt_history)]
    with matplotlib; returns ``path``."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=100)
    for label, h in curves:
        ax.semilogy(np.arange(len(h)), np.maximum(h, 1e-16), marker="o", ms=3, label=label)
    ax.set_xlabel("outer iteration k")
    ax.set_ylabel(r"KKT residual $\|\nabla L(x_k, \lambda_k)\|$")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)


def alsketch_demo(out_dir, quick):
    """Print the AL-sketch tables and write the KKT-convergence plot; return written PNGs."""
    from . import minimize_alsketch
    from .problems import hs_problems, poisson_control

    t0 = time.perf_counter()
    print("AL-sketch Newton (Hong, Na, Mahoney, Kolar 2023) on Hock-Schittkowski problems,")
    print("tol 1e-4, seed 0. theory = the paper's accuracy rule; practical = relative residual")
    print("0.1 |grad L| with the descent test and a direct fallback when the sketch stalls")
    print("(inner='sketch'; the default inner='auto' factorizes explicit KKT matrices).\n")
    rows = []
    curves = []
    names = ("HS6", "HS7", "HS40", "HS50", "HS77", "HS78") if quick else None
    for p in hs_problems():
        if p.paper_iters is None or (names and p.name not in names):
            continue
        tg = minimize_alsketch(**p.alsketch_kwargs(), tol=1e-4, accuracy="theory", rng=0,
                               options={"return_history": True})
        tk = minimize_alsketch(**p.alsketch_kwargs(), tol=1e-4, accuracy="theory", rng=0,
                               sketch="kaczmarz")
        pr = minimize_alsketch(**p.alsketch_kwargs(), tol=1e-4, rng=0, inner="sketch",
                               options={"return_history": True})
        rows.append((p.name, f"{tg.nit} ({p.paper_iters['gaussian']})",
                     f"{tk.nit} ({p.paper_iters['kaczmarz']})", pr.nit,
                     f"{tg.n_sketch:.2e}", f"{pr.n_sketch:.2e}",
                     f"{tg.n_sketch / max(pr.n_sketch, 1):.0f}x"))
        if p.name in ("HS7", "HS50", "HS77"):
            curves.append((f"{p.name} theory (Gaussian)", tg.kkt_history))
            curves.append((f"{p.name} practical", pr.kkt_history))
    _table(("problem", "theory GV (paper)", "theory RK (paper)", "practical",
            "steps theory", "steps practical", "ratio"), rows)

    print("\n2-D Poisson control, tol 1e-6 (practical, Gaussian sketch + stall fallback)")
    prow = []
    for N in ((3,) if quick else (3, 16, 32)):
        p = poisson_control(N)
        t1 = time.perf_counter()
        r = minimize_alsketch(**p.alsketch_kwargs(), tol=1e-6, rng=0, inner="sketch",
                              options={"return_history": True})
        prow.append((N, p.n, r.nit, r.n_sketch, r.n_fallback, f"{r.fun:.10f}",
                     f"{p.f_star:.10f}", f"{(time.perf_counter() - t1) * 1e3:.1f} ms"))
    _table(("N", "n", "nit", "sketch steps", "fallbacks", "f", "f* (direct KKT solve)",
            "time"), prow)
    p = poisson_control(3)
    r = minimize_alsketch(**p.alsketch_kwargs(), tol=1e-4, accuracy="theory", rng=0,
                          sketch="kaczmarz", options={"return_history": True})
    print(f"\nPDE N=3, theory mode, Kaczmarz (paper: 3 iterations, final KKT 4.1e-6): "
          f"{r.nit} iterations, KKT " + " -> ".join(f"{v:.2g}" for v in r.kkt_history))
    curves.append(("PDE N=3 theory (Kaczmarz)", r.kkt_history))
    path = os.path.join(out_dir, "numfit_demo_alsketch.png")
    plot_kkt(curves, path, title="AL-sketch: KKT residual per outer iteration (tol 1e-4)")
    print(f"wrote {path}  ({time.perf_counter() - t0:.1f} s)")
    return [path]
