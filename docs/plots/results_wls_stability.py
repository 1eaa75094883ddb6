import numpy as np
import matplotlib.pyplot as plt
import numfit as nf

V = nf.PolynomialSpace("legendre", degree=9)          # m = 10
ratios = (2, 4, 6, 8, 12, 16)
draws = 100
fig, ax = plt.subplots(figsize=(6.4, 3.6))
for method, marker in (("iid", "o"), ("volume", "s"), ("repeated_dpp", "^")):
    p = [np.mean([nf.sample_points(V, n=r * V.m, method=method, rng=seed).gram_error <= 0.5
                  for seed in range(draws)]) for r in ratios]
    ax.plot(ratios, p, marker + "-", ms=4, label=method)
ax.set_xlabel("n / m")
ax.set_ylabel("P(||G - I|| <= 1/2)")
ax.set_title(f"Legendre, m = {V.m}, {draws} draws per point", fontsize=9)
ax.legend(loc="lower right")
fig.tight_layout()
