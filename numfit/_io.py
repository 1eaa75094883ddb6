"""Saving and loading numfit objects: ``obj.save("table.npz")`` and ``numfit.load(path)``.

The file is an ordinary NumPy ``.npz`` archive that loads without pickle:

* ``__numfit__`` holds a JSON header: the format name and version, the numfit version that
  wrote it, the class of the saved object and the object's state as a tree of dicts, lists,
  numbers and strings in which every array is a reference to an entry of the archive;
* every array is stored as its own entry, bit for bit (floats in the JSON text are written
  with ``repr``, which round-trips exactly).

A table (``AutoKnotsSpline``, ``AutoKnotsChebyshev``, ``AutoKnots2D``,
``AutoKnots2DChebyshev``) is stored through its documented ``to_dict``; other objects (WLS
expansions, relaxation tuners, cosmologies with their built tables) through their attributes. Only numfit's own classes are rebuilt, and a
file written by a newer format version is refused with the versions named.
"""
import json
import os

import numpy as np

__all__ = ["FORMAT", "FORMAT_VERSION", "save", "load", "SaveMixin"]

FORMAT = "numfit.save"
FORMAT_VERSION = 1
_HEADER = "__numfit__"


class SaveMixin:
    """Adds :meth:`save` to a numfit class (the file is read back by :func:`numfit.load`)."""

    def save(self, path):
        """Write this object to ``path`` (a ``.npz`` file); ``numfit.load(path)`` reads it.

        The round trip is exact: arrays are stored bit for bit and the object evaluates
        identically after loading. See :func:`numfit.load` for the format.

        Parameters
        ----------
        path : str or os.PathLike
            The file to write; ``.npz`` is appended when missing (as ``numpy.savez`` does).

        Returns
        -------
        str
            The path written.
        """
        return save(self, path)


def _qualname(cls):
    return f"{cls.__module__}:{cls.__qualname__}"


def _resolve(name, kind="class"):
    """The numfit class (or function) named ``module:qualname``; no other module is
    imported."""
    import importlib
    module, _, qual = name.partition(":")
    if not (module == "numfit" or module.startswith("numfit.")) or not qual:
        raise ValueError(f"the file names {kind} {name!r}, which is not a numfit {kind}")
    obj = importlib.import_module(module)
    for part in qual.split("."):
        obj = getattr(obj, part)
    if isinstance(obj, type) != (kind == "class") or not callable(obj):
        raise ValueError(f"{name!r} in the file is not a {kind}")
    return obj


class _Encoder:
    def __init__(self):
        self.arrays = {}

    def array(self, a):
        a = np.asarray(a)
        if a.dtype.hasobject or a.dtype.kind not in "biufcSU":
            raise TypeError(f"cannot save an array of dtype {a.dtype}")
        key = f"a{len(self.arrays)}"
        self.arrays[key] = a
        return {"__array__": key}

    def __call__(self, obj, where):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, (int, float)) and not isinstance(obj, np.generic):
            return obj
        if isinstance(obj, np.generic):
            if obj.dtype.kind in "biuf":
                return {"__scalar__": obj.dtype.str, "value": obj.item()}
            return self.array(obj)
        if isinstance(obj, complex):
            return {"__complex__": [obj.real, obj.imag]}
        if isinstance(obj, np.ndarray):
            return self.array(obj)
        if isinstance(obj, tuple):
            return {"__tuple__": [self(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, list):
            return [self(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        if type(obj) is dict:
            if all(isinstance(k, str) for k in obj) and not any(k.startswith("__") and
                                                               k.endswith("__") for k in obj):
                return {k: self(v, f"{where}[{k!r}]") for k, v in obj.items()}
            return {"__items__": [[self(k, f"{where} key"), self(v, f"{where}[{k!r}]")]
                                  for k, v in obj.items()]}
        if callable(obj) and isinstance(getattr(obj, "__qualname__", None), str) and \
                not isinstance(obj, type) and getattr(obj, "__module__", "").startswith("numfit") \
                and "<" not in obj.__qualname__:
            return {"__func__": f"{obj.__module__}:{obj.__qualname__}"}   # numfit's own
        if isinstance(obj, np.random.Generator):
            bg = obj.bit_generator
            return {"__rng__": type(bg).__name__, "state": self(bg.state, f"{where}.state")}
        cls = type(obj)
        if not cls.__module__.startswith("numfit"):
            raise TypeError(f"cannot save {where}: a {cls.__module__}.{cls.__qualname__} "
                            "(only arrays, numbers, strings, containers, numfit objects and "
                            "numfit's own functions are saved; a user function is not)")
        if hasattr(obj, "to_dict") and hasattr(cls, "from_dict"):
            return {"__obj__": _qualname(cls), "dict": self(obj.to_dict(), f"{where}")}
        state = obj.__getstate__() if hasattr(obj, "__getstate__") else obj.__dict__
        if state is None:
            state = {}
        if isinstance(state, tuple):          # (dict, slots) of classes with __slots__
            state = {k: v for part in state if part for k, v in part.items()}
        if not isinstance(state, dict):
            raise TypeError(f"cannot save {where}: {cls.__qualname__} has no attribute state")
        out = {"__obj__": _qualname(cls),
               "state": {k: self(v, f"{where}.{k}") for k, v in state.items()}}
        if isinstance(obj, dict):             # a result object: a dict with attribute access
            out["items"] = self(dict(obj), where)
        return out


class _Decoder:
    def __init__(self, arrays):
        self.arrays = arrays

    def __call__(self, t):
        if isinstance(t, list):
            return [self(v) for v in t]
        if not isinstance(t, dict):
            return t
        if "__array__" in t:
            return self.arrays[t["__array__"]]
        if "__scalar__" in t:
            return np.dtype(t["__scalar__"]).type(t["value"])
        if "__complex__" in t:
            return complex(*t["__complex__"])
        if "__tuple__" in t:
            return tuple(self(v) for v in t["__tuple__"])
        if "__items__" in t:
            return {_hashable(self(k)): self(v) for k, v in t["__items__"]}
        if "__func__" in t:
            return _resolve(t["__func__"], kind="function")
        if "__rng__" in t:
            bg = getattr(np.random, t["__rng__"], None)
            if not (isinstance(bg, type) and issubclass(bg, np.random.BitGenerator)):
                raise ValueError(f"unknown bit generator {t['__rng__']!r} in the file")
            g = bg()
            g.state = self(t["state"])
            return np.random.Generator(g)
        if "__obj__" in t:
            cls = _resolve(t["__obj__"])
            if "dict" in t:
                return cls.from_dict(self(t["dict"]))
            obj = cls.__new__(cls)
            if "items" in t:
                dict.update(obj, self(t["items"]))
            state = {k: self(v) for k, v in t["state"].items()}
            if hasattr(obj, "__setstate__") and type(obj).__setstate__ is not \
                    getattr(object, "__setstate__", None):
                obj.__setstate__(state)
            else:
                for k, v in state.items():
                    object.__setattr__(obj, k, v)
            return obj
        return {k: self(v) for k, v in t.items()}


def _hashable(k):
    if isinstance(k, list):
        return tuple(_hashable(v) for v in k)
    if isinstance(k, np.ndarray):
        return k.item() if k.ndim == 0 else tuple(k.tolist())
    return k


def save(obj, path):
    """Write a numfit object to ``path`` (``.npz``); read it back with :func:`load`.

    Parameters
    ----------
    obj : numfit object
        A table (``AutoKnotsSpline``, ``AutoKnotsChebyshev``, ``AutoKnots2D``,
        ``AutoKnots2DChebyshev``), a ``WLSResult``, a relaxation tuner or policy, a ``Cosmology`` with its built tables,
        or another numfit object whose state is arrays, numbers, strings and numfit objects.
    path : str or os.PathLike
        Destination; ``.npz`` is appended when missing.

    Returns
    -------
    str
        The path written.

    Raises
    ------
    TypeError
        If ``obj`` is not a numfit object, or holds something that cannot be stored without
        pickle (a function, a foreign object); the message names the attribute. Nothing is
        written then.
    """
    from . import __version__
    if not type(obj).__module__.startswith("numfit"):
        raise TypeError(f"numfit.save stores numfit objects; got {type(obj).__qualname__}")
    path = os.fspath(path)
    if not path.endswith(".npz"):
        path += ".npz"
    enc = _Encoder()
    tree = enc(obj, type(obj).__name__)           # may raise: nothing written yet
    header = dict(format=FORMAT, format_version=FORMAT_VERSION, numfit_version=__version__,
                  cls=_qualname(type(obj)), tree=tree)
    arrays = dict(enc.arrays)
    arrays[_HEADER] = np.array(json.dumps(header, allow_nan=True))
    tmp = path + ".part"
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)                     # never a half-written file at ``path``
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def load(path):
    """Read an object written by ``obj.save(path)`` or :func:`save`.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.npz`` file written by numfit.

    Returns
    -------
    object
        The saved object, equal to the original (tables evaluate bit for bit the same).

    Raises
    ------
    ValueError
        If the file is not a numfit save file, is damaged, or was written with a newer format
        version than this numfit reads (the message names both versions).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import numfit
    >>> s = numfit.autoknots(np.sin, 0.0, 3.0, rtol=1e-8)
    >>> path = s.save(os.path.join(tempfile.mkdtemp(), "sin.npz"))
    >>> t = numfit.load(path)
    >>> t == s, bool(np.all(t(np.linspace(0, 3, 101)) == s(np.linspace(0, 3, 101))))
    (True, True)
    """
    path = os.fspath(path)
    try:
        npz = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path!r} is not a readable .npz file: {exc}") from exc
    with npz:
        if _HEADER not in npz.files:
            raise ValueError(f"{path!r} is a .npz file but not one written by numfit.save "
                             f"(no {_HEADER!r} entry)")
        try:
            header = json.loads(str(npz[_HEADER][()]))
            fmt, version = header["format"], int(header["format_version"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path!r}: damaged numfit header: {exc}") from exc
        if fmt != FORMAT:
            raise ValueError(f"{path!r}: unknown format {fmt!r} (expected {FORMAT!r})")
        if version > FORMAT_VERSION:
            raise ValueError(
                f"{path!r} was written by numfit {header.get('numfit_version', '?')} in save "
                f"format version {version}; this numfit reads versions up to "
                f"{FORMAT_VERSION}: upgrade numfit to read it")
        arrays = {k: npz[k] for k in npz.files if k != _HEADER}
    try:
        return _Decoder(arrays)(header["tree"])
    except (KeyError, TypeError, AttributeError, ImportError) as exc:
        raise ValueError(f"{path!r}: damaged numfit save file: {exc!r}") from exc
