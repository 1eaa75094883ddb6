"""numfit: adaptive splines, DPP least squares, sketched Newton and bandit-tuned SOR.

Public names are re-exported here; see ``DESIGN.md`` for the contract.
"""
from ._errors import AutoKnotsWarning, DiscontinuityError
from ._result import Result
from .approx import (PolynomialSpace, SamplingError, WeightedSample, WLSResult, sample_points,
                     wls)
from .interpolate import AutoKnotsSpline, autoknots
from .linalg import (BinnedTsallisINF, ChebCB, ContextRangeWarning, RelaxationTuner,
                     TsallisINF, sor, ssor_cg)

__version__ = "0.1.0"

__all__ = [
    "AutoKnotsSpline",
    "AutoKnotsWarning",
    "PolynomialSpace",
    "SamplingError",
    "WLSResult",
    "WeightedSample",
    "DiscontinuityError",
    "Result",
    "__version__",
    "autoknots",
    "sample_points",
    "wls",
    "BinnedTsallisINF",
    "ChebCB",
    "ContextRangeWarning",
    "RelaxationTuner",
    "TsallisINF",
    "sor",
    "ssor_cg",
]
