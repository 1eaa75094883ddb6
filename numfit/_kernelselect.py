"""Choose a kernel family's module: Cython (default) or its Numba twin.

Each family ``F`` has ``numfit/_core/_F.pyx`` and ``numfit/_core/_nb_F.py`` with the same
functions. ``NUMFIT_KERNELS=numba`` selects the Numba twins; if a compiled extension cannot be
imported (a source checkout that was never built) the twin is used with a warning.
"""
import importlib
import os
import warnings

__all__ = ["load", "default"]


def load(family, name):
    """Return the kernel module of ``family`` called ``name`` ("cython" or "numba")."""
    if name == "cython":
        return importlib.import_module(f"numfit._core._{family}")
    if name == "numba":
        return importlib.import_module(f"numfit._core._nb_{family}")
    raise ValueError(f"NUMFIT_KERNELS must be 'cython' or 'numba'; got {name!r}")


def default(family):
    """The module selected by ``NUMFIT_KERNELS`` (default: Cython, falling back to Numba)."""
    name = os.environ.get("NUMFIT_KERNELS", "cython").strip().lower() or "cython"
    if name == "cython":
        try:
            return load(family, "cython")
        except ImportError as exc:  # pragma: no cover - only on an unbuilt checkout
            warnings.warn(f"numfit's compiled {family} kernels are not built ({exc}); using "
                          "the Numba kernels. Run `pip install -e .` to build them.",
                          RuntimeWarning, stacklevel=3)
            return load(family, "numba")
    return load(family, name)
