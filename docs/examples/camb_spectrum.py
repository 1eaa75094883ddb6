"""σ8, σ(R, z), σ(M, z) and a halo mass function from a CAMB linear power spectrum.

CAMB (Lewis, Challinor & Lasenby 2000, ApJ 538, 473; https://camb.readthedocs.io) is an
optional dependency: without it this script prints how to install it and exits with
status 0.  With it, for a flat Planck-like cosmology with one massive neutrino
(0.06 eV), the script

* runs CAMB once: ``camb.CAMBparams()``, ``pars.set_cosmology(H0=..., ombh2=...,
  omch2=..., mnu=..., num_massive_neutrinos=1, tau=...)``,
  ``pars.InitPower.set_params(As=..., ns=...)``,
  ``pars.set_matter_power(redshifts=[...], kmax=50)`` (k in 1/Mpc) and
  ``results = camb.get_results(pars)``;
* takes CAMB's linear P(k, z) interpolators,
  ``results.get_matter_power_interpolator(nonlinear=False, hubble_units=False,
  k_hunit=False, extrap_kmax=1e4)`` (k in 1/Mpc and P in Mpc³, numfit's units; power-law
  extrapolation above CAMB's kmax), for the total matter (``delta_tot``) and for CDM +
  baryons (``var1=var2="delta_nonu"``).  Their ``.P(z, k)`` takes the redshift *first*,
  so numfit gets ``lambda k, z: PK.P(z, k)``;
* builds the matching numfit :class:`~numfit.cosmology.Cosmology` (``Om0`` = CDM +
  baryons, massive neutrinos apart, as astropy counts them) and a
  :class:`~numfit.cosmology.PowerSpectrum` over ``k_range`` and ``z_range`` from each
  interpolator;
* compares σ8 from numfit with CAMB's ``results.get_sigma8()`` at every redshift and with
  an independent ``scipy.integrate.quad`` of the same interpolated spectrum, σ(R, z) with
  ``results.get_sigmaR(R, hubble_units=False)`` (R in Mpc), and every σ table with
  numfit's direct quadrature (``exact=True``);
* prints σ(M, z) and the peak height, and the Tinker et al. (2008) halo mass function
  ``dn/dlnM`` (200m) with the Tinker et al. (2010) bias from
  :class:`~numfit.cosmology.MassFunction` on the CDM + baryon spectrum (the usual choice
  with massive neutrinos: Castorina et al. 2014, JCAP 02, 049), checked against the same
  formula evaluated with ``exact=True``, and the ``CalibrationRangeWarning`` of that fit
  at z = 3 (beyond the z <= 2.5 it was calibrated on); the mass function is saved with
  its tables (``camb_massfunction.npz``) and reloaded, which needs no CAMB;
* times CAMB, the numfit tables and their evaluation.

The σ8 difference to CAMB's own ``get_sigma8()`` (~2e-4 at CAMB's default k sampling,
~1e-5 with ``k_per_logint=20``, as the full mode uses) is CAMB's internal integral on its
transfer-function k grid, not numfit's: numfit matches the quadrature of the
interpolated spectrum to its ``rtol``.

It saves ``camb_spectrum.png`` (P(k, z), σ(M, z) and dn/dlnM) into ``--out``.

Run::

    pip install camb                      # a binary wheel; seconds
    python camb_spectrum.py               # rtol 1e-8, CAMB with k_per_logint=20 (~1 min)
    python camb_spectrum.py --quick --out /tmp/plots          # rtol 1e-6 (~10 s)

Units: k in 1/Mpc, R in Mpc, M in M_sun, P(k) in Mpc³, dn/dlnM in comoving 1/Mpc³
(physical, no factors of h).
"""
import argparse
import math
import os
import sys
import time
import warnings

import numpy as np

import numfit
from numfit.cosmology import Cosmology, MassFunction, PowerSpectrum, multiplicity

REDSHIFTS = (0.0, 0.5, 1.0, 2.0, 3.0)
MASSES = (1e12, 1e13, 1e14, 1e15)                  # M_sun
# Planck 2018 (TT,TE,EE+lowE+lensing+BAO) best fit, one massive neutrino of 0.06 eV
PLANCK = dict(H0=67.66, ombh2=0.02242, omch2=0.11933, mnu=0.06, tau=0.0561)
AS, NS = 2.105e-9, 0.9665


def quad_sigma(pk, R, kmin, kmax):
    """σ(R) (top-hat) by scipy.integrate.quad of ``pk`` over ln k, in pieces of 0.05."""
    from scipy import integrate

    def g(t):
        k = math.exp(t)
        y = k * R
        w = 3.0 * (math.sin(y) - y * math.cos(y)) / y ** 3 if y > 1e-3 else 1.0 - y * y / 10
        return k ** 3 * float(pk(k)) / (2.0 * math.pi ** 2) * w * w

    edges = np.arange(math.log(kmin), math.log(kmax), 0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        tot = sum(integrate.quad(g, a, b, epsabs=0, epsrel=1e-12, limit=200)[0]
                  for a, b in zip(edges[:-1], edges[1:]))
    return math.sqrt(tot)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="rtol 1e-6 and CAMB at its default k sampling (seconds)")
    parser.add_argument("--out", default=".", help="directory for the PNG file")
    args = parser.parse_args(argv)
    try:
        import camb
    except ImportError:
        print("CAMB is not installed: example skipped (install it with `pip install camb`)")
        return 0
    os.makedirs(args.out, exist_ok=True)
    rtol = 1e-6 if args.quick else 1e-8
    ok = True

    # ------------------------------------------------------------------ CAMB
    t0 = time.perf_counter()
    pars = camb.CAMBparams()
    pars.set_cosmology(num_massive_neutrinos=1, **PLANCK)
    pars.InitPower.set_params(As=AS, ns=NS)
    pars.set_matter_power(redshifts=list(REDSHIFTS), kmax=50.0,
                          k_per_logint=None if args.quick else 20, silent=True)
    results = camb.get_results(pars)
    opts = dict(nonlinear=False, hubble_units=False, k_hunit=False, extrap_kmax=1e4)
    pk_tot = results.get_matter_power_interpolator(**opts)
    pk_cb = results.get_matter_power_interpolator(var1="delta_nonu", var2="delta_nonu",
                                                  **opts)
    t_camb = time.perf_counter() - t0
    sigma8_camb = np.asarray(results.get_sigma8())[::-1]    # CAMB lists z high to low
    print(f"CAMB {camb.__version__}: H0 = {pars.H0}, ombh2 = {pars.ombh2}, "
          f"omch2 = {pars.omch2}, mnu = {PLANCK['mnu']} eV (one massive species), "
          f"As = {AS}, ns = {NS}")
    print(f"  get_results + 2 interpolators: {t_camb:.2f} s "
          f"(k_per_logint = {'default' if args.quick else 20})")

    # ------------------------------------------------------------------ numfit
    h = pars.H0 / 100.0
    cosmo = Cosmology(H0=pars.H0, Om0=(pars.ombh2 + pars.omch2) / h ** 2,
                      Ob0=pars.ombh2 / h ** 2, Tcmb0=pars.TCMB, Neff=pars.N_eff,
                      m_nu=[0.0, 0.0, PLANCK["mnu"]], name="CAMB Planck 2018")
    print(f"numfit: {cosmo!r}")
    # σ tables (2-D in R and z) only over the radii used: the build costs a quadrature
    # per (R, z) node, and smaller radii need more of the window's k ~ 1/R oscillation
    # resolved.  R in [0.3, 40] Mpc is M ~ 4e9 ... 1e16 M_sun.
    k_range, z_range = (1e-5, 1e4), (REDSHIFTS[0], REDSHIFTS[-1])
    R_tot, R_cb = (0.5, 50.0), (0.3, 40.0)
    t0 = time.perf_counter()
    ps_tot = PowerSpectrum(lambda k, z: pk_tot.P(z, k), k_range=k_range, z_range=z_range,
                           R_range=R_tot, cosmology=cosmo, rtol=rtol)
    ps_tot.sigma(8.0 / h)                          # builds the P and σ tables
    t_tot = time.perf_counter() - t0
    t0 = time.perf_counter()
    ps_cb = PowerSpectrum(lambda k, z: pk_cb.P(z, k), k_range=k_range, z_range=z_range,
                          R_range=R_cb, cosmology=cosmo, rtol=rtol)
    ps_cb.sigma(8.0 / h)
    ps_cb.dlnsigma_dlnM(1e14)
    t_cb = time.perf_counter() - t0
    print(f"  PowerSpectrum(lambda k, z: PK.P(z, k), k_range={k_range}, z_range={z_range},"
          f" R_range={R_tot} or {R_cb}, rtol={rtol:g})")
    print(f"  tables built in {t_tot:.2f} s (total matter: P, sigma) and {t_cb:.2f} s "
          "(CDM + baryons: P, sigma, slope)")

    # ------------------------------------------------------------------ σ8
    r8 = 8.0 / h
    s8 = np.array([ps_tot.sigma(r8, z) for z in REDSHIFTS])
    s8_quad = quad_sigma(lambda k: pk_tot.P(0.0, k), r8, *k_range)
    print(f"\nsigma8 = sigma(R = 8/h = {r8:.4f} Mpc, z), total matter")
    print(f"  {'z':>4} {'numfit':>12} {'CAMB get_sigma8':>16} {'numfit/CAMB - 1':>16}")
    for z, a, b in zip(REDSHIFTS, s8, sigma8_camb):
        print(f"  {z:4.1f} {a:12.8f} {b:16.8f} {a / b - 1:16.2e}")
    dev = float(np.max(np.abs(s8 / sigma8_camb - 1)))
    ok &= dev < (5e-4 if args.quick else 5e-5)
    quad_dev = abs(s8[0] / s8_quad - 1)
    ok &= quad_dev < 2 * rtol + 1e-9
    print(f"  z = 0 against scipy quad of the same interpolated P(k): {quad_dev:.1e} "
          f"(rtol {rtol:g})")
    print(f"  CDM + baryons (no neutrinos): sigma8 = {ps_cb.sigma(r8):.8f}")

    # ------------------------------------------------------------------ σ(R, z)
    R = np.array([1.0, r8, 20.0])
    sig_camb = np.asarray(results.get_sigmaR(R, hubble_units=False))[::-1]   # (z, R)
    sig_nf = ps_tot.sigma(R[None, :], np.array(REDSHIFTS)[:, None])
    print("\nsigma(R, z), total matter: numfit and numfit / CAMB get_sigmaR - 1")
    print(f"  {'z':>4} " + " ".join(f"{f'R={r:.3g} Mpc':>22}" for r in R))
    for i, z in enumerate(REDSHIFTS):
        ratio = sig_nf[i] / sig_camb[i] - 1
        print(f"  {z:4.1f} " + " ".join(f"{s:12.8f} {d:+9.1e}"
                                         for s, d in zip(sig_nf[i], ratio)))
    ok &= float(np.max(np.abs(sig_nf / sig_camb - 1))) < 1e-3

    # ------------------------------------------------------------------ σ(M, z), HMF
    masses = np.array(MASSES)
    hmf = MassFunction(ps_cb, model="tinker08", mdef="200m")
    rho = cosmo.mean_matter_density(0.0)
    print("\nCDM + baryons: sigma(M, z), nu = delta_c / sigma, Tinker08 dn/dlnM (200m) "
          "[1/Mpc^3], Tinker10 bias")
    print(f"  {'M [M_sun]':>9} {'z':>4} {'sigma':>11} {'nu':>7} {'dn/dlnM':>11} "
          f"{'bias':>7} {'dn/dlnM/exact-1':>15}")
    worst = 0.0
    for z in (0.0, 1.0):
        sig = hmf.sigma(masses, z)
        n = hmf.dndlnM(masses, z)
        b = hmf.bias(masses, z)
        s_ex = ps_cb.sigma_mass(masses, z, exact=True)
        slope_ex = ps_cb.dlnsigma_dlnM(masses, z, exact=True)
        n_ex = (multiplicity(s_ex, "tinker08", z=z, delta_m=hmf.delta_m(z))
                * rho / masses * np.abs(slope_ex))
        err = n / n_ex - 1
        worst = max(worst, float(np.max(np.abs(err))))
        for i, m in enumerate(masses):
            print(f"  {m:9.0e} {z:4.1f} {sig[i]:11.7f} {hmf.peak_height(m, z):7.4f} "
                  f"{n[i]:11.4e} {b[i]:7.4f} {err[i]:15.1e}")
    ok &= worst < 20 * rtol                    # f(σ) is steep: σ's rtol times |dln f/dln σ|
    # the mass function with its spectrum's tables saves to one file that loads without
    # CAMB (the P table is stored, not the lambda around CAMB's interpolator)
    t0 = time.perf_counter()
    path = hmf.save(os.path.join(args.out, "camb_massfunction.npz"))
    back = numfit.load(path)
    same = bool(np.array_equal(back.dndlnM(masses, 0.5), hmf.dndlnM(masses, 0.5)))
    ok &= same
    print(f"  saved and reloaded in {time.perf_counter() - t0:.2f} s "
          f"({os.path.getsize(path) / 1e6:.1f} MB): dn/dlnM identical: {same}")
    # Tinker et al. (2008) calibrated their fit on 0 <= z <= 2.5: numfit says so beyond
    from numfit.cosmology import CalibrationRangeWarning
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always", CalibrationRangeWarning)
        hmf.dndlnM(1e14, 3.0)
    ok &= len(rec) == 1
    print(f"  dn/dlnM at z = 3: {rec[0].category.__name__ if rec else 'no warning'}: "
          f"{rec[0].message if rec else ''}")

    # ------------------------------------------------------------------ tables vs exact
    Rg = np.geomspace(*R_tot, 12 if args.quick else 60)
    zg = np.linspace(*z_range, 4 if args.quick else 13)
    err = np.abs(ps_tot.sigma(Rg[:, None], zg) / ps_tot.sigma(Rg[:, None], zg, exact=True)
                 - 1)
    ok &= float(err.max()) <= 2 * rtol
    print(f"\nsigma(R, z) table vs exact=True on {Rg.size} x {zg.size} points: "
          f"max {err.max():.1e} = {err.max() / rtol:.2f} rtol "
          f"({ps_tot.table('sigma').n_evals} evaluations)")

    # ------------------------------------------------------------------ timings
    Rt = np.geomspace(0.5, 50.0, 100_000)
    t0 = time.perf_counter()
    ps_tot.sigma(Rt, 0.7)
    t_nf = time.perf_counter() - t0
    t0 = time.perf_counter()
    results.get_sigmaR(np.geomspace(0.5, 50.0, 100), hubble_units=False)
    t_c = time.perf_counter() - t0
    Mt = np.geomspace(1e10, 1e15, 100_000)
    t0 = time.perf_counter()
    hmf.dndlnM(Mt, 0.7)
    t_h = time.perf_counter() - t0
    print(f"timings: numfit sigma(R, z=0.7) on 1e5 radii {t_nf * 1e3:.1f} ms; "
          f"CAMB get_sigmaR on 100 radii x {len(REDSHIFTS)} z {t_c * 1e3:.1f} ms; "
          f"numfit dn/dlnM on 1e5 masses {t_h * 1e3:.1f} ms")

    # ------------------------------------------------------------------ plot
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(15, 4.2))
    k = np.geomspace(1e-4, 50.0, 400)
    M = np.geomspace(1e10, 3e15, 200)
    for z, color in zip((0.0, 1.0, 2.0), ("C0", "C1", "C2")):
        ax[0].loglog(k, pk_tot.P(z, k), color=color, label=f"z = {z:g}")
        ax[1].loglog(M, ps_cb.sigma_mass(M, z), color=color, label=f"z = {z:g}")
        ax[2].loglog(M, hmf.dndlnM(M, z), color=color, label=f"z = {z:g}")
    ax[0].set(xlabel="k [1/Mpc]", ylabel="P(k) [Mpc$^3$]", title="CAMB linear P(k, z)")
    ax[1].set(xlabel=r"M [M$_\odot$]", ylabel=r"$\sigma(M)$", title="CDM + baryons")
    ax[2].set(xlabel=r"M$_{200m}$ [M$_\odot$]", ylabel="dn/dlnM [Mpc$^{-3}$]",
              title="Tinker et al. (2008)")
    ax[2].set_ylim(1e-12, None)
    for a in ax:
        a.legend(fontsize=8)
    fig.tight_layout()
    path = os.path.join(args.out, "camb_spectrum.png")
    fig.savefig(path, dpi=90)
    plt.close(fig)
    print(f"saved camb_spectrum.png in {args.out}")
    print("all CAMB checks passed" if ok else "SOME CAMB CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
