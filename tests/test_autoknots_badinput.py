"""Bad input (docs/autoknots.md, errors): one test each, clear messages naming the argument."""
import math
import warnings

import numpy as np
import pytest

import numfit as nf


def f_ok(x):
    return np.sin(x) + 2


@pytest.mark.parametrize("a,b,match", [
    (np.nan, 1.0, "`a`"), (0.0, np.inf, "`b`"), (1.0, 1.0, "`a` must be < `b`"),
    (2.0, 1.0, "`a` must be < `b`"), (-1e308, 1e308, "overflows"),
    (1.0, 1.0 + 1e-15, "too close"), ("0", 1.0, "`a`"),
])
def test_bad_interval(a, b, match):
    with pytest.raises((ValueError, TypeError), match=match):
        nf.autoknots(f_ok, a, b)


@pytest.mark.parametrize("rtol", [-1.0, 0.0, 1.0, 2.0, np.nan, np.inf])
def test_bad_rtol(rtol):
    with pytest.raises(ValueError, match=r"`rtol` must be a finite float in \(0, 1\); got"):
        nf.autoknots(f_ok, 0.0, 1.0, rtol=rtol)


def test_rtol_message_exact():
    with pytest.raises(ValueError) as e:
        nf.autoknots(f_ok, 0.0, 1.0, rtol=-1.0)
    assert str(e.value) == "`rtol` must be a finite float in (0, 1); got -1.0"


def test_tiny_rtol_warns():
    with pytest.warns(nf.AutoKnotsWarning, match="1e-14"):
        nf.autoknots(lambda x: 2 * x + 1, 0.0, 1.0, rtol=1e-15)


@pytest.mark.parametrize("atol", [-1e-3, np.nan, np.inf])
def test_bad_atol(atol):
    with pytest.raises(ValueError, match="`atol`"):
        nf.autoknots(f_ok, 0.0, 1.0, atol=atol)


@pytest.mark.parametrize("kw,match", [
    (dict(knots="log"), "knots='log' needs `a` > 0"),
    (dict(space="loglog"), "space='loglog' needs `a` > 0"),
])
def test_log_needs_positive_a(kw, match):
    with pytest.raises(ValueError, match=match):
        nf.autoknots(f_ok, 0.0, 1.0, **kw)


@pytest.mark.parametrize("kw,exc,match", [
    (dict(knots="cheb"), ValueError, "`knots` must be one of 'linear', 'log', 'asinh'"),
    (dict(space="log"), ValueError, "`space` must be one of"),
    (dict(refine="yes"), ValueError, "`refine` must be one of"),
    (dict(loglog_criterion="rel"), ValueError, "`loglog_criterion`"),
    (dict(vector_norm="l1"), ValueError, "`vector_norm`"),
    (dict(n_init=3), ValueError, "`n_init` must be an integer >= 4"),
    (dict(n_init=6.0), TypeError, "`n_init`"),
    (dict(max_knots=True), TypeError, "`max_knots`"),
    (dict(max_knots=50.0), TypeError, "`max_knots`"),
    (dict(max_knots=math.inf), TypeError, "`max_knots`"),
    (dict(max_knots=5), ValueError, "`max_knots`"),
    (dict(max_knots=10**9), ValueError, "`max_knots`"),
    (dict(refine_ns=-1.0), ValueError, "`refine_ns`"),
    (dict(refine_ns=np.nan), ValueError, "`refine_ns`"),
    (dict(n_refine=-1), ValueError, "`n_refine`"),
    (dict(vectorized="yes"), TypeError, "`vectorized`"),
    (dict(extrapolate=None), TypeError, "`extrapolate`"),
    (dict(workers=0), ValueError, "`workers`"),
    (dict(workers="4"), TypeError, "`workers`"),
    (dict(kind="quintic"), ValueError, "`kind` must be one of 'cubic', 'chebyshev'"),
    (dict(kind="Chebyshev"), ValueError, "got 'Chebyshev'"),
    (dict(verify="yes"), TypeError, "`verify`"),
    (dict(callback=3), TypeError, "`callback` must be callable"),
    (dict(progress="yes"), TypeError, "`progress`"),
    (dict(degree=8), ValueError, "`degree` applies to kind='chebyshev'"),
    (dict(kind="spline"), ValueError, "`kind`"),
])
def test_bad_options(kw, exc, match):
    with pytest.raises(exc, match=match):
        nf.autoknots(f_ok, 0.1, 1.0, **kw)


def test_loglog_asinh_rejected():
    with pytest.raises(ValueError, match="asinh"):
        nf.autoknots(f_ok, 0.1, 1.0, space="loglog", knots="asinh")


def test_f_not_callable():
    with pytest.raises(TypeError, match="`f` must be callable"):
        nf.autoknots(3.0, 0.0, 1.0)


@pytest.mark.parametrize("vectorized", [None, True, False])
def test_f_returns_nan_names_x_and_round(vectorized):
    def f(x):
        x = np.asarray(x, float)
        return np.where(x == 0.3125, np.nan, np.sin(x) + 2)
    with pytest.raises(ValueError) as e:
        # initial spacing 2.5 on [0, 12.5]: 0.3125 = 2.5 / 2**3 is a round-3 midpoint
        nf.autoknots(lambda x: f(x) if np.ndim(x) else float(f(x)), 0.0, 12.5,
                     vectorized=vectorized)
    assert str(e.value) == "f returned nan at x=0.3125 (round 3)"


def test_f_returns_inf_in_first_batch():
    with pytest.raises(ValueError, match=r"f returned inf at x=0.0 \(round 0\)"):
        with np.errstate(divide="ignore"):
            nf.autoknots(lambda x: 1.0 / x, 0.0, 1.0)


def test_f_complex():
    with pytest.raises(TypeError, match="complex"):
        nf.autoknots(lambda x: x + 1j, 0.0, 1.0)
    with pytest.raises(TypeError, match="complex"):
        nf.autoknots(lambda x: complex(x, 1), 0.0, 1.0, vectorized=False)


def test_f_garbage():
    with pytest.raises(TypeError, match="expected real numbers"):
        nf.autoknots(lambda x: np.array(["a"] * np.size(x)), 0.0, 1.0, vectorized=True)
    with pytest.raises((TypeError, ValueError)):
        nf.autoknots(lambda x: "abc", 0.0, 1.0, vectorized=False)
    with pytest.raises(ValueError, match="shape"):
        nf.autoknots(lambda x: np.ones((2, 2)), 0.0, 1.0, vectorized=False)


def test_f_nonpositive_in_loglog():
    with pytest.raises(ValueError, match=r"<= 0 at x=.*loglog"):
        nf.autoknots(lambda x: np.cos(x), 0.1, 3.0, space="loglog")


def test_wrong_shape_vectorized():
    def f(x):
        return np.ones(3)
    with pytest.raises(ValueError) as e:
        nf.autoknots(f, 0.0, 1.0, vectorized=True, n_init=5)
    assert str(e.value) == "f returned shape (3,) for 5 points; expected (5,)"


def test_shape_changes_between_rounds():
    calls = [0]

    def f(x):
        calls[0] += 1
        return np.sin(x) + 2 if calls[0] == 1 else np.ones(np.size(x) + 1)
    with pytest.raises(ValueError, match="shape"):
        nf.autoknots(f, 0.0, 1.0, vectorized=True)


@pytest.mark.parametrize("vectorized", [True, False])
def test_f_raises_is_reraised_with_note(vectorized):
    class Boom(RuntimeError):
        pass

    def f(x):
        if np.any(np.asarray(x) > 0.5):
            raise Boom("integrator failed")
        return np.sin(x) + 2 if vectorized else math.sin(x) + 2
    with pytest.raises(Boom) as e:
        nf.autoknots(f, 0.0, 1.0, vectorized=vectorized)
    note = " ".join(getattr(e.value, "__notes__", []))
    assert "numfit.autoknots: f raised" in note and "round 0" in note
    if not vectorized:
        assert "x=0.6" in note


def test_worker_raises_names_x():
    from concurrent.futures import ThreadPoolExecutor

    def f(x):
        if x > 0.7:
            raise ZeroDivisionError("bad point")
        return math.sin(x) + 2
    with ThreadPoolExecutor(2) as ex, pytest.raises(ZeroDivisionError) as e:
        nf.autoknots(f, 0.0, 1.0, vectorized=False, workers=ex.map)
    assert "x=0.8" in " ".join(e.value.__notes__)


def test_unpicklable_f_with_process_pool():
    with pytest.raises(TypeError, match="cannot be pickled"):
        nf.autoknots(lambda x: x, 0.0, 1.0, workers=2)


def test_nothing_half_updated_on_error():
    """A failing call leaves no state behind: the next call gives the usual result."""
    with pytest.raises(ValueError):
        nf.autoknots(lambda x: np.full_like(x, np.nan), 0.0, 1.0)
    s = nf.autoknots(lambda x: 2 * x + 1, 0.1, 5.0)
    assert len(s.knots) == 15 and s.verify_evals == 4


def test_spline_call_bad_input():
    s = nf.autoknots(f_ok, 0.0, 1.0)
    with pytest.raises(ValueError, match="`nu`"):
        s(0.5, nu=4)
    with pytest.raises(TypeError, match="`nu`"):
        s(0.5, nu=1.5)
    with pytest.raises(TypeError, match="`x`"):
        s(0.5 + 1j)
    with pytest.raises(ValueError, match="`a`"):
        s.integrate(np.nan, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(s(np.array([np.nan, -1.0]))).all()
