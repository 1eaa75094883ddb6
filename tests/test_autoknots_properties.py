"""Invariants of the AutoKnots tables under hypothesis, and equivalence of evaluation modes."""
import math
import pickle
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import numfit as nf

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


class Poly:
    """Picklable random polynomial, vectorised."""

    def __init__(self, coef):
        self.coef = np.asarray(coef, float)

    def __call__(self, x):
        return np.polynomial.polynomial.polyval(x, self.coef)


class CosSum:
    def __init__(self, amp, freq, shift):
        self.amp, self.freq, self.shift = np.asarray(amp), np.asarray(freq), shift

    def __call__(self, x):
        x = np.asarray(x, float)
        return self.shift + np.sum(self.amp * np.cos(2 * np.pi * self.freq * x[..., None]), -1)


def scalar_damped(x):
    return math.exp(-x) * math.sin(3 * x) + 2


def _check(s, f, a, b):
    k = s.knots
    assert s.n_evals == len(k) == sum(s.round_sizes)
    assert np.all(np.diff(k) > 0) and k[0] == a and k[-1] == b
    x = np.linspace(a, b, 20_001)
    x = np.concatenate([x, k[:-1] + 0.25 * np.diff(k), k[:-1] + 0.75 * np.diff(k)])
    fx = f(x)
    ratio = np.abs(s(x) - fx) / (s.rtol * np.abs(fx) + s.atol)
    # Interior intervals meet the tolerance. The two end intervals carry the not-a-knot
    # end error, which the midpoint test (made one level up) can miss: hypothesis found a
    # cosine sum with 1.07x there (documented limitation, docs/autoknots.md).
    end = (x < k[1]) | (x > k[-2])
    assert np.all(ratio[~end] <= 1), ratio[~end].max()
    assert np.all(ratio[end] <= 1.5), ratio[end].max()
    s2 = pickle.loads(pickle.dumps(s))
    assert np.array_equal(s2(x), s(x)) and np.array_equal(s2.knots, k)


def test_end_interval_case_is_verified():
    """The case hypothesis once found: the error in the last interval exceeded rtol (1.05x)
    with verify=False (the paper's tests only); the verification of the end intervals
    catches it."""
    def f(x):
        return 2 + np.cos(2 * np.pi * 3.187996608640053 * x)
    x = np.linspace(0, 1.5, 200_001)
    old = nf.autoknots(f, 0.0, 1.5, rtol=1e-7, verify=False)
    ratio = np.abs(old(x) - f(x)) / (1e-7 * np.abs(f(x)))
    assert 1.0 < ratio.max() < 1.1 and x[np.argmax(ratio)] > old.knots[-2]
    assert "not verified" in old.message
    s = nf.autoknots(f, 0.0, 1.5, rtol=1e-7)
    ratio = np.abs(s(x) - f(x)) / (1e-7 * np.abs(f(x)))
    assert ratio.max() < 1 and s.converged and s.verify
    assert s.verify_evals >= 4     # the 1/4 and 3/4 points became knots


@SETTINGS
@given(coef=st.lists(st.floats(-3, 3), min_size=1, max_size=9),
       rtol=st.sampled_from([1e-4, 1e-6, 1e-8]),
       knots=st.sampled_from(["linear", "asinh"]))
def test_random_polynomials(coef, rtol, knots):
    f = Poly(coef)
    # atol relative to the polynomial's scale: a relative tolerance cannot resolve its roots
    atol = rtol * (1 + np.sum(np.abs(coef)))
    s = nf.autoknots(f, -1.0, 2.0, rtol=rtol, atol=atol, knots=knots)
    assert s.converged
    _check(s, f, -1.0, 2.0)
    if len(coef) <= 4 and knots == "linear":
        # cubics: the first spline is exact and Simpson (centred midpoint) integrates cubics
        # exactly; off-centre three-point rules (asinh) are exact only up to quadratics
        assert s.n_rounds == 1 + s.verify_rounds and s.verify_failed == 0


@SETTINGS
@given(amp=st.lists(st.floats(0.1, 1.0), min_size=1, max_size=4),
       freq=st.lists(st.floats(0.2, 4.0), min_size=4, max_size=4),
       rtol=st.sampled_from([1e-5, 1e-7]))
def test_cosine_sums(amp, freq, rtol):
    f = CosSum(amp, freq[:len(amp)], shift=2 * sum(amp))   # bounded away from 0
    s = nf.autoknots(f, 0.0, 1.5, rtol=rtol)
    assert s.converged
    _check(s, f, 0.0, 1.5)


def test_vectorised_scalar_and_workers_give_identical_meshes():
    vec = nf.autoknots(lambda x: np.exp(-x) * np.sin(3 * x) + 2, 0.1, 5.0, rtol=1e-7)
    sca = nf.autoknots(scalar_damped, 0.1, 5.0, rtol=1e-7)
    assert not sca.vectorized and vec.vectorized
    assert sca.n_calls == sca.n_evals + 1           # the failed probe counts in n_calls
    assert vec.n_calls == vec.n_rounds + 1
    with ThreadPoolExecutor(3) as ex:
        thr = nf.autoknots(scalar_damped, 0.1, 5.0, rtol=1e-7, workers=ex.map)
        thr_v = nf.autoknots(lambda x: np.exp(-x) * np.sin(3 * x) + 2, 0.1, 5.0, rtol=1e-7,
                             workers=ex.map)
    proc = nf.autoknots(scalar_damped, 0.1, 5.0, rtol=1e-7, workers=2)
    for s in (sca, thr, thr_v, proc):
        assert np.array_equal(s.knots, vec.knots)
        assert np.array_equal(s.values, vec.values)
        assert s.round_sizes == vec.round_sizes


def test_vectorized_flag_forced():
    calls = []

    def f(x):
        calls.append(np.shape(x))
        return np.sin(x) + 2

    s = nf.autoknots(f, 0.0, 1.0, rtol=1e-6, vectorized=False)
    assert all(c == () for c in calls) and s.n_calls == s.n_evals
    calls.clear()
    s = nf.autoknots(f, 0.0, 1.0, rtol=1e-6, vectorized=True)
    assert all(len(c) == 1 for c in calls) and s.n_calls == s.n_rounds + 1


def test_args_are_passed():
    s = nf.autoknots(lambda x, p, q: p * x + q, 0.0, 1.0, args=(2.0, 1.0))
    assert s(0.5) == pytest.approx(2.0)


def test_integer_valued_f_is_accepted():
    s = nf.autoknots(lambda x: np.ones_like(x, dtype=int), 0.0, 1.0)
    assert s.converged and len(s.knots) == 11 + s.verify_evals == 15
