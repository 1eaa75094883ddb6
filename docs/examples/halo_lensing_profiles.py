"""Weak-lensing excess surface density ΔΣ(R) of NFW, Hernquist and Einasto haloes.

For haloes of M200c = 1e13, 1e14 and 1e15 M_sun at z = 0.3 in a flat Planck-like
cosmology, with the Duffy et al. (2008) concentration–mass relation, this script

* prints r200c, r_s and ΔΣ(R) at R = 0.1, 0.3, 1 and 3 Mpc (physical) for the three
  profile shapes (one-halo term only: no two-halo term is added beyond r200c).  All three
  use the same c = r200c / r_s, for illustration: r_s is where the NFW and Einasto
  log-slopes are -2, but a Hernquist profile's slope is -2 at r_s / 2;
* checks the numerical projection (AutoKnots tables of a Gauss–Legendre line-of-sight
  integral) against the closed forms of NFW and Hernquist, and the Einasto table against
  direct quadrature (``exact=True``), printing the evaluations each table needed;
* optionally (if colossus is installed) compares the NFW ΔΣ with colossus.

numfit works in M_sun and Mpc, so ΔΣ comes out in M_sun/Mpc²; lensing papers quote
M_sun/pc², so the printed and plotted values are divided by 1e12 (1 Mpc² = 1e12 pc²).

It saves ``halo_delta_sigma.png`` (ΔΣ(R) of the nine haloes, and each profile's ratio to
NFW) and ``halo_projection_accuracy.png`` (achieved error of the numerical tables) into
``--out``.

Run::

    python halo_lensing_profiles.py            # full mode (tables to rtol = 1e-8)
    python halo_lensing_profiles.py --quick --out /tmp/plots
"""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from numfit.cosmology import (Cosmology, EinastoProfile, HernquistProfile,  # noqa: E402
                              NFWProfile)

PER_PC2 = 1e-12          # M_sun/Mpc² -> M_sun/pc²
Z_LENS = 0.3
MASSES = (1e13, 1e14, 1e15)                  # M200c [M_sun]
R_TABLE = np.array([0.1, 0.3, 1.0, 3.0])     # projected radii [Mpc], physical
ALPHA = 0.18                                 # Einasto shape, typical of cluster haloes
PROFILES = {"NFW": NFWProfile, "Hernquist": HernquistProfile, "Einasto": EinastoProfile}


def duffy08_concentration(mass, z, h):
    """c200c(M, z) of Duffy et al. (2008), full sample: 5.71 (M / 2e12 h⁻¹M_sun)^-0.084
    (1+z)^-0.47 (M in M_sun, converted to their h⁻¹ M_sun pivot)."""
    return 5.71 * (mass / (2e12 / h)) ** -0.084 * (1.0 + z) ** -0.47


def make_halo(kind, mass, cosmo, **kwargs):
    conc = duffy08_concentration(mass, Z_LENS, cosmo.h)
    extra = {"alpha": ALPHA} if kind == "Einasto" else {}
    return PROFILES[kind](mass, conc, Z_LENS, cosmology=cosmo, delta=200.0,
                          reference="critical", **extra, **kwargs)


def colossus_delta_sigma(cosmo, mass, conc, R):
    """NFW ΔΣ [M_sun/pc²] from colossus, or None if it is not installed."""
    try:
        from colossus.cosmology import cosmology as ccosmo
        from colossus.halo import profile_nfw
    except ImportError:
        return None
    ccosmo.setCosmology("numfit-example", dict(
        flat=True, H0=cosmo.H0, Om0=cosmo.Om0, Ob0=cosmo.Ob0, Tcmb0=cosmo.Tcmb0,
        Neff=cosmo.Neff, sigma8=0.81, ns=0.965))
    h = cosmo.h
    prof = profile_nfw.NFWProfile(M=mass * h, c=conc, z=Z_LENS, mdef="200c")
    # colossus: M in M_sun/h, R in kpc/h (physical), ΔΣ in h M_sun/kpc²
    return prof.deltaSigma(R * 1e3 * h) * h * 1e-6


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="looser tables and fewer check points (a few seconds)")
    parser.add_argument("--out", default=".", help="directory for the PNG files")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    rtol = 1e-6 if args.quick else 1e-8
    n_check = 60 if args.quick else 600
    cosmo = Cosmology(H0=67.7, Om0=0.31, Ob0=0.049, Tcmb0=2.7255, name="Planck-like")
    print(f"Haloes at z = {Z_LENS} in {cosmo!r}")
    print(f"M200c with Duffy+08 concentrations; Einasto alpha = {ALPHA}; numerical tables "
          f"to rtol = {rtol:g}")

    # ------------------------------------------------------------ ΔΣ at a few radii
    haloes = {(kind, m): make_halo(kind, m, cosmo, rtol=rtol)
              for m in MASSES for kind in PROFILES}
    print("\nDelta Sigma(R) [M_sun/pc^2] (numfit returns M_sun/Mpc^2; divided by 1e12)")
    head = "".join(f"{f'R={r:g} Mpc':>12}" for r in R_TABLE)
    print(f"  {'M200c [M_sun]':>13} {'profile':<10} {'c200c':>6} {'r200c [Mpc]':>11} "
          f"{'r_s [Mpc]':>9}{head}")
    for (kind, m), halo in haloes.items():
        ds = halo.delta_sigma(R_TABLE) * PER_PC2
        vals = "".join(f"{v:12.3f}" for v in ds)
        print(f"  {m:13.0e} {kind:<10} {halo.concentration:6.3f} {halo.r_delta:11.4f} "
              f"{halo.r_s:9.4f}{vals}")
    ein = [haloes["Einasto", m] for m in MASSES]
    print(f"  (the three Einasto haloes share one projection table: "
          f"{ein[0].projection is ein[1].projection is ein[2].projection}, "
          f"{ein[0].projection.table('delta_sigma').n_evals} evaluations)")

    # ------------------------------------------------------------ numerical vs closed form
    R = np.geomspace(0.01, 10.0, n_check)
    print(f"\nNumerical projection vs closed form / direct quadrature on {n_check} radii "
          f"in [0.01, 10] Mpc, all three masses")
    print(f"  {'profile':<10} {'quantity':<22} {'n_evals':>7} {'max |rel err|':>14} "
          f"{'err/rtol':>9}")
    accuracy = {}
    all_ok = True
    for kind in ("NFW", "Hernquist"):
        for quantity in ("delta_sigma", "surface_density", "mean_surface_density"):
            err = 0.0
            for m in MASSES:
                closed = make_halo(kind, m, cosmo)          # closed forms (the default)
                numeric = make_halo(kind, m, cosmo, method="numerical", rtol=rtol)
                e = np.abs(getattr(numeric, quantity)(R) / getattr(closed, quantity)(R) - 1)
                err = np.maximum(err, e)
            table = "mass" if quantity == "mean_surface_density" else \
                "sigma" if quantity == "surface_density" else "delta_sigma"
            n_evals = numeric.projection.table(table).n_evals
            accuracy[f"{kind} {quantity}"] = err
            all_ok &= bool(err.max() <= 2 * rtol)
            print(f"  {kind:<10} {quantity:<22} {n_evals:7d} {err.max():14.2e} "
                  f"{err.max() / rtol:9.2f}")
    proj = ein[0].projection                 # the dimensionless Einasto projection
    err = 0.0
    for halo in ein:
        X = R / halo.r_s
        err = np.maximum(err, np.abs(proj.delta_sigma_hat(X)
                                     / proj.delta_sigma_hat(X, exact=True) - 1))
    accuracy["Einasto delta_sigma (vs exact=True)"] = err
    all_ok &= bool(err.max() <= 2 * rtol)
    print(f"  {'Einasto':<10} {'delta_sigma':<22} {proj.table('delta_sigma').n_evals:7d} "
          f"{err.max():14.2e} {err.max() / rtol:9.2f}")
    nfw = haloes["NFW", 1e14]
    nfw_numeric = make_halo("NFW", 1e14, cosmo, method="numerical", rtol=rtol)
    print(f"  NFW, M = 1e14, R = 1 Mpc: numerical {nfw_numeric.delta_sigma(1.0) * PER_PC2:.8f}"
          f", closed form {nfw.delta_sigma(1.0) * PER_PC2:.8f} M_sun/pc^2")

    # ------------------------------------------------------------ colossus, if installed
    ref = colossus_delta_sigma(cosmo, nfw.mass, nfw.concentration, R_TABLE)
    if ref is None:
        print("\ncolossus not installed: comparison skipped")
    else:
        ratio = nfw.delta_sigma(R_TABLE) * PER_PC2 / ref
        print("\ncolossus NFW comparison (M = 1e14): ΔΣ / ΔΣ(colossus) - 1 = "
              + ", ".join(f"{v:+.1e}" for v in ratio - 1))

    # ------------------------------------------------------------ plots
    Rp = np.geomspace(0.01, 10.0, 150 if args.quick else 600)
    fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(6.5, 7), sharex=True,
                                   gridspec_kw=dict(height_ratios=(3, 1.3)))
    styles = {"NFW": "-", "Hernquist": "--", "Einasto": ":"}
    for m, color in zip(MASSES, ("C0", "C1", "C2")):
        base = haloes["NFW", m].delta_sigma(Rp)
        for kind, ls in styles.items():
            ds = haloes[kind, m].delta_sigma(Rp)
            ax0.loglog(Rp, ds * PER_PC2, color=color, ls=ls,
                       label=f"{kind}, M = {m:.0e}")
            ax1.semilogx(Rp, ds / base, color=color, ls=ls)
        ax0.axvline(haloes["NFW", m].r_delta, color=color, lw=0.5, alpha=0.5)
    ax0.set_ylabel(r"$\Delta\Sigma$ [M$_\odot$/pc$^2$]")
    ax0.set_title(f"M200c haloes at z = {Z_LENS} (vertical lines: r200c)")
    ax0.legend(fontsize=7, ncol=3)
    ax1.set_xlabel("R [Mpc] (physical)")
    ax1.set_ylabel("ratio to NFW")
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "halo_delta_sigma.png"), dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for label, err in accuracy.items():
        if "delta_sigma" in label:
            ax.loglog(R, np.maximum(err, 1e-17), lw=0.8, label=label)
    ax.axhline(rtol, color="k", ls="--", label="rtol")
    ax.set_ylim(1e-4 * rtol, 10 * rtol)
    ax.set_xlabel("R [Mpc]")
    ax.set_ylabel(r"$|\Delta\Sigma$ numerical / reference - 1|")
    ax.set_title(r"$\Delta\Sigma$ tables (worst of the three masses)")
    ax.legend(fontsize=8, loc="upper left", ncol=2)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "halo_projection_accuracy.png"), dpi=100)
    plt.close(fig)
    print(f"\nsaved halo_delta_sigma.png and halo_projection_accuracy.png in {args.out}")

    print("all projection accuracy checks passed" if all_ok
          else "SOME PROJECTION CHECKS FAILED")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
