"""Physical constants of the cosmology layer (CODATA 2018 / IAU 2015, as in astropy).

Units of the layer: distances in Mpc, times in Gyr, masses in M_sun, densities in
M_sun / Mpc^3, surface densities in M_sun / Mpc^2, wavenumbers in 1 / Mpc, H0 in km/s/Mpc.
"""
import math

C_KM_S = 299792.458                     # speed of light [km/s]
C_M_S = 299792458.0                     # [m/s]
MPC_M = 3.0856775814913673e22           # megaparsec [m]
MPC_KM = MPC_M / 1e3
G_SI = 6.67430e-11                      # gravitational constant [m^3 kg^-1 s^-2]
M_SUN_KG = 1.988409870698051e30         # nominal solar mass (IAU 2015 GM_sun / G) [kg]
SIGMA_SB = 5.670374419e-8               # Stefan-Boltzmann [W m^-2 K^-4]
GYR_S = 1e9 * 365.25 * 86400.0          # Julian gigayear [s]
PC_MPC = 1e-6                           # parsec in Mpc
# massless neutrinos per effective species relative to photons: 7/8 (4/11)^(4/3)
NU_PER_SPECIES = 7.0 / 8.0 * (4.0 / 11.0) ** (4.0 / 3.0)


def critical_density0(H0):
    """rho_crit today [M_sun / Mpc^3] for H0 in km/s/Mpc: 3 H0^2 / (8 pi G)."""
    h_si = H0 / MPC_KM                                   # [1/s]
    rho_si = 3.0 * h_si * h_si / (8.0 * math.pi * G_SI)  # [kg / m^3]
    return rho_si * MPC_M ** 3 / M_SUN_KG


def photon_density0(H0, Tcmb0):
    """Omega_gamma today for a CMB temperature Tcmb0 [K]: (4 sigma_SB / c^3) T^4 / rho_crit."""
    if Tcmb0 == 0.0:
        return 0.0
    h_si = H0 / MPC_KM
    rho_crit_si = 3.0 * h_si * h_si / (8.0 * math.pi * G_SI)
    return 4.0 * SIGMA_SB / C_M_S ** 3 * Tcmb0 ** 4 / rho_crit_si
