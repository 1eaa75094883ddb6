"""numfit.linalg: SOR, SSOR-PCG, bandit-tuned relaxation and system sequences (specs/sor.md).

Solvers: :func:`sor`, :func:`ssor_cg`, :func:`sor_sweep` (in place), :func:`prepare`.
Policies: :class:`TsallisINF`, :class:`BinnedTsallisINF`, :class:`ChebCB`; the driver
:class:`RelaxationTuner`. Sequences: :func:`shifted_laplacian_sequence`, :class:`HeatEquation2D`.
"""
from ._policies import (BinnedTsallisINF, ChebCB, ContextRangeWarning, TsallisINF, make_grid,
                        tsallis_probabilities)
from ._sequences import (HeatEquation2D, LinearSystem, laplacian_2d,
                         shifted_laplacian_sequence)
from ._sor import PreparedMatrix, SolveResult, prepare, sor, sor_sweep, ssor_cg
from ._tuner import RelaxationTuner, auto_grid, lanczos_beta

__all__ = [
    "BinnedTsallisINF", "ChebCB", "ContextRangeWarning", "HeatEquation2D", "LinearSystem",
    "PreparedMatrix", "RelaxationTuner", "SolveResult", "TsallisINF", "auto_grid",
    "lanczos_beta", "laplacian_2d", "make_grid", "prepare", "shifted_laplacian_sequence",
    "sor", "sor_sweep", "ssor_cg", "tsallis_probabilities",
]
