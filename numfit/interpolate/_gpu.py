"""AutoKnotsSpline evaluation written once against an array namespace ``xp``.

:meth:`numfit.AutoKnotsSpline.__call__` uses this module when ``x`` is a CuPy array (the
work then stays on the GPU); the tests run the very same functions with ``xp = numpy`` and
compare them with the compiled CPU kernels (``numfit/_core/_autoknots.pyx`` ``evaluate`` and
``evaluate_cubic``).  NumPy inputs of ``AutoKnotsSpline.__call__`` never come here.

The evaluation, per batch of points, is three device operations:

1. ``xp.searchsorted`` of the points in the *interior* breakpoints ``t[1:-1]``
   (``side="right"``), which is directly the CPU kernels' interval convention: ``i`` is the
   largest index in ``[0, n-2]`` with ``t[i] <= q`` (a point exactly on knot ``k`` belongs to
   interval ``k``, the last knot and everything right of it to interval ``n-2``, everything
   left of ``t[0]`` to interval 0), with no clipping pass;
2. one ``xp.take`` of a per-interval row ``[t_i, c_0i, ..., c_Ki]`` (``K+2`` doubles per
   component, the table built once per spline and device by :func:`device_tables`);
3. one fused elementwise function (``cupy.fuse`` on the GPU, see
   :func:`numfit._backend.fuse`): the NaN mask, Horner's scheme for the value and the
   derivatives, and for log-log splines ``exp`` and the chain rule.

The arithmetic is the CPU kernels', operation for operation (the pure Horner form for
``nu = 0`` of a cubic, else ``acc = acc * s + c * falling_factorial`` starting at 0.0), so with
``xp = numpy`` the result equals the compiled path bit for bit; on a GPU the CUDA compiler
contracts ``a * b + c`` into fused multiply-adds, which changes the last bits.

Piecewise-Chebyshev tables (variable degree per piece, the layout of ``evaluate_cheb`` in
``numfit/_core/_autoknots.pyx``) have their own pair, :func:`cheb_device_tables` and
:func:`evaluate_cheb_xp`: ``xp.searchsorted`` in the interior breakpoints as above, then
Clenshaw's recurrence vectorised over the points, ``k`` running from the largest degree down
to 0 and every point taking part only for ``k <= d_i`` of its piece (the others keep
``b = 0``). The per-point arithmetic is again the CPU kernels' (same ``s``, same start
``b_d = a_d``, same operation order), so with ``xp = numpy`` it matches them bit for bit.
"""
import functools
import math

import numpy as np

from .._backend import fuse

__all__ = ["SplineTables", "device_tables", "evaluate_xp", "ChebTables", "cheb_device_tables",
           "evaluate_cheb_xp", "evaluate2d_xp"]


class SplineTables:
    """The breakpoints and coefficients of a spline as arrays of one namespace/device.

    Attributes
    ----------
    t_inner : array, shape (n-2,)
        Interior breakpoints ``t[1:-1]`` of the spline variable (``x`` or ``ln x``).
    rows : array, shape (n-1, 1 + (K+1) m)
        Row ``i``: ``t[i]``, then ``c[0, i, :]``, ..., ``c[K, i, :]``.
    t0, tn, x0, x1 : float
        Ends of the table in the spline variable and in ``x``.
    K, m : int
        Degree and number of components.
    """

    __slots__ = ("t_inner", "rows", "t0", "tn", "x0", "x1", "K", "m")

    def __init__(self, t_inner, rows, t0, tn, x0, x1, K, m):
        self.t_inner, self.rows = t_inner, rows
        self.t0, self.tn, self.x0, self.x1 = t0, tn, x0, x1
        self.K, self.m = K, m


def device_tables(xp, t, c3, x):
    """Build :class:`SplineTables` in namespace ``xp`` (one host-to-device copy).

    Parameters
    ----------
    t : ndarray, shape (n,)
        Breakpoints in the spline variable (``AutoKnotsSpline._t``).
    c3 : ndarray, shape (K+1, n-1, m)
        Coefficients, SciPy ``PPoly`` order.
    x : ndarray, shape (n,)
        Knots in ``x`` (the log-log range test is made in ``x``, as on the CPU).
    """
    K1, n1, m = c3.shape
    rows = np.empty((n1, 1 + K1 * m))
    rows[:, 0] = t[:-1]
    rows[:, 1:] = np.transpose(c3, (1, 0, 2)).reshape(n1, K1 * m)
    return SplineTables(xp.asarray(np.ascontiguousarray(t[1:-1])), xp.asarray(rows),
                        float(t[0]), float(t[-1]), float(x[0]), float(x[-1]), K1 - 1, m)


def _falling(jj, nu):
    """jj! / (jj - nu)! as the CPU kernels compute it (a double, 0 for jj < nu)."""
    acc = 1.0
    for i in range(nu):
        acc *= (jj - i)
    return acc if jj >= nu else 0.0


def _horner(xp, s, cs, K, nu):
    """d^nu/ds^nu of sum_j cs[j] s^(K-j), exactly as ``evaluate`` in _autoknots.pyx."""
    if K == 3 and nu == 0:
        return ((cs[0] * s + cs[1]) * s + cs[2]) * s + cs[3]
    if K < nu:                                 # the CPU loop is empty: 0.0 at every point
        return xp.where(s == s, 0.0, 0.0)
    acc = 0.0
    for jj in range(K, nu - 1, -1):
        acc = acc * s + cs[K - jj] * _falling(jj, nu)
    return acc


@functools.lru_cache(maxsize=None)
def _kernel(xp, K, nu, loglog):
    """The fused elementwise function for degree K, derivative nu and the space.

    Arguments of the returned function: ``q`` (the points in ``x``, shape (Q, 1)), ``tq``
    (the points in the spline variable, (Q, 1)), ``ti`` (left breakpoint of each point's
    interval, (Q, 1)), ``lo``, ``hi`` (the admissible range of ``tq``: the table's ends, or
    -inf/inf when extrapolating), ``nan`` (passed as an argument, not a literal), then the
    K+1 coefficient columns (each (Q, m)). Python-level structure (K, nu, space) is fixed
    per function, so ``cupy.fuse`` traces each variant once.
    """
    if not loglog:
        def spline_eval(q, tq, ti, lo, hi, nan, *cs):
            bad = (tq != tq) | (tq < lo) | (tq > hi)
            return xp.where(bad, nan, _horner(xp, tq - ti, cs, K, nu))
    else:
        def spline_eval(q, tq, ti, lo, hi, nan, *cs):
            bad = (tq != tq) | (tq < lo) | (tq > hi)
            s = tq - ti
            f = xp.exp(_horner(xp, s, cs, K, 0))
            if nu == 0:
                out = f
            elif nu == 1:
                out = f * _horner(xp, s, cs, K, 1) / q
            else:
                S1 = _horner(xp, s, cs, K, 1)
                S2 = _horner(xp, s, cs, K, 2)
                out = f * (S2 + S1 * S1 - S1) / (q * q)
            return xp.where(bad, nan, out)
    spline_eval.__name__ = f"numfit_spline_eval_k{K}_nu{nu}_{'loglog' if loglog else 'lin'}"
    return fuse(xp, spline_eval)


def _log_points(q, lo, hi, nan):
    """ln q for q > 0, NaN for q <= 0 and (unless extrapolating) outside [lo, hi]."""
    tq = np.log(np.where(q > 0, q, nan))
    return np.where((q < lo) | (q > hi), nan, tq)


@functools.lru_cache(maxsize=None)
def _log_kernel(xp):
    if xp is np:
        return _log_points

    def log_points_xp(q, lo, hi, nan):                    # pragma: no cover - needs CuPy
        tq = xp.log(xp.where(q > 0, q, nan))
        return xp.where((q < lo) | (q > hi), nan, tq)
    return fuse(xp, log_points_xp)                        # pragma: no cover - needs CuPy


def evaluate_xp(xp, tables, q, nu, extrapolate, loglog):
    """The spline (or its ``nu``-th derivative) at the 1-D float64 points ``q``.

    Parameters
    ----------
    xp : module
        ``numpy`` or ``cupy``; ``q`` and ``tables`` belong to it.
    tables : SplineTables
        From :func:`device_tables` for the same namespace and device.
    q : array, shape (Q,)
        Points in ``x`` (float64).
    nu : int
        Derivative order (validated by the caller: <= 3 linear, <= 2 log-log).
    extrapolate : bool
        Continue the end polynomials outside ``[a, b]`` instead of returning NaN.
    loglog : bool
        The spline is ``S(ln x)`` of ``ln f``: ``s = exp(S(ln x))``, chain rule for nu >= 1.

    Returns
    -------
    array, shape (Q, m)
    """
    if xp is np:            # the compiled kernels are silent about inf/NaN arithmetic
        with np.errstate(all="ignore"):
            return _evaluate(xp, tables, q, nu, extrapolate, loglog)
    return _evaluate(xp, tables, q, nu, extrapolate, loglog)  # pragma: no cover - needs CuPy


def _evaluate(xp, tables, q, nu, extrapolate, loglog):
    nan, inf = math.nan, math.inf
    if loglog:
        lo, hi = (-inf, inf) if extrapolate else (tables.x0, tables.x1)
        tq = _log_kernel(xp)(q, lo, hi, nan)
    else:
        tq = q
    lo, hi = (-inf, inf) if extrapolate else (tables.t0, tables.tn)
    i = xp.searchsorted(tables.t_inner, tq, side="right")
    g = xp.take(tables.rows, i, axis=0)
    m = tables.m
    cs = [g[:, 1 + j * m:1 + (j + 1) * m] for j in range(tables.K + 1)]
    fn = _kernel(xp, tables.K, int(nu), bool(loglog))
    return fn(q[:, None], tq[:, None], g[:, 0:1], lo, hi, nan, *cs)


class ChebTables:
    """A piecewise-Chebyshev table (variable degree per piece) as arrays of one namespace.

    Attributes
    ----------
    t_inner : array, shape (n-1,)
        Interior breakpoints ``t[1:-1]``.
    ends : array, shape (n, 2)
        Row ``i``: ``t[i], t[i+1]``.
    base, deg : array, shape (n,), intp
        ``off[i]`` and the degree ``off[i+1] - off[i] - 1`` of piece ``i``.
    coef : array, shape (L, m)
        Chebyshev coefficients, ascending per piece (rows ``off[i]:off[i+1]``).
    t0, tn : float
        Ends of the table.
    dmax, m : int
        Largest degree and number of components.
    """

    __slots__ = ("t_inner", "ends", "base", "deg", "coef", "t0", "tn", "dmax", "m")

    def __init__(self, t_inner, ends, base, deg, coef, t0, tn, dmax, m):
        self.t_inner, self.ends, self.base, self.deg, self.coef = t_inner, ends, base, deg, coef
        self.t0, self.tn, self.dmax, self.m = t0, tn, dmax, m


def cheb_device_tables(xp, t, off, coef):
    """Build :class:`ChebTables` in namespace ``xp`` (host-to-device copies of NumPy data).

    Parameters
    ----------
    t : ndarray, shape (n+1,)
        Strictly increasing breakpoints; piece ``i`` is ``[t[i], t[i+1]]``.
    off : ndarray, shape (n+1,)
        Row offsets, ``off[0] = 0 < off[1] < ... < off[n] = L``.
    coef : ndarray, shape (L, m) or (L,)
        Chebyshev coefficients of each piece in ``s = (2q - t_i - t_{i+1}) / (t_{i+1} - t_i)``;
        a 1-D array is one component (``m = 1``).
    """
    t = np.ascontiguousarray(t, dtype=np.float64)
    off = np.asarray(off, dtype=np.intp)
    coef = np.asarray(coef, dtype=np.float64)
    if coef.ndim == 1:
        coef = coef[:, None]
    deg = np.diff(off) - 1
    ends = np.ascontiguousarray(np.stack([t[:-1], t[1:]], axis=1))
    return ChebTables(xp.asarray(np.ascontiguousarray(t[1:-1])), xp.asarray(ends),
                      xp.asarray(np.ascontiguousarray(off[:-1])), xp.asarray(deg),
                      xp.asarray(np.ascontiguousarray(coef)), float(t[0]), float(t[-1]),
                      int(deg.max()), coef.shape[1])


def evaluate_cheb_xp(xp, tables, q, extrapolate):
    """The piecewise-Chebyshev table at the 1-D float64 points ``q``.

    Same conventions as ``evaluate_cheb`` in ``numfit/_core/_autoknots.pyx``: a point on an
    interior breakpoint belongs to the piece on its right, ``t_n`` to the last piece; NaN for
    NaN points and outside ``[t_0, t_n]`` unless ``extrapolate`` (the end pieces continue).

    Parameters
    ----------
    xp : module
        ``numpy`` or ``cupy``; ``q`` and ``tables`` belong to it.
    tables : ChebTables
        From :func:`cheb_device_tables` for the same namespace and device.
    q : array, shape (Q,)
        Points in the variable of the breakpoints (float64).
    extrapolate : bool
        Continue the end pieces outside ``[t_0, t_n]`` instead of returning NaN.

    Returns
    -------
    array, shape (Q, m)
    """
    if xp is np:            # the compiled kernels are silent about inf/NaN arithmetic
        with np.errstate(all="ignore"):
            return _evaluate_cheb(xp, tables, q, extrapolate)
    return _evaluate_cheb(xp, tables, q, extrapolate)     # pragma: no cover - needs CuPy


def _evaluate_cheb(xp, tb, q, extrapolate):
    i = xp.searchsorted(tb.t_inner, q, side="right")
    e = xp.take(tb.ends, i, axis=0)
    a, b = e[:, 0], e[:, 1]
    s = ((2.0 * q - a - b) / (b - a))[:, None]
    s2 = s + s
    base = xp.take(tb.base, i)
    d = xp.take(tb.deg, i)
    b1 = xp.zeros((q.shape[0], tb.m))
    b2 = xp.zeros_like(b1)
    for k in range(tb.dmax, 0, -1):
        # rows off[i] + min(k, d_i) stay inside the piece; only k <= d_i is used
        ck = xp.take(tb.coef, base + xp.minimum(d, k), axis=0)
        lead = (d == k)[:, None]                  # b_d = a_d starts the recurrence
        act = (d > k)[:, None]                    # b_k = a_k + 2 s b_{k+1} - b_{k+2}
        nb1 = xp.where(lead, ck, xp.where(act, (ck - b2) + s2 * b1, b1))
        b2 = xp.where(act, b1, b2)
        b1 = nb1
    c0 = xp.take(tb.coef, base, axis=0)
    val = xp.where((d == 0)[:, None], c0, (c0 - b2) + s * b1)
    bad = q != q
    if not extrapolate:
        bad = bad | (q < tb.t0) | (q > tb.tn)
    return xp.where(bad[:, None], math.nan, val)


# ----------------------------------------------------------------------------- 2-D tables
def evaluate2d_xp(xp, u, v, C, qu, qv, du, dv, extrapolate):
    """A tensor-product bicubic table (or a partial derivative) at paired float64 points.

    The layout and conventions of ``evaluate2d`` in ``numfit/_core/_autoknots.pyx``: ``C``
    is ``(nx-1, ny-1, 4, 4, m)`` and on cell ``(i, j)``, with ``s = u - u_i`` and
    ``r = v - v_j``, ``p = sum_{a,b} C[i, j, a, b] s^(3-a) r^(3-b)``. The cell comes from
    ``xp.searchsorted`` in the interior knots of each axis (``side="right"``, as in
    :func:`evaluate_xp`: a point on an interior knot belongs to the cell on its right, the last
    knot to the last cell), then one ``xp.take`` gathers the ``16 m`` coefficients of every
    point's cell and the sum is made vectorised over the points with the CPU kernel's
    operation order (Horner in ``s`` of four Horner-in-``r`` values for ``du = dv = 0``, else
    ``acc = acc * x + c * falling_factorial`` from 0.0), so with ``xp = numpy`` it matches
    the compiled kernel to the last bit for finite points. NaN for a NaN coordinate and
    outside ``[u_0, u_-1] x [v_0, v_-1]`` unless ``extrapolate`` (the edge cells continue).

    Parameters
    ----------
    xp : module
        ``numpy`` or ``cupy``; all arrays belong to it.
    u, v : array, shapes (nx,), (ny,)
        Grid lines of the table.
    C : array, shape (nx-1, ny-1, 4, 4, m)
        Coefficients (``numfit.interpolate._tensor.fit_tensor``).
    qu, qv : array, shape (Q,)
        The points ``(qu[p], qv[p])`` (float64).
    du, dv : int
        Orders of the partial derivatives in ``u`` and ``v``, 0..3.
    extrapolate : bool
        Continue the edge cells outside the rectangle instead of returning NaN.

    Returns
    -------
    array, shape (Q, m)
    """
    if xp is np:            # the compiled kernels are silent about inf/NaN arithmetic
        with np.errstate(all="ignore"):
            return _evaluate2d(xp, u, v, C, qu, qv, int(du), int(dv), extrapolate)
    return _evaluate2d(xp, u, v, C, qu, qv, int(du), int(dv),
                       extrapolate)                       # pragma: no cover - needs CuPy


def _evaluate2d(xp, u, v, C, qu, qv, du, dv, extrapolate):
    assert 0 <= du <= 3 and 0 <= dv <= 3
    nx, ny, m = u.shape[0], v.shape[0], C.shape[4]
    i = xp.searchsorted(u[1:-1], qu, side="right")
    j = xp.searchsorted(v[1:-1], qv, side="right")
    g = xp.take(C.reshape((nx - 1) * (ny - 1), 16 * m), i * (ny - 1) + j, axis=0)
    g = g.reshape(qu.shape[0], 4, 4, m)
    s = (qu - xp.take(u, i))[:, None]
    r = (qv - xp.take(v, j))[:, None]
    if du == 0 and dv == 0:
        w = [((g[:, a, 0] * r + g[:, a, 1]) * r + g[:, a, 2]) * r + g[:, a, 3]
             for a in range(4)]
        val = ((w[0] * s + w[1]) * s + w[2]) * s + w[3]
    else:
        val = 0.0
        for a in range(4 - du):                   # powers 3-a >= du
            acc = 0.0
            for b in range(4 - dv):
                acc = acc * r + g[:, a, b] * _falling(3 - b, dv)
            val = val * s + acc * _falling(3 - a, du)
    bad = (qu != qu) | (qv != qv)
    if not extrapolate:
        bad = bad | (qu < float(u[0])) | (qu > float(u[-1])) | (qv < float(v[0])) \
            | (qv > float(v[-1]))
    return xp.where(bad[:, None], math.nan, val)
