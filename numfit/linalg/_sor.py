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

from .. import _backend
from .._result import Result
from .._validation import check_float, check_int, check_option
from . import _chunks, _kernels, _multicolor
from ._omega import estimate_omega, sor_auto
from ._base import (_as_vector, _CG_MESSAGES, _check_callback,
                    _check_symmetric, _finish, _NO_HIST, _NORM_CODE, _NORMS,
                    _ORDERINGS, _ORDERS, _pcg_loop, _sor_loop, _SOR_MESSAGES,
                    _Stagnation, _SWEEP_CODE, _SWEEPS, _with_info, prepare,
                    PreparedMatrix, SolveResult)  # noqa: F401 - re-exported

__all__ = ["PreparedMatrix", "SolveResult", "prepare", "sor", "ssor_cg", "sor_sweep"]


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
    return estimate_omega(P, solver, rtol=max(rtol, 1e-16))


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
        return _multicolor.sor(A, b, omega, x0, rtol, maxiter, sweep, norm, atol, divtol,
                               callback, return_history)
    P, bb, x, omega, rtol, maxiter, atol = _common(A, b, omega, x0, rtol, maxiter, atol,
                                                   auto=True)
    sweep = check_option("sweep", sweep, _SWEEPS)
    norm = check_option("norm", norm, _NORMS)
    divtol = check_float("divtol", divtol, lo=0.0, lo_open=True, finite=False)
    _check_callback(callback)
    if (isinstance(omega, str) and callback is None and sweep != "symmetric"):
        # estimated, then adapted during the solve
        return sor_auto(P, bb, x, _SWEEP_CODE[sweep], _NORM_CODE[norm], rtol, atol, divtol,
                        maxiter, bool(return_history))
    omega, info = _auto_omega(omega, P, "sor", rtol)
    if callback is not None:
        return _with_info(_sor_unfused(P, bb, x, omega, _SWEEP_CODE[sweep], _NORM_CODE[norm],
                                       rtol, atol, divtol, maxiter, callback,
                                       bool(return_history)), info)
    return _with_info(_sor_prepared(P, bb, x, omega, _SWEEP_CODE[sweep], _NORM_CODE[norm],
                                    rtol, atol, divtol, maxiter, bool(return_history)), info)


EIS_RING_MAX = 1 << 15
"""Eisenstat's form keeps ``u`` (the second triangular solve) in a ring of ``2^m > bandwidth``
values when that is at most this many (256 KiB): stencil matrices (a 2-D five-point stencil
up to 32,767 points a row, a 3-D one up to 181 x 181 a plane) save a stream of writes per
iteration (the same iterates bit for bit)."""


def _eis_ring(P):
    """(length of u, mask) for the Eisenstat kernel: a ring buffer of the next power of two
    above the bandwidth of A when it is shorter than n and ``EIS_RING_MAX``, else the full
    vector (mask -1)."""
    size = 1 << max(int(P.bandwidth()), 1).bit_length()
    if size <= EIS_RING_MAX and size < P.n:
        return size, size - 1
    return P.n, -1


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
        ring, mask = _eis_ring(P)
        mats = (P.indptr, P.indices, P.data) + P.scaled_triangles(omega) + (P.diag,)
        # r, rh, qh, t, u; rh, t and a full u end in a zero at index n, which the padding
        # entries of the triangles read (PreparedMatrix.triangles)
        work = (np.zeros(n), np.zeros(n + 1), np.zeros(n), np.zeros(n + 1),
                np.zeros(ring + 1 if mask < 0 else ring), mask)
        kernel = K.ssor_cg_eis_run
        step = _chunks.pieces(P.nnz + 14 * n)
    else:
        mats = (P.indptr, P.indices, P.data, P.diag_pos, P.inv_diag)
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
        st = kernel(*mats, b, x, *work, omega, order_code, norm_code, rtol, atol, maxiter,
                    kstop, pause, hist, k, state)
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
        ``"auto"`` (natural ordering): estimated from a few Lanczos steps (at least 3,
        at most 10 % of the predicted iterations unless 3 are more) on
        ``D^{-1/2} A D^{-1/2}`` from a smooth start: its smallest Ritz value ``lambda``
        (halved when unconverged) and Young's ``beta`` term at the Ritz vector in Young's
        SSOR parameter ``omega = 2 / (1 + sqrt(2 lambda + 4 max(beta, 0)))`` (``beta <= 0``
        for property-A matrices such as the 5-point Laplacian; positive for graph
        Laplacians, which get omega near 1; docs/sor.md, "omega='auto'"). One step only
        where ``beta`` at the start vector makes omega insensitive to ``lambda_min``
        (within 2 % of the iterations by Axelsson's bound, whatever ``lambda_min`` below the
        Ritz value: graph Laplacians, matrices in orders without property A). The result's
        ``omega`` is the estimate and ``omega_info`` holds ``lambda_min``, ``lambda_used``,
        ``beta``, the Lanczos ``steps``, ``matvecs``, ``converged``, ``insensitive``,
        ``beta_bounded`` (``beta <= 0`` at every vector by Schur's test on the row sums:
        no Ritz vector needed) and the estimation ``time``.
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
        relies on ``A`` being symmetric (``p'Ap`` is formed as ``2 t'ph + (1 - 2/w) t'Dt``
        with ``t = (D/w + U)^{-1} ph``). It keeps the strictly lower and upper triangles of
        ``D^{-1} A`` in their own arrays (``PreparedMatrix.triangles()``: about the memory of
        ``A`` once more, 30 % more on random graphs, whose short rows of irregular length
        are padded in pairs; built once per prepared matrix in one compiled pass, about the
        time of one iteration), so that each triangular solve streams only its own triangle,
        and at ``omega != 1`` a copy of their values times omega
        (``PreparedMatrix.scaled_triangles``, kept for the last omega: 8 bytes an entry, a
        pass over them when omega changes).

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
