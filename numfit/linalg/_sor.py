"""SOR, SSOR-preconditioned CG and in-place sweeps: validating front ends over ``_core._sor``.

The method and its defaults are described in numfit's SOR guide (docs/sor.md). All checks and
coercions live here; the kernels see C-contiguous float64 vectors and a CSR matrix whose
diagonal is stored and positive. Long solves run the resumable kernels in pieces of a few
milliseconds (:mod:`numfit.linalg._chunks`), so Ctrl-C is delivered promptly and the SSOR-CG
stagnation test runs between pieces; the iterates are those of one call.
"""
import math
import time

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from .. import _backend
from .._result import Result
from .._validation import check_float, check_int, check_option, check_real_matrix
from . import _chunks, _kernels

__all__ = ["PreparedMatrix", "SolveResult", "prepare", "sor", "ssor_cg", "sor_sweep"]

_SWEEPS = ("forward", "backward", "symmetric")
_SWEEP_CODE = {"forward": 0, "backward": 1, "symmetric": 2}
_NORMS = ("r0", "b")
_NORM_CODE = {"r0": 0, "b": 1}
_ORDERS = ("fb", "bf")
_ORDERINGS = ("natural", "multicolor")

_SOR_MESSAGES = {
    0: "converged: ||r|| < max(rtol*ref, atol)",
    1: "maximum number of iterations reached without convergence",
    2: "diverged: the residual became non-finite or exceeded divtol*ref",
    3: "stopped by the callback",
}
_CG_MESSAGES = {
    0: "converged: ||r|| <= max(rtol*ref, atol)",
    1: "maximum number of iterations reached without convergence",
    2: "breakdown: p'Ap <= 0 or r'z <= 0 (A or the preconditioner is not positive definite) "
       "or the residual became non-finite",
    3: "stopped by the callback",
    4: "stagnated: the residual stopped decreasing above the target (the tolerance is below "
       "what double precision reaches)",
}
_NO_HIST = np.empty(0)


class SolveResult(Result):
    """Result of :func:`sor`, :func:`ssor_cg` and ``RelaxationTuner.solve``.

    A ``dict`` with attribute access. Keys: ``x, nit, converged, success, status`` (0 ok,
    1 maxiter, 2 diverged/breakdown, 3 callback stop, 4 stagnated: SSOR-CG found the true
    residual stuck at the rounding level above the target, i.e. the tolerance is below what
    double precision reaches; ``x`` is then the iterate with the smallest true residual),
    ``message, residual`` (the 2-norm of ``b - A x`` for the returned ``x``), ``relres``
    (residual / ref_norm), ``ref_norm``, ``omega``, ``nsweeps``, ``time`` and, if requested,
    ``residual_history``.
    """


class PreparedMatrix:
    """A validated CSR matrix with its diagonal located, reusable across solves.

    Made by :func:`prepare`. Attributes: ``indptr, indices, data`` (CSR, sorted indices, no
    duplicates), ``diag_pos`` (position of ``a_ii`` in ``data``), ``diag``, ``inv_diag``,
    ``n``, ``nnz``, ``shape`` and ``csr`` (the ``scipy.sparse.csr_array``).
    """

    def __init__(self, csr, diag_pos):
        self.csr = csr
        self.indptr = csr.indptr
        self.indices = csr.indices
        self.data = csr.data
        self.diag_pos = diag_pos
        self.diag = csr.data[diag_pos]
        self.inv_diag = 1.0 / self.diag
        self.n = csr.shape[0]
        self.shape = csr.shape
        self.nnz = csr.data.shape[0]
        self._asym = None
        self._norm_inf = None

    def __repr__(self):
        return f"PreparedMatrix(n={self.n}, nnz={self.nnz}, index={self.indices.dtype})"

    def asymmetry(self):
        """``max|A - A^T| / max|A|`` (cached)."""
        if self._asym is None:
            amax = float(np.max(np.abs(self.data))) if self.nnz else 0.0
            d = (self.csr - self.csr.T).tocsr()
            dmax = float(np.max(np.abs(d.data))) if d.nnz else 0.0
            self._asym = dmax / amax if amax > 0 else 0.0
        return self._asym

    def norm_inf(self):
        """``max_i sum_j |a_ij|`` (cached)."""
        if getattr(self, "_norm_inf", None) is None:
            self._norm_inf = float(np.max(np.add.reduceat(np.abs(self.data),
                                                          self.indptr[:-1])))
        return self._norm_inf

    def matvec(self, x):
        """``A @ x`` with the compiled kernel."""
        y = np.empty(self.n)
        _kernels.kernels.csr_matvec(self.indptr, self.indices, self.data,
                                    np.ascontiguousarray(x, dtype=np.float64), y)
        return y


def _check_numeric_matrix(name, A):
    """``A`` (sparse or array_like) must have an integer or floating dtype; complex is left
    to ``check_real_matrix`` ("must be real"). Returns ``A`` (array_like as an ndarray)."""
    if not sp.issparse(A):
        A = np.asarray(A)
    kind = A.dtype.kind
    if kind not in "iufc":
        raise TypeError(f"`{name}` must be a numeric matrix (integer or floating point "
                        f"entries); got dtype {A.dtype}")
    return A


def prepare(A, *, name="A"):
    """Validate ``A`` once and return a :class:`PreparedMatrix` for repeated solves.

    Parameters
    ----------
    A : sparse matrix/array, 2-D ndarray or PreparedMatrix
        Square real matrix (integer or floating dtype; boolean, complex and object matrices
        are a TypeError) with every diagonal entry stored and positive. Converted to CSR
        float64 (a copy), duplicates summed, column indices sorted.
    name : str
        Argument name used in error messages.

    Returns
    -------
    PreparedMatrix

    Examples
    --------
    >>> import numpy as np, numfit.linalg as la
    >>> P = la.prepare(np.array([[4.0, -1.0], [-1.0, 4.0]]))
    >>> P.n, P.diag.tolist()
    (2, [4.0, 4.0])
    """
    if isinstance(A, PreparedMatrix):
        return A
    if isinstance(A, LinearOperator):
        raise TypeError(f"`{name}` must be an explicit matrix (sparse or dense), not a "
                        "LinearOperator: SOR needs its entries")
    M = sp.csr_array(check_real_matrix(name, _check_numeric_matrix(name, A)), copy=True)
    if M.shape[0] != M.shape[1]:
        raise ValueError(f"`{name}` must be square; got shape {M.shape}")
    n = M.shape[0]
    if n < 1:
        raise ValueError(f"`{name}` must have at least one row; got shape {M.shape}")
    if M.dtype != np.float64:
        M = M.astype(np.float64)
    M.sum_duplicates()
    M.sort_indices()
    if not np.all(np.isfinite(M.data)):
        k = int(np.flatnonzero(~np.isfinite(M.data))[0])
        row = int(np.searchsorted(M.indptr, k, side="right") - 1)
        raise ValueError(f"`{name}` must be finite; got {M.data[k]} at row {row}, column "
                         f"{int(M.indices[k])}")
    idx = M.indices.dtype
    M.indptr = np.ascontiguousarray(M.indptr, dtype=idx)
    rows = np.repeat(np.arange(n, dtype=idx), np.diff(M.indptr))
    hit = np.flatnonzero(M.indices == rows)
    diag_pos = np.full(n, -1, dtype=idx)
    diag_pos[rows[hit]] = hit
    if np.any(diag_pos < 0):
        i = int(np.flatnonzero(diag_pos < 0)[0])
        raise ValueError(f"`{name}`: A[{i},{i}] must be > 0; got 0.0 (not stored) at row {i}")
    d = M.data[diag_pos]
    if np.any(d <= 0):
        i = int(np.flatnonzero(d <= 0)[0])
        raise ValueError(f"`{name}`: A[{i},{i}] must be > 0; got {d[i]} at row {i}")
    return PreparedMatrix(M, diag_pos)


def _as_vector(name, v, n, *, copy=False):
    arr = np.asarray(v)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                   or arr.dtype == np.bool_):
        raise TypeError(f"`{name}` must be a real vector; got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"`{name}` must be real; got dtype {arr.dtype}")
    if arr.shape != (n,):
        raise ValueError(f"`{name}` must have shape ({n},) to match A of shape ({n}, {n}); "
                         f"got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        i = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(f"`{name}` must be finite; got {arr[i]} at index {i}")
    if copy:
        return np.array(arr, dtype=np.float64, order="C", copy=True)
    return np.ascontiguousarray(arr, dtype=np.float64)


def _check_callback(callback):
    if callback is not None and not callable(callback):
        raise TypeError(f"`callback` must be callable or None; got {type(callback).__name__}")


def _ordering(ordering, *arrays):
    """Validate ``ordering``; True for "multicolor". CuPy inputs need "multicolor"."""
    ordering = check_option("ordering", ordering, _ORDERINGS)
    if ordering == "natural" and _backend.array_namespace(*arrays) is not np:
        raise ValueError("CuPy inputs need ordering='multicolor': natural-order (lexicographic) "
                         "SOR is sequential row by row and has no GPU path; the multicolour "
                         "ordering runs on the GPU but is a different ordering with its own "
                         "iteration counts")
    return ordering == "multicolor"


def _common(A, b, omega, x0, rtol, maxiter, atol, auto=False):
    P = prepare(A)
    bb = _as_vector("b", b, P.n)
    x = np.zeros(P.n) if x0 is None else _as_vector("x0", x0, P.n, copy=True)
    if auto and isinstance(omega, str):
        if omega != "auto":
            raise ValueError(f"`omega` must be a number in (0, 2) or 'auto'; got {omega!r}")
    else:
        omega = check_float("omega", omega, lo=0.0, hi=2.0, lo_open=True, hi_open=True)
    rtol = check_float("rtol", rtol, lo=0.0)
    atol = check_float("atol", atol, lo=0.0)
    maxiter = check_int("maxiter", maxiter, lo=0)
    return P, bb, x, omega, rtol, maxiter, atol


def _auto_omega(omega, P, solver, rtol):
    """``(omega, info)``: ``omega`` itself, or for ``omega="auto"`` the estimate of
    :func:`numfit.linalg._omega.estimate_omega` (natural ordering only)."""
    if not (isinstance(omega, str) and omega == "auto"):
        return omega, None
    from ._omega import estimate_omega
    return estimate_omega(P, solver, rtol=max(rtol, 1e-16))


def _with_info(res, info):
    if info is not None:
        res["omega_info"] = info
    return res


def _finish(messages, x, status, nit, residual, ref, omega, nsweeps, hist, t0, message=None):
    res = SolveResult(
        x=x, nit=int(nit), converged=status == 0, success=status == 0, status=int(status),
        message=messages[int(status)] if message is None else message,
        residual=float(residual),
        relres=float(residual / ref) if ref > 0 else float(residual), ref_norm=float(ref),
        omega=float(omega), nsweeps=int(nsweeps), time=time.perf_counter() - t0)
    if hist is not None:
        res["residual_history"] = hist
    return res


def _sor_prepared(P, b, x, omega, sweep_code, norm_code, rtol, atol, divtol, maxiter,
                  return_history=False, K=None):
    """Fused SOR on validated input (x is overwritten). Used by :func:`sor` and the tuner.

    The resumable kernel runs a few milliseconds of sweeps per call (``_chunks.pieces``);
    between calls Python can deliver KeyboardInterrupt. Same iterates as one call.
    """
    t0 = time.perf_counter()
    K = _kernels.kernels if K is None else K
    n = P.n
    w1 = np.empty(n)
    w2 = np.empty(n)
    state = np.zeros(8)
    step = _chunks.pieces((2 if sweep_code == 2 else 1) * P.nnz + 4 * n)
    parts = []
    k = 0
    while True:
        hist = np.empty(min(step, maxiter - k) + 1) if return_history else _NO_HIST
        st = K.sor_run(P.indptr, P.indices, P.data, P.diag_pos, P.inv_diag, b, x, w1, w2,
                       omega, sweep_code, norm_code, rtol, atol, divtol, maxiter, k + step,
                       hist, k, state)
        end = int(state[0])
        if return_history:     # a pause at k = end has ||r_k|| still to compute
            parts.append(hist[:end - k + (1 if st >= 0 else 0)])
        if st >= 0:
            break
        k = end
    h = np.concatenate(parts) if return_history else None
    return _finish(_SOR_MESSAGES, x, st, state[0], state[1], state[3], omega, state[2], h, t0)


def _sor_loop(rn, ref, rtol, atol, divtol, maxiter, sweep_once, current_x, callback):
    """Stopping logic of an SOR solve driven from Python, one sweep per iteration.

    ``rn`` is the initial residual norm and ``ref`` the reference norm; ``sweep_once()``
    performs a sweep and returns the new residual norm; ``current_x()`` gives the iterate
    shown to ``callback``. Returns ``(status, nit, residual, history)`` with the statuses of
    the compiled solver (0 converged, 1 maxiter, 2 diverged, 3 callback).
    """
    thresh = max(rtol * ref, atol)
    divlim = divtol * ref
    hist = [rn]
    status, k = None, 0
    if ref == 0.0 and atol == 0.0 or rn < thresh:
        status = 0
    elif not np.isfinite(rn) or rn > divlim:
        status = 2
    while status is None:
        if k == maxiter:
            status = 1
            break
        rn = sweep_once()
        k += 1
        hist.append(rn)
        stop = False
        if callback is not None:
            stop = callback(Result(nit=k, x=current_x(), residual=rn))
        if rn < thresh:
            status = 0
        elif not np.isfinite(rn) or rn > divlim:
            status = 2
        elif stop:
            status = 3
    return status, k, rn, hist


def _sor_unfused(P, b, x, omega, sweep_code, norm_code, rtol, atol, divtol, maxiter,
                 callback, return_history):
    """Sweep + explicit residual per iteration, so x_k and r_k align for the callback."""
    t0 = time.perf_counter()
    K = _kernels.kernels
    r = np.empty(P.n)
    rn = K.residual(P.indptr, P.indices, P.data, b, x, r)
    ref = rn if norm_code == 0 else float(np.linalg.norm(b))

    def sweep_once():
        K.sweep(P.indptr, P.indices, P.data, P.diag_pos, P.inv_diag, b, x, omega, 1,
                sweep_code)
        return K.residual(P.indptr, P.indices, P.data, b, x, r)

    def current_x():
        xv = x.view()
        xv.flags.writeable = False
        return xv

    status, k, rn, hist = _sor_loop(rn, ref, rtol, atol, divtol, maxiter, sweep_once,
                                     current_x, callback)
    h = np.asarray(hist) if return_history else None
    return _finish(_SOR_MESSAGES, x, status, k, rn, ref, omega, k, h, t0)


def sor(A, b, omega=1.5, x0=None, rtol=1e-8, maxiter=10_000, *, sweep="forward", norm="r0",
        atol=0.0, divtol=1e10, callback=None, return_history=False, ordering="natural"):
    """Solve ``A x = b`` by successive over-relaxation (SOR).

    Each iteration is one sweep ``x <- x + W^{-1}(b - A x)`` with ``W = D/omega + L``
    (forward), ``D/omega + U`` (backward) or a forward then a backward half (symmetric).
    The exact residual ``b - A x_k`` is obtained inside the next sweep at no extra
    matrix-vector product (numfit's SOR guide, docs/sor.md). The compiled sweeps run in
    pieces of a few milliseconds, so Ctrl-C interrupts a long solve promptly.

    Parameters
    ----------
    A : sparse matrix/array, 2-D ndarray or PreparedMatrix, shape (n, n)
        Every diagonal entry stored and > 0. SOR converges for SPD ``A`` and ``0 < omega < 2``.
    b : array_like, shape (n,)
    omega : float or "auto"
        Relaxation factor in (0, 2); 1 is Gauss-Seidel.
        ``"auto"`` (natural ordering): estimated from 12 Lanczos steps on
        ``D^{-1/2} A D^{-1/2}`` (its smallest eigenvalue ``lambda_min`` in Young's formula,
        ``omega = 2 / (1 + sqrt(1 - (1 - lambda_min)^2))``), then, for forward and backward
        sweeps without a callback, raised during the solve from the observed convergence
        factor (Hageman and Young's adaptive SOR; docs/sor.md, "omega='auto'"). The
        result's ``omega`` is the final value and ``omega_info`` holds ``lambda_min``, the
        Lanczos ``steps``, the estimation ``time`` and ``adapted`` (iteration, omega).
    x0 : array_like, shape (n,), optional
        Starting guess (default zeros).
    rtol, atol : float
        Converged iff ``||b - A x_k||_2 < max(rtol * ref, atol)``, tested before every sweep.
        A tolerance below what double precision reaches (``rtol=0``) runs to ``maxiter``
        (``status=1``) with a finite ``x`` and its true residual.
    maxiter : int
        Hard cap on the number of sweeps.
    sweep : {"forward", "backward", "symmetric"}
    norm : {"r0", "b"}
        ``ref = ||r_0||_2`` (default, as in the paper) or ``||b||_2``.
    divtol : float
        ``||r_k|| > divtol * ref`` (or non-finite) stops with ``status=2``.
    callback : callable, optional
        ``callback(info)`` after every iteration k = 1..nit with ``info.nit``, ``info.x``
        (read-only) and ``info.residual``; returning True stops (``status=3``). With a
        callback the sweeps run unfused (same iteration counts). An exception raised by the
        callback (KeyboardInterrupt included) propagates; ``A``, ``b`` and ``x0`` are left
        unchanged.
    return_history : bool
        Add ``residual_history`` = ``||r_0||, ..., ||r_nit||``.
    ordering : {"natural", "multicolor"}
        ``"natural"`` (default): lexicographic SOR with the compiled fused kernels.
        ``"multicolor"``: the unknowns are coloured greedily (red-black for the 5-point
        Laplacian, see :func:`numfit.linalg.greedy_coloring`) and one sweep updates the
        colours in turn (``sweep="backward"``: in reverse colour order; ``"symmetric"``:
        forward then backward), each colour at once: Jacobi inside a colour, Gauss-Seidel
        across colours. This equals natural-order SOR of the renumbered system
        ``P A P^T`` (unknowns sorted by colour), so its iteration counts differ from those
        of ``"natural"`` (for the 2-D Poisson problem they are within a few per cent at the
        optimal omega, and larger away from it). The residual is computed explicitly (one
        extra product per sweep). With CuPy inputs (``b``/``x0`` CuPy arrays or ``A`` a
        ``cupyx.scipy.sparse`` matrix) it runs on the GPU and ``x`` is a CuPy array; CuPy
        inputs require this ordering. Pass a :class:`PreparedMatrix` to reuse the colouring
        and the device copy of ``A`` across solves. The result also has ``ordering`` and
        ``ncolors``.

    Returns
    -------
    SolveResult
        ``x, nit, converged, success, status, message, residual, relres, ref_norm, omega,
        nsweeps, time`` (and ``residual_history``).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp, numfit as nf
    >>> T = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(10, 10))
    >>> A = sp.kron(sp.eye(10), T) + sp.kron(T, sp.eye(10))
    >>> r = nf.sor(A, np.ones(100), omega=1.5)
    >>> r.converged, r.nit
    (True, 62)
    >>> bool(np.linalg.norm(np.ones(100) - A @ r.x) < 1e-8 * 10)
    True

    Red-black (multicolour) ordering, the one that runs on a GPU with CuPy inputs:

    >>> rc = nf.sor(A, np.ones(100), omega=1.5, ordering="multicolor")
    >>> rc.converged, rc.ncolors, bool(np.allclose(rc.x, r.x, atol=1e-6))
    (True, 2, True)
    """
    multicolor = _ordering(ordering, A, b, x0)
    if multicolor and isinstance(omega, str) and omega == "auto":
        raise ValueError("`omega='auto'` needs ordering='natural'; pass a float omega with "
                         "ordering='multicolor'")
    if multicolor:
        from . import _multicolor
        return _multicolor.sor(A, b, omega, x0, rtol, maxiter, sweep, norm, atol, divtol,
                               callback, return_history)
    P, bb, x, omega, rtol, maxiter, atol = _common(A, b, omega, x0, rtol, maxiter, atol,
                                                   auto=True)
    sweep = check_option("sweep", sweep, _SWEEPS)
    norm = check_option("norm", norm, _NORMS)
    divtol = check_float("divtol", divtol, lo=0.0, lo_open=True, finite=False)
    _check_callback(callback)
    if (isinstance(omega, str) and callback is None and sweep != "symmetric"):
        from ._omega import sor_auto         # estimated, then adapted during the solve
        return sor_auto(P, bb, x, _SWEEP_CODE[sweep], _NORM_CODE[norm], rtol, atol, divtol,
                        maxiter, bool(return_history))
    omega, info = _auto_omega(omega, P, "sor", rtol)
    if callback is not None:
        return _with_info(_sor_unfused(P, bb, x, omega, _SWEEP_CODE[sweep], _NORM_CODE[norm],
                                       rtol, atol, divtol, maxiter, callback,
                                       bool(return_history)), info)
    return _with_info(_sor_prepared(P, bb, x, omega, _SWEEP_CODE[sweep], _NORM_CODE[norm],
                                    rtol, atol, divtol, maxiter, bool(return_history)), info)


def _check_symmetric(P, check_symmetry):
    check_symmetry = check_option("check_symmetry", check_symmetry, (True, False, "warn"))
    if check_symmetry is False:
        return
    asym = P.asymmetry()
    if asym > 1e-12:
        msg = (f"`A` must be symmetric for SSOR-CG: max|A - A^T| = {asym:.3g} * max|A| "
               "> 1e-12 * max|A|")
        if check_symmetry == "warn":
            import warnings
            warnings.warn(msg, RuntimeWarning, stacklevel=3)
        else:
            raise ValueError(msg)


class _Stagnation:
    """Stopping test of PCG for a tolerance below what double precision reaches.

    The recursively updated residual ``r_k`` of CG keeps decreasing after the true residual
    ``b - A x_k`` has reached the level of the accumulated rounding errors, and the gap
    between the two does not shrink (Greenbaum, *Estimating the attainable accuracy of
    recursively computed residual methods*, SIAM J. Matrix Anal. Appl. 18, 1997). Once
    ``||r_k|| < GATE * s`` (``s = ||b|| + ||A||_inf ||x_0||``, the scale of that rounding
    divided by eps) the true residual is computed every ``EVERY`` iterations; the solve
    stagnates when the updated residual has drifted below half the true one (so the true
    residual is within 2x of the rounding gap) and the best true residual has not halved in
    ``WINDOW`` iterations. PCG is then restarted from the true residual (which clears the
    gap, as the compiled solver does when the updated residual passes the target); after
    ``PATIENCE`` restarts in a row that did not lower the best true residual by 10% the
    solve stops (status 4) with the iterate of smallest true residual.
    """

    GATE = 1e-8
    EVERY = 16
    WINDOW = 32
    PATIENCE = 3

    def __init__(self, bnorm, anorm, x0norm):
        self.gate = self.GATE * (bnorm + anorm * x0norm)
        self.bnorm, self.anorm = bnorm, anorm
        self.next_check = None                   # None: not yet below the gate
        self.best = math.inf
        self.best_k = -1
        self.best_x = None
        self.prog, self.prog_k = math.inf, 0
        self.drift = False
        self.restart_best = math.inf
        self.restarts = 0
        self.idle = 0

    def due(self, k, rn):
        """True when the true residual is to be checked at iteration k (at the loop top)."""
        if self.next_check is None:
            if not rn < self.gate:
                return False
            self.next_check = k
        return k >= self.next_check

    def check(self, k, rn, rt, x):
        """Record the true residual ``rt`` of ``x`` (iteration k, updated residual ``rn``);
        True when the solve stagnated."""
        self.next_check = k + self.EVERY
        if rt < self.best:
            self.best, self.best_k, self.best_x = rt, k, x.copy()
        if rt <= 0.5 * self.prog:
            self.prog, self.prog_k = rt, k
        self.drift = bool(rn <= 0.5 * rt)
        return self.drift and k - self.prog_k >= self.WINDOW

    def restart(self, k):
        """After :meth:`check` found stagnation at iteration k: True to restart PCG from the
        true residual, False to stop (``PATIENCE`` restarts in a row did not lower the best
        true residual by 10%)."""
        if self.best < 0.9 * self.restart_best:
            self.restart_best = self.best
            self.idle = 0
        else:
            self.idle += 1
            if self.idle >= self.PATIENCE:
                return False
        self.restarts += 1
        self.prog, self.prog_k = self.best, k
        self.drift = False
        return True

    def breakdown_is_stagnation(self, k, rn, rt, x):
        """After a breakdown (status 2) below the gate: True when it came from the rounding
        floor (underflow of r'z or p'Ap with the updated residual far below the true one),
        not from an indefinite ``A``. ``rt`` is the true residual of ``x`` (nan if x is not
        finite)."""
        if self.next_check is None:
            return False
        if math.isfinite(rt) and rt < self.best:
            self.best, self.best_k, self.best_x = rt, k, x.copy()
        return self.best_x is not None and (self.drift or (math.isfinite(rt)
                                                           and rn <= 0.5 * rt))

    def message(self, thresh, xnorm):
        floor = np.finfo(float).eps * (self.bnorm + self.anorm * xnorm)
        return (f"stagnated: the true residual stopped decreasing at ||b - A x|| = "
                f"{self.best:.3g} (iteration {self.best_k}) above the target "
                f"max(rtol*ref, atol) = {thresh:.3g}: the tolerance is below what double "
                f"precision reaches for this system (eps*(||b|| + ||A||_inf ||x||) = "
                f"{floor:.2g}); x is the iterate with the smallest true residual seen")


def _ssor_cg_prepared(P, b, x, omega, order_code, norm_code, rtol, atol, maxiter,
                      return_history=False, K=None, callback=None, eisenstat=True):
    """SSOR-PCG on validated input (x is overwritten): the resumable compiled kernel in pieces
    of a few milliseconds, the stagnation test between them (same iterates as one call).

    ``eisenstat``: the kernel of Eisenstat's form (``ssor_cg_eis_run``, one pass over each
    triangle per iteration) instead of the plain one (two triangular solves and a product);
    same iterates up to rounding. With a ``callback`` the Eisenstat kernel runs one iteration
    per call and the callback is called between calls; the plain form then runs its Python
    loop (:func:`_ssor_cg_python`)."""
    if callback is not None and not eisenstat:
        return _ssor_cg_python(P, b, x, omega, order_code, norm_code, rtol, atol, maxiter,
                               callback, return_history)
    t0 = time.perf_counter()
    K = _kernels.kernels if K is None else K
    n = P.n
    w = np.empty(n)
    if eisenstat:
        work = tuple(np.zeros(n) for _ in range(5))        # r, rh, ph, t, u
        kernel = K.ssor_cg_eis_run
        step = _chunks.pieces(P.nnz + 14 * n)
    else:
        work = tuple(np.empty(n) for _ in range(4))        # r, z, p, q
        kernel = K.ssor_cg_run
        step = _chunks.pieces(2 * P.nnz + 10 * n)
    if callback is not None:
        step = 1
        current_x = x.view()
        current_x.flags.writeable = False
    state = np.zeros(8)
    stag = _Stagnation(float(np.linalg.norm(b)), P.norm_inf(), float(np.linalg.norm(x)))
    parts = []
    k, status, restart, final = 0, None, False, None
    while status is None:
        if restart:
            # restart PCG from b - A x: with the threshold at the updated residual (below the
            # true one: drift) for one iteration, the kernel takes its own restart branch
            thresh, state[4] = state[4], state[1]
            kstop, pause = k + 1, -1.0
        else:
            kstop = k + step if stag.next_check is None else min(k + step, stag.next_check)
            pause = stag.gate if stag.next_check is None else -1.0
        hist = np.empty(max(min(kstop, maxiter) - k, 0) + 1) if return_history else _NO_HIST
        k_before = k
        st = kernel(P.indptr, P.indices, P.data, P.diag_pos, P.inv_diag, b, x, *work, omega,
                    order_code, norm_code, rtol, atol, maxiter, kstop, pause, hist, k, state)
        if restart:
            state[4], restart = thresh, False
        end = int(state[0])
        if return_history:     # hist[0] is ||r_k|| of the pause before (or of x0)
            parts.append(hist[(1 if parts else 0):end - k + 1])
        k = end
        if st >= 0:
            status = st
            if st == 2:
                rt = K.residual(P.indptr, P.indices, P.data, b, x, w) \
                    if np.all(np.isfinite(x)) else math.nan
                if stag.breakdown_is_stagnation(k, state[1], rt, x):
                    status = 4
        elif (callback is not None and k > k_before
              and callback(Result(nit=k, x=current_x, residual=float(state[1])))):
            rt = K.residual(P.indptr, P.indices, P.data, b, x, w)
            status, final = (0 if rt <= state[4] else 3), rt
        if status is None and stag.due(k, state[1]):
            rt = K.residual(P.indptr, P.indices, P.data, b, x, w)
            if stag.check(k, state[1], rt, x):
                if stag.restart(k):
                    restart = True
                else:
                    status = 4
    h = np.concatenate(parts) if return_history else None
    if status == 4:
        x[:] = stag.best_x
        msg = stag.message(state[4], float(np.linalg.norm(x)))
        return _finish(_CG_MESSAGES, x, 4, k, stag.best, state[3], omega, 0, h, t0, msg)
    return _finish(_CG_MESSAGES, x, status, k, state[5] if final is None else final,
                   state[3], omega, 0, h, t0)


def _pcg_loop(x, r, rn, thresh, maxiter, precond, matvec, residual, dot, norm, current_x,
              callback, stag=None):
    """Preconditioned CG driven from Python (the callback paths of SSOR-CG).

    ``x`` is updated in place; ``r`` is its residual with norm ``rn``. The operations are
    hooks so that each caller keeps its own arithmetic: ``precond(r)`` -> z,
    ``matvec(p)`` -> A p, ``residual(x)`` -> (a fresh b - A x, its norm), ``dot``, ``norm``,
    ``current_x()`` (the iterate shown to ``callback``). Converged only when the exact
    residual meets ``thresh``. ``stag`` (a :class:`_Stagnation`) adds status 4 with the
    stagnation test of the compiled path (at the same place of the loop). Returns
    ``(status, nit, final_residual, history)``; with status 4, ``x`` holds the best iterate.
    """
    hist = [rn]
    z = precond(r)
    rz = dot(r, z)
    p = z.copy()
    k, status, final = 0, None, rn
    while status is None:
        if stag is not None and stag.due(k, rn):
            q, rt = residual(x)
            if stag.check(k, rn, rt, x):
                if not stag.restart(k):
                    status = 4
                    break
                r, rn = q, rt                    # restart from the true residual
                z = precond(r)
                rz = dot(r, z)
                p = z.copy()
        if rn <= thresh:
            q, rt = residual(x)
            if rt <= thresh:
                status, final = 0, rt
                break
            r, rn = q, rt
            z = precond(r)
            rz = dot(r, z)
            p = z.copy()
        if not np.isfinite(rn):
            status, final = 2, rn
        elif k >= maxiter:
            status = 1
            final = residual(x)[1]
        elif not rz > 0:
            status, final = 2, rn
        if status is not None:
            break
        q = matvec(p)
        pap = dot(p, q)
        if not pap > 0:
            status, final = 2, rn
            break
        alpha = rz / pap
        x += alpha * p
        r -= alpha * q
        rn = norm(r)
        k += 1
        hist.append(rn)
        z = precond(r)
        rz_new = dot(r, z)
        p = z + (rz_new / rz) * p
        rz = rz_new
        if callback is not None and callback(Result(nit=k, x=current_x(), residual=rn)):
            rt = residual(x)[1]
            status, final = (0 if rt <= thresh else 3), rt
    if status == 2 and stag is not None:
        finite = bool(np.isfinite(norm(x)))
        rt = residual(x)[1] if finite else math.nan
        if stag.breakdown_is_stagnation(k, rn, rt, x):
            status = 4
    if status == 4:
        x[...] = stag.best_x
        final = stag.best
    return status, k, final, hist


def _ssor_cg_python(P, b, x, omega, order_code, norm_code, rtol, atol, maxiter, callback,
                    return_history):
    """PCG with the compiled preconditioner and a Python loop (for the callback)."""
    t0 = time.perf_counter()
    K = _kernels.kernels
    n = P.n
    r, z, q = np.empty(n), np.empty(n), np.empty(n)
    rn = K.residual(P.indptr, P.indices, P.data, b, x, r)
    ref = rn if norm_code == 0 else float(np.linalg.norm(b))

    def precond(rv):
        K.ssor_apply(P.indptr, P.indices, P.data, P.diag_pos, P.inv_diag, rv, z, omega,
                     order_code)
        return z

    def matvec(pv):
        K.csr_matvec(P.indptr, P.indices, P.data, pv, q)
        return q

    def residual(xv):
        rv = np.empty(n)
        return rv, K.residual(P.indptr, P.indices, P.data, b, xv, rv)

    def current_x():
        xv = x.view()
        xv.flags.writeable = False
        return xv

    thresh = max(rtol * ref, atol)
    stag = _Stagnation(float(np.linalg.norm(b)), P.norm_inf(), float(np.linalg.norm(x)))
    status, k, final, hist = _pcg_loop(
        x, r, rn, thresh, maxiter, precond, matvec, residual,
        lambda u, v: float(u @ v), lambda v: float(np.sqrt(v @ v)), current_x, callback, stag)
    h = np.asarray(hist) if return_history else None
    msg = stag.message(thresh, float(np.linalg.norm(x))) if status == 4 else None
    return _finish(_CG_MESSAGES, x, status, k, final, ref, omega, 0, h, t0, msg)


def ssor_cg(A, b, omega=1.5, x0=None, rtol=1e-8, maxiter=10_000, *, norm="b", order="fb",
            atol=0.0, check_symmetry=True, callback=None, return_history=False,
            ordering="natural", eisenstat="auto"):
    """Solve SPD ``A x = b`` by conjugate gradients preconditioned with SSOR(omega).

    ``M = (D + omega L) D^{-1} (D + omega U) / (omega (2 - omega))`` (``order="fb"``;
    ``"bf"`` swaps L and U). Warm start from ``x0``; converged iff
    ``||r_k||_2 <= max(rtol * ref, atol)`` with ``ref = ||b||`` (as SciPy ``cg``); the true
    residual is checked once when the recurrence residual passes.

    A tolerance below what double precision reaches (``rtol=0``, ``rtol=1e-300``, or just
    too small for the conditioning of ``A``) ends with ``status=4``, ``converged=False``:
    once the recurrence residual is below ``1e-8 (||b|| + ||A||_inf ||x0||)`` the true
    residual is computed every 16 iterations; when the recurrence residual has drifted below
    half the true one and the best true residual has not halved in 32 iterations, PCG
    restarts from the true residual, and after 3 restarts in a row that did not lower the
    best true residual by 10% the solve stops (Greenbaum, SIAM J. Matrix Anal. Appl. 18,
    1997). ``x`` is then the iterate with the smallest true residual and ``residual`` that
    residual. The compiled loop runs in pieces of a few milliseconds, so Ctrl-C interrupts it
    promptly.

    Parameters
    ----------
    A : sparse matrix/array, 2-D ndarray or PreparedMatrix, shape (n, n)
        Symmetric positive definite, diagonal stored.
    b : array_like, shape (n,)
    omega : float or "auto"
        SSOR relaxation factor in (0, 2); 1 is symmetric Gauss-Seidel.
        ``"auto"`` (natural ordering): estimated from a few Lanczos steps on
        ``D^{-1/2} A D^{-1/2}`` (its smallest eigenvalue ``lambda`` in Young's SSOR
        parameter ``omega = 2 / (1 + sqrt(2 lambda))``, ``lambda`` biased below an
        unconverged Ritz value; docs/sor.md, "omega='auto'"); the result's ``omega`` is
        the estimate and ``omega_info`` holds ``lambda_min``, the Lanczos ``steps``,
        ``converged`` and the estimation ``time``.
    x0 : array_like, shape (n,), optional
    rtol, atol : float
    maxiter : int
        Hard cap on PCG iterations.
    norm : {"b", "r0"}
    order : {"fb", "bf"}
    check_symmetry : {True, False, "warn"}
        ``max|A - A^T| > 1e-12 max|A|`` raises (True), warns ("warn") or is not checked.
    callback : callable, optional
        ``callback(info)`` after each iteration (``info.nit, info.x, info.residual``; the
        recurrence residual); returning True stops. An exception raised by the callback
        (KeyboardInterrupt included) propagates; ``A``, ``b`` and ``x0`` are left unchanged.
    return_history : bool
        Add ``residual_history`` (recurrence residual norms).
    ordering : {"natural", "multicolor"}
        ``"multicolor"``: the SSOR preconditioner is a forward multicolour sweep followed by
        a backward one (reverse colour order; ``order="bf"`` the other way round) from zero,
        i.e. the natural-order SSOR preconditioner of the renumbered system ``P A P^T``
        (symmetric positive definite for SPD ``A``); see :func:`sor` for the ordering, CuPy
        inputs and the extra result keys. Iteration counts differ from ``"natural"``.
    eisenstat : {"auto", True, False}
        Run PCG in Eisenstat's form (Eisenstat, *Efficient implementation of a class of
        preconditioned conjugate gradient methods*, SIAM J. Sci. Stat. Comput. 2(1), 1981):
        CG on ``(D/w + L)^{-1} A (D/w + U)^{-1}`` with a diagonal preconditioner, which costs
        one pass over each triangle of ``A`` per iteration instead of two triangular solves
        and a product, with the same iterates up to rounding (docs/sor.md, "Eisenstat's
        trick"). ``"auto"`` (default): Eisenstat's form for ``ordering="natural"``, the plain
        form for ``"multicolor"`` (not implemented there). ``True``: Eisenstat's form
        (``ordering="multicolor"`` is then an error). ``False``: the plain form (two
        triangular solves and a product per iteration), kept as the reference. The form
        relies on ``A`` being symmetric (``p'Ap`` is formed as ``t'(2U + D)t``).

    Returns
    -------
    SolveResult
        ``status`` 0 converged, 1 maxiter, 2 breakdown (``A`` or the preconditioner not
        positive definite, or a non-finite residual), 3 callback stop, 4 stagnated (the
        tolerance is below what double precision reaches).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp, numfit as nf
    >>> T = sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(10, 10))
    >>> A = sp.kron(sp.eye(10), T) + sp.kron(T, sp.eye(10))
    >>> r = nf.ssor_cg(A, np.ones(100), omega=1.5)
    >>> r.converged, r.nit < 20
    (True, True)
    >>> r0 = nf.ssor_cg(A, np.ones(100), omega=1.5, rtol=0.0)     # below double precision
    >>> r0.status, r0.converged, bool(r0.residual < 1e-12)
    (4, False, True)
    >>> rc = nf.ssor_cg(A, np.ones(100), omega=1.5, ordering="multicolor")
    >>> rc.converged, bool(np.allclose(rc.x, r.x, atol=1e-6))
    (True, True)
    """
    eisenstat = check_option("eisenstat", eisenstat, ("auto", True, False))
    multicolor = _ordering(ordering, A, b, x0)
    if multicolor and isinstance(omega, str) and omega == "auto":
        raise ValueError("`omega='auto'` needs ordering='natural'; pass a float omega with "
                         "ordering='multicolor'")
    if multicolor:
        if eisenstat is True:
            raise ValueError("`eisenstat=True` needs ordering='natural': Eisenstat's form is "
                             "not implemented for ordering='multicolor' (use "
                             "eisenstat='auto' or False there)")
        from . import _multicolor
        return _multicolor.ssor_cg(A, b, omega, x0, rtol, maxiter, norm, order, atol,
                                   check_symmetry, callback, return_history)
    P, bb, x, omega, rtol, maxiter, atol = _common(A, b, omega, x0, rtol, maxiter, atol,
                                                   auto=True)
    norm = check_option("norm", norm, _NORMS)
    order = check_option("order", order, _ORDERS)
    _check_callback(callback)
    _check_symmetric(P, check_symmetry)
    omega, info = _auto_omega(omega, P, "ssor_cg", rtol)
    oc = 0 if order == "fb" else 1
    return _with_info(_ssor_cg_prepared(P, bb, x, omega, oc, _NORM_CODE[norm], rtol, atol,
                                        maxiter, bool(return_history), callback=callback,
                                        eisenstat=eisenstat is not False), info)


def sor_sweep(A, x, b, omega, iterations=1, sweep="forward", *, check_finite=True,
              ordering="natural"):
    """Apply ``iterations`` SOR sweeps to ``x`` in place (PyAMG-style, no stopping test).

    Parameters
    ----------
    A : sparse matrix/array, 2-D ndarray or PreparedMatrix
        Pass a :class:`PreparedMatrix` (from :func:`prepare`) to skip re-validation.
    x : ndarray, shape (n,), float64, C-contiguous, writeable
        Updated in place. The compiled sweeps run in pieces of a few milliseconds; if Ctrl-C
        (KeyboardInterrupt) stops the call, ``x`` holds the iterate after a whole number of
        sweeps.
    b : array_like, shape (n,)
    omega : float in (0, 2)
    iterations : int >= 0
    sweep : {"forward", "backward", "symmetric"}
    check_finite : bool
        Check ``b`` and ``x`` for NaN/Inf (O(n)).
    ordering : {"natural", "multicolor"}
        ``"multicolor"``: multicolour sweeps (see :func:`numfit.sor`); ``x`` may then also be
        a CuPy float64 array (with ``A`` a ``cupyx.scipy.sparse`` matrix, a SciPy matrix or a
        :class:`PreparedMatrix`), updated in place on the GPU. The sweeps run on a renumbered
        copy written back to ``x`` at the end, so an interrupted call leaves ``x`` unchanged.

    Returns
    -------
    x : ndarray
        The same array, updated.

    Examples
    --------
    >>> import numpy as np, numfit.linalg as la
    >>> A = np.array([[4.0, -1.0], [-1.0, 4.0]])
    >>> x = np.zeros(2)
    >>> la.sor_sweep(A, x, np.array([3.0, 3.0]), omega=1.0, iterations=30).round(12).tolist()
    [1.0, 1.0]
    >>> x = np.zeros(2)
    >>> la.sor_sweep(A, x, np.array([3.0, 3.0]), omega=1.0, iterations=30,
    ...              ordering="multicolor").round(12).tolist()
    [1.0, 1.0]
    """
    if _ordering(ordering, A, x, b):
        from . import _multicolor
        return _multicolor.sor_sweep(A, x, b, omega, iterations, sweep, check_finite)
    P = prepare(A)
    if not isinstance(x, np.ndarray) or x.dtype != np.float64 or x.shape != (P.n,) \
            or not x.flags.c_contiguous or not x.flags.writeable:
        raise TypeError(f"`x` must be a writeable C-contiguous float64 ndarray of shape "
                        f"({P.n},) (updated in place); got "
                        f"{type(x).__name__} {getattr(x, 'dtype', '')} "
                        f"{getattr(x, 'shape', '')}")
    if check_finite:
        bb = _as_vector("b", b, P.n)
        _as_vector("x", x, P.n)
    else:
        bb = np.ascontiguousarray(b, dtype=np.float64)
        if bb.shape != (P.n,):
            raise ValueError(f"`b` must have shape ({P.n},); got shape {bb.shape}")
    omega = check_float("omega", omega, lo=0.0, hi=2.0, lo_open=True, hi_open=True)
    iterations = check_int("iterations", iterations, lo=0)
    sweep = check_option("sweep", sweep, _SWEEPS)
    K = _kernels.kernels
    step = _chunks.pieces((2 if sweep == "symmetric" else 1) * P.nnz + P.n)
    done = 0
    while done < iterations:
        m = min(step, iterations - done)
        K.sweep(P.indptr, P.indices, P.data, P.diag_pos, P.inv_diag, bb, x, omega, m,
                _SWEEP_CODE[sweep])
        done += m
    return x
