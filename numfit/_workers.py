"""``workers=`` handling, following SciPy's convention.

``workers`` may be ``None`` or ``1`` (serial, the built-in ``map``), an int ``> 1`` (a local
``multiprocessing`` pool of that many processes, closed when the call ends), ``-1`` (one process
per core) or any map-like callable ``workers(func, iterable)`` such as ``Pool.map``,
``ProcessPoolExecutor.map`` or a Dask ``Client.get_executor().map``. Results keep input order.
"""
import numbers
import os
import pickle

__all__ = ["MapWrapper"]


class MapWrapper:
    """Context manager giving a map-like callable for ``workers``.

    Parameters
    ----------
    workers : None, int or callable
        See the module docstring.
    name : str
        Argument name used in error messages.

    Examples
    --------
    >>> from numfit._workers import MapWrapper
    >>> with MapWrapper(None) as m:
    ...     list(m(abs, [-1, 2, -3]))
    [1, 2, 3]
    """

    def __init__(self, workers=None, name="workers"):
        self._pool = None
        self._own_pool = False
        self.n_workers = 1
        if workers is None:
            self._map = map
            return
        if callable(workers):
            self._map = workers
            self.n_workers = getattr(workers, "n_workers", None) or os.cpu_count() or 1
            return
        if isinstance(workers, numbers.Integral) and not isinstance(workers, bool):
            w = int(workers)
            if w == -1:
                w = os.cpu_count() or 1
            if w < 1:
                raise ValueError(f"`{name}` must be an int >= 1, -1 (all cores) or a map-like "
                                 f"callable; got {workers}")
            self.n_workers = w
            if w == 1:
                self._map = map
            else:
                self._own_pool = True
                self._map = None
            return
        raise TypeError(f"`{name}` must be None, an int >= 1, -1 (all cores) or a map-like "
                        f"callable such as Pool.map; got {type(workers).__name__} {workers!r}")

    @property
    def parallel(self):
        """True when work is handed to something other than the built-in ``map``."""
        return self._own_pool or self._map is not map

    def check_picklable(self, func, what="f"):
        """Raise a clear ``TypeError`` if ``func`` cannot go to a process pool."""
        if not self._own_pool:
            return
        try:
            pickle.dumps(func)
        except Exception as exc:  # pickling raises many exception types
            raise TypeError(
                f"{what} cannot be pickled, so it cannot be sent to a process pool "
                f"(workers={self.n_workers}): {exc}. Define it at module level (not a lambda or "
                "closure), or pass workers=None or a thread-based map such as "
                "concurrent.futures.ThreadPoolExecutor().map") from exc

    def __enter__(self):
        if self._own_pool and self._pool is None:
            import multiprocessing
            self._pool = multiprocessing.get_context().Pool(self.n_workers)
            self._map = self._pool.map
        return self

    def __call__(self, func, iterable):
        if self._map is None:
            raise RuntimeError("MapWrapper must be entered (use `with`) before mapping")
        return list(self._map(func, iterable))

    def close(self):
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
            self._map = None

    def __exit__(self, *exc):
        self.close()
        return False
