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

Massive neutrinos (issue 16, part 3; the ``test_massive_neutrino_*`` rows): D_L with the exact
Fermi–Dirac density against an independent quadrature (quad of 1/E, E from a quad of the
Fermi–Dirac integral) at rtol 1e-6 and 1e-8; the build + D_L time against numfit's
astropy-fit path (``neutrino_model="astropy"``, the treatment before), astropy and CCL; and
the D_L differences of astropy (Komatsu et al. 2011 fit), CCL with its defaults and CCL at the
same physics (Neff = 3, T_ncdm = (4/11)^(1/3)) at z = 0.5, 1, 2, 5.
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


# --------------------------------------------------------------------------- massive neutrinos
# Issue 16, part 3: massive neutrinos with the exact Fermi-Dirac density (the default,
# ``neutrino_model="exact"``) against an independent quadrature, against numfit's own
# astropy-fit path (the treatment before, kept as ``neutrino_model="astropy"``), astropy
# (Komatsu et al. 2011 fit, quad per redshift) and CCL (its own neutrino integral, splines).
NU_BASE = dict(H0=67.7, Om0=0.31, Ob0=0.049, Tcmb0=2.7255, Neff=3.046)
NU_CASES = {"0, 0, 0.06 eV": [0.0, 0.0, 0.06], "3 x 0.1 eV": [0.1, 0.1, 0.1]}
if not QUICK:
    NU_CASES["3 x 0.06 eV"] = [0.06, 0.06, 0.06]
NU_Z = np.array([0.5, 1.0, 2.0, 5.0])               # the D_L comparison redshifts
_KB_EV = 1.380649e-23 / 1.602176634e-19
_F0 = 7.0 * math.pi ** 4 / 120.0


def _fd_quad(v):
    """F(v) = int x^2 sqrt(x^2 + v^2) / (e^x + 1) dx by scipy.integrate.quad (an independent
    reference: split at a geometric sequence below min(v, 1), at v, and out to 80)."""
    from scipy import integrate
    s0 = min(v, 1.0)
    pts = {0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 40.0, 80.0}
    pts |= {s0 * 2.0 ** k for k in range(-3, 80) if 0.0 < s0 * 2.0 ** k < 1.0}
    if 1.0 < v < 80.0:
        pts.add(v)
    pts = sorted(pts)

    def f(x):
        return x * x * math.sqrt(x * x + v * v) / (math.exp(x) + 1.0)
    return math.fsum(integrate.quad(f, a, b, epsabs=0.0, epsrel=1e-13, limit=200)[0]
                     for a, b in zip(pts[:-1], pts[1:]))


def _nu_reference_dl(c, z):
    """D_L at sorted z of a flat massive-neutrino Cosmology from its parameters only: E(z) with
    the quad Fermi-Dirac density, chi by quad of 1/E between consecutive redshifts."""
    from scipy import integrate
    n = int(math.floor(c.Neff))
    scale = 7.0 / 8.0 * (4.0 / 11.0) ** (4.0 / 3.0) * c.Neff / n
    y = [m / (_KB_EV * (4.0 / 11.0) ** (1.0 / 3.0) * c.Tcmb0) for m in c.m_nu if m > 0]

    def rel(a):
        return scale * (n - len(y) + sum(_fd_quad(yi * a) for yi in y) / _F0)
    ode = 1.0 - c.Om0 - c.Ogamma0 * (1.0 + rel(1.0))

    def inv_e(t):
        a = 1.0 / (1.0 + t)
        return 1.0 / math.sqrt((c.Ogamma0 * (1.0 + rel(a)) / a + c.Om0) / a ** 3 + ode)
    edges = np.concatenate(([0.0], z))
    parts = [integrate.quad(inv_e, a, b, epsabs=0.0, epsrel=1e-12, limit=200)[0]
             for a, b in zip(edges[:-1], edges[1:])]
    return c.hubble_distance * np.cumsum(parts) * (1.0 + z)


def _ccl(m, same_physics=False):
    pyccl = pytest.importorskip("pyccl")
    kw = dict(T_ncdm=(4.0 / 11.0) ** (1.0 / 3.0), Neff=3.0) if same_physics else \
        dict(Neff=NU_BASE["Neff"])                       # CCL's default T_ncdm = 0.71611
    return pyccl, pyccl.Cosmology(
        Omega_c=NU_BASE["Om0"] - NU_BASE["Ob0"], Omega_b=NU_BASE["Ob0"],
        h=NU_BASE["H0"] / 100.0, n_s=0.96, sigma8=0.8, T_CMB=NU_BASE["Tcmb0"], m_nu=m,
        transfer_function="bbks", **kw)


@pytest.mark.parametrize("name", list(NU_CASES))
def test_massive_neutrino_distances_vs_quadrature(name, report):
    """Goal: the tables within rtol (1e-6, 1e-8) of an independent quadrature (quad of 1/E,
    E from a quad of the Fermi-Dirac integral) on [1e-5, 10], z -> 0 and the top included."""
    m = NU_CASES[name]
    z = np.unique(np.concatenate((np.geomspace(1e-5, 0.1, 6 if QUICK else 12),
                                  np.linspace(0.1, 10.0, 15 if QUICK else 45))))
    ref = _nu_reference_dl(Cosmology(**NU_BASE, m_nu=m), z)
    g = f"cosmology massive neutrinos [{name}]"
    for rtol in (1e-6, 1e-8):
        err = float(np.max(np.abs(Cosmology(**NU_BASE, m_nu=m, rtol=rtol)
                                  .luminosity_distance(z) / ref - 1.0)))
        assert err <= rtol                                      # the table's promise
        report.add(g, f"rtol {rtol:g}: max |D_L / D_L quad - 1| ({z.size} z)", err,
                   goal=rtol, higher_is_better=False, note=f"err/rtol {err / rtol:.3f}")


@pytest.mark.parametrize("name", list(NU_CASES))
def test_massive_neutrino_timing(name, benchmark, timing, report):
    """Build + D_L at N_Z redshifts: the exact density against numfit's astropy-fit path (the
    treatment before; goal: exact within 2x of it), astropy (quad per redshift: a 1/50 slice,
    scaled) and CCL (cosmology + D_L, its splines), the same cosmology for all."""
    m = NU_CASES[name]

    def nf():
        return Cosmology(**NU_BASE, m_nu=m).luminosity_distance(Z)

    def nf_fit():
        return Cosmology(**NU_BASE, m_nu=m, neutrino_model="astropy").luminosity_distance(Z)

    d_nf, _ = timing.numfit(benchmark, nf)
    t_nf, t_fit = timing.paired(nf, nf_fit)
    g = f"cosmology massive neutrinos [{name}]"
    report.ratio(g, f"{N_Z} z: numfit exact t / numfit astropy-fit t", t_nf, t_fit,
                 goal=2.0, higher_is_better=False,
                 note=f"exact {t_nf * 1e3:.3g} ms, fit {t_fit * 1e3:.3g} ms")
    pytest.importorskip("astropy.cosmology")
    ap = Cosmology(**NU_BASE, m_nu=m, neutrino_model="astropy").to_astropy()
    n_ap = N_Z // 50
    _, t_part = timing.with_rounds(1).peer(lambda: ap.luminosity_distance(Z[:n_ap]).value)
    t_ap = t_part * N_Z / n_ap
    report.ratio(g, f"{N_Z} z: astropy t / numfit exact t (astropy scaled from 1/50)", t_ap,
                 t_nf, note=f"astropy {t_ap * 1e3:.3g} ms, numfit {t_nf * 1e3:.3g} ms")
    pyccl = pytest.importorskip("pyccl")
    a = 1.0 / (1.0 + Z)

    def ccl():
        return pyccl.luminosity_distance(_ccl(m)[1], a)
    t_nf, t_ccl = timing.paired(nf, ccl)
    report.ratio(g, f"{N_Z} z: CCL t / numfit exact t (cosmology + D_L)", t_ccl, t_nf,
                 note=f"CCL {t_ccl * 1e3:.3g} ms, numfit {t_nf * 1e3:.3g} ms")


@pytest.mark.parametrize("name", list(NU_CASES))
def test_massive_neutrino_dl_differences(name, report):
    """D_L relative differences from numfit-exact at z = 0.5, 1, 2, 5: astropy (the Komatsu et
    al. 2011 fit), CCL with its defaults (T_ncdm = 0.71611: a different sharing of Neff) and
    CCL at the same physics (Neff = 3, T_ncdm = (4/11)^(1/3): only numerics differ)."""
    m = NU_CASES[name]
    ex = Cosmology(**NU_BASE, m_nu=m, rtol=1e-10).luminosity_distance(NU_Z)
    ap = Cosmology(**NU_BASE, m_nu=m, neutrino_model="astropy").to_astropy()
    d_ap = ap.luminosity_distance(NU_Z).value / ex - 1.0
    pyccl, cc = _ccl(m)
    d_ccl = pyccl.luminosity_distance(cc, 1.0 / (1.0 + NU_Z)) / ex - 1.0
    ex3 = Cosmology(**{**NU_BASE, "Neff": 3.0}, m_nu=m, rtol=1e-10).luminosity_distance(NU_Z)
    _, cc3 = _ccl(m, same_physics=True)
    d_ccl3 = pyccl.luminosity_distance(cc3, 1.0 / (1.0 + NU_Z)) / ex3 - 1.0
    g = f"cosmology massive neutrinos [{name}]"
    for who, d in (("astropy (Komatsu fit)", d_ap), ("CCL defaults", d_ccl),
                   ("CCL same physics", d_ccl3)):
        report.add(g, f"D_L {who} / numfit exact - 1 at z = 0.5, 1, 2, 5",
                   float(np.max(np.abs(d))), note=", ".join(f"{v:+.2e}" for v in d))
    assert np.max(np.abs(d_ap)) < 5e-6 and np.max(np.abs(d_ccl3)) < 1e-5
