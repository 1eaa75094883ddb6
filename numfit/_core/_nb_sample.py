"""Numba kernels: exact samplers for weighted least squares (Nouy and Michel, *Weighted
least-squares approximation with determinantal point processes and generalized volume
sampling*, arXiv:2312.14057; numfit's WLS guide, docs/wls.md).

All randomness comes from a ``numpy.random.Generator`` passed in by the front end; Numba
reproduces NumPy's streams bit for bit, so the same seed gives the same points.

Families: 0 Legendre (dt/2 on [-1, 1]), 1 Chebyshev (arcsine), 2 Hermite (N(0, 1)).
``beta`` holds the recurrence coefficients (``beta[0] = 0``), at least pmax + 2 of them.

``counts`` (int64, length 4) accumulates: [0] 1-D proposals, [1] 1-D accepted draws,
[2] candidates from rho_m tested by the DPP chain rule, [3] DPP candidates accepted.
Status codes: 0 ok, 1 a rejection loop exceeded ``max_prop``, 2 a non-finite basis value.
"""
import math

import numpy as np
from numba import njit

from ._nb_basis import _point_features

__all__ = ["draw_1d", "draw_rho", "dpp_chain", "dpp_chain_steps", "jacobi_tridiag",
           "hermite_tridiag", "hermite_cdf"]

LEGENDRE, CHEBYSHEV, HERMITE = 0, 1, 2
_SQRT2PI = math.sqrt(2.0 * math.pi)


@njit(cache=True, nogil=True)
def _phi(beta, j, t):
    prev = 0.0
    cur = 1.0
    for i in range(j):
        nxt = (t * cur - beta[i] * prev) / beta[i + 1]
        prev = cur
        cur = nxt
    return cur


@njit(cache=True, nogil=True)
def hermite_cdf(beta, j, t):
    """F_j(t) = int_{-inf}^t phi_j^2 dN(0,1) and its derivative phi_j(t)^2 gamma(t).

    Uses F_k = F_{k-1} - gamma phi_k phi_{k-1} / sqrt(k) (from d/dt[gamma phi_k phi_{k-1}] =
    sqrt(k) gamma (phi_{k-1}^2 - phi_k^2)) with the Hermite functions psi_k = sqrt(gamma) phi_k,
    which neither overflow nor cancel; the expansion in c_{j,k} loses 1e-5 at j = 30.
    """
    psi_prev = 0.0
    psi = math.exp(-0.25 * t * t) / math.sqrt(_SQRT2PI)      # sqrt(gamma(t)) phi_0
    s = 0.0
    for k in range(1, j + 1):
        nxt = (t * psi - beta[k - 1] * psi_prev) / beta[k]
        psi_prev = psi
        psi = nxt
        s += psi * psi_prev / math.sqrt(k)
    return 0.5 * math.erfc(-t / math.sqrt(2.0)) - s, psi * psi


@njit(cache=True, nogil=True)
def _hermite_inverse(beta, j, u):
    """Solve F_j(t) = u by Newton safeguarded by bisection on [-R, R] to 1e-12."""
    r = math.sqrt(4.0 * j + 2.0) + 10.0
    lo = -r
    hi = r
    t = 0.0
    for _ in range(300):
        f, df = hermite_cdf(beta, j, t)
        f -= u
        if f > 0.0:
            hi = t
        else:
            lo = t
        step = f / df if df > 0.0 else 0.0
        tn = t - step
        if df <= 0.0 or not (lo < tn < hi) or not math.isfinite(tn):
            tn = 0.5 * (lo + hi)
        if abs(tn - t) <= 1e-12 * max(1.0, abs(t)) or hi - lo <= 1e-12:
            return tn
        t = tn
    return t


@njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def _dot(a, b, n):
    """sum a[j] b[j], j < n, vectorised (reassociation only: NaN/inf semantics kept)."""
    s = 0.0
    for j in range(n):
        s += a[j] * b[j]
    return s


@njit(cache=True, nogil=True)
def draw_1d(rng, fam, beta, j, max_prop, counts):
    """One draw from phi_j^2 dmu_1. Returns (t, status)."""
    if fam == LEGENDRE:
        if j == 0:
            counts[0] += 1
            counts[1] += 1
            return 2.0 * rng.random() - 1.0, 0
        for _ in range(max_prop):
            counts[0] += 1
            u = rng.random()
            v = rng.random()
            t = math.cos(math.pi * u)
            p = _phi(beta, j, t)
            if not math.isfinite(p):
                return math.nan, 2
            if v <= 0.25 * math.pi * math.sqrt(max(0.0, 1.0 - t * t)) * p * p:
                counts[1] += 1
                return t, 0
        return math.nan, 1
    if fam == CHEBYSHEV:
        if j == 0:
            counts[0] += 1
            counts[1] += 1
            return math.cos(math.pi * rng.random()), 0
        for _ in range(max_prop):
            counts[0] += 1
            theta = math.pi * rng.random()
            v = rng.random()
            c = math.cos(j * theta)
            if v <= c * c:
                counts[1] += 1
                return math.cos(theta), 0
        return math.nan, 1
    # Hermite
    counts[0] += 1
    counts[1] += 1
    if j == 0:
        return rng.standard_normal(), 0
    t = _hermite_inverse(beta, j, rng.random())
    if not math.isfinite(t):
        return math.nan, 2
    return t, 0


@njit(cache=True, nogil=True)
def _draw_point(rng, fam, beta, indices, max_prop, counts, out):
    """One point from rho_m = (1/m) sum_nu phi_nu^2: nu uniform, then each coordinate."""
    nu = rng.integers(0, indices.shape[0])
    for k in range(indices.shape[1]):
        t, st = draw_1d(rng, fam, beta, indices[nu, k], max_prop, counts)
        if st != 0:
            return st
        out[k] = t
    return 0


@njit(cache=True, nogil=True)
def draw_rho(rng, fam, beta, indices, max_prop, out, counts):
    """``out.shape[0]`` i.i.d. points from rho_m into out (n, d). Returns a status."""
    for i in range(out.shape[0]):
        st = _draw_point(rng, fam, beta, indices, max_prop, counts, out[i])
        if st != 0:
            return st
    return 0


@njit(cache=True, nogil=True)
def dpp_chain(rng, fam, beta, pmax, indices, max_prop, out, qt, counts, info):
    """Projection DPP of span{phi_nu} by the chain rule with rejection from rho_m.

    Candidate x ~ rho_m is accepted with probability ||(I - P_k) phi(x)||^2 / ||phi(x)||^2
    (the constants m and m - k of the chain rule cancel). A rejection costs one pass over the
    rows of ``qt`` (||r||^2 = ||v||^2 - ||Q^T v||^2); an accepted candidate is orthogonalised by
    classical Gram-Schmidt twice and appended to ``qt``. Fills out (m, d).
    ``info`` (float64, length 2) receives [step k of a failure, largest ratio seen at it].
    """
    cont = np.zeros(3)
    return dpp_chain_steps(rng, fam, beta, pmax, indices, max_prop, out, qt, counts, info,
                           cont, -1.0, 0.0)


@njit(cache=True, nogil=True)
def dpp_chain_steps(rng, fam, beta, pmax, indices, max_prop, out, qt, counts, info, cont,
                    budget, base):
    """:func:`dpp_chain` in pieces of about ``budget`` work (``budget < 0``: no limit), so
    that the front end can run a large DPP in short calls (Ctrl-C). A candidate tested at
    step k counts ``base + k m`` (drawing it, then k dot products of length m); the call
    pauses before the candidate that would start beyond the budget (at least one is tested).

    ``cont`` (float64, length 3, zeros at the start) carries the chain between calls: [0] the
    step k being drawn (rows < k of out and qt are done), [1] candidates already tested at
    step k, [2] the largest acceptance ratio seen at step k. Returns 0 when all m points are
    drawn, -1 when paused (call again with the same arrays and rng), or the status of
    :func:`dpp_chain`. Consecutive calls consume the rng exactly as one call.
    """
    m = indices.shape[0]
    d = indices.shape[1]
    tab = np.empty((d, pmax.max() + 1))
    v = np.empty(m)
    r = np.empty(m)
    x = np.empty(d)
    k = int(cont[0])
    used = int(cont[1])
    best = cont[2]
    spent = 0.0
    while k < m:
        accepted = False
        while used < max_prop:
            if budget >= 0.0 and spent > 0.0 and spent >= budget:
                cont[0] = k
                cont[1] = used
                cont[2] = best
                return -1
            used += 1
            spent += base + k * m
            st = _draw_point(rng, fam, beta, indices, max_prop, counts, x)
            if st != 0:
                info[0] = k
                return st
            u = rng.random()
            counts[2] += 1
            _point_features(x, beta, pmax, indices, tab, v)
            vv = 0.0
            for j in range(m):
                vv += v[j] * v[j]
            if not math.isfinite(vv):
                info[0] = k
                return 2
            # ||(I - P_k) v||^2 = ||v||^2 - ||Q_k^T v||^2: one pass over Q for a rejection
            cc = 0.0
            for i in range(k):
                c = _dot(qt[i], v, m)
                cc += c * c
            ratio = (vv - cc) / vv if vv > 0.0 else 0.0
            ratio = min(max(ratio, 0.0), 1.0)
            best = max(best, ratio)
            if u < ratio:
                # accepted: the new direction by classical Gram-Schmidt twice
                for j in range(m):
                    r[j] = v[j]
                for _rep in range(2):
                    for i in range(k):
                        c = 0.0
                        for j in range(m):
                            c += qt[i, j] * r[j]
                        for j in range(m):
                            r[j] -= c * qt[i, j]
                rr = 0.0
                for j in range(m):
                    rr += r[j] * r[j]
                nr = math.sqrt(rr)
                for j in range(m):
                    qt[k, j] = r[j] / nr
                for j in range(d):
                    out[k, j] = x[j]
                counts[3] += 1
                accepted = True
                break
        if not accepted:
            info[0] = k
            info[1] = best
            return 1
        k += 1
        used = 0
        best = 0.0
    cont[0] = k
    cont[1] = 0
    cont[2] = 0.0
    return 0


@njit(cache=True, nogil=True)
def jacobi_tridiag(rng, m, a, b, diag, off):
    """Killip-Nenciu model of the beta = 2 Jacobi ensemble on [-2, 2], weight (2-x)^a (2+x)^b.

    Verblunsky coefficients alpha_k = 1 - 2 Y_k, Y_k ~ Beta(s_k, t_k), k = 0 .. 2m - 2, with
    s_k = (2m-k-2)/2 + a + 1, t_k = (2m-k-2)/2 + b + 1 (k even) and s_k = (2m-k-3)/2 + a + b + 2,
    t_k = (2m-k-1)/2 (k odd); alpha_{-2} = alpha_{-1} = alpha_{2m-1} = -1. Fills the Jacobi
    matrix diagonal (m) and off-diagonal (m - 1); its eigenvalues / 2 are the points.
    """
    al = np.empty(2 * m + 2)          # al[i + 2] = alpha_i, i = -2 .. 2m - 1
    al[0] = -1.0
    al[1] = -1.0
    for k in range(2 * m - 1):
        if k % 2 == 0:
            s = (2 * m - k - 2) / 2.0 + a + 1.0
            t = (2 * m - k - 2) / 2.0 + b + 1.0
        else:
            s = (2 * m - k - 3) / 2.0 + a + b + 2.0
            t = (2 * m - k - 1) / 2.0
        al[k + 2] = 1.0 - 2.0 * rng.beta(s, t)
    al[2 * m + 1] = -1.0
    for k in range(m):
        a_m1 = al[2 * k + 1]          # alpha_{2k-1}
        diag[k] = (1.0 - a_m1) * al[2 * k + 2] - (1.0 + a_m1) * al[2 * k]
        if k < m - 1:
            off[k] = math.sqrt(max(0.0, (1.0 - a_m1) * (1.0 - al[2 * k + 2] ** 2)
                                   * (1.0 + al[2 * k + 3])))


@njit(cache=True, nogil=True)
def hermite_tridiag(rng, m, diag, off):
    """Dumitriu-Edelman beta = 2 Hermite model: diagonal N(0, 1), off-diagonal
    chi_{2(m-k)} / sqrt(2) (drawn as sqrt(Gamma(m - k, 1)))."""
    for k in range(m):
        diag[k] = rng.standard_normal()
    for k in range(1, m):
        off[k - 1] = math.sqrt(rng.standard_gamma(float(m - k)))
