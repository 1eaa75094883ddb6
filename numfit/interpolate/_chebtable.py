"""``AutoKnotsChebyshev``: the piecewise-Chebyshev table that ``autoknots(kind="chebyshev")``
returns."""

import numpy as np

from .._backend import array_namespace, device_key, is_cupy
from .._result import Result
from .._validation import check_float, check_int
from . import _gpu, _kernels
from ._maps import MAPS as _MAPS
from ._maps import to_knot_variable
from ._tablebase import TableBase, info_property

__all__ = ["AutoKnotsChebyshev", "lobatto", "values_to_coefs"]

_FORMAT = "numfit.AutoKnotsChebyshev"
_VERSION = 1
_OPTION_KEYS = ("kind", "rtol", "atol", "knots_map", "space", "extrapolate", "vectorized",
                "degree_max")
_COUNT_KEYS = ("n_evals", "n_calls", "n_rounds", "n_discarded", "n_recheck_failed",
               "n_extrapolated", "n_margin", "n_free", "n_spot", "n_spot_evals")
MAX_ANTIDERIVATIVE = 16     # antiderivative orders accepted (the cubic kind allows 12)
_EVAL_DEGREE = 6            # pieces of higher degree are split for evaluation (exactly)
_C2V = {}


def lobatto(p):
    """The p+1 Chebyshev-Lobatto points ``-cos(j pi / p)``, ascending, on [-1, 1]."""
    if p == 0:
        return np.zeros(1)
    s = -np.cos(np.pi * np.arange(p + 1) / p)
    s[0], s[-1] = -1.0, 1.0
    if p % 2 == 0:
        s[p // 2] = 0.0
    return s


def values_to_coefs(y, p):
    """Chebyshev coefficients (p+1, ...) of the degree-p interpolant of values ``y``
    (p+1, ...) at :func:`lobatto` points (a type-I discrete cosine transform as a matrix)."""
    M = _C2V.get(p)
    if M is None:
        j = np.arange(p + 1)
        # ascending points s_j = cos((p - j) pi / p): T_k(s_j) = cos(k (p - j) pi / p)
        T = np.cos(np.outer(j, p - j) * np.pi / p) if p else np.ones((1, 1))
        w = np.full(p + 1, 2.0 / max(p, 1))
        if p:
            w[[0, -1]] *= 0.5
        M = T * w[None, :]
        if p:
            M[[0, -1]] *= 0.5
        else:
            M = np.ones((1, 1))
        _C2V[p] = M
    return np.tensordot(M, np.asarray(y, dtype=np.float64), axes=(1, 0))


def _readonly(a, dtype=np.float64):
    a = np.ascontiguousarray(a, dtype=dtype)
    a.flags.writeable = False
    return a


class AutoKnotsChebyshev(TableBase):
    """Piecewise Chebyshev interpolant tabulating ``f`` on ``[a, b]`` to a stated tolerance.

    Made by :func:`numfit.autoknots` with ``kind="chebyshev"``; rebuilt by :meth:`from_dict`
    or pickle. Piece ``i`` covers ``[u_i, u_{i+1}]`` of the knot variable ``u`` (``x``,
    ``ln x`` or ``asinh x``) with a polynomial in ``u`` of its own degree, given by Chebyshev
    coefficients; with ``space="loglog"`` the polynomial is ``ln f`` against ``ln x``.
    The interface is :class:`AutoKnotsSpline`'s: ``s(x, nu)``, :meth:`integrate`,
    :meth:`derivative`, :meth:`antiderivative`, :meth:`roots`, ``n_evals``, ``converged``,
    ``to_dict``/``from_dict`` and pickling; see :doc:`/kinds` for when to choose which.

    Parameters
    ----------
    breakpoints : (n+1,) array
        Piece ends in ``x``, ``a`` to ``b``.
    u : (n+1,) array
        Piece ends in the knot variable.
    degrees : (n,) int array
        Degree of each piece.
    coef : (sum(degrees + 1),) or (sum(degrees + 1), m) array
        Chebyshev coefficients, piece after piece, in the piece's variable
        ``s = (2u - u_i - u_{i+1}) / (u_{i+1} - u_i)``.
    nodes, values : arrays
        The samples the pieces interpolate (abscissae and f, ascending).
    info : dict
        Options, counts and status (see :attr:`info`).

    Notes
    -----
    Users do not call the constructor; it trusts its arguments. :meth:`from_dict` validates.

    Examples
    --------
    >>> import numpy as np
    >>> import numfit as nf
    >>> s = nf.autoknots(np.cos, 0.0, 10.0, rtol=1e-10, atol=1e-10, kind="chebyshev")
    >>> s.converged, bool(abs(s(2.0) - np.cos(2.0)) < 1e-10)
    (True, True)
    >>> round(float(s.integrate(0.0, np.pi / 2)), 9)
    1.0
    """

    def __init__(self, breakpoints, u, degrees, coef, nodes, values, info):
        self._x = _readonly(breakpoints)
        self._u = _readonly(u)
        self._deg = _readonly(degrees, np.intp)
        coef = np.asarray(coef, dtype=np.float64)
        self._vector = coef.ndim == 2
        self._coef = _readonly(coef if coef.ndim == 2 else coef[:, None])
        self._nodes = _readonly(nodes)
        self._values = _readonly(values)
        self._info = Result(info)
        self._space = self._info["space"]
        self._map = "log" if self._space == "loglog" else self._info["knots_map"]
        off = np.zeros(self._deg.size + 1, dtype=np.intp)
        np.cumsum(self._deg + 1, out=off[1:])
        self._off = _readonly(off, np.intp)
        self._ev = {}            # nu -> evaluation tables (t, off, coef, table) in u
        self._dev = {}           # device copies per namespace/device (never pickled)

    # ----------------------------------------------------------------- attributes
    _FORMAT, _VERSION, _OPTION_KEYS, _COUNT_KEYS = _FORMAT, _VERSION, _OPTION_KEYS, _COUNT_KEYS
    breakpoints = property(lambda self: self._x, doc="Piece ends in ``x`` (read-only).")
    knots = property(lambda self: self._x, doc="Alias of :attr:`breakpoints`.")
    x = property(lambda self: self._x, doc="Alias of :attr:`breakpoints` (``PPoly`` naming).")
    u = property(lambda self: self._u, doc="Piece ends in the knot variable.")
    degrees = property(lambda self: self._deg, doc="Degree of each piece.")
    nodes = property(lambda self: self._nodes, doc="Sample abscissae the pieces interpolate.")
    values = property(lambda self: self._values, doc="f at :attr:`nodes`.")

    @property
    def coefficients(self):
        """Chebyshev coefficients of each piece: a list of ``(d_i + 1[, m])`` arrays."""
        c = self._coef if self._vector else self._coef[:, 0]
        return [c[self._off[i]:self._off[i + 1]] for i in range(self._deg.size)]

    _get = staticmethod(info_property)

    kind = _get("kind", "'chebyshev'.")
    rtol = _get("rtol", "Relative tolerance the table was built to.")
    atol = _get("atol", "Absolute tolerance the table was built to.")
    knots_map = _get("knots_map", "Knot map: 'linear', 'log' or 'asinh'.")
    space = _get("space", "'linear' or 'loglog'.")
    extrapolate = _get("extrapolate", "Default extrapolation outside [a, b].")
    degree_max = _get("degree_max", "Largest degree a piece may take.")
    n_evals = _get("n_evals", "Distinct evaluations of f (table samples plus discarded ones).")
    n_calls = _get("n_calls", "Calls of f (batches when vectorised, plus a failed probe).")
    n_rounds = _get("n_rounds", "Rounds after the initial batch.")
    n_discarded = _get("n_discarded", "Samples that are not table values (of bisected pieces "
                                      "and of passed spot tests); each was checked against "
                                      "the final table.")
    n_recheck_failed = _get("n_recheck_failed", "Pieces reopened because the final table "
                                                "missed a discarded sample.")
    n_extrapolated = _get("n_extrapolated", "Pieces accepted on the extrapolated "
                                            "convergence of two measured levels.")
    n_margin = _get("n_margin", "Pieces that passed within 10x of the tolerance and were "
                                "sampled at the next degree before being kept.")
    n_free = _get("n_free", "Halves of bisected pieces kept on the samples their parent "
                            "dropped inside them (no evaluation).")
    n_spot = _get("n_spot", "Spot tests: pieces of degree >= 16 passing within 10x of the "
                            "tolerance, or predicted to pass by the convergence of two "
                            "measured levels, whose next degree was sampled at a subset of "
                            "its new points first (max(6, p/4) of p).")
    n_spot_evals = _get("n_spot_evals", "Evaluations of the spot tests (table values where "
                                        "the piece went on to the next degree, else test "
                                        "samples checked against the final table).")
    converged = _get("success", "True if every test passed (status 0).")
    success = _get("success", "Alias of converged.")
    status = _get("status", "0 converged, 1 evaluation cap reached, 2 iteration cap, 3 "
                            "partial table of a DiscontinuityError, 4 tests passed but f "
                            "changes sign with atol = 0, 5 stopped by the callback.")
    message = _get("message", "Text for status.")
    vectorized = _get("vectorized", "Whether f was called on arrays.")
    del _get

    @property
    def ndim_out(self):
        """Components of f: 0 for scalar f, m for f returning (m,) per point."""
        return self._coef.shape[1] if self._vector else 0

    def __len__(self):
        return self._deg.size

    def __repr__(self):
        a, b = self.interval
        return (f"<AutoKnotsChebyshev on [{a:g}, {b:g}]: {self._deg.size} pieces, degrees "
                f"{int(self._deg.min())}-{int(self._deg.max())}, {self.n_evals} evaluations, "
                f"space={self._space!r}, rtol={self.rtol:g}, atol={self.atol:g}, "
                f"status={self.status} ({'converged' if self.converged else 'not converged'})>")

    # ----------------------------------------------------------------- evaluation
    def _tables(self, nu):
        """Evaluation tables of the nu-th u-derivative: pieces of degree <= _EVAL_DEGREE
        (a piece of higher degree is split into equal parts whose Chebyshev series are
        computed exactly from its own), bucket table."""
        tab = self._ev.get(nu)
        if tab is None:
            t, off, coef = _derivative_tables(self._u, self._off, self._coef, nu)
            t, off, coef = _split_for_evaluation(t, off, coef, _EVAL_DEGREE)
            table = _kernels.lookup_table(t)
            tab = (t, off, coef, np.ascontiguousarray(coef[:, 0]) if coef.shape[1] == 1
                   else None, table, _monomial_form(t, off, coef))
            self._ev[nu] = tab
        return tab

    def _eval_u(self, uq, nu, extrapolate):
        t, off, coef, coef1, table, mono = self._tables(nu)
        K = _kernels.kernels
        if mono is not None:
            out = np.empty(uq.size)
            K.evaluate_mono1(t, table, *mono, uq, bool(extrapolate), out)
            return out[:, None]
        if coef1 is not None:
            out = np.empty(uq.size)
            K.evaluate_cheb1(t, off, coef1, table, uq, bool(extrapolate), out)
            return out[:, None]
        out = np.empty((uq.size, coef.shape[1]))
        K.evaluate_cheb(t, off, coef, table, uq, bool(extrapolate), out)
        return out

    def _to_u(self, xp, q, extrapolate):
        return to_knot_variable(xp, q, self._map, self._x, self._u, extrapolate)

    def __call__(self, x, nu=0, extrapolate=None):
        """Evaluate the table (or its ``nu``-th derivative in ``x``) at ``x``.

        Parameters
        ----------
        x : array_like or cupy.ndarray
            Points; the result has shape ``x.shape`` (plus ``(m,)`` for vector f). A CuPy
            array is evaluated on its GPU (``nu = 0``); see :doc:`/gpu`.
        nu : int, optional
            Derivative order, 0..3 (chain rule through the knot map and log-log space).
        extrapolate : bool, optional
            Outside ``[a, b]``: NaN if False (default: the table's ``extrapolate``), else
            the end pieces continue.

        Returns
        -------
        ndarray or cupy.ndarray
            A 0-d array for a scalar ``x``, as SciPy's splines return.

        Raises
        ------
        TypeError
            If ``x`` is not real numbers (``None``, strings, complex values).
        """
        nu = check_int("nu", nu, lo=0, hi=3)
        extrapolate = self.extrapolate if extrapolate is None else bool(extrapolate)
        if is_cupy(x):                                     # pragma: no cover - needs CuPy
            return self._call_xp(array_namespace(x), x, nu, extrapolate)
        xa = self._query_points(x)
        q = np.ascontiguousarray(xa.ravel())
        uq = self._to_u(np, q, extrapolate)
        out = self._eval_u(uq, 0, extrapolate)
        if self._space == "loglog":
            out = np.exp(out)
        if nu:
            D = [self._eval_u(uq, k, extrapolate) for k in range(1, nu + 1)]
            out = _chain(self._map, self._space, q[:, None], out, D, nu)
        shape = xa.shape + ((self._coef.shape[1],) if self._vector else ())
        return out.reshape(shape)

    def _call_xp(self, xp, x, nu, extrapolate):            # pragma: no cover - needs CuPy
        if nu:
            raise NotImplementedError("derivatives of a chebyshev table are evaluated on the "
                                      "CPU; pass a NumPy array")
        if xp.iscomplexobj(x):
            raise TypeError("`x` must be real; got complex values")
        xa = xp.asarray(x, dtype=xp.float64)
        q = xp.ascontiguousarray(xa.ravel())
        key = device_key(xp)
        tb = self._dev.get(key)
        if tb is None:
            t, off, coef = self._tables(0)[:3]
            tb = _gpu.cheb_device_tables(xp, t, off, coef)
            self._dev[key] = tb
        out = _gpu.evaluate_cheb_xp(xp, tb, self._to_u(xp, q, extrapolate), extrapolate)
        if self._space == "loglog":
            out = xp.exp(out)
        shape = xa.shape + ((self._coef.shape[1],) if self._vector else ())
        return out.reshape(shape)

    # ----------------------------------------------------------------- calculus
    def derivative(self, nu=1):
        """The ``nu``-th derivative: a chebyshev table on the same pieces (linear space and
        knot map), else a picklable callable ``x -> s(x, nu)``."""
        nu = check_int("nu", nu, lo=0, hi=3 if self._nonlinear() else None)
        if self._nonlinear():
            return _Derivative(self, nu)
        t, off, coef = _derivative_tables(self._u, self._off, self._coef, nu)
        return self._derived(off, coef, f"derivative(nu={nu})")

    def _nonlinear(self):
        return self._space != "linear" or self._map != "linear"

    def _derived(self, off, coef, note):
        info = dict(self._info)
        info["derived"] = note
        degs = np.diff(off) - 1
        c = coef if self._vector else coef[:, 0]
        vals = _eval_pieces(self._u, off, coef, self._u)
        return AutoKnotsChebyshev(self._x, self._u, degs, c, self._x,
                                  vals if self._vector else vals[:, 0], info)

    def antiderivative(self, nu=1):
        """The ``nu``-th antiderivative, zero at ``a`` (linear space and knot map);
        ``0 <= nu <= 16``: each order raises every piece's degree by one, and repeated
        integration beyond that loses the table's accuracy to cancellation."""
        if self._nonlinear():
            raise NotImplementedError("antiderivative() needs space='linear' and "
                                      "knots='linear'; use integrate(lo, hi)")
        nu = check_int("nu", nu, lo=0, hi=MAX_ANTIDERIVATIVE)
        off, coef = self._off, self._coef
        for _ in range(nu):
            off, coef = _antiderivative_tables(self._u, off, coef)
        return self._derived(off, coef, f"antiderivative(nu={nu})")

    def integrate(self, a, b, extrapolate=None):
        """Integral of the table from ``a`` to ``b`` in ``x`` (negative if ``a > b``).

        Exact (Chebyshev antiderivative) in linear space with ``knots="linear"``; otherwise
        Gauss-Legendre on every piece of ``s(x(u)) x'(u)`` with more nodes than the degree
        (error far below ``rtol``). Bounds outside the table need ``extrapolate=True``.
        """
        lo, hi, extrapolate = self._bounds(a, b, extrapolate)
        sign = 1.0
        if lo > hi:
            lo, hi, sign = hi, lo, -1.0
        m = self._coef.shape[1]
        if lo == hi:
            out = np.zeros(m)
        elif not self._nonlinear():
            P = self.antiderivative()
            v = P._eval_u(np.array([lo, hi]), 0, True)
            out = v[1] - v[0]
        else:
            out = self._integrate_gl(lo, hi)
        out = sign * out
        return out if self._vector else out[0]

    def _integrate_gl(self, lo, hi):
        if self._map == "log" and lo <= 0:
            raise ValueError(f"integration bound {lo!r} <= 0 is outside a table in ln x")
        U = _MAPS[self._map][0]
        ul, uh = float(U(lo)), float(U(hi))
        u = self._u
        edges = np.concatenate([[ul], u[(u > ul) & (u < uh)], [uh]])
        n = int(self._deg.max()) // 2 + 24
        gx, gw = np.polynomial.legendre.leggauss(n)
        mid = 0.5 * (edges[1:] + edges[:-1])
        half = 0.5 * np.diff(edges)
        nodes = (mid[:, None] + half[:, None] * gx[None, :]).ravel()
        vals = self._eval_u(np.ascontiguousarray(nodes), 0, True)
        if self._space == "loglog":
            vals = np.exp(vals)
        jac = np.exp(nodes) if self._map == "log" else np.cosh(nodes)
        vals = (vals * jac[:, None]).reshape(mid.size, n, -1)
        return np.einsum("ikm,k,i->m", vals, gw, half)

    def roots(self, discontinuity=True, extrapolate=None):
        """Real roots in ``[a, b]`` (linear space, scalar f), from each piece's colleague
        matrix (:func:`numpy.polynomial.chebyshev.chebroots`)."""
        return self.solve(0.0)

    def solve(self, y=0.0, discontinuity=True, extrapolate=None):
        """Real solutions of ``s(x) == y`` in ``[a, b]`` (linear space, scalar f)."""
        if self._space != "linear":
            raise NotImplementedError("solve() is available in linear space only")
        if self._vector:
            raise ValueError("solve() needs a scalar-valued table")
        y = check_float("y", y)
        out = []
        Uinv = _MAPS[self._map][1]
        for i in range(self._deg.size):
            c = np.array(self._coef[self._off[i]:self._off[i + 1], 0])
            c[0] -= y
            scale = max(np.abs(c).max(), 1e-300)
            if self._deg[i] == 0:
                continue
            r = np.polynomial.chebyshev.chebroots(c / scale)
            r = r[np.abs(r.imag) <= 1e-9 * max(1.0, np.abs(r).max())].real
            r = r[(r >= -1 - 1e-12) & (r <= 1 + 1e-12)]
            h = 0.5 * (self._u[i + 1] - self._u[i])
            out.extend(0.5 * (self._u[i] + self._u[i + 1]) + h * np.clip(r, -1, 1))
        x = np.sort(np.asarray(Uinv(np.array(out, dtype=float)), dtype=float))
        if x.size > 1:                       # roots on a shared breakpoint appear twice
            keep = np.r_[True, np.diff(x) > 1e-12 * max(1.0, np.abs(x).max())]
            x = x[keep]
        return x

    # ----------------------------------------------------------------- persistence
    def to_dict(self):
        """JSON-safe description; :meth:`from_dict` rebuilds a table that evaluates equal."""
        d = self._envelope()
        d.update(breakpoints=self._x.tolist(), u=self._u.tolist(),
                 degrees=[int(k) for k in self._deg],
                 coefficients=(self._coef if self._vector else self._coef[:, 0]).tolist(),
                 nodes=self._nodes.tolist(), values=self._values.tolist())
        return d

    @classmethod
    def from_dict(cls, d):
        """Rebuild a table from :meth:`to_dict` output, validating it.

        Raises
        ------
        ValueError
            If the format, version, shapes or values are inconsistent.
        """
        cls._check_envelope(d)
        info = cls._info_from(d, defaults=dict(n_free=0, n_spot=0, n_spot_evals=0))
        #                                                 (tables saved before these counts)
        degs, = cls._arrays_from(d, "degrees", dtype=np.intp)
        x, u, coef, nodes, values = cls._arrays_from(d, "breakpoints", "u", "coefficients",
                                                     "nodes", "values")
        n = degs.size
        if x.ndim != 1 or x.size != n + 1 or n < 1 or not np.all(np.diff(x) > 0) \
                or not np.all(np.isfinite(x)):
            raise ValueError("'breakpoints' must be a 1-D strictly increasing finite array "
                             "with one more entry than 'degrees'")
        if u.shape != x.shape or not np.all(np.diff(u) > 0):
            raise ValueError("'u' must be strictly increasing, one entry per breakpoint")
        if np.any(degs < 0) or coef.ndim not in (1, 2) or coef.shape[0] != int(np.sum(degs + 1)):
            raise ValueError(f"'coefficients' must have sum(degrees + 1) = "
                             f"{int(np.sum(degs + 1))} rows; got {coef.shape}")
        if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(values))):
            raise ValueError("'coefficients' and 'values' must be finite")
        if info["space"] not in ("linear", "loglog") or \
                info["knots_map"] not in ("linear", "log", "asinh"):
            raise ValueError("options 'space'/'knots_map' are not valid")
        return cls(x, u, degs, coef, nodes, values, info)


class _Derivative:
    """Picklable ``x -> s(x, nu)`` for a table with a non-linear map or in log-log space."""

    def __init__(self, table, nu):
        self.table, self.nu = table, nu

    def __call__(self, x, extrapolate=None):
        return self.table(x, nu=self.nu, extrapolate=extrapolate)

    def __repr__(self):
        return f"<derivative nu={self.nu} of {self.table!r}>"


# --------------------------------------------------------------------------- table algebra
def _derivative_tables(u, off, coef, nu):
    """(u, off, coef) of the nu-th derivative in u of every piece."""
    if nu == 0:
        return u, off, coef
    C = np.polynomial.chebyshev
    out, offs = [], [0]
    for i in range(off.size - 1):
        c = coef[off[i]:off[i + 1]]
        d = c.shape[0] - 1
        if d < nu:
            dc = np.zeros((1, c.shape[1]))
        else:
            dc = C.chebder(c, m=nu, axis=0) * (2.0 / (u[i + 1] - u[i])) ** nu
        out.append(dc)
        offs.append(offs[-1] + dc.shape[0])
    return u, np.asarray(offs, dtype=np.intp), np.ascontiguousarray(np.concatenate(out))


def _antiderivative_tables(u, off, coef):
    """(off, coef) of the antiderivative in u, zero at u[0], continuous."""
    C = np.polynomial.chebyshev
    out, offs = [], [0]
    acc = np.zeros(coef.shape[1])
    for i in range(off.size - 1):
        c = coef[off[i]:off[i + 1]]
        h2 = 0.5 * (u[i + 1] - u[i])
        ic = C.chebint(c, m=1, lbnd=-1, axis=0) * h2       # zero at the piece's left end
        ic[0] += acc
        acc = C.chebval(1.0, ic).reshape(-1) if ic.ndim == 1 else \
            np.array([C.chebval(1.0, ic[:, j]) for j in range(ic.shape[1])])
        out.append(ic)
        offs.append(offs[-1] + ic.shape[0])
    return np.asarray(offs, dtype=np.intp), np.ascontiguousarray(np.concatenate(out))


def _eval_pieces(u, off, coef, uq):
    """Values of (u, off, coef) at uq (NumPy; small inputs)."""
    C = np.polynomial.chebyshev
    idx = np.clip(np.searchsorted(u, uq, side="right") - 1, 0, off.size - 2)
    out = np.empty((uq.size, coef.shape[1]))
    for k, (i, q) in enumerate(zip(idx, uq)):
        s = (2 * q - u[i] - u[i + 1]) / (u[i + 1] - u[i])
        out[k] = C.chebval(s, coef[off[i]:off[i + 1]])
    return out


def _split_for_evaluation(u, off, coef, dmax):
    """Split every piece of degree > dmax into parts of degree <= dmax (:func:`_split_piece`)
    for evaluation; a piece that does not fit within the depth limit is kept whole."""
    degs = np.diff(off) - 1
    if degs.max() <= dmax:
        return u, off, coef
    us, cs = [u[:1]], []
    for i in range(degs.size):
        c = coef[off[i]:off[i + 1]]
        parts = _split_piece(c, int(degs[i]), dmax) if degs[i] > dmax else None
        if parts is None:
            us.append(u[i + 1:i + 2])
            cs.append(c)
            continue
        e = u[i] + (u[i + 1] - u[i]) * (np.array([hi for _, hi, _ in parts]) + 1) / 2
        e[-1] = u[i + 1]
        us.append(e)
        cs.extend(sc for _, _, sc in parts)
    offs = np.zeros(len(cs) + 1, dtype=np.intp)
    np.cumsum([c.shape[0] for c in cs], out=offs[1:])
    return (np.concatenate(us), offs, np.ascontiguousarray(np.concatenate(cs)))


def _monomial_form(t, off, coef):
    """(mid, sc, M) of a scalar table whose pieces have degree <= _EVAL_DEGREE: row i of M
    holds piece i's polynomial in s = (u - mid_i) sc_i as monomial coefficients, highest
    power first, zero-padded to the largest degree (for ``evaluate_mono1``); else None.

    At degree <= 6 on [-1, 1] the monomial coefficients exceed the Chebyshev ones by at most
    2^5, so the Horner form keeps the evaluation within ~1e-14 of the piece's scale.
    """
    degs = np.diff(off) - 1
    if coef.shape[1] != 1 or degs.max() > _EVAL_DEGREE:
        return None
    D = int(degs.max())
    C = np.zeros((degs.size, D + 1))
    for d in np.unique(degs):
        rows = np.flatnonzero(degs == d)
        idx = off[rows][:, None] + np.arange(d + 1)[None, :]
        C[rows, :d + 1] = coef[idx, 0]
    M = np.ascontiguousarray((C @ cheb_to_power(D))[:, ::-1])
    mid = 0.5 * (t[1:] + t[:-1])
    sc = 2.0 / np.diff(t)
    return mid, sc, M


def cheb_to_power(D):
    """(D+1, D+1) matrix: row k holds the monomial coefficients of T_k, lowest power first."""
    P = np.zeros((D + 1, D + 1))
    for k in range(D + 1):
        r = np.polynomial.chebyshev.cheb2poly(np.eye(D + 1)[k])[:D + 1]
        P[k, :r.size] = r
    return P


def _split_piece(c, d, dmax, max_depth=16, thresh=None, groups=None):
    """Parts ``(lo, hi, series)`` of [-1, 1], in order, on which the series c (degree d)
    equals a series of degree <= dmax to rounding; None past ``max_depth`` bisections.

    A part's series is computed from c itself at the part's Lobatto points (exact up to
    rounding for the full degree) and truncated where the dropped coefficients sum to
    <= 256 eps times c's coefficient scale (the rounding noise of the computed coefficients;
    or below ``thresh`` per component, where the caller sets the allowed deviation; with
    ``groups`` = m, the components are (k, m) and the tails are summed over k first):
    the evaluation equals the piece's polynomial to ~6e-14 of its scale. A part that does
    not fit is bisected; near the ends of a high-degree piece (where its derivatives are
    largest) the parts become small, elsewhere they stay wide.
    """
    if thresh is None:
        thresh = 256 * np.finfo(float).eps * np.abs(c).sum(axis=0)
    s_nodes = lobatto(d)
    done, todo = [], [(-1.0, 1.0)]
    for _ in range(max_depth):
        lo = np.array([a for a, _ in todo])
        hi = np.array([b for _, b in todo])
        s = (0.5 * (lo + hi)[:, None] + 0.5 * (hi - lo)[:, None] * s_nodes[None, :]).ravel()
        n = lo.size
        vals = np.polynomial.chebyshev.chebval(s, c)                  # (m, n*(d+1))
        vals = vals.reshape(c.shape[1], n, d + 1).transpose(2, 1, 0)   # (d+1, n, m)
        sc = values_to_coefs(vals, d)                                  # (d+1, n, m)
        tail = np.cumsum(np.abs(sc[::-1]), axis=0)[::-1]               # sum over >= r
        if groups:                      # components summed within each of `groups`
            tail = tail.reshape(d + 1, n, -1, groups).sum(axis=2)
        small = np.all(tail <= thresh, axis=2)                         # (d+1, n)
        keep = np.where(small.any(axis=0), np.argmax(small, axis=0), d + 1)
        nxt = []
        for j in range(n):
            if keep[j] - 1 <= dmax:
                done.append((lo[j], hi[j], sc[:max(int(keep[j]), 1), j]))
            else:
                mid = 0.5 * (lo[j] + hi[j])
                nxt += [(lo[j], mid), (mid, hi[j])]
        if not nxt:
            done.sort(key=lambda part: part[0])
            return done
        todo = nxt
    return None


def _chain(mapname, space, x, f0, D, nu):
    """d^nu s / dx^nu from the u-derivatives D = [g', g'', g'''] of the piece polynomial g
    (g = ln f in log-log space, f0 = s(x))."""
    if space == "loglog":             # u = ln x, f = exp(g)
        g1 = D[0]
        if nu == 1:
            return f0 * g1 / x
        g2 = D[1]
        if nu == 2:
            return f0 * (g2 + g1 * g1 - g1) / (x * x)
        g3 = D[2]
        return f0 * (g3 + 3 * g1 * g2 - 3 * g2 + g1 ** 3 - 3 * g1 * g1 + 2 * g1) / x ** 3
    if mapname == "linear":
        return D[nu - 1]
    if mapname == "log":              # u = ln x
        if nu == 1:
            return D[0] / x
        if nu == 2:
            return (D[1] - D[0]) / (x * x)
        return (D[2] - 3 * D[1] + 2 * D[0]) / x ** 3
    w = 1.0 + x * x                   # u = asinh x: u' = w^-1/2, u'' = -x w^-3/2, ...
    u1 = w ** -0.5
    u2 = -x * w ** -1.5
    if nu == 1:
        return D[0] * u1
    if nu == 2:
        return D[1] * u1 * u1 + D[0] * u2
    u3 = (2 * x * x - 1) * w ** -2.5
    return D[2] * u1 ** 3 + 3 * D[1] * u1 * u2 + D[0] * u3


