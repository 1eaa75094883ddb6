"""Benchmarks of ``workers=`` (parallel evaluation of a slow scalar f).

A scalar f that sleeps ``DELAY`` seconds per call (a stand-in for an expensive quadrature or
a Boltzmann-code call) is tabulated by ``autoknots`` and fitted by ``wls`` serially and with
two workers: an int (numfit's own process pool), a ``ProcessPoolExecutor.map`` and
``numfit.dask_map`` on a two-process ``LocalCluster`` (skipped without ``distributed``).
Reported: serial time / parallel time, goal >= 1.3 with two workers (the rounds are
batch-synchronous, so ~1.9 is the ideal for these rounds). The results must be identical to
the serial ones (asserted: that is correctness, not speed); see docs/distributed.md.
"""
import math
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

import numfit as nf

DELAY = 0.02
AK = dict(rtol=1e-5, n_init=32, vectorized=False)      # 95 evaluations in 6 rounds
V = nf.PolynomialSpace("legendre", 8)                  # wls: 72 points with rng=7
GOAL = 1.3


def slow_damped(x):
    time.sleep(DELAY)
    return math.exp(-x) * math.sin(3 * x) + 2


def slow_wave(x):
    time.sleep(DELAY)
    return math.exp(math.sin(3.0 * float(x)))


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


@pytest.fixture(scope="module")
def maps():
    """name -> workers value; the pools live for the module."""
    nf.wls(math.exp, V, rng=7, vectorized=False)       # load the sampling kernels first
    out, closers = {"process_int": 2}, []
    ex = ProcessPoolExecutor(2)
    closers.append(ex.shutdown)
    out["process_executor"] = ex.map
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        pass
    else:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
        closers += [cluster.close, client.close]
        out["dask_map"] = nf.dask_map(client)
    yield out
    for close in reversed(closers):
        close()


@pytest.mark.parametrize("kind", ["process_int", "process_executor", "dask_map"])
def test_autoknots_speedup(kind, maps, report):
    if kind not in maps:
        pytest.skip("distributed not installed: dask_map not measured")
    workers = maps[kind]
    nf.autoknots(slow_damped, 0.1, 5.0, workers=workers, rtol=1e-2, vectorized=False)  # warm
    ref, t_serial = _timed(lambda: nf.autoknots(slow_damped, 0.1, 5.0, **AK))
    s, t_par = _timed(lambda: nf.autoknots(slow_damped, 0.1, 5.0, workers=workers, **AK))
    assert np.array_equal(s.knots, ref.knots) and np.array_equal(s.c, ref.c)
    report.ratio("workers", f"autoknots serial / {kind} (2 workers)", t_serial, t_par,
                 goal=GOAL, note=f"{ref.n_evals} evaluations of {DELAY * 1e3:.0f} ms in "
                 f"{len(ref.round_sizes)} rounds: {t_serial:.2f} s vs {t_par:.2f} s")


@pytest.mark.parametrize("kind", ["process_int", "process_executor", "dask_map"])
def test_wls_speedup(kind, maps, report):
    if kind not in maps:
        pytest.skip("distributed not installed: dask_map not measured")
    workers = maps[kind]
    ref, t_serial = _timed(lambda: nf.wls(slow_wave, V, rng=7, vectorized=False))
    fit, t_par = _timed(lambda: nf.wls(slow_wave, V, rng=7, vectorized=False,
                                       workers=workers))
    assert np.array_equal(fit.coef, ref.coef)
    report.ratio("workers", f"wls serial / {kind} (2 workers)", t_serial, t_par, goal=GOAL,
                 note=f"{ref.n_evals} evaluations of {DELAY * 1e3:.0f} ms: "
                 f"{t_serial:.2f} s vs {t_par:.2f} s")
