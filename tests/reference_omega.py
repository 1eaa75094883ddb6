"""Pure-NumPy reference for the Lanczos loop of ``estimate_omega`` (clear, not fast).

The loop as it ran in Python before the compiled ``lanczos_steps`` / ``upper_norm2``
(``numfit/_core/_sor.pyx`` and their Numba twins): one NumPy/SciPy operation at a time, the
product with ``A`` by SciPy (``A @``), the upper triangle by ``scipy.sparse.triu``. The
formulas, constants and the tridiagonal eigensolver (``_smallest``) are those of
``numfit.linalg._omega``; only the loop and Young's beta term are written out here.
"""
import math

import numpy as np
import scipy.sparse as sp

from numfit.linalg import prepare
from numfit.linalg._omega import (CONVERGED, MIN_STEPS, SSOR_BIAS, SSOR_MAX_STEPS,
                                  SSOR_STEPS, _SEED, _omega_from, _predicted_iterations,
                                  _smallest)


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


def ref_estimate_omega(A, solver="sor", *, rtol=1e-8, budget=0.1, max_steps=300):
    """``estimate_omega`` with the Lanczos loop in NumPy: (omega, info) without ``time``."""
    P = prepare(A)
    As = sp.csr_array((P.data, P.indices, P.indptr), shape=(P.n, P.n))
    n = P.n
    ds = np.sqrt(P.inv_diag)
    ssor = solver == "ssor_cg"
    rng = np.random.default_rng(_SEED)
    smooth = ssor or np.count_nonzero(P.data > 0) == n
    v = np.sqrt(P.diag) * (0.5 + rng.random(n, dtype=np.float32)) if smooth \
        else rng.standard_normal(n)
    v /= math.sqrt(float(v @ v))
    v_old = np.zeros(n)
    kept, alphas, betas = [], [], []
    beta = 0.0
    min_steps = SSOR_STEPS if ssor else MIN_STEPS
    lam, res, converged, k, s = 1.0, math.inf, False, 0, None
    limit = min(max_steps, n, SSOR_MAX_STEPS if ssor else max_steps)
    while k < limit:
        if ssor:
            kept.append(v.astype(np.float32))
        w = ds * (As @ (ds * v))
        a = float(v @ w)
        alphas.append(a)
        w = w - a * v
        if k:
            w = w - beta * v_old
        beta = float(np.linalg.norm(w))
        k += 1
        exact = beta <= 1e-14 * max(abs(a), 1.0)
        if exact or k == limit or (k >= min_steps and k % (2 if ssor else 4) == 0):
            lam, s = _smallest(alphas, betas)
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
    matvecs = k
    if ssor and s is not None:
        x = np.asarray(s, dtype=np.float32) @ np.asarray(kept[:len(s)])
        beta_x = ref_upper_term(As, x.astype(np.float64))
        matvecs += 1
    omega = _omega_from(solver, lam_used, beta_x or 0.0)
    return omega, {"lambda_min": lam, "lambda_used": lam_used, "ritz_residual": res,
                   "beta": beta_x, "steps": k, "matvecs": matvecs,
                   "converged": bool(converged),
                   "predicted_iterations": _predicted_iterations(solver, lam_used, rtol,
                                                                 beta_x or 0.0)}
