"""SSOR-CG in Eisenstat's form (Eisenstat, SIAM J. Sci. Stat. Comput. 2(1), 1981; docs/sor.md,
"Eisenstat's trick"): the compiled kernel and its Numba twin against the literal NumPy/SciPy
reference of the split form, and the same iterates as plain SSOR-CG up to rounding on several
matrices (PyAMG gallery matrices when PyAMG is installed)."""
import numpy as np
import pytest
import scipy.sparse as sp

import numfit as nf
from numfit._core import _nb_sor, _sor as _cy_sor
from numfit.linalg import laplacian_2d, prepare
from numfit.linalg._reference import ssor_cg_eisenstat_reference, ssor_cg_reference
from numfit.linalg._sequences import _graph_laplacian as graph_laplacian
from numfit.linalg._sor import _ssor_cg_prepared

KERNELS = [pytest.param(_cy_sor, id="cython"), pytest.param(_nb_sor, id="numba")]


def random_spd(n, seed, density=0.3):
    rng = np.random.default_rng(seed)
    B = sp.random_array((n, n), density=density, rng=rng, format="csr")
    return sp.csr_array(B @ B.T + sp.diags_array(rng.uniform(0.5, 2.0, n)))


def matrices():
    """Name -> SPD matrix: numfit's own and, with PyAMG installed, its gallery's."""
    out = {"random_spd": random_spd(60, 3), "poisson2d_numfit": laplacian_2d(20),
           "graph_laplacian": graph_laplacian(900, 1)}
    try:
        from pyamg.gallery import (diffusion_stencil_2d, linear_elasticity, poisson,
                                   stencil_grid)
    except ImportError:
        return out
    out["pyamg_poisson2d"] = poisson((30, 30), format="csr")
    out["pyamg_poisson3d"] = poisson((10, 10, 10), format="csr")
    out["pyamg_rotated_anisotropic"] = stencil_grid(
        diffusion_stencil_2d(epsilon=0.01, theta=np.pi / 8, type="FE"), (30, 30),
        format="csr")
    out["pyamg_elasticity"] = linear_elasticity((15, 15), format="csr")[0]
    nine = np.array([[-1.0, -1.0, -1.0], [-1.0, 8.0, -1.0], [-1.0, -1.0, -1.0]])
    out["pyamg_nine_point"] = stencil_grid(nine, (30, 30), format="csr")
    return {k: sp.csr_array(v) for k, v in out.items()}


MATRICES = matrices()


def _mats(P, eis, omega):
    """The matrix arguments of the Eisenstat kernel (CSR, both triangles times omega, the
    diagonal) or of the plain one (CSR, diagonal positions, inverse diagonal)."""
    if eis:
        return (P.indptr, P.indices, P.data) + P.scaled_triangles(omega) + (P.diag,)
    return P.indptr, P.indices, P.data, P.diag_pos, P.inv_diag


def _run(K, P, b, omega, order, maxiter, eis, rtol=0.0, kstop=None, x0=None):
    """One call of the resumable kernel; returns (status, x, history, state)."""
    n = P.n
    x = np.zeros(n) if x0 is None else x0.copy()
    # Eisenstat: r, rh, qh, t, u; rh, t and u with a zero at index n (padded triangles)
    work = ([np.zeros(n), np.zeros(n + 1), np.zeros(n), np.zeros(n + 1), np.zeros(n + 1), -1]
            if eis else [np.zeros(n) for _ in range(4)])
    state, h = np.zeros(8), np.empty(maxiter + 1)
    f = K.ssor_cg_eis_run if eis else K.ssor_cg_run
    st = f(*_mats(P, eis, omega), b, x, *work, omega, order, 1, rtol, 0.0, maxiter,
           maxiter + 1 if kstop is None else kstop, -1.0, h, 0, state)
    return st, x, h[:int(state[0]) + 1], state


# ------------------------------------------------------------------ kernel vs references
@pytest.mark.parametrize("K", KERNELS)
@pytest.mark.parametrize("order", ["fb", "bf"])
@pytest.mark.parametrize("omega", [0.7, 1.0, 1.5, 1.9])
def test_kernel_matches_literal_eisenstat_reference(K, order, omega):
    A = laplacian_2d(12) + sp.diags_array(np.random.default_rng(0).uniform(0, 0.1, 144))
    P = prepare(A)
    rng = np.random.default_rng(1)
    b, x0 = rng.standard_normal(144), rng.standard_normal(144)
    st, x, h, _ = _run(K, P, b, omega, 0 if order == "fb" else 1, 15, True, x0=x0)
    xr, kr, hr = ssor_cg_eisenstat_reference(A, b, omega, x0=x0, rtol=0.0, maxiter=15,
                                             order=order)
    assert st == 1 and kr == 15
    np.testing.assert_allclose(x, xr, rtol=0, atol=1e-10 * np.abs(xr).max())
    np.testing.assert_allclose(h, hr, rtol=1e-8, atol=1e-13 * hr[0])
    # the two references are the same method in exact arithmetic
    xp, kp, hp = ssor_cg_reference(A, b, omega, x0=x0, rtol=0.0, maxiter=15, order=order)
    np.testing.assert_allclose(xr, xp, rtol=0, atol=1e-10 * np.abs(xp).max())


@pytest.mark.parametrize("order", [0, 1])
def test_cython_and_numba_twins_bit_identical(order):
    A = random_spd(50, 8)
    P = prepare(A)
    b = np.random.default_rng(7).standard_normal(50)
    for omega in (0.8, 1.3, 1.95):
        a = _run(_cy_sor, P, b, omega, order, 1000, True, rtol=1e-10)
        c = _run(_nb_sor, P, b, omega, order, 1000, True, rtol=1e-10)
        assert a[0] == c[0] == 0
        assert np.array_equal(a[1], c[1]) and np.array_equal(a[2], c[2])
        assert np.array_equal(a[3], c[3])


@pytest.mark.parametrize("K", KERNELS)
@pytest.mark.parametrize("order", [0, 1])
def test_eisenstat_run_in_pieces_equals_one_call(K, order):
    A = random_spd(50, 9)
    P = prepare(A)
    b = np.random.default_rng(5).standard_normal(50)
    for maxiter in (0, 3, 1000):
        st, x, h, state = _run(K, P, b, 1.3, order, maxiter, True, rtol=1e-10)
        for chunk in (1, 4):
            y = np.zeros(50)
            work = [np.zeros(50), np.zeros(51), np.zeros(50), np.zeros(51), np.zeros(51), -1]
            st2, parts, k, s2 = None, [], 0, np.zeros(8)
            while True:
                hh = np.empty(chunk + 1)
                st2 = K.ssor_cg_eis_run(*_mats(P, True, 1.3), b, y, *work, 1.3, order, 1, 1e-10,
                                        0.0, maxiter, k + chunk, -1.0, hh, k, s2)
                end = int(s2[0])
                parts.append(hh[(1 if parts else 0):end - k + 1])
                k = end
                if st2 >= 0:
                    break
            assert st2 == st and np.array_equal(y, x)
            assert np.array_equal(s2[[0, 3, 5]], state[[0, 3, 5]])
            assert np.array_equal(np.concatenate(parts), h)


# ------------------------------------------------------------------ same iterates as plain SSOR-CG
@pytest.mark.parametrize("name", sorted(MATRICES))
@pytest.mark.parametrize("order", ["fb", "bf"])
def test_same_iterates_as_plain_ssor_cg(name, order):
    """Eisenstat vs plain SSOR-CG: the same iterates up to rounding (after 20 iterations, and
    at convergence with the same iteration count) at several omegas."""
    A = MATRICES[name]
    n = A.shape[0]
    b = np.random.default_rng(11).standard_normal(n)
    for omega in (0.8, 1.0, 1.5, 1.9):
        e = nf.ssor_cg(A, b, omega, rtol=0.0, maxiter=20, order=order, eisenstat=True,
                       return_history=True)
        p = nf.ssor_cg(A, b, omega, rtol=0.0, maxiter=20, order=order, eisenstat=False,
                       return_history=True)
        assert e.status == p.status == 1 or (e.status == p.status == 0 and e.nit == p.nit)
        np.testing.assert_allclose(e.x, p.x, rtol=0, atol=1e-10 * np.abs(p.x).max())
        np.testing.assert_allclose(e.residual_history, p.residual_history, rtol=1e-6,
                                   atol=1e-12 * p.residual_history[0])
        e = nf.ssor_cg(A, b, omega, rtol=1e-8, order=order, eisenstat=True)
        p = nf.ssor_cg(A, b, omega, rtol=1e-8, order=order, eisenstat=False)
        assert e.converged and p.converged
        assert abs(e.nit - p.nit) <= 1, (name, omega, e.nit, p.nit)
        np.testing.assert_allclose(e.x, p.x, rtol=0, atol=1e-6 * np.abs(p.x).max())
        assert np.linalg.norm(b - A @ e.x) <= 1e-8 * np.linalg.norm(b)


def test_tight_tolerance_on_an_ill_conditioned_matrix():
    """Eisenstat's form sums p'Ap as 2 t'ph + (1 - 2/w) t'Dt, whose rounding grows with
    t'Dt / t'At (about 1e4 here for the smooth directions of a 150 x 150 Poisson matrix):
    at rtol 1e-11 it still takes plain SSOR-CG's iteration count to within one and meets
    the tolerance on the true residual, at omegas from 1 to near 2."""
    A = laplacian_2d(150)
    b = np.random.default_rng(5).standard_normal(A.shape[0])
    for omega in (1.0, 1.6, 1.95):
        e = nf.ssor_cg(A, b, omega, rtol=1e-11, maxiter=5000, eisenstat=True)
        p = nf.ssor_cg(A, b, omega, rtol=1e-11, maxiter=5000, eisenstat=False)
        assert e.converged and p.converged, (omega, e.message, p.message)
        assert abs(e.nit - p.nit) <= 1, (omega, e.nit, p.nit)
        assert np.linalg.norm(b - A @ e.x) <= 1e-11 * np.linalg.norm(b)


def test_iteration_counts_equal_on_the_gallery():
    """At rtol 1e-8 both forms take the same number of iterations on all but a few of the
    test matrices and omegas, and never differ by more than one. (Rounding differences in CG
    grow by about 10x per iteration once the residual is far below its start in some cases,
    e.g. a 20 x 20 Poisson at omega = 1.9: plain SSOR-CG and the literal SciPy reference differ
    by as much there, ~30 % in ||r_k|| near the threshold.)"""
    diffs = []
    for name, A in MATRICES.items():
        b = np.ones(A.shape[0])
        for omega in (1.0, 1.3, 1.6, 1.9):
            e = nf.ssor_cg(A, b, omega, eisenstat=True).nit
            p = nf.ssor_cg(A, b, omega, eisenstat=False).nit
            diffs.append((name, omega, e, p))
    assert all(abs(e - p) <= 1 for _, _, e, p in diffs), diffs
    assert sum(e == p for _, _, e, p in diffs) >= 0.9 * len(diffs), diffs


# ------------------------------------------------------------------ front end
def test_default_is_eisenstat_and_callback_sees_the_same_iterates():
    A = laplacian_2d(15)
    b = np.random.default_rng(2).standard_normal(225)
    r_auto = nf.ssor_cg(A, b, 1.4, return_history=True)
    r_eis = nf.ssor_cg(A, b, 1.4, eisenstat=True, return_history=True)
    assert np.array_equal(r_auto.x, r_eis.x) and r_auto.nit == r_eis.nit
    seen = []
    r_cb = nf.ssor_cg(A, b, 1.4, return_history=True,
                      callback=lambda info: seen.append((info.nit, info.residual,
                                                         info.x.copy())))
    assert np.array_equal(r_cb.x, r_auto.x) and r_cb.nit == r_auto.nit
    assert np.array_equal(r_cb.residual_history, r_auto.residual_history)
    assert [s[0] for s in seen] == list(range(1, r_auto.nit + 1))
    assert [s[1] for s in seen] == list(r_auto.residual_history[1:])
    # the callback stops the solve: status 3 with the true residual of the iterate
    r3 = nf.ssor_cg(A, b, 1.4, callback=lambda info: info.nit >= 5)
    assert r3.status == 3 and r3.nit == 5 and not r3.converged
    assert r3.residual == pytest.approx(np.linalg.norm(b - A @ r3.x), rel=1e-12)
    np.testing.assert_array_equal(r3.x, seen[4][2])


def test_eisenstat_stagnation_status_4():
    A = laplacian_2d(10)
    b = np.ones(100)
    for eis in (True, False):
        r = nf.ssor_cg(A, b, 1.5, rtol=0.0, eisenstat=eis)
        assert r.status == 4 and not r.converged
        assert r.residual == pytest.approx(np.linalg.norm(b - A @ r.x), rel=1e-12)
        assert r.residual < 1e-12


def test_eisenstat_option_errors():
    A = laplacian_2d(5)
    b = np.ones(25)
    with pytest.raises(ValueError, match="`eisenstat` must be one of"):
        nf.ssor_cg(A, b, eisenstat="yes")
    with pytest.raises(ValueError, match="eisenstat=True.*multicolor"):
        nf.ssor_cg(A, b, eisenstat=True, ordering="multicolor")
    # "auto" with the multicolour ordering is the (unchanged) multicolour path
    r = nf.ssor_cg(A, b, eisenstat="auto", ordering="multicolor")
    assert r.converged and r.ordering == "multicolor"


def test_tuner_uses_eisenstat_with_the_plain_counts():
    """RelaxationTuner(solver='ssor_cg') solves in Eisenstat's form; on these systems the
    iteration counts equal plain SSOR-CG's."""
    P = prepare(laplacian_2d(12))
    b = np.ones(P.n)
    for omega in (1.0, 1.5):
        r = _ssor_cg_prepared(P, b, np.zeros(P.n), omega, 0, 1, 1e-8, 0.0, 1000)
        q = _ssor_cg_prepared(P, b, np.zeros(P.n), omega, 0, 1, 1e-8, 0.0, 1000,
                              eisenstat=False)
        assert r.converged and r.nit == q.nit
    tuner = nf.RelaxationTuner("tsallis", solver="ssor_cg", grid=[1.0, 1.5], rng=0)
    res = tuner.solve(P, b)
    ref = nf.ssor_cg(P, b, res.omega, eisenstat=False)
    assert res.converged and res.nit == ref.nit


@pytest.mark.parametrize("K", KERNELS)
@pytest.mark.parametrize("order", ["fb", "bf"])
def test_eisenstat_ring_buffer_gives_the_same_iterates(K, order):
    """u kept in a ring of 2^m > bandwidth values (mask 2^m - 1) instead of a full vector:
    the same iterates and history bit for bit; the front end picks the ring for a banded
    matrix and the full vector otherwise."""
    from numfit.linalg._sor import EIS_RING_MAX, _eis_ring
    A = laplacian_2d(40)                       # bandwidth 40: a ring of 64
    P = prepare(A)
    assert P.bandwidth() == 40 and _eis_ring(P) == (64, 63)
    b = np.random.default_rng(3).standard_normal(P.n)
    oc = 0 if order == "fb" else 1
    runs = []
    for size, mask in ((P.n, -1), (64, 63), (128, 127)):
        x = np.zeros(P.n)
        work = [np.zeros(P.n) for _ in range(4)] + [np.full(size, np.nan), mask]
        state, h = np.zeros(8), np.empty(301)
        st = K.ssor_cg_eis_run(*_mats(P, True, 1.6), b, x, *work, 1.6, oc, 1, 1e-10, 0.0, 300,
                               301, -1.0, h, 0, state)
        runs.append((st, x, h[:int(state[0]) + 1]))
    for st, x, h in runs[1:]:
        assert st == runs[0][0] == 0
        assert np.array_equal(x, runs[0][1]) and np.array_equal(h, runs[0][2])
    dense = prepare(random_spd(60, 2))           # bandwidth ~ n: the full vector
    assert _eis_ring(dense) == (60, -1)
    assert _eis_ring(prepare(sp.eye_array(10, format="csr"))) == (2, 1)
    wide = prepare(sp.diags_array([np.full(EIS_RING_MAX + 8, 4.0), -np.ones(8)],
                                  offsets=[0, EIS_RING_MAX], format="csr"))
    assert wide.bandwidth() == EIS_RING_MAX and _eis_ring(wide) == (wide.n, -1)


# ------------------------------------------------------------------ the split triangles
def _triangles_reference(A):
    """The strictly lower and upper triangles of D^{-1} A with SciPy (sorted CSR, zeros
    kept)."""
    A = sp.csr_array(A)
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    A = sp.csr_array((A.data / A.diagonal()[rows], A.indices, A.indptr), shape=A.shape)
    L, U = sp.tril(A, -1, format="csr"), sp.triu(A, 1, format="csr")
    return L.indptr, L.indices, L.data, U.indptr, U.indices, U.data


@pytest.mark.parametrize("K", KERNELS)
@pytest.mark.parametrize("index", [np.int32, np.int64])
def test_split_triangles_match_scipy(K, index):
    """split_triangles (both kernels) against scipy's tril / triu of D^{-1} A: rows with an
    empty triangle, a stored zero, both index types; cached on the PreparedMatrix."""
    A = random_spd(40, 11).tolil()
    A[0, 1:] = 0.0                              # row 0: no upper part left after pruning
    A[1:, 0] = 0.0
    A = sp.csr_array(A)
    A.eliminate_zeros()
    A[5, 7] = A[7, 5] = 0.0                     # an explicitly stored zero stays stored
    A.indices, A.indptr = A.indices.astype(index), A.indptr.astype(index)
    P = prepare(A)
    assert P.indices.dtype == index
    ref = _triangles_reference(P.csr)
    starts = P.indptr[:-1]
    lptr = np.concatenate([[0], np.cumsum(P.diag_pos - starts)]).astype(index)
    uptr = np.concatenate([[0], np.cumsum(P.indptr[1:] - P.diag_pos - 1)]).astype(index)
    got = [lptr, np.empty(lptr[-1], index), np.empty(lptr[-1]),
           uptr, np.empty(uptr[-1], index), np.empty(uptr[-1])]
    K.split_triangles(P.indptr, P.indices, P.data, P.diag_pos, *got)
    for g, r in zip(got, ref):
        assert np.array_equal(g, r)
    tri = P.triangles()
    assert tri is P.triangles()                 # cached
    for g, r in zip(_unpadded(tri, P.n), ref):  # (padded or not: PreparedMatrix decides)
        assert g.dtype == r.dtype and np.array_equal(g, r)
    for g, r in zip(P._split_triangles(pad=False), ref):
        assert g.dtype == r.dtype and np.array_equal(g, r)
    assert tri[1].dtype == index and tri[3].dtype == index


def test_scaled_triangles():
    """``scaled_triangles(omega)``: the triangles' own arrays at omega = 1; otherwise the same
    pointers and indices with the values times omega (the products the kernel formed per
    entry before), cached for the last omega only."""
    P = prepare(graph_laplacian(500, 2))
    tri = P.triangles()
    assert P.scaled_triangles(1.0) is tri and P.scaled_triangles(1) is tri
    s = P.scaled_triangles(1.3)
    assert s is P.scaled_triangles(1.3)                             # cached
    for k in (0, 1, 3, 4):
        assert s[k] is tri[k]
    for k in (2, 5):
        assert np.array_equal(s[k], tri[k] * 1.3) and s[k] is not tri[k]
    assert np.array_equal(tri[2], P._split_triangles()[2])         # triangles untouched
    s2 = P.scaled_triangles(0.7)
    assert np.array_equal(s2[2], tri[2] * 0.7)
    s3 = P.scaled_triangles(1.3)
    assert s3 is not s                                              # one slot: rebuilt
    assert P.scaled_triangles(1.0) is tri
    assert P.scaled_triangles(1.3) is s3                            # omega = 1 keeps the slot
    for bad in (np.nan, np.inf):
        with pytest.raises(ValueError, match="omega must be finite"):
            P.scaled_triangles(bad)
    assert P.scaled_triangles(1.3) is s3                            # and a bad omega too


def _unpadded(tri, n):
    """The triangles without their padding entries (column n)."""
    out = []
    for ptr, idx, val in (tri[:3], tri[3:]):
        keep = idx != n
        rows = np.repeat(np.arange(n), np.diff(ptr))[keep]
        p = np.zeros(n + 1, dtype=ptr.dtype)
        np.cumsum(np.bincount(rows, minlength=n), out=p[1:])
        out += [p, idx[keep], val[keep]]
    return out


@pytest.mark.parametrize("K", KERNELS)
def test_pad_lengths_against_numpy(K):
    """pad_lengths: each chunk of rows padded to its longest row unless that more than
    triples its entries, a last partial chunk, the padded total; int32 and int64."""
    rng = np.random.default_rng(6)
    for index in (np.int32, np.int64):
        for n, chunk in ((1, 2), (7, 2), (101, 3), (64, 8), (50, 1)):
            lens = rng.poisson(3, n).astype(index)
            lens[n // 2] = 40                           # a long row: its chunk stays
            out = np.full(n, -1, dtype=index)
            total = K.pad_lengths(lens, chunk, 3.0, out)
            ref = lens.copy()
            for c in range(0, n, chunk):
                seg = lens[c:c + chunk]
                if seg.max() * len(seg) <= 3.0 * seg.sum():
                    ref[c:c + chunk] = seg.max()
            assert np.array_equal(out, ref) and total == int(ref.sum()), (n, chunk)


@pytest.mark.parametrize("K", KERNELS)
def test_padded_triangles_layout_and_iterates(K, monkeypatch):
    """Rows padded in chunks of PAD_CHUNK to the chunk's longest (column n, value 0; before
    the entries in L and after them in U, so the nearest column stays last in the solves):
    the unpadded content is SciPy's tril / triu, each padded chunk has one row length, a
    chunk that padding would more than triple keeps its rows; triangles() pads the random
    graph Laplacian and not the stencils, the random dense SPD matrix (long rows) or
    elasticity; the iterates with padded and plain triangles are the same bit for bit
    (only zeros are added), for both orders, full u and the ring buffer."""
    from numfit.linalg import _base, _kernels
    monkeypatch.setattr(_kernels, "kernels", K)
    G = graph_laplacian(900, 1)
    hub = G.tolil()                               # a hub row: its chunk stays unpadded
    hub[100, 200:700] = -1e-3
    hub[200:700, 100] = -1e-3
    hub = sp.csr_array(hub)
    hub.setdiag(hub.diagonal() + 1.0)
    rng = np.random.default_rng(4)                # banded, irregular rows: the ring buffer
    B = sp.random_array((600, 600), density=0.02, rng=rng, format="coo")
    keep = np.abs(B.row - B.col) <= 20
    B = sp.csr_array((-B.data[keep], (B.row[keep], B.col[keep])), shape=(600, 600))
    B = sp.csr_array(B + B.T)
    B.setdiag(-np.asarray(B.sum(axis=1)).ravel() + 0.1)
    from numfit.linalg._sor import _eis_ring
    assert _eis_ring(prepare(B))[1] > 0
    for A in (G, sp.csr_array(hub), B):
        P = prepare(A)
        n = P.n
        padded = P._split_triangles(pad=True)
        ref = _triangles_reference(P.csr)
        for g, r in zip(_unpadded(padded, n), ref):
            assert np.array_equal(g, r)
        for (ptr, idx, val), lower in ((padded[:3], True), (padded[3:], False)):
            lens = np.diff(ptr)
            real = np.diff(ref[0] if lower else ref[3])
            assert (lens >= real).all() and (lens > real).any()
            for i in range(n):
                row_i, row_v = idx[ptr[i]:ptr[i + 1]], val[ptr[i]:ptr[i + 1]]
                k = lens[i] - real[i]
                pad_i, pad_v = (row_i[:k], row_v[:k]) if lower else (row_i[real[i]:],
                                                                     row_v[real[i]:])
                assert (pad_i == n).all() and (pad_v == 0.0).all()
                assert (row_i[k:] if lower else row_i[:real[i]]).max(initial=-1) < n
            for c in range(0, n, _base.PAD_CHUNK):
                chunk = lens[c:c + _base.PAD_CHUNK]
                rch = real[c:c + _base.PAD_CHUNK]
                if (chunk != rch).any():
                    assert (chunk == rch.max()).all()
                else:
                    assert rch.max() * len(rch) > _base.PAD_MAX * rch.sum() or \
                        (rch == rch.max()).all()
        if A is hub:
            assert np.diff(padded[3])[100] == np.diff(ref[3])[100]     # the hub's chunk
        b = np.random.default_rng(2).standard_normal(n)
        for order in ("fb", "bf"):
            runs = []
            for tri in (P._split_triangles(pad=False), padded):
                P._triangles = tri
                runs.append(nf.ssor_cg(P, b, 1.4, order=order, rtol=1e-10))
            assert runs[0].nit == runs[1].nit and np.array_equal(runs[0].x, runs[1].x)
    # the automatic choice: the banded matrix's short irregular rows are padded (its
    # PreparedMatrix above had its triangles replaced: a fresh one)
    Bp = prepare(B)
    assert len(Bp.triangles()[1]) > len(_triangles_reference(Bp.csr)[1])
    gl = prepare(G)
    assert any(np.diff(gl.triangles()[0]) != np.diff(_triangles_reference(gl.csr)[0]))
    for M in (laplacian_2d(30), random_spd(60, 3), MATRICES.get("pyamg_elasticity")):
        if M is None:
            continue
        Q = prepare(M)
        for g, r in zip(Q.triangles(), _triangles_reference(Q.csr)):
            assert np.array_equal(g, r)


def test_split_triangles_of_a_diagonal_matrix():
    P = prepare(sp.diags_array(np.arange(1.0, 6.0), format="csr"))
    lptr, lidx, lval, uptr, uidx, uval = P.triangles()
    assert np.array_equal(lptr, np.zeros(6)) and np.array_equal(uptr, np.zeros(6))
    assert lidx.size == lval.size == uidx.size == uval.size == 0
    r = nf.ssor_cg(P, np.ones(5), omega=1.2, rtol=1e-12)
    assert r.converged and np.allclose(r.x, 1.0 / np.arange(1.0, 6.0))
