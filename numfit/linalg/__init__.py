"""numfit.linalg."""
