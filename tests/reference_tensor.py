"""Independent reference of the tensor-product not-a-knot bicubic (2-D tables).

The fit is FITPACK's interpolating spline, ``scipy.interpolate.RectBivariateSpline(u, v, z,
kx=3, ky=3, s=0)``, one per component: with ``s = 0`` FITPACK places the interior knots at the
data points except the second and the penultimate of each axis, which are the not-a-knot
conditions (:func:`check_not_a_knot` confirms it numerically against 1-D
``CubicSpline(bc_type="not-a-knot")`` along each axis). Nothing here uses ``numfit``.

Evaluation is FITPACK's ``ev(x, y, dx=, dy=)`` wherever FITPACK can make it: points inside
the rectangle and derivative orders <= 2 (FITPACK refuses orders >= the degree and clamps
points outside the rectangle to its edges). Third derivatives and extrapolated points are
evaluated from the same knots and B-spline coefficients as the tensor sum
``sum_{p,q} c[p, q] B_p^(dx)(x) B_q^(dy)(y)`` with ``scipy.interpolate.BSpline``
(``extrapolate=True`` continues the end polynomials; ``check_not_a_knot`` also checks this path
against ``ev``). A point on an interior knot takes the polynomial on its right, as in FITPACK.
"""
import numpy as np
from scipy.interpolate import BSpline, CubicSpline, RectBivariateSpline


def ref_splines(u, v, values):
    """One ``RectBivariateSpline(kx=3, ky=3, s=0)`` per component of values (nx, ny[, m])."""
    z = np.asarray(values, dtype=float)
    if z.ndim == 2:
        z = z[:, :, None]
    return [RectBivariateSpline(u, v, z[:, :, k], kx=3, ky=3, s=0) for k in range(z.shape[2])]


def _basis(t, x, nu):
    """(Q, n_coef) values of the nu-th derivative of every cubic B-spline on knots t."""
    nc = t.size - 4
    return BSpline(t, np.eye(nc), 3, extrapolate=True)(x, nu)


def bspline_sum(S, x, y, dx, dy):
    """The tensor B-spline sum of S (a RectBivariateSpline) and its (dx, dy) derivative at
    paired points, continued polynomially outside the rectangle."""
    tx, ty, c = S.tck
    c = c.reshape(tx.size - 4, ty.size - 4)
    Bx = _basis(tx, x, dx)
    By = _basis(ty, y, dy)
    return np.einsum("qa,ab,qb->q", Bx, c, By)


def ref_evaluate2d(u, v, values, qu, qv, du=0, dv=0, extrapolate=False, splines=None):
    """(Q, m): the (du, dv) partial derivative of the interpolating bicubic at (qu, qv);
    NaN for NaN coordinates and outside the rectangle unless extrapolate."""
    S_list = splines if splines is not None else ref_splines(u, v, values)
    qu = np.asarray(qu, dtype=float)
    qv = np.asarray(qv, dtype=float)
    fin = ~(np.isnan(qu) | np.isnan(qv))
    inside = fin & (qu >= u[0]) & (qu <= u[-1]) & (qv >= v[0]) & (qv <= v[-1])
    use = fin if extrapolate else inside
    out = np.full((qu.size, len(S_list)), np.nan)
    fitpack = inside if (du <= 2 and dv <= 2) else np.zeros_like(inside)
    other = use & ~fitpack
    for k, S in enumerate(S_list):
        if fitpack.any():
            out[fitpack, k] = S.ev(qu[fitpack], qv[fitpack], dx=du, dy=dv)
        if other.any():
            out[other, k] = bspline_sum(S, qu[other], qv[other], du, dv)
    return out


def check_not_a_knot(u, v, seed=0):
    """Largest relative differences between the reference and 1-D not-a-knot splines.

    Returns a dict: ``knots`` (0 when FITPACK's knots are u[0] x4, u[2:-2], u[-1] x4 and the
    same in v), ``u_axis`` / ``v_axis`` (data varying along one axis only: the bicubic on any
    line equals ``CubicSpline(bc_type="not-a-knot")`` of that axis), ``tensor`` (random data:
    CubicSpline along u, then along v, at random points), ``bspline_path`` (the B-spline sum
    against ``ev`` for all derivative orders <= 2 inside).
    """
    rng = np.random.default_rng(seed)
    u = np.asarray(u, dtype=float)
    v = np.asarray(v, dtype=float)
    nx, ny = u.size, v.size
    res = {}
    z = rng.normal(size=(nx, ny))
    (S,) = ref_splines(u, v, z)
    tx, ty = S.get_knots()
    want_x = np.r_[[u[0]] * 4, u[2:-2], [u[-1]] * 4]
    want_y = np.r_[[v[0]] * 4, v[2:-2], [v[-1]] * 4]
    res["knots"] = 0.0 if (np.array_equal(tx, want_x) and np.array_equal(ty, want_y)) else 1.0
    x = rng.uniform(u[0], u[-1], 200)
    y = rng.uniform(v[0], v[-1], 200)

    def rel(a, b):
        return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))

    f = rng.normal(size=nx)
    (Su,) = ref_splines(u, v, np.repeat(f[:, None], ny, axis=1))
    res["u_axis"] = rel(Su.ev(x, y), CubicSpline(u, f, bc_type="not-a-knot")(x))
    g = rng.normal(size=ny)
    (Sv,) = ref_splines(u, v, np.repeat(g[None, :], nx, axis=0))
    res["v_axis"] = rel(Sv.ev(x, y), CubicSpline(v, g, bc_type="not-a-knot")(y))
    along_u = CubicSpline(u, z, axis=0, bc_type="not-a-knot")(x)          # (200, ny)
    tens = np.array([CubicSpline(v, along_u[p], bc_type="not-a-knot")(y[p])
                     for p in range(x.size)])
    res["tensor"] = rel(S.ev(x, y), tens)
    worst = 0.0
    for dx in range(3):
        for dy in range(3):
            worst = max(worst, rel(bspline_sum(S, x, y, dx, dy), S.ev(x, y, dx=dx, dy=dy)))
    res["bspline_path"] = worst
    return res
