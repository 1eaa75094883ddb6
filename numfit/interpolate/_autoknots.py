"""AutoKnots: adaptive knot allocation for cubic splines, and the chebyshev kind.

Vitenti, de Simoni, Penna-Lima, Barroso, *AutoKnots: Adaptive Knot Allocation for Spline
Interpolation*, Astronomy and Computing (2025), arXiv:2412.13423. Implemented from the paper
(clean room: NumCosmo, the authors' implementation, is GPL and was not consulted).
"""
import math
import sys
import warnings

import numpy as np

from .._errors import AutoKnotsWarning, DiscontinuityError
from .._validation import check_float, check_int, check_option
from .._workers import MapWrapper
from . import _kernels
from ._maps import MAPS
from ._spline import AutoKnotsSpline

__all__ = ["autoknots"]

_EPS = np.finfo(float).eps
_TINY = np.finfo(float).smallest_normal
_MAX_KNOTS = 10 ** 8
_MAX_ITER = 10_000
_CLOSURE_MARGIN = 1e-8
_MAPS = MAPS


def check_grid(s, n=100_000):
    """The dense grid on which AutoKnots' tolerance is verified (the test oracles' grid).

    ``n`` points uniform in the knot variable ``u`` plus the 1/4, 1/2 and 3/4 points (in
    ``u``) of every knot interval of the spline ``s``, mapped back to ``x`` and clipped to
    ``[a, b]``.
    """
    inv = _MAPS["log" if s.space == "loglog" else s.knots_map][1]
    u = s.u
    uu = np.concatenate([np.linspace(u[0], u[-1], n)]
                        + [u[:-1] + fr * np.diff(u) for fr in (0.25, 0.5, 0.75)])
    return np.clip(inv(uu), s.knots[0], s.knots[-1])


_STATUS_MESSAGES = {
    0: "converged: every interval passed the pointwise and integral tests",
    1: "max_knots reached before the tolerance was met",
    2: "iteration cap reached before the tolerance was met",
    3: "stopped by the discontinuity guard (partial spline)",
    4: "every test passed, but f changes sign and atol = 0: next to a root |f| -> 0 and the "
       "relative tolerance cannot hold there (pass atol > 0)",
    5: "stopped by the callback (partial table)",
}
_MAX_VERIFY = 64
_SLOW_MIN = 0.1           # a passing test error above this fraction of the tolerance ...
_SLOW_FACTOR = 0.25       # ... and above this fraction of its parent test's is not trusted
_JUMP_ATOL = 1e6      # past the span guard, bisection goes on only while |f(x1) - f(x0)|
#                       is below this many atol (an integrable endpoint singularity)


class _Monitor:
    """``callback(round, n_evals, n_open)`` and the ``progress`` display after each round.

    A callback returning True or raising StopIteration asks for a stop; any other
    exception propagates (a note names the round).
    """

    def __init__(self, callback, progress, kind):
        if callback is not None and not callable(callback):
            raise TypeError(f"`callback` must be callable or None; got {type(callback).__name__}")
        if not isinstance(progress, (bool, np.bool_)):
            raise TypeError(f"`progress` must be True or False; got {progress!r}")
        self.callback, self.kind, self.bar, self.plain, self.last = callback, kind, None, False, 0
        if progress:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                self.plain = True
            else:
                self.bar = tqdm(desc=f"autoknots ({kind})", unit=" evals")

    def __call__(self, rnd, n_evals, n_open):
        """Report a round; True when the callback asks to stop."""
        if self.bar is not None:
            self.bar.update(n_evals - self.last)
            self.bar.set_postfix(round=rnd, open=n_open, refresh=False)
        elif self.plain:
            print(f"autoknots ({self.kind}): round {rnd}: {n_evals} evaluations, {n_open} "
                  "intervals open", file=sys.stderr, flush=True)
        self.last = n_evals
        if self.callback is None:
            return False
        try:
            out = self.callback(rnd, n_evals, n_open)
        except StopIteration:
            return True
        except Exception as exc:
            exc.add_note(f"numfit.autoknots: raised by `callback` after round {rnd}")
            raise
        return out is True or (isinstance(out, np.bool_) and bool(out))

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


# --------------------------------------------------------------------------- evaluation of f
class _PointCall:
    """Picklable ``x -> f(x, *args)`` that names x in any exception it lets through."""

    def __init__(self, f, args, rnd):
        self.f, self.args, self.rnd = f, args, rnd

    def __call__(self, x):
        try:
            return self.f(x, *self.args)
        except Exception as exc:
            exc.add_note(f"numfit.autoknots: f raised at x={x!r} (round {self.rnd})")
            raise


class _BatchCall(_PointCall):
    """Picklable ``xs -> f(xs, *args)`` for vectorised f."""

    def __call__(self, xs):
        try:
            return self.f(xs, *self.args)
        except Exception as exc:
            exc.add_note(f"numfit.autoknots: f raised on a batch of {xs.size} points in "
                         f"[{float(xs[0])!r}, {float(xs[-1])!r}] (round {self.rnd})")
            raise


class _Evaluator:
    """Evaluates f on each round's batch and validates what comes back.

    Values are returned as ``(k, m)`` float64 arrays; ``m_shape`` is ``()`` for scalar f
    and ``(m,)`` for vector f, fixed by the first batch.
    """

    def __init__(self, f, args, vectorized, mapper, loglog):
        self.f, self.args, self.vectorized = f, args, vectorized
        self.map, self.loglog = mapper, loglog
        self.m_shape = None
        self.n_calls = 0

    def first(self, xs):
        """Batch 0, with the vectorisation probe when ``vectorized is None``."""
        if self.vectorized is None:
            self.n_calls += 1
            try:
                out = np.asarray(self.f(xs.copy(), *self.args))
            except Exception:
                out = None
            if out is not None and out.ndim in (1, 2) and out.shape[0] == xs.size \
                    and out.dtype != object and self._rows_are_points(out, xs):
                self.vectorized = True
                return self._check(out, xs, 0)
            self.vectorized = False
        return self(xs, 0)

    def _rows_are_points(self, out, xs):
        """Whether the probe's ``(n, ...)`` result has one row per point: an ``(n, n)``
        result is also what a per-point vector f of n components written with NumPy
        (``np.array([g1(x), ..., gn(x)])``, ``(m, n)`` for an array) returns. Only then is f
        called once more, on the first point as a ``(1,)`` array: ``(1, n)`` is one row per
        point, ``(n, 1)`` the per-point convention (the call counts in ``n_calls``)."""
        n = xs.size
        if out.ndim != 2 or out.shape[1] != n or n == 1:
            return True
        self.n_calls += 1
        try:
            one = np.asarray(self.f(xs[:1].copy(), *self.args))
        except Exception:
            return False
        return one.shape == (1, n)

    def __call__(self, xs, rnd):
        if self.vectorized:
            chunks = [xs] if not self.map.parallel else \
                [c for c in np.array_split(xs, min(self.map.n_workers, xs.size)) if c.size]
            outs = self.map(_BatchCall(self.f, self.args, rnd), chunks)
            self.n_calls += len(chunks)
            checked = [self._check(np.asarray(o), c, rnd)
                       for o, c in zip(outs, chunks)]
            return np.concatenate(checked, axis=0)
        outs = self.map(_PointCall(self.f, self.args, rnd), xs.tolist())
        self.n_calls += xs.size
        return self._check_points(outs, xs, rnd)

    def _check_points(self, outs, xs, rnd):
        if self.m_shape is not None:           # fast path: one conversion for the batch
            try:
                a = np.asarray(outs)
            except ValueError:                 # ragged: fall through for the message
                a = None
            if a is not None and a.shape == (xs.size,) + self.m_shape \
                    and a.dtype.kind in "fiub":
                return self._check_values(np.asarray(a, np.float64).reshape(xs.size, -1),
                                          xs, rnd)
        arrs = []
        for o, x in zip(outs, xs.tolist()):
            a = np.asarray(o)
            if self.m_shape is None:
                if a.ndim > 1 or a.dtype == object:
                    raise ValueError(f"f returned an object of shape {a.shape} at x={x!r}; "
                                     "expected a float or a 1-D array of components")
                self.m_shape = a.shape
            elif a.shape != self.m_shape:
                raise ValueError(f"f returned shape {a.shape} at x={x!r}; expected "
                                 f"{self.m_shape} as at the first point")
            self._check_dtype(a, f"at x={x!r}")
            arrs.append(a)
        vals = np.asarray(np.stack(arrs), dtype=np.float64).reshape(xs.size, -1)
        return self._check_values(vals, xs, rnd)

    def _check(self, a, xs, rnd):
        k = xs.size
        expect = None if self.m_shape is None else (k,) + self.m_shape
        if a.ndim not in (1, 2) or a.shape[0] != k or (expect is not None and a.shape != expect):
            want = f"({k},)" if expect is None else str(expect)
            raise ValueError(f"f returned shape {a.shape} for {k} points; expected {want}")
        if self.m_shape is None:
            self.m_shape = a.shape[1:]
        self._check_dtype(a, f"for the batch in [{float(xs[0])!r}, {float(xs[-1])!r}]")
        vals = np.asarray(a, dtype=np.float64).reshape(k, -1)
        return self._check_values(vals, xs, rnd)

    @staticmethod
    def _check_dtype(a, where):
        if np.iscomplexobj(a):
            raise TypeError(f"f returned complex values {where}; autoknots tabulates real "
                            "functions (tabulate real and imaginary parts separately)")
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_):
            raise TypeError(f"f returned {a.dtype} values {where}; expected real numbers")

    def _check_values(self, vals, xs, rnd):
        bad = ~np.isfinite(vals)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            comp = f" (component {j})" if self.m_shape else ""
            raise ValueError(f"f returned {float(vals[i, j])!r}{comp} at "
                             f"x={float(xs[i])!r} (round {rnd})")
        if self.loglog:
            bad = vals <= 0
            if bad.any():
                i, j = np.argwhere(bad)[0]
                raise ValueError(f"f returned {float(vals[i, j])!r} <= 0 at "
                                 f"x={float(xs[i])!r} (round {rnd});"
                                 " space='loglog' needs f > 0 at every sample")
        return vals


# --------------------------------------------------------------------------- the algorithm
class _Mesh:
    """Knots (x, u, t), values y (spline ordinates) and F (f in log-log), open flags, fit."""

    def __init__(self, x, u, t, y, F, K):
        self.K = K
        self.x, self.u, self.t, self.y, self.F = x, u, t, y, F
        self.open = np.ones(x.size - 1, dtype=np.uint8)
        self.last = np.full(x.size - 1, np.inf)   # ratio of the test that made each interval
        self.fit()

    def fit(self):
        n, m = self.y.shape
        self.c = np.empty((4, n - 1, m))
        st = self.K.notaknot(self.t, self.y, self.c, np.empty(n), np.empty((n, m)))
        if st != 0:  # pragma: no cover - n >= 4 always
            raise RuntimeError(f"spline fit kernel failed with status {st}")
        if not np.isfinite(self.c).all() and np.isfinite(self.y).all():
            h = float(np.min(np.diff(self.t)))
            raise ValueError(
                "autoknots: the cubic's coefficients overflow double precision: the knot "
                f"spacing in the knot variable is {h:.3g}, and f's derivatives per unit of it "
                "(up to the third) are not representable. Rescale the variable, e.g. "
                "tabulate g(t) = f(a + t (b - a)) on [0, 1]")

    def insert(self, idx, xm, um, tm, ym, Fm, passed, ratio=None):
        """Insert one point in each interval ``idx``; both halves of interval ``idx[k]`` are
        open unless ``passed[k]``, and remember ``ratio[k]`` (the error ratio of the test
        that made them; inf when there was none)."""
        counts = np.ones(self.open.size, dtype=np.intp)
        counts[idx] = 2
        last = np.repeat(self.last, counts)
        pos = idx + np.arange(idx.size)
        last[pos] = last[pos + 1] = np.inf if ratio is None else ratio
        self.last = last
        n, m = self.y.shape
        N = n + idx.size
        xo, uo, to = np.empty(N), np.empty(N), np.empty(N)
        yo = np.empty((N, m))
        Fo = np.empty((N if self.F.shape[0] else 0, m))
        op = np.empty(N - 1, dtype=np.uint8)
        got = self.K.merge(self.x, self.u, self.t, self.y, self.F, idx, xm, um, tm, ym, Fm,
                           passed, xo, uo, to, yo, Fo, op)
        assert got == N
        self.x, self.u, self.t, self.y, self.F, self.open = xo, uo, to, yo, Fo, op
        self.fit()

    def values(self):
        return self.F if self.F.shape[0] else self.y


def autoknots(f, a, b, rtol=1e-8, *, atol=0.0, knots="linear", space="linear",
              refine="closure", refine_ns=1.0, n_refine=1, n_init=None, max_knots=1_000_000,
              vectorized=None, workers=None, kind="cubic", extrapolate=False,
              loglog_criterion="absolute", vector_norm="max", args=(), verify=None,
              callback=None, progress=False, degree=None):
    """Tabulate ``f`` on ``[a, b]`` by a cubic spline whose knots AutoKnots places.

    The mesh is bisected round by round; an interval is accepted when the spline built
    from the knots so far predicts ``f`` at the interval's midpoint and the integral over
    the interval to the tolerance. Every evaluation of ``f`` becomes a knot.

    Parameters
    ----------
    f : callable
        ``f(x, *args)``: a float (or an ``(m,)`` array for vector f) for a float x, or,
        vectorised, an ``(n,)`` (``(n, m)``) array for an ``(n,)`` array.
    a, b : float
        The interval, ``a < b``, finite.
    rtol, atol : float, optional
        Tolerances: at each tested midpoint ``|f - s| <= rtol |f| + atol`` and over each
        interval ``|I_f - I_s| <= rtol |I_f| + atol h`` (paper: rtol = delta, atol =
        delta * epsilon). ``0 < rtol < 1``; ``atol >= 0`` (needed where f crosses 0).
        ``rtol`` may be given by position (``autoknots(f, a, b, 1e-6)``); every other
        option is keyword-only.
    knots : {"linear", "log", "asinh"}, optional
        Knot map: bisection is arithmetic in ``U(x)`` (``x``, ``ln x`` or ``asinh x``).
    space : {"linear", "loglog"}, optional
        ``"loglog"`` tabulates ``ln f`` against ``ln x`` (needs ``a > 0`` and ``f > 0``),
        with an absolute tolerance on ``ln f``, i.e. a relative one on ``f``.
    refine : {"closure", None, "sigma"}, optional
        After the mesh settles: ``"closure"`` (default) reopens every interval wider than
        the mean of its neighbours once more; ``"sigma"`` is the paper's plateau heuristic
        (``refine_ns``, ``n_refine`` passes); ``None`` stops.
    refine_ns : float, optional
        Sigma threshold ``mean + refine_ns * sd`` of the widths (``>= 0``).
    n_refine : int, optional
        Number of sigma passes (``>= 0``).
    n_init : int, optional
        Initial knots, uniform in ``U``, ``>= 4`` (default 6). With ``kind="chebyshev"``:
        initial piece ends, ``>= 2`` (default 5: four pieces of degree 4).
    max_knots : int, optional
        Stop after the first round that exceeds it: warning, ``converged=False``,
        ``status=1``. With ``kind="chebyshev"``: the cap on evaluations.
    vectorized : bool or None, optional
        ``None`` probes ``f`` with the initial knots as an array and falls back to scalar
        calls; ``True`` arrays only; ``False`` floats only.
    workers : int or map-like callable, optional
        Evaluate each round in parallel (SciPy convention): an int makes a process pool
        (``-1``: all cores), or pass any ``map(func, iterable)``. Results equal serial.
    kind : {"cubic", "chebyshev"}, optional
        ``"cubic"`` (default): the paper's not-a-knot cubic spline, every evaluation a knot
        (:class:`AutoKnotsSpline`). ``"chebyshev"``: adaptive piecewise Chebyshev
        interpolation with nested sampling and a degree chosen per piece, several times
        fewer evaluations on smooth f at tight tolerances (:class:`AutoKnotsChebyshev`;
        see :doc:`/kinds`).
    extrapolate : bool, optional
        Default of the spline's behaviour outside ``[a, b]`` (NaN when False).
    loglog_criterion : {"absolute", "relative"}, optional
        Log-log tolerance on ``ln f``: absolute (default) or NumCosmo's relative one.
    vector_norm : {"max", "l2"}, optional
        For vector f: every component passes its own tests, or Euclidean norms do.
    args : tuple, optional
        Extra positional arguments of ``f``.
    verify : bool or None, optional
        After the mesh settles, verify the tolerance where one midpoint test is weakest:
        the first and last knot intervals are tested at their 1/4 and 3/4 points and, unless
        ``refine="closure"`` (which already does it), every interval more than twice as wide
        as a neighbour at its midpoint; failures reopen the mesh. The points are knots and
        counted in ``verify_evals``. During the rounds, a passing midpoint test whose error
        is above 0.1 of the tolerance and fell by less than 4x since its parent interval's
        test (instead of the ~16x of a resolved cubic) reopens the halves
        (``slow_reopened``): f may oscillate below the knot spacing, where a single passing
        test is luck. ``None`` (default): True except in the paper mode ``refine="sigma"``,
        which keeps the paper's knot counts and says in its message that the error between
        tested midpoints is not verified.
    callback : callable, optional
        ``callback(round, n_evals, n_open)`` after each round (evaluations so far, intervals
        or pieces still open). Returning True or raising StopIteration stops with a usable
        partial table: ``converged=False``, ``status=5``.
    progress : bool, optional
        Show a progress bar (tqdm when installed, else a line per round on stderr).
    degree : int or tuple of int, optional
        ``kind="chebyshev"`` only: the largest degree of a piece (a power of two, 4..128;
        default 64).

    Returns
    -------
    AutoKnotsSpline or AutoKnotsChebyshev
        The table, with ``knots``, ``n_evals``, ``converged``, ``status`` and counts.

    Raises
    ------
    ValueError, TypeError
        Bad arguments, or f returning NaN/inf, complex values or a wrong shape.
    DiscontinuityError
        A midpoint can no longer be separated from its interval's ends in floating point:
        a jump, a kink, noise above the tolerance, or f ~ 0 with ``atol = 0``.

    Notes
    -----
    Both halves of a passing interval are accepted (one level below the test), so the
    achieved error on a dense grid is typically 0.05-0.5 of the tolerance. Features no
    sample touches stay invisible: raise ``n_init`` for narrow features.

    With ``atol = 0`` a relative tolerance cannot hold next to a sign change of f
    (``|f| -> 0`` there): such a table has every test passed but reports
    ``converged=False``, ``status=4``. With ``atol > 0`` an integrable endpoint singularity (``sqrt(x)`` at 0) is
    bisected below the usual rounding guard while ``|f(x1) - f(x0)|`` stays below
    ``1e6 atol``, until the tests pass.

    Examples
    --------
    >>> import numpy as np
    >>> import numfit as nf
    >>> s = nf.autoknots(lambda x: np.exp(-x) * np.sin(3 * x) + 2, 0.1, 5.0, rtol=1e-6)
    >>> s.converged, s.n_evals == len(s.knots)
    (True, True)
    >>> x = np.linspace(0.1, 5.0, 1001)
    >>> f = np.exp(-x) * np.sin(3 * x) + 2
    >>> bool(np.all(np.abs(s(x) - f) <= 1e-6 * np.abs(f)))
    True

    A line needs one round, and the verification of the end intervals a second:

    >>> s = nf.autoknots(lambda x: 2 * x + 1, 0.1, 5.0)
    >>> s.n_evals, s.n_rounds, s.verify_evals
    (15, 2, 4)

    The chebyshev kind needs several times fewer evaluations on smooth f:

    >>> t = nf.autoknots(lambda x: np.exp(-x) * np.sin(3 * x) + 2, 0.1, 5.0, rtol=1e-10,
    ...                  kind="chebyshev")
    >>> c = nf.autoknots(lambda x: np.exp(-x) * np.sin(3 * x) + 2, 0.1, 5.0, rtol=1e-10)
    >>> t.converged, t.n_evals < c.n_evals / 5
    (True, True)
    """
    # ------------------------------------------------------------------ validation
    if not callable(f):
        raise TypeError(f"`f` must be callable; got {type(f).__name__}")
    a = check_float("a", a)
    b = check_float("b", b)
    if not a < b:
        raise ValueError(f"`a` must be < `b`; got a={a!r}, b={b!r}")
    if not math.isfinite(b - a):
        raise ValueError(f"`b - a` overflows; got a={a!r}, b={b!r}")
    if b - a <= 100 * _EPS * max(abs(a), abs(b)) or b - a < _TINY:
        # (below the smallest normal double the spacing of doubles is no longer relative:
        # 100 * eps * max(|a|, |b|) underflows and bisection stalls after a few levels)
        raise ValueError(f"`a` and `b` are too close to bisect in floating point: b - a "
                         f"must exceed 100 units in the last place of max(|a|, |b|) and "
                         f"{_TINY:.4g} (the smallest normal double); got a={a!r}, b={b!r}. "
                         "Rescale x")
    rtol = check_float("rtol", rtol, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    if rtol < 1e-14:
        warnings.warn(f"rtol={rtol:g} is below 1e-14: rounding will likely trip the "
                      "discontinuity guard", AutoKnotsWarning, stacklevel=2)
    atol = check_float("atol", atol, lo=0.0)
    knots = check_option("knots", knots, ("linear", "log", "asinh"))
    space = check_option("space", space, ("linear", "loglog"))
    refine = check_option("refine", refine, ("closure", "sigma", None))
    refine_ns = check_float("refine_ns", refine_ns, lo=0.0)
    n_refine = check_int("n_refine", n_refine, lo=0)
    kind = check_option("kind", kind, ("cubic", "chebyshev"))
    if n_init is None:
        n_init = 6 if kind == "cubic" else None
        max_knots = check_int("max_knots", max_knots, lo=n_init or 2, hi=_MAX_KNOTS)
    else:
        n_init = check_int("n_init", n_init, lo=4 if kind == "cubic" else 2)
        max_knots = check_int("max_knots", max_knots, lo=2, hi=_MAX_KNOTS)
        if n_init > max_knots:
            raise ValueError(f"`n_init` must be an integer <= `max_knots` ({max_knots}); got "
                             f"{n_init}")
    if vectorized is not None and not isinstance(vectorized, (bool, np.bool_)):
        raise TypeError(f"`vectorized` must be None, True or False; got {vectorized!r}")
    if verify is not None and not isinstance(verify, (bool, np.bool_)):
        raise TypeError(f"`verify` must be None, True or False; got {verify!r}")
    verify = (refine != "sigma") if verify is None else bool(verify)
    if not isinstance(extrapolate, (bool, np.bool_)):
        raise TypeError(f"`extrapolate` must be True or False; got {extrapolate!r}")
    loglog_criterion = check_option("loglog_criterion", loglog_criterion,
                                    ("absolute", "relative"))
    vector_norm = check_option("vector_norm", vector_norm, ("max", "l2"))
    if not isinstance(args, tuple):
        args = (args,)
    loglog = space == "loglog"
    if (knots == "log" or loglog) and a <= 0:
        why = "knots='log'" if knots == "log" else "space='loglog'"
        raise ValueError(f"{why} needs `a` > 0; got a={a!r}")
    if loglog and knots == "asinh":
        raise ValueError("space='loglog' bisects in ln x: `knots` must be 'linear' or 'log'; "
                         "got 'asinh'")
    if loglog and vector_norm == "l2":
        raise NotImplementedError("vector_norm='l2' is implemented in linear space only")
    monitor = _Monitor(callback, progress, kind)
    try:
        mapper = MapWrapper(workers)
        mapper.check_picklable(f, "f")
        if kind == "chebyshev":
            from ._chebyshev import build
            table = build(f, a, b, args=args, rtol=rtol, atol=atol, knots=knots,
                          loglog=loglog, mode=1 if loglog and loglog_criterion == "absolute"
                          else 0, vector_norm=vector_norm, refine=refine, n_init=n_init,
                          max_evals=max_knots, vectorized=vectorized, mapper=mapper,
                          extrapolate=bool(extrapolate), monitor=monitor, degree=degree)
        else:
            if degree is not None:
                raise ValueError("`degree` applies to kind='chebyshev' only")
            table = _build_cubic(f, a, b, args, rtol, atol, knots, space, refine, refine_ns,
                                 n_refine, n_init, max_knots, vectorized, mapper, extrapolate,
                                 loglog, loglog_criterion, vector_norm, verify, monitor)
    finally:
        monitor.close()
    if table.status not in (0, 5):
        warnings.warn(f"autoknots: {table.message} ({table.n_evals} evaluations); the "
                      "table is usable but its error is not verified", AutoKnotsWarning,
                      stacklevel=2)
    return table


def _build_cubic(f, a, b, args, rtol, atol, knots, space, refine, refine_ns, n_refine, n_init,
                 max_knots, vectorized, mapper, extrapolate, loglog, loglog_criterion,
                 vector_norm, verify, monitor):
    K = _kernels.kernels
    U, Uinv = _MAPS["log" if loglog else knots]
    mode = 1 if loglog and loglog_criterion == "absolute" else 0
    norm = 1 if vector_norm == "l2" else 0
    simpson = loglog or knots == "linear"

    # ------------------------------------------------------------------ initial mesh
    ua, ub = float(U(a)), float(U(b))
    u = ua + (ub - ua) * np.arange(n_init) / (n_init - 1)
    u[-1] = ub
    x = np.asarray(Uinv(u), dtype=np.float64)
    x[0], x[-1] = a, b
    opts = dict(rtol=rtol, atol=atol, knots_map=knots, space=space, refine=refine,
                extrapolate=bool(extrapolate), vectorized=vectorized, verify=verify)
    stats = dict(n_rounds=0, round_sizes=[n_init], closure_rounds=0, closure_flagged=0,
                 closure_failed=0, refine_passes=0, refine_reopened=0, verify_rounds=0,
                 verify_evals=0, verify_failed=0, slow_reopened=0)
    with mapper:
        ev = _Evaluator(f, args, None if vectorized is None else bool(vectorized), mapper,
                        loglog)
        F0 = ev.first(x)
        opts["vectorized"] = bool(ev.vectorized)
        if loglog:
            mesh = _Mesh(x, u, np.log(x), np.log(F0), F0, K)
        else:
            mesh = _Mesh(x, u, x, F0, np.empty((0, F0.shape[1])), K)
        cfg = dict(rtol=rtol, atol=atol, mode=mode, norm=norm, simpson=simpson,
                   refine=refine, refine_ns=refine_ns, n_refine=n_refine,
                   max_knots=max_knots, loglog=loglog, span=abs(ub - ua), verify=verify,
                   slow=verify)
        status = _run(mesh, ev, K, Uinv, cfg, stats,
                      lambda: _make_spline(mesh, ev, stats, 3, opts), monitor)
    if status == 0 and atol == 0 and not loglog:
        status = _sign_status(mesh.values(), mesh.x, stats)
    return _make_spline(mesh, ev, stats, status, opts)


def _sign_status(vals, x, stats):
    """Status 4 where f changes sign between two samples and atol = 0 (else 0)."""
    flip = np.any(vals[:-1] * vals[1:] < 0, axis=1)
    if not flip.any():
        return 0
    i = int(np.flatnonzero(flip)[0])
    stats["sign_change"] = (float(x[i]), float(x[i + 1]))
    return 4


def _run(mesh, ev, K, Uinv, cfg, stats, partial, monitor, vstate=None):
    """The rounds of the AutoKnots paper (section 2), then the verification; returns the
    status."""
    passes = cfg["n_refine"]
    pending_closure = False
    refine = cfg["refine"]
    ws = np.empty(3)
    vstate = {} if vstate is None else vstate     # what the verification already passed
    for _ in range(_MAX_ITER):
        u_before = mesh.u                      # widths snapshot before this round's splits
        T = np.flatnonzero(mesh.open)
        fails = 0
        if T.size:
            um = 0.5 * (mesh.u[T] + mesh.u[T + 1])
            xm = np.ascontiguousarray(Uinv(um), dtype=np.float64)
            _guard(mesh, T, xm, um, cfg, partial)
            rnd = stats["n_rounds"] + 1
            vals = ev(xm, rnd)
            tm, ym, Fm = _ordinates(xm, um, vals, cfg)
            passed = np.empty(T.size, dtype=np.uint8)
            ratio = np.empty(T.size)
            # f at the knots and at the midpoints (the spline ordinates in linear space)
            fails = K.round_tests(mesh.t, mesh.c, mesh.y, mesh.values(), T, tm, ym, vals,
                                  *_test_tols(cfg), cfg["mode"], cfg["norm"],
                                  cfg["simpson"], passed, ratio)
            if cfg.get("slow"):
                # the test one level finer should see ~1/16 of the parent's error (h^4); a
                # passing error that fell by less than 4x is not trusted: f may oscillate
                # below the knot spacing, where refining does not shrink the error and the
                # halves can be worse than the midpoint test saw (aliasing)
                slow = (passed == 1) & (ratio > _SLOW_MIN) & \
                    (ratio > _SLOW_FACTOR * mesh.last[T])
                passed[slow] = 0
                fails += int(slow.sum())
                stats["slow_reopened"] += int(slow.sum())
            mesh.insert(T, xm, um, tm, ym, Fm, passed, ratio)
            stats["n_rounds"] = rnd
            stats["round_sizes"].append(int(T.size))
            if mesh.x.size > cfg["max_knots"]:
                return 1
            if monitor(rnd, mesh.x.size, int(mesh.open.sum())):
                return 5
        if pending_closure:
            pending_closure = False
            stats["closure_failed"] += int(fails)
            if fails == 0 and not cfg["verify"]:
                return 0
            if fails:
                continue
        elif fails > 0:
            continue
        # the mesh has settled
        elif refine == "sigma" and passes > 0:
            passes -= 1
            stats["refine_passes"] += 1
            K.width_stats(u_before, ws)
            lim = ws[0] + cfg["refine_ns"] * ws[1]
            if ws[2] > lim:
                stats["refine_reopened"] += int(K.sigma_reopen(mesh.u, lim, mesh.open))
                continue
        elif refine == "closure":
            flagged = int(K.closure_flags(mesh.u, _CLOSURE_MARGIN, mesh.open))
            stats["closure_rounds"] += 1
            stats["closure_flagged"] += flagged
            if flagged:
                pending_closure = True
                continue
        if not cfg["verify"]:
            return 0
        n_before = mesh.x.size
        st = _verify(mesh, ev, K, Uinv, cfg, stats, partial, vstate)
        if st == 1:
            return 1
        stop = mesh.x.size > n_before and monitor(stats["n_rounds"], mesh.x.size,
                                                  int(mesh.open.sum()))
        if st == 0:
            return 0
        if stop:
            return 5
        if stats["verify_rounds"] >= _MAX_VERIFY:
            return 2
    return 2


def _test_tols(cfg):
    """(rtol, atol) of the tests: the table's, times ``cfg["theta"]`` (1 in one dimension;
    the axis tests of a 2-D table run at a multiple)."""
    theta = cfg.get("theta", 1.0)
    return cfg["rtol"] * theta, cfg["atol"] * theta


def _at_span_limit(du, cfg, variation):
    """Where an interval of width ``du`` in u is too narrow to bisect relative to the span
    (the rounding guard). With ``atol > 0`` in linear space an interval whose f varies by
    at most ``_JUMP_ATOL * atol`` (``variation()``, evaluated only when needed) may go on:
    an integrable endpoint singularity, not a jump."""
    lim = np.abs(du) <= 100 * _EPS * cfg["span"]
    if np.any(lim) and cfg["atol"] > 0 and not cfg["loglog"]:
        lim = lim & (variation() > _JUMP_ATOL * cfg["atol"])
    return lim


def _ordinates(xm, um, vals, cfg):
    """(t, y, F) of new samples: spline abscissae, ordinates, f in log-log. The spline is in
    x in linear space, in u (= ln x) in log-log space, and in u whenever ``cfg["t_u"]``
    (the axes of a 2-D table are interpolated in their knot variables)."""
    t = um if cfg["loglog"] or cfg.get("t_u") else xm
    if cfg["loglog"]:
        return t, np.log(vals), vals
    return t, vals, np.empty((0, vals.shape[1]))


def _verify(mesh, ev, K, Uinv, cfg, stats, partial, vstate):
    """One verification round on the settled mesh (the docstring of ``verify``).

    The 1/4 and 3/4 points of the end intervals (unless those intervals and their
    neighbours are unchanged since they last passed) and, outside closure mode, the
    midpoints of intervals wider than twice a neighbour, are tested pointwise against the
    current spline and inserted as knots; intervals with a failing point reopen. Returns
    0 (all passed, or nothing to test), 1 (max_knots), or 2 (failures: go on refining).
    """
    n = mesh.x.size
    ends = []
    for side, i in (("left", 0), ("right", n - 2)):
        key = mesh.x[:4].tobytes() if side == "left" else mesh.x[-4:].tobytes()
        if vstate.get(side) != key and i not in ends:
            ends.append(i)
    mids = []
    if cfg["refine"] != "closure":
        h = np.diff(mesh.u)
        nb = np.minimum(np.r_[np.inf, h[:-1]], np.r_[h[1:], np.inf])
        mids = [int(i) for i in np.flatnonzero(h > 2 * nb * (1 + _CLOSURE_MARGIN))
                if i not in ends]
    if not ends and not mids:
        return 0
    # points: (interval, fraction in u)
    pts = sorted([(i, 0.25) for i in ends] + [(i, 0.75) for i in ends]
                 + [(i, 0.5) for i in mids])
    iv = np.array([p[0] for p in pts])
    fr = np.array([p[1] for p in pts])
    um = mesh.u[iv] + fr * (mesh.u[iv + 1] - mesh.u[iv])
    xm = np.ascontiguousarray(Uinv(um), dtype=np.float64)
    _guard(mesh, iv, xm, um, cfg, partial)
    rnd = stats["n_rounds"] + 1
    vals = ev(xm, rnd)
    tm, ym, Fm = _ordinates(xm, um, vals, cfg)
    ok = _pointwise_ok(mesh, K, tm, ym, vals, cfg)
    # an interval passes when all its points pass
    good = {int(i): True for i in iv}
    for i, g in zip(iv, ok):
        good[int(i)] &= bool(g)
    first = fr <= 0.5                          # one insertion per interval per merge call
    for sel in (first, ~first):
        if not sel.any():
            continue
        idx = np.searchsorted(mesh.x, xm[sel]) - 1
        passed = np.array([good[int(i)] for i in iv[sel]], dtype=np.uint8)
        mesh.insert(idx.astype(np.intp), xm[sel], um[sel], tm[sel],
                    np.ascontiguousarray(ym[sel]), np.ascontiguousarray(Fm[sel])
                    if Fm.shape[0] else Fm, passed)
    n_fail = sum(not g for g in good.values())
    stats["n_rounds"] = rnd
    stats["round_sizes"].append(int(xm.size))
    stats["verify_rounds"] += 1
    stats["verify_evals"] += int(xm.size)
    stats["verify_failed"] += n_fail
    if good.get(0, False) and 0 in ends:
        vstate["left"] = mesh.x[:4].tobytes()
    last = iv.max()
    if last in ends and good[int(last)]:
        vstate["right"] = mesh.x[-4:].tobytes()
    if mesh.x.size > cfg["max_knots"]:
        return 1
    return 2 if n_fail else 0


def _pointwise_ok(mesh, K, tm, ym, F, cfg):
    """Pointwise test of new samples against the current spline (one flag per point)."""
    table = _kernels.lookup_table(mesh.t, K)
    S = np.empty(ym.shape)
    K.evaluate(mesh.t, mesh.c, table, np.ascontiguousarray(tm, dtype=np.float64), 0, True, S)
    err = np.abs(ym - S)
    rtol, atol = _test_tols(cfg)
    if cfg["norm"] == 1:
        return np.linalg.norm(err, axis=1) <= rtol * np.linalg.norm(ym, axis=1) + atol
    if cfg["loglog"] and cfg["mode"] == 1:
        tol = rtol + atol / F
    else:
        tol = rtol * np.abs(ym) + atol
    return np.all(err <= tol, axis=1)


def _guard(mesh, T, xm, um, cfg, partial):
    """Discontinuity guard, before a round is evaluated.

    With ``atol > 0`` (linear space) an interval at the span limit may be bisected further,
    down to the floating-point limit in x, while the variation of f over it is below
    ``_JUMP_ATOL * atol`` (an integrable endpoint singularity, not a jump).
    """
    x0, x1, u0 = mesh.x[T], mesh.x[T + 1], mesh.u[T]
    bad = ~((x0 < xm) & (xm < x1))
    bad |= np.abs(xm - x0) <= 100 * _EPS * np.abs(xm)
    y = mesh.values()
    bad |= _at_span_limit(um - u0, cfg, lambda: np.max(np.abs(y[T + 1] - y[T]), axis=1))
    if not bad.any():
        return
    k = int(np.flatnonzero(bad)[0])
    x, lo, hi = float(xm[k]), float(x0[k]), float(x1[k])
    n = mesh.x.size
    raise DiscontinuityError(
        f"autoknots cannot bisect [{lo!r}, {hi!r}] any further at x={x!r} after {n} "
        f"evaluations: the tolerance (rtol={cfg['rtol']:g}, atol={cfg['atol']:g}) is still "
        "not met there. Likely causes: a jump or a kink of f near x, noise in f above rtol, "
        "or f ~ 0 near x with atol = 0. Split [a, b] at x and tabulate the pieces "
        "separately, or pass atol > 0.",
        x=x, interval=(lo, hi), n_evals=n, partial=partial())


def _make_spline(mesh, ev, stats, status, opts):
    info = dict(opts)
    info.update(stats)
    msg = _STATUS_MESSAGES[status]
    if status == 0 and not opts["verify"]:
        msg += ("; verify=False (paper mode): the error between tested midpoints is not "
                "verified")
    if status == 4:
        x0, x1 = stats["sign_change"]
        msg += f"; first sign change in [{x0!r}, {x1!r}]"
    info.pop("sign_change", None)
    info.update(n_evals=mesh.x.size, n_calls=ev.n_calls, status=status,
                success=status == 0, message=msg)
    vals = mesh.values()
    c = mesh.c
    if not ev.m_shape:
        vals, c = vals[:, 0], c[:, :, 0]
    return AutoKnotsSpline(mesh.x, vals, mesh.u, c, info)
