"""Benchmark of the linear growth factor of :class:`numfit.cosmology.Cosmology` (issue 16,
part 2) against colossus and CCL.

Task: ``D(z)/D(0)`` at 10^5 redshifts uniform in [0, 10] (10^4 in quick mode), starting from
a fresh cosmology object each round (solving the ODE and building the table are part of
the cost), for a flat ΛCDM without radiation (H0 = 67.7, Om0 = 0.31; colossus with
``relspecies=False``, the same background).

Accuracy of every code is measured against the independent DOP853 solve of numfit
(``growth_factor(z, exact=True)``, rtol 1e-12, itself within 1e-11 of Heath's integral) on
every 100th redshift.  *Matched accuracy*: numfit is timed at the largest decade ``rtol``
at or below the peer's measured error, and at its default rtol = 1e-8.  Ratios are peer
time / numfit time (> 1: numfit faster); goal 2x.

CCL (``pyccl``) is timed where installed (``ccl.growth_factor(cosmo, a)`` on a fresh
``pyccl.Cosmology`` with ``transfer_function="eisenstein_hu"``); where it is not, its test
is skipped with a message and colossus is the peer.
"""
import math
import os

import numpy as np
import pytest

from numfit.cosmology import Cosmology

QUICK = os.environ.get("NUMFIT_BENCH_QUICK", "0") == "1"
N_Z = 10_000 if QUICK else 100_000
Z = np.random.default_rng(20261206).uniform(0.0, 10.0, N_Z)
SUB = np.arange(0, N_Z, 100)
PARS = dict(H0=67.7, Om0=0.31)
GOAL = 2.0


@pytest.fixture(scope="module")
def ref():
    return Cosmology(**PARS).growth_factor(Z[SUB], exact=True)


def _matched_rtol(peer_err):
    return max(1e-12, 10.0 ** math.floor(math.log10(max(peer_err, 1e-300))))


def _numfit_run(rtol):
    def run():
        return Cosmology(**PARS, rtol=rtol).growth_factor(Z)
    return run


def _compare(peer_name, peer, ref, benchmark, timing, report):
    d_peer = peer()
    err_peer = float(np.max(np.abs(d_peer[SUB] / ref - 1.0)))
    g = "cosmology growth D(z)"
    report.add(g, f"{peer_name} max |D/exact - 1|", err_peer)
    rtols = sorted({_matched_rtol(err_peer), 1e-8}, reverse=True)
    for rtol in rtols:
        nf = _numfit_run(rtol)
        d_nf, _ = timing.numfit(benchmark, nf) if rtol == rtols[0] else (nf(), None)
        err_nf = float(np.max(np.abs(d_nf[SUB] / ref - 1.0)))
        assert err_nf <= rtol                               # the table's promise
        t_nf, t_peer = timing.paired(nf, peer)
        n = Cosmology(**PARS, rtol=rtol).table("growth").n_evals
        report.ratio(g, f"{N_Z} z, numfit rtol {rtol:g}: {peer_name} t / numfit t", t_peer,
                     t_nf, goal=GOAL,
                     note=f"numfit {t_nf * 1e3:.3g} ms ({n} evals, err {err_nf:.2g}), "
                          f"{peer_name} {t_peer * 1e3:.3g} ms (err {err_peer:.2g})")
    assert err_peer < 1e-3                                  # same model: sanity only


def test_growth_vs_colossus(ref, benchmark, timing, report):
    cc = pytest.importorskip("colossus.cosmology.cosmology")

    def peer():
        co = cc.Cosmology(name="numfit-bench", flat=True, H0=PARS["H0"], Om0=PARS["Om0"],
                          Ob0=0.049, sigma8=0.81, ns=0.965, relspecies=False,
                          persistence="", print_warnings=False)
        return co.growthFactor(Z)
    _compare("colossus", peer, ref, benchmark, timing, report)


def test_growth_vs_ccl(ref, benchmark, timing, report):
    try:
        import pyccl as ccl
    except ImportError:
        pytest.skip("pyccl (CCL) is not installed: growth compared with colossus only")

    def peer():
        co = ccl.Cosmology(Omega_c=PARS["Om0"] - 0.049, Omega_b=0.049, h=PARS["H0"] / 100,
                           n_s=0.965, sigma8=0.81, T_CMB=0.0, Neff=0.0,
                           transfer_function="eisenstein_hu")
        return ccl.growth_factor(co, 1.0 / (1.0 + Z))
    _compare("CCL", peer, ref, benchmark, timing, report)
