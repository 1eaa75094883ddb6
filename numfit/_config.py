""":func:`show_config`: numfit's version, kernel backends, dependency versions and GPU.

Nothing here imports Numba: versions are read from the installed distributions' metadata
(:func:`importlib.metadata.version`), and the kernel choice is probed with
:func:`numfit._kernelselect.choice`, which imports at most the compiled (Cython) extension.
CuPy is imported only when it is installed, to count the CUDA devices; any failure there is
reported, never raised.
"""
import importlib.metadata
import importlib.util
import sys

from . import _kernelselect

__all__ = ["show_config", "config_info"]

# kernel family -> what it does (the families are numfit._kernelselect.FAMILIES)
_FAMILY_ROLES = {
    "autoknots": "AutoKnots fits and spline evaluation (numfit.interpolate)",
    "sor": "SOR / SSOR-CG sweeps (numfit.linalg)",
    "sketch": "sketch-and-project steps (numfit.linalg, numfit.optimize)",
    "basis": "polynomial bases (numfit.approx)",
    "sample": "optimal / DPP samplers (numfit.approx)",
}
_BACKEND_NAMES = {"cython": "compiled (Cython)", "numba": "Numba"}
_DEPENDENCIES = ("numpy", "scipy", "numba", "cupy")


def _module_installed(name):
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _version(module):
    """The version of ``module`` (an import name), or None when it is not installed.

    Read from the distribution metadata, so the module is not imported (CuPy's distribution
    names vary: ``cupy``, ``cupy-cuda12x``, ...); a module already imported answers
    ``__version__``.
    """
    mod = sys.modules.get(module)
    if mod is not None and getattr(mod, "__version__", None):
        return str(mod.__version__)
    if not _module_installed(module):
        return None
    dists = [module]
    if module == "cupy":
        try:
            dists = importlib.metadata.packages_distributions().get("cupy", []) or dists
        except Exception:                                  # pragma: no cover - odd metadata
            pass
    for dist in dists:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "installed (version unknown)"


def _gpu():
    """``(visible, detail)``: CuPy importable and at least one CUDA device."""
    if not _module_installed("cupy"):
        return False, "CuPy not installed"
    try:
        import cupy
        n = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as exc:       # ImportError, CUDARuntimeError, no driver, ...
        return False, f"CuPy cannot use a GPU ({type(exc).__name__}: {exc})"
    if n < 1:
        return False, "CuPy sees no CUDA device"
    try:
        name = cupy.cuda.runtime.getDeviceProperties(0)["name"]
        name = name.decode() if isinstance(name, bytes) else str(name)
    except Exception:
        name = "device 0"
    return True, f"{n} CUDA device{'s' if n > 1 else ''} ({name})"


def _kernel_rows():
    rows = []
    for family in _kernelselect.FAMILIES:
        try:
            name, note = _kernelselect.choice(family)
        except ValueError as exc:                          # bad NUMFIT_KERNELS
            rows.append((family, "unavailable", str(exc)))
            continue
        backend = _BACKEND_NAMES[name]
        if name == "numba" and _version("numba") is None:
            backend, note = "unavailable", "Numba is not installed" + (f"; {note}" if note
                                                                       else "")
        rows.append((family, backend, note))
    return rows


def config_info():
    """numfit's configuration as a ``dict`` (what :func:`show_config` prints).

    Keys: ``numfit`` (version), ``kernels_requested`` (``NUMFIT_KERNELS`` or "cython"),
    ``kernels`` (family -> ``{"backend", "note", "role"}``), ``dependencies`` (module ->
    version or None), ``gpu`` (``{"visible", "detail"}``).
    """
    from . import __version__
    gpu, detail = _gpu()
    return {
        "numfit": __version__,
        "kernels_requested": _kernelselect.requested(),
        "kernels": {family: {"backend": backend, "note": note,
                             "role": _FAMILY_ROLES.get(family, "")}
                    for family, backend, note in _kernel_rows()},
        "dependencies": {m: _version(m) for m in _DEPENDENCIES},
        "gpu": {"visible": gpu, "detail": detail},
    }


def show_config(file=None):
    """Print numfit's version, kernel backends, dependency versions and GPU visibility.

    One line per kernel family says which implementation numfit uses: the compiled Cython
    extension (the default), its Numba twin (``NUMFIT_KERNELS=numba``, or an unbuilt source
    checkout), or Numba for the families that only have Numba kernels. The NumPy, SciPy,
    Numba and CuPy versions follow ("not installed" when absent), then whether a GPU is
    visible (CuPy importable and at least one CUDA device); array-namespace code runs with
    NumPy unless it is handed CuPy arrays. Nothing is imported to find this out except the
    compiled kernels and, when it is installed, CuPy (to count devices); Numba is not
    imported.

    Parameters
    ----------
    file : file-like, optional
        Where to print (default ``sys.stdout``).

    Returns
    -------
    None
        The report is printed, not returned (``numfit._config.config_info()`` gives it as
        a ``dict``).

    See Also
    --------
    numpy.show_config : NumPy's build and BLAS configuration.
    scipy.show_config : SciPy's build configuration.

    Examples
    --------
    >>> import numfit
    >>> numfit.show_config()  # doctest: +ELLIPSIS
    numfit ...
    kernels (NUMFIT_KERNELS=...):
      autoknots  ...
    dependencies:
      numpy      ...
    GPU: ...
    """
    info = config_info()
    out = sys.stdout if file is None else file
    w = max(map(len, list(info["kernels"]) + list(info["dependencies"]))) + 2
    wb = max(len(k["backend"]) for k in info["kernels"].values()) + 2
    lines = [f"numfit {info['numfit']}",
             f"kernels (NUMFIT_KERNELS={info['kernels_requested']}):"]
    for family, k in info["kernels"].items():
        note = f" [{k['note']}]" if k["note"] else ""
        lines.append(f"  {family:<{w}}{k['backend']:<{wb}}{k['role']}{note}")
    lines.append("dependencies:")
    for mod, version in info["dependencies"].items():
        lines.append(f"  {mod:<{w}}{version or 'not installed'}")
    gpu = info["gpu"]
    lines.append(f"GPU: {'yes' if gpu['visible'] else 'no'} ({gpu['detail']})")
    print("\n".join(lines), file=out)
