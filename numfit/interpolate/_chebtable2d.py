"""``AutoKnots2DChebyshev``: the tensor piecewise-Chebyshev table of
``autoknots2d(kind="chebyshev")``."""
import numpy as np

from .._result import Result
from .._validation import check_float
from . import _kernels
from ._chebtable import _EVAL_DEGREE, _split_piece, cheb_to_power, lobatto, values_to_coefs
from ._maps import MAPS as _MAPS
from ._table2d import AutoKnots2D, _readonly, check_grid_values

__all__ = ["AutoKnots2DChebyshev", "evaluate_cells_xp"]

_FORMAT = "numfit.AutoKnots2DChebyshev"
_VERSION = 1
_OPTION_KEYS = ("kind", "rtol", "atol", "x_knots", "y_knots", "log_f", "vectorized",
                "degree_max")
_COUNT_KEYS = ("n_evals", "n_calls", "n_rounds", "passes", "n_discarded", "n_recheck_failed",
               "n_extrapolated", "n_margin", "n_spot", "n_spot_evals", "n_trimmed")
_CHUNK = 1 << 15            # points per block of the array-namespace evaluation
EVAL_FRACTION = 1e-3        # the evaluation form deviates from the interpolant by at most
#                             this fraction of the smallest pointwise tolerance


def _offsets(deg):
    off = np.zeros(deg.size + 1, dtype=np.intp)
    np.cumsum(deg, out=off[1:])
    return off


def _cheb_tensor(S, degx, degy):
    """Chebyshev coefficients of every cell: (sum(degx+1), sum(degy+1), m), the block of
    piece (i, j) at rows ``cx[i]:cx[i]+degx[i]+1``, columns likewise (``cx`` = cumsum of
    degx + 1)."""
    nox, noy = _offsets(degx), _offsets(degy)          # node offsets (shared ends)
    rows = [values_to_coefs(S[nox[i]:nox[i] + d + 1], int(d)) for i, d in enumerate(degx)]
    R = np.concatenate(rows, axis=0)                   # (sum(dx+1), ny_nodes, m)
    cols = [values_to_coefs(R[:, noy[j]:noy[j] + d + 1].transpose(1, 0, 2), int(d))
            for j, d in enumerate(degy)]
    return np.ascontiguousarray(np.concatenate(cols, axis=0).transpose(1, 0, 2))


def _derive(C, deg, t, order, axis):
    """The ``order``-th derivative along ``axis`` of every piece (same layout, degrees
    unchanged: the top coefficients become 0)."""
    if order == 0:
        return C
    C = np.moveaxis(C, axis, 0)
    out = np.zeros_like(C)
    off = _offsets(deg + 1)
    for i, d in enumerate(deg):
        c = C[off[i]:off[i] + d + 1]
        if d >= order:
            dc = np.polynomial.chebyshev.chebder(c, m=order, axis=0)
            out[off[i]:off[i] + d + 1 - order] = dc * (2.0 / (t[i + 1] - t[i])) ** order
    return np.ascontiguousarray(np.moveaxis(out, 0, axis))


def _split_axis(C, deg, t, axis, delta):
    """Split the pieces along ``axis`` into parts of degree <= _EVAL_DEGREE, as the 1-D
    chebyshev table does, with every coefficient of the other axis as a component; the
    dropped coefficients sum to at most ``delta[k]`` (per component k of f) over all of
    them. (part ends in the knot variable, padded Chebyshev blocks (parts, D+1, rest...))."""
    C = np.moveaxis(C, axis, 0)
    rest = C.shape[1:]
    off = _offsets(deg + 1)
    ends, blocks = [t[:1]], []
    D = _EVAL_DEGREE
    m = C.shape[-1]
    eps = np.finfo(float).eps
    for i, d in enumerate(deg):
        c = C[off[i]:off[i] + d + 1].reshape(d + 1, -1)
        # the dropped coefficients of all columns of a component add up: their sum must
        # stay below delta, and never below the coefficients' rounding noise
        noise = 256 * eps * np.abs(c).reshape(d + 1, -1, m).sum(axis=(0, 1))
        thr = np.maximum(delta, noise)
        parts = _split_piece(c, int(d), D, thresh=thr, groups=m) if d > D else \
            [(-1.0, 1.0, c)]
        if parts is None:             # not representable at degree <= D within the depth
            raise _TooLong
        e = t[i] + (t[i + 1] - t[i]) * (np.array([hi for _, hi, _ in parts]) + 1) / 2
        e[-1] = t[i + 1]
        ends.append(e)
        for _, _, sc in parts:
            b = np.zeros((D + 1,) + sc.shape[1:])
            b[:sc.shape[0]] = sc
            blocks.append(b.reshape((D + 1,) + rest))
    return np.concatenate(ends), np.stack(blocks)


class _TooLong(Exception):
    """A piece that does not split to low degree within the depth limit."""


_P = cheb_to_power(_EVAL_DEGREE)[:, ::-1]     # Chebyshev k -> monomials, highest first


def _cell_form(C, degx, degy, tu, tv, delta):
    """Evaluation form: (tu', tv', midu, scu, midv, scv, M) with M (nu', nv', D+1, D+1, m)
    monomial coefficients of every cell of the split tensor, highest powers first; it
    deviates from the interpolant by at most about ``delta`` (per component)."""
    eu, Bx = _split_axis(C, degx, tu, 0, 0.5 * delta)    # Bx: (pu, D+1, sum(dy+1), m)
    partsx = Bx.shape[0]
    Bx = np.moveaxis(Bx, 2, 0)                           # (sum(dy+1), pu, D+1, m)
    ev, By = _split_axis(Bx, degy, tv, 0, 0.5 * delta)   # By: (pv, D+1, pu, D+1, m)
    M = np.einsum("ka,lb,jlikm->ijabm", _P, _P, By, optimize=True)
    assert M.shape[0] == partsx
    midu, scu = 0.5 * (eu[1:] + eu[:-1]), 2.0 / np.diff(eu)
    midv, scv = 0.5 * (ev[1:] + ev[:-1]), 2.0 / np.diff(ev)
    return tuple(np.ascontiguousarray(a) for a in (eu, ev, midu, scu, midv, scv, M))


def evaluate_cells_xp(xp, tu, tv, midu, scu, midv, scv, M, qu, qv, extrapolate):
    """The kernel ``evaluate_mono2`` with array-namespace operations (NumPy or CuPy):
    cell lookup by ``searchsorted``, then Horner on the gathered cells, in blocks."""
    Q = qu.shape[0]
    m = M.shape[4]
    out = xp.empty((Q, m))
    nu, nv = tu.shape[0] - 1, tv.shape[0] - 1
    for p0 in range(0, Q, _CHUNK):
        u = qu[p0:p0 + _CHUNK]
        v = qv[p0:p0 + _CHUNK]
        i = xp.clip(xp.searchsorted(tu, u, side="right") - 1, 0, nu - 1)
        j = xp.clip(xp.searchsorted(tv, v, side="right") - 1, 0, nv - 1)
        s = ((u - midu[i]) * scu[i])[:, None]
        r = ((v - midv[j]) * scv[j])[:, None]
        cells = M[i, j]                                  # (k, D+1, D+1, m)
        acc = xp.zeros((u.shape[0], m))
        for a in range(M.shape[2]):
            w = cells[:, a, 0]
            for b in range(1, M.shape[3]):
                w = w * r + cells[:, a, b]
            acc = acc * s + w
        bad = xp.isnan(u) | xp.isnan(v)
        if not extrapolate:
            bad |= (u < tu[0]) | (u > tu[-1]) | (v < tv[0]) | (v > tv[-1])
        acc[bad] = xp.nan
        out[p0:p0 + _CHUNK] = acc
    return out


class AutoKnots2DChebyshev(AutoKnots2D):
    """Tensor piecewise-Chebyshev table of ``f(x, y)`` on a rectangle, to a stated tolerance.

    Made by ``numfit.autoknots2d(..., kind="chebyshev")``; rebuilt by :meth:`from_dict` or
    pickle. Each axis is cut into pieces in its knot variable; on the cell of piece ``i`` of
    x and piece ``j`` of y the table is the tensor-product Chebyshev interpolant of degree
    ``(x_degrees[i], y_degrees[j])`` through the grid values at the Chebyshev-Lobatto nodes of
    the cell (``ln f`` with ``log_f=True``, then ``s = exp(S)``). Evaluation, derivatives,
    integrals, slices and persistence work as for :class:`~numfit.AutoKnots2D`.

    Parameters
    ----------
    x_breakpoints, u_breakpoints, y_breakpoints, v_breakpoints : arrays
        Piece ends in x and y and in their knot variables.
    x_degrees, y_degrees : int arrays
        Degree of each piece.
    x_nodes, y_nodes : arrays
        The grid lines: the Lobatto nodes of the pieces (shared ends once).
    values : (nx, ny) or (nx, ny, m) array
        f on the grid.
    info : dict
        Options, counts and status.

    Examples
    --------
    >>> import numpy as np
    >>> import numfit as nf
    >>> t = nf.autoknots2d(lambda x, y: np.sin(x) * np.exp(-y) + 2, (0, 3), (0, 2),
    ...                    rtol=1e-10, kind="chebyshev")
    >>> t.converged, bool(t.x_degrees.max() <= 64)
    (True, True)
    >>> bool(abs(t(1.0, 0.5) - (np.sin(1.0) * np.exp(-0.5) + 2)) < 3e-10)
    True
    """

    _FORMAT, _VERSION, _OPTION_KEYS, _COUNT_KEYS = _FORMAT, _VERSION, _OPTION_KEYS, _COUNT_KEYS

    def __init__(self, x_breakpoints, u_breakpoints, y_breakpoints, v_breakpoints, x_degrees,
                 y_degrees, x_nodes, y_nodes, values, info):
        self._xb, self._ub = _readonly(x_breakpoints), _readonly(u_breakpoints)
        self._yb, self._vb = _readonly(y_breakpoints), _readonly(v_breakpoints)
        self._dx = np.array(x_degrees, dtype=np.intp)
        self._dy = np.array(y_degrees, dtype=np.intp)
        self._dx.flags.writeable = self._dy.flags.writeable = False
        self._x, self._y = _readonly(x_nodes), _readonly(y_nodes)
        self._u = _readonly(_grid_u(self._ub, self._dx))
        self._v = _readonly(_grid_u(self._vb, self._dy))
        values = np.asarray(values, dtype=np.float64)
        self._vector = values.ndim == 3
        self._values = _readonly(values)
        self._info = Result(info)
        vals = values if self._vector else values[:, :, None]
        S = np.log(vals) if self._info["log_f"] else vals
        self._C = _cheb_tensor(S, self._dx, self._dy)
        self._C.flags.writeable = False
        self._forms = {}
        self._dev = {}

    # ----------------------------------------------------------------- attributes
    x_breakpoints = property(lambda self: self._xb, doc="Piece ends in x (read-only).")
    y_breakpoints = property(lambda self: self._yb, doc="Piece ends in y (read-only).")
    x_degrees = property(lambda self: self._dx, doc="Degree of each x piece.")
    y_degrees = property(lambda self: self._dy, doc="Degree of each y piece.")
    x_knots = property(lambda self: self._x, doc="Grid lines in x: the Lobatto nodes of the "
                                                 "x pieces (read-only).")
    y_knots = property(lambda self: self._y, doc="Grid lines in y (read-only).")
    coefficients = property(lambda self: self._C, doc="Chebyshev coefficients of every cell, "
                            "(sum(x_degrees + 1), sum(y_degrees + 1), m): the block of cell "
                            "(i, j) starts at row sum(x_degrees[:i] + 1) and column "
                            "sum(y_degrees[:j] + 1).")
    kind = "chebyshev"
    n_discarded = property(lambda self: self._info["n_discarded"],
                           doc="Grid lines of bisected pieces (either axis) that are not "
                               "in the final grid; their values were checked against the "
                               "final pieces of their axis.")
    degree_max = property(lambda self: self._info["degree_max"],
                          doc="Largest degree a piece may take.")
    n_spot = property(lambda self: self._info["n_spot"],
                      doc="Spot tests: pieces passing within 10x of the tolerance whose next "
                          "degree was sampled on 6 lines of the other axis only (the 2 of "
                          "largest measured error and 4 spread over the axis).")
    n_spot_evals = property(lambda self: self._info["n_spot_evals"],
                            doc="Evaluations of the spot tests (not grid values; checked "
                                "against the final table).")
    n_trimmed = property(lambda self: self._info["n_trimmed"],
                         doc="Values of the lines dropped when initial pieces along which f "
                             "is nearly quadratic were trimmed to degree 2 (checked against "
                             "the final table).")
    reopened = property(lambda self: 0, doc="0: the chebyshev kind re-tests every piece at "
                                            "each pass instead of reopening intervals.")

    @property
    def interval(self):
        return ((float(self._xb[0]), float(self._xb[-1])),
                (float(self._yb[0]), float(self._yb[-1])))

    @property
    def ndim_out(self):
        return self._C.shape[2] if self._vector else 0

    def _m(self):
        return self._C.shape[2]

    def __repr__(self):
        (xa, xb), (ya, yb) = self.interval
        return (f"<AutoKnots2DChebyshev on [{xa:g}, {xb:g}] x [{ya:g}, {yb:g}]: "
                f"{self._dx.size} x {self._dy.size} pieces, {self._x.size} x {self._y.size} "
                f"grid, degrees <= {int(max(self._dx.max(), self._dy.max()))}, "
                f"rtol={self.rtol:g}, atol={self.atol:g}, status={self.status} "
                f"({'converged' if self.converged else 'not converged'})>")

    # ----------------------------------------------------------------- evaluation
    def _form(self, du, dv):
        f = self._forms.get((du, dv))
        if f is None:
            C = _derive(_derive(self._C, self._dx, self._ub, du, 0), self._dy, self._vb, dv, 1)
            try:
                f = _cell_form(C, self._dx, self._dy, self._ub, self._vb,
                               self._delta() * self._dscale(du, dv))
            except _TooLong:
                f = (self._ub, self._vb, C)        # evaluated by Clenshaw (slow, exact)
            else:
                f = f + (_kernels.lookup_table(f[0]), _kernels.lookup_table(f[1]))
            self._forms[(du, dv)] = f
        return f

    def _delta(self):
        """Allowed deviation of the evaluation form from the interpolant, per component:
        EVAL_FRACTION of the smallest pointwise tolerance on the grid."""
        vals = self._values if self._vector else self._values[:, :, None]
        vals = vals.reshape(-1, vals.shape[-1])
        if self.log_f:                                   # tolerance on ln f
            tol = self.rtol + self.atol / vals.max(axis=0)
        else:
            tol = self.rtol * np.abs(vals).min(axis=0) + self.atol
        return EVAL_FRACTION * tol

    def _dscale(self, du, dv):
        """Scale of the (du, dv) derivative relative to the values: (2/h)^order of the
        narrowest piece, so that derivatives keep the same relative accuracy."""
        s = 1.0
        if du:
            s *= (2.0 / np.min(np.diff(self._ub))) ** du
        if dv:
            s *= (2.0 / np.min(np.diff(self._vb))) ** dv
        return s

    def _raw(self, uq, vq, du, dv, extrapolate):
        f = self._form(du, dv)
        if len(f) == 3:
            return _clenshaw2(f[2], self._dx, self._dy, f[0], f[1], uq, vq, extrapolate)
        tu, tv, midu, scu, midv, scv, M, tab_u, tab_v = f
        out = np.empty((uq.size, M.shape[4]))
        st = _kernels.kernels.evaluate_mono2(tu, tv, tab_u, tab_v, midu, scu, midv, scv, M,
                                             uq, vq, bool(extrapolate), out)
        assert st == 0, "evaluate_mono2: inconsistent sizes"
        return out

    def _edges(self):
        f = self._form(0, 0)
        if len(f) == 3:                  # Clenshaw form: Gauss-Legendre per sub-cell
            return _refine(self._ub, self._dx), _refine(self._vb, self._dy)
        return f[0], f[1]

    def _ends(self, axis):
        return (self._xb, self._ub) if axis == 0 else (self._yb, self._vb)

    def _device_arrays(self, xp):
        form = self._form(0, 0)
        if len(form) == 3:
            raise NotImplementedError("this table's pieces do not split to low degree; it is "
                                      "evaluated on the CPU")
        return tuple(xp.asarray(a) for a in form[:7])

    def _eval_xp(self, xp, dev, uq, vq, extrapolate):
        return evaluate_cells_xp(xp, *dev, uq, vq, extrapolate)

    # ----------------------------------------------------------------- slices
    def partial(self, x=None, y=None):
        """The 1-D table at fixed ``x`` (a function of y) or fixed ``y`` (a function of x).

        An :class:`~numfit.AutoKnotsChebyshev` on the remaining axis' pieces (exactly the
        tensor interpolant's restriction) when that axis' knot map and ``log_f`` have a 1-D
        counterpart (linear map without ``log_f``; "log" with ``log_f`` as ``space="loglog"``;
        "log" or "asinh" without ``log_f``); otherwise a picklable callable ``z -> s(...)``
        with the same ``nu`` argument.
        """
        from ._chebtable import AutoKnotsChebyshev
        from ._table2d import _Slice
        if (x is None) == (y is None):
            raise TypeError("partial() takes exactly one of `x` and `y`")
        axis = 1 if x is not None else 0               # the axis that remains
        name = "x" if x is not None else "y"
        fixed = check_float(name, x if x is not None else y)
        (xa, xb), (ya, yb) = self.interval
        lo, hi = (xa, xb) if x is not None else (ya, yb)
        if not lo <= fixed <= hi:
            raise ValueError(f"`{name}` = {fixed!r} lies outside [{lo!r}, {hi!r}]")
        mapname = self._info["y_knots" if axis == 1 else "x_knots"]
        if self.log_f and mapname != "log":
            return _Slice(self, axis, fixed)
        # contract the fixed axis: its piece's Chebyshev series at the fixed point
        tfix, dfix = (self._ub, self._dx) if axis == 1 else (self._vb, self._dy)
        q = float(_MAPS[self._info["x_knots" if axis == 1 else "y_knots"]][0](fixed))
        k = int(np.clip(np.searchsorted(tfix, q, side="right") - 1, 0, dfix.size - 1))
        s = np.clip((2 * q - tfix[k] - tfix[k + 1]) / (tfix[k + 1] - tfix[k]), -1.0, 1.0)
        off = _offsets(dfix + 1)
        T = np.polynomial.chebyshev.chebvander(np.array([s]), int(dfix[k]))[0]
        C = self._C.transpose(1, 0, 2) if axis == 0 else self._C    # fixed axis first
        coef = np.tensordot(T, C[off[k]:off[k] + dfix[k] + 1], axes=(0, 0))   # (sum, m)
        if axis == 1:
            brk, ub, degs = self._yb, self._vb, self._dy
        else:
            brk, ub, degs = self._xb, self._ub, self._dx
        nodes = self._y if axis == 1 else self._x
        vals = self(np.full(nodes.size, fixed), nodes) if axis == 1 else \
            self(nodes, np.full(nodes.size, fixed))
        n = int(nodes.size)
        info = dict(kind="chebyshev", rtol=self.rtol, atol=self.atol,
                    knots_map=mapname, space="loglog" if self.log_f else "linear",
                    extrapolate=False, vectorized=self.vectorized,
                    degree_max=int(self.degree_max), n_evals=n, n_calls=0, n_rounds=0,
                    n_discarded=0, n_recheck_failed=0, n_extrapolated=0, n_margin=0, n_free=0,
                    n_spot=0, n_spot_evals=0, round_sizes=[n], status=self.status,
                    success=self.converged,
                    message=f"restriction of a 2-D table at {name}={fixed!r}",
                    derived="partial")
        return AutoKnotsChebyshev(brk, ub, degs, coef if self._vector else coef[:, 0],
                                  nodes, vals, info)

    # ----------------------------------------------------------------- persistence
    def to_dict(self):
        """JSON-safe description; :meth:`from_dict` rebuilds an equal table."""
        d = self._envelope()
        d.update(x_breakpoints=self._xb.tolist(), u_breakpoints=self._ub.tolist(),
                 y_breakpoints=self._yb.tolist(), v_breakpoints=self._vb.tolist(),
                 x_degrees=[int(k) for k in self._dx], y_degrees=[int(k) for k in self._dy],
                 x_nodes=self._x.tolist(), y_nodes=self._y.tolist(),
                 values=self._values.tolist())
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
        info = cls._info_from(d, defaults=dict(n_spot=0, n_spot_evals=0, n_trimmed=0))
        dx, dy = cls._arrays_from(d, "x_degrees", "y_degrees", dtype=np.intp)
        xb, ub, yb, vb, xn, yn, vals = cls._arrays_from(
            d, "x_breakpoints", "u_breakpoints", "y_breakpoints", "v_breakpoints", "x_nodes",
            "y_nodes", "values")
        for name, b, t, deg, nodes in (("x", xb, ub, dx, xn), ("y", yb, vb, dy, yn)):
            if deg.ndim != 1 or deg.size < 1 or np.any(deg < 1) or np.any(deg > 128):
                raise ValueError(f"'{name}_degrees' must hold one degree in 1..128 per piece")
            for what, a in ((f"{name}_breakpoints", b), (f"{name}_breakpoints' twin '"
                                                          f"{'u' if name == 'x' else 'v'}"
                                                          "_breakpoints", t)):
                if a.shape != (deg.size + 1,) or not np.all(np.isfinite(a)) or \
                        not np.all(np.diff(a) > 0):
                    raise ValueError(f"'{what}' must be strictly increasing and finite with "
                                     "one more entry than the degrees")
            if nodes.shape != (int(deg.sum()) + 1,) or not np.all(np.isfinite(nodes)):
                raise ValueError(f"'{name}_nodes' must hold sum({name}_degrees) + 1 finite "
                                 "values")
        check_grid_values(vals, xn.size, yn.size, info["log_f"])
        return cls(xb, ub, yb, vb, dx, dy, xn, yn, vals, info)

def _grid_u(ub, deg):
    """The grid lines in the knot variable: the Lobatto nodes of every piece."""
    parts = [0.5 * (ub[i] + ub[i + 1]) + 0.5 * (ub[i + 1] - ub[i]) * lobatto(int(d))[:-1]
             for i, d in enumerate(deg)]
    out = np.concatenate(parts + [ub[-1:]])
    out[np.cumsum(np.concatenate([[0], deg]))] = ub
    return out


def _refine(t, deg):
    """Cell edges for 8-point Gauss-Legendre: each piece cut in ceil((deg + 1) / 8) parts."""
    parts = [t[i] + (t[i + 1] - t[i]) * np.arange(k) / k
             for i, k in enumerate(-(-(deg + 1) // 8))]
    return np.concatenate(parts + [t[-1:]])


def _clenshaw2(C, degx, degy, tu, tv, uq, vq, extrapolate):
    """Tensor Chebyshev series of the cells at (uq, vq) (NumPy, by cell; the fallback of
    pieces that do not split to low degree)."""
    Cv = np.polynomial.chebyshev.chebvander
    out = np.full((uq.size, C.shape[2]), np.nan)
    ok = ~(np.isnan(uq) | np.isnan(vq))
    if not extrapolate:
        ok &= (uq >= tu[0]) & (uq <= tu[-1]) & (vq >= tv[0]) & (vq <= tv[-1])
    i = np.clip(np.searchsorted(tu, uq, side="right") - 1, 0, degx.size - 1)
    j = np.clip(np.searchsorted(tv, vq, side="right") - 1, 0, degy.size - 1)
    ox, oy = _offsets(degx + 1), _offsets(degy + 1)
    cell = np.where(ok, i * degy.size + j, -1)
    for c in np.unique(cell[cell >= 0]):
        a, b = divmod(int(c), degy.size)
        sel = np.flatnonzero(cell == c)
        s = (2 * uq[sel] - tu[a] - tu[a + 1]) / (tu[a + 1] - tu[a])
        r = (2 * vq[sel] - tv[b] - tv[b + 1]) / (tv[b + 1] - tv[b])
        blk = C[ox[a]:ox[a] + degx[a] + 1, oy[b]:oy[b] + degy[b] + 1]
        out[sel] = np.einsum("pa,pb,abm->pm", Cv(s, int(degx[a])), Cv(r, int(degy[b])), blk)
    return out
