"""Run every ``docs/examples/*.py`` script in quick mode, as CI does.

Each script runs in a subprocess (``sys.executable <script> --quick --out <tmp_path>``);
the test checks the exit status, a few printed numbers against numfit computed here, and
that the promised PNG files exist and are non-empty.  A new example script is picked up
automatically (exit status and at least one PNG); add an entry to ``CHECKS`` for more.
"""
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from numfit.cosmology import Cosmology, LinearPower, NFWProfile

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "docs" / "examples").glob("*.py"))
PLANCK = dict(H0=67.7, Om0=0.31, Ob0=0.049, Tcmb0=2.7255)


def _row(out, after, first_field):
    """The fields of the first line after the line starting with ``after`` whose first
    field is ``first_field``."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(after))
    for line in lines[start + 1:]:
        fields = line.split()
        if fields and fields[0] == first_field:
            return fields
    raise AssertionError(f"no row {first_field!r} after {after!r} in:\n{out}")


def check_distances(out):
    assert "all table accuracy checks passed" in out
    assert ("astropy not installed: comparison skipped" in out
            or "astropy comparison" in out)
    # Planck-like table, z = 1: D_C D_M D_A D_L mu t_L
    fields = _row(out, "Planck-like:", "1.0")
    cosmo = Cosmology(**PLANCK)
    dl = cosmo.luminosity_distance(1.0, exact=True)
    assert float(fields[4]) == pytest.approx(dl, abs=0.02)
    assert float(fields[6]) == pytest.approx(cosmo.lookback_time(1.0, exact=True), abs=1e-4)
    # the AutoKnots cost/accuracy table: err/rtol well below 1 for every row
    rows = [line.split() for line in out.splitlines()
            if re.match(r"\s+(Planck-like|w0-wa|open)\s+\w+\s+\w+\s+\d+\s", line)]
    assert len(rows) == 12
    assert all(int(r[3]) > 10 and float(r[5]) < 1.0 for r in rows)


def check_halos(out):
    assert "all projection accuracy checks passed" in out
    assert "[M_sun/pc^2]" in out
    # 1e14 NFW row: M, profile, c200c, r200c, r_s, ΔΣ at R = 0.1, 0.3, 1, 3 Mpc
    fields = _row(out, "Delta Sigma(R)", "1e+14")
    assert fields[1] == "NFW"
    halo = NFWProfile(1e14, float(fields[2]), 0.3, cosmology=Cosmology(**PLANCK))
    assert float(fields[3]) == pytest.approx(halo.r_delta, abs=1e-4)
    ds = halo.delta_sigma(np.array([0.1, 0.3, 1.0, 3.0])) / 1e12     # M_sun/pc²
    np.testing.assert_allclose([float(v) for v in fields[5:9]], ds, rtol=2e-4)
    assert "share one projection table: True" in out


def check_sigma(out):
    assert "all sigma checks passed" in out
    m = re.search(r"wiggle\s+table (\d\.\d+)\s+exact (\d\.\d+)", out)
    assert m and float(m.group(2)) == pytest.approx(0.81, abs=1e-9)
    assert float(m.group(1)) == pytest.approx(0.81, rel=1e-4)
    # σ(M = 1e14) at z = 0 and 1 with wiggles
    fields = _row(out, "sigma(M)", "1e+14")
    lp = LinearPower(Cosmology(**PLANCK), ns=0.965, sigma8=0.81)
    expect = [lp.sigma_mass(1e14, z, exact=True) for z in (0.0, 1.0)]
    np.testing.assert_allclose([float(fields[2]), float(fields[3])], expect, atol=2e-5)


def check_camb(out):
    assert "all CAMB checks passed" in out
    # sigma8 at z = 0: numfit vs CAMB's get_sigma8 (CAMB's own k sampling: ~2e-4)
    fields = _row(out, "sigma8 = sigma(R = 8/h", "0.0")
    assert abs(float(fields[1]) / float(fields[2]) - 1) < 5e-4
    assert "against scipy quad of the same interpolated P(k)" in out


HAVE_CAMB = importlib.util.find_spec("camb") is not None

CHECKS = {
    "camb_spectrum.py": (check_camb, ["camb_spectrum.png"]),
    "distances_and_growth.py": (check_distances,
                                ["distances_and_growth.png", "distance_table_accuracy.png"]),
    "halo_lensing_profiles.py": (check_halos,
                                 ["halo_delta_sigma.png", "halo_projection_accuracy.png"]),
    "sigma_R_and_M.py": (check_sigma, ["sigma_mass.png", "linear_power.png"]),
}


def test_examples_found():
    assert {p.name for p in EXAMPLES} >= set(CHECKS)


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_in_quick_mode(script, tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT),
                                                        os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, str(script), "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, cwd=tmp_path, env=env,
                          timeout=300)
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    out = proc.stdout
    assert "Traceback" not in proc.stderr
    if script.name == "camb_spectrum.py" and not HAVE_CAMB:
        # optional dependency: the script says so and how to install it, and exits 0
        assert "CAMB is not installed" in out and "pip install camb" in out
        pytest.skip("CAMB not installed: camb_spectrum.py printed its message and exited 0")
    check, pngs = CHECKS.get(script.name, (None, []))
    if check is not None:
        check(out)
    made = sorted(p.name for p in tmp_path.glob("*.png"))
    assert made, f"{script.name} saved no PNG into --out"
    for name in pngs:
        path = tmp_path / name
        assert path.is_file(), f"{script.name} did not save {name} (saved: {made})"
        data = path.read_bytes()
        assert len(data) > 1000 and data[:8] == b"\x89PNG\r\n\x1a\n", name
        assert name in out                          # the script says where it saved it


def test_camb_example_without_camb(tmp_path):
    """Without CAMB (here hidden by a ``camb`` module that fails to import) the script
    prints one line saying so and how to install it, and exits 0."""
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "camb.py").write_text("raise ImportError('camb hidden by the test')\n")
    env = dict(os.environ, MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join(filter(None, [str(shim), str(ROOT),
                                                        os.environ.get("PYTHONPATH")])))
    script = ROOT / "docs" / "examples" / "camb_spectrum.py"
    proc = subprocess.run([sys.executable, str(script), "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1 and "CAMB is not installed" in lines[0]
    assert "pip install camb" in lines[0]
    assert not list(tmp_path.glob("*.png"))
