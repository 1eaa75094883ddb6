import numpy as np
import matplotlib.pyplot as plt
from numfit import autoknots
from numfit.cosmology import (hernquist_delta_sigma_hat, hernquist_sigma_hat,
                              nfw_delta_sigma_hat, nfw_sigma_hat)

rtol = 1e-6
profiles = {"NFW Σ̂": nfw_sigma_hat, "NFW ΔΣ̂": nfw_delta_sigma_hat,
            "Hernquist Σ̂": hernquist_sigma_hat, "Hernquist ΔΣ̂": hernquist_delta_sigma_hat}
X = np.geomspace(1e-4, 1e4, 100_001)

fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(6.4, 6.0), sharex=True)
for (name, f), color in zip(profiles.items(), ("C0", "C1", "C2", "C3")):
    s = autoknots(f, 1e-4, 1e4, rtol=rtol, space="loglog")
    ax0.loglog(X, f(X), color=color, lw=1, label=f"{name}: {s.n_evals} knots")
    ax0.loglog(s.knots, s.values, "|", color=color, ms=6)
    ax1.loglog(X, np.maximum(np.abs(s(X) / f(X) - 1), 1e-17), color=color, lw=0.5)
ax1.axhline(rtol, color="k", ls="--", lw=1, label="rtol")
ax0.set_ylabel("profile")
ax0.legend(loc="lower left")
ax1.set_ylim(1e-14, 1e-5)
ax1.set_xlabel("X = R / r_s")
ax1.set_ylabel("|s / f - 1|")
ax1.legend(loc="lower left")
fig.tight_layout()
