"""Benchmarks of the halo-profile projections (numfit.cosmology._profiles) against the peers.

The issue asks for the number of function evaluations to tabulate ΔΣ(R) to 1e-6 with
AutoKnots against the fixed grids the peers use, and the peers' achieved error on the same
range.  Rows are printed at the end of the run and written to
``.benchmarks/numfit_ratios.json`` (see ``conftest.py``); goals are reported, not asserted.
``NUMFIT_BENCH_QUICK=1`` selects smaller sizes (the file then runs in well under 20 s).

A. Evaluations and achieved error, X = R/r_s in [1e-4, 1e4], rtol 1e-6 (``test_evals_*``)
   * numfit: the AutoKnots log-log table of ΔΣ̂ built by ``project_profile`` (NFW with
     its closed-form m̂; Einasto α = 0.18): table evaluations (= quadratures), the density
     evaluations they cost (ρ̂ wrapped by a counter), and the max |s/f − 1| on AutoKnots'
     check grid (NFW: against the closed form ``nfw_delta_sigma_hat``, 1e5 + 3n points;
     Einasto: against direct quadrature, ``exact=True``, at 4001 (quick: 801) log-uniform
     points plus the 1/4, 1/2, 3/4 points of every knot interval).
   * uniform log grid + not-a-knot ``CubicSpline`` of ln ΔΣ̂ against ln X (what a
     hand-tuned table does) at 100, 200, 500 points, and the smallest uniform grid that
     meets 1e-6 (doubling + bisection).
   * colossus (if installed), read from its source (``halo/profile_base.py``): numerical
     ΔΣ of a profile without a closed form (Einasto) tabulates ρ on a grid uniform in ln r
     with step 0.1 from 0.99 R_min to 1e8 kpc/h and splines it
     (``InterpolatedUnivariateSpline``), integrates Σ by ``quad`` (epsrel 1e-4 by default)
     at every point of a second grid, step 0.1 in ln R from 1e-6 kpc/h to 1.01 R_max, splines
     ln Σ and integrates ``quad`` again per requested radius.  The counts reported are the
     density evaluations and Σ quadratures (counted by wrapping the profile's methods) and
     the achieved error of its ΔΣ on the same radii.  colossus' NFW ΔΣ is its closed form:
     the same numerical ΔΣ path with its closed-form Σ as the tabulated function (its
     closed-form ΔΣ, ``_deltaSigmaInner``, is private and unused; its error is reported too).

B. Time (``test_time_*``): build + evaluate ΔΣ at 1e4 (quick: 1e3) radii, the tables built
   from scratch each round (projection cache cleared), against colossus ``deltaSigma`` on
   the same radii, alternating rounds (conftest ``Timing.paired``, min of 2 rounds, quick:
   1, no warm-up: colossus takes ~20 s a call at 1e4 radii), ratio colossus / numfit.
   Also NFW (closed forms, and the numerical projection) against colossus' NFW ΔΣ.
"""
import os

import numpy as np
import pytest
from scipy.interpolate import CubicSpline

from numfit.cosmology import Cosmology
from numfit.cosmology import _profiles as P
from numfit.cosmology._halos import nfw_delta_sigma_hat
from numfit.interpolate._autoknots import check_grid

from _bench_utils import smallest_size  # noqa: E402,I001 - benchmarks/ is on sys.path

QUICK = os.environ.get("NUMFIT_BENCH_QUICK", "0") == "1"
XMIN, XMAX, RTOL = 1e-4, 1e4, 1e-6
ALPHA = 0.18
N_EIN_CHECK = 801 if QUICK else 4001
N_TIME = 300 if QUICK else 10_000
PEER_ROUNDS = 1 if QUICK else 2      # colossus at 1e4 radii takes ~20 s a call
GRID_SIZES = (100, 200, 500)
H = 0.7
M, C, Z = 1e14, 5.0, 0.3


class Counted:
    """ρ̂ with a counter of evaluated points (a module-level callable, so the cache keys on
    the instance)."""

    def __init__(self, f, *args):
        self.f, self.args, self.n = f, args, 0

    def __call__(self, x, *args):
        self.n += np.size(x)
        return self.f(x, *self.args)




def uniform_error(values_at, n, xc, fc):
    """max |s/f - 1| of a CubicSpline of ln f vs ln X through n log-uniform samples."""
    x = np.geomspace(XMIN, XMAX, n)
    x[0], x[-1] = XMIN, XMAX
    s = CubicSpline(np.log(x), np.log(values_at(x)))
    return float(np.max(np.abs(np.exp(s(np.log(xc))) / fc - 1.0)))


# ============================================================================ the two cases
def _nfw_case():
    rho = Counted(P._nfw_rho)
    p = P.project_profile(rho, m3d_hat=P._nfw_m, xmin=XMIN, xmax=XMAX, rtol=RTOL)
    tab = p.table("delta_sigma")
    xc = check_grid(tab)
    fc = nfw_delta_sigma_hat(xc)
    return dict(name="NFW", p=p, tab=tab, n_rho=rho.n, xc=xc, fc=fc,
                values_at=nfw_delta_sigma_hat)


def _einasto_case():
    rho = Counted(P._einasto_rho, ALPHA)
    p = P.project_profile(rho, m3d_hat=P._einasto_m, xmin=XMIN, xmax=XMAX, rtol=RTOL,
                          args=(ALPHA,))
    tab = p.table("delta_sigma")
    n_rho = rho.n
    u = np.log(tab.knots)
    xc = np.exp(np.concatenate([np.linspace(u[0], u[-1], N_EIN_CHECK)]
                               + [u[:-1] + f * np.diff(u) for f in (0.25, 0.5, 0.75)]))
    xc = np.clip(xc, XMIN, XMAX)
    fc = p.delta_sigma_hat(xc, exact=True)

    def values_at(x):
        return p.delta_sigma_hat(x, exact=True)

    return dict(name=f"Einasto a={ALPHA}", p=p, tab=tab, n_rho=n_rho, xc=xc, fc=fc,
                values_at=values_at)


CASES = {}


def case(name):
    if name not in CASES:
        CASES[name] = _nfw_case() if name == "nfw" else _einasto_case()
    return CASES[name]


# ============================================================================ A. evaluations
@pytest.mark.parametrize("name", ["nfw", "einasto"])
def test_evals_numfit(name, report):
    c = case(name)
    tab = c["tab"]
    err = float(np.max(np.abs(tab(c["xc"]) / c["fc"] - 1.0)))
    g = f"A profiles: {c['name']} dSigma, X in [1e-4, 1e4], rtol 1e-6"
    assert tab.converged and err <= RTOL, f"{c['name']}: error {err:.3g} > {RTOL:g}"
    report.add(g, "numfit AutoKnots table evaluations (quadratures)", tab.n_evals,
               note=f"{c['n_rho']} rho evaluations; {tab.n_rounds} rounds")
    report.add(g, "numfit achieved max |s/f-1| / rtol", err / RTOL, goal=1.0,
               higher_is_better=False, note=f"{len(c['xc'])} check points")


@pytest.mark.parametrize("name", ["nfw", "einasto"])
def test_evals_uniform_grid(name, report):
    c = case(name)
    g = f"A profiles: {c['name']} dSigma, X in [1e-4, 1e4], rtol 1e-6"
    n_nf = c["tab"].n_evals
    for n in GRID_SIZES:
        err = uniform_error(c["values_at"], n, c["xc"], c["fc"])
        report.add(g, f"uniform ln-grid {n} pts + CubicSpline: max |s/f-1| / rtol",
                   err / RTOL, note="meets tol" if err <= RTOL else "MISSES tol")
    n_tol = smallest_size(lambda n: uniform_error(c["values_at"], n, c["xc"], c["fc"]), RTOL,
                          n_min=8, n_max=2 ** 14)
    if n_tol is None:
        report.add(g, "smallest uniform ln-grid meeting 1e-6", None, note="none <= 2^14")
    else:
        report.ratio(g, "smallest uniform ln-grid meeting 1e-6 / numfit evals", n_tol, n_nf,
                     note=f"n={n_tol} (an oracle that knows n; numfit {n_nf})")


def _colossus():
    pytest.importorskip("colossus")
    from colossus.cosmology import cosmology as cc
    cc.setCosmology("numfit_profiles_bench",
                    params=dict(flat=True, H0=70.0, Om0=0.3, Ob0=0.05, sigma8=0.81,
                                ns=0.96, relspecies=False))
    from colossus.halo import profile_einasto, profile_nfw
    return profile_nfw, profile_einasto


def _colossus_einasto(profile_einasto):
    return profile_einasto.EinastoProfile(M=M * H, c=C, z=Z, mdef="200c", alpha=ALPHA)


def _count_colossus(col):
    """Wrap the instance's densityInner / surfaceDensityInner with point counters."""
    counts = dict(rho=0, sigma=0)
    dens, surf = col.densityInner, col.surfaceDensityInner

    def density(r):
        counts["rho"] += np.size(r)
        return dens(r)

    def surface(r, **kw):
        counts["sigma"] += np.size(r)
        return surf(r, **kw)

    col.densityInner = density
    col.surfaceDensityInner = surface
    return counts


def test_evals_colossus_einasto(report):
    _, profile_einasto = _colossus()
    c = case("einasto")
    ours = P.EinastoProfile(M, C, Z, alpha=ALPHA, cosmology=Cosmology(H0=70.0, Om0=0.3),
                            rtol=RTOL)
    col = _colossus_einasto(profile_einasto)
    counts = _count_colossus(col)
    xs = c["xc"][:: max(1, len(c["xc"]) // (100 if QUICK else 400))]
    R_kpch = xs * ours.r_s * 1e3 * H
    ds = col.deltaSigma(R_kpch) * H * 1e6                    # M_sun h/kpc^2 -> M_sun/Mpc^2
    ref = ours.rho_s * ours.r_s * c["p"].delta_sigma_hat(xs, exact=True)
    err = float(np.max(np.abs(ds / ref - 1.0)))
    g = f"A profiles: {c['name']} dSigma, X in [1e-4, 1e4], rtol 1e-6"
    report.add(g, "colossus deltaSigma: density evaluations", counts["rho"],
               note=f"ln-grid step 0.1 to 1e8 kpc/h; {counts['sigma']} Sigma quads")
    report.add(g, "colossus deltaSigma (default accuracy 1e-4): max |s/f-1| / 1e-6",
               err / RTOL, note=f"{len(xs)} radii; max rel error {err:.2g}")


def test_evals_colossus_nfw(report):
    profile_nfw, _ = _colossus()
    c = case("nfw")
    ours = P.NFWProfile(M, C, Z, cosmology=Cosmology(H0=70.0, Om0=0.3))
    col = profile_nfw.NFWProfile(M=M * H, c=C, z=Z, mdef="200c")
    counts = _count_colossus(col)
    xs = c["xc"][:: max(1, len(c["xc"]) // (100 if QUICK else 400))]
    ref = ours.rho_s * ours.r_s * nfw_delta_sigma_hat(xs)
    ds = col.deltaSigma(xs * ours.r_s * 1e3 * H) * H * 1e6
    err = float(np.max(np.abs(ds / ref - 1.0)))
    g = f"A profiles: {c['name']} dSigma, X in [1e-4, 1e4], rtol 1e-6"
    report.add(g, "colossus NFW deltaSigma: closed-form Sigma evaluations", counts["sigma"],
               note="ln-grid step 0.1 from 1e-6 kpc/h, spline, quad per radius")
    report.add(g, "colossus NFW deltaSigma (default accuracy 1e-4): max |s/f-1| / 1e-6",
               err / RTOL, note=f"{len(xs)} radii; max rel error {err:.2g}")
    cf = col._deltaSigmaInner(xs * ours.r_s * 1e3 * H) * H * 1e6
    err_cf = float(np.max(np.abs(cf / ref - 1.0)))
    report.add(g, "colossus NFW closed form (private _deltaSigmaInner): max |s/f-1| / 1e-6",
               err_cf / RTOL, note=f"max rel error {err_cf:.2g} (cancellation)")


# ============================================================================ B. time
def _radii(r_s):
    return np.geomspace(1e-3, 1e3, N_TIME) * r_s


def test_time_einasto_vs_colossus(benchmark, timing, report):
    _, profile_einasto = _colossus()
    cosmo = Cosmology(H0=70.0, Om0=0.3)
    ours = P.EinastoProfile(M, C, Z, alpha=ALPHA, cosmology=cosmo, rtol=RTOL)
    R = _radii(ours.r_s)
    col = _colossus_einasto(profile_einasto)

    def numfit_run():
        P._CACHE.clear()                                 # build the tables every round
        return P.EinastoProfile(M, C, Z, alpha=ALPHA, cosmology=cosmo,
                                rtol=RTOL).delta_sigma(R)

    last = {}

    def colossus_run():
        last["y"] = col.deltaSigma(R * 1e3 * H) * H * 1e6

    y, _ = timing.with_rounds(3).numfit(benchmark, numfit_run)
    t_nf, t_col = type(timing)(PEER_ROUNDS, 0).paired(numfit_run, colossus_run)
    assert float(np.max(np.abs(last["y"] / y - 1))) < 1e-4
    report.ratio("B profiles time", f"Einasto dSigma, build + {N_TIME} radii: colossus / "
                 "numfit", t_col, t_nf, goal=1.0,
                 note=f"numfit {t_nf * 1e3:.3g} ms, colossus {t_col * 1e3:.3g} ms")
    P._CACHE.clear()
    p = ours.projection
    t2 = timing.with_rounds(3)
    p.table("delta_sigma")
    _, t_eval = t2.peer(lambda: ours.delta_sigma(R))
    report.add("B profiles time", f"Einasto dSigma, {N_TIME} radii from a built table",
               t_eval * 1e3, unit="ms")


def test_time_nfw_vs_colossus(benchmark, timing, report):
    profile_nfw, _ = _colossus()
    cosmo = Cosmology(H0=70.0, Om0=0.3)
    ours = P.NFWProfile(M, C, Z, cosmology=cosmo)
    R = _radii(ours.r_s)
    col = profile_nfw.NFWProfile(M=M * H, c=C, z=Z, mdef="200c")
    peer = type(timing)(PEER_ROUNDS, 0)
    timing.numfit(benchmark, lambda: ours.delta_sigma(R))
    t_nf_closed, t_col = peer.paired(lambda: ours.delta_sigma(R),
                                     lambda: col.deltaSigma(R * 1e3 * H))
    report.ratio("B profiles time", f"NFW dSigma closed form, {N_TIME} radii: colossus / "
                 "numfit", t_col, t_nf_closed, goal=1.0,
                 note=f"numfit {t_nf_closed * 1e3:.3g} ms, colossus {t_col * 1e3:.3g} ms")

    def numerical():
        P._CACHE.clear()
        return P.NFWProfile(M, C, Z, cosmology=cosmo, method="numerical",
                            rtol=RTOL).delta_sigma(R)

    _, t_num = timing.with_rounds(3).peer(numerical)
    report.ratio("B profiles time", f"NFW dSigma numerical (build + {N_TIME} radii): "
                 "colossus / numfit", t_col, t_num,
                 note=f"numfit {t_num * 1e3:.3g} ms, colossus {t_col * 1e3:.3g} ms "
                      "(colossus timed in the paired rounds above)")
