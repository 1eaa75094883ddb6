"""Numba twins of the SOR kernels in ``_sor.pyx`` (same names, arguments, outputs and status
codes). Used when the Cython extension is unavailable or ``NUMFIT_KERNELS=numba``; the tests
check both against the pure SciPy reference in ``numfit.linalg._reference``.
"""
import math

import numpy as np
from numba import njit

_jit = njit(cache=True, nogil=True)


@_jit
def _explicit_rr(indptr, indices, data, b, x):
    rr = 0.0
    for i in range(b.shape[0]):
        s = b[i]
        for p in range(indptr[i], indptr[i + 1]):
            s -= data[p] * x[indices[p]]
        rr += s * s
    return rr


@_jit
def _norm2(v):
    s = 0.0
    for i in range(v.shape[0]):
        s += v[i] * v[i]
    return math.sqrt(s)


@_jit
def csr_matvec(indptr, indices, data, x, y):
    for i in range(y.shape[0]):
        s = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            s += data[p] * x[indices[p]]
        y[i] = s


@_jit
def residual(indptr, indices, data, b, x, r):
    rr = 0.0
    for i in range(b.shape[0]):
        s = b[i]
        for p in range(indptr[i], indptr[i + 1]):
            s -= data[p] * x[indices[p]]
        r[i] = s
        rr += s * s
    return math.sqrt(rr)


@_jit
def _fwd(indptr, indices, data, inv_diag, b, x, omega):
    for i in range(b.shape[0]):
        s = b[i]
        for p in range(indptr[i], indptr[i + 1]):
            s -= data[p] * x[indices[p]]
        x[i] += omega * s * inv_diag[i]


@_jit
def _bwd(indptr, indices, data, inv_diag, b, x, omega):
    for i in range(b.shape[0] - 1, -1, -1):
        s = b[i]
        for p in range(indptr[i], indptr[i + 1]):
            s -= data[p] * x[indices[p]]
        x[i] += omega * s * inv_diag[i]


@_jit
def sweep(indptr, indices, data, diag_pos, inv_diag, b, x, omega, iterations, code):
    for _ in range(iterations):
        if code == 0:
            _fwd(indptr, indices, data, inv_diag, b, x, omega)
        elif code == 1:
            _bwd(indptr, indices, data, inv_diag, b, x, omega)
        else:
            _fwd(indptr, indices, data, inv_diag, b, x, omega)
            _bwd(indptr, indices, data, inv_diag, b, x, omega)


@_jit
def _check(rk, thresh, divlim):
    if rk < thresh:
        return 0
    if not math.isfinite(rk) or rk > divlim:
        return 2
    return -1


@_jit
def sor_run(indptr, indices, data, diag_pos, inv_diag, b, x, w1, w2, omega, code, norm_code,
            rtol, atol, divtol, maxiter, kstop, hist, h0, state):
    """Resumable fused SOR (see ``_sor.pyx``): -1 = paused at the top of iteration kstop."""
    n = b.shape[0]
    keep = hist.shape[0] > 0
    c1 = 1.0 - 1.0 / omega
    fwd = code == 0
    k = int(state[0])
    if k == 0:
        r0 = math.sqrt(_explicit_rr(indptr, indices, data, b, x))
        ref = r0 if norm_code == 0 else _norm2(b)
        state[3] = ref
        state[1] = r0
        state[2] = 0.0
        if keep:
            hist[0 - h0] = r0
        thresh = max(rtol * ref, atol)
        divlim = divtol * ref
        state[4] = thresh
        state[5] = divlim
        if ref == 0.0 and atol == 0.0:
            return 0
        st = _check(r0, thresh, divlim)
        if st >= 0:
            return st
        if maxiter == 0:
            return 1
        if code == 0 or code == 1:
            # sweep 1: w1 = u^(0) (forward) or l^(0) (backward), w2 = delta^(1)
            for ii in range(n):
                i = ii if fwd else n - 1 - ii
                d = diag_pos[i]
                lo = 0.0
                for p in range(indptr[i], d):
                    lo += data[p] * x[indices[p]]
                up = 0.0
                for p in range(d + 1, indptr[i + 1]):
                    up += data[p] * x[indices[p]]
                xi = x[i]
                xn = xi + omega * (b[i] - lo - data[d] * xi - up) * inv_diag[i]
                w2[i] = xn - xi
                w1[i] = up if fwd else lo
                x[i] = xn
        else:
            # symmetric: w1 = Delta (backward-half change), w2 = forward-half change
            _fwd(indptr, indices, data, inv_diag, b, x, omega)
            for i in range(n - 1, -1, -1):
                s = b[i]
                for p in range(indptr[i], indptr[i + 1]):
                    s -= data[p] * x[indices[p]]
                xn = omega * s * inv_diag[i]
                w1[i] = xn
                x[i] += xn
        k = 1
    thresh = state[4]
    divlim = state[5]
    if code == 0 or code == 1:
        while True:
            if k == maxiter:
                rr = 0.0
                for i in range(n):
                    d = diag_pos[i]
                    t = 0.0
                    if fwd:
                        for p in range(d + 1, indptr[i + 1]):
                            t += data[p] * x[indices[p]]
                    else:
                        for p in range(indptr[i], d):
                            t += data[p] * x[indices[p]]
                    ri = w1[i] - t - c1 * data[d] * w2[i]
                    rr += ri * ri
                rk = math.sqrt(rr)
                if keep:
                    hist[k - h0] = rk
                state[0] = k
                state[1] = rk
                state[2] = k
                st = _check(rk, thresh, divlim)
                return 1 if st < 0 else st
            if k >= kstop:
                state[0] = k
                return -1
            rr = 0.0
            for ii in range(n):
                i = ii if fwd else n - 1 - ii
                d = diag_pos[i]
                lo = 0.0
                for p in range(indptr[i], d):
                    lo += data[p] * x[indices[p]]
                up = 0.0
                for p in range(d + 1, indptr[i + 1]):
                    up += data[p] * x[indices[p]]
                t = up if fwd else lo
                ri = w1[i] - t - c1 * data[d] * w2[i]
                rr += ri * ri
                xi = x[i]
                xn = xi + omega * (b[i] - lo - data[d] * xi - up) * inv_diag[i]
                w2[i] = xn - xi
                w1[i] = t
                x[i] = xn
            rk = math.sqrt(rr)
            if keep:
                hist[k - h0] = rk
            st = _check(rk, thresh, divlim)
            if st >= 0:
                for i in range(n):
                    x[i] -= w2[i]
                state[0] = k
                state[1] = rk
                state[2] = k + 1
                return st
            k += 1
    while True:
        if k == maxiter:
            rr = 0.0
            for i in range(n):
                d = diag_pos[i]
                s = c1 * data[d] * w1[i]
                for p in range(indptr[i], d):
                    s += data[p] * w1[indices[p]]
                rr += s * s
            rk = math.sqrt(rr)
            if keep:
                hist[k - h0] = rk
            state[0] = k
            state[1] = rk
            state[2] = k
            st = _check(rk, thresh, divlim)
            return 1 if st < 0 else st
        if k >= kstop:
            state[0] = k
            return -1
        rr = 0.0
        for i in range(n):
            d = diag_pos[i]
            sl = b[i]
            ri = 0.0
            for p in range(indptr[i], d):
                sl -= data[p] * x[indices[p]]
                ri += data[p] * w1[indices[p]]
            ri += c1 * data[d] * w1[i]
            rr += ri * ri
            for p in range(d, indptr[i + 1]):
                sl -= data[p] * x[indices[p]]
            xn = omega * sl * inv_diag[i]
            w2[i] = xn
            x[i] += xn
        rk = math.sqrt(rr)
        if keep:
            hist[k - h0] = rk
        st = _check(rk, thresh, divlim)
        if st >= 0:
            for i in range(n):
                x[i] -= w2[i]
            state[0] = k
            state[1] = rk
            state[2] = k + 1
            return st
        for i in range(n - 1, -1, -1):
            s = b[i]
            for p in range(indptr[i], indptr[i + 1]):
                s -= data[p] * x[indices[p]]
            xn = omega * s * inv_diag[i]
            w1[i] = xn
            x[i] += xn
        k += 1


@_jit
def sor_solve(indptr, indices, data, diag_pos, inv_diag, b, x, w1, w2, w3, omega, code,
              norm_code, rtol, atol, divtol, maxiter, hist, out):
    state = np.zeros(8)
    st = sor_run(indptr, indices, data, diag_pos, inv_diag, b, x, w1, w2, omega, code,
                 norm_code, rtol, atol, divtol, maxiter, maxiter + 1, hist, 0, state)
    for j in range(4):
        out[j] = state[j]
    return st


@_jit
def ssor_apply(indptr, indices, data, diag_pos, inv_diag, r, z, omega, order):
    n = r.shape[0]
    scale = omega * (2.0 - omega)
    if order == 0:
        for i in range(n):
            s = 0.0
            for p in range(indptr[i], diag_pos[i]):
                s += data[p] * z[indices[p]]
            z[i] = (r[i] - omega * s) * inv_diag[i]
        for i in range(n - 1, -1, -1):
            s = 0.0
            for p in range(diag_pos[i] + 1, indptr[i + 1]):
                s += data[p] * z[indices[p]]
            z[i] = z[i] - omega * s * inv_diag[i]
    else:
        for i in range(n - 1, -1, -1):
            s = 0.0
            for p in range(diag_pos[i] + 1, indptr[i + 1]):
                s += data[p] * z[indices[p]]
            z[i] = (r[i] - omega * s) * inv_diag[i]
        for i in range(n):
            s = 0.0
            for p in range(indptr[i], diag_pos[i]):
                s += data[p] * z[indices[p]]
            z[i] = z[i] - omega * s * inv_diag[i]
    for i in range(n):
        z[i] *= scale


@_jit
def _dot(a, b):
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i] * b[i]
    return s


@_jit
def ssor_cg_run(indptr, indices, data, diag_pos, inv_diag, b, x, r, z, p, q, omega, order,
                norm_code, rtol, atol, maxiter, kstop, pause, hist, h0, state):
    """Resumable SSOR-PCG (see ``_sor.pyx``): -1 = paused at the top of the loop (k >= kstop
    or recurrence residual < pause)."""
    n = b.shape[0]
    keep = hist.shape[0] > 0
    if state[6] == 0.0:
        k = 0
        rn = residual(indptr, indices, data, b, x, r)
        ref = rn if norm_code == 0 else _norm2(b)
        state[3] = ref
        thresh = max(rtol * ref, atol)
        state[4] = thresh
        if keep:
            hist[0 - h0] = rn
        ssor_apply(indptr, indices, data, diag_pos, inv_diag, r, z, omega, order)
        rz = _dot(r, z)
        for i in range(n):
            p[i] = z[i]
        state[6] = 1.0
    else:
        k = int(state[0])
        rn = state[1]
        rz = state[2]
        thresh = state[4]
    while True:
        if k >= kstop or rn < pause:
            state[0] = k
            state[1] = rn
            state[2] = rz
            return -1
        if rn <= thresh:
            rt = residual(indptr, indices, data, b, x, q)
            if rt <= thresh:
                state[0] = k
                state[1] = rn
                state[5] = rt
                return 0
            for i in range(n):
                r[i] = q[i]
            rn = rt
            ssor_apply(indptr, indices, data, diag_pos, inv_diag, r, z, omega, order)
            rz = _dot(r, z)
            for i in range(n):
                p[i] = z[i]
        if not math.isfinite(rn):
            state[0] = k
            state[1] = rn
            state[5] = rn
            return 2
        if k >= maxiter:
            state[0] = k
            state[1] = rn
            state[5] = residual(indptr, indices, data, b, x, q)
            return 1
        if not (rz > 0.0):
            state[0] = k
            state[1] = rn
            state[5] = rn
            return 2
        csr_matvec(indptr, indices, data, p, q)
        pap = _dot(p, q)
        if not (pap > 0.0):
            state[0] = k
            state[1] = rn
            state[5] = rn
            return 2
        alpha = rz / pap
        rn = 0.0
        for i in range(n):
            x[i] += alpha * p[i]
            r[i] -= alpha * q[i]
            rn += r[i] * r[i]
        rn = math.sqrt(rn)
        k += 1
        if keep:
            hist[k - h0] = rn
        ssor_apply(indptr, indices, data, diag_pos, inv_diag, r, z, omega, order)
        rz_new = _dot(r, z)
        beta = rz_new / rz
        rz = rz_new
        for i in range(n):
            p[i] = z[i] + beta * p[i]


@_jit
def ssor_cg(indptr, indices, data, diag_pos, inv_diag, b, x, r, z, p, q, omega, order,
            norm_code, rtol, atol, maxiter, hist, out):
    state = np.zeros(8)
    st = ssor_cg_run(indptr, indices, data, diag_pos, inv_diag, b, x, r, z, p, q, omega,
                     order, norm_code, rtol, atol, maxiter, maxiter + 1, -1.0, hist, 0, state)
    out[0] = state[0]
    out[1] = state[5]
    out[2] = 0.0
    out[3] = state[3]
    return st


# ---------------------------------------------------------------- SSOR-PCG, Eisenstat form
# (Eisenstat, SIAM J. Sci. Stat. Comput. 2(1), 1981; the derivation is in ``_sor.pyx`` and
# docs/sor.md)
@_jit
def pad_lengths(lens, chunk, pad_max, out):
    """Row lengths padded in chunks of ``chunk`` rows (see ``_sor.pyx``)."""
    n = lens.shape[0]
    total = 0
    for c0 in range(0, n, chunk):
        c1 = c0 + chunk if c0 + chunk < n else n
        w = 0
        tot = 0
        for i in range(c0, c1):
            tot += lens[i]
            if lens[i] > w:
                w = lens[i]
        if w * (c1 - c0) <= pad_max * tot:
            for i in range(c0, c1):
                out[i] = w
            total += w * (c1 - c0)
        else:
            for i in range(c0, c1):
                out[i] = lens[i]
            total += tot
    return total


@_jit
def split_triangles(indptr, indices, data, diag_pos, lptr, lidx, lval, uptr, uidx, uval):
    """Strictly lower and strictly upper triangles of D^{-1} A into their own CSR arrays
    (``lptr`` and ``uptr`` given; rows with room to spare padded with column n and value 0,
    before the entries in L and after them in U; see ``_sor.pyx``)."""
    n = diag_pos.shape[0]
    for i in range(n):
        di = data[diag_pos[i]]
        q = lptr[i + 1] - (diag_pos[i] - indptr[i])     # the row's entries end it
        for p in range(lptr[i], q):
            lidx[p] = n
            lval[p] = 0.0
        for p in range(indptr[i], diag_pos[i]):
            lidx[q] = indices[p]
            lval[q] = data[p] / di
            q += 1
        q = uptr[i]
        for p in range(diag_pos[i] + 1, indptr[i + 1]):
            uidx[q] = indices[p]
            uval[q] = data[p] / di
            q += 1
        while q < uptr[i + 1]:
            uidx[q] = n
            uval[q] = 0.0
            q += 1


@_jit
def _eis_first(tp, tix, tv, dg, rh, qh, t, omega, beta, order):
    """qh = cz rh + beta qh (qh = D^{-1} ph), t = Uh^{-1} ph ("fb", ``tp, tix, tv`` = w Ut;
    "bf": Lh with w Lt); returns p'Ap = 2 t'ph + (1 - 2/w) t'Dt (as ``_sor.pyx``)."""
    n = dg.shape[0]
    cz = (2.0 - omega) / omega
    kf = 1.0 - 2.0 / omega
    tat = 0.0
    for ii in range(n):
        if order == 0:
            i = n - 1 - ii
            lo, hi, step = tp[i + 1] - 1, tp[i] - 1, -1     # nearest column (i + 1) last
        else:
            i = ii
            lo, hi, step = tp[i], tp[i + 1], 1
        qi = cz * rh[i] + beta * qh[i]
        qh[i] = qi
        acc = omega * qi
        for p in range(lo, hi, step):
            acc -= tv[p] * t[tix[p]]
        t[i] = acc
        tat += dg[i] * acc * (2.0 * qi + kf * acc)
    return tat


@_jit
def _eis_second(tp, tix, tv, dg, x, rh, qh, t, u, mask, omega, alpha, order):
    """u = Lh^{-1}(ph + K t) ("fb", ``tp, tix, tv`` = w Lt; "bf": Uh with w Ut); per row
    x += alpha t, rh -= alpha (t + u), r = Lh rh; returns (||r||^2, rh' N^{-1} rh)."""
    n = dg.shape[0]
    cz = (2.0 - omega) / omega
    kf = 1.0 - 2.0 / omega
    iw = 1.0 / omega
    rr = 0.0
    rz = 0.0
    for ii in range(n):
        if order == 0:
            i = ii
            lo, hi, step = tp[i], tp[i + 1], 1
        else:
            i = n - 1 - ii
            lo, hi, step = tp[i + 1] - 1, tp[i] - 1, -1     # nearest column (i + 1) last
        ti = t[i]
        acc = omega * (qh[i] + kf * ti)
        sr = 0.0
        for p in range(lo, hi, step):
            j = tix[p]
            a = tv[p]
            acc -= a * u[j & mask]
            sr += a * rh[j]
        u[i & mask] = acc
        x[i] += alpha * ti
        rhi = rh[i] - alpha * (ti + acc)
        rh[i] = rhi
        di = dg[i]
        ri = (di * iw) * (sr + rhi)
        rr += ri * ri
        rz += cz * di * rhi * rhi
    return rr, rz


@_jit
def _eis_restart(tp, tix, tv, dg, r, rh, qh, omega, order):
    """rh = Lh^{-1} r ("fb", ``tp, tix, tv`` = w Lt; "bf": Uh with w Ut), qh = 0; returns
    rh' N^{-1} rh."""
    n = dg.shape[0]
    cz = (2.0 - omega) / omega
    rz = 0.0
    for ii in range(n):
        i = ii if order == 0 else n - 1 - ii
        di = dg[i]
        v = omega * (r[i] / di)
        for p in range(tp[i], tp[i + 1]):
            v -= tv[p] * rh[tix[p]]
        rh[i] = v
        qh[i] = 0.0
        rz += cz * di * v * v
    return rz


@_jit
def ssor_cg_eis_run(indptr, indices, data, lptr, lidx, lval, uptr, uidx, uval, dg, b, x, r,
                    rh, qh, t, u, mask, omega, order, norm_code, rtol, atol, maxiter, kstop,
                    pause, hist, h0, state):
    """Resumable SSOR-PCG in Eisenstat's form (see ``_sor.pyx``): the iterates of
    :func:`ssor_cg_run` up to rounding; state[7] is the pending beta."""
    keep = hist.shape[0] > 0
    if order == 0:          # first pass: Uh ("fb") or Lh ("bf"); second: the other one
        fp, fi, fv, sp_, si, sv = uptr, uidx, uval, lptr, lidx, lval
    else:
        fp, fi, fv, sp_, si, sv = lptr, lidx, lval, uptr, uidx, uval
    if state[6] == 0.0:
        k = 0
        rn = residual(indptr, indices, data, b, x, r)
        ref = rn if norm_code == 0 else _norm2(b)
        state[3] = ref
        thresh = max(rtol * ref, atol)
        state[4] = thresh
        if keep:
            hist[0 - h0] = rn
        rz = _eis_restart(sp_, si, sv, dg, r, rh, qh, omega, order)
        beta = 0.0
        state[6] = 1.0
    else:
        k = int(state[0])
        rn = state[1]
        rz = state[2]
        thresh = state[4]
        beta = state[7]
    while True:
        if k >= kstop or rn < pause:
            state[0] = k
            state[1] = rn
            state[2] = rz
            state[7] = beta
            return -1
        if rn <= thresh:
            rt = residual(indptr, indices, data, b, x, r)
            if rt <= thresh:
                state[0] = k
                state[1] = rn
                state[5] = rt
                return 0
            rn = rt
            rz = _eis_restart(sp_, si, sv, dg, r, rh, qh, omega, order)
            beta = 0.0
        if not math.isfinite(rn):
            state[0] = k
            state[1] = rn
            state[5] = rn
            return 2
        if k >= maxiter:
            state[0] = k
            state[1] = rn
            state[5] = residual(indptr, indices, data, b, x, r)
            return 1
        if not (rz > 0.0):
            state[0] = k
            state[1] = rn
            state[5] = rn
            return 2
        pap = _eis_first(fp, fi, fv, dg, rh, qh, t, omega, beta, order)
        if not (pap > 0.0):
            state[0] = k
            state[1] = rn
            state[2] = rz
            state[5] = rn
            state[7] = 0.0
            return 2
        alpha = rz / pap
        rr, rz_new = _eis_second(sp_, si, sv, dg, x, rh, qh, t, u, mask, omega, alpha, order)
        rn = math.sqrt(rr)
        k += 1
        if keep:
            hist[k - h0] = rn
        beta = rz_new / rz
        rz = rz_new


# ------------------------------------------------------------------ omega="auto" (Lanczos)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@_jit
def _unit_hash(seed, i):
    """The i-th SplitMix64 output from ``seed`` in [0, 1) (see ``_sor.pyx``)."""
    z = seed + np.uint64(i + 1) * _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    z = z ^ (z >> np.uint64(31))
    return np.float64(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@_jit
def lanczos_start(diag, inv_diag, seed, smooth, spread, q):
    """The start vector ``q = D^{-1/2} v`` in the D-inner product (see ``_sor.pyx``; the
    same operations in the same order)."""
    n = q.shape[0]
    seed = np.uint64(seed)
    ss = 0.0
    c0 = 1.0 - 0.5 * spread
    if smooth:
        # four partial sums, as in _sor.pyx
        s4 = np.zeros(4)
        m = n - n % 4
        for i in range(0, m, 4):
            for j in range(4):
                t = c0 + spread * _unit_hash(seed, i + j)
                q[i + j] = t
                s4[j] += diag[i + j] * (t * t)
        for i in range(m, n):
            t = c0 + spread * _unit_hash(seed, i)
            q[i] = t
            s4[0] += diag[i] * (t * t)
        ss = (s4[0] + s4[1]) + (s4[2] + s4[3])
    else:
        for i in range(n):
            t = 2.0 * _unit_hash(seed, i) - 1.0
            q[i] = t * math.sqrt(inv_diag[i])
            ss += t * t
    inv = 1.0 / math.sqrt(ss)
    for i in range(n):
        q[i] = q[i] * inv


@_jit
def _step0_row(indptr, indices, data, q, i, dp, absum):
    """Row i of A q summed in column order, its strictly upper part's sum and (``absum``) the
    sums of |a_ij| over its strictly lower and upper parts (see ``_step0_row`` in
    ``_sor.pyx``)."""
    s = 0.0
    u = 0.0
    l1 = 0.0
    u1 = 0.0
    if absum:
        for p in range(indptr[i], dp):
            t = data[p]
            s += t * q[indices[p]]
            l1 += abs(t)
        s += data[dp] * q[indices[dp]]
    else:
        for p in range(indptr[i], dp + 1):
            s += data[p] * q[indices[p]]
    for p in range(dp + 1, indptr[i + 1]):
        t = data[p] * q[indices[p]]
        s += t
        u += t
        if absum:
            u1 += abs(data[p])
    return s, u, l1, u1


@_jit
def lanczos_steps(indptr, indices, data, diag, inv_diag, q, q_old, w, alphas, betas, k0, k1,
                  keep, diag_pos, upper):
    """Lanczos steps k0, ..., k1 - 1 on D^{-1} A in the D-inner product (see ``_sor.pyx``;
    the same operations in the same order; ``upper[0]``, when ``upper`` has an entry and the
    block starts at step 0: the sum of ``inv_diag[i] (U q)_i^2`` from step 0's product, and
    the block returns after step 0 if that exceeds 1/4; ``upper[1]``, when it has two: on
    entry a limit, on return the bound of Schur's test on ``||D^{-1/2} U D^{-1/2}||^2``, or
    the partial product once that exceeded the limit, or inf for a limit < 0; within the
    limit, no more rows of ``keep`` are written)."""
    n = q.shape[0]
    keeping = keep.shape[0] > 0
    for k in range(k0, k1):
        if k > 0:
            bp = betas[k - 1]
            inv = 1.0 / bp
            if keeping:
                for i in range(n):
                    t = w[i] * inv
                    q_old[i] = q[i]
                    q[i] = t
                    keep[k, i] = np.float32(t)
            else:
                for i in range(n):
                    t = w[i] * inv
                    q_old[i] = q[i]
                    q[i] = t
        else:
            bp = 0.0
            if keeping:
                for i in range(n):
                    q_old[i] = 0.0
                    keep[0, i] = np.float32(q[i])
            else:
                for i in range(n):
                    q_old[i] = 0.0
        # w = D^{-1} A q and q'Aq (two partial sums: even and odd rows, as in _sor.pyx)
        a0 = a1 = 0.0
        if k == 0 and upper.shape[0] > 0:
            # step 0 of SSOR-CG's estimate: the upper part of each row summed apart as well
            # (even and odd rows, as below and in upper_norm2: its sums bit for bit), and,
            # while Schur's bound can stay below upper[1], the largest scaled absolute sums
            # of each triangle's rows (stopping after a pair of rows, as in _sor.pyx)
            u0 = u1 = ml = mu = 0.0
            lim = upper[1] if upper.shape[0] > 1 else -1.0
            summing = lim >= 0.0
            for i in range(n):
                s, su, al, au = _step0_row(indptr, indices, data, q, i, diag_pos[i], summing)
                if summing:
                    al = al * inv_diag[i]
                    if al > ml:
                        ml = al
                    au = au * inv_diag[i]
                    if au > mu:
                        mu = au
                    if i % 2 == 1 and ml * mu > lim:
                        summing = False
                w[i] = s * inv_diag[i]
                if i % 2 == 0:
                    a0 += q[i] * s
                    u0 += inv_diag[i] * (su * su)
                else:
                    a1 += q[i] * s
                    u1 += inv_diag[i] * (su * su)
            upper[0] = u0 + u1
            if upper.shape[0] > 1:
                upper[1] = ml * mu if lim >= 0.0 else np.inf
                if lim >= 0.0 and ml * mu <= lim:
                    keeping = False     # beta <= 0 at every vector: no Ritz vector needed
        else:
            m = n - n % 2
            for i in range(0, m, 2):
                s = 0.0
                for p in range(indptr[i], indptr[i + 1]):
                    s += data[p] * q[indices[p]]
                w[i] = s * inv_diag[i]
                a0 += q[i] * s
                s = 0.0
                for p in range(indptr[i + 1], indptr[i + 2]):
                    s += data[p] * q[indices[p]]
                w[i + 1] = s * inv_diag[i + 1]
                a1 += q[i + 1] * s
            for i in range(m, n):
                s = 0.0
                for p in range(indptr[i], indptr[i + 1]):
                    s += data[p] * q[indices[p]]
                w[i] = s * inv_diag[i]
                a0 += q[i] * s
        a = a0 + a1
        # w'Dw in four partial sums, as in _sor.pyx
        b0 = b1 = b2 = b3 = 0.0
        m = n - n % 4
        for i in range(0, m, 4):
            t = (w[i] - a * q[i]) - bp * q_old[i]
            w[i] = t
            b0 += diag[i] * (t * t)
            t = (w[i + 1] - a * q[i + 1]) - bp * q_old[i + 1]
            w[i + 1] = t
            b1 += diag[i + 1] * (t * t)
            t = (w[i + 2] - a * q[i + 2]) - bp * q_old[i + 2]
            w[i + 2] = t
            b2 += diag[i + 2] * (t * t)
            t = (w[i + 3] - a * q[i + 3]) - bp * q_old[i + 3]
            w[i + 3] = t
            b3 += diag[i + 3] * (t * t)
        for i in range(m, n):
            t = (w[i] - a * q[i]) - bp * q_old[i]
            w[i] = t
            b0 += diag[i] * (t * t)
        bb = (b0 + b1) + (b2 + b3)
        alphas[k] = a
        betas[k] = math.sqrt(bb)
        if betas[k] <= 1e-14 * (abs(a) if abs(a) > 1.0 else 1.0):
            return k + 1
        if k == 0 and upper.shape[0] > 0 and upper[0] > 0.25:
            return 1
    return k1


@_jit
def upper_norm2(indptr, indices, data, diag_pos, inv_diag, xs):
    """sum_i inv_diag[i] (U xs)_i^2, U the strictly upper triangle (see ``_sor.pyx``)."""
    n = xs.shape[0]
    r0 = r1 = 0.0
    m = n - n % 2
    for i in range(0, m, 2):           # even and odd rows, as in _sor.pyx
        s = 0.0
        for p in range(diag_pos[i] + 1, indptr[i + 1]):
            s += data[p] * xs[indices[p]]
        r0 += inv_diag[i] * (s * s)
        s = 0.0
        for p in range(diag_pos[i + 1] + 1, indptr[i + 2]):
            s += data[p] * xs[indices[p]]
        r1 += inv_diag[i + 1] * (s * s)
    for i in range(m, n):
        s = 0.0
        for p in range(diag_pos[i] + 1, indptr[i + 1]):
            s += data[p] * xs[indices[p]]
        r0 += inv_diag[i] * (s * s)
    return r0 + r1


@_jit
def _sturm_below(alphas, betas, k, x, pivmin):
    """Eigenvalues of the tridiagonal below ``x`` (see ``_sor.pyx``)."""
    cnt = 0
    q = alphas[0] - x
    if abs(q) < pivmin:
        q = -pivmin
    if q < 0.0:
        cnt += 1
    for i in range(1, k):
        q = (alphas[i] - x) - betas[i - 1] * betas[i - 1] / q
        if abs(q) < pivmin:
            q = -pivmin
        if q < 0.0:
            cnt += 1
    return cnt


@_jit
def tridiag_smallest(alphas, betas, k, s, work):
    """Smallest eigenpair of the Lanczos tridiagonal (see ``_sor.pyx``; the same operations
    in the same order)."""
    eps = 2.220446049250313e-16
    if k == 1:
        s[0] = 1.0
        return alphas[0]
    tnorm = 0.0
    bmax = 0.0
    lo = alphas[0]
    hi = alphas[0]
    for i in range(k):
        r = 0.0
        if i > 0:
            r += abs(betas[i - 1])
        if i < k - 1:
            r += abs(betas[i])
            if abs(betas[i]) > bmax:
                bmax = abs(betas[i])
        if alphas[i] - r < lo:
            lo = alphas[i] - r
        if alphas[i] < hi:
            hi = alphas[i]
        if abs(alphas[i]) + r > tnorm:
            tnorm = abs(alphas[i]) + r
    pivmin = 2.2250738585072014e-308 * (bmax * bmax if bmax > 1.0 else 1.0)
    for it in range(200):
        if hi - lo <= 4.0 * eps * (abs(lo) if abs(lo) > abs(hi) else abs(hi)) \
                or hi - lo <= eps * tnorm:
            break
        mid = 0.5 * (lo + hi)
        if _sturm_below(alphas, betas, k, mid, pivmin) >= 1:
            hi = mid
        else:
            lo = mid
    mid = 0.5 * (lo + hi)
    sc = 1.0 / tnorm if tnorm > 0.0 else 1.0
    d = work[0:k]
    du = work[k:2 * k]
    du2 = work[2 * k:3 * k]
    dl = work[3 * k:4 * k]
    sw = work[4 * k:5 * k]
    for i in range(k):
        d[i] = (alphas[i] - mid) * sc
        s[i] = 1.0
    for i in range(k - 1):
        du[i] = betas[i] * sc
        dl[i] = betas[i] * sc
        du2[i] = 0.0
        sw[i] = 0.0
    for i in range(k - 1):
        if abs(d[i]) >= abs(dl[i]):
            if d[i] != 0.0:         # (else dl[i] = 0: nothing to eliminate)
                fact = dl[i] / d[i]
                dl[i] = fact
                d[i + 1] = d[i + 1] - fact * du[i]
        else:
            fact = d[i] / dl[i]
            d[i] = dl[i]
            dl[i] = fact
            tmp = du[i]
            du[i] = d[i + 1]
            d[i + 1] = tmp - fact * d[i + 1]
            if i < k - 2:
                du2[i] = du[i + 1]
                du[i + 1] = -fact * du[i + 1]
            sw[i] = 1.0
    for i in range(k):
        if abs(d[i]) < eps:
            d[i] = -eps if d[i] < 0.0 else eps
    for it in range(3):
        for i in range(k - 1):
            if sw[i] == 0.0:
                s[i + 1] = s[i + 1] - dl[i] * s[i]
            else:
                tmp = s[i]
                s[i] = s[i + 1]
                s[i + 1] = tmp - dl[i] * s[i + 1]
        s[k - 1] = s[k - 1] / d[k - 1]
        s[k - 2] = (s[k - 2] - du[k - 2] * s[k - 1]) / d[k - 2]
        for i in range(k - 3, -1, -1):
            s[i] = (s[i] - du[i] * s[i + 1] - du2[i] * s[i + 2]) / d[i]
        nrm = 0.0
        for i in range(k):
            nrm += s[i] * s[i]
        nrm = (-1.0 if s[0] < 0.0 else 1.0) / math.sqrt(nrm)
        for i in range(k):
            s[i] = s[i] * nrm
    return mid


@_jit
def ritz_scaled(keep, s, k, diag, xs):
    """The Ritz vector in scaled form ``xs = sum_j s[j] keep[j]``; returns ``xs' D xs`` (see
    ``_sor.pyx``; the same operations in the same order)."""
    n = xs.shape[0]
    c = s[0]
    for i in range(n):
        xs[i] = c * keep[0, i]
    for j in range(1, k):
        c = s[j]
        for i in range(n):
            xs[i] = xs[i] + c * keep[j, i]
    x0 = x1 = x2 = x3 = 0.0
    m = n - n % 4
    for i in range(0, m, 4):
        t = xs[i]
        x0 += diag[i] * (t * t)
        t = xs[i + 1]
        x1 += diag[i + 1] * (t * t)
        t = xs[i + 2]
        x2 += diag[i + 2] * (t * t)
        t = xs[i + 3]
        x3 += diag[i + 3] * (t * t)
    for i in range(m, n):
        t = xs[i]
        x0 += diag[i] * (t * t)
    return (x0 + x1) + (x2 + x3)
