"""Weighted least squares written once against an array namespace ``xp``.

Used when the points are CuPy arrays (:meth:`PolynomialSpace.eval`, ``christoffel``,
``weights``, ``gram``, :class:`PolynomialExpansion` and :func:`numfit.wls` with a sample whose
points are on the GPU); the tests run the same functions with ``xp = numpy`` against the
Numba/LAPACK CPU path. NumPy inputs never come here.

* Features: the three-term recurrence ``t phi_j = beta[j+1] phi_{j+1} + beta[j] phi_{j-1}`` is
  vectorised over all points and coordinates at once (one (N, d) array per degree, the same
  floating-point operations as ``_nb_basis._fill_row``), the tables are stored as an
  (N, d (P+1)) array, and the tensor-product features are products over the coordinates of
  columns gathered by ``xp.take`` with the flattened multi-index (coordinate order as in
  ``_point_features``), so with NumPy they equal the Numba kernel bit for bit.
* Reductions over the features (``k_m``, the Gram matrix, ``Phi @ coef``) run in row blocks
  of at most :data:`CHUNK_ELEMENTS` feature values, so memory stays O(block * m).
* The fit is the CPU one: QR of ``sqrt(w/n) Phi`` (never forming G), the singular values of
  R for ``cond`` and the rank test, a triangular solve, and for a numerically rank-deficient
  design the minimum-norm solution from the SVD of R (the CPU path calls LAPACK ``gelsd``
  with the same cut, which CuPy does not have).
"""
import math

import numpy as np
import scipy.linalg as sla

__all__ = ["CHUNK_ELEMENTS", "reference_xp", "tables_xp", "features_xp", "christoffel_xp",
           "expansion_xp", "gram_xp", "spread_xp", "measure_density_xp", "solve_triangular_xp",
           "lstsq_xp"]

CHUNK_ELEMENTS = 1 << 24
"""Largest number of feature values (rows x m) materialised by the blocked reductions."""


def _rows_per_block(m):
    return max(1, CHUNK_ELEMENTS // max(int(m), 1))


def reference_xp(xp, space, x, name="x"):
    """(N, d) reference coordinates of the points ``x`` (already an ``xp`` array).

    The same checks and arithmetic as :meth:`PolynomialSpace.to_reference`: shape (N, d)
    (d = 1 also takes scalars and (N,)), finite values, ``(x - shift) / half``.
    """
    a = xp.asarray(x, dtype=xp.float64)
    shape = tuple(a.shape)
    d = space.dim
    if d == 1 and a.ndim <= 1:
        a = a.reshape(-1, 1)
    elif a.ndim == 1 and a.shape[0] == d:
        a = a.reshape(1, -1)
    if a.ndim != 2 or a.shape[1] != d:
        raise ValueError(f"`{name}` must have shape (N, {d})"
                         f"{' or (N,)' if d == 1 else ''}; got {shape}")
    ok = xp.all(xp.isfinite(a), axis=1)
    if not bool(ok.all()):
        bad = xp.flatnonzero(~ok)
        raise ValueError(f"`{name}` must be finite; {int(bad.size)} non-finite point(s), the "
                         f"first at row {int(bad[0])}")
    shift = xp.asarray(space._shift)
    half = xp.asarray(space._half)
    return xp.ascontiguousarray((a - shift) / half)


def tables_xp(xp, t, beta, p):
    """1-D orthonormal polynomials phi_0..phi_p at every entry of ``t`` (N, d).

    Returns an (N, d, p + 1) array; entry [i, k, j] = phi_j(t[i, k]). The recurrence is
    ``_nb_basis._fill_row``'s, operation for operation.
    """
    n, d = t.shape
    tab = xp.empty((n, d, p + 1))
    tab[:, :, 0] = 1.0
    if p == 0:
        return tab
    prev = xp.zeros_like(t)
    cur = xp.ones_like(t)
    for j in range(p):
        nxt = (t * cur - float(beta[j]) * prev) / float(beta[j + 1])
        tab[:, :, j + 1] = nxt
        prev, cur = cur, nxt
    return tab


def _flat_index(xp, space):
    """Column of (coordinate k, degree indices[j, k]) in the flattened (N, d (P+1)) table."""
    P = int(space.pmax.max())
    ind = space.indices + (P + 1) * np.arange(space.dim)[None, :]
    return P, [xp.asarray(np.ascontiguousarray(ind[:, k])) for k in range(space.dim)]


def _features_block(xp, space, t, P, cols):
    tab = tables_xp(xp, t, space.beta, P).reshape(t.shape[0], -1)
    phi = xp.take(tab, cols[0], axis=1)
    for k in range(1, space.dim):
        phi *= xp.take(tab, cols[k], axis=1)
    return phi


def _quiet(xp):
    """``np.errstate`` around NumPy (the Numba kernels do not warn); nothing for CuPy."""
    if xp is np:
        return np.errstate(over="ignore", invalid="ignore", divide="ignore")
    return _Null()                                         # pragma: no cover - needs CuPy


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def features_xp(xp, space, t):
    """Feature matrix ``Phi[i, j] = prod_k phi_{indices[j, k]}(t[i, k])``, shape (N, m)."""
    P, cols = _flat_index(xp, space)
    with _quiet(xp):
        return _features_block(xp, space, t, P, cols)


def _blocks(n, m):
    step = _rows_per_block(m)
    for s in range(0, n, step):
        yield slice(s, min(s + step, n))


def christoffel_xp(xp, space, t):
    """``k_m(t) = sum_j phi_j(t)**2``, shape (N,), in row blocks."""
    P, cols = _flat_index(xp, space)
    out = xp.empty(t.shape[0])
    with _quiet(xp):
        for b in _blocks(t.shape[0], space.m):
            phi = _features_block(xp, space, t[b], P, cols)
            out[b] = xp.sum(phi * phi, axis=1)
    return out


def expansion_xp(xp, space, t, coef2d):
    """``Phi(t) @ coef2d``, shape (N, q), in row blocks (coef2d already in ``xp``)."""
    P, cols = _flat_index(xp, space)
    out = xp.empty((t.shape[0], coef2d.shape[1]))
    with _quiet(xp):
        for b in _blocks(t.shape[0], space.m):
            out[b] = _features_block(xp, space, t[b], P, cols) @ coef2d
    return out


def gram_xp(xp, space, t, w):
    """``G = (1/n) sum_i w_i phi(t_i) phi(t_i)^T``, shape (m, m), in row blocks."""
    P, cols = _flat_index(xp, space)
    m = space.m
    g = xp.zeros((m, m))
    with _quiet(xp):
        for b in _blocks(t.shape[0], m):
            phi = _features_block(xp, space, t[b], P, cols)
            g += (phi * w[b, None]).T @ phi
    return g / t.shape[0]


def spread_xp(xp, g):
    """(lambda_min, lambda_max, ||G - I||_2) of a symmetric G by ``xp.linalg.eigvalsh``."""
    lam = xp.linalg.eigvalsh(g)
    lmin, lmax = float(lam[0]), float(lam[-1])
    return lmin, lmax, max(lmax - 1.0, 1.0 - lmin)


def measure_density_xp(xp, space, t):
    """:meth:`PolynomialSpace.measure_density` at reference points ``t`` (N, d)."""
    if space.family == "legendre":
        dens = xp.where(xp.abs(t) <= 1, 0.5, 0.0)
    elif space.family == "chebyshev":
        inside = xp.abs(t) < 1
        dens = xp.where(inside, 1.0 / (math.pi * xp.sqrt(xp.where(inside, 1 - t * t, 1.0))),
                        0.0)
    else:
        dens = xp.exp(-0.5 * t * t) / math.sqrt(2 * math.pi)
    return xp.prod(dens / xp.asarray(space._half), axis=1)


def solve_triangular_xp(xp, r, b):
    """Solve ``r @ x = b`` for upper-triangular ``r`` (SciPy / cupyx.scipy)."""
    if xp is np:
        return sla.solve_triangular(r, b, check_finite=False)
    from cupyx.scipy.linalg import solve_triangular       # pragma: no cover - needs CuPy
    return solve_triangular(r, b)                          # pragma: no cover - needs CuPy


def lstsq_xp(xp, a, b):
    """Weighted least-squares solve of ``a @ coef ~ b`` as in :func:`numfit.wls`.

    Returns
    -------
    coef : array, shape (m, q)
    s : array, shape (m,)
        Singular values of R (descending): those of ``a``.
    residual : float
        ``||a @ coef - b||_2``.
    """
    q, r = xp.linalg.qr(a, mode="reduced")
    s = xp.linalg.svd(r, compute_uv=False)
    qtb = q.T @ b
    if float(s[-1]) > float(s[0]) * 1e-13:
        coef = solve_triangular_xp(xp, r, qtb)
    else:
        # rank-deficient design: the minimum-norm solution of min ||R c - Q^T b|| (the same
        # as that of min ||a c - b|| since Q has orthonormal columns), by the SVD of R with
        # numpy.linalg.lstsq's default cut eps * max(n, m)
        u, sv, vt = xp.linalg.svd(r)
        keep = sv > sv[0] * (np.finfo(np.float64).eps * max(a.shape))
        inv = xp.where(keep, 1.0 / xp.where(keep, sv, 1.0), 0.0)
        coef = vt.T @ (inv[:, None] * (u.T @ qtb))
    res = float(math.sqrt(float(xp.sum((a @ coef - b) ** 2))))
    return coef, s, res
