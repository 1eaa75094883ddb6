"""numfit.cosmology: scripted cosmology on AutoKnots tables.

Background distances and growth (:class:`Cosmology`), halo lensing profiles with
physical parameters (:class:`NFWProfile`, :class:`HernquistProfile`, :class:`EinastoProfile`
and the generic :func:`project_profile`), the Eisenstein–Hu linear power spectrum with
σ(R) (:class:`LinearPower`), any tabulated or callable P(k, z) with σ(R, z), σ(M, z) and
d ln σ/d ln R (:class:`PowerSpectrum`), and the closed-form dimensionless NFW/Hernquist
projections, and halo-model basics: mass definitions ("200c", "500c", "200m", "vir")
with NFW conversion (:func:`convert_mass`), concentration–mass relations
(:func:`concentration`), halo mass functions and linear bias (:class:`MassFunction`).
Units: Mpc, Gyr, M_sun, km/s/Mpc, k in 1/Mpc (no factors of h); astropy Quantities are
accepted for H0, radii and masses, and :meth:`Cosmology.from_astropy` /
:meth:`Cosmology.to_astropy` convert cosmologies (massive neutrinos included).
"""
from .._errors import CalibrationRangeWarning, CosmologyError, RedshiftRangeError
from ._background import Cosmology
from ._power import LinearPower, eisenstein_hu, eisenstein_hu_nowiggle
from ._spectrum import KRangeWarning, PowerSpectrum
from ._profiles import (
    EinastoProfile,
    HaloProfile,
    HernquistProfile,
    NFWProfile,
    ProjectedProfile,
    project_profile,
)
from ._halomodel import (
    DELTA_C,
    MassFunction,
    concentration,
    convert_mass,
    delta_vir,
    density_threshold,
    halo_bias,
    mass_to_radius,
    multiplicity,
    parse_mdef,
    radius_to_mass,
)
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
    "Cosmology",
    "CosmologyError",
    "RedshiftRangeError",
    "LinearPower",
    "PowerSpectrum",
    "KRangeWarning",
    "CalibrationRangeWarning",
    "eisenstein_hu",
    "eisenstein_hu_nowiggle",
    "HaloProfile",
    "NFWProfile",
    "HernquistProfile",
    "EinastoProfile",
    "ProjectedProfile",
    "project_profile",
    "parse_mdef",
    "delta_vir",
    "density_threshold",
    "mass_to_radius",
    "radius_to_mass",
    "convert_mass",
    "concentration",
    "multiplicity",
    "halo_bias",
    "MassFunction",
    "DELTA_C",
    "hernquist_delta_sigma_hat",
    "hernquist_mass_hat",
    "hernquist_mean_sigma_hat",
    "hernquist_sigma_hat",
    "nfw_delta_sigma_hat",
    "nfw_mass_hat",
    "nfw_mean_sigma_hat",
    "nfw_sigma_hat",
]
