"""Benchmarks of the halo-model basics (numfit.cosmology._halomodel) against the peers.

Bar of the issue: the halo mass function within 1e-3 of colossus' Tinker08 for the same
σ(M).  Peers in the same run: colossus and CCL (both optional, skipped when absent).
Rows are printed at the end of the run and written to ``.benchmarks/numfit_ratios.json``
(see ``conftest.py``); the agreement bar is asserted, timings are reported.
``NUMFIT_BENCH_QUICK=1`` selects 1e3 instead of 1e4 masses and fewer rounds.

Cosmology (all three codes): flat, H0 = 67.74, Om0 = 0.3089, Ob0 = 0.0486, sigma8 =
0.8159, ns = 0.9667, Tcmb0 = 2.7255 K, Neff = 3.046, Eisenstein–Hu (1998) transfer with
wiggles.  colossus works in M_sun/h and (h/Mpc)³, CCL's mass function is dn/dlog10M.

A. Agreement (``test_agreement_*``)
   * same σ: colossus' dn/dlnM (Tinker08, 200m, z = 0, 1, 2) against numfit's multiplicity
     evaluated at colossus' own σ(M) and d ln σ / d ln R (max relative difference, bar
     1e-3); CCL's f(σ) for the same σ likewise; the 200c/vir case (Δ between the nodes of
     Tinker's Table 2, where the peers interpolate differently) is reported.
   * own σ: numfit's MassFunction (its EH σ table) against colossus and CCL end to end.
B. Time (``test_time_*``), alternating rounds, min taken, ratio peer / numfit:
   * dn/dlnM (Tinker08, 200m, z = 0.5) at N masses in [1e10, 1e15.5] M_sun with the σ
     tables already built (colossus and CCL cache theirs in the cosmology object too);
     and numfit including the build of a fresh LinearPower σ table;
   * c(M) (Duffy08 and Bhattacharya13, 200c) at N masses, and Duffy08 in 500c (through
     the NFW conversion) at N/10 masses;
   * NFW conversion 200c → 500c of N haloes (numfit convert_mass vs colossus
     ``changeMassDefinition``).
"""
import math
import os
import warnings

import numpy as np
import pytest

from numfit.cosmology import (Cosmology, LinearPower, MassFunction, concentration,
                              convert_mass, multiplicity)

QUICK = os.environ.get("NUMFIT_BENCH_QUICK", "0") == "1"
N = 1_000 if QUICK else 10_000
PARAMS = dict(H0=67.74, Om0=0.3089, Ob0=0.0486, sigma8=0.8159, ns=0.9667, Tcmb0=2.7255,
              Neff=3.046)
H = PARAMS["H0"] / 100.0
M_TEST = np.geomspace(1e10, 10 ** 15.5, 201)
M_TIME = np.geomspace(1e10, 10 ** 15.5, N)
G_AGREE = "A halo model: agreement, max |numfit/peer - 1|"
G_TIME = f"B halo model time, {N} masses"


def rel(a, b):
    return float(np.max(np.abs(np.asarray(a) / np.asarray(b) - 1.0)))


def _cosmo():
    return Cosmology(H0=PARAMS["H0"], Om0=PARAMS["Om0"], Ob0=PARAMS["Ob0"],
                     Tcmb0=PARAMS["Tcmb0"], Neff=PARAMS["Neff"])


_STATE = {}


def _numfit():
    if "lp" not in _STATE:
        cosmo = _cosmo()
        _STATE["cosmo"] = cosmo
        _STATE["lp"] = LinearPower(cosmo, ns=PARAMS["ns"], sigma8=PARAMS["sigma8"])
    return _STATE["cosmo"], _STATE["lp"]


def _colossus():
    pytest.importorskip("colossus")
    from colossus.cosmology import cosmology as cc
    return cc.setCosmology("numfit_halomodel_bench", dict(flat=True, **PARAMS))


def _ccl():
    ccl = pytest.importorskip("pyccl")
    if "ccl" not in _STATE:
        _STATE["ccl"] = ccl.Cosmology(
            Omega_c=PARAMS["Om0"] - PARAMS["Ob0"], Omega_b=PARAMS["Ob0"], h=H,
            sigma8=PARAMS["sigma8"], n_s=PARAMS["ns"], T_CMB=PARAMS["Tcmb0"],
            Neff=PARAMS["Neff"], m_nu=0.0, transfer_function="eisenstein_hu")
    return ccl, _STATE["ccl"]


def _colossus_sigma(col, M, z):
    from colossus.lss import peaks
    R = peaks.lagrangianR(M * H)
    return col.sigma(R, z), col.sigma(R, z, derivative=True)


# ============================================================================ A. agreement
def test_agreement_tinker08_same_sigma_colossus(report):
    col = _colossus()
    from colossus.halo import mass_so
    from colossus.lss import mass_function as cmf
    worst = 0.0
    for z in (0.0, 1.0, 2.0):
        s, dl = _colossus_sigma(col, M_TEST, z)
        ref = cmf.massFunction(M_TEST * H, z, mdef="200m", model="tinker08", q_out="dndlnM")
        ours = multiplicity(s, "tinker08", z=z, delta_m=200.0) * col.rho_m(0) * 1e9 \
            / (M_TEST * H) * np.abs(dl) / 3.0
        worst = max(worst, rel(ours, ref))
    report.add(G_AGREE, "Tinker08 200m dn/dlnM, same sigma (colossus'), z=0,1,2: "
               "vs colossus", worst, goal=1e-3, higher_is_better=False,
               note=f"{M_TEST.size} masses 1e10-10^15.5 M_sun")
    assert worst <= 1e-3
    for mdef, z in (("200c", 0.0), ("200c", 1.0), ("vir", 0.0)):
        s, _ = _colossus_sigma(col, M_TEST, z)
        dm = mass_so.densityThreshold(z, mdef) / mass_so.densityThreshold(z, "1m")
        ref = cmf.massFunction(M_TEST * H, z, mdef=mdef, model="tinker08", q_out="f")
        report.add(G_AGREE, f"Tinker08 {mdef} z={z:g} f(sigma), same sigma: vs colossus",
                   rel(multiplicity(s, "tinker08", z=z, delta_m=dm), ref),
                   note=f"Delta_m={dm:.0f} between Table-2 nodes: interpolation differs")


def test_agreement_tinker08_same_sigma_ccl(report):
    ccl, cosmo = _ccl()
    sig = np.linspace(0.25, 4.0, 200)
    worst = 0.0
    for z in (0.0, 1.0, 2.0):
        mf = ccl.halos.MassFuncTinker08(mass_def=ccl.halos.MassDef(200, "matter"))
        ref = mf._get_fsigma(cosmo, sig, 1 / (1 + z), np.zeros_like(sig))
        worst = max(worst, rel(multiplicity(sig, "tinker08", z=z), ref))
    report.add(G_AGREE, "Tinker08 200m f(sigma), same sigma, z=0,1,2: vs CCL", worst,
               goal=1e-3, higher_is_better=False)
    assert worst <= 1e-3


def test_agreement_own_sigma(report):
    cosmo, lp = _numfit()
    hmf = MassFunction(lp, "tinker08", "200m")
    col = _colossus()
    from colossus.lss import mass_function as cmf
    ccl, ccosmo = _ccl()
    mf = ccl.halos.MassFuncTinker08(mass_def=ccl.halos.MassDef(200, "matter"))
    for z in (0.0, 1.0):
        n = hmf.dndlnM(M_TEST, z)
        ref_col = cmf.massFunction(M_TEST * H, z, mdef="200m", model="tinker08",
                                   q_out="dndlnM") * H ** 3
        ref_ccl = mf(ccosmo, M_TEST, 1 / (1 + z)) / math.log(10.0)
        s_col, _ = _colossus_sigma(col, M_TEST, z)
        report.add(G_AGREE, f"Tinker08 200m dn/dlnM z={z:g}, own sigma: vs CCL",
                   rel(n, ref_ccl))
        report.add(G_AGREE, f"Tinker08 200m dn/dlnM z={z:g}, own sigma: vs colossus",
                   rel(n, ref_col),
                   note=f"sigma differs by {rel(lp.sigma_mass(M_TEST, z), s_col):.1e}; "
                        "colossus' dln sigma/dln R (interpolated) by ~3e-3")


# ============================================================================ B. time
def test_time_hmf(benchmark, timing, report):
    cosmo, lp = _numfit()
    hmf = MassFunction(lp, "tinker08", "200m")
    z = 0.5
    y, t_nf = timing.numfit(benchmark, lambda: hmf.dndlnM(M_TIME, z))
    _colossus()
    from colossus.lss import mass_function as cmf

    def col_run():
        return cmf.massFunction(M_TIME * H, z, mdef="200m", model="tinker08",
                                q_out="dndlnM") * H ** 3

    ccl, ccosmo = _ccl()
    mf = ccl.halos.MassFuncTinker08(mass_def=ccl.halos.MassDef(200, "matter"))

    def ccl_run():
        return mf(ccosmo, M_TIME, 1 / (1 + z)) / math.log(10.0)

    t_a, t_col = timing.paired(lambda: hmf.dndlnM(M_TIME, z), col_run)
    t_b, t_ccl = timing.paired(lambda: hmf.dndlnM(M_TIME, z), ccl_run)
    t_nf = min(t_nf, t_a, t_b)
    report.ratio(G_TIME, "dn/dlnM Tinker08 (tables built): colossus / numfit", t_col, t_nf,
                 note=f"numfit {t_nf * 1e3:.3g} ms, colossus {t_col * 1e3:.3g} ms; "
                      f"agree to {rel(y, col_run()):.1e}")
    report.ratio(G_TIME, "dn/dlnM Tinker08 (tables built): CCL / numfit", t_ccl, t_nf,
                 note=f"numfit {t_nf * 1e3:.3g} ms, CCL {t_ccl * 1e3:.3g} ms; "
                      f"agree to {rel(y, ccl_run()):.1e}")

    def fresh():
        lp2 = LinearPower(cosmo, ns=PARAMS["ns"], sigma8=PARAMS["sigma8"])
        return MassFunction(lp2, "tinker08", "200m").dndlnM(M_TIME, z)

    _, t_fresh = timing.with_rounds(1 if QUICK else 2).peer(fresh)
    report.add(G_TIME, "numfit dn/dlnM incl. a fresh LinearPower sigma table (rtol 1e-8)",
               t_fresh * 1e3, unit="ms")


def test_time_concentration(timing, report):
    cosmo, lp = _numfit()
    _colossus()
    from colossus.halo import concentration as ccon
    ccl, ccosmo = _ccl()
    for model, cm_cls in (("duffy08", "ConcentrationDuffy08"),
                          ("bhattacharya13", "ConcentrationBhattacharya13")):
        def ours():
            return concentration(M_TIME, 0.5, "200c", model, cosmology=cosmo, power=lp)

        def col_run():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return ccon.concentration(M_TIME * H, "200c", 0.5, model=model)

        cm = getattr(ccl.halos, cm_cls)(mass_def=ccl.halos.MassDef(200, "critical"))
        t_nf, t_col = timing.paired(ours, col_run)
        t_nf2, t_ccl = timing.paired(ours, lambda: cm(ccosmo, M_TIME, 1 / 1.5))
        t_nf = min(t_nf, t_nf2)
        report.ratio(G_TIME, f"c(M) {model} 200c: colossus / numfit", t_col, t_nf,
                     note=f"numfit {t_nf * 1e3:.3g} ms; agree to {rel(ours(), col_run()):.1e}")
        report.ratio(G_TIME, f"c(M) {model} 200c: CCL / numfit", t_ccl, t_nf,
                     note=f"CCL {t_ccl * 1e3:.3g} ms; agree to "
                          f"{rel(ours(), cm(ccosmo, M_TIME, 1 / 1.5)):.1e}")


def test_time_concentration_other_mdef(timing, report):
    """c_500c from Duffy08 (calibrated for 200c): numfit iterates convert_mass to the
    200c halo; colossus converts too (slow: ~0.5 ms a halo), so its rows use N/10 masses."""
    cosmo, _ = _numfit()
    _colossus()
    from colossus.halo import concentration as ccon
    m = M_TIME[::10]

    def ours():
        return concentration(m, 0.5, "500c", "duffy08", cosmology=cosmo)

    def col_run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ccon.concentration(m * H, "500c", 0.5, model="duffy08")

    t_nf, t_col = type(timing)(1, 0).paired(ours, col_run)
    report.ratio(G_TIME, f"c(M) duffy08 in 500c (via NFW conversion), {m.size} masses: "
                 "colossus / numfit", t_col, t_nf,
                 note=f"numfit {t_nf * 1e3:.3g} ms, colossus {t_col * 1e3:.3g} ms; agree to "
                      f"{rel(ours(), col_run()):.1e}")


def test_time_convert_mass(timing, report):
    cosmo, _ = _numfit()
    _colossus()
    from colossus.halo import mass_defs
    c = np.geomspace(20.0, 3.0, N)

    def ours():
        return convert_mass(M_TIME, c, 0.5, "200c", "500c", cosmo)

    def col_run():
        return mass_defs.changeMassDefinition(M_TIME * H, c, 0.5, "200c", "500c")

    t_nf, t_col = timing.paired(ours, col_run)
    err = rel(ours()[0] * H, col_run()[0])
    report.ratio(G_TIME, "NFW convert_mass 200c -> 500c: colossus / numfit", t_col, t_nf,
                 note=f"numfit {t_nf * 1e3:.3g} ms, colossus {t_col * 1e3:.3g} ms; masses "
                      f"agree to {err:.1e}")
    Mo, _, co = ours()
    Mb, _, cb = convert_mass(Mo, co, 0.5, "500c", "200c", cosmo)
    report.add(G_AGREE, "convert_mass round trip 200c -> 500c -> 200c (mass)",
               rel(Mb, M_TIME), goal=1e-12, higher_is_better=False)
    report.add(G_AGREE, "convert_mass 200c -> 500c vs colossus changeMassDefinition", err,
               goal=1e-6, higher_is_better=False)
