"""Numba twins of the sketch-and-project kernels in ``_sketch.pyx`` (Gower and Richtarik,
SIAM J. Matrix Anal. Appl. 36, 2015; Strohmer and Vershynin, J. Fourier Anal. Appl. 15, 2009;
docs/alsketch.md).

Same names, arguments, outputs and status codes as the Cython module; the tests check that both
give the same iterates for the same pre-drawn random numbers, and that both agree with the
pure-NumPy reference in ``numfit.optimize._reference``. See ``_sketch.pyx`` for the argument
conventions.
"""
import math

from numba import njit

_jit = njit(cache=True, nogil=True)

# istate slots
_STEPS, _SINCE_EXACT, _STATUS, _SINCE_CHECK, _NHIST = 0, 1, 2, 3, 4
_EXACT_EVERY = 1000


@_jit
def residual(ap, aj, ax, b, z, r):
    rr = 0.0
    for i in range(b.shape[0]):
        s = -b[i]
        for p in range(ap[i], ap[i + 1]):
            s += ax[p] * z[aj[p]]
        r[i] = s
        rr += s * s
    return rr


@_jit
def _row_dot(ap, aj, ax, i, z):
    s = 0.0
    for p in range(ap[i], ap[i + 1]):
        s += ax[p] * z[aj[p]]
    return s


@_jit
def _row_axpy(ap, aj, ax, i, c, z):
    for p in range(ap[i], ap[i + 1]):
        z[aj[p]] -= c * ax[p]


@_jit
def _col_update(mp, mj, mx, i, c, r, rr):
    for p in range(mp[i], mp[i + 1]):
        j = mj[p]
        old = r[j]
        new = old - c * mx[p]
        r[j] = new
        rr += new * new - old * old
    return rr


@_jit
def _check(ap, aj, ax, b, z, r, incr, check_every, istate, fstate, hist):
    """Bookkeeping after one step; returns 1 to stop (status set in istate[2])."""
    istate[_STEPS] += 1
    istate[_SINCE_CHECK] += 1
    if incr:
        istate[_SINCE_EXACT] += 1
        if istate[_SINCE_EXACT] >= _EXACT_EVERY:
            fstate[0] = residual(ap, aj, ax, b, z, r)
            istate[_SINCE_EXACT] = 0
    if istate[_SINCE_CHECK] < check_every:
        return 0
    istate[_SINCE_CHECK] = 0
    if not incr:
        fstate[0] = residual(ap, aj, ax, b, z, r)
    else:
        # ||r||^2 from the maintained r (O(N)): the running sum of new^2 - old^2 carries an
        # absolute error ~ eps ||r_0||^2 and cannot see ||r||^2 below it
        rr = 0.0
        for i in range(r.shape[0]):
            rr += r[i] * r[i]
        fstate[0] = rr
    rr = fstate[0]
    if not math.isfinite(rr):
        istate[_STATUS] = 2
        return 1
    if rr <= fstate[1] and incr:
        rr = residual(ap, aj, ax, b, z, r)
        fstate[0] = rr
        istate[_SINCE_EXACT] = 0
    nh = istate[_NHIST]
    if nh < hist.shape[0]:
        hist[nh] = math.sqrt(max(rr, 0.0))
        istate[_NHIST] = nh + 1
    if rr <= fstate[1]:
        istate[_STATUS] = 0
        return 1
    return 0


@_jit
def _chol_solve(G, k, rhs, y, dropped):
    """Solve G y = rhs (G k x k SPSD, overwritten by its Cholesky factor); pivots
    <= 1e-12 max(diag) are dropped (y_j = 0), which gives the step W (W^T W)^+ S^T r for a
    consistent system. Returns the number of dropped pivots."""
    dmax = 0.0
    for j in range(k):
        dmax = max(dmax, G[j, j])
    tol = 1e-12 * dmax
    nd = 0
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
        d = math.sqrt(s)
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


@_jit
def kaczmarz(ap, aj, ax, rn2, b, idx, mp, mj, mx, z, r, incr, check_every, istate, fstate,
             hist):
    """Row-action steps on rows ``idx``; uniform and row-norm Kaczmarz differ only in idx."""
    istate[_NHIST] = 0
    nsteps = idx.shape[0]
    done = 0
    for t in range(nsteps):
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


@_jit
def gaussian(ap, aj, ax, b, S, mp, mj, mx, z, r, w, incr, check_every, istate, fstate, hist):
    """Gaussian vector sketch: w = A^T s, z -= (s^T r / |w|^2) w with s^T r = w^T z - s^T b."""
    istate[_NHIST] = 0
    nsteps = S.shape[0]
    N = b.shape[0]
    n = z.shape[0]
    done = 0
    for t in range(nsteps):
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


@_jit
def block_kaczmarz(ap, aj, ax, b, tau, mp, mj, mx, z, r, buf, G, rhs, y, dropped, incr,
                   check_every, istate, fstate, hist):
    """Block Kaczmarz: rows tau[t, :] (distinct); (A_tau A_tau^T) y = r_tau; z -= A_tau^T y."""
    istate[_NHIST] = 0
    nsteps = tau.shape[0]
    k = tau.shape[1]
    done = 0
    for t in range(nsteps):
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


@_jit
def _sketched_step(ap, aj, ax, mp, mj, mx, z, r, tvec, incr, fstate):
    """z -= A^T t; with incr, r -= M t (M = A A^T) and |r|^2 updated."""
    N = tvec.shape[0]
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


@_jit
def block_gaussian(ap, aj, ax, b, S, mp, mj, mx, z, r, T, G, rhs, y, dropped, tvec, incr,
                   check_every, istate, fstate, hist):
    """Block Gaussian sketch S (N x k): (S^T M S) y = S^T r; z -= A^T (S y)."""
    istate[_NHIST] = 0
    nsteps = S.shape[0]
    N = S.shape[1]
    k = S.shape[2]
    done = 0
    for t in range(nsteps):
        if not incr:
            residual(ap, aj, ax, b, z, r)
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


@_jit
def countsketch(ap, aj, ax, b, h, sg, mp, mj, mx, z, r, G, rhs, y, dropped, tvec, incr,
                check_every, istate, fstate, hist):
    """Count sketch: row i -> bucket h[t, i] with sign sg[t, i]; (S^T M S) y = S^T r."""
    istate[_NHIST] = 0
    nsteps = h.shape[0]
    N = h.shape[1]
    k = G.shape[0]
    done = 0
    for t in range(nsteps):
        if not incr:
            residual(ap, aj, ax, b, z, r)
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


@_jit
def chol_solve(G, rhs, y, dropped):
    """Solve G y = rhs in place (Cholesky with dropped pivots); returns the number dropped."""
    return _chol_solve(G, G.shape[0], rhs, y, dropped)
