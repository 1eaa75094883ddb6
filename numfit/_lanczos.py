"""Fixed-budget Lanczos: Ritz values of a symmetric operator from a few products.

One home for the estimate that the relaxation tuner (the Jacobi spectral radius behind the
omega grid) and AL-sketch Newton (the smallest eigenvalue of the reduced Hessian) both need.
Full reorthogonalisation (twice) keeps the Ritz values clean for the few dozen steps used.
"""
import numpy as np

__all__ = ["ritz_values"]


def ritz_values(op, v0, steps, tol=1e-12):
    """Ritz values (ascending) of ``steps`` Lanczos steps of the symmetric ``op`` from ``v0``.

    Parameters
    ----------
    op : callable
        ``op(v) -> A v`` for a symmetric ``A`` (``n x n``).
    v0 : (n,) ndarray
        Start vector (nonzero; normalised here).
    steps : int
        At most ``min(steps, n)`` products; fewer when an invariant subspace is found (the
        new direction's norm falls below ``tol * max(1, |alpha|)``).
    tol : float, optional
        Relative breakdown threshold.

    Returns
    -------
    (k,) ndarray
        Eigenvalues of the ``k x k`` tridiagonal Lanczos matrix: they lie inside
        ``[lambda_min(A), lambda_max(A)]`` and approach the extreme eigenvalues first.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.diag(np.arange(1.0, 101.0))
    >>> theta = ritz_values(lambda v: A @ v, np.ones(100), 30)
    >>> bool(abs(theta[0] - 1) < 1e-3 and abs(theta[-1] - 100) < 1e-3)
    True
    """
    v = np.asarray(v0, dtype=np.float64)
    n = v.size
    k = max(1, min(int(steps), n))
    v = v / np.linalg.norm(v)
    V = np.zeros((k, n))
    alphas, betas = [], []
    for j in range(k):
        V[j] = v
        w = np.asarray(op(v), dtype=np.float64)
        a = float(v @ w)
        alphas.append(a)
        w = w - a * v
        if j > 0:
            w -= betas[-1] * V[j - 1]
        for _ in range(2):                       # full reorthogonalisation, twice
            w -= V[:j + 1].T @ (V[:j + 1] @ w)
        bnorm = float(np.linalg.norm(w))
        if j == k - 1 or bnorm <= tol * max(1.0, abs(a)):
            break
        betas.append(bnorm)
        v = w / bnorm
    T = np.diag(alphas)
    if len(alphas) > 1:
        off = np.asarray(betas[:len(alphas) - 1])
        T += np.diag(off, 1) + np.diag(off, -1)
    return np.linalg.eigvalsh(T)
