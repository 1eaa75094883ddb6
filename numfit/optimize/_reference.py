"""Pure-NumPy reference of the sketch-and-project kernels (for tests; slow and literal).

Each function applies ``nsteps`` sketch-and-project updates to a dense ``A`` from ``z0``, using
the same pre-drawn random numbers as the compiled kernels (``SketchRunner.draw``), and written
in the textbook form ``z <- z - W (W^T W)^+ S^T (A z - b)``, ``W = A^T S``, with the residual
recomputed from scratch at every step. The block solves use ``numpy.linalg.pinv`` (the
kernels use a Cholesky with dropped pivots; both give the same step on consistent systems).
"""
import numpy as np

__all__ = ["project_step", "sketch_steps_reference"]


def project_step(A, b, z, S):
    """One step ``z - W (W^T W)^+ S^T (A z - b)`` with ``W = A^T S`` (S is N x k)."""
    W = A.T @ S
    r = A @ z - b
    return z - W @ (np.linalg.pinv(W.T @ W, rcond=1e-12, hermitian=True) @ (S.T @ r))


def _sketch_matrix(sketch, draws, t, N, k):
    if sketch in ("kaczmarz", "kaczmarz_rownorm"):
        S = np.zeros((N, 1))
        S[draws[0][t], 0] = 1.0
        return S
    if sketch == "gaussian":
        return draws[0][t][:, None]
    if sketch == "block_gaussian":
        return draws[0][t]
    if sketch == "block_kaczmarz":
        tau = draws[0][t]
        S = np.zeros((N, len(tau)))
        S[tau, np.arange(len(tau))] = 1.0
        return S
    if sketch == "countsketch":
        h, sg = draws[0][t], draws[1][t]
        S = np.zeros((N, k))
        S[np.arange(N), h] = sg
        return S
    raise ValueError(sketch)


def sketch_steps_reference(A, b, z0, sketch, draws, nsteps, k=1):
    """Apply ``nsteps`` steps with the pre-drawn ``draws`` (a list of chunks, each a tuple of
    arrays as returned by ``SketchRunner.draw``); returns the final iterate."""
    A = np.asarray(A, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    z = np.array(z0, dtype=np.float64)
    N = A.shape[0]
    done = 0
    for chunk in draws:
        m = chunk[0].shape[0]
        for t in range(m):
            if done == nsteps:
                return z
            S = _sketch_matrix(sketch, chunk, t, N, k)
            if np.any(A.T @ S):
                z = project_step(A, b, z, S)
            done += 1
    return z
