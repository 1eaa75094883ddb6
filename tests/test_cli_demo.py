"""`python -m numfit demo`: sections, options, progress lines and matplotlib figures."""
import struct

import pytest

from numfit import __main__ as cli
from numfit._demo import SECTIONS


def _png_size(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_demo_autoknots_section(tmp_path, capsys):
    """The default run is the quick one; a line starts and ends each section; the figure is
    drawn by matplotlib (labelled axes, legend) at its figure size."""
    assert cli.main(["demo", "--only", "autoknots", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "=== [1/1] autoknots: " in out and "NFW Sigma" in out and "max err/tol" in out
    assert "--- autoknots done in " in out and "--full runs the long versions" in out
    rows = [r for r in out.splitlines() if "1e-0" in r and ("yes" in r or "NO" in r)]
    assert len(rows) == 7 and all(r.split()[-3] == "yes" for r in rows)
    assert all(float(r.split()[-4]) < 1 for r in rows)      # achieved error / tolerance
    assert _png_size(tmp_path / "numfit_demo_autoknots.png") == (880, 770)


def test_demo_without_matplotlib_says_how_to_install_it(tmp_path, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_mpl(name, *a, **k):
        if name.startswith("matplotlib"):
            raise ImportError("matplotlib hidden by the test")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_mpl)
    with pytest.raises(ImportError, match=r"numfit\[demo\]"):
        cli.main(["demo", "--only", "autoknots", "--out", str(tmp_path)])


def test_demo_unknown_section_lists_the_sections(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["demo", "--only", "autoknots", "nosuch"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "unknown section(s) nosuch" in err
    assert all(name in err for name in SECTIONS)


def test_demo_help_lists_the_sections(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["demo", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "--full" in out and "sections (in this order):" in out
    listed = [line.split()[0] for line in out.splitlines()[out.splitlines().index(
        "sections (in this order):") + 1:] if line.strip()]
    assert listed == list(SECTIONS)


def test_demo_full_and_quick_exclude_each_other():
    with pytest.raises(SystemExit):
        cli.main(["demo", "--full", "--quick", "--only", "autoknots"])


def test_run_rejects_unknown_sections(tmp_path):
    from numfit._demo import run
    with pytest.raises(ValueError, match="unknown demo section"):
        run(str(tmp_path), only=["nosuch"])
    assert list(tmp_path.iterdir()) == []


def test_cli_needs_a_command():
    with pytest.raises(SystemExit):
        cli.main([])


def test_demo_cosmology_section(tmp_path, capsys):
    assert cli.main(["demo", "--only", "cosmology", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "=== [1/1] cosmology: " in out and "comoving distance" in out
    # every table's achieved error is printed as a fraction of rtol, all below 1
    ratios = [float(line.split()[-1]) for line in out.splitlines()
              if line.strip().startswith(("comoving", "lookback", "growth"))]
    assert len(ratios) == 4 and max(ratios) < 1.0
    assert "sigma(8/h Mpc) = 0.810000" in out


def test_demo_autoknots_kinds_section(tmp_path, capsys):
    """Both kinds on an integral-defined f (a quad per evaluation): counts, the verified
    error (< 1 for both) and the ratio of evaluations; no figure."""
    assert cli.main(["demo", "--only", "autoknots-kinds", "--out",
                     str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "] autoknots-kinds: " in out and "] autoknots: " not in out
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
    """P(k, z) on an adaptive tensor grid, both kinds: grid shape, evaluations (= grid size
    for the cubic kind), passes, the verified error (< 1), the build time, the uniform-grid
    comparison and the figure."""
    assert cli.main(["demo", "--only", "autoknots2d", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "] autoknots2d: " in out and "] autoknots: " not in out
    assert "log_f=True" in out and "rtol = 1e-06" in out
    rows = {r[0]: r for r in (line.split() for line in out.splitlines())
            if len(r) > 1 and r[0] in ("cubic", "chebyshev") and r[1] == "1e-06"}
    assert set(rows) == {"cubic", "chebyshev"}
    for kind, row in rows.items():
        # kind, rtol, nx, "x", ny, evals, passes, max err/tol, converged, build, "ms"
        assert len(row) == 11 and row[3] == "x" and row[-1] == "ms"
        nx, ny, evals, passes = int(row[2]), int(row[4]), int(row[5]), int(row[6])
        assert nx > ny >= 15 and passes >= 2
        assert evals == nx * ny if kind == "cubic" else evals >= nx * ny
        assert row[8] == "yes" and float(row[7]) < 1.0 and float(row[9]) > 0
    evals = int(rows["cubic"][5])
    line = next(x for x in out.splitlines() if "numfit / uniform =" in x)
    unx, uny, uevals = (int(v) for v in line.split()[0:5:2])
    assert uevals == unx * uny
    words = line.split()
    cubic = float(words[words.index("(cubic),") - 1])
    cheb = float(words[words.index("(chebyshev)") - 1])
    assert cubic == pytest.approx(evals / uevals, abs=0.005)
    assert cheb == pytest.approx(int(rows["chebyshev"][5]) / uevals, abs=0.005)
    png = tmp_path / "numfit_demo_autoknots2d.png"
    assert _png_size(png) == (900, 560)


def test_bench_outside_a_source_checkout_says_where_the_suite_lives(monkeypatch, capsys):
    """From a wheel install there is no benchmarks/ folder next to the package."""
    real_isdir = cli.os.path.isdir
    monkeypatch.setattr(cli.os.path, "isdir",
                        lambda p: False if str(p).endswith("benchmarks") else real_isdir(p))
    assert cli.main(["bench", "--quick"]) == 2
    assert "benchmarks/ folder" in capsys.readouterr().err


def test_config_command_prints_the_backends(capsys):
    assert cli.main(["config"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("numfit ") and "autoknots" in out and "GPU:" in out


def test_demo_ssor_section(tmp_path, capsys):
    """Eisenstat's form against the plain one (iterates equal up to rounding), omega='auto'
    against the best grid omega (iteration counts: deterministic) and policy='auto' against
    Tsallis-INF and the best fixed omega (the issue's bands), and the figure. No timing is
    asserted."""
    assert cli.main(["demo", "--only", "ssor", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "] ssor: " in out and "] sor: " not in out
    names = ("2-D Poisson", "3-D Poisson", "rotated anisotropic", "random graph")
    lines = [x for x in out.splitlines() if x.strip().startswith(names)]
    eis = [x.split() for x in lines if "e-" in x.split()[-1]]
    assert len(eis) == 4
    for row in eis:      # ..., n, nnz, plain ms/it, Eisenstat ms/it, ratio, max|dx|/max|x|
        assert float(row[-1]) < 1e-9 and float(row[-2]) > 0 and float(row[-3]) > 0
    auto = [r for r in (x.split() for x in lines) if len(r) > 10 and r[-10] in ("sor",
                                                                            "ssor_cg")]
    assert len(auto) == 8
    for row in auto:     # solver, w auto, its, steps, est, "/", call, best w, its, ratio
        w, nit, steps, w_best, n_best = (float(row[-9]), int(row[-8]), int(row[-7]),
                                         float(row[-3]), int(row[-2]))
        assert 1.0 <= w < 2.0 and 1.0 <= w_best < 2.0 and steps >= 1
        assert float(row[-1]) == pytest.approx(nit / n_best, abs=0.005)
        assert nit <= 1.2 * n_best
    tab = {r[0]: r for r in (x.split() for x in out.splitlines())
           if r[:1] in (["policy='auto'"], ["Tsallis-INF"])}
    assert set(tab) == {"policy='auto'", "Tsallis-INF"}
    total, last = float(tab["policy='auto'"][2]), float(tab["policy='auto'"][3])
    assert total <= 1.15 and last <= 1.10 and 1.0 < float(tab["policy='auto'"][4]) < 2.0
    assert float(tab["Tsallis-INF"][2]) > total
    assert _png_size(tmp_path / "numfit_demo_ssor_policy_auto.png") == (576, 360)
