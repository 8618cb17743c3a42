"""Reads of the cash drawer: its contents, its total, and an audit of the movement ledger."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, IntegerField, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from .models import Denomination, DrawerMovement


def drawer_list() -> QuerySet[Denomination]:
    """Every denomination, highest value first."""
    return Denomination.objects.order_by("-value")


def drawer_total(denominations=None) -> Decimal:
    """The drawer's cash: sum of value × count."""
    rows = drawer_list() if denominations is None else denominations
    return sum((d.value * d.count for d in rows), Decimal("0.00"))


def movement_list() -> QuerySet[DrawerMovement]:
    """The ledger, newest first, with what each row points at."""
    return DrawerMovement.objects.select_related("denomination", "purchase", "user").order_by("-created_at", "-id")


@dataclass(frozen=True)
class AuditRow:
    denomination: Denomination
    movements: int
    ledger_count: int  # sum of the denomination's movement deltas

    @property
    def total(self) -> Decimal:
        return self.denomination.value * self.denomination.count


@dataclass(frozen=True)
class Audit:
    rows: list[AuditRow]
    problems: list[str]

    @property
    def total(self) -> Decimal:
        return sum((row.total for row in self.rows), Decimal("0.00"))

    @property
    def ok(self) -> bool:
        return not self.problems


def drawer_audit() -> Audit:
    """Check the drawer against its ledger.

    For every denomination: its count equals the sum of its movements' deltas, and is not
    negative; replaying its movements in insertion order (id), each movement's ``count_after`` is
    the running sum and never negative. Movements of one denomination are written under that
    denomination's row lock, so their ids follow the order in which they were applied."""
    zero = Value(0, output_field=IntegerField())
    denominations = list(
        drawer_list().annotate(ledger_count=Coalesce(Sum("movements__delta"), zero), movement_count=Count("movements"))
    )
    rows, problems = [], []
    for d in denominations:
        rows.append(AuditRow(denomination=d, movements=d.movement_count, ledger_count=d.ledger_count))
        if d.count < 0:
            problems.append(f"{d.value}: count {d.count} is negative")
        if d.count != d.ledger_count:
            problems.append(f"{d.value}: count {d.count} but its movements add up to {d.ledger_count}")

    by_pk = {d.pk: d for d in denominations}
    running: dict[int, int] = {}
    reported: set[int] = set()
    movements = (
        DrawerMovement.objects.order_by("denomination_id", "id")
        .values_list("denomination_id", "id", "delta", "count_after")
        .iterator(chunk_size=5000)
    )
    for denomination_id, movement_id, delta, count_after in movements:
        running[denomination_id] = running.get(denomination_id, 0) + delta
        if denomination_id in reported:
            continue
        expected = running[denomination_id]
        value = by_pk[denomination_id].value if denomination_id in by_pk else denomination_id
        if count_after != expected:
            problems.append(
                f"{value}: movement #{movement_id} says count_after={count_after}, the ledger gives {expected}"
            )
            reported.add(denomination_id)  # later rows of this denomination would all be off too
        elif expected < 0:
            problems.append(f"{value}: movement #{movement_id} takes the count below zero ({expected})")
            reported.add(denomination_id)
    return Audit(rows=rows, problems=problems)
