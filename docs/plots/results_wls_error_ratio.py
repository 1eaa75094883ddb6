import numpy as np
import matplotlib.pyplot as plt
import numfit as nf
from numfit.approx import best_approximation

def runge(x):
    return 1 / (1 + 25 * x ** 2)

V = nf.PolynomialSpace("legendre", degree=9)          # m = 10
a_star, norm2 = best_approximation(runge, V)
e2 = norm2 - a_star @ a_star                          # e_m(f)^2
draws = 200
ratios = {}
for method in ("iid", "volume", "repeated_dpp"):
    ratios[method] = np.array([
        (e2 + np.sum((nf.wls(runge, V, method=method, n=2 * V.m, rng=seed).coef
                      - a_star) ** 2)) / e2
        for seed in range(draws)])

fig, ax = plt.subplots(figsize=(6.4, 3.8))
ax.boxplot(list(ratios.values()), whis=(5, 95), showfliers=True,
           flierprops={"markersize": 2})
ax.set_xticks([1, 2, 3])
ax.set_xticklabels([f"{k}\nmean {v.mean():.3g}, median {np.median(v):.3g}"
                    for k, v in ratios.items()])
ax.set_yscale("log")
ax.axhline(1.0, color="k", ls=":", lw=1)
ax.set_ylabel("||f - fhat||² / e_m(f)²")
ax.set_title(f"Runge, m = {V.m}, n = 2m, {draws} draws per method "
             "(boxes: quartiles, whiskers: 5-95 %)", fontsize=9)
fig.tight_layout()
