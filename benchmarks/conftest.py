"""Shared machinery of numfit's benchmark suite.

* **Quick mode.** ``NUMFIT_BENCH_QUICK=1`` (CI) selects smaller problem sizes and few timing
  rounds; the ``quick`` fixture and the module constant :data:`QUICK` expose it. In quick mode
  the defaults of pytest-benchmark's own calibration (``--benchmark-min-rounds``,
  ``--benchmark-max-time``) are lowered too, for benchmarks that call ``benchmark(fn)``
  directly; options given on the command line win.
* **Timing.** The ``timing`` fixture times numfit through pytest-benchmark
  (``benchmark.pedantic``: ``rounds`` rounds of one call each, after one warm-up round, timer
  ``time.perf_counter``) and a peer by the identical loop written out here, and reports the
  minimum over the rounds for both: the minimum is the statistic least disturbed by the other
  work on a shared machine. For a speed *ratio*, ``timing.paired`` times numfit and the peer
  in alternating rounds (the order flipping every round) so that a burst of load elsewhere
  hits both alike; numfit is still recorded by pytest-benchmark as well.
* **Ratio report.** The session-scoped ``report`` fixture collects rows
  (``report.add`` / ``report.ratio``); at the end of the run a table (group, metric, value,
  goal, met / NOT met) is printed and written to ``.benchmarks/numfit_ratios.json`` at the
  repository root (git-ignored; ``NUMFIT_BENCH_REPORT`` overrides the path). Goals are
  *reported*, never asserted: the machine is noisy. A benchmark test fails only when numfit is
  functionally wrong (a tolerance numfit's docs promise is missed, values disagree with SciPy).
* Without pytest-benchmark installed a minimal stand-in ``benchmark`` fixture is provided
  (``pedantic`` and plain calls), so the suite still runs and reports its ratios.
"""
import datetime
import json
import math
import os
import platform
import time
from pathlib import Path

import pytest

QUICK = os.environ.get("NUMFIT_BENCH_QUICK", "0") == "1"
"""Quick mode: smaller sizes and fewer rounds (``NUMFIT_BENCH_QUICK=1``)."""

ROUNDS = 3 if QUICK else 7
"""Timing rounds per measurement (minimum taken), after one warm-up round."""

REPORT_PATH = Path(os.environ.get(
    "NUMFIT_BENCH_REPORT",
    Path(__file__).resolve().parent.parent / ".benchmarks" / "numfit_ratios.json"))

# ----------------------------------------------------------------------------- configuration
def _have_plugin(config):
    return config.pluginmanager.hasplugin("benchmark")    # pytest-benchmark's entry point


def pytest_configure(config):
    if not _have_plugin(config):        # not installed, or -p no:benchmark
        config.pluginmanager.register(_StandInPlugin(), "numfit-benchmark-stand-in")
    # Runs before pytest-benchmark builds its session (its pytest_configure is trylast).
    elif QUICK:
        opt = config.option
        if getattr(opt, "benchmark_min_rounds", None) == 5:        # the plugin's default
            opt.benchmark_min_rounds = 2
        if float(getattr(opt, "benchmark_max_time", 0.0) or 0.0) == 1.0:
            opt.benchmark_max_time = 0.1


def pytest_report_header(config):
    mode = "QUICK (NUMFIT_BENCH_QUICK=1)" if QUICK else "full"
    plugin = "" if _have_plugin(config) else "; no pytest-benchmark: stand-in fixture"
    return f"numfit benchmarks: {mode} mode, {ROUNDS} timing rounds (min taken){plugin}"


@pytest.fixture(scope="session")
def quick():
    """True in quick mode (``NUMFIT_BENCH_QUICK=1``)."""
    return QUICK


# ----------------------------------------------------------------------------- timing
class Timing:
    """Min-of-N wall-clock timing, identical for numfit (via pytest-benchmark) and peers."""

    def __init__(self, rounds=ROUNDS, warmup=1):
        self.rounds, self.warmup = rounds, warmup

    def with_rounds(self, rounds):
        """The same timing with another number of rounds."""
        return Timing(rounds, self.warmup)

    def peer(self, fn):
        """Call ``fn()`` ``warmup`` + ``rounds`` times; return (result, min seconds)."""
        for _ in range(self.warmup):
            fn()
        best, out = math.inf, None
        for _ in range(self.rounds):
            t0 = time.perf_counter()
            out = fn()
            best = min(best, time.perf_counter() - t0)
        return out, best

    def paired(self, fn_a, fn_b, min_time=0.0):
        """Min-of-N of two callables timed in alternating rounds; returns (t_a, t_b)
        (:meth:`interleaved` with two)."""
        t_a, t_b = self.interleaved((fn_a, fn_b), min_time=min_time)
        return t_a, t_b

    def interleaved(self, fns, min_time=0.0):
        """Min-of-N of several callables timed in turn, round after round, each round
        starting one callable later than the last; returns the list of minima.

        ``min_time`` (seconds): go on past ``rounds`` rounds until they have taken that
        long, so that the minimum of each comes from a window longer than the stretches of
        load from the host's other work, which last seconds at times (at most 100 times
        ``rounds`` rounds). Timing several rows in one window instead of one window each
        gives every row the whole window for the same total time."""
        fns = tuple(fns)
        for _ in range(self.warmup):
            for fn in fns:
                fn()
        best = [math.inf] * len(fns)
        start = time.perf_counter()
        r = 0
        while r < self.rounds or (time.perf_counter() - start < min_time
                                  and r < 100 * self.rounds):
            for j in range(len(fns)):
                k = (r + j) % len(fns)
                t0 = time.perf_counter()
                fns[k]()
                best[k] = min(best[k], time.perf_counter() - t0)
            r += 1
        return best

    def numfit(self, benchmark, fn):
        """Time ``fn()`` through ``benchmark.pedantic``; return (result, min seconds).

        Falls back to :meth:`peer`'s loop when pytest-benchmark recorded nothing (for example
        under ``--benchmark-disable``).
        """
        out = benchmark.pedantic(fn, rounds=self.rounds, iterations=1,
                                 warmup_rounds=self.warmup)
        stats = getattr(benchmark, "stats", None)
        best = getattr(getattr(stats, "stats", None), "min", None) if stats else None
        if best is None or not math.isfinite(best):
            out, best = self.peer(fn)
        return out, float(best)


@pytest.fixture(scope="session")
def timing():
    """:class:`Timing` with the mode's number of rounds."""
    return Timing()


class _StandInBenchmark:
    """Just enough of pytest-benchmark's fixture for this suite when the plugin is absent."""

    def __init__(self):
        self.stats = None
        self.extra_info = {}

    def pedantic(self, target, args=(), kwargs=None, setup=None, teardown=None, rounds=1,
                 warmup_rounds=0, iterations=1):
        kwargs = kwargs or {}
        for _ in range(warmup_rounds):
            target(*args, **kwargs)
        best, out = math.inf, None
        for _ in range(rounds):
            if setup is not None:
                setup()
            t0 = time.perf_counter()
            for _ in range(iterations):
                out = target(*args, **kwargs)
            best = min(best, (time.perf_counter() - t0) / iterations)
            if teardown is not None:
                teardown()
        self.stats = type("Meta", (), {"stats": type("Stats", (), {"min": best})()})()
        return out

    def __call__(self, fn, *args, **kwargs):
        return self.pedantic(fn, args, kwargs, rounds=ROUNDS, warmup_rounds=1)


class _StandInPlugin:
    """Registered by :func:`pytest_configure` when pytest-benchmark is not active."""

    @pytest.fixture
    def benchmark(self):
        return _StandInBenchmark()


# ----------------------------------------------------------------------------- ratio report
class Report:
    """Rows of (group, metric, value, unit, goal, met, note) collected over the session."""

    def __init__(self):
        self.rows = []

    def add(self, group, name, value, unit="", note="", goal=None, higher_is_better=True):
        """Record a value; with ``goal``, also whether it meets it (``>=`` or ``<=``)."""
        value = None if value is None else float(value)
        met = None
        if goal is not None and value is not None and math.isfinite(value):
            met = value >= goal if higher_is_better else value <= goal
        elif goal is not None:
            met = False
        row = dict(group=str(group), metric=str(name), value=value, unit=str(unit),
                   goal=None if goal is None else float(goal),
                   goal_op=None if goal is None else (">=" if higher_is_better else "<="),
                   met=met, note=str(note))
        self.rows.append(row)
        return row

    def ratio(self, group, name, numer, denom, goal=None, higher_is_better=True, note=""):
        """Record ``numer / denom`` (a ratio, unit "x")."""
        value = float(numer) / float(denom) if float(denom) != 0 else math.inf
        return self.add(group, name, value, unit="x", note=note, goal=goal,
                        higher_is_better=higher_is_better)

    # ------------------------------------------------------------------ output
    @staticmethod
    def _fmt(v):
        if v is None:
            return "-"
        if v == 0 or (1e-3 <= abs(v) < 1e5):
            return f"{v:.4g}"
        return f"{v:.3e}"

    def ordered(self):
        """Rows grouped by group (groups in order of first appearance), stable within."""
        first = {}
        for r in self.rows:
            first.setdefault(r["group"], len(first))
        return sorted(self.rows, key=lambda r: first[r["group"]])

    def lines(self):
        head = ("group", "metric", "value", "goal", "status", "note")
        body = []
        for r in self.ordered():
            val = self._fmt(r["value"]) + (f" {r['unit']}" if r["unit"] else "")
            goal = "" if r["goal"] is None else f"{r['goal_op']} {self._fmt(r['goal'])}"
            status = "" if r["met"] is None else ("met" if r["met"] else "NOT met")
            body.append((r["group"], r["metric"], val, goal, status, r["note"]))
        widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h)
                  for i, h in enumerate(head)]
        widths[-1] = len(head[-1])                      # the note column is not padded
        fmt = "  ".join(f"{{:<{w}}}" for w in widths)
        out = [fmt.format(*head), fmt.format(*("-" * w for w in widths))]
        prev = None
        for b in body:
            if prev is not None and b[0] != prev:
                out.append("")
            prev = b[0]
            out.append(fmt.format(*b).rstrip())
        n_goal = sum(r["met"] is not None for r in self.rows)
        n_met = sum(bool(r["met"]) for r in self.rows)
        out.append("")
        out.append(f"{len(self.rows)} rows; goals met: {n_met}/{n_goal} (goals are reported, "
                   "not asserted)")
        return out

    def write_json(self, path):
        import numpy
        import scipy
        try:
            import numfit
            version = numfit.__version__
        except Exception:  # pragma: no cover - numfit broken: still write the rows
            version = None
        doc = dict(
            created=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            quick=QUICK, rounds=ROUNDS, numfit=version, numpy=numpy.__version__,
            scipy=scipy.__version__, python=platform.python_version(),
            machine=platform.machine(), cpus=os.cpu_count(),
            rows=[dict(r) for r in self.ordered()])
        for row in doc["rows"]:                         # strict JSON: no NaN/Infinity
            for key in ("value", "goal"):
                if row[key] is not None and not math.isfinite(row[key]):
                    row[key] = str(row[key])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n")


_REPORT = Report()


@pytest.fixture(scope="session")
def report():
    """The session's :class:`Report`: ``report.add(...)``, ``report.ratio(...)``."""
    return _REPORT


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _REPORT.rows:
        return
    tr = terminalreporter
    mode = "quick" if QUICK else "full"
    tr.write_sep("=", f"numfit benchmark report ({mode} mode)")
    for line in _REPORT.lines():
        tr.write_line(line)
    try:
        _REPORT.write_json(REPORT_PATH)
        tr.write_line(f"written to {REPORT_PATH}")
    except OSError as exc:  # pragma: no cover - read-only checkout
        tr.write_line(f"could not write {REPORT_PATH}: {exc}")
