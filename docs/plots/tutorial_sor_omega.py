import numpy as np
import matplotlib.pyplot as plt
import numfit as nf
from numfit.linalg import laplacian_2d, prepare

fig, ax = plt.subplots(figsize=(6.4, 3.8))
omegas = np.linspace(1.0, 1.98, 50)
for m in (10, 32):
    A = prepare(laplacian_2d(m))
    b = np.ones(m * m)
    its = [nf.sor(A, b, w, maxiter=100_000).nit for w in omegas]
    line, = ax.semilogy(omegas, its, label=f"SOR, m = {m} (n = {m * m})")
    w_star = 2 / (1 + np.sin(np.pi / (m + 1)))
    ax.axvline(w_star, color=line.get_color(), ls=":", lw=1)
    cg = [nf.ssor_cg(A, b, w).nit for w in omegas]
    ax.semilogy(omegas, cg, "--", color=line.get_color(), label=f"SSOR-CG, m = {m}")
ax.set_xlabel("ω (dotted: Young's ω*)")
ax.set_ylabel("iterations to rtol 1e-8")
ax.legend()
fig.tight_layout()
