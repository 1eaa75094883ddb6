"""Fault injection in minimize_alsketch and wls: a user function that raises on its n-th call,
and a KeyboardInterrupt from the callback.

Every exception must propagate unchanged (the very object the user code raised), and
nothing the caller passed in may be left half-updated: x0, lambda0, options, warm_start,
the constraints, the space, a reused sample and a Generator passed as ``rng`` (AL-sketch
restores it, so a retry is bit-identical to an undisturbed run).
"""
import copy

import numpy as np
import pytest
from scipy.optimize import NonlinearConstraint

import numfit as nf
from numfit.optimize import minimize_alsketch
from numfit.optimize.problems import hock_schittkowski


class Boom(Exception):
    """A user failure no solver catches (not ValueError, ZeroDivisionError, ...)."""


def fail_on(fn, n, exc_type=Boom):
    """``fn`` that raises a fresh ``exc_type`` on its n-th call (1-based); the raised
    instance is kept in ``wrapper.raised``."""
    def wrapper(*a, **kw):
        wrapper.calls += 1
        if wrapper.calls == n:
            wrapper.raised = exc_type(f"injected fault at call {n}")
            raise wrapper.raised
        return fn(*a, **kw)
    wrapper.calls = 0
    wrapper.raised = None
    return wrapper


# ============================================================================ AL-sketch
P = hock_schittkowski("HS47")          # n = 5, m = 3, about 10 iterations


def problem(**over):
    con = NonlinearConstraint(P.cons, 0.0, 0.0, jac=P.jac, hess=P.cons_hess)
    kw = dict(fun=P.fun, x0=P.x0.copy(), jac=P.grad, hess=P.hess, constraints=[con],
              lambda0=np.full(3, 0.25), options={"kappa": 0.1, "return_history": True},
              tol=1e-8)
    kw.update(over)
    return kw


def snapshot(kw):
    con = kw["constraints"][0]
    return dict(x0=kw["x0"].copy(), lambda0=kw["lambda0"].copy(),
                options=copy.deepcopy(kw["options"]),
                con=(con.fun, con.jac, con.hess, np.copy(con.lb), np.copy(con.ub)),
                warm=copy.deepcopy(dict(kw["warm_start"])) if kw.get("warm_start") else None)


def assert_untouched(kw, snap):
    np.testing.assert_array_equal(kw["x0"], snap["x0"])
    np.testing.assert_array_equal(kw["lambda0"], snap["lambda0"])
    assert kw["options"] == snap["options"]
    con = kw["constraints"][0]
    assert (con.fun, con.jac, con.hess) == snap["con"][:3]
    np.testing.assert_array_equal(con.lb, snap["con"][3])
    np.testing.assert_array_equal(con.ub, snap["con"][4])
    if snap["warm"] is not None:
        warm = dict(kw["warm_start"])
        assert warm.keys() == snap["warm"].keys()
        for key, val in snap["warm"].items():
            if isinstance(val, np.ndarray):
                np.testing.assert_array_equal(warm[key], val)
            elif key == "state":
                assert warm[key] == val


@pytest.fixture(scope="module")
def clean():
    """The undisturbed run and how often it calls each user function."""
    counts = {}

    def counted(name, fn):
        def wrapper(*a):
            counts[name] = counts.get(name, 0) + 1
            return fn(*a)
        return wrapper

    con = NonlinearConstraint(counted("cons", P.cons), 0.0, 0.0,
                              jac=counted("cjac", P.jac), hess=counted("chess", P.cons_hess))
    res = minimize_alsketch(**problem(fun=counted("fun", P.fun), jac=counted("jac", P.grad),
                                      hess=counted("hess", P.hess), constraints=[con]),
                            rng=np.random.default_rng(7))
    assert res.status == 0 and res.nit >= 5
    return res, counts


@pytest.mark.parametrize("where", ["fun", "jac", "hess", "cons", "cjac", "chess"])
@pytest.mark.parametrize("when", ["first", "middle", "last"])
def test_alsketch_user_function_raises_on_nth_call(clean, where, when):
    ref, counts = clean
    n = {"first": 1, "middle": max(2, counts[where] // 2), "last": counts[where]}[when]
    funcs = dict(fun=P.fun, jac=P.grad, hess=P.hess, cons=P.cons, cjac=P.jac,
                 chess=P.cons_hess)
    bad = fail_on(funcs[where], n)
    funcs[where] = bad
    con = NonlinearConstraint(funcs["cons"], 0.0, 0.0, jac=funcs["cjac"], hess=funcs["chess"])
    kw = problem(fun=funcs["fun"], jac=funcs["jac"], hess=funcs["hess"], constraints=[con])
    snap = snapshot(kw)
    gen = np.random.default_rng(7)
    state = copy.deepcopy(gen.bit_generator.state)
    with pytest.raises(Boom) as info:
        minimize_alsketch(**kw, rng=gen)
    assert info.value is bad.raised                     # the very object, not a wrapper
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert bad.calls == n
    assert_untouched(kw, snap)
    assert gen.bit_generator.state == state             # the Generator is given back
    # a retry with the same (restored) Generator is the undisturbed run, bit for bit
    funcs[where] = {"fun": P.fun, "jac": P.grad, "hess": P.hess, "cons": P.cons,
                    "cjac": P.jac, "chess": P.cons_hess}[where]
    con = NonlinearConstraint(funcs["cons"], 0.0, 0.0, jac=funcs["cjac"], hess=funcs["chess"])
    kw.update(fun=funcs["fun"], jac=funcs["jac"], hess=funcs["hess"], constraints=[con])
    res = minimize_alsketch(**kw, rng=gen)
    np.testing.assert_array_equal(res.x, ref.x)
    assert res.nit == ref.nit and res.n_sketch == ref.n_sketch


def test_alsketch_fault_with_warm_start_leaves_it_untouched(clean):
    ref, _ = clean
    bad = fail_on(P.fun, 3)
    kw = problem(fun=bad, warm_start=ref)
    warm_before = copy.deepcopy(dict(ref))
    snap = snapshot(kw)
    with pytest.raises(Boom):
        minimize_alsketch(**kw, rng=1)
    assert_untouched(kw, snap)
    assert ref.state == warm_before["state"]
    np.testing.assert_array_equal(ref.x, warm_before["x"])
    np.testing.assert_array_equal(ref.multipliers, warm_before["multipliers"])


def test_alsketch_value_error_at_a_trial_point_rejects_the_step():
    """A ValueError (like a math domain error) at a trial point rejects that step, as
    documented; at x0 it propagates unchanged."""
    first = fail_on(P.fun, 1, ValueError)
    with pytest.raises(ValueError) as info:
        minimize_alsketch(**problem(fun=first), rng=0)
    assert info.value is first.raised
    later = fail_on(P.fun, 3, ValueError)
    res = minimize_alsketch(**problem(fun=later), rng=0)
    assert later.calls > 3 and np.all(np.isfinite(res.x))


@pytest.mark.parametrize("signature", ["intermediate_result", "x"])
def test_alsketch_keyboard_interrupt_from_callback(clean, signature):
    ref, _ = clean
    seen = []

    if signature == "intermediate_result":
        def callback(intermediate_result):
            seen.append(intermediate_result.x.copy())
            intermediate_result.x[:] = np.nan          # a copy: cannot corrupt the solver
            if len(seen) == 3:
                callback.raised = KeyboardInterrupt()
                raise callback.raised
    else:
        def callback(x):
            seen.append(x.copy())
            if len(seen) == 3:
                callback.raised = KeyboardInterrupt()
                raise callback.raised

    kw = problem(callback=callback)
    snap = snapshot(kw)
    gen = np.random.default_rng(7)
    state = copy.deepcopy(gen.bit_generator.state)
    with pytest.raises(KeyboardInterrupt) as info:
        minimize_alsketch(**kw, rng=gen)
    assert info.value is callback.raised and len(seen) == 3
    assert_untouched(kw, snap)
    assert gen.bit_generator.state == state
    # the iterates seen before the interrupt are the undisturbed run's first iterates
    full = []
    res = minimize_alsketch(**problem(callback=lambda x: full.append(x.copy())), rng=gen)
    np.testing.assert_array_equal(res.x, ref.x)
    for a, b in zip(seen, full):
        np.testing.assert_array_equal(a, b)


def test_alsketch_stop_iteration_is_a_status_not_an_exception():
    def callback(x):
        raise StopIteration

    res = minimize_alsketch(**problem(callback=callback), rng=0)
    assert res.status == nf.optimize.ALSketchStatus.CALLBACK_STOP and res.nit == 1


# ============================================================================ WLS
V = nf.PolynomialSpace("legendre", 5, dim=2)


def target(x):
    x = np.atleast_2d(x)
    return np.exp(x[:, 0]) * np.cos(x[:, 1])


def scalar_target(x):
    return float(np.exp(x[0]) * np.cos(x[1]))


@pytest.mark.parametrize("vectorized, n", [(True, 1), (False, 1), (False, 17), (False, -1)])
def test_wls_f_raises_on_nth_call(vectorized, n):
    fn = target if vectorized else scalar_target
    ref = nf.wls(fn, V, rng=3, vectorized=vectorized)
    calls = ref.n_evals if n == -1 else n              # -1: the very last evaluation
    bad = fail_on(fn, calls)
    indices, ref_coef = V.indices.copy(), ref.coef.copy()
    with pytest.raises(Boom) as info:
        nf.wls(bad, V, rng=3, vectorized=vectorized)
    assert info.value is bad.raised and bad.calls == calls
    np.testing.assert_array_equal(V.indices, indices)
    again = nf.wls(fn, V, rng=3, vectorized=vectorized)
    np.testing.assert_array_equal(again.coef, ref_coef)


def test_wls_fault_with_a_reused_sample_leaves_it_untouched():
    sample = nf.sample_points(V, rng=11)
    pts, w = sample.points.copy(), sample.weights.copy()
    bad = fail_on(target, 1)
    with pytest.raises(Boom) as info:
        nf.wls(bad, V, sample=sample, vectorized=True)
    assert info.value is bad.raised
    # the only change: a note saying f failed on a batch (how to find the x)
    assert [n for n in getattr(info.value, "__notes__", []) if "vectorized" in n]
    np.testing.assert_array_equal(sample.points, pts)
    np.testing.assert_array_equal(sample.weights, w)
    assert not sample.points.flags.writeable and not sample.weights.flags.writeable
    fit = nf.wls(target, V, sample=sample)
    assert fit.success and fit.n_evals == sample.n


def test_wls_keyboard_interrupt_in_f_propagates():
    def f(x):
        f.calls += 1
        if f.calls == 5:
            f.raised = KeyboardInterrupt()
            raise f.raised
        return scalar_target(x)
    f.calls = 0
    with pytest.raises(KeyboardInterrupt) as info:
        nf.wls(f, V, rng=2, vectorized=False)
    assert info.value is f.raised
    assert nf.wls(scalar_target, V, rng=2, vectorized=False).success


def test_wls_restores_a_generator_when_f_raises():
    """A Generator passed as rng is put back to its state at the call when f raises, so a
    retry draws the same design (and equals a run that never failed)."""
    import numfit as nf
    V = nf.PolynomialSpace("legendre", 8)
    calls = {"n": 0}

    def flaky(x):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("transient failure")
        return np.exp(x)

    rng = np.random.default_rng(11)
    with pytest.raises(RuntimeError, match="transient"):
        nf.wls(flaky, V, rng=rng, vectorized=True)
    retry = nf.wls(flaky, V, rng=rng, vectorized=True)
    fresh = nf.wls(np.exp, V, rng=np.random.default_rng(11), vectorized=True)
    assert np.array_equal(retry.sample.points, fresh.sample.points)
    assert np.array_equal(retry.coef, fresh.coef)


def test_interrupted_sample_points_leaves_the_generator_as_it_was(monkeypatch):
    """Ctrl-C in the second DPP batch: the caller's generator (bit state and spawn counter)
    is as before the call, so the next call equals an uninterrupted one."""
    import numfit as nf
    from numfit.approx import _sample
    V = nf.PolynomialSpace("legendre", 8)
    real_dpp = _sample._Draws.dpp
    calls = {"n": 0}

    def dpp(self, rng):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real_dpp(self, rng)

    rng = np.random.default_rng(5)
    monkeypatch.setattr(_sample._Draws, "dpp", dpp)
    with pytest.raises(KeyboardInterrupt):
        nf.sample_points(V, rng=rng)
    monkeypatch.setattr(_sample._Draws, "dpp", real_dpp)
    assert rng.bit_generator.seed_seq.n_children_spawned == 0
    again = nf.sample_points(V, rng=rng)
    fresh = nf.sample_points(V, rng=np.random.default_rng(5))
    assert np.array_equal(again.points, fresh.points)
