"""numfit.linalg.sketch_solve and the sketch kernels (Gower & Richtarik 2015; Strohmer &
Vershynin 2009; docs/alsketch.md)."""
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import aslinearoperator

from numfit.linalg import _sketch as sk
from numfit.linalg import sketch_solve
from numfit.linalg._sketch import SKETCHES, SketchRunner
from numfit.optimize._reference import sketch_steps_reference

BACKENDS = ["cython", "numba"]


@pytest.fixture(params=BACKENDS)
def backend(request, monkeypatch):
    mod = sk.load(request.param)
    monkeypatch.setattr(sk, "kernels", mod)
    return mod


def spd(n, cond, seed):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return Q @ np.diag(np.geomspace(1.0, cond, n)) @ Q.T


def kkt(seed, indefinite=False):
    """K = [[B, G^T], [G, 0]] with B 20x20 (SPD, or indefinite with Z^T B Z > 0), G 5x20."""
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((5, 20))
    R = rng.standard_normal((20, 20))
    B = R @ R.T / 20 + 0.5 * np.eye(20)
    if indefinite:
        Q, _ = np.linalg.qr(G.T, mode="complete")
        Y = Q[:, :5]
        B = B - 8.0 * Y @ Y.T                      # negative along range(G^T) only
        Z = Q[:, 5:]
        assert np.linalg.eigvalsh(B)[0] < 0
        assert np.linalg.eigvalsh(Z.T @ B @ Z)[0] > 0
    return np.block([[B, G.T], [G, np.zeros((5, 5))]])


@pytest.mark.parametrize("sketch", SKETCHES)
@pytest.mark.parametrize("cond", [10.0, 100.0])
def test_spd_all_sketches(sketch, cond, backend):
    A = spd(20, cond, 1)
    x_true = np.random.default_rng(2).standard_normal(20)
    b = A @ x_true
    res = sketch_solve(A, b, sketch=sketch, rtol=1e-10, maxiter=3_000_000, rng=0)
    assert res.status == 0 and res.converged and res.success
    assert res.residual <= 1e-10 * np.linalg.norm(b)
    # the maintained residual drifts from the recomputed one by rounding, ~eps ||b|| per
    # few thousand steps (countsketch at cond 100: 1.2e-14 on 9.1e-9 with NumPy 2.4)
    assert np.linalg.norm(A @ res.x - b) == pytest.approx(
        res.residual, rel=1e-6, abs=1e-12 * np.linalg.norm(b))
    assert np.linalg.norm(res.x - x_true) <= 1e-10 * cond * np.linalg.norm(x_true) * 10


@pytest.mark.parametrize("sketch", SKETCHES)
@pytest.mark.parametrize("indefinite", [False, True])
def test_kkt_all_sketches(sketch, indefinite, backend):
    K = kkt(3, indefinite)
    b = np.random.default_rng(4).standard_normal(25)
    res = sketch_solve(K, b, sketch=sketch, rtol=1e-10, maxiter=3_000_000, rng=1)
    assert res.converged
    assert np.max(np.abs(res.x - np.linalg.solve(K, b))) <= 1e-6


@pytest.mark.parametrize("sketch", SKETCHES)
def test_incremental_residual_mode(sketch):
    """check_every=1 keeps r incrementally (K^2 columns); the result is still exact."""
    K = kkt(5)
    b = np.random.default_rng(6).standard_normal(25)
    res = sketch_solve(K, b, sketch=sketch, rtol=1e-9, maxiter=2_000_000, rng=2,
                       check_every=1)
    assert res.converged
    assert np.linalg.norm(K @ res.x - b) <= 1e-9 * np.linalg.norm(b)


@pytest.mark.parametrize("sketch", SKETCHES)
@pytest.mark.parametrize("incr", [False, True])
def test_backends_identical_and_match_reference(sketch, incr):
    K = kkt(7)
    b = np.random.default_rng(8).standard_normal(25)
    zs = []
    for name in BACKENDS:
        run = SketchRunner(K, sketch, np.random.default_rng(11), incremental=incr,
                           kern=sk.load(name))
        z = np.zeros(25)
        run.run(b, z, 0.0, 400, 1 if incr else 9)
        zs.append(z)
    np.testing.assert_array_equal(zs[0], zs[1])            # identical iterates
    run = SketchRunner(K, sketch, np.random.default_rng(11))
    z_ref = sketch_steps_reference(K, b, np.zeros(25), sketch, [run.draw()], 400, k=run.k)
    np.testing.assert_allclose(zs[0], z_ref, rtol=1e-9, atol=1e-9)
    assert not np.allclose(z_ref, 0)


@pytest.mark.parametrize("sketch", SKETCHES)
def test_reproducible_from_seed(sketch, backend):
    K = kkt(9)
    b = np.ones(25)
    a = sketch_solve(K, b, sketch=sketch, rtol=0.0, maxiter=300, rng=42)
    c = sketch_solve(K, b, sketch=sketch, rtol=0.0, maxiter=300, rng=42)
    d = sketch_solve(K, b, sketch=sketch, rtol=0.0, maxiter=300, rng=43)
    np.testing.assert_array_equal(a.x, c.x)
    assert not np.array_equal(a.x, d.x)
    assert a.status == 1 and not a.converged and a.nit == 300


def test_rownorm_kaczmarz_rate():
    """Mean |e_j|^2 over 200 runs <= 1.2 (1 - rho)^j |e_0|^2, rho = s_min^2 / |A|_F^2."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((12, 12)) + 3 * np.eye(12)
    x_true = rng.standard_normal(12)
    b = A @ x_true
    s = np.linalg.svd(A, compute_uv=False)
    rho = s[-1] ** 2 / np.sum(s ** 2)
    for j in (50, 200, 800):
        errs = []
        for seed in range(200):
            res = sketch_solve(A, b, sketch="kaczmarz_rownorm", rtol=0.0, maxiter=j, rng=seed)
            errs.append(np.sum((res.x - x_true) ** 2))
        bound = (1 - rho) ** j * np.sum(x_true ** 2)
        assert np.mean(errs) <= 1.2 * bound, (j, np.mean(errs), bound)
        assert np.mean(errs) >= 1e-4 * bound          # the bound is not vacuous here


@pytest.mark.parametrize("sketch", ["gaussian", "block_gaussian"])
def test_linear_operator_matches_explicit(sketch):
    K = kkt(10)
    b = np.random.default_rng(1).standard_normal(25)
    e = sketch_solve(K, b, sketch=sketch, rtol=0.0, maxiter=200, rng=3, check_every=10)
    o = sketch_solve(aslinearoperator(K), b, sketch=sketch, rtol=0.0, maxiter=200, rng=3,
                     check_every=10)
    np.testing.assert_allclose(o.x, e.x, rtol=1e-8, atol=1e-10)
    full = sketch_solve(aslinearoperator(K), b, sketch=sketch, rtol=1e-8, maxiter=10 ** 6,
                        rng=3)
    assert full.converged and full.n_matvec > 0


@pytest.mark.parametrize("sketch", SKETCHES)
def test_sparse_input_and_rectangular(sketch):
    rng = np.random.default_rng(12)
    A = sp.random_array((40, 25), density=0.2, random_state=rng) + sp.eye_array(40, 25)
    x_true = rng.standard_normal(25)
    b = A @ x_true                                         # consistent, overdetermined
    res = sketch_solve(A, b, sketch=sketch, rtol=1e-9, maxiter=5_000_000, rng=0)
    assert res.converged
    np.testing.assert_allclose(res.x, x_true, atol=1e-6)
    # underdetermined: the limit is the solution nearest x0 (here 0: minimum norm)
    W = rng.standard_normal((6, 15))
    bw = rng.standard_normal(6)
    r2 = sketch_solve(W, bw, sketch=sketch, rtol=1e-11, maxiter=2_000_000, rng=1)
    np.testing.assert_allclose(r2.x, np.linalg.pinv(W) @ bw, atol=1e-8)


def test_warm_start_and_callback_stop():
    K = kkt(13)
    b = np.ones(25)
    sol = np.linalg.solve(K, b)
    res = sketch_solve(K, b, x0=sol, rtol=1e-8, rng=0)
    assert res.converged and res.nit == 0
    calls = []

    def cb(x):
        calls.append(x.copy())
        raise StopIteration
    res = sketch_solve(K, b, sketch="kaczmarz", rtol=1e-14, maxiter=10 ** 6, rng=0,
                       callback=cb)
    assert res.status == 3 and len(calls) == 1 and not res.converged


def test_default_maxiter_and_history():
    K = kkt(14)
    b = np.ones(25)
    res = sketch_solve(K, b, sketch="gaussian", rtol=1e-12, rng=0)
    assert res.nit <= 10 * 25 and res.status == 1        # the 10 N default: too few here
    assert res.residual_history[0] == pytest.approx(np.linalg.norm(b))
    res = sketch_solve(K, b, sketch="kaczmarz", rtol=1e-6, rng=0)
    assert res.converged and res.nit <= 1000 * 25


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"sketch": "bogus"}, ValueError, "`sketch` must be one of 'gaussian'"),
    ({"rtol": -1.0}, ValueError, "`rtol`"),
    ({"maxiter": -3}, ValueError, "`maxiter`"),
    ({"block_size": 0, "sketch": "block_gaussian"}, ValueError, "`block_size`"),
    ({"block_size": 26, "sketch": "block_kaczmarz"}, ValueError, "`block_size`"),
    ({"check_every": 0}, ValueError, "`check_every`"),
    ({"x0": np.ones(3)}, ValueError, "`x0` must have shape"),
    ({"rng": "seed"}, TypeError, "`rng`"),
    ({"callback": 3}, TypeError, "`callback`"),
])
def test_bad_arguments(kwargs, exc, match):
    K = kkt(15)
    with pytest.raises(exc, match=match):
        sketch_solve(K, np.ones(25), **kwargs)


def test_bad_matrices():
    with pytest.raises(ValueError, match="needs the rows"):
        sketch_solve(aslinearoperator(np.eye(3)), np.ones(3), sketch="kaczmarz")
    with pytest.raises(ValueError, match="2-D"):
        sketch_solve(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="finite"):
        sketch_solve(np.array([[1.0, np.nan], [0.0, 1.0]]), np.ones(2))
    with pytest.raises(ValueError, match=r"`b` must have shape \(2,\)"):
        sketch_solve(np.eye(2), np.ones(3))
    with pytest.raises(ValueError, match="`b` must be finite"):
        sketch_solve(np.eye(2), [1.0, np.inf])
    with pytest.raises(TypeError, match="real"):
        sketch_solve(np.eye(2) * 1j, np.ones(2))
    with pytest.raises(ValueError, match="at least one"):
        sketch_solve(np.zeros((0, 2)), np.ones(0))


def test_zero_rows_are_skipped():
    A = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 2.0]])
    res = sketch_solve(A, [1.0, 0.0, 4.0], sketch="kaczmarz", rtol=1e-12, rng=0)
    assert res.converged
    np.testing.assert_allclose(res.x, [1.0, 2.0])


@pytest.mark.parametrize("sketch, per_step", [("gaussian", 1), ("block_gaussian", 8),
                                               ("countsketch", 1)])
def test_n_matvec_counts_the_steps_run(sketch, per_step):
    """n_matvec counts the sketch products of the steps actually taken (plus the exact
    residuals), not the whole pre-drawn chunk of random numbers."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((60, 40))
    b = A @ rng.standard_normal(40)
    r = sketch_solve(A, b, sketch=sketch, rng=1, rtol=1e-3, block_size=8, maxiter=5000)
    assert r.converged and r.nit < 5000          # stopped inside a chunk of draws
    assert r.nit * per_step <= r.n_matvec <= r.nit * per_step + 3
