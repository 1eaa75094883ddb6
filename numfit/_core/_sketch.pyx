# cython: language_level=3
"""Sketch-and-project compiled kernels (Gower & Richtárik, *Randomized iterative methods for
linear systems*, SIAM J. Matrix Anal. Appl. 2015; Strohmer & Vershynin, *A randomized Kaczmarz
algorithm with exponential convergence*, J. Fourier Anal. Appl. 2009; the inner solver of Hong,
Na, Mahoney, Kolar, ICML 2023, arXiv:2305.18379; see docs/alsketch.md).

Kernels only: no validation, no random number generation. The front end
(``numfit.linalg._sketch``) passes:

ap, aj, ax   : CSR of A (N x n): int64 indptr (N+1), int64 indices, float64 data
b            : (N,) right-hand side;  z : (n,) iterate (updated in place)
r            : (N,) residual A z - b (kept exact/incremental, see ``incr``)
mp, mj, mx   : CSR of M = A A^T (N x N, symmetric); used by the block Gaussian and count
               sketches and, with ``incr``, for the incremental residual; dummies otherwise
incr         : 1 = keep r and |r|^2 up to date after every step (r -= c M e_i, ...), with an
               exact recomputation every 1000 updates and before accepting; 0 = compute
               r = A z - b exactly at every check
check_every  : steps between stopping tests
istate       : int64[5]: steps done (cumulative), updates since exact recompute, status
               (-1 running, 0 converged, 2 non-finite residual), steps since the last check,
               number of entries written to ``hist`` by this call
fstate       : float64[2]: |r|^2 as last known, target^2
hist         : float64 buffer; |r| at each check of this call (up to its length)

Random numbers are drawn by the caller in chunks and passed in (``idx``, ``S``, ``tau``, ``h``,
``sg``); each call runs at most one chunk and returns the number of steps it took. Block solves
use Cholesky with (near-)zero pivots dropped, which for a consistent system gives the
pseudo-inverse step W (W^T W)^+ S^T r. The Numba twins in ``_nb_sketch.py`` use the same
operation order, so both give the same iterates.
"""
from libc.math cimport sqrt, isfinite
from libc.stdint cimport int64_t

ctypedef Py_ssize_t isize

cdef enum:
    STEPS = 0
    SINCE_EXACT = 1
    STATUS = 2
    SINCE_CHECK = 3
    NHIST = 4
    EXACT_EVERY = 1000


cdef double _residual(const int64_t[::1] ap, const int64_t[::1] aj, const double[::1] ax,
                      const double[::1] b, const double[::1] z,
                      double[::1] r) noexcept nogil:
    cdef isize i, p
    cdef double s, rr = 0.0
    for i in range(b.shape[0]):
        s = -b[i]
        for p in range(ap[i], ap[i + 1]):
            s += ax[p] * z[aj[p]]
        r[i] = s
        rr += s * s
    return rr


def residual(const int64_t[::1] ap, const int64_t[::1] aj, const double[::1] ax,
             const double[::1] b, const double[::1] z, double[::1] r):
    """r = A z - b; returns |r|^2."""
    cdef double rr
    with nogil:
        rr = _residual(ap, aj, ax, b, z, r)
    return rr


cdef inline double _row_dot(const int64_t[::1] ap, const int64_t[::1] aj, const double[::1] ax,
                            isize i, const double[::1] z) noexcept nogil:
    cdef isize p
    cdef double s = 0.0
    for p in range(ap[i], ap[i + 1]):
        s += ax[p] * z[aj[p]]
    return s


cdef inline void _row_axpy(const int64_t[::1] ap, const int64_t[::1] aj, const double[::1] ax,
                           isize i, double c, double[::1] z) noexcept nogil:
    cdef isize p
    for p in range(ap[i], ap[i + 1]):
        z[aj[p]] -= c * ax[p]


cdef inline double _col_update(const int64_t[::1] mp, const int64_t[::1] mj,
                               const double[::1] mx, isize i, double c, double[::1] r,
                               double rr) noexcept nogil:
    cdef isize p, j
    cdef double old, new
    for p in range(mp[i], mp[i + 1]):
        j = mj[p]
        old = r[j]
        new = old - c * mx[p]
        r[j] = new
        rr += new * new - old * old
    return rr


cdef int _check(const int64_t[::1] ap, const int64_t[::1] aj, const double[::1] ax,
                const double[::1] b, const double[::1] z, double[::1] r, int incr,
                int64_t check_every, int64_t[::1] istate, double[::1] fstate,
                double[::1] hist) noexcept nogil:
    cdef double rr
    cdef int64_t nh
    istate[STEPS] += 1
    istate[SINCE_CHECK] += 1
    if incr:
        istate[SINCE_EXACT] += 1
        if istate[SINCE_EXACT] >= EXACT_EVERY:
            fstate[0] = _residual(ap, aj, ax, b, z, r)
            istate[SINCE_EXACT] = 0
    if istate[SINCE_CHECK] < check_every:
        return 0
    istate[SINCE_CHECK] = 0
    if not incr:
        fstate[0] = _residual(ap, aj, ax, b, z, r)
    else:
        # ||r||^2 from the maintained r (O(N)): the running sum of new^2 - old^2 carries an
        # absolute error ~ eps ||r_0||^2 and cannot see ||r||^2 below it (the stop test
        # then waited for the next exact recompute)
        rr = 0.0
        for nh in range(r.shape[0]):
            rr += r[nh] * r[nh]
        fstate[0] = rr
    rr = fstate[0]
    if not isfinite(rr):
        istate[STATUS] = 2
        return 1
    if rr <= fstate[1] and incr:
        rr = _residual(ap, aj, ax, b, z, r)
        fstate[0] = rr
        istate[SINCE_EXACT] = 0
    nh = istate[NHIST]
    if nh < hist.shape[0]:
        hist[nh] = sqrt(rr if rr > 0.0 else 0.0)
        istate[NHIST] = nh + 1
    if rr <= fstate[1]:
        istate[STATUS] = 0
        return 1
    return 0


cdef isize _chol_solve(double[:, ::1] G, isize k, const double[::1] rhs, double[::1] y,
                       int64_t[::1] dropped) noexcept nogil:
    cdef isize i, j, l, nd = 0
    cdef double dmax = 0.0, tol, s, d, t
    for j in range(k):
        if G[j, j] > dmax:
            dmax = G[j, j]
    tol = 1e-12 * dmax
    for j in range(k):
        s = G[j, j]
        for l in range(j):
            s -= G[j, l] * G[j, l]
        if s <= tol or dmax <= 0.0:
            dropped[j] = 1
            nd += 1
            for i in range(j, k):
                G[i, j] = 0.0
            continue
        dropped[j] = 0
        d = sqrt(s)
        G[j, j] = d
        for i in range(j + 1, k):
            t = G[i, j]
            for l in range(j):
                t -= G[i, l] * G[j, l]
            G[i, j] = t / d
    for j in range(k):
        if dropped[j]:
            y[j] = 0.0
            continue
        t = rhs[j]
        for l in range(j):
            t -= G[j, l] * y[l]
        y[j] = t / G[j, j]
    for j in range(k - 1, -1, -1):
        if dropped[j]:
            y[j] = 0.0
            continue
        t = y[j]
        for l in range(j + 1, k):
            t -= G[l, j] * y[l]
        y[j] = t / G[j, j]
    return nd


def chol_solve(double[:, ::1] G, const double[::1] rhs, double[::1] y, int64_t[::1] dropped):
    """Solve G y = rhs in place (Cholesky with dropped pivots); returns the number dropped."""
    cdef isize nd
    with nogil:
        nd = _chol_solve(G, G.shape[0], rhs, y, dropped)
    return nd


def kaczmarz(const int64_t[::1] ap, const int64_t[::1] aj, const double[::1] ax,
             const double[::1] rn2, const double[::1] b, const int64_t[::1] idx,
             const int64_t[::1] mp, const int64_t[::1] mj, const double[::1] mx,
             double[::1] z, double[::1] r, int incr, int64_t check_every,
             int64_t[::1] istate, double[::1] fstate, double[::1] hist):
    """Row-action steps on rows ``idx`` (uniform and row-norm Kaczmarz differ only in idx)."""
    cdef isize t, i, done = 0
    cdef double ri, c
    with nogil:
        istate[NHIST] = 0
        for t in range(idx.shape[0]):
            i = idx[t]
            if incr:
                ri = r[i]
            else:
                ri = _row_dot(ap, aj, ax, i, z) - b[i]
            if rn2[i] > 0.0:
                c = ri / rn2[i]
                _row_axpy(ap, aj, ax, i, c, z)
                if incr:
                    fstate[0] = _col_update(mp, mj, mx, i, c, r, fstate[0])
            done += 1
            if _check(ap, aj, ax, b, z, r, incr, check_every, istate, fstate, hist):
                break
    return done


def gaussian(const int64_t[::1] ap, const int64_t[::1] aj, const double[::1] ax,
             const double[::1] b, const double[:, ::1] S, const int64_t[::1] mp,
             const int64_t[::1] mj, const double[::1] mx, double[::1] z, double[::1] r,
             double[::1] w, int incr, int64_t check_every, int64_t[::1] istate,
             double[::1] fstate, double[::1] hist):
    """Gaussian vector sketch: w = A^T s; z -= (s^T r / |w|^2) w, s^T r = w^T z - s^T b."""
    cdef isize t, i, j, p, done = 0
    cdef isize N = b.shape[0], n = z.shape[0]
    cdef double si, sb, ww, wz, c, rr, u, old, new
    with nogil:
        istate[NHIST] = 0
        for t in range(S.shape[0]):
            for j in range(n):
                w[j] = 0.0
            sb = 0.0
            for i in range(N):
                si = S[t, i]
                sb += si * b[i]
                for p in range(ap[i], ap[i + 1]):
                    w[aj[p]] += si * ax[p]
            ww = 0.0
            wz = 0.0
            for j in range(n):
                ww += w[j] * w[j]
                wz += w[j] * z[j]
            if ww > 0.0:
                c = (wz - sb) / ww
                for j in range(n):
                    z[j] -= c * w[j]
                if incr:
                    rr = fstate[0]
                    for i in range(N):
                        u = 0.0
                        for p in range(mp[i], mp[i + 1]):
                            u += mx[p] * S[t, mj[p]]
                        old = r[i]
                        new = old - c * u
                        r[i] = new
                        rr += new * new - old * old
                    fstate[0] = rr
            done += 1
            if _check(ap, aj, ax, b, z, r, incr, check_every, istate, fstate, hist):
                break
    return done


def block_kaczmarz(const int64_t[::1] ap, const int64_t[::1] aj, const double[::1] ax,
                   const double[::1] b, const int64_t[:, ::1] tau, const int64_t[::1] mp,
                   const int64_t[::1] mj, const double[::1] mx, double[::1] z, double[::1] r,
                   double[::1] buf, double[:, ::1] G, double[::1] rhs, double[::1] y,
                   int64_t[::1] dropped, int incr, int64_t check_every, int64_t[::1] istate,
                   double[::1] fstate, double[::1] hist):
    """Block Kaczmarz on distinct rows tau[t, :]: (A_tau A_tau^T) y = r_tau; z -= A_tau^T y."""
    cdef isize t, a, c, p, ia, done = 0
    cdef isize k = tau.shape[1]
    cdef double g
    with nogil:
        istate[NHIST] = 0
        for t in range(tau.shape[0]):
            for a in range(k):
                ia = tau[t, a]
                if incr:
                    rhs[a] = r[ia]
                else:
                    rhs[a] = _row_dot(ap, aj, ax, ia, z) - b[ia]
                for p in range(ap[ia], ap[ia + 1]):
                    buf[aj[p]] = ax[p]
                for c in range(a, k):
                    g = _row_dot(ap, aj, ax, tau[t, c], buf)
                    G[a, c] = g
                    G[c, a] = g
                for p in range(ap[ia], ap[ia + 1]):
                    buf[aj[p]] = 0.0
            _chol_solve(G, k, rhs, y, dropped)
            for a in range(k):
                if y[a] != 0.0:
                    _row_axpy(ap, aj, ax, tau[t, a], y[a], z)
                    if incr:
                        fstate[0] = _col_update(mp, mj, mx, tau[t, a], y[a], r, fstate[0])
            done += 1
            if _check(ap, aj, ax, b, z, r, incr, check_every, istate, fstate, hist):
                break
    return done


cdef void _sketched_step(const int64_t[::1] ap, const int64_t[::1] aj, const double[::1] ax,
                         const int64_t[::1] mp, const int64_t[::1] mj, const double[::1] mx,
                         double[::1] z, double[::1] r, const double[::1] tvec, int incr,
                         double[::1] fstate) noexcept nogil:
    """z -= A^T t; with incr, r -= M t (M = A A^T) and |r|^2 updated."""
    cdef isize i, p, N = tvec.shape[0]
    cdef double ti, rr, u, old, new
    for i in range(N):
        ti = tvec[i]
        if ti != 0.0:
            for p in range(ap[i], ap[i + 1]):
                z[aj[p]] -= ti * ax[p]
    if incr:
        rr = fstate[0]
        for i in range(N):
            u = 0.0
            for p in range(mp[i], mp[i + 1]):
                u += mx[p] * tvec[mj[p]]
            old = r[i]
            new = old - u
            r[i] = new
            rr += new * new - old * old
        fstate[0] = rr


def block_gaussian(const int64_t[::1] ap, const int64_t[::1] aj, const double[::1] ax,
                   const double[::1] b, const double[:, :, ::1] S, const int64_t[::1] mp,
                   const int64_t[::1] mj, const double[::1] mx, double[::1] z, double[::1] r,
                   double[:, ::1] T, double[:, ::1] G, double[::1] rhs, double[::1] y,
                   int64_t[::1] dropped, double[::1] tvec, int incr, int64_t check_every,
                   int64_t[::1] istate, double[::1] fstate, double[::1] hist):
    """Block Gaussian sketch S (N x k): (S^T M S) y = S^T r; z -= A^T (S y)."""
    cdef isize t, i, j, p, a, c, done = 0
    cdef isize N = S.shape[1], k = S.shape[2]
    cdef double ri, v, sa, s
    with nogil:
        istate[NHIST] = 0
        for t in range(S.shape[0]):
            if not incr:
                _residual(ap, aj, ax, b, z, r)
            for a in range(k):
                rhs[a] = 0.0
            for i in range(N):
                ri = r[i]
                for a in range(k):
                    rhs[a] += S[t, i, a] * ri
            for i in range(N):
                for a in range(k):
                    T[i, a] = 0.0
                for p in range(mp[i], mp[i + 1]):
                    j = mj[p]
                    v = mx[p]
                    for a in range(k):
                        T[i, a] += v * S[t, j, a]
            for a in range(k):
                for c in range(k):
                    G[a, c] = 0.0
            for i in range(N):
                for a in range(k):
                    sa = S[t, i, a]
                    for c in range(a, k):
                        G[a, c] += sa * T[i, c]
            for a in range(k):
                for c in range(a + 1, k):
                    G[c, a] = G[a, c]
            _chol_solve(G, k, rhs, y, dropped)
            for i in range(N):
                s = 0.0
                for a in range(k):
                    s += S[t, i, a] * y[a]
                tvec[i] = s
            _sketched_step(ap, aj, ax, mp, mj, mx, z, r, tvec, incr, fstate)
            done += 1
            if _check(ap, aj, ax, b, z, r, incr, check_every, istate, fstate, hist):
                break
    return done


def countsketch(const int64_t[::1] ap, const int64_t[::1] aj, const double[::1] ax,
                const double[::1] b, const int64_t[:, ::1] h, const double[:, ::1] sg,
                const int64_t[::1] mp, const int64_t[::1] mj, const double[::1] mx,
                double[::1] z, double[::1] r, double[:, ::1] G, double[::1] rhs, double[::1] y,
                int64_t[::1] dropped, double[::1] tvec, int incr, int64_t check_every,
                int64_t[::1] istate, double[::1] fstate, double[::1] hist):
    """Count sketch: row i -> bucket h[t, i], sign sg[t, i]; (S^T M S) y = S^T r."""
    cdef isize t, i, j, p, a, c, hi, done = 0
    cdef isize N = h.shape[1], k = G.shape[0]
    cdef double si
    with nogil:
        istate[NHIST] = 0
        for t in range(h.shape[0]):
            if not incr:
                _residual(ap, aj, ax, b, z, r)
            for a in range(k):
                rhs[a] = 0.0
                for c in range(k):
                    G[a, c] = 0.0
            for i in range(N):
                hi = h[t, i]
                si = sg[t, i]
                rhs[hi] += si * r[i]
                for p in range(mp[i], mp[i + 1]):
                    j = mj[p]
                    G[hi, h[t, j]] += si * sg[t, j] * mx[p]
            _chol_solve(G, k, rhs, y, dropped)
            for i in range(N):
                tvec[i] = sg[t, i] * y[h[t, i]]
            _sketched_step(ap, aj, ax, mp, mj, mx, z, r, tvec, incr, fstate)
            done += 1
            if _check(ap, aj, ax, b, z, r, incr, check_every, istate, fstate, hist):
                break
    return done
