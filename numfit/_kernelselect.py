"""Choose a kernel family's module: Cython (default) or its Numba twin.

Each family ``F`` of :data:`FAMILIES` with a compiled twin has ``numfit/_core/_F.pyx`` and
``numfit/_core/_nb_F.py`` with the same functions. ``NUMFIT_KERNELS=numba`` selects the Numba
twins; if a compiled extension cannot be imported (a source checkout that was never built) the
twin is used with a warning. The Numba-only families (``basis`` and ``sample``: the samplers
take a ``numpy.random.Generator``, which Cython cannot) always use Numba, without a warning.

Numba is imported only when a Numba module is loaded: the default Cython path never imports
it, and :func:`choice` tells which module :func:`default` would load without importing
anything but the compiled extension (it is what :func:`numfit.show_config` reports).
"""
import functools
import importlib
import os
import warnings

__all__ = ["FAMILIES", "load", "default", "choice", "requested", "lazy_default", "lazy_njit"]

FAMILIES = {
    "autoknots": ("cython", "numba"),
    "sor": ("cython", "numba"),
    "sketch": ("cython", "numba"),
    "basis": ("numba",),
    "sample": ("numba",),
}
"""Kernel family -> the backends it has, the preferred one first."""

_BUILD_HINT = "Run `pip install -e .` to build them."


def load(family, name):
    """Return the kernel module of ``family`` called ``name`` ("cython" or "numba")."""
    if name == "cython":
        if FAMILIES.get(family, ("cython",))[0] != "cython":
            raise ImportError(f"numfit's {family} kernels have no compiled (Cython) version; "
                              "they are Numba kernels")
        return importlib.import_module(f"numfit._core._{family}")
    if name == "numba":
        return importlib.import_module(f"numfit._core._nb_{family}")
    raise ValueError(f"NUMFIT_KERNELS must be 'cython' or 'numba'; got {name!r}")


def requested():
    """The backend asked for by ``NUMFIT_KERNELS`` ("cython" unless set)."""
    return os.environ.get("NUMFIT_KERNELS", "cython").strip().lower() or "cython"


def choice(family):
    """``(name, note)``: the backend :func:`default` selects for ``family`` and why.

    ``name`` is "cython" or "numba"; ``note`` is "" or a short reason (Numba-only family,
    ``NUMFIT_KERNELS`` set, compiled extension missing). Only the compiled extension may be
    imported here (cheap); Numba is never imported and nothing is warned.
    """
    if "cython" not in FAMILIES.get(family, ("cython", "numba")):
        return "numba", "Numba-only kernels"
    name = requested()
    if name not in ("cython", "numba"):
        raise ValueError(f"NUMFIT_KERNELS must be 'cython' or 'numba'; got {name!r}")
    if name == "numba":
        return "numba", "NUMFIT_KERNELS=numba"
    try:
        load(family, "cython")
    except ImportError as exc:
        return "numba", f"compiled kernels not built ({exc})"
    return "cython", ""


def default(family):
    """The module selected by ``NUMFIT_KERNELS`` (default: Cython, falling back to Numba).

    A Numba-only family loads its Numba module whatever ``NUMFIT_KERNELS`` says, without a
    warning.
    """
    name = requested()
    if "cython" not in FAMILIES.get(family, ("cython", "numba")):
        name = "numba"
    if name == "cython":
        try:
            return load(family, "cython")
        except ImportError as exc:  # pragma: no cover - only on an unbuilt checkout
            warnings.warn(f"numfit's compiled {family} kernels are not built ({exc}); using "
                          f"the Numba kernels. {_BUILD_HINT}", RuntimeWarning, stacklevel=3)
            return load(family, "numba")
    return load(family, name)


class _LazyKernels:
    """Stand-in for a kernel module that loads it (``default(family)``) on first attribute
    access, so that importing numfit does not import Numba for a Numba-only family."""

    def __init__(self, family):
        self.__dict__["_family"] = family
        self.__dict__["_module"] = None

    def _load(self):
        mod = self.__dict__["_module"]
        if mod is None:
            mod = default(self.__dict__["_family"])
            self.__dict__["_module"] = mod
        return mod

    def __getattr__(self, name):                  # only for names not cached yet
        value = getattr(self._load(), name)
        if not name.startswith("__"):
            self.__dict__[name] = value
        return value

    def __repr__(self):
        mod = self.__dict__["_module"]
        family = self.__dict__["_family"]
        return (repr(mod) if mod is not None
                else f"<numfit kernels {family!r} (not loaded yet)>")


def lazy_default(family):
    """A proxy of :func:`default` ``(family)`` that imports the module on first use."""
    return _LazyKernels(family)


def lazy_njit(**options):
    """``numba.njit(**options)`` applied on the first call instead of at import.

    A drop-in for ``@njit(...)`` on a module-level kernel of an otherwise Numba-free module
    (``from numfit._kernelselect import lazy_njit as njit``): importing the module does not
    import Numba; the first call compiles (or loads from Numba's cache) as ``njit`` would. The
    plain Python function stays available as ``.py_func``.
    """
    def decorate(func):
        compiled = None

        @functools.wraps(func)
        def kernel(*args):
            nonlocal compiled
            if compiled is None:
                import numba
                compiled = numba.njit(**options)(func)
            return compiled(*args)

        kernel.py_func = func
        return kernel
    return decorate
