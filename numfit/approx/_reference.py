"""Pure-NumPy references of the WLS kernels, for tests (slow, simple, independent).

- Bases from ``numpy.polynomial`` (not the three-term recurrence of the kernels).
- The rejection samplers written out in Python, consuming the Generator in the same order as
  the Numba kernels, so the two must agree bit for bit.
- Inverse-CDF samplers with the CDF by Gauss quadrature (Legendre/Chebyshev) or by the
  direct expansion in c_{j,k} = int phi_j^2 phi_k dmu (Hermite), for distribution comparisons.
"""
import math
from functools import lru_cache

import numpy as np
from numpy.polynomial import chebyshev as C
from numpy.polynomial import hermite_e as H
from numpy.polynomial import legendre as L
from scipy.optimize import brentq
from scipy.special import ndtr, roots_hermitenorm, roots_legendre

__all__ = ["design_ref", "phi_ref", "features_ref", "draw_1d_ref", "draw_rho_ref", "dpp_chain_ref",
           "jacobi_tridiag_ref", "cdf_1d_ref", "inverse_cdf_ref", "mixture_cdf_ref"]


def phi_ref(family, j, t):
    """Orthonormal phi_j(t) from numpy.polynomial."""
    c = np.zeros(j + 1)
    c[j] = 1.0
    t = np.asarray(t, dtype=np.float64)
    if family == "legendre":
        return math.sqrt(2 * j + 1) * L.legval(t, c)
    if family == "chebyshev":
        return (1.0 if j == 0 else math.sqrt(2.0)) * C.chebval(t, c)
    return H.hermeval(t, c) / math.sqrt(math.factorial(j))


def features_ref(family, indices, t):
    t = np.atleast_2d(np.asarray(t, dtype=np.float64))
    out = np.ones((t.shape[0], len(indices)))
    for j, nu in enumerate(np.asarray(indices)):
        for k, deg in enumerate(nu):
            out[:, j] *= phi_ref(family, int(deg), t[:, k])
    return out


def draw_1d_ref(rng, family, j, max_prop=10_000):
    """Same algorithm and random-number order as the Numba kernel; returns (t, proposals)."""
    if family == "legendre":
        if j == 0:
            return 2.0 * rng.random() - 1.0, 1
        for k in range(1, max_prop + 1):
            u, v = rng.random(), rng.random()
            t = math.cos(math.pi * u)
            if v <= 0.25 * math.pi * math.sqrt(max(0.0, 1 - t * t)) * phi_ref(family, j, t) ** 2:
                return t, k
        raise RuntimeError("cap")
    if family == "chebyshev":
        if j == 0:
            return math.cos(math.pi * rng.random()), 1
        for k in range(1, max_prop + 1):
            theta, v = math.pi * rng.random(), rng.random()
            if v <= math.cos(j * theta) ** 2:
                return math.cos(theta), k
        raise RuntimeError("cap")
    if j == 0:
        return rng.standard_normal(), 1
    return inverse_cdf_ref(family, j, rng.random()), 1


def draw_rho_ref(rng, family, indices, n):
    indices = np.asarray(indices)
    out = np.empty((n, indices.shape[1]))
    for i in range(n):
        nu = rng.integers(0, len(indices))
        for k in range(indices.shape[1]):
            out[i, k] = draw_1d_ref(rng, family, int(indices[nu, k]))[0]
    return out


def dpp_chain_ref(rng, family, indices):
    """Chain rule with rejection from rho_m, as in docs/wls.md, "Projection DPP (chain
    rule)" (NumPy linear algebra)."""
    indices = np.asarray(indices)
    m = len(indices)
    q = np.zeros((m, 0))
    pts, props = [], 0
    for _ in range(m):
        while True:
            x = draw_rho_ref(rng, family, indices, 1)[0]
            u = rng.random()
            props += 1
            v = features_ref(family, indices, x[None])[0]
            r = v - q @ (q.T @ v)
            r = r - q @ (q.T @ r)
            # the chain-rule acceptance ratio ||r||^2 / ||v||^2 (the kernel computes
            # 1 - ||Q^T v||^2 / ||v||^2)
            ratio = min(max(r @ r / (v @ v), 0.0), 1.0) if v @ v > 0 else 0.0
            if u < ratio:
                break
        pts.append(x)
        q = np.column_stack([q, r / np.linalg.norm(r)])
    return np.array(pts), props


def jacobi_tridiag_ref(rng, m, a, b):
    """Killip-Nenciu Jacobi matrix (Killip & Nenciu 2004, Thm 2, a = b = 0; docs/wls.md),
    dense, for eigvalsh."""
    alpha = {-2: -1.0, -1: -1.0, 2 * m - 1: -1.0}
    for k in range(2 * m - 1):
        if k % 2 == 0:
            s, t = (2 * m - k - 2) / 2 + a + 1, (2 * m - k - 2) / 2 + b + 1
        else:
            s, t = (2 * m - k - 3) / 2 + a + b + 2, (2 * m - k - 1) / 2
        alpha[k] = 1 - 2 * rng.beta(s, t)
    diag = [(1 - alpha[2 * k - 1]) * alpha[2 * k] - (1 + alpha[2 * k - 1]) * alpha[2 * k - 2]
            for k in range(m)]
    off = [math.sqrt((1 - alpha[2 * k - 1]) * (1 - alpha[2 * k] ** 2) * (1 + alpha[2 * k + 1]))
           for k in range(m - 1)]
    return np.diag(diag) + np.diag(off, 1) + np.diag(off, -1)


@lru_cache(maxsize=64)
def _hermite_c(j):
    x, w = roots_hermitenorm(2 * j + 1)
    w = w / w.sum()
    return tuple(float(np.sum(w * phi_ref("hermite", j, x) ** 2 * phi_ref("hermite", k, x)))
                 for k in range(2 * j + 1))


@lru_cache(maxsize=64)
def _gauss(q):
    return roots_legendre(q)


def cdf_1d_ref(family, j, t):
    """F_j(t) = int phi_j^2 dmu_1 up to t (vectorised over t)."""
    t = np.asarray(t, dtype=np.float64)
    if family == "hermite":       # direct expansion in c_{j,k} (fine for small j)
        c = _hermite_c(j)
        g = np.exp(-t * t / 2) / math.sqrt(2 * math.pi)
        return ndtr(t) - g * sum(c[k] * phi_ref(family, k - 1, t) / math.sqrt(k)
                                 for k in range(1, 2 * j + 1))
    if family == "chebyshev":     # t = cos(theta): F = 1 - (theta + sin(2 j theta)/(2 j))/pi
        th = np.arccos(np.clip(t, -1.0, 1.0))
        return 1.0 - th / np.pi if j == 0 else \
            1.0 - (th + np.sin(2 * j * th) / (2 * j)) / np.pi
    x, w = _gauss(j + 2)                      # Gauss rule on [-1, t], exact for degree 2j
    s = (t[..., None] + 1) / 2
    return np.sum(w * s * 0.5 * phi_ref(family, j, -1 + s * (x + 1)) ** 2, axis=-1)


def inverse_cdf_ref(family, j, u):
    lo, hi = (-1.0, 1.0) if family != "hermite" else (-math.sqrt(4 * j + 2) - 10,
                                                      math.sqrt(4 * j + 2) + 10)
    return brentq(lambda t: float(cdf_1d_ref(family, j, t)) - u, lo, hi, xtol=1e-14)


def mixture_cdf_ref(family, m, t):
    """F(t) = (1/m) sum_{j<m} F_j(t): the CDF of rho_m in 1-D."""
    return sum(cdf_1d_ref(family, j, t) for j in range(m)) / m


def design_ref(space, draws, method, n, rng, delta=0.5, max_redraws=1000):
    """Reference points of an n-point design for Monte-Carlo studies (tests, benchmarks).

    ``draws`` is a ``numfit.approx._sample._Draws``. Methods: "iid", "iid_conditioned" (best of
    up to ``max_redraws`` redraws, stopping at ||G - I|| <= delta; ``design_ref.stable`` says
    whether it was reached), "volume" and "repeated_dpp" (n // m DPPs plus a uniformly chosen
    subset of one more).
    """
    from ._sample import _iid_conditioned
    m = space.m
    design_ref.stable = True
    if method == "iid":
        return draws.rho(rng, n)
    if method == "iid_conditioned":           # the library's redraw loop (best draw at the cap)
        t, info = _iid_conditioned(space, draws, rng, n, delta, max_redraws, n)
        design_ref.stable = info["status"] == 0
        return t
    if method == "volume":
        return np.concatenate([draws.dpp(rng), draws.rho(rng, n - m)])
    full, r = divmod(n, m)
    parts = [draws.dpp(rng) for _ in range(full)]
    if r:
        parts.append(draws.dpp(rng)[rng.choice(m, r, replace=False)])
    return np.concatenate(parts)
