"""GPU benchmarks of numfit.linalg: multicolour SOR / SSOR-CG and block sketch_solve.

Collects and skips cleanly without CuPy or a GPU, except the CPU row (A0), which runs
everywhere. ``NUMFIT_BENCH_QUICK=1`` selects smaller sizes. GPU times come from
``cupy.cuda.Event`` pairs (record, synchronize, elapsed_time), minimum over the rounds, after
one warm-up call (which also builds and caches the colouring and the device copy of A).

A0. CPU (runs everywhere): multicolour (red-black) vs natural-order SOR on the 2-D Poisson
    problem (m = 128 quick, 256 full), omega = omega*: iterations and time to rtol 1e-8.
A.  GPU sweeps: ``sor_sweep(..., ordering="multicolor")`` on the 2-D Poisson problem, m = 1024
    (quick 256): time per sweep vs the CPU natural-order compiled sweep; achieved memory
    bandwidth = bytes moved per sweep / time against the device peak
    (memoryClockRate [kHz] * 1e3 * 2 * memoryBusWidth / 8). Bytes per sweep (model): CSR
    values 8 nnz + column indices 4 nnz + row pointers 4 n, and x (read and written), b and
    1/diag (8 n each): 12 nnz + 36 n.
B.  GPU SOR to tolerance (rtol 1e-6, omega*) vs CPU natural-order ``sor``.
C.  GPU multicolour SSOR-CG vs CPU ``ssor_cg`` (natural) and ``cupyx.scipy.sparse.linalg.cg``
    (unpreconditioned), rtol 1e-8.
D.  ``sketch_solve`` block Kaczmarz on a dense consistent system (N = n = 2048, quick 512):
    GPU (CuPy arrays) vs CPU (compiled), the same seed.
"""
import math
import os
import time

import numpy as np
import pytest

import numfit as nf
from numfit import _backend
from numfit.linalg import laplacian_2d, prepare, sketch_solve, sor_sweep

from _bench_utils import cpu_time, gpu_time, peak_bandwidth  # noqa: E402,I001

QUICK = os.environ.get("NUMFIT_BENCH_QUICK", "0") == "1"
M_GPU = 256 if QUICK else 1024
M_CPU = 128 if QUICK else 256
GROUP = "gpu linalg"


def omega_star(m):
    return 2.0 / (1.0 + math.sin(math.pi / (m + 1)))


# --------------------------------------------------------------------------- A0 (CPU)
def test_cpu_multicolor_vs_natural(report):
    m = M_CPU
    P = prepare(laplacian_2d(m))
    b = np.ones(m * m)
    w = omega_star(m)
    nf.sor(P, b, w, maxiter=2, ordering="multicolor")          # warm-up: colouring, plan
    t0 = time.perf_counter()
    mc = nf.sor(P, b, w, ordering="multicolor")
    t_mc = time.perf_counter() - t0
    t0 = time.perf_counter()
    nat = nf.sor(P, b, w)
    t_nat = time.perf_counter() - t0
    assert mc.converged and nat.converged
    assert abs(mc.nit / nat.nit - 1) < 0.1               # same asymptotic rate (2-colour)
    g = f"{GROUP} (CPU, m={m})"
    report.add(g, "natural SOR iterations (omega*)", nat.nit)
    report.add(g, "multicolour SOR iterations (omega*)", mc.nit)
    report.ratio(g, "iterations multicolour / natural", mc.nit, nat.nit,
                 note="red-black vs lexicographic")
    report.add(g, "natural SOR time", t_nat, "s")
    report.add(g, "multicolour SOR time (NumPy path)", t_mc, "s")
    report.ratio(g, "time multicolour(NumPy) / natural(compiled)", t_mc, t_nat,
                 note="the xp code on the CPU; not a goal")


# --------------------------------------------------------------------------- GPU helpers
@pytest.fixture(scope="module")
def cp():
    cupy = pytest.importorskip("cupy")
    if not _backend.have_gpu():
        pytest.skip("no usable CUDA device")
    return cupy


# --------------------------------------------------------------------------- A, B
def test_gpu_multicolor_sweeps(cp, report):                       # pragma: no cover
    m = M_GPU
    P = prepare(laplacian_2d(m))
    n = m * m
    b = np.random.default_rng(0).standard_normal(n)
    bd = cp.asarray(b)
    xd = cp.zeros(n)
    xc = np.zeros(n)
    sweeps = 20
    w = omega_star(m)
    _, t_gpu = gpu_time(cp, lambda: sor_sweep(P, xd, bd, w, iterations=sweeps,
                                              check_finite=False, ordering="multicolor"))
    _, t_cpu = cpu_time(lambda: sor_sweep(P, xc, b, w, iterations=sweeps, check_finite=False))
    per_gpu, per_cpu = t_gpu / sweeps, t_cpu / sweeps
    bytes_per_sweep = 12 * P.nnz + 36 * n
    bw = bytes_per_sweep / per_gpu
    name, peak = peak_bandwidth(cp)
    g = f"{GROUP} (m={m}, {name})"
    report.add(g, "GPU multicolour sweep", per_gpu * 1e3, "ms")
    report.add(g, "CPU natural sweep (compiled)", per_cpu * 1e3, "ms")
    report.ratio(g, "sweep speed-up GPU/CPU", per_cpu, per_gpu)
    report.add(g, "achieved bandwidth", bw / 1e9, "GB/s", note=f"model {bytes_per_sweep} B/sweep")
    if peak:
        report.add(g, "fraction of peak bandwidth", bw / peak, "",
                   note=f"peak {peak / 1e9:.0f} GB/s")
    # B: to tolerance
    rtol = 1e-6
    rg, t_gs = gpu_time(cp, lambda: nf.sor(P, bd, w, rtol=rtol, ordering="multicolor"),
                        rounds=1)
    rc, t_cs = cpu_time(lambda: nf.sor(P, b, w, rtol=rtol), rounds=1)
    assert rg.converged and rc.converged
    assert abs(rg.nit / rc.nit - 1) < 0.15
    report.add(g, "GPU multicolour SOR iterations (rtol 1e-6)", rg.nit)
    report.add(g, "CPU natural SOR iterations (rtol 1e-6)", rc.nit)
    report.add(g, "GPU multicolour SOR time", t_gs, "s")
    report.add(g, "CPU natural SOR time", t_cs, "s")
    report.ratio(g, "SOR to tolerance speed-up GPU/CPU", t_cs, t_gs)


# --------------------------------------------------------------------------- C
def test_gpu_ssor_cg(cp, report):                                 # pragma: no cover
    m = M_GPU
    A = laplacian_2d(m)
    P = prepare(A)
    n = m * m
    b = np.ones(n)
    bd = cp.asarray(b)
    w = 1.5
    rg, t_g = gpu_time(cp, lambda: nf.ssor_cg(P, bd, w, ordering="multicolor"), rounds=1)
    rc, t_c = cpu_time(lambda: nf.ssor_cg(P, b, w), rounds=1)
    assert rg.converged and rc.converged
    g = f"{GROUP} SSOR-CG (m={m})"
    report.add(g, "GPU multicolour SSOR-CG iterations", rg.nit)
    report.add(g, "CPU natural SSOR-CG iterations", rc.nit)
    report.add(g, "GPU multicolour SSOR-CG time", t_g, "s")
    report.add(g, "CPU natural SSOR-CG time", t_c, "s")
    report.ratio(g, "speed-up GPU/CPU", t_c, t_g)
    try:
        import cupyx.scipy.sparse as cps
        from cupyx.scipy.sparse.linalg import cg as cupy_cg
    except ImportError:
        return
    Ad = cps.csr_matrix(A.tocsr().astype(np.float64))
    count = [0]

    def run_cg():
        count[0] = 0

        def cb(xk):
            count[0] += 1
        try:
            return cupy_cg(Ad, bd, tol=1e-8, maxiter=100_000, callback=cb)
        except TypeError:
            return cupy_cg(Ad, bd, rtol=1e-8, maxiter=100_000, callback=cb)
    _, t_cg = gpu_time(cp, run_cg, rounds=1)
    report.add(g, "cupyx cg (no preconditioner) iterations", count[0])
    report.add(g, "cupyx cg time", t_cg, "s")
    report.ratio(g, "cupyx cg time / numfit GPU SSOR-CG time", t_cg, t_g)


# --------------------------------------------------------------------------- D
def test_gpu_block_sketch(cp, report):                            # pragma: no cover
    N = 512 if QUICK else 2048
    rng = np.random.default_rng(0)
    A = rng.standard_normal((N, N)) / math.sqrt(N) + 2.0 * np.eye(N)
    b = A @ rng.standard_normal(N)
    Ad, bd = cp.asarray(A), cp.asarray(b)
    kw = dict(sketch="block_kaczmarz", rtol=1e-8, rng=3)
    rg, t_g = gpu_time(cp, lambda: sketch_solve(Ad, bd, **kw), rounds=1)
    rc, t_c = cpu_time(lambda: sketch_solve(A, b, **kw), rounds=1)
    assert rg.converged and rc.converged
    np.testing.assert_allclose(cp.asnumpy(rg.x), rc.x, atol=1e-6)
    g = f"{GROUP} block sketch (N={N})"
    report.add(g, "block_kaczmarz steps GPU / CPU", rg.nit / rc.nit, "",
               note=f"{rg.nit} / {rc.nit}")
    report.add(g, "GPU time", t_g, "s")
    report.add(g, "CPU time", t_c, "s")
    report.ratio(g, "speed-up GPU/CPU", t_c, t_g)
