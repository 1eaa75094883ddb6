"""The pieces shared by the SOR front ends (``_sor``) and the multicolour solvers
(``_multicolor``): result type, matrix preparation and checks, message tables, the SOR and
PCG stopping loops and the SSOR-CG stagnation test. Both modules import this one, and
neither imports the other's internals (see docs/sor.md for the method).
"""
import math
import time

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from .._result import Result
from .._validation import check_option, check_real_matrix
from . import _kernels


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
    ``residual_history``. ``time`` is the solve's wall time in seconds (after the input checks),
    the estimate of ``omega="auto"`` included (``omega_info["time"]`` is the estimate alone).
    """


PAD_CHUNK = 2
"""Rows per chunk when a triangle's rows are padded (``PreparedMatrix.triangles``)."""
PAD_MIN = 1.2
"""A triangle is padded when that adds at least this factor of entries (irregular rows)."""
PAD_MAX = 3.0
"""A chunk is padded only if that at most multiplies its entries by this."""
PAD_MAX_MEAN = 16
"""Only triangles whose rows hold at most this many entries on average are padded (on
longer rows one unpredicted loop end per row costs little)."""


def _padded_lengths(lens, force=False):
    """Row lengths after padding each chunk of ``PAD_CHUNK`` rows to its longest row
    (chunks whose padding would more than ``PAD_MAX``-fold their entries keep theirs;
    compiled ``pad_lengths``); ``lens`` itself unless ``force`` or the padding adds at least
    ``PAD_MIN`` - 1 of the entries to rows of at most ``PAD_MAX_MEAN`` entries on
    average."""
    n = lens.shape[0]
    total = int(lens.sum())
    if not force and total > PAD_MAX_MEAN * n:
        return lens
    out = np.empty_like(lens)
    padded = _kernels.kernels.pad_lengths(lens, PAD_CHUNK, PAD_MAX, out)
    if not force and padded < PAD_MIN * total:
        return lens
    return out


class PreparedMatrix:
    """A validated CSR matrix with its diagonal located, reusable across solves.

    Made by :func:`prepare`. Attributes: ``indptr, indices, data`` (CSR, sorted indices, no
    duplicates), ``diag_pos`` (position of ``a_ii`` in ``data``), ``diag``, ``inv_diag``,
    ``n``, ``nnz``, ``shape`` and ``csr`` (the ``scipy.sparse.csr_array``);
    :meth:`triangles` (cached) splits off the strictly lower and upper triangles of
    ``D^{-1} A`` (:meth:`scaled_triangles`: times omega); :meth:`is_z_matrix` (cached)
    tells whether no off-diagonal entry is positive.
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

    def is_z_matrix(self):
        """Whether every off-diagonal entry is ``<= 0`` (cached; the diagonal is positive, so
        exactly ``n`` stored entries are)."""
        if getattr(self, "_z_matrix", None) is None:
            self._z_matrix = bool(np.count_nonzero(self.data > 0) == self.n)
        return self._z_matrix

    def bandwidth(self):
        """``max |i - j|`` over the nonzeros (cached; rows sorted, each with its diagonal)."""
        if getattr(self, "_bandwidth", None) is None:
            if self.n == 0:
                self._bandwidth = 0
            else:
                rows = np.arange(self.n)
                lo = rows - self.indices[self.indptr[:-1]]
                hi = self.indices[self.indptr[1:] - 1] - rows
                self._bandwidth = int(max(lo.max(), hi.max()))
        return self._bandwidth

    def triangles(self):
        """``(lptr, lidx, lval, uptr, uidx, uval)``: the strictly lower and strictly upper
        triangles of ``D^{-1} A`` (row ``i`` divided by ``a_ii``) in their own CSR arrays
        (cached; built by one compiled pass, about the memory of A once more). SSOR-CG in
        Eisenstat's form solves with each triangle once per iteration and then streams only
        that triangle, not whole rows.

        Where a triangle's rows are short (``PAD_MAX_MEAN``: at most 16 entries on average)
        and their lengths irregular (padding them as below adds at least ``PAD_MIN`` - 1 =
        20 % entries: random graphs, not stencils), each pair of consecutive rows
        (``PAD_CHUNK``) is padded to the longer one's length (unless that more than triples
        the pair's entries) with column ``n`` and value 0. A row's loop then ends where its
        neighbour's did: the processor predicts it and keeps the gathers of more rows in
        flight. SSOR-CG on the random graph Laplacian of the benchmarks, per Eisenstat
        iteration: 12-22 % less time at n = 14,400-129,600, for 30 % more entries in its
        triangles. Kernels that read padded triangles need a zero at index ``n`` of the
        vectors they gather."""
        if getattr(self, "_triangles", None) is None:
            self._triangles = self._split_triangles(pad=None)
        return self._triangles

    def scaled_triangles(self, omega):
        """:meth:`triangles` with both triangles' values multiplied by ``omega``: the
        arguments of SSOR-CG's kernel in Eisenstat's form, whose solves then take one product
        an entry fewer (the same products ``omega * a_ij / a_ii`` as before, made once per
        omega instead of once per iteration: the iterates are unchanged but for the rounding
        of the residual norm). The pointers and indices are those of :meth:`triangles`; the
        scaled values are cached for the last ``omega`` only (at ``omega = 1`` they are the
        triangles' own), so a sequence of solves at varying omegas holds one extra copy of
        the triangles' values, about 8 bytes per stored entry."""
        omega = float(omega)
        if not math.isfinite(omega):
            raise ValueError(f"omega must be finite, got {omega!r}")
        lptr, lidx, lval, uptr, uidx, uval = tri = self.triangles()
        if omega == 1.0:
            return tri
        cached = getattr(self, "_scaled", None)
        if cached is None or cached[0] != omega or cached[1][0] is not lptr:
            cached = (omega, (lptr, lidx, lval * omega, uptr, uidx, uval * omega))
            self._scaled = cached            # one assignment: a concurrent reader sees either
        return cached[1]

    def _split_triangles(self, pad=None):
        """The arrays of :meth:`triangles`; ``pad``: None (padded where irregular, as
        there), True (every chunk of ``PAD_CHUNK`` rows padded where that at most triples
        its entries) or False (plain CSR rows)."""
        starts = self.indptr[:-1]
        nl = self.diag_pos - starts
        nu = self.indptr[1:] - self.diag_pos - 1
        it = self.indices.dtype
        out = []
        for lens in (nl, nu):
            if pad is not False:
                lens = _padded_lengths(lens, force=pad is True)
            ptr = np.zeros(self.n + 1, dtype=it)
            np.cumsum(lens, out=ptr[1:])
            out.append(ptr)
        lptr, uptr = out
        lidx, lval = np.empty(int(lptr[-1]), dtype=it), np.empty(int(lptr[-1]))
        uidx, uval = np.empty(int(uptr[-1]), dtype=it), np.empty(int(uptr[-1]))
        _kernels.kernels.split_triangles(self.indptr, self.indices, self.data,
                                         self.diag_pos, lptr, lidx, lval, uptr, uidx, uval)
        return (lptr, lidx, lval, uptr, uidx, uval)

    def matvec(self, x):
        """``A @ x`` with the compiled kernel."""
        y = np.empty(self.n)
        _kernels.kernels.csr_matvec(self.indptr, self.indices, self.data,
                                    np.ascontiguousarray(x, dtype=np.float64), y)
        return y


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
    M = sp.csr_array(check_real_matrix(name, A), copy=True)
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


def _with_info(res, info):
    """``res`` with ``omega_info`` (omega="auto"); its ``time`` then counts the estimate too,
    as for SOR's adapted solve (``_omega.sor_auto``)."""
    if info is not None:
        res["omega_info"] = info
        res["time"] += info["time"]
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
