import numpy as np
import matplotlib.pyplot as plt
import numfit as nf

def f(x):
    return 1 / (1 + 25 * x ** 2)

V = nf.PolynomialSpace("legendre", degree=9)
fit = nf.wls(f, V, rng=0)
pts, w = fit.sample.points[:, 0], fit.sample.weights
ratio = fit.error_ratio(f)["ratio"]

x = np.linspace(-1, 1, 1001)
fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(6.4, 5.0), sharex=True,
                               gridspec_kw={"height_ratios": [3, 2]})
ax0.plot(x, f(x), "k-", lw=1.2, label="f")
ax0.plot(x, fit(x), "C0-", lw=1, label=f"WLS fit, m = {V.m}")
ax0.plot(pts, f(pts), "o", color="C3", ms=3, label=f"{fit.n_evals} evaluations")
ax0.set_title(f"repeated DPP: ||G - I|| = {fit.gram_error:.2f}, "
              f"error ratio {ratio:.2f}")
ax0.legend(loc="upper right")
ax1.stem(pts, w, linefmt="C3-", markerfmt="C3.", basefmt=" ")
ax1.set_xlabel("x")
ax1.set_ylabel("weight m / k_m(x)")
fig.tight_layout()
