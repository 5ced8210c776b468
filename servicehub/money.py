"""Money is Decimal CNY with 2 places, rounded half-up like a cashier."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value) -> Decimal:
    """Return ``value`` as a Decimal rounded to the cent (never a float detour)."""
    if isinstance(value, float):
        value = repr(value)
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
