"""AutoKnots II: the promise on the benchmark family for both kinds, kind="chebyshev"
(construction, table interface, evaluation kernels against a NumPy reference), the end
intervals, endpoint singularities, sign changes, callback/progress and bad input."""
import json
import math
import pickle
import warnings

import numpy as np
import pytest
from reference_chebyshev import ref_evaluate_cheb
from scipy import integrate, special

import numfit as nf
from numfit.interpolate._chebtable import (_derivative_tables, _split_for_evaluation, lobatto,
                                           values_to_coefs)
from numfit.interpolate._family import FAMILY, check_points, error_ratio, member

KINDS = ["cubic", "chebyshev"]


def damped(x):
    return np.exp(-x) * np.sin(3 * x) + 2


# --------------------------------------------------------------------------- the promise
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("rtol", [1e-6, 1e-10])
@pytest.mark.parametrize("m", FAMILY, ids=lambda m: m.name)
def test_family_meets_tolerance(m, rtol, kind, use_kernels):
    s = nf.autoknots(m.f, m.a, m.b, kind=kind, **m.options(rtol))
    assert s.converged and s.status == 0
    r = error_ratio(s, m.f)
    assert r <= 1.0, (m.name, kind, rtol, r)
    assert s.n_evals == sum(s.round_sizes)


@pytest.mark.parametrize("m", [mm for mm in FAMILY if mm.kind != "chirp"],
                         ids=lambda m: m.name)
def test_family_chebyshev_at_loose_and_mid_tolerances(m):
    for rtol in (1e-4, 1e-8):
        s = nf.autoknots(m.f, m.a, m.b, kind="chebyshev", **m.options(rtol))
        assert s.converged and error_ratio(s, m.f) <= 1.0, (m.name, rtol)


@pytest.mark.parametrize("kind", KINDS)
def test_bao_wiggles_near_the_tolerance(kind):
    """Wiggles whose amplitude is close to rtol and whose period is near the sample spacing
    alias: a single passing test is luck there. Before the slow-decay re-tests (cubic) and
    the margin (chebyshev) the cubic kind returned converged=True at 1.14x on this member."""
    m = member("bao_pk")
    s = nf.autoknots(m.f, m.a, m.b, kind=kind, **m.options(1e-4))
    assert s.converged and error_ratio(s, m.f) <= 1.0
    if kind == "cubic":
        assert s.slow_reopened > 0
        old = nf.autoknots(m.f, m.a, m.b, verify=False, **m.options(1e-4))
        assert error_ratio(old, m.f) > 1.0          # the paper's tests alone miss it


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("rtol", [1e-5, 1e-6, 1e-7, 1e-8])
def test_eisenstein_hu_power_spectrum(kind, rtol):
    """The Eisenstein-Hu P(k) with BAO wiggles, whose oscillating term decays only as a
    power of k: at every rtol some k has wiggles of amplitude ~ rtol near the knot spacing
    (measured before the re-tests: cubic 1.05-1.68x, chebyshev up to 5.6x)."""
    from numfit.cosmology import LinearPower
    lp = LinearPower(rtol=1e-6)

    def P(k):
        return lp.power(k, 0.0)
    s = nf.autoknots(P, 1e-4, 10.0, rtol=rtol, space="loglog", kind=kind)
    assert s.converged and error_ratio(s, P, n=50_000) <= 1.0


# runge at 1e-10: 0.054 while the extrapolated acceptance took E_32 = 64 (a factor 2.9e-5);
# 0.20 since it needs E_{p/2} <= 2 (a weak singularity can hide below any measured factor)
@pytest.mark.parametrize("name,rtol,most", [("bessel_j0", 1e-10, 0.15), ("runge", 1e-10, 0.25),
                                            ("chirp", 1e-10, 0.1), ("bbks_pk", 1e-8, 0.3)])
def test_chebyshev_needs_several_times_fewer_evaluations(name, rtol, most):
    m = member(name)
    c = nf.autoknots(m.f, m.a, m.b, **m.options(rtol))
    s = nf.autoknots(m.f, m.a, m.b, kind="chebyshev", **m.options(rtol))
    assert s.n_evals <= most * c.n_evals, (s.n_evals, c.n_evals)


def test_check_points_cover_ends_and_every_interval():
    s = nf.autoknots(damped, 0.1, 5.0, rtol=1e-6)
    x = check_points(s, n=1000)
    assert x[0] == 0.1 and x[-1] == 5.0 and np.all(np.diff(x) > 0)
    assert np.sum(x < 0.1 + 1e-10) >= 50              # clustered toward the ends
    assert x.size > 1000 + 3 * (len(s.knots) - 1) - 10


# --------------------------------------------------------------------------- end intervals
@pytest.mark.parametrize("kind", KINDS)
def test_end_intervals_smooth_family_of_the_issue(kind):
    rng = np.random.default_rng(7)
    worst = 0.0
    for _ in range(12):
        a_, b_, c_, d_ = rng.uniform(0.5, 3), rng.uniform(1, 30), rng.uniform(0, 6), \
            rng.uniform(-1, 1)

        def f(x):
            return 3 + np.exp(-a_ * x) * np.sin(b_ * x + c_) + d_ * np.tanh(x - 1)
        for rtol in (1e-5, 1e-7):
            s = nf.autoknots(f, 0.0, 3.0, rtol=rtol, kind=kind)
            worst = max(worst, error_ratio(s, f, n=20_000))
    assert worst <= 1.0


@pytest.mark.parametrize("refine", [None, "closure"])
@pytest.mark.parametrize("rtol", [1e-11, 1e-12])
def test_cubic_tight_tolerances_without_refinement(refine, rtol):
    s = nf.autoknots(damped, 0.1, 5.0, rtol=rtol, refine=refine)
    assert s.converged and error_ratio(s, damped) <= 1.0


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("rtol", [1e-4, 1e-6, 1e-8, 1e-10])
def test_endpoint_singularity_with_atol_converges(kind, rtol):
    s = nf.autoknots(np.sqrt, 0.0, 1.0, rtol=rtol, atol=rtol, kind=kind)
    assert s.converged and error_ratio(s, np.sqrt) <= 1.0


@pytest.mark.parametrize("kind", KINDS)
def test_jump_still_raises_with_small_atol(kind):
    with pytest.raises(nf.DiscontinuityError) as ei:
        nf.autoknots(lambda x: np.where(x < 1 / 3, 0.0, 1.0), 0.0, 1.0, atol=1e-8, kind=kind)
    assert abs(ei.value.x - 1 / 3) < 1e-9
    assert ei.value.partial.status == 3 and not ei.value.partial.converged
    assert ei.value.n_evals < 5000


# --------------------------------------------------------------------------- sign changes
@pytest.mark.parametrize("kind", KINDS)
def test_sign_change_with_atol_zero_is_not_converged(kind):
    f = lambda x: np.sin(1 / x)                             # noqa: E731
    with pytest.warns(nf.AutoKnotsWarning, match="changes sign"):
        s = nf.autoknots(f, 1e-2, 1.0, rtol=1e-6, kind=kind)
    assert s.status == 4 and not s.converged and "atol > 0" in s.message
    if kind == "cubic":                    # the promise fails next to the roots: said so
        assert error_ratio(s, f) > 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = nf.autoknots(f, 1e-2, 1.0, rtol=1e-6, atol=1e-6, kind=kind)
    assert t.converged and error_ratio(t, f) <= 1.0


# --------------------------------------------------------------------------- chebyshev table
@pytest.fixture(scope="module")
def cheb():
    return nf.autoknots(damped, 0.1, 5.0, rtol=1e-10, kind="chebyshev")


def test_chebyshev_interface(cheb):
    s = cheb
    assert isinstance(s, nf.AutoKnotsChebyshev) and s.kind == "chebyshev"
    assert s.breakpoints[0] == 0.1 and s.breakpoints[-1] == 5.0
    assert len(s) == s.degrees.size == len(s.coefficients) == s.u.size - 1
    assert np.all(np.diff(s.nodes) > 0) and s.values.shape == s.nodes.shape
    assert np.allclose(s(s.nodes), s.values, rtol=1e-13, atol=0)
    assert s.n_evals == s.nodes.size + s.n_discarded
    assert s(1.0).shape == () and s(np.ones((3, 4))).shape == (3, 4)
    assert np.isnan(s(0.0)) and np.isnan(s(5.5)) and np.isnan(s(np.nan))
    assert np.isfinite(s(5.5, extrapolate=True))
    assert "AutoKnotsChebyshev" in repr(s) and "converged" in repr(s)


def test_chebyshev_calculus(cheb):
    x = np.linspace(0.1, 5.0, 2001)
    d1 = np.exp(-x) * (3 * np.cos(3 * x) - np.sin(3 * x))
    d2 = np.exp(-x) * (-8 * np.sin(3 * x) - 6 * np.cos(3 * x))
    assert np.allclose(cheb(x, 1), d1, atol=1e-7)
    assert np.allclose(cheb(x, 2), d2, atol=1e-5)
    assert np.allclose(cheb.derivative()(x), cheb(x, 1), rtol=1e-12, atol=1e-12)
    exact = integrate.quad(damped, 0.3, 4.2, epsabs=1e-13, epsrel=1e-12)[0]
    assert cheb.integrate(0.3, 4.2) == pytest.approx(exact, rel=1e-10)
    assert cheb.integrate(4.2, 0.3) == pytest.approx(-exact, rel=1e-10)
    P = cheb.antiderivative()
    assert P(0.1) == pytest.approx(0.0, abs=1e-14) and P(4.2) - P(0.3) == pytest.approx(exact, rel=1e-10)
    assert np.allclose(P.derivative()(x), cheb(x), rtol=1e-12)
    with pytest.raises(ValueError, match="outside"):
        cheb.integrate(0.0, 1.0)


@pytest.mark.parametrize("knots,space", [("log", "linear"), ("asinh", "linear"),
                                         ("linear", "loglog")])
def test_chebyshev_maps_derivatives_and_integrals(knots, space):
    f = lambda x: x ** 1.5 * np.exp(-x / 3)                   # noqa: E731
    fp = lambda x: (1.5 / x - 1 / 3) * f(x)                   # noqa: E731
    s = nf.autoknots(f, 0.5, 20.0, rtol=1e-10, knots=knots, space=space, kind="chebyshev")
    assert s.converged and error_ratio(s, f) <= 1
    x = np.geomspace(0.5, 20.0, 501)
    assert np.allclose(s(x, 1), fp(x), rtol=1e-7)
    h = 1e-4
    fd2 = (fp(x[1:-1] * (1 + h)) - fp(x[1:-1] * (1 - h))) / (2 * h * x[1:-1])
    assert np.allclose(s(x[1:-1], 2), fd2, rtol=1e-5, atol=1e-6)
    d3 = s(x[1:-1], 3)
    fd3 = (s(x[1:-1] * (1 + h), 2) - s(x[1:-1] * (1 - h), 2)) / (2 * h * x[1:-1])
    assert np.allclose(d3, fd3, rtol=1e-4, atol=1e-5)
    exact = integrate.quad(f, 1.0, 17.0, epsrel=1e-13)[0]
    assert s.integrate(1.0, 17.0) == pytest.approx(exact, rel=1e-9)
    assert callable(s.derivative())
    with pytest.raises(NotImplementedError, match="integrate"):
        s.antiderivative()


def test_chebyshev_roots():
    s = nf.autoknots(special.j0, 0.0, 30.0, rtol=1e-10, atol=1e-10, kind="chebyshev")
    assert np.allclose(s.roots(), special.jn_zeros(0, 9), rtol=0, atol=1e-9)
    assert np.allclose(s.solve(0.25), s.solve(0.25)[np.abs(s(s.solve(0.25)) - 0.25) < 1e-12])


def test_chebyshev_vector_f_shares_pieces():
    def f(x):
        return np.stack([np.sin(2 * x) + 2, np.exp(-x)], axis=-1)
    s = nf.autoknots(f, 0.0, 4.0, rtol=1e-9, kind="chebyshev")
    x = np.linspace(0, 4, 4001)
    assert s(x).shape == (4001, 2) and s.ndim_out == 2
    ratio = np.abs(s(x) - f(x)) / (1e-9 * np.abs(f(x)))
    assert ratio.max() <= 1
    assert s.integrate(0, 4).shape == (2,)


def test_chebyshev_scalar_f_and_workers_equal_serial():
    g = lambda x: math.exp(-x) * math.sin(3 * x) + 2         # noqa: E731
    a = nf.autoknots(g, 0.1, 5.0, rtol=1e-9, kind="chebyshev", vectorized=False)
    b = nf.autoknots(damped, 0.1, 5.0, rtol=1e-9, kind="chebyshev")
    assert not a.vectorized and b.vectorized
    assert np.array_equal(a.breakpoints, b.breakpoints) and a.n_evals == b.n_evals
    c = nf.autoknots(damped, 0.1, 5.0, rtol=1e-9, kind="chebyshev", workers=2)
    x = np.linspace(0.1, 5, 999)
    assert np.array_equal(c(x), b(x)) and c.n_evals == b.n_evals


def test_chebyshev_persistence(cheb):
    x = np.linspace(0.1, 5.0, 777)
    p = pickle.loads(pickle.dumps(cheb))
    assert p == cheb and np.array_equal(p(x), cheb(x))
    d = json.loads(json.dumps(cheb.to_dict()))
    q = nf.AutoKnotsChebyshev.from_dict(d)
    assert np.array_equal(q(x), cheb(x)) and q.n_evals == cheb.n_evals
    assert (q.n_spot, q.n_spot_evals, q.n_free) == (cheb.n_spot, cheb.n_spot_evals, cheb.n_free)
    older = {k: v for k, v in d.items() if k not in ("n_spot", "n_spot_evals", "n_free")}
    if "counts" in d:
        older["counts"] = {k: v for k, v in d["counts"].items()
                           if k not in ("n_spot", "n_spot_evals", "n_free")}
    o = nf.AutoKnotsChebyshev.from_dict(older)         # saved before these counts existed
    assert (o.n_spot, o.n_spot_evals, o.n_free) == (0, 0, 0) and np.array_equal(o(x), cheb(x))
    bad = dict(d, degrees=d["degrees"][:-1])
    with pytest.raises(ValueError, match="breakpoints|coefficients"):
        nf.AutoKnotsChebyshev.from_dict(bad)
    with pytest.raises(ValueError, match="format"):
        nf.AutoKnotsChebyshev.from_dict({"format": "x"})
    with pytest.raises(ValueError, match="version"):
        nf.AutoKnotsChebyshev.from_dict(dict(d, version=99))
    with pytest.raises(ValueError, match="finite"):
        nf.AutoKnotsChebyshev.from_dict(dict(d, coefficients=[math.nan] * len(
            d["coefficients"])))


def test_chebyshev_cap_and_partial_table():
    with pytest.warns(nf.AutoKnotsWarning, match="max_knots"):
        s = nf.autoknots(special.j0, 0.0, 50.0, rtol=1e-10, atol=1e-10, kind="chebyshev",
                         max_knots=60)
    assert s.status == 1 and not s.converged and s.n_evals > 60
    assert np.isfinite(s(np.linspace(0, 50, 101))).all()


# --------------------------------------------------------------------------- kernels
def test_lobatto_and_transform():
    for p in (1, 2, 4, 8, 16, 64):
        s = lobatto(p)
        assert s[0] == -1 and s[-1] == 1 and np.all(np.diff(s) > 0)
        c = np.random.default_rng(p).standard_normal(p + 1)
        y = np.polynomial.chebyshev.chebval(s, c)
        assert np.allclose(values_to_coefs(y, p), c, atol=1e-13 * p)
    assert np.array_equal(lobatto(8)[::2], lobatto(4))              # nested


def test_split_for_evaluation_matches_reference(kernels):
    rng = np.random.default_rng(3)
    u = np.cumsum(np.r_[0.0, rng.uniform(0.1, 2.0, 6)])
    degs = np.array([3, 40, 8, 64, 17, 0])
    coef = np.concatenate([rng.standard_normal((d + 1, 2)) * 0.7 ** np.arange(d + 1)[:, None]
                           for d in degs])
    off = np.r_[0, np.cumsum(degs + 1)].astype(np.intp)
    t2, off2, coef2 = _split_for_evaluation(u, off, coef, 8)
    assert np.max(np.diff(off2) - 1) <= 8
    q = np.sort(rng.uniform(u[0], u[-1], 5000))
    ref = ref_evaluate_cheb(u, off, coef, q)
    table = np.empty(4 * (t2.size - 1) + 1, dtype=np.intp)
    kernels.build_table(t2, table)
    out = np.empty((q.size, 2))
    assert kernels.evaluate_cheb(t2, off2, coef2, table, q, False, out) == 0
    assert np.allclose(out, ref, rtol=0, atol=1e-12 * np.abs(coef).sum())
    # derivative tables: chebder scaled to u
    _, offd, coefd = _derivative_tables(u, off, coef, 1)
    h = 1e-6
    num = (ref_evaluate_cheb(u, off, coef, q[10:-10] + h)
           - ref_evaluate_cheb(u, off, coef, q[10:-10] - h)) / (2 * h)
    inside = np.all(np.abs(q[10:-10, None] - u[None, 1:-1]) > 2 * h, axis=1)
    got = ref_evaluate_cheb(u, offd, coefd, q[10:-10])
    assert np.allclose(got[inside], num[inside], rtol=1e-5, atol=1e-5)


def test_chebyshev_both_kernels_give_the_same_table(use_kernels):
    s = nf.autoknots(special.j0, 0.0, 20.0, rtol=1e-9, atol=1e-9, kind="chebyshev")
    x = np.linspace(0, 20, 3001)
    assert np.max(np.abs(s(x) - special.j0(x))) <= 2e-9


# --------------------------------------------------------------------------- callback
@pytest.mark.parametrize("kind", KINDS)
def test_callback_sees_rounds_and_can_stop(kind):
    seen = []

    def cb(rnd, n_evals, n_open):
        seen.append((rnd, n_evals, n_open))
    s = nf.autoknots(damped, 0.1, 5.0, rtol=1e-8, kind=kind, callback=cb)
    assert s.converged and [r for r, _, _ in seen] == list(range(1, len(seen) + 1))
    assert all(b[1] > a[1] for a, b in zip(seen, seen[1:]))
    assert seen[-1][1] == s.n_evals
    for stop in (lambda r, n, o: r >= 2, "raise"):
        def cb2(r, n, o, stop=stop):
            if stop == "raise":
                if r >= 2:
                    raise StopIteration
                return None
            return stop(r, n, o)
        with warnings.catch_warnings():
            warnings.simplefilter("error")            # a requested stop does not warn
            t = nf.autoknots(damped, 0.1, 5.0, rtol=1e-8, kind=kind, callback=cb2)
        assert t.status == 5 and not t.converged and "callback" in t.message
        assert t.n_rounds == 2 and np.isfinite(t(np.linspace(0.1, 5, 11))).all()


@pytest.mark.parametrize("kind", KINDS)
def test_callback_that_raises_propagates_with_a_note(kind):
    def cb(rnd, n, o):
        raise ValueError("boom")
    with pytest.raises(ValueError, match="boom") as ei:
        nf.autoknots(damped, 0.1, 5.0, kind=kind, callback=cb)
    assert any("callback" in n for n in ei.value.__notes__)
    s = nf.autoknots(damped, 0.1, 5.0, kind=kind)         # nothing left behind
    assert s.converged


@pytest.mark.parametrize("kind", KINDS)
def test_keyboard_interrupt_in_f_propagates(kind):
    calls = []

    def f(x):
        calls.append(1)
        if len(calls) > 2:
            raise KeyboardInterrupt
        return damped(x)
    with pytest.raises(KeyboardInterrupt):
        nf.autoknots(f, 0.1, 5.0, kind=kind)
    assert nf.autoknots(damped, 0.1, 5.0, kind=kind).converged


def test_progress_plain_lines(monkeypatch, capsys):
    import builtins
    real = builtins.__import__

    def no_tqdm(name, *a, **k):
        if name.startswith("tqdm"):
            raise ImportError(name)
        return real(name, *a, **k)
    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    s = nf.autoknots(damped, 0.1, 5.0, rtol=1e-6, progress=True, kind="chebyshev")
    err = capsys.readouterr().err
    assert s.converged and err.count("round") == s.n_rounds and "evaluations" in err


def test_progress_with_tqdm(capsys):
    pytest.importorskip("tqdm")
    s = nf.autoknots(damped, 0.1, 5.0, rtol=1e-6, progress=True)
    assert s.converged and "autoknots" in capsys.readouterr().err


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kw,exc,match", [
    (dict(kind="chebychev"), ValueError, "`kind` must be one of"),
    (dict(kind="chebyshev", degree=12), ValueError, "`degree` must be a power of two"),
    (dict(kind="chebyshev", degree=2.0), TypeError, "`degree` must be an int"),
    (dict(kind="chebyshev", degree=True), TypeError, "`degree`"),
    (dict(kind="chebyshev", refine="sigma"), ValueError, "`refine` applies to kind='cubic'"),
    (dict(kind="chebyshev", vector_norm="l2"), NotImplementedError, "vector_norm"),
    (dict(kind="chebyshev", n_init=1), ValueError, "`n_init`"),
    (dict(kind="cubic", n_init=3), ValueError, "`n_init`"),
    (dict(kind="chebyshev", callback="no"), TypeError, "`callback`"),
    (dict(kind="chebyshev", progress=1), TypeError, "`progress`"),
])
def test_bad_options(kw, exc, match):
    with pytest.raises(exc, match=match):
        nf.autoknots(damped, 0.1, 5.0, **kw)


def test_chebyshev_bad_f_values():
    with pytest.raises(ValueError, match="nan"):
        nf.autoknots(lambda x: np.where(x > 3, np.nan, 1.0), 0.0, 5.0, kind="chebyshev")
    with pytest.raises(ValueError, match="<= 0"):
        nf.autoknots(lambda x: x - 2, 1.0, 5.0, space="loglog", kind="chebyshev")
    with pytest.raises(ValueError, match="shape"):
        nf.autoknots(lambda x: np.ones((x.size, 2, 2)), 0.0, 1.0, kind="chebyshev",
                     vectorized=True)


def test_monomial_evaluation_form_matches_reference(kernels):
    from numfit.interpolate._chebtable import _monomial_form
    rng = np.random.default_rng(11)
    u = np.cumsum(np.r_[-1.0, rng.uniform(0.05, 1.0, 40)])
    degs = rng.integers(0, 7, 40)
    coef = np.concatenate([rng.standard_normal(d + 1) * 0.5 ** np.arange(d + 1)
                           for d in degs])[:, None]
    off = np.r_[0, np.cumsum(degs + 1)].astype(np.intp)
    mono = _monomial_form(u, off, coef)
    assert mono is not None and mono[2].shape == (40, int(degs.max()) + 1)
    table = np.empty(4 * 40 + 1, dtype=np.intp)
    kernels.build_table(u, table)
    for q in (rng.uniform(u[0], u[-1], 3000), np.sort(rng.uniform(u[0], u[-1], 3000)),
              np.r_[u, u[0] - 1.0, u[-1] + 1.0, np.nan]):
        out = np.empty(q.size)
        assert kernels.evaluate_mono1(u, table, *mono, q, False, out) == 0
        ref = ref_evaluate_cheb(u, off, coef, q)[:, 0]
        assert np.array_equal(np.isnan(out), np.isnan(ref))
        ok = ~np.isnan(ref)
        assert np.allclose(out[ok], ref[ok], rtol=0, atol=1e-13)
    out = np.empty(3)
    assert kernels.evaluate_mono1(u, table, *mono, np.zeros(4), False, out) == -1
    # degree > 8 or vector tables have no monomial form
    assert _monomial_form(u[:2], np.array([0, 10]), np.ones((10, 1))) is None
    assert _monomial_form(u[:2], np.array([0, 3]), np.ones((3, 2))) is None


def test_random_small_fast_oscillations_keep_the_promise():
    """Aliasing guard: a smooth trend times 1 + amp sin(omega x + c) exp(-(x/s)^2) with random
    omega (3..300 on [0, 3]), amp (1e-5..0.1) and envelope; a table that reports
    converged=True meets the tolerance on the dense check grid. (A margin rule that accepted
    passes within 10x of the tolerance on a fast-converging rate broke this at 1.39x.)"""
    rng = np.random.default_rng(2)
    worst = 0.0
    for _ in range(30):
        om, amp = 10 ** rng.uniform(0.5, 2.5), 10 ** rng.uniform(-5, -1)
        s_, c_ = rng.uniform(0.3, 3), rng.uniform(0, 6)

        def f(x, om=om, amp=amp, s_=s_, c_=c_):
            return (2 + np.tanh(x - 1)) * (1 + amp * np.sin(om * x + c_) * np.exp(-(x / s_) ** 2))
        for rtol in (1e-6, 1e-8):
            s = nf.autoknots(f, 0.0, 3.0, rtol=rtol, kind="chebyshev")
            if s.converged:
                worst = max(worst, error_ratio(s, f))
    assert worst <= 1.0, worst


def test_extrapolated_acceptance_needs_a_steady_convergence_factor():
    """The extrapolated acceptance reads E_{p/2} / E_{p/4} as the factor of the next level;
    a factor that grew more than Q_GROW x over the previous level is an aliased floor (the
    2-D case that broke the promise: 1030 -> 25.8 -> 2.11), not convergence; algebraic
    convergence (abs_pow_2.5: factors 0.11 then 0.17) and geometric convergence pass."""
    from numfit.interpolate._chebyshev import _steady
    assert not _steady({16: 2.11, 8: 25.8, 4: 1030.0}, 32)
    assert _steady({16: 1.05, 8: 1.05 / 0.169, 4: 1.05 / 0.169 / 0.111}, 32)
    assert _steady({32: 1.0, 16: 100.0, 8: 1e3}, 64)
    assert not _steady({16: 1.0, 8: 1.0, 4: 5.0}, 32)        # not decreasing


def test_samples_dropped_by_a_bisection_test_the_halves():
    """x^2 ln|x - 0.2| at rtol 1e-4: halves of bisected pieces passing within 10x of the
    tolerance are accepted when their interpolant predicts the samples the bisection dropped
    inside them within 0.1 of the tolerance (no new evaluation), instead of sampling the
    next degree."""
    from numfit.interpolate import _chebyshev as C
    m = member("x2_log_x")
    s = nf.autoknots(m.f, m.a, m.b, kind="chebyshev", **m.options(1e-4))
    assert s.converged and s.info["n_free"] >= 1 and error_ratio(s, m.f) <= 1.0
    old = C.FREE
    try:
        C.FREE = False
        s0 = nf.autoknots(m.f, m.a, m.b, kind="chebyshev", **m.options(1e-4))
    finally:
        C.FREE = old
    assert s0.info["n_free"] == 0 and s.n_evals < s0.n_evals


def test_weak_singularity_under_a_fast_component_keeps_the_promise():
    """c + B |x - x0|^alpha + A sin(w x): the analytic part converges fast and the singular
    part emerges at the last measured level (E: 2.3e6 -> 1.1e4 -> 27, read as a factor
    0.0026: converged=True at 1.7x the tolerance) or only at the kept one (1.9e8 -> 5.9e5 ->
    16, factors of a geometric rate: 4.3x; alpha = 1.8 with E_16 = 2.2: 1.08x) before the
    extrapolated acceptance was limited to E_{p/2} <= 2. Plus random ones."""
    cases = [(-0.020702568448855097, 3.2848717068273996, 1.7600362060039916,
              7.498745149831745, 1.0, 0.1, 1e-8),
             (0.4756928779970999, 2.6216350319441597, None, None, 0.005390143850346705, 0.3,
              1e-10),
             (0.011197069000912219, 1.7856728883008661, None, None, 8.561208048107336e-05,
              0.3, 1e-10)]
    for seed, k in ((1, 4), (4, 15)):           # c and w of the last two cases
        rng = np.random.default_rng(seed)
        for _ in range(k + 1):
            draw = rng.uniform(-0.95, 0.95), rng.uniform(1.5, 5.5), rng.uniform(1, 3), \
                rng.uniform(2, 30), 10 ** rng.uniform(-9, -2)
        i = 1 if seed == 1 else 2
        cases[i] = cases[i][:2] + draw[2:4] + cases[i][4:]
    rng = np.random.default_rng(7)
    for _ in range(8):
        cases.append((rng.uniform(-0.9, 0.9), rng.uniform(1.3, 4.5), rng.uniform(0.5, 3),
                      rng.uniform(0, 8), 1.0, 0.1, rng.choice([1e-6, 1e-8, 1e-10])))
    for x0, al, c, w, B, A, rtol in cases:
        def f(x, x0=x0, al=al, c=c, w=w, B=B, A=A):
            return c + B * np.abs(x - x0) ** al + A * np.sin(w * x)
        s = nf.autoknots(f, -1.0, 1.0, rtol=rtol, kind="chebyshev")
        if s.converged:
            assert error_ratio(s, f) <= 1.0, (x0, al, rtol)


def _single_mode_ratios(p, S, nw=1500, nphi=12):
    """Smallest ratio, over cos(w s + phi) (w up to 6p), of the degree-p interpolant's largest
    error at the points new at degree 2p with indices S to its largest error on a dense grid
    (NumPy's Chebyshev Vandermonde matrices, not the table code)."""
    V = np.polynomial.chebyshev.chebvander
    nodes = -np.cos(np.pi * np.arange(p + 1) / p)
    new = -np.cos(np.pi * (np.arange(p) + 0.5) / p)[S]
    dense = np.cos(np.pi * (np.arange(16 * p) + 0.5) / (16 * p))
    to_coef = np.linalg.inv(V(nodes, p))
    w, phi = np.meshgrid(np.linspace(0.3, 6 * p, nw), np.linspace(0, np.pi, nphi,
                                                                  endpoint=False))
    w, phi = w.ravel(), phi.ravel()

    def err(s):
        f = np.cos(np.outer(s, w) + phi)
        return np.abs(V(s, p) @ (to_coef @ np.cos(np.outer(nodes, w) + phi)) - f).max(axis=0)
    ed = err(dense)
    keep = ed > 1e-9
    return float(np.min(err(new)[keep] / ed[keep]))


@pytest.mark.parametrize("p", [16, 32, 64])
def test_spot_subsets_see_every_single_oscillation(p):
    """A 1-D spot test samples a subset of the points of degree 2p; no oscillation may
    nearly vanish at all of them (an evenly spread subset of the same size has one)."""
    from numfit.interpolate._chebyshev import _spot1_subset
    S = _spot1_subset(p)
    assert S.size == {16: 6, 32: 8, 64: 16}[p] and np.all(np.diff(S) > 0)
    assert S[0] >= 0 and S[-1] < p and np.diff(np.concatenate([[-1], S, [p]])).max() <= 8
    assert _single_mode_ratios(p, S) >= 0.25
    even = np.round((np.arange(S.size) + 0.5) * p / S.size - 0.5).astype(int)
    assert _single_mode_ratios(p, even) < 0.25


def test_spot_tests_keep_the_degree_and_the_promise(monkeypatch):
    """Runge at rtol 1e-4: E_16 = 2.2 after 107, a pass predicted by the convergence but
    above the extrapolation's limit of 2: a spot test of degree 32 keeps it (81 evaluations,
    129 sampling degree 64 instead)."""
    from numfit.interpolate import _chebyshev as C
    m = member("runge")
    s = nf.autoknots(m.f, m.a, m.b, kind="chebyshev", **m.options(1e-4))
    assert s.converged and s.n_spot >= 1 and s.n_spot_evals >= 6 * s.n_spot
    assert error_ratio(s, m.f) <= 1.0
    assert s.n_evals == s.nodes.size + s.n_discarded
    monkeypatch.setattr(C, "SPOT1", False)
    s0 = nf.autoknots(m.f, m.a, m.b, kind="chebyshev", **m.options(1e-4))
    assert s0.n_spot == 0 and s.n_evals < s0.n_evals and max(s.degrees) < max(s0.degrees)


def test_spot_test_needs_converging_errors():
    """Damped BAO wiggles in log-log space at rtol 1e-6: a piece whose errors did not fall
    (E_4 = 0.55, E_8 = 0.93, an aliased floor) passed a spot test at 1.18x the tolerance
    before spot tests needed E_{p/2} < E_{p/4} / 2."""
    from numfit.interpolate._family import _bbks

    def f(k):
        return _bbks(k) * (1 + 0.1 * np.sin(147 * k) * np.exp(-(k / 0.2) ** 1.4))
    s = nf.autoknots(f, 1e-4, 10.0, rtol=1e-6, space="loglog", kind="chebyshev")
    assert s.converged and s.n_spot >= 1 and error_ratio(s, f) <= 1.0


def test_failed_spot_test_keeps_its_samples():
    """x^2 ln|x - 0.2| at rtol 1e-6 fails a spot test: the rest of degree 2p is sampled and
    the subset's samples take their places among the nodes (no evaluation lost)."""
    from numfit.interpolate import _chebyshev as C
    m = member("x2_log_x")
    seen = []
    orig = C._spot1

    def spot(*a):
        seen.append(orig(*a))
        return seen[-1]
    C._spot1 = spot
    try:
        s = nf.autoknots(m.f, m.a, m.b, kind="chebyshev", **m.options(1e-6))
    finally:
        C._spot1 = orig
    assert False in seen and s.converged and error_ratio(s, m.f) <= 1.0
    assert np.all(np.diff(s.nodes) > 0) and np.array_equal(s.values, m.f(s.nodes))
    assert s.n_evals == s.nodes.size + s.n_discarded


def test_piece_kept_on_a_spot_test_can_be_reopened():
    """A piece reopened after a spot test samples the rest of its next degree: the spot
    samples become nodes and stop counting as discarded."""
    from numfit.interpolate import _chebyshev as C
    m = member("runge")
    orig = C._recheck
    calls = []

    def recheck(state, cfg, stats):
        bad = orig(state, cfg, stats)
        if not calls:
            calls.append(1)
            spotted = [pc for pc in state["pieces"] if pc.pend is not None]
            assert spotted
            return bad + spotted[:1]
        return bad
    C._recheck = recheck
    try:
        s = nf.autoknots(m.f, m.a, m.b, kind="chebyshev", **m.options(1e-4))
    finally:
        C._recheck = orig
    assert s.converged and max(s.degrees) == 64 and error_ratio(s, m.f) <= 1.0
    assert np.all(np.diff(s.nodes) > 0) and np.array_equal(s.values, m.f(s.nodes))
    assert s.n_evals == s.nodes.size + s.n_discarded


# Small fast oscillations (2 + tanh(x - 1)) (1 + a sin(w x + c) exp(-(x/s)^2)) at rtol 1e-4
# that a draw of the random guard found accepted above the tolerance (w, a, s, c), and the
# rule of the build that now keeps the promise there (what switches it off):
# * seed 8, draw 36: a degree-4 half passed its 2 new points at 0.054 of the tolerance by the
#   luck of their phase while its parent's dropped samples inside it were off by 0.87:
#   converged=True at 1.03x before a pass had to predict them within 0.1 as well;
# * seed 10, first draw: at the largest degree the errors stayed flat (E_8 = 0.59, E_16 =
#   0.37, E_32 = 0.83), an aliased floor, and the piece was kept because E_32 <= 1 there:
#   converged=True at 1.09x; now such a pass needs falling errors, else the piece is bisected.
_ALIASED_PASSES = {
    "dropped_samples": ((136.70984603783126, 2.87331168434552e-4, 2.054490117982203,
                         2.2395493239806), "_extra_ratio", lambda pc, cfg: 0.0),
    "largest_degree": ((258.22805211909645, 6.772160468681604e-05, 2.536801190241233,
                        0.8956927384921216), "TOP_Q", math.inf)}


@pytest.mark.parametrize("case", sorted(_ALIASED_PASSES))
def test_lucky_passes_are_not_accepted(case, monkeypatch):
    from numfit.interpolate import _chebyshev as C
    (om, amp, s_, c_), name, off = _ALIASED_PASSES[case]

    def f(x):
        return (2 + np.tanh(x - 1)) * (1 + amp * np.sin(om * x + c_) * np.exp(-(x / s_) ** 2))
    s = nf.autoknots(f, 0.0, 3.0, rtol=1e-4, kind="chebyshev")
    assert s.converged and error_ratio(s, f) <= 1.0
    monkeypatch.setattr(C, name, off)
    before = nf.autoknots(f, 0.0, 3.0, rtol=1e-4, kind="chebyshev")
    assert before.converged and error_ratio(before, f) > 1.0


@pytest.mark.parametrize("p", [1, 4, 16, 64, 128])
def test_piece_value_at_matches_chebval(p):
    """The barycentric evaluation the build uses for tests (free tests, dropped samples,
    the recheck) against NumPy's Clenshaw on the piece's coefficients, at nodes too."""
    from numfit.interpolate._chebyshev import _Piece, _value_at
    rng = np.random.default_rng(p)
    pc = _Piece(0.3, 1.7, p, None, None, None)
    for shape in ((), (3,)):
        pc.y = rng.standard_normal((p + 1,) + shape)
        u = np.concatenate([rng.uniform(0.3, 1.7, 40), 1.0 + 0.7 * lobatto(p)])
        ref = np.polynomial.chebyshev.chebval((2 * u - 2.0) / 1.4, values_to_coefs(pc.y, p))
        got = _value_at(pc, u, (u.size,) + shape)
        assert np.allclose(got, ref.T.reshape(got.shape), rtol=0, atol=1e-13 * (p + 1))


@pytest.mark.parametrize("name", ["sqrt", "cbrt_exp"])
def test_endpoint_singularity_is_bisected_early(name, monkeypatch):
    """A piece at an end of [a, b] whose largest errors sit at that end and fall slower than
    2x per doubling is bisected at once instead of after one more doubling: the same
    promise with fewer evaluations (sqrt at rtol 1e-4: 235 instead of 353)."""
    from numfit.interpolate import _chebyshev as C
    m = member(name)
    s = nf.autoknots(m.f, m.a, m.b, kind="chebyshev", **m.options(1e-4))
    assert s.converged and error_ratio(s, m.f) <= 1.0
    monkeypatch.setattr(C, "SLOW_Q", 0.0)
    s0 = nf.autoknots(m.f, m.a, m.b, kind="chebyshev", **m.options(1e-4))
    assert s0.converged and s.n_evals < 0.8 * s0.n_evals


def test_end_error_needs_the_singular_end_of_the_interval():
    """_end_error: sqrt's errors peak at x = 0, and only a piece that starts at a = 0 counts
    (the same values on a piece inside [a, b] do not), nor does an interior kink."""
    from numfit.interpolate._chebyshev import _end_error, _Piece
    cfg = dict(rtol=1e-6, atol=1e-6, loglog=False, mode=0, a=0.0, b=1.0)
    s8 = (1 + lobatto(8)) / 2
    for x0, f, want in ((0.0, np.sqrt, True), (0.5, lambda x: np.sqrt(x - 0.5), False),
                        (0.0, lambda x: np.abs(x - 0.23), False)):
        x = x0 + 0.5 * s8
        pc = _Piece(x[0], x[-1], 8, x, f(x), f(x))
        assert _end_error(pc, cfg) is want, (x0, want)
    x = 0.5 + 0.5 * s8                       # sqrt(1 - x) at b = 1
    pc = _Piece(0.5, 1.0, 8, x, np.sqrt(1 - x), np.sqrt(1 - x))
    assert _end_error(pc, cfg) is True
