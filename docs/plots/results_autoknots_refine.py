import numpy as np
import matplotlib.pyplot as plt
import numfit as nf

def hidden_pair(x):
    return (1 + x + np.exp(-((x - 0.55) / 0.02) ** 2)
            + np.exp(-((x - 0.65) / 0.008) ** 2) - np.exp(-((x - 0.75) / 0.008) ** 2))

fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(6.4, 4.6), sharex=True,
                               gridspec_kw={"height_ratios": [2, 3]})
x = np.linspace(0, 1, 4001)
ax0.plot(x, hidden_pair(x), "k-", lw=1)
ax0.set_ylabel("f")
for i, refine in enumerate(("closure", "sigma", None)):
    s = nf.autoknots(hidden_pair, 0.0, 1.0, rtol=1e-6, refine=refine)
    k = s.knots
    density = 1 / np.diff(k)
    ax1.semilogy(0.5 * (k[1:] + k[:-1]), density, drawstyle="steps-mid",
                 label=f"refine={refine!r}: {s.n_evals} knots")
ax1.set_xlabel("x")
ax1.set_ylabel("knots per unit length")
ax1.legend(fontsize=7)
fig.tight_layout()
