"""``AutoKnots2D``: the bicubic table that :func:`numfit.autoknots2d` returns."""
import numpy as np

from .._backend import array_namespace, device_key, is_cupy
from .._result import Result
from .._validation import check_float, check_int, check_points
from . import _gpu, _kernels
from ._maps import MAPS as _MAPS
from ._maps import to_knot_variable
from ._spline import AutoKnotsSpline
from ._tablebase import TableBase, info_property
from ._tensor import evaluate_tensor, fit_tensor

__all__ = ["AutoKnots2D"]

_FORMAT = "numfit.AutoKnots2D"
_VERSION = 1
_OPTION_KEYS = ("rtol", "atol", "x_knots", "y_knots", "log_f", "vectorized")
_COUNT_KEYS = ("n_evals", "n_calls", "n_rounds", "passes", "reopened")
_GL_X, _GL_W = np.polynomial.legendre.leggauss(8)


def _readonly(a):
    a = np.ascontiguousarray(a, dtype=np.float64)
    a.flags.writeable = False
    return a


def _jacobian_terms(mapname, x, k):
    """[(coefficient array, order in u)] with d^k/dx^k = sum coef * d^order/du^order."""
    if k == 0:
        return [(1.0, 0)]
    if mapname == "linear":
        return [(1.0, k)]
    if mapname == "log":
        u1, u2 = 1 / x, -1 / (x * x)
    else:
        w = 1 + x * x
        u1, u2 = w ** -0.5, -x * w ** -1.5
    if k == 1:
        return [(u1, 1)]
    return [(u1 * u1, 2), (u2, 1)]


class AutoKnots2D(TableBase):
    """Tensor-product bicubic table of ``f(x, y)`` on a rectangle, to a stated tolerance.

    Made by :func:`numfit.autoknots2d`; rebuilt by :meth:`from_dict` or pickle. The spline is
    the not-a-knot bicubic in the knot variables ``(u, v) = (U(x), V(y))`` through the grid
    values (``ln f`` with ``log_f=True``, then ``s = exp(S)``).

    Parameters
    ----------
    x_knots, y_knots : arrays
        Grid lines in ``x`` and ``y``.
    u, v : arrays
        The same in the knot variables.
    values : (nx, ny) or (nx, ny, m) array
        f on the grid.
    info : dict
        Options, counts and status.

    Examples
    --------
    >>> import numpy as np
    >>> import numfit as nf
    >>> t = nf.autoknots2d(lambda x, y: np.sin(x) * np.exp(-y) + 2, (0, 3), (0, 2),
    ...                    rtol=1e-7)
    >>> t(np.array([0.5, 1.0]), np.array([0.1, 0.2])).shape
    (2,)
    >>> t(np.linspace(0, 3, 4), np.linspace(0, 2, 5), grid=True).shape
    (4, 5)
    """

    _FORMAT, _VERSION, _OPTION_KEYS, _COUNT_KEYS = _FORMAT, _VERSION, _OPTION_KEYS, _COUNT_KEYS

    def __init__(self, x_knots, y_knots, u, v, values, info):
        self._x = _readonly(x_knots)
        self._y = _readonly(y_knots)
        self._u = _readonly(u)
        self._v = _readonly(v)
        values = np.asarray(values, dtype=np.float64)
        self._vector = values.ndim == 3
        self._values = _readonly(values)
        self._info = Result(info)
        vals = values if self._vector else values[:, :, None]
        S = np.log(vals) if self._info["log_f"] else vals
        self._C = fit_tensor(self._u, self._v, S, _kernels.kernels)
        self._C.flags.writeable = False
        self._tables = None
        self._dev = {}

    # ----------------------------------------------------------------- attributes
    x_knots = property(lambda self: self._x, doc="Grid lines in x (read-only).")
    y_knots = property(lambda self: self._y, doc="Grid lines in y (read-only).")
    u = property(lambda self: self._u, doc="Grid lines in the x knot variable.")
    v = property(lambda self: self._v, doc="Grid lines in the y knot variable.")
    values = property(lambda self: self._values, doc="f on the grid, (nx, ny[, m]).")
    coefficients = property(lambda self: self._C, doc="Bicubic coefficients "
                            "(nx-1, ny-1, 4, 4, m) of each cell in (u - u_i, v - v_j).")
    _get = staticmethod(info_property)
    rtol = _get("rtol", "Relative tolerance the table was built to.")
    atol = _get("atol", "Absolute tolerance the table was built to.")
    log_f = _get("log_f", "Whether ln f is tabulated.")
    n_evals = _get("n_evals", "Evaluations of f (the grid size).")
    n_calls = _get("n_calls", "Calls of f.")
    n_rounds = _get("n_rounds", "Rounds of both axes.")
    passes = _get("passes", "Axis passes made.")
    reopened = _get("reopened", "Intervals reopened by the cross-axis checks.")
    converged = _get("success", "True if every test passed (status 0).")
    success = _get("success", "Alias of converged.")
    status = _get("status", "0 converged, 1 max_evals reached, 2 pass cap, 3 partial table "
                            "of a DiscontinuityError, 5 stopped by the callback.")
    message = _get("message", "Text for status.")
    vectorized = _get("vectorized", "Whether f was called on arrays.")
    del _get
    extrapolate = False

    @property
    def interval(self):
        """The rectangle ``((xa, xb), (ya, yb))``."""
        return ((float(self._x[0]), float(self._x[-1])), (float(self._y[0]), float(self._y[-1])))

    @property
    def shape(self):
        """Grid size ``(nx, ny)``."""
        return (self._x.size, self._y.size)

    @property
    def ndim_out(self):
        """Components of f: 0 for scalar f, m for vector f."""
        return self._C.shape[4] if self._vector else 0

    def __repr__(self):
        (xa, xb), (ya, yb) = self.interval
        return (f"<AutoKnots2D on [{xa:g}, {xb:g}] x [{ya:g}, {yb:g}]: {self._x.size} x "
                f"{self._y.size} grid, rtol={self.rtol:g}, atol={self.atol:g}, "
                f"status={self.status} ({'converged' if self.converged else 'not converged'})>")

    # ----------------------------------------------------------------- evaluation
    def _lookup(self):
        if self._tables is None:
            self._tables = (_kernels.lookup_table(self._u), _kernels.lookup_table(self._v))
        return self._tables

    def _raw(self, uq, vq, du, dv, extrapolate):
        tu, tv = self._lookup()
        return evaluate_tensor(self._u, self._v, self._C, tu, tv, uq, vq, du, dv,
                               extrapolate, _kernels.kernels)

    def _ends(self, axis):
        """(ends in the variable, ends in the knot variable) of axis 0 (x) or 1 (y)."""
        return (self._x, self._u) if axis == 0 else (self._y, self._v)

    def _to_uv(self, xp, q, axis, extrapolate):
        ends, t = self._ends(axis)
        uq = to_knot_variable(xp, q, self._info["y_knots" if axis else "x_knots"], ends, t,
                              extrapolate)
        return xp.ascontiguousarray(uq)

    def __call__(self, x, y, dx=0, dy=0, grid=False, extrapolate=False):
        """Evaluate the table or a partial derivative.

        Parameters
        ----------
        x, y : array_like or cupy.ndarray
            Points; broadcast together (``grid=False``), or the axes of an outer grid
            (``grid=True``: 1-D x and y, result ``(len(x), len(y))``). CuPy arrays are
            evaluated on their GPU (``dx = dy = 0``).
        dx, dy : int, optional
            Orders of the partial derivatives, 0..2 each (with ``log_f``, ``dx + dy <= 1``).
        grid : bool, optional
            Evaluate on the outer product of x and y.
        extrapolate : bool, optional
            Outside the rectangle: NaN if False, else the edge cells continue.

        Returns
        -------
        ndarray or cupy.ndarray
            Shape of the broadcast points (plus ``(m,)`` for vector f); a 0-d array for
            scalar ``x`` and ``y``.

        Raises
        ------
        TypeError
            If ``x`` or ``y`` is not real numbers (``None``, strings, complex values).
        """
        dx = check_int("dx", dx, lo=0, hi=2)
        dy = check_int("dy", dy, lo=0, hi=2)
        if self.log_f and dx + dy > 1:
            raise ValueError("with log_f=True the table gives dx + dy <= 1; "
                             f"got dx={dx}, dy={dy}")
        if is_cupy(x) or is_cupy(y):                         # pragma: no cover - needs CuPy
            return self._call_xp(array_namespace(x if is_cupy(x) else y), x, y, dx, dy,
                                 grid, bool(extrapolate))
        xa, ya = check_points("x", x), check_points("y", y)
        if grid:
            if xa.ndim > 1 or ya.ndim > 1:
                raise ValueError("grid=True needs 1-D `x` and `y`")
            X, Y = np.meshgrid(np.atleast_1d(xa), np.atleast_1d(ya), indexing="ij")
        else:
            try:
                X, Y = np.broadcast_arrays(xa, ya)
            except ValueError as exc:
                raise ValueError(f"`x` and `y` do not broadcast: {exc}") from None
        shape = X.shape
        qx = np.ascontiguousarray(X.ravel())
        qy = np.ascontiguousarray(Y.ravel())
        ext = bool(extrapolate)
        uq, vq = self._to_uv(np, qx, 0, ext), self._to_uv(np, qy, 1, ext)
        if dx == 0 and dy == 0:
            out = self._raw(uq, vq, 0, 0, ext)
            if self.log_f:
                out = np.exp(out)
        elif self.log_f:                        # d exp(S) = exp(S) dS
            f0 = np.exp(self._raw(uq, vq, 0, 0, ext))
            out = f0 * self._derivative(uq, vq, qx, qy, dx, dy, ext)
        else:
            out = self._derivative(uq, vq, qx, qy, dx, dy, ext)
        return out.reshape(shape + ((self._m(),) if self._vector else ()))

    def _m(self):
        """Components of f (1 for scalar f)."""
        return self._C.shape[4]

    def _derivative(self, uq, vq, qx, qy, dx, dy, ext):
        out = 0.0
        for cx, ox in _jacobian_terms(self._info["x_knots"], qx, dx):
            for cy, oy in _jacobian_terms(self._info["y_knots"], qy, dy):
                c = np.asarray(cx * cy)
                out = out + (c[:, None] if c.ndim else c) * self._raw(uq, vq, ox, oy, ext)
        return out

    def _call_xp(self, xp, x, y, dx, dy, grid, extrapolate):     # pragma: no cover - CuPy
        if dx or dy:
            raise NotImplementedError("derivatives of a 2-D table are evaluated on the CPU")
        xa, ya = xp.asarray(x, dtype=xp.float64), xp.asarray(y, dtype=xp.float64)
        if grid:
            X, Y = xp.meshgrid(xa, ya, indexing="ij")
        else:
            X, Y = xp.broadcast_arrays(xa, ya)
        qx, qy = xp.ascontiguousarray(X.ravel()), xp.ascontiguousarray(Y.ravel())
        uq, vq = self._to_uv(xp, qx, 0, extrapolate), self._to_uv(xp, qy, 1, extrapolate)
        key = device_key(xp)
        dev = self._dev.get(key)
        if dev is None:
            dev = self._device_arrays(xp)
            self._dev[key] = dev
        out = self._eval_xp(xp, dev, uq, vq, extrapolate)
        if self.log_f:
            out = xp.exp(out)
        return out.reshape(X.shape + ((self._m(),) if self._vector else ()))

    def _device_arrays(self, xp):                 # pragma: no cover - CuPy
        """The table's arrays in namespace ``xp`` (cached per device by :meth:`_call_xp`)."""
        return (xp.asarray(self._u), xp.asarray(self._v), xp.asarray(self._C))

    def _eval_xp(self, xp, dev, uq, vq, extrapolate):       # pragma: no cover - CuPy
        return _gpu.evaluate2d_xp(xp, *dev, uq, vq, 0, 0, extrapolate)

    # ----------------------------------------------------------------- calculus
    def integrate(self, xa, xb, ya, yb):
        """Integral over ``[xa, xb] x [ya, yb]`` (inside the table's rectangle): 8 x 8
        Gauss-Legendre nodes on every cell (exact for the bicubic with linear knot maps and
        ``log_f=False``; far below rtol otherwise)."""
        bounds = []
        eu, ev = self._edges()
        for name, lo, hi, knots, t, mapname in (
                ("x", xa, xb, self._x, eu, self._info["x_knots"]),
                ("y", ya, yb, self._y, ev, self._info["y_knots"])):
            lo = check_float(f"{name}a", lo)
            hi = check_float(f"{name}b", hi)
            for v in (lo, hi):
                if v < knots[0] or v > knots[-1]:
                    raise ValueError(f"integration bound {v!r} lies outside the table's "
                                     f"{name} range [{float(knots[0])!r}, {float(knots[-1])!r}]")
            sign = 1.0
            if lo > hi:
                lo, hi, sign = hi, lo, -1.0
            U = _MAPS[mapname][0]
            ul, uh = float(U(lo)) if lo != knots[0] else float(t[0]), \
                float(U(hi)) if hi != knots[-1] else float(t[-1])
            edges = np.concatenate([[ul], t[(t > ul) & (t < uh)], [uh]])
            mid, half = 0.5 * (edges[1:] + edges[:-1]), 0.5 * np.diff(edges)
            nodes = (mid[:, None] + half[:, None] * _GL_X).ravel()
            w = (half[:, None] * _GL_W).ravel()
            inv = _MAPS[mapname][1]
            jac = {"linear": np.ones_like(nodes), "log": np.exp(nodes),
                   "asinh": np.cosh(nodes)}[mapname]
            bounds.append((nodes, w * jac * sign, inv))
        (nu, wu, _), (nv, wv, _) = bounds
        U, V = np.meshgrid(nu, nv, indexing="ij")
        vals = self._raw(np.ascontiguousarray(U.ravel()), np.ascontiguousarray(V.ravel()),
                         0, 0, True)
        if self.log_f:
            vals = np.exp(vals)
        vals = vals.reshape(nu.size, nv.size, -1)
        out = np.einsum("ijm,i,j->m", vals, wu, wv)
        return out if self._vector else out[0]

    def _edges(self):
        """Cell edges in the knot variables (the Gauss-Legendre cells of :meth:`integrate`)."""
        return self._u, self._v

    def partial(self, x=None, y=None):
        """The 1-D table at fixed ``x`` (a function of y) or fixed ``y`` (a function of x).

        With a linear knot map on the remaining axis and ``log_f=False`` this is an
        :class:`AutoKnotsSpline` on that axis' grid lines (exactly the bicubic's restriction);
        otherwise a picklable callable ``z -> s(...)`` with the same ``nu`` argument.
        """
        if (x is None) == (y is None):
            raise TypeError("partial() takes exactly one of `x` and `y`")
        axis = 1 if x is not None else 0               # the axis that remains
        fixed = check_float("x" if x is not None else "y", x if x is not None else y)
        (xa, xb), (ya, yb) = self.interval
        lo, hi = (xa, xb) if x is not None else (ya, yb)
        if not lo <= fixed <= hi:
            raise ValueError(f"`{'x' if x is not None else 'y'}` = {fixed!r} lies outside "
                             f"[{lo!r}, {hi!r}]")
        mapname = self._info["y_knots" if axis == 1 else "x_knots"]
        if mapname != "linear" or self.log_f:
            return _Slice(self, axis, fixed)
        knots = self._y if axis == 1 else self._x
        t_rem = self._v if axis == 1 else self._u           # = knots (linear map)
        t_fix = self._u if axis == 1 else self._v
        q = float(_MAPS[self._info["x_knots" if axis == 1 else "y_knots"]][0](fixed))
        k = int(np.clip(np.searchsorted(t_fix, q, side="right") - 1, 0, t_fix.size - 2))
        powers = (q - t_fix[k]) ** np.arange(3, -1, -1)
        if axis == 1:            # fixed x: sum the u powers (index a) of column k
            c = np.einsum("jabm,a->bjm", self._C[k], powers)
            vals = self(np.full(knots.size, fixed), knots)
        else:                    # fixed y: sum the v powers (index b) of row k
            c = np.einsum("iabm,b->aim", self._C[:, k], powers)
            vals = self(knots, np.full(knots.size, fixed))
        if not self._vector:
            c = c[:, :, 0]
        n = knots.size
        info = dict(rtol=self.rtol, atol=self.atol, knots_map="linear", space="linear",
                    refine="closure", extrapolate=False, vectorized=self.vectorized,
                    verify=True, n_evals=n, n_calls=0, n_rounds=0, closure_rounds=0,
                    closure_flagged=0, closure_failed=0, refine_passes=0, refine_reopened=0,
                    verify_rounds=0, verify_evals=0, verify_failed=0, round_sizes=[n],
                    status=self.status, success=self.converged,
                    message=f"restriction of a 2-D table at {'x' if axis else 'y'}={fixed!r}",
                    derived="partial")
        return AutoKnotsSpline(knots, vals, t_rem, c, info)

    # ----------------------------------------------------------------- persistence
    def to_dict(self):
        """JSON-safe description; :meth:`from_dict` rebuilds an equal table."""
        d = self._envelope()
        d.update(x_knots=self._x.tolist(), y_knots=self._y.tolist(), u=self._u.tolist(),
                 v=self._v.tolist(), values=self._values.tolist())
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
        info = cls._info_from(d)
        x, y, u, v, vals = cls._arrays_from(d, "x_knots", "y_knots", "u", "v", "values")
        for name, a, b in (("x_knots", x, u), ("y_knots", y, v)):
            if a.ndim != 1 or a.size < 4 or not np.all(np.diff(a) > 0) or \
                    not np.all(np.isfinite(a)) or b.shape != a.shape or \
                    not np.all(np.diff(b) > 0):
                raise ValueError(f"'{name}' must be strictly increasing and finite with >= 4 "
                                 "entries, with its knot-variable twin of the same shape")
        check_grid_values(vals, x.size, y.size, info["log_f"])
        return cls(x, y, u, v, vals, info)


def check_grid_values(vals, nx, ny, log_f):
    """ValueError unless ``vals`` (from a dictionary) is a finite (nx, ny[, m]) grid, > 0
    with ``log_f``."""
    if vals.shape[:2] != (nx, ny) or vals.ndim not in (2, 3) or not np.all(np.isfinite(vals)):
        raise ValueError(f"'values' must be finite with shape ({nx}, {ny}[, m]); "
                         f"got {vals.shape}")
    if log_f and np.any(vals <= 0):
        raise ValueError("'values' must be > 0 with log_f")


class _Slice:
    """Picklable restriction of a 2-D table to fixed x (axis 1 remains) or fixed y."""

    def __init__(self, table, axis, fixed):
        self.table, self.axis, self.fixed = table, axis, fixed

    def __call__(self, z, nu=0):
        z = np.asarray(z, dtype=np.float64)
        other = np.full(z.shape, self.fixed)
        if self.axis == 1:
            return self.table(other, z, dy=nu)
        return self.table(z, other, dx=nu)

    def __repr__(self):
        name = "x" if self.axis == 1 else "y"
        return f"<slice of {self.table!r} at {name}={self.fixed!r}>"
