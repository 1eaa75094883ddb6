"""The exact augmented Lagrangian merit (Hong, Na, Mahoney, Kolar, ICML 2023; docs/alsketch.md).

``L_eta(x, lam) = f + lam^T c + (eta1/2) ||c||^2 + (eta2/2) ||grad_x L||^2`` with
``grad_x L = grad f + G^T lam``. Its gradient needs one product with the Lagrangian Hessian:

    grad_x L_eta   = grad_x L + eta1 G^T c + eta2 H grad_x L
    grad_lam L_eta = c + eta2 G grad_x L

With ``u = H grad_x L``, ``v = G^T c`` and ``w = G grad_x L`` cached, the gradient costs O(n+m)
for any (eta1, eta2).
"""
import numpy as np

__all__ = ["descent_identity", "merit_directional", "merit_gradient", "merit_value"]


def merit_value(f, lam, c, gxl, eta1, eta2):
    """``f + lam.c + eta1/2 |c|^2 + eta2/2 |grad_x L|^2`` (+inf when not finite)."""
    val = float(f) + float(lam @ c) + 0.5 * eta1 * float(c @ c) + 0.5 * eta2 * float(gxl @ gxl)
    return val if np.isfinite(val) else np.inf


def merit_gradient(gxl, c, u, v, w, eta1, eta2):
    """``(grad_x L_eta, grad_lam L_eta)`` from the cached products u, v, w."""
    return gxl + eta2 * u + eta1 * v, c + eta2 * w


def merit_directional(gxl, c, u, v, w, dx, dlam, eta1, eta2):
    """Directional derivative ``grad L_eta^T (dx, dlam)`` of the merit."""
    gx, gl = merit_gradient(gxl, c, u, v, w, eta1, eta2)
    return float(gx @ dx) + float(gl @ dlam)


def descent_identity(gxl, c, B, dx, dlam, t, eta1, eta2):
    """Right-hand side of the descent identity for an exact Newton step (Hong et al. 2023):

    ``-eta2 |grad_x L|^2 - eta1 |c|^2 - dx^T B dx + 2 c^T dlam - t eta2 grad_x L^T dx``,
    where ``B = H + t I`` and (dx, dlam) solves ``K z = -grad L``.
    """
    Bdx = B @ dx
    return (-eta2 * float(gxl @ gxl) - eta1 * float(c @ c) - float(dx @ Bdx)
            + 2.0 * float(c @ dlam) - t * eta2 * float(gxl @ dx))
