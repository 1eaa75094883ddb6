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

from ._maps import MAPS as _MAPS

__all__ = ["Member", "FAMILY", "member", "check_points", "error_ratio", "Member2D", "FAMILY2D",
           "member2d", "check_points2d", "error_ratio2d"]



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


# --------------------------------------------------------------------------- two dimensions
def check_points2d(t, n=301):
    """The dense check grid of a 2-D table ``t``: an ``n x n`` grid uniform in the knot
    variables and the midpoint of every cell (in the knot variables), as ``(x, y)`` arrays."""
    (xa, xb), (ya, yb) = t.interval
    inv_x = _MAPS[t.info["x_knots"]][1]
    inv_y = _MAPS[t.info["y_knots"]][1]
    uu = np.linspace(t.u[0], t.u[-1], n)
    vv = np.linspace(t.v[0], t.v[-1], n)
    U1, V1 = np.meshgrid(uu, vv, indexing="ij")
    um = 0.5 * (t.u[1:] + t.u[:-1])
    vm = 0.5 * (t.v[1:] + t.v[:-1])
    U2, V2 = np.meshgrid(um, vm, indexing="ij")
    U = np.concatenate([U1.ravel(), U2.ravel()])
    V = np.concatenate([V1.ravel(), V2.ravel()])
    return np.clip(inv_x(U), xa, xb), np.clip(inv_y(V), ya, yb)


def error_ratio2d(t, f, n=301, *, where=False):
    """Verified error of a 2-D table on :func:`check_points2d`: ``max |f - s| / (rtol |f| +
    atol)`` (with ``log_f``: ``|ln s - ln f| / (rtol + atol / f)``)."""
    x, y = check_points2d(t, n)
    fx = np.asarray(f(x, y), dtype=float)
    sx = np.asarray(t(x, y), dtype=float)
    if t.log_f:
        r = np.abs(np.log(sx) - np.log(fx)) / (t.rtol + t.atol / fx)
    else:
        r = np.abs(sx - fx) / (t.rtol * np.abs(fx) + t.atol)
    if r.ndim > 1:
        r = r.max(axis=tuple(range(1, r.ndim)))
    i = int(np.nanargmax(r))
    return (float(r[i]), (float(x[i]), float(y[i]))) if where else float(r[i])


def _growth(z):
    """Linear growth factor shape D(z), normalised to 1 at z = 0 (Carroll-Press-Turner-like
    closed form for Om = 0.3)."""
    a = 1 / (1 + np.asarray(z, dtype=float))
    om = 0.3 / (0.3 + 0.7 * a ** 3)
    ol = 1 - om
    g = 2.5 * om / (om ** (4 / 7) - ol + (1 + om / 2) * (1 + ol / 70))
    g0 = 2.5 * 0.3 / (0.3 ** (4 / 7) - 0.7 + 1.15 * (1 + 0.7 / 70))
    return a * g / g0


def _pkz(k, z):
    """P(k, z)-like: the BAO spectrum times D(z)^2 and a z-dependent small-scale boost
    (not separable)."""
    knl = 0.25 * (1 + z) ** 0.8
    return _bao(k) * _growth(z) ** 2 * np.sqrt(1 + (k / knl) ** 1.5)


@dataclass(frozen=True)
class Member2D:
    """One 2-D benchmark function: ``f(x, y)`` on a rectangle with autoknots2d options."""
    name: str
    f: object
    x_range: tuple
    y_range: tuple
    kind: str
    kw: dict = field(default_factory=dict)
    atol_factor: float = 0.0

    def options(self, rtol):
        return dict(rtol=rtol, atol=self.atol_factor * rtol, **self.kw)


FAMILY2D = (
    Member2D("pk_z_bao", _pkz, (1e-4, 10.0), (0.0, 5.0), "cosmology",
             dict(x_knots="log", log_f=True)),
    Member2D("smooth_nonseparable", lambda x, y: 2 + np.sin(3 * x + 2 * y * y)
             * np.exp(-0.3 * x), (0.0, 3.0), (0.0, 2.0), "analytic"),
    Member2D("separable_product", lambda x, y: (2 + np.sin(4 * x)) * (1.5 + np.cos(3 * y)),
             (0.0, 3.0), (0.0, 3.0), "analytic"),
    Member2D("front_along_y", lambda x, y: 2 + np.tanh((x - 0.5) / 0.01) * (1 + 0.3 * y),
             (0.0, 1.0), (0.0, 1.0), "front"),
    Member2D("vector", lambda x, y: np.stack(np.broadcast_arrays(
        np.sin(2 * x) * np.cos(y) + 2, np.exp(-x * y)), axis=-1),
             (0.0, 2.0), (0.0, 2.0), "vector"),
)


def member2d(name):
    """The 2-D family member called ``name``."""
    for m in FAMILY2D:
        if m.name == name:
            return m
    raise KeyError(f"no 2-D family member {name!r}; choose from {[m.name for m in FAMILY2D]}")
