"""`python -m numfit demo` and the dependency-free PNG writer it falls back on."""
import struct
import zlib

import numpy as np
import pytest

from numfit import __main__ as cli
from numfit._png import Canvas


def _read_png(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h, depth, ctype = struct.unpack(">IIBB", data[16:26])
    idat = data.index(b"IDAT")
    n = struct.unpack(">I", data[idat - 4:idat])[0]
    raw = zlib.decompress(data[idat + 4:idat + 4 + n])
    img = np.frombuffer(raw, np.uint8).reshape(h, 1 + 3 * w)[:, 1:].reshape(h, w, 3)
    return w, h, depth, ctype, img


def test_canvas_writes_a_valid_png(tmp_path):
    cv = Canvas(200, 150, panels=2)
    cv.axes(0, (1e-2, 1e2), (1e-3, 10), logx=True, logy=True)
    x = np.geomspace(1e-2, 1e2, 50)
    cv.line(0, x, 1 / (1 + x))
    cv.markers(0, x[::10], 1 / (1 + x[::10]))
    cv.axes(1, (0, 1), (0, 1))
    cv.line(1, [0, 1], [0, 1], color=(0, 200, 0))
    p = tmp_path / "c.png"
    cv.save(p)
    w, h, depth, ctype, img = _read_png(p)
    assert (w, h, depth, ctype) == (200, 150, 8, 2)
    assert (img == [214, 39, 40]).all(-1).any()        # knot markers drawn
    assert (img == [0, 200, 0]).all(-1).sum() > 50      # the diagonal line is continuous


def test_demo_autoknots_section_without_matplotlib(tmp_path, monkeypatch, capsys):
    import builtins
    real_import = builtins.__import__

    def no_mpl(name, *a, **k):
        if name.startswith("matplotlib"):
            raise ImportError("matplotlib hidden by the test")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_mpl)
    assert cli.main(["demo", "--quick", "--only", "autoknots", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "NFW Sigma" in out and "max err/tol" in out
    rows = [r for r in out.splitlines() if "1e-0" in r and ("yes" in r or "NO" in r)]
    assert len(rows) == 7 and all(r.split()[-3] == "yes" for r in rows)
    assert all(float(r.split()[-4]) < 1 for r in rows)      # achieved error / tolerance
    w, h, *_ = _read_png(tmp_path / "numfit_demo_autoknots.png")
    assert (w, h) == (900, 650)


def test_cli_needs_a_command():
    with pytest.raises(SystemExit):
        cli.main([])


def test_demo_cosmology_section(tmp_path, capsys):
    assert cli.main(["demo", "--quick", "--only", "cosmology", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "=== cosmology" in out and "comoving distance" in out
    # every table's achieved error is printed as a fraction of rtol, all below 1
    ratios = [float(line.split()[-1]) for line in out.splitlines()
              if line.strip().startswith(("comoving", "lookback", "growth"))]
    assert len(ratios) == 4 and max(ratios) < 1.0
    assert "sigma(8/h Mpc) = 0.810000" in out


def test_demo_autoknots_kinds_section(tmp_path, capsys):
    """Both kinds on an integral-defined f (a quad per evaluation): counts, the verified
    error (< 1 for both) and the ratio of evaluations; no figure."""
    assert cli.main(["demo", "--quick", "--only", "autoknots-kinds", "--out",
                     str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "=== autoknots-kinds" in out and "=== autoknots =" not in out
    assert "scipy.integrate.quad" in out and "rtol = 1e-08" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines()
            if line.split()[:1] in (["cubic"], ["chebyshev"])
            and line.split()[-1] in ("yes", "NO")}
    assert set(rows) == {"cubic", "chebyshev"}
    evals = {}
    for kind, fields in rows.items():
        assert fields[-1] == "yes"                       # converged
        assert float(fields[-2]) < 1.0                   # verified error / tolerance
        assert fields[3] == "ms" and fields[5] == "ms"   # build time, time in f
        assert 0 < float(fields[4]) <= float(fields[2])  # time in f is part of the build
        evals[kind] = int(fields[1])
    assert evals["chebyshev"] < evals["cubic"] / 3       # smooth f at rtol 1e-8
    line = next(x for x in out.splitlines() if x.startswith("chebyshev / cubic evaluations:"))
    assert float(line.split()[-1]) == pytest.approx(evals["chebyshev"] / evals["cubic"],
                                                    abs=0.005)
    assert list(tmp_path.iterdir()) == []                # the section writes no figure


def test_demo_autoknots2d_section(tmp_path, capsys):
    """P(k, z) on an adaptive tensor grid: grid shape, evaluations (= grid size), passes,
    the verified error (< 1), the build time, the uniform-grid comparison and the figure."""
    assert cli.main(["demo", "--quick", "--only", "autoknots2d", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "=== autoknots2d" in out and "=== autoknots =" not in out
    assert "log_f=True" in out and "rtol = 1e-06" in out
    row = next(line.split() for line in out.splitlines() if line.startswith("1e-06"))
    # rtol, nx, "x", ny, evals, passes, reopened, max err/tol, converged, build, "ms"
    assert len(row) == 11 and row[2] == "x" and row[-1] == "ms"
    nx, ny, evals, passes = int(row[1]), int(row[3]), int(row[4]), int(row[5])
    assert evals == nx * ny and nx > ny >= 15 and passes >= 2
    assert row[8] == "yes" and float(row[7]) < 1.0 and float(row[9]) > 0
    line = next(x for x in out.splitlines() if "numfit / uniform =" in x)
    unx, uny, uevals = (int(v) for v in line.split()[0:5:2])
    assert uevals == unx * uny
    assert float(line.split()[-1]) == pytest.approx(evals / uevals, abs=0.005)
    png = tmp_path / "numfit_demo_autoknots2d.png"
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (900, 560)
