"""Pure-NumPy reference for piecewise-Chebyshev tables (clear, not fast).

Written independently of the compiled kernels (``evaluate_cheb``/``evaluate_cheb1`` in
``numfit/_core/_autoknots.pyx`` and their Numba twins) and of the xp evaluator: the piece
comes from ``np.searchsorted`` on the breakpoints, the sum from
``numpy.polynomial.chebyshev.chebval``.
"""
import numpy as np
from numpy.polynomial.chebyshev import chebval


def ref_pieces(t, q):
    """Piece index of each point: the largest i in [0, n-1] with t[i] <= q (clamped)."""
    t = np.asarray(t, dtype=float)
    n = t.size - 1
    return np.clip(np.searchsorted(t, q, side="right") - 1, 0, n - 1)


def ref_local(t, i, q):
    """Local variable s = (2q - t_i - t_{i+1}) / (t_{i+1} - t_i) of piece i."""
    t = np.asarray(t, dtype=float)
    return (2.0 * q - t[i] - t[i + 1]) / (t[i + 1] - t[i])


def ref_evaluate_cheb(t, off, coef, q, extrapolate=False):
    """p(q) for the table (t, off, coef); shape (Q, m), or (Q,) for a 1-D ``coef``.

    Piece i = [t[i], t[i+1]] has the Chebyshev coefficients coef[off[i]:off[i+1]] (ascending)
    in its local variable s. A point on an interior breakpoint belongs to the piece on its
    right and t[n] to the last piece; NaN for NaN q and outside [t[0], t[n]] unless
    ``extrapolate``, where the end pieces continue.
    """
    t = np.asarray(t, dtype=float)
    off = np.asarray(off)
    coef = np.asarray(coef, dtype=float)
    q = np.asarray(q, dtype=float)
    c2 = coef.reshape(coef.shape[0], -1)
    out = np.full((q.size, c2.shape[1]), np.nan)
    ok = ~np.isnan(q)
    if not extrapolate:
        ok &= (q >= t[0]) & (q <= t[-1])
    idx = ref_pieces(t, np.where(ok, q, t[0]))
    with np.errstate(all="ignore"):
        for i in np.unique(idx[ok]):
            sel = ok & (idx == i)
            s = ref_local(t, i, q[sel])
            out[sel] = chebval(s, c2[off[i]:off[i + 1]]).T     # chebval gives (m, k)
    return out[:, 0] if coef.ndim == 1 else out
