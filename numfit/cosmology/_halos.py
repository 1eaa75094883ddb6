"""Dimensionless projected profiles of the NFW and Hernquist haloes.

All functions take the projected radius in units of the scale radius, ``X = R / r_s``,
and return the dimensionless surface density ``Σ̂(X)``, the projected (cylinder) mass
``M̂(X)``, the mean surface density inside ``X``, ``Σ̄̂(<X) = 2 M̂ / X²``, or the excess
surface density ``ΔΣ̂(X) = Σ̄̂(<X) − Σ̂(X)`` used in weak lensing.  With the density
profile ``ρ(r) = ρ_s ρ̂(r / r_s)`` the dimensional quantities are ``Σ = ρ_s r_s Σ̂``,
``M_cyl = 2π ρ_s r_s³ M̂`` and ``ΔΣ = ρ_s r_s ΔΣ̂``.

Definitions::

    Σ̂(X) = 2 ∫_0^∞ ρ̂(√(X² + z²)) dz,     M̂(X) = ∫_0^X Σ̂(X') X' dX',
    NFW:       ρ̂(x) = 1 / (x (1 + x)²),   Hernquist: ρ̂(x) = 1 / (x (1 + x)³).

Numerics
--------
Everything is written in terms of ``u = X² − 1`` and the auxiliary function

    F(X) = atan(s) / s     with s = √(X² − 1)   (X > 1),
    F(X) = atanh(s) / s    with s = √(1 − X²)   (X < 1),      F(1) = 1,

which is analytic in ``u``: ``F = Σ_k (−u)^k / (2k + 1)``.  The closed forms lose
accuracy near ``X = 1`` (``1 − F = O(u)`` and, for Hernquist, ``(3 + u) F − 3 = O(u²)``)
and, for the NFW mass, at small ``X`` (``F + ln(X/2) = O(X² ln X)``).  Hence

* on the window ``0.7 <= X <= 1.2`` (``u`` in [−0.51, 0.44]) the NFW and Hernquist
  surface densities and the Hernquist excess density are summed from their Taylor
  series in ``u``, whose coefficients are exact rationals (``2 (−1)^j / (2j + 3)``,
  ``4 (−1)^j (j + 1) / (4 (j + 2)² − 1)`` and ``6 (−1)^j / ((2j + 3)(2j + 5))``), with
  enough terms (56) that truncation is below 1e-16; the window is wide because the
  Hernquist closed form errs by about ``3e-15 / u²`` relative just outside it;
* for ``X < 0.8`` the NFW mass, mean and excess surface density use rearrangements in
  ``s = √(1 − X²)``, ``w = (1 − s) / 2`` and ``ln(2 / X)`` in which the leading
  logarithms cancel analytically;
* ``F`` itself uses ``atan`` for X > 1, ``log1p`` for 0.5 <= X < 1 and
  ``ln(2/X) + log1p(−w)`` for smaller X, each free of cancellation, and divisions by
  ``u`` are done as ``/(X − 1)/(X + 1)`` so that no intermediate overflows for any
  finite X.

The result is accurate to about 1e-14 (relative) or better for every function on
``[1e-6, 1e6]``; see the tests for the measured bounds.
"""
from fractions import Fraction

import numpy as np

from .._validation import check_real_array

__all__ = [
    "nfw_sigma_hat",
    "nfw_mass_hat",
    "nfw_mean_sigma_hat",
    "nfw_delta_sigma_hat",
    "hernquist_sigma_hat",
    "hernquist_mass_hat",
    "hernquist_mean_sigma_hat",
    "hernquist_delta_sigma_hat",
]

_LN2 = 0.6931471805599453

# Series window around X = 1: u = X² − 1 lies in [−0.51, 0.44] there.
_X_WIN_LO = 0.7
_X_WIN_HI = 1.2
# Terms kept in the u-series: |u| <= 0.51 needs 53 for a tail below 3e-17 relative.
_N_TERMS = 56
# Below _X_SMALL the NFW mass / mean / ΔΣ use their small-X rearrangements (measured
# to beat the direct forms up to X ≈ 0.85); below _X_SMALL_F, F uses ln(2/X) + log1p(−w).
_X_SMALL = 0.8
_X_SMALL_F = 0.5
# phi(w) = −log1p(−w)/w is summed from its series below this w (i.e. X below ≈ 0.02).
_W_TINY = 1e-4

# Σ̂_NFW(X) = 2 (1 − F) / u = Σ_j 2 (−1)^j / (2j + 3) u^j.
_SIGMA_NFW_COEF = tuple(float(Fraction(2 * (-1) ** j, 2 * j + 3)) for j in range(_N_TERMS))
# Σ̂_Hern(X) = ((3 + u) F − 3) / u² = Σ_j 4 (−1)^j (j + 1) / (4 (j + 2)² − 1) u^j.
_SIGMA_HERN_COEF = tuple(float(Fraction(4 * (-1) ** j * (j + 1), 4 * (j + 2) ** 2 - 1))
                         for j in range(_N_TERMS))
# ΔΣ̂_Hern = Σ̂_NFW − Σ̂_Hern = Σ_j 6 (−1)^j / ((2j + 3)(2j + 5)) u^j (exact difference).
_DELTA_HERN_COEF = tuple(float(Fraction(6 * (-1) ** j, (2 * j + 3) * (2 * j + 5)))
                         for j in range(_N_TERMS))


# ----------------------------------------------------------------------------- helpers

def _as_x(X):
    """X as a float64 array of finite values > 0 (scalars stay 0-d)."""
    return check_real_array("X", X, lo=0.0, lo_open=True)


def _apply(X, kernel):
    """Evaluate ``kernel`` (1-D float64 array -> array) elementwise over ``X``."""
    x = _as_x(X)
    with np.errstate(under="ignore"):
        out = kernel(x.ravel()).reshape(x.shape)
    return out[()] if out.ndim == 0 else out


def _horner(coef, u):
    """Evaluate ``Σ_j coef[j] u^j`` by Horner's rule."""
    acc = np.full_like(u, coef[-1])
    for c in coef[-2::-1]:
        acc = acc * u + c
    return acc


def _in_window(x):
    """Mask of the Taylor-series window around X = 1."""
    return (x >= _X_WIN_LO) & (x <= _X_WIN_HI)


def _small_parts(x):
    """Cancellation-free pieces for X < 1.

    Returns ``s2 = 1 − X²``, ``s = √s2``, ``w = (1 − s)/2 = X² / (2 (1 + s))``,
    ``phi = −log1p(−w) / w`` (so ``ln((1 + s)/2) = −w·phi``) and ``L2 = ln(2/X)``.
    """
    s2 = (1.0 - x) * (1.0 + x)
    s = np.sqrt(s2)
    w = x * x / (2.0 * (1.0 + s))
    tiny = w < _W_TINY
    phi = np.empty_like(w)
    wt = w[tiny]
    phi[tiny] = 1.0 + wt * (0.5 + wt * (1.0 / 3.0 + wt * (0.25 + wt * 0.2)))
    wb = w[~tiny]
    phi[~tiny] = -np.log1p(-wb) / wb
    L2 = _LN2 - np.log(x)
    return s2, s, w, phi, L2


def _aux_f(x):
    """The auxiliary F(X) (see the module docstring), elementwise."""
    F = np.ones_like(x)
    m = x > 1.0
    if m.any():
        xm = x[m]
        s = np.sqrt(xm - 1.0) * np.sqrt(xm + 1.0)
        F[m] = np.arctan(s) / s
    m = (x >= _X_SMALL_F) & (x < 1.0)
    if m.any():
        xm = x[m]
        s = np.sqrt((1.0 - xm) * (1.0 + xm))
        # atanh(s) = ln((1 + s)/X) = log1p((1 − X + s)/X)
        F[m] = np.log1p((1.0 - xm + s) / xm) / s
    m = x < _X_SMALL_F
    if m.any():
        _, s, w, _, L2 = _small_parts(x[m])
        F[m] = (L2 + np.log1p(-w)) / s
    return F


# ------------------------------------------------------------------------------ kernels

def _sigma_nfw(x):
    out = np.empty_like(x)
    win = _in_window(x)
    xw = x[win]
    out[win] = _horner(_SIGMA_NFW_COEF, (xw - 1.0) * (xw + 1.0))
    xo = x[~win]
    out[~win] = 2.0 * (1.0 - _aux_f(xo)) / (xo - 1.0) / (xo + 1.0)
    return out


def _mean_nfw_small(x):
    """Σ̄̂_NFW for X < 1 as 4 (ln(2/X) − φ/2) / (s (1 + s)), free of the log cancellation."""
    _, s, _, phi, L2 = _small_parts(x)
    return 4.0 * (L2 - 0.5 * phi) / (s * (1.0 + s))


def _mean_sigma_nfw(x):
    out = np.empty_like(x)
    sm = x < _X_SMALL
    out[sm] = _mean_nfw_small(x[sm])
    xb = x[~sm]
    p = _aux_f(xb) + np.log(0.5 * xb)
    out[~sm] = 4.0 * p / xb / xb
    return out


def _mass_nfw(x):
    out = np.empty_like(x)
    sm = x < _X_SMALL
    xs = x[sm]
    out[sm] = 0.5 * _mean_nfw_small(xs) * xs * xs
    xb = x[~sm]
    out[~sm] = 2.0 * (_aux_f(xb) + np.log(0.5 * xb))
    return out


def _delta_sigma_nfw(x):
    out = np.empty_like(x)
    sm = x < _X_SMALL
    xs = x[sm]
    # ΔΣ̂ = [2 − 2 s (φ − 1) − 2 X² L2 / (1 + s) − 2 X² (L2 − φ/2) / s] / (s² (1 + s)):
    # the ln(2/X) terms of Σ̄̂ and Σ̂ cancel analytically.
    s2, s, _, phi, L2 = _small_parts(xs)
    x2 = xs * xs
    num = (2.0 - 2.0 * s * (phi - 1.0) - 2.0 * x2 * L2 / (1.0 + s)
           - 2.0 * x2 * (L2 - 0.5 * phi) / s)
    out[sm] = num / (s2 * (1.0 + s))
    xb = x[~sm]
    out[~sm] = _mean_sigma_nfw(xb) - _sigma_nfw(xb)
    return out


def _sigma_hern(x):
    out = np.empty_like(x)
    win = _in_window(x)
    xw = x[win]
    out[win] = _horner(_SIGMA_HERN_COEF, (xw - 1.0) * (xw + 1.0))
    xo = x[~win]
    a, b = xo - 1.0, xo + 1.0
    F = _aux_f(xo)
    sig_nfw = 2.0 * (1.0 - F) / a / b
    # ((2 + X²) F − 3) / u² = (F − 3 (1 − F) / u) / u
    out[~win] = (F - 1.5 * sig_nfw) / a / b
    return out


def _mass_hern(x):
    out = np.empty_like(x)
    win = _in_window(x)
    xw = x[win]
    out[win] = 0.5 * xw * xw * _horner(_SIGMA_NFW_COEF, (xw - 1.0) * (xw + 1.0))
    xo = x[~win]
    a, b = xo - 1.0, xo + 1.0
    out[~win] = (1.0 - _aux_f(xo)) * (xo / a) * (xo / b)
    return out


def _delta_sigma_hern(x):
    out = np.empty_like(x)
    win = _in_window(x)
    xw = x[win]
    out[win] = _horner(_DELTA_HERN_COEF, (xw - 1.0) * (xw + 1.0))
    xo = x[~win]
    a, b = xo - 1.0, xo + 1.0
    F = _aux_f(xo)
    one_m_f = 1.0 - F
    sig_nfw = 2.0 * one_m_f / a / b
    two_mass = 2.0 * one_m_f * (xo / a) * (xo / b)       # = X² Σ̂_NFW
    # Σ̂_NFW − Σ̂_Hern = (X² Σ̂_NFW + Σ̂_NFW / 2 − F) / u
    out[~win] = (two_mass + 0.5 * sig_nfw - F) / a / b
    return out


# ---------------------------------------------------------------------- public functions

def nfw_sigma_hat(X):
    r"""Dimensionless surface density of the NFW profile.

    Parameters
    ----------
    X : array_like
        Projected radius in units of the scale radius, ``X = R / r_s``; every element
        must be finite and > 0.

    Returns
    -------
    numpy.ndarray or numpy.float64
        ``Σ̂_NFW(X)``, same shape as ``X`` (a scalar for scalar input).

    Raises
    ------
    ValueError
        If any element of ``X`` is <= 0, NaN or infinite.
    TypeError
        If ``X`` is not real-valued (e.g. a string).

    Notes
    -----
    For ``ρ̂(x) = 1 / (x (1 + x)²)``,

    .. math:: \hat\Sigma(X) = 2 \int_0^\infty \hat\rho(\sqrt{X^2 + z^2})\,dz
              = \frac{2 (1 - F(X))}{X^2 - 1}, \qquad \hat\Sigma(1) = 2/3,

    with ``F(X) = atan(√(X²−1))/√(X²−1)`` for X > 1 and ``atanh(√(1−X²))/√(1−X²)``
    for X < 1.  Near ``X = 1`` (0.7 <= X <= 1.2) the exact Taylor series
    ``Σ_j 2 (−1)^j u^j / (2j + 3)`` in ``u = X² − 1`` is summed instead.

    Examples
    --------
    >>> from numfit.cosmology import nfw_sigma_hat
    >>> float(nfw_sigma_hat(1.0))
    0.6666666666666666
    >>> [round(float(v), 12) for v in nfw_sigma_hat([0.5, 2.0])]
    [1.388511980272, 0.263600141281]
    """
    return _apply(X, _sigma_nfw)


def nfw_mass_hat(X):
    r"""Dimensionless projected NFW mass inside the cylinder of radius ``X``.

    Parameters
    ----------
    X : array_like
        Projected radius in units of the scale radius, ``X = R / r_s``; every element
        must be finite and > 0.

    Returns
    -------
    numpy.ndarray or numpy.float64
        ``M̂_NFW(X)``, same shape as ``X``; the dimensional mass is
        ``2π ρ_s r_s³ M̂``.

    Raises
    ------
    ValueError
        If any element of ``X`` is <= 0, NaN or infinite.
    TypeError
        If ``X`` is not real-valued.

    Notes
    -----
    .. math:: \hat M(X) = \int_0^X \hat\Sigma(X') X'\,dX'
              = 2 \left(F(X) + \ln\frac{X}{2}\right), \qquad \hat M(1) = 2(1 - \ln 2).

    For ``X < 0.8``, where ``F + ln(X/2) = O(X² ln X)`` cancels, the equivalent form
    ``2 X² (ln(2/X) − φ/2) / (s (1 + s))`` with ``s = √(1 − X²)``,
    ``w = X² / (2 (1 + s))`` and ``φ = −log1p(−w)/w`` is used.

    Examples
    --------
    >>> from numfit.cosmology import nfw_mass_hat
    >>> import math
    >>> math.isclose(float(nfw_mass_hat(1.0)), 2 * (1 - math.log(2)), rel_tol=1e-15)
    True
    >>> float(nfw_mass_hat(1e-3))  # ≈ X² (ln(2/X) − 1/2)
    7.100907722723293e-06
    """
    return _apply(X, _mass_nfw)


def nfw_mean_sigma_hat(X):
    r"""Dimensionless mean NFW surface density inside ``X``, ``Σ̄̂(<X) = 2 M̂ / X²``.

    Parameters
    ----------
    X : array_like
        Projected radius in units of the scale radius, ``X = R / r_s``; every element
        must be finite and > 0.

    Returns
    -------
    numpy.ndarray or numpy.float64
        ``Σ̄̂_NFW(<X)``, same shape as ``X``.

    Raises
    ------
    ValueError
        If any element of ``X`` is <= 0, NaN or infinite.
    TypeError
        If ``X`` is not real-valued.

    Notes
    -----
    .. math:: \bar{\hat\Sigma}(<X) = \frac{2 \hat M(X)}{X^2}
              = \frac{4}{X^2}\left(F(X) + \ln\frac{X}{2}\right),

    evaluated for ``X < 0.8`` as ``4 (ln(2/X) − φ/2) / (s (1 + s))`` (see
    :func:`nfw_mass_hat`), which never forms ``X²``.

    Examples
    --------
    >>> from numfit.cosmology import nfw_mean_sigma_hat
    >>> import math
    >>> math.isclose(float(nfw_mean_sigma_hat(1.0)), 4 * (1 - math.log(2)), rel_tol=1e-15)
    True
    """
    return _apply(X, _mean_sigma_nfw)


def nfw_delta_sigma_hat(X):
    r"""Dimensionless NFW excess surface density ``ΔΣ̂ = Σ̄̂(<X) − Σ̂(X)``.

    Parameters
    ----------
    X : array_like
        Projected radius in units of the scale radius, ``X = R / r_s``; every element
        must be finite and > 0.

    Returns
    -------
    numpy.ndarray or numpy.float64
        ``ΔΣ̂_NFW(X)``, same shape as ``X``; ``ΔΣ = ρ_s r_s ΔΣ̂`` is the weak-lensing
        observable.

    Raises
    ------
    ValueError
        If any element of ``X`` is <= 0, NaN or infinite.
    TypeError
        If ``X`` is not real-valued.

    Notes
    -----
    .. math:: \Delta\hat\Sigma(X) = \frac{4}{X^2}\left(F + \ln\frac{X}{2}\right)
              - \frac{2 (1 - F)}{X^2 - 1}.

    Both terms grow like ``2 ln(2/X)`` as ``X → 0`` while ``ΔΣ̂ → 1``; for ``X < 0.8``
    the logarithms are cancelled analytically:

    .. math:: \Delta\hat\Sigma = \frac{2 - 2 s (\varphi - 1)
              - 2 X^2 L / (1 + s) - 2 X^2 (L - \varphi/2) / s}{s^2 (1 + s)},

    with ``L = ln(2/X)``, ``s = √(1 − X²)``, ``w = X²/(2(1 + s))`` and
    ``φ = −log1p(−w)/w``.

    Examples
    --------
    >>> from numfit.cosmology import nfw_delta_sigma_hat
    >>> import math
    >>> math.isclose(float(nfw_delta_sigma_hat(1.0)), 4 * (1 - math.log(2)) - 2 / 3,
    ...              rel_tol=1e-15)
    True
    >>> round(float(nfw_delta_sigma_hat(1e-6)), 14)  # → 1 as X → 0
    0.99999999997986
    """
    return _apply(X, _delta_sigma_nfw)


def hernquist_sigma_hat(X):
    r"""Dimensionless surface density of the Hernquist profile.

    Parameters
    ----------
    X : array_like
        Projected radius in units of the scale radius, ``X = R / r_s``; every element
        must be finite and > 0.

    Returns
    -------
    numpy.ndarray or numpy.float64
        ``Σ̂_Hern(X)``, same shape as ``X``.

    Raises
    ------
    ValueError
        If any element of ``X`` is <= 0, NaN or infinite.
    TypeError
        If ``X`` is not real-valued.

    Notes
    -----
    For ``ρ̂(x) = 1 / (x (1 + x)³)``,

    .. math:: \hat\Sigma(X) = \frac{(2 + X^2) F(X) - 3}{(X^2 - 1)^2},
              \qquad \hat\Sigma(1) = 4/15.

    The numerator vanishes to second order at ``X = 1``, so for 0.7 <= X <= 1.2 the
    exact series ``Σ_j 4 (−1)^j (j + 1) u^j / (4 (j + 2)² − 1)`` in ``u = X² − 1`` is
    summed; elsewhere the closed form is evaluated as
    ``(F − 3 (1 − F)/u) / u``.

    Examples
    --------
    >>> from numfit.cosmology import hernquist_sigma_hat
    >>> float(hernquist_sigma_hat(1.0))
    0.26666666666666666
    """
    return _apply(X, _sigma_hern)


def hernquist_mass_hat(X):
    r"""Dimensionless projected Hernquist mass inside the cylinder of radius ``X``.

    Parameters
    ----------
    X : array_like
        Projected radius in units of the scale radius, ``X = R / r_s``; every element
        must be finite and > 0.

    Returns
    -------
    numpy.ndarray or numpy.float64
        ``M̂_Hern(X)``, same shape as ``X``; it tends to ``1`` (total mass
        ``2π ρ_s r_s³``) as ``X → ∞``.

    Raises
    ------
    ValueError
        If any element of ``X`` is <= 0, NaN or infinite.
    TypeError
        If ``X`` is not real-valued.

    Notes
    -----
    .. math:: \hat M(X) = \int_0^X \hat\Sigma(X') X'\,dX'
              = \frac{X^2 (1 - F(X))}{X^2 - 1} = \frac{X^2}{2}\hat\Sigma_{NFW}(X),
              \qquad \hat M(1) = 1/3.

    Examples
    --------
    >>> from numfit.cosmology import hernquist_mass_hat
    >>> float(hernquist_mass_hat(1.0))
    0.3333333333333333
    """
    return _apply(X, _mass_hern)


def hernquist_mean_sigma_hat(X):
    r"""Dimensionless mean Hernquist surface density inside ``X``.

    Parameters
    ----------
    X : array_like
        Projected radius in units of the scale radius, ``X = R / r_s``; every element
        must be finite and > 0.

    Returns
    -------
    numpy.ndarray or numpy.float64
        ``Σ̄̂_Hern(<X) = 2 M̂_Hern / X²``, same shape as ``X``.

    Raises
    ------
    ValueError
        If any element of ``X`` is <= 0, NaN or infinite.
    TypeError
        If ``X`` is not real-valued.

    Notes
    -----
    .. math:: \bar{\hat\Sigma}(<X) = \frac{2 \hat M(X)}{X^2}
              = \frac{2 (1 - F(X))}{X^2 - 1},

    which is identical to the NFW surface density :func:`nfw_sigma_hat`.

    Examples
    --------
    >>> from numfit.cosmology import hernquist_mean_sigma_hat, nfw_sigma_hat
    >>> float(hernquist_mean_sigma_hat(1.0))
    0.6666666666666666
    >>> bool(hernquist_mean_sigma_hat(3.0) == nfw_sigma_hat(3.0))
    True
    """
    return _apply(X, _sigma_nfw)


def hernquist_delta_sigma_hat(X):
    r"""Dimensionless Hernquist excess surface density ``ΔΣ̂ = Σ̄̂(<X) − Σ̂(X)``.

    Parameters
    ----------
    X : array_like
        Projected radius in units of the scale radius, ``X = R / r_s``; every element
        must be finite and > 0.

    Returns
    -------
    numpy.ndarray or numpy.float64
        ``ΔΣ̂_Hern(X)``, same shape as ``X``.

    Raises
    ------
    ValueError
        If any element of ``X`` is <= 0, NaN or infinite.
    TypeError
        If ``X`` is not real-valued.

    Notes
    -----
    .. math:: \Delta\hat\Sigma(X) = \frac{2(1 - F)}{X^2 - 1}
              - \frac{(2 + X^2) F - 3}{(X^2 - 1)^2}
              = \frac{1 + 2X^2 - 3X^2 F}{(X^2 - 1)^2},
              \qquad \Delta\hat\Sigma(1) = 2/5,

    evaluated as ``(X² Σ̂_NFW + Σ̂_NFW/2 − F)/u`` away from ``X = 1`` (no cancellation
    as ``X → 0``, where ``ΔΣ̂ → 1``) and, on 0.7 <= X <= 1.2, as the exact series
    ``Σ_j 6 (−1)^j u^j / ((2j + 3)(2j + 5))``.

    Examples
    --------
    >>> from numfit.cosmology import hernquist_delta_sigma_hat
    >>> float(hernquist_delta_sigma_hat(1.0))
    0.4
    """
    return _apply(X, _delta_sigma_hern)
