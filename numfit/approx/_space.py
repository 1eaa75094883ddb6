"""Orthonormal polynomial spaces: families, index sets, features, the optimal density."""
import math
from functools import lru_cache

import numpy as np

from .._backend import array_namespace, asarray, is_cupy
from .._io import SaveMixin
from .._validation import check_float, check_int, check_option, check_points
from . import _gpu as G
from . import _kernels as K

__all__ = ["PolynomialSpace", "FAMILIES", "INDEX_SETS"]

FAMILIES = ("legendre", "chebyshev", "hermite")
INDEX_SETS = ("total", "tensor", "hyperbolic")
_FAMILY_CODE = {"legendre": 0, "chebyshev": 1, "hermite": 2}


def recurrence_beta(family, p):
    """beta_0 = 0, beta_1 .. beta_p of the orthonormal three-term recurrence (length p + 1)."""
    j = np.arange(1, p + 1, dtype=np.float64)
    beta = np.zeros(p + 1)
    if family == "legendre":
        beta[1:] = j / np.sqrt(4.0 * j * j - 1.0)
    elif family == "chebyshev":
        beta[1:] = 0.5
        if p >= 1:
            beta[1] = 1.0 / math.sqrt(2.0)
    else:
        beta[1:] = np.sqrt(j)
    return beta


# Largest (m, dim) index array a named index set is enumerated into (int64: 2 GiB).
MAX_INDEX_ENTRIES = 2 ** 28


@lru_cache(maxsize=256)
def _ordered_products(k, cap):
    """Number of k-tuples of integers >= 2 whose product is <= cap (no recursion in dim:
    k <= log2(cap); blocks of equal ``cap // a`` are summed at once)."""
    if k == 0:
        return 1
    if cap < 2 ** k:
        return 0
    total, a = 0, 2
    while a <= cap:
        q = cap // a
        last = cap // q                  # every a' in [a, last] has cap // a' == q
        total += (last - a + 1) * _ordered_products(k - 1, q)
        a = last + 1
    return total


def _hyperbolic_count(d, cap):
    """Number of nu in N^d with prod(nu_k + 1) <= cap: sum over the number k of non-zero
    coordinates (at most log2(cap) of them) of C(d, k) times the ordered products."""
    total, k = 0, 0
    while k <= d and 2 ** k <= cap:
        total += math.comb(d, k) * _ordered_products(k, cap)
        k += 1
    return total


def index_set_size(index_set, degree, dim):
    """m in exact integers, before anything is allocated."""
    if index_set == "tensor":
        return (degree + 1) ** dim
    if index_set == "total":
        return math.comb(degree + dim, dim)
    return _hyperbolic_count(dim, degree + 1)


def _enumerate(index_set, p, d):
    """All multi-indices of the set, built coordinate by coordinate as a prefix tree (no
    recursion, so any dim works): level k holds every admissible prefix (nu_0..nu_k) as a
    parent row and a value; the rows are read back from the leaves at the end. Every prefix
    extends (by zeros) to a member, so no level has more than m rows."""
    budget = np.array([p + 1 if index_set == "hyperbolic" else p], dtype=np.int64)
    parents, values = [], []
    for _ in range(d):
        if index_set == "tensor":
            counts = np.full(budget.size, p + 1, dtype=np.int64)
        elif index_set == "total":
            counts = budget + 1                   # nu_k in 0..remaining degree
        else:
            counts = budget                       # nu_k + 1 <= remaining product cap
        par = np.repeat(np.arange(budget.size), counts)
        start = np.cumsum(counts) - counts
        v = np.arange(par.size, dtype=np.int64) - start[par]
        if index_set == "total":
            budget = budget[par] - v
        elif index_set == "hyperbolic":
            budget = budget[par] // (v + 1)
        else:
            budget = budget[par]
        parents.append(par)
        values.append(v)
    out = np.empty((values[-1].size, d), dtype=np.int64)
    row = np.arange(values[-1].size)
    for k in range(d - 1, -1, -1):
        out[:, k] = values[k][row]
        row = parents[k][row]
    return out


def order_indices(ind):
    """Sort rows by |nu|_1, then lexicographically descending: (0,0),(1,0),(0,1),(2,0),..."""
    keys = [-ind[:, k] for k in range(ind.shape[1] - 1, -1, -1)] + [ind.sum(axis=1)]
    return np.ascontiguousarray(ind[np.lexsort(keys)])


class PolynomialSpace(SaveMixin):
    """Span of tensor products of orthonormal polynomials on a box or under a Gaussian.

    Parameters
    ----------
    family : {"legendre", "chebyshev", "hermite"}
        Legendre: uniform probability measure on the box ``domain``; Chebyshev: the arcsine
        measure on the box; Hermite: the Gaussian ``N(loc, scale**2)`` in each coordinate.
    degree : int, optional
        Polynomial degree p >= 0 of the index set. Required unless ``indices`` is given.
    dim : int, default 1
        Number of variables d >= 1.
    index_set : {"total", "tensor", "hyperbolic"}, default "total"
        ``sum(nu) <= p``, ``max(nu) <= p`` or ``prod(nu + 1) <= p + 1``. In one dimension all
        three are {0, ..., p}.
    indices : array_like of int, shape (m, dim), optional
        A custom set of distinct non-negative multi-indices (kept in the given order).
    domain : array_like, shape (2,) or (dim, 2), optional
        Box ``[lower, upper]`` per coordinate (Legendre/Chebyshev); default ``[-1, 1]``.
    loc, scale : float or array_like of shape (dim,), optional
        Mean and standard deviation per coordinate (Hermite); default 0 and 1.
    max_size : int, default 100000
        Largest allowed dimension m of the space (checked before allocation). A named index
        set is also refused when its ``(m, dim)`` index array would exceed
        ``MAX_INDEX_ENTRIES = 2**28`` entries (2 GiB); any ``dim`` within these limits works
        (e.g. degree 1 in dim 1000, m = 1001).

    Attributes
    ----------
    m : int
        Dimension of the space, ``len(space)``.
    indices : ndarray of int64, shape (m, dim)
        Multi-indices, ordered by total degree, then lexicographically descending;
        coefficient ``j`` of a fit multiplies ``phi_{indices[j]}``.

    Notes
    -----
    The basis ``phi_nu`` is orthonormal for the product measure ``mu``. The inverse
    Christoffel function ``k_m(x) = sum_nu phi_nu(x)**2`` integrates to m, the optimal
    sampling density (w.r.t. ``mu``) is ``k_m / m`` and the weights are ``w = m / k_m``.

    Examples
    --------
    >>> import numfit as nf
    >>> V = nf.PolynomialSpace("legendre", degree=2, dim=2)
    >>> V.m, V.indices.tolist()
    (6, [[0, 0], [1, 0], [0, 1], [2, 0], [1, 1], [0, 2]])
    >>> float(V.weights([[0.0, 0.0]])[0]) > 0
    True
    """

    def __init__(self, family, degree=None, dim=1, index_set="total", *, indices=None,
                 domain=None, loc=None, scale=None, max_size=100_000):
        family = check_option("family", family, FAMILIES)
        dim = check_int("dim", dim, lo=1)
        max_size = check_int("max_size", max_size, lo=1)
        if indices is not None:
            ind = np.asarray(indices)
            if ind.ndim == 1 and dim == 1:
                ind = ind.reshape(-1, 1)
            if ind.ndim != 2 or ind.shape[1] != dim or ind.shape[0] == 0:
                raise ValueError(f"`indices` must be a non-empty 2-D array with dim={dim} "
                                 f"columns; got shape {ind.shape}")
            if ind.dtype.kind not in "iu" and not (ind.dtype.kind == "f"
                                                   and np.all(np.isfinite(ind))
                                                   and np.all(ind == np.round(ind))):
                raise TypeError(f"`indices` must hold integers; got dtype {ind.dtype}")
            ind = ind.astype(np.int64)
            if ind.min() < 0:
                raise ValueError("`indices` must be non-negative")
            if len(np.unique(ind, axis=0)) != len(ind):
                raise ValueError("`indices` must have distinct rows")
            if len(ind) > max_size:
                raise ValueError(f"the space has m={len(ind)} > max_size={max_size}")
            if degree is not None:
                degree = check_int("degree", degree, lo=0)
            index_set = "custom"
            self.degree = int(ind.max()) if degree is None else degree
            ind = np.ascontiguousarray(ind)
        else:
            if degree is None:
                raise TypeError("`degree` is required unless `indices` is given")
            degree = check_int("degree", degree, lo=0)
            index_set = check_option("index_set", index_set, INDEX_SETS)
            if index_set == "hyperbolic" and 1 + dim * degree > max_size:
                m = 1 + dim * degree             # the axes alone: a lower bound, no counting
                raise ValueError(f"the hyperbolic index set of degree {degree} in dim {dim} "
                                 f"has m >= {m} > max_size={max_size}; lower the degree or "
                                 "dim")
            m = index_set_size(index_set, degree, dim)
            if m > max_size:
                raise ValueError(f"the {index_set} index set of degree {degree} in dim {dim} "
                                 f"has m={m} > max_size={max_size}; lower the degree or use "
                                 "index_set='total'/'hyperbolic'")
            if m * dim > MAX_INDEX_ENTRIES:
                raise ValueError(f"the {index_set} index set of degree {degree} in dim {dim} "
                                 f"has m={m}: its (m, dim) int64 index array would hold "
                                 f"{float(m * dim):.3g} entries ({8 * m * dim / 2 ** 30:.3g} "
                                 f"GiB), above the limit of 2**28 entries (2 GiB); lower dim "
                                 "or the degree, or pass the multi-indices you need as "
                                 "`indices`")
            ind = order_indices(_enumerate(index_set, degree, dim))
            self.degree = degree
        ind.setflags(write=False)
        self.family, self.dim, self.index_set = family, dim, index_set
        self.indices = ind
        self.max_size = max_size
        self._set_map(domain, loc, scale)
        self._prepare()

    # -- construction helpers ---------------------------------------------------------
    def _set_map(self, domain, loc, scale):
        d = self.dim
        if self.family == "hermite":
            if domain is not None:
                raise ValueError("`domain` applies to legendre/chebyshev; use loc/scale for "
                                 "hermite")
            loc = np.zeros(d) if loc is None else np.broadcast_to(
                np.asarray(loc, dtype=np.float64), (d,)).copy()
            scale = np.ones(d) if scale is None else np.broadcast_to(
                np.asarray(scale, dtype=np.float64), (d,)).copy()
            if not (np.all(np.isfinite(loc)) and np.all(np.isfinite(scale))):
                raise ValueError("`loc` and `scale` must be finite")
            if np.any(scale <= 0):
                raise ValueError(f"`scale` must be > 0; got {scale.tolist()}")
            self._shift, self._half = loc, scale
            self.domain = None
        else:
            if loc is not None or scale is not None:
                raise ValueError("`loc`/`scale` apply to hermite; use domain for "
                                 f"{self.family}")
            dom = np.array([[-1.0, 1.0]] * d) if domain is None else \
                np.asarray(domain, dtype=np.float64)
            if dom.shape == (2,):
                dom = np.tile(dom, (d, 1))
            if dom.shape != (d, 2):
                raise ValueError(f"`domain` must have shape (2,) or ({d}, 2); got {dom.shape}")
            if not np.all(np.isfinite(dom)) or np.any(dom[:, 0] >= dom[:, 1]):
                raise ValueError("`domain` must be finite with lower < upper; got "
                                 f"{dom.tolist()}")
            self.domain = dom
            self._shift = 0.5 * (dom[:, 0] + dom[:, 1])
            self._half = 0.5 * (dom[:, 1] - dom[:, 0])
        for a in (self._shift, self._half):
            a.setflags(write=False)

    def _prepare(self):
        self.pmax = np.ascontiguousarray(self.indices.max(axis=0), dtype=np.int64)
        p = int(self.pmax.max())
        # long enough for Clenshaw (p + 3 entries)
        self.beta = recurrence_beta(self.family, p + 2)
        self._code = _FAMILY_CODE[self.family]

    # -- basic protocol ------------------------------------------------------------
    @property
    def m(self):
        """Dimension of the space."""
        return self.indices.shape[0]

    def __len__(self):
        return self.m

    def __repr__(self):
        extra = f", domain={self.domain.tolist()}" if self.domain is not None else \
            f", loc={self._shift.tolist()}, scale={self._half.tolist()}"
        return (f"PolynomialSpace({self.family!r}, degree={self.degree}, dim={self.dim}, "
                f"index_set={self.index_set!r}, m={self.m}{extra})")

    def __eq__(self, other):
        return (isinstance(other, PolynomialSpace) and self.family == other.family
                and self.dim == other.dim and np.array_equal(self.indices, other.indices)
                and np.array_equal(self._shift, other._shift)
                and np.array_equal(self._half, other._half))

    def __hash__(self):
        return hash((self.family, self.dim, self.m, self.indices.tobytes()))

    def __getstate__(self):
        state = self.__dict__.copy()
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        for a in (self.indices, self._shift, self._half):
            a.setflags(write=False)

    def to_dict(self):
        """Plain-Python description; ``PolynomialSpace.from_dict`` rebuilds the space."""
        out = {"family": self.family, "dim": self.dim, "degree": self.degree,
               "index_set": self.index_set, "indices": self.indices.tolist(),
               "max_size": self.max_size}
        if self.family == "hermite":
            out.update(loc=self._shift.tolist(), scale=self._half.tolist())
        else:
            out["domain"] = self.domain.tolist()
        return out

    @classmethod
    def from_dict(cls, data):
        """Inverse of :meth:`to_dict`."""
        kw = {k: data[k] for k in ("domain", "loc", "scale") if k in data}
        kw["max_size"] = data.get("max_size", 100_000)
        if data.get("index_set", "custom") != "custom":
            space = cls(data["family"], data["degree"], data["dim"], data["index_set"], **kw)
            if "indices" in data and not np.array_equal(space.indices,
                                                        np.asarray(data["indices"])):
                raise ValueError("`indices` do not match the named index set")
            return space
        return cls(data["family"], degree=data.get("degree"), dim=data["dim"],
                   indices=data["indices"], **kw)

    # -- coordinates -----------------------------------------------------------------
    def _as_points(self, x, name="x"):
        """(N, d) float64 user coordinates; d = 1 also accepts scalars and (N,). Real
        numbers only: None, strings, complex numbers and objects raise TypeError."""
        a = check_points(name, x)
        if self.dim == 1 and a.ndim <= 1:
            a = a.reshape(-1, 1)
        elif a.ndim == 1 and a.shape[0] == self.dim:
            a = a.reshape(1, -1)
        if a.ndim != 2 or a.shape[1] != self.dim:
            raise ValueError(f"`{name}` must have shape (N, {self.dim})"
                             f"{' or (N,)' if self.dim == 1 else ''}; got {np.shape(x)}")
        if not np.all(np.isfinite(a)):
            bad = np.flatnonzero(~np.all(np.isfinite(a), axis=1))
            raise ValueError(f"`{name}` must be finite; {bad.size} non-finite point(s), the "
                             f"first at row {bad[0]}")
        return a

    def to_reference(self, x):
        """User coordinates -> reference coordinates t ([-1, 1]^d or standard normal)."""
        if is_cupy(x):                                     # pragma: no cover - needs CuPy
            return G.reference_xp(array_namespace(x), self, x)
        return np.ascontiguousarray((self._as_points(x) - self._shift) / self._half)

    def from_reference(self, t):
        """Reference coordinates -> user coordinates."""
        if is_cupy(t):                                     # pragma: no cover - needs CuPy
            xp = array_namespace(t)
            t = xp.asarray(t, dtype=xp.float64).reshape(-1, self.dim)
            return t * xp.asarray(self._half) + xp.asarray(self._shift)
        t = np.asarray(t, dtype=np.float64).reshape(-1, self.dim)
        return t * self._half + self._shift

    # -- evaluation ------------------------------------------------------------------
    # Every method below takes NumPy-compatible input (evaluated by the Numba kernels) or a
    # CuPy array (evaluated on its GPU by numfit/approx/_gpu.py; the result is a CuPy array).
    def eval(self, x):
        """Feature matrix ``Phi[i, j] = phi_{indices[j]}(x[i])``, shape (N, m).

        A CuPy ``x`` gives a CuPy matrix computed on its GPU (see :doc:`/gpu`).
        """
        if is_cupy(x):                                     # pragma: no cover - needs CuPy
            xp = array_namespace(x)
            return G.features_xp(xp, self, G.reference_xp(xp, self, x))
        t = self.to_reference(x)
        return K.features(t, self.beta, self.pmax, self.indices)

    def christoffel(self, x):
        """Inverse Christoffel function ``k_m(x) = ||phi(x)||**2``, shape (N,)."""
        if is_cupy(x):                                     # pragma: no cover - needs CuPy
            xp = array_namespace(x)
            return G.christoffel_xp(xp, self, G.reference_xp(xp, self, x))
        return K.christoffel(self.to_reference(x), self.beta, self.pmax, self.indices)

    def gram(self, x, w=None):
        """Empirical Gram matrix ``G = (1/n) sum_i w_i phi(x_i) phi(x_i)^T`` of a design.

        ``||G - I||_2`` measures how far the weighted discrete inner product on the points
        is from the continuous one (``WeightedSample.gram_error``). The sum runs over blocks
        of rows, so memory stays O(block * m) however large n is.

        Parameters
        ----------
        x : array_like or cupy.ndarray, shape (n, dim), or (n,) when dim = 1
            Points in user coordinates. With a CuPy array the work runs on its GPU and
            ``G`` is a CuPy array.
        w : array_like or cupy.ndarray, shape (n,), optional
            Weights; default the optimal-sampling weights ``m / k_m(x)`` (:meth:`weights`).

        Returns
        -------
        G : ndarray or cupy.ndarray, shape (m, m)
            Symmetric positive semi-definite; in the namespace of ``x``.

        See Also
        --------
        numfit.sample_points : draws designs with ``||G - I||_2 <= delta``.

        Examples
        --------
        >>> import numpy as np, numfit as nf
        >>> V = nf.PolynomialSpace("legendre", degree=3)
        >>> smp = nf.sample_points(V, method="iid", n=2000, rng=0)
        >>> lam = np.linalg.eigvalsh(V.gram(smp.points, smp.weights))
        >>> bool(abs(max(lam[-1] - 1, 1 - lam[0]) - smp.gram_error) < 1e-12)
        True
        """
        xp = array_namespace(x, w)
        if xp is not np:                                   # pragma: no cover - needs CuPy
            return self._gram_xp(xp, x, w)
        t = self.to_reference(x)
        n = t.shape[0]
        if w is None:
            w = self.m / K.christoffel(t, self.beta, self.pmax, self.indices)
        else:
            w = self._check_weights(np, w, n)
        g = np.zeros((self.m, self.m))
        step = max(1, G.CHUNK_ELEMENTS // self.m)
        for s in range(0, n, step):
            phi = K.features(t[s:s + step], self.beta, self.pmax, self.indices)
            g += (phi * w[s:s + step, None]).T @ phi
        return g / n

    def _gram_xp(self, xp, x, w):
        """:meth:`gram` in namespace ``xp`` (CuPy, or NumPy in the tests)."""
        t = G.reference_xp(xp, self, asarray(xp, x))
        n = t.shape[0]
        if w is None:
            w = self.m / G.christoffel_xp(xp, self, t)
        else:
            w = self._check_weights(xp, w, n)
        return G.gram_xp(xp, self, t, w)

    @staticmethod
    def _check_weights(xp, w, n):
        w = xp.asarray(w, dtype=xp.float64)
        if w.shape != (n,):
            raise ValueError(f"`w` must have shape ({n},) like the points; got "
                             f"{tuple(w.shape)}")
        return w

    def optimal_density(self, x):
        """``rho_m = k_m / m``, the optimal sampling density with respect to ``mu``."""
        return self.christoffel(x) / self.m

    def weights(self, x):
        """Least-squares weights ``w = m / k_m``."""
        return self.m / self.christoffel(x)

    def measure_density(self, x):
        """Density of the reference measure ``mu`` w.r.t. Lebesgue measure at ``x``."""
        if is_cupy(x):                                     # pragma: no cover - needs CuPy
            xp = array_namespace(x)
            return G.measure_density_xp(xp, self, G.reference_xp(xp, self, x))
        t = self.to_reference(x)
        if self.family == "legendre":
            dens = np.where(np.abs(t) <= 1, 0.5, 0.0)
        elif self.family == "chebyshev":
            with np.errstate(divide="ignore", invalid="ignore"):
                dens = np.where(np.abs(t) < 1, 1.0 / (np.pi * np.sqrt(1 - t * t)), 0.0)
        else:
            dens = np.exp(-0.5 * t * t) / math.sqrt(2 * math.pi)
        return np.prod(dens / self._half, axis=1)


def check_space(space, name="space"):
    if not isinstance(space, PolynomialSpace):
        raise TypeError(f"`{name}` must be a numfit.PolynomialSpace; got "
                        f"{type(space).__name__}")
    return space


def check_delta(name, value):
    return check_float(name, value, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
