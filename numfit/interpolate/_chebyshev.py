"""AutoKnots, ``kind="chebyshev"``: adaptive piecewise Chebyshev interpolation.

Each piece ``[u0, u1]`` of the knot variable ``u`` (``x``, ``ln x`` or ``asinh x``; ``ln x``
with ``ln f`` in log-log space) is sampled at the Chebyshev-Lobatto points of degree
``p = 4, 8, 16, ...``; the points of degree ``p`` are every other point of degree ``2p``
(nested sampling), so raising the degree reuses every sample, and the error of the
degree-``p/2`` interpolant at the ``p/2`` new points of degree ``p`` is measured at no cost.

Acceptance (``E_k``: the largest error of the degree-``k`` interpolant at the points new at
degree ``2k``, in units of the pointwise tolerance ``rtol |f| + atol``):

* ``E_{p/2} <= 0.1``: the degree-``p`` interpolant is kept (it is one degree level finer
  than the test, as the cubic kind keeps both halves of a tested interval), if it also
  predicts within 0.1 the samples its bisected ancestors dropped inside the piece (a
  degree-4 half passed its 2 new points at 0.054 by the luck of their phase under a small
  fast oscillation, while those samples were off by 0.87: 1.03x the tolerance). A pass
  within 10x of the tolerance samples the next degree first: where f oscillates below the
  sample spacing the samples alias, the measured errors stay near the oscillation's
  amplitude and the kept interpolant can be several times worse. At the largest degree
  such a pass is kept when the errors fall (``E_{p/2} < E_{p/4} / 2``, ``TOP_Q``); with
  flat errors there, an aliased floor, the piece is bisected (``E_8 = 0.59, E_16 = 0.37,
  E_32 = 0.83`` had been kept at 1.09x the tolerance);
* or convergence extrapolated from two measured levels: with ``q = E_{p/2} / E_{p/4} < 1/2``
  the kept error is predicted as ``E_{p/2} q`` and accepted when ``SAFETY E_{p/2} q <= 1``.
  A kink or singularity converges algebraically (``q`` near 1/2 or above) and never passes
  this way; for analytic f the prediction is conservative (the true factor is ``q^2``).
  The factor must not have grown more than ``Q_GROW`` (2) times over the previous level's
  (``E_{p/4} / E_{p/8}``): where the samples alias a fast oscillation, the errors fall onto
  its floor and the factor grows (a 2-D table accepted at 2.1x the tolerance read
  ``1030 -> 25.8 -> 2.11`` as convergence). And ``E_{p/2} <= EXTRAP_EH_MAX`` (2): a slowly
  converging component (a weak singularity) can emerge at the last level under a fast one,
  whose factor is the one read (``c + |x - x0|^3.3 + 0.1 sin(7.5 x)``: ``2.3e6 -> 1.1e4 ->
  27``, accepted at 1.7x the tolerance), or only at the kept level, invisible in every
  measured factor (``c + 0.3 sin(w x) + B |x - x0|^2.6``: ``1.9e8 -> 5.9e5 -> 16``, factors
  of a geometric rate, accepted at 4.3x). With ``E_{p/2} <= 2`` any component converging at
  least as fast as ``1/n`` (a factor 1/2 per doubling) keeps the kept interpolant within the
  tolerance (with 4, ``|x - x0|^1.8`` broke it at 1.08x);
* or, in one dimension from degree 16 on, a spot test: where a pass within the margin
  comes with converging errors (``E_{p/2} < E_{p/4} / 2``), or where the extrapolation
  above predicts a pass but ``E_{p/2}`` exceeds 2 or the degree is below 32, the piece
  samples a subset of the points new at degree ``2p`` (6 of 16, 8 of 32, 16 of 64;
  ``SPOT1_SUBSETS``) and keeps degree ``p`` when its interpolant predicts them within
  ``MARGIN``. This measures the kept interpolant itself, between its nodes, at a
  fraction of the next degree's cost; the subsets are chosen so that no single
  oscillation nearly vanishes at all their points. Otherwise the rest of degree ``2p`` is
  sampled (the subset is kept) and the piece is decided there. Spot samples are checked
  again against the final table. The convergence condition matters: with errors not
  falling (``E_4 = 0.55 -> E_8 = 0.93``, an aliased floor of damped BAO wiggles in
  log-log space) a spot test passed a piece whose error was 1.18x the tolerance;
* or, for a half of a bisected piece passing within the margin, the samples its bisected
  ancestors dropped inside it: when its degree-``p`` interpolant predicts at least
  ``max(FREE_MIN, p/2)`` of them within ``MARGIN``, it is kept at degree ``p`` without
  sampling the next degree (the dropped samples lie between its nodes, where an aliased
  oscillation shows; one dimension only).

Otherwise the degree is doubled when the same model predicts success within the largest
degree, else the piece is bisected (its ends and midpoint are samples of the halves). In one
dimension a piece at an end of [a, b] whose largest errors sit at that end and fall slower
than 2x per doubling (an endpoint singularity) is bisected as soon as that rate cannot reach
the tolerance within the largest degree, not one doubling later. After
every piece has passed, every discarded sample (inside a bisected parent) is checked against
the final table; a piece with a failing sample is reopened. Chebyshev interpolation and the
error of nested interpolants: L. N. Trefethen, *Approximation Theory and Approximation
Practice* (SIAM, 2013), chapters 3, 8 and 14.
"""
import math

import numpy as np

from .._errors import DiscontinuityError
from ._autoknots import (_EPS, _MAPS, _MAX_ITER, _STATUS_MESSAGES, _at_span_limit, _Evaluator,
                         _sign_status)
from ._chebtable import AutoKnotsChebyshev, lobatto, values_to_coefs

__all__ = ["build", "check_degree", "initial_pieces"]

SAFETY = 4.0            # extrapolated acceptance: SAFETY * predicted error <= 1
Q_MAX = 0.5             # extrapolation trusted only below this convergence factor
NB_INIT = 2
EXTRAPOLATE_FROM = 32   # the extrapolated acceptance needs this many samples per piece
MARGIN = 0.1            # a piece passing with E_{p/2} above this samples one more degree
Q_GROW = 2.0            # the extrapolated acceptance needs a steady factor (_steady)
SPOT_LINES = 2
SPOT_SPREAD = 4
FREE = True             # halves are tested on the samples their ancestors dropped (1-D;
#                         also trusting them when E_{p/2} > 1 broke 2 of 56 BAO variants)
FREE_MIN = 4
EXTRAP_EH_MAX = 2.0     # the extrapolated acceptance needs E_{p/2} <= this
DECEL = 0.6             # a convergence rate falling below DECEL x the previous: algebraic
TOP_Q = 0.5             # at the largest degree a pass within 10x needs E_{p/2} < TOP_Q E_{p/4}
SLOW_Q = 0.5            # an end piece whose errors fall slower than this per doubling ...
SPOT1 = True            # 1-D: a margin pass samples a subset of the next degree first
SPOT1_FROM = 16         # ... from this degree on
SPOT1_SUBSETS = {16: (1, 2, 3, 7, 9, 11),
                 32: (5, 10, 15, 18, 21, 26, 27, 28),
                 64: (7, 8, 9, 10, 18, 20, 23, 25, 28, 29, 33, 39, 46, 49, 56, 57)}
"""The points new at degree 2p (indices 0..p-1, ascending) sampled by a 1-D spot test of a
degree-p piece. Chosen to maximise, over single oscillations ``cos(w s + phi)`` on [-1, 1]
(``w`` up to 6p), the smallest ratio of the degree-p interpolant's largest error at these
points to its largest error on [-1, 1] (about 0.29, 0.36, 0.59; at all p new points 0.31,
0.53, 0.68), with gaps of at most 5, 6, 8 indices. Evenly spread subsets of the same size
reach at most 0.09, 0.16, 0.20: some oscillations nearly vanish at all their points."""
_DEGREES = (4, 8, 16, 32, 64, 128)


def check_degree(degree):
    """The largest piece degree ``degree`` (None: 64) as an int; TypeError or ValueError
    naming ``degree`` unless it is a power of two in 4..128."""
    if degree is None:
        return 64
    if isinstance(degree, (bool, np.bool_)) or not isinstance(degree, (int, np.integer)):
        raise TypeError(f"`degree` must be an int (a power of two, 4..128); got {degree!r}")
    if int(degree) not in _DEGREES:
        raise ValueError(f"`degree` must be a power of two in 4..128; got {degree!r}")
    return int(degree)


def _predict_matrix(p):
    """(p, p+1) matrix: degree-p Lobatto values -> the interpolant at the p points new at
    degree 2p (odd indices of the degree-2p Lobatto points, ascending)."""
    cached = _PRED.get(p)
    if cached is None:
        s_new = lobatto(2 * p)[1::2]
        V = np.polynomial.chebyshev.chebvander(s_new, p)        # (p, p+1)
        cached = V @ values_to_coefs(np.eye(p + 1), p)
        _PRED[p] = cached
    return cached


_PRED = {}
_SPOT1_IDX = {p: np.array(v, dtype=np.intp) for p, v in SPOT1_SUBSETS.items()}


class _Piece:
    """One piece: ends in u, degree p, samples (x, table values y, f values F) at the p+1
    Lobatto points (ascending)."""

    __slots__ = ("u0", "u1", "p", "x", "y", "F", "ok", "want", "force", "spotted", "spot_pass",
                 "extra", "pend", "ecache")

    def __init__(self, u0, u1, p, x, y, F):
        self.u0, self.u1, self.p, self.x, self.y, self.F = u0, u1, p, x, y, F
        self.ok = False
        self.want = 0            # degree to sample next (0: decided)
        self.force = False       # sample the next degree whatever the test says
        self.spotted = None      # 2-D: lines (coordinates) already spot-tested
        self.spot_pass = None    # 2-D: (degree, E_{p/2}) of the last passed spot test
        self.extra = None        # (u, y, F) of samples its bisected ancestors dropped in it
        self.pend = None         # 1-D: (indices, x, y, F) of points of degree 2p sampled
        self.ecache = None       # (y array, {k: E_k}) of the last _errors (see there)


def build(f, a, b, *, args, rtol, atol, knots, loglog, mode, vector_norm, refine, n_init,
          max_evals, vectorized, mapper, extrapolate, monitor, degree):
    """Build an :class:`AutoKnotsChebyshev` (the front end :func:`numfit.autoknots` has
    validated every argument except ``degree``)."""
    if refine != "closure":
        raise ValueError("`refine` applies to kind='cubic' only (the chebyshev kind verifies "
                         f"every piece by nested sampling); got refine={refine!r}")
    if vector_norm != "max":
        raise NotImplementedError("kind='chebyshev' implements vector_norm='max' only")
    pmax = check_degree(degree)
    U, Uinv = _MAPS["log" if loglog else knots]
    ua, ub = float(U(a)), float(U(b))
    cfg = dict(rtol=rtol, atol=atol, loglog=loglog, mode=mode, span=abs(ub - ua), pmax=pmax,
               U=U, Uinv=Uinv, a=a, b=b, max_evals=max_evals, free=FREE, spot1=SPOT1,
               end_bisect=True)     # (one dimension: in 2-D a bisection drops whole lines,
    #                                 and fronts near an end of an axis cost 3% more)
    opts = dict(kind="chebyshev", rtol=rtol, atol=atol, knots_map=knots,
                space="loglog" if loglog else "linear", extrapolate=extrapolate,
                vectorized=vectorized, degree_max=pmax)
    stats = dict(n_rounds=0, round_sizes=[], n_discarded=0, n_recheck_failed=0,
                 n_extrapolated=0, n_margin=0, n_free=0, n_spot=0, n_spot_evals=0)
    nb = max(1, int(n_init) - 1) if n_init is not None else NB_INIT
    pieces, xs = initial_pieces(nb, cfg)
    with mapper:
        ev = _Evaluator(f, args, None if vectorized is None else bool(vectorized), mapper,
                        loglog)
        F0 = ev.first(xs)
        opts["vectorized"] = bool(ev.vectorized)
        stats["round_sizes"].append(int(xs.size))
        y0 = np.log(F0) if loglog else F0
        for i, pc in enumerate(pieces):
            sl = slice(4 * i, 4 * i + 5)
            pc.y, pc.F = y0[sl], F0[sl]
        state = dict(pieces=pieces, discarded=[], n=int(xs.size), ev=ev, stats=stats,
                     opts=opts)
        status = _run(state, ev, cfg, stats, monitor, opts)
    return _make_table(state, status, cfg)


def initial_pieces(nb, cfg):
    """``nb`` equal pieces of [cfg a, cfg b] in u at degree 4, without samples yet, and their
    Lobatto points in x (shared ends once; each piece's ``x`` a view of them)."""
    a, b = cfg["a"], cfg["b"]
    ua, ub = float(cfg["U"](a)), float(cfg["U"](b))
    ends = ua + (ub - ua) * np.arange(nb + 1) / nb
    ends[-1] = ub
    s4 = lobatto(4)[1:-1]
    us = np.concatenate([np.concatenate([[ends[i]], 0.5 * (ends[i] + ends[i + 1])
                                         + 0.5 * (ends[i + 1] - ends[i]) * s4])
                         for i in range(nb)] + [[ub]])
    xs = _to_x(us, cfg)
    xs[0], xs[-1] = a, b
    pieces = [_Piece(ends[i], ends[i + 1], 4, xs[4 * i:4 * i + 5], None, None)
              for i in range(nb)]
    return pieces, xs


def _to_x(u, cfg):
    x = np.asarray(cfg["Uinv"](u), dtype=np.float64)
    x = np.clip(x, cfg["a"], cfg["b"])
    return np.ascontiguousarray(x)


def _tol(y, F, cfg):
    """Pointwise tolerance at samples (table values y, f values F)."""
    rtol, atol = cfg["rtol"], cfg["atol"]
    if cfg["loglog"] and cfg["mode"] == 1:
        return rtol + atol / F
    return rtol * np.abs(y) + atol


def _ratios(err, tol):
    """err / tol elementwise, with err <= tol = 0 counting as 0 (f = 0 exactly, atol = 0)
    and NaN as inf."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(err <= tol, np.where(tol > 0, err / tol, 0.0), err / tol)
    return np.nan_to_num(r, nan=math.inf)


def _ratio(err, tol):
    """max of :func:`_ratios` (0 for no points, inf unless finite)."""
    if err.size == 0:
        return 0.0
    if tol.min() > 0.0:                      # the common case, without the masking
        r = float(np.max(err / tol))
        return r if r < math.inf else math.inf       # NaN -> inf
    r = float(np.max(_ratios(err, tol)))
    return r if np.isfinite(r) else math.inf


def _errors(pc, cfg):
    """E_k for k = p/2, p/4, ..., 2 from the nested samples of piece pc (dict k -> E_k).

    The levels below p/2 are those of the piece before its last doubling (``pc.ecache``,
    kept by :func:`_merge` for the array it made); values refreshed by a 2-D pass are new
    arrays, and everything is computed again."""
    cached = _cached_errors(pc)
    out = {}
    y, F = pc.y, pc.F
    k = pc.p // 2
    while k >= 1:
        out[k] = cached[k] if k in cached else _ratio(*_level(y, F, k, cfg))
        y, F = y[::2], F[::2]
        k //= 2
    pc.ecache = (pc.y, out)
    return out


def _level(y, F, k, cfg):
    """(|error|, tolerance) of the degree-k interpolant through the samples ``y[::2]`` at the
    points new at degree 2k, ``y[1::2]`` (one nested level; F the values of f there)."""
    ynew = y[1::2]
    return np.abs(_predict_matrix(k) @ y[::2] - ynew), _tol(ynew, F[1::2], cfg)


def _cached_errors(pc):
    """The E_k kept for the piece's current values (``pc.ecache``), or {}."""
    return pc.ecache[1] if pc.ecache is not None and pc.ecache[0] is pc.y else {}


def _decide(pc, cfg, stats):
    """Accept pc (True) or set pc.want to the degree to sample next (0: bisect).

    Doubling is chosen when the errors of the last two nested levels, read as geometric
    convergence in the degree (``E_n ~ rho^-n``, the rate of analytic f), predict the
    tolerance within the largest degree, and the rate is not falling off as algebraic
    convergence (a kink or a singularity in the piece) does; otherwise the piece is bisected.
    In one dimension, a piece at an end of [a, b] whose largest errors of the last two
    levels sit at that end and fall by less than ``SLOW_Q`` per doubling is bisected when
    that algebraic rate would not reach the tolerance within the largest degree
    (:func:`_end_error`).
    """
    p = pc.p
    if pc.force:
        pc.force = False
        pc.want = 2 * p if 2 * p <= cfg["pmax"] else 0
        return False
    E = _errors(pc, cfg)
    Eh = E.get(p // 2, math.inf)
    E2 = E.get(p // 4, 0.0)
    if Eh <= 1.0:
        # a passing error within 10x of the tolerance is not trusted while a higher degree
        # is allowed: f may oscillate below the sample spacing, where the samples alias
        # and the kept interpolant can be several times worse than the measured points
        if 2 * p > cfg["pmax"] and (Eh <= MARGIN or Eh < TOP_Q * E.get(p // 4, 0.0)):
            return True
        if Eh <= MARGIN:
            if _extra_ratio(pc, cfg) <= MARGIN:
                return True
            # the samples its bisected ancestors dropped inside it disagree: a lucky pass
            stats["n_margin"] += 1
            pc.want = 2 * p
            return False
        if pc.spot_pass is not None and pc.spot_pass[0] == p and Eh <= pc.spot_pass[1]:
            return True                  # spot-tested at this degree, no worse line since
        if _free_test(pc, cfg):
            stats["n_free"] += 1
            return True
        if 2 * p > cfg["pmax"]:
            pc.want = 0         # the largest degree, errors not falling: an aliased floor
            return False
        stats["n_margin"] += 1
        if cfg.get("spot") is not None:
            pc.want = -2 * p
        elif _can_spot1(pc, cfg) and Eh < Q_MAX * E.get(p // 4, 0.0):
            pc.want = -2 * p             # converging: sample a subset of degree 2p first
        else:
            pc.want = 2 * p
        return False
    if p == 2:                                       # a trimmed 2-D piece: back to 4
        pc.want = 4
        return False
    # the model predicts degree p within the tolerance (a steady factor q below Q_MAX)
    q = Eh / E2 if E2 > 0 and _steady(E, p) else math.inf
    predicted = q < Q_MAX and SAFETY * Eh * q <= 1.0
    if predicted and p >= EXTRAPOLATE_FROM and Eh <= EXTRAP_EH_MAX:
        stats["n_extrapolated"] += 1
        return True
    if predicted and 2 * p <= cfg["pmax"] and _can_spot1(pc, cfg):
        pc.want = -2 * p              # verified on a subset of degree 2p instead
        return False
    pc.want = 0
    if 2 * p > cfg["pmax"] or not (0 < Eh < math.inf) or not (E2 > Eh):
        return False
    rate = math.log(E2 / Eh) / (p // 4)              # per degree
    if SLOW_Q and cfg.get("end_bisect") and Eh > SLOW_Q * E2 and \
            math.log(p) + math.log(SAFETY * Eh) * math.log(2.0) / math.log(E2 / Eh) \
            > math.log(cfg["pmax"]) and _end_error(pc, cfg):
        # ... and whose largest errors sit at that end of [a, b] (an endpoint singularity,
        # sqrt(x) at 0), too far from the tolerance for that rate within the largest
        # degree: bisected now rather than after one more doubling (sqrt at rtol 1e-4:
        # 235 evaluations instead of 353)
        return False
    if p >= 16:
        E3 = E.get(p // 8, 0.0)
        if E3 > E2:
            prev = math.log(E3 / E2) / (p // 8)
            if rate < DECEL * prev:
                return False                         # algebraic: bisect
    need = p // 2 + math.log(SAFETY * Eh) / rate     # predicted degree
    if need <= cfg["pmax"]:
        pc.want = 2 * p
    return False


def _can_spot1(pc, cfg):
    """A 1-D spot test is allowed: from degree ``SPOT1_FROM`` on, not twice at a degree."""
    return bool(cfg.get("spot1")) and pc.p >= SPOT1_FROM and pc.pend is None


def _end_error(pc, cfg):
    """The largest error of the last two nested levels is at the same end of the piece (its
    first or last new point), and that end is an end of [a, b]: the error of a singularity
    of f at a or b. (Without the last condition pieces of Bessel J0 under-resolved at low
    degree were bisected too: 213 -> 273 evaluations at rtol 1e-4.)"""
    side = None
    y, F = pc.y, pc.F
    for k in (pc.p // 2, pc.p // 4):
        r = _ratios(*_level(y, F, k, cfg))
        r = r.reshape(r.shape[0], -1).max(axis=1)
        j = int(np.argmax(r))
        if j not in (0, r.size - 1) or (side is not None and (j == 0) != side):
            return False
        side = j == 0
        y, F = y[::2], F[::2]
    return bool(pc.x[0] == cfg["a"]) if side else bool(pc.x[-1] == cfg["b"])


def _steady(E, p):
    """The convergence factor per nested level has not grown by more than Q_GROW."""
    Eh, E2, E3 = E.get(p // 2, math.inf), E.get(p // 4, 0.0), E.get(p // 8, 0.0)
    if not (0 < Eh < E2 < E3):
        return False
    return Eh / E2 <= Q_GROW * (E2 / E3)


def _run(state, ev, cfg, stats, monitor, opts):
    pieces = state["pieces"]
    for pc in pieces:
        pc.ok = _decide(pc, cfg, stats)
    for _ in range(_MAX_ITER):
        todo = [pc for pc in pieces if not pc.ok]
        if not todo:
            bad = _recheck(state, cfg, stats)
            if not bad:
                return 0
            for pc in bad:
                pc.ok = False
                pc.want = 2 * pc.p if 2 * pc.p <= cfg["pmax"] else 0
                if pc.pend is not None:
                    if pc.want:                      # the spot samples become nodes
                        stats["n_discarded"] -= int(pc.pend[0].size)
                    else:
                        pc.pend = None
            continue
        # new pieces (bisections) and the points each open piece needs
        new_pieces, req = [], []
        for pc in pieces:
            if pc.ok:
                new_pieces.append(pc)
                continue
            if pc.want == 0:
                kids = _bisect(pc, cfg, state)
                keep = np.ones(pc.p + 1, dtype=bool)
                keep[[0, pc.p // 2, pc.p]] = False          # ends and midpoint are reused
                state["discarded"].append((pc.x[keep], pc.y[keep], pc.F[keep]))
                stats["n_discarded"] += int(keep.sum())
                if cfg.get("free"):
                    _hand_down(pc, keep, kids)
                for kid in kids:
                    kid.want = 4
                    new_pieces.append(kid)
                    req.append(kid)
            else:
                new_pieces.append(pc)
                req.append(pc)
        pieces[:] = new_pieces
        spot = [pc for pc in req if pc.want < 0] if cfg.get("spot") is not None else []
        if spot:
            req = [pc for pc in req if pc.want >= 0]
            for pc in spot:
                pc.ok = _spot_test(pc, cfg, stats)
            if not req:
                continue
        # evaluate every new point of the round in one batch
        us, owners = [], []
        for pc in req:
            unew = _new_points(pc) if pc.want > 0 else _spot1_points(pc)
            us.append(unew)
            owners.append(unew.size)
        u_all = np.concatenate(us)
        x_all = _to_x(u_all, cfg)
        rnd = stats["n_rounds"] + 1
        F_all = ev(x_all, rnd)
        y_all = np.log(F_all) if cfg["loglog"] else F_all
        state["n"] += int(x_all.size)
        stats["n_rounds"] = rnd
        stats["round_sizes"].append(int(x_all.size))
        pos = 0
        for pc, k in zip(req, owners):
            sl = slice(pos, pos + k)
            pos += k
            if pc.want < 0:
                pc.ok = _spot1(pc, x_all[sl], y_all[sl], F_all[sl], cfg, state)
                continue
            _merge(pc, x_all[sl], y_all[sl], F_all[sl])
            pc.ok = _decide(pc, cfg, stats)
        if state["n"] > cfg["max_evals"]:
            return 1
        if monitor(rnd, state["n"], sum(not pc.ok for pc in pieces)):
            return 5
    return 2


def _extra_ratio(pc, cfg):
    """Largest error of the piece's interpolant at the samples its bisected ancestors dropped
    inside it, in units of the tolerance (0 without such samples)."""
    if pc.extra is None:
        return 0.0
    u, y, F = pc.extra
    return _ratio(np.abs(_value_at(pc, u, y.shape) - y), _tol(y, F, cfg))


def _free_test(pc, cfg):
    """The degree-p interpolant predicts, within MARGIN of the tolerance, at least
    FREE_MIN (and p/2) samples that bisected ancestors dropped inside the piece."""
    if pc.extra is None:                # set only when cfg["free"] (one dimension)
        return False
    return pc.extra[0].size >= max(FREE_MIN, pc.p // 2) and _extra_ratio(pc, cfg) <= MARGIN


def _value_at(pc, u, shape):
    """The piece's interpolant at knot-variable points u in the piece, as an array of
    ``shape``: the barycentric formula for Chebyshev-Lobatto points (weights (-1)^j, halved
    at the ends; Berrut and Trefethen, SIAM Review 46, 2004), one product instead of a
    Clenshaw loop over the degree."""
    p = pc.p
    w = _bary_weights(p)
    s = (2 * np.asarray(u, dtype=np.float64) - pc.u0 - pc.u1) / (pc.u1 - pc.u0)
    d = s[:, None] - lobatto(p)[None, :]
    hit = d == 0.0
    d[hit] = 1.0
    q = w / d
    y = pc.y.reshape(p + 1, -1)
    out = (q @ y) / q.sum(axis=1)[:, None]
    rows, cols = np.nonzero(hit)
    out[rows] = y[cols]                       # at a node: its value
    return out.reshape(shape)


def _bary_weights(p):
    w = _BARY.get(p)
    if w is None:
        w = (-1.0) ** np.arange(p + 1)
        w[0] *= 0.5
        w[-1] *= 0.5
        _BARY[p] = w
    return w


_BARY = {}


def _spot_test(pc, cfg, stats):
    """Two dimensions, a pass within the margin: sample the ``p`` points new at degree
    ``2p`` on the ``SPOT_LINES`` lines of the other axis with the largest measured error and
    ``SPOT_SPREAD`` lines spread evenly over it (not spot-tested before for this piece), and
    keep degree ``p`` when its interpolant predicts them within ``MARGIN`` of the tolerance
    and stays within ``MARGIN`` of the degree-``2p`` interpolant of those lines on a dense
    grid (the samples become test samples of the final table: ``cfg["spot"]``); else sample
    degree ``2p`` on every line."""
    p = pc.p
    lines_of, evaluate = cfg["spot"]
    k = p // 2
    r = _ratios(*_level(pc.y, pc.F, k, cfg))
    per_line = r.max(axis=0).reshape(-1, cfg["m"]).max(axis=1)
    coords = lines_of()
    seen = pc.spotted if pc.spotted is not None else set()
    order = [j for j in np.argsort(-per_line, kind="stable") if float(coords[j]) not in seen]
    # the lines with the largest measured error, and lines spread over the other axis (an
    # aliased oscillation need not show in the measured error, and may be localised)
    spread = [j for j in np.unique(np.round(np.linspace(0, coords.size - 1, SPOT_SPREAD))
                                   .astype(np.intp)) if float(coords[j]) not in seen]
    lines = np.unique(np.array(order[:SPOT_LINES] + spread, dtype=np.intp))
    pc.want = 2 * p
    if lines.size == 0:
        return False
    unew = _new_points(pc)
    x = _to_x(unew, cfg)
    F = evaluate(x, lines)                               # (p, k lines * m)
    y = np.log(F) if cfg["loglog"] else F
    cols = (lines[:, None] * cfg["m"] + np.arange(cfg["m"])).ravel()
    yp = pc.y[:, cols]
    err = np.abs(_predict_matrix(p) @ yp - y)
    stats["n_spot"] += 1
    pc.spotted = seen | {float(c) for c in coords[lines]}
    ok = _ratio(err, _tol(y, F, cfg)) <= MARGIN
    if ok:
        # between the sample points too: the degree-p interpolant against the degree-2p one
        # through all samples of the spot lines, on a dense grid (an aliased oscillation can
        # put the p new points near zeros of the degree-p error)
        y2 = np.empty((2 * p + 1,) + y.shape[1:])
        y2[::2], y2[1::2] = yp, y
        F2 = np.empty_like(y2)
        F2[::2], F2[1::2] = pc.F[:, cols], F
        S = _dense_matrices(p)
        hi, lo = S[1] @ y2, S[0] @ yp
        Fd = S[1] @ F2 if not cfg["loglog"] else np.exp(hi)
        ok = _ratio(np.abs(hi - lo), _tol(hi, Fd, cfg)) <= MARGIN
    if ok:
        cfg["spot_record"](x, lines, F)
        pc.want = 0
        pc.spot_pass = (p, float(np.max(per_line)))
        return True
    return False


def _spot1_subset(p):
    """Indices (ascending) of the points new at degree 2p that a 1-D spot test samples
    (:data:`SPOT1_SUBSETS`)."""
    return _SPOT1_IDX[p]


def _spot1_points(pc):
    """u of the spot-test subset of the points new at degree 2p (pc.want = -2p)."""
    return _lobatto_new(pc, 2 * pc.p)[_spot1_subset(pc.p)]


def _spot1(pc, x, y, F, cfg, state):
    """1-D spot test: keep degree p when its interpolant predicts the sampled subset of the
    points of degree 2p within MARGIN; else sample the rest of degree 2p (pc.pend keeps the
    subset). The samples are checked again against the final table."""
    stats = state["stats"]
    S = _spot1_subset(pc.p)
    pc.pend = (S, x, y, F)
    stats["n_spot"] += 1
    stats["n_spot_evals"] += int(S.size)
    err = np.abs(_predict_matrix(pc.p)[S] @ pc.y - y)
    if _ratio(err, _tol(y, F, cfg)) <= MARGIN:
        state["discarded"].append((x, y, F))      # test samples of the final table
        stats["n_discarded"] += int(S.size)
        pc.want = 0
        return True
    pc.want = 2 * pc.p
    return False


def _dense_matrices(p):
    """(degree-p values, degree-2p values) -> the two interpolants on 8p points of [-1, 1]."""
    M = _DENSE.get(p)
    if M is None:
        s = np.cos(np.pi * (np.arange(8 * p) + 0.5) / (8 * p))
        M = tuple(np.polynomial.chebyshev.chebvander(s, q) @ values_to_coefs(np.eye(q + 1), q)
                  for q in (p, 2 * p))
        _DENSE[p] = M
    return M


_DENSE = {}


def _lobatto_new(pc, q):
    """u of the Lobatto points of degree q that are not points of degree pc.p (ascending)."""
    mask = np.ones(q + 1, dtype=bool)
    mask[::q // pc.p] = False
    return 0.5 * (pc.u0 + pc.u1) + 0.5 * (pc.u1 - pc.u0) * lobatto(q)[mask]


def _new_points(pc):
    """u of the Lobatto points of degree pc.want not yet sampled (ascending; without those
    a spot test sampled, pc.pend)."""
    q = pc.want
    u = _lobatto_new(pc, q)
    if pc.pend is not None and q == 2 * pc.p:
        keep = np.ones(u.size, dtype=bool)
        keep[pc.pend[0]] = False
        u = u[keep]
    return u


def _merge(pc, x, y, F):
    """Interleave the new samples: degree pc.p -> pc.want."""
    q = pc.want
    step = q // pc.p
    n = q + 1
    xs = np.empty(n)
    ys = np.empty((n,) + pc.y.shape[1:])
    Fs = np.empty_like(ys)
    old = np.zeros(n, dtype=bool)
    old[::step] = True
    xs[old], ys[old], Fs[old] = pc.x, pc.y, pc.F
    if pc.pend is not None and q == 2 * pc.p:
        S, xp, yp, Fp = pc.pend
        new = np.flatnonzero(~old)
        got = np.zeros(new.size, dtype=bool)
        got[S] = True
        xs[new[got]], ys[new[got]], Fs[new[got]] = xp, yp, Fp
        xs[new[~got]], ys[new[~got]], Fs[new[~got]] = x, y, F
    else:
        xs[~old], ys[~old], Fs[~old] = x, y, F
    pc.ecache = (ys, _cached_errors(pc))    # the nested levels' errors stay valid
    pc.x, pc.y, pc.F, pc.p, pc.want, pc.pend = xs, ys, Fs, q, 0, None


def _hand_down(pc, keep, kids):
    """Give each half the dropped samples (and the parent's own extra samples) inside it."""
    c, h = 0.5 * (pc.u0 + pc.u1), 0.5 * (pc.u1 - pc.u0)
    u = c + h * lobatto(pc.p)[keep]
    y, F = pc.y[keep], pc.F[keep]
    if pc.extra is not None:
        u = np.concatenate([u, pc.extra[0]])
        y = np.concatenate([y, pc.extra[1]])
        F = np.concatenate([F, pc.extra[2]])
    for kid, sel in zip(kids, (u < c, u > c)):
        kid.extra = (u[sel], y[sel], F[sel]) if sel.any() else None


def _bisect(pc, cfg, state):
    """The two halves of pc at degree 1 (its ends and midpoint), after the guard."""
    um = 0.5 * (pc.u0 + pc.u1)
    mid = pc.p // 2                     # the midpoint is Lobatto point p/2 of the piece
    x0, xm, x1 = pc.x[0], pc.x[mid], pc.x[-1]
    _guard(pc, um, x0, xm, x1, cfg, state)
    left = _Piece(pc.u0, um, 1, pc.x[[0, mid]], pc.y[[0, mid]], pc.F[[0, mid]])
    right = _Piece(um, pc.u1, 1, pc.x[[mid, -1]], pc.y[[mid, -1]], pc.F[[mid, -1]])
    return left, right


def _guard(pc, um, x0, xm, x1, cfg, state):
    """The discontinuity guard of the cubic kind, for the bisection of one piece: the
    quarter points of the halves must still be representable."""
    width = 0.25 * (pc.u1 - pc.u0)
    xq = cfg["Uinv"](np.array([pc.u0 + width, pc.u1 - width]))
    bad = not (x0 < xq[0] < xm < xq[1] < x1)
    bad |= abs(xq[0] - x0) <= 100 * _EPS * abs(xq[0])
    bad |= bool(_at_span_limit(width, cfg, lambda: np.max(np.ptp(pc.F, axis=0))))
    if not bad:
        return
    partial = state["partial"]() if "partial" in state else _make_table(state, 3, cfg)
    raise DiscontinuityError(
        f"autoknots (kind='chebyshev') cannot bisect [{float(x0)!r}, {float(x1)!r}] any "
        f"further near x={float(xm)!r} after {state['n']} evaluations: the tolerance "
        f"(rtol={cfg['rtol']:g}, atol={cfg['atol']:g}) is still not met there. Likely "
        "causes: a jump or a kink of f near x, noise in f above rtol, or f ~ 0 near x with "
        "atol = 0. Split [a, b] at x and tabulate the pieces separately, or pass atol > 0.",
        x=float(xm), interval=(float(x0), float(x1)), n_evals=state["n"], partial=partial)


def _recheck(state, cfg, stats):
    """Pieces whose interpolant misses a discarded sample inside them (every evaluation
    is used: as a table value, or as a test of the final table)."""
    disc = state["discarded"]
    if not disc:
        return []
    pieces = state["pieces"]
    x = np.concatenate([d[0] for d in disc])
    y = np.concatenate([d[1] for d in disc])
    F = np.concatenate([d[2] for d in disc])
    U = np.array([pc.u0 for pc in pieces] + [pieces[-1].u1])
    u = np.asarray(cfg["U"](x), dtype=np.float64)
    idx = np.clip(np.searchsorted(U, u, side="right") - 1, 0, len(pieces) - 1)
    bad = []
    for i in np.unique(idx):
        pc = pieces[i]
        sel = idx == i
        pred = _value_at(pc, u[sel], y[sel].shape)
        if _ratio(np.abs(pred - y[sel]), _tol(y[sel], F[sel], cfg)) > 1.0:
            bad.append(pc)
    stats["n_recheck_failed"] += len(bad)
    if not bad:
        state["discarded"] = []      # checked against the final table: done
    return bad


def _make_table(state, status, cfg):
    """The table of the pieces (accepted or not: a partial table has every piece)."""
    pieces, ev, stats, opts = state["pieces"], state["ev"], state["stats"], state["opts"]
    u = np.array([pc.u0 for pc in pieces] + [pieces[-1].u1])
    degs = np.array([pc.p for pc in pieces])
    coef = np.concatenate([values_to_coefs(pc.y, pc.p) for pc in pieces])
    nodes = np.concatenate([pc.x[:-1] for pc in pieces] + [pieces[-1].x[-1:]])
    fvals = np.concatenate([pc.F[:-1] for pc in pieces] + [pieces[-1].F[-1:]])
    x_break = np.array([pc.x[0] for pc in pieces] + [pieces[-1].x[-1]])
    x_break[0], x_break[-1] = cfg["a"], cfg["b"]
    if status == 0 and cfg["atol"] == 0 and not cfg["loglog"]:
        status = _sign_status(fvals.reshape(fvals.shape[0], -1), nodes, stats)
    msg = _STATUS_MESSAGES[status]
    if status == 0:
        msg = "converged: every piece passed its nested test and every discarded sample " \
              "was reproduced"
    if status == 4:
        x0, x1 = stats["sign_change"]
        msg += f"; first sign change in [{x0!r}, {x1!r}]"
    info = dict(opts)
    info.update({k: v for k, v in stats.items() if k != "sign_change"})
    info.update(n_evals=int(state["n"]), n_calls=ev.n_calls,
                status=int(status), success=status == 0, message=msg)
    m_vector = bool(ev.m_shape)
    return AutoKnotsChebyshev(x_break, u, degs, coef if m_vector else coef[:, 0],
                              nodes, fvals if m_vector else fvals[:, 0], info)


