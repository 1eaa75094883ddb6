import numpy as np
import matplotlib.pyplot as plt
import numfit as nf
from numfit.interpolate._family import check_points, member

names = ["bessel_j0", "bbks_pk", "abs_pow_2.5", "sqrt"]     # analytic, log-log, limited, singular
rtols = np.logspace(-3, -11, 9)

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(9.0, 3.8))
for i, name in enumerate(names):
    m = member(name)
    for kind, ls, mk in (("cubic", "-", "o"), ("chebyshev", "--", "s")):
        n = [nf.autoknots(m.f, m.a, m.b, kind=kind, **m.options(r)).n_evals for r in rtols]
        ax0.loglog(rtols, n, ls, marker=mk, ms=3, color=f"C{i}",
                   label=f"{name}, {kind}")
ax0.invert_xaxis()
ax0.set_xlabel("rtol")
ax0.set_ylabel("evaluations of f")
ax0.set_title("cost: solid cubic, dashed chebyshev")
ax0.legend(fontsize=6, ncol=2)

m, rtol = member("abs_pow_2.5"), 1e-8
for kind, color in (("cubic", "C0"), ("chebyshev", "C3")):
    s = nf.autoknots(m.f, m.a, m.b, kind=kind, **m.options(rtol))
    x = check_points(s, 20_000)
    fx = m.f(x)
    r = np.abs(s(x) - fx) / (s.rtol * np.abs(fx) + s.atol)
    ax1.semilogy(x, np.maximum(r, 1e-6), lw=0.6, color=color,
                 label=f"{kind}: {s.n_evals} evaluations, max {r.max():.2g}")
ax1.axhline(1.0, color="k", ls="--", lw=1, label="tolerance")
ax1.set_ylim(1e-6, 1e3)
ax1.set_xlabel("x")
ax1.set_ylabel("|f - s| / (rtol |f| + atol)")
ax1.set_title("1 + |x - 1/3|^2.5 at rtol = 1e-8")
ax1.legend(fontsize=7, loc="upper left")
fig.tight_layout()
