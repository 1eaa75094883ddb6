"""Sketch-and-project solvers for consistent linear systems (specs/alsketch.md section 4).

:func:`sketch_solve` validates its input and drives the compiled kernels of
``numfit._core._sketch`` (Cython; Numba twin ``_nb_sketch``, chosen by ``NUMFIT_KERNELS``)
through :class:`SketchRunner`, which the AL-sketch optimizer (``numfit.optimize``) reuses for
its Newton-KKT systems. Random numbers are drawn here, in fixed chunks, and passed to the
kernels, which own no random state: the iterates depend only on the seed, not on the kernel.
"""
import math

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, aslinearoperator

from .. import _kernelselect
from .._result import Result
from .._validation import as_rng, check_float, check_int, check_option, check_real_matrix

__all__ = [
    "SKETCHES",
    "SketchResult",
    "SketchRunner",
    "default_block_size",
    "kernels",
    "load",
    "sketch_solve",
]

SKETCHES = ("gaussian", "kaczmarz", "kaczmarz_rownorm", "block_gaussian", "block_kaczmarz",
            "countsketch")
"""The sketch types: Gaussian vector, uniform and row-norm Kaczmarz, block Gaussian, block
Kaczmarz (k distinct rows) and count sketch."""
GAUSSIAN_TYPES = ("gaussian", "block_gaussian")
BLOCK_TYPES = ("block_gaussian", "block_kaczmarz", "countsketch")
CHUNK = 4096
"""Steps per chunk of pre-drawn random numbers (fewer when one step needs many numbers)."""
_CHUNK_NUMBERS = 1 << 22

_MESSAGES = {
    0: "converged: ||A x - b|| <= max(rtol*||b||, atol)",
    1: "maximum number of sketch steps reached without convergence",
    2: "the residual became non-finite",
    3: "stopped by the callback",
}


def load(name):
    """Return the sketch kernel module called ``name`` ("cython" or "numba")."""
    return _kernelselect.load("sketch", name)


kernels = _kernelselect.default("sketch")
"""The kernel module in use (monkeypatchable in tests)."""


class SketchResult(Result):
    """Result of :func:`sketch_solve`.

    Keys: ``x, nit`` (sketch steps), ``residual`` (exact ``||A x - b||``), ``converged``,
    ``success``, ``status`` (0 converged, 1 maxiter, 2 non-finite, 3 callback), ``message``,
    ``n_matvec`` (products with A or A^T, counting a block of k as k), ``sketch``,
    ``block_size``, ``check_every`` and ``residual_history`` (``||A x - b||`` at each check,
    starting with the initial residual).
    """


def default_block_size(N):
    """k = min(N, max(2, round(sqrt(N)))) (spec 4)."""
    return int(min(N, max(2, round(math.sqrt(N)))))


def _chunk_steps(numbers_per_step):
    return int(max(1, min(CHUNK, _CHUNK_NUMBERS // max(1, numbers_per_step))))


def _csr64(A):
    A = sp.csr_array(A, dtype=np.float64)
    A.sum_duplicates()
    A.sort_indices()
    return (np.ascontiguousarray(A.indptr, dtype=np.int64),
            np.ascontiguousarray(A.indices, dtype=np.int64),
            np.ascontiguousarray(A.data, dtype=np.float64), A)


_DUMMY_I = np.zeros(1, dtype=np.int64)
_DUMMY_F = np.zeros(0, dtype=np.float64)


class SketchRunner:
    """Sketch-and-project on one matrix, reusable over right-hand sides and warm starts.

    Parameters
    ----------
    A : ndarray, sparse matrix or LinearOperator
        N x n; a LinearOperator only with the Gaussian types (its ``rmatvec``/``rmatmat`` give
        ``A^T s``). Not validated here (front ends do that).
    sketch : str
        One of :data:`SKETCHES`.
    rng : numpy.random.Generator
        Source of the pre-drawn random numbers; advanced by whole chunks.
    block_size : int or None
        k for the block types (default :func:`default_block_size`).
    incremental : bool
        Keep the residual up to date after every step (needs ``M = A A^T``); used when the
        stopping test runs at every step.
    kern : module or None
        Kernel module (default: the selected one).
    """

    def __init__(self, A, sketch, rng, block_size=None, incremental=False, kern=None):
        self.sketch = sketch
        self.rng = rng
        self.kern = kernels if kern is None else kern
        self.matrix_free = isinstance(A, LinearOperator)
        N, n = A.shape
        self.N, self.n = int(N), int(n)
        self.k = 1
        if sketch in BLOCK_TYPES:
            self.k = default_block_size(N) if block_size is None else int(block_size)
        self.n_matvec = 0
        if self.matrix_free:
            self.op = A
            self.incr = bool(incremental)
            self.M = None
            self.gram = None
        else:
            self.ap, self.aj, self.ax, self.csr = _csr64(A)
            self.incr = bool(incremental)
            need_m = self.incr or sketch in ("block_gaussian", "countsketch")
            if need_m:
                M = (self.csr @ self.csr.T).tocsr()
                self.mp, self.mj, self.mx, _ = _csr64(M)
            else:
                self.mp, self.mj, self.mx = _DUMMY_I, _DUMMY_I, _DUMMY_F
            self.rn2 = np.asarray(self.csr.multiply(self.csr).sum(axis=1), dtype=np.float64)
            self.rn2 = np.ascontiguousarray(self.rn2.ravel())
            if sketch == "kaczmarz_rownorm":
                tot = self.rn2.sum()
                self.cdf = np.cumsum(self.rn2) / tot if tot > 0 else \
                    np.arange(1, N + 1) / N
        per = {"gaussian": N, "kaczmarz": 1, "kaczmarz_rownorm": 1,
               "block_gaussian": N * self.k, "block_kaczmarz": self.k,
               "countsketch": 2 * N}[sketch]
        self.chunk = _chunk_steps(per)
        k = self.k
        self._G = np.zeros((k, k))
        self._rhs = np.zeros(k)
        self._y = np.zeros(k)
        self._drop = np.zeros(k, dtype=np.int64)

    # ------------------------------------------------------------------ random numbers
    def draw(self):
        """Pre-draw one chunk of random numbers (a tuple of arrays)."""
        rng, N, k, c = self.rng, self.N, self.k, self.chunk
        s = self.sketch
        if s == "kaczmarz":
            return (rng.integers(0, N, size=c, dtype=np.int64),)
        if s == "kaczmarz_rownorm":
            u = rng.random(c)
            idx = np.searchsorted(self.cdf, u * self.cdf[-1], side="right")
            return (np.minimum(idx, N - 1).astype(np.int64),)
        if s == "gaussian":
            return (rng.standard_normal((c, N)),)
        if s == "block_gaussian":
            return (rng.standard_normal((c, N, k)),)
        if s == "block_kaczmarz":
            per = max(1, N // k)                 # blocks per random permutation
            nperm = -(-c // per)
            tau = np.empty((nperm * per, k), dtype=np.int64)
            for q in range(nperm):
                perm = rng.permutation(N)[: per * k]
                tau[q * per:(q + 1) * per] = perm.reshape(per, k)
            return (np.ascontiguousarray(tau[:c]),)
        if s == "countsketch":
            h = rng.integers(0, k, size=(c, N), dtype=np.int64)
            sg = rng.integers(0, 2, size=(c, N)).astype(np.float64) * 2.0 - 1.0
            return (h, sg)
        raise AssertionError(s)

    # ------------------------------------------------------------------ residual
    def residual(self, z, b):
        """Exact r = A z - b."""
        self.n_matvec += 1
        if self.matrix_free:
            return self.op.matvec(z) - b
        r = np.empty(self.N)
        self.kern.residual(self.ap, self.aj, self.ax, b, z, r)
        return r

    # ------------------------------------------------------------------ driver
    def run(self, b, z, target, max_steps, check_every, stall=False, callback=None):
        """Run sketch steps from ``z`` (updated in place) until ``||A z - b|| <= target``.

        Parameters
        ----------
        b : (N,) float64 C-contiguous;  z : (n,) float64 C-contiguous (in place)
        target : float, absolute residual target
        max_steps : int
        check_every : int, steps between stopping tests
        stall : bool
            Stop early when the residual at the checks stalls (spec 4 "Fallback"): after 3
            checks, gamma = (R_j / R_{j-3})^(1/3) >= 1 or R_j gamma^(checks left) > target.
        callback : callable or None
            Called with a copy of z after every chunk; returning True or raising
            StopIteration stops the run.

        Returns
        -------
        dict with ``status`` ("converged", "maxiter", "stall", "nonfinite", "callback"),
        ``steps``, ``residual`` (exact), ``history`` (residual at the checks, the initial
        residual first).
        """
        r = self.residual(z, b)
        rr = float(r @ r)
        hist = [math.sqrt(rr)]
        if not math.isfinite(rr):
            return {"status": "nonfinite", "steps": 0, "residual": math.inf, "history": hist}
        if math.sqrt(rr) <= target:
            return {"status": "converged", "steps": 0, "residual": math.sqrt(rr), "history": hist}
        check_every = max(1, int(check_every))
        istate = np.zeros(5, dtype=np.int64)
        istate[2] = -1
        fstate = np.array([rr, target * target])
        steps = 0
        status = "maxiter"
        if self.matrix_free:
            out = self._run_free(b, z, r, rr, target, max_steps, check_every, stall, hist,
                                 callback)
            return out
        incr = 1 if self.incr else 0
        r = np.ascontiguousarray(r)
        while steps < max_steps:
            draws = self.draw()
            m = min(self.chunk, max_steps - steps)
            draws = tuple(d[:m] for d in draws)
            hbuf = np.empty(m // check_every + 2)
            done = self._call(draws, b, z, r, incr, check_every, istate, fstate, hbuf)
            steps += int(done)
            hist.extend(hbuf[: int(istate[4])].tolist())
            if istate[2] == 0:
                status = "converged"
                break
            if istate[2] == 2:
                status = "nonfinite"
                break
            if callback is not None:
                try:
                    stop = callback(z.copy())
                except StopIteration:
                    stop = True
                if stop:
                    status = "callback"
                    break
            if stall and self._stalled(hist, target, (max_steps - steps) / check_every):
                status = "stall"
                break
            if not np.all(np.isfinite(z)):
                status = "nonfinite"
                break
        r = self.residual(z, b)
        res = float(np.sqrt(r @ r))
        if status == "converged" and not res <= target:       # pragma: no cover - guard
            status = "maxiter"
        if not math.isfinite(res):
            status = "nonfinite"
        return {"status": status, "steps": steps, "residual": res, "history": hist}

    @staticmethod
    def _stalled(hist, target, checks_left):
        if len(hist) < 4:
            return False
        rj, r3 = hist[-1], hist[-4]
        if not (r3 > 0):
            return False
        gamma = (rj / r3) ** (1.0 / 3.0)
        if gamma >= 1.0:
            return True
        return rj * gamma ** max(checks_left, 0.0) > target

    def _call(self, draws, b, z, r, incr, ce, istate, fstate, hbuf):
        K = self.kern
        s = self.sketch
        a = (self.ap, self.aj, self.ax)
        m = (self.mp, self.mj, self.mx)
        if s in ("kaczmarz", "kaczmarz_rownorm"):
            return K.kaczmarz(*a, self.rn2, b, draws[0], *m, z, r, incr, ce, istate, fstate,
                              hbuf)
        if s == "gaussian":
            self.n_matvec += draws[0].shape[0] * (2 if incr else 1)
            w = np.empty(self.n)
            return K.gaussian(*a, b, draws[0], *m, z, r, w, incr, ce, istate, fstate, hbuf)
        if s == "block_kaczmarz":
            buf = np.zeros(self.n)
            return K.block_kaczmarz(*a, b, draws[0], *m, z, r, buf, self._G, self._rhs,
                                    self._y, self._drop, incr, ce, istate, fstate, hbuf)
        tvec = np.empty(self.N)
        if s == "block_gaussian":
            self.n_matvec += draws[0].shape[0] * self.k
            T = np.empty((self.N, self.k))
            return K.block_gaussian(*a, b, draws[0], *m, z, r, T, self._G, self._rhs,
                                    self._y, self._drop, tvec, incr, ce, istate, fstate,
                                    hbuf)
        self.n_matvec += draws[0].shape[0]
        return K.countsketch(*a, b, draws[0], draws[1], *m, z, r, self._G, self._rhs,
                             self._y, self._drop, tvec, incr, ce, istate, fstate, hbuf)

    def _run_free(self, b, z, r, rr, target, max_steps, ce, stall, hist, callback):
        """Gaussian types on a LinearOperator: the same steps, products in Python."""
        op = self.op
        steps = 0
        since = 0
        status = "maxiter"
        target2 = target * target
        block = self.sketch == "block_gaussian"
        while steps < max_steps and status == "maxiter":
            (S,) = self.draw()
            m = min(self.chunk, max_steps - steps)
            for t in range(m):
                if block:
                    St = S[t]
                    W = np.asarray(op.rmatmat(St))
                    self.n_matvec += self.k
                    G = np.ascontiguousarray(W.T @ W)
                    rhs = np.ascontiguousarray(W.T @ z - St.T @ b)
                    y = np.zeros(self.k)
                    self.kern.chol_solve(G, rhs, y, self._drop)
                    dz = W @ y
                else:
                    s = S[t]
                    w = np.asarray(op.rmatvec(s)).ravel()
                    self.n_matvec += 1
                    ww = float(w @ w)
                    dz = w * ((float(w @ z) - float(s @ b)) / ww) if ww > 0 else None
                if dz is not None:
                    z -= dz
                    if self.incr:
                        r -= op.matvec(dz)
                        self.n_matvec += 1
                steps += 1
                since += 1
                if since >= ce:
                    since = 0
                    if not self.incr:
                        r = self.residual(z, b)
                    rr = float(r @ r)
                    if not math.isfinite(rr):
                        status = "nonfinite"
                        break
                    if rr <= target2 and self.incr:
                        r = self.residual(z, b)
                        rr = float(r @ r)
                    hist.append(math.sqrt(rr))
                    if rr <= target2:
                        status = "converged"
                        break
                    if stall and self._stalled(hist, target, (max_steps - steps) / ce):
                        status = "stall"
                        break
            if status == "maxiter" and callback is not None:
                try:
                    stop = callback(z.copy())
                except StopIteration:
                    stop = True
                if stop:
                    status = "callback"
        r = self.residual(z, b)
        res = float(np.sqrt(r @ r))
        if not math.isfinite(res):
            status = "nonfinite"
        return {"status": status, "steps": steps, "residual": res, "history": hist}


def _validate_matrix(A, sketch):
    if isinstance(A, LinearOperator):
        if sketch not in GAUSSIAN_TYPES:
            raise ValueError(f"`A` is a LinearOperator, but sketch={sketch!r} needs the rows "
                             "of an explicit (dense or sparse) matrix; use 'gaussian' or "
                             "'block_gaussian'")
        if len(A.shape) != 2 or min(A.shape) < 1:
            raise ValueError(f"`A` must be a 2-D operator with at least one row and column; "
                             f"got shape {A.shape}")
        return aslinearoperator(A)
    M = check_real_matrix("A", A)
    if sp.issparse(M):
        M = sp.csr_array(M, dtype=np.float64)
    if not np.all(np.isfinite(M.data if sp.issparse(M) else M)):
        raise ValueError("`A` must be finite; it has non-finite entries")
    if min(M.shape) < 1:
        raise ValueError(f"`A` must have at least one row and column; got shape {M.shape}")
    return M


def _vector(name, v, size):
    arr = np.asarray(v)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number) \
            or np.iscomplexobj(arr):
        raise TypeError(f"`{name}` must be a real vector; got dtype {arr.dtype}")
    if arr.ndim != 1 or arr.shape[0] != size:
        raise ValueError(f"`{name}` must have shape ({size},); got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` must be finite")
    return np.ascontiguousarray(arr, dtype=np.float64)


def sketch_solve(A, b, sketch="kaczmarz", rtol=1e-8, maxiter=None, rng=None, block_size=None,
                 *, x0=None, atol=0.0, check_every=None, callback=None):
    """Solve a consistent system ``A x = b`` by randomized sketch-and-project.

    Each step draws a sketch ``S`` and projects the iterate onto the solution set of the
    sketched system, ``x <- x - W (W^T W)^+ S^T (A x - b)`` with ``W = A^T S`` (Gower and
    Richtarik 2015). The iterates converge linearly in expectation to the solution nearest
    ``x0``; A may be square indefinite (KKT matrices) or rectangular.

    Parameters
    ----------
    A : (N, n) array_like, sparse matrix or LinearOperator
        A LinearOperator is accepted by the Gaussian types only (``rmatvec`` must give
        ``A^T s``).
    b : (N,) array_like
    sketch : {"kaczmarz", "kaczmarz_rownorm", "gaussian", "block_gaussian", \
"block_kaczmarz", "countsketch"}
        Uniform or row-norm-sampled Kaczmarz rows, a Gaussian vector, an N x k Gaussian
        block, k distinct rows, or a count sketch with k buckets.
    rtol, atol : float
        Stop when ``||A x - b|| <= max(rtol*||b||, atol)`` (exact residual; tested every
        ``check_every`` steps).
    maxiter : int or None
        Cap on sketch steps; None means ``1000*N`` for the row and count types and ``10*N``
        for the Gaussian types.
    rng : None, int, SeedSequence or Generator
        Seed of the sketches; equal seeds give equal iterates on either kernel backend.
    block_size : int or None
        k for the block types; default ``min(N, max(2, round(sqrt(N))))``. Ignored by the
        vector types.
    x0 : (n,) array_like or None
        Starting point (default zeros).
    check_every : int or None
        Steps between stopping tests; default N for Kaczmarz, ``ceil(N/k)`` for the block
        types and 10 for the Gaussian vector. With 1 the residual is updated incrementally
        (``r -= c (A A^T)_{:,i}``) and recomputed exactly every 1000 updates.
    callback : callable or None
        ``callback(x)`` after every chunk of steps; returning True or raising StopIteration
        stops the run (status 3).

    Returns
    -------
    SketchResult
        ``x, nit, residual, converged, success, status, message, n_matvec, sketch,
        block_size, check_every, residual_history``.

    Examples
    --------
    >>> import numpy as np
    >>> from numfit.linalg import sketch_solve
    >>> A = np.array([[4.0, 1.0], [1.0, 3.0]])
    >>> res = sketch_solve(A, [1.0, 2.0], sketch="kaczmarz", rtol=1e-10, rng=0)
    >>> res.converged, np.allclose(A @ res.x, [1.0, 2.0])
    (True, True)
    """
    sketch = check_option("sketch", sketch, SKETCHES)
    M = _validate_matrix(A, sketch)
    N, n = M.shape
    b = _vector("b", b, N)
    x = np.zeros(n) if x0 is None else _vector("x0", x0, n).copy()
    rtol = check_float("rtol", rtol, lo=0.0)
    atol = check_float("atol", atol, lo=0.0)
    if block_size is not None:
        block_size = check_int("block_size", block_size, lo=1, hi=N)
    k = (block_size if block_size is not None else default_block_size(N)) \
        if sketch in BLOCK_TYPES else 1
    if maxiter is None:
        maxiter = 10 * N if sketch in GAUSSIAN_TYPES else 1000 * N
    maxiter = check_int("maxiter", maxiter, lo=0)
    if check_every is None:
        check_every = {"kaczmarz": N, "kaczmarz_rownorm": N, "gaussian": 10}.get(
            sketch, -(-N // k))
    check_every = check_int("check_every", check_every, lo=1)
    if callback is not None and not callable(callback):
        raise TypeError(f"`callback` must be callable or None; got {type(callback).__name__}")
    gen = as_rng(rng)
    runner = SketchRunner(M, sketch, gen, block_size=k if sketch in BLOCK_TYPES else None,
                          incremental=(check_every == 1))
    target = max(rtol * float(np.linalg.norm(b)), atol)
    out = runner.run(b, x, target, maxiter, check_every, stall=False, callback=callback)
    code = {"converged": 0, "maxiter": 1, "nonfinite": 2, "callback": 3}[out["status"]]
    conv = code == 0
    message = _MESSAGES[code]
    if code == 1:
        message += (f" (maxiter={maxiter}; ||A x - b|| = {out['residual']:.3g} > target "
                    f"{target:.3g}; sketch-and-project needs ~kappa_F(A)^2 log(1/rtol) steps: "
                    "pass a larger maxiter or a block sketch)")
    return SketchResult(x=x, nit=out["steps"], residual=out["residual"], converged=conv,
                        success=conv, status=code, message=message,
                        n_matvec=runner.n_matvec, sketch=sketch, block_size=k,
                        check_every=check_every,
                        residual_history=np.asarray(out["history"]))
