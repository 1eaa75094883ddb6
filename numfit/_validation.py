"""Parameter validation shared by the front ends.

Messages follow one pattern: name the parameter, say what is allowed and what was given,
e.g. ``"`rtol` must be a finite float in (0, 1); got -1.0"``.
"""
import math
import numbers
import operator

import numpy as np

__all__ = ["check_float", "check_int", "check_option", "check_real_matrix", "check_real_array",
           "check_points", "as_rng"]


def _fmt(value):
    if isinstance(value, numbers.Rational) and not isinstance(value, (bool, np.bool_)) \
            and abs(value) > 10 ** 30:
        # a huge int or Fraction: sign and order of magnitude (str() of >4300 digits raises)
        digits = int(math.log10(abs(value.numerator)) - math.log10(value.denominator))
        return f"{'-' if value < 0 else ''}~1e{digits} ({type(value).__name__})"
    return repr(value) if isinstance(value, str) else str(value)


def check_float(name, value, *, lo=None, hi=None, lo_open=False, hi_open=False, finite=True):
    """Return ``value`` as a Python float after range checks, or raise.

    ``lo``/``hi`` bound the value (closed unless ``lo_open``/``hi_open``).
    Booleans, strings, complex numbers and arrays of size != 1 raise ``TypeError``.
    """
    if type(value) is float:            # the common case, without the ABC checks below
        v = value
    else:
        if isinstance(value, (bool, np.bool_)) or \
                not isinstance(value, (numbers.Real, np.ndarray)):
            raise TypeError(f"`{name}` must be a real number; got {type(value).__name__} "
                            f"{_fmt(value)}")
        if isinstance(value, np.ndarray):
            if value.size != 1 or not np.issubdtype(value.dtype, np.number) \
                    or np.iscomplexobj(value):
                raise TypeError(f"`{name}` must be a real scalar; got an array of shape "
                                f"{value.shape}")
            value = value.reshape(()).item()
        try:
            v = float(value)
        except OverflowError:           # a Python int or Fraction beyond the float range
            v = -math.inf if value < 0 else math.inf
    if (math.isnan(v) or (finite and math.isinf(v))
            or (lo is not None and (v < lo or (lo_open and v == lo)))
            or (hi is not None and (v > hi or (hi_open and v == hi)))):
        # the message only when it is needed (front ends check every call's floats)
        if lo is not None and hi is not None:
            what = f"in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
        elif lo is not None:
            what = f"{'>' if lo_open else '>='} {lo:g}"
        elif hi is not None:
            what = f"{'<' if hi_open else '<='} {hi:g}"
        else:
            what = ""
        kind = "a finite float" if finite else "a float"
        raise ValueError(f"`{name}` must be {kind}{' ' + what if what else ''}; "
                         f"got {_fmt(value)}")
    return v


def check_int(name, value, *, lo=None, hi=None):
    """Return ``value`` as a Python int (no bools, floats or infinities) after range checks."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be an integer; got bool {value}")
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError(f"`{name}` must be an integer; got {type(value).__name__} "
                        f"{_fmt(value)}") from None
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        if lo is not None and hi is not None:
            what = f"in [{lo}, {hi}]"
        elif lo is not None:
            what = f">= {lo}"
        else:
            what = f"<= {hi}"
        raise ValueError(f"`{name}` must be an integer {what}; got {_fmt(v)}")
    return v


def check_option(name, value, allowed):
    """Return ``value`` if it is one of ``allowed`` (compared by equality), else raise."""
    for a in allowed:
        if value is a or (isinstance(value, str) and isinstance(a, str) and value == a):
            return a
    listed = ", ".join(_fmt(a) for a in allowed)
    raise ValueError(f"`{name}` must be one of {listed}; got {_fmt(value)}")


def check_real_matrix(name, A):
    """Check an explicit real 2-D matrix: integer or floating-point entries (booleans, objects
    and strings are a ``TypeError``; complex entries "must be real"). A SciPy sparse
    matrix/array is returned as given, anything else as a float64 ndarray. Finiteness and
    shape are the caller's business."""
    import scipy.sparse as sp
    if not sp.issparse(A):
        A = np.asarray(A)
    if A.dtype.kind not in "iufc":
        raise TypeError(f"`{name}` must be a numeric matrix (integer or floating point "
                        f"entries); got dtype {A.dtype}")
    if np.iscomplexobj(A.data if sp.issparse(A) and hasattr(A, "data") else A):
        raise TypeError(f"`{name}` must be real; got dtype {A.dtype}")
    if sp.issparse(A):
        if A.ndim != 2:
            raise ValueError(f"`{name}` must be 2-D; got shape {A.shape}")
        return A
    if A.ndim != 2:
        raise ValueError(f"`{name}` must be a 2-D matrix; got shape {A.shape}")
    return A.astype(np.float64)


def check_real_array(name, value, *, lo=None, lo_open=False, unit=""):
    """Return ``value`` as a float64 ndarray of finite reals ``>= lo`` (``> lo`` if
    ``lo_open``), or raise: ``TypeError`` for non-real input (complex, strings, None, bools),
    ``ValueError`` naming the first offending entry and its index otherwise.  ``unit`` is
    appended to the bound in the message (e.g. ``" [Mpc]"``)."""
    arr = np.asarray(value) if value is not None else np.asarray(value, dtype=object)
    what = (f"{type(value).__name__} {_fmt(value)}" if arr.ndim == 0
            else f"an array of dtype {arr.dtype}")
    type_msg = f"`{name}` must be a real number or an array of real numbers; got {what}"
    if arr.dtype.kind in "iuf":
        x = arr.astype(np.float64)
    elif arr.dtype.kind == "O" and all(
            isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))
            for v in arr.flat):
        x = arr.astype(np.float64)
    else:
        raise TypeError(type_msg)
    ok = np.isfinite(x)
    bound = ""
    if lo is not None:
        ok &= (x > lo) if lo_open else (x >= lo)
        bound = f" and {'>' if lo_open else '>='} {lo:g}{unit}"
    if not ok.all():
        idx = tuple(int(i) for i in np.argwhere(~ok)[0])
        where = "" if x.ndim == 0 else f" at index {idx if len(idx) > 1 else idx[0]}"
        raise ValueError(f"`{name}` must be finite{bound}; got {float(x[idx])!r}{where}")
    return x


def check_points(name, x):
    """Return query points ``x`` as a float64 ndarray of the same shape, or raise.

    Real numbers only, as NumPy's ufuncs take them: bool, int, uint and float arrays and
    scalars, and sequences or object arrays of ``numbers.Real`` (``Fraction``). ``None``,
    strings, bytes, complex numbers, datetimes and other objects raise ``TypeError`` naming
    ``name``; NaN and inf pass (the caller decides what they mean).
    """
    if x is None:
        raise TypeError(f"`{name}` must be a real number or an array of real numbers; "
                        "got None")
    try:
        arr = np.asarray(x)
    except ValueError as exc:            # ragged nested sequences
        raise ValueError(f"`{name}` must be a real number or an array of real numbers; "
                         f"could not make an array of it: {exc}") from None
    kind = arr.dtype.kind
    if kind in "biuf":
        return np.asarray(arr, dtype=np.float64)
    if kind == "c":
        raise TypeError(f"`{name}` must be real; got complex values")
    if kind == "O" and all(isinstance(v, numbers.Real) for v in arr.flat):
        return arr.astype(np.float64)
    if arr.ndim == 0:
        text = repr(x)
        what = f"{type(x).__name__} {text if len(text) <= 40 else text[:37] + '...'}"
    elif kind == "O":
        bad = next(v for v in arr.flat if not isinstance(v, numbers.Real))
        what = f"an array holding {type(bad).__name__} {bad!r:.40}"
    else:
        what = f"an array of dtype {arr.dtype}"
    raise TypeError(f"`{name}` must be a real number or an array of real numbers; got {what}")


def as_rng(rng):
    """Turn ``rng`` (None, an int seed >= 0, a SeedSequence or a Generator) into a Generator."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, np.random.SeedSequence):
        return np.random.default_rng(rng)
    if isinstance(rng, numbers.Integral) and not isinstance(rng, (bool, np.bool_)):
        if rng < 0:
            raise ValueError(f"`rng` must be a non-negative int seed; got {rng}")
        return np.random.default_rng(rng)
    hint = " (use numpy.random.default_rng(seed))" \
        if isinstance(rng, (np.random.RandomState, float, bool, np.bool_)) else ""
    raise TypeError("`rng` must be None, an int seed, a numpy.random.SeedSequence or a "
                    f"numpy.random.Generator{hint}; got {type(rng).__name__}")
