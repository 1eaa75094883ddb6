# cython: language_level=3
"""AutoKnots compiled kernels (K1-K7: fit, lookup, evaluation, integrals, tests, merge, widths), the evaluation of
piecewise-Chebyshev tables (K8) and of tensor-product bicubic tables (K9).

Kernels only: no validation. Front ends pass C-contiguous float64 memoryviews and
preallocated outputs; every function runs without the GIL and returns an int status
(0 = ok, negative = bad sizes) or a count.

Layout conventions
------------------
t : (n,) strictly increasing spline abscissae (x, or ln x in log-log space).
y : (n, m) values at the knots, m components (m = 1 for scalar f).
c : (k+1, n-1, m) piecewise-polynomial coefficients in SciPy ``PPoly`` order:
    on [t_i, t_{i+1}], p(t) = sum_j c[j, i, :] (t - t_i)**(k - j).
Bucket table: (C+1,) intp; table[q] = index of the interval holding t_0 + q*(t_{n-1}-t_0)/C.

Piecewise-Chebyshev tables (K8, variable degree per piece):
t : (n+1,) strictly increasing breakpoints, piece i = [t_i, t_{i+1}].
off : (n+1,) intp offsets, off[0] = 0 < off[1] < ... < off[n] = L; piece i has degree
    d_i = off[i+1] - off[i] - 1 and coefficients coef[off[i]:off[i+1]].
coef : (L, m) (or (L,) for the scalar fast path) Chebyshev coefficients a_0..a_d, ascending,
    in the local variable s = (2q - t_i - t_{i+1}) / (t_{i+1} - t_i):
    p(q) = sum_k a_k T_k(s). The bucket table is the one :func:`build_table` makes from t.

Tensor-product bicubic tables (K9):
tu : (nx,), tv : (ny,) strictly increasing knots of the two axes.
C : (nx-1, ny-1, 4, 4, m) C-contiguous; on cell (i, j), with s = u - tu_i and r = v - tv_j,
    p(u, v) = sum_{a,b} C[i, j, a, b, :] s**(3-a) r**(3-b) (PPoly order on each axis).
    One bucket table per axis, from :func:`build_table`.
"""
from libc.math cimport fabs, sqrt, NAN, INFINITY, isnan

ctypedef Py_ssize_t isize


# ---------------------------------------------------------------- K1 + K2: not-a-knot fit
cpdef int notaknot(const double[::1] t, const double[:, ::1] y,
                   double[:, :, ::1] c, double[::1] cp, double[:, ::1] M) noexcept nogil:
    """Not-a-knot cubic through (t, y): fills c (4, n-1, m); cp (n,) and M (n, m) are work.

    Second-derivative form, Thomas algorithm on the n-2 interior unknowns after
    eliminating M_0 and M_{n-1} with the not-a-knot conditions (strictly diagonally
    dominant, no pivoting). Returns -1 if n < 4.
    """
    cdef isize n = t.shape[0], m = y.shape[1], N = n - 2
    cdef isize i, j, r
    cdef double h0, h1, hl, hp, a, b, cc, den, s0, s1, rhs, hi, Mi, Mj
    if n < 4:
        return -1
    # forward elimination; row r is the equation for M_{r+1}
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
        if r == 0:
            den = b
        else:
            den = b - a * cp[r - 1]
        cp[r] = cc / den
        for j in range(m):
            s0 = (y[i, j] - y[i - 1, j]) / h0
            s1 = (y[i + 1, j] - y[i, j]) / h1
            if r == 0:                 # first row: 6 h1 (s1 - s0) / (h0 + h1)
                rhs = 6.0 * h1 * (s1 - s0) / (h0 + h1)
            elif r == N - 1:           # its mirror image at the end
                rhs = 6.0 * h0 * (s1 - s0) / (h0 + h1)
            else:
                rhs = 6.0 * (s1 - s0)
            if r == 0:
                M[i, j] = rhs / den
            else:
                M[i, j] = (rhs - a * M[i - 1, j]) / den
    # back substitution
    for r in range(N - 2, -1, -1):
        i = r + 1
        for j in range(m):
            M[i, j] = M[i, j] - cp[r] * M[i + 1, j]
    # end second derivatives from the not-a-knot conditions
    h0 = t[1] - t[0]
    h1 = t[2] - t[1]
    hl = t[n - 1] - t[n - 2]
    hp = t[n - 2] - t[n - 3]
    for j in range(m):
        M[0, j] = ((h0 + h1) * M[1, j] - h0 * M[2, j]) / h1
        M[n - 1, j] = ((hl + hp) * M[n - 2, j] - hl * M[n - 3, j]) / hp
    # K2: coefficients
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


# ---------------------------------------------------------------- K3: lookup + evaluation
cpdef int build_table(const double[::1] t, isize[::1] table) noexcept nogil:
    """Fill the bucket table (C+1 cells, C = len(table)-1) for O(1) interval lookup."""
    cdef isize n = t.shape[0], C = table.shape[0] - 1, k, i = 0
    cdef double t0 = t[0], w
    if n < 2 or C < 1:
        return -1
    w = (t[n - 1] - t0) / C
    for k in range(C + 1):
        while i < n - 2 and t[i + 1] <= t0 + k * w:
            i += 1
        table[k] = i
    return 0


cdef inline isize _find(const double[::1] t, isize n, const isize[::1] table, isize C,
                        double t0, double inv_w, double q) noexcept nogil:
    """Interval i with t[i] <= q < t[i+1], clamped to [0, n-2]; q must not be NaN."""
    cdef double z = (q - t0) * inv_w
    cdef isize cell, lo, hi, mid
    if z <= 0.0:
        return 0
    if z >= C:
        cell = C - 1
    else:
        cell = <isize>z
    lo = table[cell]
    hi = table[cell + 1]
    if t[lo] > q:                      # rounding put q one cell too far right
        lo = 0
    if hi < n - 2 and t[hi + 1] <= q:  # ... or too far left
        hi = n - 2
    while lo < hi:
        mid = (lo + hi + 1) >> 1
        if t[mid] <= q:
            lo = mid
        else:
            hi = mid - 1
    return lo


cdef inline bint _simple(const isize[::1] table) noexcept nogil:
    """True when no bucket holds more than one breakpoint (the table's entries step by at
    most one): then :func:`_find1` needs no search."""
    cdef isize k
    for k in range(table.shape[0] - 1):
        if table[k + 1] - table[k] > 1:
            return False
    return True


cdef inline isize _find1(const double[::1] t, isize n, const isize[::1] table, isize C,
                         double t0, double inv_w, double q) noexcept nogil:
    """:func:`_find` for a :func:`_simple` table, without branches: the bucket's interval,
    moved one to the right or left when q lies past its ends (the bucket holds at most one
    breakpoint; rounding may put q one bucket off). q must not be NaN."""
    cdef double z = (q - t0) * inv_w
    cdef isize cell, i, j, k
    z = 0.0 if z < 0.0 else z
    z = C - 0.5 if z >= C else z
    cell = <isize>z
    i = table[cell]
    j = i + 1 if i < n - 2 else i
    i += <isize>(t[j] <= q) * (j - i)
    k = i - 1 if i > 0 else i
    i -= <isize>(t[i] > q) * (i - k)
    return i


cdef inline isize _walk(const double[::1] t, isize n, const isize[::1] table, isize C,
                        double t0, double inv_w, double q, isize i, isize p,
                        bint* walking, bint simple) noexcept nogil:
    """Interval of q (as :func:`_find`). While the previous lookups hit (``walking``), the
    previous point's interval i and the next one are tried first, so sorted queries walk the
    knots; after a miss only every 16th point retries, and the others go straight to the
    table: read directly when it is :func:`_simple` (:func:`_find1`, no branch to
    mispredict on random queries), else searched. q must not be NaN."""
    if walking[0] or (p & 15) == 0:
        if t[i] <= q and (i == n - 2 or q < t[i + 1]):
            walking[0] = True
            return i
        if i < n - 2 and t[i + 1] <= q and (i + 1 == n - 2 or q < t[i + 2]):
            walking[0] = True
            return i + 1
        walking[0] = False
    if simple:
        return _find1(t, n, table, C, t0, inv_w, q)
    return _find(t, n, table, C, t0, inv_w, q)


cpdef int evaluate(const double[::1] t, const double[:, :, ::1] c, const isize[::1] table,
                   const double[::1] q, int nu, bint extrapolate,
                   double[:, ::1] out) noexcept nogil:
    """out[p, :] = d^nu/dt^nu of the piecewise polynomial at q[p] (NaN outside unless
    extrapolate, NaN for NaN q). Degree k = c.shape[0] - 1, any nu >= 0."""
    cdef isize n = t.shape[0], K = c.shape[0] - 1, m = c.shape[2]
    cdef isize C = table.shape[0] - 1, p, i, j, jj, Q = q.shape[0]
    cdef double t0 = t[0], tn = t[n - 1], inv_w, s, acc, qq
    cdef double fall[16]
    if K > 15 or nu < 0:
        return -1
    inv_w = C / (tn - t0)
    for jj in range(K + 1):            # falling factorials jj!/(jj-nu)!
        acc = 1.0
        for i in range(nu):
            acc *= (jj - i)
        fall[jj] = acc if jj >= nu else 0.0
    for p in range(Q):
        qq = q[p]
        if isnan(qq) or (not extrapolate and (qq < t0 or qq > tn)):
            for j in range(m):
                out[p, j] = NAN
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


cpdef int evaluate_cubic(const double[::1] t, const double[:, ::1] cT, const isize[::1] table,
                         const double[::1] q, bint extrapolate, double[::1] out) noexcept nogil:
    """Fast path of :func:`evaluate` for a scalar cubic, nu = 0.

    cT is (n-1, 4), one row [c0, c1, c2, c3] per interval (one cache line), and the interval
    of the previous point is tried before the table, so sorted queries walk the knots.
    """
    cdef bint walking = True, simple = _simple(table)
    cdef isize n = t.shape[0], C = table.shape[0] - 1, p, i = 0, Q = q.shape[0]
    cdef double t0 = t[0], tn = t[n - 1], inv_w, s, qq
    inv_w = C / (tn - t0)
    for p in range(Q):
        qq = q[p]
        if isnan(qq) or (not extrapolate and (qq < t0 or qq > tn)):
            out[p] = NAN
            continue
        i = _walk(t, n, table, C, t0, inv_w, qq, i, p, &walking, simple)
        s = qq - t[i]
        out[p] = ((cT[i, 0] * s + cT[i, 1]) * s + cT[i, 2]) * s + cT[i, 3]
    return 0


# ---------------------------------------------------------------- K4: exact integrals
cdef inline double _antider(const double[:, :, ::1] c, isize K, isize i, isize j,
                            double s) noexcept nogil:
    """int_0^s of the polynomial on interval i, component j."""
    cdef double acc = 0.0
    cdef isize k
    for k in range(K + 1):           # c[k] multiplies s**(K-k)
        acc = acc * s + c[k, i, j] / (K - k + 1)
    return acc * s


cpdef int interval_integrals(const double[::1] t, const double[:, :, ::1] c,
                             double[:, ::1] out) noexcept nogil:
    """out[i, :] = exact integral over [t_i, t_{i+1}]."""
    cdef isize n = t.shape[0], K = c.shape[0] - 1, m = c.shape[2], i, j
    for i in range(n - 1):
        for j in range(m):
            out[i, j] = _antider(c, K, i, j, t[i + 1] - t[i])
    return 0


cpdef int integrate(const double[::1] t, const double[:, :, ::1] c, const isize[::1] table,
                    double lo, double hi, double[::1] out) noexcept nogil:
    """out[:] = exact integral from lo to hi (end polynomials continue outside)."""
    cdef isize n = t.shape[0], K = c.shape[0] - 1, m = c.shape[2], C = table.shape[0] - 1
    cdef isize il, ih, i, j
    cdef double sign = 1.0, tmp, inv_w, a0, b0, acc
    if lo > hi:
        tmp = lo
        lo = hi
        hi = tmp
        sign = -1.0
    inv_w = C / (t[n - 1] - t[0])
    il = _find(t, n, table, C, t[0], inv_w, lo)
    ih = _find(t, n, table, C, t[0], inv_w, hi)
    for j in range(m):
        acc = 0.0
        for i in range(il, ih + 1):
            a0 = lo if i == il else t[i]
            b0 = hi if i == ih else t[i + 1]
            acc += _antider(c, K, i, j, b0 - t[i]) - _antider(c, K, i, j, a0 - t[i])
        out[j] = sign * acc
    return 0


# ---------------------------------------------------------------- K5: round tests
cdef inline double _worse(double r, double err, double tol) noexcept nogil:
    """max(r, err/tol), with err/0 = 0 for err == 0 and +inf otherwise."""
    cdef double q
    if tol > 0.0:
        q = err / tol
    elif err == 0.0:
        q = 0.0
    else:
        q = INFINITY
    return q if q > r else r


cpdef isize round_tests(const double[::1] t, const double[:, :, ::1] c,
                        const double[:, ::1] y, const double[:, ::1] F,
                        const isize[::1] idx, const double[::1] tm,
                        const double[:, ::1] ym, const double[:, ::1] Fm,
                        double rtol, double atol, int mode, int norm, bint simpson,
                        unsigned char[::1] passed, double[::1] ratio) noexcept nogil:
    """Pointwise and integral tests of the AutoKnots paper for every open interval.

    mode 0: linear tests on y (linear space, or log-log 'relative');
    mode 1: log-log absolute tests (y = ln f, F = f > 0).
    norm 0: every component passes its own tests; norm 1: Euclidean norms over components.
    simpson: the midpoint is central (Simpson), else the off-centre parabola weights.
    Writes passed[k] and ratio[k] = max error/tolerance; returns the number of failures.
    """
    cdef isize nT = idx.shape[0], m = y.shape[1], k, i, j, fails = 0
    cdef double t0, t1, h, s, d, w0, wm, w1, Sm, IS, If, ep, ei, tp, ti, r, fmax
    cdef double np_e = 0.0, np_y = 0.0, ni_e = 0.0, ni_f = 0.0
    cdef bint ok
    for k in range(nT):
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
            ep = fabs(ym[k, j] - Sm)
            ei = fabs(If - IS)
            if norm == 1:
                np_e += ep * ep
                np_y += ym[k, j] * ym[k, j]
                ni_e += ei * ei
                ni_f += If * If
                continue
            if mode == 1:
                fmax = F[i, j]
                if Fm[k, j] > fmax:
                    fmax = Fm[k, j]
                if F[i + 1, j] > fmax:
                    fmax = F[i + 1, j]
                tp = rtol + atol / Fm[k, j]
                ti = (rtol + atol / fmax) * h
            else:
                tp = rtol * fabs(ym[k, j]) + atol
                ti = rtol * fabs(If) + atol * h
            if not (ep <= tp and ei <= ti):
                ok = False
            r = _worse(r, ep, tp)
            r = _worse(r, ei, ti)
        if norm == 1:
            ep = sqrt(np_e)
            ei = sqrt(ni_e)
            tp = rtol * sqrt(np_y) + atol
            ti = rtol * sqrt(ni_f) + atol * h
            ok = ep <= tp and ei <= ti
            r = _worse(_worse(0.0, ep, tp), ei, ti)
        passed[k] = 1 if ok else 0
        ratio[k] = r
        if not ok:
            fails += 1
    return fails


# ---------------------------------------------------------------- K6: merge
cpdef isize merge(const double[::1] x, const double[::1] u, const double[::1] t,
                  const double[:, ::1] y, const double[:, ::1] F,
                  const isize[::1] idx, const double[::1] xm, const double[::1] um,
                  const double[::1] tm, const double[:, ::1] ym, const double[:, ::1] Fm,
                  const unsigned char[::1] passed,
                  double[::1] xo, double[::1] uo, double[::1] to, double[:, ::1] yo,
                  double[:, ::1] Fo, unsigned char[::1] open_o) noexcept nogil:
    """Insert every midpoint after its interval's left knot, one O(n) pass.

    Both halves of a tested interval are open iff it failed; other intervals are closed.
    F/Fm/Fo may have zero rows (no separate f values). Returns the new knot count."""
    cdef isize n = x.shape[0], m = y.shape[1], nT = idx.shape[0], i, j, k = 0, p = 0
    cdef bint hasF = F.shape[0] > 0
    cdef unsigned char o
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


# ---------------------------------------------------------------- K7: widths, refinement
cpdef int width_stats(const double[::1] u, double[::1] out) noexcept nogil:
    """out = (mean, sample sd with ddof=1, max) of the widths u[i+1]-u[i]."""
    cdef isize n = u.shape[0], i
    cdef double w, mean = 0.0, ss = 0.0, mx = 0.0
    if n < 3:
        return -1
    for i in range(n - 1):
        w = u[i + 1] - u[i]
        mean += w
        if w > mx:
            mx = w
    mean /= (n - 1)
    for i in range(n - 1):
        w = u[i + 1] - u[i] - mean
        ss += w * w
    out[0] = mean
    out[1] = sqrt(ss / (n - 2))
    out[2] = mx
    return 0


cpdef isize sigma_reopen(const double[::1] u, double lim, unsigned char[::1] open_o) noexcept nogil:
    """open_o[i] = width_i > lim; returns the number reopened."""
    cdef isize n = u.shape[0], i, cnt = 0
    for i in range(n - 1):
        if u[i + 1] - u[i] > lim:
            open_o[i] = 1
            cnt += 1
        else:
            open_o[i] = 0
    return cnt


cpdef isize closure_flags(const double[::1] u, double margin,
                          unsigned char[::1] open_o) noexcept nogil:
    """Flag intervals wider than the mean of their neighbours (one neighbour at the ends)
    times (1 + margin); returns the number flagged."""
    cdef isize n = u.shape[0], N = n - 1, i, cnt = 0
    cdef double hi, mi
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


# ---------------------------------------------------------------- K8: piecewise Chebyshev
cpdef int evaluate_cheb(const double[::1] t, const isize[::1] off, const double[:, ::1] coef,
                        const isize[::1] table, const double[::1] q, bint extrapolate,
                        double[:, ::1] out) noexcept nogil:
    """out[p, :] = sum_k coef[off[i]+k, :] T_k(s) at q[p], i the piece holding q[p].

    Clenshaw's recurrence in the local variable s = (2q - t_i - t_{i+1}) / (t_{i+1} - t_i)
    of piece i (degree off[i+1] - off[i] - 1, any degree >= 0). The piece of the previous
    point is tried before the table, so sorted queries walk the pieces; a point on an
    interior breakpoint belongs to the piece on its right, t_n to the last piece. NaN for
    NaN q and outside [t_0, t_n] unless extrapolate (the end pieces continue, |s| > 1).
    Returns -1 on inconsistent sizes (off vs t, off[0] != 0, off[n] vs coef, out vs q/coef).
    """
    cdef bint walking = True, simple = _simple(table)
    cdef isize nb = t.shape[0], n = nb - 1, m = coef.shape[1], C = table.shape[0] - 1
    cdef isize Q = q.shape[0], p, i = 0, j, k, k0, d
    cdef double t0, tn, inv_w, qq, a, b, s, s2, b1, b2, tmp
    if (nb < 2 or C < 1 or off.shape[0] != nb or off[0] != 0 or coef.shape[0] != off[n]
            or out.shape[0] != Q or out.shape[1] != m):
        return -1
    t0 = t[0]
    tn = t[n]
    inv_w = C / (tn - t0)
    for p in range(Q):
        qq = q[p]
        if isnan(qq) or (not extrapolate and (qq < t0 or qq > tn)):
            for j in range(m):
                out[p, j] = NAN
            continue
        i = _walk(t, nb, table, C, t0, inv_w, qq, i, p, &walking, simple)
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
            b1 = coef[k0 + d, j]           # b_d; b_{d+1} = 0
            b2 = 0.0
            for k in range(d - 1, 0, -1):  # b_k = a_k + 2 s b_{k+1} - b_{k+2}
                tmp = b1
                b1 = (coef[k0 + k, j] - b2) + s2 * b1
                b2 = tmp
            out[p, j] = (coef[k0, j] - b2) + s * b1
    return 0


cpdef int evaluate_cheb1(const double[::1] t, const isize[::1] off, const double[::1] coef1,
                         const isize[::1] table, const double[::1] q, bint extrapolate,
                         double[::1] out1) noexcept nogil:
    """Fast path of :func:`evaluate_cheb` for a scalar table: coef1 (L,), out1 (Q,).

    Same lookup, conventions, arithmetic and status codes as :func:`evaluate_cheb` with m = 1.
    """
    cdef bint walking = True, simple = _simple(table)
    cdef isize nb = t.shape[0], n = nb - 1, C = table.shape[0] - 1
    cdef isize Q = q.shape[0], p, i = 0, k, k0, d
    cdef double t0, tn, inv_w, qq, a, b, s, s2, b1, b2, tmp
    if (nb < 2 or C < 1 or off.shape[0] != nb or off[0] != 0 or coef1.shape[0] != off[n]
            or out1.shape[0] != Q):
        return -1
    t0 = t[0]
    tn = t[n]
    inv_w = C / (tn - t0)
    for p in range(Q):
        qq = q[p]
        if isnan(qq) or (not extrapolate and (qq < t0 or qq > tn)):
            out1[p] = NAN
            continue
        i = _walk(t, nb, table, C, t0, inv_w, qq, i, p, &walking, simple)
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


cpdef int evaluate_mono1(const double[::1] t, const isize[::1] table, const double[::1] mid,
                         const double[::1] sc, const double[:, ::1] M, const double[::1] q,
                         bint extrapolate, double[::1] out1) noexcept nogil:
    """Scalar pieces of one degree D = M.shape[1] - 1 in s = (q - mid[i]) * sc[i]: row i of M
    holds the monomial coefficients, highest power first (Horner).

    The evaluation form of a piecewise-Chebyshev table whose pieces were split to low degree
    (converted once by the front end). Points go in blocks of 256: first the piece lookups
    (:func:`_walk`), then Horner for the block, whose chains are independent, so the
    processor overlaps them. NaN for NaN q and outside [t0, tn] unless extrapolate.
    Returns -1 on inconsistent sizes.
    """
    cdef bint walking = True, simple = _simple(table)
    cdef isize nb = t.shape[0], n = nb - 1, C = table.shape[0] - 1, Q = q.shape[0]
    cdef isize D = M.shape[1] - 1, p, p0, p1, k, i = 0, j
    cdef isize idx[256]
    cdef double ss[256]
    cdef double t0, tn, inv_w, qq, s, acc
    if (nb < 2 or C < 1 or M.shape[0] != n or mid.shape[0] != n or sc.shape[0] != n
            or D < 0 or out1.shape[0] != Q):
        return -1
    t0 = t[0]
    tn = t[n]
    inv_w = C / (tn - t0)
    for p0 in range(0, Q, 256):
        p1 = p0 + 256 if p0 + 256 < Q else Q
        for p in range(p0, p1):
            qq = q[p]
            if isnan(qq) or (not extrapolate and (qq < t0 or qq > tn)):
                idx[p - p0] = -1
                continue
            i = _walk(t, nb, table, C, t0, inv_w, qq, i, p, &walking, simple)
            idx[p - p0] = i
            ss[p - p0] = (qq - mid[i]) * sc[i]
        for p in range(p0, p1):
            j = idx[p - p0]
            if j < 0:
                out1[p] = NAN
                continue
            s = ss[p - p0]
            acc = M[j, 0]
            for k in range(1, D + 1):
                acc = acc * s + M[j, k]
            out1[p] = acc
    return 0


# ---------------------------------------------------------------- K10: tensor monomial cells
cpdef int evaluate_mono2(const double[::1] tu, const double[::1] tv, const isize[::1] table_u,
                         const isize[::1] table_v, const double[::1] midu,
                         const double[::1] scu, const double[::1] midv, const double[::1] scv,
                         const double[:, :, :, :, ::1] M, const double[::1] qu,
                         const double[::1] qv, bint extrapolate,
                         double[:, ::1] out) noexcept nogil:
    """out[p, :] = sum_{a,b} M[i, j, a, b, :] s^(Du-a) r^(Dv-b) at the point (qu[p], qv[p]),
    with (i, j) its cell, s = (qu - midu[i]) scu[i] and r = (qv - midv[j]) scv[j].

    The evaluation form of the chebyshev kind of a 2-D table: its tensor Chebyshev cells split
    to low degree along each axis and converted to monomials in the local variables (highest
    power first) once by the front end. The cells come from one :func:`_walk` state per axis
    (as :func:`evaluate2d`); the points go in blocks of 256, the lookups first, then Horner
    in r for each power of s and Horner in s. NaN for a NaN coordinate and outside the
    rectangle unless extrapolate (the edge cells continue). Returns -1 on inconsistent sizes.
    """
    cdef bint walk_u = True, walk_v = True, simple_u, simple_v
    cdef isize nx = tu.shape[0], ny = tv.shape[0], Q = qu.shape[0]
    cdef isize Cu = table_u.shape[0] - 1, Cv = table_v.shape[0] - 1
    cdef isize Du = M.shape[2] - 1, Dv = M.shape[3] - 1, m = M.shape[4]
    cdef isize p, p0, p1, i = 0, j = 0, a, b, c, sa, sb, base
    cdef isize idx[256]
    cdef double ss[256]
    cdef double rr[256]
    cdef double u0, un, v0, vn, inv_wu, inv_wv, x, y, s, r, acc, w
    cdef const double* cell
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
    sb = m                               # strides of M in doubles: b, a, cell
    sa = (Dv + 1) * m
    for p0 in range(0, Q, 256):
        p1 = p0 + 256 if p0 + 256 < Q else Q
        for p in range(p0, p1):
            x = qu[p]
            y = qv[p]
            if isnan(x) or isnan(y) or (not extrapolate
                                        and (x < u0 or x > un or y < v0 or y > vn)):
                idx[p - p0] = -1
                continue
            i = _walk(tu, nx, table_u, Cu, u0, inv_wu, x, i, p, &walk_u, simple_u)
            j = _walk(tv, ny, table_v, Cv, v0, inv_wv, y, j, p, &walk_v, simple_v)
            idx[p - p0] = (i * (ny - 1) + j) * (Du + 1) * sa
            ss[p - p0] = (x - midu[i]) * scu[i]
            rr[p - p0] = (y - midv[j]) * scv[j]
        for p in range(p0, p1):
            base = idx[p - p0]
            if base < 0:
                for c in range(m):
                    out[p, c] = NAN
                continue
            cell = &M[0, 0, 0, 0, 0] + base
            s = ss[p - p0]
            r = rr[p - p0]
            for c in range(m):
                acc = 0.0
                for a in range(Du + 1):
                    w = cell[a * sa + c]
                    for b in range(1, Dv + 1):
                        w = w * r + cell[a * sa + b * sb + c]
                    acc = acc * s + w
                out[p, c] = acc
    return 0


# ---------------------------------------------------------------- K9: tensor-product bicubic
cpdef int evaluate2d(const double[::1] tu, const double[::1] tv,
                     const double[:, :, :, :, ::1] C, const isize[::1] table_u,
                     const isize[::1] table_v, const double[::1] qu, const double[::1] qv,
                     int du, int dv, bint extrapolate, double[:, ::1] out) noexcept nogil:
    """out[p, :] = d^du/du^du d^dv/dv^dv of the bicubic table at the point (qu[p], qv[p]).

    The cell (i, j) comes from one :func:`_walk` state per axis (as in
    :func:`evaluate_cubic`: a point on an interior knot belongs to the cell on its right, the
    last knot to the last cell), then p = sum_{a,b} C[i, j, a, b] s^(3-a) r^(3-b) with the
    falling factorials of the derivative orders. For m = 1 and du = dv = 0 (fast path): Horner
    in s of the four Horner-in-r values, the points in blocks of 256 as in
    :func:`evaluate_mono1` (the lookups of the block, then its independent Horner chains, so
    the processor overlaps the loads of the cells). NaN for a NaN coordinate and outside
    [tu_0, tu_nx-1] x [tv_0, tv_ny-1] unless extrapolate (the edge cells continue). Returns -1
    on inconsistent sizes (C vs tu/tv, out vs qu/C, qv vs qu, tables) or du, dv outside 0..3.
    """
    cdef bint walk_u = True, walk_v = True, simple_u, simple_v, fast
    cdef isize nx = tu.shape[0], ny = tv.shape[0], m = C.shape[4], Q = qu.shape[0]
    cdef isize Cu = table_u.shape[0] - 1, Cv = table_v.shape[0] - 1
    cdef isize p, p0, p1, i = 0, j = 0, a, b, k, jj
    cdef isize idx[256]
    cdef double ss[256]
    cdef double rr[256]
    cdef double u0, un, v0, vn, inv_wu, inv_wv, x, y, s, r, w0, w1, w2, w3, acc, accr
    cdef double fu[4]
    cdef double fv[4]
    cdef const double* c
    if (nx < 2 or ny < 2 or Cu < 1 or Cv < 1 or C.shape[0] != nx - 1 or C.shape[1] != ny - 1
            or C.shape[2] != 4 or C.shape[3] != 4 or qv.shape[0] != Q or out.shape[0] != Q
            or out.shape[1] != m or du < 0 or du > 3 or dv < 0 or dv > 3):
        return -1
    for jj in range(4):                # falling factorials jj!/(jj-d)!
        acc = 1.0
        accr = 1.0
        for k in range(du):
            acc *= (jj - k)
        for k in range(dv):
            accr *= (jj - k)
        fu[jj] = acc if jj >= du else 0.0
        fv[jj] = accr if jj >= dv else 0.0
    fast = m == 1 and du == 0 and dv == 0
    simple_u = _simple(table_u)
    simple_v = _simple(table_v)
    u0 = tu[0]
    un = tu[nx - 1]
    v0 = tv[0]
    vn = tv[ny - 1]
    inv_wu = Cu / (un - u0)
    inv_wv = Cv / (vn - v0)
    if fast:
        for p0 in range(0, Q, 256):
            p1 = p0 + 256 if p0 + 256 < Q else Q
            for p in range(p0, p1):        # the cells of the block: offsets into C, s, r
                x = qu[p]
                y = qv[p]
                if isnan(x) or isnan(y) or (not extrapolate
                                            and (x < u0 or x > un or y < v0 or y > vn)):
                    idx[p - p0] = -1
                    continue
                i = _walk(tu, nx, table_u, Cu, u0, inv_wu, x, i, p, &walk_u, simple_u)
                j = _walk(tv, ny, table_v, Cv, v0, inv_wv, y, j, p, &walk_v, simple_v)
                idx[p - p0] = (i * (ny - 1) + j) * 16
                ss[p - p0] = x - tu[i]
                rr[p - p0] = y - tv[j]
            for p in range(p0, p1):        # Horner in r (4 rows), then in s
                if idx[p - p0] < 0:
                    out[p, 0] = NAN
                    continue
                c = &C[0, 0, 0, 0, 0] + idx[p - p0]
                s = ss[p - p0]
                r = rr[p - p0]
                w0 = ((c[0] * r + c[1]) * r + c[2]) * r + c[3]
                w1 = ((c[4] * r + c[5]) * r + c[6]) * r + c[7]
                w2 = ((c[8] * r + c[9]) * r + c[10]) * r + c[11]
                w3 = ((c[12] * r + c[13]) * r + c[14]) * r + c[15]
                out[p, 0] = ((w0 * s + w1) * s + w2) * s + w3
        return 0
    for p in range(Q):
        x = qu[p]
        y = qv[p]
        if isnan(x) or isnan(y) or (not extrapolate and (x < u0 or x > un or y < v0 or y > vn)):
            for k in range(m):
                out[p, k] = NAN
            continue
        i = _walk(tu, nx, table_u, Cu, u0, inv_wu, x, i, p, &walk_u, simple_u)
        j = _walk(tv, ny, table_v, Cv, v0, inv_wv, y, j, p, &walk_v, simple_v)
        s = x - tu[i]
        r = y - tv[j]
        c = &C[i, j, 0, 0, 0]              # the cell's 16 m coefficients, (a, b, k) order
        for k in range(m):
            acc = 0.0
            for a in range(4 - du):        # powers 3-a >= du
                accr = 0.0
                for b in range(4 - dv):
                    accr = accr * r + c[(4 * a + b) * m + k] * fv[3 - b]
                acc = acc * s + accr * fu[3 - a]
            out[p, k] = acc
    return 0
