"""Exact decimals stored as whole numbers of their last place: an amount as paise (``12.34`` is
``1234``), a quantity as thousandths (``1.250`` is ``1250``), in a ``bigint`` column.

PostgreSQL adds ``bigint`` far more cheaply than ``numeric``: a sum of ``bigint`` keeps a 128-bit
integer per group, a sum of ``numeric`` a variable-length state several times larger, so an aggregate
of many groups (the sales rollups by product, docs/reports.md) takes a third of the memory and runs
a quarter to a half faster. Python still sees Decimals of exactly their places; a value with more places than the
field keeps is refused, never rounded.
"""

from decimal import Context, Decimal, Inexact, InvalidOperation
from typing import Any

from django.db import models
from django.db.models.expressions import Combinable

# Wide enough for any bigint and its sums, and trapping every rounding: a conversion is exact or fails.
_EXACT = Context(prec=60, traps=[Inexact, InvalidOperation])


def to_units(value: Any, places: int) -> int:
    """``value`` (a Decimal, an int or its text) as a whole number of ``10 ** -places``: ``to_units(
    Decimal("12.34"), 2) == 1234``. Raises ``ValueError`` when ``value`` has more places than that."""
    scaled = Decimal(value).scaleb(places, context=_EXACT)
    units = int(scaled)
    if units != scaled:
        raise ValueError(f"{value} has more than {places} decimal places")
    return units


def from_units(units: Any, places: int) -> Decimal:
    """A whole number of ``10 ** -places`` (an int, or an integral Decimal, as PostgreSQL's sum of
    ``bigint`` is) as a Decimal of exactly ``places`` places: ``from_units(1234, 2) == Decimal("12.34")``."""
    whole = Decimal(units)
    if whole != whole.to_integral_value():
        raise ValueError(f"{units} is not a whole number of units")
    return whole.quantize(Decimal(1), context=_EXACT).scaleb(-places, context=_EXACT)


class ScaledIntegerField(models.BigIntegerField):
    """A Decimal of ``decimal_places`` places kept in a ``bigint`` column as a whole number of its last
    place (``to_units``): reads give Decimals of exactly those places (``from_units``), writes and
    lookups take Decimals (or ints) and refuse a value with more places."""

    # What django-stubs' mypy plugin takes the attribute's type to be (as for its DecimalField); the
    # stubs' BigIntegerField says int, which is what the column holds, not what Python sees.
    _pyi_private_set_type: str | int | Decimal | Combinable  # type: ignore[assignment]
    _pyi_private_get_type: Decimal  # type: ignore[assignment]
    _pyi_lookup_exact_type: str | int | Decimal  # type: ignore[assignment]

    def __init__(self, *args: Any, decimal_places: int, **kwargs: Any) -> None:
        self.decimal_places = decimal_places
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["decimal_places"] = self.decimal_places
        return name, path, args, kwargs

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Decimal | None:
        return None if value is None else from_units(value, self.decimal_places)

    def to_python(self, value: Any) -> Decimal | None:
        if value is None or isinstance(value, Decimal):
            return value
        return Decimal(value)

    def get_prep_value(self, value: Any) -> Any:
        value = models.Field.get_prep_value(self, value)
        if value is None or hasattr(value, "resolve_expression"):
            return value
        return to_units(value, self.decimal_places)
