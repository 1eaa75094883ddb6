"""The knot maps of the AutoKnots tables: name -> (U, U^-1), the variable each table is
refined (and, for the chebyshev kind and 2-D tables, interpolated) in."""
import numpy as np

__all__ = ["MAPS", "to_knot_variable"]

MAPS = {
    "linear": (lambda x: x, lambda u: u),
    "log": (np.log, np.exp),
    "asinh": (np.arcsinh, np.sinh),
}


def to_knot_variable(xp, q, mapname, knots, u, extrapolate):
    """Query points ``q`` (an ``xp`` array) in the knot variable of a table with breakpoints
    ``knots`` (``u`` in the knot variable); with the linear map the points themselves.

    Unless ``extrapolate``, points outside ``[knots[0], knots[-1]]`` become NaN and the rest
    are clipped to ``[u[0], u[-1]]`` (``U(a)`` may differ from ``u[0]`` by an ulp).
    """
    if mapname == "linear":
        return q
    with np.errstate(divide="ignore", invalid="ignore"):
        uq = xp.log(q) if mapname == "log" else xp.arcsinh(q)
    if not extrapolate:
        uq[(q < knots[0]) | (q > knots[-1])] = xp.nan
        xp.clip(uq, float(u[0]), float(u[-1]), out=uq)
    return uq
