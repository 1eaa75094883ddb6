"""Benchmark of :class:`numfit.cosmology.LinearPower` σ(R) against colossus.

Task: σ(R, z=0) for 10^4 radii log-spaced in [1e-2, 1e2] Mpc, starting from nothing (the
table / interpolation tables are part of the cost), for a Planck-like flat ΛCDM
(H0 = 67.7, Om0 = 0.31, Ob0 = 0.049, Tcmb0 = 2.7255 K, ns = 0.965, sigma8 = 0.81) and the
Eisenstein & Hu (1998) transfer function with baryon wiggles in both codes.

* numfit: ``LinearPower(cosmo, Rmin=1e-2, Rmax=1e2, rtol=...)`` built fresh each round,
  then ``sigma(R)`` (table build + evaluation), at rtol 1e-8 (default) and 1e-4.
* colossus: a fresh ``colossus.cosmology.cosmology.Cosmology`` each round
  (``persistence=''``: no disk cache; ``relspecies=False`` like our cosmology's E(z) is
  irrelevant at z = 0), then ``sigma(R h, 0)`` (R in Mpc/h), whose default
  ``ps_args={'model': 'eisenstein98'}`` is the same EH98 transfer function (checked to
  agree with numfit's to 1e-15 in tests/test_cosmology_power.py).  Colossus builds and
  interpolates its own σ table.

Accuracy of each is measured against numfit's direct quadrature (``exact=True``, ~1e-12)
of the same P(k) on every 50th radius.  Colossus normalises sigma8 with its own
integration (its σ(8/h) comes out ~4e-4 high), so its error is reported both as is and
for the shape σ(R)/σ(8/h Mpc), which removes the normalisation.  Timings are min over
rounds (conftest ``Timing``); ratio = colossus time / numfit time (> 1: numfit faster).
``NUMFIT_BENCH_QUICK=1``: 10^3 radii and fewer rounds.
"""
import math
import os

import numpy as np
import pytest

from numfit.cosmology import Cosmology
from numfit.cosmology._power import LinearPower

QUICK = os.environ.get("NUMFIT_BENCH_QUICK", "0") == "1"
N_R = 1_000 if QUICK else 10_000
PARS = dict(H0=67.7, Om0=0.31, Ob0=0.049, Tcmb0=2.7255)
NS, SIGMA8 = 0.965, 0.81
RADII = np.logspace(-2, 2, N_R)


@pytest.fixture(scope="module")
def cosmo():
    return Cosmology(**PARS)


@pytest.fixture(scope="module")
def exact(cosmo):
    """Direct quadrature at every 50th radius (the accuracy reference)."""
    lp = LinearPower(cosmo, ns=NS, sigma8=SIGMA8, Rmin=1e-2, Rmax=1e2)
    return lp.sigma(RADII[::50], exact=True)


def _numfit(cosmo, rtol):
    def run():
        lp = LinearPower(cosmo, ns=NS, sigma8=SIGMA8, Rmin=1e-2, Rmax=1e2, rtol=rtol)
        return lp.sigma(RADII), lp
    return run


def _colossus_run():
    cc = pytest.importorskip("colossus.cosmology.cosmology")
    h = PARS["H0"] / 100.0

    def run():
        co = cc.Cosmology(name="numfit-bench", flat=True, H0=PARS["H0"], Om0=PARS["Om0"],
                          Ob0=PARS["Ob0"], Tcmb0=PARS["Tcmb0"], ns=NS, sigma8=SIGMA8,
                          relspecies=False, persistence="", print_warnings=False)
        return co.sigma(RADII * h, 0.0), co
    return run


@pytest.mark.parametrize("rtol", [1e-8, 1e-4])
def test_sigma_vs_colossus(rtol, cosmo, exact, benchmark, timing, report):
    col = _colossus_run()
    nf_run = _numfit(cosmo, rtol)
    (s_nf, lp), _ = timing.numfit(benchmark, nf_run)
    s_col, co = col()
    h = PARS["H0"] / 100.0
    err_nf = float(np.max(np.abs(s_nf[::50] / exact - 1)))
    err_col = float(np.max(np.abs(s_col[::50] / exact - 1)))
    shape_col = float(np.max(np.abs(s_col[::50] / co.sigma(8.0, 0.0)
                                    / (exact / SIGMA8) - 1)))
    assert err_nf <= rtol                               # the table's promise
    assert err_col < 0.05                               # same model: a sanity check only
    t_nf, t_col = timing.paired(lambda: nf_run(), lambda: col())
    g = "power sigma(R)"
    n = lp.table().n_evals
    if hasattr(benchmark, "extra_info"):
        benchmark.extra_info.update(n_evals=n, colossus_min_s=t_col, err=err_nf)
    report.ratio(g, f"{N_R} radii, rtol {rtol:g}: colossus t / numfit t", t_col, t_nf,
                 note=f"numfit {t_nf * 1e3:.3g} ms ({n} evals), colossus {t_col * 1e3:.3g} ms")
    report.add(g, f"rtol {rtol:g}: numfit max |sigma/exact - 1|", err_nf, goal=rtol,
               higher_is_better=False)
    if rtol == 1e-8:
        report.add(g, "colossus max |sigma/exact - 1|", err_col,
                   note=f"colossus sigma(8/h) = {co.sigma(8.0, 0.0):.6g} vs {SIGMA8}")
        report.add(g, "colossus max shape error (sigma/sigma8)", shape_col)
    assert math.isfinite(t_nf) and math.isfinite(t_col) and h > 0
