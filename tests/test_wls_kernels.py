"""WLS kernels against their pure-NumPy references (numfit/approx/_reference.py)."""
import math

import numpy as np
import pytest
from scipy.special import roots_hermitenorm, roots_legendre

import numfit as nf
from numfit._core import _nb_basis as B
from numfit._core import _nb_sample as S
from numfit.approx import _kernels as K
from numfit.approx import _reference as R
from numfit.approx import quadrature

FAMILIES = ["legendre", "chebyshev", "hermite"]


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("dim,index_set", [(1, "total"), (2, "total"), (2, "tensor"),
                                           (3, "hyperbolic")])
def test_features_match_numpy_polynomial(family, dim, index_set):
    V = nf.PolynomialSpace(family, 5, dim=dim, index_set=index_set)
    rng = np.random.default_rng(0)
    t = rng.uniform(-1, 1, (50, dim)) if family != "hermite" else rng.normal(size=(50, dim))
    got = V.eval(V.from_reference(t))
    ref = R.features_ref(family, V.indices, t)
    assert np.allclose(got, ref, rtol=1e-12, atol=1e-12)
    assert np.allclose(V.christoffel(V.from_reference(t)), np.sum(ref ** 2, axis=1), rtol=1e-12)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("dim,index_set", [(1, "total"), (2, "total"), (2, "tensor"),
                                           (2, "hyperbolic"), (3, "total"), (3, "tensor"),
                                           (3, "hyperbolic")])
def test_orthonormal_by_gauss_quadrature(family, dim, index_set):
    V = nf.PolynomialSpace(family, 6 if dim == 1 else 3, dim=dim, index_set=index_set)
    x, w = quadrature(V, quad=12)
    phi = V.eval(x)
    assert np.abs(phi.T @ (w[:, None] * phi) - np.eye(V.m)).max() <= 1e-13
    # the inverse Christoffel function integrates to m
    assert np.sum(w * V.christoffel(x)) == pytest.approx(V.m, rel=1e-13)


def test_index_set_order_and_sizes():
    V = nf.PolynomialSpace("legendre", 2, dim=2)
    assert V.indices.tolist() == [[0, 0], [1, 0], [0, 1], [2, 0], [1, 1], [0, 2]]
    assert nf.PolynomialSpace("legendre", 3, dim=3, index_set="tensor").m == 64
    assert nf.PolynomialSpace("legendre", 4, dim=3, index_set="total").m == math.comb(7, 3)
    H = nf.PolynomialSpace("legendre", 5, dim=2, index_set="hyperbolic")
    assert all(np.prod(H.indices + 1, axis=1) <= 6)
    assert H.m == sum(1 for a in range(6) for b in range(6) if (a + 1) * (b + 1) <= 6)
    for s in ("total", "tensor", "hyperbolic"):
        assert nf.PolynomialSpace("chebyshev", 7, index_set=s).indices[:, 0].tolist() == \
            list(range(8))


@pytest.mark.parametrize("family", FAMILIES)
def test_clenshaw_matches_features(family):
    V = nf.PolynomialSpace(family, 12)
    c = np.random.default_rng(1).normal(size=(13, 2))
    t = np.linspace(-0.99, 0.99, 31)
    out = np.empty((31, 2))
    B.clenshaw(t, V.beta, c, out)
    assert np.allclose(out, R.features_ref(family, V.indices, t[:, None]) @ c, rtol=1e-12,
                       atol=1e-12)
    one = np.empty((31, 1))
    B.clenshaw(t, V.beta, np.array([[2.5]]), one)
    assert np.all(one == 2.5)


@pytest.mark.parametrize("family", FAMILIES)
def test_iid_sampler_bit_identical_to_reference(family):
    V = nf.PolynomialSpace(family, 4, dim=2)
    counts = np.zeros(4, np.int64)
    a = K.draw_rho(np.random.default_rng(3), V, 200, 10_000, counts)
    b = R.draw_rho_ref(np.random.default_rng(3), family, V.indices, 200)
    if family == "hermite":          # Newton vs brentq on two different CDF formulas
        assert np.abs(a - b).max() < 1e-9
    else:
        assert np.array_equal(a, b)
    assert counts[1] == 400 and counts[0] >= 400


@pytest.mark.parametrize("family", ["legendre", "chebyshev"])
def test_dpp_chain_matches_reference(family):
    V = nf.PolynomialSpace(family, 3, dim=2)
    counts = np.zeros(4, np.int64)
    a = K.dpp_chain(np.random.default_rng(4), V, 10_000, counts)
    b, props = R.dpp_chain_ref(np.random.default_rng(4), family, V.indices)
    assert np.allclose(a, b, rtol=0, atol=1e-14)
    assert counts[2] == props and counts[3] == V.m


@pytest.mark.parametrize("a", [0.0, -0.5])
def test_jacobi_tridiagonal_matches_reference(a):
    m = 9
    diag, off = np.empty(m), np.empty(m - 1)
    S.jacobi_tridiag(np.random.default_rng(8), m, a, a, diag, off)
    ref = R.jacobi_tridiag_ref(np.random.default_rng(8), m, a, a)
    assert np.allclose(np.diag(ref), diag, atol=1e-15)
    assert np.allclose(np.diag(ref, 1), off, atol=1e-15)
    lam = np.linalg.eigvalsh(ref)
    assert np.all(np.abs(lam) <= 2 + 1e-12)


def test_hermite_cdf_against_spec_expansion_and_stability():
    V = nf.PolynomialSpace("hermite", 200)
    t = np.linspace(-6, 6, 41)
    for j in (1, 2, 5, 12):
        got = np.array([S.hermite_cdf(V.beta, j, x)[0] for x in t])
        assert np.allclose(got, R.cdf_1d_ref("hermite", j, t), atol=1e-12)
    for j in (30, 100, 200):   # the c_{j,k} expansion loses 1e-5 at j = 30; this form does not
        r = math.sqrt(4 * j + 2) + 10
        assert S.hermite_cdf(V.beta, j, 0.0)[0] == pytest.approx(0.5, abs=1e-13)
        assert S.hermite_cdf(V.beta, j, r)[0] == pytest.approx(1.0, abs=1e-13)
        assert S.hermite_cdf(V.beta, j, -r)[0] == pytest.approx(0.0, abs=1e-13)
        x, w = roots_hermitenorm(j + 20)
        w = w / w.sum()
        phi = np.empty((len(x), j + 1))
        B.table_1d(x, V.beta, j, phi)
        # F_j(1) - F_j(-1) by a Gauss rule on [-1, 1] of phi_j^2 gamma
        g, gw = roots_legendre(400)
        ph = np.empty((400, j + 1))
        B.table_1d(g, V.beta, j, ph)
        mass = np.sum(gw * ph[:, j] ** 2 * np.exp(-g * g / 2)) / math.sqrt(2 * math.pi)
        got = S.hermite_cdf(V.beta, j, 1.0)[0] - S.hermite_cdf(V.beta, j, -1.0)[0]
        assert got == pytest.approx(mass, rel=1e-10)


def test_expansion_kernel_matches_features_product():
    V = nf.PolynomialSpace("hermite", 3, dim=3, index_set="hyperbolic")
    rng = np.random.default_rng(2)
    t = rng.normal(size=(40, 3))
    c = rng.normal(size=(V.m, 2))
    out = K.expansion(t, V.beta, V.pmax, V.indices, c)
    assert np.allclose(out, R.features_ref("hermite", V.indices, t) @ c, rtol=1e-12, atol=1e-12)
