"""What :class:`AutoKnotsSpline` and :class:`AutoKnotsChebyshev` share: the info-backed
attributes, bounds and query-point checks, the persistence envelope (format, version,
options, counts, status, each validated when read), pickling through ``to_dict`` and
equality."""
import math
import numbers

import numpy as np

from .._io import SaveMixin
from .._result import Result
from .._validation import check_float, check_points

__all__ = ["TableBase", "info_property"]

_MAPS = ("linear", "log", "asinh")
_N_STATUS = 6              # status codes 0..5 (see the tables' ``status`` attribute)


def _real(v):
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) \
        and math.isfinite(v)


def _flag(v):
    return isinstance(v, (bool, np.bool_))


# option -> (what it must be, test); options not listed here are kept as read
_OPTION_RULES = {
    "rtol": ("a finite float in (0, 1)", lambda v: _real(v) and 0 < v < 1),
    "atol": ("a finite float >= 0", lambda v: _real(v) and v >= 0),
    "knots_map": (f"one of {_MAPS}", lambda v: v in _MAPS),
    "x_knots": (f"one of {_MAPS}", lambda v: v in _MAPS),
    "y_knots": (f"one of {_MAPS}", lambda v: v in _MAPS),
    "space": ("'linear' or 'loglog'", lambda v: v in ("linear", "loglog")),
    "refine": ("'closure', 'sigma' or None", lambda v: v in ("closure", "sigma", None)),
    "kind": ("'chebyshev'", lambda v: v == "chebyshev"),
    "degree_max": ("an int >= 1", lambda v: isinstance(v, numbers.Integral)
                   and not _flag(v) and v >= 1),
    "extrapolate": ("True or False", _flag),
    "vectorized": ("True or False", _flag),
    "verify": ("True or False", _flag),
    "log_f": ("True or False", _flag),
}
# options that change what a table evaluates to (with the arrays of to_dict, its identity)
_TABLE_OPTIONS = ("kind", "knots_map", "x_knots", "y_knots", "space", "log_f", "extrapolate")
# parts of to_dict that describe how a table was built, not the table
_BUILD_KEYS = ("counts", "status", "derived")


def info_property(name, doc):
    """A read-only attribute backed by ``self._info[name]``."""
    return property(lambda self: self._info[name], doc=doc)


class TableBase(SaveMixin):
    """Mixin of the AutoKnots table classes (``_FORMAT``, ``_VERSION``, ``_OPTION_KEYS``,
    ``_COUNT_KEYS`` set by each; ``_x`` the breakpoints, ``_info`` a :class:`Result`)."""

    _FORMAT = _VERSION = None
    _OPTION_KEYS = _COUNT_KEYS = ()

    info = property(lambda self: Result(self._info), doc="Options, counts and status (a copy).")

    @property
    def interval(self):
        """The tabulated interval ``(a, b)``."""
        return (float(self._x[0]), float(self._x[-1]))

    @property
    def round_sizes(self):
        """Evaluations per round, batch 0 first (sums to ``n_evals``)."""
        return tuple(self._info["round_sizes"])

    def _bounds(self, a, b, extrapolate):
        """Validated integration bounds and the extrapolation flag."""
        lo = check_float("a", a)
        hi = check_float("b", b)
        extrapolate = self.extrapolate if extrapolate is None else bool(extrapolate)
        x0, x1 = self._x[0], self._x[-1]
        if not extrapolate:
            for name, v in (("a", lo), ("b", hi)):
                if v < x0 or v > x1:
                    raise ValueError(f"`{name}` = {v!r} lies outside the tabulated interval "
                                     f"[{float(x0)!r}, {float(x1)!r}]; pass "
                                     "extrapolate=True to continue the end polynomials")
        return lo, hi, extrapolate

    def _envelope(self):
        """The common part of ``to_dict``: format, version, options, counts, status."""
        i = self._info
        return {
            "format": self._FORMAT,
            "version": self._VERSION,
            "options": {k: i[k] for k in self._OPTION_KEYS},
            "counts": {**{k: int(i[k]) for k in self._COUNT_KEYS},
                       "round_sizes": [int(r) for r in i["round_sizes"]]},
            "status": {"status": int(i["status"]), "success": bool(i["success"]),
                       "message": str(i["message"])},
            "derived": i.get("derived"),
        }

    @classmethod
    def _arrays_from(cls, d, *keys, dtype=np.float64):
        """The entries ``keys`` of a :meth:`to_dict` dictionary as arrays; ValueError naming
        the format when one is missing or not numeric."""
        try:
            return [np.asarray(d[k], dtype=dtype) for k in keys]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"malformed {cls._FORMAT} dictionary: {exc}") from exc

    @classmethod
    def _check_envelope(cls, d):
        """Raise ValueError unless ``d`` carries this class's format and version."""
        if not isinstance(d, dict) or d.get("format") != cls._FORMAT:
            raise ValueError(f"not a {cls._FORMAT} dictionary (missing or wrong 'format')")
        if d.get("version") != cls._VERSION:
            raise ValueError(f"unsupported {cls._FORMAT} version {d.get('version')!r}; "
                             f"this numfit reads version {cls._VERSION}")

    @classmethod
    def _info_from(cls, d, defaults=None):
        """The info dict of a ``to_dict`` description (options, counts, status), each entry
        validated; ValueError naming the entry otherwise."""
        defaults = defaults or {}
        try:
            opts, counts, status = d["options"], d["counts"], d["status"]
            info = {k: opts[k] if k in opts or k not in defaults else defaults[k]
                    for k in cls._OPTION_KEYS}
            info.update({k: int(counts[k] if k in counts or k not in defaults
                                else defaults[k]) for k in cls._COUNT_KEYS})
            info["round_sizes"] = [int(r) for r in counts["round_sizes"]]
            info.update(status=int(status["status"]), success=status["success"],
                        message=status["message"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            why = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
            raise ValueError(f"malformed {cls._FORMAT} dictionary: {why}") from exc
        for k in cls._OPTION_KEYS:
            rule = _OPTION_RULES.get(k)
            if rule is not None and not rule[1](info[k]):
                raise ValueError(f"malformed {cls._FORMAT} dictionary: options[{k!r}] must "
                                 f"be {rule[0]}; got {info[k]!r}")
        for k in cls._COUNT_KEYS:
            if info[k] < 0:
                raise ValueError(f"malformed {cls._FORMAT} dictionary: counts[{k!r}] must be "
                                 f">= 0; got {info[k]}")
        if any(r < 0 for r in info["round_sizes"]):
            raise ValueError(f"malformed {cls._FORMAT} dictionary: counts['round_sizes'] "
                             "must be >= 0")
        if not 0 <= info["status"] < _N_STATUS or not _flag(info["success"]) or \
                not isinstance(info["message"], str):
            raise ValueError(f"malformed {cls._FORMAT} dictionary: status must hold a status "
                             f"in 0..{_N_STATUS - 1}, success True or False and a message "
                             f"string; got {dict(status)!r}")
        info["success"] = bool(info["success"])
        if d.get("derived") is not None:
            info["derived"] = d["derived"]
        return info

    @staticmethod
    def _query_points(x):
        """Query points as a float64 array of ``x``'s shape; ``TypeError`` naming ``x`` for
        anything but real numbers (``None``, strings, complex numbers, objects)."""
        return check_points("x", x)

    def __reduce__(self):
        return (type(self).from_dict, (self.to_dict(),))

    def _table_key(self):
        """What makes the table: ``to_dict`` without the counts, status and derivation note
        and with only the options that change its values (knot maps, space, default
        extrapolation), so a table built in parallel, with other batch sizes or rebuilt from
        a dictionary equals the serial one."""
        d = self.to_dict()
        for k in _BUILD_KEYS:
            d.pop(k, None)
        d["options"] = {k: v for k, v in d["options"].items() if k in _TABLE_OPTIONS}
        return d

    def __eq__(self, other):
        """Equal tables: the same class, arrays (knots, values, coefficients, knot-map
        coordinates) and evaluation options; how they were built (call counts, rounds,
        tolerances asked for, status) does not enter."""
        if not isinstance(other, type(self)):
            return NotImplemented
        return self._table_key() == other._table_key()

    __hash__ = None
