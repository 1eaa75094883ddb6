import numpy as np
import matplotlib.pyplot as plt
import numfit as nf
from numfit.linalg import shifted_laplacian_sequence

T = 1000
systems = list(shifted_laplacian_sequence(T, rng=1))   # (A0 + c I) x = b, c random
tuners = {
    "Tsallis-INF": nf.RelaxationTuner("tsallis", solver="sor", grid="paper", rng=0),
    "ChebCB": nf.RelaxationTuner("chebcb", solver="sor", grid="paper", rng=0,
                                 context_range=(-0.15, 0.65)),
}
for sys in systems:
    for tuner in tuners.values():
        tuner.solve(sys.A, sys.b, context=sys.context)


def moving_average(costs, window=100):
    return np.convolve(costs, np.ones(window) / window, mode="valid")


fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(9.0, 3.6))
t = np.arange(100, T + 1)
for w, style in ((1.5, ":"), (1.7, "--")):
    costs = [nf.sor(s.A, s.b, w).nit for s in systems]
    ax0.plot(t, moving_average(costs), style, color="0.4", lw=1, label=f"fixed ω = {w:g}")
for (name, tuner), color in zip(tuners.items(), ("C0", "C3")):
    h = tuner.history
    ax0.plot(t, moving_average(h.costs), color=color, label=name)
    late = slice(T // 2, None)
    ax1.plot(h.contexts[late], h.omegas[late], ".", ms=3, color=color, label=name)
ax0.set_xlabel("system t")
ax0.set_ylabel("SOR iterations per system\n(mean of the last 100)")
ax0.legend()
ax1.set_xlabel("context c (diagonal shift)")
ax1.set_ylabel(f"ω chosen (systems {T // 2 + 1}-{T})")
ax1.legend(loc="lower left", markerscale=3)
fig.tight_layout()
