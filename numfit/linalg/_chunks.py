"""How much work one compiled call may do.

The drivers of numfit.linalg run long compiled loops (SOR sweeps, PCG iterations, sketch
steps) in pieces of about :data:`CHUNK_WORK` nonzero visits, a few milliseconds, and loop in
Python between them: Python delivers Ctrl-C (``KeyboardInterrupt``) between two pieces, and
the stopping tests that need Python (SSOR-CG stagnation) run there. The kernels resume where
they paused, so the iterates are those of one uninterrupted call, bit for bit.
"""

__all__ = ["CHUNK_WORK", "pieces"]

CHUNK_WORK = 1 << 21
"""Nonzero visits per compiled call (~2e6: 3-6 ms on a current CPU core)."""


def pieces(work_per_iteration):
    """Iterations per compiled call for ``work_per_iteration`` nonzero visits each (>= 1)."""
    return max(1, int(CHUNK_WORK // max(1, int(work_per_iteration))))
