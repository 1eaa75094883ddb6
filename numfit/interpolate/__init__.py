"""Adaptive spline tabulation: :func:`autoknots` and :class:`AutoKnotsSpline`."""
from ._autoknots import autoknots
from ._chebtable import AutoKnotsChebyshev
from ._spline import AutoKnotsSpline

__all__ = ["autoknots", "AutoKnotsSpline", "AutoKnotsChebyshev"]
