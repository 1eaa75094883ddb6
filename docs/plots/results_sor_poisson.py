import numpy as np
import matplotlib.pyplot as plt
import numfit as nf
from numfit.linalg import laplacian_2d, prepare

sizes = (10, 32)
omegas = np.linspace(1.0, 1.99, 100)
fig, (ax, tab) = plt.subplots(1, 2, figsize=(9.0, 3.8), width_ratios=(3, 2))
rows = {}
for m, color in zip(sizes, ("C0", "C1")):
    A = prepare(laplacian_2d(m))
    b = np.ones(m * m)
    its = [nf.sor(A, b, w, maxiter=100_000).nit for w in omegas]
    ax.semilogy(omegas, its, color=color, lw=1, label=f"m = {m} (n = {m * m})")
    w_star = 2 / (1 + np.sin(np.pi / (m + 1)))            # Young's optimum
    marked = (1.0, 1.5, 1.8, 1.9, w_star, 1.99)
    counts = [nf.sor(A, b, w, maxiter=100_000).nit for w in marked]
    ax.plot(marked, counts, "o", color=color, ms=4)
    rows[m] = (marked, counts)
ax.set_xlabel("ω")
ax.set_ylabel("SOR iterations (rtol 1e-8)")
ax.legend()

tab.axis("off")
cells = [["1", "1.5", "1.8", "1.9", "ω*", "1.99"]]
for m in sizes:
    marked, counts = rows[m]
    cells.append([str(c) for c in counts])
table = tab.table(cellText=[list(r) for r in zip(*cells)],
                  colLabels=["ω", *(f"m = {m}" for m in sizes)], loc="center",
                  cellLoc="center")
table.scale(1.0, 1.4)
tab.set_title("iterations at the reference table's ω values\n"
              "(ω* = 2 / (1 + sin πh), h = 1/(m+1))", fontsize=9)
fig.tight_layout()
