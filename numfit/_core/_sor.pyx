# cython: language_level=3
"""SOR / SSOR / SSOR-PCG compiled kernels (numfit's SOR guide: docs/sor.md).

Kernels only: no validation. The front end (``numfit.linalg._sor``) passes a CSR matrix with
sorted column indices and every diagonal entry stored and positive:

indptr, indices : (n+1,), (nnz,) int32 or int64 (one fused index type for both and diag_pos)
data            : (nnz,) float64
diag_pos        : (n,) position of a_ii in ``data``; entries of row i before it are the strictly
                  lower part, entries after it the strictly upper part
inv_diag        : (n,) 1 / a_ii

Sweep codes: 0 forward, 1 backward, 2 symmetric (forward half then backward half).
Solver outputs go to ``out`` (float64, length 4): nit, residual, nsweeps, ref_norm.
Status codes: 0 converged, 1 maxiter reached, 2 diverged / breakdown.
``sor_run`` and ``ssor_cg_run`` are the solvers in resumable form: they stop (-1) at a given
iteration with their state in ``state`` and the work vectors, so that the Python driver can run
a long solve in short calls (Ctrl-C, stagnation tests) with the iterates of one call.
``ssor_cg_eis_run`` is ``ssor_cg_run`` in Eisenstat's form (one pass over each triangle per
iteration; same iterates up to rounding); it takes the strictly lower and upper triangles of
D^{-1} A in their own CSR arrays (``split_triangles``) and the diagonal besides the CSR
matrix.
``hist`` has length 0 (no history) or maxiter + 1 (hist[k] = ||r_k||_2).
``lanczos_start`` (the start vector), ``lanczos_steps`` (a block of Lanczos steps on
D^{-1} A in the D-inner product, i.e. on D^{-1/2} A D^{-1/2}), ``tridiag_smallest`` (the
smallest Ritz pair), ``ritz_scaled`` (the Ritz vector) and ``upper_norm2`` (Young's beta
term) are the compiled parts of ``omega="auto"`` (``numfit.linalg._omega``).
"""
from libc.math cimport sqrt, isfinite, fabs, INFINITY
from libc.stdint cimport int32_t, int64_t

ctypedef fused itype:
    int32_t
    int64_t

ctypedef Py_ssize_t isize


# ------------------------------------------------------------------ helpers
cdef inline double _explicit_rr(const itype[::1] indptr, const itype[::1] indices,
                                const double[::1] data, const double[::1] b,
                                const double[::1] x) noexcept nogil:
    """||b - A x||_2^2."""
    cdef isize n = b.shape[0], i, p
    cdef double s, rr = 0.0
    for i in range(n):
        s = b[i]
        for p in range(indptr[i], indptr[i + 1]):
            s -= data[p] * x[indices[p]]
        rr += s * s
    return rr


cdef inline double _norm2(const double[::1] v) noexcept nogil:
    cdef isize i
    cdef double s = 0.0
    for i in range(v.shape[0]):
        s += v[i] * v[i]
    return sqrt(s)


cpdef void csr_matvec(const itype[::1] indptr, const itype[::1] indices,
                      const double[::1] data, const double[::1] x,
                      double[::1] y) noexcept nogil:
    """y = A x."""
    cdef isize n = y.shape[0], i, p
    cdef double s
    for i in range(n):
        s = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            s += data[p] * x[indices[p]]
        y[i] = s


cpdef double residual(const itype[::1] indptr, const itype[::1] indices,
                      const double[::1] data, const double[::1] b, const double[::1] x,
                      double[::1] r) noexcept nogil:
    """r = b - A x; returns ||r||_2."""
    cdef isize n = b.shape[0], i, p
    cdef double s, rr = 0.0
    for i in range(n):
        s = b[i]
        for p in range(indptr[i], indptr[i + 1]):
            s -= data[p] * x[indices[p]]
        r[i] = s
        rr += s * s
    return sqrt(rr)


cdef inline void _fwd(const itype[::1] indptr, const itype[::1] indices, const double[::1] data,
                      const itype[::1] diag_pos, const double[::1] inv_diag,
                      const double[::1] b, double[::1] x, double omega) noexcept nogil:
    cdef isize n = b.shape[0], i, p
    cdef double s
    for i in range(n):
        s = b[i]
        for p in range(indptr[i], indptr[i + 1]):
            s -= data[p] * x[indices[p]]
        x[i] += omega * s * inv_diag[i]


cdef inline void _bwd(const itype[::1] indptr, const itype[::1] indices, const double[::1] data,
                      const itype[::1] diag_pos, const double[::1] inv_diag,
                      const double[::1] b, double[::1] x, double omega) noexcept nogil:
    cdef isize n = b.shape[0], i, p
    cdef double s
    for i in range(n - 1, -1, -1):
        s = b[i]
        for p in range(indptr[i], indptr[i + 1]):
            s -= data[p] * x[indices[p]]
        x[i] += omega * s * inv_diag[i]


cpdef void sweep(const itype[::1] indptr, const itype[::1] indices, const double[::1] data,
                 const itype[::1] diag_pos, const double[::1] inv_diag, const double[::1] b,
                 double[::1] x, double omega, isize iterations, int code) noexcept nogil:
    """Plain in-place SOR sweeps (no residual): ``iterations`` times forward/backward/symmetric."""
    cdef isize it
    for it in range(iterations):
        if code == 0:
            _fwd(indptr, indices, data, diag_pos, inv_diag, b, x, omega)
        elif code == 1:
            _bwd(indptr, indices, data, diag_pos, inv_diag, b, x, omega)
        else:
            _fwd(indptr, indices, data, diag_pos, inv_diag, b, x, omega)
            _bwd(indptr, indices, data, diag_pos, inv_diag, b, x, omega)


# ------------------------------------------------------------------ fused SOR solver
cdef inline int _finish_check(double rk, double thresh, double divlim) noexcept nogil:
    if rk < thresh:
        return 0
    if not isfinite(rk) or rk > divlim:
        return 2
    return -1


cdef int _sor_run(const itype[::1] indptr, const itype[::1] indices, const double[::1] data,
                  const itype[::1] diag_pos, const double[::1] inv_diag,
                  const double[::1] b, double[::1] x, double[::1] w1, double[::1] w2,
                  double omega, int code, int norm_code, double rtol, double atol,
                  double divtol, isize maxiter, isize kstop, double[::1] hist, isize h0,
                  double* state) noexcept nogil:
    """Body of :func:`sor_run` (``state``: a pointer to its 6 slots)."""
    cdef isize n = b.shape[0], i, p, d, k
    cdef bint keep = hist.shape[0] > 0
    cdef double c1 = 1.0 - 1.0 / omega
    cdef double r0, ref, thresh, divlim, rr, rk, s, sl, su, xi, xn, ri
    cdef int st
    # w1: u_prev / l_prev (or Delta for symmetric); w2: delta (or forward-half change)
    k = <isize>state[0]
    if k == 0:
        r0 = sqrt(_explicit_rr(indptr, indices, data, b, x))
        if norm_code == 0:
            ref = r0
        else:
            ref = _norm2(b)
        state[3] = ref
        state[1] = r0
        state[2] = 0
        if keep:
            hist[0 - h0] = r0
        thresh = rtol * ref
        if atol > thresh:
            thresh = atol
        divlim = divtol * ref
        state[4] = thresh
        state[5] = divlim
        if ref == 0.0 and atol == 0.0:
            return 0
        st = _finish_check(r0, thresh, divlim)
        if st >= 0:
            return st
        if maxiter == 0:
            return 1
        if code == 0:
            # forward sweep 1 stores u^(0), delta^(1)
            for i in range(n):
                d = diag_pos[i]
                sl = b[i]
                for p in range(indptr[i], d):
                    sl -= data[p] * x[indices[p]]
                su = 0.0
                for p in range(d + 1, indptr[i + 1]):
                    su += data[p] * x[indices[p]]
                xi = x[i]
                xn = xi + omega * (sl - data[d] * xi - su) * inv_diag[i]
                w2[i] = xn - xi
                w1[i] = su
                x[i] = xn
        elif code == 1:
            # backward: mirror image with l_i = sum_{j<i} a_ij x_j
            for i in range(n - 1, -1, -1):
                d = diag_pos[i]
                sl = 0.0
                for p in range(indptr[i], d):
                    sl += data[p] * x[indices[p]]
                su = b[i]
                for p in range(d + 1, indptr[i + 1]):
                    su -= data[p] * x[indices[p]]
                xi = x[i]
                xn = xi + omega * (su - data[d] * xi - sl) * inv_diag[i]
                w2[i] = xn - xi
                w1[i] = sl
                x[i] = xn
        else:
            # symmetric: w1 = Delta (backward-half change), w2 = forward-half change
            _fwd(indptr, indices, data, diag_pos, inv_diag, b, x, omega)
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

    if code == 0:
        while True:
            if k == maxiter:
                rr = 0.0
                for i in range(n):
                    d = diag_pos[i]
                    su = 0.0
                    for p in range(d + 1, indptr[i + 1]):
                        su += data[p] * x[indices[p]]
                    ri = w1[i] - su - c1 * data[d] * w2[i]
                    rr += ri * ri
                rk = sqrt(rr)
                if keep:
                    hist[k - h0] = rk
                state[0] = k
                state[1] = rk
                state[2] = k
                st = _finish_check(rk, thresh, divlim)
                return 1 if st < 0 else st
            if k >= kstop:
                state[0] = k
                return -1
            rr = 0.0
            for i in range(n):
                d = diag_pos[i]
                sl = b[i]
                for p in range(indptr[i], d):
                    sl -= data[p] * x[indices[p]]
                su = 0.0
                for p in range(d + 1, indptr[i + 1]):
                    su += data[p] * x[indices[p]]
                ri = w1[i] - su - c1 * data[d] * w2[i]
                rr += ri * ri
                xi = x[i]
                xn = xi + omega * (sl - data[d] * xi - su) * inv_diag[i]
                w2[i] = xn - xi
                w1[i] = su
                x[i] = xn
            rk = sqrt(rr)
            if keep:
                hist[k - h0] = rk
            st = _finish_check(rk, thresh, divlim)
            if st >= 0:
                for i in range(n):
                    x[i] -= w2[i]
                state[0] = k
                state[1] = rk
                state[2] = k + 1
                return st
            k += 1

    elif code == 1:
        while True:
            if k == maxiter:
                rr = 0.0
                for i in range(n):
                    d = diag_pos[i]
                    sl = 0.0
                    for p in range(indptr[i], d):
                        sl += data[p] * x[indices[p]]
                    ri = w1[i] - sl - c1 * data[d] * w2[i]
                    rr += ri * ri
                rk = sqrt(rr)
                if keep:
                    hist[k - h0] = rk
                state[0] = k
                state[1] = rk
                state[2] = k
                st = _finish_check(rk, thresh, divlim)
                return 1 if st < 0 else st
            if k >= kstop:
                state[0] = k
                return -1
            rr = 0.0
            for i in range(n - 1, -1, -1):
                d = diag_pos[i]
                sl = 0.0
                for p in range(indptr[i], d):
                    sl += data[p] * x[indices[p]]
                su = b[i]
                for p in range(d + 1, indptr[i + 1]):
                    su -= data[p] * x[indices[p]]
                ri = w1[i] - sl - c1 * data[d] * w2[i]
                rr += ri * ri
                xi = x[i]
                xn = xi + omega * (su - data[d] * xi - sl) * inv_diag[i]
                w2[i] = xn - xi
                w1[i] = sl
                x[i] = xn
            rk = sqrt(rr)
            if keep:
                hist[k - h0] = rk
            st = _finish_check(rk, thresh, divlim)
            if st >= 0:
                for i in range(n):
                    x[i] -= w2[i]
                state[0] = k
                state[1] = rk
                state[2] = k + 1
                return st
            k += 1

    else:
        while True:
            if k == maxiter:
                rr = 0.0
                for i in range(n):
                    d = diag_pos[i]
                    s = c1 * data[d] * w1[i]
                    for p in range(indptr[i], d):
                        s += data[p] * w1[indices[p]]
                    rr += s * s
                rk = sqrt(rr)
                if keep:
                    hist[k - h0] = rk
                state[0] = k
                state[1] = rk
                state[2] = k
                st = _finish_check(rk, thresh, divlim)
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
            rk = sqrt(rr)
            if keep:
                hist[k - h0] = rk
            st = _finish_check(rk, thresh, divlim)
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


cpdef int sor_run(const itype[::1] indptr, const itype[::1] indices, const double[::1] data,
                  const itype[::1] diag_pos, const double[::1] inv_diag,
                  const double[::1] b, double[::1] x, double[::1] w1, double[::1] w2,
                  double omega, int code, int norm_code, double rtol, double atol,
                  double divtol, isize maxiter, isize kstop, double[::1] hist, isize h0,
                  double[::1] state) noexcept nogil:
    """Resumable :func:`sor_solve`: runs until a status or the top of iteration ``kstop``.

    ``state`` (float64, length >= 6, zeros for a fresh solve) carries the solve between calls:
    [0] k (sweeps done; 0 = not started), [1] residual, [2] nsweeps, [3] ref_norm,
    [4] threshold, [5] divergence limit; x, w1 and w2 carry the iterate and the fused-residual
    state. Returns the status (0, 1, 2) or -1: paused before sweep k + 1 with k == kstop
    (call again with the same arrays and a larger kstop; the iterates are those of one
    uninterrupted call). ``hist[j - h0]`` receives ||r_j|| for the j computed in this call
    (``hist`` of length 0: no history).
    """
    return _sor_run(indptr, indices, data, diag_pos, inv_diag, b, x, w1, w2, omega, code,
                    norm_code, rtol, atol, divtol, maxiter, kstop, hist, h0, &state[0])


cpdef int sor_solve(const itype[::1] indptr, const itype[::1] indices, const double[::1] data,
                    const itype[::1] diag_pos, const double[::1] inv_diag,
                    const double[::1] b, double[::1] x, double[::1] w1, double[::1] w2,
                    double[::1] w3, double omega, int code, int norm_code, double rtol,
                    double atol, double divtol, isize maxiter, double[::1] hist,
                    double[::1] out) noexcept nogil:
    """SOR to ``||r_k|| < max(rtol*ref, atol)`` with the fused exact residual (one call of
    :func:`sor_run` to the end).

    x holds x0 on entry and x_nit on exit. w1, w2 are (n,) work vectors (w3 is unused).
    norm_code 0: ref = ||r0||, 1: ref = ||b||. Returns the status.
    """
    cdef double state[8]
    cdef int st, j
    for j in range(8):
        state[j] = 0.0
    st = _sor_run(indptr, indices, data, diag_pos, inv_diag, b, x, w1, w2, omega, code,
                  norm_code, rtol, atol, divtol, maxiter, maxiter + 1, hist, 0, state)
    for j in range(4):
        out[j] = state[j]
    return st


# ------------------------------------------------------------------ SSOR preconditioner
cpdef void ssor_apply(const itype[::1] indptr, const itype[::1] indices, const double[::1] data,
                      const itype[::1] diag_pos, const double[::1] inv_diag,
                      const double[::1] r, double[::1] z, double omega,
                      int order) noexcept nogil:
    """z = M^{-1} r, M = (D+wL) D^{-1} (D+wU) / (w(2-w)) (order 0 = "fb"; 1 = "bf" swaps L, U)."""
    cdef isize n = r.shape[0], i, p, d
    cdef double s, scale = omega * (2.0 - omega)
    if order == 0:
        for i in range(n):
            d = diag_pos[i]
            s = 0.0
            for p in range(indptr[i], d):
                s += data[p] * z[indices[p]]
            z[i] = (r[i] - omega * s) * inv_diag[i]
        for i in range(n - 1, -1, -1):
            d = diag_pos[i]
            s = 0.0
            for p in range(d + 1, indptr[i + 1]):
                s += data[p] * z[indices[p]]
            z[i] = z[i] - omega * s * inv_diag[i]
    else:
        for i in range(n - 1, -1, -1):
            d = diag_pos[i]
            s = 0.0
            for p in range(d + 1, indptr[i + 1]):
                s += data[p] * z[indices[p]]
            z[i] = (r[i] - omega * s) * inv_diag[i]
        for i in range(n):
            d = diag_pos[i]
            s = 0.0
            for p in range(indptr[i], d):
                s += data[p] * z[indices[p]]
            z[i] = z[i] - omega * s * inv_diag[i]
    for i in range(n):
        z[i] *= scale


cdef inline double _dot(const double[::1] a, const double[::1] b) noexcept nogil:
    cdef isize i
    cdef double s = 0.0
    for i in range(a.shape[0]):
        s += a[i] * b[i]
    return s


cdef int _ssor_cg_run(const itype[::1] indptr, const itype[::1] indices,
                      const double[::1] data, const itype[::1] diag_pos,
                      const double[::1] inv_diag, const double[::1] b, double[::1] x,
                      double[::1] r, double[::1] z, double[::1] p, double[::1] q, double omega,
                      int order, int norm_code, double rtol, double atol, isize maxiter,
                      isize kstop, double pause, double[::1] hist, isize h0,
                      double* state) noexcept nogil:
    """Body of :func:`ssor_cg_run` (``state``: a pointer to its 7 slots)."""
    cdef isize n = b.shape[0], i, k
    cdef bint keep = hist.shape[0] > 0
    cdef double rn, ref, thresh, rz, rz_new, pap, alpha, beta, rt
    if state[6] == 0.0:
        k = 0
        rn = residual(indptr, indices, data, b, x, r)
        ref = rn if norm_code == 0 else _norm2(b)
        state[3] = ref
        thresh = rtol * ref
        if atol > thresh:
            thresh = atol
        state[4] = thresh
        if keep:
            hist[0 - h0] = rn
        ssor_apply(indptr, indices, data, diag_pos, inv_diag, r, z, omega, order)
        rz = _dot(r, z)
        for i in range(n):
            p[i] = z[i]
        state[6] = 1.0
    else:
        k = <isize>state[0]
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
            # recurrence passed, true residual did not: continue from the true residual
            for i in range(n):
                r[i] = q[i]
            rn = rt
            ssor_apply(indptr, indices, data, diag_pos, inv_diag, r, z, omega, order)
            rz = _dot(r, z)
            for i in range(n):
                p[i] = z[i]
        if not isfinite(rn):
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
        rn = sqrt(rn)
        k += 1
        if keep:
            hist[k - h0] = rn
        ssor_apply(indptr, indices, data, diag_pos, inv_diag, r, z, omega, order)
        rz_new = _dot(r, z)
        beta = rz_new / rz
        rz = rz_new
        for i in range(n):
            p[i] = z[i] + beta * p[i]


cpdef int ssor_cg_run(const itype[::1] indptr, const itype[::1] indices,
                      const double[::1] data, const itype[::1] diag_pos,
                      const double[::1] inv_diag, const double[::1] b, double[::1] x,
                      double[::1] r, double[::1] z, double[::1] p, double[::1] q, double omega,
                      int order, int norm_code, double rtol, double atol, isize maxiter,
                      isize kstop, double pause, double[::1] hist, isize h0,
                      double[::1] state) noexcept nogil:
    """Resumable :func:`ssor_cg`: runs until a status or a pause at the top of the loop.

    ``state`` (float64, length >= 7, zeros for a fresh solve): [0] k, [1] recurrence residual
    ||r_k||, [2] r'z, [3] ref_norm, [4] threshold, [5] final residual, [6] 1 once started;
    x, r, z and p carry the PCG iterate between calls (q is scratch). Returns the status
    (0, 1, 2) or -1: paused with k >= kstop or ||r_k|| < pause (call again with the same
    arrays; the iterates are those of one uninterrupted call). ``hist[j - h0]`` receives
    ||r_j|| for the j computed in this call.
    """
    return _ssor_cg_run(indptr, indices, data, diag_pos, inv_diag, b, x, r, z, p, q, omega,
                        order, norm_code, rtol, atol, maxiter, kstop, pause, hist, h0,
                        &state[0])


cpdef int ssor_cg(const itype[::1] indptr, const itype[::1] indices, const double[::1] data,
                  const itype[::1] diag_pos, const double[::1] inv_diag,
                  const double[::1] b, double[::1] x, double[::1] r, double[::1] z,
                  double[::1] p, double[::1] q, double omega, int order, int norm_code,
                  double rtol, double atol, isize maxiter, double[::1] hist,
                  double[::1] out) noexcept nogil:
    """SSOR-preconditioned CG from x (warm start) to ``||r_k|| <= max(rtol*ref, atol)`` (one
    call of :func:`ssor_cg_run` to the end).

    norm_code 1: ref = ||b|| (default), 0: ref = ||r0||. When the recurrence residual passes,
    b - Ax is checked once; if it fails, PCG restarts from the true residual. Returns the status
    (0, 1, or 2 for p'Ap <= 0 / r'z <= 0 / non-finite).
    """
    cdef double state[8]
    cdef int st, j
    for j in range(8):
        state[j] = 0.0
    st = _ssor_cg_run(indptr, indices, data, diag_pos, inv_diag, b, x, r, z, p, q, omega,
                      order, norm_code, rtol, atol, maxiter, maxiter + 1, -1.0, hist, 0, state)
    out[0] = state[0]
    out[1] = state[5]
    out[2] = 0
    out[3] = state[3]
    return st


# ------------------------------------------------------------------ SSOR-PCG, Eisenstat form
# Eisenstat, "Efficient implementation of a class of preconditioned conjugate gradient
# methods", SIAM J. Sci. Stat. Comput. 2(1), 1981; numfit's SOR guide, docs/sor.md.
# With Dt = D/w, Lh = Dt + L, Uh = Dt + U ("fb"; "bf" swaps L and U):
# M = Lh Dt^{-1} Uh / (2 - w), A = Lh + Uh + K with K = (1 - 2/w) D. PCG on A with M equals PCG
# on Ah = Lh^{-1} A Uh^{-1} with the diagonal preconditioner N^{-1} = (2 - w)/w D, where
# rh = Lh^{-1} r, p = Uh^{-1} ph, z = Uh^{-1} zh, and r'z = rh'zh, p'Ap = ph'Ah ph: the same
# alpha, beta and iterates x in exact arithmetic. Ah ph = t + Lh^{-1}(ph + K t), t = Uh^{-1} ph
# (= p): one solve with each triangle per iteration instead of two solves and a product.
# x is kept in the original variables (x += alpha t), and the residual r = Lh rh that the
# stopping test needs is formed row by row in the second solve from the rows of rh already
# updated; p'Ap = t'(2U + D)t (A symmetric) is known after the first solve, so the updates of
# x and rh, ||r|| and the new r'z all ride along the second solve: per iteration one pass
# over each triangle (two gathers in the second) instead of two solves and a product.
# The kernel works with the triangles of D^{-1} A (Lt = D^{-1} L, Ut = D^{-1} U) in their own
# CSR arrays (split_triangles) and with qh = D^{-1} ph: then t_i = w qh_i - sum (w ut_ij) t_j
# (the product w ut_ij does not depend on the recurrence), so the chain from one row to the
# next is a load and a multiply-subtract, with no division or multiplication by w / d_i,
# and a pass streams only its triangle and the diagonal (in CSR the rows interleave both
# triangles, and a pass over one pulled the cache lines of the other too). Out of cache the
# split saves 12-34% of the iteration's time on 5- and 7-point Poisson matrices, in cache
# the scaling 9-19%.

cpdef isize pad_lengths(const itype[::1] lens, isize chunk, double pad_max,
                        itype[::1] out) noexcept nogil:
    """Row lengths padded in chunks: each run of ``chunk`` consecutive rows gets the length
    of its longest row where that at most multiplies the chunk's entries by ``pad_max``,
    else keeps its own (``PreparedMatrix.triangles``). Returns the padded total."""
    cdef isize n = lens.shape[0], c0 = 0, c1, i, w, tot, total = 0
    while c0 < n:
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
        c0 = c1
    return total


cpdef void split_triangles(const itype[::1] indptr, const itype[::1] indices,
                           const double[::1] data, const itype[::1] diag_pos,
                           const itype[::1] lptr, itype[::1] lidx, double[::1] lval,
                           const itype[::1] uptr, itype[::1] uidx,
                           double[::1] uval) noexcept nogil:
    """The strictly lower (``lidx, lval``) and strictly upper (``uidx, uval``) triangles of
    ``D^{-1} A`` (row i divided by a_ii) in their own CSR arrays; ``lptr``/``uptr`` are given.

    A row may be given more room than its entries (``PreparedMatrix.triangles``: rows padded
    to a common length in chunks): the rest is filled with column ``n`` and value 0, before
    the entries in a lower row and after them in an upper row, so that the column nearest
    the diagonal stays last in the loops of the triangular solves. Columns stay sorted."""
    cdef isize n = diag_pos.shape[0], i, p, q
    cdef double di
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


cdef inline double _eis_first(const itype[::1] tp, const itype[::1] tix, const double[::1] tv,
                              const double[::1] dg, const double[::1] rh, double[::1] qh,
                              double[::1] t, double omega, double beta,
                              int order) noexcept nogil:
    """qh = cz rh + beta qh (qh = D^{-1} ph), t = Uh^{-1} ph ("fb", ``tp, tix, tv`` = w Ut;
    "bf": Lh with w Lt); returns p'Ap = 2 t'ph + (1 - 2/w) t'Dt (p = t; A = Lh + Uh + K and
    Uh t = ph), summed per row from t_i and qh_i alone.

    The solve accumulates ``w qh_i - sum (w ut_ij) t_j``, the nearest column last, with the
    products ``w ut_ij`` stored (``PreparedMatrix.scaled_triangles``), and nothing else per
    entry. (Summing ``Ut t`` in a second accumulator for p'Ap =
    t'(2U + D)t cost 2-9 % more per iteration. That sum is more accurate for smooth p: on a
    490,000-row Poisson matrix at t'At / t'Dt = 1e-5, a relative error of 1e-14 against
    1e-11 here, which is of the order eps t'Dt / t'At of the plain form's product p'(Ap).)
    Padding entries (column n, value 0) read t[n] = 0: t has length n + 1 when the
    triangles are padded."""
    cdef isize n = dg.shape[0], i, p
    cdef double acc, qi, tat = 0.0
    cdef double cz = (2.0 - omega) / omega, kf = 1.0 - 2.0 / omega
    if order == 0:
        for i in range(n - 1, -1, -1):
            qi = cz * rh[i] + beta * qh[i]
            qh[i] = qi
            acc = omega * qi
            for p in range(tp[i + 1] - 1, tp[i] - 1, -1):    # nearest column (i + 1) last
                acc -= tv[p] * t[tix[p]]
            t[i] = acc
            tat += dg[i] * acc * (2.0 * qi + kf * acc)
    else:
        for i in range(n):
            qi = cz * rh[i] + beta * qh[i]
            qh[i] = qi
            acc = omega * qi
            for p in range(tp[i], tp[i + 1]):
                acc -= tv[p] * t[tix[p]]
            t[i] = acc
            tat += dg[i] * acc * (2.0 * qi + kf * acc)
    return tat


cdef inline void _eis_second(const itype[::1] tp, const itype[::1] tix, const double[::1] tv,
                             const double[::1] dg, double[::1] x, double[::1] rh,
                             const double[::1] qh, const double[::1] t, double[::1] u,
                             isize mask, double omega, double alpha, int order,
                             double* out) noexcept nogil:
    """u = Lh^{-1}(ph + K t) ("fb", ``tp, tix, tv`` = w Lt; "bf": Uh with w Ut) and, per
    row, x += alpha t, rh -= alpha (t + u) and r = Lh rh = D (w Lt rh + rh) / w (the residual
    in the original variables, from the rows of rh already updated); out[0] = ||r||^2,
    out[1] = rh' N^{-1} rh.

    u_i is only needed by the rows within the bandwidth after i: u[i & mask] (mask = -1: a
    full vector; mask = 2^m - 1 > bandwidth: a ring of 2^m values that stays in cache, one
    stream of writes less per iteration, the same arithmetic). Padding entries (column n,
    value 0) read rh[n] = 0 and u[n & mask] (0 for a full u of length n + 1, a finite ring
    value otherwise), times 0."""
    cdef isize n = dg.shape[0], i, p, j
    cdef double acc, sr, a, ti, di, rhi, ri, rr = 0.0, rz = 0.0
    cdef double cz = (2.0 - omega) / omega, kf = 1.0 - 2.0 / omega, iw = 1.0 / omega
    if order == 0:
        for i in range(n):
            ti = t[i]
            acc = omega * (qh[i] + kf * ti)
            sr = 0.0
            for p in range(tp[i], tp[i + 1]):
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
    else:
        for i in range(n - 1, -1, -1):
            ti = t[i]
            acc = omega * (qh[i] + kf * ti)
            sr = 0.0
            for p in range(tp[i + 1] - 1, tp[i] - 1, -1):    # nearest column (i + 1) last
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
    out[0] = rr
    out[1] = rz


cdef inline double _eis_restart(const itype[::1] tp, const itype[::1] tix,
                                const double[::1] tv, const double[::1] dg,
                                const double[::1] r, double[::1] rh, double[::1] qh,
                                double omega, int order) noexcept nogil:
    """rh = Lh^{-1} r ("fb", ``tp, tix, tv`` = w Lt; "bf": Uh with w Ut), qh = 0; returns
    rh' N^{-1} rh."""
    cdef isize n = dg.shape[0], i, ii, p
    cdef double v, di, rz = 0.0, cz = (2.0 - omega) / omega
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


cdef int _ssor_cg_eis_run(const itype[::1] indptr, const itype[::1] indices,
                          const double[::1] data, const itype[::1] lptr,
                          const itype[::1] lidx, const double[::1] lval,
                          const itype[::1] uptr, const itype[::1] uidx,
                          const double[::1] uval, const double[::1] dg,
                          const double[::1] b, double[::1] x, double[::1] r, double[::1] rh,
                          double[::1] qh, double[::1] t, double[::1] u, isize mask,
                          double omega, int order, int norm_code, double rtol, double atol,
                          isize maxiter, isize kstop, double pause, double[::1] hist,
                          isize h0, double* state) noexcept nogil:
    """Body of :func:`ssor_cg_eis_run` (``state``: a pointer to its 8 slots)."""
    cdef isize n = b.shape[0], i, k
    cdef bint keep = hist.shape[0] > 0
    cdef double rn, ref, thresh, rz, pap, alpha, beta, rt
    cdef double acc[2]
    # first pass: Uh ("fb") or Lh ("bf"); second pass and restart: the other triangle
    cdef const itype[::1] fp = uptr if order == 0 else lptr
    cdef const itype[::1] fi = uidx if order == 0 else lidx
    cdef const double[::1] fv = uval if order == 0 else lval
    cdef const itype[::1] sp_ = lptr if order == 0 else uptr
    cdef const itype[::1] si = lidx if order == 0 else uidx
    cdef const double[::1] sv = lval if order == 0 else uval
    if state[6] == 0.0:
        k = 0
        rn = residual(indptr, indices, data, b, x, r)
        ref = rn if norm_code == 0 else _norm2(b)
        state[3] = ref
        thresh = rtol * ref
        if atol > thresh:
            thresh = atol
        state[4] = thresh
        if keep:
            hist[0 - h0] = rn
        rz = _eis_restart(sp_, si, sv, dg, r, rh, qh, omega, order)
        beta = 0.0
        state[6] = 1.0
    else:
        k = <isize>state[0]
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
            # recurrence passed, true residual did not: continue from the true residual
            rn = rt
            rz = _eis_restart(sp_, si, sv, dg, r, rh, qh, omega, order)
            beta = 0.0
        if not isfinite(rn):
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
        _eis_second(sp_, si, sv, dg, x, rh, qh, t, u, mask, omega, alpha, order, acc)
        rn = sqrt(acc[0])
        k += 1
        if keep:
            hist[k - h0] = rn
        beta = acc[1] / rz
        rz = acc[1]


cpdef int ssor_cg_eis_run(const itype[::1] indptr, const itype[::1] indices,
                          const double[::1] data, const itype[::1] lptr,
                          const itype[::1] lidx, const double[::1] lval,
                          const itype[::1] uptr, const itype[::1] uidx,
                          const double[::1] uval, const double[::1] dg,
                          const double[::1] b, double[::1] x, double[::1] r, double[::1] rh,
                          double[::1] qh, double[::1] t, double[::1] u, isize mask,
                          double omega, int order, int norm_code, double rtol, double atol,
                          isize maxiter, isize kstop, double pause, double[::1] hist,
                          isize h0, double[::1] state) noexcept nogil:
    """Resumable SSOR-PCG in Eisenstat's form (Eisenstat, SIAM J. Sci. Stat. Comput. 2, 1981):
    the iterates of :func:`ssor_cg_run` up to rounding at about half the sparse work per
    iteration (one solve with each triangle; A must be symmetric).

    ``indptr, indices, data``: A in CSR (the true residuals); ``lptr, lidx, lval`` and
    ``uptr, uidx, uval``: the strictly lower and strictly upper triangles of w D^{-1} A in
    their own CSR arrays (:func:`split_triangles`, values times omega: a triangular solve
    then streams only its own triangle, not whole rows, and without forming omega times each
    entry in every iteration; the front end passes
    ``PreparedMatrix.scaled_triangles(omega)``), ``dg``: the diagonal of A. Same statuses
    and ``state`` slots as :func:`ssor_cg_run`, plus [7] the pending beta. x (the iterate),
    rh (the transformed recurrence residual, (D/w + L)^{-1} r for "fb", (D/w + U)^{-1} r for
    "bf") and qh (D^{-1} times the transformed direction) carry the solve between calls; r
    receives the true residuals (b - A x, when one is computed), t (the last direction p)
    and u are scratch; ``mask``: -1 with u of length n + 1, or 2^m - 1 with u of length 2^m
    > the bandwidth of A (a ring buffer, the same iterates bit for bit). Triangles may hold
    padding entries (column n, value 0: ``split_triangles``); rh and t then have length n +
    1 and, like a full u, a zero at index n (a ring u: the padding reads a finite value of
    it, times 0). The recurrence residual ||r_k|| is ||(D/w + L) rh_k||.
    """
    return _ssor_cg_eis_run(indptr, indices, data, lptr, lidx, lval, uptr, uidx, uval, dg, b,
                            x, r, rh, qh, t, u, mask, omega, order, norm_code, rtol, atol,
                            maxiter, kstop, pause, hist, h0, &state[0])


# ------------------------------------------------------------------ omega="auto" (Lanczos)
cdef inline double _unit_hash(unsigned long long seed, isize i) noexcept nogil:
    """The i-th output of SplitMix64 from ``seed`` (Steele, Lea and Flood, OOPSLA 2014) as a
    double in [0, 1): counter-based, so any element costs the same few integer operations."""
    cdef unsigned long long z = seed + <unsigned long long>(i + 1) * 0x9E3779B97F4A7C15ULL
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
    z = z ^ (z >> 31)
    return <double><long long>(z >> 11) * (1.0 / 9007199254740992.0)   # < 2^53: exact


cpdef void lanczos_start(const double[::1] diag, const double[::1] inv_diag,
                         unsigned long long seed, bint smooth, double spread,
                         double[::1] q) noexcept nogil:
    """The start vector of ``numfit.linalg._omega.estimate_omega`` in the D-inner product:
    ``q = D^{-1/2} v`` with ``v`` the unit start vector of ``S = D^{-1/2} A D^{-1/2}``, so
    ``q'Dq = 1``.

    With ``u_i`` the i-th SplitMix64 output from ``seed`` in [0, 1): smooth, ``v = D^{1/2}
    e`` normalised with ``e_i = (1 - spread/2) + spread u_i`` (uniform on ``1 +- spread/2``;
    ``spread = 1``: ``1/2 + u_i``), i.e. ``q_i = e_i / sqrt(sum_j d_j e_j^2)`` (no square root
    per entry); otherwise ``v_i = 2 u_i - 1`` (uniform on [-1, 1)) normalised, ``q_i = v_i
    sqrt(inv_diag[i]) / ||v||`` (``spread`` unused; the sums in one running sum).
    """
    cdef isize n = q.shape[0], i, j
    cdef double t, ss = 0.0, inv, c0 = 1.0 - 0.5 * spread
    cdef double s4[4]
    if smooth:
        # four partial sums (row i into s4[i % 4]): one running sum waits on each addition
        s4[0] = s4[1] = s4[2] = s4[3] = 0.0
        for i in range(0, n - n % 4, 4):
            for j in range(4):
                t = c0 + spread * _unit_hash(seed, i + j)
                q[i + j] = t
                s4[j] += diag[i + j] * (t * t)
        for i in range(n - n % 4, n):
            t = c0 + spread * _unit_hash(seed, i)
            q[i] = t
            s4[0] += diag[i] * (t * t)
        ss = (s4[0] + s4[1]) + (s4[2] + s4[3])
    else:
        for i in range(n):
            t = 2.0 * _unit_hash(seed, i) - 1.0
            q[i] = t * sqrt(inv_diag[i])
            ss += t * t
    inv = 1.0 / sqrt(ss)
    for i in range(n):
        q[i] = q[i] * inv


cdef inline void _step0_row(const itype[::1] indptr, const itype[::1] indices,
                            const double[::1] data, const double[::1] q,
                            const double[::1] inv_diag, const itype[::1] diag_pos,
                            double[::1] w, isize i, bint absum, double* a, double* u,
                            double* ml, double* mu) noexcept nogil:
    """Row ``i`` of step 0 of SSOR-CG's estimate (:func:`lanczos_steps`): ``w[i] = (A q)_i /
    a_ii`` summed in column order, ``a += q_i (A q)_i``, ``u += inv_diag[i] (U q)_i^2`` with
    the strictly upper part summed apart; with ``absum``, ``ml`` and ``mu`` raised to the row's
    sums of ``|a_ij|`` over its strictly lower and upper parts over ``a_ii`` (Schur's test)."""
    cdef isize p, dp = diag_pos[i]
    cdef double s = 0.0, t, su = 0.0, l1 = 0.0, u1 = 0.0
    if absum:
        for p in range(indptr[i], dp):
            t = data[p]
            s += t * q[indices[p]]
            l1 += fabs(t)
        s += data[dp] * q[indices[dp]]
    else:
        for p in range(indptr[i], dp + 1):
            s += data[p] * q[indices[p]]
    for p in range(dp + 1, indptr[i + 1]):
        t = data[p] * q[indices[p]]
        s += t
        su += t
        if absum:
            u1 += fabs(data[p])
    w[i] = s * inv_diag[i]
    a[0] += q[i] * s
    u[0] += inv_diag[i] * (su * su)
    if absum:
        l1 = l1 * inv_diag[i]
        ml[0] = l1 if l1 > ml[0] else ml[0]
        u1 = u1 * inv_diag[i]
        mu[0] = u1 if u1 > mu[0] else mu[0]


cpdef isize lanczos_steps(const itype[::1] indptr, const itype[::1] indices,
                          const double[::1] data, const double[::1] diag,
                          const double[::1] inv_diag, double[::1] q, double[::1] q_old,
                          double[::1] w, double[::1] alphas, double[::1] betas, isize k0,
                          isize k1, float[:, ::1] keep, const itype[::1] diag_pos,
                          double[::1] upper) noexcept nogil:
    """Lanczos steps k0, ..., k1 - 1 (no reorthogonalisation) on ``D^{-1} A`` in the
    D-inner product for ``numfit.linalg._omega.estimate_omega``; a block between two of its
    convergence checks. They are the Lanczos steps on ``S = D^{-1/2} A D^{-1/2}`` with the
    vectors ``v = D^{1/2} q`` (the same alphas and betas up to rounding), without square
    roots of the diagonal and without a scaled copy of ``v`` for the product.

    Step k: (k > 0) ``q_old, q = q, w * (1 / betas[k-1])``, (k = 0) ``q_old = 0`` with ``q``
    the start vector (``q'Dq = 1``); ``keep[k] = float32(q)`` when ``keep`` has rows; ``w =
    D^{-1} A q``, ``alphas[k] = q'Aq``, ``w -= alphas[k] q + betas[k-1] q_old``, ``betas[k] =
    sqrt(w'Dw)``. q, q_old and w carry the recurrence between calls. Returns the step count
    after the block: k1, or k + 1 after a step with ``betas[k] <= 1e-14 max(|alphas[k]|, 1)``
    (an invariant subspace).

    When ``upper`` has an entry and the block starts at step 0, step 0's product also sums
    the strictly upper part of each row (the entries after ``diag_pos[i]``) apart and stores
    ``upper[0] = sum_i inv_diag[i] (U q)_i^2`` (what :func:`upper_norm2` returns for the start
    vector, bit for bit: Young's beta at ``v`` plus 1/4), with the same ``w`` and alphas; if
    that beta is positive, the block returns after step 0 (returns 1) for the caller to test
    whether omega depends on ``lambda_min`` at all. With a second entry (on entry: a limit
    ``>= 0``) it also stores ``upper[1] = (max_i sum_{j<i} |a_ij| / a_ii) (max_i sum_{j>i}
    |a_ij| / a_ii)``, Schur's test with the weights ``D^{1/2}``: a bound on ``||D^{-1/2} U
    D^{-1/2}||^2``, so Young's beta is at most ``upper[1] - 1/4`` at every vector (1/4 for
    Poisson matrices). The absolute sums stop at the first pair of rows after which the
    maxima so far exceed the limit: ``upper[1]`` is then that partial product, above the
    limit (a limit < 0 or NaN: no sums, ``upper[1] = inf``). Where the bound is within the
    limit, the block writes no more rows of ``keep`` (the caller forms no Ritz vector).
    """
    cdef isize n = q.shape[0], i, p, k
    cdef double s, t, a, a0, a1, bb, bp, inv, b0, b1, b2, b3, u0, u1, ml, mu, lim
    cdef bint keeping = keep.shape[0] > 0
    for k in range(k0, k1):
        if k > 0:
            bp = betas[k - 1]
            inv = 1.0 / bp
            if keeping:
                for i in range(n):
                    t = w[i] * inv
                    q_old[i] = q[i]
                    q[i] = t
                    keep[k, i] = <float>t
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
                    keep[0, i] = <float>q[i]
            else:
                for i in range(n):
                    q_old[i] = 0.0
        # w = D^{-1} A q and q'Aq (two partial sums: even and odd rows)
        a0 = a1 = 0.0
        if k == 0 and upper.shape[0] > 0:
            # step 0 of SSOR-CG's estimate: the upper part of each row summed apart as well
            # (rows in pairs, as below, and as in upper_norm2: its sums bit for bit), and,
            # while Schur's bound can stay below upper[1], the largest scaled absolute sums of
            # each triangle's rows
            u0 = u1 = ml = mu = 0.0
            lim = upper[1] if upper.shape[0] > 1 else -1.0
            i = 0
            if lim >= 0.0:
                while i + 1 < n:
                    _step0_row(indptr, indices, data, q, inv_diag, diag_pos, w, i, True,
                               &a0, &u0, &ml, &mu)
                    _step0_row(indptr, indices, data, q, inv_diag, diag_pos, w, i + 1, True,
                               &a1, &u1, &ml, &mu)
                    i += 2
                    if ml * mu > lim:
                        break
                if i < n and ml * mu <= lim:          # n odd: the last row
                    _step0_row(indptr, indices, data, q, inv_diag, diag_pos, w, i, True,
                               &a0, &u0, &ml, &mu)
                    i += 1
            while i + 1 < n:
                _step0_row(indptr, indices, data, q, inv_diag, diag_pos, w, i, False,
                           &a0, &u0, &ml, &mu)
                _step0_row(indptr, indices, data, q, inv_diag, diag_pos, w, i + 1, False,
                           &a1, &u1, &ml, &mu)
                i += 2
            if i < n:
                _step0_row(indptr, indices, data, q, inv_diag, diag_pos, w, i, False,
                           &a0, &u0, &ml, &mu)
            upper[0] = u0 + u1
            if upper.shape[0] > 1:
                upper[1] = ml * mu if lim >= 0.0 else INFINITY
                if lim >= 0.0 and ml * mu <= lim:
                    keeping = False     # beta <= 0 at every vector: no Ritz vector needed
        else:
            for i in range(0, n - n % 2, 2):
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
            for i in range(n - n % 2, n):
                s = 0.0
                for p in range(indptr[i], indptr[i + 1]):
                    s += data[p] * q[indices[p]]
                w[i] = s * inv_diag[i]
                a0 += q[i] * s
        a = a0 + a1
        # w'Dw in four partial sums (one running sum waits on each addition)
        b0 = b1 = b2 = b3 = 0.0
        for i in range(0, n - n % 4, 4):
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
        for i in range(n - n % 4, n):
            t = (w[i] - a * q[i]) - bp * q_old[i]
            w[i] = t
            b0 += diag[i] * (t * t)
        bb = (b0 + b1) + (b2 + b3)
        alphas[k] = a
        betas[k] = sqrt(bb)
        if betas[k] <= 1e-14 * (fabs(a) if fabs(a) > 1.0 else 1.0):
            return k + 1
        if k == 0 and upper.shape[0] > 0 and upper[0] > 0.25:
            return 1
    return k1


cpdef double upper_norm2(const itype[::1] indptr, const itype[::1] indices,
                         const double[::1] data, const itype[::1] diag_pos,
                         const double[::1] inv_diag, const double[::1] xs) noexcept nogil:
    """``sum_i inv_diag[i] (U xs)_i^2`` with ``U`` the strictly upper triangle of A (the
    entries of row i after ``diag_pos[i]``): ``||D^{-1/2} U D^{-1/2} x||^2`` for ``xs =
    D^{-1/2} x`` (Young's beta at a Ritz vector, ``estimate_omega``); two partial sums, even
    and odd rows, as in step 0 of :func:`lanczos_steps`."""
    cdef isize n = xs.shape[0], i, p
    cdef double s, r0 = 0.0, r1 = 0.0
    # two partial sums, even and odd rows (one running sum waits on each addition)
    for i in range(0, n - n % 2, 2):
        s = 0.0
        for p in range(diag_pos[i] + 1, indptr[i + 1]):
            s += data[p] * xs[indices[p]]
        r0 += inv_diag[i] * (s * s)
        s = 0.0
        for p in range(diag_pos[i + 1] + 1, indptr[i + 2]):
            s += data[p] * xs[indices[p]]
        r1 += inv_diag[i + 1] * (s * s)
    for i in range(n - n % 2, n):
        s = 0.0
        for p in range(diag_pos[i] + 1, indptr[i + 1]):
            s += data[p] * xs[indices[p]]
        r0 += inv_diag[i] * (s * s)
    return r0 + r1


cdef inline isize _sturm_below(const double[::1] alphas, const double[::1] betas, isize k,
                               double x, double pivmin) noexcept nogil:
    """How many eigenvalues of the tridiagonal (alphas[:k], betas[:k-1]) lie below ``x``:
    the negative pivots of ``T - x I = L D L'`` (Sturm count; a pivot smaller than
    ``pivmin`` in magnitude becomes ``-pivmin``, as in LAPACK's dstebz)."""
    cdef isize i, cnt = 0
    cdef double q = alphas[0] - x
    if fabs(q) < pivmin:
        q = -pivmin
    if q < 0.0:
        cnt += 1
    for i in range(1, k):
        q = (alphas[i] - x) - betas[i - 1] * betas[i - 1] / q
        if fabs(q) < pivmin:
            q = -pivmin
        if q < 0.0:
            cnt += 1
    return cnt


cpdef double tridiag_smallest(const double[::1] alphas, const double[::1] betas, isize k,
                              double[::1] s, double[::1] work) noexcept nogil:
    """The smallest eigenvalue of the symmetric tridiagonal ``T`` with diagonal
    ``alphas[:k]`` and off-diagonal ``betas[:k-1]`` (``k >= 1``; the Lanczos matrix of
    ``numfit.linalg._omega.estimate_omega``), and its unit eigenvector in ``s[:k]``, signed
    so that ``s[0] >= 0``.

    The eigenvalue: bisection on Sturm counts between Gershgorin's lower bound and
    ``min(alphas)``, until the bracket is below ``4 eps max(|lo|, |hi|)`` or ``eps ||T||_1``
    (a dense symmetric eigensolver's accuracy). The vector: three steps of inverse iteration
    from ``(1, ..., 1)`` at that value, one LU factorisation of ``(T - lambda I) / ||T||_1``
    with partial pivoting (LAPACK's dgttrf; pivots below ``eps`` in magnitude raised to
    ``+-eps``, so no solve overflows) and three solves (dgtts2). ``work``: scratch of length
    ``>= 5 k``. About 60 bisection steps of O(k): about 1 us at k = 4, where
    ``np.linalg.eigh`` took 45-105 us right after a solve.
    """
    cdef isize i, it
    cdef double eps = 2.220446049250313e-16, tnorm = 0.0, r, lo, hi, mid, bmax = 0.0
    cdef double pivmin, fact, tmp, nrm, sc
    cdef double *d = &work[0]           # the factors: U's diagonal,
    cdef double *du = &work[k]          # first and
    cdef double *du2 = &work[2 * k]     # second superdiagonals,
    cdef double *dl = &work[3 * k]      # L's multipliers,
    cdef double *sw = &work[4 * k]      # 1.0 where rows i and i + 1 were interchanged
    if k == 1:
        s[0] = 1.0
        return alphas[0]
    lo = alphas[0]
    hi = alphas[0]
    for i in range(k):
        r = 0.0
        if i > 0:
            r += fabs(betas[i - 1])
        if i < k - 1:
            r += fabs(betas[i])
            if fabs(betas[i]) > bmax:
                bmax = fabs(betas[i])
        if alphas[i] - r < lo:
            lo = alphas[i] - r
        if alphas[i] < hi:
            hi = alphas[i]          # a diagonal entry is a Rayleigh quotient: >= lambda_min
        if fabs(alphas[i]) + r > tnorm:
            tnorm = fabs(alphas[i]) + r
    pivmin = 2.2250738585072014e-308 * (bmax * bmax if bmax > 1.0 else 1.0)
    for it in range(200):
        if hi - lo <= 4.0 * eps * (fabs(lo) if fabs(lo) > fabs(hi) else fabs(hi)) \
                or hi - lo <= eps * tnorm:
            break
        mid = 0.5 * (lo + hi)
        if _sturm_below(alphas, betas, k, mid, pivmin) >= 1:
            hi = mid
        else:
            lo = mid
    mid = 0.5 * (lo + hi)
    # (T - mid I) / ||T||_1 = P L U (dgttrf), pivots below eps raised to +-eps
    sc = 1.0 / tnorm if tnorm > 0.0 else 1.0
    for i in range(k):
        d[i] = (alphas[i] - mid) * sc
        s[i] = 1.0
    for i in range(k - 1):
        du[i] = betas[i] * sc
        dl[i] = betas[i] * sc
        du2[i] = 0.0
        sw[i] = 0.0
    for i in range(k - 1):
        if fabs(d[i]) >= fabs(dl[i]):
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
        if fabs(d[i]) < eps:
            d[i] = -eps if d[i] < 0.0 else eps
    for it in range(3):
        # solve L y = P s, then U s = y (dgtts2), and normalise
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
        nrm = (-1.0 if s[0] < 0.0 else 1.0) / sqrt(nrm)
        for i in range(k):
            s[i] = s[i] * nrm
    return mid


cpdef double ritz_scaled(const float[:, ::1] keep, const double[::1] s, isize k,
                         const double[::1] diag, double[::1] xs) noexcept nogil:
    """The Ritz vector in scaled form, ``xs = sum_j s[j] keep[j]`` (j < k, in that order;
    the float32 vectors ``q`` of :func:`lanczos_steps`, float64 sums): ``xs = D^{-1/2} x``
    for the Ritz vector ``x`` of ``S``; returns ``x'x = xs' D xs`` (four partial sums: one
    running sum waits on each addition). For ``estimate_omega``'s Young's beta at ``x``."""
    cdef isize n = xs.shape[0], i, j
    cdef double t, c, x0 = 0.0, x1 = 0.0, x2 = 0.0, x3 = 0.0
    c = s[0]
    for i in range(n):
        xs[i] = c * keep[0, i]
    for j in range(1, k):
        c = s[j]
        for i in range(n):
            xs[i] = xs[i] + c * keep[j, i]
    for i in range(0, n - n % 4, 4):
        t = xs[i]
        x0 += diag[i] * (t * t)
        t = xs[i + 1]
        x1 += diag[i + 1] * (t * t)
        t = xs[i + 2]
        x2 += diag[i + 2] * (t * t)
        t = xs[i + 3]
        x3 += diag[i + 3] * (t * t)
    for i in range(n - n % 4, n):
        t = xs[i]
        x0 += diag[i] * (t * t)
    return (x0 + x1) + (x2 + x3)
