"""Test problems for equality-constrained optimization (docs/alsketch.md, Benchmarks).

* :func:`hock_schittkowski` / :data:`HS_NAMES`: sixteen Hock-Schittkowski problems with
  equality constraints only, with exact first and second derivatives.
* :func:`logistic_regression`: constrained logistic regression (mean logistic loss subject to
  ``A x = b`` and ``||x||^2 = 1``), synthetic data with the shapes of the paper's LIBSVM sets;
  :func:`load_libsvm_logistic` builds the same problem from a local LIBSVM file.
* :func:`poisson_control`: 2-D Poisson control on an N x N grid with a sparse Jacobian and a
  sparse, constant Lagrangian Hessian.
* :func:`semilinear_control`: 2-D semilinear elliptic control (``-Delta y + y^3 = u``) with an
  H1 control cost: a nonlinear PDE constraint whose Jacobian and Lagrangian Hessian change
  with (x, lambda) but keep their sparsity pattern.
* ``hock_schittkowski("HS61")`` (:data:`HS_EXTRA`): a Hock-Schittkowski problem whose
  constraint Jacobian has rank 1 at the standard start ``x0 = 0``.

Every problem is a :class:`Problem` with ``fun, grad, hess, cons, jac, cons_hess(x, v),
hess_lagrangian(x, lam), hessp_lagrangian(x, lam, v)`` and reference data; ``as_scipy()``
gives keyword arguments for ``scipy.optimize.minimize`` and ``alsketch_kwargs()`` those of
:func:`numfit.optimize.minimize_alsketch`.
"""
import math

import numpy as np
import scipy.sparse as sp
from scipy.optimize import NonlinearConstraint
from scipy.sparse.linalg import LinearOperator

from .._validation import as_rng, check_int, check_option

__all__ = [
    "HS_EXTRA",
    "HS_NAMES",
    "LOGISTIC_PRESETS",
    "Problem",
    "hock_schittkowski",
    "hs_problems",
    "load_libsvm_logistic",
    "logistic_regression",
    "poisson_control",
    "semilinear_control",
]


class Problem:
    """An equality-constrained problem ``min f(x)`` subject to ``c(x) = 0``, exact derivatives.

    Attributes
    ----------
    name : str
    n, m : int
    x0, lambda0 : ndarray
        Starting point and multipliers (for ``L = f + lambda^T c``).
    fun, grad, hess : callables of x
        f, its gradient and its Hessian (ndarray, sparse matrix or LinearOperator).
    cons, jac : callables of x
        c(x) (m,) and its Jacobian (m, n) (ndarray or sparse).
    cons_hess : callable (x, v) -> sum_i v_i Hess c_i(x)
    hess_lagrangian : callable (x, lam) -> Hessian of the Lagrangian
    hessp_lagrangian : callable (x, lam, p) -> Hessian-of-Lagrangian times p
    f_star : float or None
        Optimal value (None if not unique or not known).
    x_star : ndarray or None
    kkt_points : list of (x, f)
        Known KKT points (for problems with several).
    paper_iters : dict or None
        The paper's outer-iteration counts, ``{"gaussian": GV, "kaczmarz": RK}``.
    options : dict
        Recommended ``minimize_alsketch`` options for reproducing the paper.
    """

    def __init__(self, name, n, m, x0, fun, grad, hess, cons, jac, cons_hess, lambda0=None,
                 f_star=None, x_star=None, kkt_points=(), paper_iters=None, options=None,
                 hessp_lagrangian=None, hess_lagrangian=None, data=None):
        self.name, self.n, self.m = name, int(n), int(m)
        self.x0 = np.asarray(x0, dtype=np.float64)
        self.lambda0 = np.zeros(m) if lambda0 is None else np.asarray(lambda0, dtype=float)
        self.fun, self.grad, self.hess = fun, grad, hess
        self.cons, self.jac, self.cons_hess = cons, jac, cons_hess
        self.f_star = f_star
        self.x_star = None if x_star is None else np.asarray(x_star, dtype=np.float64)
        self.kkt_points = [(np.asarray(x, dtype=float), float(f)) for x, f in kkt_points]
        self.paper_iters = paper_iters
        self.options = dict(options or {})
        self.data = data
        self._hessp_l = hessp_lagrangian
        self._hess_l = hess_lagrangian

    def __repr__(self):
        return f"Problem({self.name!r}, n={self.n}, m={self.m})"

    def hess_lagrangian(self, x, lam):
        """Hessian of ``L = f + lam^T c`` at (x, lam)."""
        if self._hess_l is not None:
            return self._hess_l(x, lam)
        Hf = self.hess(x)
        Hc = self.cons_hess(x, lam)
        if isinstance(Hf, LinearOperator) or isinstance(Hc, LinearOperator):
            return _as_op(Hf) + _as_op(Hc)
        if sp.issparse(Hf) or sp.issparse(Hc):
            return sp.csr_array(Hf) + sp.csr_array(Hc)
        return np.asarray(Hf) + np.asarray(Hc)

    def hessp_lagrangian(self, x, lam, p):
        """``hess_lagrangian(x, lam) @ p`` (matrix-free where the problem supports it)."""
        if self._hessp_l is not None:
            return self._hessp_l(x, lam, p)
        return self.hess_lagrangian(x, lam) @ p

    def lagrangian_grad(self, x, lam):
        """(grad f + J^T lam, c)."""
        return self.grad(x) + self.jac(x).T @ lam, self.cons(x)

    def kkt(self, x, lam):
        """``||grad L(x, lam)||_2``."""
        gx, c = self.lagrangian_grad(x, lam)
        return float(np.sqrt(gx @ gx + c @ c))

    def as_scipy(self):
        """Keyword arguments for ``scipy.optimize.minimize`` (SLSQP, trust-constr)."""
        con = NonlinearConstraint(self.cons, 0.0, 0.0, jac=self.jac, hess=self.cons_hess)
        return {"fun": self.fun, "x0": self.x0.copy(), "jac": self.grad, "hess": self.hess,
                    "constraints": [con]}

    def alsketch_kwargs(self, matrix_free=False):
        """Keyword arguments for :func:`numfit.optimize.minimize_alsketch` (exact derivatives;
        ``matrix_free=True`` passes ``hessp_lagrangian`` instead of ``hess_lagrangian``)."""
        con = NonlinearConstraint(self.cons, 0.0, 0.0, jac=self.jac, hess=self.cons_hess)
        kw = {"fun": self.fun, "x0": self.x0.copy(), "jac": self.grad, "constraints": [con],
                  "lambda0": self.lambda0.copy()}
        if matrix_free:
            kw["hessp_lagrangian"] = self.hessp_lagrangian
        else:
            kw["hess_lagrangian"] = self.hess_lagrangian
        return kw


def _as_op(A):
    from scipy.sparse.linalg import aslinearoperator
    return aslinearoperator(A)


# ============================================================================ HS machinery
class _Expr:
    """A scalar function of x as a sum of terms with exact gradient and Hessian.

    Terms: ``("aff", w, a, c, p)`` = w (a.x - c)^p;  ``("mono", coef, e)`` = coef prod x^e;
    ``("fn", phi, a, c)`` = phi(a.x - c) with ``phi(t) -> (value, d1, d2)``.
    """

    def __init__(self, n, terms):
        self.n = n
        self.terms = []
        for t in terms:
            if t[0] == "aff":
                self.terms.append(("aff", float(t[1]), np.asarray(t[2], float), float(t[3]),
                                   int(t[4])))
            elif t[0] == "mono":
                self.terms.append(("mono", float(t[1]), np.asarray(t[2], int)))
            else:
                self.terms.append(("fn", t[1], np.asarray(t[2], float), float(t[3])))

    def value(self, x):
        v = 0.0
        for t in self.terms:
            if t[0] == "aff":
                v += t[1] * (t[2] @ x - t[3]) ** t[4]
            elif t[0] == "mono":
                v += t[1] * float(np.prod(x ** t[2]))
            else:
                v += t[1](t[2] @ x - t[3])[0]
        return v

    def grad(self, x):
        g = np.zeros(self.n)
        for t in self.terms:
            if t[0] == "aff":
                s = t[2] @ x - t[3]
                g += t[1] * t[4] * s ** (t[4] - 1) * t[2]
            elif t[0] == "mono":
                e = t[2]
                for j in np.flatnonzero(e):
                    ej = e.copy()
                    ej[j] -= 1
                    g[j] += t[1] * e[j] * float(np.prod(x ** ej))
            else:
                g += t[1](t[2] @ x - t[3])[1] * t[2]
        return g

    def hess(self, x):
        H = np.zeros((self.n, self.n))
        for t in self.terms:
            if t[0] == "aff":
                p = t[4]
                if p >= 2:
                    s = t[2] @ x - t[3]
                    H += t[1] * p * (p - 1) * s ** (p - 2) * np.outer(t[2], t[2])
            elif t[0] == "mono":
                e = t[2]
                nz = np.flatnonzero(e)
                for i in nz:
                    for j in nz:
                        ej = e.copy()
                        if i == j:
                            if e[i] < 2:
                                continue
                            ej[i] -= 2
                            H[i, i] += t[1] * e[i] * (e[i] - 1) * float(np.prod(x ** ej))
                        else:
                            ej[i] -= 1
                            ej[j] -= 1
                            H[i, j] += t[1] * e[i] * e[j] * float(np.prod(x ** ej))
            else:
                H += t[1](t[2] @ x - t[3])[2] * np.outer(t[2], t[2])
        return H


def _e(n, *idx_coef):
    """Vector with entries (1-based index, coefficient)."""
    a = np.zeros(n)
    for i, c in idx_coef:
        a[i - 1] = c
    return a


def _mono(n, coef, **pw):
    e = np.zeros(n, dtype=int)
    for k, v in pw.items():
        e[int(k[1:]) - 1] = v
    return ("mono", coef, e)


def _const(n, c):
    return ("mono", c, np.zeros(n, dtype=int))


def _sq(n, c, *idx):           # (sum coef x_i - c)^2 helpers
    return ("aff", 1.0, _e(n, *idx), c, 2)


def _pow(n, p, c, *idx):
    return ("aff", 1.0, _e(n, *idx), c, p)


def _lin(n, c, *idx):
    return ("aff", 1.0, _e(n, *idx), c, 1)


def _log1p_sq(t):
    return (math.log1p(t * t), 2 * t / (1 + t * t), 2 * (1 - t * t) / (1 + t * t) ** 2)


def _sin2(t):
    return (math.sin(t) ** 2, math.sin(2 * t), 2 * math.cos(2 * t))


def _sin(t):
    return (math.sin(t), math.cos(t), -math.sin(t))


def _scaled(fn, w):
    def phi(t):
        v, d1, d2 = fn(t)
        return (w * v, w * d1, w * d2)
    return phi


S2 = math.sqrt(2.0)


def _hs_defs():
    """name -> (n, f terms, list of c terms, x0, f*, x*, extra kkt points, (GV, RK))."""
    d = {}
    n = 2
    d["HS6"] = (n, [_sq(n, 1.0, (1, 1.0))],
                [[_mono(n, 10.0, x2=1), _mono(n, -10.0, x1=2)]],
                [-1.2, 1.0], 0.0, [1.0, 1.0], [], (9, 9))
    d["HS7"] = (n, [("fn", _log1p_sq, _e(n, (1, 1.0)), 0.0), _lin(n, 0.0, (2, -1.0))],
                [[_mono(n, 1.0, x1=4), _mono(n, 2.0, x1=2), _mono(n, 1.0, x2=2),
                  _const(n, -3.0)]],
                [2.0, 2.0], -math.sqrt(3.0), [0.0, math.sqrt(3.0)], [], (10, 10))
    n = 3
    d["HS28"] = (n, [_sq(n, 0.0, (1, 1.0), (2, 1.0)), _sq(n, 0.0, (2, 1.0), (3, 1.0))],
                 [[_lin(n, 1.0, (1, 1.0), (2, 2.0), (3, 3.0))]],
                 [-4.0, 1.0, 1.0], 0.0, [0.5, -0.5, 0.5], [], (1, 1))
    n = 4
    d["HS39"] = (n, [_lin(n, 0.0, (1, -1.0))],
                 [[_mono(n, 1.0, x2=1), _mono(n, -1.0, x1=3), _mono(n, -1.0, x3=2)],
                  [_mono(n, 1.0, x1=2), _mono(n, -1.0, x2=1), _mono(n, -1.0, x4=2)]],
                 [2.0] * 4, -1.0, [1.0, 1.0, 0.0, 0.0], [], None)
    xs40 = [2 ** (-1 / 3), 2 ** (-1 / 2), 2 ** (-11 / 12), 2 ** (-1 / 4)]
    d["HS40"] = (n, [_mono(n, -1.0, x1=1, x2=1, x3=1, x4=1)],
                 [[_mono(n, 1.0, x1=3), _mono(n, 1.0, x2=2), _const(n, -1.0)],
                  [_mono(n, 1.0, x1=2, x4=1), _mono(n, -1.0, x3=1)],
                  [_mono(n, 1.0, x4=2), _mono(n, -1.0, x2=1)]],
                 [0.8] * 4, -0.25, xs40,
                 [([xs40[0], xs40[1], -xs40[2], -xs40[3]], -0.25)], (3, 3))
    d["HS42"] = (n, [_sq(n, float(i), (i, 1.0)) for i in range(1, 5)],
                 [[_lin(n, 2.0, (1, 1.0))],
                  [_mono(n, 1.0, x3=2), _mono(n, 1.0, x4=2), _const(n, -2.0)]],
                 [1.0] * 4, 28 - 10 * S2, [2.0, 2.0, 0.6 * S2, 0.8 * S2], [], (4, 4))
    n = 5
    d["HS47"] = (n, [_sq(n, 0.0, (1, 1.0), (2, -1.0)), _pow(n, 3, 0.0, (2, 1.0), (3, -1.0)),
                     _pow(n, 4, 0.0, (3, 1.0), (4, -1.0)), _pow(n, 4, 0.0, (4, 1.0), (5, -1.0))],
                 [[_mono(n, 1.0, x1=1), _mono(n, 1.0, x2=2), _mono(n, 1.0, x3=3),
                   _const(n, -3.0)],
                  [_mono(n, 1.0, x2=1), _mono(n, -1.0, x3=2), _mono(n, 1.0, x4=1),
                   _const(n, -1.0)],
                  [_mono(n, 1.0, x1=1, x5=1), _const(n, -1.0)]],
                 [2.0, S2, -1.0, 2 - S2, 0.5], None, None,
                 [([1.0] * 5, 0.0),
                  ([0.6770044, 0.7260895, 1.2154912, 1.7513294, 1.4770953], -0.0267141827)],
                 (14, 15))
    d["HS48"] = (n, [_sq(n, 1.0, (1, 1.0)), _sq(n, 0.0, (2, 1.0), (3, -1.0)),
                     _sq(n, 0.0, (4, 1.0), (5, -1.0))],
                 [[_lin(n, 5.0, *[(i, 1.0) for i in range(1, 6)])],
                  [_lin(n, -3.0, (3, 1.0), (4, -2.0), (5, -2.0))]],
                 [3.0, 5.0, -3.0, 2.0, -2.0], 0.0, [1.0] * 5, [], (1, 1))
    d["HS49"] = (n, [_sq(n, 0.0, (1, 1.0), (2, -1.0)), _sq(n, 1.0, (3, 1.0)),
                     _pow(n, 4, 1.0, (4, 1.0)), _pow(n, 6, 1.0, (5, 1.0))],
                 [[_lin(n, 7.0, (1, 1.0), (2, 1.0), (3, 1.0), (4, 4.0))],
                  [_lin(n, 6.0, (3, 1.0), (5, 5.0))]],
                 [10.0, 7.0, 2.0, -3.0, 0.8], 0.0, [1.0] * 5, [], None)
    d["HS50"] = (n, [_sq(n, 0.0, (1, 1.0), (2, -1.0)), _sq(n, 0.0, (2, 1.0), (3, -1.0)),
                     _pow(n, 4, 0.0, (3, 1.0), (4, -1.0)), _sq(n, 0.0, (4, 1.0), (5, -1.0))],
                 [[_lin(n, 6.0, (1, 1.0), (2, 2.0), (3, 3.0))],
                  [_lin(n, 6.0, (2, 1.0), (3, 2.0), (4, 3.0))],
                  [_lin(n, 6.0, (3, 1.0), (4, 2.0), (5, 3.0))]],
                 [35.0, -31.0, 11.0, 5.0, -5.0], 0.0, [1.0] * 5, [], (8, 8))
    d["HS51"] = (n, [_sq(n, 0.0, (1, 1.0), (2, -1.0)), _sq(n, 2.0, (2, 1.0), (3, 1.0)),
                     _sq(n, 1.0, (4, 1.0)), _sq(n, 1.0, (5, 1.0))],
                 [[_lin(n, 4.0, (1, 1.0), (2, 3.0))],
                  [_lin(n, 0.0, (3, 1.0), (4, 1.0), (5, -2.0))],
                  [_lin(n, 0.0, (2, 1.0), (5, -1.0))]],
                 [2.5, 0.5, 2.0, -1.0, 0.5], 0.0, [1.0] * 5, [], (1, 1))
    d["HS52"] = (n, [_sq(n, 0.0, (1, 4.0), (2, -1.0)), _sq(n, 2.0, (2, 1.0), (3, 1.0)),
                     _sq(n, 1.0, (4, 1.0)), _sq(n, 1.0, (5, 1.0))],
                 [[_lin(n, 0.0, (1, 1.0), (2, 3.0))],
                  [_lin(n, 0.0, (3, 1.0), (4, 1.0), (5, -2.0))],
                  [_lin(n, 0.0, (2, 1.0), (5, -1.0))]],
                 [2.0] * 5, 1859 / 349, np.array([-33.0, 11.0, 180.0, -158.0, 11.0]) / 349,
                 [], (2, 1))
    n = 7
    a = math.asin(math.sqrt(1 / 4.2))
    b = math.asin(math.sqrt(5 / 7.2))
    cons56 = [[_lin(n, 0.0, (i, 1.0)), ("fn", _scaled(_sin2, -4.2), _e(n, (i + 3, 1.0)), 0.0)]
              for i in (1, 2, 3)]
    cons56.append([_lin(n, 0.0, (1, 1.0), (2, 2.0), (3, 2.0)),
                   ("fn", _scaled(_sin2, -7.2), _e(n, (7, 1.0)), 0.0)])
    d["HS56"] = (n, [_mono(n, -1.0, x1=1, x2=1, x3=1)], cons56,
                 [1.0, 1.0, 1.0, a, a, a, b], -3.456,
                 [2.4, 1.2, 1.2, math.asin(math.sqrt(4 / 7)), math.asin(math.sqrt(2 / 7)),
                  math.asin(math.sqrt(2 / 7)), math.pi / 2], [], (5, 5))
    n = 5
    d["HS77"] = (n, [_sq(n, 1.0, (1, 1.0)), _sq(n, 0.0, (1, 1.0), (2, -1.0)),
                     _sq(n, 1.0, (3, 1.0)), _pow(n, 4, 1.0, (4, 1.0)),
                     _pow(n, 6, 1.0, (5, 1.0))],
                 [[_mono(n, 1.0, x1=2, x4=1), ("fn", _sin, _e(n, (4, 1.0), (5, -1.0)), 0.0),
                   _const(n, -2 * S2)],
                  [_mono(n, 1.0, x2=1), _mono(n, 1.0, x3=4, x4=2), _const(n, -8 - S2)]],
                 [2.0] * 5, 0.2415051288,
                 [1.166172, 1.182111, 1.380257, 1.506036, 0.610920], [], (8, 8))
    d["HS78"] = (n, [_mono(n, 1.0, x1=1, x2=1, x3=1, x4=1, x5=1)],
                 [[_mono(n, 1.0, **{f"x{i}": 2}) for i in range(1, 6)] + [_const(n, -10.0)],
                  [_mono(n, 1.0, x2=1, x3=1), _mono(n, -5.0, x4=1, x5=1)],
                  [_mono(n, 1.0, x1=3), _mono(n, 1.0, x2=3), _const(n, 1.0)]],
                 [-2.0, 1.5, 2.0, -1.0, -1.0], -2.919700409,
                 [-1.717144, 1.595710, 1.827246, -0.763643, -0.763643], [], (4, 4))
    d["HS79"] = (n, [_sq(n, 1.0, (1, 1.0)), _sq(n, 0.0, (1, 1.0), (2, -1.0)),
                     _sq(n, 0.0, (2, 1.0), (3, -1.0)), _pow(n, 4, 0.0, (3, 1.0), (4, -1.0)),
                     _pow(n, 4, 0.0, (4, 1.0), (5, -1.0))],
                 [[_mono(n, 1.0, x1=1), _mono(n, 1.0, x2=2), _mono(n, 1.0, x3=3),
                   _const(n, -2 - 3 * S2)],
                  [_mono(n, 1.0, x2=1), _mono(n, -1.0, x3=2), _mono(n, 1.0, x4=1),
                   _const(n, 2 - 2 * S2)],
                  [_mono(n, 1.0, x1=1, x5=1), _const(n, -2.0)]],
                 [2.0] * 5, 0.07877682087,
                 [1.191127, 1.362603, 1.472818, 1.635017, 1.679081], [], (4, 4))
    return d


def _hs_extra_defs():
    """Problems outside the paper's set: HS61 (n = 3, m = 2; Hock and Schittkowski 1981),
    whose constraint Jacobian ``[[3, -4 x2, 0], [4, 0, -2 x3]]`` has rank 1 at x0 = 0."""
    n = 3
    return {"HS61": (n, [_mono(n, 4.0, x1=2), _mono(n, 2.0, x2=2), _mono(n, 2.0, x3=2),
                         _mono(n, -33.0, x1=1), _mono(n, 16.0, x2=1), _mono(n, -24.0, x3=1)],
                     [[_mono(n, 3.0, x1=1), _mono(n, -2.0, x2=2), _const(n, -7.0)],
                      [_mono(n, 4.0, x1=1), _mono(n, -1.0, x3=2), _const(n, -11.0)]],
                     [0.0, 0.0, 0.0], -143.6461422,
                     [5.326770157, -2.118998639, 3.210464239], [], None)}


_HS = _hs_defs()
HS_NAMES = tuple(_HS)
"""Names of the included Hock-Schittkowski problems (Hock and Schittkowski, 1981; those of
the paper's experiments and HS39, HS49)."""
_HS.update(_hs_extra_defs())
HS_EXTRA = ("HS61",)
"""Further Hock-Schittkowski problems accepted by :func:`hock_schittkowski` but not in
:data:`HS_NAMES` (HS61: a rank-deficient constraint Jacobian at x0)."""


def hock_schittkowski(name):
    """Return the Hock-Schittkowski problem ``name`` (one of :data:`HS_NAMES`).

    Parameters
    ----------
    name : str
        "HS6", "HS7", ..., "HS79" (case-insensitive), or one of :data:`HS_EXTRA`.

    Returns
    -------
    Problem
        With exact derivatives, ``lambda0 = 0``, ``f_star``, ``x_star``, ``kkt_points`` and
        ``paper_iters`` (the paper's Gaussian / Kaczmarz outer-iteration counts at tol 1e-4,
        None for HS39 and HS49, which the paper does not include).

    Examples
    --------
    >>> from numfit.optimize.problems import hock_schittkowski
    >>> p = hock_schittkowski("HS28")
    >>> p.n, p.m, p.f_star
    (3, 1, 0.0)
    >>> float(p.cons(p.x_star)[0])
    0.0
    """
    key = str(name).upper()
    if key not in _HS:
        check_option("name", name, HS_NAMES + HS_EXTRA)
    n, fterms, cterms, x0, fstar, xstar, extra, paper = _HS[key]
    f = _Expr(n, fterms)
    cs = [_Expr(n, t) for t in cterms]
    m = len(cs)

    def fun(x):
        return f.value(np.asarray(x, dtype=float))

    def grad(x):
        return f.grad(np.asarray(x, dtype=float))

    def hess(x):
        return f.hess(np.asarray(x, dtype=float))

    def cons(x):
        x = np.asarray(x, dtype=float)
        return np.array([c.value(x) for c in cs])

    def jac(x):
        x = np.asarray(x, dtype=float)
        return np.array([c.grad(x) for c in cs])

    def cons_hess(x, v):
        x = np.asarray(x, dtype=float)
        H = np.zeros((n, n))
        for vi, c in zip(v, cs):
            if vi != 0:
                H += vi * c.hess(x)
        return H

    kkt = list(extra)
    if xstar is not None:
        kkt.insert(0, (xstar, fstar))
    unique_f = fstar if key != "HS47" else None
    return Problem(key, n, m, x0, fun, grad, hess, cons, jac, cons_hess, f_star=unique_f,
                   x_star=xstar, kkt_points=kkt,
                   paper_iters=None if paper is None else
                   {"gaussian": paper[0], "kaczmarz": paper[1]})


def hs_problems(names=None):
    """The list of :func:`hock_schittkowski` problems (all of :data:`HS_NAMES` by default)."""
    return [hock_schittkowski(nm) for nm in (HS_NAMES if names is None else names)]


# ============================================================================ logistic
LOGISTIC_PRESETS = {
    "ionosphere": (34, 351, None), "sonar": (60, 208, None), "splice": (60, 1000, None),
    "phishing": (68, 11055, 0.44), "mushrooms": (112, 8124, 0.19), "a9a": (123, 32561, 0.11),
    "w8a": (300, 49749, 0.04),
}
"""preset -> (d, N, density or None for dense features); the paper's LIBSVM shapes."""
LOGISTIC_PAPER_ITERS = {"ionosphere": (8, 9), "sonar": (10, 10), "splice": (9, 9),
                        "phishing": (7, 7), "mushrooms": (8, 8), "a9a": (8, 9), "w8a": (9, 9)}


def _constraints_data(d, rng, n_lin=10):
    for _ in range(10_000):
        A = rng.standard_normal((n_lin, d))
        b = rng.standard_normal(n_lin)
        if np.linalg.norm(np.linalg.lstsq(A, b, rcond=None)[0]) <= 0.9:
            return A, b
    raise RuntimeError(f"could not draw A, b with ||A^+ b|| <= 0.9 for d = {d}")  # pragma: no cover


def _logistic_problem(Z, y, A, b, name):
    N, d = Z.shape
    sparse = sp.issparse(Z)
    Zy = (sp.diags_array(y) @ Z).tocsr() if sparse else Z * y[:, None]
    ZyT = Zy.T.tocsr() if sparse else np.ascontiguousarray(Zy.T)
    m = A.shape[0] + 1
    cache = {}

    def _margins(x):
        key = x.tobytes()
        hit = cache.get("t")
        if hit is not None and hit[0] == key:
            return hit[1]
        t = Zy @ x
        cache["t"] = (key, t)
        return t

    def _weights(x):
        key = x.tobytes()
        hit = cache.get("w")
        if hit is not None and hit[0] == key:
            return hit[1]
        t = _margins(x)
        s = 0.5 * (1.0 + np.tanh(0.5 * t))        # sigma(t), stable
        w = s * (1.0 - s) / N
        cache["w"] = (key, w)
        return w

    def fun(x):
        x = np.asarray(x, dtype=float)
        return float(np.mean(np.logaddexp(0.0, -_margins(x))))

    def grad(x):
        x = np.asarray(x, dtype=float)
        t = _margins(x)
        q = -0.5 * (1.0 - np.tanh(0.5 * t))       # -sigma(-t)
        return ZyT @ q / N

    def hessp(x, v):
        w = _weights(np.asarray(x, dtype=float))
        return ZyT @ (w * (Zy @ v))

    def hess(x):
        w = _weights(np.asarray(x, dtype=float))
        return LinearOperator((d, d), matvec=lambda v: ZyT @ (w * (Zy @ np.ravel(v))),
                              dtype=float)

    def cons(x):
        x = np.asarray(x, dtype=float)
        return np.concatenate([A @ x - b, [x @ x - 1.0]])

    def jac(x):
        x = np.asarray(x, dtype=float)
        return np.vstack([A, 2.0 * x[None, :]])

    def cons_hess(x, v):
        return 2.0 * float(v[-1]) * np.eye(d)

    def hessp_lagrangian(x, lam, v):
        v = np.asarray(v, dtype=float)
        return hessp(x, v) + 2.0 * float(lam[-1]) * v

    def hess_lagrangian(x, lam):
        w = _weights(np.asarray(x, dtype=float))
        c = 2.0 * float(lam[-1])
        return LinearOperator((d, d), matvec=lambda v: ZyT @ (w * (Zy @ np.ravel(v)))
                              + c * np.ravel(v), dtype=float)

    p = Problem(name, d, m, np.ones(d), fun, grad, hess, cons, jac, cons_hess,
                lambda0=np.ones(m), options={"reduced_hess_tol": 1e-2, "max_inner": 10 ** 6},
                hessp_lagrangian=hessp_lagrangian, hess_lagrangian=hess_lagrangian,
                data={"Z": Z, "y": y, "A": A, "b": b})
    p.hessp = hessp
    return p


def logistic_regression(d=None, N=None, preset=None, rng=None, density=None):
    """Constrained logistic regression ``min mean log(1 + exp(-y_i z_i.x))`` subject to
    ``A x = b`` (10 rows) and ``||x||^2 = 1``.

    Parameters
    ----------
    d, N : int
        Features and samples (taken from ``preset`` when given).
    preset : str or None
        One of :data:`LOGISTIC_PRESETS` (the paper's LIBSVM shapes; synthetic data).
    rng : None, int or Generator
    density : float or None
        Bernoulli(density) binary features as CSR; None: dense uniform on [-1, 1].

    Returns
    -------
    Problem
        ``x0 = ones(d)``, ``lambda0 = ones(11)``, a matrix-free ``hessp_lagrangian``
        (O(N d) per product), ``hess`` as a LinearOperator, dense Jacobian; ``paper_iters``
        for presets. ``data`` holds Z, y, A, b.

    Examples
    --------
    >>> from numfit.optimize.problems import logistic_regression
    >>> p = logistic_regression(12, 200, rng=0)
    >>> p.n, p.m, p.x0[:3].tolist()
    (12, 11, [1.0, 1.0, 1.0])
    """
    paper = None
    if preset is not None:
        preset = check_option("preset", preset, tuple(LOGISTIC_PRESETS))
        d, N, dens = LOGISTIC_PRESETS[preset]
        density = dens if density is None else density
        paper = dict(zip(("gaussian", "kaczmarz"), LOGISTIC_PAPER_ITERS[preset]))
    if d is None or N is None:
        raise ValueError("`d` and `N` are required unless `preset` is given")
    d = check_int("d", d, lo=11)
    N = check_int("N", N, lo=2)
    gen = as_rng(rng)
    if density is None:
        Z = gen.uniform(-1.0, 1.0, size=(N, d))
    else:
        if not 0 < float(density) <= 1:
            raise ValueError(f"`density` must be in (0, 1]; got {density}")
        Z = sp.csr_array((gen.random((N, d)) < density).astype(np.float64))
    w = gen.standard_normal(d) / math.sqrt(d)
    s = Z @ w
    y = np.where(s - np.median(s) >= 0, 1.0, -1.0)
    flip = gen.random(N) < 0.05
    y[flip] = -y[flip]
    A, b = _constraints_data(d, gen)
    p = _logistic_problem(Z, y, A, b, preset or f"logistic(d={d}, N={N})")
    p.paper_iters = paper
    return p


def load_libsvm_logistic(path, rng=2023):
    """Constrained logistic regression on a local LIBSVM file (labels mapped to +-1, the
    smaller label to -1; e.g. mushrooms' {1, 2}); ``A, b`` drawn as in
    :func:`logistic_regression` from ``rng``."""
    rows, cols, vals, labels = [], [], [], []
    with open(path) as fh:
        for i, line in enumerate(ln for ln in fh if ln.strip()):
            parts = line.split()
            labels.append(float(parts[0]))
            for tok in parts[1:]:
                j, v = tok.split(":")
                rows.append(i)
                cols.append(int(j) - 1)
                vals.append(float(v))
    if not labels:
        raise ValueError(f"`path` {path!r} holds no samples")
    lab = np.asarray(labels)
    u = np.unique(lab)
    if u.size != 2:
        raise ValueError(f"expected two distinct labels in {path!r}; got {u.tolist()}")
    y = np.where(lab == u[0], -1.0, 1.0)
    d = max(cols) + 1 if cols else 1
    Z = sp.csr_array((vals, (rows, cols)), shape=(len(labels), d))
    A, b = _constraints_data(d, as_rng(rng))
    return _logistic_problem(Z, y, A, b, f"libsvm:{path}")


# ============================================================================ PDE control
_PDE_FSTAR = {3: 9.64444205181, 8: 74.0930223283, 16: 301.800365043, 32: 1177.82129923,
              64: 4067.77371213, 128: 9538.72015339}


def poisson_control(N=3):
    """2-D Poisson control on an N x N interior grid.

    ``min 1/2 ||w - w_t||^2 + 0.05 ||z||^2`` subject to ``L_h w + z = 0`` with the 5-point
    Laplacian ``L_h`` (h = 2/(N+1), zero Dirichlet data); x = (vec W, vec Z) column-major,
    n = 2N^2, m = N^2, x0 = lambda0 = ones. The Jacobian ``[L_h, I]`` and the Hessian
    ``blkdiag(I, 0.1 I)`` are sparse and constant; ``f_star`` is known for N in
    {3, 8, 16, 32, 64, 128}.

    Examples
    --------
    >>> import numpy as np
    >>> from numfit.optimize.problems import poisson_control
    >>> p = poisson_control(3)
    >>> round(p.fun(p.x0), 6), round(p.kkt(p.x0, p.lambda0), 4)
    (34.393272, 19.1867)
    """
    N = check_int("N", N, lo=1)
    h = 2.0 / (N + 1)
    T = sp.diags_array([np.ones(N - 1), -2.0 * np.ones(N), np.ones(N - 1)],
                       offsets=[-1, 0, 1], shape=(N, N))
    I_N = sp.identity(N, format="csr")
    L = ((sp.kron(I_N, T) + sp.kron(T, I_N)) / h ** 2).tocsr()
    m = N * N
    n = 2 * m
    G = sp.hstack([L, sp.identity(m)], format="csr")
    i = np.arange(1, N + 1)
    c0 = 0.1 / math.sqrt(15.0)
    wt_grid = (np.sin(4 + c0 * (i - (N + 1) / 2))[:, None]
               + np.cos(3 + c0 * (i - (N + 1) / 2))[None, :])       # (i, j)
    wt = wt_grid.ravel(order="F")                                    # column-major vec
    Hd = np.concatenate([np.ones(m), 0.1 * np.ones(m)])
    H = sp.diags_array(Hd, format="csr")

    def fun(x):
        x = np.asarray(x, dtype=float)
        dw = x[:m] - wt
        return 0.5 * float(dw @ dw) + 0.05 * float(x[m:] @ x[m:])

    def grad(x):
        x = np.asarray(x, dtype=float)
        return np.concatenate([x[:m] - wt, 0.1 * x[m:]])

    def hess(x):
        return H

    def cons(x):
        x = np.asarray(x, dtype=float)
        return L @ x[:m] + x[m:]

    def jac(x):
        return G

    def cons_hess(x, v):
        return sp.csr_array((n, n))

    def hess_lagrangian(x, lam):
        return H

    def hessp_lagrangian(x, lam, v):
        return Hd * np.asarray(v, dtype=float)

    return Problem(f"poisson_control(N={N})", n, m, np.ones(n), fun, grad, hess, cons, jac,
                   cons_hess, lambda0=np.ones(m), f_star=_PDE_FSTAR.get(N),
                   hess_lagrangian=hess_lagrangian, hessp_lagrangian=hessp_lagrangian,
                   data={"L": L, "G": G, "H": H, "w_target": wt, "h": h})


# ============================================================================ semilinear
def semilinear_control(N=8, alpha=0.01, amplitude=3.0):
    """2-D semilinear elliptic control with an H1 control cost on an N x N interior grid.

    ``min 1/2 ||y - y_d||^2 + alpha/2 (||u||^2 + h^2 u^T A u)`` subject to
    ``A y + y^3 - u = 0``, where ``A`` is the 5-point negative Laplacian on the unit square
    (h = 1/(N+1), zero Dirichlet data), ``y^3`` is taken entrywise and
    ``y_d = amplitude * sin(pi s) sin(pi t)``. x = (vec Y, vec U) column-major, n = 2N^2,
    m = N^2, x0 = 0, lambda0 = 0. The Jacobian ``[A + 3 diag(y^2), -I]`` and the Lagrangian
    Hessian ``blkdiag(I + 6 diag(lambda * y), alpha (I + h^2 A))`` are sparse with a fixed
    pattern and change with (x, lambda): the usual distributed-control benchmark of
    PDE-constrained optimization (e.g. Troeltzsch, *Optimal Control of Partial Differential
    Equations*, AMS 2010, ch. 4), here without control bounds.

    Examples
    --------
    >>> from numfit.optimize.problems import semilinear_control
    >>> p = semilinear_control(4)
    >>> p.n, p.m, round(p.fun(p.x0), 6)
    (32, 16, 28.125)
    """
    N = check_int("N", N, lo=1)
    h = 1.0 / (N + 1)
    T = sp.diags_array([-np.ones(N - 1), 2.0 * np.ones(N), -np.ones(N - 1)],
                       offsets=[-1, 0, 1], shape=(N, N))
    I_N = sp.identity(N, format="csr")
    A = ((sp.kron(I_N, T) + sp.kron(T, I_N)) / h ** 2).tocsr()
    m = N * N
    n = 2 * m
    s_ = np.arange(1, N + 1) * h
    yd = (amplitude * np.sin(np.pi * s_)[:, None] * np.sin(np.pi * s_)[None, :]).ravel(
        order="F")
    R = (alpha * (sp.identity(m) + h ** 2 * A)).tocsr()
    I_m = sp.identity(m, format="csr")

    def fun(x):
        x = np.asarray(x, dtype=float)
        y, u = x[:m], x[m:]
        return 0.5 * float((y - yd) @ (y - yd)) + 0.5 * float(u @ (R @ u))

    def grad(x):
        x = np.asarray(x, dtype=float)
        return np.concatenate([x[:m] - yd, R @ x[m:]])

    def hess(x):
        return sp.block_diag([I_m, R], format="csr")

    def cons(x):
        x = np.asarray(x, dtype=float)
        y = x[:m]
        return A @ y + y ** 3 - x[m:]

    def jac(x):
        y = np.asarray(x, dtype=float)[:m]
        return sp.hstack([A + sp.diags_array(3.0 * y ** 2), -I_m], format="csr")

    def cons_hess(x, v):
        y = np.asarray(x, dtype=float)[:m]
        d = np.concatenate([6.0 * np.asarray(v, dtype=float) * y, np.zeros(m)])
        return sp.diags_array(d, format="csr")

    def hess_lagrangian(x, lam):
        y = np.asarray(x, dtype=float)[:m]
        return sp.block_diag([sp.diags_array(1.0 + 6.0 * np.asarray(lam, dtype=float) * y),
                              R], format="csr")

    def hessp_lagrangian(x, lam, v):
        y = np.asarray(x, dtype=float)[:m]
        v = np.asarray(v, dtype=float)
        return np.concatenate([(1.0 + 6.0 * np.asarray(lam, dtype=float) * y) * v[:m],
                               R @ v[m:]])

    return Problem(f"semilinear_control(N={N})", n, m, np.zeros(n), fun, grad, hess, cons,
                   jac, cons_hess, lambda0=np.zeros(m), hess_lagrangian=hess_lagrangian,
                   hessp_lagrangian=hessp_lagrangian,
                   data={"A": A, "R": R, "y_target": yd, "h": h, "alpha": alpha})
