"""``autoknots2d(kind="chebyshev")``: a tensor grid of piecewise Chebyshev interpolants.

Each axis is cut into pieces in its knot variable, each piece sampled at the
Chebyshev-Lobatto points of its own degree (4, 8, 16, ...); the grid is the tensor product of
the two axes' nodes, and the table on a cell (a piece of x times a piece of y) is the
tensor-product Chebyshev interpolant of the grid values there (``ln f`` with ``log_f``).

An *x pass* runs the rounds of the one-dimensional chebyshev kind
(:mod:`numfit.interpolate._chebyshev`: nested test, degree doubling, bisection, the recheck of
discarded samples) on the x axis with f seen as a vector-valued function of x whose components
are the current y nodes; every new x node is a whole new grid column. A *y pass* does the same
on the y axis with the x nodes as components. A pass starts by re-testing every piece of its
axis on all current lines of the other axis, with no evaluation: lines the other axis added
since the piece was accepted are checked there, and a piece that fails is refined. The passes
alternate until a pass evaluates nothing: then every piece of both axes has passed its test on
every line of the final grid.

Two departures from one dimension, both about evaluations that a whole grid line would
multiply.

* **Spot tests.** Where the one-dimensional kind, seeing a pass within 10x of the tolerance
  (``0.1 < E_{p/2} <= 1``), samples the next degree everywhere (a guard against
  oscillations below the sample spacing, which alias), the 2-D pass samples the ``p`` points
  new at degree ``2p`` only on a few lines of the other axis (the 2 where ``E_{p/2}`` is
  largest and 4 spread evenly over the axis: an aliased oscillation need not show in
  ``E_{p/2}``, and may be localised), and keeps degree ``p`` when its interpolant predicts
  them within 0.1 of the tolerance and stays within 0.1 of the degree-``2p`` interpolant
  through all samples of those lines on a dense grid: the kept interpolant is then tested
  directly, between its nodes, where an aliased oscillation shows. Otherwise the piece
  samples degree ``2p`` on every line. A piece that passed a spot test is not spot-tested
  again at that degree unless a new line measures a larger ``E_{p/2}`` (then on lines not
  tested before).
* **Trimming.** Before the first pass an initial degree-4 piece whose degree-1 and degree-2
  interpolants both pass the test with the margin on every line is trimmed to degree 2 (three
  lines instead of five along an axis where f is nearly linear or quadratic, for every line
  the other axis adds later).

The samples of spot tests and the dropped nodes of trimmed pieces are not grid values; they
are checked against the final table, and a piece holding a sample it misses samples its
next degree on every line (the passes then resume).

The error of a tensor interpolant is about the sum of its two axes' errors; each axis' pieces
are kept one nested level finer than the test that accepted them (as in one dimension), or at
the degree a spot test verified within 0.1 of the tolerance, which leaves each axis well
below the tolerance (measured on the benchmark family in the docs).
"""
import math

import numpy as np

from .._errors import DiscontinuityError
from . import _chebyshev as _cheb
from ._autoknots import _MAPS

__all__ = ["build2d"]

_MAX_PASSES = 40
TRIM = True
"""Trim an initial piece to degree 2 where f is (nearly) quadratic along its axis."""
SPOT = True
"""Spot tests: a piece passing within 10x of the tolerance (``_chebyshev.MARGIN``) samples
the next degree on a few lines of the other axis (``_chebyshev.SPOT_LINES`` +
``SPOT_SPREAD``), not on all."""


class _AxisState:
    """The pieces of one axis (``_chebyshev._Piece``: u0, u1, p, x; values refreshed from
    the grid at each pass)."""

    def __init__(self, pieces, cfg):
        self.pieces, self.cfg = pieces, cfg
        self.passes = 0

    def nodes(self):
        """Node abscissae in x (shared piece ends once), ascending."""
        ps = self.pieces
        return np.concatenate([pc.x[:-1] for pc in ps] + [ps[-1].x[-1:]])

    def offsets(self):
        """Index of each piece's first node in :meth:`nodes`."""
        off = np.zeros(len(self.pieces) + 1, dtype=np.intp)
        np.cumsum([pc.p for pc in self.pieces], out=off[1:])
        return off


def build2d(grid, xr, yr, rtol, atol, x_knots, y_knots, log_f, n_init, max_evals, monitor,
            degree):
    """Build the chebyshev-kind 2-D table (the front end has validated the arguments;
    ``degree`` is the largest piece degree, an int).

    ``grid(xs, ys)`` evaluates f on the tensor block and returns ``(k, l, m)`` float64.
    Returns an :class:`~numfit.interpolate._table2d.AutoKnots2DChebyshev`."""
    from ._chebtable2d import AutoKnots2DChebyshev

    pmax = degree
    nb = 1 if n_init is None else max(1, -(-(int(n_init) - 1) // 4))
    axes = []
    for (lo, hi), kn in ((xr, x_knots), (yr, y_knots)):
        U, Uinv = _MAPS[kn]
        ua, ub = float(U(lo)), float(U(hi))
        cfg = dict(rtol=rtol, atol=atol, loglog=log_f, mode=1 if log_f else 0,
                   span=abs(ub - ua), pmax=pmax, U=U, Uinv=Uinv, a=lo, b=hi,
                   max_evals=math.inf)
        axes.append(_AxisState(_cheb.initial_pieces(nb, cfg)[0], cfg))
    G = grid(axes[0].nodes(), axes[1].nodes())            # (nx, ny, m)
    stats = dict(n_rounds=0, round_sizes=[int(G.shape[0] * G.shape[1])], n_discarded=0,
                 n_recheck_failed=0, n_extrapolated=0, n_margin=0, passes=0, n_spot=0,
                 n_spot_evals=0, n_trimmed=0)
    state2 = dict(G=G, axes=axes)
    opts = dict(kind="chebyshev", rtol=rtol, atol=atol, x_knots=x_knots, y_knots=y_knots,
                log_f=log_f, vectorized=bool(grid.vectorized), degree_max=pmax)
    state2["dropped"] = _trim(state2) if TRIM else []
    stats["n_trimmed"] = sum(d[1].size * d[2].size for d in state2["dropped"])
    try:
        status = _passes(state2, grid, max_evals, stats, monitor, 0)
        while status == 0 and state2["dropped"]:
            ax = _check_dropped(state2, grid, opts, AutoKnots2DChebyshev)
            if ax is None:
                break
            status = _passes(state2, grid, max_evals, stats, monitor, ax)
    except DiscontinuityError as exc:
        exc.partial = _make_table(state2, grid, stats, 3, opts, AutoKnots2DChebyshev)
        exc.n_evals = grid.n_evals
        raise
    return _make_table(state2, grid, stats, status, opts, AutoKnots2DChebyshev)


def _passes(state2, grid, max_evals, stats, monitor, first):
    """Alternate axis passes, starting with axis ``first``, until one evaluates nothing
    (0) or a pass stops with a 1-D status."""
    order = (first, 1 - first)
    started = [False, False]
    for _ in range(_MAX_PASSES):
        for ax in order:
            before = grid.n_evals
            status = _axis_pass(state2, ax, grid, max_evals, stats, monitor)
            stats["passes"] += 1
            started[ax] = True
            if status != 0:
                return status
            if grid.n_evals == before and all(started):
                return 0
    return 2


def _trim(state2):
    """Trim initial degree-4 pieces to degree 2 where the degree-1 and degree-2
    interpolants both pass the nested test with the margin on every line: an axis along
    which f is (nearly) quadratic then costs three lines instead of five for every line the
    other axis adds. The dropped nodes stay as test samples, checked against the final
    table (:func:`_check_dropped`): a list of ``(axis, nodes dropped on it, nodes of the
    other axis, values (k, l, m))``."""
    axes = state2["axes"]
    dropped = []
    for ax in (0, 1):
        A, B = axes[ax], axes[1 - ax]
        G = state2["G"] if ax == 0 else state2["G"].transpose(1, 0, 2)
        n, l, m = G.shape
        vals = G.reshape(n, l * m)
        cfg = A.cfg
        nodes = A.nodes()
        keep = np.ones(n, dtype=bool)
        for pc, o in zip(A.pieces, A.offsets()[:-1]):
            if pc.p != 4:
                continue
            F = vals[o:o + 5]
            test = _cheb._Piece(pc.u0, pc.u1, 4, pc.x, np.log(F) if cfg["loglog"] else F, F)
            E = _cheb._errors(test, cfg)
            if max(E[1], E[2]) <= _cheb.MARGIN:
                keep[[o + 1, o + 3]] = False
                pc.x, pc.p = pc.x[::2].copy(), 2
        if keep.all():
            continue
        dropped.append((ax, nodes[~keep], B.nodes(), G[~keep]))
        G = G[keep]
        state2["G"] = np.ascontiguousarray(G if ax == 0 else G.transpose(1, 0, 2))
    return dropped


def _check_dropped(state2, grid, opts, cls):
    """Check the trimmed samples against the table of the current grid. Returns None when
    all pass (and forgets them), else the axis of the first failing block, whose pieces
    holding failing samples are set to sample their next degree (a trimmed piece: degree 4
    again, where its dropped nodes are grid lines again; that block is forgotten)."""
    t = _make_table(state2, grid, dict(n_rounds=0), 0, opts, cls)
    for k, (ax, xd, Bx, block) in enumerate(state2["dropped"]):
        X, Y = (xd[:, None], Bx[None, :]) if ax == 0 else (Bx[None, :], xd[:, None])
        X, Y = np.broadcast_arrays(X, Y)
        s = np.asarray(t(X, Y), dtype=float).reshape(block.shape)
        A = state2["axes"][ax]
        with np.errstate(all="ignore"):
            ref, got = (np.log(block), np.log(s)) if A.cfg["loglog"] else (block, s)
        bad = ~(np.abs(got - ref) <= _cheb._tol(ref, block, A.cfg))
        if not bad.any():
            continue
        rows = np.flatnonzero(bad.reshape(bad.shape[0], -1).any(axis=1))
        u = np.asarray(A.cfg["U"](xd[rows]), dtype=np.float64)
        ends = np.array([pc.u0 for pc in A.pieces] + [A.pieces[-1].u1])
        for i in np.unique(np.clip(np.searchsorted(ends, u, side="right") - 1, 0,
                                   len(A.pieces) - 1)):
            A.pieces[i].force = True
        del state2["dropped"][k]     # sampled again as grid lines (degree 4 at those nodes)
        return ax
    state2["dropped"] = []
    return None


def _axis_pass(state2, ax, grid, max_evals, stats, monitor):
    """The one-dimensional chebyshev rounds on axis ``ax`` (module notes); 0 when every
    piece passed, else the 1-D status (1: max_evals, 2: round cap, 5: callback)."""
    A, B = state2["axes"][ax], state2["axes"][1 - ax]
    cfg = A.cfg
    G = state2["G"] if ax == 0 else state2["G"].transpose(1, 0, 2)
    n, l, m = G.shape
    vals = G.reshape(n, l * m)
    off = A.offsets()
    log_f = cfg["loglog"]
    for pc, o in zip(A.pieces, off[:-1]):
        pc.F = vals[o:o + pc.p + 1].copy()
        pc.y = np.log(pc.F) if log_f else pc.F
        pc.ok, pc.want = False, 0
    Bx = B.nodes()

    sizes = []                       # grid evaluations of each round of the pass

    def block(xs, others):
        """f on new nodes xs of this axis times nodes ``others`` of the other axis, as
        (xs.size, others.size * m); the evaluations are recorded as a round."""
        n0 = grid.n_evals
        F = grid(xs, others) if ax == 0 else grid(others, xs).transpose(1, 0, 2)
        sizes.append(grid.n_evals - n0)
        if grid.n_evals > max_evals:
            st["n"] = math.inf            # _run compares after the round: status 1
        return np.ascontiguousarray(F.reshape(xs.size, others.size * m))

    def ev(xs, rnd):
        return block(xs, Bx)

    def mon(rnd, _n_axis, n_open):
        return monitor(rnd, grid.n_evals, n_open)

    def spot_eval(xs, lines):
        n0 = grid.n_evals
        out = block(xs, Bx[lines])
        stats["n_spot_evals"] += grid.n_evals - n0
        return out

    def spot_record(xs, lines, F):
        state2["dropped"].append((ax, xs, Bx[lines], F.reshape(xs.size, lines.size, m)))

    cfg["m"] = m
    cfg["spot"] = (lambda: Bx, spot_eval) if SPOT else None
    cfg["spot_record"] = spot_record
    saved = [_cheb._Piece(pc.u0, pc.u1, pc.p, pc.x, None, None) for pc in A.pieces]
    # the 2-D driver makes the partial table of a DiscontinuityError from the saved pieces
    st = dict(pieces=A.pieces, discarded=[], n=0, ev=None, stats=stats, opts=None,
              partial=lambda: None)
    k0 = len(stats["round_sizes"])
    try:
        status = _cheb._run(st, ev, cfg, stats, mon, None)
    except BaseException:
        A.pieces = saved             # the grid as before the pass: consistent with state2
        del stats["round_sizes"][k0:]
        raise
    stats["round_sizes"][k0:] = sizes    # the 1-D rounds record points along the axis
    A.pieces = st["pieces"]
    A.passes += 1
    # the grid after the pass, from the pieces (shared ends once)
    Fs = np.concatenate([pc.F[:-1] for pc in A.pieces] + [A.pieces[-1].F[-1:]])
    Fs = Fs.reshape(-1, l, m)
    state2["G"] = np.ascontiguousarray(Fs if ax == 0 else Fs.transpose(1, 0, 2))
    if status == 1 or grid.n_evals > max_evals:
        return 1
    return status


def _make_table(state2, grid, stats, status, opts, cls):
    A, B = state2["axes"]
    info = dict(opts)
    info.update({k: (list(v) if isinstance(v, list) else int(v)) for k, v in stats.items()})
    info.update(n_evals=int(grid.n_evals), n_calls=int(grid.n_calls), status=int(status),
                success=status == 0, message=_MESSAGES.get(status, _cheb._STATUS_MESSAGES[status]))
    G = state2["G"]
    vals = G if grid.m_shape else G[:, :, 0]
    (xb, ub), (yb, vb) = _breaks(A), _breaks(B)
    return cls(xb, ub, yb, vb, np.array([pc.p for pc in A.pieces]),
               np.array([pc.p for pc in B.pieces]), A.nodes(), B.nodes(), vals, info)


def _breaks(A):
    """(piece ends in x, piece ends in u)."""
    x = np.array([pc.x[0] for pc in A.pieces] + [A.pieces[-1].x[-1]])
    u = np.array([pc.u0 for pc in A.pieces] + [A.pieces[-1].u1])
    x[0], x[-1] = A.cfg["a"], A.cfg["b"]
    return x, u


_MESSAGES = {0: "converged: every piece of both axes passed its nested test on every line of "
                "the final grid, and every discarded sample was reproduced",
             1: "max_evals reached before the tolerance was met"}
