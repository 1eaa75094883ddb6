"""numfit: adaptive splines, DPP least squares, sketched Newton and bandit-tuned SOR.

Public names are re-exported here; see ``DESIGN.md`` for the contract.
"""
from ._errors import AutoKnotsWarning, DiscontinuityError
from ._result import Result
from .interpolate import AutoKnotsSpline, autoknots
from .linalg import (BinnedTsallisINF, ChebCB, ContextRangeWarning, RelaxationTuner,
                     TsallisINF, sor, ssor_cg)

__version__ = "0.1.0"

__all__ = [
    "AutoKnotsSpline",
    "AutoKnotsWarning",
    "DiscontinuityError",
    "Result",
    "__version__",
    "autoknots",
    "BinnedTsallisINF",
    "ChebCB",
    "ContextRangeWarning",
    "RelaxationTuner",
    "TsallisINF",
    "sor",
    "ssor_cg",
]
