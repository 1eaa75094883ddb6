"""Exceptions and warnings shared by the numfit subpackages."""

__all__ = ["DiscontinuityError", "AutoKnotsWarning", "NumfitWarning", "CosmologyError",
           "RedshiftRangeError", "CalibrationRangeWarning"]


class NumfitWarning(UserWarning):
    """Base class of numfit's own warnings."""


class CalibrationRangeWarning(NumfitWarning):
    """A fitting formula used outside the range its paper calibrated it on (a redshift or
    an overdensity): the value returned is an extrapolation of the fit.

    Attributes
    ----------
    model : str
        The fit (e.g. ``"tinker08"``).
    quantity : str
        ``"z"`` or ``"delta_m"``.
    value : float
        The value outside the range.
    valid : tuple of float
        The calibrated range ``(low, high)``.
    """

    def __init__(self, message, *, model="", quantity="", value=float("nan"),
                 valid=(float("nan"), float("nan"))):
        super().__init__(message)
        self.model = model
        self.quantity = quantity
        self.value = value
        self.valid = valid

    def __reduce__(self):
        return (_rebuild_calibration, (self.args[0], self.model, self.quantity, self.value,
                                       self.valid))


def _rebuild_calibration(message, model, quantity, value, valid):
    return CalibrationRangeWarning(message, model=model, quantity=quantity, value=value,
                                   valid=valid)


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


class CosmologyError(ValueError):
    """Cosmological parameters that describe no valid expanding background, e.g. a set of
    Omega values for which ``E(z)**2 <= 0`` somewhere on the declared redshift range."""


class RedshiftRangeError(ValueError):
    """A redshift outside the range a table was built for (``0 <= z <= zmax``).

    Attributes
    ----------
    z : float
        The offending redshift (the largest one in the input).
    zmax : float
        The upper end of the table's declared range.
    """

    def __init__(self, message, *, z=float("nan"), zmax=float("nan")):
        super().__init__(message)
        self.z = z
        self.zmax = zmax

    def __reduce__(self):
        return (_rebuild_range, (self.args[0], self.z, self.zmax))


def _rebuild_range(message, z, zmax):
    return RedshiftRangeError(message, z=z, zmax=zmax)
