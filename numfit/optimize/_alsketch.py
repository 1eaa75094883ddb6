"""Exact augmented Lagrangian Newton with randomized iterative sketching (AL-sketch).

Hong, Na, Mahoney, Kolar (ICML 2023, arXiv:2305.18379); docs/alsketch.md. The front end
(:func:`minimize_alsketch`, :func:`alsketch`) validates and standardizes the problem; the outer
loop solves each Newton-KKT system ``K z = -grad L`` inexactly with the inner solver chosen
by ``inner`` (sketch-and-project with :class:`numfit.linalg._sketch.SketchRunner`, a sparse
LU of the explicit K, preconditioned MINRES, or CG in the null space of the constraint
Jacobian), tests the descent of the exact augmented Lagrangian merit, raises the penalties
when needed, and backtracks on the merit. Where the Jacobian loses rank (a test relative to
``||G||_2^2``) practical mode takes a regularized least-squares step instead of stopping.
"""
import enum
import functools
import inspect
import math
import warnings

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from scipy.optimize import (
    HessianUpdateStrategy,
    LinearConstraint,
    NonlinearConstraint,
    OptimizeResult,
    OptimizeWarning,
)
from scipy.sparse.linalg import (
    ArpackError,
    ArpackNoConvergence,
    LinearOperator,
    eigsh,
    minres,
    splu,
)

from .._lanczos import ritz_values
from .._validation import as_rng, check_float, check_int, check_option
from ..linalg._sketch import BLOCK_TYPES, SKETCHES, SketchRunner, default_block_size
from ._merit import merit_directional, merit_gradient, merit_value

__all__ = ["ALSketchStatus", "FiniteDifferenceHessianWarning", "alsketch", "minimize_alsketch"]


class ALSketchStatus(enum.IntEnum):
    """Exit statuses of :func:`minimize_alsketch` (success means ``CONVERGED``)."""
    CONVERGED = 0
    MAX_ITER = 1
    SINGULAR_JACOBIAN = 2
    PENALTY_SATURATED = 3
    LINE_SEARCH_FAILED = 4
    INNER_MAXITER = 5
    CALLBACK_STOP = 6
    NONFINITE = 7


class FiniteDifferenceHessianWarning(UserWarning):
    """Issued when Hessian-vector products are approximated by finite differences."""


_MESSAGES = {
    0: "converged: KKT residual <= tol",
    1: "maximum iterations reached",
    2: "LICQ fails: lambda_min(G G^T) = {licq:.3g} < {licq_tol:.3g}{licq_more}",
    3: "penalties saturated, no descent direction",
    4: "line search failed: step below alpha_min",
    5: "the sketch solver hit max_inner (or max_sketch_total)",
    6: "callback requested termination",
    7: "non-finite value at iteration {k}",
}

_EQ_ONLY = "equality constraints only; use trust-constr or slack variables"

_THEORY = {"eta1": 1.0, "eta2": 0.1, "nu": 1.5, "beta": 0.1, "backtrack": 0.5,
           "alpha_min": 1e-10, "max_backtrack": 40, "xi_B": 0.1, "reduced_hess_tol": 1e-6,
           "licq_tol": 1e-2, "delta0": 0.1, "delta_min": 1e-6, "kappa": 0.1,
           "kappa_min": 1e-10, "theta": 1.0, "eta1_max": 1e8, "eta2_min": 1e-8,
           "max_inner": 100_000, "check_every": 1, "inner_fallback": None,
           "max_sketch_total": math.inf, "return_history": False, "shift": "paper",
           "curvature_check": "auto", "kkt_norm": "2", "block_size": None,
           "lanczos_steps": 0, "licq_rtol": None, "rank_deficient": "stop",
           "max_rank_deficient": 20, "minres_precond": "block", "nystrom_rank": 20}
_PRACTICAL = dict(_THEORY, licq_tol=None, check_every=None, inner_fallback="auto",
                  lanczos_steps=20, licq_rtol=1e-12, rank_deficient="step")
INNER_SOLVERS = ("auto", "sketch", "direct", "minres", "cg")
"""Values of ``inner`` in :func:`minimize_alsketch` (see docs/alsketch.md, Inner solvers)."""


# ============================================================================ helpers
def _is_explicit(M):
    return isinstance(M, np.ndarray) or sp.issparse(M)


def _fro(M):
    if sp.issparse(M):
        return float(sp.linalg.norm(M, "fro"))
    return float(np.linalg.norm(M))


class _Con:
    """One standardized equality constraint block: c(x) = fun(x) - value."""

    def __init__(self, idx, fun, jac, hess, m, linear=False, A=None):
        self.idx, self.fun, self.hess, self.m = idx, fun, hess, m
        self._jac = jac
        self.linear, self.A = linear, A

    def jac(self, x):
        J = self._jac(x)
        if sp.issparse(J):
            return sp.csr_array(J, dtype=float)
        if isinstance(J, LinearOperator):
            return J
        return np.atleast_2d(np.asarray(J, dtype=float))


def _eq_bounds(lb, ub, idx, m):
    lb = np.broadcast_to(np.asarray(lb, dtype=float), (m,))
    ub = np.broadcast_to(np.asarray(ub, dtype=float), (m,))
    if not (np.all(np.isfinite(lb)) and np.all(np.isfinite(ub)) and np.array_equal(lb, ub)):
        raise ValueError(f"`constraints[{idx}]` has lb != ub or infinite bounds: {_EQ_ONLY}")
    return lb.copy()


def _parse_constraints(constraints, x0, args):
    if constraints is None:
        constraints = ()
    if isinstance(constraints, (dict, NonlinearConstraint, LinearConstraint)):
        constraints = [constraints]
    out = []
    warn_fd = []
    for idx, con in enumerate(constraints):
        if isinstance(con, LinearConstraint):
            A = con.A
            A = sp.csr_array(A, dtype=float) if sp.issparse(A) else \
                np.atleast_2d(np.asarray(A, dtype=float))
            if A.ndim != 2 or A.shape[1] != x0.size:
                raise ValueError(f"`constraints[{idx}]`: LinearConstraint.A must have "
                                 f"{x0.size} columns; got shape {A.shape}")
            m = A.shape[0]
            val = _eq_bounds(con.lb, con.ub, idx, m)
            out.append(_Con(idx, (lambda x, A=A, v=val: A @ x - v), (lambda x, A=A: A), None,
                            m, linear=True, A=A))
            continue
        if isinstance(con, NonlinearConstraint):
            f0 = _con_values(idx, con.fun(x0))
            m = f0.size
            val = _eq_bounds(con.lb, con.ub, idx, m)
            fun = (lambda x, g=con.fun, v=val: np.atleast_1d(np.asarray(g(x), dtype=float))
                   - v)
            jac = con.jac
            hess = con.hess
        elif isinstance(con, dict):
            typ = con.get("type")
            if typ != "eq":
                if typ == "ineq":
                    raise ValueError(f"`constraints[{idx}]` has type 'ineq': {_EQ_ONLY}")
                raise ValueError(f"`constraints[{idx}]` must have type 'eq'; got {typ!r}")
            if "fun" not in con or not callable(con["fun"]):
                raise ValueError(f"`constraints[{idx}]` needs a callable 'fun'")
            cargs = con.get("args", ())
            if not isinstance(cargs, tuple):
                cargs = (cargs,)
            fun = (lambda x, g=con["fun"], a=cargs:
                   np.atleast_1d(np.asarray(g(x, *a), dtype=float)))
            f0 = _con_values(idx, con["fun"](x0, *cargs))
            m = f0.size
            jac = con.get("jac")
            if callable(jac):
                jac = (lambda x, j=jac, a=cargs: j(x, *a))
            hess = con.get("hess")
        else:
            raise TypeError(f"`constraints[{idx}]` must be a NonlinearConstraint, a "
                            f"LinearConstraint or a dict; got {type(con).__name__}")
        if not callable(jac):
            if jac is not None and jac not in ("2-point", "3-point", "cs"):
                raise ValueError(f"`constraints[{idx}]`: jac must be callable or '2-point'; "
                                 f"got {jac!r}")
            warn_fd.append(f"constraints[{idx}] Jacobian")
            jac = (lambda x, g=fun: _fd_jac(g, x))
        if not callable(hess) or isinstance(hess, HessianUpdateStrategy):
            warn_fd.append(f"constraints[{idx}] Hessian")
            hess = None
        else:
            _check_callable_as(f"`constraints[{idx}]` hess", hess, "hess(x, v)", 2)
        out.append(_Con(idx, fun, jac, hess, m))
    return out, warn_fd


def _fd_jac(fun, x):
    f0 = fun(x)
    J = np.empty((f0.size, x.size))
    for j in range(x.size):
        h = math.sqrt(np.finfo(float).eps) * max(1.0, abs(x[j]))
        xp = x.copy()
        xp[j] += h
        J[:, j] = (fun(xp) - f0) / h
    return J


class _Problem:
    """Standardized problem with evaluation counters."""

    def __init__(self, fun, x0, args, jac, hess, hessp, cons, hess_l, hessp_l):
        self.args = args
        self.n = x0.size
        self.cons = cons
        self.m = sum(c.m for c in cons)
        self.nfev = self.njev = self.ncev = self.ncjev = self.nhev = self.nhvp = 0
        self._fun = fun
        self._jac = jac
        self._cache = None
        self.hess, self.hessp = hess, hessp
        self.hess_l, self.hessp_l = hess_l, hessp_l
        self.fd = False
        self._first = None          # (key of (x0, lambda0), {slot: Hessian checked there})

    # --- objective
    def f(self, x, where="x"):
        self.nfev += 1
        if self._jac is True:
            key = x.tobytes()
            out = self._fun(x, *self.args)
            if not (isinstance(out, (tuple, list)) and len(out) == 2):
                raise ValueError(f"with jac=True, `fun({where})` must return (f, grad); got "
                                 f"{_describe(out)}")
            f, g = out
            self._cache = (key, np.asarray(g, dtype=float).ravel())
            return f
        return self._fun(x, *self.args)

    def g(self, x):
        self.njev += 1
        if self._jac is True:
            key = x.tobytes()
            if self._cache is not None and self._cache[0] == key:
                return self._cache[1]
            self.nfev += 1
            _, g = self._fun(x, *self.args)
            return np.asarray(g, dtype=float).ravel()
        if callable(self._jac):
            return np.asarray(self._jac(x, *self.args), dtype=float).ravel()
        return _fd_grad(lambda y: self._fun(y, *self.args), x)

    # --- constraints
    def c(self, x):
        self.ncev += 1
        return np.concatenate([con.fun(x) for con in self.cons])

    def G(self, x):
        self.ncjev += 1
        blocks = [con.jac(x) for con in self.cons]
        if any(sp.issparse(b) for b in blocks):
            return sp.vstack([sp.csr_array(b) for b in blocks], format="csr").astype(float)
        if len(blocks) == 1:
            return np.atleast_2d(np.asarray(blocks[0], dtype=float))
        return np.vstack([np.atleast_2d(np.asarray(b, dtype=float)) for b in blocks])

    # --- Hessian of the Lagrangian
    def _hess_parts(self, x, lam, first, at_x0):
        """The Hessians given as matrices at (x, lam), each checked for its (n, n) shape:
        {"hess_l": ...} or {"hess": ..., ("con", idx): ...}; ``first`` holds values already
        computed there (reused, not recomputed)."""
        vals = {}
        n = self.n
        if self.hess_l is not None:
            if "hess_l" in first:
                vals["hess_l"] = first["hess_l"]
            else:
                self.nhev += 1
                vals["hess_l"] = _check_hess_value(
                    "`hess_lagrangian(x0, lambda0)`" if at_x0 else "`hess_lagrangian(x, lam)`",
                    self.hess_l(x, lam), n, finite=at_x0)
            return vals
        if self.hessp_l is not None:
            return vals
        if callable(self.hess):
            if "hess" in first:
                vals["hess"] = first["hess"]
            else:
                self.nhev += 1
                vals["hess"] = _check_hess_value("`hess(x0)`" if at_x0 else "`hess(x)`",
                                                 self.hess(x, *self.args), n, finite=at_x0)
        off = 0
        for con in self.cons:
            sl = slice(off, off + con.m)
            off += con.m
            if con.linear or con.hess is None:
                continue
            slot = ("con", con.idx)
            if slot in first:
                vals[slot] = first[slot]
            else:
                vals[slot] = _check_hess_value(
                    f"`constraints[{con.idx}]` hess({'x0' if at_x0 else 'x'}, v)",
                    con.hess(x, lam[sl]), n, finite=at_x0)
        return vals

    def check_at_x0(self, x, lam):
        """Evaluate and check every Hessian given as a matrix at (x0, lambda0) up front; the
        first :meth:`hessian` call at that point reuses the values (no second call)."""
        vals = self._hess_parts(x, lam, {}, True)
        self._first = ((x.tobytes(), lam.tobytes()), vals)

    def _hessp(self, label, fn, *head):
        n = self.n

        def mv(v):
            return _check_product(label, fn(*head, v), n)
        return mv

    def hessian(self, x, lam, gxl_fn):
        """(explicit matrix or None, matvec) for H = Hess_x L(x, lam)."""
        first = {}
        if self._first is not None:
            if self._first[0] == (x.tobytes(), lam.tobytes()):
                first = self._first[1]
            self._first = None
        vals = self._hess_parts(x, lam, first, False)
        if self.hess_l is not None:
            return self._wrap(vals["hess_l"])
        if self.hessp_l is not None:
            return None, self._hessp("`hessp_lagrangian(x, lam, v)`", self.hessp_l, x, lam)
        parts_mat, parts_vec = [], []
        if callable(self.hess):
            Hf = vals["hess"]
            if _is_explicit(Hf):
                parts_mat.append(Hf)
            else:
                parts_vec.append(Hf.matvec)
        elif self.hessp is not None:
            parts_vec.append(self._hessp("`hessp(x, p)`",
                                         lambda x_, v: self.hessp(x_, v, *self.args), x))
        else:
            parts_vec.append(None)           # finite differences of grad f
        off = 0
        fd_cons = []
        for con in self.cons:
            sl = slice(off, off + con.m)
            off += con.m
            if con.linear:
                continue
            if con.hess is not None:
                Hc = vals[("con", con.idx)]
                if _is_explicit(Hc):
                    parts_mat.append(Hc)
                else:
                    parts_vec.append(Hc.matvec)
            else:
                fd_cons.append((con, sl))
        need_fd_f = None in parts_vec
        parts_vec = [p for p in parts_vec if p is not None]
        if not need_fd_f and not fd_cons and not parts_vec:
            M = parts_mat[0] if parts_mat else np.zeros((self.n, self.n))
            for P in parts_mat[1:]:
                M = M + P
            return self._wrap(M)
        # a product form, with finite differences where needed
        xnorm = float(np.linalg.norm(x))
        g0 = self.g(x) if need_fd_f else None
        jt0 = [con.jac(x).T @ lam[sl] for con, sl in fd_cons]

        def mv(v):
            v = np.asarray(v, dtype=float).ravel()
            out = np.zeros(self.n)
            for P in parts_mat:
                out += P @ v
            for p in parts_vec:
                out += p(v)
            if need_fd_f or fd_cons:
                vn = float(np.linalg.norm(v))
                if vn == 0:
                    return out
                eps = math.sqrt(np.finfo(float).eps) * (1.0 + xnorm) / vn
                xe = x + eps * v
                if need_fd_f:
                    out += (self.g(xe) - g0) / eps
                for (con, sl), j0 in zip(fd_cons, jt0):
                    self.ncjev += 1
                    out += (con.jac(xe).T @ lam[sl] - j0) / eps
            return out
        return None, mv

    def _wrap(self, H):
        if isinstance(H, LinearOperator):
            return None, H.matvec
        if sp.issparse(H):
            H = sp.csr_array(H, dtype=float)
        else:
            H = np.asarray(H, dtype=float)
        return H, (lambda v: H @ v)


def _fd_grad(f, x):
    g = np.empty_like(x)
    f0 = f(x)
    for j in range(x.size):
        h = math.sqrt(np.finfo(float).eps) * max(1.0, abs(x[j]))
        xp = x.copy()
        xp[j] += h
        g[j] = (f(xp) - f0) / h
    return g


def _hutchinson_fro(mv, n, rng, probes=20):
    """Hutchinson estimate of ||H||_F: mean of |H v|^2 over Rademacher v."""
    s = 0.0
    for _ in range(probes):
        v = rng.integers(0, 2, size=n) * 2.0 - 1.0
        hv = mv(v)
        s += float(hv @ hv)
    return math.sqrt(s / probes)


def _ggt_extremes(G):
    """(lambda_min, lambda_max, gram) of G G^T; ``gram`` solves G G^T y = r (None when G G^T
    is numerically singular). Dense eigenvalues for m <= 1000; else a sparse LU of G G^T,
    shift-invert Lanczos for lambda_min and a loose Lanczos run for lambda_max."""
    m = G.shape[0]
    GGt = G @ G.T
    if m <= 1000:
        GGt = GGt.toarray() if sp.issparse(GGt) else np.asarray(GGt)
        ev = np.linalg.eigvalsh(GGt)
        gram = None
        if ev[0] > 0:
            try:
                cf = sla.cho_factor(GGt)
                gram = (lambda r, cf=cf: sla.cho_solve(cf, r))
            except np.linalg.LinAlgError:
                gram = None
        return float(ev[0]), float(ev[-1]), gram
    GGt = sp.csc_array(GGt)
    try:
        lmax = float(eigsh(GGt, k=1, which="LA", tol=1e-3, v0=np.ones(m),
                           return_eigenvectors=False)[0])
    except (RuntimeError, ValueError, ArpackError):
        lmax = float(abs(GGt).sum(axis=1).max())     # Gershgorin bound
    try:
        lu = splu(GGt)
        inv = LinearOperator((m, m), matvec=lu.solve, dtype=float)
        val = eigsh(GGt, k=1, sigma=0, which="LM", OPinv=inv, return_eigenvectors=False,
                    v0=np.ones(m), tol=1e-6)
        return float(val[0]), lmax, lu.solve
    except (RuntimeError, ValueError, ArpackError, np.linalg.LinAlgError):
        return 0.0, lmax, None                 # a failed factorization counts as xi_G = 0


class _Licq:
    """The LICQ data of G (both extreme eigenvalues of G G^T and a solver with it), recomputed
    only when G changes (a constant Jacobian is analysed once per run)."""

    def __init__(self):
        self._key = None
        self.val = None
        self.n_eval = 0

    @staticmethod
    def _key_of(G):
        if sp.issparse(G):
            Gc = sp.csr_array(G)
            return ("s", Gc.shape, Gc.indptr.copy(), Gc.indices.copy(), Gc.data.copy())
        return ("d", G.shape, np.array(G, dtype=float, copy=True))

    def _same(self, G):
        k = self._key
        if k is None or k[1] != G.shape or (k[0] == "s") != bool(sp.issparse(G)):
            return False
        if k[0] == "s":
            Gc = sp.csr_array(G)
            return (np.array_equal(k[2], Gc.indptr) and np.array_equal(k[3], Gc.indices)
                    and np.array_equal(k[4], Gc.data))
        return np.array_equal(k[2], G)

    def __call__(self, G):
        if not self._same(G):
            self.val = _ggt_extremes(G)
            self._key = self._key_of(G)
            self.n_eval += 1
        return self.val


def _diag_dominant_pd(H):
    if sp.issparse(H):
        H = sp.csr_array(H)
        d = H.diagonal()
        off = np.asarray(abs(H).sum(axis=1)).ravel() - np.abs(d)
    else:
        d = np.diag(H)
        off = np.abs(H).sum(axis=1) - np.abs(d)
    return bool(np.all(d > 0) and np.all(d > off))


def _delta_trial(eta1, eta2, *, beta, c):
    """The theory mode's inner-accuracy bound for penalties (eta1, eta2):
    ``(1/2 - beta) eta2 / ((1 + eta1 + eta2) c)`` with ``c = Upsilon^2 Psi^2``."""
    return (0.5 - beta) * eta2 / ((1 + eta1 + eta2) * c)


def _penalty_step(q, capped, bnorm, eta1, eta2, delta, kappa, nu, theory, o, dtrial):
    """The penalty test after an inner solve (Hong et al., ICML 2023, Alg. 1): stop when the
    direction is a sufficient descent direction of the merit (``q <= -eta2 ||b||^2 / 2``) or
    the penalties are saturated; otherwise raise them (``eta1 *= nu^2``, ``eta2 /= nu``) and
    tighten the inner accuracy (``delta`` in theory mode, ``kappa`` in practical mode).

    Returns ``(stop, status or None, eta1, eta2, delta, kappa)``.
    """
    if eta1 > o["eta1_max"] or eta2 < o["eta2_min"]:
        status = None
        if not q < 0:
            status = (ALSketchStatus.INNER_MAXITER if capped
                      else ALSketchStatus.PENALTY_SATURATED)
        return True, status, eta1, eta2, delta, kappa
    if q <= -0.5 * eta2 * bnorm ** 2:
        return True, None, eta1, eta2, delta, kappa
    eta1 *= nu ** 2
    eta2 /= nu
    if theory:
        delta = max(min(delta / nu ** 4, dtrial(eta1, eta2)), o["delta_min"])
    else:
        kappa = max(kappa / nu ** 4, o["kappa_min"])
    return False, None, eta1, eta2, delta, kappa


def _lanczos_min(op, n, steps):
    """Smallest Ritz value of ``steps`` Lanczos steps (full reorthogonalization) from
    ones(n): an upper bound on lambda_min that is usually close for the extreme end."""
    return float(ritz_values(op, np.ones(n), steps)[0])


def _reduced_hess_min(Hmat, mv, G, n, m, mode, lanczos_steps=0, gram=None):
    """lambda_min(Z^T H Z) by QR (explicit H, n <= 1000) or Lanczos on P H P + s (I - P):
    ARPACK ``eigsh(which="SA")`` or, with ``lanczos_steps``, a fixed-budget Lanczos
    (``gram`` solves G G^T y = r when already factorized)."""
    if mode in ("auto", "qr") and Hmat is not None and (n <= 1000 or mode == "qr"):
        Gd = G.toarray() if sp.issparse(G) else np.asarray(G)
        Q, _ = np.linalg.qr(Gd.T, mode="complete")
        Z = Q[:, m:]
        Hd = Hmat.toarray() if sp.issparse(Hmat) else np.asarray(Hmat)
        return float(np.linalg.eigvalsh(Z.T @ Hd @ Z)[0]), 0
    # projector P = I - G^T (G G^T)^{-1} G
    if gram is not None:
        solve = gram
    elif sp.issparse(G):
        lu = splu(sp.csc_array(G @ G.T))
        solve = lu.solve
    else:
        cf = sla.cho_factor(G @ G.T)

        def solve(y):
            return sla.cho_solve(cf, y)
    hfro = None
    nprod = [0]

    def proj(v):
        return v - G.T @ solve(G @ v)

    probe = np.random.default_rng(12345)
    hfro = _hutchinson_fro(mv, n, probe, probes=5)
    sigma = 1.0 + hfro

    def op(v):
        v = np.asarray(v).ravel()
        pv = proj(v)
        nprod[0] += 1
        return proj(mv(pv)) + sigma * (v - pv)
    if lanczos_steps:
        return _lanczos_min(op, n, lanczos_steps), nprod[0]
    L = LinearOperator((n, n), matvec=op, dtype=float)
    try:
        val = eigsh(L, k=1, which="SA", tol=1e-2, v0=np.ones(n), maxiter=max(100, 10 * n),
                    return_eigenvectors=False)
        return float(val[0]), nprod[0]
    except ArpackNoConvergence as exc:     # use the best estimate if any
        ev = exc.eigenvalues
        if ev is not None and len(ev):
            return float(np.min(ev)), nprod[0]
        return -math.inf, nprod[0]
    except (RuntimeError, ValueError, ArpackError):
        return -math.inf, nprod[0]


# ============================================================================ options
def _check_options(options, accuracy):
    base = dict(_THEORY if accuracy == "theory" else _PRACTICAL)
    opts = dict(options or {})
    for key in list(opts):
        if key == "tol" or key == "maxiter" or key == "disp":
            opts.pop(key)
            continue
        if key not in base:
            warnings.warn(f"unknown option {key!r} ignored by minimize_alsketch",
                          OptimizeWarning, stacklevel=4)
            opts.pop(key)
    base.update(opts)
    o = base
    o["eta1"] = check_float("eta1", o["eta1"], lo=0.0, lo_open=True)
    o["eta2"] = check_float("eta2", o["eta2"], lo=0.0, lo_open=True)
    o["nu"] = check_float("nu", o["nu"], lo=1.0, lo_open=True)
    o["beta"] = check_float("beta", o["beta"], lo=0.0, hi=0.5, lo_open=True, hi_open=True)
    o["backtrack"] = check_float("backtrack", o["backtrack"], lo=0.0, hi=1.0, lo_open=True,
                                 hi_open=True)
    o["alpha_min"] = check_float("alpha_min", o["alpha_min"], lo=0.0, lo_open=True)
    o["max_backtrack"] = check_int("max_backtrack", o["max_backtrack"], lo=1)
    o["xi_B"] = check_float("xi_B", o["xi_B"], lo=0.0, lo_open=True)
    o["reduced_hess_tol"] = check_float("reduced_hess_tol", o["reduced_hess_tol"])
    if o["licq_tol"] is not None:
        o["licq_tol"] = check_float("licq_tol", o["licq_tol"], lo=0.0)
    o["delta0"] = check_float("delta0", o["delta0"], lo=0.0, lo_open=True)
    o["delta_min"] = check_float("delta_min", o["delta_min"], lo=0.0, lo_open=True)
    o["kappa"] = check_float("kappa", o["kappa"], lo=0.0, lo_open=True)
    o["kappa_min"] = check_float("kappa_min", o["kappa_min"], lo=0.0, lo_open=True)
    o["eta1_max"] = check_float("eta1_max", o["eta1_max"], lo=0.0, lo_open=True)
    o["eta2_min"] = check_float("eta2_min", o["eta2_min"], lo=0.0)
    o["max_inner"] = check_int("max_inner", int(o["max_inner"])
                               if isinstance(o["max_inner"], float)
                               and o["max_inner"].is_integer() else o["max_inner"], lo=1)
    if o["check_every"] is not None:
        o["check_every"] = check_int("check_every", o["check_every"], lo=1)
    o["inner_fallback"] = check_option("inner_fallback", o["inner_fallback"],
                                       (None, "direct", "minres", "auto"))
    o["max_sketch_total"] = check_float("max_sketch_total", o["max_sketch_total"], lo=0.0,
                                        finite=False)
    o["shift"] = check_option("shift", o["shift"], ("paper", "minimal"))
    o["curvature_check"] = check_option("curvature_check", o["curvature_check"],
                                        ("auto", "qr", "eigsh", "none"))
    o["kkt_norm"] = check_option("kkt_norm", str(o["kkt_norm"]), ("2", "inf"))
    o["return_history"] = bool(o["return_history"])
    th = o["theta"]
    if not callable(th):
        o["theta"] = check_float("theta", th, lo=0.0, hi=1.0, lo_open=True)
    if o["block_size"] is not None:
        o["block_size"] = check_int("block_size", o["block_size"], lo=1)
    o["lanczos_steps"] = check_int("lanczos_steps", o["lanczos_steps"], lo=0)
    if o["licq_rtol"] is not None:
        o["licq_rtol"] = check_float("licq_rtol", o["licq_rtol"], lo=0.0, hi=1.0)
    o["rank_deficient"] = check_option("rank_deficient", o["rank_deficient"], ("step", "stop"))
    o["max_rank_deficient"] = check_int("max_rank_deficient", o["max_rank_deficient"], lo=0)
    o["minres_precond"] = check_option("minres_precond", o["minres_precond"],
                                       ("block", "nystrom", "none"))
    o["nystrom_rank"] = check_int("nystrom_rank", o["nystrom_rank"], lo=1)
    return o


def _theta(o, k, kkt):
    th = o["theta"]
    if not callable(th):
        return th
    v = th(k, kkt)
    v = check_float("theta(k, kkt)", v, lo=0.0, hi=1.0, lo_open=True)
    return v


def _wrap_callback(callback):
    if callback is None:
        return None
    if not callable(callback):
        raise TypeError(f"`callback` must be callable or None; got {type(callback).__name__}")
    try:
        params = list(inspect.signature(callback).parameters)
    except (TypeError, ValueError):
        params = []
    if params == ["intermediate_result"]:
        return callback
    return lambda res: callback(np.copy(res.x))


# ============================================================================ validation
def _as_x0(x0):
    arr = np.asarray(x0)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                   or arr.dtype == np.bool_) or np.iscomplexobj(arr):
        raise ValueError(f"`x0` must be a real 1-D array; got dtype {arr.dtype}")
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"`x0` must be 1-D; got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"`x0` must not be empty; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`x0` must be finite; got non-finite entries (shape {arr.shape})")
    return arr.astype(np.float64).copy()


def _describe(v):
    """A short description of a returned value for error messages."""
    if isinstance(v, LinearOperator):
        return f"a LinearOperator of shape {v.shape}"
    if sp.issparse(v):
        return f"a sparse matrix of shape {v.shape}"
    if isinstance(v, np.ndarray):
        return f"an array of shape {v.shape} and dtype {v.dtype}"
    return type(v).__name__


def _numeric(v):
    """``v`` as an ndarray of real numbers, or None (strings, None, objects, complex)."""
    if v is None or isinstance(v, (str, bytes)):
        return None
    arr = np.asarray(v)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                   or arr.dtype == np.bool_) or np.iscomplexobj(arr):
        return None
    return arr


def _check_callable_as(label, fn, form, nargs):
    """TypeError unless ``fn`` accepts ``nargs`` positional arguments (when its signature
    can be inspected)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return
    try:
        sig.bind(*range(nargs))
    except TypeError:
        raise TypeError(f"{label} must be callable as {form}; its signature is "
                        f"{sig}") from None


def _check_hess_value(label, H, n, finite=False):
    """``H`` if it is a real (n, n) array, sparse matrix or LinearOperator, else ValueError
    naming ``label`` (with ``finite``, an explicit H must also be finite)."""
    what = f"{label} must return a ({n}, {n}) array, sparse matrix or LinearOperator"
    if isinstance(H, LinearOperator) or sp.issparse(H):
        if H.shape != (n, n):
            raise ValueError(f"{what}; got {_describe(H)}")
        if H.dtype is not None and np.issubdtype(H.dtype, np.complexfloating):
            raise ValueError(f"{label} must be real; got dtype {H.dtype}")
        if finite and sp.issparse(H) and not np.all(np.isfinite(sp.csr_array(H).data)):
            raise ValueError(f"{label} must be finite")
        return H
    arr = _numeric(H)
    if arr is None:
        if H is not None and not isinstance(H, (str, bytes)) \
                and np.iscomplexobj(np.asarray(H)):
            raise ValueError(f"{label} must be real; got dtype {np.asarray(H).dtype}")
        raise ValueError(f"{what}; got {_describe(H)}")
    if arr.shape != (n, n):
        raise ValueError(f"{what}; got an array of shape {arr.shape}")
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{label} must be finite")
    return H


def _check_product(label, hv, n):
    """A Hessian-vector product as a float vector of n entries, or ValueError."""
    arr = _numeric(hv)
    if arr is None or arr.size != n:
        got = _describe(hv) if arr is None else f"shape {arr.shape}"
        raise ValueError(f"{label} must return a vector of {n} entries; got {got}")
    return arr.astype(float).ravel()


def _con_values(idx, raw):
    """A constraint's value at x0 as a float vector (m,), or ValueError naming it."""
    arr = _numeric(raw)
    if arr is None:
        raise ValueError(f"`constraints[{idx}]` fun must return a real array of shape (m,); "
                         f"got {_describe(raw)}")
    arr = np.atleast_1d(arr.astype(float))
    if arr.ndim != 1:
        raise ValueError(f"`constraints[{idx}]` fun must return shape (m,); got {arr.shape}")
    return arr


def _check_jac_value(idx, J, m, n):
    """A constraint Jacobian at x0: a real (m, n) array or sparse matrix."""
    what = f"`constraints[{idx}]` Jacobian must be a ({m}, {n}) array or sparse matrix"
    if isinstance(J, LinearOperator):
        raise ValueError(f"{what}; got {_describe(J)} (the KKT matrix needs G explicitly)")
    if sp.issparse(J):
        if J.shape != (m, n):
            raise ValueError(f"{what}; got {_describe(J)}")
        return
    arr = _numeric(J)
    if arr is None:
        raise ValueError(f"{what}; got {_describe(J)}")
    arr = np.atleast_2d(arr)
    if arr.shape != (m, n):
        raise ValueError(f"{what}; got an array of shape {arr.shape}")


def _fun_value_at_x0(f):
    """``fun(x0)`` as a finite float, or ValueError."""
    arr = None if isinstance(f, (bool, np.bool_)) else _numeric(f)
    if arr is None:
        got = f"complex {f!r}" if f is not None and not isinstance(f, (str, bytes)) \
            and np.iscomplexobj(np.asarray(f)) else _describe(f)
        raise ValueError(f"`fun(x0)` must return a finite scalar; got {got}")
    if arr.size != 1:
        raise ValueError(f"`fun(x0)` must return a scalar; got shape {arr.shape}")
    f = float(arr.reshape(()))
    if not math.isfinite(f):
        raise ValueError(f"`fun(x0)` must return a finite scalar; got {f}")
    return f


# ============================================================================ KKT operator
class _KKT:
    """K = [[H + t I, G^T], [G, 0]]: an explicit sparse matrix (built on first use) or a
    LinearOperator; :meth:`dense` gives the small dense K without sparse assembly."""

    def __init__(self, Hmat, hmv, G, t, prob):
        n, m = G.shape[1], G.shape[0]
        self.n, self.m = n, m
        self.t = t
        self.prob = prob
        self.explicit = Hmat is not None
        self._Hmat, self._G = Hmat, G
        self._K = self._B = None
        # dense H and G of a small problem: the direct solver factorizes a dense K
        self.small_dense = (self.explicit and isinstance(Hmat, np.ndarray)
                            and isinstance(G, np.ndarray) and n + m <= 1000)
        if not self.explicit:

            def mv(v):
                v = np.asarray(v, dtype=float).ravel()
                vx, vl = v[:n], v[n:]
                prob.nhvp += 1
                return np.concatenate([hmv(vx) + t * vx + G.T @ vl, G @ vx])
            self._K = LinearOperator((n + m, n + m), matvec=mv, rmatvec=mv, dtype=float)
        self._lu = None

    @property
    def B(self):
        """H + t I (explicit H only, else None)."""
        if self._B is None and self.explicit:
            n, t = self.n, self.t
            self._B = sp.csr_array(self._Hmat) + t * sp.identity(n, format="csr") if t != 0 \
                else sp.csr_array(self._Hmat)
        return self._B

    @property
    def K(self):
        if self._K is None:
            Gs = sp.csr_array(self._G)
            self._K = sp.bmat([[self.B, Gs.T], [Gs, None]], format="csr")
        return self._K

    def dense(self):
        """K as a dense array (small dense H and G)."""
        n, m = self.n, self.m
        K = np.zeros((n + m, n + m))
        K[:n, :n] = self._Hmat
        if self.t != 0:
            K[np.arange(n), np.arange(n)] += self.t
        K[:n, n:] = self._G.T
        K[n:, :n] = self._G
        return K

    def assemble(self):
        if self.explicit:
            return self.K
        N = self.n + self.m
        cols = [self.K.matvec(e) for e in np.eye(N)]
        return sp.csr_array(np.column_stack(cols))

    def direct(self, b):
        if self._lu is None:
            K = self.K if self.explicit else self.assemble()
            if K.shape[0] <= 3000 and K.nnz > 0.2 * K.shape[0] ** 2:
                self._lu = ("dense", sla.lu_factor(K.toarray()))
            else:
                self._lu = ("sparse", splu(sp.csc_array(K)))
        kind, f = self._lu
        return sla.lu_solve(f, b) if kind == "dense" else f.solve(b)


# ============================================================================ inner solvers
class _DirectInner:
    """Sparse (or, small and dense, dense) LU of the explicit KKT matrix, kept for the run:
    a K equal to the last one (constant Hessian, Jacobian and shift, as in a QP or a linear
    PDE constraint) reuses its factors. A K whose values changed is factorized afresh with
    SuperLU's own COLAMD ordering: reusing the first ordering with the natural order of the
    permuted matrix was measured 17-250x slower (semilinear_control, N = 32 and 64), as
    SuperLU's row pivoting of the KKT matrix (zero (2,2) block) differs from one
    factorization to the next."""

    def __init__(self):
        self._K = None
        self._lu = None
        self.n_factor = 0
        self.n_reuse = 0

    def factor(self, K):
        if isinstance(K, np.ndarray):
            old = self._K
            if isinstance(old, np.ndarray) and old.shape == K.shape and np.array_equal(old, K):
                self.n_reuse += 1
                return
            self.n_factor += 1
            self._K = K
            self._lu = ("dense", sla.lu_factor(K, check_finite=False))
            return
        K = sp.csr_array(K)
        K.sum_duplicates()
        K.sort_indices()
        old = self._K
        if sp.issparse(old) and old.shape == K.shape and np.array_equal(old.indptr, K.indptr) \
                and np.array_equal(old.indices, K.indices) and np.array_equal(old.data, K.data):
            self.n_reuse += 1
            return
        N = K.shape[0]
        self.n_factor += 1
        self._K = K
        if N <= 3000 and K.nnz > 0.2 * N * N:
            self._lu = ("dense", sla.lu_factor(K.toarray(), check_finite=False))
            return
        self._lu = ("sparse", splu(sp.csc_array(K)))

    def invalidate(self):
        """Forget the factors (they belong to a singular K)."""
        self._K = self._lu = None

    def solve(self, b):
        kind, f = self._lu
        if kind == "dense":
            return sla.lu_solve(f, b, check_finite=False)
        return f.solve(b)


def _minres_kkt(Kop, b, z0, target, maxiter, precond=None):
    """MINRES on K z = b from z0 until the true residual ``||K z - b|| <= target`` (SciPy's
    stopping test is relative to a preconditioned norm: it is verified and tightened).
    Returns (z, residual, iterations)."""
    bn = float(np.linalg.norm(b))
    rt = min(0.5, target / bn) if bn > 0 else 1e-12
    zz = z0
    its = [0]

    def count(_xk):
        its[0] += 1
    r = math.inf
    for _ in range(4):
        zz, _info = minres(Kop, b, x0=zz, rtol=rt, maxiter=maxiter, M=precond, callback=count)
        r = float(np.linalg.norm(Kop @ zz - b))
        if r <= target:
            break
        rt *= 0.1
    return zz, r, its[0]


class _ProjectedCG:
    """Krylov solve of the Newton-KKT system in the null space of G (projected CG).

    ``min 1/2 dx^T B dx + gxl^T dx`` subject to ``G dx = -c``: dx = dn + dt with the normal
    step ``dn = -G^T (G G^T)^{-1} c`` and CG on ``P B P dt = -P (gxl + B dn)``; then
    ``dl = -(G G^T)^{-1} G (gxl + B dx)``. The CG residual is the KKT residual of (dx, dl),
    each iteration costs one product with B and ``B dx`` is accumulated from them (Gould,
    Hribar and Nocedal, SIAM J. Sci. Comput. 23, 2001). Resumable: a tighter target continues
    the same iteration. Stops with ``negative_curvature`` when ``p^T B p <= 0``.
    """

    def __init__(self, bmv, G, gram, gxl, c, maxiter):
        self.bmv, self.G, self.gram = bmv, G, gram
        self.gxl = gxl
        self.c = c
        self.maxiter = maxiter
        self.dn = -(G.T @ gram(c)) if np.any(c) else np.zeros(gxl.size)
        self.Bdn = bmv(self.dn) if np.any(self.dn) else np.zeros(gxl.size)
        self.iters = 0
        self.dt = np.zeros(gxl.size)
        self.Bdt = np.zeros(gxl.size)
        self.r = self._proj(gxl + self.Bdn)
        self.p = -self.r
        self.rr = float(self.r @ self.r)
        self.curvature = None

    def _proj(self, v):
        return v - self.G.T @ self.gram(self.G @ v)

    def _z(self):
        dx = self.dn + self.dt
        gfull = self.gxl + self.Bdn + self.Bdt
        dl = -self.gram(self.G @ gfull)
        r1 = gfull + self.G.T @ dl
        r2 = self.G @ dx + self.c
        return np.concatenate([dx, dl]), math.sqrt(float(r1 @ r1) + float(r2 @ r2))

    def hdx(self, t):
        """H dx = B dx - t dx of the current iterate, from the accumulated products."""
        return self.Bdn + self.Bdt - t * (self.dn + self.dt)

    def run(self, target):
        """(z, residual, status) with status "ok", "maxiter" or "negative_curvature"."""
        z, res = self._z()
        while res > target:
            if self.iters >= self.maxiter:
                return z, res, "maxiter"
            Bp = self.bmv(self.p)
            self.iters += 1
            pBp = float(self.p @ Bp)
            pp = float(self.p @ self.p)
            if not pBp > 1e-14 * pp * max(1.0, float(np.linalg.norm(Bp)) / math.sqrt(pp)):
                self.curvature = pBp / pp if pp > 0 else 0.0
                return z, res, "negative_curvature"
            a = self.rr / pBp
            self.dt += a * self.p
            self.Bdt += a * Bp
            self.r = self._proj(self.r + a * Bp)
            rr = float(self.r @ self.r)
            self.p = -self.r + (rr / self.rr) * self.p
            self.rr = rr
            z, res = self._z()
        return z, res, "ok"


def _merit_directional_hdx(gxl, c, hdx, v, w, dx, dl, eta1, eta2):
    """:func:`merit_directional` with ``u^T dx = (H grad_x L)^T dx`` taken as
    ``grad_x L^T (H dx)`` (H symmetric): no product with grad_x L needed."""
    return (float(gxl @ dx) + eta2 * float(gxl @ hdx) + eta1 * float(v @ dx)
            + float((c + eta2 * w) @ dl))


def _shifted_hmv(hmv, t, prob):
    """v -> (H + t I) v, counted as one Hessian-vector product."""
    def bmv(v):
        prob.nhvp += 1
        return hmv(v) + t * v
    return bmv


def _block_preconditioner(gxl, u, t, gram, n, m):
    """SPD block-diagonal preconditioner ``blkdiag(I / s, s (G G^T)^{-1})`` for MINRES on the
    KKT matrix (the ideal ``blkdiag(B, G B^{-1} G^T)`` with B ~ s I), s from the Rayleigh
    quotient of the product ``u = H grad_x L`` already computed for the merit (no extra
    product)."""
    gg = float(gxl @ gxl)
    if gg > 0:
        s = max(abs(float(gxl @ u)) / gg, 1e-2 * float(np.linalg.norm(u)) / math.sqrt(gg))
    else:
        s = 1.0
    s = s + t
    if not (math.isfinite(s) and s > 0):
        s = 1.0

    def mv(r):
        r = np.asarray(r, dtype=float).ravel()
        return np.concatenate([r[:n] / s, s * gram(r[n:])])
    return LinearOperator((n + m, n + m), matvec=mv, rmatvec=mv, dtype=float)


def _nystrom_preconditioner(hmv, t, G, n, m, k, rng, prob):
    """Block preconditioner ``blkdiag(A^-1, (G A^-1 G^T)^-1)`` for MINRES with A^-1 from a
    randomized Nyström approximation ``H ~ U diag(lam) U^T`` of rank k (k Hessian-vector
    products; Frangella, Tropp and Udell, SIAM J. Matrix Anal. Appl. 44, 2023):
    ``A^-1 = U (lam + mu)^-1 U^T + (I - U U^T) / (lam_k + mu)``, mu the shift t (floored at
    1e-8 lam_1). The Schur block is formed densely (m <= 2000, dense or sparse G). Returns None
    where it does not apply: H not positive semidefinite on the sketch (the Cholesky factor of
    ``Q^T H Q`` fails), m > 2000, or a degenerate sketch."""
    if m > 2000:
        return None
    Q, _ = np.linalg.qr(rng.standard_normal((n, k)))
    Y = np.column_stack([np.asarray(hmv(Q[:, j]), dtype=float).ravel() for j in range(k)])
    prob.nhvp += k
    nu = math.sqrt(n) * np.finfo(float).eps * float(np.linalg.norm(Y))
    Ynu = Y + nu * Q
    try:
        L = np.linalg.cholesky(0.5 * (Q.T @ Ynu + Ynu.T @ Q))
    except np.linalg.LinAlgError:
        return None
    Bm = sla.solve_triangular(L, Ynu.T, lower=True).T          # Ynu L^{-T}
    U, S, _ = np.linalg.svd(Bm, full_matrices=False)
    lam = np.maximum(S ** 2 - nu, 0.0)
    if not (lam[0] > 0 and np.all(np.isfinite(lam))):
        return None
    mu = max(t, 1e-8 * lam[0])
    tail = lam[-1] + mu

    def ainv(v):
        uv = U.T @ v
        return U @ (uv / (lam + mu)[:, None] if v.ndim == 2 else uv / (lam + mu)) \
            + (v - U @ uv) / tail
    Gd = G.toarray() if sp.issparse(G) else np.asarray(G)
    Sch = Gd @ ainv(Gd.T)
    try:
        cf = sla.cho_factor(0.5 * (Sch + Sch.T))
    except np.linalg.LinAlgError:
        return None

    def mv(r):
        r = np.asarray(r, dtype=float).ravel()
        return np.concatenate([ainv(r[:n]), sla.cho_solve(cf, r[n:])])
    return LinearOperator((n + m, n + m), matvec=mv, rmatvec=mv, dtype=float)


def _regularized_step(Hmat, hmv, G, gL, n, m, rho, o, prob):
    """Newton step of the regularized KKT system ``[[H + t I, G^T], [G, -I/rho]] z = -grad L``
    used where G has (numerically) lost rank: a least-squares constraint step with the merit's
    penalty ``rho = eta1`` (the quasi-definite system is nonsingular for any G once
    ``H + t I`` is positive definite); t from the smallest eigenvalue of H (exact for an
    explicit H with n <= 1000, a 20-step Lanczos estimate otherwise). Returns (z, t)."""
    if Hmat is not None and n <= 1000:
        Hd = Hmat.toarray() if sp.issparse(Hmat) else np.asarray(Hmat)
        lmin = float(np.linalg.eigvalsh(0.5 * (Hd + Hd.T))[0])
    elif Hmat is not None and _diag_dominant_pd(Hmat):
        lmin = math.inf
    else:
        steps = min(20, n)
        prob.nhvp += steps
        lmin = _lanczos_min(hmv, n, steps)
    t = max(0.0, o["xi_B"] - lmin)
    delta = 1.0 / rho
    if Hmat is not None:
        B = sp.csr_array(Hmat) + t * sp.identity(n, format="csr")
        Gs = sp.csr_array(G)
        K = sp.bmat([[B, Gs.T], [Gs, -delta * sp.identity(m, format="csr")]], format="csc")
        if K.shape[0] <= 3000:
            z = sla.solve(K.toarray(), -gL, assume_a="sym")
        else:
            z = splu(K).solve(-gL)
        return np.asarray(z, dtype=float), t
    N = n + m

    def mv(v):
        v = np.asarray(v, dtype=float).ravel()
        prob.nhvp += 1
        return np.concatenate([hmv(v[:n]) + t * v[:n] + G.T @ v[n:], G @ v[:n] - delta * v[n:]])
    Kop = LinearOperator((N, N), matvec=mv, rmatvec=mv, dtype=float)
    z, _r, _its = _minres_kkt(Kop, -gL, np.zeros(N), 1e-8 * float(np.linalg.norm(gL)),
                              10 * N)
    return z, t


# ============================================================================ the method
def minimize_alsketch(fun, x0, args=(), *, jac=None, hess=None, hessp=None, constraints=(),
                      lambda0=None, tol=1e-6, maxiter=1000, sketch=None,
                      accuracy="practical", rng=None, callback=None, options=None,
                      warm_start=None, hess_lagrangian=None, hessp_lagrangian=None,
                      bounds=None, inner="auto"):
    """Minimize ``f(x)`` subject to equality constraints ``c(x) = 0`` by AL-sketch Newton.

    Each iteration solves the Newton-KKT system ``K z = -grad L`` inexactly (randomized
    sketch-and-project in the paper; see ``inner``), checks that ``z`` is a descent direction
    of the exact augmented Lagrangian ``L_eta = f + lam^T c + eta1/2 |c|^2 + eta2/2
    |grad_x L|^2`` (raising the penalties if not) and backtracks on ``L_eta`` (Hong, Na,
    Mahoney and Kolar, ICML 2023, arXiv:2305.18379). Inner solvers, the rank test and the
    regularized steps are described in docs/alsketch.md ("Inner solvers", "Rank test").

    Parameters
    ----------
    fun : callable ``fun(x, *args) -> float`` (or ``(float, grad)`` with ``jac=True``)
    x0 : (n,) array_like
    args : tuple
    jac : callable, True, "2-point" or "3-point"
        Gradient of f. Strings use finite differences (with a warning).
    hess : callable or None
        ``hess(x, *args)`` -> Hessian of f (dense, sparse or LinearOperator).
    hessp : callable or None
        ``hessp(x, p, *args)`` -> Hessian of f times p.
    constraints : NonlinearConstraint, LinearConstraint, dict or a sequence of them
        Equality constraints only (``lb == ub``, dict ``"type": "eq"``); stacked in order.
        A NonlinearConstraint's ``hess(x, v)`` gives ``sum v_i Hess c_i``; a missing one is
        replaced by finite differences of ``J^T v`` (with a warning).
    lambda0 : (m,) array_like or None
        Initial multipliers (default zeros, or ``warm_start.multipliers``).
    tol : float
        Stop when ``||grad L||`` (2-norm; option ``kkt_norm="inf"``) ``<= tol``.
    maxiter : int
    sketch : str or None
        Sketch of the sketch-and-project inner solver: "gaussian" (default, None),
        "kaczmarz", "kaczmarz_rownorm", "block_gaussian", "block_kaczmarz" or "countsketch"
        (row and count types need an explicit Hessian). Naming a sketch makes
        ``inner="auto"`` choose sketch-and-project.
    accuracy : {"practical", "theory"}
        "theory": the paper's inner accuracy rule and constants; "practical": relative
        residual ``theta*kappa*||grad L||`` with the descent test as safeguard and a direct or
        MINRES fallback when the sketch stalls.
    rng : None, int or Generator
        Seed of the sketches (runs are reproducible from it). A Generator is advanced by a
        run that returns and restored to its state at the call when the run raises.
    callback : callable or None
        ``callback(intermediate_result)`` (or ``callback(x)``) after each iteration; raise
        StopIteration to stop.
    options : dict or None
        eta1, eta2, nu, beta, backtrack, alpha_min, max_backtrack, xi_B, reduced_hess_tol,
        licq_tol, delta0, delta_min, kappa, kappa_min, theta (float or callable
        ``(k, kkt) -> (0, 1]``), eta1_max, eta2_min, max_inner (also the cap on MINRES and
        CG iterations per solve), check_every, inner_fallback (sketch only: None, "direct",
        "minres", "auto"), max_sketch_total, return_history, shift ("paper", "minimal"),
        curvature_check ("auto", "qr", "eigsh", "none"; not needed by inner="cg"), kkt_norm
        ("2", "inf"), block_size, lanczos_steps (practical: 20-step Lanczos estimate of
        lambda_min(Z^T H Z) for a matrix-free H; 0 = ARPACK eigsh as in theory mode).
        Rank test: ``licq_tol`` (absolute threshold on lambda_min(G G^T); theory: 1e-2, the
        paper's constant) or, when it is None (practical), ``licq_rtol`` (default 1e-12):
        LICQ holds when ``lambda_min(G G^T) >= licq_rtol * lambda_max(G G^T)``, i.e.
        cond(G G^T) <= 1/licq_rtol, which does not change when the constraints are scaled.
        ``rank_deficient`` ("step" in practical mode, "stop" in theory mode): where the
        test fails, take a step of the regularized system ``[[H + t I, G^T], [G, -I/eta1]]``
        (a least-squares constraint step; the merit's steepest descent if that is not a
        descent direction) and line-search the merit, at most ``max_rank_deficient``
        (default 20) times in a row; "stop" ends with ``singular_jacobian``.
        ``minres_precond="nystrom"``: MINRES preconditioned by a randomized Nyström
        approximation of H of rank ``nystrom_rank`` (default 20; that many products per
        iteration; Frangella, Tropp and Udell, SIAM J. Matrix Anal. Appl. 44, 2023), used
        where H is positive semidefinite on the sketch and m <= 2000, else "block".
    warm_start : OptimizeResult or None
        A previous result: supplies multipliers (if ``lambda0`` is None) and penalty state.
    hess_lagrangian : callable ``(x, lam) -> matrix`` or None
        Hessian of the Lagrangian (takes precedence over hess and the constraint Hessians).
    hessp_lagrangian : callable ``(x, lam, v) -> vector`` or None
    bounds : None
        Bounds are not supported (ValueError).
    inner : {"auto", "sketch", "direct", "minres", "cg"}
        Inner solver of the Newton-KKT systems, inside the same merit, accuracy test and
        penalty updates. "sketch": sketch-and-project (the paper's method; with
        ``inner_fallback``). "direct": sparse (small: dense) LU of the explicit K, reused
        while K is unchanged (a constant Hessian and Jacobian); a matrix-free Hessian is
        assembled from products when n + m <= 2000 (ValueError otherwise). "minres": MINRES
        on K with the block-diagonal preconditioner ``blkdiag(I/s, s (G G^T)^{-1})`` (option
        ``minres_precond``: "block", "nystrom" or "none").
        "cg": projected CG in the null space of G (Gould, Hribar and Nocedal, SIAM J. Sci.
        Comput. 23, 2001): one Hessian-vector product per CG step plus one for the normal
        step, negative curvature detected on the way (then the paper's shift). "auto"
        (default): "sketch" in theory mode or when ``sketch`` is given, else "direct" for an
        explicit Hessian and "cg" for Hessian-vector products.

    Returns
    -------
    scipy.optimize.OptimizeResult
        ``x, fun, jac, multipliers, constr_multipliers, constr, constr_violation,
        lagrangian_grad, kkt, nit, n_sketch, n_fallback, fallback_iter, nfev, njev, ncev,
        ncjev, nhev, nhvp, penalties, penalty_increases, hess_shift, licq_min, licq_max,
        licq_checked, licq_evals, n_rank_deficient, inner, n_inner, n_factorizations,
        n_factor_reuse, n_curvature_checks, n_nystrom, state, success, status, message``
        and, with ``return_history``,
        ``kkt_history, alpha_history, penalty_history, inner_history``. ``inner`` is the
        inner solver that ran; ``n_inner`` its work (sketch steps, LU solves, MINRES or CG
        iterations); ``n_factorizations`` / ``n_factor_reuse`` the LU factorizations done and
        reused; ``licq_min`` / ``licq_max`` the extreme eigenvalues of G G^T at the last
        check and ``licq_evals`` how often they were computed (once for a constant G);
        ``n_rank_deficient`` the regularized steps taken.

    Raises
    ------
    ValueError
        A bad argument, or a user function whose value at ``x0`` (and ``lambda0``) has the
        wrong type or shape, checked before the first iteration and named in the message:
        ``fun`` must return a finite real scalar (``(f, grad)`` with ``jac=True``), ``jac``
        an ``(n,)`` vector, ``hess`` / ``hess_lagrangian`` a finite real ``(n, n)`` array,
        sparse matrix or LinearOperator, a constraint's ``fun`` an ``(m,)`` vector, its
        ``jac`` an ``(m, n)`` array or sparse matrix and its ``hess(x, v)`` an ``(n, n)``
        matrix; ``hessp`` and ``hessp_lagrangian`` products are checked (``(n,)``) at
        every call. The values computed for these checks are reused, not recomputed.
    TypeError
        A non-callable where a callable is needed, or a Hessian callable that cannot take
        its arguments (``hess(x, *args)``, ``hessp(x, p, *args)``, a constraint's
        ``hess(x, v)``, ``hess_lagrangian(x, lam)``, ``hessp_lagrangian(x, lam, v)``).

    An exception raised by a user function (other than a trial point's ``ValueError``,
    ``ZeroDivisionError``, ``OverflowError`` or ``FloatingPointError``, which rejects that
    trial step) or by ``callback`` (other than ``StopIteration``) propagates unchanged;
    ``x0``, ``lambda0``, ``options``, ``warm_start`` and the constraints are never
    modified.

    Examples
    --------
    >>> import numpy as np
    >>> from numfit.optimize import minimize_alsketch
    >>> from scipy.optimize import NonlinearConstraint
    >>> con = NonlinearConstraint(lambda x: x[0] + x[1], 1.0, 1.0,
    ...                           jac=lambda x: [[1.0, 1.0]], hess=lambda x, v: np.zeros((2, 2)))
    >>> res = minimize_alsketch(lambda x: x @ x, [3.0, -1.0], jac=lambda x: 2 * x,
    ...                         hess=lambda x: 2 * np.eye(2), constraints=con, rng=0)
    >>> res.status, np.round(res.x, 6).tolist(), round(float(res.multipliers[0]), 6)
    (0, [0.5, 0.5], -1.0)
    """
    if bounds is not None:
        raise ValueError(f"`bounds` are not supported: {_EQ_ONLY}")
    if not callable(fun):
        raise TypeError(f"`fun` must be callable; got {type(fun).__name__}")
    x = _as_x0(x0)
    n = x.size
    if not isinstance(args, tuple):
        args = (args,)
    accuracy = check_option("accuracy", accuracy, ("practical", "theory"))
    sketch_given = sketch is not None
    sketch = check_option("sketch", "gaussian" if sketch is None else sketch, SKETCHES)
    inner = check_option("inner", inner, INNER_SOLVERS)
    tol = check_float("tol", tol, lo=0.0, lo_open=True)
    maxiter = check_int("maxiter", maxiter, lo=0)
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"`options` must be a dict or None; got {type(options).__name__}")
    o = _check_options(options, accuracy)
    cb = _wrap_callback(callback)
    gen = as_rng(rng)

    # ---- derivatives
    fd_warn = []
    if jac is None:
        raise ValueError("`jac` is required: pass jac=callable, True or '2-point'")
    if isinstance(jac, str):
        if jac not in ("2-point", "3-point", "cs"):
            raise ValueError(f"`jac` must be callable, True, '2-point' or '3-point'; got {jac!r}")
        warnings.warn("jac given as a string: using finite-difference gradients",
                      RuntimeWarning, stacklevel=2)
        jac = None
    elif jac is not True and not callable(jac):
        raise ValueError("`jac` must be callable, True or '2-point'; got "
                         f"{type(jac).__name__}")
    if isinstance(hess, HessianUpdateStrategy):
        raise ValueError(  # noqa: TRY004 - documented as a ValueError
            "`hess` as a quasi-Newton HessianUpdateStrategy is not supported: "
            "AL-sketch needs exact Hessian(-vector products); pass hess or hessp")
    if isinstance(hess, str):
        fd_warn.append("objective Hessian")
        hess = None
    if hess is not None and not callable(hess):
        if _is_explicit(hess) or isinstance(hess, LinearOperator):
            hconst = hess
            hess = (lambda x, *a: hconst)
        else:
            raise TypeError(f"`hess` must be callable, a matrix or None; got "
                            f"{type(hess).__name__}")
    for nm, v in (("hessp", hessp), ("hess_lagrangian", hess_lagrangian),
                  ("hessp_lagrangian", hessp_lagrangian)):
        if v is not None and not callable(v):
            raise TypeError(f"`{nm}` must be callable or None; got {type(v).__name__}")
    star = ", *args" if args else ""
    for nm, v, form, nargs in (("hess", hess, f"hess(x{star})", 1 + len(args)),
                               ("hessp", hessp, f"hessp(x, p{star})", 2 + len(args)),
                               ("hess_lagrangian", hess_lagrangian, "hess_lagrangian(x, lam)",
                                2),
                               ("hessp_lagrangian", hessp_lagrangian,
                                "hessp_lagrangian(x, lam, v)", 3)):
        if v is not None:
            _check_callable_as(f"`{nm}`", v, form, nargs)

    cons, fdc = _parse_constraints(constraints, x, args)
    if not cons:
        raise ValueError("`constraints` is empty: minimize_alsketch needs at least one "
                         "equality constraint (use an unconstrained method otherwise)")
    prob = _Problem(fun, x, args, jac, hess, hessp, cons, hess_lagrangian, hessp_lagrangian)
    m = prob.m
    if m > n:
        raise ValueError(f"more constraints than variables (m = {m} > n = {n}): LICQ cannot "
                         "hold")
    if hess_lagrangian is None and hessp_lagrangian is None:
        if hess is None and hessp is None:
            fd_warn.append("objective Hessian")
        fd_warn += [w for w in fdc if w.endswith("Hessian")]
    fd_warn += [w for w in fdc if w.endswith("Jacobian")]
    if fd_warn:
        warnings.warn("finite-difference Hessian-vector products (or Jacobians) are used for: "
                      + ", ".join(dict.fromkeys(fd_warn)), FiniteDifferenceHessianWarning,
                      stacklevel=2)
        prob.fd = True

    # ---- evaluate at x0 (shapes)
    f = _fun_value_at_x0(prob.f(x, where="x0"))
    g = prob.g(x)
    if g.shape != (n,):
        raise ValueError(f"`jac(x0)` must have shape ({n},); got {g.shape}")
    if not np.all(np.isfinite(g)):
        raise ValueError("`jac(x0)` must be finite")
    for con in cons:
        ci = con.fun(x)
        if ci.ndim != 1 or ci.size != con.m:
            raise ValueError(f"`constraints[{con.idx}]` fun must return shape ({con.m},); "
                             f"got {ci.shape}")
        _check_jac_value(con.idx, con._jac(x), con.m, n)
    c = prob.c(x)
    G = prob.G(x)
    if not (np.all(np.isfinite(c)) and np.all(np.isfinite(G.data if sp.issparse(G) else G))):
        raise ValueError("constraint values or Jacobians are not finite at `x0`")

    if lambda0 is None and warm_start is not None and "multipliers" in warm_start:
        lambda0 = warm_start["multipliers"]
    if lambda0 is None:
        lam = np.zeros(m)
    else:
        lam = np.asarray(lambda0)
        if lam.dtype == object or not np.issubdtype(lam.dtype, np.number) \
                or np.iscomplexobj(lam):
            raise ValueError(f"`lambda0` must be a real vector of shape ({m},); got dtype "
                             f"{lam.dtype}")
        lam = np.atleast_1d(lam).astype(float)
        if lam.shape != (m,):
            raise ValueError(f"`lambda0` must have shape ({m},); got {lam.shape}")
        if not np.all(np.isfinite(lam)):
            raise ValueError("`lambda0` must be finite")
        lam = lam.copy()

    theory = accuracy == "theory"
    if theory and prob.fd and n > 2000:
        raise ValueError("theory needs ||B||_F; pass hess (finite-difference Hessians are "
                         "assembled only for n <= 2000)")
    prob.check_at_x0(x, lam)
    # a Generator passed in is advanced by a run that returns and given back unchanged by one
    # that raises (a user function's exception, KeyboardInterrupt in the callback), so a
    # retry is bit-identical to an undisturbed run
    state = gen.bit_generator.state if gen is rng else None
    try:
        return _outer(prob, x, lam, f, g, c, G, o, theory, sketch, tol, maxiter, gen, cb,
                      warm_start, inner, sketch_given)
    except BaseException:
        if state is not None:
            gen.bit_generator.state = state
        raise


def _resolve_inner(inner, theory, sketch_given, explicit_h, N):
    """The inner solver that ``inner`` names for this problem (see minimize_alsketch)."""
    if inner == "auto":
        if theory or sketch_given:
            return "sketch"
        if explicit_h:
            return "direct"
        return "cg"
    if inner == "direct" and not explicit_h and N > 2000:
        raise ValueError(f"inner='direct' needs an explicit Hessian (hess or hess_lagrangian) "
                         f"when n + m > 2000 (here {N}); use inner='cg' or 'minres' with "
                         "Hessian-vector products")
    return inner


def _outer(prob, x, lam, f, g, c, G, o, theory, sketch, tol, maxiter, gen, cb, warm_start,
           inner="sketch", sketch_given=True):
    n, m = prob.n, prob.m
    N = n + m
    eta1, eta2 = o["eta1"], o["eta2"]
    delta, kappa = o["delta0"], o["kappa"]
    if warm_start is not None and isinstance(warm_start.get("state"), dict):
        st = warm_start["state"]
        eta1 = float(st.get("eta1", eta1))
        eta2 = float(st.get("eta2", eta2))
        delta = float(st.get("delta", delta))
        kappa = float(st.get("kappa", kappa))
    nu, beta = o["nu"], o["beta"]
    norm_ord = np.inf if o["kkt_norm"] == "inf" else 2
    probe_rng = np.random.default_rng(gen.integers(2 ** 63))
    fallback = o["inner_fallback"]
    k_blk = None
    if sketch in BLOCK_TYPES:
        k_blk = o["block_size"] or default_block_size(N)
        k_blk = min(k_blk, N)
    if fallback == "auto":
        fallback = None if theory else "auto"
    check_every = o["check_every"]
    if check_every is None:
        check_every = {"kaczmarz": N, "kaczmarz_rownorm": N, "gaussian": 10}.get(
            sketch, -(-N // (k_blk or 1)))
    n_sketch = n_fallback = 0
    fallback_iter = []
    penalty_increases = 0
    hist = {"kkt": [], "alpha": [], "eta": [], "inner": []}
    t_shift = 0.0
    licq_min = math.nan
    licq_checked = True
    status = None
    k = 0
    alpha = None
    target = None
    inner_steps = 0
    warned_assemble = False
    inner_kind = None                # resolved at the first iteration (needs the Hessian form)
    n_inner = 0
    direct = _DirectInner()
    licq = _Licq()
    licq_max = math.nan
    licq_thr = 0.0
    n_rank_def = rd_run = 0
    # practical mode, matrix-free H: the curvature estimate and ||H||_F of the last iteration
    # are reused while the descent test passes at the first try (no penalty increase)
    reuse_ok = False
    hfro_prev = lam_red_prev = None
    n_curv = 0
    n_nystrom = 0

    def gradlag(g_, G_, lam_):
        return g_ + G_.T @ lam_

    gxl = gradlag(g, G, lam)
    while True:
        gL = np.concatenate([gxl, c])
        kkt = float(np.linalg.norm(gL, ord=norm_ord))
        if not math.isfinite(kkt):
            status = ALSketchStatus.NONFINITE
            break
        if o["return_history"]:
            hist["kkt"].append(kkt)
        if kkt <= tol:
            status = ALSketchStatus.CONVERGED
            break
        if k >= maxiter:
            status = ALSketchStatus.MAX_ITER
            break
        # ---- LICQ: absolute (licq_tol; theory) or relative to ||G||_2^2 (licq_rtol)
        Gfro2 = _fro(G) ** 2
        licq_min, licq_max, gram = licq(G)
        licq_thr = o["licq_tol"] if o["licq_tol"] is not None else \
            o["licq_rtol"] * licq_max
        rank_def = not (licq_min >= licq_thr and licq_max > 0 and gram is not None)
        if rank_def and (o["rank_deficient"] == "stop" or rd_run >= o["max_rank_deficient"]):
            status = ALSketchStatus.SINGULAR_JACOBIAN
            break
        # ---- Hessian, cached products
        Hmat, hmv = prob.hessian(x, lam, None)
        if Hmat is None and theory and prob.fd:
            Hmat = np.column_stack([hmv(e) for e in np.eye(n)])
            Hmat = 0.5 * (Hmat + Hmat.T)
            hmv_ = Hmat

            def hmv(v, H_=hmv_):
                return H_ @ v
        if Hmat is not None and not np.all(np.isfinite(Hmat.data if sp.issparse(Hmat)
                                                       else Hmat)):
            status = ALSketchStatus.NONFINITE
            break
        if inner_kind is None:
            inner_kind = _resolve_inner(inner, theory, sketch_given, Hmat is not None, N)
        # u = H grad_x L enters the merit's gradient; the null-space CG accumulates H dx and
        # gets u^T dx = grad_x L^T (H dx) from it, so it spends no product on u
        if inner_kind == "cg" and not rank_def:
            u = None
        else:
            u = np.asarray(hmv(gxl), dtype=float).ravel()
            prob.nhvp += 1
        v = G.T @ c
        w = G @ gxl
        if not ((u is None or np.all(np.isfinite(u))) and np.all(np.isfinite(v))
                and np.all(np.isfinite(w))):
            status = ALSketchStatus.NONFINITE
            break
        capped = saturated = fb_done = False
        if rank_def:
            # ---- rank-deficient G: regularized least-squares step (descent on the merit)
            n_rank_def += 1
            rd_run += 1
            reuse_ok = False
            inner_steps = 0
            z, t_shift = _regularized_step(Hmat, hmv, G, gL, n, m, eta1, o, prob)
            dx, dl = z[:n], z[n:]
            q = merit_directional(gxl, c, u, v, w, dx, dl, eta1, eta2)
            if not q < 0:
                gx_m, gl_m = merit_gradient(gxl, c, u, v, w, eta1, eta2)
                dx, dl = -gx_m, -gl_m
                q = -(float(gx_m @ gx_m) + float(gl_m @ gl_m))
            if not (q < 0 and np.all(np.isfinite(dx)) and np.all(np.isfinite(dl))):
                status = ALSketchStatus.SINGULAR_JACOBIAN
                break
        else:
            rd_run = 0
            # ---- curvature: shift t
            reuse = reuse_ok and Hmat is None and not theory
            hfro = _FroNorm(Hmat, hmv, n, probe_rng, prob, prev=hfro_prev if reuse else None)
            pen_before = penalty_increases
            lam_red = None
            t_shift = 0.0
            cc = o["curvature_check"]
            # (the null-space CG finds negative curvature itself: no separate check)
            if m < n and cc != "none" and inner_kind != "cg":
                if cc == "auto" and Hmat is not None and _diag_dominant_pd(Hmat):
                    lam_red = math.inf
                elif reuse and lam_red_prev is not None:
                    lam_red = lam_red_prev
                else:
                    lam_red, nprod = _reduced_hess_min(
                        Hmat, hmv, G, n, m, cc, 0 if theory else o["lanczos_steps"], gram)
                    prob.nhvp += nprod
                    n_curv += 1
                if lam_red < o["reduced_hess_tol"]:
                    if o["shift"] == "paper":
                        t_shift = o["xi_B"] + hfro()
                    else:
                        t_shift = max(0.0, o["xi_B"] - lam_red)
            KK = _KKT(Hmat, hmv, G, t_shift, prob)
            b = -gL
            bnorm = float(np.linalg.norm(gL))
            dtrial = None                     # only the theory mode bounds the inner accuracy
            # ---- theory constants
            if theory:
                Bfro = _fro(KK.B) if KK.B is not None else \
                    math.sqrt(max(hfro() ** 2 + 2 * t_shift * _trace_est(hmv, n, probe_rng, prob)
                                  + t_shift ** 2 * n, 0.0))
                Kfro = math.sqrt(Bfro ** 2 + 2 * Gfro2)
                Psi = 20.0 * max(Bfro ** 2, 1.0) / (min(licq_min, 1.0) * min(o["xi_B"], 1.0))
                Ups = max(math.sqrt(Gfro2), hfro(), 1.0)

                dtrial = functools.partial(_delta_trial, beta=beta, c=Ups ** 2 * Psi ** 2)
                delta = max(min(delta, dtrial(eta1, eta2)), o["delta_min"])
            th = _theta(o, k, kkt)
            z = np.zeros(N)
            inner_steps = 0
            # ---- the inner solver for this K
            assemble = False
            if inner_kind == "direct":
                try:
                    with warnings.catch_warnings(), np.errstate(all="ignore"):
                        warnings.simplefilter("ignore", sla.LinAlgWarning)
                        direct.factor(KK.dense() if KK.small_dense else
                                      KK.K if KK.explicit else KK.assemble())
                        z = np.asarray(direct.solve(b), dtype=float)
                except (RuntimeError, np.linalg.LinAlgError):     # exactly singular K
                    z = np.full(N, np.nan)
                inner_steps = 1
                n_inner += 1
                if not np.all(np.isfinite(z)):
                    # K is singular (e.g. curvature_check="none" with a singular reduced
                    # Hessian): MINRES finds a solution of the consistent system, if any
                    z, _r, its = _minres_kkt(KK.K, b, np.zeros(N),
                                             th * kappa * bnorm if not theory else
                                             th * delta * bnorm / (Kfro * Psi), 10 * N)
                    direct.invalidate()
                    n_fallback += 1
                    fb_done = True
                    n_inner += its
                    inner_steps += its
            elif inner_kind == "cg":
                pcg = _ProjectedCG(_shifted_hmv(hmv, t_shift, prob), G, gram, gxl, c,
                                   min(o["max_inner"], 2 * n + 10))
                n_restart = 0
            elif inner_kind == "minres":
                precond = None
                if o["minres_precond"] == "nystrom":
                    precond = _nystrom_preconditioner(hmv, t_shift, G, n, m,
                                                      min(o["nystrom_rank"], n), probe_rng,
                                                      prob)
                    n_nystrom += precond is not None
                if precond is None and o["minres_precond"] != "none":
                    precond = _block_preconditioner(gxl, u, t_shift, gram, n, m)
            elif not KK.explicit and sketch not in ("gaussian", "block_gaussian"):
                if N <= 2000:
                    if not warned_assemble:
                        warnings.warn(f"sketch={sketch!r} needs an explicit K; assembling it from "
                                      f"{N} products", RuntimeWarning, stacklevel=3)
                        warned_assemble = True
                    assemble = True
                else:
                    raise ValueError(f"sketch={sketch!r} needs an explicit sparse K (pass an "
                                     "explicit Hessian) or use 'gaussian' / 'block_gaussian'")
            if inner_kind == "sketch":
                runner = SketchRunner(KK.assemble() if assemble else KK.K, sketch, gen,
                                      block_size=k_blk, incremental=(check_every == 1))
            while True:
                target = th * delta * bnorm / (Kfro * Psi) if theory else th * kappa * bnorm
                if inner_kind != "sketch":
                    if inner_kind == "cg":
                        z, res, st = pcg.run(target)
                        if st == "negative_curvature" and n_restart < 5:
                            # the reduced Hessian is not positive definite: shift as the
                            # paper does and restart the CG on H + t I
                            n_restart += 1
                            n_inner += pcg.iters
                            inner_steps += pcg.iters
                            if o["shift"] == "paper":
                                t_shift = max(t_shift, o["xi_B"] + hfro())
                            else:
                                t_shift = t_shift + o["xi_B"] - pcg.curvature
                            KK.t = t_shift
                            pcg = _ProjectedCG(_shifted_hmv(hmv, t_shift, prob), G, gram,
                                               gxl, c, pcg.maxiter)
                            continue
                        capped = st != "ok" and res > target
                    elif inner_kind == "minres":
                        z, res, its = _minres_kkt(KK.K, b, z, target,
                                                  min(o["max_inner"], 10 * N), precond)
                        n_inner += its
                        inner_steps += its
                        capped = res > target
                    if not np.all(np.isfinite(z)):
                        status = ALSketchStatus.NONFINITE
                        break
                    dx, dl = z[:n], z[n:]
                    if u is None:
                        q = _merit_directional_hdx(gxl, c, pcg.hdx(t_shift), v, w, dx, dl,
                                                   eta1, eta2)
                    else:
                        q = merit_directional(gxl, c, u, v, w, dx, dl, eta1, eta2)
                    saturated = eta1 > o["eta1_max"] or eta2 < o["eta2_min"]
                    stop, st, eta1, eta2, delta, kappa = _penalty_step(
                        q, capped, bnorm, eta1, eta2, delta, kappa, nu, theory, o, dtrial)
                    if stop:
                        status = status if st is None else st
                        break
                    penalty_increases += 1
                    continue
                max_steps = o["max_inner"]
                if math.isfinite(o["max_sketch_total"]):
                    max_steps = int(max(0, min(max_steps, o["max_sketch_total"] - n_sketch)))
                out = runner.run(b, z, target, max_steps, check_every,
                                 stall=fallback is not None)
                inner_steps += out["steps"]
                n_sketch += out["steps"]
                n_inner += out["steps"]
                capped = out["status"] == "maxiter"
                res = out["residual"]
                if out["status"] == "nonfinite" or not np.all(np.isfinite(z)):
                    status = ALSketchStatus.NONFINITE
                    break
                if res > target and fallback is not None:
                    z = _fallback(KK, fallback, b, z, target, N)
                    n_fallback += 1
                    fb_done = True
                    capped = False
                    if not np.all(np.isfinite(z)):
                        status = ALSketchStatus.NONFINITE
                        break
                elif n_sketch >= o["max_sketch_total"] and res > target:
                    status = ALSketchStatus.INNER_MAXITER
                    break
                dx, dl = z[:n], z[n:]
                q = merit_directional(gxl, c, u, v, w, dx, dl, eta1, eta2)
                saturated = eta1 > o["eta1_max"] or eta2 < o["eta2_min"]
                stop, st, eta1, eta2, delta, kappa = _penalty_step(
                    q, capped, bnorm, eta1, eta2, delta, kappa, nu, theory, o, dtrial)
                if stop:
                    status = status if st is None else st
                    break
                penalty_increases += 1
            if inner_kind == "cg":
                n_inner += pcg.iters
                inner_steps += pcg.iters
            reuse_ok = penalty_increases == pen_before
            lam_red_prev = lam_red
            hfro_prev = hfro.val
            if fb_done:
                fallback_iter.append(k)
            if status is not None:
                break
        # ---- line search on the merit
        phi0 = merit_value(f, lam, c, gxl, eta1, eta2)
        alpha = 1.0
        nback = 0
        accepted = False
        while True:
            xt = x + alpha * dx
            lt = lam + alpha * dl
            ft, gt, ct, Gt, phit = _trial(prob, xt, lt, eta1, eta2, gradlag,
                                          thr=phi0 + alpha * beta * q)
            if phit <= phi0 + alpha * beta * q:
                accepted = True
                break
            alpha *= o["backtrack"]
            nback += 1
            if alpha < o["alpha_min"] or nback > o["max_backtrack"]:
                break
        if not accepted:
            status = (ALSketchStatus.INNER_MAXITER if capped else
                      ALSketchStatus.PENALTY_SATURATED if saturated else
                      ALSketchStatus.LINE_SEARCH_FAILED)
            break
        x, lam, f, g, c, G = xt, lt, ft, gt, ct, Gt
        gxl = gradlag(g, G, lam)
        k += 1
        if o["return_history"]:
            hist["alpha"].append(alpha)
            hist["eta"].append((eta1, eta2))
            hist["inner"].append(inner_steps)
        if cb is not None:
            ir = OptimizeResult(x=x.copy(), fun=f, multipliers=lam.copy(),
                                kkt=float(np.linalg.norm(np.concatenate([gxl, c]),
                                                         ord=norm_ord)),
                                nit=k, n_sketch=n_sketch, inner_steps=inner_steps,
                                penalties=(eta1, eta2), alpha=alpha, hess_shift=t_shift,
                                target=target)
            try:
                cb(ir)
            except StopIteration:
                status = ALSketchStatus.CALLBACK_STOP
                break
    # ---- result
    gL = np.concatenate([gxl, c])
    kkt = float(np.linalg.norm(gL, ord=norm_ord))
    more = ""
    if o["licq_tol"] is None and math.isfinite(licq_max):
        more = (f" = licq_rtol * lambda_max(G G^T) (lambda_max = {licq_max:.3g}); "
                f"{n_rank_def} regularized steps, max_rank_deficient = "
                f"{o['max_rank_deficient']}")
    msg = _MESSAGES[int(status)].format(licq=licq_min, licq_tol=licq_thr, licq_more=more, k=k)
    cm, off = [], 0
    for con in prob.cons:
        cm.append(lam[off:off + con.m].copy())
        off += con.m
    cparts = [c[sl] for sl in _slices(prob)]
    res = OptimizeResult(
        x=x, fun=f, jac=g, multipliers=lam, constr_multipliers=cm, constr=cparts,
        constr_violation=float(np.max(np.abs(c))) if m else 0.0, lagrangian_grad=gxl,
        kkt=kkt, nit=k, n_sketch=n_sketch, n_fallback=n_fallback, fallback_iter=fallback_iter,
        nfev=prob.nfev, njev=prob.njev, ncev=prob.ncev, ncjev=prob.ncjev, nhev=prob.nhev,
        nhvp=prob.nhvp, penalties=(eta1, eta2), penalty_increases=penalty_increases,
        hess_shift=t_shift, licq_min=licq_min, licq_max=licq_max, licq_checked=licq_checked,
        licq_evals=licq.n_eval, n_rank_deficient=n_rank_def,
        inner=inner_kind if inner_kind is not None else inner, n_inner=n_inner,
        n_curvature_checks=n_curv, n_nystrom=n_nystrom,
        n_factorizations=direct.n_factor, n_factor_reuse=direct.n_reuse,
        state={"eta1": eta1, "eta2": eta2, "delta": delta, "kappa": kappa},
        success=status == ALSketchStatus.CONVERGED, status=int(status),
        status_name=ALSketchStatus(status).name.lower(), message=msg, sketch=sketch,
        accuracy="theory" if theory else "practical")
    if o["return_history"]:
        res.kkt_history = np.asarray(hist["kkt"])
        res.alpha_history = np.asarray(hist["alpha"])
        res.penalty_history = np.asarray(hist["eta"]).reshape(-1, 2)
        res.inner_history = np.asarray(hist["inner"], dtype=np.int64)
    return res


class _FroNorm:
    """||H||_F, exact for an explicit H, else a Hutchinson estimate; computed once (or taken
    from the previous iteration while the descent test passes, practical mode)."""

    def __init__(self, Hmat, hmv, n, rng, prob, prev=None):
        self.Hmat, self.hmv, self.n, self.rng, self.prob = Hmat, hmv, n, rng, prob
        self.val = prev                   # a value reused from the last iteration

    def __call__(self):
        if self.val is None:
            if self.Hmat is not None:
                self.val = _fro(self.Hmat)
            else:
                self.prob.nhvp += 20
                self.val = _hutchinson_fro(self.hmv, self.n, self.rng)
        return self.val


def _slices(prob):
    off = 0
    out = []
    for con in prob.cons:
        out.append(slice(off, off + con.m))
        off += con.m
    return out


def _trace_est(hmv, n, rng, prob, probes=20):
    s = 0.0
    for _ in range(probes):
        v = rng.integers(0, 2, size=n) * 2.0 - 1.0
        prob.nhvp += 1
        s += float(v @ hmv(v))
    return s / probes


def _trial(prob, xt, lt, eta1, eta2, gradlag, thr=None):
    """f, grad f, c, G and the merit at a trial point (merit +inf if anything fails).

    With ``thr`` (the Armijo threshold), a trial whose merit without its ``eta2/2 |grad_x L|^2
    >= 0`` term already exceeds ``thr`` is rejected from f and c alone: the gradient and the
    Jacobian are not evaluated there (the returned merit is that lower bound)."""
    with np.errstate(all="ignore"):
        try:
            ft = float(prob.f(xt))
            if not math.isfinite(ft):
                return ft, None, None, None, math.inf
            ct = prob.c(xt)
            if thr is not None and np.all(np.isfinite(ct)):
                part = ft + float(lt @ ct) + 0.5 * eta1 * float(ct @ ct)
                if part > thr:
                    return ft, None, ct, None, part
            gt = prob.g(xt)
            Gt = prob.G(xt)
        except (ValueError, ZeroDivisionError, OverflowError, FloatingPointError):
            return math.nan, None, None, None, math.inf
        if not (np.all(np.isfinite(gt)) and np.all(np.isfinite(ct))
                and np.all(np.isfinite(Gt.data if sp.issparse(Gt) else Gt))):
            return ft, gt, ct, Gt, math.inf
        phit = merit_value(ft, lt, ct, gradlag(gt, Gt, lt), eta1, eta2)
    return ft, gt, ct, Gt, phit


def _fallback(KK, kind, b, z, target, N):
    """Direct (LU) or MINRES solve of K z = b from z (docs/alsketch.md, inner_fallback)."""
    if kind == "auto":
        if KK.explicit and N <= (20_000 if sp.issparse(KK.K) else 3_000):
            kind = "direct"
        else:
            kind = "minres"
    if kind == "direct":
        return np.asarray(KK.direct(b), dtype=float)
    bn = float(np.linalg.norm(b))
    rt = min(0.5, target / bn) if bn > 0 else 1e-12
    zz = z
    for _ in range(4):                 # SciPy's rtol is not |r|/|b|: verify, tighten x0.1
        zz, _info = minres(KK.K, b, x0=zz, rtol=rt, maxiter=10 * N)
        r = KK.K @ zz - b
        if float(np.linalg.norm(r)) <= target:
            return zz
        rt *= 0.1
    return zz


# ============================================================================ SciPy adapter
def alsketch(fun, x0, args=(), jac=None, hess=None, hessp=None, bounds=None, constraints=(),
             callback=None, **options):
    """AL-sketch as a custom method of ``scipy.optimize.minimize``.

    Use ``scipy.optimize.minimize(fun, x0, method=numfit.alsketch, jac=..., hess=...,
    constraints=..., tol=..., options={...})``. The options may include the keywords of
    :func:`minimize_alsketch` (``sketch, accuracy, rng, lambda0, maxiter, warm_start,
    hess_lagrangian, hessp_lagrangian, inner``) and its ``options`` keys. Hong, Na, Mahoney,
    Kolar (ICML 2023, arXiv:2305.18379); docs/alsketch.md.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.optimize import minimize, LinearConstraint
    >>> from numfit.optimize import alsketch
    >>> res = minimize(lambda x: x @ x, [3.0, -1.0], method=alsketch, jac=lambda x: 2 * x,
    ...                hess=lambda x: 2 * np.eye(2),
    ...                constraints=LinearConstraint([[1.0, 1.0]], 1.0, 1.0), tol=1e-8,
    ...                options={"rng": 0})
    >>> res.success, np.round(res.x, 6).tolist()
    (True, [0.5, 0.5])
    """
    if bounds is not None:
        raise ValueError(f"`bounds` are not supported by alsketch: {_EQ_ONLY}")
    kw = {}
    for key in ("tol", "maxiter", "sketch", "accuracy", "rng", "lambda0", "warm_start",
                "hess_lagrangian", "hessp_lagrangian", "inner"):
        if key in options:
            kw[key] = options.pop(key)
    for key in ("tol", "maxiter"):
        if key in kw and kw[key] is None:
            kw.pop(key)
    options.pop("disp", None)
    return minimize_alsketch(fun, x0, args, jac=jac, hess=hess, hessp=hessp,
                             constraints=constraints, callback=callback,
                             options=options or None, **kw)
