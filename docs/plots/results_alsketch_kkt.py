import numpy as np
import matplotlib.pyplot as plt
import numfit as nf
from numfit.optimize.problems import hock_schittkowski, poisson_control

fig, ax = plt.subplots(figsize=(6.4, 4.0))
for i, name in enumerate(("HS7", "HS50", "HS77")):
    p = hock_schittkowski(name)
    for accuracy, style in (("theory", "o-"), ("practical", "s--")):
        r = nf.minimize_alsketch(**p.alsketch_kwargs(), tol=1e-4, accuracy=accuracy, rng=0,
                                 options={"return_history": True})
        ax.semilogy(r.kkt_history, style, color=f"C{i}", ms=3, lw=1,
                    label=f"{name} {accuracy} ({r.nit} it.)")
p = poisson_control(3)
r = nf.minimize_alsketch(**p.alsketch_kwargs(), tol=1e-4, accuracy="theory",
                         sketch="kaczmarz", rng=0, options={"return_history": True})
ax.semilogy(r.kkt_history, "k^-", ms=4, lw=1.2, label=f"PDE N=3 theory, Kaczmarz ({r.nit} it.)")
ax.axhline(1e-4, color="k", ls=":", lw=1)
ax.set_xlabel("outer iteration")
ax.set_ylabel("KKT residual ||grad L||")
ax.legend(fontsize=7, ncol=2)
fig.tight_layout()
