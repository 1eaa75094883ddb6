"""GPU paths of numfit.linalg: multicolour SOR / SSOR-CG / sweeps and sketch_solve.

Part 1 (runs everywhere): the namespace-generic code with ``xp = numpy`` against the compiled
CPU kernels (the sketch path) -- the very code CuPy runs.
Part 2 (``gpu`` marker): CuPy inputs against the NumPy results; skipped cleanly without CuPy
or without a usable GPU.
"""
import numpy as np
import pytest
import scipy.sparse as sp

import numfit as nf
import numfit.linalg as la
from numfit import _backend
from numfit.linalg import _sketch as sk
from numfit.linalg import sketch_solve


def xp_solve(A, b, sketch, rtol=1e-10, maxiter=200_000, rng=5, block_size=None, x0=None,
             atol=0.0, check_every=None, callback=None):
    return sk._sketch_solve_xp(np, A, b, sketch, rtol, maxiter, rng, block_size, x0, atol,
                               check_every, callback)


def systems():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((60, 40))
    b = A @ rng.standard_normal(40)
    As = sp.csr_array(sp.random_array((80, 50), density=0.15, rng=3) + sp.eye_array(80, 50))
    bs = As @ rng.standard_normal(50)
    return {"dense": (A, b), "sparse": (As, bs)}


# --------------------------------------------------------------------------- part 1
def test_sparse_module():
    assert _backend.sparse_module(np) is sp


@pytest.mark.parametrize("kind", ["dense", "sparse"])
@pytest.mark.parametrize("sketch", sk.XP_TYPES)
def test_xp_sketch_path_equals_compiled(kind, sketch):
    """Same seed -> same sketches -> same iterates (to rounding) as the compiled kernels."""
    A, b = systems()[kind]
    cpu = sketch_solve(A, b, sketch=sketch, rtol=1e-10, rng=5, maxiter=200_000)
    xpr = xp_solve(A, b, sketch)
    assert cpu.converged and xpr.converged
    assert cpu.nit == xpr.nit
    assert xpr.block_size == cpu.block_size and xpr.check_every == cpu.check_every
    np.testing.assert_allclose(xpr.x, cpu.x, rtol=0, atol=1e-12)
    np.testing.assert_allclose(xpr.residual_history, cpu.residual_history, rtol=1e-9,
                               atol=1e-12)
    assert xpr.residual == pytest.approx(np.linalg.norm(A @ xpr.x - b), rel=1e-8)


@pytest.mark.parametrize("sketch", ["block_gaussian", "countsketch", "gaussian"])
def test_xp_sketch_check_every_one(sketch):
    """check_every=1: the compiled path updates r incrementally, the xp path recomputes it;
    the iterates do not depend on it (block_kaczmarz excluded: there the compiled stopping
    test is delayed by its incremental ||r||^2, a known difference)."""
    A, b = systems()["dense"]
    cpu = sketch_solve(A, b, sketch=sketch, rtol=1e-10, rng=2, check_every=1,
                       maxiter=200_000)
    xpr = xp_solve(A, b, sketch, rng=2, check_every=1)
    assert xpr.converged and abs(cpu.nit - xpr.nit) <= 2
    np.testing.assert_allclose(xpr.x, cpu.x, rtol=0, atol=1e-8)


def test_xp_sketch_block_size_x0_maxiter_callback():
    A, b = systems()["dense"]
    x0 = np.ones(40)
    cpu = sketch_solve(A, b, sketch="block_kaczmarz", block_size=7, x0=x0, rng=1,
                       maxiter=30, rtol=1e-12)
    xpr = xp_solve(A, b, "block_kaczmarz", block_size=7, x0=x0, rng=1, maxiter=30,
                   rtol=1e-12)
    assert cpu.status == xpr.status == 1 and xpr.nit == 30
    assert "maxiter=30" in xpr.message
    np.testing.assert_allclose(xpr.x, cpu.x, rtol=0, atol=1e-12)
    calls = []
    r = xp_solve(A, b, "gaussian", callback=lambda x: calls.append(x) or True)
    assert r.status == 3 and len(calls) == 1 and calls[0] is not r.x
    r0 = xp_solve(A, np.zeros(60), "countsketch")
    assert r0.converged and r0.nit == 0


@pytest.mark.parametrize("sketch", ["kaczmarz", "kaczmarz_rownorm"])
def test_xp_sketch_rejects_row_kaczmarz(sketch):
    A, b = systems()["dense"]
    with pytest.raises(ValueError, match="block_kaczmarz"):
        xp_solve(A, b, sketch)


@pytest.mark.parametrize("A, b, exc, match", [
    (np.ones((3, 2)), np.ones(4), ValueError, r"`b` must have shape \(3,\)"),
    (np.ones((3, 2)), np.full(3, np.nan), ValueError, "`b` must be finite"),
    (np.ones((3, 2)), np.ones(3, dtype=complex), TypeError, "`b` must be a real vector"),
    (np.full((3, 2), np.inf), np.ones(3), ValueError, "`A` must be finite"),
    (np.ones((3, 2), dtype=complex), np.ones(3), TypeError, "`A` must be real"),
    (sp.csr_array(np.ones((3, 2), dtype=complex)), np.ones(3), TypeError, "`A` must be real"),
    (np.ones(3), np.ones(3), ValueError, "2-D"),
    (np.ones((0, 2)), np.ones(0), ValueError, "at least one row"),
    (np.array([["a"]]), np.ones(1), TypeError, "real matrix"),
])
def test_xp_sketch_bad_input(A, b, exc, match):
    with pytest.raises(exc, match=match):
        xp_solve(A, b, "block_kaczmarz")


def test_xp_sketch_bad_options():
    A, b = systems()["dense"]
    from scipy.sparse.linalg import aslinearoperator
    with pytest.raises(TypeError, match="LinearOperator"):
        xp_solve(aslinearoperator(A), b, "gaussian")
    with pytest.raises(ValueError, match="`sketch` must be one of"):
        xp_solve(A, b, "fancy")
    with pytest.raises(ValueError, match="block_size"):
        xp_solve(A, b, "block_kaczmarz", block_size=0)
    with pytest.raises(TypeError, match="callback"):
        xp_solve(A, b, "gaussian", callback=1)
    with pytest.raises(ValueError, match="x0"):
        xp_solve(A, b, "gaussian", x0=np.ones(3))


# --------------------------------------------------------------------------- part 2: CuPy
@pytest.fixture
def cp():
    cupy = pytest.importorskip("cupy")
    if not _backend.have_gpu():
        pytest.skip("CuPy is installed but no CUDA device is usable")
    return cupy


@pytest.fixture
def cpx_sparse(cp):
    return pytest.importorskip("cupyx.scipy.sparse")


@pytest.mark.gpu
@pytest.mark.parametrize("sweep", ["forward", "backward", "symmetric"])
def test_gpu_multicolor_sor_equals_numpy(cp, cpx_sparse, sweep):     # pragma: no cover
    A = la.laplacian_2d(40)
    b = np.random.default_rng(0).standard_normal(1600)
    ref = nf.sor(A, b, 1.8, sweep=sweep, ordering="multicolor", return_history=True)
    for Ad, bd in ((cpx_sparse.csr_matrix(sp.csr_matrix(A)), cp.asarray(b)),
                   (A, cp.asarray(b)), (cpx_sparse.csr_matrix(sp.csr_matrix(A)), b)):
        r = nf.sor(Ad, bd, 1.8, sweep=sweep, ordering="multicolor", return_history=True)
        assert isinstance(r.x, cp.ndarray)
        assert r.converged and abs(r.nit - ref.nit) <= 1
        np.testing.assert_allclose(cp.asnumpy(r.x), ref.x, rtol=0, atol=1e-8)
        k = min(len(r.residual_history), len(ref.residual_history))
        np.testing.assert_allclose(r.residual_history[:k], ref.residual_history[:k],
                                   rtol=1e-8)
    fixed = nf.sor(A, cp.asarray(b), 1.8, sweep=sweep, rtol=0.0, maxiter=10,
                   ordering="multicolor")
    fixed_np = nf.sor(A, b, 1.8, sweep=sweep, rtol=0.0, maxiter=10, ordering="multicolor")
    np.testing.assert_allclose(cp.asnumpy(fixed.x), fixed_np.x, rtol=0, atol=1e-12)


@pytest.mark.gpu
def test_gpu_multicolor_ssor_cg_and_sweep(cp, cpx_sparse):               # pragma: no cover
    A = la.laplacian_2d(40)
    P = la.prepare(A)
    b = np.random.default_rng(1).standard_normal(1600)
    ref = nf.ssor_cg(P, b, 1.3, ordering="multicolor")
    r = nf.ssor_cg(P, cp.asarray(b), 1.3, ordering="multicolor")
    assert isinstance(r.x, cp.ndarray) and r.converged and abs(r.nit - ref.nit) <= 1
    np.testing.assert_allclose(cp.asnumpy(r.x), ref.x, rtol=0, atol=1e-7)
    x = cp.zeros(1600)
    xn = np.zeros(1600)
    out = la.sor_sweep(P, x, cp.asarray(b), 1.5, iterations=5, ordering="multicolor")
    la.sor_sweep(P, xn, b, 1.5, iterations=5, ordering="multicolor")
    assert out is x
    np.testing.assert_allclose(cp.asnumpy(x), xn, rtol=0, atol=1e-12)


@pytest.mark.gpu
def test_gpu_natural_ordering_rejected(cp):                              # pragma: no cover
    A = la.laplacian_2d(4)
    with pytest.raises(ValueError, match="ordering='multicolor'"):
        nf.sor(A, cp.ones(16))
    with pytest.raises(ValueError, match="ordering='multicolor'"):
        nf.ssor_cg(A, cp.ones(16))
    with pytest.raises(ValueError, match="`b` must be finite"):
        nf.sor(A, cp.full(16, cp.nan), ordering="multicolor")


@pytest.mark.gpu
@pytest.mark.parametrize("kind", ["dense", "sparse"])
@pytest.mark.parametrize("sketch", sk.XP_TYPES)
def test_gpu_sketch_solve_equals_cpu(cp, cpx_sparse, kind, sketch):     # pragma: no cover
    A, b = systems()[kind]
    cpu = sketch_solve(A, b, sketch=sketch, rtol=1e-10, rng=5, maxiter=200_000)
    Ad = cp.asarray(A) if kind == "dense" else cpx_sparse.csr_matrix(sp.csr_matrix(A))
    gpu = sketch_solve(Ad, cp.asarray(b), sketch=sketch, rtol=1e-10, rng=5, maxiter=200_000)
    assert isinstance(gpu.x, cp.ndarray)
    assert gpu.converged and abs(gpu.nit - cpu.nit) <= max(2, cpu.check_every)
    np.testing.assert_allclose(cp.asnumpy(gpu.x), cpu.x, rtol=0, atol=1e-9)


@pytest.mark.gpu
def test_gpu_sketch_rejects_kaczmarz(cp):                                # pragma: no cover
    A, b = systems()["dense"]
    with pytest.raises(ValueError, match="block_kaczmarz"):
        sketch_solve(cp.asarray(A), cp.asarray(b), sketch="kaczmarz")
