import numpy as np
import matplotlib.pyplot as plt
from scipy.optimize import NonlinearConstraint
import numfit as nf

a, d = np.array([2.0, 1.0]), np.array([1.0, 4.0])

def fun(x):
    return float(d @ (x - a) ** 2)

def grad(x):
    return 2 * d * (x - a)

def hess(x):
    return np.diag(2 * d)

circle = NonlinearConstraint(lambda x: [x @ x - 1.0], 0.0, 0.0,
                             jac=lambda x: [2 * x],
                             hess=lambda x, v: 2 * v[0] * np.eye(2))
path = [np.array([-1.0, -1.0])]
res = nf.minimize_alsketch(fun, path[0], jac=grad, hess=hess, constraints=circle,
                           tol=1e-8, rng=0, callback=lambda x: path.append(x),
                           options={"return_history": True})
# res.status == 0, res.x ≈ (0.7211, 0.6928), res.multipliers ≈ [1.7735]

path = np.array(path)
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(8.4, 3.6))
g = np.linspace(-1.6, 2.4, 200)
X, Y = np.meshgrid(g, g)
ax0.contour(X, Y, d[0] * (X - a[0]) ** 2 + d[1] * (Y - a[1]) ** 2, 15,
            colors="0.75", linewidths=0.6)
t = np.linspace(0, 2 * np.pi, 400)
ax0.plot(np.cos(t), np.sin(t), "k-", lw=1, label="c(x) = 0")
ax0.plot(path[:, 0], path[:, 1], "o-", color="C3", ms=3, lw=1, label="iterates")
ax0.set_aspect("equal")
ax0.legend(loc="lower right")
ax1.semilogy(res.kkt_history, "o-", ms=3)
ax1.set_xlabel("outer iteration")
ax1.set_ylabel("KKT residual ||grad L||")
fig.tight_layout()
