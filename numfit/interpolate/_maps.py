"""The knot maps of the AutoKnots tables: name -> (U, U^-1), the variable each table is
refined (and, for the chebyshev kind and 2-D tables, interpolated) in."""
import numpy as np

__all__ = ["MAPS"]

MAPS = {
    "linear": (lambda x: x, lambda u: u),
    "log": (np.log, np.exp),
    "asinh": (np.arcsinh, np.sinh),
}
