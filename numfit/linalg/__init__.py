"""numfit.linalg: SOR, SSOR-PCG, bandit-tuned relaxation, system sequences (Khodak et al.,
*Learning to Relax*, ICLR 2024; docs/sor.md) and sketch-and-project solvers
(:func:`sketch_solve`, Gower and Richtarik 2015; docs/alsketch.md).

Solvers: :func:`sor`, :func:`ssor_cg` (Eisenstat's form by default), :func:`sor_sweep` (in
place), :func:`prepare` (``ordering="multicolor"``: multicolour ordering from
:func:`greedy_coloring`, GPU-capable); :func:`estimate_omega` (``omega="auto"``).
Policies: :class:`TsallisINF`, :class:`BinnedTsallisINF`, :class:`ChebCB`,
:class:`UnimodalSearch` (``RelaxationTuner(policy="auto")``); the driver
:class:`RelaxationTuner`; the policies' size limits :data:`MAX_ARMS`, :data:`MAX_STATE_BYTES`.
Sequences: :func:`shifted_laplacian_sequence`, :class:`HeatEquation2D`,
:func:`anisotropic_sequence`, :func:`rotated_anisotropic_sequence` (matrices from
:func:`anisotropic_diffusion`).
"""
from ._policies import (MAX_ARMS, MAX_STATE_BYTES, BinnedTsallisINF, ChebCB,
                        ContextRangeWarning, TsallisINF, UnimodalSearch, make_grid,
                        tsallis_probabilities)
from ._multicolor import greedy_coloring
from ._omega import estimate_omega
from ._sequences import (HeatEquation2D, LinearSystem, anisotropic_diffusion,
                         anisotropic_sequence, laplacian_2d, rotated_anisotropic_sequence,
                         shifted_laplacian_sequence)
from ._sketch import SketchResult, sketch_solve
from ._sor import PreparedMatrix, SolveResult, prepare, sor, sor_sweep, ssor_cg
from ._tuner import RelaxationTuner, auto_grid, lanczos_beta

__all__ = [
    "MAX_ARMS", "MAX_STATE_BYTES", "BinnedTsallisINF", "ChebCB", "ContextRangeWarning",
    "HeatEquation2D", "LinearSystem", "PreparedMatrix", "RelaxationTuner", "SketchResult",
    "SolveResult", "TsallisINF", "UnimodalSearch", "anisotropic_diffusion",
    "anisotropic_sequence", "rotated_anisotropic_sequence", "auto_grid", "estimate_omega", "greedy_coloring", "lanczos_beta", "laplacian_2d",
    "make_grid", "prepare", "shifted_laplacian_sequence", "sketch_solve", "sor", "sor_sweep",
    "ssor_cg", "tsallis_probabilities",
]
