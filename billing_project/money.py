"""Money arithmetic. Every amount is a ``Decimal`` with 2 places; floats never appear."""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

CENT = Decimal("0.01")
HUNDRED = Decimal("100")

# Widest amount the database stores: NUMERIC(14, 2).
MONEY_MAX_DIGITS = 14
MONEY_DECIMAL_PLACES = 2


def money(value) -> Decimal:
    """Quantize to 2 places, half-up."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def line_tax(*, subtotal: Decimal, tax_percent: Decimal) -> Decimal:
    return money(subtotal * tax_percent / HUNDRED)


def cash_round(total: Decimal, *, increment: Decimal | None = None, method: str | None = None) -> Decimal:
    """Round ``total`` to the cash rounding increment (settings.CASH_ROUNDING_*)."""
    increment = settings.CASH_ROUNDING_INCREMENT if increment is None else increment
    method = settings.CASH_ROUNDING_METHOD if method is None else method
    units = (total / increment).quantize(Decimal(1), rounding=method)
    return money(units * increment)
