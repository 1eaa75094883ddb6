"""numfit: adaptive splines, DPP least squares, sketched Newton and bandit-tuned SOR.

Public names are re-exported here. They are loaded on first use (PEP 562), so that
``import numfit`` stays cheap: ``from numfit import autoknots`` imports the interpolation
code only, and Numba and :mod:`scipy.optimize` are imported only by the code that needs them.
"""
import importlib as _importlib

from ._errors import AutoKnotsWarning, DiscontinuityError
from ._result import Result

__version__ = "0.1.0"

__all__ = [
    "ALSketchStatus",
    "AutoKnots2D",
    "AutoKnots2DChebyshev",
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
    "UnimodalSearch",
    "sketch_solve",
    "sor",
    "ssor_cg",
    "dask_map",
    "WorkerDiedError",
    "show_config",
    "save",
    "load",
]

# public name -> the module (relative to numfit) that defines it; imported on first access
_LAZY = {
    "PolynomialSpace": ".approx", "SamplingError": ".approx", "WLSResult": ".approx",
    "WeightedSample": ".approx", "sample_points": ".approx", "wls": ".approx",
    "AutoKnots2D": ".interpolate", "AutoKnots2DChebyshev": ".interpolate",
    "AutoKnotsChebyshev": ".interpolate",
    "AutoKnotsSpline": ".interpolate", "autoknots": ".interpolate",
    "autoknots2d": ".interpolate",
    "BinnedTsallisINF": ".linalg", "ChebCB": ".linalg", "ContextRangeWarning": ".linalg",
    "RelaxationTuner": ".linalg", "TsallisINF": ".linalg", "UnimodalSearch": ".linalg",
    "sketch_solve": ".linalg",
    "sor": ".linalg", "ssor_cg": ".linalg",
    "ALSketchStatus": ".optimize", "alsketch": ".optimize", "minimize_alsketch": ".optimize",
    "dask_map": "._workers", "WorkerDiedError": "._workers",
    "show_config": "._config",
    "save": "._io", "load": "._io",
}
_SUBPACKAGES = ("approx", "cosmology", "interpolate", "linalg", "optimize")


def __getattr__(name):
    mod = _LAZY.get(name)
    if mod is not None:
        value = getattr(_importlib.import_module(mod, __name__), name)
        globals()[name] = value            # later look-ups skip this function
        return value
    if name in _SUBPACKAGES:               # ``numfit.linalg`` after a bare ``import numfit``
        return _importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_SUBPACKAGES))
