"""numfit.interpolate."""
