"""Weighted least-squares fits on random designs, and the best approximation for checks."""
import math

import numpy as np
import scipy.linalg as sla
from scipy.special import roots_hermitenorm, roots_legendre

from .._backend import array_namespace, device_key, is_cupy
from .._io import SaveMixin
from .._result import Result
from .._validation import check_int
from .._workers import MapWrapper
from . import _gpu as G
from . import _kernels as K
from ._sample import WeightedSample, draw_sample, n_iid
from ._space import check_space

__all__ = ["wls", "WLSResult", "PolynomialExpansion", "best_approximation", "quadrature"]

_CHUNK = 8192


class PolynomialExpansion(SaveMixin):
    """``f(x) = sum_j coef[j] phi_{indices[j]}(x)`` in a :class:`PolynomialSpace`.

    Calling it with points of shape (N, d) (or (N,) and scalars when d = 1) returns (N,) values
    for scalar coefficients and (N, q) for vector-valued ones. Picklable.

    Points given as a CuPy array, or coefficients held as one (a fit made on the GPU, see
    :func:`numfit.wls`), are evaluated on the GPU as ``Phi(x) @ coef`` in row blocks and give
    a CuPy array; see :doc:`/gpu`.

    Examples
    --------
    >>> import numpy as np, numfit as nf
    >>> from numfit.approx import PolynomialExpansion
    >>> V = nf.PolynomialSpace("legendre", degree=1)
    >>> p = PolynomialExpansion(V, [1.0, 0.0])
    >>> p(np.array([-0.5, 0.5])).tolist()
    [1.0, 1.0]
    """

    def __init__(self, space, coef):
        self.space = check_space(space)
        xp = array_namespace(coef)
        c = xp.array(coef, dtype=xp.float64)
        if c.shape[:1] != (space.m,) or c.ndim > 2:
            raise ValueError(f"`coef` must have shape ({space.m},) or ({space.m}, q); got "
                             f"{tuple(c.shape)}")
        if xp is np:
            c.setflags(write=False)
        self.coef = c
        self._dev = {}      # coef as an (m, q) array per namespace/device (not pickled)

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_dev"] = {}
        return state

    def __setstate__(self, state):
        state.setdefault("_dev", {})
        self.__dict__.update(state)

    def _coef2d(self, xp):
        key = device_key(xp)
        c2 = self._dev.get(key)
        if c2 is None:
            c2 = xp.ascontiguousarray(xp.asarray(self.coef).reshape(self.space.m, -1))
            self._dev[key] = c2
        return c2

    def _call_xp(self, xp, x):
        """``self(x)`` in namespace ``xp`` (CuPy, or NumPy in the tests)."""
        scalar = getattr(x, "ndim", np.ndim(x)) == 0
        t = G.reference_xp(xp, self.space, xp.asarray(x))
        out = G.expansion_xp(xp, self.space, t, self._coef2d(xp))
        if self.coef.ndim == 1:
            out = out[:, 0]
        return out[0] if scalar else out

    def __call__(self, x):
        xp = array_namespace(x, self.coef)
        if xp is not np:                                   # pragma: no cover - needs CuPy
            return self._call_xp(xp, x)
        scalar = np.ndim(x) == 0
        t = self.space.to_reference(x)
        c2 = np.ascontiguousarray(self.coef.reshape(self.space.m, -1))
        out = np.empty((t.shape[0], c2.shape[1]))
        for s in range(0, t.shape[0], _CHUNK):
            out[s:s + _CHUNK] = K.expansion(t[s:s + _CHUNK], self.space.beta, self.space.pmax,
                                            self.space.indices, c2)
        if self.coef.ndim == 1:
            out = out[:, 0]
        return out[0] if scalar else out

    def __repr__(self):
        return f"PolynomialExpansion({self.space!r}, coef shape {self.coef.shape})"


class WLSResult(Result):
    """Result of :func:`numfit.wls`: a callable polynomial surrogate with diagnostics.

    Attributes
    ----------
    coef : ndarray, shape (m,) or (m, q)
        Coefficients in the orthonormal basis of ``space``.
    expansion : PolynomialExpansion
        The fitted function; ``result(x)`` calls it.
    sample : WeightedSample
        The design: points, weights, ``gram_error`` and the sampler's counts.
    values : ndarray, shape (n,) or (n, q)
        f at the sample points.
    gram_error : float
        ``||G - I||_2`` of the design.
    n_evals : int
        Calls of f at single points (a vectorised probe counts its points).
    residual : float
        ``||f - fhat||_x``, the weighted discrete residual.
    cond : float
        ``sqrt(lambda_max / lambda_min)`` of G.
    as_factor : float
        ``1 + lambda_min**-0.5``: ``||f - fhat|| <= as_factor * inf_v ||f - v||_{inf,w}``.
    bound_factor : float or None
        ``1 + m / (n (1 - delta)^2 (1 - eta))`` for certified "iid_conditioned" designs.
    success, status, message
        Those of the sample (status 2: the stability test was not met within its cap).
    """

    def __call__(self, x):
        return self.expansion(x)

    def error_ratio(self, f, quad=None, vectorized=None):
        """``||f - fhat||^2 / e_m(f)^2`` by tensor Gauss quadrature.

        Uses ``||f - fhat||^2 = e_m^2 + ||a - a*||^2``; f evaluations made here are counted
        in ``n_quad_evals`` (returned), never in ``n_evals``.

        Returns
        -------
        dict with ``error2``, ``best_error2``, ``ratio`` and ``n_quad_evals``.
        """
        a_star, norm2, nq = _best(f, self.space, quad, vectorized)
        c = np.asarray(self.coef).reshape(a_star.shape)
        best = max(norm2 - float(np.sum(a_star ** 2)), 0.0)
        err = best + float(np.sum((c - a_star) ** 2))
        return {"error2": err, "best_error2": best,
                "ratio": err / best if best > 1e-13 * norm2 else np.nan,
                "n_quad_evals": nq}


def quadrature(space, quad=None):
    """Tensor Gauss rule for the measure ``mu`` of ``space``: (points (Q, d), weights (Q,)).

    ``quad`` is the number of nodes per coordinate; default 2000 in 1-D and
    ``floor(10**(6/d))`` otherwise (at most 10**6 nodes).
    """
    d = space.dim
    q = int(10 ** (6 / d) + 1e-9) if quad is None else check_int("quad", quad, lo=1)
    if d == 1 and quad is None:
        q = 2000
    if q < space.degree + 1:
        raise ValueError(f"`quad`={q} nodes per coordinate cannot integrate degree "
                         f"{space.degree}; pass quad >= {space.degree + 1}")
    if q ** d > 10 ** 7:
        raise ValueError(f"`quad`**dim = {q ** d} nodes is too many (limit 1e7)")
    if space.family == "legendre":
        x, w = roots_legendre(q)
        w = w / 2
    elif space.family == "chebyshev":
        x = np.cos((2 * np.arange(1, q + 1) - 1) * np.pi / (2 * q))
        w = np.full(q, 1.0 / q)
    else:
        x, w = roots_hermitenorm(q)
        w = w / w.sum()
    grids = np.meshgrid(*([x] * d), indexing="ij")
    wts = np.ones(1)
    for _ in range(d):
        wts = np.multiply.outer(wts, w).ravel()
    t = np.stack([g.ravel() for g in grids], axis=1)
    return space.from_reference(t), wts


def _best(f, space, quad, vectorized):
    x, wq = quadrature(space, quad)
    ev = _Evaluate(f, space.dim, vectorized, None)
    y = ev(x)
    y2 = y.reshape(len(x), -1)
    a = np.zeros((space.m, y2.shape[1]))
    for s in range(0, len(x), _CHUNK):
        phi = space.eval(x[s:s + _CHUNK])
        a += phi.T @ (wq[s:s + _CHUNK, None] * y2[s:s + _CHUNK])
    norm2 = float(np.sum(wq[:, None] * y2 ** 2))
    return (a[:, 0] if y.ndim == 1 else a), norm2, ev.n_evals


def best_approximation(f, space, quad=None, vectorized=None):
    """Coefficients a* of the L2(mu) projection of f onto ``space`` and ``||f||^2``.

    By tensor Gauss quadrature (see :func:`quadrature`); ``e_m(f)^2 = ||f||^2 - ||a*||^2``.

    Examples
    --------
    >>> import numpy as np, numfit as nf
    >>> from numfit.approx import best_approximation
    >>> V = nf.PolynomialSpace("legendre", degree=4)
    >>> a, norm2 = best_approximation(lambda x: 1 / (1 + 25 * x ** 2), V)
    >>> round(float(a[0]), 6), round(norm2, 6)
    (0.27468, 0.156571)
    """
    a, norm2, _ = _best(f, check_space(space), quad, vectorized)
    return a, norm2


class _PointCall:
    """Picklable ``x -> f(x)`` that names x in any exception it lets through."""

    def __init__(self, f):
        self.f = f

    def __call__(self, x):
        try:
            return self.f(np.asarray(x) if np.ndim(x) else x)
        except Exception as exc:
            exc.add_note(f"numfit.wls: f raised at x={np.asarray(x).tolist()!r}")
            raise


class _Evaluate:
    """Evaluate f on (n, d) points: vectorised, per point (via ``workers``) or probed."""

    def __init__(self, f, dim, vectorized, workers):
        if not callable(f):
            raise TypeError(f"`f` must be callable; got {type(f).__name__}")
        if vectorized not in (None, True, False):
            raise TypeError(f"`vectorized` must be None, True or False; got {vectorized!r}")
        self.f, self.dim, self.vectorized, self.workers = f, dim, vectorized, workers
        self.n_evals = 0

    def _arg(self, x):
        return x[:, 0].copy() if self.dim == 1 else x.copy()

    def __call__(self, x):
        n = x.shape[0]
        if self.vectorized is None and n >= 2:
            self.n_evals += 2
            try:
                probe = np.asarray(self.f(self._arg(x[:2])))
            except Exception:
                probe = None
            if probe is not None and probe.dtype != object and probe.ndim in (1, 2) \
                    and probe.shape[0] == 2:
                self.vectorized = True
                rest = self._vec(x[2:]) if n > 2 else np.empty((0,) + probe.shape[1:])
                return self._check(np.concatenate([self._as_float(probe), rest]), x)
            self.vectorized = False
        if self.vectorized:
            return self._check(self._vec(x), x)
        return self._check(self._points(x), x)

    def _as_float(self, y):
        if y.dtype.kind not in "fiub":
            raise ValueError(f"f returned values of dtype {y.dtype}; expected floats")
        return y.astype(np.float64)

    def _vec(self, x):
        self.n_evals += x.shape[0]
        try:
            y = np.asarray(self.f(self._arg(x)))
        except Exception as exc:
            exc.add_note(f"numfit.wls: f raised on a batch of {x.shape[0]} points "
                         "(vectorized); call it per point (vectorized=False) to find the x")
            raise
        if y.dtype == object or y.ndim not in (1, 2) or y.shape[0] != x.shape[0]:
            raise ValueError(f"f (vectorized) must return shape ({x.shape[0]},) or "
                             f"({x.shape[0]}, q) for {x.shape[0]} points; got {y.shape}")
        return self._as_float(y)

    def _points(self, x):
        rows = list(x[:, 0]) if self.dim == 1 else list(x)
        mapper = MapWrapper(self.workers)
        mapper.check_picklable(self.f)      # before a pool is started
        with mapper:
            outs = mapper(_PointCall(self.f), rows)
        self.n_evals += len(rows)
        vals = []
        shape = None
        for o, xi in zip(outs, rows):
            a = np.asarray(o)
            if shape is None:
                if a.ndim > 1 or a.dtype == object:
                    raise ValueError(f"f returned shape {a.shape} at x={np.asarray(xi)!r}; "
                                     "expected a float or a 1-D array")
                shape = a.shape
            elif a.shape != shape:
                raise ValueError(f"f returned shape {a.shape} at x={np.asarray(xi)!r}; "
                                 f"expected {shape} like the first point")
            vals.append(a)
        return self._as_float(np.array(vals))

    def _check(self, y, x):
        bad = ~np.isfinite(y.reshape(len(y), -1)).all(axis=1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"f returned non-finite values at {int(bad.sum())} of {len(y)} "
                             f"points; the first at x={x[i].tolist()}")
        return y


def wls(f, space, method="repeated_dpp", n=None, delta=0.5, rng=None, *, vectorized=None,
        workers=None, sample=None, **sampling_options):
    """Near-best weighted least-squares polynomial approximation of f from few evaluations.

    Draws a design with :func:`sample_points` (never evaluating f), evaluates f once per
    point and solves ``min_a (1/n) sum w_i (f(x_i) - phi(x_i)^T a)^2`` by QR of
    ``sqrt(w/n) Phi`` (never forming or inverting the Gram matrix).

    Parameters
    ----------
    f : callable
        ``f(X)`` with X of shape (n,) when d = 1 or (n, d) returns (n,) or (n, q) when
        vectorised; otherwise ``f(x)`` per point returns a float or a (q,) array.
    space : PolynomialSpace
        The approximation space.
    method, n, delta, rng
        As in :func:`sample_points`; default "repeated_dpp" (DPP batches until stable).
    vectorized : bool or None
        None probes f on the first two points as a batch (counted in ``n_evals``); an
        exception from that probe is read as "f is not vectorised", and f is then called
        per point, where an exception propagates with the point named.
    workers : None, int or map-like callable
        Parallel per-point evaluation when f is not vectorised (SciPy convention).
    sample : WeightedSample, optional
        Reuse a design (for several f); sampling options are then ignored. If its
        ``points`` (and ``weights``) are CuPy arrays, e.g.
        ``WeightedSample(smp, points=cupy.asarray(smp.points),
        weights=cupy.asarray(smp.weights))``, the fit runs on the GPU: f must be vectorised
        and is called once on the CuPy points, the features, the QR factorisation of
        ``sqrt(w/n) Phi`` and the solve stay on the device, and ``coef``, ``values`` and
        the expansion's results are CuPy arrays (see :doc:`/gpu`). The sampling itself
        always runs on the CPU.
    **sampling_options
        ``eta``, ``max_redraws``, ``max_batches``, ``max_proposals``, ``dpp_sampler``,
        ``max_points`` (the largest design :func:`sample_points` may draw).

    Notes
    -----
    Nothing is left half-updated when f raises (or Ctrl-C arrives): a ``sample`` passed in
    is untouched, and a ``numpy.random.Generator`` passed as ``rng`` is restored to its state
    at the call, so a retry draws the same design.

    Returns
    -------
    WLSResult

    Examples
    --------
    >>> import numpy as np, numfit as nf
    >>> V = nf.PolynomialSpace("legendre", degree=6)
    >>> fit = nf.wls(np.exp, V, rng=1)
    >>> fit.success, bool(abs(fit(0.3) - np.exp(0.3)) < 1e-5), fit.n_evals == fit.sample.n
    (True, True, True)
    """
    space = check_space(space)
    ev = _Evaluate(f, space.dim, vectorized, workers)
    mapper = MapWrapper(workers)     # validates `workers` before any sampling
    if vectorized is False:
        mapper.check_picklable(f)
    if sample is None:
        sample, children, state = draw_sample(space, n=n, method=method, delta=delta, rng=rng,
                                              **sampling_options)
        try:
            out = _fit(ev, f, space, sample, vectorized)
        except BaseException:
            children.rng.bit_generator.state = state     # a retry draws the same design
            raise
        children.commit()
        return out
    if not isinstance(sample, WeightedSample):
        raise TypeError(f"`sample` must be a WeightedSample; got {type(sample).__name__}")
    if sample.space != space:
        raise ValueError("`sample` was drawn for a different space")
    return _fit(ev, f, space, sample, vectorized)


def _fit(ev, f, space, sample, vectorized):
    if is_cupy(sample.points) or is_cupy(sample.weights):  # pragma: no cover - needs CuPy
        return _wls_xp(array_namespace(sample.points, sample.weights), f, space, sample,
                       vectorized)
    y = ev(np.asarray(sample.points))
    return _solve(space, sample, y, ev.n_evals)


def _solve(space, sample, y, n_evals):
    phi = space.eval(sample.points)
    n, m = phi.shape
    sw = np.sqrt(sample.weights / n)
    a = phi * sw[:, None]
    y2 = y.reshape(n, -1)
    b = y2 * sw[:, None]
    q, r = sla.qr(a, mode="economic", check_finite=False)
    s = sla.svdvals(r, check_finite=False)
    if s[-1] > s[0] * 1e-13:
        coef = sla.solve_triangular(r, q.T @ b, check_finite=False)
    else:       # rank-deficient design: the minimum-norm solution (SVD, numpy's cut
        #             eps * max(n, m), as the GPU path); gelsy with its default cond = eps
        #             kept a spurious rank and returned a non-minimal norm
        coef = sla.lstsq(a, b, cond=np.finfo(np.float64).eps * max(a.shape),
                         lapack_driver="gelsd", check_finite=False)[0]
    res = float(np.sqrt(np.sum((a @ coef - b) ** 2)))
    return _result(np, space, sample, y, n_evals, coef, s, res)


def _wls_xp(xp, f, space, sample, vectorized):
    """:func:`wls` on a sample held in namespace ``xp`` (CuPy, or NumPy in the tests)."""
    if vectorized is False:
        raise ValueError("a sample on the GPU needs a vectorised f: f(X) is called once on "
                         "the CuPy points (vectorized=False was given)")
    if not callable(f):
        raise TypeError(f"`f` must be callable; got {type(f).__name__}")
    x = xp.asarray(sample.points, dtype=xp.float64)
    w = xp.asarray(sample.weights, dtype=xp.float64)
    n = x.shape[0]
    if x.ndim != 2 or x.shape[1] != space.dim or w.shape != (n,):
        raise ValueError(f"the sample's points must have shape (n, {space.dim}) and its "
                         f"weights (n,); got {tuple(x.shape)} and {tuple(w.shape)}")
    y = f(x[:, 0].copy() if space.dim == 1 else x.copy())
    y = xp.asarray(y)
    if y.dtype.kind not in "fiub":
        raise ValueError(f"f returned values of dtype {y.dtype}; expected floats")
    y = y.astype(xp.float64)
    if y.ndim not in (1, 2) or y.shape[0] != n:
        raise ValueError(f"f (vectorized) must return shape ({n},) or ({n}, q) for {n} "
                         f"points; got {tuple(y.shape)}")
    ok = xp.isfinite(y.reshape(n, -1)).all(axis=1)
    if not bool(ok.all()):
        i = int(xp.flatnonzero(~ok)[0])
        raise ValueError(f"f returned non-finite values at {int((~ok).sum())} of {n} points; "
                         f"the first at x={x[i].tolist()}")
    return _solve_xp(xp, space, sample, x, w, y, n)


def _solve_xp(xp, space, sample, x, w, y, n_evals):
    """:func:`_solve` in namespace ``xp``: QR of sqrt(w/n) Phi on the device."""
    phi = G.features_xp(xp, space, G.reference_xp(xp, space, x))
    n = phi.shape[0]
    sw = xp.sqrt(w / n)[:, None]
    phi *= sw                                   # a = sqrt(w/n) Phi, in place (n x m)
    b = y.reshape(n, -1) * sw
    coef, s, res = G.lstsq_xp(xp, phi, b)
    return _result(xp, space, sample, y, n_evals, coef, s, res)


def _result(xp, space, sample, y, n_evals, coef, s, res):
    n, m = y.shape[0], space.m
    lmin, lmax = float(s[-1] ** 2), float(s[0] ** 2)
    coef = coef[:, 0] if y.ndim == 1 else coef
    if xp is np:
        coef.setflags(write=False)
    delta, eta = sample.delta, sample.eta
    bound = None
    if sample.method == "iid_conditioned" and n >= n_iid(m, delta, eta) and sample.stable:
        bound = 1 + m / (n * (1 - delta) ** 2 * (1 - eta))
    return WLSResult(
        coef=coef, expansion=PolynomialExpansion(space, coef), space=space, sample=sample,
        values=y, gram_error=sample.gram_error, n_evals=n_evals, residual=res,
        cond=math.sqrt(lmax / lmin) if lmin > 0 else np.inf,
        as_factor=1 + lmin ** -0.5 if lmin > 0 else np.inf, bound_factor=bound,
        success=sample.success, status=sample.status, message=sample.message)

