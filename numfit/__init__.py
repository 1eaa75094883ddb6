"""numfit: adaptive splines, DPP least squares, sketched Newton and bandit-tuned SOR.

Public names are re-exported here.
"""
from ._errors import AutoKnotsWarning, DiscontinuityError
from ._result import Result
from ._workers import dask_map
from .approx import (PolynomialSpace, SamplingError, WeightedSample, WLSResult, sample_points,
                     wls)
from .interpolate import (AutoKnots2D, AutoKnotsChebyshev, AutoKnotsSpline, autoknots,
                          autoknots2d)
from .linalg import (BinnedTsallisINF, ChebCB, ContextRangeWarning, RelaxationTuner,
                     TsallisINF, sketch_solve, sor, ssor_cg)
from .optimize import ALSketchStatus, alsketch, minimize_alsketch

__version__ = "0.1.0"

__all__ = [
    "ALSketchStatus",
    "AutoKnots2D",
    "AutoKnotsChebyshev",
    "AutoKnotsSpline",
    "AutoKnotsWarning",
    "PolynomialSpace",
    "SamplingError",
    "WLSResult",
    "WeightedSample",
    "DiscontinuityError",
    "Result",
    "__version__",
    "alsketch",
    "autoknots",
    "autoknots2d",
    "minimize_alsketch",
    "sample_points",
    "wls",
    "BinnedTsallisINF",
    "ChebCB",
    "ContextRangeWarning",
    "RelaxationTuner",
    "TsallisINF",
    "sketch_solve",
    "sor",
    "ssor_cg",
    "dask_map",
]
