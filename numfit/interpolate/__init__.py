"""Adaptive tabulation: :func:`autoknots` (:class:`AutoKnotsSpline`,
:class:`AutoKnotsChebyshev`) and :func:`autoknots2d` (:class:`AutoKnots2D`, :class:`AutoKnots2DChebyshev`)."""
from ._autoknots import autoknots
from ._autoknots2d import autoknots2d
from ._chebtable import AutoKnotsChebyshev
from ._spline import AutoKnotsSpline
from ._table2d import AutoKnots2D
from ._chebtable2d import AutoKnots2DChebyshev

__all__ = ["autoknots", "AutoKnotsSpline", "AutoKnotsChebyshev", "autoknots2d", "AutoKnots2D",
           "AutoKnots2DChebyshev"]
