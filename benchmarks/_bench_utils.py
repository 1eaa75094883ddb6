"""Helpers shared by several benchmark files (imported by name: pytest puts benchmarks/
on sys.path)."""

__all__ = ["smallest_size"]


def smallest_size(error_of, target, n_min=4, n_max=2 ** 17):
    """Smallest size n >= n_min with error_of(n) <= target: doubling, then bisection.

    Assumes the error is (close to) decreasing in n; returns None past n_max.
    """
    if error_of(n_min) <= target:
        return n_min
    lo, hi = n_min, 2 * n_min
    while error_of(hi) > target:
        lo, hi = hi, 2 * hi
        if hi > n_max:
            return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if error_of(mid) <= target:
            hi = mid
        else:
            lo = mid
    return hi
