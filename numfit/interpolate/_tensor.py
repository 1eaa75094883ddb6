"""Tensor-product not-a-knot bicubic splines on a rectangular grid: fit and evaluation.

The front end of the 2-D tables (``numfit/_core/_autoknots.pyx`` K9 and its Numba twin).
Layout of the coefficients ``C`` (``nx-1, ny-1, 4, 4, m``, C-contiguous float64): on cell
``(i, j)``, i.e. ``[u_i, u_{i+1}] x [v_j, v_{j+1}]``, with ``s = u - u_i`` and ``r = v - v_j``,

    p(u, v) = sum_{a, b} C[i, j, a, b, k] s**(3-a) r**(3-b)      (component k),

the SciPy ``PPoly`` order along each axis. No validation here beyond asserts: callers pass
strictly increasing float64 knots and finite values.
"""
import numpy as np

from . import _kernels

__all__ = ["fit_tensor", "evaluate_tensor"]


def fit_tensor(u, v, values, K=None):
    """Coefficients of the tensor-product not-a-knot bicubic through ``values`` on ``u x v``.

    The 1-D not-a-knot fit (``K.notaknot``) is applied along ``u`` to all ``ny * m`` columns at
    once, then along ``v`` to all ``4 (nx-1) m`` rows of the resulting coefficients at once;
    both are linear, so the result is the unique bicubic in the tensor-product spline space
    (interior knots at the grid lines except the second and the penultimate of each axis)
    that interpolates the grid.

    Parameters
    ----------
    u : ndarray, shape (nx,)
        Strictly increasing grid lines of the first variable, ``nx >= 4``.
    v : ndarray, shape (ny,)
        Strictly increasing grid lines of the second variable, ``ny >= 4``.
    values : ndarray, shape (nx, ny) or (nx, ny, m)
        Values at the grid points (``m = 1`` for a 2-D array).
    K : module, optional
        Kernel module (default: the selected one, :data:`numfit.interpolate._kernels.kernels`).

    Returns
    -------
    ndarray, shape (nx-1, ny-1, 4, 4, m)
        C-contiguous float64 coefficients in the layout of the module docstring.
    """
    K = K or _kernels.kernels
    u = np.ascontiguousarray(u, dtype=np.float64)
    v = np.ascontiguousarray(v, dtype=np.float64)
    z = np.asarray(values, dtype=np.float64)
    if z.ndim == 2:
        z = z[:, :, None]
    nx, ny, m = z.shape
    assert u.shape == (nx,) and v.shape == (ny,) and nx >= 4 and ny >= 4 and m >= 1
    # along u: columns (j, k); c1[a, i, j*m + k]
    y1 = np.ascontiguousarray(z.reshape(nx, ny * m))
    c1 = np.empty((4, nx - 1, ny * m))
    assert K.notaknot(u, y1, c1, np.empty(nx), np.empty((nx, ny * m))) == 0
    # along v: rows j, columns (a, i, k)
    w = 4 * (nx - 1) * m
    y2 = np.ascontiguousarray(c1.reshape(4, nx - 1, ny, m).transpose(2, 0, 1, 3).reshape(ny, w))
    c2 = np.empty((4, ny - 1, w))
    assert K.notaknot(v, y2, c2, np.empty(ny), np.empty((ny, w))) == 0
    # c2[b, j, (a, i, k)] -> C[i, j, a, b, k]
    return np.ascontiguousarray(c2.reshape(4, ny - 1, 4, nx - 1, m).transpose(3, 1, 2, 0, 4))


def evaluate_tensor(u, v, C, table_u, table_v, qu, qv, du=0, dv=0, extrapolate=False, K=None):
    """The bicubic of :func:`fit_tensor` (or its partial derivative) at paired points.

    Parameters
    ----------
    u, v : ndarray, shapes (nx,), (ny,)
        The grid lines the coefficients were fitted on (C-contiguous float64).
    C : ndarray, shape (nx-1, ny-1, 4, 4, m)
        Coefficients from :func:`fit_tensor`.
    table_u, table_v : ndarray of intp, or None
        Bucket tables of ``u`` and ``v`` (:func:`numfit.interpolate._kernels.lookup_table`);
        None builds them.
    qu, qv : array_like, shape (Q,)
        The points ``(qu[p], qv[p])``.
    du, dv : int
        Orders of the partial derivatives in ``u`` and ``v``, 0..3.
    extrapolate : bool
        Continue the edge cells outside the grid's rectangle instead of returning NaN.
    K : module, optional
        Kernel module (default: the selected one).

    Returns
    -------
    ndarray, shape (Q, m)
        NaN where a coordinate is NaN and (unless ``extrapolate``) outside the rectangle.
    """
    K = K or _kernels.kernels
    if table_u is None:
        table_u = _kernels.lookup_table(u, K)
    if table_v is None:
        table_v = _kernels.lookup_table(v, K)
    qu = np.ascontiguousarray(qu, dtype=np.float64).reshape(-1)
    qv = np.ascontiguousarray(qv, dtype=np.float64).reshape(-1)
    out = np.empty((qu.size, C.shape[4]))
    st = K.evaluate2d(u, v, C, table_u, table_v, qu, qv, int(du), int(dv), bool(extrapolate),
                      out)
    assert st == 0, "evaluate2d: inconsistent sizes or derivative order outside 0..3"
    return out
