"""numfit.cosmology."""
