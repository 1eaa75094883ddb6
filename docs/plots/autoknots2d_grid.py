import numpy as np
import matplotlib.pyplot as plt
import numfit as nf
from numfit._demo import draw_grid2d
from numfit.interpolate._family import error_ratio2d, member2d

m = member2d("pk_z_bao")                     # P(k, z) with BAO wiggles; ln k x z, log_f
t = nf.autoknots2d(m.f, m.x_range, m.y_range, **m.options(1e-6))
ratio = error_ratio2d(t, m.f)

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10.0, 4.2),
                               gridspec_kw=dict(width_ratios=(1.6, 1.0)))
draw_grid2d(fig, ax0, t, n_k=400, n_z=200)
ax0.set_title(f"grid {t.shape[0]} x {t.shape[1]} = {t.n_evals} evaluations, rtol = 1e-6, "
              f"verified error {ratio:.2f} x tol", fontsize=8)
ax0.grid(False)

# line spacing along each axis, as a fraction of the axis span
du = np.diff(t.u) / (t.u[-1] - t.u[0])
dv = np.diff(t.v) / (t.v[-1] - t.v[0])
ax1.semilogy(0.5 * (t.u[1:] + t.u[:-1]), du, ".", ms=2.5, label=f"ln k lines ({t.u.size})")
ax1b = ax1.twiny()
ax1b.semilogy(0.5 * (t.v[1:] + t.v[:-1]), dv, "s", ms=3, color="C3",
              label=f"z lines ({t.v.size})")
ax1.set_xlabel("ln k (dots)")
ax1b.set_xlabel("z (squares)")
ax1.set_ylabel("line spacing / axis span")
h0, l0 = ax1.get_legend_handles_labels()
h1, l1 = ax1b.get_legend_handles_labels()
ax1.legend(h0 + h1, l0 + l1, loc="upper left", fontsize=7)
fig.tight_layout()
