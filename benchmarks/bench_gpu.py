"""GPU benchmarks: AutoKnotsSpline evaluation and weighted least squares, CPU vs GPU.

The module imports and collects without CuPy; every GPU benchmark skips unless CuPy imports
and sees a CUDA device (``numfit._backend.have_gpu``). ``NUMFIT_BENCH_QUICK=1`` selects the
smaller sizes. Rows go to the session report of ``conftest.py`` (printed at the end and
written to ``.benchmarks/numfit_ratios.json``); goals are reported, not asserted, and a test
fails only when the GPU result disagrees with the CPU one.

Timing
    GPU: CuPy events (``cupy.cuda.Event`` recorded before and after the call on the current
    stream, ``cupy.cuda.get_elapsed_time``), minimum over :data:`ROUNDS` rounds after
    :data:`GPU_WARMUP` untimed calls (the warm-up compiles the fused kernels and fills the
    per-device caches: the spline's breakpoint/coefficient table, CuPy's memory pool). Inputs
    are on the device before timing and outputs stay there (no transfers timed).
    CPU: ``time.perf_counter``, minimum over the rounds after one warm-up call (conftest's
    ``Timing.peer``), NumPy inputs, the compiled kernels.

A. Spline evaluation (``test_spline_eval_gpu``)
   Splines of 2 + sin(w x) on [0, 10] (rtol 1e-10, about 1e4 knots; the same family as
   ``bench_autoknots.py`` B), a log-log spline and a vector-valued one (m = 4), evaluated at
   1e7 (quick: 1e6) uniform random, unsorted points; nu = 0 and 2 in linear space, nu = 1 in
   log-log space. Reported: CPU and GPU times, cpu_time / gpu_time, and the achieved memory
   bandwidth ``bytes / gpu_time`` with ``bytes = N (8 + 8 (K + 2) m + 8 m)`` (read x, read the
   gathered row ``[t_i, c_0i..c_Ki]`` per point, write the result) against the device's peak
   ``memoryClockRate [kHz] * 1e3 * 2 * memoryBusWidth / 8`` from
   ``cupy.cuda.runtime.getDeviceProperties``. The implementation (searchsorted, take, one
   fused kernel) moves about three times those bytes (the index and the gathered rows are
   written and read back), so 30-40 % of peak by this count is near its ceiling.
   Peer: ``cupyx.scipy.interpolate.PPoly`` on the same breakpoints and coefficients (linear
   space; skipped if cupyx.scipy.interpolate has no PPoly), gpu peer_time / numfit_time.
   Check: GPU values equal the CPU ones to 1e-12 relative.

B. WLS on the GPU (``test_wls_gpu``)
   ``PolynomialSpace("legendre", degree=9, dim=3)`` (m = 220), n = 1e5 and 1e6 points
   (quick: 1e4, 1e5) uniform in the box with unit weights (the timing does not depend on how
   the points were drawn; the samplers are CPU-only). Stages, CPU vs GPU: the feature matrix
   (``V.eval``), the Gram matrix (``V.gram``), and the whole fit ``nf.wls(f, V, sample=...)``
   (f evaluated on the points, features, QR of ``sqrt(w/n) Phi``, singular values of R,
   triangular solve, residual). Peer on the GPU: ``cupy.linalg.lstsq`` (SVD) of the same
   weighted design. Check: coefficients agree to 1e-10 * ||coef||.
"""
import math
import os

import numpy as np
import pytest

import numfit as nf
from numfit import _backend
from numfit.approx import WeightedSample

from _bench_utils import (cpu_time, gpu_time, peak_bandwidth,  # noqa: E402,I001
                          peak_from_props)

QUICK = os.environ.get("NUMFIT_BENCH_QUICK", "0") == "1"
ROUNDS = 3 if QUICK else 7
GPU_WARMUP = 2
N_EVAL = 10 ** 6 if QUICK else 10 ** 7
N_WLS = (10 ** 4, 10 ** 5) if QUICK else (10 ** 5, 10 ** 6)


# ----------------------------------------------------------------------------- helpers
def _cupy():
    """CuPy if it imports and a CUDA device is usable, else None (never raises)."""
    try:
        import cupy
    except Exception:
        return None
    return cupy if _backend.have_gpu() else None


@pytest.fixture(scope="module")
def cp():
    cupy = _cupy()
    if cupy is None:
        pytest.skip("GPU benchmark: needs CuPy and a CUDA device")
    return cupy


def test_peak_from_props():
    """The peak formula on an H100 SXM's properties (HBM3: 2619 MHz, 5120-bit bus)."""
    peak = peak_from_props({"memoryClockRate": 2_619_000, "memoryBusWidth": 5120})
    assert peak == pytest.approx(3.352e12, rel=1e-3)
    assert peak_from_props({}) is None


# ----------------------------------------------------------------------------- A. splines
def _splines():
    return {
        "linear": nf.autoknots(lambda x: 2 + np.sin(60 * x), 0.0, 10.0, rtol=1e-10),
        "loglog": nf.autoknots(lambda x: 1 / (x * (1 + x) ** 2), 1e-3, 1e3, rtol=1e-10,
                               space="loglog"),
        "vector": nf.autoknots(lambda x: np.stack([2 + np.sin(k * x) for k in (5, 7, 11, 13)],
                                                  axis=-1), 0.0, 10.0, rtol=1e-10),
    }


SPLINE_CASES = [("linear", 0), ("linear", 2), ("loglog", 1), ("vector", 0)]


@pytest.fixture(scope="module")
def splines():
    return _splines()


def _ppoly_peer(cp, s, nu):
    try:
        from cupyx.scipy.interpolate import PPoly
    except Exception:
        return None
    pp = PPoly(cp.asarray(s.c), cp.asarray(s.knots), extrapolate=False)
    return pp if nu == 0 else pp.derivative(nu)


@pytest.mark.parametrize("name,nu", SPLINE_CASES)
def test_spline_eval_gpu(cp, splines, name, nu, report):
    s = splines[name]
    a, b = s.interval
    rng = np.random.default_rng(0)
    x = rng.uniform(a, b, N_EVAL) if s.space == "linear" else \
        np.clip(np.exp(rng.uniform(math.log(a), math.log(b), N_EVAL)), a, b)
    xd = cp.asarray(x)
    ref, t_cpu = cpu_time(lambda: s(x, nu=nu), ROUNDS)
    got, t_gpu = gpu_time(cp, lambda: s(xd, nu=nu), ROUNDS, GPU_WARMUP)
    assert isinstance(got, cp.ndarray) and got.shape == ref.shape
    scale = float(np.nanmax(np.abs(ref)))
    np.testing.assert_allclose(got.get(), ref, rtol=1e-12, atol=1e-12 * scale)

    K = s.c.shape[0] - 1
    m = max(s.ndim_out, 1)
    nbytes = N_EVAL * (8 + 8 * (K + 2) * m + 8 * m)
    dev, peak = peak_bandwidth(cp)
    g = f"GPU spline eval: {name}, nu={nu}, {len(s)} knots, N={N_EVAL:.0e}"
    report.add(g, "CPU time (compiled kernel)", t_cpu * 1e3, unit="ms")
    report.add(g, "GPU time (CuPy events)", t_gpu * 1e3, unit="ms", note=dev)
    report.ratio(g, "cpu_time / gpu_time", t_cpu, t_gpu, goal=10.0)
    report.add(g, "achieved bandwidth (x + gathered rows + out)", nbytes / t_gpu / 1e9,
               unit="GB/s")
    if peak is not None:
        report.add(g, "fraction of peak bandwidth", nbytes / t_gpu / peak,
                   note=f"peak {peak / 1e9:.0f} GB/s")
    if s.space == "linear":
        pp = _ppoly_peer(cp, s, nu)
        if pp is None:
            report.add(g, "cupyx.scipy.interpolate.PPoly", None, note="not available")
        else:
            out, t_pp = gpu_time(cp, lambda: pp(xd), ROUNDS, GPU_WARMUP)
            np.testing.assert_allclose(out.get().reshape(ref.shape), ref, rtol=1e-10,
                                       atol=1e-10 * scale)
            report.add(g, "cupyx PPoly time", t_pp * 1e3, unit="ms")
            report.ratio(g, "cupyx_ppoly_time / numfit_gpu_time", t_pp, t_gpu, goal=1.0)


# ----------------------------------------------------------------------------- B. WLS
def _f(x):
    xp = _backend.array_namespace(x)
    return xp.exp(0.3 * x[:, 0]) * xp.cos(x[:, 1]) + x[:, 2] ** 2


@pytest.fixture(scope="module")
def wls_space():
    return nf.PolynomialSpace("legendre", degree=9, dim=3)


def _design(V, n, seed=0):
    """A WeightedSample of n uniform points with unit weights (timing only)."""
    base = nf.sample_points(V, method="iid", n=2 * V.m, rng=seed)
    x = np.random.default_rng(seed).uniform(-1.0, 1.0, (n, V.dim))
    return WeightedSample(base, points=x, weights=np.ones(n), n=n,
                          is_dpp=np.zeros(n, bool))


@pytest.mark.parametrize("n", N_WLS)
def test_wls_gpu(cp, wls_space, n, report):
    V = wls_space
    smp = _design(V, n)
    dev_smp = WeightedSample(smp, points=cp.asarray(smp.points),
                             weights=cp.asarray(smp.weights))
    xd = dev_smp.points
    rounds = 2 if n >= 10 ** 6 else ROUNDS
    g = f"GPU WLS: legendre d=3 p=9 (m={V.m}), n={n:.0e}"
    name, _ = peak_bandwidth(cp)

    phi_c, t_phi_c = cpu_time(lambda: V.eval(smp.points), rounds)
    phi_g, t_phi_g = gpu_time(cp, lambda: V.eval(xd), rounds)
    np.testing.assert_allclose(phi_g.get(), phi_c, rtol=0, atol=1e-12 * np.abs(phi_c).max())
    del phi_g, phi_c
    report.add(g, "features: CPU time (Numba)", t_phi_c * 1e3, unit="ms")
    report.add(g, "features: GPU time", t_phi_g * 1e3, unit="ms", note=name)
    report.ratio(g, "features: cpu_time / gpu_time", t_phi_c, t_phi_g)

    g_c, t_g_c = cpu_time(lambda: V.gram(smp.points, smp.weights), rounds)
    g_g, t_g_g = gpu_time(cp, lambda: V.gram(xd, dev_smp.weights), rounds)
    np.testing.assert_allclose(g_g.get(), g_c, rtol=0, atol=1e-12 * np.abs(g_c).max())
    report.add(g, "Gram matrix: CPU time", t_g_c * 1e3, unit="ms")
    report.add(g, "Gram matrix: GPU time", t_g_g * 1e3, unit="ms")
    report.ratio(g, "Gram matrix: cpu_time / gpu_time", t_g_c, t_g_g)

    fit_c, t_fit_c = cpu_time(lambda: nf.wls(_f, V, sample=smp, vectorized=True), rounds)
    fit_g, t_fit_g = gpu_time(cp, lambda: nf.wls(_f, V, sample=dev_smp), rounds)
    c_ref = np.asarray(fit_c.coef)
    np.testing.assert_allclose(fit_g.coef.get(), c_ref, rtol=0,
                               atol=1e-10 * np.linalg.norm(c_ref))
    report.add(g, "wls fit: CPU time (features + LAPACK QR)", t_fit_c * 1e3, unit="ms")
    report.add(g, "wls fit: GPU time (features + cuSOLVER QR)", t_fit_g * 1e3, unit="ms")
    report.ratio(g, "wls fit: cpu_time / gpu_time", t_fit_c, t_fit_g, goal=5.0)

    a = V.eval(xd) * cp.sqrt(dev_smp.weights / n)[:, None]
    bvec = _f(xd) * cp.sqrt(dev_smp.weights / n)
    sol, t_ls = gpu_time(cp, lambda: cp.linalg.lstsq(a, bvec, rcond=None)[0], rounds)
    np.testing.assert_allclose(sol.get(), c_ref, rtol=0, atol=1e-8 * np.linalg.norm(c_ref))
    report.add(g, "peer: cupy.linalg.lstsq (SVD) on the design", t_ls * 1e3, unit="ms")
    report.ratio(g, "cupy_lstsq_time / numfit_gpu_fit_time", t_ls, t_fit_g)
