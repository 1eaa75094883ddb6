"""``workers=`` on Dask distributed and ``concurrent.futures`` maps (autoknots and wls).

A slow scalar f (``time.sleep(DELAY)`` per call) is tabulated serially and through each
map: the knots, values and coefficients must be identical. The speed-up is printed here and
measured against its goal in benchmarks/bench_workers.py (speed goals are not unit tests: the
machine is shared).  The Dask tests share one ``LocalCluster`` of
two single-threaded worker processes (module-scoped; it takes a few seconds to start) and
are skipped when ``distributed`` is not installed.  The f's are defined at module level so
that the standard pickle of process pools can send them.
"""
import math
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest

import numfit as nf
from numfit._workers import MapWrapper, dask_map

DELAY = 0.02                      # seconds per evaluation of the slow f's
AK = dict(rtol=1e-5, n_init=32, vectorized=False)      # 91 evaluations in 5 rounds
V = nf.PolynomialSpace("legendre", 8)                  # wls: 72 points with rng=7
MAPS = ["dask_map", "dask_executor", "process_executor", "process_int"]
RAISING_MAPS = ["serial", "thread_executor"] + MAPS


def slow_damped(x):
    time.sleep(DELAY)
    return math.exp(-x) * math.sin(3 * x) + 2


def slow_wave(x):
    time.sleep(DELAY)
    return math.exp(math.sin(3.0 * float(x)))


def damped(x):
    return np.exp(-x) * np.sin(3 * x) + 2


def fails_above(x):
    if x > 0.7:
        raise ValueError(f"cannot evaluate f at {x}")
    return math.sin(x) + 2


def fails_above_half(x):
    if float(x) > 0.5:
        raise ValueError(f"cannot evaluate f at {float(x)}")
    return math.exp(float(x))


def _warm_up():
    import numfit.approx._wls  # noqa: F401
    import numfit.interpolate._autoknots  # noqa: F401


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        c.wait_for_workers(2)
        c.run(_warm_up)                     # imports on the workers, outside the timings
        yield c


@pytest.fixture(scope="module")
def process_executor():
    with ProcessPoolExecutor(2) as ex:
        ex.submit(abs, 1).result()          # start the workers outside the timings
        yield ex


@pytest.fixture
def make_map(request):
    """``make_map(kind)`` -> a ``workers`` value; the Dask and process fixtures load lazily."""
    threads = []

    def make(kind):
        if kind == "serial":
            return None
        if kind == "thread_executor":
            threads.append(ThreadPoolExecutor(2))
            return threads[-1].map
        if kind == "process_int":
            return 2
        if kind == "process_executor":
            return request.getfixturevalue("process_executor").map
        c = request.getfixturevalue("client")
        return dask_map(c) if kind == "dask_map" else c.get_executor().map

    yield make
    for ex in threads:
        ex.shutdown()


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


@pytest.fixture(scope="module")
def serial_autoknots():
    return _timed(lambda: nf.autoknots(slow_damped, 0.1, 5.0, **AK))


@pytest.fixture(scope="module")
def serial_wls():
    nf.sample_points(V, rng=7)              # compile the sampler's kernels outside the timing
    return _timed(lambda: nf.wls(slow_wave, V, rng=7, vectorized=False))


# --------------------------------------------------------------------------- identical, faster
@pytest.mark.parametrize("kind", MAPS)
def test_autoknots_parallel_identical(kind, make_map, serial_autoknots):
    workers = make_map(kind)
    ref, t_serial = serial_autoknots
    s, t_par = _timed(lambda: nf.autoknots(slow_damped, 0.1, 5.0, workers=workers, **AK))
    assert np.array_equal(s.knots, ref.knots)
    assert np.array_equal(s.values, ref.values)
    assert np.array_equal(s.c, ref.c)
    assert s.round_sizes == ref.round_sizes and s.n_evals == ref.n_evals == 95   # 91 + 4 verify
    speedup = t_serial / t_par
    print(f"autoknots {kind}: serial {t_serial:.2f} s, parallel {t_par:.2f} s, "
          f"speedup {speedup:.2f}")


@pytest.mark.parametrize("kind", MAPS)
def test_wls_parallel_identical(kind, make_map, serial_wls):
    workers = make_map(kind)
    ref, t_serial = serial_wls
    fit, t_par = _timed(lambda: nf.wls(slow_wave, V, rng=7, vectorized=False,
                                       workers=workers))
    assert np.array_equal(fit.coef, ref.coef)
    assert np.array_equal(fit["values"], ref["values"])
    assert fit.n_evals == ref.n_evals == fit.sample.n == 72
    speedup = t_serial / t_par
    print(f"wls {kind}: serial {t_serial:.2f} s, parallel {t_par:.2f} s, "
          f"speedup {speedup:.2f}")


def test_thread_executor_identical():
    ref = nf.autoknots(damped, 0.1, 5.0, rtol=1e-7, vectorized=False)
    with ThreadPoolExecutor(2) as ex:
        s = nf.autoknots(damped, 0.1, 5.0, rtol=1e-7, vectorized=False, workers=ex.map)
        fit = nf.wls(lambda x: math.exp(x), V, rng=3, vectorized=False, workers=ex.map)
    assert np.array_equal(s.knots, ref.knots) and np.array_equal(s.values, ref.values)
    assert np.array_equal(fit.coef, nf.wls(lambda x: math.exp(x), V, rng=3,
                                           vectorized=False).coef)


def test_dask_vectorised_batches_split_over_the_workers(client):
    ref = nf.autoknots(damped, 0.1, 5.0, rtol=1e-7)
    assert ref.vectorized
    for workers in (dask_map(client), client.get_executor().map):
        assert MapWrapper(workers).n_workers == 2       # the cluster's threads
        s = nf.autoknots(damped, 0.1, 5.0, rtol=1e-7, workers=workers)
        assert s.vectorized and np.array_equal(s.knots, ref.knots)
        assert np.array_equal(s.values, ref.values)
        assert s.n_calls == 1 + 2 * ref.n_rounds        # the probe, then 2 chunks per round


def test_dask_ships_lambdas_and_closures(client):
    """Dask pickles with cloudpickle: lambdas and closures work (unlike process pools)."""
    scale = 3.0

    def closure(x):
        return math.exp(-x) * math.sin(scale * x) + 2

    ref = nf.autoknots(closure, 0.1, 5.0, rtol=1e-4, vectorized=False)
    for workers in (dask_map(client), client.get_executor().map):
        s = nf.autoknots(closure, 0.1, 5.0, rtol=1e-4, vectorized=False, workers=workers)
        assert np.array_equal(s.knots, ref.knots) and np.array_equal(s.values, ref.values)
        s = nf.autoknots(lambda x: x * x + 1, 0.0, 1.0, vectorized=False, workers=workers)
        assert s.converged
        fit = nf.wls(lambda x: math.cos(x), V, rng=2, vectorized=False, workers=workers)
        assert np.array_equal(fit.coef, nf.wls(lambda x: math.cos(x), V, rng=2,
                                               vectorized=False).coef)


def test_client_map_returning_futures_is_refused(client):
    with pytest.raises(TypeError, match=r"returned futures.*get_executor\(\)\.map"):
        nf.autoknots(damped, 0.1, 5.0, vectorized=False, workers=client.map)


def test_dask_map_rejects_non_clients():
    with pytest.raises(TypeError, match="`client` must be a distributed.Client"):
        dask_map(4)


# --------------------------------------------------------------------------- f raising
@pytest.mark.parametrize("kind", RAISING_MAPS)
def test_autoknots_worker_raises_names_first_failing_x(kind, make_map):
    """The original exception, with a note naming the first failing x in input order
    (the initial knots are 0, 0.2, ..., 1: f fails at 0.8 and 1.0)."""
    workers = make_map(kind)
    for _ in range(2):                      # the same x every time, whatever finishes first
        with pytest.raises(ValueError, match="cannot evaluate f at 0.8") as e:
            nf.autoknots(fails_above, 0.0, 1.0, vectorized=False, workers=workers)
        assert e.value.__notes__ == ["numfit.autoknots: f raised at x=0.8 (round 0)"]
    # nothing left half-done: the same workers serve the next call
    s = nf.autoknots(fails_above, 0.0, 0.7, vectorized=False, workers=workers)
    ref = nf.autoknots(fails_above, 0.0, 0.7, vectorized=False)
    assert np.array_equal(s.knots, ref.knots)


@pytest.mark.parametrize("kind", RAISING_MAPS)
def test_wls_worker_raises_names_first_failing_x(kind, make_map):
    sample = nf.sample_points(V, rng=5)
    pts = sample.points[:, 0]
    first = float(pts[np.flatnonzero(pts > 0.5)[0]])
    workers = make_map(kind)
    with pytest.raises(ValueError, match=f"cannot evaluate f at {first!r}") as e:
        nf.wls(fails_above_half, V, vectorized=False, workers=workers, sample=sample)
    assert e.value.__notes__ == [f"numfit.wls: f raised at x={first!r}"]


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("workers, exc, msg", [
    (0, ValueError, "`workers` must be an int >= 1"),
    (-2, ValueError, "`workers` must be an int >= 1"),
    (2.5, TypeError, "`workers` must be None, an int >= 1"),
    ("4", TypeError, "`workers` must be None, an int >= 1"),
    (True, TypeError, "`workers` must be None, an int >= 1"),
    (object(), TypeError, "`workers` must be None, an int >= 1"),
])
def test_bad_workers(workers, exc, msg):
    calls = []

    def f(x):
        calls.append(x)
        return x + 1.0

    with pytest.raises(exc, match=msg):
        nf.autoknots(f, 0.0, 1.0, workers=workers)
    with pytest.raises(exc, match=msg):
        nf.wls(f, V, rng=0, workers=workers)
    assert not calls


def test_unpicklable_f_with_process_pools(process_executor):
    scale = 2.0

    def closure(x):
        return scale * x + 1

    for f in (lambda x: x + 1, closure):
        with pytest.raises(TypeError, match=r"cannot be pickled.*workers=2.*module level"):
            nf.autoknots(f, 0.0, 1.0, workers=2)
        with pytest.raises(TypeError, match=r"cannot be pickled.*ProcessPoolExecutor\.map"):
            nf.autoknots(f, 0.0, 1.0, workers=process_executor.map)
        with pytest.raises(TypeError, match="cannot be pickled"):
            nf.wls(f, V, rng=0, vectorized=False, workers=2)
        with pytest.raises(TypeError, match="cannot be pickled"):
            nf.wls(f, V, rng=0, vectorized=False, workers=process_executor.map)
