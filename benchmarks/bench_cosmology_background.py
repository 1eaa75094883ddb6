"""Benchmark of :class:`numfit.cosmology.Cosmology` distances against astropy and colossus.

Task (issue 5): the luminosity distance at 10^6 redshifts uniform in [0, 10] (10^5 in quick
mode), starting from a fresh cosmology object each round (the table build is part of the
cost), for

* ``flat``: flat ΛCDM without radiation (H0 = 70, Om0 = 0.3) — astropy's fast path
  (Carlson elliptic integrals, exact to rounding);
* ``w0wa+rad``: flat w0–wa (w0 = -0.9, wa = 0.2) with photons and massless neutrinos
  (Tcmb0 = 2.7255 K, Neff = 3.046) — astropy integrates with ``scipy.integrate.quad`` per
  redshift.

(Colossus interpolates only its luminosity and angular-diameter distances; its
``comovingDistance`` integrates per redshift, 45 s for 10^5, so D_L is the quantity timed.)
Accuracy of every code is measured against ``Cosmology.luminosity_distance(z, exact=True)``
(``scipy.integrate.quad`` at epsrel 1e-13, checked against mpmath to ~1e-16) on every
1000th redshift and the 20 smallest ones.  *Matched accuracy*: numfit is
timed at the tolerance that matches each peer's measured error (the largest decade
``rtol <= peer error``, floored at numfit's minimum 1e-12), so a ratio compares equal
accuracy, and also at its default rtol = 1e-8.  Colossus (``interpolation=True``, its
default: fixed tables in ln(1+z)) is built fresh each round with ``persistence=''``.
Ratios are peer time / numfit time (> 1: numfit faster).
"""
import math
import os

import numpy as np
import pytest

from numfit.cosmology import Cosmology

QUICK = os.environ.get("NUMFIT_BENCH_QUICK", "0") == "1"
N_Z = 100_000 if QUICK else 1_000_000
Z = np.random.default_rng(20261122).uniform(0.0, 10.0, N_Z)
# accuracy probes: every 1000th redshift and the 20 smallest (astropy's elliptic-integral
# path loses digits as z -> 0: 4.7e-11 relative at z = 1.2e-5)
SUB = np.union1d(np.arange(0, N_Z, 1000), np.argsort(Z)[:20])
CASES = {
    "flat": dict(H0=70.0, Om0=0.3),
    "w0wa+rad": dict(H0=70.0, Om0=0.3, Ode0=None, w0=-0.9, wa=0.2, Tcmb0=2.7255, Neff=3.046),
}


def _err(d, ref):
    return float(np.max(np.abs(d[SUB] / ref - 1.0)))


def _matched_rtol(peer_err):
    return max(1e-12, 10.0 ** math.floor(math.log10(max(peer_err, 1e-300))))


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    kw = CASES[request.param]
    ref = Cosmology(**kw).luminosity_distance(Z[SUB], exact=True)
    return request.param, kw, ref


def _numfit_run(kw, rtol):
    def run():
        return Cosmology(**kw, rtol=rtol).luminosity_distance(Z)
    return run


def _astropy_run(kw):
    ac = pytest.importorskip("astropy.cosmology")
    if kw.get("w0", -1.0) == -1.0 and kw.get("wa", 0.0) == 0.0:
        co = ac.FlatLambdaCDM(H0=kw["H0"], Om0=kw["Om0"], Tcmb0=kw.get("Tcmb0", 0.0),
                              Neff=kw.get("Neff", 3.046))
    else:
        co = ac.Flatw0waCDM(H0=kw["H0"], Om0=kw["Om0"], w0=kw["w0"], wa=kw["wa"],
                            Tcmb0=kw.get("Tcmb0", 0.0), Neff=kw.get("Neff", 3.046),
                            m_nu=0.0)

    def run(z=Z):
        return co.luminosity_distance(z).value
    return run


def _colossus_run(kw):
    cc = pytest.importorskip("colossus.cosmology.cosmology")
    extra = dict(de_model="w0wa", w0=kw["w0"], wa=kw["wa"]) if "w0" in kw else {}
    rad = kw.get("Tcmb0", 0.0) > 0

    def run():
        co = cc.Cosmology(name="numfit-bench", flat=True, H0=kw["H0"], Om0=kw["Om0"],
                          Ob0=0.05, sigma8=0.8, ns=0.96, relspecies=rad,
                          Tcmb0=kw.get("Tcmb0", 2.7255), Neff=kw.get("Neff", 3.046),
                          persistence="", print_warnings=False, **extra)
        return co.luminosityDistance(Z) / co.h
    return run


def _report(report, group, peer, t_peer, t_nf, rtol, err_nf, n_evals):
    report.ratio(group, f"{N_Z} z, numfit rtol {rtol:g}: {peer} t / numfit t", t_peer, t_nf,
                 note=f"numfit {t_nf * 1e3:.3g} ms ({n_evals} evals, err {err_nf:.2g}), "
                      f"{peer} {t_peer * 1e3:.3g} ms")


def test_distances_vs_astropy(case, benchmark, timing, report):
    name, kw, ref = case
    peer = _astropy_run(kw)
    slow = "w0" in kw                         # quad per redshift: time a slice, scale up
    n_peer = N_Z if not slow else N_Z // 50
    d_peer = peer(Z[:n_peer] if slow else Z)
    err_peer = float(np.max(np.abs(peer(Z[SUB]) / ref - 1.0)))
    rtol = _matched_rtol(err_peer)
    nf = _numfit_run(kw, rtol)
    d_nf, t_nf = timing.numfit(benchmark, nf)
    err_nf = _err(d_nf, ref)
    assert err_nf <= rtol                                    # the table's promise
    assert np.allclose(d_nf[:n_peer], d_peer, rtol=max(rtol, err_peer) * 2, atol=0)
    if slow:
        _, t_part = timing.with_rounds(1).peer(lambda: peer(Z[:n_peer]))
        t_peer = t_part * N_Z / n_peer
    else:
        t_nf, t_peer = timing.paired(nf, peer)
    g = f"cosmology distances [{name}]"
    n_evals = Cosmology(**kw, rtol=rtol).table("comoving_distance").n_evals
    _report(report, g, "astropy" + (" (scaled from a 1/50 slice)" if slow else ""),
            t_peer, t_nf, rtol, err_nf, n_evals)
    report.add(g, "astropy max |d/exact - 1|", err_peer)
    report.add(g, f"numfit rtol {rtol:g}: max |d/exact - 1|", err_nf, goal=rtol,
               higher_is_better=False)
    if hasattr(benchmark, "extra_info"):
        benchmark.extra_info.update(rtol=rtol, n_evals=n_evals, err=err_nf,
                                    astropy_s=t_peer)


def test_distances_vs_colossus(case, timing, report):
    name, kw, ref = case
    peer = _colossus_run(kw)
    d_peer = peer()
    err_peer = _err(d_peer, ref)
    rtol = _matched_rtol(err_peer)
    g = f"cosmology distances [{name}]"
    report.add(g, "colossus max |d/exact - 1| (interpolation tables)", err_peer)
    for r in sorted({rtol, 1e-8}, reverse=True):
        nf = _numfit_run(kw, r)
        t_nf, t_peer = timing.paired(nf, peer)
        d_nf = nf()
        err_nf = _err(d_nf, ref)
        assert err_nf <= r
        n_evals = Cosmology(**kw, rtol=r).table("comoving_distance").n_evals
        _report(report, g, "colossus", t_peer, t_nf, r, err_nf, n_evals)
    assert err_peer < 1e-3                                   # same model: sanity only


def test_from_astropy_planck18(benchmark, timing, report):
    """Issue 16, part 4: ``Cosmology.from_astropy(Planck18)`` (massive neutrinos included)
    against astropy's own distances for the same object, D_L at the redshifts of this file
    (z >= 1e-3: astropy's flat fast path is exact there); goal: within 1e-8."""
    ac = pytest.importorskip("astropy.cosmology")
    zz = Z[Z >= 1e-3]
    sub = zz[::100]

    def nf():
        return Cosmology.from_astropy(ac.Planck18).luminosity_distance(zz)

    def peer():
        return ac.Planck18.luminosity_distance(zz).value

    d_nf, _ = timing.numfit(benchmark, nf)
    ref = ac.Planck18.luminosity_distance(sub).value
    err = float(np.max(np.abs(d_nf[::100] / ref - 1.0)))
    err_exact = float(np.max(np.abs(Cosmology.from_astropy(ac.Planck18).luminosity_distance(
        sub, exact=True) / ref - 1.0)))
    assert err <= 1e-8
    t_nf, t_peer = timing.paired(nf, peer)
    g = "cosmology from_astropy(Planck18)"
    report.add(g, "max |D_L numfit / D_L astropy - 1| (rtol 1e-8 table)", err, goal=1e-8,
               higher_is_better=False)
    report.add(g, "max |D_L numfit exact / D_L astropy - 1|", err_exact)
    report.ratio(g, f"{zz.size} z: astropy t / numfit t (from_astropy + table build)",
                 t_peer, t_nf, note=f"numfit {t_nf * 1e3:.3g} ms, astropy {t_peer * 1e3:.3g} ms")
