"""Reliability of the AutoKnots tables: orders, targets and points they cannot handle are
rejected with an error naming the argument (no kernel status codes, LAPACK chatter or silent
NaN); persistence validates what it reads; equality is about the table, not how it was built.
"""
import copy
import decimal
import fractions
import math
import warnings

import numpy as np
import pytest

import numfit as nf


def f_ok(x):
    return np.sin(x) + 2


@pytest.fixture(scope="module")
def lin():
    return nf.autoknots(f_ok, 0.0, 4.0, rtol=1e-8)


@pytest.fixture(scope="module")
def loglog():
    return nf.autoknots(lambda x: x ** 1.5 + 1, 0.1, 10.0, rtol=1e-8, space="loglog")


@pytest.fixture(scope="module")
def cheb():
    return nf.autoknots(f_ok, 0.0, 4.0, rtol=1e-8, kind="chebyshev")


# --------------------------------------------------------------------------- orders
def test_antiderivative_order_beyond_the_kernels_is_rejected(lin):
    # a cubic integrates to degree 15 at most (12 times): the kernels' limit
    with pytest.raises(ValueError, match=r"`nu` must be an integer in \[0, 12\]; got 13"):
        lin.antiderivative(13)
    P = lin.antiderivative(12)
    assert np.isfinite(P(0.5)) and P.c.shape[0] == 16
    P5 = lin.antiderivative(5)
    with pytest.raises(ValueError, match=r"\[0, 7\]"):
        P5.antiderivative(8)
    assert P5.antiderivative(7).c.shape[0] == 16


def test_derivative_any_order_is_zero_and_fast(lin):
    d = lin.derivative(10 ** 9)                    # beyond the degree: the zero spline
    assert d.c.shape == lin.c.shape and not d.c.any()
    assert float(d(1.0)) == 0.0
    with pytest.raises(ValueError, match="`nu`"):
        lin.derivative(-1)
    with pytest.raises(TypeError, match="`nu`"):
        lin.derivative(1.0)


def test_call_order_limits_named(lin, loglog):
    with pytest.raises(ValueError, match=r"`nu` must be an integer in \[0, 3\]; got 4"):
        lin(0.5, nu=4)
    with pytest.raises(ValueError, match=r"`nu` must be an integer in \[0, 2\]; got 3"):
        loglog(1.0, nu=3)


# --------------------------------------------------------------------------- solve
@pytest.mark.parametrize("y", [np.nan, np.inf, -np.inf])
def test_solve_non_finite_target(lin, y):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="`y` must be a finite float"):
            lin.solve(y)


@pytest.mark.parametrize("y", ["2.5", None, 2.5 + 0j, [2.5]])
def test_solve_non_real_target(lin, y):
    with pytest.raises(TypeError, match="`y`"):
        lin.solve(y)


def test_solve_still_solves(lin):
    r = lin.solve(2.5)
    assert np.allclose(np.sin(r) + 2, 2.5, atol=1e-7)
    assert np.array_equal(lin.solve(np.float64(2.5)), r)


# --------------------------------------------------------------------------- points
BAD_POINTS = [None, "0.5", b"0.5", ["0.5"], [0.1, None], object(), np.datetime64(1, "s"),
              np.timedelta64(1, "s"), decimal.Decimal("0.5"), 0.5 + 0j,
              np.array([0.5], dtype=complex)]


@pytest.mark.parametrize("x", BAD_POINTS, ids=lambda v: type(v).__name__)
def test_spline_rejects_non_real_points(lin, loglog, x):
    for s in (lin, loglog):
        with pytest.raises(TypeError, match="`x`"):
            s(x)


def test_spline_accepts_real_points(lin):
    ref = lin(0.5)
    assert lin(fractions.Fraction(1, 2)) == ref
    assert lin(np.float32(0.5)) == ref
    assert lin(np.array([0, 1], dtype=np.int8)).shape == (2,)
    assert lin(True) == lin(1.0)                    # bool is a number to NumPy and SciPy
    assert lin(np.array([fractions.Fraction(1, 2)], dtype=object))[0] == ref


@pytest.mark.parametrize("x", [None, "0.5", [["0.5"]], 0.5 + 0j, object()],
                         ids=lambda v: type(v).__name__)
def test_polynomial_space_eval_rejects_non_real(x):
    V = nf.PolynomialSpace("legendre", degree=3)
    with pytest.raises(TypeError, match="`x`"):
        V.eval(x)


def test_polynomial_space_eval_accepts_real():
    V = nf.PolynomialSpace("legendre", degree=3)
    assert np.array_equal(V.eval(fractions.Fraction(1, 2)), V.eval(0.5))
    assert V.eval(np.array([0, 1], dtype=np.int64)).shape == (2, 4)


# --------------------------------------------------------------------------- autoknots front end
@pytest.mark.parametrize("b", [5e-324, 1e-310])
def test_interval_too_narrow_for_doubles(b):
    with pytest.raises(ValueError, match="too close"):
        nf.autoknots(np.cos, 0.0, b)


@pytest.mark.parametrize("kw,name", [(dict(b=10 ** 400), "`b`"), (dict(a=-10 ** 400), "`a`"),
                                     (dict(rtol=10 ** 400), "`rtol`"),
                                     (dict(atol=10 ** 400), "`atol`"),
                                     (dict(b=fractions.Fraction(10 ** 400)), "`b`")])
def test_huge_python_numbers_name_the_argument(kw, name):
    args = dict(a=0.0, b=1.0)
    args.update(kw)
    a, b = args.pop("a"), args.pop("b")
    with pytest.raises(ValueError, match=name + ".*must be a finite float"):
        nf.autoknots(np.cos, a, b, **args)


def test_n_init_above_max_knots_names_n_init():
    with pytest.raises(ValueError, match=r"`n_init` must be an integer <= `max_knots` "
                                         r"\(1000000\); got 10000000"):
        nf.autoknots(np.cos, 0.0, 1.0, n_init=10 ** 7)
    with pytest.raises(ValueError, match=r"`n_init`.*<= `max_knots` \(50\); got 60"):
        nf.autoknots(np.cos, 0.0, 1.0, n_init=60, max_knots=50)
    with pytest.raises(ValueError, match="`max_knots`"):     # the default n_init: max_knots
        nf.autoknots(np.cos, 0.0, 1.0, max_knots=5)


M = 6        # components = the default n_init of the cubic kind


def vec_rows(x):
    """Per-point convention written with NumPy: (m,) for a float, (m, n) for an array."""
    return np.array([np.sin(x + k) + 2 for k in range(M)])


def vec_cols(x):
    """The vectorised convention: (n, m) for an (n,) array."""
    return np.stack([np.sin(x + k) + 2 for k in range(M)], axis=-1)


@pytest.mark.parametrize("f,vectorized", [(vec_rows, False), (vec_cols, True)])
def test_vector_f_with_n_init_components_probe(f, vectorized):
    s = nf.autoknots(f, 0.0, 4.0, rtol=1e-7, n_init=M)
    assert s.vectorized is vectorized and s.ndim_out == M
    x = np.linspace(0.0, 4.0, 101)
    ref = np.stack([np.sin(x + k) + 2 for k in range(M)], axis=-1)
    assert np.max(np.abs(s(x) - ref) / ref) < 1e-6


def test_vector_f_probe_chebyshev():
    n0 = nf.autoknots(f_ok, 0.0, 4.0, rtol=1e-7, kind="chebyshev").round_sizes[0]

    def rows(x):                  # per-point convention with as many components as batch 0
        return np.array([np.sin(x + k) + 2 for k in range(n0)])
    s = nf.autoknots(rows, 0.0, 4.0, rtol=1e-7, kind="chebyshev")
    assert not s.vectorized and s.ndim_out == n0
    x = np.linspace(0.0, 4.0, 101)
    ref = np.stack([np.sin(x + k) + 2 for k in range(n0)], axis=-1)
    assert np.max(np.abs(s(x) - ref) / ref) < 1e-6


# --------------------------------------------------------------------------- persistence
def _spoiled(d, path, value=KeyError):
    d = copy.deepcopy(d)
    t = d
    for k in path[:-1]:
        t = t[k]
    if value is KeyError:
        del t[path[-1]]
    else:
        t[path[-1]] = value
    return d


@pytest.mark.parametrize("path", [("knots",), ("values",), ("u",), ("coefficients",),
                                  ("options",), ("counts",), ("status",),
                                  ("options", "rtol"), ("options", "space"),
                                  ("counts", "n_evals"), ("counts", "round_sizes"),
                                  ("status", "message")])
def test_from_dict_missing_key(lin, path):
    with pytest.raises(ValueError, match="malformed"):
        nf.AutoKnotsSpline.from_dict(_spoiled(lin.to_dict(), path))


@pytest.mark.parametrize("path,value,match", [
    (("knots",), "reversed", "'knots'"), (("u",), "reversed", "'u'"),
    (("u",), [0.0] * 3, "'u'"),
    (("options", "knots_map"), "cheb", "knots_map"),
    (("options", "extrapolate"), "yes", "extrapolate"),
    (("options", "rtol"), "x", "rtol"), (("options", "rtol"), 2.0, "rtol"),
    (("options", "atol"), -1.0, "atol"), (("options", "refine"), 3, "refine"),
    (("options", "vectorized"), "no", "vectorized"),
    (("options", "verify"), 1, "verify"),
    (("counts", "n_evals"), -1, "n_evals"), (("status", "status"), 9, "status"),
])
def test_from_dict_bad_values(lin, path, value, match):
    d = lin.to_dict()
    if value == "reversed":
        value = d[path[0]][::-1]
    with pytest.raises(ValueError, match=match):
        nf.AutoKnotsSpline.from_dict(_spoiled(d, path, value))


@pytest.mark.parametrize("path,value", [(("options", "knots_map"), "cheb"),
                                        (("options", "rtol"), "x"),
                                        (("options", "extrapolate"), "yes"),
                                        (("options", "degree_max"), -4)])
def test_chebyshev_from_dict_options_validated(cheb, path, value):
    with pytest.raises(ValueError, match=path[-1]):
        nf.AutoKnotsChebyshev.from_dict(_spoiled(cheb.to_dict(), path, value))


def test_from_dict_roundtrip_still_exact(lin, loglog, cheb):
    for s in (lin, loglog, cheb):
        r = type(s).from_dict(s.to_dict())
        assert r == s and r.info == s.info


# --------------------------------------------------------------------------- equality
def test_equality_ignores_how_the_table_was_built():
    serial = nf.autoknots(f_ok, 0.0, 4.0, rtol=1e-8)
    par = nf.autoknots(f_ok, 0.0, 4.0, rtol=1e-8, workers=2)
    scalar = nf.autoknots(lambda x: math.sin(x) + 2, 0.0, 4.0, rtol=1e-8, vectorized=False)
    assert par.n_calls != serial.n_calls and scalar.n_calls != serial.n_calls
    assert serial == par and serial == scalar
    assert not (serial != par)


def test_equality_chebyshev_built_with_workers():
    serial = nf.autoknots(f_ok, 0.0, 4.0, rtol=1e-8, kind="chebyshev")
    par = nf.autoknots(f_ok, 0.0, 4.0, rtol=1e-8, kind="chebyshev", workers=2)
    assert par.n_calls != serial.n_calls and serial == par


def test_inequality_where_the_tables_differ(lin):
    assert lin != nf.autoknots(f_ok, 0.0, 4.0, rtol=1e-6)                # other knots
    assert lin != nf.autoknots(f_ok, 0.0, 4.0, rtol=1e-8, extrapolate=True)
    d = lin.to_dict()
    d["values"][3] += 1.0
    assert lin != nf.AutoKnotsSpline.from_dict(d)
    assert lin != nf.autoknots(f_ok, 0.0, 4.0, rtol=1e-8, kind="chebyshev")
    assert lin != "spline" and (lin == 3) is False
    with pytest.raises(TypeError):
        hash(lin)


# --------------------------------------------------------------------------- other kinds
@pytest.mark.parametrize("bad", [None, "0.5", [0.1, "a"], 1 + 2j])
def test_chebyshev_and_2d_tables_accept_only_real_points(bad):
    c = nf.autoknots(np.sin, 0.0, 3.0, rtol=1e-8, kind="chebyshev")
    with pytest.raises(TypeError, match="`x`"):
        c(bad)
    t = nf.autoknots2d(lambda x, y: 2 + np.sin(x) * y, (0, 1), (0, 1), rtol=1e-5)
    with pytest.raises(TypeError, match="`x`"):
        t(bad, 0.5)
    with pytest.raises(TypeError, match="`y`"):
        t(0.5, bad)


def test_scalar_points_give_0d_arrays():
    for s in (nf.autoknots(np.sin, 0.0, 3.0, rtol=1e-8),
              nf.autoknots(np.sin, 0.0, 3.0, rtol=1e-8, kind="chebyshev")):
        out = s(0.5)
        assert isinstance(out, np.ndarray) and out.shape == ()
    t = nf.autoknots2d(lambda x, y: 2 + np.sin(x) * y, (0, 1), (0, 1), rtol=1e-5)
    assert t(0.5, 0.5).shape == ()


def test_chebyshev_antiderivative_order_is_capped():
    from numfit.interpolate._chebtable import MAX_ANTIDERIVATIVE
    c = nf.autoknots(np.cos, 0.0, 1.0, rtol=1e-10, kind="chebyshev")
    with pytest.raises(ValueError, match=r"`nu` must be an integer in \[0, 16\]"):
        c.antiderivative(MAX_ANTIDERIVATIVE + 1)
    # the largest order still integrates: the 2nd antiderivative of cos is 1 - cos
    assert c.antiderivative(2)(0.7) == pytest.approx(1 - np.cos(0.7), rel=1e-8)


def test_too_narrow_interval_for_cubic_coefficients_is_named():
    b = 1e-200

    def f(x):
        return np.cos(x / b)

    with pytest.raises(ValueError, match="coefficients overflow.*Rescale"):
        nf.autoknots(f, 0.0, b, rtol=1e-6)
    s = nf.autoknots(lambda t: f(t * b), 0.0, 1.0, rtol=1e-6)     # the rescaled table
    assert s.converged and abs(s(1 / 3) - np.cos(1 / 3)) < 1e-6


def test_rtol_may_be_positional_and_nothing_else():
    s = nf.autoknots(np.exp, 0.0, 1.0, 1e-6)
    assert s.rtol == 1e-6 and s == nf.autoknots(np.exp, 0.0, 1.0, rtol=1e-6)
    with pytest.raises(TypeError, match="positional"):
        nf.autoknots(np.exp, 0.0, 1.0, 1e-6, 1e-9)
    t = nf.autoknots2d(lambda x, y: 2 + x * y, (0, 1), (0, 1), 1e-5)
    assert t.rtol == 1e-5


def test_worker_died_error_is_public():
    from concurrent.futures.process import BrokenProcessPool
    assert issubclass(nf.WorkerDiedError, BrokenProcessPool)
    assert "WorkerDiedError" in nf.__all__
