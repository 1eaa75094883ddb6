"""Demo section "cosmology": adaptive tables of distances, growth, ΔΣ(R) and σ(M).

Prints, for a Planck-like flat ΛCDM background, how many evaluations each AutoKnots table
took and the error it achieved against direct quadrature (``exact=True``), then lensing
profiles ΔΣ(R) of NFW and Einasto haloes and σ(M) from the Eisenstein–Hu power spectrum.
"""
import time

import numpy as np

from .._report import table as _table

__all__ = ["cosmology_demo"]


def _err(table, exact):
    m = exact != 0
    return float(np.max(np.abs(table[m] / exact[m] - 1.0)))


def cosmology_demo(out_dir, quick):
    from . import Cosmology, EinastoProfile, LinearPower, NFWProfile
    rtol = 1e-6 if quick else 1e-8
    t0 = time.perf_counter()
    cosmo = Cosmology(H0=67.7, Om0=0.31, Ob0=0.049, Tcmb0=2.7255, rtol=rtol)
    print(f"Background tables to rtol = {rtol:g}: {cosmo!r}\n")
    z = np.linspace(0.0, 10.0, 11 if quick else 41)
    rows = []
    for label, fn, table in (("comoving distance", cosmo.comoving_distance, "comoving_distance"),
                             ("lookback time", cosmo.lookback_time, "lookback_time"),
                             ("growth factor", cosmo.growth_factor, "growth"),
                             ("growth rate", cosmo.growth_rate, "growth")):
        err = _err(fn(z), fn(z, exact=True))
        rows.append((label, cosmo.table(table).n_evals, f"{err:.2e}", f"{err / rtol:.3f}"))
    _table(("quantity", "evals", "max |table/exact - 1|", "/ rtol"), rows)
    zs = np.array([0.1, 0.5, 1.0, 2.0, 5.0])
    print()
    _table(("z", "D_L [Mpc]", "mu [mag]", "t_L [Gyr]", "D(z)/D(0)", "f(z)"),
           [(f"{a:g}", f"{b:.2f}", f"{c:.4f}", f"{d:.4f}", f"{e:.6f}", f"{f:.5f}")
            for a, b, c, d, e, f in zip(zs, cosmo.luminosity_distance(zs), cosmo.distmod(zs),
                                        cosmo.lookback_time(zs), cosmo.growth_factor(zs),
                                        cosmo.growth_rate(zs))])

    R = np.array([0.05, 0.2, 1.0, 3.0])
    nfw = NFWProfile(1e14, 5.0, z=0.3, cosmology=cosmo)
    ein = EinastoProfile(1e14, 5.0, z=0.3, cosmology=cosmo, alpha=0.18, rtol=rtol)
    num = NFWProfile(1e14, 5.0, z=0.3, cosmology=cosmo, method="numerical", rtol=rtol)
    print(f"\nDeltaSigma(R) [M_sun/pc^2] of M_200c = 1e14 M_sun, c = 5 haloes at z = 0.3 "
          f"(r_200c = {nfw.r_delta:.4f} Mpc)")
    _table(("R [Mpc]", "NFW closed", "NFW numerical", "rel. diff", "Einasto a=0.18"),
           [(f"{r:g}", f"{a / 1e12:.5f}", f"{b / 1e12:.5f}", f"{abs(b / a - 1):.1e}",
             f"{c / 1e12:.5f}")
            for r, a, b, c in zip(R, nfw.delta_sigma(R), num.delta_sigma(R),
                                  ein.delta_sigma(R))])
    print(f"tables: NFW numerical {num.projection.table('delta_sigma').n_evals} evals, "
          f"Einasto {ein.projection.table('delta_sigma').n_evals} evals")

    lp = LinearPower(cosmo, ns=0.965, sigma8=0.81, rtol=rtol)
    M = np.array([1e10, 1e12, 1e14, 1e15])
    print(f"\nsigma(M), Eisenstein-Hu with baryon wiggles, sigma(8/h Mpc) = "
          f"{lp.sigma(8.0 / cosmo.h):.8f} (sigma8 = 0.81); table: "
          f"{lp.table('sigma').n_evals} evals")
    _table(("M [M_sun]", "R(M) [Mpc]", "sigma(M, z=0)", "sigma(M, z=1)"),
           [(f"{m:.0e}", f"{r:.4f}", f"{a:.5f}", f"{b:.5f}")
            for m, r, a, b in zip(M, lp.lagrangian_radius(M), lp.sigma_mass(M),
                                  lp.sigma_mass(M, z=1.0))])
    print(f"\ncosmology section: {time.perf_counter() - t0:.1f} s")
    return []
