"""AutoKnots in two dimensions: ``autoknots2d``, a tensor grid refined axis by axis.

The grid starts uniform in the knot variables ``u = U(x)``, ``v = V(y)``. An *x pass* runs the
one-dimensional AutoKnots rounds on the x axis with f seen as a vector-valued function of x
whose components are the current grid rows (every tested midpoint is a whole new column of
the grid, so every evaluation is a grid value); a *y pass* does the same on the y axis with
the columns as components. Both passes keep the cubic kind's tests, closure and end-interval
verification (:func:`numfit.autoknots`).

After a y pass has added rows, the x knots were chosen without them. Each new row is then
checked against the x knots *without new evaluations*: every x knot inserted in round r of
an x pass was, in that round, a midpoint predicted by the spline through the knots of the
earlier rounds; the same prediction is repeated on the new rows' values (already on the
grid). A knot whose prediction misses the tolerance reopens its two neighbouring intervals
for the next x pass, and symmetrically for the y axis. The passes alternate until neither
axis reopens anything. The table is the tensor-product not-a-knot bicubic spline in
``(u, v)`` through the grid.

Each axis' tests (midpoint, integral, verification, cross-axis checks) run at twice the
tolerance: a tested interval's halves are kept, and their error is about 1/16 of the tested
one (h^4), so each axis contributes about 1/8 of the tolerance and the bicubic, whose error
is about the sum of the two axes' errors, about 1/4 (measured on the benchmark family: at
most 0.32 of the tolerance). Testing at the tolerance itself over-resolves both axes (errors
of ~0.1) and costs about 20% more evaluations. The slow-decay re-tests of the 1-D rounds
still catch oscillations below the grid spacing.
"""
import math
import warnings

import numpy as np

from .._errors import AutoKnotsWarning, DiscontinuityError
from .._validation import check_float, check_int, check_option
from .._workers import MapWrapper
from . import _kernels
from ._autoknots import _MAPS, _Mesh, _Monitor, _run, _STATUS_MESSAGES
from ._chebyshev import check_degree
from ._chebyshev2d import build2d
from ._table2d import AutoKnots2D

__all__ = ["autoknots2d"]

_MAX_PASSES = 40
_AXIS_SLACK = 2.0   # each axis' tests run at this multiple of the tolerance (module notes)


# --------------------------------------------------------------------------- evaluation of f
class _Pairs:
    """Picklable ``(x, y) -> f(x, y, *args)`` for scalar calls, naming (x, y) on errors."""

    def __init__(self, f, args):
        self.f, self.args = f, args

    def __call__(self, xy):
        x, y = xy
        try:
            return self.f(x, y, *self.args)
        except Exception as exc:
            exc.add_note(f"numfit.autoknots2d: f raised at (x, y) = ({x!r}, {y!r})")
            raise


class _Block(_Pairs):
    """Picklable ``xs -> f(X, Y, *args)`` on the broadcast block ``xs[:, None] x ys``."""

    def __init__(self, f, args, ys):
        super().__init__(f, args)
        self.ys = ys

    def __call__(self, xs):
        try:
            return self.f(xs[:, None], self.ys[None, :], *self.args)
        except Exception as exc:
            exc.add_note(f"numfit.autoknots2d: f raised on the block x in "
                         f"[{float(xs[0])!r}, {float(xs[-1])!r}], y in "
                         f"[{float(self.ys[0])!r}, {float(self.ys[-1])!r}]")
            raise


class _Grid:
    """Evaluates f on the tensor block ``xs x ys`` and validates it: (k, l, m) float64."""

    def __init__(self, f, args, vectorized, mapper, log_f):
        self.f, self.args, self.vectorized, self.map, self.log_f = f, args, vectorized, \
            mapper, log_f
        self.m_shape = None
        self.n_calls = 0
        self.n_evals = 0

    def __call__(self, xs, ys):
        xs = np.ascontiguousarray(xs, dtype=np.float64)
        ys = np.ascontiguousarray(ys, dtype=np.float64)
        if self.vectorized is None:
            self.n_calls += 1
            try:
                out = np.asarray(self.f(xs[:, None].copy(), ys[None, :].copy(), *self.args))
            except Exception:
                out = None
            ok = out is not None and out.dtype != object and out.ndim in (2, 3) \
                and out.shape[:2] == (xs.size, ys.size)
            self.vectorized = bool(ok)
            if ok:
                self.n_evals += xs.size * ys.size
                return self._check(out, xs, ys)
        if self.vectorized:
            chunks = [xs] if not self.map.parallel else \
                [c for c in np.array_split(xs, min(self.map.n_workers, xs.size)) if c.size]
            outs = list(self.map(_Block(self.f, self.args, ys), chunks))
            self.n_calls += len(chunks)
            out = np.concatenate([self._shape(np.asarray(o), c, ys) for o, c in
                                  zip(outs, chunks)], axis=0)
        else:
            pairs = [(float(x), float(y)) for x in xs for y in ys]
            outs = list(self.map(_Pairs(self.f, self.args), pairs))
            self.n_calls += len(pairs)
            out = self._stack(outs, pairs, xs.size, ys.size)
        self.n_evals += xs.size * ys.size
        return self._check(out, xs, ys)

    def _shape(self, a, xs, ys):
        want = (xs.size, ys.size) + (self.m_shape or ())
        if a.shape != want and not (self.m_shape is None and a.ndim in (2, 3)
                                    and a.shape[:2] == want):
            raise ValueError(f"f returned shape {a.shape} on a block of {xs.size} x "
                             f"{ys.size} points; expected {want} (+ (m,) for vector f)")
        return a

    def _stack(self, outs, pairs, k, l):
        arrs = []
        for o, (x, y) in zip(outs, pairs):
            a = np.asarray(o)
            if self.m_shape is None:
                if a.ndim > 1 or a.dtype == object:
                    raise ValueError(f"f returned an object of shape {a.shape} at (x, y) = "
                                     f"({x!r}, {y!r}); expected a float or a 1-D array")
                self.m_shape = a.shape
            elif a.shape != self.m_shape:
                raise ValueError(f"f returned shape {a.shape} at (x, y) = ({x!r}, {y!r}); "
                                 f"expected {self.m_shape} as at the first point")
            arrs.append(a)
        return np.stack(arrs).reshape((k, l) + self.m_shape)

    def _check(self, a, xs, ys):
        if np.iscomplexobj(a):
            raise TypeError("f returned complex values; autoknots2d tabulates real functions")
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_):
            raise TypeError(f"f returned {a.dtype} values; expected real numbers")
        if self.m_shape is None:
            self.m_shape = a.shape[2:]
        elif a.shape[2:] != self.m_shape:
            raise ValueError(f"f returned shape {a.shape[2:]} per point; expected "
                             f"{self.m_shape} as in the first block")
        v = np.asarray(a, dtype=np.float64).reshape(xs.size, ys.size, -1)
        bad = ~np.isfinite(v)
        if self.log_f:
            bad |= v <= 0
        if bad.any():
            i, j, k = np.argwhere(bad)[0]
            what = "<= 0 (log_f=True needs f > 0)" if np.isfinite(v[i, j, k]) else ""
            comp = f" (component {k})" if self.m_shape else ""
            raise ValueError(f"f returned {float(v[i, j, k])!r}{comp} {what}at (x, y) = "
                             f"({float(xs[i])!r}, {float(ys[j])!r})".replace("  ", " "))
        return v


# --------------------------------------------------------------------------- the algorithm
class _Axis:
    """Knots of one axis: x, u, and the pass round in which each knot was inserted."""

    def __init__(self, x, u):
        self.x, self.u = x, u
        self.level = np.zeros(x.size, dtype=np.int64)   # 0: initial; then a global counter
        self.checked = x.size        # knots of the other axis present at the last check
        self.open = np.ones(x.size - 1, dtype=np.uint8)
        self.vstate = {}             # end intervals the verification passed (kept across passes)


def autoknots2d(f, x_range, y_range, rtol=1e-8, *, atol=0.0, kind="cubic", x_knots="linear",
                y_knots="linear", log_f=False, n_init=None, max_evals=None, vectorized=None,
                workers=None, callback=None, progress=False, args=(), degree=None):
    """Tabulate ``f(x, y)`` on a rectangle on an adaptive tensor grid (bicubic or Chebyshev).

    Each axis is refined by the rounds of :func:`numfit.autoknots` (cubic kind) with the
    other axis' grid lines as the components of a vector-valued function, alternating
    until every new grid line has been checked along the other axis (see the module notes
    and :doc:`/autoknots2d`). With kind="cubic" every evaluation of f is a grid value; with
    kind="chebyshev" the ones that are not (lines dropped by a bisection or a trimmed piece,
    spot-test samples) are checked against the final table.

    Parameters
    ----------
    f : callable
        ``f(x, y, *args)``. Vectorised: called with broadcastable arrays ``X`` of shape
        ``(k, 1)`` and ``Y`` of shape ``(1, l)``, returning ``(k, l)`` (``(k, l, m)`` for
        vector f). Otherwise called with floats, returning a float (``(m,)``).
    x_range, y_range : (float, float)
        The rectangle ``[xa, xb] x [ya, yb]``, finite, ``xa < xb``, ``ya < yb``.
    rtol, atol : float, optional
        The tolerance ``|f - s| <= rtol |f| + atol`` (with ``log_f``: on ``ln f``,
        ``|ln f - S| <= rtol + atol / f``). ``rtol`` may be given by position; every
        other option is keyword-only. With ``atol = 0`` a sign change of f between two
        neighbouring grid values gives status 4 (``converged=False``: next to a zero of f
        no relative tolerance holds).
    kind : {"cubic", "chebyshev"}, optional
        "cubic" (default): tensor-product not-a-knot bicubic spline. "chebyshev": each axis
        cut into pieces sampled at Chebyshev-Lobatto points of adaptive degree, the table on
        each cell the tensor Chebyshev interpolant (an
        :class:`~numfit.AutoKnots2DChebyshev`); several times fewer evaluations on smooth
        f at tight tolerances, and along an axis where f is simple (see
        :doc:`/autoknots2d`).
    x_knots, y_knots : {"linear", "log", "asinh"}, optional
        The variable each axis is refined and interpolated in (``x``, ``ln x``,
        ``asinh x``); "log" needs a positive range.
    log_f : bool, optional
        Tabulate ``ln f`` (f > 0): a relative tolerance on f over many decades.
    n_init : int, optional
        Initial grid lines per axis, uniform in the knot variable (``>= 4``, default 4: an
        axis along which f is simple keeps few lines; each line costs a whole row). With
        kind="chebyshev": ``k = ceil((n_init - 1) / 4)`` equal pieces of degree 4 per axis
        (default one piece, 5 lines).
    max_evals : int, optional
        Stop when the grid exceeds this many evaluations (``converged=False``, status 1).
    vectorized : bool or None, optional
        ``None`` probes f with the initial block as arrays and falls back to scalar calls.
    workers : int or map-like callable, optional
        Evaluate each block in parallel (as in :func:`numfit.autoknots`).
    callback : callable, optional
        ``callback(round, n_evals, n_open)`` after each round of either axis; returning
        True or raising StopIteration stops with a usable partial table (status 5).
    progress : bool, optional
        A progress bar (tqdm) or a line per round on stderr.
    args : tuple, optional
        Extra positional arguments of f.
    degree : int, optional
        kind="chebyshev" only: the largest degree of a piece, a power of two in 4..128
        (default 64).

    Returns
    -------
    AutoKnots2D or AutoKnots2DChebyshev

    Raises
    ------
    ValueError, TypeError
        Bad arguments; f returning NaN/inf (the message names (x, y)), complex values or a
        wrong shape.
    DiscontinuityError
        An axis interval can no longer be bisected in floating point (a jump along a grid
        line); ``partial`` holds the grid so far.

    Examples
    --------
    >>> import numpy as np
    >>> import numfit as nf
    >>> def f(x, y):
    ...     return np.exp(-x) * np.cos(2 * y) + 2
    >>> t = nf.autoknots2d(f, (0.0, 2.0), (0.0, 3.0), rtol=1e-6)
    >>> t.converged, t.n_evals == t.x_knots.size * t.y_knots.size
    (True, True)
    >>> bool(abs(t(0.3, 1.7) - f(0.3, 1.7)) <= 1e-6 * f(0.3, 1.7))
    True
    """
    if not callable(f):
        raise TypeError(f"`f` must be callable; got {type(f).__name__}")
    xa, xb = _check_range("x_range", x_range)
    ya, yb = _check_range("y_range", y_range)
    rtol = check_float("rtol", rtol, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    atol = check_float("atol", atol, lo=0.0)
    kind = check_option("kind", kind, ("cubic", "chebyshev"))
    if degree is not None and kind != "chebyshev":
        raise ValueError("`degree` applies to kind='chebyshev' only; got "
                         f"degree={degree!r} with kind={kind!r}")
    degree = check_degree(degree)
    x_knots = check_option("x_knots", x_knots, ("linear", "log", "asinh"))
    y_knots = check_option("y_knots", y_knots, ("linear", "log", "asinh"))
    for name, kn, a in (("x", x_knots, xa), ("y", y_knots, ya)):
        if kn == "log" and a <= 0:
            raise ValueError(f"{name}_knots='log' needs a positive {name}_range; got "
                             f"{name}_range[0]={a!r}")
    if not isinstance(log_f, (bool, np.bool_)):
        raise TypeError(f"`log_f` must be True or False; got {log_f!r}")
    n_init = 4 if n_init is None else check_int("n_init", n_init, lo=4, hi=10_000)
    max_evals = 4_000_000 if max_evals is None else \
        check_int("max_evals", max_evals, lo=n_init * n_init)
    if vectorized is not None and not isinstance(vectorized, (bool, np.bool_)):
        raise TypeError(f"`vectorized` must be None, True or False; got {vectorized!r}")
    if not isinstance(args, tuple):
        args = (args,)
    monitor = _Monitor(callback, progress, "2-D")
    try:
        mapper = MapWrapper(workers)
        mapper.check_picklable(f, "f")
        with mapper:
            grid = _Grid(f, args, None if vectorized is None else bool(vectorized), mapper,
                         bool(log_f))
            if kind == "chebyshev":
                table = build2d(grid, (xa, xb), (ya, yb), rtol, atol, x_knots, y_knots,
                                bool(log_f), n_init, max_evals, monitor, degree)
            else:
                table = _build(grid, (xa, xb), (ya, yb), rtol, atol, x_knots, y_knots,
                               bool(log_f), n_init, max_evals, monitor)
    finally:
        monitor.close()
    if table.status == 0 and atol == 0 and not log_f:
        _flag_sign_change(table)
    if table.status not in (0, 5):
        warnings.warn(f"autoknots2d: {table.message} ({table.n_evals} evaluations); the table "
                      "is usable but its error is not verified", AutoKnotsWarning,
                      stacklevel=2)
    return table


def _flag_sign_change(table):
    """Status 4 (as in one dimension) where f changes sign between neighbouring grid values
    with atol = 0: next to a zero of f the relative tolerance cannot hold."""
    V = table.values
    V = V if V.ndim == 3 else V[:, :, None]
    for ax, flip in ((0, V[:-1] * V[1:] < 0), (1, V[:, :-1] * V[:, 1:] < 0)):
        if flip.any():
            i, j, _ = np.argwhere(flip)[0]
            xk, yk = table.x_knots, table.y_knots
            where = (f"x in [{float(xk[i])!r}, {float(xk[i + 1])!r}] at y={float(yk[j])!r}"
                     if ax == 0 else
                     f"y in [{float(yk[j])!r}, {float(yk[j + 1])!r}] at x={float(xk[i])!r}")
            table._info.update(status=4, success=False,
                               message=f"{_STATUS_MESSAGES[4]}; first sign change: {where}")
            return


def _check_range(name, r):
    try:
        a, b = r
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be a pair (a, b) of floats; got {r!r}") from None
    a = check_float(f"{name}[0]", a)
    b = check_float(f"{name}[1]", b)
    if not a < b:
        raise ValueError(f"`{name}` must have {name}[0] < {name}[1]; got ({a!r}, {b!r})")
    if not math.isfinite(b - a) or b - a <= 100 * np.finfo(float).eps * max(abs(a), abs(b)):
        raise ValueError(f"`{name}` is too narrow or too wide to bisect; got ({a!r}, {b!r})")
    return a, b


def _build(grid, xr, yr, rtol, atol, x_knots, y_knots, log_f, n_init, max_evals, monitor):
    K = _kernels.kernels
    maps = (_MAPS[x_knots], _MAPS[y_knots])
    axes = []
    for (a, b), (U, Uinv) in zip((xr, yr), maps):
        ua, ub = float(U(a)), float(U(b))
        u = ua + (ub - ua) * np.arange(n_init) / (n_init - 1)
        u[-1] = ub
        x = np.asarray(Uinv(u), dtype=np.float64)
        x[0], x[-1] = a, b
        axes.append(_Axis(x, u))
    F = grid(axes[0].x, axes[1].x)                     # (nx, ny, m)
    axes[0].checked, axes[1].checked = axes[1].x.size, axes[0].x.size
    stats = dict(n_rounds=0, passes=0, reopened=0, round_sizes=[int(F.size // F.shape[2])])
    state = dict(F=F, axes=axes, counter=0)
    opts = dict(rtol=rtol, atol=atol, x_knots=x_knots, y_knots=y_knots, log_f=log_f,
                vectorized=bool(grid.vectorized))
    status, first = 0, [True, True]
    try:
        for _ in range(_MAX_PASSES):
            moved = False
            for ax in (0, 1):
                if not first[ax]:
                    _recheck(state, ax, rtol, atol, log_f, K, stats)
                if not (first[ax] or state["axes"][ax].open.any()):
                    continue
                first[ax] = False
                status = _axis_pass(state, ax, grid, maps[ax][1], rtol, atol, log_f,
                                    max_evals, K, stats, monitor, opts)
                stats["passes"] += 1
                moved = True
                if status != 0:
                    break
            if status != 0 or not moved:
                break
        else:
            status = 2
    except DiscontinuityError as exc:
        exc.partial = _make_table(state, grid, stats, 3, opts)
        exc.n_evals = grid.n_evals
        raise
    return _make_table(state, grid, stats, status, opts)


def _axis_pass(state, ax, grid, Uinv, rtol, atol, log_f, max_evals, K, stats, monitor, opts):
    """The 1-D rounds on axis ``ax`` with the other axis' lines as vector components."""
    A, B = state["axes"][ax], state["axes"][1 - ax]
    F = state["F"] if ax == 0 else state["F"].transpose(1, 0, 2)
    n, l, m = F.shape
    vals = np.ascontiguousarray(F.reshape(n, l * m))
    if log_f:
        mesh = _Mesh(A.x, A.u, A.u, np.log(vals), vals, K)
    else:
        mesh = _Mesh(A.x, A.u, A.u, vals, np.empty((0, l * m)), K)
    mesh.open = A.open.copy()

    def ev(xs, rnd):
        block = grid(xs, B.x) if ax == 0 else grid(B.x, xs).transpose(1, 0, 2)
        return np.ascontiguousarray(block.reshape(xs.size, l * m))

    levels = dict(zip(A.x.tolist(), A.level.tolist()))   # knot -> round it came in

    def record_round():
        """Give the knots new since the last call the next round number; True if any."""
        new = [v for v in mesh.x.tolist() if v not in levels]
        if not new:
            return False
        state["counter"] += 1
        stats["n_rounds"] += 1
        stats["round_sizes"].append(len(new) * l)
        for v in new:
            levels[v] = state["counter"]
        return True

    def mon(rnd, n_axis, n_open):
        record_round()
        return monitor(stats["n_rounds"], grid.n_evals, n_open)

    span = abs(float(A.u[-1] - A.u[0]))
    cfg = dict(rtol=rtol, atol=atol, mode=1 if log_f else 0, norm=0, simpson=True,
               refine="closure", refine_ns=1.0, n_refine=0,
               max_knots=max(4, max_evals // max(l, 1)), loglog=log_f, span=span,
               verify=True, t_u=True, slow=True, theta=_AXIS_SLACK)
    sub = dict(n_rounds=0, round_sizes=[], closure_rounds=0, closure_flagged=0,
               closure_failed=0, refine_passes=0, refine_reopened=0, verify_rounds=0,
               verify_evals=0, verify_failed=0, slow_reopened=0)
    status = _run(mesh, ev, K, Uinv, cfg, sub, lambda: None, mon, A.vstate)
    record_round()                   # a last round _run stopped on before reporting it
    # the grid after the pass
    newF = mesh.F if log_f else mesh.y
    newF = newF.reshape(mesh.x.size, l, m)
    A.x, A.u = mesh.x, mesh.u
    A.level = np.array([levels[v] for v in mesh.x.tolist()], dtype=np.int64)
    A.open = np.zeros(mesh.x.size - 1, dtype=np.uint8)
    A.checked = B.x.size             # every line of B was a component of this pass
    state["F"] = np.ascontiguousarray(newF if ax == 0 else newF.transpose(1, 0, 2))
    return status


def _recheck(state, ax, rtol, atol, log_f, K, stats):
    """Check the knots of axis ``ax`` on the other axis' lines added since its last check,
    without evaluations: each knot against the spline through the knots of earlier rounds.
    Reopens the intervals that the missing knot's test had accepted (those not refined since:
    their other end is older than the knot); returns how many were reopened."""
    A, B = state["axes"][ax], state["axes"][1 - ax]
    F = state["F"] if ax == 0 else state["F"].transpose(1, 0, 2)
    new = _new_lines(B, A.checked)
    A.checked = B.x.size
    if new.size == 0:
        return 0
    vals = F[:, new, :].reshape(A.x.size, -1)
    y = np.log(vals) if log_f else vals
    bad = np.zeros(A.x.size, dtype=bool)
    for lev in np.unique(A.level[A.level > 0]):
        keep = A.level < lev
        test = A.level == lev
        if keep.sum() < 4:
            continue
        t = np.ascontiguousarray(A.u[keep])
        yk = np.ascontiguousarray(y[keep])
        c = np.empty((4, t.size - 1, yk.shape[1]))
        K.notaknot(t, yk, c, np.empty(t.size), np.empty(yk.shape))
        tq = np.ascontiguousarray(A.u[test])
        S = np.empty((tq.size, yk.shape[1]))
        K.evaluate(t, c, _kernels.lookup_table(t, K), tq, 0, True, S)
        err = np.abs(S - y[test])
        tol = _AXIS_SLACK * (rtol + atol / vals[test] if log_f else
                             rtol * np.abs(y[test]) + atol)
        bad[np.flatnonzero(test)[np.any(err > tol, axis=1)]] = True
    # a knot's test accepted the intervals next to it that were not refined since, i.e.
    # whose other end is older; only those depend on it, and only those reopen
    lev = A.level
    opened = 0
    for i in np.flatnonzero(bad):
        for j, other in ((i - 1, i - 1), (i, i + 1)):
            if 0 <= j < A.open.size and lev[other] < lev[i] and not A.open[j]:
                A.open[j] = 1
                opened += 1
    stats["reopened"] += opened
    return opened


def _new_lines(B, n_checked):
    """Indices of the lines of axis B added after the first ``n_checked`` (by level)."""
    if B.x.size == n_checked:
        return np.zeros(0, dtype=np.intp)
    order = np.argsort(B.level, kind="stable")
    return np.sort(order[n_checked:])


def _make_table(state, grid, stats, status, opts):
    A, B = state["axes"]
    F = state["F"]
    info = dict(opts)
    info.update(n_evals=int(grid.n_evals), n_calls=int(grid.n_calls),
                n_rounds=int(stats["n_rounds"]), passes=int(stats["passes"]),
                reopened=int(stats["reopened"]),
                round_sizes=[int(r) for r in stats["round_sizes"]], status=int(status),
                success=status == 0, message=_MESSAGES.get(status, _STATUS_MESSAGES[status]))
    vals = F if grid.m_shape else F[:, :, 0]
    return AutoKnots2D(A.x, B.x, A.u, B.u, vals, info)


_MESSAGES = {0: "converged: every grid line passed its axis' tests, and every line added "
                "later was checked along the other axis",
             1: "max_evals reached before the tolerance was met"}
