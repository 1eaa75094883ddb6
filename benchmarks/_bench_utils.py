"""Helpers shared by several benchmark files (imported by name: pytest puts benchmarks/
on sys.path)."""
import math
import time

__all__ = ["smallest_size", "gpu_time", "cpu_time", "peak_from_props", "peak_bandwidth",
           "TimedF", "ToleranceTally", "Outcome", "rtol_label", "short_error", "geomean"]


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


class ToleranceTally:
    """The bookkeeping of a "verified tolerance" benchmark: one report row per run (error
    ratio, a note, "KNOWN LIMITATION" for runs listed as known, "BROKEN PROMISE" for a
    converged run with ratio > 1), then the worst ratio and the failing runs.

    A run object needs ``raised``, ``ratio``, ``converged``, ``broken``, ``failed``,
    ``warned``. :meth:`broken` lists the broken promises (and known limitations that no
    longer occur, so that the list is kept honest) for the caller to assert on.
    """

    def __init__(self, report, group):
        self.report, self.group = report, group
        self.failing, self.broken, self.raised = [], [], 0
        self.worst = (-math.inf, None)

    def skip(self, label, why):
        self.report.add(self.group, f"{label}: error ratio", None, note=f"not run: {why}")

    def add(self, label, r, note, known=False, where=""):
        """One run's row; ``where`` describes the worst point (" at x=...")."""
        if r.raised:
            self.raised += 1
            self.failing.append(label)
            self.report.add(self.group, f"{label}: error ratio", None,
                            note=f"FAILED, raised {r.raised}")
            return
        if known and not r.broken:
            self.broken.append(f"{label} is listed as a known limitation but now meets the "
                               f"tolerance (ratio {r.ratio:.3g}): update the list")
        if known and r.broken:
            note += "; KNOWN LIMITATION (aliased wiggles at amplitude ~ rtol, documented)"
        elif r.broken:
            self.broken.append(f"{label} (ratio {r.ratio:.3g}{where})")
            note += f"; BROKEN PROMISE (converged, ratio > 1{where})"
        elif r.failed:
            note += f"; FAILED{where}"
        if r.failed:
            self.failing.append(label)
        if r.warned:
            note += f"; warned: {r.warned}"
        self.report.add(self.group, f"{label}: error ratio", r.ratio, note=note)
        if r.ratio > self.worst[0]:
            self.worst = (r.ratio, label)

    def close(self):
        """The summary rows; returns the broken promises."""
        w, label = self.worst
        self.report.add(self.group, "worst error ratio (returned tables)",
                        w if label else None, goal=1.0, higher_is_better=False,
                        note=f"{label}; {self.raised} run(s) raised (not included)")
        self.report.add(self.group, "failing runs (raised, not converged or ratio > 1)",
                        len(self.failing), goal=0, higher_is_better=False,
                        note=", ".join(self.failing) or "none")
        return self.broken


class Outcome:
    """Mixin of a tolerance run's record (``raised``, ``converged``, ``ratio``): whether the
    run failed (raised, not converged or ratio > 1) or broke the promise (converged, yet
    ratio > 1)."""

    @property
    def failed(self):
        return self.raised is not None or not self.converged or not self.ratio <= 1.0

    @property
    def broken(self):
        """Converged, yet the tolerance is missed: the promise is broken."""
        return self.raised is None and bool(self.converged) and not self.ratio <= 1.0


def rtol_label(rtol):
    """A tolerance as a row label: ``1e-06``."""
    return f"{rtol:.0e}"


def short_error(exc, n=150):
    """``Type: message`` of an exception, cut to ``n`` characters."""
    msg = f"{type(exc).__name__}: {exc}"
    return msg if len(msg) <= n else msg[: n - 3] + "..."


def geomean(values):
    """Geometric mean of positive values (None for none)."""
    if not values:
        return None
    return math.exp(sum(math.log(v) for v in values) / len(values))
