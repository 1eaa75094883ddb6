"""Multicolour SOR / SSOR-CG / sweeps (``ordering="multicolor"``), NumPy path.

Oracles: (1) a pure-NumPy dense reference that renumbers the unknowns colour by colour and runs
textbook row-by-row SOR on ``P A P^T``; (2) the definition (Jacobi inside a colour, colours in
turn) on the original numbering; (3) the compiled natural-order solvers on ``P A P^T``
(PCG is permutation-equivariant); (4) ``_reference.ssor_apply_reference`` on ``P A P^T`` for the
preconditioner. The colourings come from an independent plain-Python greedy colouring.
"""
import numpy as np
import pytest
import scipy.sparse as sp

import numfit as nf
import numfit.linalg as la
from numfit.linalg import _multicolor as mc
from numfit.linalg._reference import ssor_apply_reference


# --------------------------------------------------------------------------- references
def greedy_python(A):
    """Plain greedy colouring of the pattern of A + A^T in natural order."""
    S = sp.csr_array(abs(sp.csr_array(A)) + abs(sp.csr_array(A)).T)
    S.eliminate_zeros()
    n = S.shape[0]
    col = -np.ones(n, dtype=int)
    for i in range(n):
        used = {col[j] for j in S.indices[S.indptr[i]:S.indptr[i + 1]] if j != i and col[j] >= 0}
        c = 0
        while c in used:
            c += 1
        col[i] = c
    return col


def mc_sor_permuted_reference(A, b, omega, x0, nsweeps, sweep="forward"):
    """Dense textbook SOR on P A P^T (unknowns sorted by colour, stable), mapped back."""
    A = np.asarray(sp.csr_array(A).toarray())
    col = greedy_python(A)
    p = np.argsort(col, kind="stable")
    Ap = A[np.ix_(p, p)]
    bp = np.asarray(b, float)[p]
    x = np.array(x0, float)[p]
    n = len(b)
    rows = {"forward": [range(n)], "backward": [range(n - 1, -1, -1)],
            "symmetric": [range(n), range(n - 1, -1, -1)]}[sweep]
    for _ in range(nsweeps):
        for order in rows:
            for i in order:
                x[i] += omega * (bp[i] - Ap[i] @ x) / Ap[i, i]
    out = np.empty(n)
    out[p] = x
    return out


def mc_sor_definition(A, b, omega, x0, nsweeps):
    """x[c] <- (1 - w) x[c] + w D_c^{-1} (b_c - (A x)_c + D_c x_c), colours in turn."""
    A = np.asarray(sp.csr_array(A).toarray())
    col = greedy_python(A)
    d = np.diag(A)
    x = np.array(x0, float)
    for _ in range(nsweeps):
        for c in range(col.max() + 1):
            idx = col == c
            Ax = A @ x
            x[idx] = (1 - omega) * x[idx] + omega * (b[idx] - Ax[idx] + d[idx] * x[idx]) / d[idx]
    return x


def perm_of(A):
    return np.argsort(greedy_python(A), kind="stable")


def nine_point(m):
    """9-point stencil (greedy needs 4 colours), SPD, diagonal 8."""
    T = sp.diags_array([np.ones(m - 1), np.ones(m), np.ones(m - 1)], offsets=[-1, 0, 1])
    K = sp.kron(T, T).tocsr()
    return sp.csr_array(9.0 * sp.eye_array(m * m) - K + 0.0 * K)


def nonsym(n, seed):
    rng = np.random.default_rng(seed)
    R = sp.random_array((n, n), density=0.08, rng=rng, format="csr")
    R.data = -R.data
    d = np.asarray(abs(R).sum(axis=1)).ravel() + 1.0
    return sp.csr_array(R + sp.diags_array(d))


MATRICES = {
    "poisson5": lambda: la.laplacian_2d(6),
    "ninepoint": lambda: nine_point(5),
    "nonsym": lambda: nonsym(40, 3),
}


# --------------------------------------------------------------------------- colouring
@pytest.mark.parametrize("m", [1, 2, 5, 8, 13])
def test_poisson_gets_red_black(m):
    col = la.greedy_coloring(la.laplacian_2d(m))
    i, j = np.divmod(np.arange(m * m), m)
    np.testing.assert_array_equal(col, (i + j) % 2)


@pytest.mark.parametrize("name", list(MATRICES))
def test_coloring_valid_and_equals_python_greedy(name):
    A = MATRICES[name]()
    col = la.greedy_coloring(A)
    np.testing.assert_array_equal(col, greedy_python(A))
    S = sp.coo_array(abs(sp.csr_array(A)) + abs(sp.csr_array(A)).T)
    off = (S.row != S.col) & (S.data != 0)
    assert not np.any(col[S.row[off]] == col[S.col[off]])
    if name == "ninepoint":
        assert col.max() + 1 == 4


def test_coloring_one_sided_coupling_and_dense_and_prepared():
    A = np.eye(3) * 2
    A[0, 2] = -1.0                      # only a_02 stored: 0 and 2 still coupled
    col = la.greedy_coloring(A)
    assert col[0] != col[2]
    assert col.tolist() == la.greedy_coloring(la.prepare(A)).tolist() == [0, 0, 1]


def test_explicit_zeros_do_not_couple():
    A = sp.csr_array((np.array([2.0, 0.0, 0.0, 2.0]), np.array([0, 1, 0, 1]),
                      np.array([0, 2, 4])), shape=(2, 2))
    assert A.nnz == 4
    assert la.greedy_coloring(A).tolist() == [0, 0]


def test_invalid_coloring_is_detected():
    S = mc._pattern(la.laplacian_2d(3))
    with pytest.raises(RuntimeError, match="coupled and share colour"):
        mc._check_valid(S, np.zeros(9, dtype=np.int64))


@pytest.mark.parametrize("bad, exc, match", [
    (np.ones((2, 3)), ValueError, "square"), (np.ones(3), ValueError, "2-D")])
def test_coloring_bad_input(bad, exc, match):
    with pytest.raises(exc, match=match):
        la.greedy_coloring(bad)


# --------------------------------------------------------------------------- iterates
@pytest.mark.parametrize("name", list(MATRICES))
@pytest.mark.parametrize("omega", [0.7, 1.0, 1.6])
@pytest.mark.parametrize("nsweeps", [1, 2, 7])
def test_sor_iterates_equal_permuted_reference(name, omega, nsweeps):
    A = MATRICES[name]()
    n = A.shape[0]
    rng = np.random.default_rng(nsweeps)
    b, x0 = rng.standard_normal(n), rng.standard_normal(n)
    res = nf.sor(A, b, omega, x0=x0, rtol=0.0, maxiter=nsweeps, ordering="multicolor")
    assert res.nit == nsweeps and res.status == 1 and not res.converged
    ref = mc_sor_permuted_reference(A, b, omega, x0, nsweeps)
    np.testing.assert_allclose(res.x, ref, rtol=0, atol=1e-12 * max(1, np.abs(ref).max()))
    np.testing.assert_allclose(res.x, mc_sor_definition(A, b, omega, x0, nsweeps),
                               rtol=0, atol=1e-12 * max(1, np.abs(ref).max()))
    np.testing.assert_allclose(res.residual, np.linalg.norm(b - A @ res.x), rtol=1e-10)


@pytest.mark.parametrize("sweep", ["forward", "backward", "symmetric"])
@pytest.mark.parametrize("name", ["poisson5", "ninepoint", "nonsym"])
def test_sweeps_equal_reference(sweep, name):
    A = MATRICES[name]()
    n = A.shape[0]
    rng = np.random.default_rng(4)
    b, x0 = rng.standard_normal(n), rng.standard_normal(n)
    ref = mc_sor_permuted_reference(A, b, 1.3, x0, 3, sweep)
    x = x0.copy()
    out = la.sor_sweep(A, x, b, 1.3, iterations=3, sweep=sweep, ordering="multicolor")
    assert out is x
    np.testing.assert_allclose(x, ref, rtol=0, atol=1e-12)
    r = nf.sor(A, b, 1.3, x0=x0, rtol=0.0, maxiter=3, sweep=sweep, ordering="multicolor")
    np.testing.assert_allclose(r.x, ref, rtol=0, atol=1e-12)
    x2 = x0.copy()
    la.sor_sweep(A, x2, b, 1.3, iterations=0, ordering="multicolor")
    np.testing.assert_array_equal(x2, x0)


def test_natural_sor_of_permuted_system_is_multicolor():
    """Oracle (3): compiled lexicographic SOR on P A P^T, mapped back, = multicolour SOR."""
    A = la.laplacian_2d(20)
    p = perm_of(A)
    b = np.random.default_rng(0).standard_normal(400)
    Ap = sp.csr_array(A[p][:, p])
    for sweep in ("forward", "backward", "symmetric"):
        nat = nf.sor(Ap, b[p], 1.7, sweep=sweep, rtol=1e-9)
        mcr = nf.sor(A, b, 1.7, sweep=sweep, rtol=1e-9, ordering="multicolor")
        assert mcr.converged and abs(mcr.nit - nat.nit) <= 1
        np.testing.assert_allclose(mcr.x[p], nat.x, atol=1e-8)


def test_sor_is_not_the_natural_ordering():
    A = la.laplacian_2d(8)
    b = np.ones(64)
    a = nf.sor(A, b, 1.5, rtol=0.0, maxiter=2)
    c = nf.sor(A, b, 1.5, rtol=0.0, maxiter=2, ordering="multicolor")
    assert np.abs(a.x - c.x).max() > 1e-3


# --------------------------------------------------------------------------- front end
def test_result_fields_history_callback_and_prepared_reuse():
    A = la.laplacian_2d(10)
    P = la.prepare(A)
    b = np.ones(100)
    seen = []

    def cb(info):
        assert not info.x.flags.writeable
        np.testing.assert_allclose(info.residual, np.linalg.norm(b - A @ info.x), rtol=1e-8,
                                   atol=1e-13 * np.linalg.norm(b))
        seen.append(info.nit)

    r = nf.sor(P, b, 1.5, ordering="multicolor", return_history=True, callback=cb)
    r2 = nf.sor(P, b, 1.5, ordering="multicolor")
    assert P._multicolor_plan.ncolors == 2          # plan cached on the PreparedMatrix
    for key in ("x", "nit", "converged", "success", "status", "message", "residual", "relres",
                "ref_norm", "omega", "nsweeps", "time", "residual_history", "ordering",
                "ncolors"):
        assert key in r
    assert r.converged and r.status == 0 and r.nit == r2.nit == len(seen) == r.nsweeps
    assert seen == list(range(1, r.nit + 1))
    assert len(r.residual_history) == r.nit + 1
    assert r.residual_history[-1] < 1e-8 * r.residual_history[0] <= r.residual_history[-2]
    np.testing.assert_allclose(r.relres, r.residual / r.ref_norm)
    np.testing.assert_array_equal(r.x, r2.x)


def test_callback_stop_zero_rhs_warm_start_maxiter_norm_b():
    A = la.laplacian_2d(6)
    b = np.ones(36)
    r = nf.sor(A, b, 1.2, ordering="multicolor", callback=lambda info: info.nit == 3)
    assert r.status == 3 and r.nit == 3 and not r.converged
    z = nf.sor(A, np.zeros(36), 1.2, norm="b", ordering="multicolor")
    assert z.converged and z.nit == 0 and not np.any(z.x)
    full = nf.sor(A, b, 1.2, ordering="multicolor")
    warm = nf.sor(A, b, 1.2, x0=full.x, ordering="multicolor", norm="b")
    assert warm.nit == 0 and warm.converged
    capped = nf.sor(A, b, 1.2, maxiter=4, ordering="multicolor")
    assert capped.status == 1 and capped.nit == 4
    nb = nf.sor(A, b, 1.2, norm="b", ordering="multicolor")
    np.testing.assert_allclose(nb.ref_norm, 6.0)


def test_divergence_status():
    A = np.array([[1.0, 3.0], [3.0, 1.0]])            # not SPD: SOR diverges
    r = nf.sor(A, np.ones(2), 1.0, ordering="multicolor", divtol=1e3)
    assert r.status == 2 and not r.converged


# --------------------------------------------------------------------------- SSOR-CG
@pytest.mark.parametrize("order", ["fb", "bf"])
@pytest.mark.parametrize("name", ["poisson5", "ninepoint"])
def test_ssor_preconditioner_matches_reference_and_is_symmetric(order, name):
    A = MATRICES[name]()
    P = la.prepare(A)
    dev = mc._plan_for(P).on(np)
    p = P._multicolor_plan.perm
    np.testing.assert_array_equal(p, perm_of(A))
    Ap = sp.csr_array(A[p][:, p])
    rng = np.random.default_rng(1)
    u, v = rng.standard_normal(P.n), rng.standard_normal(P.n)
    for omega in (1.0, 1.4):
        Mu = mc.ssor_apply(dev, u, omega, order)
        Mv = mc.ssor_apply(dev, v, omega, order)
        np.testing.assert_allclose(Mu, ssor_apply_reference(Ap, u, omega, order), rtol=1e-12,
                                   atol=1e-13)
        assert abs(Mu @ v - u @ Mv) <= 1e-12 * abs(Mu @ v)
        assert Mu @ u > 0


def test_ssor_cg_equals_natural_on_permuted_system():
    A = la.laplacian_2d(16)
    p = perm_of(A)
    b = np.random.default_rng(2).standard_normal(256)
    Ap = sp.csr_array(A[p][:, p])
    for order in ("fb", "bf"):
        for k in (1, 2, 5):                  # early iterates: equal up to rounding
            nat = nf.ssor_cg(Ap, b[p], 1.3, order=order, rtol=0.0, maxiter=k)
            mcr = nf.ssor_cg(A, b, 1.3, order=order, ordering="multicolor", rtol=0.0,
                             maxiter=k)
            assert nat.nit == mcr.nit == k
            np.testing.assert_allclose(mcr.x[p], nat.x, rtol=0, atol=1e-12)
        nat = nf.ssor_cg(Ap, b[p], 1.3, order=order)
        mcr = nf.ssor_cg(A, b, 1.3, order=order, ordering="multicolor", return_history=True)
        assert mcr.converged and mcr.nit == nat.nit
        np.testing.assert_allclose(mcr.x[p], nat.x, rtol=0, atol=1e-6)   # rtol 1e-8 solves
        assert np.linalg.norm(b - A @ mcr.x) <= 1e-8 * np.linalg.norm(b)
        assert len(mcr.residual_history) == mcr.nit + 1


def test_ssor_cg_statuses_and_callback():
    A = la.laplacian_2d(8)
    b = np.ones(64)
    r = nf.ssor_cg(A, b, 1.0, ordering="multicolor", maxiter=2)
    assert r.status == 1 and r.nit == 2
    np.testing.assert_allclose(r.residual, np.linalg.norm(b - A @ r.x), rtol=1e-10)
    s = nf.ssor_cg(A, b, 1.0, ordering="multicolor", callback=lambda info: info.nit == 2)
    assert s.status == 3 and s.nit == 2
    z = nf.ssor_cg(A, np.zeros(64), 1.0, ordering="multicolor")
    assert z.converged and z.nit == 0
    ind = np.diag([1.0, 1.0]) + np.array([[0.0, 2.0], [2.0, 0.0]])    # indefinite
    br = nf.ssor_cg(ind, np.array([1.0, 0.0]), 1.0, ordering="multicolor")
    assert br.status == 2
    with pytest.raises(ValueError, match="symmetric"):
        nf.ssor_cg(nonsym(20, 1), np.ones(20), ordering="multicolor")


# --------------------------------------------------------------------------- iteration counts
# Measured (x0 = 0, b = 1, rtol 1e-8, norm r0): natural vs multicolour (red-black) SOR.
COUNTS = {  # (m, omega): (natural, multicolour)
    (32, 1.0): (2011, 2048), (32, 1.5): (661, 701), (32, 1.8): (181, 197),
    (32, 1.8264): (124, 129), (32, 1.95): (396, 393),
    (64, 1.0): (7801, 7948), (64, 1.5): (2591, 2753), (64, 1.8): (834, 929),
    (64, 1.9078): (248, 261), (64, 1.95): (396, 417),
}


@pytest.mark.parametrize("m", [32, 64])
def test_poisson_iteration_counts_vs_natural(m):
    """Red-black and natural ordering are both consistently ordered: same asymptotic rate,
    so the counts agree within ~12 % (5 % at omega*)."""
    P = la.prepare(la.laplacian_2d(m))
    b = np.ones(m * m)
    wopt = 2 / (1 + np.sin(np.pi / (m + 1)))
    for (mm, omega), (n_nat, n_mc) in COUNTS.items():
        if mm != m:
            continue
        nat = nf.sor(P, b, omega)
        mcr = nf.sor(P, b, omega, ordering="multicolor")
        assert nat.nit == n_nat
        assert abs(mcr.nit - n_mc) <= 1, (omega, mcr.nit)
        assert abs(mcr.nit / nat.nit - 1) < (0.06 if abs(omega - wopt) < 1e-3 else 0.12)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("fn", ["sor", "ssor_cg"])
@pytest.mark.parametrize("bad", ["lexicographic", "Multicolor", None, 1])
def test_unknown_ordering(fn, bad):
    A = la.laplacian_2d(3)
    with pytest.raises(ValueError, match="`ordering` must be one of"):
        getattr(nf, fn)(A, np.ones(9), ordering=bad)


def test_unknown_ordering_sweep():
    with pytest.raises(ValueError, match="`ordering` must be one of"):
        la.sor_sweep(np.eye(2), np.zeros(2), np.ones(2), 1.0, ordering="red-black")


@pytest.mark.parametrize("kw, exc, match", [
    (dict(sweep="sideways"), ValueError, "`sweep` must be one of"),
    (dict(norm="inf"), ValueError, "`norm` must be one of"),
    (dict(omega=2.0), ValueError, "omega"),
    (dict(omega=0.0), ValueError, "omega"),
    (dict(rtol=-1.0), ValueError, "rtol"),
    (dict(maxiter=-1), ValueError, "maxiter"),
    (dict(divtol=0.0), ValueError, "divtol"),
    (dict(callback=3), TypeError, "callback"),
    (dict(b=np.ones(5)), ValueError, r"`b` must have shape \(9,\)"),
    (dict(b=np.full(9, np.nan)), ValueError, "`b` must be finite; got nan at index 0"),
    (dict(b=np.ones(9, dtype=complex)), TypeError, "`b` must be real"),
    (dict(b=np.array(["a"] * 9)), TypeError, "`b` must be a real vector"),
    (dict(x0=np.ones(8)), ValueError, "`x0` must have shape"),
    (dict(A=np.ones((3, 4))), ValueError, "square"),
    (dict(A=-np.eye(9)), ValueError, r"A\[0,0\] must be > 0"),
])
def test_sor_multicolor_bad_input(kw, exc, match):
    args = dict(A=la.laplacian_2d(3), b=np.ones(9))
    args.update(kw)
    A, b = args.pop("A"), args.pop("b")
    with pytest.raises(exc, match=match):
        nf.sor(A, b, ordering="multicolor", **args)


@pytest.mark.parametrize("kw, exc, match", [
    (dict(order="ff"), ValueError, "`order` must be one of"),
    (dict(sweep="forward"), TypeError, "sweep"),          # not a keyword of ssor_cg
    (dict(check_symmetry="maybe"), ValueError, "check_symmetry"),
])
def test_ssor_cg_multicolor_bad_input(kw, exc, match):
    with pytest.raises(exc, match=match):
        nf.ssor_cg(la.laplacian_2d(3), np.ones(9), ordering="multicolor", **kw)


@pytest.mark.parametrize("x, exc, match", [
    (np.zeros(9, dtype=np.float32), TypeError, "writeable C-contiguous float64"),
    (np.zeros(8), TypeError, "writeable C-contiguous float64"),
    ([0.0] * 9, TypeError, "writeable C-contiguous float64"),
    (np.zeros(18)[::2], TypeError, "writeable C-contiguous float64"),
    (np.full(9, np.inf), ValueError, "`x` must be finite"),
])
def test_sor_sweep_multicolor_bad_x(x, exc, match):
    with pytest.raises(exc, match=match):
        la.sor_sweep(la.laplacian_2d(3), x, np.ones(9), 1.0, ordering="multicolor")


def test_sor_sweep_multicolor_bad_other():
    A = la.laplacian_2d(3)
    ro = np.zeros(9)
    ro.flags.writeable = False
    with pytest.raises(TypeError, match="writeable"):
        la.sor_sweep(A, ro, np.ones(9), 1.0, ordering="multicolor")
    with pytest.raises(ValueError, match=r"`b` must have shape \(9,\)"):
        la.sor_sweep(A, np.zeros(9), np.ones(3), 1.0, ordering="multicolor",
                     check_finite=False)
    with pytest.raises(ValueError, match="`sweep` must be one of"):
        la.sor_sweep(A, np.zeros(9), np.ones(9), 1.0, sweep="up", ordering="multicolor")
    with pytest.raises(ValueError, match="iterations"):
        la.sor_sweep(A, np.zeros(9), np.ones(9), 1.0, iterations=-1, ordering="multicolor")


def test_vector_messages_match_natural_front_end():
    """The namespace-generic validation gives the natural path's messages."""
    A = la.laplacian_2d(3)
    for b in (np.ones(4), np.full(9, np.inf), np.ones(9, dtype=complex)):
        msgs = []
        for ordering in ("natural", "multicolor"):
            with pytest.raises((ValueError, TypeError)) as e:
                nf.sor(A, b, ordering=ordering)
            msgs.append(str(e.value))
        assert msgs[0] == msgs[1]
