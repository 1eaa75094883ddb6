"""Pure-NumPy reference for the Lanczos loop of ``estimate_omega`` (clear, not fast).

The loop as it ran in Python before the compiled ``lanczos_start`` / ``lanczos_steps`` /
``tridiag_smallest`` / ``ritz_scaled`` / ``upper_norm2`` (``numfit/_core/_sor.pyx`` and their
Numba twins): one NumPy/SciPy operation at a time, the product with ``A`` by SciPy (``A @``),
the tridiagonal's smallest eigenpair by LAPACK (``np.linalg.eigh``), the upper triangle by
``scipy.sparse.triu``, the SplitMix64 draw in NumPy's wrapping uint64 arithmetic. The
formulas and constants are those of ``numfit.linalg._omega``; the loop, the start vector,
the eigensolver and Young's beta term are written out here.
"""
import math

import numpy as np
import scipy.sparse as sp

from numfit.linalg import prepare
from numfit.linalg._omega import (CONVERGED, INSENSITIVE, MIN_STEPS, SCHUR_SLACK, SOR_SPREAD,
                                  SSOR_BIAS, SSOR_MAX_STEPS, SSOR_SPREAD, SSOR_STEPS, _SEED,
                                  _omega_from, _predicted_iterations)


def ref_unit_hash(seed, n):
    """The first ``n`` SplitMix64 outputs from ``seed`` (Steele, Lea and Flood, OOPSLA 2014)
    as doubles in [0, 1): ``z = seed + (i + 1) * 0x9E3779B97F4A7C15`` mixed, top 53 bits."""
    z = np.uint64(seed) + np.arange(1, n + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53


def ref_start(diag, inv_diag, seed, smooth, spread=1.0):
    """The unit start vector: ``D^{1/2} ((1 - spread/2) + spread u)`` (as ``diag *
    sqrt(inv_diag)``) or ``2 u - 1``, normalised; and ``sqrt(inv_diag)``."""
    ds = np.sqrt(inv_diag)
    u = ref_unit_hash(seed, len(diag))
    v = ((1.0 - 0.5 * spread) + spread * u) * (diag * ds) if smooth else 2.0 * u - 1.0
    return v / math.sqrt(float(v @ v)), ds


def ref_smallest(alphas, betas):
    """Smallest eigenvalue and unit eigenvector (``s[0] >= 0``) of the symmetric tridiagonal
    with diagonal ``alphas`` and off-diagonal ``betas[:len(alphas) - 1]``, by LAPACK."""
    k = len(alphas)
    T = np.diag(np.asarray(alphas, dtype=float))
    if k > 1:
        off = np.asarray(betas[:k - 1], dtype=float)
        T += np.diag(off, 1) + np.diag(off, -1)
    th, S = np.linalg.eigh(T)
    s = S[:, 0]
    return float(th[0]), (-s if s[0] < 0 else s)


def ref_lanczos(A, v, steps, keep=False):
    """``steps`` Lanczos steps on ``S = D^{-1/2} A D^{-1/2}`` from the unit vector ``v``:
    (alphas, betas, kept float32 vectors or None), betas[k] the norm after step k."""
    A = sp.csr_array(A)
    ds = np.sqrt(1.0 / A.diagonal())
    v, v_old = np.array(v, dtype=float), np.zeros(len(v))
    alphas, betas, kept = [], [], []
    for k in range(steps):
        if k:
            v_old, v = v, w / betas[-1]
        if keep:
            kept.append(v.astype(np.float32))
        w = ds * (A @ (ds * v))
        alphas.append(float(v @ w))
        w = w - alphas[-1] * v - (betas[-1] * v_old if k else 0.0)
        betas.append(float(np.linalg.norm(w)))
    return np.array(alphas), np.array(betas), (np.array(kept) if keep else None)


def ref_upper_term(A, x):
    """``||D^{-1/2} U D^{-1/2} x||^2 / ||x||^2 - 1/4`` (U: the strictly upper triangle)."""
    A = sp.csr_array(A)
    dinv = 1.0 / A.diagonal()
    y = sp.triu(A, k=1, format="csr") @ (x * np.sqrt(dinv))
    return float(np.sum(y * y * dinv)) / float(x @ x) - 0.25


def ref_schur_bound(A):
    """Schur's test with the weights ``D^{1/2}`` on ``U_s = D^{-1/2} U D^{-1/2}``:
    ``||U_s||^2 <= (max_i sum_{j<i} |a_ij| / a_ii) (max_i sum_{j>i} |a_ij| / a_ii)``."""
    A = sp.csr_array(A)
    d = A.diagonal()
    low = np.abs(sp.tril(A, k=-1, format="csr")) @ np.ones(A.shape[0]) / d
    up = np.abs(sp.triu(A, k=1, format="csr")) @ np.ones(A.shape[0]) / d
    return float(low.max(initial=0.0) * up.max(initial=0.0))


def ref_axelsson(omega, lam, beta):
    """Axelsson's Rayleigh quotient of ``M_omega`` over ``A`` at a unit vector of ``S`` with
    ``x'Sx = lam`` and Young's ``beta``, times ``lam``: ``(lam + omega beta + (2 - omega)^2 /
    (4 omega)) / (2 - omega)``."""
    return (lam + omega * beta + (2.0 - omega) ** 2 / (4.0 * omega)) / (2.0 - omega)


def ref_insensitivity(theta, used, beta, lams=None):
    """The most iterations, as a fraction over the best, that the omega of ``used`` costs by
    Axelsson's bound if ``lambda_min`` is anywhere in ``[0, theta]``: the maximum over a grid
    of ``lams`` (default: the two ends, as ``_omega._insensitivity``); inf for ``beta <= 0``
    or ``theta <= 0``."""
    if not (beta > 0 and theta > 0):
        return math.inf
    lams = np.array([0.0, theta]) if lams is None else lams
    w = _omega_from("ssor_cg", used, beta)
    best = np.array([ref_axelsson(_omega_from("ssor_cg", lam, beta), lam, beta)
                     for lam in lams])
    return float(np.sqrt(np.max(ref_axelsson(w, lams, beta) / best)) - 1.0)


def ref_estimate_omega(A, solver="sor", *, rtol=1e-8, budget=0.1, max_steps=300):
    """``estimate_omega`` with the Lanczos loop in NumPy: (omega, info) without ``time``."""
    P = prepare(A)
    As = sp.csr_array((P.data, P.indices, P.indptr), shape=(P.n, P.n))
    n = P.n
    ssor = solver == "ssor_cg"
    smooth = ssor or np.count_nonzero(P.data > 0) == n
    v, ds = ref_start(P.diag, P.inv_diag, _SEED, smooth, SSOR_SPREAD if ssor else SOR_SPREAD)
    v_old = np.zeros(n)
    kept, alphas, betas = [], [], []
    beta = 0.0
    min_steps = SSOR_STEPS if ssor else MIN_STEPS
    lam, res, converged, k, s = 1.0, math.inf, False, 0, None
    insensitive = False
    limit = min(max_steps, n, SSOR_MAX_STEPS if ssor else max_steps)
    beta0 = ref_upper_term(As, v) if ssor else None    # Young's beta at the start vector
    while k < limit:
        if ssor:        # kept as float32 in the scaled form D^{-1/2} v, as the kernel does
            kept.append((ds * v).astype(np.float32))
        w = ds * (As @ (ds * v))
        a = float(v @ w)
        alphas.append(a)
        w = w - a * v
        if k:
            w = w - beta * v_old
        beta = float(np.linalg.norm(w))
        k += 1
        exact = beta <= 1e-14 * max(abs(a), 1.0)
        if ssor and k == 1 and limit > 1:
            # after step 0: stop if omega does not depend on lambda_min (beta0 > 0)
            lam, s = a, np.ones(1)
            res = 0.0 if exact else beta
            converged = exact or res <= CONVERGED * max(lam, 0.0)
            used = lam if converged else lam / SSOR_BIAS
            insensitive = ref_insensitivity(lam, used, beta0) <= INSENSITIVE
            if exact or insensitive:
                break
        elif exact or k == limit or (k >= min_steps and
                                     (k - min_steps) % (2 if ssor else 4) == 0):
            lam, s = ref_smallest(alphas, betas)
            res = 0.0 if exact else float(beta * abs(s[-1]))
            converged = exact or res <= CONVERGED * max(lam, 0.0)
            used = (lam if converged else lam / SSOR_BIAS) if ssor else \
                max(lam - res, lam / 100.0)
            if exact or converged or k >= budget * _predicted_iterations(solver, used, rtol):
                break
        betas.append(beta)
        v_old, v = v, w / beta
    lam_used = lam if (converged or not ssor) else lam / SSOR_BIAS
    beta_x = None
    bounded = False
    matvecs = k
    if ssor and k == 1:
        beta_x = beta0                  # the Ritz vector is the start vector
    elif ssor and (bound := ref_schur_bound(As)) <= 0.25 * SCHUR_SLACK:
        bounded = True                  # beta <= 0 at every vector: no Ritz vector needed
        beta_x = bound - 0.25
    elif ssor and s is not None:
        # float64 sums of float32, then back from the scaled form
        x = (s @ np.asarray(kept[:len(s)], dtype=np.float64)) / ds
        beta_x = ref_upper_term(As, x)
        matvecs += 1
    beta_used = 0.0 if (bounded or beta_x is None) else beta_x
    omega = _omega_from(solver, lam_used, beta_used)
    return omega, {"lambda_min": lam, "lambda_used": lam_used, "ritz_residual": res,
                   "beta": beta_x, "steps": k, "matvecs": matvecs,
                   "converged": bool(converged), "insensitive": bool(insensitive),
                   "beta_bounded": bounded,
                   "predicted_iterations": _predicted_iterations(solver, lam_used, rtol,
                                                                 beta_used)}
