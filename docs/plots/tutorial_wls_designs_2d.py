import numpy as np
import matplotlib.pyplot as plt
import numfit as nf

V = nf.PolynomialSpace("legendre", degree=8, dim=2)          # m = 45
dpp = nf.sample_points(V, method="repeated_dpp", rng=0)      # adaptive n
iid = nf.sample_points(V, n=dpp.n, method="iid", rng=0)      # same n, i.i.d.
one = nf.sample_points(V, method="dpp", rng=0)               # a single DPP: m points

fig, axes = plt.subplots(1, 3, figsize=(9.0, 3.3), sharey=True)
for ax, smp, name in zip(axes, (iid, dpp, one), ("iid", "repeated_dpp", "dpp")):
    ax.plot(smp.points[:, 0], smp.points[:, 1], ".", ms=3,
            color="C0" if name == "iid" else "C3")
    ax.set_title(f"{name}: n = {smp.n}\n||G - I|| = {smp.gram_error:.2f}", fontsize=9)
    ax.set_aspect("equal")
    ax.set_xlim(-1.05, 1.05)
    ax.set_ylim(-1.05, 1.05)
fig.tight_layout()
