import numpy as np
import matplotlib.pyplot as plt
from numfit.linalg._experiments import shifted_laplacian_experiment

T = 1000
res = shifted_laplacian_experiment(T, "low", seed=0)
fixed, omegas = res["fixed"], res["omegas"]
t = np.arange(1, T + 1)
best = int(np.argmin(fixed.sum(axis=0)))

fig, ax = plt.subplots(figsize=(6.4, 4.2))
for w in (1.0, 1.4, 1.8):
    j = int(np.argmin(np.abs(omegas - w)))
    ax.plot(t, np.cumsum(fixed[:, j]), ":", color="0.5", lw=1)
    ax.annotate(f"ω = {w:g}", (T, fixed[:, j].sum()), fontsize=7, color="0.4",
                ha="right", va="bottom")
ax.plot(t, np.cumsum(fixed[:, best]), "k-", lw=1.5,
        label=f"best fixed ω = {omegas[best]:.2f}")
for key, label, color in (("tsallis", "Tsallis-INF", "C0"),
                          ("binned", "BinnedTsallisINF", "C2"),
                          ("chebcb", "ChebCB", "C3")):
    ax.plot(t, np.cumsum(res[key]), color=color, lw=1.5,
            label=f"{label}: {int(res[key].sum()):,}")
ax.plot(t, np.cumsum(res["instance_optimal"]), "--", color="C1", lw=1.2,
        label=f"instance-optimal: {int(res['instance_optimal'].sum()):,}")
ax.set_ylim(0, 2.5 * fixed[:, best].sum())
ax.set_xlabel("instance t")
ax.set_ylabel("cumulative SOR iterations")
ax.legend(fontsize=7, loc="upper left")
fig.tight_layout()
