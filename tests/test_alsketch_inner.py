"""minimize_alsketch: the scale-invariant rank test, regularized steps from a rank-deficient
Jacobian, and the inner solvers (``inner=``) with their counts (docs/alsketch.md)."""
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import LinearConstraint, NonlinearConstraint, minimize

from numfit.optimize import ALSketchStatus, minimize_alsketch
from numfit.optimize.problems import (
    HS_NAMES,
    hock_schittkowski,
    hs_problems,
    logistic_regression,
    poisson_control,
    semilinear_control,
)

PAPER = [p.name for p in hs_problems() if p.paper_iters is not None]


def solve(p, matrix_free=False, **kw):
    kw.setdefault("rng", 0)
    return minimize_alsketch(**p.alsketch_kwargs(matrix_free=matrix_free), **kw)


# ----------------------------------------------------------------------------- rank test
def test_hs61_rank_deficient_start_is_solved():
    p = hock_schittkowski("HS61")
    assert np.linalg.matrix_rank(p.jac(p.x0)) == 1
    res = solve(p, tol=1e-8)
    assert res.status == 0 and res.kkt <= 1e-8
    assert res.fun == pytest.approx(p.f_star, abs=1e-6)
    np.testing.assert_allclose(res.x, p.x_star, atol=1e-6)
    assert res.n_rank_deficient >= 1                     # the first step is regularized
    assert res.licq_min > 1e-12 * res.licq_max           # full rank at the end
    # matrix-free products: the same start, the same solution
    res = solve(p, matrix_free=True, tol=1e-8)
    assert res.status == 0 and res.n_rank_deficient >= 1
    np.testing.assert_allclose(res.x, p.x_star, atol=1e-6)
    # the old behaviour on request, and in the paper's theory mode
    for kw in ({"options": {"rank_deficient": "stop"}}, {"accuracy": "theory"}):
        res = solve(p, **kw)
        assert res.status == ALSketchStatus.SINGULAR_JACOBIAN and res.nit == 0
        assert "LICQ fails" in res.message


@pytest.mark.parametrize("scale", [1e-8, 1.0, 1e8])
def test_rank_test_is_scale_invariant(scale):
    """Scaling the constraints scales G G^T: the relative test decides the same way, and the
    iterates are those of the unscaled problem (HS48: two linear constraints)."""
    p = hock_schittkowski("HS48")
    con = NonlinearConstraint(lambda x: scale * p.cons(x), 0, 0,
                              jac=lambda x: scale * p.jac(x),
                              hess=lambda x, v: scale * p.cons_hess(x, v))
    res = minimize_alsketch(p.fun, p.x0, jac=p.grad, hess=p.hess, constraints=con, rng=0,
                            tol=1e-8)
    assert res.status == 0, res.message
    np.testing.assert_allclose(res.x, p.x_star, atol=1e-7)
    assert res.licq_min / res.licq_max == pytest.approx(
        np.linalg.eigvalsh(p.jac(p.x0) @ p.jac(p.x0).T)[0]
        / np.linalg.eigvalsh(p.jac(p.x0) @ p.jac(p.x0).T)[-1], rel=1e-8)


def test_rank_test_relative_threshold_decides():
    """Rows at an angle of 1e-7: cond(G G^T) ~ 1e14 > 1/licq_rtol fails; licq_rtol=1e-16
    accepts the same Jacobian."""
    A = np.array([[1.0, 0.0, 0.0], [1.0, 1e-7, 0.0]])
    kw = {"jac": lambda x: 2 * x, "hess": lambda x: 2 * np.eye(3),
          "constraints": LinearConstraint(A, [1.0, 1.0], [1.0, 1.0]), "rng": 0}
    res = minimize_alsketch(lambda x: x @ x, np.zeros(3),
                            options={"rank_deficient": "stop"}, **kw)
    assert res.status == ALSketchStatus.SINGULAR_JACOBIAN and res.nit == 0
    assert "licq_rtol" in res.message
    res = minimize_alsketch(lambda x: x @ x, np.zeros(3), options={"licq_rtol": 1e-16}, **kw)
    assert res.status == 0
    np.testing.assert_allclose(res.x, [1.0, 0.0, 0.0], atol=1e-7)


def test_poisson_128_passes_the_rank_test_and_converges():
    """lambda_min(G G^T) = 25.3 against ||G||_2^2 = 1.1e9: the relative test passes (the
    old absolute threshold 1e-10 ||G||_F^2 = 566 stopped at iteration 0); G is constant, so
    it is analysed once and the KKT factors are reused."""
    p = poisson_control(128)
    res = solve(p, tol=1e-6)
    assert res.status == 0 and res.fun == pytest.approx(p.f_star, rel=1e-8)
    assert res.licq_min == pytest.approx(25.35, abs=0.05)
    assert res.licq_evals == 1 and res.inner == "direct"


# ----------------------------------------------------------------------------- inner solvers
@pytest.mark.parametrize("name", HS_NAMES)
@pytest.mark.parametrize("inner", ["direct", "minres", "cg"])
def test_inner_solvers_on_hs(name, inner):
    p = hock_schittkowski(name)
    ref = solve(p, tol=1e-6, inner="sketch")
    res = solve(p, tol=1e-6, inner=inner)
    assert res.status == 0 and res.kkt <= 1e-6, (res.message, res.kkt)
    assert res.inner == inner and res.n_sketch == 0 and res.n_inner >= 1
    assert res.fun == pytest.approx(ref.fun, abs=1e-6)
    if inner == "direct":
        assert res.n_factorizations + res.n_factor_reuse == res.n_inner
    else:
        assert res.n_factorizations == 0


@pytest.mark.parametrize("inner", ["minres", "cg"])
def test_matrix_free_inner_solvers(inner):
    p = hock_schittkowski("HS77")
    res = solve(p, matrix_free=True, tol=1e-8, inner=inner)
    assert res.status == 0 and res.inner == inner
    assert res.fun == pytest.approx(p.f_star, abs=1e-6)
    assert res.nhvp >= res.n_inner


def test_auto_choice_and_reported_solver():
    p = hock_schittkowski("HS6")
    assert solve(p).inner == "direct"                                   # explicit H
    assert solve(p, matrix_free=True).inner == "cg"                     # products only
    assert solve(p, accuracy="theory", tol=1e-4).inner == "sketch"      # the paper's mode
    assert solve(p, sketch="kaczmarz").inner == "sketch"                # a sketch asked for
    res = solve(p, inner="sketch")
    assert res.inner == "sketch" and res.n_inner == res.n_sketch > 0


@pytest.mark.parametrize("name", PAPER)
def test_theory_counts_do_not_depend_on_inner_auto(name):
    """accuracy='theory' with inner='auto' is the paper's sketch-and-project run, step for
    step (the outer counts are checked against the paper in test_alsketch.py)."""
    p = hock_schittkowski(name)
    a = solve(p, tol=1e-4, accuracy="theory")
    b = solve(p, tol=1e-4, accuracy="theory", inner="sketch")
    assert (a.nit, a.n_sketch, a.penalties) == (b.nit, b.n_sketch, b.penalties)
    np.testing.assert_array_equal(a.x, b.x)


def test_direct_factors_reused_for_a_constant_kkt_matrix():
    """A constant Hessian model (hess=2I for f = |x|^2 + 0.1 sum sin x) and a linear
    constraint: K is the same matrix at every iteration, factorized once; the run still
    reaches the true KKT point (found by trust-constr with the exact Hessian)."""
    n = 6
    A = np.vstack([np.ones(n), np.arange(n, dtype=float)])
    con = LinearConstraint(A, [1.0, 2.0], [1.0, 2.0])

    def f(x):
        return x @ x + 0.1 * np.sum(np.sin(3 * x))

    def g(x):
        return 2 * x + 0.3 * np.cos(3 * x)

    res = minimize_alsketch(f, np.zeros(n), jac=g, hess=2 * np.eye(n), constraints=con,
                            rng=0, tol=1e-9, inner="direct")
    assert res.status == 0 and res.nit >= 3
    assert res.n_factorizations == 1 and res.n_factor_reuse == res.nit - 1
    ref = minimize(f, np.zeros(n), jac=g, hess=lambda x: np.diag(2 - 0.9 * np.sin(3 * x)),
                   constraints=[con], method="trust-constr",
                   options={"gtol": 1e-12, "xtol": 1e-14})
    np.testing.assert_allclose(res.x, ref.x, atol=1e-7)


def test_direct_refactorizes_a_changing_kkt_matrix():
    p = semilinear_control(8)
    res = solve(p, tol=1e-8)
    assert res.status == 0 and res.inner == "direct"
    assert res.n_factorizations == res.nit and res.n_factor_reuse == 0
    assert res.licq_evals == res.nit                     # G changes with y


def test_cg_negative_curvature_shifts():
    """f = -|x|^2 + |x|^4/4 on a plane, started where the reduced Hessian is negative
    definite: the CG meets negative curvature, the paper's shift B = H + t I is applied, and
    the run ends at a local minimizer (positive definite reduced Hessian)."""
    con = LinearConstraint([[1.0, 1.0, 1.0]], 1.0, 1.0)
    shifts = []
    res = minimize_alsketch(lambda x: -(x @ x) + 0.25 * np.sum(x ** 4),
                            np.array([0.5, 0.3, 0.2]), jac=lambda x: -2 * x + x ** 3,
                            hessp=lambda x, v: (-2 + 3 * x ** 2) * v, constraints=con, rng=0,
                            tol=1e-8, inner="cg",
                            callback=lambda intermediate_result:
                            shifts.append(intermediate_result.hess_shift))
    assert res.status == 0 and res.kkt <= 1e-8
    assert shifts[0] > 0
    Z = np.linalg.qr(np.array([[1.0], [1.0], [1.0]]), mode="complete")[0][:, 1:]
    assert np.linalg.eigvalsh(Z.T @ np.diag(-2 + 3 * res.x ** 2) @ Z)[0] > 0


def test_logistic_cg_needs_few_products():
    """Matrix-free products: the null-space CG spends one product per CG step plus one for the
    normal step, none on the merit's u = H grad L; sketching spends hundreds."""
    p = logistic_regression(30, 569, rng=0)
    cg = solve(p, matrix_free=True, tol=1e-6, options=dict(p.options))
    sk = solve(p, matrix_free=True, tol=1e-6, options=dict(p.options), inner="sketch")
    assert cg.status == 0 and sk.status == 0 and cg.inner == "cg"
    assert cg.nhvp <= cg.n_inner + cg.nit + 5
    assert 10 * cg.nhvp < sk.nhvp
    np.testing.assert_allclose(cg.x, sk.x, atol=1e-5)


def test_semilinear_control_converges():
    p = semilinear_control(16)
    res = solve(p, tol=1e-8)
    assert res.status == 0 and res.kkt <= 1e-8
    ref = solve(p, tol=1e-8, inner="minres")
    assert ref.status == 0
    np.testing.assert_allclose(res.x, ref.x, atol=1e-6)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kw, exc, match", [
    ({"inner": "lu"}, ValueError, "`inner` must be one of"),
    ({"options": {"licq_rtol": 2.0}}, ValueError, "licq_rtol"),
    ({"options": {"rank_deficient": "skip"}}, ValueError, "rank_deficient"),
    ({"options": {"max_rank_deficient": -1}}, ValueError, "max_rank_deficient"),
])
def test_bad_new_arguments(kw, exc, match):
    p = hock_schittkowski("HS6")
    with pytest.raises(exc, match=match):
        solve(p, **kw)


def test_direct_needs_an_explicit_hessian_when_large():
    n = 2500
    con = LinearConstraint(sp.csr_array(np.ones((1, n))), 1, 1)
    with pytest.raises(ValueError, match="inner='direct' needs an explicit Hessian"):
        minimize_alsketch(lambda x: x @ x, np.zeros(n), jac=lambda x: 2 * x,
                          hessp=lambda x, p: 2 * p, constraints=con, inner="direct")


def test_curvature_estimate_reused_while_descent_passes():
    """Matrix-free practical runs re-estimate lambda_min(Z^T H Z) (a 20-step Lanczos run) only
    after an iteration whose descent test needed a penalty increase; theory mode checks at
    every iteration (the paper's rule, counts unchanged; shown with an explicit H, as a
    matrix-free theory run takes 7.5e5 Python-level products here)."""
    p = hock_schittkowski("HS77")
    res = solve(p, matrix_free=True, tol=1e-8, inner="minres")
    assert res.status == 0 and res.penalty_increases == 0
    assert res.n_curvature_checks == 1 < res.nit
    th = solve(p, tol=1e-4, accuracy="theory")         # explicit H: a QR check each time
    assert th.status == 0 and th.n_curvature_checks == th.nit == 8
    # the null-space CG needs no separate check at all
    assert solve(p, matrix_free=True, tol=1e-8).n_curvature_checks == 0
    # a penalty increase triggers a fresh estimate at the next iteration
    q = hock_schittkowski("HS47")
    res = solve(q, matrix_free=True, tol=1e-8, inner="minres")
    assert res.status == 0 and res.penalty_increases >= 1 and res.n_curvature_checks >= 2


def test_scipy_front_door_passes_inner():
    p = hock_schittkowski("HS77")
    con = NonlinearConstraint(p.cons, 0, 0, jac=p.jac, hess=p.cons_hess)
    res = minimize(p.fun, p.x0, method=__import__("numfit").alsketch, jac=p.grad,
                   hess=p.hess, constraints=con, tol=1e-8,
                   options={"rng": 0, "inner": "minres"})
    assert res.success and res.inner == "minres"
    assert res.fun == pytest.approx(p.f_star, abs=1e-6)


def test_rejected_trials_skip_the_gradient():
    """A trial whose merit without the eta2 |grad_x L|^2 / 2 >= 0 term already fails the Armijo
    test is rejected from f and c alone: HS7 backtracks 12 times, and the gradient is evaluated
    only at x0 and at the accepted points (and at trials the cheap bound could not reject)."""
    p = hock_schittkowski("HS7")
    seen_f, seen_g = [], []

    def f(x):
        seen_f.append(np.copy(x))
        return p.fun(x)

    def g(x):
        seen_g.append(np.copy(x))
        return p.grad(x)

    con = NonlinearConstraint(p.cons, 0, 0, jac=p.jac, hess=p.cons_hess)
    res = minimize_alsketch(f, p.x0, jac=g, hess=p.hess, constraints=con, rng=0, tol=1e-6,
                            options={"return_history": True})
    assert res.status == 0 and res.fun == pytest.approx(p.f_star, abs=1e-6)
    n_backtracks = int(np.sum(np.round(-np.log2(res.alpha_history))))
    assert len(seen_f) == res.nfev == 1 + res.nit + n_backtracks
    assert len(seen_g) == res.njev < res.nfev
    assert res.njev >= 1 + res.nit
    # every gradient point is a point where f was evaluated
    assert all(any(np.array_equal(xg, xf) for xf in seen_f) for xg in seen_g)


@pytest.mark.parametrize("sparse_h", [False, True])
def test_direct_singular_kkt_falls_back_to_minres(sparse_h):
    """f = x0^2 subject to x0 + x1 = 1: x2 is a zero-curvature direction in the null space of
    G, so with curvature_check='none' (no shift) K is exactly singular; the LU fails (dense:
    zero pivot; sparse: SuperLU 'exactly singular') and MINRES solves the consistent system
    instead (counted as a fallback)."""
    H = np.diag([2.0, 0.0, 0.0])
    con = LinearConstraint([[1.0, 1.0, 0.0]], 1.0, 1.0)
    res = minimize_alsketch(lambda x: x[0] ** 2, np.array([3.0, 0.0, 0.5]),
                            jac=lambda x: np.array([2 * x[0], 0.0, 0.0]),
                            hess=sp.csr_array(H) if sparse_h else H, constraints=con, rng=0,
                            tol=1e-10, inner="direct", options={"curvature_check": "none"})
    assert res.status == 0 and res.n_fallback >= 1 and res.fallback_iter[0] == 0
    np.testing.assert_allclose(res.x[:2], [0.0, 1.0], atol=1e-9)


def _ill_conditioned_qp(n=300, seed=0, indefinite=False):
    rng = np.random.default_rng(seed)
    V, _ = np.linalg.qr(rng.standard_normal((n, n)))
    ev = np.concatenate([np.logspace(4, 2, 15), np.ones(n - 15)])
    A = rng.standard_normal((3, n))
    if indefinite:             # negative curvature only across the constraints: Z^T H Z > 0
        ev[-3:] = -0.5
        A = V[:, -3:].T + 0.0
    H = (V * ev) @ V.T
    b = rng.standard_normal(n)
    kw = {"fun": lambda x: 0.5 * x @ H @ x - b @ x, "x0": np.zeros(n),
          "jac": lambda x: H @ x - b, "hessp": lambda x, v: H @ v,
          "constraints": LinearConstraint(A, np.ones(3), np.ones(3)), "rng": 0}
    return H, A, b, kw


def test_minres_nystrom_preconditioner():
    """A Hessian with 15 large eigenvalues (1e2..1e4): the rank-20 Nystrom preconditioner
    (20 products per outer iteration) cuts the MINRES iterations >= 3x against the scalar
    block preconditioner; both reach the KKT point of the QP (solved densely)."""
    H, A, b, kw = _ill_conditioned_qp()
    n = H.shape[0]
    K = np.block([[H, A.T], [A, np.zeros((3, 3))]])
    x_star = np.linalg.solve(K, np.concatenate([b, np.ones(3)]))[:n]
    blk = minimize_alsketch(**kw, tol=1e-6, inner="minres")
    nys = minimize_alsketch(**kw, tol=1e-6, inner="minres",
                            options={"minres_precond": "nystrom"})
    assert blk.status == 0 and nys.status == 0
    assert nys.n_nystrom == nys.nit and blk.n_nystrom == 0
    assert 3 * nys.n_inner <= blk.n_inner
    assert nys.nhvp >= 20 * nys.nit                      # the sketch's products are counted
    np.testing.assert_allclose(nys.x, x_star, atol=1e-6)
    np.testing.assert_allclose(blk.x, x_star, atol=1e-6)


def test_minres_nystrom_falls_back_on_an_indefinite_hessian():
    """Nystrom needs H positive semidefinite on the sketch: H has three negative eigenvalues
    (across the constraints, so the reduced Hessian is positive definite) and a rank-299 sketch
    of the 300 x 300 H has negative eigenvalues (interlacing), so the Cholesky factor of
    Q^T H Q fails and the scalar block preconditioner is used; the run still converges."""
    H, A, b, kw = _ill_conditioned_qp(indefinite=True)
    n = H.shape[0]
    K = np.block([[H, A.T], [A, np.zeros((3, 3))]])
    x_star = np.linalg.solve(K, np.concatenate([b, np.ones(3)]))[:n]
    res = minimize_alsketch(**kw, tol=1e-6, inner="minres",
                            options={"minres_precond": "nystrom", "nystrom_rank": 299,
                                     "curvature_check": "none"})
    assert res.status == 0 and res.n_nystrom == 0 and res.nit >= 1
    np.testing.assert_allclose(res.x, x_star, atol=1e-6)
