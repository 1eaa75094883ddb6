"""Multicolour SOR, SSOR-CG and sweeps, written once against an array namespace ``xp``.

``ordering="multicolor"`` in :func:`numfit.sor`, :func:`numfit.ssor_cg` and
:func:`numfit.linalg.sor_sweep` lands here. The graph of ``A + A^T`` is coloured greedily on
the host, once per :class:`~numfit.linalg.PreparedMatrix` (the 5-point Laplacian gets the
red-black colouring); the unknowns are then renumbered colour by colour, so that every colour
is a contiguous block of rows of ``P A P^T``. One sweep visits the colours in order and updates
a whole colour at once,

    x[c] <- x[c] + omega * D_c^{-1} (b_c - (A x)_c),

a Jacobi update inside a colour (its unknowns are not coupled) and Gauss-Seidel across
colours. This *is* lexicographic SOR of the renumbered system ``P A P^T`` (tests/
test_multicolor_sor.py uses that as the oracle), so the iteration counts are those of a
different ordering, not those of natural-order SOR.

Everything after the colouring is written against ``xp`` (NumPy or CuPy) and its sparse
module (``scipy.sparse`` / ``cupyx.scipy.sparse``): with CuPy inputs the solve runs on the GPU
and ``x`` comes back as a CuPy array; with NumPy inputs the very same code runs on the CPU
(that is how the GPU logic is tested on machines without a GPU).
"""
import time

import numpy as np
import scipy.sparse as sp

from .. import _backend
from .._kernelselect import lazy_njit as njit          # Numba is imported on the first call
from .._validation import check_float, check_int, check_option

__all__ = ["greedy_coloring"]

ORDERINGS = ("natural", "multicolor")
_SWEEPS = ("forward", "backward", "symmetric")


# --------------------------------------------------------------------------- colouring (host)
@njit(cache=True)
def _greedy(indptr, indices, n):                     # pragma: no cover - compiled by Numba
    color = np.full(n, -1, dtype=np.int64)
    mark = np.full(n + 1, -1, dtype=np.int64)
    for i in range(n):
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            if j != i and color[j] >= 0:
                mark[color[j]] = i
        c = 0
        while mark[c] == i:
            c += 1
        color[i] = c
    return color


def _pattern(A):
    """The symmetrised pattern of the nonzeros of ``A`` (``|A| + |A|^T``; CSR, structure
    only). Explicitly stored zeros couple nothing and are dropped."""
    S = sp.csr_array(A, copy=True)
    S.eliminate_zeros()
    S = sp.csr_array((np.ones(S.nnz), S.indices, S.indptr), shape=S.shape)
    S = (S + S.T).tocsr()
    S.sort_indices()
    return S


def _check_valid(S, colors):
    """Raise RuntimeError if two coupled unknowns (a_ij or a_ji nonzero, i != j) share a
    colour."""
    rows = np.repeat(np.arange(S.shape[0]), np.diff(S.indptr))
    off = rows != S.indices
    bad = off & (colors[rows] == colors[S.indices])
    if np.any(bad):
        k = int(np.flatnonzero(bad)[0])
        raise RuntimeError(f"invalid colouring: unknowns {int(rows[k])} and "
                           f"{int(S.indices[k])} are coupled and share colour "
                           f"{int(colors[rows[k]])}")


def greedy_coloring(A):
    """Greedy colouring of the matrix graph of ``A + A^T`` in natural order.

    Unknown ``i`` gets the smallest colour not used by an already coloured unknown ``j``
    coupled to it (``a_ij != 0`` or ``a_ji != 0``, ``j != i``; explicitly stored zeros do
    not couple). The result is checked: no two
    coupled unknowns share a colour. For the 5-point Laplacian in natural (row-major) order
    this is the red-black colouring ``(i + j) mod 2`` of the grid point ``(i, j)``.

    Parameters
    ----------
    A : sparse matrix/array, 2-D ndarray or PreparedMatrix, shape (n, n)
        Only the pattern of the nonzero entries is used.

    Returns
    -------
    colors : ndarray of int64, shape (n,)
        Colour of each unknown, ``0 .. ncolors - 1``.

    Examples
    --------
    >>> import numfit.linalg as la
    >>> la.greedy_coloring(la.laplacian_2d(3)).reshape(3, 3).tolist()
    [[0, 1, 0], [1, 0, 1], [0, 1, 0]]
    """
    from ._base import PreparedMatrix
    if isinstance(A, PreparedMatrix):
        A = A.csr
    elif _backend.is_cupy(A):                               # pragma: no cover - needs CuPy
        A = _backend.to_numpy(A)
    if not sp.issparse(A):
        A = np.asarray(A)
        if A.ndim != 2:
            raise ValueError(f"`A` must be a 2-D matrix; got shape {A.shape}")
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"`A` must be square; got shape {A.shape}")
    S = _pattern(A)
    colors = _greedy(S.indptr.astype(np.int64), S.indices.astype(np.int64), S.shape[0])
    _check_valid(S, colors)
    return colors


# --------------------------------------------------------------------------- the plan
class _Plan:
    """Colouring, permutation and the renumbered CSR matrix of one PreparedMatrix (host),
    plus its copies per array namespace (``on(xp)``, cached)."""

    def __init__(self, P):
        self.colors = greedy_coloring(P)
        self.ncolors = int(self.colors.max()) + 1
        self.perm = np.argsort(self.colors, kind="stable")       # new -> old
        self.inv = np.empty_like(self.perm)
        self.inv[self.perm] = np.arange(P.n)                       # old -> new
        counts = np.bincount(self.colors, minlength=self.ncolors)
        self.starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64).tolist()
        Ap = sp.csr_array(P.csr[self.perm][:, self.perm])
        Ap.sort_indices()
        self.Ap = Ap
        self.inv_diag = P.inv_diag[self.perm]
        self.n = P.n
        self.nnz = P.nnz
        self._dev = {}

    def on(self, xp):
        """Arrays and CSR blocks of this plan in namespace ``xp`` (cached per device)."""
        key = _device_key(xp)
        dev = self._dev.get(key)
        if dev is None:
            dev = self._dev[key] = _DevicePlan(self, xp)
        return dev


def _device_key(xp):
    if xp is np:
        return "numpy"
    return (xp.__name__, int(xp.cuda.runtime.getDevice()))    # pragma: no cover - needs CuPy


def _csr(xp, spmod, M):
    """``M`` (host CSR) as an ``spmod.csr_matrix`` with int32 indices (cuSPARSE's type)."""
    if M.nnz >= 2**31 - 1 or M.shape[0] >= 2**31 - 1:
        raise ValueError("multicolour SOR supports matrices with fewer than 2**31 nonzeros")
    return spmod.csr_matrix((xp.asarray(M.data), xp.asarray(M.indices.astype(np.int32)),
                             xp.asarray(M.indptr.astype(np.int32))), shape=M.shape)


class _DevicePlan:
    def __init__(self, plan, xp):
        spmod = _backend.sparse_module(xp)
        self.xp = xp
        self.starts = plan.starts
        self.ncolors = plan.ncolors
        self.A = _csr(xp, spmod, plan.Ap)
        self.blocks = [_csr(xp, spmod, plan.Ap[lo:hi])
                       for lo, hi in zip(plan.starts[:-1], plan.starts[1:])]
        self.inv_diag = xp.asarray(plan.inv_diag)
        self.perm = xp.asarray(plan.perm)
        self.inv = xp.asarray(plan.inv)
        self.upd = _backend.fuse(xp, _update)


def _update(x, inv_d, res, omega):
    """x + omega D^{-1} res (one CUDA kernel with cupy.fuse)."""
    return x + omega * inv_d * res


def _plan_for(P):
    plan = getattr(P, "_multicolor_plan", None)
    if plan is None:
        plan = _Plan(P)
        P._multicolor_plan = plan
    return plan


def _sequence(ncolors, sweep):
    fwd = list(range(ncolors))
    if sweep == "forward":
        return fwd
    if sweep == "backward":
        return fwd[::-1]
    return fwd + fwd[::-1]


def mc_sweep(dev, x, b, omega, seq, first_res=None):
    """One multicolour sweep over the colours ``seq`` of the renumbered system, in place.

    ``first_res`` (optional) is ``b - A x`` for the current ``x``: the first colour of the
    sweep then needs no product (its rows see no change before it is updated).
    """
    for pos, c in enumerate(seq):
        lo, hi = dev.starts[c], dev.starts[c + 1]
        if pos == 0 and first_res is not None:
            res = first_res[lo:hi]
        else:
            res = b[lo:hi] - dev.blocks[c] @ x
        x[lo:hi] = dev.upd(x[lo:hi], dev.inv_diag[lo:hi], res, omega)
    return x


# --------------------------------------------------------------------------- validation
def _host_matrix(A):
    if _backend.is_cupy(A):                                 # pragma: no cover - needs CuPy
        return _backend.to_numpy(A)
    return A


def vector(xp, name, v, n, *, copy=False):
    """``v`` validated as a real finite (n,) float64 vector of namespace ``xp`` (the messages
    of ``_sor._as_vector``)."""
    if xp is not np and not _backend.is_cupy(v):            # pragma: no cover - needs CuPy
        v = np.asarray(v)
    arr = xp.asarray(v)
    kind = arr.dtype.kind
    if kind == "c":
        raise TypeError(f"`{name}` must be real; got dtype {arr.dtype}")
    if kind not in "biuf":
        raise TypeError(f"`{name}` must be a real vector; got dtype {arr.dtype}")
    if arr.shape != (n,):
        raise ValueError(f"`{name}` must have shape ({n},) to match A of shape ({n}, {n}); "
                         f"got shape {arr.shape}")
    fin = xp.isfinite(arr)
    if not bool(fin.all()):
        i = int(xp.flatnonzero(~fin)[0])
        raise ValueError(f"`{name}` must be finite; got {float(arr[i])} at index {i}")
    out = xp.ascontiguousarray(arr, dtype=xp.float64)
    if copy and out is arr:
        out = out.copy()
    return out


def _setup(A, b, x0, omega, rtol, maxiter, atol):
    from ._base import prepare
    xp = _backend.array_namespace(A, b, x0)
    P = prepare(_host_matrix(A))
    dev = _plan_for(P).on(xp)
    bb = vector(xp, "b", b, P.n)
    x = xp.zeros(P.n) if x0 is None else vector(xp, "x0", x0, P.n, copy=True)
    omega = check_float("omega", omega, lo=0.0, hi=2.0, lo_open=True, hi_open=True)
    rtol = check_float("rtol", rtol, lo=0.0)
    atol = check_float("atol", atol, lo=0.0)
    maxiter = check_int("maxiter", maxiter, lo=0)
    return xp, P, dev, bb, x, omega, rtol, maxiter, atol


def _norm(xp, v):
    return float(xp.linalg.norm(v))


def _dot(xp, u, v):
    """``u . v`` as a float (an elementwise product and a sum: no BLAS threads on the CPU,
    which contend badly on a loaded machine; one reduction kernel on the GPU)."""
    return float((u * v).sum())


def _natural(dev, xp_perm):
    """The renumbered vector back in the caller's numbering (a new array)."""
    return xp_perm[dev.inv]


def _info_x(x):
    if isinstance(x, np.ndarray):
        x.flags.writeable = False
    return x


# --------------------------------------------------------------------------- SOR
def sor(A, b, omega, x0, rtol, maxiter, sweep, norm, atol, divtol, callback,
        return_history):
    """Multicolour SOR (front end: ``numfit.sor(..., ordering="multicolor")``)."""
    from ._base import _NORMS, _SOR_MESSAGES, _check_callback, _finish, _sor_loop
    t0 = time.perf_counter()
    xp, P, dev, bb, x, omega, rtol, maxiter, atol = _setup(A, b, x0, omega, rtol, maxiter,
                                                           atol)
    sweep = check_option("sweep", sweep, _SWEEPS)
    norm = check_option("norm", norm, _NORMS)
    divtol = check_float("divtol", divtol, lo=0.0, lo_open=True, finite=False)
    _check_callback(callback)
    seq = _sequence(dev.ncolors, sweep)
    bp = bb[dev.perm]
    xp_ = x[dev.perm]
    r = bp - dev.A @ xp_
    rn = _norm(xp, r)
    ref = rn if norm == "r0" else _norm(xp, bb)

    def sweep_once():
        nonlocal r
        mc_sweep(dev, xp_, bp, omega, seq, first_res=r)
        r = bp - dev.A @ xp_
        return _norm(xp, r)

    status, k, rn, hist = _sor_loop(rn, ref, rtol, atol, divtol, maxiter, sweep_once,
                                     lambda: _info_x(_natural(dev, xp_)), callback)
    h = np.asarray(hist) if return_history else None
    res = _finish(_SOR_MESSAGES, _natural(dev, xp_), status, k, rn, ref, omega, k, h, t0)
    res["ordering"] = "multicolor"
    res["ncolors"] = dev.ncolors
    return res


# --------------------------------------------------------------------------- SSOR-CG
def ssor_apply(dev, r, omega, order="fb"):
    """``z = M^{-1} r`` for the multicolour SSOR preconditioner of the renumbered system:
    a forward then a backward multicolour sweep (``order="fb"``; ``"bf"`` the other way
    round) on ``A z = r`` from ``z = 0``. Symmetric positive definite for SPD ``A``."""
    xp = dev.xp
    fwd = _sequence(dev.ncolors, "forward")
    seq = fwd + fwd[::-1] if order == "fb" else fwd[::-1] + fwd
    z = xp.zeros_like(r)
    return mc_sweep(dev, z, r, omega, seq, first_res=r)


def ssor_cg(A, b, omega, x0, rtol, maxiter, norm, order, atol, check_symmetry, callback,
            return_history):
    """PCG with the multicolour SSOR preconditioner (front end: ``numfit.ssor_cg(...,
    ordering="multicolor")``); the stopping rules of ``_sor._ssor_cg_python``."""
    from ._base import _CG_MESSAGES, _NORMS, _ORDERS, _Stagnation, _check_callback, \
        _check_symmetric, _finish, _pcg_loop
    t0 = time.perf_counter()
    xp, P, dev, bb, x, omega, rtol, maxiter, atol = _setup(A, b, x0, omega, rtol, maxiter,
                                                           atol)
    norm = check_option("norm", norm, _NORMS)
    order = check_option("order", order, _ORDERS)
    _check_callback(callback)
    _check_symmetric(P, check_symmetry)
    bp = bb[dev.perm]
    x = x[dev.perm]
    Ad = dev.A
    r = bp - Ad @ x
    rn = _norm(xp, r)
    ref = rn if norm == "r0" else _norm(xp, bb)

    def residual(xv):
        q = bp - Ad @ xv
        return q, _norm(xp, q)

    thresh = max(rtol * ref, atol)
    stag = _Stagnation(_norm(xp, bb), P.norm_inf(), _norm(xp, x))
    status, k, final, hist = _pcg_loop(
        x, r, rn, thresh, maxiter, lambda v: ssor_apply(dev, v, omega, order),
        lambda v: Ad @ v, residual, lambda u, v: _dot(xp, u, v), lambda v: _norm(xp, v),
        lambda: _info_x(_natural(dev, x)), callback, stag)
    h = np.asarray(hist) if return_history else None
    msg = stag.message(thresh, _norm(xp, x)) if status == 4 else None
    res = _finish(_CG_MESSAGES, _natural(dev, x), status, k, final, ref, omega, 0, h, t0,
                  msg)
    res["ordering"] = "multicolor"
    res["ncolors"] = dev.ncolors
    return res


# --------------------------------------------------------------------------- in-place sweeps
def sor_sweep(A, x, b, omega, iterations, sweep, check_finite):
    """Multicolour sweeps on ``x`` in place (front end: ``sor_sweep(..., ordering=
    "multicolor")``); ``x`` may be a NumPy or a CuPy float64 vector."""
    from ._base import prepare
    xp = _backend.array_namespace(A, x, b)
    P = prepare(_host_matrix(A))
    if getattr(x, "dtype", None) != np.float64 or getattr(x, "shape", None) != (P.n,) \
            or not isinstance(x, xp.ndarray) or not x.flags.c_contiguous \
            or (isinstance(x, np.ndarray) and not x.flags.writeable):
        raise TypeError(f"`x` must be a writeable C-contiguous float64 {xp.__name__} array "
                        f"of shape ({P.n},) (updated in place); got {type(x).__name__} "
                        f"{getattr(x, 'dtype', '')} {getattr(x, 'shape', '')}")
    if check_finite:
        bb = vector(xp, "b", b, P.n)
        vector(xp, "x", x, P.n)
    else:
        bb = xp.ascontiguousarray(xp.asarray(b), dtype=xp.float64)
        if bb.shape != (P.n,):
            raise ValueError(f"`b` must have shape ({P.n},); got shape {bb.shape}")
    omega = check_float("omega", omega, lo=0.0, hi=2.0, lo_open=True, hi_open=True)
    iterations = check_int("iterations", iterations, lo=0)
    sweep = check_option("sweep", sweep, _SWEEPS)
    dev = _plan_for(P).on(xp)
    if iterations == 0:
        return x
    seq = _sequence(dev.ncolors, sweep)
    bp = bb[dev.perm]
    xp_ = x[dev.perm]
    for _ in range(iterations):
        mc_sweep(dev, xp_, bp, omega, seq)
    x[dev.perm] = xp_
    return x
