"""Distances, lookback time and linear growth for three cosmologies.

Computes, for a flat Planck-like ΛCDM model, a flat w0–wa ("DESI-like") dark-energy model
and an open model (Ωk ≈ 0.1):

* the comoving, transverse comoving, angular-diameter and luminosity distances [Mpc], the
  distance modulus [mag] and the lookback time [Gyr] at z = 0.1, 0.5, 1, 2, 5;
* the linear growth factor D(z)/D(0) and growth rate f = d ln D / d ln a, next to the
  classic approximation f ≈ Ωm(z)^0.55;
* how many function evaluations each AutoKnots table needed and the accuracy it achieved
  against direct quadrature (``exact=True``) on a grid of redshifts;
* optionally (if astropy is installed) the luminosity distance of astropy's equivalent
  models, as an independent check.

It saves two plots into ``--out``: ``distances_and_growth.png`` (distances and growth
against z, astropy overlaid as dots when available) and ``distance_table_accuracy.png``
(achieved relative error of every table against z, with the tolerance).

Run::

    python distances_and_growth.py            # full mode (rtol = 1e-8, dense checks)
    python distances_and_growth.py --quick --out /tmp/plots

Units: Mpc, Gyr, km/s/Mpc (no factors of h).
"""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from numfit.cosmology import Cosmology, RedshiftRangeError  # noqa: E402

Z_TABLE = np.array([0.1, 0.5, 1.0, 2.0, 5.0])
TCMB = 2.7255          # K; with Tcmb0 > 0 photons and Neff = 3.046 neutrinos are included


def make_models(rtol):
    """The three cosmologies of this example, all with radiation included."""
    return [
        Cosmology(H0=67.7, Om0=0.31, Ob0=0.049, Tcmb0=TCMB, rtol=rtol, name="Planck-like"),
        Cosmology(H0=67.7, Om0=0.31, Ob0=0.049, w0=-0.75, wa=-0.85, Tcmb0=TCMB, rtol=rtol,
                  name="w0-wa"),
        Cosmology(H0=70.0, Om0=0.3, Ode0=0.6, Ob0=0.05, Tcmb0=TCMB, rtol=rtol,
                  name="open"),
    ]


def astropy_models():
    """astropy's versions of the same three models, or None if astropy is missing."""
    try:
        from astropy.cosmology import Flatw0waCDM, FlatLambdaCDM, LambdaCDM
    except ImportError:
        return None
    common = dict(Tcmb0=TCMB, Neff=3.046)          # massless neutrinos, as numfit
    return [
        FlatLambdaCDM(H0=67.7, Om0=0.31, Ob0=0.049, **common),
        Flatw0waCDM(H0=67.7, Om0=0.31, Ob0=0.049, w0=-0.75, wa=-0.85, **common),
        LambdaCDM(H0=70.0, Om0=0.3, Ode0=0.6, Ob0=0.05, **common),
    ]


def print_distances(cosmo):
    z = Z_TABLE
    print(f"\n{cosmo.name}: {cosmo!r}")
    print(f"  Ok0 = {cosmo.Ok0:.4f}, Or0 = {cosmo.Or0:.3e}, "
          f"D_H = c/H0 = {cosmo.hubble_distance:.2f} Mpc, t_H = {cosmo.hubble_time:.3f} Gyr")
    print(f"  {'z':>5} {'D_C [Mpc]':>11} {'D_M [Mpc]':>11} {'D_A [Mpc]':>11} "
          f"{'D_L [Mpc]':>11} {'mu [mag]':>9} {'t_L [Gyr]':>10}")
    cols = (cosmo.comoving_distance(z), cosmo.comoving_transverse_distance(z),
            cosmo.angular_diameter_distance(z), cosmo.luminosity_distance(z),
            cosmo.distmod(z), cosmo.lookback_time(z))
    for i, zi in enumerate(z):
        dc, dm, da, dl, mu, tl = (c[i] for c in cols)
        print(f"  {zi:5.1f} {dc:11.2f} {dm:11.2f} {da:11.2f} {dl:11.2f} {mu:9.4f} {tl:10.4f}")


def print_growth(cosmo):
    z = Z_TABLE
    D, f, om = cosmo.growth_factor(z), cosmo.growth_rate(z), cosmo.Om(z)
    print(f"  {'z':>5} {'D(z)/D(0)':>10} {'f(z)':>8} {'Om(z)^0.55':>11}")
    for i, zi in enumerate(z):
        print(f"  {zi:5.1f} {D[i]:10.6f} {f[i]:8.5f} {om[i] ** 0.55:11.5f}")


def table_accuracy(cosmo, z):
    """Achieved max |table / exact - 1| of each quantity on the redshifts ``z``.

    Returns a dict name -> (table name, errors array).  ``exact=True`` integrates with
    scipy.integrate.quad (distances) or solves the growth ODE at these redshifts.
    """
    checks = {
        "comoving_distance": ("comoving_distance", cosmo.comoving_distance),
        "lookback_time": ("lookback_time", cosmo.lookback_time),
        "growth_factor": ("growth", cosmo.growth_factor),
        "growth_rate": ("growth", cosmo.growth_rate),
    }
    out = {}
    for label, (table_name, func) in checks.items():
        approx, exact = func(z), func(z, exact=True)
        out[label] = (table_name, np.abs(approx / exact - 1.0))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="looser tables and fewer check points (a few seconds)")
    parser.add_argument("--out", default=".", help="directory for the PNG files")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    rtol = 1e-6 if args.quick else 1e-8
    n_check = 25 if args.quick else 400
    models = make_models(rtol)

    # ------------------------------------------------------------ distances and growth
    print(f"Distances and growth at z = {', '.join(f'{z:g}' for z in Z_TABLE)} "
          f"(tables to rtol = {rtol:g})")
    for cosmo in models:
        print_distances(cosmo)
        print_growth(cosmo)

    # ------------------------------------------------------------ table cost and accuracy
    z_check = np.geomspace(1e-3, models[0].zmax, n_check)
    print(f"\nAutoKnots tables: evaluations needed and achieved accuracy vs exact=True "
          f"on {n_check} redshifts in [1e-3, {models[0].zmax:g}]")
    print(f"  {'model':<12} {'quantity':<18} {'table':<18} {'n_evals':>7} "
          f"{'max |rel err|':>14} {'err/rtol':>9}")
    all_ok = True
    errors = {}
    for cosmo in models:
        errors[cosmo.name] = acc = table_accuracy(cosmo, z_check)
        for label, (table_name, err) in acc.items():
            tab = cosmo.table(table_name)
            ratio = err.max() / cosmo.rtol
            all_ok &= bool(ratio <= 2.0)
            print(f"  {cosmo.name:<12} {label:<18} {table_name:<18} {tab.n_evals:7d} "
                  f"{err.max():14.2e} {ratio:9.2f}")

    # ------------------------------------------------------------ beyond the table range
    planck = models[0]
    try:
        planck.comoving_distance(20.0)
    except RedshiftRangeError as exc:
        print(f"\nz = 20 is beyond zmax = {exc.zmax:g}: RedshiftRangeError; "
              "using cosmo.extended(30) instead")
        wide = planck.extended(30.0)
        print(f"  D_C(z=20) = {wide.comoving_distance(20.0):.2f} Mpc "
              f"(quadrature: {planck.comoving_distance(20.0, exact=True):.2f} Mpc)")

    # ------------------------------------------------------------ astropy, if installed
    ap_models = astropy_models()
    if ap_models is None:
        print("\nastropy not installed: comparison skipped")
    else:
        print("\nastropy comparison: max |D_L / D_L(astropy) - 1| and "
              "|t_L / t_L(astropy) - 1| at the table redshifts")
        for cosmo, ap in zip(models, ap_models):
            dl = np.abs(cosmo.luminosity_distance(Z_TABLE)
                        / ap.luminosity_distance(Z_TABLE).value - 1).max()
            tl = np.abs(cosmo.lookback_time(Z_TABLE)
                        / ap.lookback_time(Z_TABLE).value - 1).max()
            print(f"  {cosmo.name:<12} D_L: {dl:.1e}   t_L: {tl:.1e}")

    # ------------------------------------------------------------ plots
    z = np.geomspace(1e-3, 10.0, 300 if args.quick else 2000)
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4.5))
    for cosmo, color in zip(models, ("C0", "C1", "C2")):
        ax0.loglog(z, cosmo.luminosity_distance(z), color=color, label=f"{cosmo.name} D_L")
        ax0.loglog(z, cosmo.comoving_distance(z), color=color, ls="--",
                   label=f"{cosmo.name} D_C")
        ax0.loglog(z, cosmo.angular_diameter_distance(z), color=color, ls=":",
                   label=f"{cosmo.name} D_A")
        ax1.plot(z, cosmo.growth_factor(z), color=color, label=f"{cosmo.name} D(z)/D(0)")
        ax1.plot(z, cosmo.growth_rate(z), color=color, ls="--", label=f"{cosmo.name} f(z)")
    if ap_models is not None:
        zs = np.geomspace(1e-2, 10.0, 12)
        for ap in ap_models:
            ax0.loglog(zs, ap.luminosity_distance(zs).value, "k.", ms=4)
        ax0.plot([], [], "k.", label="astropy D_L")
    ax0.set_xlabel("z")
    ax0.set_ylabel("distance [Mpc]")
    ax0.legend(fontsize=7, ncol=2)
    ax1.set_xscale("log")
    ax1.set_xlabel("z")
    ax1.set_ylabel("linear growth")
    ax1.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "distances_and_growth.png"), dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for label, (_, err) in errors[planck.name].items():
        ax.loglog(z_check, np.maximum(err, 1e-17), label=label)
    ax.axhline(planck.rtol, color="k", ls="--", label="rtol")
    ax.set_ylim(1e-4 * planck.rtol, 10 * planck.rtol)
    ax.set_xlabel("z")
    ax.set_ylabel("|table / exact - 1|")
    ax.set_title(f"{planck.name}: AutoKnots tables vs quadrature")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "distance_table_accuracy.png"), dpi=100)
    plt.close(fig)
    print(f"\nsaved distances_and_growth.png and distance_table_accuracy.png in {args.out}")

    print("all table accuracy checks passed" if all_ok else "SOME TABLE CHECKS FAILED")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
