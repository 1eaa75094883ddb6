"""RelaxationTuner: choose omega online across a sequence of systems (Khodak et al., *Learning
to Relax*, ICLR 2024; the method and its defaults in numfit's SOR guide, docs/sor.md)."""
import copy
import math

import numpy as np

from .._io import SaveMixin
from .._lanczos import ritz_values
from .._result import Result
from .._validation import as_rng, check_float, check_int, check_option
from ._omega import estimate_omega
from ._policies import (BinnedTsallisINF, ChebCB, TsallisINF, UnimodalSearch, _grid_summary,
                        _is_policy, make_grid)
from ._sor import (_NORM_CODE, _SWEEP_CODE, _SWEEPS, _as_vector, _check_callback,
                   _check_symmetric, _sor_prepared, _sor_unfused, _ssor_cg_prepared, prepare)

__all__ = ["RelaxationTuner", "auto_grid", "lanczos_beta"]

START_BUDGET = 1.0
"""``policy="auto"``: Lanczos budget of each warm-start estimate, in units of the solve's
predicted iteration count (:func:`estimate_omega`'s ``budget``)."""
START_SYSTEMS = 3
"""``policy="auto"``: :func:`estimate_omega` runs on the first ``START_SYSTEMS`` systems; the
first starts the search, a later one higher than all before it is passed as a hint
(:meth:`UnimodalSearch.hint`): SOR's and SSOR-CG's costs rise slowly above the optimal omega
and steeply below it, so the best fixed omega of a sequence lies towards the upper end of the
systems' own optima, where the costs also vary least from system to system."""


def lanczos_beta(A, steps=50):
    """Estimate ``beta = rho(I - D^{-1} A)`` by Lanczos on ``D^{-1/2} A D^{-1/2}``.

    ``steps`` Lanczos steps with full reorthogonalisation from the deterministic start
    ``D^{1/2} 1``; returns ``max(1 - theta_min, theta_max - 1)`` over the Ritz values.
    Underestimates beta (Ritz values lie inside the spectrum).
    """
    P = prepare(A)
    s = np.sqrt(P.diag)
    theta = ritz_values(lambda v: P.matvec(v / s) / s, s, steps)
    return float(max(1.0 - theta.min(), theta.max() - 1.0))


def auto_grid(A, steps=50):
    """The ``grid=None`` omega grid for matrix ``A`` (numfit's SOR guide, docs/sor.md).

    Returns ``(grid, info)`` with ``info = {"beta_hat", "omega_hat", "omega_hi", "kind"}``.
    """
    beta = lanczos_beta(A, steps)
    if beta >= 1.0:
        omega_hat, omega_hi = math.nan, 1.99
    else:
        omega_hat = 2.0 / (1.0 + math.sqrt(1.0 - beta * beta))
        omega_hi = min(2.0 - (2.0 - omega_hat) / 4.0, 2.0 - 1e-4)
    if omega_hi <= 1.95:
        kind, grid = "paper", make_grid("paper")
    else:
        kind, grid = "log", make_grid("log", omega_hi=omega_hi)
    return grid, {"beta_hat": beta, "omega_hat": omega_hat, "omega_hi": omega_hi,
                  "kind": kind}


class RelaxationTuner(SaveMixin):
    """Pick the relaxation factor online over a sequence of linear systems.

    Each :meth:`solve` asks the policy for an omega, solves with it (SOR or SSOR-PCG) and
    feeds the iteration count back: bandit feedback only, no extra matrix work. A solve that
    raises (KeyboardInterrupt included) leaves the tuner exactly as it was before the call.

    Parameters
    ----------
    policy : {"tsallis", "binned", "chebcb", "auto"} or policy instance
        :class:`TsallisINF` (compete with the best fixed omega), :class:`BinnedTsallisINF` or
        :class:`ChebCB` (use a scalar context per system), or ``"auto"``:
        :class:`UnimodalSearch` (sliding-window OSUB along the grid, for cost curves that are
        unimodal in omega) started at :func:`estimate_omega` of the first system (Lanczos with
        ``budget=START_BUDGET``, 1.0; the estimates of the next ``START_SYSTEMS - 1``
        systems, when higher, are hints), unless ``policy_options`` gives ``start``; see
        docs/sor.md, "policy='auto'". An instance's grid wins.
    solver : {"sor", "ssor_cg"}
    grid : None, "auto", "paper", "log" or array_like
        ``None``/"auto": chosen from the first system by 50 Lanczos steps (see docs/sor.md).
    rng : None, int or numpy.random.Generator
    rtol, maxiter, norm, sweep
        Solver settings (``norm=None``: the solver's default, "r0" for SOR, "b" for SSOR-CG).
    context_range : (float, float), optional
        Required by the contextual policies.
    horizon : int, optional
        Number of systems (for ``eta="horizon"``).
    backstop : bool
        If the chosen omega hits the cap or diverges, continue from the current iterate with
        ``safe_omega`` (own ``maxiter``); the learner still sees ``cost = cap``.
    safe_omega : "best" or float
        "best": lowest mean cost among arms played >= 3 times, else 1.0.
    cap_factor : float, optional
        After 20 rounds cap each solve at ``min(maxiter, ceil(cap_factor * median cost))``.
    policy_options, solver_options : dict, optional
        Extra keywords for the policy constructor / solver (``atol``, ``divtol``, ``order``,
        ``check_symmetry``).

    Attributes
    ----------
    policy : policy object
        The policy (built on the first solve when ``grid`` is automatic).
    grid : ndarray or None
    grid_info : dict or None
    history : Result
        Arrays ``omegas, arms, costs, nit, probabilities, contexts, converged, backstop``.
    start_info : dict or None
        ``policy="auto"``: the warm-start estimates, ``{"omegas", "steps", "time",
        "omega"}`` (tuples of :func:`estimate_omega`'s omegas and Lanczos steps on the first
        systems, their total time, the highest omega); None before the first solve or when
        ``start`` was given.

    Examples
    --------
    >>> import numfit as nf
    >>> from numfit.linalg import shifted_laplacian_sequence
    >>> tuner = nf.RelaxationTuner("tsallis", grid="paper", rng=0)
    >>> for sys in shifted_laplacian_sequence(20, rng=1):
    ...     r = tuner.solve(sys.A, sys.b, context=sys.context)
    >>> len(tuner.history.omegas), bool(tuner.history.converged.all())
    (20, True)
    """

    def __init__(self, policy="tsallis", solver="sor", grid=None, rng=None, *, rtol=1e-8,
                 maxiter=10_000, norm=None, sweep="forward", context_range=None, horizon=None,
                 backstop=True, safe_omega="best", cap_factor=None, policy_options=None,
                 solver_options=None):
        self.solver = check_option("solver", solver, ("sor", "ssor_cg"))
        self.rng = as_rng(rng)
        self.rtol = check_float("rtol", rtol, lo=0.0)
        self.maxiter = check_int("maxiter", maxiter, lo=1)
        default_norm = "r0" if self.solver == "sor" else "b"
        self.norm = default_norm if norm is None else check_option("norm", norm, ("r0", "b"))
        self.sweep = check_option("sweep", sweep, _SWEEPS)
        self.horizon = None if horizon is None else check_int("horizon", horizon, lo=1)
        self.backstop = check_option("backstop", backstop, (True, False))
        if isinstance(safe_omega, str):
            self.safe_omega = check_option("safe_omega", safe_omega, ("best",))
        else:
            self.safe_omega = check_float("safe_omega", safe_omega, lo=0.0, hi=2.0,
                                          lo_open=True, hi_open=True)
        self.cap_factor = None if cap_factor is None else check_float(
            "cap_factor", cap_factor, lo=1.0)
        if policy_options is not None and not isinstance(policy_options, dict):
            raise TypeError("`policy_options` must be a dict or None")
        if solver_options is not None and not isinstance(solver_options, dict):
            raise TypeError("`solver_options` must be a dict or None")
        self.policy_options = dict(policy_options or {})
        so = dict(solver_options or {})
        allowed = (("atol", "divtol") if self.solver == "sor"
                   else ("atol", "order", "check_symmetry"))
        for key in so:
            if key not in allowed:
                raise ValueError(f"`solver_options` key {key!r} is not allowed for solver "
                                 f"{self.solver!r}; allowed: {', '.join(allowed)}")
        self.atol = check_float("solver_options['atol']", so.get("atol", 0.0), lo=0.0)
        self.divtol = check_float("solver_options['divtol']", so.get("divtol", 1e10),
                                  lo=0.0, lo_open=True, finite=False)
        self.order = check_option("solver_options['order']", so.get("order", "fb"),
                                  ("fb", "bf"))
        self.check_symmetry = check_option("solver_options['check_symmetry']",
                                           so.get("check_symmetry", True),
                                           (True, False, "warn"))
        self.context_range = context_range
        self.grid_info = None
        self.start_info = None
        if _is_policy(policy):
            self.policy_name = type(policy).__name__
            self.policy = policy
            self.grid = np.asarray(policy.grid, dtype=float)
        else:
            self.policy_name = check_option("policy", policy,
                                            ("tsallis", "binned", "chebcb", "auto"))
            self.policy = None
            if self.policy_name in ("binned", "chebcb") and context_range is None:
                raise ValueError(f"`context_range` must be given for policy "
                                 f"{self.policy_name!r}")
            if grid is None or (isinstance(grid, str) and grid == "auto"):
                self.grid = None
            else:
                self.grid = make_grid(grid)
                if not self._needs_start():
                    self._build_policy()
        self._hist = {k: [] for k in ("omegas", "arms", "costs", "nit", "probabilities",
                                      "contexts", "converged", "backstop")}

    # ------------------------------------------------------------------ internals
    def _needs_start(self):
        """policy="auto" without a ``start`` option: built on the first system."""
        return self.policy_name == "auto" and "start" not in self.policy_options

    def _estimate(self, P):
        """policy="auto": :func:`estimate_omega` of this system, recorded in ``start_info``
        (a new dict: the snapshot keeps the old one); returns the estimate."""
        est, info = estimate_omega(P, self.solver, rtol=self.rtol, budget=START_BUDGET)
        old = self.start_info or {"omegas": (), "steps": (), "time": 0.0, "omega": -math.inf}
        self.start_info = {"omegas": old["omegas"] + (est,),
                           "steps": old["steps"] + (int(info["steps"]),),
                           "time": old["time"] + info["time"],
                           "omega": max(old["omega"], est)}
        return est

    def _build_policy(self, start=None):
        opts = dict(self.policy_options)
        if self.policy_name == "auto":
            if start is not None:
                opts["start"] = start
            self.policy = UnimodalSearch(self.grid, rng=self.rng, **opts)
        elif self.policy_name == "tsallis":
            if self.horizon is not None:
                opts.setdefault("horizon", self.horizon)
            self.policy = TsallisINF(self.grid, rng=self.rng, **opts)
        elif self.policy_name == "binned":
            if self.horizon is not None:
                opts.setdefault("horizon", self.horizon)
            self.policy = BinnedTsallisINF(self.grid, self.context_range, rng=self.rng,
                                           **opts)
        else:
            self.policy = ChebCB(self.grid, self.context_range, rng=self.rng, **opts)

    def _cap(self):
        costs = self._hist["costs"]
        if self.cap_factor is None or len(costs) < 20:
            return self.maxiter
        return int(min(self.maxiter, math.ceil(self.cap_factor * float(np.median(costs)))))

    def _safe(self):
        if self.safe_omega != "best":
            return self.safe_omega
        arms = np.asarray(self._hist["arms"], dtype=int)
        costs = np.asarray(self._hist["costs"], dtype=float)
        best, best_cost = 1.0, math.inf
        for a in np.unique(arms):
            c = costs[arms == a]
            if c.size >= 3 and c.mean() < best_cost:
                best, best_cost = float(self.grid[a]), c.mean()
        return best

    def _run(self, P, b, x, omega, maxiter, rtol=None, atol=None, callback=None):
        rtol = self.rtol if rtol is None else rtol
        atol = self.atol if atol is None else atol
        if self.solver == "sor":
            args = (P, b, x, omega, _SWEEP_CODE[self.sweep], _NORM_CODE[self.norm], rtol,
                    atol, self.divtol, maxiter)
            if callback is not None:
                return _sor_unfused(*args, callback, False)
            return _sor_prepared(*args)
        oc = 0 if self.order == "fb" else 1
        return _ssor_cg_prepared(P, b, x, omega, oc, _NORM_CODE[self.norm], rtol, atol,
                                 maxiter, callback=callback)

    def _generators(self):
        """The random generators of the tuner and its policy (restored, never copied)."""
        found = {}

        def visit(obj, depth):
            if isinstance(obj, (np.random.Generator, np.random.RandomState)):
                found[id(obj)] = obj
            elif depth < 3 and not isinstance(obj, (type, np.ndarray)):
                if isinstance(obj, (list, tuple)):
                    items = obj
                elif isinstance(obj, dict):
                    items = obj.values()
                else:
                    items = getattr(obj, "__dict__", {}).values()
                for item in items:
                    visit(item, depth + 1)

        visit(self.rng, 0)
        visit(self.policy, 0)
        return list(found.values())

    def _snapshot(self):
        """Everything :meth:`solve` may change: policy state, grid, history lengths and the
        states of the random generators."""
        gens = self._generators()
        pol = self.policy
        return dict(
            policy=pol,
            policy_copy=None if pol is None else copy.deepcopy(
                pol, memo={id(g): g for g in gens}),
            grid=self.grid, grid_info=self.grid_info, start_info=self.start_info,
            hist={k: len(v) for k, v in self._hist.items()},
            rngs=[(g, g.bit_generator.state if isinstance(g, np.random.Generator)
                   else g.get_state()) for g in gens])

    def _restore(self, snap):
        for g, state in snap["rngs"]:
            if isinstance(g, np.random.Generator):
                g.bit_generator.state = state
            else:
                g.set_state(state)
        pol, saved = snap["policy"], snap["policy_copy"]
        if pol is not None and hasattr(pol, "__dict__"):
            vars(pol).clear()                    # in place: references to it stay valid
            vars(pol).update(vars(saved))
        else:
            pol = saved
        self.policy = pol
        self.grid, self.grid_info = snap["grid"], snap["grid_info"]
        self.start_info = snap["start_info"]
        for key, n in snap["hist"].items():
            del self._hist[key][n:]

    # ------------------------------------------------------------------ public
    def __repr__(self):
        grid = ("chosen at the first solve" if self.grid is None
                else _grid_summary(self.grid))
        return (f"RelaxationTuner(policy={self.policy_name!r}, solver={self.solver!r}, "
                f"grid: {grid}, systems solved: {self.t})")

    @property
    def t(self):
        """Number of systems solved so far."""
        return len(self._hist["costs"])

    @property
    def history(self):
        """Arrays ``omegas, arms, costs, nit, probabilities, contexts, converged, backstop``."""
        h = self._hist
        return Result(
            omegas=np.asarray(h["omegas"], dtype=float),
            arms=np.asarray(h["arms"], dtype=int),
            costs=np.asarray(h["costs"], dtype=float),
            nit=np.asarray(h["nit"], dtype=int),
            probabilities=np.asarray(h["probabilities"], dtype=float),
            contexts=np.asarray([np.nan if c is None else c for c in h["contexts"]],
                                dtype=float),
            converged=np.asarray(h["converged"], dtype=bool),
            backstop=np.asarray(h["backstop"], dtype=bool))

    def solve(self, A, b, context=None, x0=None, *, callback=None):
        """Choose omega, solve ``A x = b``, learn from the iteration count.

        Parameters
        ----------
        A : sparse matrix/array, ndarray or PreparedMatrix
        b : array_like, shape (n,)
        context : float, optional
            Required by contextual policies; recorded only for "tsallis".
        x0 : array_like, shape (n,), optional
        callback : callable, optional
            ``callback(info)`` after every iteration (``info.nit`` counted from the first
            solve through the backstop solve, ``info.x`` read-only, ``info.residual``), as in
            :func:`numfit.sor` / :func:`numfit.ssor_cg` (the iterations then run from Python,
            with the same counts). Returning True stops the solve (``status=3``): such a
            solve is not learned from (``cost`` is nan) and leaves the tuner as before the
            call.

        Returns
        -------
        SolveResult
            The solver's result plus ``omega, arm, probability, cost, backstop, t``.

        Notes
        -----
        Any exception raised during the call (a bad ``A``, a KeyboardInterrupt, an
        exception from ``callback`` or from a policy) leaves the tuner exactly as it was
        before it: policy state, grid, history and random generator states. Only completed
        solves change the tuner.
        """
        P = prepare(A)
        bb = _as_vector("b", b, P.n)
        x = np.zeros(P.n) if x0 is None else _as_vector("x0", x0, P.n, copy=True)
        if context is not None:
            context = check_float("context", context)
        if self.solver == "ssor_cg":
            _check_symmetric(P, self.check_symmetry)
        _check_callback(callback)
        snap = self._snapshot()
        try:
            r, learned = self._solve(P, bb, x, context, callback)
        except BaseException:
            self._restore(snap)
            raise
        if not learned:
            self._restore(snap)
            r["t"] = self.t
        return r

    def _solve(self, P, bb, x, context, callback):
        """The body of :meth:`solve` on validated input; changes the tuner (rolled back by
        the caller on any exception). Returns ``(result, learned)``."""
        if self.policy is None:
            if self.grid is None:
                self.grid, self.grid_info = auto_grid(P)
            start = self._estimate(P) if self._needs_start() else None
            self._build_policy(start)
        elif self._needs_start() and len(self.start_info["omegas"]) < START_SYSTEMS:
            top = self.start_info["omega"]
            est = self._estimate(P)
            if est > top:
                self.policy.hint(est)
        xstart = x.copy()
        omega = self.policy.select(context)
        arm = int(self.policy.arm)
        prob = float(self.policy.probabilities[arm])
        cap = self._cap()
        r = self._run(P, bb, x, omega, cap, callback=callback)
        if r.status == 3:
            r.update(omega=float(omega), arm=arm, probability=prob, cost=math.nan,
                     backstop=False)
            return r, False
        cost = r.nit if r.status == 0 else cap
        self.policy.update(cost)
        used_backstop = False
        if r.status != 0 and self.backstop:
            used_backstop = True
            xb = r.x if np.all(np.isfinite(r.x)) else xstart
            first, ref = r.nit, r.ref_norm
            safe = self._safe()
            cb = None if callback is None else _Offset(callback, first)
            # keep the original target ||r|| < max(rtol*ref, atol) (ref of the first start)
            r = self._run(P, bb, xb, safe, self.maxiter, rtol=0.0,
                          atol=max(self.atol, self.rtol * ref), callback=cb)
            if r.status == 3:
                r.update(nit=first + r.nit, omega=float(omega), arm=arm, probability=prob,
                         cost=math.nan, backstop=True, safe_omega=safe)
                return r, False
            r["nit"] = first + r.nit
            r["ref_norm"] = ref
            r["relres"] = r.residual / ref if ref > 0 else r.residual
            r["safe_omega"] = safe
            r["omega"] = omega
        h = self._hist
        h["omegas"].append(omega)
        h["arms"].append(arm)
        h["costs"].append(float(cost))
        h["nit"].append(int(r.nit))
        h["probabilities"].append(prob)
        h["contexts"].append(context)
        h["converged"].append(bool(r.converged))
        h["backstop"].append(used_backstop)
        r.update(omega=float(omega), arm=arm, probability=prob, cost=float(cost),
                 backstop=used_backstop, t=self.t)
        return r, True


class _Offset:
    """A solver callback seen with ``nit`` counted from an earlier solve (the backstop)."""

    def __init__(self, callback, offset):
        self.callback, self.offset = callback, offset

    def __call__(self, info):
        info["nit"] = info.nit + self.offset
        return self.callback(info)
