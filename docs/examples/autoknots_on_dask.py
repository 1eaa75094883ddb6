"""Tabulating an expensive cosmology integral with AutoKnots on a Dask cluster.

The function tabulated is the lensing efficiency of a Smail-like source distribution
n(z) ∝ z² exp(-(z/z0)^1.5) on [0, zmax],

    g(z) = ∫_z^zmax n(z_s) [1 - χ(z)/χ(z_s)] dz_s,

with the comoving distance χ computed by quadrature at every z_s
(``Cosmology.comoving_distance(z, exact=True)``): a nested integral, 5–40 ms per z on one
core.  The cosmic-shear kernel is W(z) = (3/2) Ωm (H0/c)² (1 + z) χ(z) g(z).

``numfit.autoknots(g, 0, zmax, vectorized=False, workers=client.get_executor().map)``
evaluates each AutoKnots round on the cluster's workers.  The script

* tabulates g serially and on the cluster, checks that the knots and values are identical
  and prints both wall times and the speedup (the cluster's start-up is timed separately);
* checks the table against direct evaluations of g (computed on the cluster too);
* saves ``lensing_efficiency_dask.png`` into ``--out``: g and W with the knots, and the
  achieved error against the tolerance.

By default it starts a ``LocalCluster`` of two single-threaded worker processes on this
machine.  ``--scheduler tcp://host:8786`` connects to a running cluster instead (a
multi-node one: nothing else changes).  Without ``distributed`` installed it falls back to
a ``concurrent.futures.ProcessPoolExecutor`` and says so.

Run::

    python autoknots_on_dask.py                      # rtol = 1e-7 (~250 evaluations)
    python autoknots_on_dask.py --quick --out /tmp/plots
    python autoknots_on_dask.py --scheduler tcp://scheduler:8786 --out plots/

Units: Mpc, km/s/Mpc (no factors of h).
"""
import argparse
import math
import os
import sys
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy import integrate  # noqa: E402

import numfit as nf  # noqa: E402
from numfit.cosmology import Cosmology  # noqa: E402

C_KM_S = 299_792.458        # speed of light [km/s]


class LensingEfficiency:
    """``g(z)`` for sources with n(z) ∝ z² exp(-(z/z0)^1.5) on [0, zmax] (normalised).

    A plain class with a ``__call__``: Dask ships it to the workers with cloudpickle (the
    cosmology object travels with it); ``numfit`` must be installed there.
    """

    def __init__(self, cosmo, z0=0.5, zmax=3.0, epsrel=1e-9):
        self.cosmo, self.z0, self.zmax, self.epsrel = cosmo, z0, zmax, epsrel
        self.norm = 1.0
        self.norm = integrate.quad(self.n_of_z, 0.0, zmax, epsabs=0.0, epsrel=1e-12)[0]

    def n_of_z(self, z):
        return z * z * math.exp(-(z / self.z0) ** 1.5) / self.norm

    def __call__(self, z):
        if z >= self.zmax:
            return 0.0
        chi = self.cosmo.comoving_distance(z, exact=True)

        def integrand(zs):
            return self.n_of_z(zs) * (1.0 - chi / self.cosmo.comoving_distance(zs, exact=True))

        return integrate.quad(integrand, z, self.zmax, epsabs=0.0, epsrel=self.epsrel,
                              limit=200)[0]


def start_cluster(scheduler, n_workers):
    """(client, cluster, what) for Dask, or (executor, None, what) without distributed."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        from concurrent.futures import ProcessPoolExecutor
        ex = ProcessPoolExecutor(n_workers)
        return ex, None, (f"distributed not installed: using "
                          f"ProcessPoolExecutor({n_workers}) instead")
    if scheduler:
        client = Client(scheduler)                   # a running (multi-node) cluster
        return client, None, f"Dask cluster at {scheduler}"
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    client = Client(cluster)
    return client, cluster, (f"Dask LocalCluster: {n_workers} worker processes, "
                             "1 thread each")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="rtol 1e-5 and fewer check points (about 10 s with start-up)")
    parser.add_argument("--out", default=".", help="directory for the PNG file")
    parser.add_argument("--scheduler", default=None,
                        help="address of a running Dask scheduler (default: a LocalCluster)")
    parser.add_argument("--workers", type=int, default=2,
                        help="worker processes of the LocalCluster (default 2)")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    rtol = 1e-5 if args.quick else 1e-7
    atol = 1e-2 * rtol                   # g(0) = 1 and g(zmax) = 0: an absolute floor
    n_check = 8 if args.quick else 40
    cosmo = Cosmology(H0=67.7, Om0=0.31, Ob0=0.049, w0=-0.75, wa=-0.85, Tcmb0=2.7255,
                      name="w0-wa")
    g = LensingEfficiency(cosmo)
    opts = dict(rtol=rtol, atol=atol, vectorized=False)
    print(f"Lensing efficiency g(z) on [0, {g.zmax:g}] for {cosmo.name} sources with "
          f"z0 = {g.z0:g}; AutoKnots rtol = {rtol:g}, atol = {atol:g}")

    # ------------------------------------------------------------ serial
    t0 = time.perf_counter()
    serial = nf.autoknots(g, 0.0, g.zmax, **opts)
    t_serial = time.perf_counter() - t0
    print(f"\nserial:   {serial.n_evals} evaluations in {serial.n_rounds} rounds "
          f"{serial.round_sizes}: {t_serial:.2f} s")

    # ------------------------------------------------------------ on the cluster
    t0 = time.perf_counter()
    client, cluster, what = start_cluster(args.scheduler, args.workers)
    try:
        if cluster is not None or args.scheduler:
            client.wait_for_workers(1)
            client.run(lambda: __import__("numfit.interpolate"))   # imports, once
            pmap = client.get_executor().map
            n_threads = sum(client.nthreads().values())
        else:
            pmap = client.map
            n_threads = args.workers
        t_start = time.perf_counter() - t0
        print(f"{what} ({n_threads} threads), started in {t_start:.1f} s")

        t0 = time.perf_counter()
        table = nf.autoknots(g, 0.0, g.zmax, workers=pmap, **opts)
        t_par = time.perf_counter() - t0
        same = (np.array_equal(table.knots, serial.knots)
                and np.array_equal(table.values, serial.values))
        print(f"parallel: {table.n_evals} evaluations in {table.n_rounds} rounds: "
              f"{t_par:.2f} s")
        print(f"speedup {t_serial / t_par:.2f} on {n_threads} workers; identical knots and "
              f"values: {same}")

        # direct evaluations at points between the knots, also on the cluster
        z_check = np.sort(np.concatenate([
            np.linspace(0.0, g.zmax, n_check + 2)[1:-1],
            0.5 * (table.knots[:-1] + table.knots[1:])[::max(1, table.n_evals // n_check)]]))
        exact = np.array(list(pmap(g, z_check.tolist())))
    finally:
        if cluster is not None or args.scheduler:
            client.close()
            if cluster is not None:
                cluster.close()
        else:
            client.shutdown()

    # ------------------------------------------------------------ accuracy and a table
    approx = table(z_check)
    ratio = np.abs(approx - exact) / (rtol * np.abs(exact) + atol)
    acc_ok = bool(ratio.max() <= 1.0)
    print(f"\ntable vs direct g at {z_check.size} redshifts between knots: "
          f"max |err| / (rtol |g| + atol) = {ratio.max():.3f}")
    zt = np.array([0.0, 0.25, 0.5, 1.0, 1.5, 2.0])
    chi = cosmo.comoving_distance(zt)
    w = 1.5 * cosmo.Om0 * (cosmo.H0 / C_KM_S) ** 2 * (1 + zt) * chi * table(zt)
    print(f"  {'z':>5} {'chi [Mpc]':>10} {'g(z)':>12} {'W(z) [1/Mpc]':>13}")
    for row in zip(zt, chi, table(zt), w):
        print(f"  {row[0]:5.2f} {row[1]:10.2f} {row[2]:12.6e} {row[3]:13.4e}")

    # ------------------------------------------------------------ plot
    z = np.linspace(0.0, g.zmax, 400)
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4.2))
    ax0.plot(z, table(z), label="g(z) table")
    ax0.plot(table.knots, table.values, "k.", ms=3, label=f"{table.n_evals} knots")
    chi_z = cosmo.comoving_distance(z)
    wz = 1.5 * cosmo.Om0 * (cosmo.H0 / C_KM_S) ** 2 * (1 + z) * chi_z * table(z)
    ax0b = ax0.twinx()
    ax0b.plot(z, wz, color="C1", label="W(z)")
    ax0b.set_ylabel("W(z) [1/Mpc]", color="C1")
    ax0.set_xlabel("z")
    ax0.set_ylabel("g(z)")
    ax0.set_title(f"tabulated on {n_threads} workers: {t_par:.1f} s "
                  f"(serial {t_serial:.1f} s)")
    ax0.legend(fontsize=8)
    ax1.semilogy(z_check, np.maximum(ratio, 1e-6), "o", ms=4)
    ax1.axhline(1.0, color="k", ls="--", label="tolerance")
    ax1.set_xlabel("z")
    ax1.set_ylabel("|table - g| / (rtol |g| + atol)")
    ax1.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "lensing_efficiency_dask.png"), dpi=100)
    plt.close(fig)
    print(f"\nsaved lensing_efficiency_dask.png in {args.out}")

    ok = same and acc_ok
    print("all checks passed" if ok else "SOME CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
