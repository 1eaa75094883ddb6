import numpy as np
import matplotlib.pyplot as plt
import numfit as nf
from numfit.optimize.problems import hs_problems

names, paper, theory, practical, st_theory, st_practical = [], [], [], [], [], []
for p in hs_problems():
    if p.paper_iters is None:
        continue
    th = nf.minimize_alsketch(**p.alsketch_kwargs(), tol=1e-4, accuracy="theory", rng=0)
    # practical mode with the sketch-and-project inner solver (the default inner="auto"
    # factorizes these small explicit KKT matrices and takes no sketch steps)
    pr = nf.minimize_alsketch(**p.alsketch_kwargs(), tol=1e-4, rng=0, inner="sketch")
    names.append(p.name)
    paper.append(p.paper_iters["gaussian"])
    theory.append(th.nit)
    practical.append(pr.nit)
    st_theory.append(th.n_sketch)
    st_practical.append(pr.n_sketch)

x = np.arange(len(names))
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(9.6, 3.8))
ax0.bar(x - 0.27, paper, 0.27, label="paper (Gaussian)", color="0.6")
ax0.bar(x, theory, 0.27, label="numfit, theory", color="C0")
ax0.bar(x + 0.27, practical, 0.27, label="numfit, practical (sketch)", color="C3")
ax0.set_ylabel("outer iterations")
ax1.bar(x - 0.2, st_theory, 0.4, label="theory", color="C0")
ax1.bar(x + 0.2, st_practical, 0.4, label="practical (inner=sketch)", color="C3")
ax1.set_yscale("log")
ax1.set_ylabel("sketch steps")
for ax in (ax0, ax1):
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=60, fontsize=7)
    ax.legend(fontsize=7)
fig.tight_layout()
