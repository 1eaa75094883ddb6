import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))   # tests/reference_*.py helpers


@pytest.fixture(params=["cython", "numba"])
def kernels(request):
    """Each AutoKnots kernel backend in turn."""
    from numfit.interpolate import _kernels
    return _kernels.load(request.param)


@pytest.fixture
def use_kernels(kernels, monkeypatch):
    """Run the front end on the given backend."""
    from numfit.interpolate import _kernels
    monkeypatch.setattr(_kernels, "kernels", kernels)
    return kernels
