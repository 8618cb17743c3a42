"""Money arithmetic. Every amount is a ``Decimal`` with 2 places; floats never appear."""

from decimal import ROUND_HALF_UP, Decimal
from functools import cache, lru_cache

from babel import Locale
from babel.numbers import NumberPattern, parse_pattern
from django.conf import settings

CENT = Decimal("0.01")
HUNDRED = Decimal("100")

# Widest amount the database stores: NUMERIC(14, 2).
MONEY_MAX_DIGITS = 14
MONEY_DECIMAL_PLACES = 2


def money(value) -> Decimal:
    """Quantize to 2 places, half-up. A Decimal is quantized as it is, with the rounding passed by
    position, which Python's ``decimal`` parses in half the time (a sales report by product rounds
    50,000 rows of 9 amounts)."""
    if type(value) is Decimal:
        return value.quantize(CENT, ROUND_HALF_UP)
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


# How digits are grouped for people (settings.NUMBER_GROUPING): "indian" groups the last three digits
# and then pairs (₹1,18,000.00, ₹12,34,567.89: lakhs and crores); "international" groups in threes
# (₹118,000.00). Babel applies the pattern; its English symbols write "," between groups and "." before
# the paise, in either grouping. The API, the CSV files and the form inputs keep plain "118000.00".
NUMBER_GROUPINGS = ("indian", "international")
_GROUP_PATTERNS = {"indian": "#,##,##0", "international": "#,##0"}
# The same grouping for a browser's Intl.NumberFormat, where a page's script writes an amount.
_NUMBER_LOCALES = {"indian": "en-IN", "international": "en-US"}
_SYMBOLS = Locale("en")


@cache
def _pattern(grouping: str, places: int) -> NumberPattern:
    if grouping not in _GROUP_PATTERNS:
        raise ValueError(f"NUMBER_GROUPING must be one of {', '.join(NUMBER_GROUPINGS)}, not {grouping!r}")
    return parse_pattern(_GROUP_PATTERNS[grouping] + ("." + "0" * places if places else ""))


def group_digits(value: Decimal, *, places: int = 2, grouping: str | None = None) -> str:
    """``value`` (not negative) with exactly ``places`` decimals and its digits grouped:
    ``1,18,000.00`` (indian) or ``118,000.00`` (international; default: settings.NUMBER_GROUPING)."""
    return _grouped(value, places, grouping or settings.NUMBER_GROUPING)


@lru_cache(maxsize=4096)
def _grouped(value: Decimal, places: int, grouping: str) -> str:
    # Babel's formatting costs some 20 µs; a page of bills writes the same amounts (prices, notes)
    # many times. Equal decimals (1.5, 1.50) give the same text: the pattern fixes the places.
    return _pattern(grouping, places).apply(value, _SYMBOLS)


def number_locale(grouping: str | None = None) -> str:
    """The BCP 47 locale whose ``Intl.NumberFormat`` groups digits as ``group_digits`` does."""
    return _NUMBER_LOCALES[grouping or settings.NUMBER_GROUPING]


def format_money(value, *, sign: bool = True, currency: str | None = None, grouping: str | None = None) -> str:
    """How every page, receipt, PDF, email, admin list and refusal message writes an amount:
    ``₹1,18,000.00``, ``-₹0.40``, ``₹0.00``; ``sign=False`` gives ``1,18,000.00``. The one place
    amounts are formatted for people (the API's JSON and the CSV files keep plain ``"118000.00"``).
    Digits are grouped as settings.NUMBER_GROUPING says (``grouping`` overrides it)."""
    amount = money(value)
    text = group_digits(abs(amount), grouping=grouping)
    if sign:
        text = currency_sign(currency) + text
    return f"-{text}" if amount < 0 else text


def format_note(value, *, sign: bool = True, currency: str | None = None, grouping: str | None = None) -> str:
    """A note or coin: ``₹500``, ``₹2,000``, ``₹0.50`` (whole values without decimals)."""
    amount = money(value)
    places = 0 if amount == amount.to_integral_value() else 2
    return (currency_sign(currency) if sign else "") + group_digits(abs(amount), places=places, grouping=grouping)
