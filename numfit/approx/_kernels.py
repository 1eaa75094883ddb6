"""Thin wrappers over the Numba kernels: allocate outputs, map status codes.

Kernels live in ``numfit/_core/_nb_basis.py`` and ``_nb_sample.py`` (Numba here: the
samplers take a ``numpy.random.Generator``, which Cython cannot). Pure-NumPy
references of every kernel are in ``numfit/approx/_reference.py``.
"""
import numpy as np
from scipy.linalg import eigvalsh_tridiagonal

from .. import _kernelselect

# The Numba modules (and Numba itself) are imported on the first kernel call, not on import.
B = _kernelselect.lazy_default("basis")
S = _kernelselect.lazy_default("sample")

__all__ = ["features", "christoffel", "expansion",
           "draw_rho", "dpp_chain", "dpp_tridiagonal", "SamplingError"]


class SamplingError(RuntimeError):
    """A rejection sampler exceeded ``max_proposals`` or met a non-finite basis value."""


def features(t, beta, pmax, indices):
    out = np.empty((t.shape[0], indices.shape[0]))
    B.features(t, beta, pmax, indices, out)
    return out


def christoffel(t, beta, pmax, indices):
    out = np.empty(t.shape[0])
    B.christoffel(t, beta, pmax, indices, out)
    return out


def expansion(t, beta, pmax, indices, coef2d):
    out = np.empty((t.shape[0], coef2d.shape[1]))
    if indices.shape[1] == 1 and np.array_equal(indices[:, 0], np.arange(indices.shape[0])):
        B.clenshaw(np.ascontiguousarray(t[:, 0]), beta, coef2d, out)
    else:
        B.expansion(t, beta, pmax, indices, coef2d, out)
    return out


def _raise(status, what, m, info=None, max_prop=None):
    if status == 1:
        extra = ""
        if info is not None:
            extra = (f" at DPP step k={int(info[0])} of m={m} (largest acceptance ratio seen "
                     f"{info[1]:.3g})")
        raise SamplingError(
            f"{what}: a rejection loop exceeded max_proposals={max_prop}{extra}. A correct "
            "sampler fails with probability < 2**-max_proposals; likely causes are duplicate "
            "or degenerate indices or an ill-conditioned basis")
    raise SamplingError(f"{what}: non-finite basis values (degree too high for float64?)")


def draw_rho(rng, space, n, max_prop, counts):
    """n i.i.d. reference points from rho_m."""
    out = np.empty((n, space.dim))
    st = S.draw_rho(rng, space._code, space.beta, space.indices, max_prop, out, counts)
    if st:
        _raise(st, "sampling from the optimal density", space.m, max_prop=max_prop)
    return out


def dpp_chain(rng, space, max_prop, counts):
    """Projection DPP of the space (m reference points) by the chain rule."""
    m = space.m
    out = np.empty((m, space.dim))
    qt = np.empty((m, m))
    info = np.zeros(2)
    st = S.dpp_chain(rng, space._code, space.beta, space.pmax, space.indices, max_prop, out, qt,
                     counts, info)
    if st:
        _raise(st, "projection DPP (chain rule)", m, info, max_prop)
    return out


def dpp_tridiagonal(rng, space):
    """1-D projection DPP of P_{m-1} as eigenvalues of a random Jacobi matrix (sorted)."""
    m = space.m
    diag = np.empty(m)
    off = np.empty(max(m - 1, 0))
    if space.family == "hermite":
        S.hermite_tridiag(rng, m, diag, off)
        scale = 1.0
    else:
        a = 0.0 if space.family == "legendre" else -0.5
        S.jacobi_tridiag(rng, m, a, a, diag, off)
        scale = 0.5
    if m == 1:
        return (diag * scale).reshape(1, 1)
    lam = eigvalsh_tridiagonal(diag, off, lapack_driver="sterf")   # root-free QR: 2x stemr
    return (lam * scale).reshape(m, 1)
