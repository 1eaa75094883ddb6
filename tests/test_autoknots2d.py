"""autoknots2d: the promise on the 2-D family (both kernels), the grid, the table interface
(derivatives, integrals, slices, persistence), callback, and bad input."""
import json
import math
import pickle
import warnings

import numpy as np
import pytest
from scipy import integrate

import numfit as nf
from numfit.interpolate._family import FAMILY2D, check_points2d, error_ratio2d, member2d

KNOWN_ALIASING = set()      # (member, rtol) runs known to miss; none since the slow-decay re-tests


def smooth(x, y):
    return 2 + np.sin(3 * x + 2 * y * y) * np.exp(-0.3 * x)


@pytest.mark.parametrize("rtol", [1e-4, 1e-6])
@pytest.mark.parametrize("m", FAMILY2D, ids=lambda m: m.name)
def test_family_meets_tolerance(m, rtol, use_kernels):
    t = nf.autoknots2d(m.f, m.x_range, m.y_range, **m.options(rtol))
    assert t.converged and t.status == 0
    assert t.n_evals == t.x_knots.size * t.y_knots.size == sum(t.round_sizes)
    r = error_ratio2d(t, m.f)
    if (m.name, rtol) in KNOWN_ALIASING:
        assert 1.0 < r < 1.3            # documented: recorded so that drift is noticed
    else:
        assert r <= 1.0, (m.name, rtol, r)


def test_front_along_one_axis_refines_that_axis_only():
    m = member2d("front_along_y")
    t = nf.autoknots2d(m.f, m.x_range, m.y_range, **m.options(1e-6))
    assert t.y_knots.size < 20 < t.x_knots.size
    near = np.abs(t.x_knots - 0.5) < 0.05
    assert near.sum() > 0.3 * t.x_knots.size       # 10% of the range, 30% of the columns


def test_grid_is_every_evaluation():
    calls = []

    def f(x, y):
        calls.append(np.broadcast(x, y).size)
        return smooth(x, y)
    t = nf.autoknots2d(f, (0, 3), (0, 2), rtol=1e-5)
    assert sum(calls) == t.n_evals == t.values.size
    X, Y = np.meshgrid(t.x_knots, t.y_knots, indexing="ij")
    assert np.array_equal(t.values, smooth(X, Y))
    assert np.allclose(t(X, Y), t.values, rtol=1e-13)


def test_scalar_f_and_workers_equal_vectorised():
    g = lambda x, y: 2 + math.sin(3 * x + 2 * y * y) * math.exp(-0.3 * x)   # noqa: E731
    a = nf.autoknots2d(g, (0, 3), (0, 2), rtol=1e-4, vectorized=False)
    b = nf.autoknots2d(smooth, (0, 3), (0, 2), rtol=1e-4)
    assert not a.vectorized and b.vectorized
    assert np.array_equal(a.x_knots, b.x_knots) and np.array_equal(a.y_knots, b.y_knots)
    c = nf.autoknots2d(smooth, (0, 3), (0, 2), rtol=1e-4, workers=2)
    assert np.array_equal(c.values, b.values)


# --------------------------------------------------------------------------- the table
@pytest.fixture(scope="module")
def tab():
    return nf.autoknots2d(smooth, (0.0, 3.0), (0.0, 2.0), rtol=1e-8)


def test_call_shapes(tab):
    assert tab(1.0, 1.0).shape == ()
    assert tab(np.ones(5), 0.5).shape == (5,)
    assert tab(np.ones((2, 3)), np.ones((2, 3))).shape == (2, 3)
    assert tab(np.linspace(0, 3, 4), np.linspace(0, 2, 7), grid=True).shape == (4, 7)
    assert np.isnan(tab(-0.1, 1.0)) and np.isnan(tab(1.0, 2.5)) and np.isnan(tab(np.nan, 1))
    assert np.isfinite(tab(3.1, 1.0, extrapolate=True))
    with pytest.raises(ValueError, match="broadcast"):
        tab(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="grid=True"):
        tab(np.ones((2, 2)), np.ones(2), grid=True)
    with pytest.raises(TypeError, match="real"):
        tab(1j, 1.0)


def test_derivatives_against_closed_forms(tab):
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0.1, 2.9, 500), rng.uniform(0.1, 1.9, 500)
    e, a = np.exp(-0.3 * x), 3 * x + 2 * y * y
    fx = e * (3 * np.cos(a) - 0.3 * np.sin(a))
    fy = e * 4 * y * np.cos(a)
    fxy = e * (-12 * y * np.sin(a) - 1.2 * y * np.cos(a))
    fyy = e * (4 * np.cos(a) - 16 * y * y * np.sin(a))
    assert np.allclose(tab(x, y, dx=1), fx, atol=2e-5)
    assert np.allclose(tab(x, y, dy=1), fy, atol=2e-5)
    assert np.allclose(tab(x, y, dx=1, dy=1), fxy, atol=2e-3)
    assert np.allclose(tab(x, y, dy=2), fyy, atol=2e-3)
    with pytest.raises(ValueError, match="`dx`"):
        tab(1.0, 1.0, dx=3)


def test_integral_against_quadrature(tab):
    exact = integrate.dblquad(lambda y, x: smooth(x, y), 0.2, 2.7, 0.1, 1.8,
                              epsabs=1e-12, epsrel=1e-12)[0]
    assert tab.integrate(0.2, 2.7, 0.1, 1.8) == pytest.approx(exact, rel=1e-8)
    assert tab.integrate(2.7, 0.2, 0.1, 1.8) == pytest.approx(-exact, rel=1e-8)
    with pytest.raises(ValueError, match="outside"):
        tab.integrate(-1, 1, 0, 1)


def test_log_axes_and_log_f_chain_rule():
    def f(x, y):
        return x ** 1.5 * np.exp(-x / 5) * (1 + y) ** 2
    t = nf.autoknots2d(f, (0.1, 20.0), (0.01, 3.0), rtol=1e-8, x_knots="log",
                       y_knots="asinh", log_f=True)
    assert t.converged and error_ratio2d(t, f) <= 1
    x, y = np.geomspace(0.2, 15, 50), np.linspace(0.05, 2.5, 50)
    fx = (1.5 / x - 0.2) * f(x, y)
    fy = 2 / (1 + y) * f(x, y)
    assert np.allclose(t(x, y, dx=1), fx, rtol=1e-5, atol=1e-5 * np.abs(fx).max())
    assert np.allclose(t(x, y, dy=1), fy, rtol=1e-5, atol=1e-5 * np.abs(fy).max())
    exact = integrate.dblquad(lambda yy, xx: f(xx, yy), 0.5, 10, 0.1, 2.0, epsrel=1e-12)[0]
    assert t.integrate(0.5, 10, 0.1, 2.0) == pytest.approx(exact, rel=1e-7)
    with pytest.raises(ValueError, match="log_f"):
        t(1.0, 1.0, dx=1, dy=1)


def test_partial_slices(tab):
    s = tab.partial(y=0.7)
    assert isinstance(s, nf.AutoKnotsSpline)
    x = np.linspace(0, 3, 301)
    assert np.allclose(s(x), tab(x, 0.7), rtol=1e-13)
    assert np.allclose(s(x, 1), tab(x, 0.7, dx=1), rtol=1e-10, atol=1e-10)
    c = tab.partial(x=1.3)
    yy = np.linspace(0, 2, 201)
    assert np.allclose(c(yy), tab(1.3, yy), rtol=1e-13)
    t = nf.autoknots2d(lambda x, y: np.exp(x) * (2 + y), (0.1, 2), (0, 1), rtol=1e-6,
                       x_knots="log")
    sl = t.partial(y=0.5)
    assert not isinstance(sl, nf.AutoKnotsSpline)
    assert np.allclose(sl(np.linspace(0.1, 2, 9)), t(np.linspace(0.1, 2, 9), 0.5))
    assert pickle.loads(pickle.dumps(sl))(1.0) == sl(1.0)
    with pytest.raises(TypeError, match="exactly one"):
        tab.partial()
    with pytest.raises(ValueError, match="outside"):
        tab.partial(x=5.0)


def test_vector_f():
    m = member2d("vector")
    t = nf.autoknots2d(m.f, m.x_range, m.y_range, rtol=1e-7)
    assert t.ndim_out == 2 and t.values.shape[2] == 2
    x, y = check_points2d(t, 51)
    assert t(x, y).shape == (x.size, 2)
    assert t.integrate(0, 2, 0, 2).shape == (2,)


def test_persistence(tab):
    x, y = np.random.default_rng(1).uniform(0, 2, (2, 500))
    p = pickle.loads(pickle.dumps(tab))
    assert p == tab and np.array_equal(p(x, y), tab(x, y))
    d = json.loads(json.dumps(tab.to_dict()))
    assert np.array_equal(nf.AutoKnots2D.from_dict(d)(x, y), tab(x, y))
    with pytest.raises(ValueError, match="values"):
        nf.AutoKnots2D.from_dict(dict(d, values=d["values"][:-1]))
    with pytest.raises(ValueError, match="format"):
        nf.AutoKnots2D.from_dict({"format": "nope"})
    with pytest.raises(ValueError, match="x_knots"):
        nf.AutoKnots2D.from_dict(dict(d, x_knots=d["x_knots"][::-1]))


def test_callback_stop_and_cap():
    seen = []
    t = nf.autoknots2d(smooth, (0, 3), (0, 2), rtol=1e-8,
                       callback=lambda r, n, o: seen.append((r, n)) or r >= 3)
    assert t.status == 5 and not t.converged and t.n_rounds == 3 and len(seen) == 3
    assert np.isfinite(t(1.0, 1.0))
    with pytest.warns(nf.AutoKnotsWarning, match="max_evals"):
        t = nf.autoknots2d(smooth, (0, 3), (0, 2), rtol=1e-8, max_evals=500)
    assert t.status == 1 and not t.converged


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kw,exc,match", [
    (dict(x_range=(1.0, 0.0)), ValueError, "x_range"),
    (dict(x_range=(0.0, math.inf)), ValueError, "x_range"),
    (dict(y_range=(0.0, math.nan)), ValueError, "y_range"),
    (dict(y_range=3.0), TypeError, "y_range"),
    (dict(rtol=0.0), ValueError, "rtol"),
    (dict(atol=-1.0), ValueError, "atol"),
    (dict(x_knots="cubic"), ValueError, "x_knots"),
    (dict(y_knots="log", y_range=(-1.0, 1.0)), ValueError, "y_knots='log'"),
    (dict(kind="spline"), ValueError, "kind"),
    (dict(log_f="yes"), TypeError, "log_f"),
    (dict(n_init=3), ValueError, "n_init"),
    (dict(max_evals=10), ValueError, "max_evals"),
    (dict(vectorized="no"), TypeError, "vectorized"),
    (dict(callback=1), TypeError, "callback"),
])
def test_bad_arguments(kw, exc, match):
    args = dict(x_range=(0.0, 3.0), y_range=(0.0, 2.0))
    args.update(kw)
    with pytest.raises(exc, match=match):
        nf.autoknots2d(smooth, **args)


def test_bad_f():
    with pytest.raises(TypeError, match="callable"):
        nf.autoknots2d(3, (0, 1), (0, 1))
    with pytest.raises(ValueError, match=r"\(x, y\) = \(0\.6"):
        nf.autoknots2d(lambda x, y: np.where((x > 0.5) & (y > 0.5), np.nan, 1.0 + x * y),
                       (0, 1), (0, 1))
    with pytest.raises(ValueError, match="<= 0"):
        nf.autoknots2d(lambda x, y: x - y, (0, 1), (0, 1), log_f=True)
    with pytest.raises(ValueError, match="shape"):
        nf.autoknots2d(lambda x, y: np.ones((3, 3)), (0, 1), (0, 1), vectorized=True)
    with pytest.raises(TypeError, match="complex"):
        nf.autoknots2d(lambda x, y: x + 1j * y, (0, 1), (0, 1))
    with pytest.raises(ZeroDivisionError) as ei:
        nf.autoknots2d(lambda x, y: 1 / 0, (0, 1), (0, 1), vectorized=False)
    assert any("(x, y)" in n for n in ei.value.__notes__)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nf.autoknots2d(smooth, (0, 3), (0, 2), rtol=1e-4).converged


def test_jump_raises_with_partial_grid():
    with pytest.raises(nf.DiscontinuityError) as ei:
        nf.autoknots2d(lambda x, y: np.where(x < 1 / 3, 0.0, 1.0) + 0 * y, (0, 1), (0, 1))
    e = ei.value
    assert abs(e.x - 1 / 3) < 1e-9 and isinstance(e.partial, nf.AutoKnots2D)
    assert e.partial.status == 3 and e.n_evals == e.partial.n_evals
