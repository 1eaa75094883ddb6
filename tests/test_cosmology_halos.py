"""Tests of the dimensionless NFW / Hernquist projected profiles (numfit.cosmology._halos).

References are computed with mpmath: the defining integrals by quadrature, and the
closed forms at 40 significant digits (with 40 guard digits against the cancellation at
X = 1, and an exact Taylor expansion for |X² − 1| < 1e-20).
"""
import doctest
import math
import warnings

import mpmath as mp
import numpy as np
import pytest

import numfit.cosmology as cosmo
from numfit.cosmology import (
    hernquist_delta_sigma_hat,
    hernquist_mass_hat,
    hernquist_mean_sigma_hat,
    hernquist_sigma_hat,
    nfw_delta_sigma_hat,
    nfw_mass_hat,
    nfw_mean_sigma_hat,
    nfw_sigma_hat,
)
from numfit.cosmology import _halos

FUNCS = {
    "nfw_sigma_hat": nfw_sigma_hat,
    "nfw_mass_hat": nfw_mass_hat,
    "nfw_mean_sigma_hat": nfw_mean_sigma_hat,
    "nfw_delta_sigma_hat": nfw_delta_sigma_hat,
    "hernquist_sigma_hat": hernquist_sigma_hat,
    "hernquist_mass_hat": hernquist_mass_hat,
    "hernquist_mean_sigma_hat": hernquist_mean_sigma_hat,
    "hernquist_delta_sigma_hat": hernquist_delta_sigma_hat,
}

# Measured worst relative errors on the grid below (x86-64, glibc libm) are
# 1.0e-15, 1.1e-15, 1.1e-15, 2.5e-15, 1.2e-14, 9.6e-16, 1.0e-15, 6.7e-15 (in the order
# of FUNCS; 8000 extra random points gave at most 3.0e-15 / 1.1e-14 / 8.0e-15 for the NFW
# ΔΣ̂ / Hernquist Σ̂ / Hernquist ΔΣ̂); the bounds leave room for a libm an ulp or two
# worse.  All are far below the 1e-12 requirement.
REL_TOL = {
    "nfw_sigma_hat": 5e-15,
    "nfw_mass_hat": 5e-15,
    "nfw_mean_sigma_hat": 5e-15,
    "nfw_delta_sigma_hat": 8e-15,
    "hernquist_sigma_hat": 3e-14,
    "hernquist_mass_hat": 5e-15,
    "hernquist_mean_sigma_hat": 5e-15,
    "hernquist_delta_sigma_hat": 2e-14,
}


# --------------------------------------------------------------------- mpmath references

def mp_reference(X, digits=40):
    """All eight quantities at ``X`` (float or mpf), as mpf, to ``digits`` digits."""
    with mp.workdps(digits + 40):
        X = mp.mpf(X)
        u = X * X - 1
        if abs(u) < mp.mpf(10) ** -20:
            # exact Taylor series in u (error O(u^3) < 1e-60 relative)
            F = 1 - u / 3 + u * u / 5
            sn = 2 * (mp.mpf(1) / 3 - u / 5 + u * u / 7)
            sh = mp.mpf(4) / 15 - u * 8 / 35 + u * u * 12 / 63
        else:
            s = mp.sqrt(abs(u))
            F = mp.atan(s) / s if X > 1 else mp.atanh(s) / s
            sn = 2 * (1 - F) / u
            sh = ((2 + X * X) * F - 3) / u ** 2
        mn = 2 * (F + mp.log(X / 2))
        mean_n = 2 * mn / (X * X)
        mh = X * X * sn / 2                      # = X² (1 − F) / u
        mean_h = 2 * mh / (X * X)
        return {
            "nfw_sigma_hat": +sn,
            "nfw_mass_hat": +mn,
            "nfw_mean_sigma_hat": +mean_n,
            "nfw_delta_sigma_hat": mean_n - sn,
            "hernquist_sigma_hat": +sh,
            "hernquist_mass_hat": +mh,
            "hernquist_mean_sigma_hat": +mean_h,
            "hernquist_delta_sigma_hat": mean_h - sh,
        }


def _x_of_w(w):
    """The X at which w = X² / (2 (1 + √(1 − X²))) equals ``w``."""
    return 2.0 * math.sqrt(w * (1.0 - w))


# Every branch boundary of the implementation (series window, small-X forms, the branch
# points of F and of the helper phi(w)).
EDGES = [_halos._X_WIN_LO, _halos._X_WIN_HI, _halos._X_SMALL, _halos._X_SMALL_F, 1.0,
         _x_of_w(_halos._W_TINY)]


def _grid():
    xs = list(np.logspace(-6, 6, 201))
    d = np.logspace(-10, -1, 28)
    xs += list(1.0 + d) + list(1.0 - d)
    for e in EDGES:
        xs += [np.nextafter(e, 0.0), e, np.nextafter(e, 2.0), e * (1 - 1e-9), e * (1 + 1e-9),
               e * (1 - 1e-3), e * (1 + 1e-3)]
    xs += list(np.linspace(0.3, 2.0, 60))
    return np.unique(np.array(xs, dtype=float))


GRID = _grid()


@pytest.fixture(scope="module")
def grid_reference():
    refs = [mp_reference(x) for x in GRID]
    return {name: np.array([float(r[name]) for r in refs]) for name in FUNCS}


# ------------------------------------------------------------------------------ accuracy

@pytest.mark.parametrize("name", list(FUNCS))
def test_accuracy_on_grid(name, grid_reference):
    got = FUNCS[name](GRID)
    ref = grid_reference[name]
    assert got.shape == GRID.shape
    assert np.all(np.isfinite(got)) and np.all(got > 0)
    rel = np.abs(got - ref) / ref
    worst = int(np.argmax(rel))
    assert rel[worst] <= REL_TOL[name], (name, GRID[worst], rel[worst])


def _rho_nfw(r):
    return 1 / (r * (1 + r) ** 2)


def _rho_hern(r):
    return 1 / (r * (1 + r) ** 3)


@pytest.mark.parametrize("X", [0.01, 0.5, 2.0, 30.0])
@pytest.mark.parametrize("profile", ["nfw", "hernquist"])
def test_sigma_against_quadrature(profile, X):
    rho = _rho_nfw if profile == "nfw" else _rho_hern
    with mp.workdps(30):
        Xm = mp.mpf(X)
        pts = sorted({mp.mpf(0), Xm, mp.mpf(1), mp.mpf(10)}) + [mp.inf]
        sigma = 2 * mp.quad(lambda z: rho(mp.sqrt(Xm * Xm + z * z)), pts)
    got = float(FUNCS[f"{profile}_sigma_hat"](X))
    assert abs(got - float(sigma)) <= 1e-13 * float(sigma)


@pytest.mark.parametrize("X", [0.01, 0.5, 2.0, 30.0])
@pytest.mark.parametrize("profile", ["nfw", "hernquist"])
def test_mass_against_quadrature(profile, X):
    # M̂(X) = ∫_0^X Σ̂(X') X' dX' with Σ̂ itself checked against the density integral above.
    name = f"{profile}_sigma_hat"
    with mp.workdps(30):
        pts = [0, X] if X < 1 else [0, 1, X]
        mass = mp.quad(lambda y: mp_reference(y, 30)[name] * y, pts)
    got = float(FUNCS[f"{profile}_mass_hat"](X))
    assert abs(got - float(mass)) <= 1e-13 * float(mass)


def test_mass_against_shell_integral():
    # Independent check of M̂: mass of the sphere inside r = X plus the part of each outer
    # shell inside the cylinder, M̂ = 2 ∫ r² ρ̂(r) [1 − √(1 − X²/r²) for r > X] dr.
    for X in (0.3, 3.0):
        for rho, func in ((_rho_nfw, nfw_mass_hat), (_rho_hern, hernquist_mass_hat)):
            with mp.workdps(30):
                Xm = mp.mpf(X)
                inner = mp.quad(lambda r: 2 * r * r * rho(r), [0, Xm])
                outer = mp.quad(lambda r: 2 * r * r * rho(r) * (1 - mp.sqrt(1 - (Xm / r) ** 2)),
                                [Xm, 10 * Xm, mp.inf])
                mass = float(inner + outer)
            assert abs(float(func(X)) - mass) <= 1e-13 * mass


# ----------------------------------------------------------------- identities and values

def test_exact_values_at_one():
    assert float(nfw_sigma_hat(1.0)) == pytest.approx(2 / 3, rel=1e-15)
    assert float(nfw_mass_hat(1.0)) == pytest.approx(2 * (1 - math.log(2)), rel=1e-15)
    assert float(nfw_mean_sigma_hat(1.0)) == pytest.approx(4 * (1 - math.log(2)), rel=1e-15)
    assert float(hernquist_sigma_hat(1.0)) == pytest.approx(4 / 15, rel=1e-15)
    assert float(hernquist_mass_hat(1.0)) == pytest.approx(1 / 3, rel=1e-15)
    assert float(hernquist_mean_sigma_hat(1.0)) == pytest.approx(2 / 3, rel=1e-15)
    assert float(hernquist_delta_sigma_hat(1.0)) == pytest.approx(2 / 5, rel=1e-15)
    assert float(nfw_delta_sigma_hat(1.0)) == pytest.approx(4 * (1 - math.log(2)) - 2 / 3,
                                                           rel=1e-15)


def test_hernquist_mean_equals_nfw_sigma():
    x = GRID
    nfw = nfw_sigma_hat(x)
    np.testing.assert_allclose(hernquist_mean_sigma_hat(x), nfw, rtol=1e-11, atol=0)
    # and through the mass: Σ̄̂_Hern = 2 M̂_Hern / X²
    np.testing.assert_allclose(2 * hernquist_mass_hat(x) / x**2, nfw, rtol=1e-11, atol=0)


@pytest.mark.parametrize("profile", ["nfw", "hernquist"])
def test_delta_sigma_is_mean_minus_sigma(profile):
    x = GRID[(GRID > 1e-3) & (GRID < 1e3)]      # direct difference is accurate here
    mean = FUNCS[f"{profile}_mean_sigma_hat"](x)
    sigma = FUNCS[f"{profile}_sigma_hat"](x)
    delta = FUNCS[f"{profile}_delta_sigma_hat"](x)
    np.testing.assert_allclose(delta, mean - sigma, rtol=1e-12, atol=0)
    np.testing.assert_allclose(mean, 2 * FUNCS[f"{profile}_mass_hat"](x) / x**2,
                               rtol=1e-13, atol=0)


@pytest.mark.parametrize("edge", EDGES)
@pytest.mark.parametrize("name", list(FUNCS))
def test_continuity_across_branches(name, edge):
    f = FUNCS[name]
    below = np.nextafter(edge, 0.0)
    above = np.nextafter(edge, 2.0)
    vals = f(np.array([below, edge, above]))
    # neighbouring doubles: the true values differ by ~1e-16 relative
    assert np.ptp(vals) <= 1e-12 * vals[1]
    # and a little further out on both sides, against the reference
    for x in (edge * (1 - 1e-7), edge * (1 + 1e-7)):
        ref = float(mp_reference(x)[name])
        assert abs(float(f(x)) - ref) <= REL_TOL[name] * ref


def test_limits_and_extreme_arguments():
    x = np.array([5e-324, 1e-300, 1e-100, 1e-20, 1e20, 1e100, 1e300, np.finfo(float).max])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise", under="ignore"):
            out = {name: f(x) for name, f in FUNCS.items()}
    for name, v in out.items():
        assert np.all(np.isfinite(v)) and np.all(v >= 0), name
    small, large = x[1:4], x[4:6]
    L = math.log(2) - np.log(small)
    np.testing.assert_allclose(out["nfw_sigma_hat"][1:4], 2 * (L - 1), rtol=1e-14)
    np.testing.assert_allclose(out["hernquist_sigma_hat"][1:4], 2 * L - 3, rtol=1e-14)
    np.testing.assert_allclose(out["nfw_delta_sigma_hat"][1:4], 1.0, rtol=1e-14)
    np.testing.assert_allclose(out["hernquist_delta_sigma_hat"][1:4], 1.0, rtol=1e-14)
    np.testing.assert_allclose(out["nfw_sigma_hat"][4:6], 2 / large**2, rtol=1e-14)
    np.testing.assert_allclose(out["hernquist_mass_hat"][4:], 1.0, rtol=1e-14)
    np.testing.assert_allclose(out["nfw_mass_hat"][4:], 2 * (np.log(x[4:] / 2)), rtol=1e-14)


# --------------------------------------------------------------------- input handling

@pytest.mark.parametrize("name", list(FUNCS))
@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan, np.inf, -np.inf, [1.0, 2.0, 0.0],
                                 np.array([[1.0, np.nan], [2.0, 3.0]])])
def test_bad_values_raise(name, bad):
    with pytest.raises(ValueError, match=r"`X` must be finite and > 0"):
        FUNCS[name](bad)


@pytest.mark.parametrize("bad", ["abc", "1.5", None, 1 + 2j, True, ["a", 1.0]])
def test_bad_types_raise(bad):
    for f in FUNCS.values():
        with pytest.raises((TypeError, ValueError), match="`X`"):
            f(bad)


@pytest.mark.parametrize("name", list(FUNCS))
def test_shapes(name):
    f = FUNCS[name]
    s = f(2.0)
    assert np.ndim(s) == 0 and isinstance(float(s), float)
    assert np.ndim(f(3)) == 0
    assert np.ndim(f(np.float32(0.9))) == 0
    x = np.array([[0.1, 0.9, 1.0], [1.1, 5.0, 1e4]])
    y = f(x)
    assert y.shape == (2, 3) and y.dtype == np.float64
    np.testing.assert_array_equal(y.ravel(), [float(f(v)) for v in x.ravel()])
    np.testing.assert_array_equal(f(x.T), y.T)          # non-contiguous input
    assert f(np.empty((0, 2))).shape == (0, 2)
    assert float(f([2.0])[0]) == float(s)


def test_exports_and_doctests():
    assert set(FUNCS) <= set(cosmo.__all__)
    result = doctest.testmod(_halos, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
