"""Bad input and run-time failures of minimize_alsketch / alsketch (clear messages naming the
argument)."""
import numpy as np
import pytest
from scipy.optimize import BFGS, LinearConstraint, NonlinearConstraint, OptimizeWarning

from numfit.optimize import (
    ALSketchStatus,
    FiniteDifferenceHessianWarning,
    alsketch,
    minimize_alsketch,
)
from numfit.optimize.problems import hock_schittkowski

P6 = hock_schittkowski("HS6")
CON6 = NonlinearConstraint(P6.cons, 0, 0, jac=P6.jac, hess=P6.cons_hess)


def run(**kw):
    base = {"fun": P6.fun, "x0": P6.x0, "jac": P6.grad, "hess": P6.hess, "constraints": CON6,
            "rng": 0}
    base.update(kw)
    return minimize_alsketch(**base)


@pytest.mark.parametrize("x0, match", [
    (np.ones((2, 1)), r"`x0` must be 1-D; got shape \(2, 1\)"),
    (np.array([]), r"`x0` must not be empty; got shape \(0,\)"),
    (np.array([np.nan, 1.0]), r"`x0` must be finite.*shape \(2,\)"),
    (np.array([np.inf, 1.0]), r"`x0` must be finite"),
    (np.array(["a", "b"]), r"`x0` must be a real 1-D array"),
])
def test_bad_x0(x0, match):
    with pytest.raises(ValueError, match=match):
        run(x0=x0)


def test_scalar_x0_promoted():
    con = LinearConstraint([[1.0]], 2.0, 2.0)
    res = minimize_alsketch(lambda x: float(x[0] ** 2), 3.0, jac=lambda x: 2 * x,
                            hess=lambda x: np.array([[2.0]]), constraints=con, rng=0)
    assert res.status == 0 and res.x.shape == (1,)
    np.testing.assert_allclose(res.x, [2.0])


def test_bad_fun_and_jac():
    with pytest.raises(ValueError, match="finite scalar"):
        run(fun=lambda x: np.nan)
    with pytest.raises(ValueError, match="must return a scalar"):
        run(fun=lambda x: np.ones(2))
    with pytest.raises(ValueError, match=r"`jac\(x0\)` must have shape \(2,\); got \(3,\)"):
        run(jac=lambda x: np.ones(3))
    with pytest.raises(ValueError, match="pass jac=callable, True or '2-point'"):
        run(jac=None)
    with pytest.raises(ValueError, match="`jac` must be"):
        run(jac="magic")


def test_jac_string_warns_and_works():
    with pytest.warns(RuntimeWarning, match="finite-difference gradients"):
        res = run(jac="2-point", tol=1e-5)
    assert res.status == 0


@pytest.mark.parametrize("cons, match", [
    (NonlinearConstraint(P6.cons, -1, 1, jac=P6.jac), "equality constraints only"),
    (NonlinearConstraint(P6.cons, 0, np.inf, jac=P6.jac), "equality constraints only"),
    (NonlinearConstraint(P6.cons, -np.inf, np.inf, jac=P6.jac), "equality constraints only"),
    ({"type": "ineq", "fun": P6.cons, "jac": P6.jac}, "equality constraints only"),
    (LinearConstraint([[1.0, 1.0]], 0, 1), "equality constraints only"),
    ({"type": "eqq", "fun": P6.cons}, "must have type 'eq'"),
    ([], "needs at least one"),
    ("c(x) = 0", r"`constraints\[0\]` must be a NonlinearConstraint"),
])
def test_bad_constraints(cons, match):
    with pytest.raises((ValueError, TypeError), match=match):
        run(constraints=cons)


def test_bounds_rejected():
    with pytest.raises(ValueError, match="equality constraints only; use trust-constr"):
        run(bounds=[(0, 1), (0, 1)])
    with pytest.raises(ValueError, match="bounds"):
        alsketch(P6.fun, P6.x0, jac=P6.grad, constraints=CON6, bounds=[(0, 1), (0, 1)])


def test_constraint_shapes_named():
    bad_fun = {"type": "eq", "fun": lambda x: np.ones((1, 2)), "jac": P6.jac}
    with pytest.raises(ValueError, match=r"`constraints\[1\]` fun must return shape"):
        run(constraints=[CON6, bad_fun])
    bad_jac = NonlinearConstraint(P6.cons, 0, 0, jac=lambda x: np.ones((1, 3)),
                                  hess=P6.cons_hess)
    with pytest.raises(ValueError, match=r"`constraints\[0\]` Jacobian must be a \(1, 2\)"):
        run(constraints=bad_jac)
    with pytest.raises(ValueError, match=r"`constraints\[0\]`: LinearConstraint.A must have"):
        run(constraints=LinearConstraint(np.ones((1, 3)), 1, 1))


def test_more_constraints_than_variables():
    cons = LinearConstraint(np.eye(3)[:, :2], [1, 1, 1], [1, 1, 1])
    with pytest.raises(ValueError, match=r"m = 3 > n = 2"):
        run(constraints=cons)


@pytest.mark.parametrize("kw, exc, match", [
    ({"lambda0": [1.0, 2.0]}, ValueError, r"`lambda0` must have shape \(1,\)"),
    ({"lambda0": [np.nan]}, ValueError, "`lambda0` must be finite"),
    ({"tol": 0.0}, ValueError, "`tol` must be a finite float > 0"),
    ({"tol": -1.0}, ValueError, "`tol`"),
    ({"maxiter": -1}, ValueError, "`maxiter`"),
    ({"maxiter": 2.5}, TypeError, "`maxiter`"),
    ({"sketch": "srht"}, ValueError, "`sketch` must be one of 'gaussian', 'kaczmarz'"),
    ({"accuracy": "exact"}, ValueError, "`accuracy` must be one of 'practical', 'theory'"),
    ({"options": {"inner_fallback": "lu"}}, ValueError, "`inner_fallback` must be one of"),
    ({"options": {"theta": 2.0}}, ValueError, "`theta`"),
    ({"options": {"nu": 1.0}}, ValueError, "`nu`"),
    ({"options": [1]}, TypeError, "`options` must be a dict"),
    ({"callback": 5}, TypeError, "`callback` must be callable"),
    ({"hess": BFGS()}, ValueError, "HessianUpdateStrategy"),
    ({"rng": "x"}, TypeError, "`rng`"),
])
def test_bad_arguments(kw, exc, match):
    with pytest.raises(exc, match=match):
        run(**kw)


def test_theta_callable_validated():
    with pytest.raises(ValueError, match=r"`theta\(k, kkt\)`"):
        run(options={"theta": lambda k, kkt: 0.0})


def test_unknown_option_warns():
    with pytest.warns(OptimizeWarning, match="unknown option 'maxinner'"):
        res = run(options={"maxinner": 5})
    assert res.status == 0


def test_rank_deficient_jacobian_is_a_status():
    # two copies of the same constraint: G G^T singular at every x (also at x0)
    cons = [CON6, NonlinearConstraint(P6.cons, 0, 0, jac=P6.jac, hess=P6.cons_hess)]
    for kw in ({"accuracy": "theory"}, {"options": {"rank_deficient": "stop"}}):
        res = run(constraints=cons, **kw)
        assert res.status == ALSketchStatus.SINGULAR_JACOBIAN and not res.success
        assert "LICQ fails" in res.message and res.licq_min < 1e-8
        assert res.nit == 0 and res.n_rank_deficient == 0
        np.testing.assert_array_equal(res.x, P6.x0)
    # practical default: regularized least-squares steps; the duplicated constraint is
    # consistent, so the run reaches a KKT point (multipliers split between the copies)
    res = run(constraints=cons)
    assert res.status == 0 and res.kkt <= 1e-6
    assert res.n_rank_deficient == res.nit >= 1
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-5)
    # a bounded number of regularized steps in a row, then the status names the limit
    res = run(constraints=cons, options={"max_rank_deficient": 2})
    assert res.status == ALSketchStatus.SINGULAR_JACOBIAN and res.nit == 2
    assert res.n_rank_deficient == 2 and "max_rank_deficient = 2" in res.message


def test_licq_failure_during_run():
    """c(x) = |x|^2: the only feasible point is 0, where G = 2x^T vanishes."""
    con = {"type": "eq", "fun": lambda x: [x @ x], "jac": lambda x: [2 * x],
           "hess": lambda x, v: 2 * v[0] * np.eye(2)}
    kw = {"jac": lambda x: np.array([2 * (x[0] - 1), 2 * x[1]]),
              "hess": lambda x: 2 * np.eye(2), "constraints": con, "rng": 0, "maxiter": 200}

    def f(x):
        return (x[0] - 1) ** 2 + x[1] ** 2

    res = minimize_alsketch(f, [0.5, 0.5], options={"licq_tol": 1e-2}, **kw)
    assert res.status == ALSketchStatus.SINGULAR_JACOBIAN and res.nit >= 1
    assert res.licq_min < 1e-2 and np.all(np.isfinite(res.x))
    assert "LICQ fails" in res.message
    # with the practical threshold 1e-10 |G|_F^2 the run ends in another failure status
    res = minimize_alsketch(f, [0.5, 0.5], **kw)
    assert res.status != ALSketchStatus.CONVERGED and np.all(np.isfinite(res.x))


def test_nan_at_trial_point_backtracks():
    calls = {"n": 0}

    def f(x):
        calls["n"] += 1
        if x[0] > 1.5:                    # NaN beyond x1 = 1.5: trial points there fail
            return np.nan
        return P6.fun(x)

    res = run(fun=f, x0=np.array([-1.2, 1.0]))
    assert res.status == 0 and np.all(np.isfinite(res.x))


def test_nan_in_hessian_is_nonfinite_status():
    def hess(x):
        H = P6.hess(x)
        if x[0] > -1.0:
            H = H * np.nan
        return H

    res = run(hess=hess)
    assert res.status == ALSketchStatus.NONFINITE and "non-finite" in res.message
    assert np.all(np.isfinite(res.x)) and res.nit >= 1


def test_missing_hessian_uses_finite_differences():
    con = NonlinearConstraint(P6.cons, 0, 0, jac=P6.jac)        # default hess=BFGS()
    with pytest.warns(FiniteDifferenceHessianWarning):
        res = minimize_alsketch(P6.fun, P6.x0, jac=P6.grad, constraints=con, rng=0)
    assert res.status == 0
    np.testing.assert_allclose(res.x, [1, 1], atol=1e-6)


def test_theory_fd_hessian_needs_small_n():
    n = 2001
    con = LinearConstraint(np.ones((1, n)), 1, 1)
    with pytest.warns(FiniteDifferenceHessianWarning), \
            pytest.raises(ValueError, match="theory needs"):
        minimize_alsketch(lambda x: x @ x, np.zeros(n), jac=lambda x: 2 * x, constraints=con,
                          accuracy="theory")


def test_row_sketch_with_large_matrix_free_K_raises():
    n = 2500
    con = LinearConstraint(np.ones((1, n)), 1, 1)
    with pytest.raises(ValueError, match="needs an explicit sparse K"):
        minimize_alsketch(lambda x: x @ x, np.zeros(n), jac=lambda x: 2 * x,
                          hessp=lambda x, p: 2 * p, constraints=con, sketch="kaczmarz")


def test_max_iter_and_max_sketch_total_statuses():
    res = run(maxiter=2)
    assert res.status == ALSketchStatus.MAX_ITER and res.nit == 2
    res = run(inner="sketch", options={"max_sketch_total": 50, "inner_fallback": None})
    assert res.status == ALSketchStatus.INNER_MAXITER and res.n_sketch <= 50


# ============================================================================ shapes at x0
def _lo(n):
    from scipy.sparse.linalg import aslinearoperator
    return aslinearoperator(np.eye(n))


@pytest.mark.parametrize("hess, match", [
    (lambda x: np.eye(3), r"`hess\(x0\)` must return a \(2, 2\) .*; got an array of shape "
                          r"\(3, 3\)"),
    (lambda x: np.ones(2), r"`hess\(x0\)` must return a \(2, 2\) .*shape \(2,\)"),
    (lambda x: "H", r"`hess\(x0\)` must return a \(2, 2\) .*; got str"),
    (lambda x: None, r"`hess\(x0\)` must return a \(2, 2\) .*; got NoneType"),
    (lambda x: np.eye(2) * 1j, r"`hess\(x0\)` must be real; got dtype complex"),
    (lambda x: np.full((2, 2), np.nan), r"`hess\(x0\)` must be finite"),
    (lambda x: _lo(3), r"`hess\(x0\)` must return .*got a LinearOperator of shape \(3, 3\)"),
    (lambda x: __import__("scipy.sparse").sparse.eye(3, format="csr"),
     r"`hess\(x0\)` must return .*got a sparse matrix of shape \(3, 3\)"),
    (np.eye(3), r"`hess\(x0\)` must return a \(2, 2\)"),
])
def test_hess_shape_checked_at_x0(hess, match):
    with pytest.raises(ValueError, match=match):
        run(hess=hess)


def test_hess_signature_checked():
    with pytest.raises(TypeError, match=r"`hess` must be callable as hess\(x\)"):
        run(hess=lambda x, y: np.eye(2))
    with pytest.raises(TypeError, match=r"`hessp` must be callable as hessp\(x, p\)"):
        run(hess=None, hessp=lambda x: np.ones(2))
    with pytest.raises(TypeError, match=r"`hess_lagrangian` must be callable as "
                                        r"hess_lagrangian\(x, lam\)"):
        run(hess_lagrangian=lambda x: np.eye(2))
    # args are part of the call
    res = run(hess=lambda x, s: s * P6.hess(x), args=(1.0,), fun=lambda x, s: P6.fun(x),
              jac=lambda x, s: P6.grad(x))
    assert res.status == 0


def test_hessian_products_shape_named():
    with pytest.raises(ValueError, match=r"`hessp\(x, p\)` must return a vector of 2 "
                                         r"entries; got shape \(3,\)"):
        run(hess=None, hessp=lambda x, p: np.ones(3))
    with pytest.raises(ValueError, match=r"`hessp_lagrangian\(x, lam, v\)` must return a "
                                         r"vector of 2 entries"):
        run(hessp_lagrangian=lambda x, lam, v: np.ones(3))
    with pytest.raises(ValueError, match=r"`hess_lagrangian\(x0, lambda0\)` must return a "
                                         r"\(2, 2\)"):
        run(hess_lagrangian=lambda x, lam: np.eye(3))


def test_hessian_shape_change_during_the_run_is_named():
    def hess(x):
        return P6.hess(x) if np.array_equal(x, P6.x0) else np.eye(3)

    with pytest.raises(ValueError, match=r"`hess\(x\)` must return a \(2, 2\)"):
        run(hess=hess)


@pytest.mark.parametrize("chess, exc, match", [
    (lambda x, v: np.eye(3), ValueError,
     r"`constraints\[0\]` hess\(x0, v\) must return a \(2, 2\) .*shape \(3, 3\)"),
    (lambda x, v: np.zeros(2), ValueError, r"`constraints\[0\]` hess\(x0, v\) must return"),
    (lambda x: np.eye(2), TypeError,
     r"`constraints\[0\]` hess must be callable as hess\(x, v\)"),
    (lambda x, v: _lo(3), ValueError, r"`constraints\[0\]` hess\(x0, v\) .*LinearOperator"),
])
def test_constraint_hess_checked_at_x0(chess, exc, match):
    con = NonlinearConstraint(P6.cons, 0, 0, jac=P6.jac, hess=chess)
    with pytest.raises(exc, match=match):
        run(constraints=con)


@pytest.mark.filterwarnings("ignore::numfit.optimize.FiniteDifferenceHessianWarning")
def test_constraint_fun_and_jac_values_named():
    from scipy.sparse.linalg import aslinearoperator
    con = {"type": "eq", "fun": P6.cons,
           "jac": lambda x: aslinearoperator(np.ones((1, 2)))}
    with pytest.raises(ValueError, match=r"`constraints\[0\]` Jacobian must be a \(1, 2\) "
                                         r"array or sparse matrix; got a LinearOperator"):
        run(constraints=con)
    con = {"type": "eq", "fun": P6.cons, "jac": lambda x: "J"}
    with pytest.raises(ValueError, match=r"`constraints\[0\]` Jacobian must be a \(1, 2\) "
                                         r"array .*; got str"):
        run(constraints=con)
    for fun in (lambda x: "c", lambda x: [1j], lambda x: None):
        with pytest.raises(ValueError, match=r"`constraints\[0\]` fun must return a real "
                                             r"array of shape \(m,\)"):
            run(constraints={"type": "eq", "fun": fun, "jac": P6.jac})
        with pytest.raises(ValueError, match=r"`constraints\[0\]` fun must return a real"):
            run(constraints=NonlinearConstraint(fun, 0, 0, jac=P6.jac))


@pytest.mark.parametrize("fun, match", [
    (lambda x: "1.0", "got str"),
    (lambda x: np.complex128(1 + 1j), "got complex"),
    (lambda x: 1 + 0j, "got complex"),
    (lambda x: True, "got bool"),
    (lambda x: np.array([[1.0]]) * 1j, "got complex"),
])
def test_fun_must_return_a_real_scalar(fun, match):
    with pytest.raises(ValueError, match=r"`fun\(x0\)` must return a finite scalar.*" + match):
        run(fun=fun)


def test_fun_with_jac_true_must_return_a_pair():
    with pytest.raises(ValueError, match=r"with jac=True, `fun\(x0\)` must return "
                                         r"\(f, grad\)"):
        run(fun=P6.fun, jac=True)
    res = run(fun=lambda x: (P6.fun(x), P6.grad(x)), jac=True)
    assert res.status == 0


def test_hessians_at_x0_are_evaluated_once():
    calls = {"hess": 0, "con": 0}

    def hess(x):
        calls["hess"] += 1
        return P6.hess(x)

    def chess(x, v):
        calls["con"] += 1
        return P6.cons_hess(x, v)

    con = NonlinearConstraint(P6.cons, 0, 0, jac=P6.jac, hess=chess)
    res = run(hess=hess, constraints=con)
    ref = run()
    assert res.status == 0 and res.nit == ref.nit
    np.testing.assert_array_equal(res.x, ref.x)
    # one call per iteration that formed a Hessian (the x0 check's value is reused)
    assert calls["hess"] == res.nhev == ref.nhev
    assert calls["con"] == calls["hess"]
