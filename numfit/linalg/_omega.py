"""A relaxation factor for a single solve: ``sor(..., omega="auto")`` and
``ssor_cg(..., omega="auto")`` (numfit's SOR guide, docs/sor.md, "omega='auto'").

Lanczos (no reorthogonalisation: only the smallest Ritz pair is used) on the Jacobi-scaled
matrix ``S = D^{-1/2} A D^{-1/2}`` estimates its smallest eigenvalue ``lambda_min``.

SOR: ``mu = 1 - lambda_min`` plays the Jacobi spectral radius in Young's formula
``omega = 2 / (1 + sqrt(1 - mu^2))`` (Young, *Iterative Solution of Large Linear Systems*,
1971, ch. 6; exact for consistently ordered matrices). Lanczos runs ``MIN_STEPS`` (12)
steps and :func:`sor_auto` raises omega during the solve (Hageman and Young, *Applied
Iterative Methods*, 1981, ch. 9). On a Z-matrix (off-diagonal entries <= 0) the Jacobi matrix
is nonnegative, ``1 - lambda_min`` is its spectral radius and the eigenvector of
``lambda_min`` is positive (Perron-Frobenius): Lanczos starts from the smooth vector below and
the estimate is near Young's value (3-D Poisson, n ~ 1e4: resolved in 12 steps). Otherwise
it starts from a random vector, whose Ritz value stays well above ``lambda_min``: omega then
starts below Young's value, which overshoots on such matrices (rotated anisotropic
diffusion), and the adaptation, which can raise omega but not lower it, climbs from there.

SSOR-CG: Young's SSOR parameter with his ``beta`` term (Young 1971, ch. 15; Hageman and
Young 1981, ch. 7), ``omega = 2 / (1 + sqrt(2 lambda + 4 max(beta, 0)))``, where ``beta`` is
not ``rho(L D^{-1} U) - 1/4`` over all vectors (that makes omega ~1 on rotated anisotropic
diffusion and elasticity, 1.9x the best iterations at n = 900) but its Rayleigh quotient
``||D^{-1/2} U D^{-1/2} x||^2 - 1/4`` at the Ritz vector ``x`` of ``lambda_min``: by
Axelsson's identity ``(2 - omega) M_omega = A + omega (L D^{-1} U - D/4) + (2 - omega)^2 /
(4 omega) D`` (*Iterative Solution Methods*, 1994, ch. 7), the Rayleigh quotient of
``M_omega`` over ``A`` at ``x``, a lower bound of the condition number of the preconditioned
operator, is smallest at that omega. For matrices with property A the term is <= 0 and the
formula is Young's ``2 / (1 + sqrt(2 lambda))``; for graph Laplacians (no property A) it is
positive and omega comes out near 1. Lanczos starts from ``D^{1/2} e``, ``e = 1 + SSOR_SPREAD
(u - 1/2)`` with ``u`` uniform on [0, 1) (always, for SSOR-CG; ``u`` from the counter-based
SplitMix64 generator with a fixed seed, so every estimate is reproducible and the draw costs a
few integer operations per entry): the eigenvector of ``lambda_min`` of an irreducible
M-matrix is positive (Perron-Frobenius) and smooth, so this start has a large component along
it, and the noise (+-15 %) keeps a component along every other. The noise's weight on the
high end of the spectrum is what holds the first Ritz values up: with ``1/2 + u`` (+-50 %),
SSOR-CG needed 4 steps for what 3 now give (docs/sor.md). After 3 steps the Ritz value is
within 1.05-13x of ``lambda_min`` on the gallery of ``benchmarks/bench_sor.py`` (a random
start: 25-460x after 4). An unconverged Ritz value ``theta`` enters as ``theta / 2``:
SSOR-CG's iteration count depends on ``c = theta / lambda`` through ``sqrt(cosh(ln(c) / 2))``
(Axelsson's bound), flat and symmetric in ``ln c``, so ``theta / 2`` is the middle of the
measured range. SOR keeps the start ``1/2 + u`` (``SOR_SPREAD``; its 12 steps and the
adaptation during the solve were measured with it).

Steps: at least ``SSOR_STEPS`` (3) / ``MIN_STEPS`` (12), run in compiled blocks between
the convergence checks (``lanczos_steps`` in ``numfit/_core/_sor.pyx``: Lanczos on
``D^{-1} A`` in the D-inner product, the same steps as on ``S`` with the vectors ``q =
D^{-1/2} v`` and no square roots of the diagonal; the product with ``A``, ``alpha``, the
three-term recurrence and ``beta`` in one pass over the nonzeros and two over the vectors;
``lanczos_start`` for the start vector;
``tridiag_smallest`` for the smallest Ritz pair, by bisection and inverse iteration;
``ritz_scaled`` and ``upper_norm2`` for Young's ``beta``; their NumPy form, with LAPACK for
the Ritz pair, is ``tests/reference_omega.py``);
Lanczos stops when the smallest
Ritz pair has converged (residual below ``CONVERGED`` times the value) or when the steps
reach ``budget`` times the iterations predicted for the solve (SSOR-CG: from the value the
formula uses, ``sqrt(kappa)/2 log(2/rtol)`` with ``kappa = 1/2 + sqrt(gamma) / (2 lambda)``,
Axelsson's bound halved to match measured counts; SOR: from ``max(theta - r, theta / 100)``).
SSOR-CG also stops after its first step where Young's ``beta`` at the start vector (summed in
that step's product) is positive and makes omega insensitive to ``lambda_min``: by Axelsson's
bound no ``lambda_min`` in ``(0, theta]`` would cost more than ``INSENSITIVE`` (2 %) more
iterations at the omega used than at its own (:func:`_insensitivity`; random graph Laplacians,
matrices in orders without property A: 1 step instead of 3, the Ritz vector and the product
for ``beta`` saved). For ``beta <= 0`` (property A) omega tends to 2 as ``lambda_min`` tends
to 0, so the test never stops there.
The formula uses ``max(beta, 0)``, so where ``beta <= 0`` at every vector the Ritz vector and
its product are not needed: step 0 also sums ``|a_ij|`` over each row's lower and upper
parts, and Schur's test with the weights ``D^{1/2}`` bounds ``||D^{-1/2} U D^{-1/2}||^2`` by
``(max_i sum_{j<i} |a_ij| / a_ii) (max_i sum_{j>i} |a_ij| / a_ii)``; where that is at most
1/4 (``SCHUR_SLACK``: rounding), ``beta`` counts as 0 (``beta_bounded``; Poisson matrices and
the 9-point stencil, whose rows split their off-diagonal weight evenly: the same omega, one
product less). The test is not invariant under diagonal scaling (a scaled Poisson matrix
takes the Ritz route).
Measured limits (docs/sor.md): Lanczos needs O(lambda_min^{-1/2}) steps to resolve
``lambda_min``, SSOR-CG only O(lambda_min^{-1/4}) iterations, so on large 2-D problems the
estimate within 10 % of the solve stays below the best omega (SSOR-CG, 2-D Poisson:
1.16x the best iterations at n = 62,500, 1.38x at n = 250,000).
"""
import math
import time

import numpy as np

from .._validation import check_float, check_int, check_option
from . import _kernels
from ._base import prepare

__all__ = ["estimate_omega"]

MIN_STEPS = 12
"""Fewest Lanczos steps for SOR (the estimate is then raised during the solve)."""
SSOR_STEPS = 3
"""Fewest Lanczos steps for SSOR-CG (unless omega does not depend on ``lambda_min``)."""
SSOR_SPREAD = 0.3
"""SSOR-CG's smooth start: ``D^{1/2} (1 + SSOR_SPREAD (u - 1/2))``, u uniform on [0, 1)."""
SOR_SPREAD = 1.0
"""SOR's smooth start (Z-matrices): ``D^{1/2} (1/2 + u)``."""
SSOR_MAX_STEPS = 64
"""Most Lanczos steps for SSOR-CG (its Lanczos vectors are kept, in float32, for the Ritz
vector)."""
CONVERGED = 0.05
"""The smallest Ritz pair has converged when its residual is below this times its value."""
SSOR_BIAS = 2.0
"""SSOR-CG: an unconverged Ritz value ``theta`` enters the formula as ``theta / SSOR_BIAS``."""
INSENSITIVE = 0.02
"""SSOR-CG: Lanczos stops after its first step when, with Young's ``beta`` at the start vector,
no ``lambda_min`` in ``(0, theta]`` would make the omega used cost more than this fraction of
iterations over that ``lambda_min``'s own omega (:func:`_insensitivity`)."""
SCHUR_SLACK = 1.0 + 1e-12
"""SSOR-CG: Young's ``beta`` counts as ``<= 0`` at every vector where the bound of Schur's test
on ``||D^{-1/2} U D^{-1/2}||^2`` is at most ``SCHUR_SLACK / 4`` (the slack: the rounding of
the row sums; Poisson matrices meet the bound with equality)."""
OMEGA_MAX = 1.99
"""Largest omega returned (the estimate is clipped to [1, OMEGA_MAX])."""
_SEED = 0x5EED


def _dot(u, v):
    """u'v without BLAS (a threaded BLAS dot can take milliseconds on a busy machine)."""
    return float(np.einsum("i,i", u, v))


def _norm(u):
    return math.sqrt(_dot(u, u))


def _predicted_iterations(solver, lam, rtol, beta=0.0):
    """The iteration count that ``lambda_min = lam`` predicts for the solve at the omega of
    the formula (>= 1); ``beta``: the SSOR term (``_omega_from``)."""
    lam = min(max(lam, 1e-300), 1.0)
    logtol = math.log(1.0 / max(rtol, 1e-16))
    if solver == "sor":
        omega = _young(lam)
        return max(logtol / max(-math.log(max(omega - 1.0, 1e-300)), 1e-300), 1.0)
    gamma = 0.5 * lam + max(beta, 0.0)
    kappa = 0.5 + 0.5 * math.sqrt(gamma) / lam        # Axelsson's bound, halved (measured)
    return max(0.5 * math.sqrt(kappa) * (logtol + math.log(2.0)), 1.0)


def _young(lam):
    mu = 1.0 - lam
    return 2.0 / (1.0 + math.sqrt(max(1.0 - mu * mu, 0.0)))


def _omega_from(solver, lam, beta=0.0):
    """Young's SOR formula, or Young's SSOR parameter ``2 / (1 + sqrt(2 lam + 4 beta+))``."""
    lam = min(max(lam, 0.0), 1.0)
    if solver == "sor":
        omega = _young(lam)
    else:
        omega = 2.0 / (1.0 + math.sqrt(2.0 * lam + 4.0 * max(beta, 0.0)))
    return float(min(max(omega, 1.0), OMEGA_MAX))


def _axelsson(omega, lam, beta):
    """``(2 - omega)`` times the Rayleigh quotient of ``M_omega`` over ``A`` at a unit vector
    ``x`` of ``S`` with ``x'Sx = lam`` and Young's ``beta`` (Axelsson's identity; a lower bound
    of the condition number of the SSOR-preconditioned matrix), divided by ``2 - omega`` once
    more and multiplied by ``lam``: ``(lam + omega beta + (2 - omega)^2 / (4 omega)) /
    (2 - omega)``. ``_omega_from`` minimises it over ``omega`` in [1, OMEGA_MAX]."""
    return (lam + omega * beta + (2.0 - omega) ** 2 / (4.0 * omega)) / (2.0 - omega)


def _insensitivity(theta, used, beta):
    """SSOR-CG: the most iterations, as a fraction over the best, that the omega of ``used``
    can cost if ``lambda_min`` is anywhere in ``(0, theta]`` (``theta``: a Ritz value, an upper
    bound of ``lambda_min``), by Axelsson's bound (iterations ~ the square root of the
    condition number): ``max sqrt(R) - 1`` with ``R(lam) = _axelsson(omega, lam, beta) /
    _axelsson(omega(lam), lam, beta)``. ``R`` is an affine function of ``lam`` over a concave one
    (a minimum of affine functions), so its sublevel sets are intervals and its maximum over
    ``[0, theta]`` is at an end. Infinite for ``beta <= 0`` (there omega tends to 2 as
    ``lambda_min`` tends to 0) and for ``theta <= 0`` (not positive definite). A small value
    (a positive ``beta``, graph Laplacians, matrices in orders without property A) means that
    resolving ``lambda_min`` cannot pay."""
    if not (beta > 0.0 and theta > 0.0):
        return math.inf
    w = _omega_from("ssor_cg", used, beta)
    worst = 1.0
    for lam in (0.0, theta):
        best = _axelsson(_omega_from("ssor_cg", lam, beta), lam, beta)
        worst = max(worst, _axelsson(w, lam, beta) / best)
    return math.sqrt(worst) - 1.0


def _smallest(alphas, betas, k):
    """Smallest eigenvalue and its unit eigenvector of the Lanczos tridiagonal
    ``(alphas[:k], betas[:k-1])``: bisection and inverse iteration in compiled code
    (``tridiag_smallest``, ~1 us at k = 4; ``np.linalg.eigh`` took 45-105 us there right
    after a solve, 10-25 % of an SSOR-CG estimate on the benchmark gallery)."""
    s = np.empty(k)
    lam = _kernels.kernels.tridiag_smallest(alphas, betas, k, s, np.empty(5 * k))
    return float(lam), s


def estimate_omega(A, solver="sor", *, rtol=1e-8, budget=0.1, max_steps=300):
    """Estimate a relaxation factor for one solve of ``A x = b`` (SPD ``A``).

    Parameters
    ----------
    A : sparse matrix/array, ndarray or PreparedMatrix, shape (n, n)
        Symmetric positive definite with a positive diagonal. A PreparedMatrix keeps the
        Z-matrix test (SOR's choice of start vector, ``PreparedMatrix.is_z_matrix()``), so
        later SOR estimates on it skip that pass over the nonzeros.
    solver : {"sor", "ssor_cg"}
        Young's SOR formula or Young's SSOR parameter (module docstring; docs/sor.md).
    rtol : float
        The tolerance of the solve, for the step budget.
    budget : float
        Lanczos steps at most ``budget`` times the iterations that the current estimate
        predicts for the solve (each step is one product with ``A`` and two vector passes
        in a compiled kernel, at most the cost of one SOR sweep or one SSOR-CG iteration in
        Eisenstat's form: measured 0.3-0.5 of the latter at n = 1e4-2.5e5), but at least
        ``MIN_STEPS`` (SOR) or ``SSOR_STEPS`` (SSOR-CG).
    max_steps : int
        Hard cap on Lanczos steps (SSOR-CG: at most ``SSOR_MAX_STEPS``).

    Returns
    -------
    omega : float
        In ``[1, 1.99]``.
    info : dict
        ``lambda_min`` (the smallest Ritz value of ``D^{-1/2} A D^{-1/2}``), ``ritz_residual``
        (its residual norm), ``lambda_used`` (the value put in the formula), ``beta`` (SSOR-CG:
        Young's ``beta - 1/4`` at the Ritz vector; None for SOR), ``steps``, ``matvecs``
        (products with ``A`` or its upper triangle), ``converged`` (the Ritz pair met the
        test), ``insensitive`` (SSOR-CG stopped after one step: omega does not depend on
        ``lambda_min``), ``beta_bounded`` (SSOR-CG: Schur's test bounds Young's ``beta`` by
        ``<= 0`` at every vector, so omega is that of ``beta = 0``, no Ritz vector is formed
        and ``beta`` is that bound), ``predicted_iterations``, ``time`` (seconds).

    Examples
    --------
    >>> import numfit as nf
    >>> from numfit.linalg import laplacian_2d
    >>> from numfit.linalg._omega import estimate_omega
    >>> omega, info = estimate_omega(laplacian_2d(32), max_steps=1000, budget=10.0)
    >>> round(omega, 4), info["converged"]      # Young's omega* = 2 / (1 + sin(pi/33))
    (1.8264, True)
    """
    t0 = time.perf_counter()
    solver = check_option("solver", solver, ("sor", "ssor_cg"))
    rtol = check_float("rtol", rtol, lo=0.0)
    budget = check_float("budget", budget, lo=0.0, lo_open=True)
    max_steps = check_int("max_steps", max_steps, lo=1)
    P = prepare(A)
    K = _kernels.kernels
    n = P.n
    # start D^{1/2} (1 + spread (u - 1/2)), u uniform on [0, 1): the eigenvector of lambda_min
    # of an irreducible M-matrix is positive (Perron-Frobenius) and smooth, so this start has
    # a large component along it (for elasticity: along the translations)
    # (SSOR-CG, and SOR on Z-matrices). SOR on a matrix with positive off-diagonal entries
    # starts from a random vector (uniform on [-1, 1)), whose Ritz value converges slowly:
    # omega then starts below Young's value and the adaptation during the solve raises it
    # (there 1 - lambda_min is not the Jacobi spectral radius, Young's value overshoots, and
    # the adaptation cannot lower omega)
    ssor = solver == "ssor_cg"
    smooth = ssor or P.is_z_matrix()
    # Lanczos on D^{-1} A in the D-inner product: the vectors q = D^{-1/2} v of the Lanczos
    # vectors v of S (no square roots of the diagonal, no scaled copy for the product)
    q = np.empty(n)
    K.lanczos_start(P.diag, P.inv_diag, _SEED, smooth, SSOR_SPREAD if ssor else SOR_SPREAD, q)
    q_old, w = np.empty(n), np.empty(n)                 # q_old: zeroed by step 0
    # SSOR-CG: step 0 also sums the upper triangle's part of its product, for Young's beta at
    # the start vector (upper[0] - 1/4, q'Dq = 1), and each triangle's absolute row sums, for
    # the bound of Schur's test on ||D^{-1/2} U D^{-1/2}||^2 (upper[1]: beta <= upper[1] - 1/4
    # at every vector; the sums stop once the bound exceeds the limit passed in upper[1])
    schur_lim = 0.25 * SCHUR_SLACK
    upper = np.empty(2 if ssor else 0)
    if ssor:
        upper[1] = schur_lim
    min_steps = SSOR_STEPS if ssor else MIN_STEPS
    every = 2 if ssor else 4
    limit = min(max_steps, n, SSOR_MAX_STEPS if ssor else max_steps)
    alphas, betas = np.empty(limit), np.empty(limit)
    # SSOR-CG keeps the Lanczos vectors (float32) for the Ritz vector
    keep = np.empty((limit, n) if ssor else (0, 1), dtype=np.float32)
    lam, res, converged, k, s = 1.0, math.inf, False, 0, None
    insensitive = False
    while k < limit:
        # the steps up to the next convergence check (compiled: a product with A and two
        # passes over the vectors per step), stopping early at an invariant subspace and
        # (SSOR-CG) after step 0 where Young's beta at the start vector is positive
        nxt = min(min_steps if k < min_steps else k + every, limit)
        k = int(K.lanczos_steps(P.indptr, P.indices, P.data, P.diag, P.inv_diag, q, q_old, w,
                                alphas, betas, k, nxt, keep, P.diag_pos, upper))
        a, beta = float(alphas[k - 1]), float(betas[k - 1])
        exact = beta <= 1e-14 * max(abs(a), 1.0)        # invariant subspace
        lam, s = _smallest(alphas, betas, k)
        res = 0.0 if exact else float(beta * abs(s[-1]))
        converged = exact or res <= CONVERGED * max(lam, 0.0)
        # the solve predicted from the value the formula will use (SSOR-CG), or from
        # the pessimistic max(theta - r, theta / 100) (SOR: adapted later anyway)
        used = (lam if converged else lam / SSOR_BIAS) if ssor else \
            max(lam - res, lam / 100.0)
        if ssor and k == 1 and limit > 1:
            # after step 0 (SSOR-CG, beta > 0 or an invariant subspace): stop where Young's
            # beta at the start vector (its Ritz vector) makes omega insensitive to
            # lambda_min; otherwise go on to SSOR_STEPS
            insensitive = _insensitivity(lam, used, float(upper[0]) - 0.25) <= INSENSITIVE
            if exact or insensitive:
                break
        elif exact or converged or k >= budget * _predicted_iterations(solver, used, rtol):
            break
    lam_used = lam if (converged or not ssor) else lam / SSOR_BIAS
    beta_x = None
    bounded = False
    matvecs = k
    if ssor and k == 1:
        beta_x = float(upper[0]) - 0.25       # the Ritz vector is the start vector
    elif ssor and float(upper[1]) <= schur_lim:
        # Young's beta is <= 0 at every vector (up to rounding), the Ritz vector's too, and
        # omega uses max(beta, 0): no Ritz vector and no product for it; beta: the bound
        bounded = True
        beta_x = float(upper[1]) - 0.25
    elif ssor and s is not None:
        xs = q_old                     # scratch: D^{-1/2} times the Ritz vector x of S
        xx = K.ritz_scaled(keep, s, len(s), P.diag, xs)                   # x'x
        beta_x = K.upper_norm2(P.indptr, P.indices, P.data, P.diag_pos, P.inv_diag,
                               xs) / xx - 0.25
        matvecs += 1
    beta_used = 0.0 if (bounded or beta_x is None) else beta_x
    omega = _omega_from(solver, lam_used, beta_used)
    return omega, {"lambda_min": lam, "lambda_used": lam_used, "ritz_residual": res,
                   "beta": beta_x, "steps": k, "matvecs": matvecs,
                   "converged": bool(converged), "insensitive": bool(insensitive),
                   "beta_bounded": bounded,
                   "predicted_iterations": _predicted_iterations(solver, lam_used, rtol,
                                                                 beta_used),
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
