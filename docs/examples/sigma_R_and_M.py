"""rms linear fluctuation σ(R) and σ(M) from the Eisenstein–Hu power spectrum.

For a flat Planck-like cosmology (ns = 0.965, sigma8 = 0.81) this script

* checks the normalisation: σ(8/h Mpc, z = 0) from the AutoKnots table and from direct
  quadrature (``exact=True``) against sigma8;
* prints σ(R) at R = 1, 8/h and 20 Mpc at z = 0 and z = 1, with the Eisenstein–Hu (1998)
  transfer function with baryon wiggles and without them ("no-wiggle");
* prints σ(M) for M = 1e10 ... 1e15 M_sun (Lagrangian radius R(M) = (3M / 4πρ̄m0)^(1/3))
  at z = 0 and 1, and the peak height ν = δc / σ with δc = 1.686;
* reports the evaluations the σ table needed and its achieved accuracy against ``exact``;
* optionally (if colossus is installed) compares σ(R) with colossus' "eisenstein98" and
  "eisenstein98_zb" models.

It saves ``sigma_mass.png`` (σ(M) at z = 0 and 1, wiggle/no-wiggle ratio) and
``linear_power.png`` (P(k) and the baryon wiggles) into ``--out``.

Run::

    python sigma_R_and_M.py            # full mode (σ tables to rtol = 1e-8)
    python sigma_R_and_M.py --quick --out /tmp/plots

Units: k in 1/Mpc, R in Mpc, M in M_sun, P(k) in Mpc³ (physical, no factors of h).
"""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from numfit.cosmology import Cosmology, LinearPower  # noqa: E402

NS, SIGMA8 = 0.965, 0.81
DELTA_C = 1.686
MASSES = np.logspace(10, 15, 6)            # M_sun
REDSHIFTS = (0.0, 1.0)
TRANSFERS = {"wiggle": "eisenstein_hu", "no-wiggle": "eisenstein_hu_nowiggle"}


def colossus_sigma(cosmo, R, z, model):
    """σ(R [Mpc], z) from colossus with the same parameters, or None without colossus."""
    try:
        from colossus.cosmology import cosmology as ccosmo
    except ImportError:
        return None
    col = ccosmo.setCosmology("numfit-example", dict(
        flat=True, H0=cosmo.H0, Om0=cosmo.Om0, Ob0=cosmo.Ob0, Tcmb0=cosmo.Tcmb0,
        Neff=cosmo.Neff, sigma8=SIGMA8, ns=NS))
    # colossus takes R in Mpc/h; giving kmin and kmax [h/Mpc] makes it integrate directly
    # instead of interpolating its own sigma table (which is good to only ~4e-4)
    return np.array([col.sigma(r * cosmo.h, z, ps_args={"model": model}, kmin=1e-6,
                               kmax=1e4) for r in np.atleast_1d(R)])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="looser tables and fewer check points (a few seconds)")
    parser.add_argument("--out", default=".", help="directory for the PNG files")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    rtol = 1e-5 if args.quick else 1e-8
    n_check = 12 if args.quick else 120
    cosmo = Cosmology(H0=67.7, Om0=0.31, Ob0=0.049, Tcmb0=2.7255, name="Planck-like")
    power = {label: LinearPower(cosmo, ns=NS, sigma8=SIGMA8, transfer=transfer, rtol=rtol)
             for label, transfer in TRANSFERS.items()}
    r8 = 8.0 / cosmo.h
    print(f"Linear power for {cosmo!r}")
    print(f"ns = {NS}, sigma8 = {SIGMA8}; sigma tables to rtol = {rtol:g} on "
          f"[{power['wiggle'].Rmin:g}, {power['wiggle'].Rmax:g}] Mpc")

    # ------------------------------------------------------------ normalisation
    print(f"\nsigma8 check: sigma(R = 8/h = {r8:.4f} Mpc, z = 0)")
    all_ok = True
    for label, lp in power.items():
        tab, exact = lp.sigma(r8), lp.sigma(r8, exact=True)
        all_ok &= abs(tab / SIGMA8 - 1) <= 2 * rtol and abs(exact / SIGMA8 - 1) <= 1e-10
        print(f"  {label:<10} table {tab:.10f}   exact {exact:.10f}   "
              f"table/sigma8 - 1 = {tab / SIGMA8 - 1:+.1e}")

    # ------------------------------------------------------------ σ(R)
    R = np.array([1.0, r8, 20.0])
    print("\nsigma(R)")
    print(f"  {'R [Mpc]':>8} " + " ".join(f"{f'{lab}, z={z:g}':>17}"
                                        for lab in power for z in REDSHIFTS))
    cols = [power[lab].sigma(R, z) for lab in power for z in REDSHIFTS]
    for i, r in enumerate(R):
        print(f"  {r:8.4f} " + " ".join(f"{c[i]:17.6f}" for c in cols))

    # ------------------------------------------------------------ σ(M)
    lp = power["wiggle"]
    print("\nsigma(M) and peak height nu = 1.686 / sigma")
    print(f"  {'M [M_sun]':>9} {'R(M) [Mpc]':>10} {'sigma z=0':>10} {'sigma z=1':>10} "
          f"{'no-wig z=0':>10} {'no-wig z=1':>10} {'wig/no-wig':>10} {'nu z=0':>7} "
          f"{'nu z=1':>7}")
    sig = {(lab, z): power[lab].sigma_mass(MASSES, z) for lab in power for z in REDSHIFTS}
    radii = lp.lagrangian_radius(MASSES)
    for i, m in enumerate(MASSES):
        s0, s1 = sig["wiggle", 0.0][i], sig["wiggle", 1.0][i]
        n0, n1 = sig["no-wiggle", 0.0][i], sig["no-wiggle", 1.0][i]
        print(f"  {m:9.0e} {radii[i]:10.4f} {s0:10.5f} {s1:10.5f} {n0:10.5f} {n1:10.5f} "
              f"{s0 / n0:10.5f} {DELTA_C / s0:7.3f} {DELTA_C / s1:7.3f}")
    print(f"  (growth factor D(z=1) = {cosmo.growth_factor(1.0):.6f}: "
          "sigma(z=1) = sigma(z=0) D(1))")

    # ------------------------------------------------------------ table cost and accuracy
    R_check = np.geomspace(lp.Rmin, lp.Rmax, n_check)
    print(f"\nsigma(R) tables vs exact=True on {n_check} radii in "
          f"[{lp.Rmin:g}, {lp.Rmax:g}] Mpc")
    print(f"  {'transfer':<10} {'n_evals':>7} {'max |rel err|':>14} {'err/rtol':>9}")
    errors = {}
    for label, p in power.items():
        err = np.abs(p.sigma(R_check) / p.sigma(R_check, exact=True) - 1)
        errors[label] = err
        all_ok &= bool(err.max() <= 2 * rtol)
        print(f"  {label:<10} {p.table('sigma').n_evals:7d} {err.max():14.2e} "
              f"{err.max() / rtol:9.2f}")

    # ------------------------------------------------------------ colossus, if installed
    try:
        import colossus  # noqa: F401
    except ImportError:
        print("\ncolossus not installed: comparison skipped")
    else:
        print("\ncolossus comparison at z = 0: sigma / sigma(colossus) - 1 at R = "
              + ", ".join(f"{r:.3g}" for r in R) + " Mpc")
        for label, model in (("wiggle", "eisenstein98"), ("no-wiggle", "eisenstein98_zb")):
            ratio = power[label].sigma(R) / colossus_sigma(cosmo, R, 0.0, model) - 1
            print(f"  {label:<10} ({model}): " + ", ".join(f"{v:+.1e}" for v in ratio))

    # ------------------------------------------------------------ plots
    M = np.geomspace(1e8, 1e16, 120 if args.quick else 600)
    fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(6.5, 7), sharex=True,
                                   gridspec_kw=dict(height_ratios=(3, 1.3)))
    for z, color in zip(REDSHIFTS, ("C0", "C1")):
        s_w = power["wiggle"].sigma_mass(M, z)
        s_n = power["no-wiggle"].sigma_mass(M, z)
        ax0.loglog(M, s_w, color=color, label=f"wiggle, z = {z:g}")
        ax0.loglog(M, s_n, color=color, ls="--", label=f"no-wiggle, z = {z:g}")
        ax1.semilogx(M, s_w / s_n, color=color)
    ax0.axhline(DELTA_C, color="k", lw=0.5, ls=":", label=r"$\delta_c$ = 1.686")
    ax0.set_ylabel(r"$\sigma(M)$")
    ax0.legend(fontsize=8)
    ax1.set_xlabel(r"M [M$_\odot$]")
    ax1.set_ylabel("wiggle / no-wiggle")
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "sigma_mass.png"), dpi=100)
    plt.close(fig)

    k = np.geomspace(1e-4, 10.0, 400 if args.quick else 2000)
    fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(6.5, 7), sharex=True,
                                   gridspec_kw=dict(height_ratios=(3, 1.3)))
    for z, color in zip(REDSHIFTS, ("C0", "C1")):
        ax0.loglog(k, power["wiggle"].power(k, z), color=color, label=f"wiggle, z = {z:g}")
        ax0.loglog(k, power["no-wiggle"].power(k, z), color=color, ls="--",
                   label=f"no-wiggle, z = {z:g}")
    ax1.semilogx(k, power["wiggle"].power(k) / power["no-wiggle"].power(k), color="C0")
    ax0.set_ylabel(r"P(k) [Mpc$^3$]")
    ax0.legend(fontsize=8)
    ax1.set_xlabel("k [1/Mpc]")
    ax1.set_ylabel("wiggle / no-wiggle")
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "linear_power.png"), dpi=100)
    plt.close(fig)
    print(f"\nsaved sigma_mass.png and linear_power.png in {args.out}")

    print("all sigma checks passed" if all_ok else "SOME SIGMA CHECKS FAILED")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
