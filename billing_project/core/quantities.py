"""Quantities and their units: how many of a product sold ``each``, or how much of one sold by
weight, volume or length. One place for the rule and for how a quantity is written.

A product's ``unit`` is ``each`` (whole numbers) or a measure (``kg``, ``g``, ``l``, ``ml``, ``m``)
taken to 3 decimal places: a gram of a kilogram, a millilitre of a litre. Every quantity column
(stock, bill lines, refunds) is ``NUMERIC(13, 3)``; an ``each`` quantity in it is whole.

The API writes an ``each`` quantity as a JSON integer (``2``), exactly as before units existed, and
a measured one as a string with 3 places (``"1.250"``). Pages, PDFs and emails write ``2`` and
``1.250 kg``.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import models

from .errors import ValidationFailed

Quantity = Decimal | int  # an ``each`` quantity may be given as an int

QUANTITY_MAX_DIGITS = 13
QUANTITY_PLACES = 3
MILLI = Decimal("0.001")
ONE = Decimal(1)


class Unit(models.TextChoices):
    EACH = "each", "each"
    KG = "kg", "kg"
    G = "g", "g"
    L = "l", "l"
    ML = "ml", "ml"
    M = "m", "m"


UNITS = frozenset(Unit.values)
# A scale label's weight is in grams; in these units that is a thousandth (kg, l: g, ml; m: mm).
PER_THOUSAND = frozenset({Unit.KG, Unit.L, Unit.M})


def is_each(unit: str) -> bool:
    return unit == Unit.EACH


def quantity_json(quantity, unit: str) -> int | str:
    """The API's form: ``2`` for ``each``, ``"1.250"`` for a measure."""
    if unit == Unit.EACH:
        return int(quantity)
    return f"{quantity:.3f}"


def quantity_text(quantity, unit: str) -> str:
    """For people: ``2`` for ``each``, ``1.250 kg`` for a measure."""
    if unit == Unit.EACH:
        return str(int(quantity))
    return f"{quantity:.3f} {unit}"


def quantity_number(quantity, unit: str) -> str:
    """The number alone, for a table's quantity column beside its unit: ``2``, ``1.250``."""
    if unit == Unit.EACH:
        return str(int(quantity))
    return f"{quantity:.3f}"


def parse_quantity(value) -> Decimal | None:
    """A quantity as a caller gave it (int, ``Decimal`` or plain text), or ``None`` when it is not
    a finite number. Not checked against a unit: see ``check_quantity``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def quantity_problem(quantity: Decimal, unit: str, *, allow_zero: bool = False) -> str:
    """Why ``quantity`` is not one of ``unit``'s, or ``""``: a fraction of an ``each`` product, more
    than 3 decimal places, or not above 0 (not below 0 with ``allow_zero``, as for stock)."""
    if quantity < 0 or (quantity == 0 and not allow_zero):
        return "Quantity must be above 0." if not allow_zero else "Must be 0 or more."
    if unit == Unit.EACH:
        if quantity != quantity.to_integral_value():
            return "Sold each: enter a whole number."
    elif quantity != quantity.quantize(MILLI, rounding=ROUND_HALF_UP):
        return f"At most {QUANTITY_PLACES} decimal places ({unit})."
    return ""


def check_quantity(quantity: Decimal, unit: str, *, field: str = "items", name: str = "") -> Decimal:
    """``quantity`` as stored (3 places), or ``ValidationFailed`` on ``field`` for a fraction of an
    ``each`` product, more than 3 places, or nothing."""
    problem = quantity_problem(quantity, unit)
    if problem:
        subject = f"{name}: " if name else ""
        raise ValidationFailed(f"{subject}{problem}", details={field: [problem]})
    return quantity.quantize(MILLI)


def round_quantity(value: Decimal) -> Decimal:
    """To 3 places, half-up: how a scale label's price becomes a quantity."""
    return value.quantize(MILLI, rounding=ROUND_HALF_UP)
