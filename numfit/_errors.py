"""Exceptions and warnings shared by the numfit subpackages."""

__all__ = ["DiscontinuityError", "AutoKnotsWarning", "NumfitWarning"]


class NumfitWarning(UserWarning):
    """Base class of numfit's own warnings."""


class AutoKnotsWarning(RuntimeWarning):
    """AutoKnots stopped before meeting its tolerance (``max_knots`` reached, ...)."""


class DiscontinuityError(RuntimeError):
    """AutoKnots bisected an interval down to rounding without meeting the tolerance.

    Attributes
    ----------
    x : float
        The midpoint at which the guard fired.
    interval : tuple of float
        The knot interval ``(x0, x1)`` that could not be split further.
    n_evals : int
        Evaluations of ``f`` made before the error.
    partial : AutoKnotsSpline or None
        The spline through every knot evaluated so far.
    """

    def __init__(self, message, *, x=float("nan"), interval=(float("nan"), float("nan")),
                 n_evals=0, partial=None):
        super().__init__(message)
        self.x = x
        self.interval = interval
        self.n_evals = n_evals
        self.partial = partial

    def __reduce__(self):
        return (_rebuild_discontinuity, (self.args[0], self.x, self.interval, self.n_evals,
                                         self.partial))


def _rebuild_discontinuity(message, x, interval, n_evals, partial):
    return DiscontinuityError(message, x=x, interval=interval, n_evals=n_evals, partial=partial)
