import numpy as np
import matplotlib.pyplot as plt
from numfit import autoknots
from numfit.cosmology import (hernquist_mass_hat, hernquist_sigma_hat, nfw_delta_sigma_hat,
                              nfw_mass_hat, nfw_sigma_hat)

profiles = {"nfw_sigma_hat": nfw_sigma_hat, "nfw_mass_hat": nfw_mass_hat,
            "nfw_delta_sigma_hat": nfw_delta_sigma_hat,
            "hernquist_sigma_hat": hernquist_sigma_hat,
            "hernquist_mass_hat": hernquist_mass_hat}
rtols = np.logspace(-4, -10, 7)
X = np.geomspace(1e-4, 1e4, 200_001)

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(9.0, 3.8))
for name, f in profiles.items():
    fx = f(X)
    knots, ratio = [], []
    for rtol in rtols:
        s = autoknots(f, 1e-4, 1e4, rtol=rtol, space="loglog")
        knots.append(s.n_evals)
        ratio.append(np.max(np.abs(s(X) / fx - 1)) / rtol)
    ax0.loglog(rtols, knots, "o-", ms=3, label=name)
    ax1.semilogx(rtols, ratio, "o-", ms=3, label=name)
ax0.set_ylabel("knots")
ax1.set_ylabel("max |s/f - 1| / rtol")
ax1.axhline(1.0, color="k", ls="--", lw=1)
ax1.set_ylim(0, 1.1)
for ax in (ax0, ax1):
    ax.invert_xaxis()
    ax.set_xlabel("rtol")
ax0.legend(fontsize=7)
fig.tight_layout()
