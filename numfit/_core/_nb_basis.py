"""Numba kernels: orthonormal polynomial bases by three-term recurrence (docs/wls.md).

The recurrence is ``t phi_j = beta[j+1] phi_{j+1} + beta[j] phi_{j-1}`` with ``phi_{-1} = 0``,
``phi_0 = 1`` and ``beta[0] = 0``. Tensor-product features are products of 1-D tables over the
rows of ``indices``. No validation here: the front end (numfit/approx) passes contiguous float64
reference coordinates, int64 indices and preallocated outputs.
"""
import numpy as np
from numba import njit

__all__ = ["table_1d", "features", "christoffel", "clenshaw", "expansion"]


@njit(cache=True, nogil=True)
def _fill_row(t, beta, p, row):
    """phi_0(t), ..., phi_p(t) into ``row``."""
    row[0] = 1.0
    if p == 0:
        return
    prev = 0.0
    cur = 1.0
    for j in range(p):
        nxt = (t * cur - beta[j] * prev) / beta[j + 1]
        row[j + 1] = nxt
        prev = cur
        cur = nxt


@njit(cache=True, nogil=True)
def table_1d(t, beta, p, out):
    """out[i, j] = phi_j(t[i]) for j = 0..p; ``out`` has shape (N, p + 1)."""
    for i in range(t.shape[0]):
        _fill_row(t[i], beta, p, out[i])


@njit(cache=True, nogil=True)
def _point_features(t_row, beta, pmax, indices, tab, out_row):
    d = indices.shape[1]
    for k in range(d):
        _fill_row(t_row[k], beta, pmax[k], tab[k])
    for j in range(indices.shape[0]):
        v = 1.0
        for k in range(d):
            v *= tab[k, indices[j, k]]
        out_row[j] = v


@njit(cache=True, nogil=True)
def features(t, beta, pmax, indices, out):
    """out[i, j] = prod_k phi_{indices[j, k]}(t[i, k]); t (N, d), out (N, m).

    ``pmax[k]`` is the largest degree used in coordinate ``k``.
    """
    d = indices.shape[1]
    tab = np.empty((d, pmax.max() + 1))
    for i in range(t.shape[0]):
        _point_features(t[i], beta, pmax, indices, tab, out[i])


@njit(cache=True, nogil=True)
def christoffel(t, beta, pmax, indices, out):
    """out[i] = sum_j phi_j(t[i])**2 (the inverse Christoffel function k_m)."""
    d = indices.shape[1]
    m = indices.shape[0]
    tab = np.empty((d, pmax.max() + 1))
    row = np.empty(m)
    for i in range(t.shape[0]):
        _point_features(t[i], beta, pmax, indices, tab, row)
        s = 0.0
        for j in range(m):
            s += row[j] * row[j]
        out[i] = s


@njit(cache=True, nogil=True)
def clenshaw(t, beta, coef, out):
    """1-D expansion sum_j coef[j, q] phi_j(t[i]) by Clenshaw's backward recurrence.

    ``coef`` has shape (p + 1, Q); ``out`` has shape (N, Q); ``beta`` needs p + 3 entries.
    """
    n1 = coef.shape[0]
    nq = coef.shape[1]
    for i in range(t.shape[0]):
        x = t[i]
        for q in range(nq):
            b1 = 0.0
            b2 = 0.0
            for j in range(n1 - 1, 0, -1):
                # b_j = c_j + (x / beta_{j+1}) b_{j+1} - (beta_{j+1} / beta_{j+2}) b_{j+2}
                bj = coef[j, q] + (x * b1) / beta[j + 1] - (beta[j + 1] / beta[j + 2]) * b2
                b2 = b1
                b1 = bj
            # phi_1 = x / beta_1, so f = c_0 + b_1 phi_1 - (beta_1 / beta_2) b_2 phi_0
            if n1 > 1:
                out[i, q] = coef[0, q] + b1 * x / beta[1] - (beta[1] / beta[2]) * b2
            else:
                out[i, q] = coef[0, q]


@njit(cache=True, nogil=True)
def expansion(t, beta, pmax, indices, coef, out):
    """out[i, q] = sum_j coef[j, q] prod_k phi_{indices[j, k]}(t[i, k]) without storing features."""
    d = indices.shape[1]
    m = indices.shape[0]
    nq = coef.shape[1]
    tab = np.empty((d, pmax.max() + 1))
    row = np.empty(m)
    for i in range(t.shape[0]):
        _point_features(t[i], beta, pmax, indices, tab, row)
        for q in range(nq):
            s = 0.0
            for j in range(m):
                s += coef[j, q] * row[j]
            out[i, q] = s
