"""numfit.optimize.problems: exact derivatives and reference values (the test problems of Hong
et al., ICML 2023; docs/alsketch.md)."""
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, spsolve

from numfit.optimize.problems import (
    HS_EXTRA,
    HS_NAMES,
    LOGISTIC_PRESETS,
    hock_schittkowski,
    load_libsvm_logistic,
    logistic_regression,
    poisson_control,
    semilinear_control,
)


def _dense(M):
    if isinstance(M, LinearOperator):
        return M @ np.eye(M.shape[1])
    return M.toarray() if sp.issparse(M) else np.asarray(M)


def _fd_check(p, x, lam, h=1e-6):
    n = p.n
    E = np.eye(n)
    g_fd = np.array([(p.fun(x + h * e) - p.fun(x - h * e)) / (2 * h) for e in E])
    np.testing.assert_allclose(p.grad(x), g_fd, rtol=1e-6, atol=1e-6)
    J_fd = np.array([(p.cons(x + h * e) - p.cons(x - h * e)) / (2 * h) for e in E]).T
    np.testing.assert_allclose(_dense(p.jac(x)), J_fd, rtol=1e-6, atol=1e-6)
    H_fd = np.array([(p.grad(x + h * e) - p.grad(x - h * e)) / (2 * h) for e in E]).T
    np.testing.assert_allclose(_dense(p.hess(x)), H_fd, rtol=1e-5, atol=1e-5)
    C_fd = np.array([(_dense(p.jac(x + h * e)).T @ lam - _dense(p.jac(x - h * e)).T @ lam)
                     / (2 * h) for e in E]).T
    np.testing.assert_allclose(_dense(p.cons_hess(x, lam)), C_fd, rtol=1e-5, atol=1e-5)
    HL = _dense(p.hess_lagrangian(x, lam))
    np.testing.assert_allclose(HL, H_fd + C_fd, rtol=1e-5, atol=1e-5)
    v = np.random.default_rng(0).standard_normal(n)
    np.testing.assert_allclose(p.hessp_lagrangian(x, lam, v), HL @ v, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", HS_NAMES)
def test_hs_derivatives(name):
    p = hock_schittkowski(name)
    rng = np.random.default_rng(hash(name) % 2 ** 32)
    x = p.x0 + 0.1 * rng.standard_normal(p.n)
    _fd_check(p, x, rng.standard_normal(p.m))


@pytest.mark.parametrize("name", HS_NAMES)
def test_hs_reference_points_are_kkt(name):
    p = hock_schittkowski(name)
    assert p.kkt_points
    for xs, fs in p.kkt_points:
        lam = np.linalg.lstsq(p.jac(xs).T, -p.grad(xs), rcond=None)[0]
        assert p.kkt(xs, lam) <= 1e-5                  # x* given to 6-7 digits
        assert p.fun(xs) == pytest.approx(fs, abs=2e-6)
    if p.f_star is not None:
        assert p.fun(p.x_star) == pytest.approx(p.f_star, abs=2e-6)
    assert np.all(np.isfinite(p.cons(p.x0)))


def test_hs_table_data():
    assert len(HS_NAMES) == 16
    assert hock_schittkowski("hs52").f_star == pytest.approx(5.3266475645)
    assert hock_schittkowski("HS42").f_star == pytest.approx(13.857864376)
    assert hock_schittkowski("HS47").f_star is None          # two KKT points
    assert hock_schittkowski("HS39").paper_iters is None
    assert hock_schittkowski("HS47").paper_iters == {"gaussian": 14, "kaczmarz": 15}
    p = hock_schittkowski("HS56")
    np.testing.assert_allclose(p.x0[3], np.arcsin(np.sqrt(1 / 4.2)))
    with pytest.raises(ValueError, match="`name` must be one of"):
        hock_schittkowski("HS1")


def test_scipy_and_alsketch_kwargs():
    p = hock_schittkowski("HS6")
    kw = p.as_scipy()
    assert set(kw) >= {"fun", "x0", "jac", "hess", "constraints"}
    kw = p.alsketch_kwargs(matrix_free=True)
    assert "hessp_lagrangian" in kw and "hess_lagrangian" not in kw


def test_poisson_control_reference_values():
    p = poisson_control(3)
    assert (p.n, p.m) == (18, 9)
    assert p.fun(p.x0) == pytest.approx(34.393272, abs=1e-6)
    assert p.kkt(p.x0, p.lambda0) == pytest.approx(19.1867, abs=1e-4)
    x = np.random.default_rng(1).standard_normal(p.n)
    _fd_check(p, x, np.random.default_rng(2).standard_normal(p.m))


@pytest.mark.parametrize("N", [3, 8, 16])
def test_poisson_control_fstar_by_direct_kkt_solve(N):
    p = poisson_control(N)
    H, G = p.data["H"], p.data["G"]
    K = sp.bmat([[H, G.T], [G, None]], format="csc")
    rhs = np.concatenate([p.data["H"] @ np.zeros(p.n) - p.grad(np.zeros(p.n)),
                          np.zeros(p.m)])
    z = spsolve(K, rhs)                           # f quadratic, c linear: one solve
    assert p.fun(z[:p.n]) == pytest.approx(p.f_star, rel=1e-10)
    assert sp.issparse(p.jac(p.x0)) and sp.issparse(p.hess_lagrangian(p.x0, p.lambda0))


def test_poisson_control_column_major_layout():
    p = poisson_control(4)
    L = p.data["L"].toarray()
    h = p.data["h"]
    # w_{2,1} (i=2, j=1) sits at index (i-1) + (j-1) N = 1; its neighbours are (1,1), (3,1),
    # (2,2) at indices 0, 2, 5
    row = L[1] * h ** 2
    assert row[1] == -4 and row[0] == row[2] == row[5] == 1 and np.count_nonzero(row) == 4
    wt = p.data["w_target"]
    c0 = 0.1 / np.sqrt(15)
    assert wt[1] == pytest.approx(np.sin(4 + c0 * (2 - 2.5)) + np.cos(3 + c0 * (1 - 2.5)))


def test_logistic_generator():
    p = logistic_regression(20, 500, rng=3)
    Z, y, A, b = (p.data[k] for k in ("Z", "y", "A", "b"))
    assert Z.shape == (500, 20) and set(np.unique(y)) == {-1.0, 1.0}
    assert A.shape == (10, 20) and np.linalg.norm(np.linalg.pinv(A) @ b) <= 0.9
    assert (p.n, p.m) == (20, 11)
    np.testing.assert_array_equal(p.x0, np.ones(20))
    np.testing.assert_array_equal(p.lambda0, np.ones(11))
    x = np.random.default_rng(0).standard_normal(20) * 0.3
    _fd_check(p, x, np.random.default_rng(1).standard_normal(11))
    f_direct = np.mean(np.log1p(np.exp(-y * (Z @ x))))
    assert p.fun(x) == pytest.approx(f_direct, rel=1e-12)
    q = logistic_regression(20, 500, rng=3)
    np.testing.assert_array_equal(q.data["A"], A)           # reproducible from the seed


def test_logistic_presets_sparse():
    p = logistic_regression(preset="mushrooms", rng=0)
    d, N, dens = LOGISTIC_PRESETS["mushrooms"]
    Z = p.data["Z"]
    assert sp.issparse(Z) and Z.shape == (N, d)
    assert abs(Z.nnz / (N * d) - dens) < 0.01
    assert p.paper_iters == {"gaussian": 8, "kaczmarz": 8}
    x = np.random.default_rng(0).standard_normal(d) * 0.1
    v = np.random.default_rng(1).standard_normal(d)
    h = 1e-6
    fd = (p.grad(x + h * v) - p.grad(x - h * v)) / (2 * h)
    np.testing.assert_allclose(p.hessp(x, v), fd, rtol=1e-5, atol=1e-8)
    with pytest.raises(ValueError, match="`preset` must be one of"):
        logistic_regression(preset="iris")
    with pytest.raises(ValueError, match="`d`"):
        logistic_regression(5, 100)


def test_load_libsvm(tmp_path):
    rng = np.random.default_rng(0)
    lines = []
    for i in range(60):
        lab = 1 if rng.random() < 0.5 else 2                   # mushrooms-style labels
        feats = " ".join(f"{j + 1}:{rng.random():.3f}" for j in range(15) if rng.random() < 0.7)
        lines.append(f"{lab} {feats}")
    path = tmp_path / "toy.libsvm"
    path.write_text("\n".join(lines) + "\n")
    p = load_libsvm_logistic(str(path))
    assert set(np.unique(p.data["y"])) == {-1.0, 1.0}
    labels = np.array([int(ln.split()[0]) for ln in lines])
    np.testing.assert_array_equal(p.data["y"] == -1, labels == 1)   # smaller label -> -1
    assert p.data["Z"].shape[0] == 60 and p.m == 11
    (tmp_path / "bad").write_text("1 1:0.5\n1 2:0.3\n")
    with pytest.raises(ValueError, match="two distinct labels"):
        load_libsvm_logistic(str(tmp_path / "bad"))


def test_hs61_extra_problem():
    p = hock_schittkowski("hs61")
    assert p.name == "HS61" and "HS61" not in HS_NAMES and "HS61" in HS_EXTRA
    rng = np.random.default_rng(61)
    _fd_check(p, p.x0 + 0.5 * rng.standard_normal(3), rng.standard_normal(2))
    assert np.linalg.matrix_rank(p.jac(p.x0)) == 1           # rank-deficient start
    lam = np.linalg.lstsq(p.jac(p.x_star).T, -p.grad(p.x_star), rcond=None)[0]
    assert p.kkt(p.x_star, lam) <= 1e-6
    assert p.fun(p.x_star) == pytest.approx(p.f_star, abs=1e-6)


@pytest.mark.parametrize("N", [1, 3, 5])
def test_semilinear_control_derivatives(N):
    p = semilinear_control(N)
    rng = np.random.default_rng(N)
    _fd_check(p, rng.standard_normal(p.n), rng.standard_normal(p.m))
    assert sp.issparse(p.jac(p.x0)) and sp.issparse(p.hess_lagrangian(p.x0, p.lambda0))
    # A is the 5-point negative Laplacian: A @ ones = boundary terms / h^2 only
    A, h = p.data["A"], p.data["h"]
    assert A.shape == (N * N, N * N) and A[0, 0] == pytest.approx(4 / h ** 2)
    assert p.fun(p.x0) == pytest.approx(0.5 * p.data["y_target"] @ p.data["y_target"])
