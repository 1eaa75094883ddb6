"""Random designs for weighted least squares: i.i.d. optimal, DPP, volume, repeated DPP."""
import math

import numpy as np

from .._result import Result
from .._validation import as_rng, check_int, check_option
from . import _kernels as K
from ._space import check_delta, check_space

__all__ = ["sample_points", "WeightedSample", "METHODS", "n_iid", "c_delta", "d_delta"]

METHODS = ("iid", "iid_conditioned", "dpp", "volume", "repeated_dpp")
DPP_SAMPLERS = ("auto", "chain", "tridiagonal")


# Below this delta the closed forms lose digits to cancellation (relative error ~ 1e-16 / d):
# their series through d**6 are used instead (relative truncation ~ d**5 / 21 < 1e-16).
_SERIES_DELTA = 1e-3


def _series(delta, sign):
    """sum_{k=2}^{6} (sign delta)**k / (k (k - 1))."""
    t = sign * delta
    return 0.5 * t * t * (1.0 + t * (1.0 / 3.0 + t * (1.0 / 6.0 + t * (0.1 + t / 15.0))))


def c_delta(delta):
    """Matrix-Chernoff constant of the lambda_min tail: delta + (1 - delta) ln(1 - delta).

    For ``delta < 1e-3`` the series ``sum_k delta**k / (k (k - 1))`` (k >= 2) replaces the
    closed form, which cancels to zero in floating point for tiny delta.
    """
    if delta < _SERIES_DELTA:
        return _series(delta, 1.0)
    return delta + (1.0 - delta) * math.log1p(-delta)


def d_delta(delta):
    """Matrix-Chernoff constant of the lambda_max tail: (1 + delta) ln(1 + delta) - delta.

    For ``delta < 1e-3`` the series ``sum_k (-delta)**k / (k (k - 1))`` (k >= 2) replaces
    the closed form, which cancels to zero in floating point for tiny delta.
    """
    if delta < _SERIES_DELTA:
        return _series(delta, -1.0)
    return (1.0 + delta) * math.log1p(delta) - delta


def _n_iid_float(m, delta, eta):
    """``m ln(2m / eta) / d_delta`` as a float (``inf`` where it overflows)."""
    d = d_delta(delta)
    if d <= 0.0:                     # delta**2 / 2 underflows (delta < ~1e-154)
        return math.inf
    with np.errstate(over="ignore"):
        return float(np.float64(m * math.log(2.0 * m / eta)) / np.float64(d))


def n_iid(m, delta=0.5, eta=0.01):
    """Certified i.i.d. sample size: ceil(m ln(2m / eta) / d_delta), so P(||G - I|| <= delta)
    >= 1 - eta (Tropp's matrix Chernoff bound, both tails).

    Parameters
    ----------
    m : int
        Dimension of the space, ``>= 1``.
    delta, eta : float in (0, 1)
        Stability threshold on ``||G - I||_2`` and failure probability. The size grows like
        ``2 m ln(2m / eta) / delta**2`` for small delta.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        An argument out of range, or a size beyond the float range (``delta`` below about
        1e-150).

    Examples
    --------
    >>> from numfit.approx import n_iid
    >>> n_iid(10), n_iid(11, delta=0.9)
    (703, 265)
    """
    m = check_int("m", m, lo=1)
    delta = check_delta("delta", delta)
    eta = check_delta("eta", eta)
    n = _n_iid_float(m, delta, eta)
    if not math.isfinite(n):
        raise ValueError(f"the certified i.i.d. size for m={m}, eta={eta:g} overflows a "
                         f"float at `delta`={delta:g}; raise delta")
    return int(math.ceil(n))


class WeightedSample(Result):
    """Points and weights of a weighted least-squares design (a ``dict`` with attributes).

    Attributes
    ----------
    points : ndarray, shape (n, d)
        Points in user coordinates.
    weights : ndarray, shape (n,)
        ``w = m / k_m`` at every point.
    gram_error : float
        ``||G - I||_2`` of the empirical Gram matrix ``G = (1/n) sum w_i phi(x_i) phi(x_i)^T``.
    lambda_min, lambda_max : float
        Extreme eigenvalues of ``G``.
    stable : bool
        ``gram_error <= delta``.
    n, m : int
        Sample size and dimension of the space.
    method, delta, eta, space
        What made the sample.
    n_batches, n_redraws : int
        DPP batches (dpp, volume, repeated_dpp) and redraws (iid_conditioned) used.
    n_proposals, acceptance_rate : int, float
        Candidates drawn from the optimal density and the fraction kept (the DPP chain rule
        rejects; i.i.d. keeps all).
    n_proposals_1d, acceptance_rate_1d : int, float
        Proposals of the 1-D rejection samplers (acceptance 1/2 for Legendre and Chebyshev
        degrees >= 1).
    is_dpp : ndarray of bool, shape (n,)
        Which points came from a projection DPP.
    success, status, message
        ``status`` 0: done; 2: ``max_redraws`` or ``max_batches`` reached before stability.
    """


def _gram(phi, w):
    """Eigenvalues of G = (1/n) Phi^T diag(w) Phi (for sequential tests)."""
    return np.linalg.eigvalsh((phi * w[:, None]).T @ phi / phi.shape[0])


def _spread(lam):
    """(lambda_min, lambda_max, ||G - I||_2) from the ascending eigenvalues of G."""
    lmin, lmax = float(lam[0]), float(lam[-1])
    return lmin, lmax, max(lmax - 1.0, 1.0 - lmin)


def gram_stats(phi, w):
    """(lambda_min, lambda_max, ||G - I||) of G = (1/n) Phi^T diag(w) Phi."""
    return _spread(_gram(phi, w))


def _full_1d(space):
    return space.dim == 1 and np.array_equal(space.indices[:, 0], np.arange(space.m))


def _choose_dpp(space, dpp_sampler):
    if dpp_sampler == "tridiagonal":
        if not _full_1d(space):
            raise ValueError("`dpp_sampler`='tridiagonal' needs a 1-D space with all degrees "
                             f"0..p; got {space!r}")
        return "tridiagonal"
    if dpp_sampler == "auto" and _full_1d(space) and space.m > 1:
        return "tridiagonal"
    return "chain"


_CHUNK_WORK = 1 << 21
"""Work per compiled sampler call (about 2e6 basis-recurrence / dot-product steps, a few
ms): long i.i.d. draws and chain-rule DPPs run in pieces so that Ctrl-C reaches Python; the
pieces consume the generator exactly as one call, so the points are the same."""


class _Draws:
    """Counts and the DPP sampler shared by the methods. The compiled samplers are called
    in pieces of about ``_CHUNK_WORK`` (points for i.i.d. draws, candidates for the chain
    rule): same points, and KeyboardInterrupt arrives between two pieces."""

    def __init__(self, space, max_prop, dpp_sampler):
        self.space, self.max_prop = space, max_prop
        self.counts = np.zeros(4, dtype=np.int64)
        self.dpp_kind = _choose_dpp(space, dpp_sampler)
        self.n_tri = 0

    def rho(self, rng, n):
        from .._core import _nb_sample as S
        space = self.space
        per_point = 32 * space.dim * (int(space.pmax.max()) + 2)
        step = max(1, _CHUNK_WORK // per_point)
        if n <= step:
            return K.draw_rho(rng, space, n, self.max_prop, self.counts)
        out = np.empty((n, space.dim))
        for lo in range(0, n, step):
            st = S.draw_rho(rng, space._code, space.beta, space.indices, self.max_prop,
                            out[lo:lo + step], self.counts)
            if st:
                K._raise(st, "sampling from the optimal density", space.m,
                         max_prop=self.max_prop)
        return out

    def dpp(self, rng):
        if self.dpp_kind == "tridiagonal":      # O(m) draws and one LAPACK call: short
            self.n_tri += self.space.m
            return K.dpp_tridiagonal(rng, self.space)
        from .._core import _nb_sample as S
        space = self.space
        m = space.m
        # work of a candidate at step k: drawing it and its features (base), then k
        # vectorised dot products of length m (about 4 per unit of _CHUNK_WORK)
        base = 4.0 * (m * space.dim + 8 * space.dim * (int(space.pmax.max()) + 2))
        out = np.empty((m, space.dim))
        qt = np.empty((m, m))
        info = np.zeros(2)
        cont = np.zeros(3)
        st = -1
        while st == -1:
            st = S.dpp_chain_steps(rng, space._code, space.beta, space.pmax, space.indices,
                                   self.max_prop, out, qt, self.counts, info, cont,
                                   4.0 * _CHUNK_WORK, base)
        if st:
            K._raise(st, "projection DPP (chain rule)", m, info, self.max_prop)
        return out

    @property
    def n_proposals(self):
        return int(self.counts[2]) + self.n_tri


def sample_points(space, n=None, method="repeated_dpp", delta=0.5, rng=None, *, eta=0.01,
                  max_redraws=1000, max_batches=None, max_proposals=10_000,
                  dpp_sampler="auto", max_points=None):
    """Draw a weighted design for least-squares approximation in ``space``.

    Parameters
    ----------
    space : PolynomialSpace
        The approximation space V_m (dimension m).
    n : int, optional
        Sample size. Defaults: ``n_iid(m, delta, eta)`` for "iid" and "iid_conditioned"
        (certified: stable with probability >= 1 - eta), m for "dpp", ``m + n_iid`` for
        "volume", and adaptive for "repeated_dpp" (batches until stable).
    method : {"repeated_dpp", "iid", "iid_conditioned", "dpp", "volume"}
        - "iid": i.i.d. points from the optimal density ``rho_m = k_m / m``.
        - "iid_conditioned": redraw the whole i.i.d. set until ``||G - I|| <= delta``.
        - "dpp": one projection DPP of V_m (n = m points, the interpolation design).
        - "volume": a projection DPP plus ``n - m`` i.i.d. ``rho_m`` points (generalized
          volume-rescaled sampling with the optimal density).
        - "repeated_dpp": independent DPPs until ``||G - I|| <= delta`` (or, with ``n``,
          ``n // m`` DPPs plus ``n % m`` points of one more).
    delta : float in (0, 1), default 0.5
        Stability threshold on ``||G - I||_2``.
    rng : None, int or numpy.random.Generator
        Seed or generator; the same seed gives bit-identical points. DPP batches of
        "repeated_dpp" use ``rng.spawn`` children.
    eta : float in (0, 1), default 0.01
        Failure probability of the certified i.i.d. size.
    max_redraws : int, default 1000
        Cap of "iid_conditioned"; at the cap the best draw is returned with ``status=2``.
    max_batches : int, optional
        Cap of adaptive "repeated_dpp"; default ``ceil(n_iid / m)``.
    max_proposals : int, default 10000
        Cap of every rejection loop (per draw); exceeding it raises
        :class:`numfit.approx.SamplingError`.
    dpp_sampler : {"auto", "chain", "tridiagonal"}
        Chain rule with rejection from ``rho_m`` (any space), or the 1-D random Jacobi matrix
        model (full 1-D spaces; O(m^2)). "auto" uses the tridiagonal model in 1-D.
    max_points : int, optional
        Largest sample size accepted. The size a call may reach (``n``, the certified
        ``n_iid``, ``m + n_iid`` for "volume", or ``max_batches * m`` for adaptive
        "repeated_dpp") is computed first, before any point is drawn, and a larger one is a
        ``ValueError`` naming the size. Default ``2**28 // m``: the ``n x m`` float64
        feature matrix that certifies the design then stays within 2 GiB (26 843 545
        points for m = 10, 268 435 for m = 1000).

    Returns
    -------
    WeightedSample

    Raises
    ------
    ValueError
        Bad arguments, or a sample size above ``max_points``. The certified size grows like
        ``2 m ln(2m / eta) / delta**2`` (about 1.5e8 points for m = 10 at ``delta=1e-3``):
        raise ``delta``, pass a smaller ``n`` or ``max_batches``, or raise ``max_points``.
    SamplingError
        A rejection loop exceeded ``max_proposals``.

    Examples
    --------
    >>> import numfit as nf
    >>> V = nf.PolynomialSpace("legendre", degree=9)
    >>> smp = nf.sample_points(V, method="repeated_dpp", rng=0)
    >>> smp.stable, smp.n % V.m, smp.points.shape[1]
    (True, 0, 1)
    >>> bool(abs(smp.weights * V.christoffel(smp.points) - V.m).max() < 1e-9)
    True
    """
    out, children, _ = draw_sample(space, n, method, delta, rng, eta=eta,
                                   max_redraws=max_redraws, max_batches=max_batches,
                                   max_proposals=max_proposals, dpp_sampler=dpp_sampler,
                                   max_points=max_points)
    children.commit()
    return out


def draw_sample(space, n=None, method="repeated_dpp", delta=0.5, rng=None, *, eta=0.01,
                max_redraws=1000, max_batches=None, max_proposals=10_000, dpp_sampler="auto",
                max_points=None):
    """:func:`sample_points` as a transaction on a caller's generator: returns
    ``(sample, children, state)``. A failure restores ``rng``'s bit-generator state; on
    success the caller restores ``state`` if its own later step fails, or calls
    ``children.commit()`` (advancing ``rng``'s spawn counter as ``rng.spawn`` would have)."""
    space = check_space(space)
    method = check_option("method", method, METHODS)
    delta = check_delta("delta", delta)
    eta = check_delta("eta", eta)
    max_redraws = check_int("max_redraws", max_redraws, lo=1)
    max_proposals = check_int("max_proposals", max_proposals, lo=1)
    dpp_sampler = check_option("dpp_sampler", dpp_sampler, DPP_SAMPLERS)
    m = space.m
    if n is not None:
        n = check_int("n", n, lo=1)
        if method == "dpp" and n != m:
            raise ValueError(f"`n` must be None or m={m} for method='dpp'; got {n}")
        if n < m:
            raise ValueError(f"`n` must be >= m={m} for method={method!r}; got {n}")
    if max_batches is not None:
        max_batches = check_int("max_batches", max_batches, lo=1)
    if max_points is None:
        max_points = max(1, 2 ** 28 // m)
    else:
        max_points = check_int("max_points", max_points, lo=1)
    nc_float = _check_size(m, n, method, delta, eta, max_batches, max_points)
    rng = as_rng(rng)
    state = rng.bit_generator.state
    children = _Children(rng)
    try:
        out = _sample(space, m, n, method, delta, rng, children, eta, max_redraws,
                      max_batches, max_proposals, dpp_sampler, nc_float)
    except BaseException:
        rng.bit_generator.state = state      # a failed or interrupted draw leaves rng as it was
        raise
    return out, children, state


def _sample(space, m, n, method, delta, rng, children, eta, max_redraws, max_batches,
            max_proposals, dpp_sampler, nc_float):
    draws = _Draws(space, max_proposals, dpp_sampler)
    nc = int(math.ceil(nc_float)) if math.isfinite(nc_float) else nc_float
    info = dict(n_batches=0, n_redraws=0, status=0, message="")
    if method == "iid":
        t = draws.rho(rng, nc if n is None else n)
        is_dpp = np.zeros(len(t), bool)
    elif method == "iid_conditioned":
        t, info = _iid_conditioned(space, draws, rng, nc if n is None else n, delta,
                                   max_redraws, nc)
        is_dpp = np.zeros(len(t), bool)
    elif method == "dpp":
        t = draws.dpp(rng)
        is_dpp = np.ones(m, bool)
        info["n_batches"] = 1
    elif method == "volume":
        n = m + nc if n is None else n
        t = np.concatenate([draws.dpp(rng), draws.rho(rng, n - m)])
        is_dpp = np.arange(n) < m
        info["n_batches"] = 1
    else:
        if n is None:
            cap = max_batches if max_batches is not None else int(math.ceil(nc / m))
            t, info = _repeated_adaptive(space, draws, children, delta, cap, nc)
        else:
            t, info = _repeated_fixed(space, draws, children, n)
        is_dpp = np.ones(len(t), bool)
    return _finish(space, t, is_dpp, method, delta, eta, draws, info)


def _check_size(m, n, method, delta, eta, max_batches, max_points):
    """Refuse, before anything is drawn, a sample that may exceed ``max_points``; return the
    certified i.i.d. size as a float (``inf`` where it overflows)."""
    nc = _n_iid_float(m, delta, eta)
    if n is not None:
        if n > max_points:
            raise ValueError(f"`n`={n} exceeds max_points={max_points} for m={m} (the n x m "
                             f"feature matrix would take {8.0 * n * m / 2 ** 30:.3g} GiB); "
                             "lower n or raise `max_points`")
        return nc
    if method == "dpp":
        size, what = float(m), "one DPP of m points"
    elif method == "volume":
        size, what = m + nc, "m + the certified i.i.d. size n_iid"
    elif method == "repeated_dpp" and max_batches is not None:
        size = float(max_batches) * m
        if size > max_points:
            raise ValueError(f"adaptive repeated_dpp with max_batches={max_batches} DPP batches "
                             f"of m={m} points may reach n={size:.4g} points, above "
                             f"max_points={max_points}; lower `max_batches` or raise "
                             "`max_points`")
        return nc
    elif method == "repeated_dpp":
        size, what = math.ceil(nc / m) * m if math.isfinite(nc) else nc, \
            "the default max_batches = ceil(n_iid / m) DPP batches"
    else:
        size, what = nc, "the certified i.i.d. size n_iid"
    if size > max_points:
        gib = 8.0 * size * m / 2 ** 30
        raise ValueError(
            f"method={method!r} with delta={delta:g}, eta={eta:g} needs up to n={size:.4g} "
            f"points for m={m} ({what}; the n x m feature matrix would take {gib:.3g} GiB), "
            f"above max_points={max_points}. The certified size grows like "
            "2 m ln(2m/eta)/delta**2: raise `delta`, pass a smaller `n` (or `max_batches` "
            "for repeated_dpp), or raise `max_points`")
    return nc


def _weights_phi(space, t):
    phi = K.features(t, space.beta, space.pmax, space.indices)
    k = np.einsum("ij,ij->i", phi, phi)
    return phi, space.m / k


def _iid_conditioned(space, draws, rng, n, delta, max_redraws, nc):
    best, best_err = None, np.inf
    for i in range(max_redraws):
        t = draws.rho(rng, n)
        err = gram_stats(*_weights_phi(space, t))[2]
        if err < best_err:
            best, best_err = t, err
        if err <= delta:
            return t, dict(n_batches=0, n_redraws=i, status=0, message="")
    msg = (f"iid_conditioned: ||G-I|| <= {delta:g} not reached in {max_redraws} redraws of "
           f"n={n} (best {best_err:.3g}); increase n (certified n={nc}) or delta")
    return best, dict(n_batches=0, n_redraws=max_redraws, status=2, message=msg)


class _Children:
    """The children ``rng.spawn`` would make, one at a time, with ``rng``'s spawn counter
    advanced only by :meth:`commit`: a draw that fails (or is interrupted) leaves ``rng``
    as it was once its bit-generator state is restored (NumPy's counter cannot be reset)."""

    def __init__(self, rng):
        self.rng, self.k = rng, 0

    def spawn1(self):
        ss = self.rng.bit_generator.seed_seq
        seq = np.random.SeedSequence(ss.entropy, spawn_key=ss.spawn_key +
                                     (ss.n_children_spawned + self.k,), pool_size=ss.pool_size)
        self.k += 1
        return np.random.Generator(type(self.rng.bit_generator)(seq))

    def commit(self):
        if self.k:
            self.rng.spawn(self.k)
        self.k = 0


def _repeated_adaptive(space, draws, rng, delta, cap, nc):
    m = space.m
    parts, s = [], np.zeros((m, m))
    for b in range(1, cap + 1):
        child = rng.spawn1()
        t = draws.dpp(child)
        parts.append(t)
        phi, w = _weights_phi(space, t)
        s += (phi * w[:, None]).T @ phi
        err = _spread(np.linalg.eigvalsh(s / (b * m)))[2]
        if err <= delta:
            return np.concatenate(parts), dict(n_batches=b, n_redraws=0, status=0,
                                               message="")
    msg = (f"repeated_dpp: ||G-I|| <= {delta:g} not reached in max_batches={cap} DPP batches "
           f"(n={cap * m}, last {err:.3g}); increase max_batches or delta (certified i.i.d. "
           f"n={nc})")
    return np.concatenate(parts), dict(n_batches=cap, n_redraws=0, status=2, message=msg)


def _repeated_fixed(space, draws, rng, n):
    m = space.m
    full, r = divmod(n, m)
    parts = []
    for _ in range(full):
        parts.append(draws.dpp(rng.spawn1()))
    if r:
        child = rng.spawn1()
        t = draws.dpp(child)
        parts.append(t[np.sort(child.choice(m, size=r, replace=False))])
    return np.concatenate(parts), dict(n_batches=full + (r > 0), n_redraws=0, status=0,
                                       message="")


def _finish(space, t, is_dpp, method, delta, eta, draws, info):
    phi, w = _weights_phi(space, t)
    lmin, lmax, err = gram_stats(phi, w)
    n = t.shape[0]
    status = info["status"]
    message = info["message"] or (
        f"{method}: n={n} points for m={space.m}, ||G-I||={err:.3g} "
        f"({'stable' if err <= delta else 'not stable'} at delta={delta:g})")
    c = draws.counts
    n_prop = n if method in ("iid", "iid_conditioned") else \
        draws.n_proposals + int(np.count_nonzero(~is_dpp))
    points = space.from_reference(t)
    for a in (points, w, is_dpp):
        a.setflags(write=False)
    return WeightedSample(
        points=points, weights=w, gram_error=err, lambda_min=lmin, lambda_max=lmax,
        stable=bool(err <= delta), n=n, m=space.m, method=method, delta=delta, eta=eta,
        space=space, n_batches=info["n_batches"], n_redraws=info["n_redraws"],
        n_proposals=n_prop, acceptance_rate=n / max(n_prop, 1),
        n_proposals_1d=int(c[0]), acceptance_rate_1d=float(c[1] / c[0]) if c[0] else 1.0,
        is_dpp=is_dpp, dpp_sampler=draws.dpp_kind if is_dpp.any() else None,
        success=status == 0, status=status, message=message)

