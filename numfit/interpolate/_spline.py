"""``AutoKnotsSpline``: the piecewise cubic that :func:`numfit.autoknots` returns."""
import math

import numpy as np

from .._backend import array_namespace, device_key, is_cupy
from .._result import Result
from .._validation import check_float, check_int
from . import _gpu, _kernels
from ._tablebase import TableBase, info_property

__all__ = ["AutoKnotsSpline"]

_FORMAT = "numfit.AutoKnotsSpline"
_VERSION = 1
_COUNT_KEYS = ("n_evals", "n_calls", "n_rounds", "closure_rounds", "closure_flagged",
               "closure_failed", "refine_passes", "refine_reopened", "verify_rounds",
               "verify_evals", "verify_failed", "slow_reopened")
_OPTION_KEYS = ("rtol", "atol", "knots_map", "space", "refine", "extrapolate", "vectorized",
                "verify")
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(8)
_MAX_DEGREE = 15          # the evaluation kernels take pieces of degree <= 15


def _readonly(a):
    a = np.ascontiguousarray(a, dtype=np.float64)
    a.flags.writeable = False
    return a


class AutoKnotsSpline(TableBase):
    """Cubic spline tabulating ``f`` on ``[a, b]`` to a stated tolerance.

    Made by :func:`numfit.autoknots`; rebuilt by :meth:`from_dict` or pickle. Every knot is
    an evaluation of ``f``. In linear space the spline is in ``x``; with ``space="loglog"`` it
    is a spline ``S(t)`` of ``ln f`` against ``t = ln x`` and ``s(x) = exp(S(ln x))``.

    Parameters
    ----------
    x, values, u, c :
        Knots, f-values at the knots (``(n,)`` or ``(n, m)``), knot-map coordinates and
        coefficients ``(k+1, n-1[, m])`` in SciPy ``PPoly`` order in the spline variable.
    info : dict
        Options, counts and status (see :attr:`info`).

    Notes
    -----
    Users do not call the constructor; it trusts its arguments. :meth:`from_dict` validates.

    Examples
    --------
    >>> import numpy as np
    >>> import numfit as nf
    >>> s = nf.autoknots(np.sin, 0.0, 4.0, rtol=1e-8, atol=1e-12)
    >>> bool(abs(s(1.0) - np.sin(1.0)) < 1e-8), s.n_evals == len(s.knots)
    (True, True)
    >>> round(float(s.integrate(0.0, np.pi)), 8)
    2.0
    """

    def __init__(self, x, values, u, c, info):
        x = _readonly(x)
        values = np.asarray(values, dtype=np.float64)
        self._vector = values.ndim == 2
        c = np.asarray(c, dtype=np.float64)
        self._x = x
        self._values = _readonly(values)
        self._u = _readonly(u)
        self._c3 = _readonly(c if c.ndim == 3 else c[:, :, None])
        self._info = Result(info)
        self._space = self._info["space"]
        self._t = x if self._space == "linear" else _readonly(np.log(x))
        self._table = None
        self._cT = None          # (n-1, 4) interleaved copy for the scalar-cubic fast path
        self._dev = {}           # device copies for the xp path, per namespace/device;
        #                          never pickled (__reduce__ goes through to_dict)

    # ----------------------------------------------------------------- attributes
    _FORMAT, _VERSION, _OPTION_KEYS, _COUNT_KEYS = _FORMAT, _VERSION, _OPTION_KEYS, _COUNT_KEYS
    knots = property(lambda self: self._x, doc="Knots ``x_k`` (read-only), ``a`` to ``b``.")
    values = property(lambda self: self._values, doc="f at the knots (also in log-log space).")
    u = property(lambda self: self._u, doc="Knot-map coordinates ``U(x_k)``.")

    @property
    def c(self):
        """Coefficients ``(k+1, n-1)`` (``(k+1, n-1, m)`` for vector f), SciPy order, in the
        spline variable (``ln x`` in log-log space)."""
        return self._c3 if self._vector else self._c3[:, :, 0]

    @property
    def x(self):
        """Alias of :attr:`knots` (``PPoly`` naming)."""
        return self._x

    _get = staticmethod(info_property)

    rtol = _get("rtol", "Relative tolerance the spline was built to.")
    atol = _get("atol", "Absolute tolerance the spline was built to.")
    knots_map = _get("knots_map", "Knot map: 'linear', 'log' or 'asinh'.")
    space = _get("space", "'linear' or 'loglog'.")
    refine = _get("refine", "Refinement mode used: 'closure', 'sigma' or None.")
    extrapolate = _get("extrapolate", "Default extrapolation outside [a, b].")
    n_evals = _get("n_evals", "Evaluations of f (== number of knots).")
    n_calls = _get("n_calls", "Calls of f (batches when vectorised, plus a failed probe).")
    n_rounds = _get("n_rounds", "Refinement rounds after the initial batch.")
    converged = _get("success", "True if every test passed (status 0).")
    success = _get("success", "Alias of converged.")
    status = _get("status", "0 converged, 1 max_knots reached, 2 iteration cap, 3 partial "
                            "spline of a DiscontinuityError, 4 tests passed but f changes "
                            "sign with atol = 0, 5 stopped by the callback.")
    message = _get("message", "Text for status.")
    closure_rounds = _get("closure_rounds", "Closure checks made.")
    closure_flagged = _get("closure_flagged", "Intervals the closure reopened.")
    closure_failed = _get("closure_failed", "Reopened intervals whose tests then failed.")
    refine_passes = _get("refine_passes", "Sigma passes made.")
    refine_reopened = _get("refine_reopened", "Intervals reopened by sigma passes.")
    verify = _get("verify", "Whether the settled mesh was verified (end intervals at their "
                            "1/4 and 3/4 points, graded intervals at their midpoints).")
    verify_rounds = _get("verify_rounds", "Verification rounds made.")
    verify_evals = _get("verify_evals", "Evaluations (knots) spent by the verification.")
    verify_failed = _get("verify_failed", "Intervals the verification found failing and "
                                          "reopened.")
    slow_reopened = _get("slow_reopened", "Passing intervals reopened because their error "
                                          "fell too little since the parent's test.")
    vectorized = _get("vectorized", "Whether f was called on arrays.")
    del _get

    @property
    def ndim_out(self):
        """Components of f: 0 for scalar f, m for f returning (m,) per point."""
        return self._c3.shape[2] if self._vector else 0

    def __len__(self):
        return self._x.size

    def __repr__(self):
        a, b = self.interval
        return (f"<AutoKnotsSpline on [{a:g}, {b:g}]: {self._x.size} knots, space="
                f"{self._space!r}, rtol={self.rtol:g}, atol={self.atol:g}, "
                f"status={self.status} ({'converged' if self.converged else 'not converged'})>")

    # ----------------------------------------------------------------- evaluation
    def _lookup_table(self):
        if self._table is None:
            self._table = _kernels.lookup_table(self._t)
        return self._table

    def _eval_t(self, q, nu, extrapolate):
        if nu == 0 and self._c3.shape[0] == 4 and self._c3.shape[2] == 1:
            if self._cT is None:
                self._cT = np.ascontiguousarray(self._c3[:, :, 0].T)
            out = np.empty(q.size)
            _kernels.kernels.evaluate_cubic(self._t, self._cT, self._lookup_table(), q,
                                            bool(extrapolate), out)
            return out[:, None]
        out = np.empty((q.size, self._c3.shape[2]))
        st = _kernels.kernels.evaluate(self._t, self._c3, self._lookup_table(), q, int(nu),
                                       bool(extrapolate), out)
        if st != 0:  # pragma: no cover - the front end never passes bad sizes
            raise RuntimeError(f"evaluation kernel failed with status {st}")
        return out

    def _tables(self, xp):
        """Breakpoints and coefficients on ``xp``'s current device (copied once, cached)."""
        key = device_key(xp)
        tab = self._dev.get(key)
        if tab is None:
            tab = _gpu.device_tables(xp, self._t, self._c3, self._x)
            self._dev[key] = tab
        return tab

    def _call_xp(self, xp, x, nu, extrapolate):
        """The xp-generic evaluation (:mod:`numfit.interpolate._gpu`); ``x`` in ``xp``."""
        if xp.iscomplexobj(x):
            raise TypeError("`x` must be real; got complex values")
        xa = xp.asarray(x, dtype=xp.float64)
        q = xp.ascontiguousarray(xa.ravel())
        out = _gpu.evaluate_xp(xp, self._tables(xp), q, nu, extrapolate,
                               self._space == "loglog")
        shape = xa.shape + ((self._c3.shape[2],) if self._vector else ())
        return out.reshape(shape)

    def __call__(self, x, nu=0, extrapolate=None):
        """Evaluate the spline (or its ``nu``-th derivative) at ``x``.

        Parameters
        ----------
        x : array_like or cupy.ndarray
            Real points (floats, ints or bools; ``None``, strings, complex numbers and
            other objects raise ``TypeError``); the result has shape ``x.shape`` (plus
            ``(m,)`` for vector f). A CuPy array is evaluated on its GPU and the result is
            a CuPy array (the breakpoints and coefficients are copied to each device once);
            see :doc:`/gpu`.
        nu : int, optional
            Derivative order: 0..3 in linear space, 0..2 in log-log space (chain rule).
        extrapolate : bool, optional
            Outside ``[a, b]``: NaN if False (default: the spline's ``extrapolate``), else
            the end cubics continue (in ``ln x`` for log-log).

        Returns
        -------
        ndarray or cupy.ndarray
            Shape ``x.shape`` (plus ``(m,)`` for vector f): a 0-d array for a scalar ``x``,
            as SciPy's splines return.

        Raises
        ------
        TypeError
            If ``x`` is not real numbers (``None``, strings, complex values).
        """
        nu = _check_nu(nu, 3 if self._space == "linear" else 2)
        extrapolate = self.extrapolate if extrapolate is None else bool(extrapolate)
        if is_cupy(x):                                     # pragma: no cover - needs CuPy
            return self._call_xp(array_namespace(x), x, nu, extrapolate)
        xa = self._query_points(x)
        q = np.ascontiguousarray(xa.ravel())
        if self._space == "linear":
            out = self._eval_t(q, nu, extrapolate)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                tq = np.log(np.where(q > 0, q, np.nan))
                if not extrapolate:
                    tq[(q < self._x[0]) | (q > self._x[-1])] = np.nan
                S = self._eval_t(tq, 0, extrapolate)
                f = np.exp(S)
                if nu == 0:
                    out = f
                else:
                    S1 = self._eval_t(tq, 1, extrapolate)
                    if nu == 1:
                        out = f * S1 / q[:, None]
                    else:
                        S2 = self._eval_t(tq, 2, extrapolate)
                        out = f * (S2 + S1 * S1 - S1) / (q * q)[:, None]
        shape = xa.shape + ((self._c3.shape[2],) if self._vector else ())
        return out.reshape(shape)

    # ----------------------------------------------------------------- calculus
    def _derived(self, c, values, note):
        info = dict(self._info)
        info["derived"] = note
        vals = values if self._vector else values[:, 0]
        return AutoKnotsSpline(self._x, vals, self._u, c if self._vector else c[:, :, 0], info)

    def derivative(self, nu=1):
        """The ``nu``-th derivative as a spline on the same knots (linear space).

        Any order ``nu >= 0``: above the degree it is the zero spline (``PPoly``
        semantics). In log-log space this returns a picklable callable ``x -> s(x, nu)``
        (``nu`` in 0..2).
        """
        if self._space != "linear":
            return _LogLogDerivative(self, _check_nu(nu, 2))
        nu = _check_nu(nu, None)
        c = self._c3.copy()
        K = c.shape[0] - 1
        for _ in range(min(nu, K + 1)):          # K + 1 steps already give zero
            # d/ds sum_j c[j] s^(K-j): row j moves down one place, times its power
            new = np.zeros_like(c)
            for j in range(K):
                new[j + 1] = c[j] * (K - j)
            c = new
        values = self._eval_c(c, self._x)
        return self._derived(c, values, f"derivative(nu={nu})")

    def antiderivative(self, nu=1):
        """The ``nu``-th antiderivative, zero at ``a`` (``PPoly`` semantics), linear space.

        Each order raises the degree by one; the evaluation kernels take degree 15 at
        most, so ``nu <= 15 - k`` for a spline of degree ``k`` (12 for the cubic).

        Raises
        ------
        ValueError
            If ``nu`` is negative or above that limit.
        """
        if self._space != "linear":
            raise NotImplementedError("antiderivative() is not available in log-log space; "
                                      "use integrate(lo, hi)")
        K0 = self._c3.shape[0] - 1
        hi = _MAX_DEGREE - K0
        nu = _check_nu(nu, None)
        if nu > hi:
            raise ValueError(f"`nu` must be an integer in [0, {hi}]; got {nu} (the "
                             f"antiderivative of order nu of this degree-{K0} spline has "
                             f"degree {K0} + nu, and splines are evaluated up to degree "
                             f"{_MAX_DEGREE})")
        c = self._c3
        h = np.diff(self._t)[:, None]
        for _ in range(nu):
            K = c.shape[0] - 1
            new = np.zeros((K + 2,) + c.shape[1:])
            for j in range(K + 1):
                new[j] = c[j] / (K + 1 - j)
            acc = np.zeros(c.shape[1:])        # integral over each interval, by Horner
            for j in range(K + 1):
                acc = acc * h + new[j]
            acc *= h
            new[K + 1, 1:] = np.cumsum(acc, axis=0)[:-1]
            c = new
        values = self._eval_c(c, self._x)
        return self._derived(c, values, f"antiderivative(nu={nu})")

    def _eval_c(self, c, x):
        out = np.empty((x.size, c.shape[2]))
        st = _kernels.kernels.evaluate(self._t, np.ascontiguousarray(c), self._lookup_table(),
                                       np.ascontiguousarray(x, dtype=np.float64), 0, True, out)
        if st != 0:  # pragma: no cover - the degree is checked before
            raise RuntimeError(f"evaluation kernel failed with status {st}")
        return out

    def integrate(self, a, b, extrapolate=None):
        """Exact integral of the spline from ``a`` to ``b`` (negative if ``a > b``).

        In log-log space the integral of ``exp(S(t) + t)`` is taken by 8-point
        Gauss-Legendre on every knot interval (relative error far below ``rtol``).
        Bounds outside ``[a, b]`` of the table need ``extrapolate=True``.
        """
        lo, hi, extrapolate = self._bounds(a, b, extrapolate)
        if self._space == "linear":
            out = np.empty(self._c3.shape[2])
            _kernels.kernels.integrate(self._t, self._c3, self._lookup_table(), lo, hi, out)
        else:
            out = self._integrate_loglog(lo, hi)
        return out if self._vector else out[0]

    def _integrate_loglog(self, lo, hi):
        sign = 1.0
        if lo > hi:
            lo, hi, sign = hi, lo, -1.0
        m = self._c3.shape[2]
        if lo == hi:
            return np.zeros(m)
        if lo <= 0:
            raise ValueError(f"integration bound {lo!r} <= 0 is outside a log-log spline")
        tl, th = math.log(lo), math.log(hi)
        t = self._t
        inner = t[(t > tl) & (t < th)]
        edges = np.concatenate([[tl], inner, [th]])
        mid = 0.5 * (edges[1:] + edges[:-1])
        half = 0.5 * np.diff(edges)
        nodes = (mid[:, None] + half[:, None] * _GL_NODES[None, :]).ravel()
        S = self._eval_t(np.ascontiguousarray(nodes), 0, True)
        vals = np.exp(S + nodes[:, None]).reshape(mid.size, _GL_NODES.size, m)
        return sign * np.einsum("ikm,k,i->m", vals, _GL_WEIGHTS, half)

    def _require_scalar_linear(self, what):
        if self._space != "linear":
            raise NotImplementedError(f"{what} is available in linear space only")
        if self._vector:
            raise ValueError(f"{what} needs a scalar-valued spline")

    def to_ppoly(self):
        """The spline as a :class:`scipy.interpolate.PPoly` (linear space)."""
        if self._space != "linear":
            raise NotImplementedError("to_ppoly() is available in linear space only; "
                                      "a log-log spline is exp of a PPoly in ln x")
        from scipy.interpolate import PPoly   # here: scipy.interpolate imports scipy.optimize
        return PPoly.construct_fast(np.array(self.c), np.array(self._x),
                                    extrapolate=self.extrapolate)

    def roots(self, discontinuity=True, extrapolate=None):
        """Real roots in ``[a, b]`` (``PPoly.roots`` semantics)."""
        return self.solve(0.0, discontinuity, extrapolate)

    def solve(self, y=0.0, discontinuity=True, extrapolate=None):
        """Real solutions of ``s(x) == y`` (``PPoly.solve`` semantics).

        Raises
        ------
        TypeError
            If ``y`` is not a real number.
        ValueError
            If ``y`` is NaN or infinite.
        """
        self._require_scalar_linear("solve()")
        y = check_float("y", y)
        extrapolate = self.extrapolate if extrapolate is None else bool(extrapolate)
        return self.to_ppoly().solve(y, discontinuity=discontinuity, extrapolate=extrapolate)

    # ----------------------------------------------------------------- persistence
    def to_dict(self):
        """JSON-safe description: format, version, knots, values, u, coefficients, options,
        counts and status. :meth:`from_dict` rebuilds a spline that evaluates bitwise equal."""
        d = self._envelope()
        d.update(knots=self._x.tolist(), values=self._values.tolist(), u=self._u.tolist(),
                 coefficients=self.c.tolist())
        return d

    @classmethod
    def from_dict(cls, d):
        """Rebuild a spline from :meth:`to_dict` output, validating it.

        Raises
        ------
        ValueError
            If the format, version, shapes or values are inconsistent.
        """
        cls._check_envelope(d)
        x, values, u, c = cls._arrays_from(d, "knots", "values", "u", "coefficients")
        # tables written before the verification have no verify keys: it did not run
        info = cls._info_from(d, defaults=dict(verify=False, verify_rounds=0, verify_evals=0,
                                               verify_failed=0, slow_reopened=0))
        n = x.size
        if x.ndim != 1 or n < 2 or not np.all(np.diff(x) > 0) or not np.all(np.isfinite(x)):
            raise ValueError("'knots' must be a 1-D strictly increasing finite array of >= 2")
        if values.shape[:1] != (n,) or values.ndim not in (1, 2) or u.shape != (n,):
            raise ValueError("'values' and 'u' must have one row per knot")
        if not (np.all(np.diff(u) > 0) and np.all(np.isfinite(u))):
            raise ValueError("'u' must be strictly increasing and finite (the knot map of "
                             "increasing knots)")
        m_shape = values.shape[1:]
        if c.ndim != 2 + len(m_shape) or c.shape[1:] != (n - 1,) + m_shape or \
                not 1 <= c.shape[0] <= _MAX_DEGREE + 1:
            raise ValueError(f"'coefficients' must have shape (k+1, {n - 1}"
                             f"{', ' + str(m_shape[0]) if m_shape else ''}) with degree "
                             f"k <= {_MAX_DEGREE}; got {c.shape}")
        if not (np.all(np.isfinite(c)) and np.all(np.isfinite(values))):
            raise ValueError("'coefficients' and 'values' must be finite")
        if info["space"] not in ("linear", "loglog"):
            raise ValueError(f"options['space'] must be 'linear' or 'loglog'; "
                             f"got {info['space']!r}")
        return cls(x, values, u, c, info)


class _LogLogDerivative:
    """Picklable ``x -> s(x, nu)`` for a log-log spline."""

    def __init__(self, spline, nu):
        self.spline = spline
        self.nu = nu

    def __call__(self, x, extrapolate=None):
        return self.spline(x, nu=self.nu, extrapolate=extrapolate)

    def __repr__(self):
        return f"<derivative nu={self.nu} of {self.spline!r}>"


def _check_nu(nu, hi):
    return check_int("nu", nu, lo=0, hi=hi)
