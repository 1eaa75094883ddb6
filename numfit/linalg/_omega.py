"""A relaxation factor for a single solve: ``sor(..., omega="auto")`` and
``ssor_cg(..., omega="auto")`` (numfit's SOR guide, docs/sor.md, "omega='auto'").

Lanczos (no reorthogonalisation: only the smallest Ritz value is used) on the Jacobi-scaled
matrix ``D^{-1/2} A D^{-1/2}`` estimates its smallest eigenvalue ``lambda_min``; then
``mu = 1 - lambda_min`` plays the Jacobi spectral radius in Young's formula
``omega = 2 / (1 + sqrt(1 - mu^2))`` (Young, *Iterative Solution of Large Linear Systems*,
1971, ch. 6; exact for consistently ordered matrices, whose Jacobi spectrum is symmetric about
1 so that ``rho_J = 1 - lambda_min``). For SSOR-CG the estimate is Young's good SSOR
parameter ``omega = 2 / (1 + sqrt(2 (1 - mu)))`` (ibid., ch. 15; Axelsson, *Iterative
Solution Methods*, 1994, §7.4), which for small ``lambda_min`` is nearly the same number.
Using ``lambda_min`` rather than ``max |1 - lambda|`` keeps the estimate meaningful for
matrices that are not consistently ordered (rotated anisotropic diffusion, elasticity), whose
Jacobi iteration diverges.

The smallest Ritz value ``theta`` approaches ``lambda_min`` from above, so a short run
underestimates omega. The number of steps is set by a budget: Lanczos stops when the smallest
Ritz pair has converged (residual ``r`` below ``CONVERGED`` times ``theta``), or when the steps
reach ``budget`` times the iteration count predicted for the solve from the pessimistic
``lambda = max(theta - r, theta / 100)`` (SOR: ``log(1/rtol) / -log(omega - 1)``; SSOR-CG:
``sqrt(kappa)/2 log(2/rtol)`` with Axelsson's ``kappa ~ 1/2 + 1/(2 sqrt(2 lambda))``), at
least ``MIN_STEPS`` and at most ``max_steps``. (The current ``theta`` itself would predict a
short solve and stop Lanczos too early.)

For SSOR-CG, whose solves are short, Lanczos runs at least ``SSOR_STEPS`` (8) steps, and an
unconverged Ritz value is replaced by ``max(theta - r, theta / 10)`` in the formula: SSOR-CG's
iteration count rises slowly above the best omega and fast below it, so the estimate is
biased upwards (within 1.2x of the best grid omega on five of the six gallery matrices of
``benchmarks/bench_sor.py``; the random graph Laplacian, whose best omega is 1, is the
exception).

Measured limits (docs/sor.md): Lanczos needs a number of steps of the order of SOR's own
iteration count at the optimal omega to resolve ``lambda_min`` of 2-D problems, so within a
budget of 10 % of the solve the estimate stays below the best omega there.
"""
import math
import time

import numpy as np

from .._validation import check_float, check_int, check_option
from . import _kernels

__all__ = ["estimate_omega"]

MIN_STEPS = 12
"""Fewest Lanczos steps for SOR."""
SSOR_STEPS = 8
"""Fewest Lanczos steps for SSOR-CG (its solves are short; the estimate is biased upwards)."""
CONVERGED = 0.05
"""The smallest Ritz pair has converged when its residual is below this times its value."""
OMEGA_MAX = 1.99
"""Largest omega returned (the estimate is clipped to [1, OMEGA_MAX])."""


def _dot(u, v):
    """u'v without BLAS (a threaded BLAS dot can take milliseconds on a busy machine)."""
    return float(np.einsum("i,i", u, v))


def _norm(u):
    return math.sqrt(_dot(u, u))


def _predicted_iterations(solver, lam, rtol):
    """The iteration count that ``lambda_min = lam`` predicts for the solve (>= 1)."""
    lam = min(max(lam, 1e-300), 1.0)
    logtol = math.log(1.0 / max(rtol, 1e-16))
    if solver == "sor":
        omega = _young(lam)
        return logtol / max(-math.log(max(omega - 1.0, 1e-300)), 1e-300)
    kappa = 0.5 + 0.5 / math.sqrt(2.0 * lam)
    return 0.5 * math.sqrt(kappa) * (logtol + math.log(2.0))


def _young(lam):
    mu = 1.0 - lam
    return 2.0 / (1.0 + math.sqrt(max(1.0 - mu * mu, 0.0)))


def _omega_from(solver, lam):
    lam = min(max(lam, 0.0), 1.0)
    omega = _young(lam) if solver == "sor" else 2.0 / (1.0 + math.sqrt(2.0 * lam))
    return float(min(max(omega, 1.0), OMEGA_MAX))


def estimate_omega(A, solver="sor", *, rtol=1e-8, budget=0.1, max_steps=300):
    """Estimate a relaxation factor for one solve of ``A x = b`` (SPD ``A``).

    Parameters
    ----------
    A : sparse matrix/array, ndarray or PreparedMatrix, shape (n, n)
        Symmetric positive definite with a positive diagonal.
    solver : {"sor", "ssor_cg"}
        Young's SOR formula or Young's SSOR parameter (module docstring; docs/sor.md).
    rtol : float
        The tolerance of the solve, for the step budget.
    budget : float
        Lanczos steps at most ``budget`` times the predicted iterations of the solve (each
        step costs one product with ``A`` plus a few vector operations, about one sweep).
    max_steps : int
        Hard cap on Lanczos steps.

    Returns
    -------
    omega : float
        In ``[1, 1.99]``.
    info : dict
        ``lambda_min`` (the smallest Ritz value of ``D^{-1/2} A D^{-1/2}``), ``ritz_residual``
        (its residual norm), ``lambda_used`` (the value put in the formula), ``steps``,
        ``converged`` (the Ritz pair met the test), ``predicted_iterations``, ``time``
        (seconds).

    Examples
    --------
    >>> import numfit as nf
    >>> from numfit.linalg import laplacian_2d
    >>> from numfit.linalg._omega import estimate_omega
    >>> omega, info = estimate_omega(laplacian_2d(32), max_steps=1000, budget=10.0)
    >>> round(omega, 4), info["converged"]      # Young's omega* = 2 / (1 + sin(pi/33))
    (1.8264, True)
    """
    from scipy.linalg import eigh_tridiagonal

    from ._sor import prepare
    t0 = time.perf_counter()
    solver = check_option("solver", solver, ("sor", "ssor_cg"))
    rtol = check_float("rtol", rtol, lo=0.0)
    budget = check_float("budget", budget, lo=0.0, lo_open=True)
    max_steps = check_int("max_steps", max_steps, lo=1)
    P = prepare(A)
    K = _kernels.kernels
    n = P.n
    ds = 1.0 / np.sqrt(P.diag)
    v = np.random.default_rng(0x5EED).standard_normal(n)     # deterministic start
    v /= _norm(v)
    v_old = np.zeros(n)
    y, u = np.empty(n), np.empty(n)
    alphas, betas = [], []
    beta = 0.0
    min_steps = MIN_STEPS if solver == "sor" else SSOR_STEPS
    lam, res, converged, k = 1.0, math.inf, False, 0
    limit = min(max_steps, n)
    while k < limit:
        np.multiply(v, ds, out=u)
        K.csr_matvec(P.indptr, P.indices, P.data, u, y)
        w = y * ds
        a = _dot(v, w)
        alphas.append(a)
        w -= a * v
        w -= beta * v_old
        beta = _norm(w)
        k += 1
        if k >= min_steps and (k % 4 == 0 or k == limit or beta == 0.0):
            th, S = eigh_tridiagonal(np.asarray(alphas), np.asarray(betas),
                                     select="i", select_range=(0, 0))
            lam, res = float(th[0]), float(beta * abs(S[-1, 0]))
            converged = res <= CONVERGED * max(lam, 0.0)
            pessimistic = max(lam - res, lam / 100.0)
            if converged or k >= budget * _predicted_iterations(solver, pessimistic, rtol):
                break
        if beta <= 1e-14 * max(abs(a), 1.0):          # invariant subspace: exact
            th = eigh_tridiagonal(np.asarray(alphas), np.asarray(betas),
                                  eigvals_only=True, select="i", select_range=(0, 0))
            lam, res, converged = float(th[0]), 0.0, True
            break
        betas.append(beta)
        v_old, v = v, w / beta
    if k < min_steps and not converged:                # tiny n: all steps done
        th = eigh_tridiagonal(np.asarray(alphas), np.asarray(betas[:len(alphas) - 1]),
                              eigvals_only=True, select="i", select_range=(0, 0))
        lam, converged = float(th[0]), k >= n
    # SSOR-CG: iteration counts rise slowly above the best omega and fast below it, so an
    # unconverged Ritz value (above lambda_min) is replaced by max(theta - r, theta / 10)
    lam_used = lam if (converged or solver == "sor") else max(lam - res, lam / 10.0)
    omega = _omega_from(solver, lam_used)
    return omega, {"lambda_min": lam, "lambda_used": lam_used, "ritz_residual": res,
                   "steps": k,
                   "converged": bool(converged),
                   "predicted_iterations": _predicted_iterations(solver, lam, rtol),
                   "time": time.perf_counter() - t0}


ADAPT_FRACTION = 0.1
"""Adaptive SOR: sweeps per segment, as a fraction of the iterations predicted at the
current omega (at least ``ADAPT_MIN_SEGMENT``)."""
ADAPT_MIN_SEGMENT = 20
ADAPT_WORSE = 0.7
"""Adaptive SOR: an increase of omega is undone when the observed rate ``1 - lambda`` fell
below this fraction of the previous segment's."""


def sor_auto(P, b, x, sweep_code, norm_code, rtol, atol, divtol, maxiter, return_history):
    """SOR with ``omega="auto"``: a 12-step Lanczos estimate, then adapted in the solve.

    The solve runs in segments of about ``ADAPT_FRACTION`` of the iterations predicted at the
    current omega. After each, the observed convergence factor ``lambda`` (the geometric mean
    ratio of the residual norms over the second half of the segment) gives the Jacobi
    spectral radius through Young's relation ``lambda + omega - 1 = omega mu sqrt(lambda)``,
    and omega moves up to ``2 / (1 + sqrt(1 - mu^2))`` (the adaptive procedure of Hageman and
    Young, *Applied Iterative Methods*, 1981, ch. 9). Adaptation stops when omega no longer
    increases, when ``lambda <= omega - 1`` (omega at or past the optimum) or, for matrices
    that are not consistently ordered, when an increase made the rate ``1 - lambda`` drop
    below ``ADAPT_WORSE`` of the previous one (omega then goes back to the value with the
    best observed rate). The stopping test is that of one call: ``||r_k|| < max(rtol ref,
    atol)`` with ``ref`` from the start. Returns the SolveResult with ``omega`` the final omega and ``omega_info`` (the Lanczos estimate's
    info plus ``adapted``: ``[(iteration, omega), ...]``).
    """
    from ._sor import _sor_prepared
    t0 = time.perf_counter()
    omega, info = estimate_omega(P, "sor", rtol=max(rtol, 1e-16), max_steps=MIN_STEPS)
    r0 = _norm(b - P.matvec(x))
    ref = r0 if norm_code == 0 else _norm(b)
    thresh = max(rtol * ref, atol)
    total, nsweeps, adapt, prev, seen = 0, 0, True, None, []
    trail = [(0, omega)]
    parts = []
    res = None
    while True:
        left = maxiter - total
        if adapt:
            pred = (math.log(1.0 / max(rtol, 1e-16)) / -math.log(omega - 1.0)
                    if 1.0 < omega < 2.0 else 0.0)
            seg = min(left, max(ADAPT_MIN_SEGMENT, int(ADAPT_FRACTION * pred)))
        else:
            seg = left
        res = _sor_prepared(P, b, x, omega, sweep_code, 0, 0.0, thresh, divtol, seg,
                            return_history=True)
        x = res.x
        h = np.asarray(res.residual_history)
        parts.append(h if not parts else h[1:])
        total += res.nit
        nsweeps += res.nsweeps
        if res.status != 1 or total >= maxiter or not adapt:
            break
        s = len(h) // 2
        if s < 1 or not (h[-1 - s] > 0):
            adapt = False
            continue
        lam = float((h[-1] / h[-1 - s]) ** (1.0 / s))
        if prev is not None and (1.0 - lam) < ADAPT_WORSE * (1.0 - prev[1]):
            # the last increase made it worse: back to the best rate seen
            omega = min(seen, key=lambda wl: wl[1])[0]
            trail.append((total, omega))
            adapt = False
            continue
        if not (omega - 1.0 < lam < 1.0):
            adapt = False
            continue
        prev = (omega, lam) if len(trail) >= 3 else None
        if prev is not None:
            seen.append(prev)
        mu = (lam + omega - 1.0) / (omega * math.sqrt(lam))
        if not mu < 1.0:
            adapt = False
            continue
        new = min(2.0 / (1.0 + math.sqrt(1.0 - mu * mu)), OMEGA_MAX)
        if new > omega + 1e-3:
            omega = new
            trail.append((total, omega))
        else:
            adapt = False
    info = dict(info, adapted=[(int(k), float(w)) for k, w in trail])
    res["nit"] = int(total)
    res["nsweeps"] = int(nsweeps)
    res["omega"] = float(omega)
    res["ref_norm"] = float(ref)
    res["relres"] = float(res["residual"] / ref) if ref > 0 else float(res["residual"])
    res["time"] = time.perf_counter() - t0
    res["omega_info"] = info
    if return_history:
        res["residual_history"] = np.concatenate(parts)
    else:
        res.pop("residual_history", None)
    return res
