"""Result objects: a ``dict`` with attribute access, like ``scipy.optimize.OptimizeResult``.

:class:`Result` behaves as SciPy's ``OptimizeResult`` (attribute access to the keys, ``dir``
lists the keys, the same pretty ``repr``) without importing SciPy when numfit is imported:
importing :mod:`scipy.optimize` costs more than the rest of numfit, and ``import numfit``
imports no SciPy at all. The ``repr`` borrows SciPy's formatter on first use.
"""
from ._io import SaveMixin

__all__ = ["Result"]


def _plain_repr(d):                                         # pragma: no cover - SciPy moved it
    w = max(len(str(k)) for k in d) + 1
    return "\n".join(f"{str(k).rjust(w)}: {v!r}" for k, v in d.items())


class Result(SaveMixin, dict):
    """Rich result: a ``dict`` subclass whose keys are also attributes.

    Every numfit result carries ``success``, ``status`` and ``message`` plus the counts of the
    routine that made it. It pickles like a ``dict``, and ``save(path)`` writes it to a
    ``.npz`` file that :func:`numfit.load` reads back.
    """

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError as e:
            raise AttributeError(name) from e

    __setattr__ = dict.__setitem__
    __delattr__ = dict.__delitem__

    def __repr__(self):
        try:
            from scipy._lib._util import _RichResult
        except ImportError:                                 # pragma: no cover - SciPy moved it
            return _plain_repr(self) if self else f"{type(self).__name__}()"
        return _RichResult.__repr__(self)

    def __dir__(self):
        return list(self.keys())
