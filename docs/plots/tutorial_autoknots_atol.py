import numpy as np
import matplotlib.pyplot as plt
import numfit as nf

rtol, atol = 1e-6, 1e-9
s = nf.autoknots(np.sin, 0.0, 10.0, rtol=rtol, atol=atol)
x = np.linspace(0.0, 10.0, 20_001)
err = np.abs(s(x) - np.sin(x))
bound = rtol * np.abs(np.sin(x)) + atol

fig, ax = plt.subplots(figsize=(6.4, 3.4))
ax.semilogy(x, np.maximum(err, 1e-18), lw=0.6, label="|s - sin|")
ax.semilogy(x, bound, "C3--", lw=1, label="rtol |sin| + atol")
ax.set_ylim(1e-14, 1e-5)
ax.set_xlabel("x")
ax.set_title(f"sin on [0, 10]: {s.n_evals} knots, max error / bound = "
             f"{np.max(err / bound):.2f}")
ax.legend(loc="lower right")
fig.tight_layout()
