"""``obj.save(path)`` / ``numfit.load(path)``: exact round trips for every fitted object, a
format version in the file, clear errors for foreign, damaged and newer files."""
import json
import os

import numpy as np
import pytest

import numfit
from numfit import _io
from numfit.cosmology import Cosmology, LinearPower
from numfit.linalg import laplacian_2d, prepare

X = np.linspace(0.05, 2.95, 1001)


def _roundtrip(obj, tmp_path, name="obj"):
    path = obj.save(tmp_path / name)
    assert path.endswith(".npz") and os.path.exists(path)
    return numfit.load(path)


@pytest.mark.parametrize("kind", ["cubic", "chebyshev"])
@pytest.mark.parametrize("space", ["linear", "loglog"])
def test_1d_tables_round_trip_exactly(tmp_path, kind, space):
    s = numfit.autoknots(lambda x: 2 + np.sin(x), 0.01, 3.0, rtol=1e-9, kind=kind,
                         space=space)
    t = _roundtrip(s, tmp_path)
    assert type(t) is type(s) and t == s
    for nu in range(3):
        assert np.array_equal(t(X, nu=nu), s(X, nu=nu))
    assert t.integrate(0.1, 2.0) == s.integrate(0.1, 2.0)
    assert (t.n_evals, t.status, t.message) == (s.n_evals, s.status, s.message)


def test_vector_table_round_trips(tmp_path):
    s = numfit.autoknots(lambda x: np.stack([np.sin(x), np.cos(x) + 2], axis=-1), 0.0, 3.0,
                         rtol=1e-7)
    t = _roundtrip(s, tmp_path)
    assert np.array_equal(t(X), s(X))


def test_2d_table_round_trips(tmp_path):
    s = numfit.autoknots2d(lambda x, y: 2 + np.sin(3 * x) * np.cos(2 * y), (0, 1), (0, 1),
                           rtol=1e-6)
    t = _roundtrip(s, tmp_path)
    assert type(t) is type(s) and t.shape == s.shape
    y = X[::-1] / 3
    assert np.array_equal(t(X / 3, y), s(X / 3, y))
    assert np.array_equal(t(X / 3, y, dx=1), s(X / 3, y, dx=1))


def test_wls_result_round_trips(tmp_path):
    V = numfit.PolynomialSpace("legendre", 10)
    r = numfit.wls(lambda x: 1 / (1 + 25 * x ** 2), V, rng=3)
    t = _roundtrip(r, tmp_path)
    assert type(t) is type(r)
    x = np.linspace(-1, 1, 201)
    assert np.array_equal(t.expansion(x), r.expansion(x))
    assert np.array_equal(t.coef, r.coef) and t.n_evals == r.n_evals
    assert np.array_equal(t.sample.points, r.sample.points)
    assert t.space.to_dict() == r.space.to_dict()


def test_tuner_round_trip_continues_the_same_sequence(tmp_path):
    """A saved tuner (policy weights, history and random state) makes the same choices
    afterwards as the original."""
    A = prepare(laplacian_2d(8))
    b = np.ones(A.shape[0])
    tuner = numfit.RelaxationTuner("tsallis", rng=7)
    for _ in range(5):
        tuner.solve(A, b)
    copy = _roundtrip(tuner, tmp_path)
    for _ in range(5):
        r1, r2 = tuner.solve(A, b), copy.solve(A, b)
        assert r1.nit == r2.nit and np.array_equal(r1.x, r2.x)
    assert np.array_equal(np.asarray(tuner.history["omegas"]),
                          np.asarray(copy.history["omegas"]))


def test_cosmology_keeps_its_built_tables(tmp_path):
    cosmo = Cosmology(H0=70.0, Om0=0.3, Ob0=0.05, Tcmb0=2.7255, rtol=1e-7)
    z = np.linspace(0.0, 5.0, 101)
    d = cosmo.comoving_distance(z)
    t = _roundtrip(cosmo, tmp_path)
    assert np.array_equal(t.comoving_distance(z), d)
    assert repr(t) == repr(cosmo)


def test_linear_power_keeps_its_sigma_table(tmp_path):
    lp = LinearPower(Cosmology(H0=67.7, Om0=0.31, Ob0=0.049, Tcmb0=2.7255), rtol=1e-5)
    R = np.geomspace(0.5, 50, 20)
    sig = lp.sigma(R)
    t = _roundtrip(lp, tmp_path)
    assert np.array_equal(t.sigma(R), sig) and repr(t) == repr(lp)


def test_module_level_save(tmp_path):
    s = numfit.autoknots(np.exp, 0.0, 1.0, rtol=1e-8)
    path = numfit.save(s, tmp_path / "e.npz")
    assert numfit.load(path) == s


def test_newer_format_version_is_refused_with_both_versions(tmp_path):
    s = numfit.autoknots(np.exp, 0.0, 1.0, rtol=1e-6)
    path = s.save(tmp_path / "e")
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    header = json.loads(str(arrays["__numfit__"][()]))
    header["format_version"] = _io.FORMAT_VERSION + 1
    arrays["__numfit__"] = np.array(json.dumps(header))
    np.savez(tmp_path / "newer.npz", **arrays)
    with pytest.raises(ValueError, match=rf"format version {_io.FORMAT_VERSION + 1}.*"
                                         rf"up to {_io.FORMAT_VERSION}.*upgrade"):
        numfit.load(tmp_path / "newer.npz")


def test_foreign_and_damaged_files(tmp_path):
    np.savez(tmp_path / "plain.npz", a=np.ones(3))
    with pytest.raises(ValueError, match="not one written by numfit.save"):
        numfit.load(tmp_path / "plain.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="not a readable .npz"):
        numfit.load(tmp_path / "junk.npz")
    with pytest.raises(ValueError, match="not a readable"):
        numfit.load(tmp_path / "missing.npz")
    header = dict(format=_io.FORMAT, format_version=1, numfit_version="0",
                  cls="os:system", tree={"__obj__": "os:system", "state": {}})
    np.savez(tmp_path / "evil.npz", __numfit__=np.array(json.dumps(header)))
    with pytest.raises(ValueError, match="not a numfit class"):
        numfit.load(tmp_path / "evil.npz")


def test_unsaveable_objects_name_the_attribute_and_write_nothing(tmp_path):
    with pytest.raises(TypeError, match="numfit objects"):
        numfit.save(np.ones(3), tmp_path / "a.npz")
    r = numfit.Result(x=np.ones(2), fun=lambda x: x)
    with pytest.raises(TypeError, match=r"\['fun'\].*function"):
        numfit.save(r, tmp_path / "r.npz")
    assert list(tmp_path.iterdir()) == []


def test_interrupted_save_leaves_no_file(tmp_path, monkeypatch):
    s = numfit.autoknots(np.exp, 0.0, 1.0, rtol=1e-6)

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(_io.np, "savez", boom)
    with pytest.raises(KeyboardInterrupt):
        s.save(tmp_path / "e.npz")
    assert list(tmp_path.iterdir()) == []


def test_policy_round_trips(tmp_path):
    pol = numfit.ChebCB(np.linspace(1.0, 1.9, 10), (0.0, 1.0), rng=2)
    copy = _roundtrip(pol, tmp_path)
    assert type(copy) is numfit.ChebCB
    assert copy.select(0.3) == pol.select(0.3)


def test_halo_profile_with_numfit_density_round_trips(tmp_path):
    from numfit.cosmology import NFWProfile
    p = NFWProfile(1e14, 5.0, z=0.3)
    R = np.geomspace(0.01, 5.0, 50)
    ds = p.delta_sigma(R)
    t = _roundtrip(p, tmp_path)
    assert np.array_equal(t.delta_sigma(R), ds)


def test_polynomial_space_round_trips(tmp_path):
    V = numfit.PolynomialSpace("legendre", 6, dim=2)
    t = _roundtrip(V, tmp_path)
    X = np.random.default_rng(0).uniform(-1, 1, (20, 2))
    assert np.array_equal(t.eval(X), V.eval(X))


def test_user_function_is_named_when_it_cannot_be_saved(tmp_path):
    from numfit.cosmology import project_profile
    proj = project_profile(lambda x: 1 / (x * (1 + x) ** 2), xmin=1e-3, xmax=1e3, rtol=1e-6)
    with pytest.raises(TypeError, match=r"_rho_hat.*user function"):
        proj.save(tmp_path / "p")
    assert list(tmp_path.iterdir()) == []
