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


# The sign printed before an amount, by ISO 4217 code; other currencies print their code.
CURRENCY_SIGNS = {
    "INR": "₹",
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "CNY": "¥",
    "AUD": "A$",
    "CAD": "C$",
    "SGD": "S$",
    "AED": "AED ",
    "LKR": "Rs ",
    "NPR": "Rs ",
    "PKR": "Rs ",
    "BDT": "৳",
}


def currency_sign(currency: str | None = None) -> str:
    """``₹`` for INR; an unknown code prints as itself and a space (``CHF 10.00``)."""
    code = (currency or settings.CURRENCY).upper()
    return CURRENCY_SIGNS.get(code, f"{code} ")


def format_money(value, *, sign: bool = True, currency: str | None = None) -> str:
    """How every page, receipt, email, admin list and refusal message writes an amount:
    ``₹1,263.00``, ``-₹0.40``; ``sign=False`` gives ``1,263.00``. The one place amounts are
    formatted for people (the API's JSON keeps plain ``"1263.00"`` strings)."""
    amount = money(value)
    text = f"{abs(amount):,.2f}"
    if sign:
        text = currency_sign(currency) + text
    return f"-{text}" if amount < 0 else text


def format_note(value, *, sign: bool = True, currency: str | None = None) -> str:
    """A note or coin: ``₹500``, ``₹0.50`` (whole values without decimals)."""
    amount = money(value)
    text = str(amount.quantize(Decimal(1))) if amount == amount.to_integral_value() else f"{amount:.2f}"
    return (currency_sign(currency) if sign else "") + text
