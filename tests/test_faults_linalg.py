"""Fault injection for numfit.linalg (and the samplers of numfit.approx).

* interrupts: a callback raising KeyboardInterrupt mid-solve (sor, ssor_cg, sketch_solve,
  RelaxationTuner) leaves every object usable and unchanged; SIGINT / SIGALRM during the
  compiled loops arrives within a fraction of a second (the drivers call the kernels in short
  pieces), with ``x`` a consistent iterate;
* the pieces do not change results: bit-identical to one piece on both backends;
* a tolerance below double precision (rtol=0) stops SSOR-CG on stagnation with the best
  iterate instead of a breakdown that blames ``A``;
* non-numeric matrices are TypeErrors naming ``A``; policy sizes are checked before
  allocating.
"""
import os
import select
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

import numfit as nf
from numfit.linalg import (BinnedTsallisINF, ChebCB, RelaxationTuner, _chunks, _kernels,
                           _sketch, laplacian_2d, make_grid, prepare, sketch_solve, sor_sweep,
                           shifted_laplacian_sequence)
from numfit.linalg._reference import sor_reference, ssor_cg_reference

BACKENDS = ["cython", "numba"]
EPS = np.finfo(float).eps


@pytest.fixture(params=BACKENDS)
def backend(request, monkeypatch):
    """Both kernel backends of the SOR and sketch families."""
    monkeypatch.setattr(_kernels, "kernels", _kernels.load(request.param))
    monkeypatch.setattr(_sketch, "kernels", _sketch.load(request.param))
    return request.param


def random_spd(n, seed, density=0.2):
    rng = np.random.default_rng(seed)
    B = sp.random_array((n, n), density=density, rng=rng, format="csr")
    return sp.csr_array(B @ B.T + sp.diags_array(rng.uniform(0.5, 2.0, n)))


class Interrupt:
    """Callback that raises KeyboardInterrupt at iteration ``at`` (fault injection)."""

    def __init__(self, at):
        self.at, self.calls = at, 0

    def __call__(self, info):
        self.calls += 1
        if self.calls >= self.at:
            raise KeyboardInterrupt


def _alarm_latency(fn, delay=0.2):
    """Run ``fn`` with SIGALRM -> KeyboardInterrupt scheduled ``delay`` s after the start
    (the OS delivers it whatever the GIL does); return the seconds from the scheduled time
    to the KeyboardInterrupt, or None if ``fn`` returned first."""
    old = signal.signal(signal.SIGALRM, signal.default_int_handler)
    t0 = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, delay)
    try:
        fn()
    except KeyboardInterrupt:
        return time.perf_counter() - t0 - delay
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        signal.signal(signal.SIGALRM, old)
    return None


# ---------------------------------------------------------------- stagnation (rtol below eps)
def _floor(A, b, x):
    """eps * (||b|| + ||A||_inf ||x||): the scale of the rounding in b - A x."""
    anorm = float(abs(sp.csr_array(A)).sum(axis=1).max())
    return EPS * (np.linalg.norm(b) + anorm * np.linalg.norm(x))


@pytest.mark.parametrize("rtol", [0.0, 1e-300])
@pytest.mark.parametrize("case", ["laplacian", "random_spd"])
def test_ssor_cg_tolerance_below_precision_stops_on_stagnation(backend, rtol, case):
    A = laplacian_2d(20) if case == "laplacian" else random_spd(80, 3)
    n = A.shape[0]
    b = np.random.default_rng(1).standard_normal(n)
    xs = spsolve(sp.csc_array(A), b)
    r = nf.ssor_cg(A, b, 1.5, rtol=rtol)
    assert r.status == 4 and not r.converged and not r.success
    assert "double precision" in r.message and "not positive definite" not in r.message
    assert np.all(np.isfinite(r.x))
    assert np.linalg.norm(r.x - xs) <= 1e-10 * np.linalg.norm(xs)
    true = np.linalg.norm(b - A @ r.x)
    assert r.residual <= 100 * _floor(A, b, r.x) and true <= 100 * _floor(A, b, r.x)
    converged_at = nf.ssor_cg(A, b, 1.5, rtol=1e-12).nit
    assert r.nit <= converged_at + 400                  # stopped soon after the floor
    # the same with a callback (Python PCG loop) and with the multicolour ordering
    seen = []
    rc = nf.ssor_cg(A, b, 1.5, rtol=rtol, callback=lambda info: seen.append(info.nit))
    assert rc.status == 4 and len(seen) == rc.nit and np.all(np.isfinite(rc.x))
    assert np.linalg.norm(b - A @ rc.x) <= 100 * _floor(A, b, rc.x)
    rm = nf.ssor_cg(A, b, 1.5, rtol=rtol, ordering="multicolor")
    assert rm.status == 4 and np.linalg.norm(b - A @ rm.x) <= 100 * _floor(A, b, rm.x)


def test_ssor_cg_stagnation_keeps_attainable_tolerances_and_reference_counts(backend):
    """The stagnation test never fires at an attainable tolerance: counts and iterates are
    those of the textbook PCG reference."""
    for seed in range(3):
        A = random_spd(60, seed)
        b = np.random.default_rng(seed).standard_normal(60)
        for rtol in (1e-8, 1e-12):
            r = nf.ssor_cg(A, b, 1.2, rtol=rtol)
            x, nit, _ = ssor_cg_reference(A, b, 1.2, rtol=rtol)
            assert r.status == 0 and r.nit == nit
            np.testing.assert_allclose(r.x, x, rtol=1e-8, atol=1e-12)


def test_sor_tolerance_below_precision_keeps_its_convention():
    """SOR at rtol=0 already stops at maxiter with converged False and a finite x."""
    A = laplacian_2d(10)
    r = nf.sor(A, np.ones(100), 1.5, rtol=0.0, maxiter=500)
    assert r.status == 1 and not r.converged and np.all(np.isfinite(r.x))


# ---------------------------------------------------------------- pieces == one call
@pytest.fixture
def tiny_chunks(monkeypatch):
    """One iteration / step / point per compiled call."""
    monkeypatch.setattr(_chunks, "CHUNK_WORK", 1)


def _solves():
    A = laplacian_2d(9) + 0.05 * sp.eye_array(81)
    b = np.random.default_rng(2).standard_normal(81)
    x0 = np.random.default_rng(3).standard_normal(81)
    out = []
    for sweep in ("forward", "backward", "symmetric"):
        for norm in ("r0", "b"):
            out.append(nf.sor(A, b, 1.4, x0=x0, sweep=sweep, norm=norm, rtol=1e-10,
                              return_history=True))
    out.append(nf.sor(A, b, 1.4, maxiter=17, return_history=True))
    for order in ("fb", "bf"):
        out.append(nf.ssor_cg(A, b, 1.3, x0=x0, order=order, rtol=1e-11,
                              return_history=True))
    out.append(nf.ssor_cg(A, b, 1.3, rtol=0.0, return_history=True))      # stagnation
    y = x0.copy()
    sor_swept = sor_sweep(A, y, b, 1.3, iterations=23, sweep="symmetric")
    return A, b, x0, out, sor_swept


def _same(r1, r2):
    assert r1.status == r2.status and r1.nit == r2.nit and r1.nsweeps == r2.nsweeps
    assert np.array_equal(r1.x, r2.x) and r1.residual == r2.residual
    assert np.array_equal(r1.residual_history, r2.residual_history)


def test_pieces_are_bit_identical_to_one_call(backend, monkeypatch):
    monkeypatch.setattr(_chunks, "CHUNK_WORK", 1 << 60)
    A, b, x0, one, swept_one = _solves()
    monkeypatch.setattr(_chunks, "CHUNK_WORK", 1)
    _, _, _, pieces, swept_pieces = _solves()
    for r1, r2 in zip(one, pieces):
        _same(r1, r2)
    assert np.array_equal(swept_one, swept_pieces)
    # and against the literal NumPy reference
    for r, sweep in zip(pieces[:6:2], ("forward", "backward", "symmetric")):
        x, nit, status, hist = sor_reference(A, b, 1.4, x0=x0, rtol=1e-10, sweep=sweep)
        assert (r.nit, r.status) == (nit, status)
        np.testing.assert_allclose(r.x, x, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(r.residual_history, hist, rtol=1e-8, atol=1e-12)
    x, nit, _ = ssor_cg_reference(A, b, 1.3, x0=x0, rtol=1e-11)
    assert pieces[7].nit == nit
    np.testing.assert_allclose(pieces[7].x, x, rtol=1e-9, atol=1e-12)
    xr, _, _, _ = sor_reference(A, b, 1.3, x0=x0, maxiter=23, rtol=0.0, sweep="symmetric")
    np.testing.assert_allclose(swept_pieces, xr, rtol=1e-12, atol=1e-12)


def test_tuner_in_pieces_equals_one_call(backend, monkeypatch):
    def run():
        out = []
        for solver in ("sor", "ssor_cg"):
            tuner = RelaxationTuner("tsallis", solver=solver, grid="paper", rng=5)
            for sysm in shifted_laplacian_sequence(6, m=12, rng=2):
                tuner.solve(sysm.A, sysm.b)
            out.append(tuner.history)
        return out

    monkeypatch.setattr(_chunks, "CHUNK_WORK", 1 << 60)
    one = run()
    monkeypatch.setattr(_chunks, "CHUNK_WORK", 1)
    for h1, h2 in zip(one, run()):
        for key in h1:
            assert np.array_equal(h1[key], h2[key], equal_nan=True)


@pytest.mark.parametrize("sketch", _sketch.SKETCHES)
def test_sketch_steps_in_pieces_equal_one_call(backend, monkeypatch, sketch):
    rng = np.random.default_rng(4)
    A = rng.standard_normal((40, 25))
    b = A @ rng.standard_normal(25)
    for check_every, rtol, maxiter in ((None, 1e-9, 30_000), (1, 1e-9, 30_000),
                                       (None, 0.0, 777), (1, 0.0, 777)):
        kw = dict(sketch=sketch, rtol=rtol, rng=7, check_every=check_every, maxiter=maxiter)
        monkeypatch.setattr(_chunks, "CHUNK_WORK", 1 << 60)
        r1 = sketch_solve(A, b, **kw)
        monkeypatch.setattr(_chunks, "CHUNK_WORK", 1)
        r2 = sketch_solve(A, b, **kw)
        assert r1.converged == (rtol > 0) and r1.nit <= maxiter
        assert (r1.nit, r1.status, r1.n_matvec) == (r2.nit, r2.status, r2.n_matvec)
        assert np.array_equal(r1.x, r2.x)
        assert np.array_equal(r1.residual_history, r2.residual_history)


@pytest.mark.parametrize("method", ["iid", "dpp", "volume"])
def test_sampler_pieces_equal_one_call(monkeypatch, method):
    from numfit.approx import _sample
    V = nf.PolynomialSpace("legendre", 6, dim=2)
    monkeypatch.setattr(_sample, "_CHUNK_WORK", 1 << 60)
    s1 = nf.sample_points(V, method=method, rng=3)
    monkeypatch.setattr(_sample, "_CHUNK_WORK", 1)
    s2 = nf.sample_points(V, method=method, rng=3)
    assert np.array_equal(s1.points, s2.points) and s1.n_proposals == s2.n_proposals


# ---------------------------------------------------------------- callbacks raising
def test_interrupted_sor_and_ssor_cg_leave_inputs_usable(backend):
    A = laplacian_2d(12)
    P = prepare(A)
    b = np.ones(144)
    x0 = np.linspace(0.0, 1.0, 144)
    keep = x0.copy(), P.data.copy(), P.diag.copy()
    for ordering in ("natural", "multicolor"):
        for solver in (nf.sor, nf.ssor_cg):
            ref = solver(P, b, 1.5, x0=x0, ordering=ordering)
            cb = Interrupt(5)
            with pytest.raises(KeyboardInterrupt):
                solver(P, b, 1.5, x0=x0, ordering=ordering, callback=cb)
            assert cb.calls == 5
            again = solver(P, b, 1.5, x0=x0, ordering=ordering)
            assert again.nit == ref.nit and np.array_equal(again.x, ref.x)
    assert all(np.array_equal(u, v) for u, v in zip(keep, (x0, P.data, P.diag)))


def test_interrupted_sketch_solve_leaves_inputs_usable(backend):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((30, 30)) + 8 * np.eye(30)
    b = rng.standard_normal(30)
    x0 = np.ones(30)
    ref = sketch_solve(A, b, "block_kaczmarz", rng=1, x0=x0)

    def cb(x):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sketch_solve(A, b, "block_kaczmarz", rtol=0.0, rng=1, x0=x0, callback=cb,
                     maxiter=10**7)
    assert np.array_equal(x0, np.ones(30))
    again = sketch_solve(A, b, "block_kaczmarz", rng=1, x0=x0)
    assert again.nit == ref.nit and np.array_equal(again.x, ref.x)


def _plain(v):
    """A bitwise-comparable form of a policy attribute (arrays by their bytes: NaN-safe)."""
    if isinstance(v, np.ndarray):
        return (v.dtype.str, v.shape, v.tobytes())
    if isinstance(v, float) and np.isnan(v):
        return "nan"
    return v


def _tuner_state(t):
    pol = t.policy
    return dict(hist={k: _plain(v) for k, v in t.history.items()},
                rng=t.rng.bit_generator.state, grid=_plain(t.grid), grid_info=t.grid_info,
                policy=None if pol is None else {
                    k: _plain(v) for k, v in vars(pol).items()
                    if k not in ("rng", "learners", "eta")},
                learners=[{k: _plain(v) for k, v in vars(lr).items() if k != "rng"}
                          for lr in getattr(pol, "learners", [])])


@pytest.mark.parametrize("policy,solver,grid", [("tsallis", "sor", "paper"),
                                                ("chebcb", "ssor_cg", "paper"),
                                                ("binned", "sor", None)])
@pytest.mark.parametrize("exc", [KeyboardInterrupt, RuntimeError])
def test_interrupted_tuner_solve_is_rolled_back(backend, policy, solver, grid, exc):
    """An exception inside solve (here from the callback, in the first solve, or mid-run, or
    in the backstop solve) leaves the tuner as before the call: the next solves equal those
    of a tuner that never saw the interrupted call."""
    systems = list(shifted_laplacian_sequence(8, m=10, rng=3))
    kw = dict(policy=policy, solver=solver, grid=grid, rng=11, context_range=(-0.15, 0.65),
              cap_factor=1.0)
    fresh = RelaxationTuner(**kw)
    tuner = RelaxationTuner(**kw)

    def boom(at):
        calls = [0]

        def cb(info):
            calls[0] += 1
            if calls[0] >= at:
                raise exc("injected")
        return cb

    for i, sysm in enumerate(systems):
        for at in ((1, 4) if i in (0, 5) else ()):
            before = _tuner_state(tuner)
            with pytest.raises(exc, match="injected"):
                tuner.solve(sysm.A, sysm.b, context=sysm.context, callback=boom(at))
            assert _tuner_state(tuner) == before
        r1 = fresh.solve(sysm.A, sysm.b, context=sysm.context)
        r2 = tuner.solve(sysm.A, sysm.b, context=sysm.context)
        assert (r1.omega, r1.nit, r1.status) == (r2.omega, r2.nit, r2.status)
    assert _tuner_state(tuner) == _tuner_state(fresh)


def test_interrupt_in_tuner_backstop_is_rolled_back(backend):
    """The backstop solve (after a capped first solve) interrupted: policy update undone."""
    A = laplacian_2d(12)
    b = np.ones(144)
    tuner = RelaxationTuner("tsallis", grid=[1.0, 1.05], rng=0, maxiter=5)
    before = _tuner_state(tuner)
    with pytest.raises(KeyboardInterrupt):
        tuner.solve(A, b, callback=Interrupt(7))             # 5 sweeps, then backstop
    assert _tuner_state(tuner) == before
    r = tuner.solve(A, b)
    assert r.backstop and tuner.t == 1


def test_tuner_callback_sees_every_iteration_and_can_stop(backend):
    A = laplacian_2d(8)
    b = np.ones(64)
    plain = RelaxationTuner("tsallis", grid="paper", rng=4)
    r0 = plain.solve(A, b)
    seen = []
    tuner = RelaxationTuner("tsallis", grid="paper", rng=4)
    r = tuner.solve(A, b, callback=lambda info: seen.append(info.nit))
    assert r.nit == r0.nit and seen == list(range(1, r.nit + 1))
    assert np.array_equal(tuner.history.costs, plain.history.costs)
    stopped = RelaxationTuner("tsallis", grid="paper", rng=4)
    rs = stopped.solve(A, b, callback=lambda info: info.nit == 3)
    assert rs.status == 3 and rs.nit == 3 and stopped.t == 0        # nothing learnt
    assert stopped.rng.bit_generator.state == RelaxationTuner(
        "tsallis", grid="paper", rng=4).rng.bit_generator.state


def test_kernel_fault_inside_compiled_solve_rolls_back_tuner(backend, monkeypatch,
                                                            tiny_chunks):
    """KeyboardInterrupt raised between two compiled pieces (a proxy kernel module)."""
    real = _kernels.kernels

    class Proxy:
        calls = 0

        def __getattr__(self, name):
            fn = getattr(real, name)

            def wrapped(*a):
                Proxy.calls += 1
                if Proxy.calls == 6:
                    raise KeyboardInterrupt
                return fn(*a)
            return wrapped

    A = laplacian_2d(10)
    b = np.ones(100)
    tuner = RelaxationTuner("tsallis", grid="paper", rng=1)
    tuner.solve(A, b)
    before = _tuner_state(tuner)
    monkeypatch.setattr(_kernels, "kernels", Proxy())
    with pytest.raises(KeyboardInterrupt):
        tuner.solve(A, b)
    assert _tuner_state(tuner) == before
    assert tuner.solve(A, b).converged


# ---------------------------------------------------------------- Ctrl-C latency
_CHILD = textwrap.dedent("""
    import sys, time
    import numpy as np
    from numfit.linalg import _kernels, laplacian_2d, prepare, sor_sweep
    P = prepare(laplacian_2d(100))
    b = np.ones(P.n)
    for name in ("cython", "numba"):
        _kernels.kernels = _kernels.load(name)
        sor_sweep(P, np.zeros(P.n), b, 1.5, iterations=2)          # warm up (Numba cache)
        x = np.zeros(P.n)
        print("go", name, flush=True)
        try:
            sor_sweep(P, x, b, 1.5, iterations=10**9)
            print("returned", name, flush=True)
        except KeyboardInterrupt:
            print("caught", name, flush=True)
            # x must be an iterate of whole sweeps: replay sweep by sweep from zero until
            # one equals x bit for bit
            y = np.zeros(P.n)
            ok = False
            for j in range(200_000):
                if np.array_equal(y, x):
                    ok = j > 0
                    break
                _kernels.kernels.sweep(P.indptr, P.indices, P.data, P.diag_pos, P.inv_diag,
                                       b, y, 1.5, 1, 0)
            print("consistent", name, ok, flush=True)
""")


def test_sigint_reaches_sor_sweep_of_a_billion_iterations():
    """A real SIGINT (as Ctrl-C sends) interrupts sor_sweep(iterations=10**9) within 2 s on
    both backends; a child process, so that a hang fails the test instead of the run."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    p = subprocess.Popen([sys.executable, "-c", _CHILD], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env)
    latencies = {}
    try:
        for name in BACKENDS:
            assert _readline(p, 60) == f"go {name}"
            time.sleep(0.3)
            t0 = time.perf_counter()
            p.send_signal(signal.SIGINT)
            line = _readline(p, 10)
            latencies[name] = time.perf_counter() - t0
            assert line == f"caught {name}", line
            assert _readline(p, 60) == f"consistent {name} True"
        assert p.wait(30) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert max(latencies.values()) < 2.0, latencies


def _readline(p, timeout):
    ready, _, _ = select.select([p.stdout], [], [], timeout)
    if not ready:
        raise AssertionError(f"no answer from the child in {timeout} s (stderr: "
                             f"{p.stderr.read() if p.poll() is not None else ''})")
    return p.stdout.readline().strip()


def test_alarm_reaches_sor_and_ssor_cg_quickly(backend):
    P = prepare(laplacian_2d(316))                         # n = 1e5: ~1 ms per sweep
    b = np.ones(P.n)
    lat = _alarm_latency(lambda: nf.sor(P, b, 1.0, rtol=1e-14, maxiter=20_000))
    assert lat is not None and lat < 1.0, lat
    lat = _alarm_latency(lambda: nf.ssor_cg(P, b, 0.3, rtol=0.0, maxiter=20_000,
                                            check_symmetry=False))
    assert lat is not None and lat < 1.0, lat


def test_alarm_reaches_sketch_solve_quickly(backend):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((1200, 1200)) / 40 + np.eye(1200)      # ~3 ms per Gaussian step
    b = rng.standard_normal(1200)
    lat = _alarm_latency(lambda: sketch_solve(A, b, "gaussian", rtol=1e-12, rng=0,
                                              maxiter=3000), delay=1.0)
    assert lat is not None and lat < 1.0, lat


def test_alarm_reaches_the_samplers_quickly():
    V = nf.PolynomialSpace("legendre", 40)
    lat = _alarm_latency(lambda: nf.sample_points(V, n=2_000_000, method="iid", rng=0))
    assert lat is not None and lat < 1.0, lat
    V2 = nf.PolynomialSpace("legendre", 44, dim=2)                   # m = 1035
    lat = _alarm_latency(lambda: nf.sample_points(V2, method="dpp", rng=0))
    assert lat is not None and lat < 1.0, lat


# ---------------------------------------------------------------- input types and sizes
@pytest.mark.parametrize("make", [
    lambda A: sp.csr_array(A != 0),
    lambda A: sp.csr_matrix(A.toarray() != 0),
    lambda A: A.toarray() != 0,
    lambda A: A.toarray().astype(object),
])
def test_non_numeric_matrices_are_type_errors_naming_A(make):
    A = laplacian_2d(4)
    M = make(A)
    b = np.ones(16)
    calls = [lambda: nf.sor(M, b), lambda: nf.ssor_cg(M, b), lambda: prepare(M),
             lambda: sor_sweep(M, np.zeros(16), b, 1.2),
             lambda: nf.sor(M, b, ordering="multicolor"),
             lambda: RelaxationTuner(grid="paper", rng=0).solve(M, b),
             lambda: sketch_solve(M, b)]
    for call in calls:
        with pytest.raises(TypeError, match=r"`A` must .*(dtype|numeric)"):
            call()
    # integer matrices stay accepted
    assert nf.sor(sp.csr_array(A.astype(np.int64)), b).converged


def test_policy_sizes_are_checked_before_allocating():
    with pytest.raises(ValueError, match=r"`m`.*ChebCB.*TiB.*smaller `m`"):
        ChebCB("paper", (0.0, 1.0), m=10**6)
    with pytest.raises(ValueError, match=r"`bins`"):
        BinnedTsallisINF("paper", (0.0, 1.0), bins=10**9)
    with pytest.raises(ValueError, match=r"`d`"):
        make_grid("log", d=10**9)
    with pytest.raises(ValueError, match=r"`m`"):
        RelaxationTuner("chebcb", grid="paper", context_range=(0, 1),
                        policy_options={"m": 10**5})
    assert ChebCB("paper", (0.0, 1.0), m=ChebCB.MAX_M).m == ChebCB.MAX_M
