"""AutoKnotsSpline: evaluation, calculus, log-log chain rule, PPoly, persistence."""
import json
import pickle

import numpy as np
import pytest
from scipy.interpolate import CubicSpline

import numfit as nf
from numfit.cosmology import nfw_sigma_hat


@pytest.fixture(scope="module")
def lin():
    return nf.autoknots(lambda x: np.exp(-x) * np.sin(3 * x) + 2, 0.1, 5.0, rtol=1e-8)


@pytest.fixture(scope="module")
def loglog():
    return nf.autoknots(nfw_sigma_hat, 1e-3, 1e3, rtol=1e-8, space="loglog")


def test_matches_cubicspline_on_same_knots(lin):
    cs = CubicSpline(lin.knots, lin.values, bc_type="not-a-knot")
    x = np.random.default_rng(0).uniform(0.1, 5.0, 10_000)
    for nu in range(4):
        ref = cs(x, nu)
        # the third derivative (M1 - M0) / h: rounding of M amplified by 1/h
        atol = 1e-10 * (1e3 if nu == 3 else 1) * max(1.0, np.abs(ref).max())
        assert np.allclose(lin(x, nu), ref, rtol=1e-10, atol=atol)
    # compare each coefficient's contribution c_j h^(3-j) to the value: the cubic
    # coefficient itself is a difference quotient of second derivatives (cancellation)
    h = np.diff(lin.knots) ** np.arange(3, -1, -1)[:, None]
    assert np.max(np.abs(lin.c - cs.c) * h) <= 1e-13 * np.max(np.abs(lin.values))


def test_shapes_and_outside(lin):
    assert lin(1.0).shape == ()
    assert lin(np.ones((3, 4))).shape == (3, 4)
    assert np.isnan(lin(0.0)) and np.isnan(lin(5.5))
    assert np.isfinite(lin(5.5, extrapolate=True))
    assert np.isnan(lin(np.nan))


def test_calculus(lin):
    d = lin.derivative()
    x = np.linspace(0.1, 5, 101)
    assert np.allclose(d(x), lin(x, 1), rtol=1e-13, atol=1e-13)
    assert np.allclose(lin.derivative(2)(x), lin(x, 2), atol=1e-12)
    assert np.all(lin.derivative(4)(x) == 0)
    F = lin.antiderivative()
    assert F(0.1) == 0
    assert np.allclose(F(x), [lin.integrate(0.1, xi) for xi in x], rtol=1e-13, atol=1e-13)
    assert np.allclose(F.derivative()(x), lin(x), rtol=1e-12)
    F2 = lin.antiderivative(2)
    assert np.allclose(F2.derivative()(x), F(x), rtol=1e-12, atol=1e-13)
    exact = lambda a, b: (2 * (b - a) + (np.exp(-a) * (np.sin(3 * a) + 3 * np.cos(3 * a))  # noqa
                          - np.exp(-b) * (np.sin(3 * b) + 3 * np.cos(3 * b))) / 10)
    assert lin.integrate(0.3, 4.2) == pytest.approx(exact(0.3, 4.2), rel=1e-9)
    assert lin.integrate(4.2, 0.3) == pytest.approx(-exact(0.3, 4.2), rel=1e-9)
    with pytest.raises(ValueError, match="`b`"):
        lin.integrate(0.3, 6.0)
    assert np.isfinite(lin.integrate(0.3, 6.0, extrapolate=True))


def test_roots_solve_ppoly():
    s = nf.autoknots(np.cos, 0.0, 10.0, rtol=1e-10, atol=1e-12)
    r = s.roots()
    assert np.allclose(r, (np.arange(3) + 0.5) * np.pi, atol=1e-9)
    assert np.allclose(s.solve(0.5), [np.pi / 3, 5 * np.pi / 3, 7 * np.pi / 3], atol=1e-8)
    p = s.to_ppoly()
    x = np.linspace(0, 10, 77)
    assert np.allclose(p(x), s(x), rtol=1e-14, atol=1e-15)


def test_loglog_chain_rule(loglog):
    X = np.geomspace(1e-3, 1e3, 500)
    f = nfw_sigma_hat
    h = 1e-5
    d1 = (f(X * (1 + h)) - f(X * (1 - h))) / (2 * h * X)
    assert np.allclose(loglog(X, 1), d1, rtol=1e-5)
    d2 = (f(X * (1 + h)) - 2 * f(X) + f(X * (1 - h))) / (h * X) ** 2
    assert np.allclose(loglog(X, 2), d2, rtol=1e-3)
    d = loglog.derivative()
    assert np.allclose(d(X), loglog(X, 1))
    assert np.allclose(pickle.loads(pickle.dumps(d))(X), d(X))
    with pytest.raises(NotImplementedError):
        loglog.antiderivative()
    with pytest.raises(ValueError, match="nu"):
        loglog(X, 3)
    assert np.isnan(loglog(-1.0)) and np.isnan(loglog(1e4))


def test_loglog_integrate(loglog):
    from scipy.integrate import quad
    # M_hat(X) = int_0^X Sigma X' dX'; check int_a^b Sigma(X) dX by adaptive quadrature
    ref = quad(nfw_sigma_hat, 0.01, 30.0, epsabs=0, epsrel=1e-12, limit=200)[0]
    assert loglog.integrate(0.01, 30.0) == pytest.approx(ref, rel=1e-7)
    assert loglog.integrate(30.0, 0.01) == pytest.approx(-ref, rel=1e-7)
    with pytest.raises(NotImplementedError):
        loglog.to_ppoly()


def test_persistence_bitwise(lin, loglog):
    x = np.random.default_rng(3).uniform(0.1, 5.0, 1000)
    for s, q in ((lin, x), (loglog, np.geomspace(1e-3, 1e3, 999))):
        d = s.to_dict()
        s2 = nf.AutoKnotsSpline.from_dict(json.loads(json.dumps(d)))
        assert np.array_equal(s2(q), s(q))
        s3 = pickle.loads(pickle.dumps(s))
        assert np.array_equal(s3(q), s(q))
        assert s3 == s and s3.round_sizes == s.round_sizes and s3.info == s.info


def test_from_dict_validates(lin):
    d = lin.to_dict()
    with pytest.raises(ValueError, match="format"):
        nf.AutoKnotsSpline.from_dict({**d, "format": "x"})
    with pytest.raises(ValueError, match="version"):
        nf.AutoKnotsSpline.from_dict({**d, "version": 99})
    with pytest.raises(ValueError, match="coefficients"):
        nf.AutoKnotsSpline.from_dict({**d, "coefficients": [[1.0]]})
    with pytest.raises(ValueError, match="knots"):
        nf.AutoKnotsSpline.from_dict({**d, "knots": d["knots"][::-1]})
    bad = dict(d, coefficients=np.array(d["coefficients"]).tolist())
    bad["coefficients"][0][0] = float("nan")
    with pytest.raises(ValueError, match="finite"):
        nf.AutoKnotsSpline.from_dict(bad)


def test_read_only(lin):
    with pytest.raises(ValueError):
        lin.knots[0] = 0.0
    with pytest.raises(AttributeError):
        lin.knots = None
    info = lin.info
    info["status"] = 99
    assert lin.status == 0


def test_vector_valued():
    f = lambda x: np.stack([np.sin(x), 2 + np.cos(3 * x)], axis=-1)  # noqa: E731
    s = nf.autoknots(f, 0.0, 3.0, rtol=1e-8, atol=1e-10)
    x = np.linspace(0, 3, 10_001)
    assert s(x).shape == (x.size, 2) and s.ndim_out == 2
    assert np.all(np.abs(s(x) - f(x)) <= 1e-8 * np.abs(f(x)) + 1e-10)
    si = nf.autoknots(np.sin, 0.0, 3.0, rtol=1e-8, atol=1e-10)
    sc = nf.autoknots(lambda x: 2 + np.cos(3 * x), 0.0, 3.0, rtol=1e-8, atol=1e-10)
    assert len(s.knots) >= max(len(si.knots), len(sc.knots))
    s2 = nf.autoknots(f, 0.0, 3.0, rtol=1e-8, atol=1e-10, vector_norm="l2")
    assert len(s2.knots) <= len(s.knots)
    err = np.linalg.norm(s2(x) - f(x), axis=1)
    assert np.all(err <= 1e-8 * np.linalg.norm(f(x), axis=1) + 1e-10)
    assert s.integrate(0, 3) == pytest.approx([1 - np.cos(3), 6 + np.sin(9) / 3], rel=1e-8)
    sv = nf.autoknots(lambda x: np.array([np.sin(x), 2 + np.cos(3 * x)]), 0.0, 3.0,
                      rtol=1e-8, atol=1e-10, vectorized=False)
    assert np.array_equal(sv.knots, s.knots)
    assert pickle.loads(pickle.dumps(s)) == s
