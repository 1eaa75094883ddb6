"""Bad input for every public entry point of numfit.linalg (clear messages naming the argument)."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import aslinearoperator

import numfit as nf
from numfit.linalg import (BinnedTsallisINF, ChebCB, ContextRangeWarning, HeatEquation2D,
                           RelaxationTuner, TsallisINF, laplacian_2d, prepare,
                           shifted_laplacian_sequence, sor_sweep)

A = laplacian_2d(4)
b = np.ones(16)


@pytest.mark.parametrize("solver", [nf.sor, nf.ssor_cg])
def test_matrix_errors(solver):
    with pytest.raises(ValueError, match=r"`A` must be square; got shape \(16, 15\)"):
        solver(A[:, :15], b)
    Z = sp.csr_array(A, copy=True)
    Z.data[prepare(A).diag_pos[3]] = 0.0          # stored zero on the diagonal
    with pytest.raises(ValueError, match=r"A\[3,3\] must be > 0; got 0.0 at row 3"):
        solver(Z, b)
    Z = A.toarray()
    Z[5, 5] = -1.0
    with pytest.raises(ValueError, match=r"A\[5,5\] must be > 0; got -1.0 at row 5"):
        solver(Z, b)
    missing = sp.csr_array(np.array([[1.0, 0.5], [0.5, 0.0]]))
    missing.eliminate_zeros()
    with pytest.raises(ValueError, match=r"A\[1,1\] must be > 0.*not stored"):
        solver(missing, np.ones(2))
    Z = A.toarray()
    Z[2, 1] = np.nan
    with pytest.raises(ValueError, match="`A` must be finite"):
        solver(Z, b)
    with pytest.raises(TypeError, match="LinearOperator"):
        solver(aslinearoperator(A), b)
    with pytest.raises(TypeError, match="`A` must be real"):
        solver(A.toarray() + 0j, b)
    with pytest.raises(ValueError, match="`A` must be a 2-D matrix"):
        solver(np.ones(3), np.ones(3))


@pytest.mark.parametrize("solver", [nf.sor, nf.ssor_cg])
def test_vector_and_option_errors(solver):
    with pytest.raises(ValueError, match=r"`b` must have shape \(16,\).*got shape \(15,\)"):
        solver(A, np.ones(15))
    with pytest.raises(ValueError, match=r"`x0` must have shape \(16,\)"):
        solver(A, b, x0=np.ones((16, 1)))
    with pytest.raises(ValueError, match="`b` must be finite"):
        solver(A, np.r_[np.ones(15), np.nan])
    with pytest.raises(ValueError, match="`x0` must be finite"):
        solver(A, b, x0=np.r_[np.ones(15), np.inf])
    for w in (0.0, 2.0, -1.0, 2.5, np.nan):
        with pytest.raises(ValueError, match=r"`omega` must be a finite float in \(0, 2\)"):
            solver(A, b, omega=w)
    with pytest.raises(ValueError, match="`rtol`"):
        solver(A, b, rtol=-1.0)
    with pytest.raises(ValueError, match="`maxiter`"):
        solver(A, b, maxiter=-1)
    with pytest.raises(TypeError, match="`maxiter`"):
        solver(A, b, maxiter=10.5)
    with pytest.raises(ValueError, match="`norm` must be one of 'r0', 'b'; got 'x'"):
        solver(A, b, norm="x")
    with pytest.raises(TypeError, match="`callback` must be callable"):
        solver(A, b, callback=3)
    with pytest.raises(TypeError, match="`b` must be real"):
        solver(A, b + 1j)


def test_sor_specific_options():
    with pytest.raises(ValueError, match="`sweep` must be one of 'forward', 'backward', "
                                         "'symmetric'; got 'sideways'"):
        nf.sor(A, b, sweep="sideways")
    with pytest.raises(ValueError, match="`divtol`"):
        nf.sor(A, b, divtol=0.0)


def test_ssor_cg_symmetry_and_options():
    N = A.toarray()
    N[0, 1] += 0.5
    with pytest.raises(ValueError, match="`A` must be symmetric for SSOR-CG"):
        nf.ssor_cg(N, b)
    with pytest.warns(RuntimeWarning, match="symmetric"):
        nf.ssor_cg(N, b, check_symmetry="warn", maxiter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nf.ssor_cg(N, b, check_symmetry=False, maxiter=5)
    with pytest.raises(ValueError, match="`order` must be one of 'fb', 'bf'"):
        nf.ssor_cg(A, b, order="ff")
    with pytest.raises(ValueError, match="`check_symmetry`"):
        nf.ssor_cg(A, b, check_symmetry="maybe")


def test_sor_sweep_and_prepare_errors():
    x = np.zeros(16)
    with pytest.raises(TypeError, match="`x` must be a writeable C-contiguous float64"):
        sor_sweep(A, np.zeros(16, dtype=np.float32), b, 1.0)
    with pytest.raises(TypeError, match="`x`"):
        sor_sweep(A, [0.0] * 16, b, 1.0)
    with pytest.raises(ValueError, match="`omega`"):
        sor_sweep(A, x, b, 2.0)
    with pytest.raises(ValueError, match="`iterations`"):
        sor_sweep(A, x, b, 1.0, iterations=-1)
    with pytest.raises(ValueError, match="`sweep`"):
        sor_sweep(A, x, b, 1.0, sweep="up")
    with pytest.raises(ValueError, match="`b` must be finite"):
        sor_sweep(A, x, np.full(16, np.nan), 1.0)
    with pytest.raises(TypeError, match="`A` must be a numeric matrix"):
        prepare(np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(ValueError, match="at least one row"):
        prepare(np.zeros((0, 0)))


def test_policy_errors():
    for bad, exc, msg in [([1.0], ValueError, "at least 2 points"),
                          ([1.0, 2.0], ValueError, r"in \(0, 2\); got 2.0"),
                          ([0.0, 1.0], ValueError, r"in \(0, 2\); got 0.0"),
                          ([1.5, 1.2], ValueError, "strictly increasing"),
                          ([1.0, np.nan], ValueError, r"in \(0, 2\)"),
                          ("fine", ValueError, "`grid` must be one of 'paper', 'log'"),
                          ([1 + 1j, 1.5], TypeError, "real")]:
        with pytest.raises(exc, match=msg):
            TsallisINF(bad)
    with pytest.raises(ValueError, match="`eta`"):
        TsallisINF(eta="fast")
    with pytest.raises(ValueError, match="`horizon` must be given"):
        TsallisINF(eta="horizon")
    with pytest.raises(ValueError, match="`scale`"):
        TsallisINF(scale=-1.0)
    with pytest.raises(ValueError, match="`estimator`"):
        TsallisINF(estimator="dr")
    with pytest.raises(TypeError, match="`rng`"):
        TsallisINF(rng="seed")
    pol = TsallisINF()
    with pytest.raises(RuntimeError, match="without a preceding select"):
        pol.update(3)
    pol.select()
    with pytest.raises(RuntimeError, match="select\\(\\) called twice"):
        pol.select()
    with pytest.raises(ValueError, match="`cost`"):
        pol.update(np.nan)
    with pytest.raises(ValueError, match="`context_range` must be given"):
        ChebCB("paper")
    with pytest.raises(ValueError, match="c_lo < c_hi"):
        BinnedTsallisINF("paper", (1.0, 0.0))
    with pytest.raises(ValueError, match="`m`"):
        ChebCB("paper", (0, 1), m=0)
    with pytest.raises(ValueError, match="`bins`"):
        BinnedTsallisINF("paper", (0, 1), bins=0)


@pytest.mark.parametrize("cls", [ChebCB, BinnedTsallisINF])
def test_context_checks(cls):
    pol = cls("paper", (0.0, 1.0), rng=0)
    with pytest.raises(ValueError, match="`context` is required"):
        pol.select()
    with pytest.raises(ValueError, match="`context` must be a finite float"):
        pol.select(np.nan)
    with pytest.warns(ContextRangeWarning, match="outside the declared range"):
        pol.select(1.5)
    pol.update(10)
    with warnings.catch_warnings():          # warned once only
        warnings.simplefilter("error")
        pol.select(-3.0)
    pol.update(10)
    strict = cls("paper", (0.0, 1.0), out_of_range="raise")
    with pytest.raises(ValueError, match=r"`context` must be in the declared range \[0, 1\]"):
        strict.select(1.5)


def test_tuner_errors():
    with pytest.raises(ValueError, match="`policy` must be one of 'tsallis', 'binned', "
                                         "'chebcb'"):
        RelaxationTuner("ucb")
    with pytest.raises(ValueError, match="`solver` must be one of 'sor', 'ssor_cg'"):
        RelaxationTuner(solver="jacobi")
    with pytest.raises(ValueError, match="`context_range` must be given"):
        RelaxationTuner("chebcb")
    with pytest.raises(ValueError, match="`safe_omega`"):
        RelaxationTuner(safe_omega=2.0)
    with pytest.raises(ValueError, match="`solver_options` key 'order'"):
        RelaxationTuner(solver="sor", solver_options={"order": "fb"})
    with pytest.raises(ValueError, match="`grid`"):
        RelaxationTuner(grid=[1.0, 2.0])
    tuner = RelaxationTuner("chebcb", grid="paper", context_range=(0, 1), rng=0)
    with pytest.raises(ValueError, match="`context` is required"):
        tuner.solve(A, b)
    with pytest.raises(ValueError, match="`b` must have shape"):
        tuner.solve(A, np.ones(3), context=0.5)
    with pytest.raises(ValueError, match="`context` must be a finite float"):
        tuner.solve(A, b, context=np.inf)
    N = A.toarray()
    N[0, 1] = 3.0
    with pytest.raises(ValueError, match="symmetric"):
        RelaxationTuner(solver="ssor_cg", grid="paper").solve(N, b)


def test_sequence_errors():
    with pytest.raises(ValueError, match="`variance` must be one of 'low', 'high'"):
        shifted_laplacian_sequence(3, variance="mid")
    with pytest.raises(ValueError, match="`T`"):
        shifted_laplacian_sequence(-1)
    with pytest.raises(ValueError, match="`nx`"):
        HeatEquation2D(1)
    with pytest.raises(ValueError, match="`context` must be one of 'mid', 'start'"):
        HeatEquation2D(5, context="end")
    seq = HeatEquation2D(5, t_end=0.003)
    it = iter(seq)
    sysm = next(it)
    with pytest.raises(RuntimeError, match="advance"):
        next(it)
    with pytest.raises(ValueError, match="`x` must be a finite vector"):
        seq.advance(np.ones(3))
    seq.advance(sysm.x0)
    with pytest.raises(RuntimeError, match="without a pending"):
        seq.advance(sysm.x0)
