"""Demo section "wls": 1-D and 2-D weighted least-squares fits, error versus the best.

For each sampling method it prints the number of evaluations of f, ||G - I|| and the
error ratio ||f - fhat||^2 / e_m(f)^2 (1 = the best approximation in V_m), and writes a PNG
of the 2-D sample points of each method.
"""
import os
import time

import numpy as np

from .._report import pyplot, save_figure
from .._report import table as _table

__all__ = ["wls_demo", "plot_samples"]

METHODS = ("iid", "iid_conditioned", "volume", "repeated_dpp", "dpp")


def _runge(x):
    return 1.0 / (1.0 + 25.0 * x ** 2)


def _bump2d(X):
    return 1.0 / (1.0 + 5.0 * np.sum(X ** 2, axis=1))


def wls_demo(out_dir, quick):
    import numfit as nf
    cases = [("Runge 1/(1+25x^2), Legendre", _runge, nf.PolynomialSpace("legendre", 19)),
             ("1/(1+5|x|^2) on [-1,1]^2, total degree 8", _bump2d,
              nf.PolynomialSpace("legendre", 8, dim=2))]
    reps = 5 if quick else 25
    print("Weighted least squares: near-best polynomial fits from few evaluations\n")
    samples2d = {}
    for name, f, V in cases:
        print(f"{name}: m = {V.m}; median over {reps} seeds")
        rows = []
        nf.wls(f, V, method="volume", rng=0)          # load the compiled kernels first
        n_rep = None
        for method in METHODS + ("iid",):
            label, n = method, None
            if method == "iid" and n_rep is not None:
                label, n = "iid, same n as repeated_dpp", n_rep
            t0 = time.perf_counter()
            fits = [nf.wls(f, V, method=method, n=n, rng=seed) for seed in range(reps)]
            dt = (time.perf_counter() - t0) / reps
            if method == "repeated_dpp":
                n_rep = int(np.median([fit.n_evals for fit in fits]))
            ratio = [fit.error_ratio(f, quad=None if V.dim == 1 else 200)["ratio"]
                     for fit in fits]
            rows.append((label, int(np.median([fit.n_evals for fit in fits])),
                         f"{np.median([fit.gram_error for fit in fits]):.2f}",
                         f"{np.median(ratio):.3f}", f"{np.max(ratio):.3g}",
                         f"{dt * 1e3:.1f} ms"))
            if V.dim == 2 and n is None:
                samples2d[method] = fits[0].sample
        _table(("method", "evals", "||G-I||", "err^2/best^2", "worst", "time"), rows)
        print()
    print("err^2/best^2 = ||f - fhat||^2 / e_m(f)^2 by Gauss quadrature (1 = best in V_m).")
    print("repeated_dpp (the default) adds DPP batches of m points until ||G-I|| <= 1/2; "
          "iid and volume\nuse the certified size n = m ln(2m/0.01)/d_delta; a single DPP "
          "(n = m) interpolates, E err^2 = (m+1) best^2.")
    path = os.path.join(out_dir, "numfit_demo_wls.png")
    plot_samples(samples2d, path)
    print(f"wrote {path}")
    return [path]


def plot_samples(samples, path):
    """Scatter the 2-D points of each method's sample into one PNG; returns ``path``."""
    names = list(samples)
    plt = pyplot()
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.6))
    for ax, name in zip(np.atleast_1d(axes), names):
        s = samples[name]
        p = s.points
        ax.scatter(p[:, 0], p[:, 1], s=4 if s.n > 200 else 10,
                   c=np.where(s.is_dpp, "tab:red", "tab:blue"))
        ax.set_title(f"{name}\nn={s.n}, ||G-I||={s.gram_error:.2f}", fontsize=9)
        ax.set_xlim(-1, 1)
        ax.set_ylim(-1, 1)
        ax.set_aspect("equal")
        ax.tick_params(labelsize=7)
    fig.suptitle("Sample points, total degree 8 in 2-D (m = 45); red: DPP points", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)
