"""The AutoKnots benchmark family and the dense check of the tolerance.

Functions a cosmologist tabulates (analytic special functions, transfer functions and
profiles in log-log, BAO wiggles, fronts, limited smoothness, chirps, integral-defined
functions, endpoint singularities), used by numfit's tests, benchmarks, demo and docs to
verify that a table meets ``|f - s| <= rtol |f| + atol`` everywhere on ``[a, b]``.

:func:`check_points` is the dense check grid and :func:`error_ratio` the verified error
(max of ``|f - s| / (rtol |f| + atol)``; ``<= 1`` means the promise holds on the grid).
"""
from dataclasses import dataclass, field

import numpy as np
from scipy import special

__all__ = ["Member", "FAMILY", "member", "check_points", "error_ratio"]

_MAPS = {"linear": (lambda x: x, lambda u: u), "log": (np.log, np.exp),
         "asinh": (np.arcsinh, np.sinh)}


def _u_map(s):
    return _MAPS["log" if s.space == "loglog" else s.knots_map]


def check_points(s, n=100_000, n_end=400):
    """The dense check grid of a table ``s`` (either kind), in ``x``, sorted.

    ``n`` points uniform in the knot variable ``u``, the 1/4, 1/2 and 3/4 points (in ``u``)
    of every knot interval or piece, and ``n_end`` points clustered geometrically toward
    each end (distances ``1e-14 .. 1`` of the span in ``u``).
    """
    U, inv = _u_map(s)
    u = np.asarray(s.u)
    ua, ub = u[0], u[-1]
    g = np.geomspace(1e-14, 1.0, n_end) * (ub - ua)
    du = np.diff(u)
    uu = np.concatenate([np.linspace(ua, ub, n), ua + g, ub - g]
                        + [u[:-1] + fr * du for fr in (0.25, 0.5, 0.75)])
    a, b = s.interval
    return np.unique(np.clip(inv(uu), a, b))


def error_ratio(s, f, n=100_000, *, where=False):
    """Verified error of a table: ``max |f - s| / (rtol |f| + atol)`` on :func:`check_points`.

    In log-log space the tolerance is on ``ln f``: ``|ln s - ln f| / (rtol + atol / f)``.
    With ``where=True`` returns ``(ratio, x_worst)``.
    """
    x = check_points(s, n)
    fx = np.asarray(f(x), dtype=float)
    sx = np.asarray(s(x), dtype=float)
    if s.space == "loglog":
        r = np.abs(np.log(sx) - np.log(fx)) / (s.rtol + s.atol / fx)
    else:
        r = np.abs(sx - fx) / (s.rtol * np.abs(fx) + s.atol)
    if r.ndim > 1:
        r = r.max(axis=tuple(range(1, r.ndim)))
    i = int(np.nanargmax(r))
    return (float(r[i]), float(x[i])) if where else float(r[i])


# --------------------------------------------------------------------------- members
def _bbks(k):
    """BBKS-like linear P(k) shape (h/Mpc): k T(k)^2 with Gamma = 0.2."""
    q = k / 0.2
    T = (np.log(1 + 2.34 * q) / (2.34 * q)
         * (1 + 3.89 * q + (16.1 * q) ** 2 + (5.46 * q) ** 3 + (6.71 * q) ** 4) ** -0.25)
    return 2e4 * k * T ** 2


def _bao(k):
    """BBKS times baryon acoustic wiggles (sound horizon 147 Mpc/h) with Silk damping
    exp(-(k / k_silk)^1.4), k_silk = 0.13 h/Mpc (Eisenstein & Hu 1998 form)."""
    return _bbks(k) * (1 + 0.06 * np.sin(147.0 * k) * np.exp(-(k / 0.13) ** 1.4))


def _tnfw(x):
    """Truncated NFW density (Baltz-Marshall-Oguri, tau = 100) over 8 decades."""
    return 1.0 / (x * (1 + x) ** 2) * (1e4 / (1e4 + x * x)) ** 2


_GL_X, _GL_W = np.polynomial.legendre.leggauss(48)


def _comoving(z):
    """Comoving distance integral int_0^z dz'/E(z') (flat LCDM, Om = 0.3), by 48-point
    Gauss-Legendre: an integral-defined f."""
    z = np.asarray(z, dtype=float)
    zz = 0.5 * z[..., None] * (_GL_X + 1)
    E = np.sqrt(0.3 * (1 + zz) ** 3 + 0.7)
    return 0.5 * z * np.sum(_GL_W / E, axis=-1)


def _x2logx(x):
    d = x - 0.2
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1.0 + np.where(d == 0, 0.0, d * d * np.log(np.abs(d)))


@dataclass(frozen=True)
class Member:
    """One benchmark function: ``f`` on ``[a, b]`` with the options a user would pass."""
    name: str
    f: object
    a: float
    b: float
    kind: str                         # analytic, cosmology, front, limited, chirp, ...
    smooth: bool                      # analytic on [a, b] (for the evaluation-count bars)
    kw: dict = field(default_factory=dict)   # space / knots
    atol_factor: float = 0.0          # atol = atol_factor * rtol

    def options(self, rtol):
        """Keyword arguments of ``autoknots`` at ``rtol``."""
        return dict(rtol=rtol, atol=self.atol_factor * rtol, **self.kw)


FAMILY = (
    Member("bessel_j0", special.j0, 0.0, 50.0, "analytic", True, atol_factor=1.0),
    Member("runge", lambda x: 1 / (1 + 25 * x * x), -1.0, 1.0, "analytic", True),
    Member("damped_tanh", lambda x: 3 + np.exp(-1.3 * x) * np.sin(6.1 * x + 0.7)
           + 0.8 * np.tanh(x - 1), 0.0, 3.0, "analytic", True),
    Member("bbks_pk", _bbks, 1e-4, 1e2, "cosmology", True, dict(space="loglog")),
    Member("bao_pk", _bao, 1e-4, 10.0, "cosmology", True, dict(space="loglog")),
    Member("truncated_nfw", _tnfw, 1e-4, 1e4, "cosmology", True, dict(space="loglog")),
    Member("tanh_front", lambda x: 2 + np.tanh((x - 0.3) / 0.01), 0.0, 1.0, "front", True),
    Member("abs_pow_2.5", lambda x: 1 + np.abs(x - 1 / 3) ** 2.5, -1.0, 1.0, "limited",
           False),
    Member("x2_log_x", _x2logx, -1.0, 1.0, "limited", False),
    Member("chirp", lambda x: np.sin(x * x), 0.0, 20.0, "chirp", True, atol_factor=1.0),
    Member("comoving", _comoving, 0.01, 10.0, "integral", True, dict(knots="log")),
    Member("sqrt", np.sqrt, 0.0, 1.0, "singular", False, atol_factor=1.0),
    Member("cbrt_exp", lambda x: np.cbrt(x) * np.exp(-x), 0.0, 2.0, "singular", False,
           atol_factor=1.0),
)


def member(name):
    """The family member called ``name``."""
    for m in FAMILY:
        if m.name == name:
            return m
    raise KeyError(f"no family member {name!r}; choose from {[m.name for m in FAMILY]}")
