"""Import cost (issue 15 item 4) and :func:`numfit.show_config` (item 6).

* ``import numfit`` is cheap: it imports neither Numba nor :mod:`scipy.optimize`, and it
  costs at most 1.5x ``import numpy, scipy.sparse`` (medians of fresh subprocesses).
* ``from numfit import autoknots`` and fitting/evaluating a spline never import Numba (the
  Cython kernels are the default); the Numba-only families load Numba on first use.
* Every public name is importable and listed by ``dir(numfit)``; the subpackages import.
* :func:`numfit.show_config` reports the version, the backend per kernel family, the
  dependency versions and the GPU, without importing Numba or warning, with or without CuPy.
"""
import io
import os
import pickle
import statistics
import subprocess
import sys
import textwrap
import time
import types
import warnings

import numpy as np
import pytest

import numfit
from numfit import _config, _kernelselect


def _run(code, env=None, **kw):
    """Run ``code`` in a fresh interpreter; return its stdout (fail on a non-zero exit)."""
    full_env = dict(os.environ)
    full_env.pop("NUMFIT_KERNELS", None)
    full_env.update(env or {})
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                       text=True, env=full_env, timeout=300, **kw)
    assert p.returncode == 0, p.stderr
    return p.stdout


# --------------------------------------------------------------------------- import cost
def _cost(code):
    """Seconds a fresh ``python -c code`` takes: CPU time (user + sys) where the OS reports
    it per child (robust on a busy shared machine), else wall-clock time."""
    cmd = [sys.executable, "-c", code]
    env = {k: v for k, v in os.environ.items() if k != "NUMFIT_KERNELS"}
    if hasattr(os, "wait4"):
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        assert proc.returncode == 0, code
        return usage.ru_utime + usage.ru_stime
    t0 = time.perf_counter()                                   # pragma: no cover - Windows
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def test_import_numfit_is_cheap():
    """``import numfit`` <= 1.5x ``import numpy, scipy.sparse`` (each less ``pass``), medians
    of 5 interleaved fresh subprocesses, with 50 ms of slack for a noisy machine."""
    codes = {"pass": "pass", "base": "import numpy, scipy.sparse", "numfit": "import numfit"}
    _cost("import numfit")                                     # warm the file cache
    times = {k: [] for k in codes}
    for _ in range(5):
        for k, c in codes.items():
            times[k].append(_cost(c))
    med = {k: statistics.median(v) for k, v in times.items()}
    base = med["base"] - med["pass"]
    ours = med["numfit"] - med["pass"]
    assert ours <= 1.5 * base + 0.05, (
        f"import numfit {1e3 * ours:.0f} ms vs import numpy, scipy.sparse {1e3 * base:.0f} ms "
        f"(medians less `python -c pass`; all: {times})")


def test_import_numfit_loads_no_heavy_modules():
    out = _run("""
        import sys
        import numfit
        heavy = ("numba", "scipy.optimize", "scipy.interpolate", "scipy.integrate",
                 "scipy.linalg", "numfit.interpolate", "numfit.linalg", "numfit.approx",
                 "numfit.optimize", "numfit.cosmology", "cupy")
        print(sorted(m for m in heavy if m in sys.modules))
    """)
    assert out.strip() == "[]"


def test_autoknots_never_imports_numba():
    out = _run("""
        import sys
        import numpy as np
        from numfit import autoknots
        s = autoknots(np.sin, 0, 1, rtol=1e-6)
        assert abs(s(0.5) - np.sin(0.5)) < 1e-5
        c = autoknots(np.sin, 0, 1, rtol=1e-6, kind="chebyshev")
        assert abs(c(0.5) - np.sin(0.5)) < 1e-5
        from numfit import autoknots2d
        t = autoknots2d(lambda x, y: np.sin(x) * np.cos(y), (0, 1), (0, 1), rtol=1e-5)
        assert abs(t(0.5, 0.5) - np.sin(0.5) * np.cos(0.5)) < 1e-4
        assert "scipy.optimize" not in sys.modules, "autoknots alone needs no scipy.optimize"
        assert abs(s.to_ppoly()(0.5) - s(0.5)) < 1e-12   # scipy.interpolate loaded here
        assert "numba" not in sys.modules
        print("ok")
    """)
    assert out.strip() == "ok"


def test_numba_loaded_only_when_its_kernels_are_used():
    out = _run("""
        import sys
        import numpy as np
        import numfit.linalg, numfit.approx
        print("numba" in sys.modules)
        space = numfit.PolynomialSpace("legendre", degree=3)
        space.eval(np.linspace(-1, 1, 5))          # the Numba basis kernels
        print("numba" in sys.modules)
    """)
    assert out.split() == ["False", "True"]


def test_numba_kernels_asked_for_are_used():
    out = _run("""
        import sys
        from numfit.interpolate import _kernels
        print(_kernels.kernels.__name__, "numba" in sys.modules)
    """, env={"NUMFIT_KERNELS": "numba"})
    assert out.split() == ["numfit._core._nb_autoknots", "True"]


# --------------------------------------------------------------------------- public names
def test_public_names_importable_in_a_fresh_process():
    out = _run("""
        import numfit
        names = [n for n in numfit.__all__]
        missing = [n for n in names if n not in dir(numfit)]
        ns = {}
        exec("from numfit import " + ", ".join(names), ns)
        star = {}
        exec("from numfit import *", star)
        print(missing, sorted(set(names) - set(star)), all(n in ns for n in names))
    """)
    assert out.strip() == "[] [] True"


def test_public_names_are_the_subpackage_objects():
    import numfit.approx
    import numfit.interpolate
    import numfit.linalg
    import numfit.optimize
    for name in numfit.__all__:
        obj = getattr(numfit, name)
        assert obj is not None
        home = numfit._LAZY.get(name)
        if home and home.lstrip(".") in numfit._SUBPACKAGES:
            assert obj is getattr(getattr(numfit, home.lstrip(".")), name)
    assert "show_config" in numfit.__all__ and "show_config" in dir(numfit)
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        numfit.no_such_name


def test_subpackages_import_and_attribute_access():
    out = _run("""
        import numfit
        print(numfit.linalg.__name__, numfit.cosmology.Cosmology.__name__,
              numfit.optimize.minimize_alsketch.__name__, numfit.approx.wls.__name__,
              numfit.interpolate.autoknots.__name__)
        import numfit.cosmology, numfit.linalg, numfit.approx, numfit.optimize
        from numfit.linalg import greedy_coloring, sor_sweep
        from numfit.cosmology import Cosmology
    """)
    assert out.split() == ["numfit.linalg", "Cosmology", "minimize_alsketch", "wls",
                           "autoknots"]


# --------------------------------------------------------------------------- Result
def test_result_is_a_rich_dict_without_scipy_optimize():
    r = numfit.Result(x=np.arange(3.0), success=True, status=0, message="ok")
    assert isinstance(r, dict)
    assert r.success is True and r["status"] == 0
    r.nit = 4
    assert r["nit"] == 4
    del r.nit
    assert "nit" not in r
    with pytest.raises(AttributeError):
        r.nit
    assert set(dir(r)) == {"x", "success", "status", "message"}
    text = repr(r)
    assert text.index("message") < text.index("success") < text.index("status")
    assert repr(numfit.Result()) == "Result()"
    q = pickle.loads(pickle.dumps(r))
    assert type(q) is numfit.Result and q.message == "ok"
    np.testing.assert_array_equal(q.x, r.x)


# --------------------------------------------------------------------------- show_config
def test_show_config_output():
    buf = io.StringIO()
    assert numfit.show_config(file=buf) is None
    text = buf.getvalue()
    lines = text.splitlines()
    assert lines[0] == f"numfit {numfit.__version__}"
    assert lines[1].startswith("kernels (NUMFIT_KERNELS=")
    for family in _kernelselect.FAMILIES:
        assert any(ln.split()[:1] == [family] for ln in lines), family
    assert f"numpy      {np.__version__}" in text
    import scipy
    assert f"scipy      {scipy.__version__}" in text
    for mod in ("numba", "cupy"):
        row = next(ln for ln in lines if ln.split()[:1] == [mod])
        assert len(row.split()) >= 2
    assert lines[-1].startswith(("GPU: yes", "GPU: no"))


def test_show_config_imports_no_numba_and_prints_to_stdout():
    for env, backend in (({}, "compiled (Cython)"), ({"NUMFIT_KERNELS": "numba"}, "Numba")):
        out = _run("""
            import sys, warnings
            warnings.simplefilter("error")
            import numfit
            numfit.show_config()
            print("numba imported:", "numba" in sys.modules)
        """, env=env)
        assert "numba imported: False" in out
        row = next(ln for ln in out.splitlines() if ln.split()[:1] == ["autoknots"])
        assert row.split(None, 1)[1].startswith(backend)
        for family in ("basis", "sample"):
            row = next(ln for ln in out.splitlines() if ln.split()[:1] == [family])
            assert "Numba" in row and "Numba-only" in row


def test_numba_only_family_never_warns_not_built(monkeypatch):
    monkeypatch.delenv("NUMFIT_KERNELS", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _kernelselect.choice("basis") == ("numba", "Numba-only kernels")
        assert _kernelselect.choice("sample")[0] == "numba"
        assert _kernelselect.default("basis").__name__ == "numfit._core._nb_basis"
        assert _kernelselect.default("sample").__name__ == "numfit._core._nb_sample"
    with pytest.raises(ImportError, match="no compiled"):
        _kernelselect.load("basis", "cython")


def test_show_config_unbuilt_checkout_reports_numba(monkeypatch):
    monkeypatch.delenv("NUMFIT_KERNELS", raising=False)
    real = _kernelselect.load

    def load(family, name):
        if name == "cython":
            raise ImportError(f"No module named 'numfit._core._{family}'")
        return real(family, name)

    monkeypatch.setattr(_kernelselect, "load", load)
    with warnings.catch_warnings():
        warnings.simplefilter("error")              # probing does not warn
        info = _config.config_info()
    for family in ("autoknots", "sor", "sketch"):
        k = info["kernels"][family]
        assert k["backend"] == "Numba" and k["note"].startswith("compiled kernels not built")
    with pytest.warns(RuntimeWarning, match="not built"):   # loading still warns
        _kernelselect.default("sor")


def test_show_config_bad_kernels_env(monkeypatch):
    monkeypatch.setenv("NUMFIT_KERNELS", "fortran")
    info = _config.config_info()
    assert info["kernels"]["autoknots"]["backend"] == "unavailable"
    assert "fortran" in info["kernels"]["autoknots"]["note"]
    assert info["kernels"]["basis"]["backend"] == "Numba"


def test_show_config_without_cupy(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)       # any `import cupy` would fail
    info = _config.config_info()
    assert info["dependencies"]["cupy"] is None
    assert info["gpu"] == {"visible": False, "detail": "CuPy not installed"}
    buf = io.StringIO()
    numfit.show_config(file=buf)
    assert "cupy       not installed" in buf.getvalue()
    assert "GPU: no (CuPy not installed)" in buf.getvalue()


def _fake_cupy(count):
    def get_count():
        if isinstance(count, Exception):
            raise count
        return count
    runtime = types.SimpleNamespace(getDeviceCount=get_count,
                                    getDeviceProperties=lambda i: {"name": b"Fake GPU"})
    mod = types.ModuleType("cupy")
    mod.__version__ = "99.0"
    mod.__spec__ = types.SimpleNamespace(name="cupy")
    mod.cuda = types.SimpleNamespace(runtime=runtime)
    return mod


@pytest.mark.parametrize("count, visible, detail", [
    (2, True, "2 CUDA devices (Fake GPU)"),
    (0, False, "CuPy sees no CUDA device"),
    (RuntimeError("no CUDA driver"), False, "CuPy cannot use a GPU (RuntimeError: no CUDA "
                                            "driver)"),
])
def test_show_config_gpu_probe(monkeypatch, count, visible, detail):
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(count))
    info = _config.config_info()
    assert info["gpu"] == {"visible": visible, "detail": detail}
    assert info["dependencies"]["cupy"] == "99.0"
