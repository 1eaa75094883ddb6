import numpy as np
import matplotlib.pyplot as plt
import numfit as nf
from numfit.cosmology import nfw_sigma_hat

def damped(x):
    return np.exp(-x) * np.sin(3 * x) + 2

def runge(x):
    return 1 / (1 + 25 * x ** 2)

def hidden_pair(x):      # the hidden-pair test function: two narrow bumps, close to each other
    return (1 + x + np.exp(-((x - 0.55) / 0.02) ** 2)
            + np.exp(-((x - 0.65) / 0.008) ** 2) - np.exp(-((x - 0.75) / 0.008) ** 2))

cases = [("e^-x sin 3x + 2 on [0.1, 5]", damped, 0.1, 5.0, {}),
         ("Runge on [-1, 1]", runge, -1.0, 1.0, {}),
         ("hidden pair on [0, 1]", hidden_pair, 0.0, 1.0, {}),
         ("NFW Σ̂ on [1e-4, 1e4], loglog", nfw_sigma_hat, 1e-4, 1e4,
          {"space": "loglog"})]
rtols = np.logspace(-3, -10, 8)

def check_points(s, n=100_000):
    u = np.linspace(s.u[0], s.u[-1], n)               # uniform in the knot variable
    kmap = "log" if s.space == "loglog" else s.knots_map
    x = {"linear": u, "log": np.exp(u), "asinh": np.sinh(u)}[kmap]
    k = s.knots
    quarter = np.concatenate([k[:-1] + q * np.diff(k) for q in (0.25, 0.5, 0.75)])
    return np.clip(np.concatenate([x, quarter]), k[0], k[-1])

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(9.0, 3.8))
for name, f, a, b, kw in cases:
    ratios, knots = [], []
    for rtol in rtols:
        s = nf.autoknots(f, a, b, rtol=rtol, **kw)
        x = check_points(s)
        fx = f(x)
        if s.space == "loglog":
            ratios.append(np.max(np.abs(s(x) / fx - 1)) / rtol)
        else:
            ratios.append(np.max(np.abs(s(x) - fx) / (rtol * np.abs(fx) + s.atol)))
        knots.append(s.n_evals)
    ax0.loglog(rtols, ratios, "o-", ms=3, label=name)
    ax1.loglog(rtols, knots, "o-", ms=3, label=name)
ax1.loglog(rtols, 30 * (rtols / 1e-4) ** -0.25, "k:", lw=1, label="∝ rtol^(-1/4)")
ax0.axhline(1.0, color="k", ls="--", lw=1)
ax0.set_ylim(1e-2, 1e4)
ax0.invert_xaxis()
ax0.set_xlabel("rtol")
ax0.set_ylabel("max error / tolerance")
ax0.legend(fontsize=7, loc="upper right")
ax1.invert_xaxis()
ax1.set_xlabel("rtol")
ax1.set_ylabel("knots = evaluations of f")
ax1.legend(fontsize=7)
fig.tight_layout()
