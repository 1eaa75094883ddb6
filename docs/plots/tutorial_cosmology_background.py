import numpy as np
import matplotlib.pyplot as plt
from numfit.cosmology import Cosmology, EinastoProfile, LinearPower, NFWProfile

models = {
    "flat ΛCDM": Cosmology(H0=67.7, Om0=0.31, Ob0=0.049),
    "w0–wa (−0.75, −0.85)": Cosmology(H0=67.7, Om0=0.31, Ob0=0.049, w0=-0.75, wa=-0.85),
    "open (Ωk = 0.1)": Cosmology(H0=70.0, Om0=0.3, Ode0=0.6),
}
z = np.geomspace(1e-3, 10.0, 400)
fig, axes = plt.subplots(2, 2, figsize=(8.0, 6.4))
ax = axes[0, 0]
for (name, c), color in zip(models.items(), ("C0", "C1", "C2")):
    ax.loglog(z, c.luminosity_distance(z), color=color,
              label=f"{name}: {c.table('comoving_distance').n_evals} evals")
    ax.loglog(z, c.angular_diameter_distance(z), color=color, ls="--")
ax.set_xlabel("z")
ax.set_ylabel("D_L (solid), D_A (dashed) [Mpc]")
ax.legend(fontsize=7)
ax = axes[0, 1]
for (name, c), color in zip(models.items(), ("C0", "C1", "C2")):
    ax.plot(z, c.growth_factor(z), color=color, label=name)
    ax.plot(z, c.growth_rate(z), color=color, ls="--")
ax.set_xscale("log")
ax.set_xlabel("z")
ax.set_ylabel("D(z)/D(0) (solid), f(z) (dashed)")
ax.legend(fontsize=7)

cosmo = models["flat ΛCDM"]
R = np.geomspace(0.01, 10.0, 200)
ax = axes[1, 0]
for m, color in zip((1e13, 1e14, 1e15), ("C0", "C1", "C2")):
    nfw = NFWProfile(m, 5.0, z=0.3, cosmology=cosmo)
    ein = EinastoProfile(m, 5.0, z=0.3, cosmology=cosmo, alpha=0.18, rtol=1e-6)
    ax.loglog(R, nfw.delta_sigma(R) / 1e12, color=color, label=f"NFW {m:.0e} M_sun")
    ax.loglog(R, ein.delta_sigma(R) / 1e12, color=color, ls="--")
ax.set_xlabel("R [Mpc]")
ax.set_ylabel("ΔΣ [M_sun / pc²] (Einasto dashed)")
ax.legend(fontsize=7)

ax = axes[1, 1]
M = np.geomspace(1e8, 1e16, 200)
for transfer, ls in (("eisenstein_hu", "-"), ("eisenstein_hu_nowiggle", ":")):
    lp = LinearPower(cosmo, ns=0.965, sigma8=0.81, transfer=transfer, rtol=1e-6)
    for zz, color in ((0.0, "C0"), (1.0, "C3")):
        ax.loglog(M, lp.sigma_mass(M, z=zz), color=color, ls=ls,
                  label=f"z = {zz:g}, {transfer}" if ls == "-" or zz == 0 else None)
ax.set_xlabel("M [M_sun]")
ax.set_ylabel("σ(M)")
ax.legend(fontsize=7)
fig.tight_layout()
