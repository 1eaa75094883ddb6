"""Result objects: a ``dict`` with attribute access, like ``scipy.optimize.OptimizeResult``."""
from scipy.optimize import OptimizeResult

__all__ = ["Result"]


class Result(OptimizeResult):
    """Rich result: a ``dict`` subclass whose keys are also attributes.

    Every numfit result carries ``success``, ``status`` and ``message`` plus the counts of the
    routine that made it. It pickles like a ``dict``.
    """
