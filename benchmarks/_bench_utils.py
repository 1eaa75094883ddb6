"""Helpers shared by several benchmark files (imported by name: pytest puts benchmarks/
on sys.path)."""
import math
import time

__all__ = ["smallest_size", "gpu_time", "cpu_time", "peak_from_props", "peak_bandwidth",
           "TimedF"]


def smallest_size(error_of, target, n_min=4, n_max=2 ** 17):
    """Smallest size n >= n_min with error_of(n) <= target: doubling, then bisection.

    Assumes the error is (close to) decreasing in n; returns None past n_max.
    """
    if error_of(n_min) <= target:
        return n_min
    lo, hi = n_min, 2 * n_min
    while error_of(hi) > target:
        lo, hi = hi, 2 * hi
        if hi > n_max:
            return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if error_of(mid) <= target:
            hi = mid
        else:
            lo = mid
    return hi


def gpu_time(cp, fn, rounds=3, warmup=2):
    """(result, min seconds) of ``fn()`` timed by CuPy events, warm-up calls excluded."""
    for _ in range(warmup):
        fn()
    cp.cuda.Device().synchronize()
    start, stop = cp.cuda.Event(), cp.cuda.Event()
    best, out = math.inf, None
    for _ in range(rounds):
        start.record()
        out = fn()
        stop.record()
        stop.synchronize()
        best = min(best, cp.cuda.get_elapsed_time(start, stop) * 1e-3)
    return out, best


def cpu_time(fn, rounds=3):
    """(result, min seconds) of ``fn()`` by ``time.perf_counter`` after one warm-up call."""
    fn()
    best, out = math.inf, None
    for _ in range(rounds):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best


def peak_from_props(props):
    """Peak DRAM bandwidth in bytes/s from CUDA device properties (None if not listed).

    ``memoryClockRate`` is in kHz, the memory is double data rate, ``memoryBusWidth`` is
    in bits.
    """
    clock, bus = props.get("memoryClockRate"), props.get("memoryBusWidth")
    if not clock or not bus:
        return None
    return float(clock) * 1e3 * 2.0 * float(bus) / 8.0


def peak_bandwidth(cp):
    """The current device's name and peak memory bandwidth (bytes/s, or None)."""
    dev = cp.cuda.Device().id
    props = cp.cuda.runtime.getDeviceProperties(dev)
    name = props.get("name", b"?")
    name = name.decode() if isinstance(name, bytes) else str(name)
    peak = peak_from_props(props)
    if peak is None:            # newer CUDA runtimes drop the fields from the struct
        try:
            rt = cp.cuda.runtime
            peak = peak_from_props({"memoryClockRate": rt.deviceGetAttribute(36, dev),
                                    "memoryBusWidth": rt.deviceGetAttribute(37, dev)})
        except Exception:
            peak = None
    return name, peak


class TimedF:
    """Wraps f; accumulates the wall time spent inside it."""

    def __init__(self, f):
        self.f, self.seconds = f, 0.0

    def __call__(self, x):
        t0 = time.perf_counter()
        y = self.f(x)
        self.seconds += time.perf_counter() - t0
        return y
