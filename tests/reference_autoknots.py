"""Pure NumPy/SciPy reference of AutoKnots (the AutoKnots paper, section 2) and of its kernels.

Written for clarity, not speed, and independently of ``numfit._core``: the fit is SciPy's
``CubicSpline(bc_type="not-a-knot")``, interval integrals come from ``PPoly``, the rounds are
plain Python loops over a sorted list of knots. The tests require the same knots as numfit.
"""
import numpy as np
from scipy.interpolate import CubicSpline

EPS = np.finfo(float).eps
MAPS = {"linear": (lambda x: x, lambda u: u), "log": (np.log, np.exp),
        "asinh": (np.arcsinh, np.sinh)}


class ReferenceDiscontinuity(Exception):
    def __init__(self, x):
        super().__init__(x)
        self.x = x


# ----------------------------------------------------------------------------- kernels
def ref_notaknot(t, y):
    """K1/K2: coefficients (4, n-1[, m]) of the not-a-knot cubic (SciPy)."""
    return CubicSpline(t, y, bc_type="not-a-knot").c


def ref_evaluate(t, c, q, nu=0, extrapolate=False):
    """K3: PPoly evaluation by bisection lookup, NaN outside unless extrapolate."""
    from scipy.interpolate import PPoly
    p = PPoly(c, t, extrapolate=True)
    out = p(q, nu)
    if not extrapolate:
        out = np.where(((q < t[0]) | (q > t[-1]))[(...,) + (None,) * (out.ndim - 1)],
                       np.nan, out)
    return out


def ref_interval_integrals(t, c):
    """K4: exact integral over each interval (PPoly.integrate one interval at a time)."""
    from scipy.interpolate import PPoly
    p = PPoly(c, t)
    return np.array([p.integrate(t[i], t[i + 1]) for i in range(t.size - 1)])


def ref_round_tests(t, c, y, F, idx, tm, ym, Fm, rtol, atol, mode, norm, simpson):
    """K5: pass flags, one interval at a time, straight from the paper's formulas (Vitenti et al. 2025, section 2)."""
    from scipy.interpolate import PPoly
    p = PPoly(c, t)
    out = []
    for k, i in enumerate(idx):
        t0, t1 = t[i], t[i + 1]
        h = t1 - t0
        S = p(tm[k])
        IS = p.integrate(t0, t1)
        if simpson:
            If = h * (y[i] + 4 * ym[k] + y[i + 1]) / 6
        else:
            d = (2 * tm[k] - t0 - t1) / h
            w0, wm, w1 = 1 - 2 / (3 * (1 + d)), 4 / (3 * (1 - d * d)), 1 - 2 / (3 * (1 - d))
            If = h / 2 * (w0 * y[i] + wm * ym[k] + w1 * y[i + 1])
        ep, ei = np.abs(ym[k] - S), np.abs(If - IS)
        if norm == 1:
            ok = (np.linalg.norm(ep) <= rtol * np.linalg.norm(ym[k]) + atol
                  and np.linalg.norm(ei) <= rtol * np.linalg.norm(If) + atol * h)
        elif mode == 1:
            fmax = np.maximum(np.maximum(F[i], Fm[k]), F[i + 1])
            ok = np.all(ep <= rtol + atol / Fm[k]) and np.all(ei <= (rtol + atol / fmax) * h)
        else:
            ok = np.all(ep <= rtol * np.abs(ym[k]) + atol) and \
                np.all(ei <= rtol * np.abs(If) + atol * h)
        out.append(bool(ok))
    return np.array(out)


def ref_closure_flags(u):
    h = np.diff(u)
    m = np.empty_like(h)
    m[0], m[-1] = h[1], h[-2]
    m[1:-1] = 0.5 * (h[:-2] + h[2:])
    return h > m * (1 + 1e-8)


# ----------------------------------------------------------------------------- algorithm
def reference_autoknots(f, a, b, rtol=1e-8, atol=0.0, knots="linear", space="linear",
                        refine="closure", refine_ns=1.0, n_refine=1, n_init=6,
                        max_knots=1_000_000, loglog_criterion="absolute", verify=None):
    """Return (x knots, round_sizes, status) following the paper's rounds literally,
    then numfit's verification of the settled mesh (end intervals at their 1/4 and 3/4
    points; outside closure mode, intervals wider than twice a neighbour at their midpoint).

    ``f`` must accept arrays. Scalar-valued f only.
    """
    verify = (refine != "sigma") if verify is None else verify
    seen = {}
    loglog = space == "loglog"
    U, Ui = MAPS["log" if loglog else knots]
    ua, ub = float(U(a)), float(U(b))
    u = [ua + (ub - ua) * k / (n_init - 1) for k in range(n_init)]
    u[-1] = ub
    x = list(np.asarray(Ui(np.array(u)), dtype=float))
    x[0], x[-1] = a, b
    fx = list(np.asarray(f(np.array(x)), dtype=float))
    is_open = [True] * (n_init - 1)
    last = [np.inf] * (n_init - 1)      # error ratio of the test that made each interval
    sizes = [n_init]

    def T_of(xs):
        return np.log(xs) if loglog else np.asarray(xs)

    def Y_of(fs):
        return np.log(fs) if loglog else np.asarray(fs)

    passes, pending = n_refine, False
    for _ in range(10_000):
        W = np.diff(u)
        T = [i for i, o in enumerate(is_open) if o]
        fails = 0
        if T:
            t, y = T_of(np.array(x)), Y_of(np.array(fx))
            S = CubicSpline(t, y, bc_type="not-a-knot")
            um = [(u[i] + u[i + 1]) / 2 for i in T]
            xm = [float(v) for v in np.atleast_1d(Ui(np.array(um)))]
            for i, xv, uv in zip(T, xm, um):
                # past the span limit only a small variation (|df| <= 1e6 atol: an
                # integrable endpoint singularity, not a jump) may be bisected further
                small = atol > 0 and not loglog and abs(fx[i + 1] - fx[i]) <= 1e6 * atol
                if not (x[i] < xv < x[i + 1]) or abs(xv - x[i]) <= 100 * EPS * abs(xv) \
                        or (abs(uv - u[i]) <= 100 * EPS * abs(ub - ua) and not small):
                    raise ReferenceDiscontinuity(xv)
            fm = np.asarray(f(np.array(xm)), dtype=float)
            passed, ratios = [], []
            for k, i in enumerate(T):
                t0, t1 = t[i], t[i + 1]
                h = t1 - t0
                tmk = um[k] if loglog else xm[k]
                ymk = np.log(fm[k]) if loglog else fm[k]
                Sm = float(S(tmk))
                IS = float(S.integrate(t0, t1))
                if loglog or knots == "linear":
                    If = h * (y[i] + 4 * ymk + y[i + 1]) / 6
                else:
                    d = (2 * tmk - t0 - t1) / h
                    If = h / 2 * ((1 - 2 / (3 * (1 + d))) * y[i] + 4 / (3 * (1 - d * d)) * ymk
                                  + (1 - 2 / (3 * (1 - d))) * y[i + 1])
                if loglog and loglog_criterion == "absolute":
                    fmax = max(fx[i], fm[k], fx[i + 1])
                    tp, ti = rtol + atol / fm[k], (rtol + atol / fmax) * h
                else:
                    tp, ti = rtol * abs(ymk) + atol, rtol * abs(If) + atol * h
                ep, ei = abs(ymk - Sm), abs(If - IS)
                ok = ep <= tp and ei <= ti
                r = max(ep / tp if tp > 0 else (0.0 if ep == 0 else np.inf),
                        ei / ti if ti > 0 else (0.0 if ei == 0 else np.inf))
                if verify and ok and r > 0.1 and r > 0.25 * last[i]:
                    ok = False              # fell less than 4x since the parent's test
                passed.append(ok)
                ratios.append(r)
            fails = passed.count(False)
            # insert from the right so earlier indices stay valid
            new_open = list(is_open)
            for k in range(len(T) - 1, -1, -1):
                i = T[k]
                x.insert(i + 1, xm[k])
                u.insert(i + 1, um[k])
                fx.insert(i + 1, float(fm[k]))
                new_open[i:i + 1] = [not passed[k], not passed[k]]
                last[i:i + 1] = [ratios[k], ratios[k]]
            is_open = new_open         # untested intervals were closed already
            sizes.append(len(T))
            if len(x) > max_knots:
                return np.array(x), sizes, 1
        if pending:
            pending = False
            if fails:
                continue
        elif fails > 0:
            continue
        elif refine == "sigma" and passes > 0:
            passes -= 1
            lim = np.mean(W) + refine_ns * np.std(W, ddof=1)
            if np.max(W) > lim:
                is_open = list(np.diff(u) > lim)
                continue
        elif refine == "closure":
            flags = ref_closure_flags(np.array(u))
            if flags.any():
                is_open = list(flags)
                pending = True
                continue
        if not verify:
            return np.array(x), sizes, 0
        # ---- verification round
        n = len(x)
        ends = [i for side, i in (("left", 0), ("right", n - 2))
                if seen.get(side) != (tuple(x[:4]) if side == "left" else tuple(x[-4:]))]
        ends = sorted(set(ends))
        mids = []
        if refine != "closure":
            h = np.diff(u)
            for i in range(n - 1):
                nb = min(h[i - 1] if i > 0 else np.inf, h[i + 1] if i < n - 2 else np.inf)
                if h[i] > 2 * nb * (1 + 1e-8) and i not in ends:
                    mids.append(i)
        if not ends and not mids:
            return np.array(x), sizes, 0
        pts = sorted([(i, 0.25) for i in ends] + [(i, 0.75) for i in ends]
                     + [(i, 0.5) for i in mids])
        t, y = T_of(np.array(x)), Y_of(np.array(fx))
        S = CubicSpline(t, y, bc_type="not-a-knot")
        uq = [u[i] + fr * (u[i + 1] - u[i]) for i, fr in pts]
        xq = [float(v) for v in np.atleast_1d(Ui(np.array(uq)))]
        fq = np.asarray(f(np.array(xq)), dtype=float)
        good = {}
        for (i, fr), uv, xv, fv in zip(pts, uq, xq, fq):
            yv = np.log(fv) if loglog else fv
            err = abs(yv - float(S(uv if loglog else xv)))
            if loglog and loglog_criterion == "absolute":
                ok = err <= rtol + atol / fv
            else:
                ok = err <= rtol * abs(yv) + atol
            good[i] = good.get(i, True) and ok
        for (i, fr), uv, xv, fv in sorted(zip(pts, uq, xq, fq), key=lambda r: -r[2]):
            j = int(np.searchsorted(x, xv)) - 1
            x.insert(j + 1, xv)
            u.insert(j + 1, uv)
            fx.insert(j + 1, float(fv))
            is_open[j:j + 1] = [not good[i], not good[i]]
            last[j:j + 1] = [np.inf, np.inf]
        sizes.append(len(pts))
        if good.get(0, False) and 0 in ends:
            seen["left"] = tuple(x[:4])
        last = max(i for i, _ in pts)
        if last in ends and good[last]:
            seen["right"] = tuple(x[-4:])
        if len(x) > max_knots:
            return np.array(x), sizes, 1
        if all(good.values()):
            return np.array(x), sizes, 0
    return np.array(x), sizes, 2
