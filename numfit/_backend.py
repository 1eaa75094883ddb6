"""Array-namespace dispatch: NumPy, or CuPy when the caller hands numfit CuPy arrays.

The rule (DESIGN: "when a user passes CuPy arrays, the work stays on the GPU and results
come back as CuPy arrays; with NumPy inputs nothing changes; without CuPy installed every
import and test still works"):

* :func:`array_namespace` returns ``numpy`` unless one of its arguments is a CuPy array (or
  a ``cupyx.scipy.sparse`` matrix), in which case it returns ``cupy``.  Detection looks at
  the type's module name, so it never imports CuPy for NumPy inputs.
* :func:`cupy_or_none` imports CuPy on demand and caches the outcome; it returns None when
  CuPy is missing or no CUDA device is usable.
* Kernels that have a GPU path are written once against a namespace ``xp`` (NumPy and CuPy
  share the API numfit uses) so the tests exercise the very same code with ``xp = numpy``
  on machines without a GPU; the few CuPy-only pieces (``cupy.fuse`` of an elementwise
  function, RawKernels) are wrapped by :func:`fuse`, which returns the plain function for
  NumPy.
"""
import functools

import numpy as np

__all__ = ["array_namespace", "is_cupy", "cupy_or_none", "have_gpu", "to_numpy", "asarray",
           "fuse", "device_key"]

_CUPY = None            # None: not tried yet; False: unavailable; else the module


def is_cupy(obj):
    """True for a CuPy ndarray or a cupyx.scipy.sparse matrix (without importing CuPy)."""
    mod = type(obj).__module__ or ""
    return mod == "cupy" or mod.startswith(("cupy.", "cupyx."))


def cupy_or_none():
    """The ``cupy`` module if it imports and sees a CUDA device, else None (cached)."""
    global _CUPY
    if _CUPY is None:
        try:
            import cupy
            cupy.cuda.runtime.getDeviceCount()
            _CUPY = cupy
        except Exception:  # ImportError, CUDARuntimeError, missing driver, ...
            _CUPY = False
    return _CUPY or None


def have_gpu():
    """True when CuPy is importable and a CUDA device is usable."""
    return cupy_or_none() is not None


def array_namespace(*arrays):
    """``cupy`` if any argument is a CuPy array, else ``numpy``.

    Mixing is allowed only in that direction: NumPy arguments are moved to the device by
    :func:`asarray` in the GPU path.  ``None`` arguments are ignored.
    """
    for a in arrays:
        if a is not None and is_cupy(a):
            cp = cupy_or_none()
            if cp is None:                                 # pragma: no cover - needs CuPy
                raise RuntimeError("a CuPy array was passed but CuPy cannot use a GPU here")
            return cp
    return np


def asarray(xp, a, dtype=None):
    """``a`` as an array of namespace ``xp`` (host -> device copy when xp is CuPy)."""
    return xp.asarray(a, dtype=dtype)


def to_numpy(a):
    """A NumPy copy of a CuPy array (``.get()``), or ``np.asarray(a)``."""
    if is_cupy(a):
        return a.get()
    return np.asarray(a)


def device_key(xp):
    """Key for per-device caches of host data: ``"numpy"``, or ``("cupy", device id)`` of
    CuPy's current device (so a spline used on two GPUs keeps one copy on each)."""
    if xp is np:
        return "numpy"
    return ("cupy", xp.cuda.Device().id)                  # pragma: no cover - needs CuPy


@functools.lru_cache(maxsize=None)
def _fused(func):
    cp = cupy_or_none()
    return cp.fuse(func) if cp is not None else func


def fuse(xp, func):
    """``cupy.fuse(func)`` (one GPU kernel for an elementwise function) when ``xp`` is
    CuPy, else ``func`` itself (NumPy evaluates it expression by expression)."""
    if xp is np:
        return func
    return _fused(func)                                    # pragma: no cover - needs CuPy


# --------------------------------------------------------------------------- sparse module
def sparse_module(xp):
    """``scipy.sparse`` for NumPy, ``cupyx.scipy.sparse`` for CuPy.

    GPU kernels written against ``xp`` use only what both modules provide: ``csr_matrix``
    built from ``(data, indices, indptr)``, ``@`` with a 1-D or 2-D array, ``.T``,
    ``.diagonal()``, ``.toarray()`` and ``issparse``.
    """
    if xp is np:
        import scipy.sparse
        return scipy.sparse
    import cupyx.scipy.sparse                              # pragma: no cover - needs CuPy
    return cupyx.scipy.sparse                              # pragma: no cover - needs CuPy


__all__ += ["sparse_module"]
