"""numfit.cosmology."""
from ._halos import (
    hernquist_delta_sigma_hat,
    hernquist_mass_hat,
    hernquist_mean_sigma_hat,
    hernquist_sigma_hat,
    nfw_delta_sigma_hat,
    nfw_mass_hat,
    nfw_mean_sigma_hat,
    nfw_sigma_hat,
)

__all__ = [
    "hernquist_delta_sigma_hat",
    "hernquist_mass_hat",
    "hernquist_mean_sigma_hat",
    "hernquist_sigma_hat",
    "nfw_delta_sigma_hat",
    "nfw_mass_hat",
    "nfw_mean_sigma_hat",
    "nfw_sigma_hat",
]
