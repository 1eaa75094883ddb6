"""SOR / SSOR-CG kernels and front ends against the pure SciPy reference (docs/sor.md)."""
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import numfit as nf
from numfit._core import _nb_sor, _sor as _cy_sor
from numfit.linalg import (laplacian_2d, prepare, sor_sweep, shifted_laplacian_sequence,
                           ssor_cg)
from numfit.linalg._reference import (sor_reference, ssor_apply_reference,
                                      ssor_cg_reference)
from numfit.linalg._sor import _sor_prepared, _ssor_cg_prepared

KERNELS = [pytest.param(_cy_sor, id="cython"), pytest.param(_nb_sor, id="numba")]
SWEEP = {"forward": 0, "backward": 1, "symmetric": 2}


def random_spd(n, seed, density=0.3):
    rng = np.random.default_rng(seed)
    B = sp.random_array((n, n), density=density, rng=rng, format="csr")
    A = B @ B.T + sp.diags_array(rng.uniform(0.5, 2.0, n))
    return sp.csr_array(A)


def random_nonsym(n, seed):
    """Strictly diagonally dominant, non-symmetric: SOR converges for omega <= 1."""
    rng = np.random.default_rng(seed)
    B = sp.random_array((n, n), density=0.2, rng=rng, format="csr")
    B.setdiag(0)
    B.eliminate_zeros()
    d = np.asarray(abs(B).sum(axis=1)).ravel() + 1.0
    return sp.csr_array(B + sp.diags_array(d))


# ------------------------------------------------------------------ reference comparison
@pytest.mark.parametrize("K", KERNELS)
@pytest.mark.parametrize("sweep", ["forward", "backward", "symmetric"])
@pytest.mark.parametrize("omega", [0.6, 1.0, 1.3, 1.75])
def test_sor_matches_reference(K, sweep, omega):
    A = laplacian_2d(8) + 0.1 * sp.eye_array(64)
    rng = np.random.default_rng(3)
    b = rng.standard_normal(64)
    x0 = rng.standard_normal(64)
    P = prepare(A)
    r = _sor_prepared(P, b, x0.copy(), omega, SWEEP[sweep], 0, 1e-9, 0.0, 1e10, 5000,
                      return_history=True, K=K)
    x, nit, status, hist = sor_reference(A, b, omega, x0=x0, rtol=1e-9, sweep=sweep)
    assert status == 0 and r.status == 0
    assert r.nit == nit
    np.testing.assert_allclose(r.x, x, rtol=1e-12, atol=1e-13 * np.abs(x).max())
    # fused residuals agree with the explicit ones (up to cancellation ~ eps*||A|| ||x||)
    scale = 1e-13 * np.abs(A).max() * np.abs(x).max() * 64
    np.testing.assert_allclose(r.residual_history, hist, rtol=1e-9, atol=scale)
    # reported residual is the true residual of the returned x
    assert abs(r.residual - np.linalg.norm(b - A @ r.x)) <= scale


@pytest.mark.parametrize("K", KERNELS)
@pytest.mark.parametrize("sweep", ["forward", "backward", "symmetric"])
def test_sor_matches_reference_nonsymmetric_int64(K, sweep):
    A = random_nonsym(40, 5)
    A.indices = A.indices.astype(np.int64)
    A.indptr = A.indptr.astype(np.int64)
    P = prepare(A)
    assert P.indices.dtype == np.int64 and P.diag_pos.dtype == np.int64
    b = np.random.default_rng(1).standard_normal(40)
    r = _sor_prepared(P, b, np.zeros(40), 0.9, SWEEP[sweep], 1, 1e-10, 0.0, 1e10, 2000, K=K)
    x, nit, status, _ = sor_reference(A, b, 0.9, rtol=1e-10, sweep=sweep, norm="b")
    assert r.nit == nit and r.converged
    np.testing.assert_allclose(r.x, x, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("K", KERNELS)
def test_fused_residual_equals_b_minus_Ax_every_step(K):
    """Stopping after exactly k sweeps (maxiter = k) exposes the fused residual of x_k."""
    A = random_spd(50, 2)
    b = np.random.default_rng(0).standard_normal(50)
    P = prepare(A)
    for sweep in (0, 1, 2):
        for k in (1, 2, 5, 17):
            r = _sor_prepared(P, b, np.zeros(50), 1.4, sweep, 0, 1e-30, 0.0, 1e10, k, K=K)
            assert r.status == 1 and r.nit == k
            true = np.linalg.norm(b - A @ r.x)
            assert abs(r.residual - true) <= 1e-12 * max(true, 1.0)


def test_symmetric_with_omega_differs_from_gauss_seidel():
    A = laplacian_2d(6)
    b = np.ones(36)
    r1 = nf.sor(A, b, 1.0, sweep="symmetric", maxiter=3)
    r2 = nf.sor(A, b, 1.5, sweep="symmetric", maxiter=3)
    assert np.abs(r1.x - r2.x).max() > 1e-3
    x, _, _, _ = sor_reference(A, b, 1.5, maxiter=3, sweep="symmetric")
    np.testing.assert_allclose(r2.x, x, rtol=1e-13)


# --------------------------------------------------------- Poisson oracle (reference counts)
POISSON = {
    10: {1.0: 223, 1.5: 62, 1.8: 89, 1.9: 187, 1.5604: 41, 1.99: 1936},
    32: {1.0: 2011, 1.5: 661, 1.8: 181, 1.9: 198, 1.8264: 124, 1.99: 2012},
    100: {1.0: 18831, 1.5: 6268, 1.8: 2061, 1.9: 917, 1.9397: 389, 1.99: 2052},
    316: {1.9804: 1255, 1.99: 2120},
}


@pytest.mark.parametrize("m", sorted(POISSON))
def test_poisson_iteration_table(m):
    A = prepare(laplacian_2d(m))
    b = np.ones(m * m)
    for omega, expect in POISSON[m].items():
        r = nf.sor(A, b, omega, rtol=1e-8, maxiter=100_000)
        assert r.converged
        assert abs(r.nit - expect) <= 1, (m, omega, r.nit, expect)


def test_young_theory_model_problem():
    """omega* = 2/(1+sin(pi h)) beats its neighbours on the model problem (m = 32)."""
    m = 32
    h = 1.0 / (m + 1)
    w = 2 / (1 + np.sin(np.pi * h))
    A = prepare(laplacian_2d(m))
    b = np.ones(m * m)
    n_star = nf.sor(A, b, w).nit
    assert n_star < nf.sor(A, b, w - 0.05).nit and n_star < nf.sor(A, b, w + 0.05).nit
    assert n_star <= 1.5 * np.log(1e-8) / np.log(w - 1)


# ------------------------------------------------------------------ counts, callbacks, stops
def test_callback_counts_equal_fused_and_reference():
    for sysm in shifted_laplacian_sequence(5, rng=4):
        for sweep in ("forward", "backward", "symmetric"):
            seen = []
            r1 = nf.sor(sysm.A, sysm.b, 1.6, sweep=sweep)
            r2 = nf.sor(sysm.A, sysm.b, 1.6, sweep=sweep,
                        callback=lambda info: seen.append((info.nit, info.residual)))
            _, nit, _, _ = sor_reference(sysm.A, sysm.b, 1.6, sweep=sweep)
            assert r1.nit == r2.nit == nit
            assert [k for k, _ in seen] == list(range(1, nit + 1))
            np.testing.assert_allclose(r1.x, r2.x, rtol=1e-12, atol=1e-14)


def test_callback_info_readonly_and_stop():
    A = laplacian_2d(5)

    def cb(info):
        with pytest.raises(ValueError):
            info.x[0] = 1.0
        return info.nit == 3

    r = nf.sor(A, np.ones(25), 1.2, callback=cb)
    assert r.status == 3 and r.nit == 3 and not r.converged
    r = nf.ssor_cg(A, np.ones(25), 1.2, callback=lambda info: info.nit == 2)
    assert r.status == 3 and r.nit == 2


def test_maxiter_cap_and_zero_rhs():
    A = laplacian_2d(10)
    b = np.ones(100)
    r = nf.sor(A, b, 1.0, maxiter=7)
    assert r.status == 1 and not r.converged and not r.success and r.nit == 7
    assert r.residual == pytest.approx(np.linalg.norm(b - A @ r.x), rel=1e-10)
    r = nf.sor(A, b, 1.0, maxiter=0)
    assert r.status == 1 and r.nit == 0
    r = nf.sor(A, np.zeros(100))
    assert r.converged and r.nit == 0 and np.all(r.x == 0)
    r = nf.sor(A, np.zeros(100), norm="b", x0=np.ones(100))
    assert r.converged and r.nit == 0
    r = nf.ssor_cg(A, np.zeros(100))
    assert r.converged and r.nit == 0


def test_warm_start_at_solution_returns_immediately():
    A = laplacian_2d(6)
    b = np.ones(36)
    x = nf.sor(A, b, 1.5, rtol=1e-13, norm="b").x
    r = nf.sor(A, b, 1.5, x0=x, norm="b", rtol=1e-8)
    assert r.nit == 0 and r.converged
    r = nf.ssor_cg(A, b, 1.5, x0=x)
    assert r.nit == 0 and r.converged


def test_divergence_status_2_not_endless():
    # Indefinite but positive-diagonal matrix: SOR diverges
    A = np.array([[1.0, 3.0], [3.0, 1.0]])
    r = nf.sor(A, np.array([1.0, 2.0]), 1.0, maxiter=100_000)
    assert r.status == 2 and not r.converged and r.nit < 100
    r = nf.ssor_cg(A, np.array([1.0, 0.0]), 1.0)
    assert r.status == 2 and not r.converged


def test_return_history_and_result_fields_pickle():
    A = laplacian_2d(6)
    r = nf.sor(A, np.ones(36), 1.5, return_history=True)
    assert r.residual_history.shape == (r.nit + 1,)
    assert r.residual_history[-1] == pytest.approx(r.residual)
    assert np.all(r.residual_history[:-1] >= 1e-8 * r.ref_norm)
    for key in ("x", "nit", "converged", "success", "status", "message", "residual",
                "relres", "ref_norm", "omega", "nsweeps", "time"):
        assert key in r
    assert r.nsweeps == r.nit + 1
    r2 = pickle.loads(pickle.dumps(r))
    assert r2.nit == r.nit and np.array_equal(r2.x, r.x)
    P2 = pickle.loads(pickle.dumps(prepare(A)))
    assert nf.sor(P2, np.ones(36), 1.5).nit == r.nit


def test_input_formats_agree():
    A = laplacian_2d(5)
    b = np.arange(25.0)
    ref = nf.sor(A, b, 1.3).nit
    for form in (A.toarray(), sp.coo_array(A), sp.csc_matrix(A), sp.csr_matrix(A),
                 prepare(A)):
        assert nf.sor(form, b, 1.3).nit == ref
    # duplicates are summed, unsorted indices accepted
    coo = sp.coo_array(A)
    half = sp.coo_array((np.r_[coo.data / 2, coo.data / 2], (np.r_[coo.row, coo.row],
                                                              np.r_[coo.col, coo.col])),
                        shape=A.shape)
    assert nf.sor(half, b, 1.3).nit == ref


# ------------------------------------------------------------------ sweeps and SSOR-CG
@pytest.mark.parametrize("K", KERNELS)
@pytest.mark.parametrize("sweep", ["forward", "backward", "symmetric"])
def test_plain_sweep_matches_reference(K, sweep):
    A = random_spd(30, 7)
    P = prepare(A)
    b = np.random.default_rng(2).standard_normal(30)
    x = np.zeros(30)
    K.sweep(P.indptr, P.indices, P.data, P.diag_pos, P.inv_diag, b, x, 1.2, 4, SWEEP[sweep])
    xr, _, _, _ = sor_reference(A, b, 1.2, maxiter=4, rtol=0.0, sweep=sweep)
    np.testing.assert_allclose(x, xr, rtol=1e-12, atol=1e-14)
    y = np.zeros(30)
    sor_sweep(P, y, b, 1.2, iterations=4, sweep=sweep)
    np.testing.assert_allclose(y, xr, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("K", KERNELS)
@pytest.mark.parametrize("order", ["fb", "bf"])
def test_ssor_apply_and_cg_match_reference(K, order):
    A = random_spd(40, 11)
    P = prepare(A)
    r = np.random.default_rng(4).standard_normal(40)
    z = np.empty(40)
    K.ssor_apply(P.indptr, P.indices, P.data, P.diag_pos, P.inv_diag, r, z, 1.3,
                 0 if order == "fb" else 1)
    np.testing.assert_allclose(z, ssor_apply_reference(A, r, 1.3, order), rtol=1e-11)
    for omega in (1.0, 1.5):
        res = _ssor_cg_prepared(P, r, np.zeros(40), omega, 0 if order == "fb" else 1, 1, 1e-8,
                                0.0, 1000, K=K)
        x, nit, _ = ssor_cg_reference(A, r, omega, order=order)
        assert res.converged and res.nit == nit
        np.testing.assert_allclose(res.x, x, rtol=1e-9, atol=1e-12)
        assert np.linalg.norm(r - A @ res.x) <= 1e-8 * np.linalg.norm(r)


def test_ssor_cg_callback_counts_match_compiled():
    A = random_spd(60, 3)
    b = np.ones(60)
    r1 = nf.ssor_cg(A, b, 1.4, return_history=True)
    seen = []
    r2 = nf.ssor_cg(A, b, 1.4, callback=lambda info: seen.append(info.nit),
                    return_history=True)
    assert r1.nit == r2.nit and seen == list(range(1, r1.nit + 1))
    np.testing.assert_allclose(r1.residual_history, r2.residual_history, rtol=1e-8)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 40), seed=st.integers(0, 10_000),
       omega=st.floats(0.05, 1.95), density=st.floats(0.05, 0.6))
def test_property_ssor_cg_spd_converges_within_2n(n, seed, omega, density):
    A = random_spd(n, seed, density)
    b = np.random.default_rng(seed + 1).standard_normal(n)
    r = ssor_cg(A, b, omega, rtol=1e-8, maxiter=2 * n)
    assert r.converged
    assert np.linalg.norm(b - A @ r.x) <= 1e-8 * np.linalg.norm(b) * (1 + 1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), omega=st.floats(0.2, 1.9),
       sweep=st.sampled_from(["forward", "backward", "symmetric"]))
def test_property_fused_equals_literal_counts(seed, omega, sweep):
    A = random_spd(25, seed, 0.2)
    b = np.random.default_rng(seed).standard_normal(25)
    r = nf.sor(A, b, omega, rtol=1e-6, maxiter=3000, sweep=sweep)
    _, nit, status, _ = sor_reference(A, b, omega, rtol=1e-6, maxiter=3000, sweep=sweep)
    assert (r.nit, r.status) == (nit, status)


# ------------------------------------------------------------------ resumable kernels
def _run_sor_chunks(K, P, b, omega, code, norm, rtol, maxiter, chunk):
    n = P.n
    x, w1, w2, state, parts, k = np.zeros(n), np.empty(n), np.empty(n), np.zeros(8), [], 0
    while True:
        h = np.empty(chunk + 1)
        st = K.sor_run(P.indptr, P.indices, P.data, P.diag_pos, P.inv_diag, b, x, w1, w2,
                       omega, code, norm, rtol, 0.0, 1e10, maxiter, k + chunk, h, k, state)
        end = int(state[0])
        if st < 0:
            assert end == k + chunk
            parts.append(h[:end - k])
            k = end
            continue
        parts.append(h[:end - k + 1])
        return st, x, state[:4].copy(), np.concatenate(parts)


@pytest.mark.parametrize("K", KERNELS)
@pytest.mark.parametrize("sweep", [0, 1, 2])
def test_sor_run_in_pieces_equals_one_call(K, sweep):
    """sor_run paused every `chunk` sweeps and resumed gives the iterates, residuals, counts
    and statuses of one sor_solve call, bit for bit (converged, maxiter and early stops)."""
    A = random_spd(60, 4)
    P = prepare(A)
    b = np.random.default_rng(6).standard_normal(60)
    for norm, rtol, maxiter in ((0, 1e-9, 3000), (1, 1e-30, 7), (0, 1e-9, 0), (0, 1e-9, 1)):
        x, w1, w2 = np.zeros(60), np.empty(60), np.empty(60)
        h, out = np.empty(maxiter + 1), np.zeros(4)
        st = K.sor_solve(P.indptr, P.indices, P.data, P.diag_pos, P.inv_diag, b, x, w1, w2,
                         w2, 1.2, sweep, norm, rtol, 0.0, 1e10, maxiter, h, out)
        for chunk in (1, 3, 50):
            st2, x2, out2, h2 = _run_sor_chunks(K, P, b, 1.2, sweep, norm, rtol, maxiter,
                                                chunk)
            assert st2 == st
            assert np.array_equal(x2, x) and np.array_equal(out2, out)
            assert np.array_equal(h2, h[:int(out[0]) + 1])


@pytest.mark.parametrize("K", KERNELS)
@pytest.mark.parametrize("order", [0, 1])
def test_ssor_cg_run_in_pieces_equals_one_call(K, order):
    A = random_spd(50, 8)
    P = prepare(A)
    b = np.random.default_rng(7).standard_normal(50)
    for maxiter in (0, 3, 1000):
        x, r, z, p, q = (np.empty(50) for _ in range(5))
        x[:] = 0.0
        h, out = np.empty(maxiter + 1), np.zeros(4)
        st = K.ssor_cg(P.indptr, P.indices, P.data, P.diag_pos, P.inv_diag, b, x, r, z, p, q,
                       1.3, order, 1, 1e-10, 0.0, maxiter, h, out)
        for chunk in (1, 4):
            y, r, z, p, q = (np.empty(50) for _ in range(5))
            y[:] = 0.0
            state, parts, k = np.zeros(8), [], 0
            while True:
                hh = np.empty(chunk + 1)
                st2 = K.ssor_cg_run(P.indptr, P.indices, P.data, P.diag_pos, P.inv_diag, b, y,
                                    r, z, p, q, 1.3, order, 1, 1e-10, 0.0, maxiter, k + chunk,
                                    -1.0, hh, k, state)
                end = int(state[0])
                parts.append(hh[(1 if parts else 0):end - k + 1])
                k = end
                if st2 >= 0:
                    break
            assert st2 == st and np.array_equal(y, x)
            assert (int(state[0]), state[5], state[3]) == (out[0], out[1], out[3])
            assert np.array_equal(np.concatenate(parts), h[:int(out[0]) + 1])
