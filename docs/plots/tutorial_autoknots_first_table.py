import numpy as np
import matplotlib.pyplot as plt
import numfit as nf

def f(x):
    return np.exp(-x) * np.sin(3 * x) + 2

rtol = 1e-6
s = nf.autoknots(f, 0.1, 5.0, rtol=rtol)
x = np.linspace(0.1, 5.0, 20_001)
rel = np.abs(s(x) - f(x)) / np.abs(f(x))

fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(6.4, 5.0), sharex=True)
ax0.plot(x, f(x), "k-", lw=1, label="f")
ax0.plot(s.knots, s.values, "|", color="C3", ms=10, label=f"{s.n_evals} knots")
ax0.set_ylabel("f(x)")
ax0.legend(loc="upper right")
ax1.semilogy(x, np.maximum(rel, 1e-16), lw=0.6, label="|s - f| / |f|")
ax1.axhline(rtol, color="C3", ls="--", label="rtol")
ax1.set_ylim(1e-12, 1e-5)
ax1.set_xlabel("x")
ax1.set_ylabel("relative error")
ax1.legend(loc="lower right")
fig.tight_layout()
