"""The AutoKnots kernel module in use (see :mod:`numfit._kernelselect`)."""
import math

import numpy as np

from .. import _kernelselect

__all__ = ["kernels", "load", "lookup_table"]

_MAX_CELLS = 2 ** 17


def lookup_table(t, K=None):
    """The bucket table of breakpoints ``t`` for the evaluation kernels' O(1) lookup.

    At least four buckets per interval; where the mesh allows (dyadic meshes do), buckets half
    as wide as the narrowest interval (at most 2^17), so that no bucket holds two breakpoints
    and the kernels read the interval without a search or a mispredicted branch.
    """
    n = t.size - 1
    h = float(np.min(np.diff(t)))
    fine = 2.0 * (t[-1] - t[0]) / h if h > 0 else math.inf
    C = max(4 * n, min(_MAX_CELLS, math.ceil(fine)) if math.isfinite(fine) else 4 * n)
    table = np.empty(C + 1, dtype=np.intp)
    (K or kernels).build_table(t, table)
    return table


def load(name):
    """Return the AutoKnots kernel module called ``name`` ("cython" or "numba")."""
    return _kernelselect.load("autoknots", name)


kernels = _kernelselect.default("autoknots")
