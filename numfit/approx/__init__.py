"""Weighted least squares with optimal, DPP and volume sampling.

Nouy & Michel, *Weighted least-squares approximation with determinantal point processes and
generalized volume sampling*, arXiv:2312.14057; see docs/wls.md.

``PolynomialSpace`` describes V_m, ``sample_points`` draws a weighted design without
evaluating f, and ``wls`` evaluates f once per point and solves one weighted least-squares
problem by QR.
"""
from ._kernels import SamplingError
from ._sample import METHODS, WeightedSample, c_delta, d_delta, n_iid, sample_points
from ._space import PolynomialSpace
from ._wls import PolynomialExpansion, WLSResult, best_approximation, quadrature, wls

__all__ = ["METHODS", "PolynomialExpansion", "PolynomialSpace", "SamplingError",
           "WLSResult", "WeightedSample", "best_approximation", "c_delta", "d_delta", "n_iid",
           "quadrature", "sample_points", "wls"]
