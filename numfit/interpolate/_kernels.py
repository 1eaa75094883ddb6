"""Choose the AutoKnots kernel module: Cython (default) or its Numba twin.

``NUMFIT_KERNELS=numba`` selects the Numba kernels; if the compiled Cython extension cannot be
imported (a source checkout that was never built) the Numba twins are used with a warning.
"""
import os
import warnings

__all__ = ["kernels", "load"]


def load(name):
    """Return the kernel module called ``name`` ("cython" or "numba")."""
    if name == "cython":
        from .._core import _autoknots
        return _autoknots
    if name == "numba":
        from .._core import _nb_autoknots
        return _nb_autoknots
    raise ValueError(f"NUMFIT_KERNELS must be 'cython' or 'numba'; got {name!r}")


def _default():
    name = os.environ.get("NUMFIT_KERNELS", "cython").strip().lower() or "cython"
    if name == "cython":
        try:
            return load("cython")
        except ImportError as exc:  # pragma: no cover - only on an unbuilt checkout
            warnings.warn(f"numfit's compiled kernels are not built ({exc}); using the Numba "
                          "kernels. Run `pip install -e .` to build them.", RuntimeWarning,
                          stacklevel=2)
            return load("numba")
    return load(name)


kernels = _default()
