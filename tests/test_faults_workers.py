"""Fault injection for ``workers=``: a worker process that dies (``os._exit`` in f, a kill
by a signal as the out-of-memory killer sends) must give a clear error naming the lost
worker, within seconds, with the pool cleaned up and no partial result; an f that raises
propagates its own exception unchanged and leaves no half-built state.

Scenarios that could hang (a worker death with the pools numfit used before) run in a child
process with a timeout, so that a regression fails instead of hanging the test run.
"""
import json
import math
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import pytest

import numfit as nf
from numfit._workers import MapWrapper, WorkerDiedError

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIO_TIMEOUT = 120          # seconds; a death is reported in well under 10 s
KILL_LO, KILL_HI = 1.0, 1.5     # f dies for x in this range (a round-0 knot on [0, 4])


# --------------------------------------------------------------------------- picklable f's
def exit3(x):
    """Scalar f whose process exits with code 3 inside (KILL_LO, KILL_HI)."""
    if KILL_LO < float(x) < KILL_HI:
        os._exit(3)
    return math.sin(x) + 2


def sigkill_vec(x):
    """Vectorised f whose process is killed by SIGKILL (what the OOM killer sends)."""
    x = np.asarray(x, dtype=float)
    if np.any((x > KILL_LO) & (x < KILL_HI)):
        os.kill(os.getpid(), signal.SIGKILL)
    return np.sin(x) + 2


def exit3_wls(x):
    if KILL_LO / 4 < float(np.ravel(x)[0]) < KILL_HI / 4:
        os._exit(3)
    return math.cos(float(np.ravel(x)[0]))


def exit3_2d(x, y):
    if KILL_LO < float(x) < KILL_HI:
        os._exit(3)
    return math.sin(x) * math.cos(y) + 2


class PointError(ValueError):
    """An exception of the user's own."""


def raise_at(x):
    if float(x) > 2.5:
        raise PointError(f"cannot evaluate at {float(x)!r}")
    return math.sin(x) + 2


def raise_broken_pool(x):
    """f that raises BrokenProcessPool itself (its own inner pool broke): not a death of
    numfit's workers, so it must come through unchanged."""
    if float(x) > 2.5:
        raise BrokenProcessPool("inner pool of f broke")
    return math.sin(x) + 2


def smooth(x):
    return math.sin(x) + 2


class KeywordOnlyError(Exception):
    """Pickles but cannot be unpickled (its required keyword is not in ``args``)."""

    def __init__(self, msg, *, code):
        super().__init__(msg)
        self.code = code


def raise_unpicklable(x):
    if float(x) > 2.5:
        raise KeywordOnlyError("boom", code=3)
    return math.sin(x) + 2


# --------------------------------------------------------------------------- scenarios
# Each runs in a fresh interpreter (run_scenario) and prints one JSON line.
def _outcome(call):
    t0 = time.perf_counter()
    result = None
    try:
        result = call()
        err = None
    except BaseException as exc:           # noqa: BLE001 - reported to the test
        err = exc
    dt = time.perf_counter() - t0
    time.sleep(0.2)
    left = [p.pid for p in multiprocessing.active_children()]
    out = dict(seconds=dt, leftover=left, result=None if result is None else repr(result))
    if err is not None:
        out.update(type=type(err).__name__, message=str(err),
                   is_worker_died=isinstance(err, WorkerDiedError),
                   is_runtime=isinstance(err, RuntimeError),
                   is_broken_pool=isinstance(err, BrokenProcessPool),
                   exitcodes=sorted(getattr(err, "exitcodes", {}).values()))
    return out


def scenario_autoknots_exit():
    out = _outcome(lambda: nf.autoknots(exit3, 0.0, 4.0, rtol=1e-6, workers=2))
    # the process pool is usable again afterwards: a fresh call equals the serial one
    s = nf.autoknots(smooth, 0.0, 4.0, rtol=1e-6, workers=2)
    ref = nf.autoknots(smooth, 0.0, 4.0, rtol=1e-6)
    out["after_ok"] = bool(np.array_equal(s.knots, ref.knots))
    out["after_leftover"] = [p.pid for p in multiprocessing.active_children()]
    return out


def scenario_autoknots_sigkill_vectorized():
    return _outcome(lambda: nf.autoknots(sigkill_vec, 0.0, 4.0, rtol=1e-6, workers=2))


def scenario_chebyshev_exit():
    return _outcome(lambda: nf.autoknots(exit3, 0.0, 4.0, rtol=1e-6, workers=2,
                                         kind="chebyshev"))


def scenario_wls_exit():
    V = nf.PolynomialSpace("legendre", degree=4)
    return _outcome(lambda: nf.wls(exit3_wls, V, n=200, rng=0, workers=2,
                                   vectorized=False))


def scenario_autoknots2d_exit():
    return _outcome(lambda: nf.autoknots2d(exit3_2d, (0.0, 4.0), (0.0, 1.0), rtol=1e-4,
                                           workers=2, vectorized=False))


def scenario_user_executor():
    with ProcessPoolExecutor(2) as ex:
        return _outcome(lambda: nf.autoknots(exit3, 0.0, 4.0, rtol=1e-6, workers=ex.map))


def scenario_user_pool():
    pool = multiprocessing.Pool(2)
    try:
        out = _outcome(lambda: nf.autoknots(exit3, 0.0, 4.0, rtol=1e-6, workers=pool.map))
    finally:
        pool.terminate()
        pool.join()
    return out


def scenario_unpicklable_exception():
    out = _outcome(lambda: nf.autoknots(raise_unpicklable, 0.0, 4.0, rtol=1e-6, workers=2,
                                        vectorized=False))
    out["notes"] = " ".join(getattr(_last_error(raise_unpicklable), "__notes__", []))
    return out


def _last_error(f):
    try:
        nf.autoknots(f, 0.0, 4.0, rtol=1e-6, workers=2, vectorized=False)
    except BaseException as exc:           # noqa: BLE001 - reported to the test
        return exc
    return None


def run_scenario(name):
    """Run ``scenario_<name>`` in a new interpreter (its own process group) with a timeout;
    the whole group is killed on timeout, so no worker outlives the test."""
    code = (f"import sys, json; sys.path.insert(0, {HERE!r}); import test_faults_workers "
            f"as t; print('RESULT ' + json.dumps(t.scenario_{name}()))")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            cwd=os.path.dirname(HERE))
    try:
        stdout, stderr = proc.communicate(timeout=SCENARIO_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"scenario {name!r} hung: no result after {SCENARIO_TIMEOUT} s")
    lines = [ln for ln in stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, f"scenario {name!r} crashed:\n{stderr[-3000:]}"
    out = json.loads(lines[-1][len("RESULT "):])
    out["stderr"] = stderr
    return out


def _check_death(out, *, code_text, own_pool=True):
    assert out["is_worker_died"], out
    assert out["is_runtime"] and out["is_broken_pool"], out
    assert out["result"] is None, out                       # no partial table returned
    assert out["seconds"] < 30, out
    assert out["leftover"] == [], out                       # the pool is cleaned up
    msg = out["message"]
    assert "worker process" in msg and "died" in msg, msg
    assert code_text in msg, msg
    assert "workers=None" in msg, msg                       # says how to find the cause
    if own_pool:                    # no thread of the executor failed while shutting down
        assert "Exception in thread" not in out["stderr"], out["stderr"]


# --------------------------------------------------------------------------- death tests
def test_autoknots_worker_exit_is_reported_not_hung():
    out = run_scenario("autoknots_exit")
    _check_death(out, code_text="exit code 3")
    assert out["exitcodes"] == [3], out
    assert "workers=2" in out["message"], out
    assert out["after_ok"] and out["after_leftover"] == [], out


def test_autoknots_worker_killed_by_signal():
    out = run_scenario("autoknots_sigkill_vectorized")
    _check_death(out, code_text="SIGKILL")
    assert -signal.SIGKILL in out["exitcodes"], out
    assert "memory" in out["message"], out


def test_chebyshev_worker_exit():
    _check_death(run_scenario("chebyshev_exit"), code_text="exit code 3")


def test_wls_worker_exit():
    _check_death(run_scenario("wls_exit"), code_text="exit code 3")


def test_autoknots2d_worker_exit():
    _check_death(run_scenario("autoknots2d_exit"), code_text="exit code 3")


def test_user_process_pool_executor_worker_exit():
    out = run_scenario("user_executor")
    # (a ProcessPoolExecutor of Python < 3.12 may print an InvalidStateError of its own
    # thread here: its map cancels futures that the broken pool is failing)
    _check_death(out, code_text="exit code 3", own_pool=False)
    assert "ProcessPoolExecutor" in out["message"], out


def test_user_multiprocessing_pool_worker_exit():
    """``multiprocessing.Pool.map`` waits forever for the task of a dead worker; numfit
    watches the pool's workers and raises instead (the pool is the caller's to end)."""
    out = run_scenario("user_pool")
    assert out["is_worker_died"] and out["seconds"] < 30 and out["result"] is None, out
    assert "exit code 3" in out["message"] and "terminate" in out["message"], out


def test_unpicklable_exception_of_f_is_explained():
    """An exception the parent cannot unpickle breaks a ProcessPoolExecutor: the
    BrokenProcessPool comes with a note saying why (no worker died, none is left)."""
    out = run_scenario("unpicklable_exception")
    assert out["is_broken_pool"] and not out["is_worker_died"], out
    assert out["seconds"] < 30 and out["leftover"] == [] and out["result"] is None, out
    assert "could not be unpickled" in out["notes"], out
    assert "Exception in thread" not in out["stderr"], out["stderr"]


# --------------------------------------------------------------------------- f raises
@pytest.mark.parametrize("workers", [None, "threads", 2])
def test_f_error_propagates_unchanged(workers):
    """The user's exception comes back with its own type and message (numfit only adds a
    note naming x), nothing half-built is kept, no worker process is left behind."""
    with ThreadPoolExecutor(2) as tp:
        w = tp.map if workers == "threads" else workers
        with pytest.raises(PointError) as e:
            nf.autoknots(raise_at, 0.0, 4.0, rtol=1e-6, workers=w, vectorized=False)
    assert type(e.value) is PointError
    assert str(e.value).startswith("cannot evaluate at ")
    assert any("numfit.autoknots: f raised at x=" in n for n in e.value.__notes__)
    assert multiprocessing.active_children() == []


def test_f_raising_broken_process_pool_is_not_taken_for_a_death():
    with pytest.raises(BrokenProcessPool) as e:
        nf.autoknots(raise_broken_pool, 0.0, 4.0, rtol=1e-6, workers=2, vectorized=False)
    assert not isinstance(e.value, WorkerDiedError)
    assert str(e.value) == "inner pool of f broke"
    assert multiprocessing.active_children() == []


class RaiseOnNthCall:
    """f that raises on its n-th call (a transient failure of an expensive code)."""

    def __init__(self, n):
        self.n, self.calls = n, 0

    def __call__(self, x):
        self.calls += 1
        if self.calls == self.n:
            raise PointError(f"call {self.calls} failed")
        return np.sin(x) + 2


@pytest.mark.parametrize("kind", ["cubic", "chebyshev"])
@pytest.mark.parametrize("vectorized", [True, False])
@pytest.mark.parametrize("which", ["first", "second", "last"])
def test_raise_on_nth_call_leaves_no_state(kind, vectorized, which):
    """(With vectorized=None the first call is the probe, whose failure means "call f per
    point", so the explicit modes are tested.)"""
    opts = dict(rtol=1e-8, kind=kind, vectorized=vectorized)
    ref = nf.autoknots(RaiseOnNthCall(0), 0.0, 4.0, **opts)
    n = {"first": 1, "second": 2, "last": ref.n_calls}[which]
    f = RaiseOnNthCall(n)
    with pytest.raises(PointError, match=f"call {n} failed"):
        nf.autoknots(f, 0.0, 4.0, **opts)
    assert f.calls == n                       # stopped at once, no retry behind the scenes
    again = nf.autoknots(f, 0.0, 4.0, **opts)   # calls > n: no more errors
    assert again == ref and again.n_evals == ref.n_evals


def test_map_wrapper_closed_after_error():
    """The pool of an int ``workers`` is shut down when the with-block ends by an error."""
    m = MapWrapper(2)
    with pytest.raises(PointError):
        with m:
            m(raise_at, [0.5, 3.0])
    assert m._pool is None and multiprocessing.active_children() == []
    with pytest.raises(RuntimeError, match="must be entered"):
        m(smooth, [0.5])


def test_worker_died_error_pickles():
    import pickle
    e = WorkerDiedError("gone", exitcodes={12: 3})
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is WorkerDiedError and str(e2) == "gone" and e2.exitcodes == {12: 3}
