"""Numba twins of the AutoKnots kernels in ``_autoknots.pyx`` (same names, arguments and
status codes; the piecewise-Chebyshev table layout is described there). Used when the Cython
extension is unavailable or ``NUMFIT_KERNELS=numba``; the tests check both against the
pure-NumPy references.
"""
import math

import numpy as np
from numba import njit

_jit = njit(cache=True, nogil=True)


@_jit
def notaknot(t, y, c, cp, M):
    n = t.shape[0]
    m = y.shape[1]
    N = n - 2
    if n < 4:
        return -1
    den = 1.0
    for r in range(N):
        i = r + 1
        h0 = t[i] - t[i - 1]
        h1 = t[i + 1] - t[i]
        if r == 0:
            a = 0.0
            b = h0 + 2.0 * h1
            cc = h1 - h0
        elif r == N - 1:
            a = h0 - h1
            b = 2.0 * h0 + h1
            cc = 0.0
        else:
            a = h0
            b = 2.0 * (h0 + h1)
            cc = h1
        den = b if r == 0 else b - a * cp[r - 1]
        cp[r] = cc / den
        for j in range(m):
            s0 = (y[i, j] - y[i - 1, j]) / h0
            s1 = (y[i + 1, j] - y[i, j]) / h1
            if r == 0:
                rhs = 6.0 * h1 * (s1 - s0) / (h0 + h1)
            elif r == N - 1:
                rhs = 6.0 * h0 * (s1 - s0) / (h0 + h1)
            else:
                rhs = 6.0 * (s1 - s0)
            if r == 0:
                M[i, j] = rhs / den
            else:
                M[i, j] = (rhs - a * M[i - 1, j]) / den
    for r in range(N - 2, -1, -1):
        i = r + 1
        for j in range(m):
            M[i, j] = M[i, j] - cp[r] * M[i + 1, j]
    h0 = t[1] - t[0]
    h1 = t[2] - t[1]
    hl = t[n - 1] - t[n - 2]
    hp = t[n - 2] - t[n - 3]
    for j in range(m):
        M[0, j] = ((h0 + h1) * M[1, j] - h0 * M[2, j]) / h1
        M[n - 1, j] = ((hl + hp) * M[n - 2, j] - hl * M[n - 3, j]) / hp
    for i in range(n - 1):
        hi = t[i + 1] - t[i]
        for j in range(m):
            Mi = M[i, j]
            Mj = M[i + 1, j]
            c[0, i, j] = (Mj - Mi) / (6.0 * hi)
            c[1, i, j] = 0.5 * Mi
            c[2, i, j] = (y[i + 1, j] - y[i, j]) / hi - hi * (2.0 * Mi + Mj) / 6.0
            c[3, i, j] = y[i, j]
    return 0


@_jit
def build_table(t, table):
    n = t.shape[0]
    C = table.shape[0] - 1
    if n < 2 or C < 1:
        return -1
    t0 = t[0]
    w = (t[n - 1] - t0) / C
    i = 0
    for k in range(C + 1):
        while i < n - 2 and t[i + 1] <= t0 + k * w:
            i += 1
        table[k] = i
    return 0


@_jit
def _find(t, n, table, C, t0, inv_w, q):
    z = (q - t0) * inv_w
    if z <= 0.0:
        return 0
    cell = C - 1 if z >= C else int(z)
    lo = table[cell]
    hi = table[cell + 1]
    if t[lo] > q:
        lo = 0
    if hi < n - 2 and t[hi + 1] <= q:
        hi = n - 2
    while lo < hi:
        mid = (lo + hi + 1) >> 1
        if t[mid] <= q:
            lo = mid
        else:
            hi = mid - 1
    return lo


@_jit
def _simple(table):
    """Twin of ``_simple`` in _autoknots.pyx: no bucket holds more than one breakpoint."""
    for k in range(table.shape[0] - 1):
        if table[k + 1] - table[k] > 1:
            return False
    return True


@_jit
def _find1(t, n, table, C, t0, inv_w, q):
    """Twin of ``_find1`` in _autoknots.pyx (a simple table, no search, no branches)."""
    z = (q - t0) * inv_w
    z = 0.0 if z < 0.0 else z
    z = C - 0.5 if z >= C else z
    i = table[int(z)]
    j = i + 1 if i < n - 2 else i
    i += int(t[j] <= q) * (j - i)
    k = i - 1 if i > 0 else i
    i -= int(t[i] > q) * (i - k)
    return i


@_jit
def _walk(t, n, table, C, t0, inv_w, q, i, p, walking, simple):
    """(interval of q, walking): twin of ``_walk`` in _autoknots.pyx (previous and next
    interval first while lookups hit, else every 16th point; then the table, read directly
    when simple); q must not be NaN."""
    if walking or (p & 15) == 0:
        if t[i] <= q and (i == n - 2 or q < t[i + 1]):
            return i, True
        if i < n - 2 and t[i + 1] <= q and (i + 1 == n - 2 or q < t[i + 2]):
            return i + 1, True
    if simple:
        return _find1(t, n, table, C, t0, inv_w, q), False
    return _find(t, n, table, C, t0, inv_w, q), False


@_jit
def evaluate(t, c, table, q, nu, extrapolate, out):
    n = t.shape[0]
    K = c.shape[0] - 1
    m = c.shape[2]
    C = table.shape[0] - 1
    if K > 15 or nu < 0:
        return -1
    t0 = t[0]
    tn = t[n - 1]
    inv_w = C / (tn - t0)
    fall = np.zeros(K + 1)
    for jj in range(K + 1):
        acc = 1.0
        for i in range(nu):
            acc *= (jj - i)
        fall[jj] = acc if jj >= nu else 0.0
    for p in range(q.shape[0]):
        qq = q[p]
        if math.isnan(qq) or (not extrapolate and (qq < t0 or qq > tn)):
            for j in range(m):
                out[p, j] = np.nan
            continue
        i = _find(t, n, table, C, t0, inv_w, qq)
        s = qq - t[i]
        if K == 3 and nu == 0:
            for j in range(m):
                out[p, j] = ((c[0, i, j] * s + c[1, i, j]) * s + c[2, i, j]) * s + c[3, i, j]
        else:
            for j in range(m):
                acc = 0.0
                for jj in range(K, nu - 1, -1):
                    acc = acc * s + c[K - jj, i, j] * fall[jj]
                out[p, j] = acc
    return 0


@_jit
def evaluate_cubic(t, cT, table, q, extrapolate, out):
    n = t.shape[0]
    C = table.shape[0] - 1
    t0 = t[0]
    tn = t[n - 1]
    inv_w = C / (tn - t0)
    i = 0
    walking = True
    simple = _simple(table)
    for p in range(q.shape[0]):
        qq = q[p]
        if math.isnan(qq) or (not extrapolate and (qq < t0 or qq > tn)):
            out[p] = np.nan
            continue
        i, walking = _walk(t, n, table, C, t0, inv_w, qq, i, p, walking, simple)
        s = qq - t[i]
        out[p] = ((cT[i, 0] * s + cT[i, 1]) * s + cT[i, 2]) * s + cT[i, 3]
    return 0


@_jit
def _antider(c, K, i, j, s):
    acc = 0.0
    for k in range(K + 1):
        acc = acc * s + c[k, i, j] / (K - k + 1)
    return acc * s


@_jit
def interval_integrals(t, c, out):
    K = c.shape[0] - 1
    for i in range(t.shape[0] - 1):
        for j in range(c.shape[2]):
            out[i, j] = _antider(c, K, i, j, t[i + 1] - t[i])
    return 0


@_jit
def integrate(t, c, table, lo, hi, out):
    n = t.shape[0]
    K = c.shape[0] - 1
    C = table.shape[0] - 1
    sign = 1.0
    if lo > hi:
        lo, hi = hi, lo
        sign = -1.0
    inv_w = C / (t[n - 1] - t[0])
    il = _find(t, n, table, C, t[0], inv_w, lo)
    ih = _find(t, n, table, C, t[0], inv_w, hi)
    for j in range(c.shape[2]):
        acc = 0.0
        for i in range(il, ih + 1):
            a0 = lo if i == il else t[i]
            b0 = hi if i == ih else t[i + 1]
            acc += _antider(c, K, i, j, b0 - t[i]) - _antider(c, K, i, j, a0 - t[i])
        out[j] = sign * acc
    return 0


@_jit
def _worse(r, err, tol):
    if tol > 0.0:
        q = err / tol
    elif err == 0.0:
        q = 0.0
    else:
        q = np.inf
    return q if q > r else r


@_jit
def round_tests(t, c, y, F, idx, tm, ym, Fm, rtol, atol, mode, norm, simpson, passed, ratio):
    m = y.shape[1]
    fails = 0
    for k in range(idx.shape[0]):
        i = idx[k]
        t0 = t[i]
        t1 = t[i + 1]
        h = t1 - t0
        s = tm[k] - t0
        if simpson:
            w0 = 1.0 / 3.0
            wm = 4.0 / 3.0
            w1 = 1.0 / 3.0
        else:
            d = (2.0 * tm[k] - t0 - t1) / h
            w0 = 1.0 - 2.0 / (3.0 * (1.0 + d))
            wm = 4.0 / (3.0 * (1.0 - d * d))
            w1 = 1.0 - 2.0 / (3.0 * (1.0 - d))
        ok = True
        r = 0.0
        np_e = 0.0
        np_y = 0.0
        ni_e = 0.0
        ni_f = 0.0
        for j in range(m):
            Sm = ((c[0, i, j] * s + c[1, i, j]) * s + c[2, i, j]) * s + c[3, i, j]
            IS = h * (c[3, i, j] + h * (c[2, i, j] / 2.0 + h * (c[1, i, j] / 3.0
                                                                 + h * c[0, i, j] / 4.0)))
            If = 0.5 * h * (w0 * y[i, j] + wm * ym[k, j] + w1 * y[i + 1, j])
            ep = abs(ym[k, j] - Sm)
            ei = abs(If - IS)
            if norm == 1:
                np_e += ep * ep
                np_y += ym[k, j] * ym[k, j]
                ni_e += ei * ei
                ni_f += If * If
                continue
            if mode == 1:
                fmax = max(F[i, j], Fm[k, j], F[i + 1, j])
                tp = rtol + atol / Fm[k, j]
                ti = (rtol + atol / fmax) * h
            else:
                tp = rtol * abs(ym[k, j]) + atol
                ti = rtol * abs(If) + atol * h
            if not (ep <= tp and ei <= ti):
                ok = False
            r = _worse(r, ep, tp)
            r = _worse(r, ei, ti)
        if norm == 1:
            ep = math.sqrt(np_e)
            ei = math.sqrt(ni_e)
            tp = rtol * math.sqrt(np_y) + atol
            ti = rtol * math.sqrt(ni_f) + atol * h
            ok = ep <= tp and ei <= ti
            r = _worse(_worse(0.0, ep, tp), ei, ti)
        passed[k] = 1 if ok else 0
        ratio[k] = r
        if not ok:
            fails += 1
    return fails


@_jit
def merge(x, u, t, y, F, idx, xm, um, tm, ym, Fm, passed, xo, uo, to, yo, Fo, open_o):
    n = x.shape[0]
    m = y.shape[1]
    nT = idx.shape[0]
    hasF = F.shape[0] > 0
    k = 0
    p = 0
    for i in range(n):
        xo[p] = x[i]
        uo[p] = u[i]
        to[p] = t[i]
        for j in range(m):
            yo[p, j] = y[i, j]
            if hasF:
                Fo[p, j] = F[i, j]
        if i == n - 1:
            p += 1
            break
        if k < nT and idx[k] == i:
            o = 0 if passed[k] else 1
            open_o[p] = o
            p += 1
            xo[p] = xm[k]
            uo[p] = um[k]
            to[p] = tm[k]
            for j in range(m):
                yo[p, j] = ym[k, j]
                if hasF:
                    Fo[p, j] = Fm[k, j]
            open_o[p] = o
            k += 1
        else:
            open_o[p] = 0
        p += 1
    return p


@_jit
def width_stats(u, out):
    n = u.shape[0]
    if n < 3:
        return -1
    mean = 0.0
    mx = 0.0
    for i in range(n - 1):
        w = u[i + 1] - u[i]
        mean += w
        if w > mx:
            mx = w
    mean /= (n - 1)
    ss = 0.0
    for i in range(n - 1):
        w = u[i + 1] - u[i] - mean
        ss += w * w
    out[0] = mean
    out[1] = math.sqrt(ss / (n - 2))
    out[2] = mx
    return 0


@_jit
def sigma_reopen(u, lim, open_o):
    cnt = 0
    for i in range(u.shape[0] - 1):
        if u[i + 1] - u[i] > lim:
            open_o[i] = 1
            cnt += 1
        else:
            open_o[i] = 0
    return cnt


@_jit
def closure_flags(u, margin, open_o):
    n = u.shape[0]
    N = n - 1
    cnt = 0
    for i in range(N):
        hi = u[i + 1] - u[i]
        if i == 0:
            mi = u[2] - u[1]
        elif i == N - 1:
            mi = u[N - 1] - u[N - 2]
        else:
            mi = 0.5 * ((u[i] - u[i - 1]) + (u[i + 2] - u[i + 1]))
        if hi > mi * (1.0 + margin):
            open_o[i] = 1
            cnt += 1
        else:
            open_o[i] = 0
    return cnt


@_jit
def evaluate_cheb(t, off, coef, table, q, extrapolate, out):
    """Piecewise-Chebyshev table at q: twin of ``evaluate_cheb`` in _autoknots.pyx."""
    nb = t.shape[0]
    n = nb - 1
    m = coef.shape[1]
    C = table.shape[0] - 1
    Q = q.shape[0]
    if (nb < 2 or C < 1 or off.shape[0] != nb or off[0] != 0 or coef.shape[0] != off[n]
            or out.shape[0] != Q or out.shape[1] != m):
        return -1
    t0 = t[0]
    tn = t[n]
    inv_w = C / (tn - t0)
    i = 0
    walking = True
    simple = _simple(table)
    for p in range(Q):
        qq = q[p]
        if math.isnan(qq) or (not extrapolate and (qq < t0 or qq > tn)):
            for j in range(m):
                out[p, j] = np.nan
            continue
        i, walking = _walk(t, nb, table, C, t0, inv_w, qq, i, p, walking, simple)
        a = t[i]
        b = t[i + 1]
        s = (2.0 * qq - a - b) / (b - a)
        s2 = s + s
        k0 = off[i]
        d = off[i + 1] - k0 - 1
        for j in range(m):
            if d == 0:
                out[p, j] = coef[k0, j]
                continue
            b1 = coef[k0 + d, j]
            b2 = 0.0
            for k in range(d - 1, 0, -1):
                tmp = b1
                b1 = (coef[k0 + k, j] - b2) + s2 * b1
                b2 = tmp
            out[p, j] = (coef[k0, j] - b2) + s * b1
    return 0


@_jit
def evaluate_cheb1(t, off, coef1, table, q, extrapolate, out1):
    """Scalar fast path of :func:`evaluate_cheb`: twin of ``evaluate_cheb1`` in _autoknots.pyx."""
    nb = t.shape[0]
    n = nb - 1
    C = table.shape[0] - 1
    Q = q.shape[0]
    if (nb < 2 or C < 1 or off.shape[0] != nb or off[0] != 0 or coef1.shape[0] != off[n]
            or out1.shape[0] != Q):
        return -1
    t0 = t[0]
    tn = t[n]
    inv_w = C / (tn - t0)
    i = 0
    walking = True
    simple = _simple(table)
    for p in range(Q):
        qq = q[p]
        if math.isnan(qq) or (not extrapolate and (qq < t0 or qq > tn)):
            out1[p] = np.nan
            continue
        i, walking = _walk(t, nb, table, C, t0, inv_w, qq, i, p, walking, simple)
        a = t[i]
        b = t[i + 1]
        s = (2.0 * qq - a - b) / (b - a)
        k0 = off[i]
        d = off[i + 1] - k0 - 1
        if d == 0:
            out1[p] = coef1[k0]
            continue
        s2 = s + s
        b1 = coef1[k0 + d]
        b2 = 0.0
        for k in range(d - 1, 0, -1):
            tmp = b1
            b1 = (coef1[k0 + k] - b2) + s2 * b1
            b2 = tmp
        out1[p] = (coef1[k0] - b2) + s * b1
    return 0


@_jit
def evaluate_mono1(t, table, mid, sc, M, q, extrapolate, out1):
    """Twin of ``evaluate_mono1`` in _autoknots.pyx: one-degree monomial pieces in
    s = (q - mid[i]) * sc[i], highest power first; lookups then Horner per block of 256."""
    nb = t.shape[0]
    n = nb - 1
    C = table.shape[0] - 1
    Q = q.shape[0]
    D = M.shape[1] - 1
    if (nb < 2 or C < 1 or M.shape[0] != n or mid.shape[0] != n or sc.shape[0] != n
            or D < 0 or out1.shape[0] != Q):
        return -1
    t0 = t[0]
    tn = t[n]
    inv_w = C / (tn - t0)
    idx = np.empty(256, dtype=np.intp)
    ss = np.empty(256)
    i = 0
    walking = True
    simple = _simple(table)
    for p0 in range(0, Q, 256):
        p1 = min(p0 + 256, Q)
        for p in range(p0, p1):
            qq = q[p]
            if math.isnan(qq) or (not extrapolate and (qq < t0 or qq > tn)):
                idx[p - p0] = -1
                continue
            i, walking = _walk(t, nb, table, C, t0, inv_w, qq, i, p, walking, simple)
            idx[p - p0] = i
            ss[p - p0] = (qq - mid[i]) * sc[i]
        for p in range(p0, p1):
            j = idx[p - p0]
            if j < 0:
                out1[p] = np.nan
                continue
            s = ss[p - p0]
            acc = M[j, 0]
            for k in range(1, D + 1):
                acc = acc * s + M[j, k]
            out1[p] = acc
    return 0


@_jit
def evaluate_mono2(tu, tv, table_u, table_v, midu, scu, midv, scv, M, qu, qv, extrapolate, out):
    """Twin of ``evaluate_mono2`` in _autoknots.pyx: tensor monomial cells in
    s = (qu - midu[i]) scu[i], r = (qv - midv[j]) scv[j], highest powers first."""
    nx = tu.shape[0]
    ny = tv.shape[0]
    Q = qu.shape[0]
    Cu = table_u.shape[0] - 1
    Cv = table_v.shape[0] - 1
    Du = M.shape[2] - 1
    Dv = M.shape[3] - 1
    m = M.shape[4]
    if (nx < 2 or ny < 2 or Cu < 1 or Cv < 1 or M.shape[0] != nx - 1
            or M.shape[1] != ny - 1 or midu.shape[0] != nx - 1 or scu.shape[0] != nx - 1
            or midv.shape[0] != ny - 1 or scv.shape[0] != ny - 1 or qv.shape[0] != Q
            or out.shape[0] != Q or out.shape[1] != m or Du < 0 or Dv < 0):
        return -1
    simple_u = _simple(table_u)
    simple_v = _simple(table_v)
    u0 = tu[0]
    un = tu[nx - 1]
    v0 = tv[0]
    vn = tv[ny - 1]
    inv_wu = Cu / (un - u0)
    inv_wv = Cv / (vn - v0)
    ii = np.empty(256, dtype=np.intp)
    jj = np.empty(256, dtype=np.intp)
    ss = np.empty(256)
    rr = np.empty(256)
    i = 0
    j = 0
    walk_u = True
    walk_v = True
    for p0 in range(0, Q, 256):
        p1 = min(p0 + 256, Q)
        for p in range(p0, p1):
            x = qu[p]
            y = qv[p]
            if math.isnan(x) or math.isnan(y) or (not extrapolate and (
                    x < u0 or x > un or y < v0 or y > vn)):
                ii[p - p0] = -1
                continue
            i, walk_u = _walk(tu, nx, table_u, Cu, u0, inv_wu, x, i, p, walk_u, simple_u)
            j, walk_v = _walk(tv, ny, table_v, Cv, v0, inv_wv, y, j, p, walk_v, simple_v)
            ii[p - p0] = i
            jj[p - p0] = j
            ss[p - p0] = (x - midu[i]) * scu[i]
            rr[p - p0] = (y - midv[j]) * scv[j]
        for p in range(p0, p1):
            a_i = ii[p - p0]
            if a_i < 0:
                for c in range(m):
                    out[p, c] = np.nan
                continue
            b_j = jj[p - p0]
            s = ss[p - p0]
            r = rr[p - p0]
            for c in range(m):
                acc = 0.0
                for a in range(Du + 1):
                    w = M[a_i, b_j, a, 0, c]
                    for b in range(1, Dv + 1):
                        w = w * r + M[a_i, b_j, a, b, c]
                    acc = acc * s + w
                out[p, c] = acc
    return 0


@_jit
def evaluate2d(tu, tv, C, table_u, table_v, qu, qv, du, dv, extrapolate, out):
    """Tensor-product bicubic table at the points (qu, qv): twin of ``evaluate2d`` in
    _autoknots.pyx (one ``_walk`` state per axis, falling factorials for du, dv in 0..3;
    for m = 1 and du = dv = 0, blocks of 256 points: lookups, then Horner in s of the four
    Horner-in-r values)."""
    nx = tu.shape[0]
    ny = tv.shape[0]
    m = C.shape[4]
    Q = qu.shape[0]
    Cu = table_u.shape[0] - 1
    Cv = table_v.shape[0] - 1
    if (nx < 2 or ny < 2 or Cu < 1 or Cv < 1 or C.shape[0] != nx - 1 or C.shape[1] != ny - 1
            or C.shape[2] != 4 or C.shape[3] != 4 or qv.shape[0] != Q or out.shape[0] != Q
            or out.shape[1] != m or du < 0 or du > 3 or dv < 0 or dv > 3):
        return -1
    fu = np.zeros(4)
    fv = np.zeros(4)
    for jj in range(4):
        acc = 1.0
        accr = 1.0
        for k in range(du):
            acc *= (jj - k)
        for k in range(dv):
            accr *= (jj - k)
        fu[jj] = acc if jj >= du else 0.0
        fv[jj] = accr if jj >= dv else 0.0
    simple_u = _simple(table_u)
    simple_v = _simple(table_v)
    u0 = tu[0]
    un = tu[nx - 1]
    v0 = tv[0]
    vn = tv[ny - 1]
    inv_wu = Cu / (un - u0)
    inv_wv = Cv / (vn - v0)
    i = 0
    j = 0
    walk_u = True
    walk_v = True
    if m == 1 and du == 0 and dv == 0:
        ib = np.empty(256, dtype=np.intp)
        jb = np.empty(256, dtype=np.intp)
        ss = np.empty(256)
        rr = np.empty(256)
        for p0 in range(0, Q, 256):
            p1 = min(p0 + 256, Q)
            for p in range(p0, p1):
                x = qu[p]
                y = qv[p]
                if (math.isnan(x) or math.isnan(y)
                        or (not extrapolate and (x < u0 or x > un or y < v0 or y > vn))):
                    ib[p - p0] = -1
                    continue
                i, walk_u = _walk(tu, nx, table_u, Cu, u0, inv_wu, x, i, p, walk_u, simple_u)
                j, walk_v = _walk(tv, ny, table_v, Cv, v0, inv_wv, y, j, p, walk_v, simple_v)
                ib[p - p0] = i
                jb[p - p0] = j
                ss[p - p0] = x - tu[i]
                rr[p - p0] = y - tv[j]
            for p in range(p0, p1):
                a = ib[p - p0]
                if a < 0:
                    out[p, 0] = np.nan
                    continue
                b = jb[p - p0]
                s = ss[p - p0]
                r = rr[p - p0]
                c = C[a, b]
                w0 = ((c[0, 0, 0] * r + c[0, 1, 0]) * r + c[0, 2, 0]) * r + c[0, 3, 0]
                w1 = ((c[1, 0, 0] * r + c[1, 1, 0]) * r + c[1, 2, 0]) * r + c[1, 3, 0]
                w2 = ((c[2, 0, 0] * r + c[2, 1, 0]) * r + c[2, 2, 0]) * r + c[2, 3, 0]
                w3 = ((c[3, 0, 0] * r + c[3, 1, 0]) * r + c[3, 2, 0]) * r + c[3, 3, 0]
                out[p, 0] = ((w0 * s + w1) * s + w2) * s + w3
        return 0
    for p in range(Q):
        x = qu[p]
        y = qv[p]
        if (math.isnan(x) or math.isnan(y)
                or (not extrapolate and (x < u0 or x > un or y < v0 or y > vn))):
            for k in range(m):
                out[p, k] = np.nan
            continue
        i, walk_u = _walk(tu, nx, table_u, Cu, u0, inv_wu, x, i, p, walk_u, simple_u)
        j, walk_v = _walk(tv, ny, table_v, Cv, v0, inv_wv, y, j, p, walk_v, simple_v)
        s = x - tu[i]
        r = y - tv[j]
        for k in range(m):
            acc = 0.0
            for a in range(4 - du):
                accr = 0.0
                for b in range(4 - dv):
                    accr = accr * r + C[i, j, a, b, k] * fv[3 - b]
                acc = acc * s + accr * fu[3 - a]
            out[p, k] = acc
    return 0
