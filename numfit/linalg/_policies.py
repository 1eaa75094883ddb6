"""Online parameter policies over a grid of relaxation factors (Khodak et al., *Learning to
Relax*, ICLR 2024; numfit's SOR guide, docs/sor.md).

Protocol: ``omega = policy.select(context)``, solve, ``policy.update(cost)`` with ``cost`` the
(capped) iteration count; raw loss ``max(cost - 1, 0)``. Each policy draws exactly one
``rng.random()`` per round and samples by inverse CDF.

Size parameters are checked against documented limits before anything is allocated:
:data:`MAX_ARMS` grid points for a generated grid, ``BinnedTsallisINF.MAX_BINS`` bins,
``ChebCB.MAX_M`` Chebyshev features, and at most :data:`MAX_STATE_BYTES` of policy state.
"""
import math
import warnings

import numpy as np

from .._errors import NumfitWarning
from .._io import SaveMixin
from .._validation import as_rng, check_float, check_int, check_option

__all__ = ["TsallisINF", "BinnedTsallisINF", "ChebCB", "UnimodalSearch", "ContextRangeWarning",
           "tsallis_probabilities", "make_grid", "MAX_ARMS", "MAX_STATE_BYTES"]

MAX_ARMS = 10_000
"""Largest number of points of a generated grid (``make_grid("log", d=...)``)."""
MAX_STATE_BYTES = 1 << 30
"""Largest state a policy may allocate (1 GiB)."""


def _nbytes(n):
    """``n`` bytes in binary units, 3 significant digits."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}"
        n /= 1024.0
    raise AssertionError  # pragma: no cover


def _check_state(who, option, value, nbytes, what):
    """Raise if a policy would allocate more than :data:`MAX_STATE_BYTES`."""
    if nbytes > MAX_STATE_BYTES:
        raise ValueError(f"`{option}`={value} would make {who} allocate {_nbytes(nbytes)} "
                         f"for {what}, above the limit of {_nbytes(MAX_STATE_BYTES)} "
                         f"(numfit.linalg.MAX_STATE_BYTES); pass a smaller `{option}`")


class ContextRangeWarning(NumfitWarning):
    """A context fell outside the declared ``context_range`` and was clipped."""


# ---------------------------------------------------------------- grids
def make_grid(grid, *, name="grid", omega_hi=1.95, d=20):
    """Return the omega grid as a validated float array.

    ``"paper"``: ``linspace(1, 1.95, 20)``; ``"log"``: ``d`` points
    (``2 <= d <= MAX_ARMS``, 10000) clustering towards 2 on ``[1, omega_hi]``,
    ``omega_i = 2 - (2 - 1) ((2 - omega_hi) / (2 - 1))^(i / (d - 1))`` (numfit's SOR guide,
    docs/sor.md); an array: strictly increasing, in (0, 2), d >= 2.
    """
    if isinstance(grid, str):
        grid = check_option(name, grid, ("paper", "log"))
        if grid == "paper":
            return np.linspace(1.0, 1.95, 20)
        d = check_int("d", d, lo=2)
        if d > MAX_ARMS:
            raise ValueError(f"`d` must be <= {MAX_ARMS} (numfit.linalg.MAX_ARMS: every "
                             f"policy round costs O(d)); got {d}, a grid of "
                             f"{_nbytes(8.0 * d)}; pass a smaller `d`")
        lo, hi = 1.0, float(omega_hi)
        i = np.arange(d)
        return 2.0 - (2.0 - lo) * ((2.0 - hi) / (2.0 - lo)) ** (i / (d - 1))
    try:
        g = np.asarray(grid)
    except Exception:  # pragma: no cover - exotic objects
        raise TypeError(f"`{name}` must be 'paper', 'log' or a 1-D array of floats") from None
    if g.dtype == object or not np.issubdtype(g.dtype, np.number) or np.iscomplexobj(g):
        raise TypeError(f"`{name}` must be 'paper', 'log' or a 1-D array of real floats; "
                        f"got dtype {g.dtype}")
    g = g.astype(np.float64)
    if g.ndim != 1 or g.size < 2:
        raise ValueError(f"`{name}` must be a 1-D array with at least 2 points; got shape "
                         f"{g.shape}")
    if not np.all(np.isfinite(g)) or np.any(g <= 0) or np.any(g >= 2):
        bad = g[~(np.isfinite(g) & (g > 0) & (g < 2))][0]
        raise ValueError(f"every `{name}` point must be in (0, 2); got {bad}")
    if np.any(np.diff(g) <= 0):
        raise ValueError(f"`{name}` must be strictly increasing; got {g.tolist()}")
    return g.copy()


def _sample(p, u):
    """Inverse-CDF sample of index from probabilities p with uniform u."""
    c = np.cumsum(p)
    i = int(np.searchsorted(c, u * c[-1], side="right"))
    return min(i, p.size - 1)


# ---------------------------------------------------------------- Tsallis-INF normaliser
def tsallis_probabilities(a, eta, *, tol=1e-12, max_newton=50, max_bisect=200):
    """Tsallis-INF (alpha = 1/2) probabilities ``p_i = 4 (eta (a_i - x))^-2``, sum 1.

    ``a`` is shifted so that ``min(a) = 0``; the root ``x`` of ``f(x) = sum p_i - 1`` lies in
    the bracket ``[-2 sqrt(d)/eta, -2/eta]``. Newton from the right end decreases monotonically
    to the root (f is increasing and convex); after ``max_newton`` steps, bisection.

    Returns
    -------
    p : ndarray
        Raw probabilities (before renormalisation).
    x : float
        The normaliser.
    steps : int
        Newton + bisection steps used.
    """
    a = np.asarray(a, dtype=np.float64)
    a = a - a.min()
    d = a.size
    left, right = -2.0 * math.sqrt(d) / eta, -2.0 / eta
    x = right
    steps = 0
    for _ in range(max_newton):
        p = 4.0 / (eta * (a - x)) ** 2
        f = p.sum() - 1.0
        if abs(f) <= tol:
            return p, x, steps
        fp = eta * np.sum(p ** 1.5)
        xn = x - f / fp
        steps += 1
        if not (left <= xn <= right) or xn == x:
            break
        x = xn
    # bisection fallback on the bracket (f(left) <= 0 <= f(right))
    lo, hi = left, right
    best, bestf = x, math.inf
    for _ in range(max_bisect):
        mid = 0.5 * (lo + hi)
        p = 4.0 / (eta * (a - mid)) ** 2
        f = p.sum() - 1.0
        steps += 1
        if abs(f) < bestf:
            best, bestf = mid, abs(f)
        if abs(f) <= tol or hi - lo <= 0:
            break
        if f > 0:
            hi = mid
        else:
            lo = mid
    p = 4.0 / (eta * (a - best)) ** 2
    return p, best, steps


def _grid_summary(grid):
    """``"<size> omegas in [<first>, <last>]"``: how the reprs of the policies and of
    ``RelaxationTuner`` name a grid."""
    return f"{len(grid)} omegas in [{grid[0]:.4g}, {grid[-1]:.4g}]"


class _Policy(SaveMixin):
    _expect_update = False

    def __repr__(self):
        return f"{type(self).__name__}({_grid_summary(self.grid)})"

    def _check_select(self):
        if self._expect_update:
            raise RuntimeError("select() called twice without update(); call update(cost) "
                               "with the cost of the previous selection first")

    def _check_update(self, cost):
        if not self._expect_update:
            raise RuntimeError("update() called without a preceding select()")
        return check_float("cost", cost, lo=0.0)


class TsallisINF(_Policy):
    """Tsallis-INF (1/2-Tsallis entropy regulariser) over a grid of omegas (paper Alg. 2).

    Parameters
    ----------
    grid : "paper", "log" or array_like
        Arms: strictly increasing omegas in (0, 2).
    eta : "anytime", "horizon" or callable
        ``2/sqrt(t)`` (``4/sqrt(t)`` with ``estimator="rv"``), ``1/sqrt(horizon)``, or
        ``eta(t)``.
    horizon : int, optional
        Number of rounds T (needed by ``eta="horizon"``).
    scale : "mean" or float
        Loss scale S: running mean of past raw losses (default), or a fixed float > 0.
    estimator : "iw" or "rv"
        Importance-weighted or reduced-variance loss estimator.
    rng : None, int or numpy.random.Generator

    Attributes
    ----------
    grid : ndarray
    t : int
        The round being played (1-based; rounds completed + 1).
    arm : int or None
        Arm chosen by the last ``select``.
    probabilities : ndarray
        Normalised sampling probabilities of the last ``select``.
    raw_sum : float
        ``sum(p_raw)`` of the last ``select`` (1 within 1e-12).
    k : ndarray
        Importance-weighted cumulative raw losses.

    Examples
    --------
    >>> import numfit as nf
    >>> pol = nf.TsallisINF("paper", rng=0)
    >>> w = pol.select()
    >>> pol.update(120)
    >>> pol.t, bool(abs(pol.probabilities.sum() - 1) < 1e-12)
    (2, True)
    """

    def __init__(self, grid="paper", *, eta="anytime", horizon=None, scale="mean",
                 estimator="iw", rng=None):
        self.grid = make_grid(grid)
        self.estimator = check_option("estimator", estimator, ("iw", "rv"))
        if callable(eta):
            self.eta = eta
        else:
            self.eta = check_option("eta", eta, ("anytime", "horizon"))
        self.horizon = None if horizon is None else check_int("horizon", horizon, lo=1)
        if self.eta == "horizon" and self.horizon is None:
            raise ValueError("`horizon` must be given (an int >= 1) when eta='horizon'")
        if isinstance(scale, str):
            self.scale = check_option("scale", scale, ("mean",))
        else:
            self.scale = check_float("scale", scale, lo=0.0, lo_open=True)
        self.rng = as_rng(rng)
        d = self.grid.size
        self.k = np.zeros(d)
        self.t = 1
        self.arm = None
        self.probabilities = np.full(d, 1.0 / d)
        self.raw_sum = 1.0
        self._loss_sum = 0.0
        self._S_used = 1.0
        self._eta_used = None

    def _eta_t(self):
        t = self.t
        if callable(self.eta):
            e = float(self.eta(t))
            if not (e > 0 and math.isfinite(e)):
                raise ValueError(f"`eta`({t}) must return a finite float > 0; got {e}")
            return e
        if self.eta == "horizon":
            return 1.0 / math.sqrt(self.horizon)
        return (4.0 if self.estimator == "rv" else 2.0) / math.sqrt(t)

    def _S(self):
        if self.scale == "mean":
            if self.t <= 1:
                return 1.0
            s = self._loss_sum / (self.t - 1)
            return s if s > 0 else 1.0
        return self.scale

    def select(self, context=None):
        """Choose an omega (``context`` is ignored). Returns the omega as a float."""
        self._check_select()
        S = self._S()
        eta = self._eta_t()
        p, _, _ = tsallis_probabilities(self.k / S, eta)
        self.raw_sum = float(p.sum())
        p = p / p.sum()
        self.probabilities = p
        self.arm = _sample(p, self.rng.random())
        self._S_used, self._eta_used = S, eta
        self._expect_update = True
        return float(self.grid[self.arm])

    def update(self, cost):
        """Feed the cost (iteration count) of the last selection."""
        cost = self._check_update(cost)
        loss = max(cost - 1.0, 0.0)
        I, p = self.arm, self.probabilities
        if self.estimator == "rv":
            B = 0.5 * self._S_used * (p >= self._eta_used ** 2)
            self.k += B
            self.k[I] += (loss - B[I]) / p[I]
        else:
            self.k[I] += loss / p[I]
        self._loss_sum += loss
        self.t += 1
        self._expect_update = False


class _ContextMixin:
    def _init_range(self, context_range, out_of_range):
        if context_range is None:
            raise ValueError("`context_range` must be given as (c_lo, c_hi) for a contextual "
                             "policy")
        try:
            lo, hi = context_range
        except (TypeError, ValueError):
            raise ValueError("`context_range` must be a pair (c_lo, c_hi); got "
                             f"{context_range!r}") from None
        lo = check_float("context_range[0]", lo)
        hi = check_float("context_range[1]", hi)
        if not hi > lo:
            raise ValueError(f"`context_range` must have c_lo < c_hi; got ({lo}, {hi})")
        self.context_range = (lo, hi)
        self.out_of_range = check_option("out_of_range", out_of_range, ("clip", "raise"))
        self._warned = False

    def _context(self, context):
        if context is None:
            raise ValueError(f"`context` is required by {type(self).__name__} (a float in "
                             f"the declared range {self.context_range})")
        c = check_float("context", context)
        lo, hi = self.context_range
        if c < lo or c > hi:
            if self.out_of_range == "raise":
                raise ValueError(f"`context` must be in the declared range [{lo:g}, {hi:g}]; "
                                 f"got {c}")
            if not self._warned:
                warnings.warn(f"`context` {c} outside the declared range [{lo:g}, {hi:g}]; "
                              "clipped (warned once)", ContextRangeWarning, stacklevel=3)
                self._warned = True
            c = min(max(c, lo), hi)
        return c


class BinnedTsallisINF(_Policy, _ContextMixin):
    """Independent Tsallis-INF per context bin (paper Alg. 5).

    Parameters
    ----------
    grid : "paper", "log" or array_like
    context_range : (float, float)
        Declared context range ``[c_lo, c_hi]``, split into ``bins`` equal bins; a context is
        assigned to the nearest centre (ties to the lower bin).
    bins : int
        ``1 <= bins <= BinnedTsallisINF.MAX_BINS`` (4096): one Tsallis-INF learner each.
    out_of_range : "clip" or "raise"
    rng : None, int or Generator
        Shared by the bins.
    **tsallis_kw
        Passed to each :class:`TsallisINF` (``eta, horizon, scale, estimator``).

    Examples
    --------
    >>> import numfit as nf
    >>> pol = nf.BinnedTsallisINF("paper", (-0.15, 0.65), bins=5, rng=0)
    >>> w = pol.select(0.1)
    >>> pol.update(80)
    >>> pol.bin, pol.learners[pol.bin].t
    (1, 2)
    """

    MAX_BINS = 4096
    """Largest number of context bins."""

    def __init__(self, grid="paper", context_range=None, bins=5, *, out_of_range="clip",
                 rng=None, **tsallis_kw):
        self.grid = make_grid(grid)
        self._init_range(context_range, out_of_range)
        self.bins = check_int("bins", bins, lo=1)
        if self.bins > self.MAX_BINS:
            size = _nbytes(self.bins * (24.0 * self.grid.size + 2048.0))
            raise ValueError(f"`bins` must be <= {self.MAX_BINS} (BinnedTsallisINF.MAX_BINS); "
                             f"got {self.bins}: one learner per bin would take ~{size}; pass "
                             "a smaller `bins`")
        _check_state("BinnedTsallisINF", "bins", self.bins,
                     self.bins * 24.0 * self.grid.size, "the per-bin learners")
        self.rng = as_rng(rng)
        lo, hi = self.context_range
        self.centres = lo + (hi - lo) * (np.arange(self.bins) + 0.5) / self.bins
        self.learners = [TsallisINF(self.grid, rng=self.rng, **tsallis_kw)
                         for _ in range(self.bins)]
        self.bin = None
        self.arm = None
        self.probabilities = np.full(self.grid.size, 1.0 / self.grid.size)

    @property
    def t(self):
        """Round being played (rounds completed over all bins + 1)."""
        return 1 + sum(lr.t - 1 for lr in self.learners)

    def select(self, context=None):
        self._check_select()
        c = self._context(context)
        self.bin = int(np.argmin(np.abs(self.centres - c)))   # argmin: ties -> lower index
        lr = self.learners[self.bin]
        w = lr.select()
        self.arm, self.probabilities = lr.arm, lr.probabilities
        self._expect_update = True
        return w

    def update(self, cost):
        self._check_update(cost)
        self.learners[self.bin].update(cost)
        self._expect_update = False


# ---------------------------------------------------------------- ChebCB
def _chebyshev(z, m):
    f = np.empty(m)
    f[0] = 1.0
    if m > 1:
        f[1] = z
    for j in range(1, m - 1):
        f[j + 1] = 2.0 * z * f[j] - f[j - 1]
    return f


def _box_qp(G, g, bound, x0, *, tol=1e-12, maxit=200):
    """min 0.5 x'Gx - g'x subject to |x_j| <= bound_j (G SPD), primal active-set method."""
    m = g.size
    lo, hi = -bound, bound
    x = np.clip(x0, lo, hi)
    fixed = bound <= 0
    # working set: -1 at lower, +1 at upper, 0 free
    W = np.zeros(m, dtype=int)
    W[fixed] = 1
    W[(~fixed) & (x <= lo)] = -1
    W[(~fixed) & (x >= hi)] = 1
    x[W == -1] = lo[W == -1]
    x[W == 1] = hi[W == 1]
    for _ in range(maxit):
        free = W == 0
        xe = x.copy()
        if free.any():
            Gf = G[np.ix_(free, free)]
            rhs = g[free] - G[np.ix_(free, ~free)] @ x[~free]
            xe[free] = np.linalg.solve(Gf, rhs)
        step = xe - x
        # largest feasible fraction of the step
        alpha, block = 1.0, -1
        for j in np.flatnonzero(free):
            if step[j] > tol * max(1.0, abs(hi[j])) and xe[j] > hi[j]:
                a = (hi[j] - x[j]) / step[j]
                if a < alpha:
                    alpha, block = a, j
            elif step[j] < -tol * max(1.0, abs(lo[j])) and xe[j] < lo[j]:
                a = (lo[j] - x[j]) / step[j]
                if a < alpha:
                    alpha, block = a, j
        x = x + max(alpha, 0.0) * step
        if block >= 0:
            W[block] = 1 if step[block] > 0 else -1
            x[block] = hi[block] if W[block] == 1 else lo[block]
            continue
        x = np.clip(x, lo, hi)
        grad = G @ x - g
        # multipliers: at lower bound need grad >= 0, at upper grad <= 0
        viol = np.zeros(m)
        act = (W != 0) & ~fixed
        viol[act & (W == -1)] = -grad[act & (W == -1)]
        viol[act & (W == 1)] = grad[act & (W == 1)]
        j = int(np.argmax(viol))
        if viol[j] <= tol * max(1.0, np.abs(g).max()):
            return x
        W[j] = 0
    return x


class ChebCB(_Policy, _ContextMixin):
    """Contextual bandit: SquareCB inverse-gap weighting over Chebyshev regressions (Alg. 3).

    Each arm (grid omega) models the scaled cost as a degree ``m - 1`` Chebyshev polynomial in
    the context; ``select`` plays the predicted-best arm with high probability and others with
    probability ``1 / (d + eta * gap)``.

    Parameters
    ----------
    grid : "paper", "log" or array_like
    context_range : (float, float)
        Declared context range ``[c_lo, c_hi]``.
    m : int
        Number of Chebyshev features (degree <= m - 1), ``1 <= m <= ChebCB.MAX_M`` (64): the
        policy keeps a Gram matrix of ``m x m`` per arm (``8 d m^2`` bytes, at most
        ``numfit.linalg.MAX_STATE_BYTES``) and refits with ``O(d m^3)`` work per round.
    out_of_range : "clip" or "raise"
    rng : None, int or Generator

    Attributes
    ----------
    grid, t, arm, probabilities, theta (d, m), eta, S

    Examples
    --------
    >>> import numfit as nf
    >>> pol = nf.ChebCB("paper", (-0.15, 0.65), rng=0)
    >>> w = pol.select(0.0)
    >>> pol.update(100)
    >>> pol.t, pol.S > 0
    (2, True)
    """

    MAX_M = 64
    """Largest number of Chebyshev features."""

    def __init__(self, grid="paper", context_range=None, *, m=6, out_of_range="clip",
                 rng=None):
        self.grid = make_grid(grid)
        self._init_range(context_range, out_of_range)
        m = check_int("m", m, lo=1)
        d = self.grid.size
        gram = 8.0 * d * m * m
        if m > self.MAX_M:
            raise ValueError(f"`m` must be <= {self.MAX_M} (ChebCB.MAX_M); got {m}: ChebCB "
                             f"would allocate {_nbytes(gram)} for the per-arm Gram matrices "
                             f"({d} arms x {m} x {m} float64) and refit them with O(d m^3) "
                             "work per round; pass a smaller `m` (default 6)")
        _check_state("ChebCB", "m", m, gram, f"the per-arm Gram matrices ({d} arms)")
        self.m = m
        self.rng = as_rng(rng)
        self.n = np.zeros(d, dtype=np.int64)
        self.G = np.zeros((d, self.m, self.m))
        self.h = np.zeros((d, self.m))
        self.q = np.zeros(d)
        self.theta = np.zeros((d, self.m))
        self.c_max = -math.inf
        self.c_min = math.inf
        self.E = 0.0
        self.eta = 0.0
        self.S = 0.0
        self.t = 1
        self.arm = None
        self.probabilities = np.full(d, 1.0 / d)
        self._f = None
        self._chat = None

    def features(self, context):
        lo, hi = self.context_range
        z = 2.0 * (context - lo) / (hi - lo) - 1.0
        return _chebyshev(z, self.m)

    def select(self, context=None):
        self._check_select()
        c = self._context(context)
        f = self.features(c)
        s = self.theta @ f
        d = self.grid.size
        best = int(np.argmin(s))
        p = 1.0 / (d + self.eta * (s - s[best]))
        p[best] = 0.0
        p[best] = 1.0 - p.sum()
        self.probabilities = p
        self.arm = _sample(p, self.rng.random())
        self._f = f
        self._chat = 1.0 + self.S * s[self.arm]
        self._expect_update = True
        return float(self.grid[self.arm])

    def _fit(self, i, N, S, CL):
        G, h = self.G[i], self.h[i] / S
        j = np.arange(self.m)
        bound = np.empty(self.m)
        bound[0] = 1.0 / N
        bound[1:] = 2.0 * CL / (S * j[1:])
        lam, V = np.linalg.eigh(G)
        lmax = max(lam[-1], 0.0)
        keep = lam > 1e-10 * lmax if lmax > 0 else np.zeros_like(lam, dtype=bool)
        th = V[:, keep] @ ((V[:, keep].T @ h) / lam[keep])
        if np.all(np.abs(th) <= bound * (1 + 1e-12)):
            self.theta[i] = th
            return
        ridge = 1e-12 * np.trace(G)
        Gr = G + (ridge if ridge > 0 else 1e-300) * np.eye(self.m)
        self.theta[i] = _box_qp(Gr, h, bound, self.theta[i])

    def update(self, cost):
        cost = self._check_update(cost)
        I, f = self.arm, self._f
        y = cost - 1.0
        self.n[I] += 1
        self.G[I] += np.outer(f, f)
        self.h[I] += f * y
        self.q[I] += y * y
        self.c_max = max(self.c_max, cost)
        self.c_min = min(self.c_min, cost)
        lo, hi = self.context_range
        C = hi - lo
        K = max(self.c_max, 1.0)
        L = (self.c_max - self.c_min) / C
        N = 2.0 + 4.0 * C * L / K * (1.0 + math.log(self.m))
        S = K * N
        CL = C * L
        if S != self.S:
            self.S = S
            for i in np.flatnonzero(self.n > 0):
                self._fit(i, N, S, CL)
        else:
            self._fit(I, N, S, CL)
        t = self.t
        self.E += (self._chat - cost) ** 2
        R = self.E / S ** 2
        Rc = 0.0
        for i in np.flatnonzero(self.n > 0):
            th = self.theta[i]
            Rc += th @ self.G[i] @ th - 2.0 * th @ self.h[i] / S + self.q[i] / S ** 2
        m = self.m
        alpha = (math.pi + (2.0 / math.pi) * math.log(2 * m + 1)) * CL / (2.0 * S * (m + 1))
        den = max(R - Rc, 0.0) + 2.0 * alpha ** 2 * t
        d = self.grid.size
        self.eta = 2.0 * t * math.sqrt(d * t / den) if den > 0 else 0.0
        self.t += 1
        self._expect_update = False


# ---------------------------------------------------------------- UnimodalSearch
class UnimodalSearch(_Policy):
    """Sliding-window OSUB over the omega grid: a bandit that uses a unimodal cost curve.

    Optimal Sampling for Unimodal Bandits (OSUB; Combes and Proutiere, *Unimodal bandits:
    regret lower bounds and optimal algorithms*, ICML 2014) with a Gaussian index and, for
    drifting sequences, their sliding-window variant (SW-OSUB, ibid. §5). The arms are the grid
    omegas; the graph is the line ``k - 1 -- k -- k + 1``. Each round:

    1. The **leader** ``L`` is the played arm of lowest mean loss over the last ``window``
       rounds (ties: the one nearest the previous leader); ``l_L`` counts the rounds in which
       ``L`` was the leader.
    2. If a neighbour ``L - 1`` or ``L + 1`` has no loss in the window it is played (both
       missing: the one on the side of the last move, first round: ``start``).
    3. Else, every ``leader_period``-th leader round (``(l_L - 1) % leader_period == 0``)
       ``L`` is played; otherwise the arm of ``{L - 1, L, L + 1}`` with the lowest index
       ``mean_k - sigma sqrt(2 log(min(l_L, window)) / n_k)`` (``n_k`` plays in the window,
       ``sigma`` the pooled within-arm standard deviation of the losses of those three arms,
       at least ``sigma_floor * S``, ``S`` the running mean loss; ``S`` itself before two arms
       have two plays).

    Losses are those of :class:`TsallisINF`: ``max(cost - 1, 0)`` with ``cost`` the (capped)
    iteration count; the choice is invariant to their scale (``S``, the running mean loss as
    in TsallisINF's ``scale="mean"``, only sets the floor of ``sigma``). The policy is
    deterministic given the losses; it still draws one ``rng.random()`` per round (the
    protocol of the other policies), used to break exact ties of the index.

    Guarantee (stated for the idealised algorithm; see numfit's SOR guide, docs/sor.md,
    "policy='auto'"). If the expected loss of the grid arms is **unimodal** along the grid
    (strictly decreasing to the best arm ``k*``, strictly increasing after it) and the losses
    of successive systems are independent draws (a stationary sequence) with ``window=None``,
    OSUB's regret against the best fixed arm is ``O(sum_{k in N(k*)} log(T) / Delta_k)``
    asymptotically (Combes and Proutiere 2014, Thm. 4.2 for KL-UCB indices on bounded
    losses; a Gaussian index with known ``sigma`` gives the same form with ``Delta_k /
    sigma^2``): it depends on the two neighbours ``N(k*)`` of the best arm and their gaps
    ``Delta_k``, not on the grid size ``d``, unlike Tsallis-INF's ``O(sqrt(d T))``. With a
    finite ``window`` (SW-OSUB) the regret per round on a slowly varying sequence is bounded
    in terms of the speed of variation and vanishes as that speed goes to 0 (ibid. §5), while
    a stationary sequence pays a per-round exploration cost of order ``log(window) /
    window`` instead of ``log(T) / T``. **Not** guaranteed: adversarial sequences (Tsallis-INF
    keeps its ``O(sqrt(d T))`` there, this policy has none), cost curves with several local
    minima on the grid (the search can stay at a local minimum), and the estimated
    ``sigma`` (the theory assumes it known).

    Parameters
    ----------
    grid : "paper", "log" or array_like
    start : float, optional
        Omega of the first round (the nearest grid point); ``RelaxationTuner(policy="auto")``
        passes :func:`numfit.linalg.estimate_omega` of the first system. Default: the middle
        of the grid.
    window : int or None
        Sliding window (rounds); ``None``: all rounds (OSUB). Default 40: a neighbour whose
        losses were observed when it was worse is forgotten within ``window`` rounds, so a
        drifting optimum is followed with a lag of at most about ``window`` systems, at the
        price of a few per cent on stationary sequences (docs/sor.md, "policy='auto'").
    leader_period : int
        Play the leader every ``leader_period``-th round it leads (OSUB: degree of the graph
        + 1 = 3).
    sigma_floor : float
        Floor of the noise scale, relative to the mean loss.
    rng : None, int or numpy.random.Generator

    Attributes
    ----------
    grid, t, arm, probabilities (one-hot, or uniform over exact ties), leader, n (plays in the
    window), means (mean loss in the window; nan for arms without plays)

    Examples
    --------
    >>> from numfit.linalg import UnimodalSearch
    >>> pol = UnimodalSearch("paper", start=1.5, rng=0)
    >>> cost = lambda w: 50 + 400 * (w - 1.75) ** 2
    >>> for _ in range(300):
    ...     pol.update(cost(pol.select()))
    >>> round(float(pol.grid[pol.leader]), 2)
    1.75
    """

    def __init__(self, grid="paper", *, start=None, window=40, leader_period=3,
                 sigma_floor=0.01, rng=None):
        self.grid = make_grid(grid)
        d = self.grid.size
        if start is None:
            self.start = None
            self._start_arm = (d - 1) // 2
        else:
            self.start = check_float("start", start, lo=0.0, hi=2.0)
            self._start_arm = int(np.argmin(np.abs(self.grid - self.start)))
        self.window = None if window is None else check_int("window", window, lo=2)
        self.leader_period = check_int("leader_period", leader_period, lo=1)
        self.sigma_floor = check_float("sigma_floor", sigma_floor, lo=0.0)
        self.rng = as_rng(rng)
        self.t = 1
        self.arm = None
        self.leader = None
        self.probabilities = np.full(d, 1.0 / d)
        self.n = np.zeros(d, dtype=np.int64)
        self._sum = np.zeros(d)
        self._sq = np.zeros(d)
        self.lead_count = np.zeros(d, dtype=np.int64)
        w = 0 if self.window is None else self.window
        self._ring_arm = np.zeros(w, dtype=np.int64)
        self._ring_loss = np.zeros(w)
        self._loss_sum = 0.0
        self._last_move = 1
        self._hint = -1

    def hint(self, omega):
        """Suggest an omega (the nearest grid arm): played next if it has no loss in the
        window. ``RelaxationTuner(policy="auto")`` passes a higher :func:`estimate_omega` of
        one of the first systems."""
        omega = check_float("omega", omega, lo=0.0, hi=2.0)
        self._hint = int(np.argmin(np.abs(self.grid - omega)))

    @property
    def means(self):
        """Mean loss per arm over the window (nan where an arm has no play)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.n > 0, self._sum / np.maximum(self.n, 1), np.nan)

    def _S(self):
        s = self._loss_sum / (self.t - 1) if self.t > 1 else 1.0
        return s if s > 0 else 1.0

    def _sigma(self, arms):
        n = self.n[arms]
        ok = n >= 2
        S = self._S()
        if ok.sum() < 2:
            return S
        dev = self._sq[arms][ok] - self._sum[arms][ok] ** 2 / n[ok]
        var = max(float(dev.sum()), 0.0) / float((n[ok] - 1).sum())
        return max(math.sqrt(var), self.sigma_floor * S)

    def _play(self, k, ties=None):
        d = self.grid.size
        p = np.zeros(d)
        if ties is None:
            p[k] = 1.0
        else:
            p[ties] = 1.0 / len(ties)
        self.probabilities = p
        self.arm = int(k)
        self._expect_update = True
        return float(self.grid[k])

    def select(self, context=None):
        """Choose an omega (``context`` is ignored). Returns the omega as a float."""
        self._check_select()
        u = self.rng.random()
        d = self.grid.size
        if not self.n.any():
            self.leader = self._start_arm
            self.lead_count[self.leader] += 1
            return self._play(self._start_arm)
        if self._hint >= 0:
            k, self._hint = self._hint, -1
            if self.n[k] == 0:
                if self.leader is not None and k != self.leader:
                    self._last_move = 1 if k > self.leader else -1
                return self._play(k)
        m = self.means
        played = np.flatnonzero(self.n > 0)
        best = np.nanmin(m)
        cands = played[m[played] == best]
        prev = self._start_arm if self.leader is None else self.leader
        L = int(cands[np.argmin(np.abs(cands - prev))])
        if self.leader is not None and L != self.leader:
            self._last_move = 1 if L > self.leader else -1
        self.leader = L
        self.lead_count[L] += 1
        nb = [k for k in (L - 1, L + 1) if 0 <= k < d]
        missing = [k for k in nb if self.n[k] == 0]
        if missing:
            if len(missing) == 2:
                k = L + self._last_move
            else:
                k = missing[0]
            return self._play(k)
        lc = int(self.lead_count[L])
        if (lc - 1) % self.leader_period == 0:
            return self._play(L)
        arms = np.array(sorted(nb + [L]))
        sigma = self._sigma(arms)
        horizon = lc if self.window is None else min(lc, self.window)
        f = math.log(max(horizon, 1))
        idx = m[arms] - sigma * np.sqrt(2.0 * f / self.n[arms])
        low = arms[idx == idx.min()]
        if low.size == 1:
            return self._play(int(low[0]))
        return self._play(int(low[min(int(u * low.size), low.size - 1)]), ties=low)

    def update(self, cost):
        """Feed the cost (iteration count) of the last selection."""
        cost = self._check_update(cost)
        loss = max(cost - 1.0, 0.0)
        k = self.arm
        W = self.window
        if W is not None:
            pos = (self.t - 1) % W
            if self.t > W:                       # drop the loss that leaves the window
                old, ol = int(self._ring_arm[pos]), float(self._ring_loss[pos])
                self.n[old] -= 1
                self._sum[old] -= ol
                self._sq[old] -= ol * ol
                if self.n[old] == 0:
                    self._sum[old] = self._sq[old] = 0.0
            self._ring_arm[pos], self._ring_loss[pos] = k, loss
        self.n[k] += 1
        self._sum[k] += loss
        self._sq[k] += loss * loss
        self._loss_sum += loss
        self.t += 1
        self._expect_update = False


def _is_policy(obj):
    return isinstance(obj, (TsallisINF, BinnedTsallisINF, ChebCB, UnimodalSearch)) or (
        hasattr(obj, "select") and hasattr(obj, "update") and hasattr(obj, "grid"))

