import numpy as np
import matplotlib.pyplot as plt
import numfit as nf

rng = np.random.default_rng(0)
Q, _ = np.linalg.qr(rng.standard_normal((20, 20)))
A = Q @ np.diag(np.geomspace(1.0, 10.0, 20)) @ Q.T        # SPD, condition number 10
b = A @ rng.standard_normal(20)

fig, ax = plt.subplots(figsize=(6.4, 3.8))
for sketch in ("kaczmarz", "kaczmarz_rownorm", "gaussian",
               "block_gaussian", "block_kaczmarz", "countsketch"):
    r = nf.sketch_solve(A, b, sketch=sketch, rtol=1e-10, maxiter=10**6, rng=0,
                        check_every=5)
    steps = 5 * np.arange(len(r.residual_history))
    ax.semilogy(steps, r.residual_history / np.linalg.norm(b),
                label=f"{sketch} ({r.nit} steps)")
ax.axhline(1e-10, color="k", ls=":", lw=1)
ax.set_xlabel("sketch steps")
ax.set_ylabel("||Ax - b|| / ||b||")
ax.legend()
fig.tight_layout()
