"""Pure SciPy references for the SOR kernels (for tests; slow, literal, no fusion).

``sor_reference`` is the paper's Alg. 1: ``r = b - A x`` explicitly, test, then
``x <- x + W^{-1} r`` with a sparse triangular solve. ``ssor_cg_reference`` is textbook PCG with
``M^{-1}`` applied by two triangular solves; ``ssor_cg_eisenstat_reference`` is the same PCG
written as Eisenstat's split-preconditioned form (Eisenstat, SIAM J. Sci. Stat. Comput. 2(1),
1981), literally: CG on ``(D/w + L)^{-1} A (D/w + U)^{-1}`` with a diagonal preconditioner.
"""
import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve_triangular

__all__ = ["sor_reference", "ssor_apply_reference", "ssor_cg_reference",
           "ssor_cg_eisenstat_reference"]


def _split(A):
    A = sp.csr_array(A, dtype=np.float64)
    D = A.diagonal()
    L = sp.tril(A, k=-1, format="csr")
    U = sp.triu(A, k=1, format="csr")
    return A, D, L, U


def sor_reference(A, b, omega, x0=None, rtol=1e-8, maxiter=10_000, sweep="forward",
                  norm="r0", atol=0.0, divtol=1e10):
    """Literal Alg. 1. Returns ``(x, nit, status, residual_history)``."""
    A, D, L, U = _split(A)
    n = A.shape[0]
    b = np.asarray(b, dtype=np.float64)
    x = np.zeros(n) if x0 is None else np.array(x0, dtype=np.float64)
    Dm = sp.diags_array(D / omega, format="csr")
    Wf = sp.csr_array(Dm + L)
    Wb = sp.csr_array(Dm + U)
    r = b - A @ x
    rn = np.linalg.norm(r)
    ref = rn if norm == "r0" else np.linalg.norm(b)
    thresh = max(rtol * ref, atol)
    hist = [rn]
    if ref == 0 and atol == 0:
        return x, 0, 0, hist
    k = 0
    while True:
        if rn < thresh:
            return x, k, 0, hist
        if not np.isfinite(rn) or rn > divtol * ref:
            return x, k, 2, hist
        if k == maxiter:
            return x, k, 1, hist
        if sweep == "forward":
            x = x + spsolve_triangular(Wf, r, lower=True)
        elif sweep == "backward":
            x = x + spsolve_triangular(Wb, r, lower=False)
        else:
            x = x + spsolve_triangular(Wf, r, lower=True)
            x = x + spsolve_triangular(Wb, b - A @ x, lower=False)
        r = b - A @ x
        rn = np.linalg.norm(r)
        hist.append(rn)
        k += 1


def ssor_apply_reference(A, r, omega, order="fb"):
    """``M^{-1} r`` with ``M = (D+wL) D^{-1} (D+wU) / (w(2-w))`` by two triangular solves."""
    A, D, L, U = _split(A)
    Dd = sp.diags_array(D, format="csr")
    first, second = (L, U) if order == "fb" else (U, L)
    y = spsolve_triangular(sp.csr_array(Dd + omega * first), r, lower=(order == "fb"))
    y = D * y
    z = spsolve_triangular(sp.csr_array(Dd + omega * second), y, lower=(order != "fb"))
    return omega * (2 - omega) * z


def ssor_cg_reference(A, b, omega, x0=None, rtol=1e-8, maxiter=10_000, order="fb",
                      norm="b"):
    """Textbook PCG with the SSOR preconditioner. Returns ``(x, nit, residual_history)``."""
    A = sp.csr_array(A, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    x = np.zeros(A.shape[0]) if x0 is None else np.array(x0, dtype=np.float64)
    r = b - A @ x
    ref = np.linalg.norm(b) if norm == "b" else np.linalg.norm(r)
    z = ssor_apply_reference(A, r, omega, order)
    p = z.copy()
    rz = r @ z
    hist = [np.linalg.norm(r)]
    k = 0
    while hist[-1] > rtol * ref and k < maxiter:
        q = A @ p
        alpha = rz / (p @ q)
        x = x + alpha * p
        r = r - alpha * q
        z = ssor_apply_reference(A, r, omega, order)
        rz_new = r @ z
        p = z + (rz_new / rz) * p
        rz = rz_new
        k += 1
        hist.append(np.linalg.norm(r))
    return x, k, hist


def ssor_cg_eisenstat_reference(A, b, omega, x0=None, rtol=1e-8, maxiter=10_000, order="fb",
                                norm="b"):
    """SSOR-PCG in Eisenstat's form, literally (no fusion; sparse triangular solves).

    With ``Dt = D/w``, ``Lh = Dt + L``, ``Uh = Dt + U`` (``order="bf"`` swaps L and U), the
    SSOR preconditioner is ``M = Lh Dt^{-1} Uh / (2 - w)`` and ``A = Lh + Uh + K``,
    ``K = (1 - 2/w) D``. PCG on ``A`` with ``M`` is PCG on ``Ah = Lh^{-1} A Uh^{-1}`` with the
    preconditioner ``N^{-1} = (2 - w)/w D``: ``rh = Lh^{-1} r``, ``p = Uh^{-1} ph``, and
    ``Ah ph = t + Lh^{-1}(ph + K t)`` with ``t = Uh^{-1} ph``. Same iterates as
    :func:`ssor_cg_reference` in exact arithmetic. Returns ``(x, nit, residual_history)``
    with ``||r_k|| = ||Lh rh_k||``.
    """
    A, D, L, U = _split(A)
    b = np.asarray(b, dtype=np.float64)
    x = np.zeros(A.shape[0]) if x0 is None else np.array(x0, dtype=np.float64)
    Dt = sp.diags_array(D / omega, format="csr")
    first, second = (L, U) if order == "fb" else (U, L)
    Lh = sp.csr_array(Dt + first)            # the factor applied to r
    Uh = sp.csr_array(Dt + second)           # the factor applied to p
    lower = order == "fb"
    K = (1.0 - 2.0 / omega) * D
    ninv = (2.0 - omega) / omega * D
    r = b - A @ x
    ref = np.linalg.norm(b) if norm == "b" else np.linalg.norm(r)
    rh = spsolve_triangular(Lh, r, lower=lower)
    zh = ninv * rh
    ph = zh.copy()
    rz = rh @ zh
    hist = [np.linalg.norm(r)]
    k = 0
    while hist[-1] > rtol * ref and k < maxiter:
        t = spsolve_triangular(Uh, ph, lower=not lower)
        aph = t + spsolve_triangular(Lh, ph + K * t, lower=lower)
        alpha = rz / (ph @ aph)
        x = x + alpha * t
        rh = rh - alpha * aph
        zh = ninv * rh
        rz_new = rh @ zh
        ph = zh + (rz_new / rz) * ph
        rz = rz_new
        k += 1
        hist.append(np.linalg.norm(Lh @ rh))
    return x, k, hist
