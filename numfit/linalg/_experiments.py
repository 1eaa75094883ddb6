"""The shifted-Laplacian experiment of Khodak et al., *Learning to Relax* (ICLR 2024, sections
2-3; numfit's SOR guide, docs/sor.md), shared by the tests, the benchmarks, the docs script and
the demo.

For every instance the SOR iteration count of each baseline omega (paper grid together with
1.0, 1.2, ..., 1.8) is computed once; the learners then play on the same instances. Solves are
deterministic (x0 = 0), so a learner's cost for a grid omega equals the tabulated count; with
``table=False`` the learners run through :class:`RelaxationTuner` with real solves instead
(the tests check both give the same omegas and costs).
"""
import math

import numpy as np

from ._policies import BinnedTsallisINF, ChebCB, TsallisINF, make_grid
from ._sequences import shifted_laplacian_sequence
from ._sor import _sor_prepared, prepare
from ._tuner import RelaxationTuner

__all__ = ["shifted_laplacian_experiment", "young_omega", "fixed_costs"]

CONTEXT_RANGE = (-0.15, 0.65)


def _sor_cost(P, b, omega, rtol, maxiter):
    """Forward-SOR iterations from x0 = 0 (norm r0); ``maxiter`` when it does not converge."""
    r = _sor_prepared(P, b, np.zeros(P.n), float(omega), 0, 0, rtol, 0.0, 1e10, maxiter)
    return r.nit if r.status == 0 else maxiter


def fixed_costs(prepared, rhs, omegas, *, rtol=1e-8, maxiter=10_000):
    """``(T, len(omegas))`` forward-SOR iteration counts of every omega on every system
    (prepared matrices and right-hand sides, x0 = 0, norm r0; a solve that does not converge
    costs ``maxiter``): the table against which a learner's costs and the best fixed omega in
    hindsight are read."""
    C = np.empty((len(prepared), len(omegas)))
    for t, (P, b) in enumerate(zip(prepared, rhs)):
        for j, w in enumerate(omegas):
            C[t, j] = _sor_cost(P, b, w, rtol, maxiter)
    return C


def young_omega(c, m=10):
    """Young's optimal omega for the shifted m x m Laplacian ``A0 + c I`` (diagonal 4 + c)."""
    h = 1.0 / (m + 1)
    beta = 4.0 * math.cos(math.pi * h) / (4.0 + c)
    return 2.0 / (1.0 + math.sqrt(1.0 - beta * beta))


def shifted_laplacian_experiment(T=5000, variance="low", seed=0, *, m=10, rtol=1e-8,
                                 maxiter=10_000, learners=("tsallis", "tsallis_rv", "binned",
                                                            "chebcb"),
                                 young=True, table=True, learner_seed=None):
    """Run the 7.1 experiment; return per-instance costs of baselines and learners.

    Returns
    -------
    dict
        ``omegas`` (baseline omegas), ``fixed`` (T, len(omegas)) iteration counts,
        ``contexts`` (T,), ``grid`` (paper grid), per learner name an array (T,) of costs and
        ``<name>_omegas``; ``instance_optimal`` (T,) = min over baselines; ``young`` (T,) if
        requested.
    """
    grid = make_grid("paper")
    omegas = np.unique(np.concatenate([grid, np.round(np.arange(1.0, 1.81, 0.2), 10)]))
    systems = list(shifted_laplacian_sequence(T, m=m, variance=variance, rng=seed))
    prepared = [prepare(sys.A) for sys in systems]
    contexts = np.array([sys.context for sys in systems], dtype=float)
    fixed = fixed_costs(prepared, [sys.b for sys in systems], omegas, rtol=rtol,
                        maxiter=maxiter)
    if young:
        yo = np.array([_sor_cost(P, sys.b, young_omega(sys.context, m), rtol, maxiter)
                       for P, sys in zip(prepared, systems)], dtype=float)
    col = {float(w): j for j, w in enumerate(omegas)}
    out = {"omegas": omegas, "fixed": fixed, "contexts": contexts, "grid": grid,
           "instance_optimal": fixed.min(axis=1)}
    if young:
        out["young"] = yo
    lseed = seed + 1000 if learner_seed is None else learner_seed

    def make(name):
        if name == "tsallis":
            return TsallisINF(grid, rng=lseed), "tsallis", {}
        if name == "tsallis_rv":
            return TsallisINF(grid, estimator="rv", rng=lseed), "tsallis", {"estimator": "rv"}
        if name == "binned":
            return BinnedTsallisINF(grid, CONTEXT_RANGE, bins=5, rng=lseed), "binned", {}
        if name == "chebcb":
            return ChebCB(grid, CONTEXT_RANGE, m=6, rng=lseed), "chebcb", {}
        raise ValueError(f"unknown learner {name!r}")

    for name in learners:
        pol, pname, popts = make(name)
        costs = np.empty(T)
        ws = np.empty(T)
        if table:
            for t in range(T):
                w = pol.select(contexts[t])
                c = fixed[t, col[float(w)]]
                pol.update(c)
                costs[t], ws[t] = c, w
        else:
            tuner = RelaxationTuner(pname, "sor", grid=grid, rng=lseed, rtol=rtol,
                                    maxiter=maxiter, context_range=CONTEXT_RANGE,
                                    policy_options=popts)
            for t, sys in enumerate(systems):
                r = tuner.solve(prepared[t], sys.b, context=sys.context)
                costs[t], ws[t] = r.cost, r.omega
        out[name] = costs
        out[name + "_omegas"] = ws
    return out


def summarize(res, last=1000):
    """Totals and last-``last`` per-instance means of every method in ``res``."""
    fixed, omegas = res["fixed"], res["omegas"]
    T = fixed.shape[0]
    last = min(last, T)
    tot = fixed.sum(axis=0)
    jb = int(np.argmin(tot))
    rows = {}
    for j, w in enumerate(omegas):
        rows[f"omega={w:.4g}"] = (tot[j], fixed[-last:, j].mean())
    rows["best fixed"] = (tot[jb], fixed[-last:, jb].mean())
    for key in ("tsallis", "tsallis_rv", "binned", "chebcb", "instance_optimal", "young"):
        if key in res:
            rows[key] = (res[key].sum(), res[key][-last:].mean())
    return {"rows": rows, "best_omega": float(omegas[jb]), "best_index": jb}
