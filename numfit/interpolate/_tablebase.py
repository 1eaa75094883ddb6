"""What :class:`AutoKnotsSpline` and :class:`AutoKnotsChebyshev` share: the info-backed
attributes, bounds checks, the persistence envelope (format, version, options, counts,
status) and pickling through ``to_dict``."""
from .._result import Result
from .._validation import check_float

__all__ = ["TableBase", "info_property"]


def info_property(name, doc):
    """A read-only attribute backed by ``self._info[name]``."""
    return property(lambda self: self._info[name], doc=doc)


class TableBase:
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
    def _check_envelope(cls, d):
        """Raise ValueError unless ``d`` carries this class's format and version."""
        if not isinstance(d, dict) or d.get("format") != cls._FORMAT:
            raise ValueError(f"not a {cls._FORMAT} dictionary (missing or wrong 'format')")
        if d.get("version") != cls._VERSION:
            raise ValueError(f"unsupported {cls._FORMAT} version {d.get('version')!r}; "
                             f"this numfit reads version {cls._VERSION}")

    @classmethod
    def _info_from(cls, d, defaults=None):
        """The info dict of a ``to_dict`` description (options, counts, status)."""
        defaults = defaults or {}
        try:
            opts, counts, status = d["options"], d["counts"], d["status"]
            info = {k: opts[k] if k in opts or k not in defaults else defaults[k]
                    for k in cls._OPTION_KEYS}
            info.update({k: int(counts[k] if k in counts or k not in defaults
                                else defaults[k]) for k in cls._COUNT_KEYS})
            info["round_sizes"] = [int(r) for r in counts["round_sizes"]]
            info.update(status=int(status["status"]), success=bool(status["success"]),
                        message=str(status["message"]))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"malformed {cls._FORMAT} dictionary: {exc}") from exc
        if d.get("derived") is not None:
            info["derived"] = d["derived"]
        return info

    def __reduce__(self):
        return (type(self).from_dict, (self.to_dict(),))

    def __eq__(self, other):
        if not isinstance(other, type(self)):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None
