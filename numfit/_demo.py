"""``python -m numfit demo``: the main job, one section per algorithm.

Each section prints a table and may write a PNG (drawn with matplotlib) into the output
folder. Sections register themselves in ``SECTIONS`` (name -> callable(out_dir, quick) ->
list of written files) with a one-line summary in ``SUMMARIES``. The default run is the quick
one (under a minute on two cores); ``quick=False`` (``--full``) runs the long versions.
"""
import os
import time

import numpy as np

from ._report import pyplot, save_figure
from ._report import table as _table

__all__ = ["SECTIONS", "run"]

SECTIONS = {}
SUMMARIES = {}


def section(name, summary):
    def deco(fn):
        SECTIONS[name] = fn
        SUMMARIES[name] = summary
        return fn
    return deco


@section("autoknots",
         "cubic-spline tables of NFW Sigma(R) and a damped sine, verified on dense grids")
def _autoknots_demo(out_dir, quick):
    import numfit as nf
    from numfit.cosmology import nfw_sigma_hat
    from numfit.interpolate._autoknots import check_grid

    def damped(x):
        return np.exp(-x) * np.sin(3 * x) + 2

    def hidden_pair(x):
        return (1 + x + np.exp(-((x - 0.55) / 0.02) ** 2) + np.exp(-((x - 0.65) / 0.008) ** 2)
                - np.exp(-((x - 0.75) / 0.008) ** 2))

    cases = [("NFW Sigma(R/r_s), loglog", nfw_sigma_hat, 1e-4, 1e4, dict(space="loglog"), r)
             for r in (1e-4, 1e-6, 1e-8)]
    cases += [("exp(-x) sin 3x + 2", damped, 0.1, 5.0, {}, r) for r in (1e-4, 1e-6, 1e-8)]
    cases += [("hidden pair, atol=1e-8", hidden_pair, 0.0, 1.0, dict(atol=1e-8), 1e-8)]
    print("AutoKnots: adaptive cubic-spline tabulation (every evaluation is a knot)\n")
    rows, keep = [], None
    for name, f, a, b, kw, rtol in cases:
        t0 = time.perf_counter()
        s = nf.autoknots(f, a, b, rtol=rtol, **kw)
        dt = time.perf_counter() - t0
        x = check_grid(s, 20_000 if quick else 100_000)
        fx = f(x)
        if s.space == "loglog":
            ratio = np.max(np.abs(s(x) / fx - 1)) / rtol
        else:
            ratio = np.max(np.abs(s(x) - fx) / (rtol * np.abs(fx) + s.atol))
        rows.append((name, f"{rtol:.0e}", len(s.knots), s.n_evals, f"{ratio:.3f}",
                     "yes" if s.converged else "NO", f"{dt * 1e3:.1f} ms"))
        if name.startswith("NFW") and rtol == 1e-6:
            keep = (s, f)
    _table(("function", "rtol", "knots", "evals", "max err/tol", "converged", "time"), rows)
    print("\nmax err/tol is measured on 1e5 points uniform in the knot variable plus the 1/4,"
          " 1/2, 3/4 points of every knot interval; it must stay below 1.")
    path = os.path.join(out_dir, "numfit_demo_autoknots.png")
    _plot_spline(*keep, path)
    print(f"wrote {path}")
    return [path]


@section("autoknots-kinds",
         "cubic vs piecewise-Chebyshev tables of an integral-defined f: evaluations and wall time")
def _autoknots_kinds_demo(out_dir, quick):
    """Both kinds side by side on an integral-defined f (one scipy quad per evaluation)."""
    from scipy import integrate, special

    import numfit as nf
    from numfit.interpolate._family import error_ratio

    def i0e_quad(x):
        """e^-x I0(x) = (1/pi) int_0^pi exp(x (cos t - 1)) dt: a real quadrature per call."""
        val, _ = integrate.quad(lambda t: np.exp(x * (np.cos(t) - 1.0)), 0.0, np.pi,
                                epsabs=0.0, epsrel=1e-13, limit=200)
        return val / np.pi

    a, b, rtol = 0.0, 50.0, 1e-8
    n_check = 20_000 if quick else 100_000
    print("AutoKnots kinds: cubic spline vs piecewise Chebyshev on an integral-defined f\n")
    print(f"f(x) = e^-x I0(x) = (1/pi) int_0^pi exp(x (cos t - 1)) dt on [{a:g}, {b:g}], one "
          "scipy.integrate.quad per evaluation\n(scalar calls, vectorized=False), "
          f"rtol = {rtol:g}\n")
    rows, evals = [], {}
    for kind in ("cubic", "chebyshev"):
        in_f = [0.0]

        def timed(x):
            t1 = time.perf_counter()
            try:
                return i0e_quad(x)
            finally:
                in_f[0] += time.perf_counter() - t1

        t0 = time.perf_counter()
        s = nf.autoknots(timed, a, b, rtol=rtol, kind=kind, vectorized=False)
        dt = time.perf_counter() - t0
        ratio = error_ratio(s, special.i0e, n_check)
        evals[kind] = s.n_evals
        rows.append((kind, s.n_evals, f"{dt * 1e3:.1f} ms", f"{in_f[0] * 1e3:.1f} ms",
                     f"{ratio:.2g}", "yes" if s.converged else "NO"))
    _table(("kind", "evals", "build", "in f", "max err/tol", "converged"), rows)
    print(f"\nchebyshev / cubic evaluations: {evals['chebyshev'] / evals['cubic']:.2f}")
    print(f"max err/tol: numfit.interpolate._family.error_ratio against scipy.special.i0e on "
          f"{n_check} points uniform in x,\nthe 1/4, 1/2, 3/4 points of every knot interval or "
          "piece and 800 points clustered at the ends; it must stay below 1.")
    print("build: wall time of autoknots; in f: the part spent in the quadratures (the first "
          "chebyshev build of a\nprocess also pays a one-off set-up). See docs/kinds.md for "
          "when to choose which kind.")
    return []


@section("autoknots2d",
         "P(k, z) with BAO wiggles on an adaptive tensor grid, against the smallest uniform grid")
def _autoknots2d_demo(out_dir, quick):
    """P(k, z) with BAO wiggles on an adaptive tensor grid (ln k x z, ln P tabulated)."""
    import numfit as nf
    from numfit.interpolate._family import error_ratio2d, member2d

    m, rtol = member2d("pk_z_bao"), 1e-6
    (ka, kb), (za, zb) = m.x_range, m.y_range
    print("AutoKnots in 2-D: a tensor grid refined axis by axis (every evaluation is a grid "
          "value)\n")
    print(f"f(k, z) = P_BAO(k) D(z)^2 sqrt(1 + (k / k_nl(z))^1.5) on k in [{ka:g}, {kb:g}] "
          f"h/Mpc, z in [{za:g}, {zb:g}];\nx_knots='log', log_f=True (the tolerance is on "
          f"ln P), rtol = {rtol:g}\n")
    n_check = 151 if quick else 301
    rows, tables = [], {}
    for kind in ("cubic", "chebyshev"):
        t0 = time.perf_counter()
        tk = nf.autoknots2d(m.f, m.x_range, m.y_range, kind=kind, **m.options(rtol))
        dt = time.perf_counter() - t0
        r = error_ratio2d(tk, m.f, n_check)
        tables[kind] = (tk, r)
        rows.append((kind, f"{rtol:.0e}", f"{tk.shape[0]} x {tk.shape[1]}", tk.n_evals,
                     tk.passes, f"{r:.3f}", "yes" if tk.converged else "NO",
                     f"{dt * 1e3:.1f} ms"))
    _table(("kind", "rtol", "grid (k x z)", "evals", "passes", "max err/tol", "converged",
            "build"), rows)
    t, ratio = tables["cubic"]
    print(f"\nmax err/tol: |ln s - ln P| / rtol on a {n_check} x {n_check} grid uniform in "
          "(ln k, z) plus the midpoint of every grid cell\n(numfit.interpolate._family."
          "error_ratio2d); it must stay below 1. kind='chebyshev': tensor Chebyshev pieces "
          "per axis\n(docs/autoknots2d.md, 'The chebyshev kind').")
    t1 = time.perf_counter()
    found = _smallest_uniform_grid(m, t, n_check)
    if found is None:
        print("no uniform grid with <= 4096 lines per axis meets the tolerance")
    else:
        nx, ny = found
        tc = tables["chebyshev"][0]
        print(f"smallest uniform (ln k, z) grid meeting the tolerance on the same check points "
              f"(found in hindsight, {time.perf_counter() - t1:.1f} s):\n{nx} x {ny} = "
              f"{nx * ny} evaluations; numfit / uniform = {t.n_evals / (nx * ny):.2f} "
              f"(cubic), {tc.n_evals / (nx * ny):.2f} (chebyshev)")
    path = os.path.join(out_dir, "numfit_demo_autoknots2d.png")
    _plot_grid2d(t, ratio, path)
    print(f"wrote {path}")
    return [path]


def _smallest_uniform_grid(m, t, n_check):
    """The smallest N_x x N_y bicubic uniform in the knot variables (ln f with log_f) meeting
    the tolerance on the check grid of ``t``: N_x,lo and N_y,lo by doubling and bisection
    (the other axis at 4x the table's lines), then N_x growing by 5 % with the smallest N_y
    by bisection, until N_x N_y,lo reaches the best product (as in the benchmark)."""
    from numfit.interpolate._family import _MAPS, check_points2d
    from numfit.interpolate._tensor import evaluate_tensor, fit_tensor

    (U, Ui), (V, Vi) = _MAPS[t.info["x_knots"]], _MAPS[t.info["y_knots"]]
    x, y = check_points2d(t, n_check)
    fx = np.asarray(m.f(x, y), dtype=float)
    g, thr = (np.log(fx), t.rtol + t.atol / fx) if t.log_f else \
        (fx, t.rtol * np.abs(fx) + t.atol)
    cu, cv = np.ascontiguousarray(U(x)), np.ascontiguousarray(V(y))
    memo = {}

    def ok(nx, ny):
        if (nx, ny) not in memo:
            u = np.linspace(float(U(t.x_knots[0])), float(U(t.x_knots[-1])), nx)
            v = np.linspace(float(V(t.y_knots[0])), float(V(t.y_knots[-1])), ny)
            xs, ys = Ui(u), Vi(v)
            xs[[0, -1]], ys[[0, -1]] = t.x_knots[[0, -1]], t.y_knots[[0, -1]]
            F = np.asarray(m.f(xs[:, None], ys[None, :]), dtype=float)
            S = np.log(F) if t.log_f else F
            out = evaluate_tensor(u, v, fit_tensor(u, v, S), None, None, cu, cv)[:, 0]
            memo[nx, ny] = bool(np.max(np.abs(out - g) / thr) <= 1.0)
        return memo[nx, ny]

    def smallest(good, lo, hi):              # good(hi) holds; smallest n in (lo, hi]
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if good(mid) else (mid, hi)
        return hi

    def doubling(good):
        n = 4
        while not good(n):
            if 2 * n > 4096:
                return None
            n *= 2
        return n if n == 4 else smallest(good, n // 2, n)

    cx, cy = (min(4096, max(64, 4 * n)) for n in t.shape)
    nx_lo = doubling(lambda n: ok(n, cy))
    ny_lo = doubling(lambda n: ok(cx, n))
    if nx_lo is None or ny_lo is None:
        return None
    best, ny_hi, nx = None, cy, nx_lo
    while nx <= 4096 and (best is None or nx * ny_lo < best[0] * best[1]):
        if ok(nx, ny_hi):
            ny_hi = ny_lo if ok(nx, ny_lo) else smallest(lambda n: ok(nx, n), ny_lo, ny_hi)
            if best is None or nx * ny_hi < best[0] * best[1]:
                best = (nx, ny_hi)
        nx = max(nx + 1, int(np.ceil(nx * 1.05)))
    return best


def draw_grid2d(fig, ax, t, n_k=300, n_z=150):
    """Draw the grid lines of a P(k, z) table ``t`` (``x_knots='log'``) in (ln k, z) over a
    colour map of ln P (the demo's figure and the docs' autoknots2d page)."""
    lk = np.linspace(t.u[0], t.u[-1], n_k)
    z = np.linspace(t.v[0], t.v[-1], n_z)
    lnP = np.log(t(np.exp(lk), z, grid=True))
    mesh = ax.pcolormesh(lk, z, lnP.T, shading="auto", cmap="viridis")
    fig.colorbar(mesh, ax=ax, label="ln P(k, z)")
    ax.vlines(t.u, t.v[0], t.v[-1], colors="w", lw=0.15, alpha=0.6)
    ax.hlines(t.v, t.u[0], t.u[-1], colors="w", lw=0.3, alpha=0.8)
    ax.set_xlabel("ln k  [k in h/Mpc]")
    ax.set_ylabel("z")


def _plot_grid2d(t, ratio, path):
    """The adaptive grid in (ln k, z) over a colour map of ln P."""
    title = (f"P(k, z), rtol={t.rtol:g}: {t.shape[0]} x {t.shape[1]} grid = {t.n_evals} "
             f"evaluations, verified error {ratio:.2f} x tol")
    fig, ax = pyplot().subplots(figsize=(9, 5.6))
    draw_grid2d(fig, ax, t)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)


@section("wls",
         "weighted least squares with i.i.d., volume and DPP designs vs the best fit")
def _wls_demo(out_dir, quick):
    from .approx._demo import wls_demo
    return wls_demo(out_dir, quick)


@section("alsketch",
         "AL-sketch Newton on Hock-Schittkowski problems and a PDE control problem")
def _alsketch_demo(out_dir, quick):
    from .optimize._demo import alsketch_demo
    return alsketch_demo(out_dir, quick)


@section("sor",
         "SOR iteration counts and bandit-tuned relaxation over 1000 shifted Laplacians")
def _sor_demo(out_dir, quick):
    from .linalg._demo import sor_demo
    return sor_demo(out_dir, quick)


@section("ssor",
         "SSOR-CG in Eisenstat's form, omega='auto' and RelaxationTuner(policy='auto')")
def _ssor_demo(out_dir, quick):
    from .linalg._demo import ssor_demo
    return ssor_demo(out_dir, quick)


@section("cosmology",
         "distances, growth, halo lensing profiles and sigma(M), tables to a stated rtol")
def _cosmology_demo(out_dir, quick):
    from .cosmology._demo import cosmology_demo
    return cosmology_demo(out_dir, quick)


def _plot_spline(s, f, path):
    x = np.geomspace(s.knots[0], s.knots[-1], 4000)
    err = np.abs(s(x) / f(x) - 1)
    plt = pyplot()
    fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(8, 7), sharex=True)
    ax0.loglog(x, s(x), label="AutoKnots spline")
    ax0.loglog(s.knots, s.values, "o", ms=3, label=f"{len(s.knots)} knots (= evaluations)")
    ax0.set_ylabel(r"$\hat\Sigma_{\rm NFW}(X)$")
    ax0.legend()
    ax0.set_title(f"NFW surface density, space='loglog', rtol={s.rtol:g}")
    ax1.loglog(x, np.maximum(err, 1e-17), lw=0.7, label="|s/f - 1|")
    ax1.axhline(s.rtol, color="r", ls="--", label="rtol")
    ax1.set_xlabel("X = R / r_s")
    ax1.set_ylabel("relative error")
    ax1.legend()
    fig.tight_layout()
    save_figure(fig, path, dpi=110)


def run(out_dir=".", quick=True, only=None):
    """Run every registered demo section (or those in ``only``); returns written files.

    ``quick=True`` (the default) runs the short versions, under a minute in all on two cores;
    ``quick=False`` the long ones (larger check grids, T = 5000 SOR systems, more seeds).
    A line marks the start and the end of each section, with its wall time.
    """
    unknown = sorted(set(only or ()) - set(SECTIONS))
    if unknown:
        raise ValueError(f"unknown demo section(s) {', '.join(unknown)}; the sections are: "
                         f"{', '.join(SECTIONS)}")
    os.makedirs(out_dir, exist_ok=True)
    written = []
    t0 = time.perf_counter()
    names = [n for n in SECTIONS if not only or n in only]
    for k, name in enumerate(names, 1):
        print(f"\n=== [{k}/{len(names)}] {name}: {SUMMARIES[name]}", flush=True)
        t1 = time.perf_counter()
        written += SECTIONS[name](out_dir, quick)
        print(f"--- {name} done in {time.perf_counter() - t1:.1f} s", flush=True)
    print(f"\ndemo finished in {time.perf_counter() - t0:.1f} s"
          + ("" if not quick else " (python -m numfit demo --full runs the long versions)"))
    return written
