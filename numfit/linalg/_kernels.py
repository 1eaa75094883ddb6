"""The SOR kernel module in use (see :mod:`numfit._kernelselect`)."""
from .. import _kernelselect

__all__ = ["kernels", "load"]


def load(name):
    """Return the SOR kernel module called ``name`` ("cython" or "numba")."""
    return _kernelselect.load("sor", name)


kernels = _kernelselect.default("sor")
