"""``workers=`` handling, following SciPy's convention.

``workers`` may be ``None`` or ``1`` (serial, the built-in ``map``), an int ``> 1`` (a local
``multiprocessing`` pool of that many processes, closed when the call ends), ``-1`` (one process
per core) or any map-like callable ``workers(func, iterable)`` such as ``Pool.map``,
``ProcessPoolExecutor.map``, a Dask ``Client.get_executor().map`` or :func:`dask_map`.
Results keep input order.
"""
import numbers
import os
import pickle

__all__ = ["MapWrapper", "dask_map"]

# Dask: tasks per worker thread and round (multiprocessing.Pool.map's heuristic): few enough to
# keep the per-task latency of the scheduler small, enough to balance uneven costs of f.
_TASKS_PER_THREAD = 4


def _owner(workers):
    """The object a bound method such as ``ex.map`` belongs to (or None)."""
    return getattr(workers, "__self__", None)


def _infer_n_workers(workers):
    """Worker count of a map-like callable, or None when it cannot be told."""
    n = getattr(workers, "n_workers", None)          # dask_map, or a user's own adaptor
    owner = _owner(workers)
    if n is None and owner is not None:
        n = getattr(owner, "_max_workers", None)      # concurrent.futures executors
        if n is None:
            n = getattr(owner, "_processes", None)    # multiprocessing.Pool
        client = getattr(owner, "_client", None)      # distributed.ClientExecutor
        if n is None and client is not None and hasattr(client, "nthreads"):
            try:
                n = sum(client.nthreads().values())
            except Exception:  # a closed client: fall back to the default
                n = None
    if isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 1:
        return int(n)
    return None


def _as_dask_map(workers):
    """``client.get_executor(**kw).map`` -> the equivalent ``dask_map(client, **kw)``.

    The executor's ``map`` waits on one future per item, a scheduler round trip each (several
    ms on a busy machine); ``dask_map`` sends chunks and gathers them at once.  Results and
    the exception raised are the same.  None for anything else.
    """
    owner = _owner(workers)
    if type(owner).__name__ != "ClientExecutor" or \
            not type(owner).__module__.startswith("distributed") or \
            getattr(workers, "__name__", None) != "map":
        return None
    client, kwargs = getattr(owner, "_client", None), getattr(owner, "_kwargs", None)
    if client is None or not isinstance(kwargs, dict):
        return None
    try:
        return dask_map(client, **kwargs)
    except TypeError:
        return None


def _is_process_pool_map(workers):
    """True for ``ProcessPoolExecutor.map`` and ``multiprocessing.Pool.map``-like methods,
    which pickle ``func`` with the standard pickle (no lambdas or closures)."""
    owner = _owner(workers)
    if owner is None:
        return False
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing.pool import Pool, ThreadPool
    return isinstance(owner, ProcessPoolExecutor) or (isinstance(owner, Pool)
                                                     and not isinstance(owner, ThreadPool))


def _is_future(obj):
    return callable(getattr(obj, "result", None)) and callable(getattr(obj, "done", None)) \
        and callable(getattr(obj, "cancel", None))


class MapWrapper:
    """Context manager giving a map-like callable for ``workers``.

    Parameters
    ----------
    workers : None, int or callable
        See the module docstring.
    name : str
        Argument name used in error messages.

    Attributes
    ----------
    n_workers : int
        Workers to split a vectorised batch over: the int given, the pool's or the Dask
        cluster's size for ``ex.map`` of a ``concurrent.futures`` executor, a
        ``multiprocessing`` pool or a Dask ``ClientExecutor``, the ``n_workers`` attribute of
        any other callable, else ``os.cpu_count()``.

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
        self._pickles = False
        self.n_workers = 1
        if workers is None:
            self._map = map
            return
        if callable(workers):
            self._map = _as_dask_map(workers) or workers
            self._pickles = _is_process_pool_map(workers)
            self.n_workers = _infer_n_workers(self._map) or os.cpu_count() or 1
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
                self._own_pool = self._pickles = True
                self._map = None
            return
        raise TypeError(f"`{name}` must be None, an int >= 1, -1 (all cores) or a map-like "
                        f"callable such as Pool.map; got {type(workers).__name__} {workers!r}")

    @property
    def parallel(self):
        """True when work is handed to something other than the built-in ``map``."""
        return self._own_pool or self._map is not map

    def check_picklable(self, func, what="f"):
        """Raise a clear ``TypeError`` if ``func`` cannot go to a process pool.

        Applies to an int ``workers`` and to the ``map`` of a ``ProcessPoolExecutor`` or a
        ``multiprocessing`` pool (standard pickle); Dask pickles with cloudpickle and is not
        checked here.
        """
        if not self._pickles:
            return
        try:
            pickle.dumps(func)
        except Exception as exc:  # pickling raises many exception types
            where = f"workers={self.n_workers}" if self._own_pool else \
                f"{type(_owner(self._map)).__name__}.map"
            raise TypeError(
                f"{what} cannot be pickled, so it cannot be sent to a process pool "
                f"({where}): {exc}. Define it at module level (not a lambda or "
                "closure), or pass workers=None, a thread-based map such as "
                "concurrent.futures.ThreadPoolExecutor().map, or a Dask map "
                "(cloudpickle handles lambdas and closures)") from exc

    def __enter__(self):
        if self._own_pool and self._pool is None:
            import multiprocessing
            self._pool = multiprocessing.get_context().Pool(self.n_workers)
            self._map = self._pool_map
        return self

    def _pool_map(self, func, iterable):
        """``Pool.map``'s chunking, but ``imap``'s order: the first failing item in input
        order raises, as in serial evaluation (``Pool.map`` raises whichever chunk failed
        first in time)."""
        items = list(iterable)
        size = max(1, -(-len(items) // (4 * self.n_workers)))
        return self._pool.imap(func, items, chunksize=size)

    def __call__(self, func, iterable):
        if self._map is None:
            raise RuntimeError("MapWrapper must be entered (use `with`) before mapping")
        out = list(self._map(func, iterable))
        if out and _is_future(out[0]):
            for fut in out:
                if _is_future(fut):
                    fut.cancel()
            raise TypeError(
                "the `workers` map returned futures, not values (Dask's Client.map or "
                "Executor.submit do that); pass a map that returns results, such as "
                "client.get_executor().map or numfit.dask_map(client)")
        return out

    def close(self):
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
            self._map = None

    def __exit__(self, *exc):
        self.close()
        return False


class _ChunkCall:
    """Picklable ``[x, ...] -> [func(x), ...]``: one Dask task per chunk of points."""

    def __init__(self, func):
        self.func = func

    def __call__(self, chunk):
        return [self.func(x) for x in chunk]


class _DaskMap:
    """The map-like callable returned by :func:`dask_map`."""

    def __init__(self, client, map_kwargs):
        self.client = client
        self.map_kwargs = map_kwargs

    @property
    def n_workers(self):
        """Worker threads in the cluster now (at least 1)."""
        return max(1, sum(self.client.nthreads().values()))

    def __call__(self, func, iterable):
        items = list(iterable)
        if not items:
            return []
        k = min(len(items), _TASKS_PER_THREAD * self.n_workers)
        q, r = divmod(len(items), k)
        bounds = [0]
        for i in range(k):
            bounds.append(bounds[-1] + q + (i < r))
        chunks = [items[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:])]
        futures = self.client.map(_ChunkCall(func), chunks, **self.map_kwargs)
        try:
            parts = self.client.gather(futures)
        except Exception as exc:
            failure = exc
        except BaseException:
            self.client.cancel(futures)
            raise
        else:
            return [y for part in parts for y in part]
        self._raise_first_in_order(futures, failure)    # outside the handler: no chaining

    def _raise_first_in_order(self, futures, exc):
        """Re-raise the exception of the first failing item in input order (as serial
        evaluation would; ``gather`` raises the first failure it sees), cancelling the rest:
        only the tasks before a known failure are waited for."""
        bad = next((i for i, fut in enumerate(futures) if fut.status == "error"),
                   len(futures) - 1)
        self.client.cancel(futures[bad + 1:])
        try:
            for fut in futures[:bad + 1]:
                fut.result()
        finally:
            self.client.cancel(futures)
        raise exc

    def __repr__(self):
        return f"dask_map({self.client!r})"


def dask_map(client, **map_kwargs):
    """A ``workers=`` map that runs on a Dask distributed cluster.

    ``dask_map(client)(func, items)`` returns ``[func(x) for x in items]``, computed on the
    cluster of ``client``: the items are split into about four tasks per worker thread
    (``client.map`` of chunks, ``pure=False``) and gathered in one round trip, which costs
    less latency per round than ``client.get_executor().map`` (one task and one wait per
    item). ``func`` and the items travel with cloudpickle, so lambdas and closures work;
    numfit must be importable on the workers. The first exception raised on a worker is
    re-raised here, with the notes numfit adds (the failing x), and the remaining tasks are
    cancelled.

    Parameters
    ----------
    client : distributed.Client
        A connected client (``Client(LocalCluster(...))``, ``Client("tcp://host:8786")``,
        a dask-jobqueue cluster's client, ...).
    **map_kwargs
        Passed on to ``client.map`` (e.g. ``resources``, ``retries``, ``priority``);
        ``pure`` defaults to False.

    Returns
    -------
    callable
        ``m(func, iterable) -> list``, with an ``n_workers`` attribute (the cluster's worker
        threads, read at each use) that numfit uses to split vectorised batches.

    Examples
    --------
    >>> from numfit._workers import dask_map
    >>> class FakeClient:                       # stands in for distributed.Client here
    ...     def nthreads(self):
    ...         return {"w1": 1, "w2": 1}
    ...     def map(self, func, items, pure=True):
    ...         return [func(x) for x in items]
    ...     def gather(self, futures):
    ...         return futures
    >>> m = dask_map(FakeClient())
    >>> m(abs, [-1, 2, -3]), m.n_workers
    ([1, 2, 3], 2)
    """
    if not all(callable(getattr(client, a, None)) for a in ("map", "gather", "nthreads")):
        raise TypeError("`client` must be a distributed.Client (with map, gather and "
                        f"nthreads); got {type(client).__name__}")
    map_kwargs.setdefault("pure", False)
    return _DaskMap(client, map_kwargs)
