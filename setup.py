"""Build the compiled kernels in ``numfit/_core`` (every ``*.pyx`` found there)."""
import glob
import os

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

here = os.path.dirname(os.path.abspath(__file__))
sources = sorted(glob.glob(os.path.join("numfit", "_core", "*.pyx")))
extensions = [
    Extension(
        name=src[:-4].replace(os.sep, "."),
        sources=[src],
        include_dirs=[np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=["-O3"],
    )
    for src in sources
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
        quiet=True,
    ),
)
