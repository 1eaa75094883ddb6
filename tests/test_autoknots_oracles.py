"""Oracles of AutoKnots: the knot counts of Vitenti et al. (2025) and numfit's reference values
(independent re-implementation), as listed in docs/results/autoknots.md."""
import warnings

import numpy as np
import pytest
from reference_autoknots import ReferenceDiscontinuity, reference_autoknots

import numfit as nf
from numfit.cosmology import (hernquist_mass_hat, hernquist_sigma_hat, nfw_mass_hat,
                              nfw_sigma_hat)
from numfit.interpolate._autoknots import check_grid

PAPER = dict(refine="sigma", refine_ns=1.0, n_refine=1)


def damped(x):
    return np.exp(-x) * np.sin(3 * x) + 2


def hidden_pair(x):
    return (1 + x + np.exp(-((x - 0.55) / 0.02) ** 2) + np.exp(-((x - 0.65) / 0.008) ** 2)
            - np.exp(-((x - 0.75) / 0.008) ** 2))


def bump(x):
    return 1 + 1e-2 * np.exp(-((x - 0.43) / 0.003) ** 2)


def error_ratio(s, f, n=100_000):
    x = check_grid(s, n)
    fx = f(x)
    if s.space == "loglog":
        return np.max(np.abs(s(x) / fx - 1)) / s.rtol
    return np.max(np.abs(s(x) - fx) / (s.rtol * np.abs(fx) + s.atol))


def assert_invariants(s):
    k = s.knots
    assert s.n_evals == k.size == sum(s.round_sizes)
    assert np.all(np.diff(k) > 0)
    assert k[0] == s.interval[0] and k[-1] == s.interval[1]
    # u on the dyadic grid u_a + (u_b - u_a) j / ((n0 - 1) 2^L); a verification round
    # places 1/4 points: one level more
    n0, L = s.round_sizes[0], s.n_rounds + s.verify_rounds
    j = (s.u - s.u[0]) / (s.u[-1] - s.u[0]) * (n0 - 1) * 2 ** L
    assert np.allclose(j, np.rint(j), atol=1e-6 * 2 ** L / 2 ** 20 + 1e-9)
    assert np.allclose(s(k), s.values, rtol=1e-12, atol=0)


# ------------------------------------------------------------------------ 1. line
@pytest.mark.parametrize("mode", [dict(), PAPER, dict(refine=None)])
def test_line(mode):
    s = nf.autoknots(lambda x: 2 * x + 1, 0.1, 5.0, rtol=1e-8, **mode)
    # the paper's 11 knots in one round; the verification adds the 1/4 and 3/4 points of
    # both end intervals (which pass) in a second round
    extra = 0 if mode == PAPER else 4
    assert (len(s.knots), s.n_evals, s.n_rounds) == (11 + extra, 11 + extra, 1 + extra // 4)
    assert s.verify_evals == extra and s.verify_failed == 0
    assert s.converged and s.status == 0 and s.success
    assert set(np.round(0.1 + 0.49 * np.arange(11), 12)) <= set(np.round(s.knots, 12))
    if mode == {}:
        assert (s.closure_rounds, s.closure_flagged, s.closure_failed) == (1, 0, 0)
    assert_invariants(s)


# ------------------------------------------------------------------------ 2. damped sine
COUNTS = {  # reference counts (rtol 1e-4 / 1e-6 / 1e-8)
    ("linear", "sigma"): (53, 167, 443), ("log", None): (51, 141, 435),
    ("asinh", None): (49, 137, 421), ("linear", "closure"): (55, 141, 441),
    ("log", "closure"): (56, 148, 444), ("asinh", "closure"): (53, 143, 433),
}


@pytest.mark.parametrize("knots", ["linear", "log", "asinh"])
@pytest.mark.parametrize("refine", ["closure", "sigma", None])
def test_damped_sine_all_modes(knots, refine, use_kernels):
    for k, rtol in enumerate((1e-4, 1e-6, 1e-8)):
        s = nf.autoknots(damped, 0.1, 5.0, rtol=rtol, knots=knots, refine=refine)
        assert s.converged
        r = error_ratio(s, damped)
        assert r < 1, (knots, refine, rtol, r)
        if refine == "closure":
            assert r < 0.1
            assert s.closure_rounds >= 1 and s.closure_flagged >= 1
        if (knots, refine) in COUNTS:
            n = len(s.knots) - s.verify_evals
            expected = COUNTS[knots, refine][k]
            assert s.verify_failed == 0 and s.verify_evals == (0 if refine == "sigma" else 4)
            if refine == "sigma" or s.slow_reopened == 0:
                assert n == expected          # the reference counts (plus the verification's)
            else:                             # passes that fell too little were re-tested
                assert expected < n <= 1.1 * expected
        assert_invariants(s)


def test_damped_sine_largest_ratio():
    s = nf.autoknots(damped, 0.1, 5.0, rtol=1e-8, knots="asinh", refine=None)
    assert 0.4 < error_ratio(s, damped) < 0.5      # reference: 0.45


# ------------------------------------------------------------------------ 3. hidden pair
def test_hidden_pair_closure():
    s = nf.autoknots(hidden_pair, 0.0, 1.0, rtol=1e-8, atol=1e-8)
    assert s.converged
    assert error_ratio(s, hidden_pair) < 0.2                       # reference 0.09
    assert s.closure_rounds >= 2 and s.closure_failed >= 2
    # reference: 70 flagged, 4 failed, 1411 knots; the re-tests of slowly falling passes (5)
    # add 3% and a third closure round
    assert s.slow_reopened >= 1 and s.closure_failed >= 4
    assert 1411 < len(s.knots) - s.verify_evals <= 1.05 * 1411
    assert (s.verify_evals, s.verify_failed) == (4, 0)


def test_hidden_pair_sigma_documented_limitation():
    s = nf.autoknots(hidden_pair, 0.0, 1.0, rtol=1e-8, atol=1e-8, **PAPER)
    assert len(s.knots) == 1439
    assert error_ratio(s, hidden_pair) > 1          # the paper heuristic misses it (1.1)


# ------------------------------------------------------------------------ 4. discontinuity
@pytest.mark.parametrize("refine", ["closure", "sigma", None])
@pytest.mark.parametrize("vectorized", [True, False])
def test_step_raises(refine, vectorized):
    f = (lambda x: np.where(x < 1 / 3, 0.0, 1.0)) if vectorized else \
        (lambda x: 0.0 if x < 1 / 3 else 1.0)
    with pytest.raises(nf.DiscontinuityError) as ei:
        nf.autoknots(f, 0.0, 1.0, refine=refine, vectorized=vectorized)
    e = ei.value
    assert abs(e.x - 1 / 3) < 1e-9
    assert e.interval[0] < e.x < e.interval[1]
    assert e.n_evals == len(e.partial.knots) and e.partial.status == 3
    assert not e.partial.converged
    assert "x=" in str(e) and "atol" in str(e)


def test_jump_at_zero_rule3():
    with pytest.raises(nf.DiscontinuityError) as ei:
        nf.autoknots(lambda x: np.where(x < 0, 0.0, 1.0), -1.0, 1.0)
    assert abs(ei.value.x) < 1e-9
    assert ei.value.partial.n_rounds <= 60


def test_abs_kink():
    with pytest.raises(nf.DiscontinuityError):
        nf.autoknots(np.abs, -1.0, 1.0)
    s = nf.autoknots(np.abs, -1.0, 1.0, atol=1e-8)
    assert s.converged and error_ratio(s, np.abs) < 1


def test_reference_raises_at_the_same_place():
    f = lambda x: np.where(x < 1 / 3, 0.0, 1.0)  # noqa: E731
    with pytest.raises(ReferenceDiscontinuity) as ref:
        reference_autoknots(f, 0.0, 1.0, atol=1e-8)
    with pytest.raises(nf.DiscontinuityError) as got:
        nf.autoknots(f, 0.0, 1.0, atol=1e-8)
    assert ref.value.x == got.value.x


# ------------------------------------------------------------------------ 5. max_knots
def test_max_knots():
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        s = nf.autoknots(damped, 0.1, 5.0, rtol=1e-8, max_knots=20)
    w = [r for r in rec if issubclass(r.category, nf.AutoKnotsWarning)]
    assert len(w) == 1 and issubclass(w[0].category, RuntimeWarning)
    assert s.converged is False and s.success is False and s.status == 1
    assert len(s.knots) == 21 and s.n_rounds == 2 and s.round_sizes == (6, 5, 10)
    assert np.isfinite(s(np.linspace(0.1, 5, 11))).all()


# ------------------------------------------------------------------------ 6. narrow bump
@pytest.mark.parametrize("mode", [dict(), PAPER, dict(refine=None)])
def test_narrow_bump_is_invisible(mode):
    s = nf.autoknots(bump, 0.0, 1.0, rtol=1e-6, **mode)
    assert s.converged and len(s.knots) - s.verify_evals == 11
    assert s.n_rounds == (1 if mode == PAPER else 2)
    x = np.linspace(0, 1, 100_001)
    assert np.max(np.abs(s(x) - bump(x))) > 1e-3       # documented limitation (9.9e-3)


@pytest.mark.parametrize("mode,knots,err", [(dict(), 132, 1.0e-7), (PAPER, 161, 1.9e-7)])
def test_narrow_bump_with_n_init(mode, knots, err):
    s = nf.autoknots(bump, 0.0, 1.0, rtol=1e-6, n_init=21, **mode)
    x = np.linspace(0, 1, 100_001)
    e = np.max(np.abs(s(x) - bump(x)) / bump(x))
    assert len(s.knots) - s.verify_evals == knots
    assert e < 1e-6 and e == pytest.approx(err, rel=0.1)


# ------------------------------------------------------------------------ 7. halo profiles
HALO_TABLE = """
1e-1 13/21/21 13/15/18 23/21/21 25/21/21
1e-2 21/21/21 19/21/21 26/21/21 43/21/21
1e-3 29/33/34 27/34/34 29/36/38 59/33/34
1e-4 47/54/55 45/48/47 49/60/59 83/54/55
1e-5 89/89/82 91/87/84 93/97/99 125/89/82
1e-6 127/171/144 119/131/133 129/177/154 229/171/144
1e-7 239/239/243 211/231/237 239/337/275 423/239/243
1e-8 409/455/447 381/423/425 421/477/473 813/455/447
1e-9 737/841/782 717/731/685 781/905/863 1557/841/782
1e-10 1151/1489/1310 1359/1397/1221 1449/1697/1554 2585/1489/1310
"""
HALOS = [nfw_sigma_hat, nfw_mass_hat, hernquist_sigma_hat, hernquist_mass_hat]
HALO_MODES = {"R": dict(loglog_criterion="relative", **PAPER), "A": PAPER, "C": {}}
X_CHECK = np.geomspace(1e-4, 1e4, 200_001)


@pytest.fixture(scope="module")
def halo_truth():
    return [f(X_CHECK) for f in HALOS]


@pytest.mark.parametrize("line", HALO_TABLE.split("\n")[1:-1])
def test_halo_knot_table(line, halo_truth):
    rtol, *cells = line.split()
    rtol = float(rtol)
    counts = {}
    for j, (f, cell) in enumerate(zip(HALOS, cells)):
        for (name, mode), expected in zip(HALO_MODES.items(), map(int, cell.split("/"))):
            s = nf.autoknots(f, 1e-4, 1e4, rtol=rtol, space="loglog", **mode)
            assert s.converged
            # +-1 round (exact agreement expected; see the module note below)
            n = len(s.knots) - s.verify_evals          # the paper's count, as tabulated
            last = s.round_sizes[-1 - s.verify_rounds]
            if name == "C" and s.slow_reopened:       # numfit's closure mode re-tested
                assert expected < n <= 1.2 * expected, (name, j, rtol, n, expected)
            else:
                assert abs(n - expected) <= last, (name, j, rtol)
            err = np.max(np.abs(s(X_CHECK) / halo_truth[j] - 1))
            assert err < (10 * rtol if name == "R" else rtol), (name, j, rtol, err / rtol)
            counts[name, j] = n
    # the linear term in ln M_Hern = ln Sigma_NFW + 2 ln X - ln 2 is reproduced exactly
    for name in "A":
        assert counts[name, 0] == counts[name, 3]


def test_halo_table_mostly_exact():
    """Paper modes (R, A): 76 of the 80 cells agree exactly; the 4 others (A, rtol 1e-4) are
    within one round (numfit's closure mode C re-tests slowly falling passes since AutoKnots
    II and is checked against its column within 20% in test_halo_knot_table).

    They come from the paper's sigma test on a mesh whose widths are equal up to rounding
    (sd ~ 4e-16): max(W) exceeds mean + sd by one ulp and "equal" intervals are reopened
    depending on the last bit of ln x. Recorded here so that drift is noticed.
    """
    exact = 0
    for line in HALO_TABLE.split("\n")[1:-1]:
        rtol, *cells = line.split()
        for f, cell in zip(HALOS, cells):
            for mode, expected in list(zip(HALO_MODES.values(),
                                           map(int, cell.split("/"))))[:2]:
                s = nf.autoknots(f, 1e-4, 1e4, rtol=float(rtol), space="loglog", **mode)
                exact += len(s.knots) - s.verify_evals == expected
    assert exact >= 76


def test_hernquist_mean_is_nfw_sigma():
    X = np.geomspace(1e-6, 1e6, 2001)
    from numfit.cosmology import hernquist_mean_sigma_hat
    assert np.allclose(hernquist_mean_sigma_hat(X), nfw_sigma_hat(X), rtol=1e-11, atol=0)


def test_loglog_scale_invariance():
    """f -> c x^p f keeps the mesh (absolute criterion on ln f)."""
    base = nf.autoknots(nfw_sigma_hat, 1e-4, 1e4, rtol=1e-7, space="loglog")
    s = nf.autoknots(lambda X: 3.7 * X ** 1.5 * nfw_sigma_hat(X), 1e-4, 1e4, rtol=1e-7,
                     space="loglog")
    assert abs(len(s.knots) - len(base.knots)) <= s.round_sizes[-2]


# ------------------------------------------------------------------------ the whole algorithm
@pytest.mark.parametrize("f,a,b,kw", [
    (damped, 0.1, 5.0, dict(rtol=1e-6, knots="log")),
    (damped, 0.1, 5.0, dict(rtol=1e-8, knots="asinh", **PAPER)),
    (damped, 0.1, 5.0, dict(rtol=1e-4, refine=None)),
    (hidden_pair, 0.0, 1.0, dict(rtol=1e-8, atol=1e-8)),
    (hidden_pair, 0.0, 1.0, dict(rtol=1e-8, atol=1e-8, **PAPER)),
    (nfw_sigma_hat, 1e-4, 1e4, dict(rtol=1e-7, space="loglog")),
    (nfw_mass_hat, 1e-4, 1e4, dict(rtol=1e-5, space="loglog", loglog_criterion="relative",
                                   **PAPER)),
    (damped, 0.1, 5.0, dict(rtol=1e-8, max_knots=100)),
])
def test_identical_to_reference(f, a, b, kw, use_kernels):
    x, sizes, status = reference_autoknots(f, a, b, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nf.AutoKnotsWarning)
        s = nf.autoknots(f, a, b, **kw)
    assert np.array_equal(s.knots, x)
    assert s.round_sizes == tuple(sizes) and s.status == status
