"""astropy Quantities in, plain floats inside: each argument is converted once, at the
boundary, to numfit's unit (Mpc, M_sun, km/s/Mpc, K, eV, 1/Mpc)."""

__all__ = ["strip_unit"]


def strip_unit(name, value, unit):
    """``value`` in ``unit`` as a plain number/array if it is an astropy Quantity, else
    ``value`` unchanged (numfit's units are assumed).

    Raises
    ------
    ValueError
        A Quantity whose unit cannot be converted to ``unit`` (named with the argument).
    """
    if not (hasattr(value, "unit") and hasattr(value, "to_value")):
        return value
    import astropy.units as u
    try:
        return value.to_value(u.Unit(unit))
    except u.UnitConversionError:
        raise ValueError(f"`{name}` has unit {value.unit}, which does not convert to "
                         f"{unit}") from None
