"""Sketch-and-project solvers for consistent linear systems (Gower and Richtarik, *Randomized
iterative methods for linear systems*, SIAM J. Matrix Anal. Appl. 36, 2015).

:func:`sketch_solve` validates its input and drives the compiled kernels of
``numfit._core._sketch`` (Cython; Numba twin ``_nb_sketch``, chosen by ``NUMFIT_KERNELS``)
through :class:`SketchRunner`, which the AL-sketch optimizer (``numfit.optimize``) reuses for
its Newton-KKT systems. Random numbers are drawn here, in fixed chunks, and passed to the
kernels, which own no random state: the iterates depend only on the seed, not on the kernel.
A chunk of sketches is handed to the kernel in pieces of about ``_chunks.CHUNK_WORK`` nonzero
visits (the kernels carry their state in ``istate``/``fstate``, so the iterates are those of
one call), so that Ctrl-C reaches Python within milliseconds.
"""
import math

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, aslinearoperator

from .. import _backend, _kernelselect
from .._result import Result
from .._validation import as_rng, check_float, check_int, check_option, check_real_matrix
from . import _chunks

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
    """k = min(N, max(2, round(sqrt(N))))."""
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
            Stop early when the residual at the checks stalls (the AL-sketch fallback): after 3
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
            return self._run_python(b, z, r, target, max_steps, check_every, stall, hist,
                                    callback)
        incr = 1 if self.incr else 0
        r = np.ascontiguousarray(r)
        sub = _chunks.pieces(self._step_work(check_every))
        while steps < max_steps:
            draws = self.draw()
            m = min(self.chunk, max_steps - steps)
            for lo in range(0, m, sub):      # the kernel in pieces: Ctrl-C between them
                part = tuple(d[lo:min(lo + sub, m)] for d in draws)
                hbuf = np.empty(part[0].shape[0] // check_every + 2)
                done = self._call(part, b, z, r, incr, check_every, istate, fstate, hbuf)
                steps += int(done)
                hist.extend(hbuf[: int(istate[4])].tolist())
                if istate[2] >= 0:
                    break
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

    def _step_work(self, check_every):
        """Nonzero visits of one compiled step (for the pieces of a chunk)."""
        N, n, k = self.N, self.n, self.k
        nnz, nnz_m = self.ax.shape[0], self.mx.shape[0]
        row, row_m = nnz / N, nnz_m / N
        check = (N if self.incr else nnz) / check_every
        s = self.sketch
        if s in ("kaczmarz", "kaczmarz_rownorm"):
            work = 2 * row + (row_m if self.incr else 0)
        elif s == "gaussian":
            work = nnz + N + 2 * n + (nnz_m if self.incr else 0)
        elif s == "block_kaczmarz":
            work = (k * k / 2 + 2 * k) * row + k ** 3 / 3 + (k * row_m if self.incr else 0)
        elif s == "block_gaussian":
            work = (nnz_m + N * k / 2 + 2 * N) * k + k ** 3 / 3 + nnz + \
                (nnz_m if self.incr else nnz)
        else:
            work = 2 * N + nnz_m + k ** 3 / 3 + nnz + (nnz_m if self.incr else nnz)
        return work + check + 1

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
            w = np.empty(self.n)
            done = K.gaussian(*a, b, draws[0], *m, z, r, w, incr, ce, istate, fstate, hbuf)
            self.n_matvec += done * (2 if incr else 1)     # the steps run, not the chunk
            return done
        if s == "block_kaczmarz":
            buf = np.zeros(self.n)
            return K.block_kaczmarz(*a, b, draws[0], *m, z, r, buf, self._G, self._rhs,
                                    self._y, self._drop, incr, ce, istate, fstate, hbuf)
        tvec = np.empty(self.N)
        if s == "block_gaussian":
            T = np.empty((self.N, self.k))
            done = K.block_gaussian(*a, b, draws[0], *m, z, r, T, self._G, self._rhs,
                                    self._y, self._drop, tvec, incr, ce, istate, fstate,
                                    hbuf)
            self.n_matvec += done * self.k
            return done
        done = K.countsketch(*a, b, draws[0], draws[1], *m, z, r, self._G, self._rhs,
                             self._y, self._drop, tvec, incr, ce, istate, fstate, hbuf)
        self.n_matvec += done
        return done

    def _chunk_draws(self, m):
        """The next chunk of sketches for the Python loop, cut to ``m`` steps."""
        return tuple(d[:m] for d in self.draw())

    def _py_step(self, draws, t, b, z, r):
        """One matrix-free Gaussian step (products in Python); returns the residual, updated
        in place of ``r`` when incremental."""
        op = self.op
        if self.sketch == "block_gaussian":
            St = draws[0][t]
            W = np.asarray(op.rmatmat(St))
            self.n_matvec += self.k
            G = np.ascontiguousarray(W.T @ W)
            rhs = np.ascontiguousarray(W.T @ z - St.T @ b)
            y = np.zeros(self.k)
            self.kern.chol_solve(G, rhs, y, self._drop)
            dz = W @ y
        else:
            s = draws[0][t]
            w = np.asarray(op.rmatvec(s)).ravel()
            self.n_matvec += 1
            ww = float(w @ w)
            dz = w * ((float(w @ z) - float(s @ b)) / ww) if ww > 0 else None
        if dz is not None:
            z -= dz
            if self.incr:
                r -= op.matvec(dz)
                self.n_matvec += 1
        return r

    def _run_python(self, b, z, r, target, max_steps, ce, stall, hist, callback):
        """The step loop in Python, shared by the matrix-free Gaussian types and the xp (GPU)
        runner: chunks of sketches from :meth:`_chunk_draws`, one :meth:`_py_step` per step,
        a stopping test every ``ce`` steps (exact residual, or the incremental one confirmed
        exactly below the target), ``callback`` after each chunk."""
        steps = 0
        since = 0
        status = "maxiter"
        target2 = target * target
        while steps < max_steps and status == "maxiter":
            m = min(self.chunk, max_steps - steps)
            draws = self._chunk_draws(m)
            for t in range(m):
                r = self._py_step(draws, t, b, z, r)
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
        res = math.sqrt(float(r @ r))
        if not math.isfinite(res):
            status = "nonfinite"
        return {"status": status, "steps": steps, "residual": res, "history": hist}


# --------------------------------------------------------------------------- xp (GPU) path
XP_TYPES = ("gaussian", "block_gaussian", "block_kaczmarz", "countsketch")
"""Sketch types with an array-namespace implementation (run on the GPU for CuPy input)."""


class XpSketchRunner(SketchRunner):
    """Sketch-and-project written once against an array namespace ``xp`` (NumPy or CuPy).

    Used by :func:`sketch_solve` when ``A``/``b``/``x0`` are CuPy arrays (or ``A`` is a
    ``cupyx.scipy.sparse`` matrix); with ``xp = numpy`` the same code runs on the CPU and is
    compared with the compiled kernels in the tests. The random numbers are drawn on the host
    by :meth:`SketchRunner.draw` (the same chunks as the compiled path, so equal seeds give
    equal sketches) and copied to the device a chunk at a time. The ``k x k`` solve
    ``(W^T W) y = S^T r`` runs on the host with the compiled pivot-dropping Cholesky
    (``k^2 + k`` numbers down, ``k`` up per step). The residual is computed exactly at every
    check (no incremental update), so ``check_every=1`` costs one product per step.
    Kaczmarz (one row per step) is not offered: it is launch-latency bound on a GPU.
    """

    def __init__(self, xp, A, sketch, rng, block_size=None, kern=None):
        if sketch not in XP_TYPES:
            raise ValueError(f"sketch={sketch!r} has no GPU path (row-by-row Kaczmarz does one "
                             "row per kernel launch); use sketch='block_kaczmarz' (k rows per "
                             "step), 'block_gaussian', 'countsketch' or 'gaussian', or pass "
                             "NumPy/SciPy arrays")
        self.xp = xp
        self.spmod = _backend.sparse_module(xp)
        self.sketch = sketch
        self.rng = rng
        self.kern = kernels if kern is None else kern
        self.matrix_free = False
        self.incr = False
        N, n = A.shape
        self.N, self.n = int(N), int(n)
        self.k = 1
        if sketch in BLOCK_TYPES:
            self.k = default_block_size(N) if block_size is None else int(block_size)
        self.n_matvec = 0
        self.A = A
        self.sparse = self.spmod.issparse(A)
        if self.sparse and sketch == "block_kaczmarz":
            self.ap = _backend.to_numpy(A.indptr).astype(np.int64)
        if sketch in ("block_gaussian", "countsketch"):
            self.M = A @ A.T
        per = {"gaussian": N, "block_gaussian": N * self.k, "block_kaczmarz": self.k,
               "countsketch": 2 * N}[sketch]
        self.chunk = _chunk_steps(per)
        self._drop = np.zeros(self.k, dtype=np.int64)

    def residual(self, z, b):
        """Exact r = A z - b (namespace xp)."""
        self.n_matvec += 1
        return self.A @ z - b

    def _rows(self, tau_h):
        """The rows ``tau_h`` (host indices) of A: a dense (k, n) array or a (k, n) CSR."""
        xp = self.xp
        if not self.sparse:
            return self.A[xp.asarray(tau_h)]
        ap = self.ap
        lens = ap[tau_h + 1] - ap[tau_h]
        ptr = np.concatenate([[0], np.cumsum(lens)])
        pos = np.repeat(ap[tau_h] - ptr[:-1], lens) + np.arange(ptr[-1])
        pos = xp.asarray(pos)
        return self.spmod.csr_matrix(
            (self.A.data[pos], self.A.indices[pos], xp.asarray(ptr.astype(self.A.indptr.dtype))),
            shape=(len(tau_h), self.n))

    def _solve(self, G, rhs):
        """Host pivot-dropping Cholesky of the k x k system (upper triangle of G used)."""
        G = _backend.to_numpy(G.toarray() if self.spmod.issparse(G) else G)
        G = np.triu(G) + np.triu(G, 1).T
        y = np.zeros(self.k)
        self.kern.chol_solve(np.ascontiguousarray(G), np.ascontiguousarray(
            _backend.to_numpy(rhs), dtype=np.float64), y, self._drop)
        return self.xp.asarray(y)

    def _step(self, draws, t, b, z):
        xp, s = self.xp, self.sketch
        if s == "gaussian":
            sv = draws[0][t]
            w = self.A.T @ sv
            self.n_matvec += 1
            ww = w @ w
            pos = ww > 0
            c = (w @ z - sv @ b) / xp.where(pos, ww, 1.0) * pos
            z -= c * w
            return
        if s == "block_kaczmarz":
            tau = draws[0][t]
            R = self._rows(tau)
            rhs = R @ z - b[xp.asarray(tau)]
            G = R @ R.T
            y = self._solve(G, rhs)
            z -= R.T @ y
            return
        if s == "block_gaussian":
            S = draws[0][t]
            self.n_matvec += self.k
        else:
            h, sg = draws[0][t], draws[1][t]
            S = xp.zeros((self.N, self.k))
            S[xp.arange(self.N), h] = sg
            self.n_matvec += 1
        r = self.A @ z - b
        rhs = S.T @ r
        G = S.T @ (self.M @ S)
        y = self._solve(G, rhs)
        z -= self.A.T @ (S @ y)

    def run(self, b, z, target, max_steps, check_every, stall=False, callback=None):
        """As :meth:`SketchRunner.run` (``b``, ``z`` of namespace xp; z updated in place)."""
        r = self.residual(z, b)
        rr = float(r @ r)
        hist = [math.sqrt(rr)] if math.isfinite(rr) else [math.inf]
        if not math.isfinite(rr):
            return {"status": "nonfinite", "steps": 0, "residual": math.inf, "history": hist}
        if math.sqrt(rr) <= target:
            return {"status": "converged", "steps": 0, "residual": math.sqrt(rr),
                    "history": hist}
        return self._run_python(b, z, r, target, max_steps, max(1, int(check_every)), stall,
                                hist, callback)

    def _chunk_draws(self, m):
        """The next chunk of sketches, drawn on the host and copied to the device at once."""
        xp = self.xp
        draws = super()._chunk_draws(m)
        if self.sketch in ("gaussian", "block_gaussian"):
            return (xp.asarray(draws[0]),)
        if self.sketch == "countsketch":
            return (xp.asarray(draws[0]), xp.asarray(draws[1]))
        return draws

    def _py_step(self, draws, t, b, z, r):
        self._step(draws, t, b, z)
        return r


def _xp_matrix(xp, A):
    """``A`` as a float64 matrix of namespace ``xp``: an ``spmod.csr_matrix`` or a dense 2-D
    array; checked real, finite and non-empty."""
    spmod = _backend.sparse_module(xp)
    if isinstance(A, LinearOperator):
        raise TypeError("`A` is a LinearOperator: CuPy input needs an explicit matrix (a CuPy "
                        "array or a cupyx.scipy.sparse matrix)")
    if sp.issparse(A) and xp is not np:                    # pragma: no cover - needs CuPy
        A = spmod.csr_matrix(sp.csr_matrix(A))
    if spmod.issparse(A):
        if A.dtype.kind == "c":
            raise TypeError(f"`A` must be real; got dtype {A.dtype}")
        if A.dtype.kind not in "iuf":
            raise TypeError(f"`A` must be a real matrix (integer or floating point entries); "
                            f"got dtype {A.dtype}")
        M = spmod.csr_matrix(A).astype(np.float64)
        vals = M.data
    else:
        if xp is not np and not _backend.is_cupy(A):       # pragma: no cover - needs CuPy
            A = np.asarray(A)
        M = xp.asarray(A)
        if M.dtype.kind == "c":
            raise TypeError(f"`A` must be real; got dtype {M.dtype}")
        if M.dtype.kind not in "iuf":
            raise TypeError(f"`A` must be a real matrix (integer or floating point entries); "
                            f"got dtype {M.dtype}")
        if M.ndim != 2:
            raise ValueError(f"`A` must be 2-D; got shape {M.shape}")
        M = xp.ascontiguousarray(M, dtype=xp.float64)
        vals = M
    if not bool(xp.isfinite(vals).all()):
        raise ValueError("`A` must be finite; it has non-finite entries")
    if min(M.shape) < 1:
        raise ValueError(f"`A` must have at least one row and column; got shape {M.shape}")
    return M


def _xp_vector(xp, name, v, size):
    if xp is not np and not _backend.is_cupy(v):           # pragma: no cover - needs CuPy
        v = np.asarray(v)
    arr = xp.asarray(v)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` must be a real vector; got dtype {arr.dtype}")
    if arr.ndim != 1 or arr.shape[0] != size:
        raise ValueError(f"`{name}` must have shape ({size},); got {arr.shape}")
    if not bool(xp.isfinite(arr).all()):
        raise ValueError(f"`{name}` must be finite")
    return xp.ascontiguousarray(arr, dtype=xp.float64)


def _sketch_solve_xp(xp, A, b, sketch, rtol, maxiter, rng, block_size, x0, atol, check_every,
                     callback):
    """:func:`sketch_solve` through :class:`XpSketchRunner` (the CuPy path; with
    ``xp = numpy`` the same code on the CPU, for the tests)."""
    sketch = check_option("sketch", sketch, SKETCHES)
    if sketch not in XP_TYPES:
        raise ValueError(f"sketch={sketch!r} has no GPU path (row-by-row Kaczmarz does one "
                         "row per kernel launch); use sketch='block_kaczmarz' (k rows per "
                         "step), 'block_gaussian', 'countsketch' or 'gaussian', or pass "
                         "NumPy/SciPy arrays")
    M = _xp_matrix(xp, A)
    N, n = M.shape
    b = _xp_vector(xp, "b", b, N)
    x = xp.zeros(n) if x0 is None else _xp_vector(xp, "x0", x0, n).copy()
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
        check_every = {"gaussian": 10}.get(sketch, -(-N // k))
    check_every = check_int("check_every", check_every, lo=1)
    if callback is not None and not callable(callback):
        raise TypeError(f"`callback` must be callable or None; got {type(callback).__name__}")
    runner = XpSketchRunner(xp, M, sketch, as_rng(rng),
                            block_size=k if sketch in BLOCK_TYPES else None)
    target = max(rtol * float(xp.sqrt(b @ b)), atol)
    out = runner.run(b, x, target, maxiter, check_every, stall=False, callback=callback)
    return _result(out, x, runner, sketch, k, check_every, maxiter, target)


def _result(out, x, runner, sketch, k, check_every, maxiter, target):
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
        Integer or floating entries (boolean, complex and object matrices are a TypeError).
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
        stops the run (status 3). Any other exception (KeyboardInterrupt included)
        propagates; ``A``, ``b`` and ``x0`` are left unchanged (``rng``, if a Generator, has
        advanced by the sketches drawn).

    Returns
    -------
    SketchResult
        ``x, nit, residual, converged, success, status, message, n_matvec, sketch,
        block_size, check_every, residual_history``.

    Notes
    -----
    **GPU.** When ``A`` is a CuPy array or a ``cupyx.scipy.sparse`` matrix, or ``b``/``x0``
    is a CuPy array, the sketches ``"block_kaczmarz"``, ``"block_gaussian"``,
    ``"countsketch"`` and ``"gaussian"`` run on the device (``x`` is a CuPy array) through
    code written once against the array namespace. The sketches are drawn on the host from
    ``rng`` exactly as on the CPU, so the iterates equal the CPU ones up to rounding; the
    ``k x k`` solve runs on the host. ``"kaczmarz"`` and ``"kaczmarz_rownorm"`` raise
    ``ValueError`` for CuPy input (one row per step is launch-latency bound: use
    ``"block_kaczmarz"``). The residual is recomputed exactly at every check, so with
    ``check_every=1`` ``n_matvec`` counts one product per step.

    Examples
    --------
    >>> import numpy as np
    >>> from numfit.linalg import sketch_solve
    >>> A = np.array([[4.0, 1.0], [1.0, 3.0]])
    >>> res = sketch_solve(A, [1.0, 2.0], sketch="kaczmarz", rtol=1e-10, rng=0)
    >>> res.converged, np.allclose(A @ res.x, [1.0, 2.0])
    (True, True)
    """
    if not isinstance(A, LinearOperator) and \
            _backend.array_namespace(A, b, x0) is not np:  # pragma: no cover - needs CuPy
        return _sketch_solve_xp(_backend.array_namespace(A, b, x0), A, b, sketch, rtol,
                                maxiter, rng, block_size, x0, atol, check_every, callback)
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
    return _result(out, x, runner, sketch, k, check_every, maxiter, target)
