"""numfit._core."""
