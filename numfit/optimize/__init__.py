"""numfit.optimize: exact augmented Lagrangian Newton with randomized sketching (AL-sketch).

Hong, Na, Mahoney, Kolar (ICML 2023, arXiv:2305.18379); docs/alsketch.md.
:func:`minimize_alsketch` solves ``min f(x) s.t. c(x) = 0`` by Newton steps on the KKT
system, each solved inexactly (randomized sketch-and-project, the paper's method, or a sparse
LU, MINRES or null-space CG chosen by ``inner``), with a line search on an exact augmented
Lagrangian and adaptive accuracy and penalties. :func:`alsketch` is the same method as a
custom ``scipy.optimize.minimize`` method. Test problems live in
:mod:`numfit.optimize.problems`.
"""
from . import problems
from ._alsketch import (
                        ALSketchStatus,
                        FiniteDifferenceHessianWarning,
                        alsketch,
                        minimize_alsketch,
)
from ._merit import descent_identity, merit_directional, merit_gradient, merit_value

__all__ = ["ALSketchStatus", "FiniteDifferenceHessianWarning", "alsketch",
           "descent_identity", "merit_directional", "merit_gradient", "merit_value",
           "minimize_alsketch", "problems"]
