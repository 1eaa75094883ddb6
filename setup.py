"""Build the compiled kernels in ``numfit/_core`` (every ``*.pyx`` found there)."""
import glob
import os
import sys

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

here = os.path.dirname(os.path.abspath(__file__))
sources = sorted(glob.glob(os.path.join("numfit", "_core", "*.pyx")))
# release builds: no debug information, and on Linux a stripped shared object (a fifth of
# the size: 283 kB against 1.55 MB for _autoknots); NUMFIT_DEBUG_BUILD=1 keeps the symbols
debug = os.environ.get("NUMFIT_DEBUG_BUILD", "") not in ("", "0")
# -fno-math-errno: sqrt never sets errno (nothing reads it), so it compiles to one instruction
# and loops of square roots pipeline (measured when the Lanczos start vector computed
# sqrt(D^-1): 55 -> 39 us at n = 14,400; it now needs none except SOR's random start)
compile_args = ["-O3", "-fno-math-errno"] + ([] if debug else ["-g0"])
# _sor: loop heads aligned to 32 bytes. Its short sparse loops ran up to 20 % slower or
# faster with where the code happened to land: 4 Lanczos steps (elasticity, n = 7,200) took
# 297 us as built here and 241 us built from the same source as a module of another name;
# with the loops aligned, 241 us in both (the SOR, SSOR-CG and Eisenstat kernels unchanged)
extra_args = {"_sor": ["-falign-loops=32"]}
link_args = ["-s"] if sys.platform.startswith("linux") and not debug else []
extensions = [
    Extension(
        name=src[:-4].replace(os.sep, "."),
        sources=[src],
        include_dirs=[np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=compile_args + extra_args.get(os.path.basename(src)[:-4], []),
        extra_link_args=link_args,
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
