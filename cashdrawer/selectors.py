"""Reads of the cash drawer: its contents, its total, and an audit of the movement ledger."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from .models import Denomination, DrawerMovement, Till, TillSession


def drawer_list(*, till_id: int | None = None) -> QuerySet[Denomination]:
    """One till's denominations (default: ``DEFAULT_TILL``), highest value first."""
    qs = Denomination.objects.filter(till_id=till_id) if till_id is not None else default_till_drawer()
    return qs.order_by("-value")


def default_till_drawer() -> QuerySet[Denomination]:
    return Denomination.objects.filter(till__code=settings.DEFAULT_TILL)


def till_list() -> QuerySet[Till]:
    """Tills by code, each with ``current_session``: its open session's id, or None."""
    open_session = TillSession.objects.filter(till=OuterRef("pk"), status=TillSession.Status.OPEN).values("pk")[:1]
    return Till.objects.annotate(current_session=Subquery(open_session)).order_by("code")


def session_list(*, till_id: int | None = None, status: str | None = None) -> QuerySet[TillSession]:
    """Sessions newest first, optionally of one till and in one status."""
    qs = TillSession.objects.select_related("till")
    if till_id is not None:
        qs = qs.filter(till_id=till_id)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-opened_at", "-id")


def drawer_total(denominations=None) -> Decimal:
    """The drawer's cash: sum of value × count."""
    rows = drawer_list() if denominations is None else denominations
    return sum((d.value * d.count for d in rows), Decimal("0.00"))


def movement_list() -> QuerySet[DrawerMovement]:
    """The ledger, newest first, with what each row points at."""
    return DrawerMovement.objects.select_related("till", "session__till", "denomination", "purchase", "user").order_by(
        "-created_at", "-id"
    )


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

    @property
    def tills(self) -> int:
        return len({row.denomination.till_id for row in self.rows})

    @property
    def closed_sessions(self) -> int:
        return TillSession.objects.filter(status=TillSession.Status.CLOSED).count()


def drawer_audit() -> Audit:
    """Check every till's drawer against its ledger, and each closed session's frozen report.

    For every denomination of every till: its count equals the sum of its movements' deltas, and is not
    negative; replaying its movements in insertion order (id), each movement's ``count_after`` is
    the running sum and never negative. Movements of one denomination are written under that
    denomination's row lock, so their ids follow the order in which they were applied."""
    zero = Value(0, output_field=IntegerField())
    denominations = list(
        Denomination.objects.select_related("till")
        .order_by("till__code", "-value")
        .annotate(ledger_count=Coalesce(Sum("movements__delta"), zero), movement_count=Count("movements"))
    )
    rows, problems = [], []
    for d in denominations:
        rows.append(AuditRow(denomination=d, movements=d.movement_count, ledger_count=d.ledger_count))
        if d.count < 0:
            problems.append(f"{d.till.code} {d.value}: count {d.count} is negative")
        if d.count != d.ledger_count:
            problems.append(f"{d.till.code} {d.value}: count {d.count} but its movements add up to {d.ledger_count}")

    by_pk = {d.pk: d for d in denominations}
    running: dict[int, int] = {}
    reported: set[int] = set()
    movements = (
        DrawerMovement.objects.order_by("denomination_id", "id")
        .values_list("denomination_id", "id", "delta", "count_after", "till_id")
        .iterator(chunk_size=5000)
    )
    for denomination_id, movement_id, delta, count_after, till_id in movements:
        if denomination_id in by_pk and till_id != by_pk[denomination_id].till_id:
            problems.append(f"movement #{movement_id} is recorded at another till than its denomination")
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
    problems.extend(closed_sessions_audit())
    return Audit(rows=rows, problems=problems)


_LIVE_KEYS = ("status", "closed_at", "counted_by", "approved_by", "approval_reason")
_CLOSE_KEYS = ("counted", "variance")


def closed_sessions_audit() -> list[str]:
    """Each closed session's frozen Z report against the ledger and the bills as they are now: the
    same figures, close_count movements equal to the per-value variance, and counted − expected
    equal to the variance total."""
    from decimal import Decimal

    from .reports import session_figures

    problems = []
    close_counts: dict[int, dict[str, int]] = {}
    for session_id, value, delta in DrawerMovement.objects.filter(kind=DrawerMovement.Kind.CLOSE_COUNT).values_list(
        "session_id", "denomination__value", "delta"
    ):
        close_counts.setdefault(session_id, {})[f"{value:.2f}"] = delta
    for session in TillSession.objects.filter(status=TillSession.Status.CLOSED).select_related("till").order_by("pk"):
        label = f"{session.till.code} session #{session.pk}"
        frozen = dict(session.report or {})
        now = session_figures(session)
        frozen_cash, now_cash = dict(frozen.pop("cash", {})), now.pop("cash")
        for key in _LIVE_KEYS:
            frozen.pop(key, None)
            now.pop(key, None)
        for key in _CLOSE_KEYS:
            frozen_cash.pop(key, None)
            now_cash.pop(key, None)
        if frozen != now or frozen_cash != now_cash:
            problems.append(f"{label}: its Z report no longer matches the ledger and bills")
        variance = {row["value"]: row["count"] for row in session.variance or []}
        if variance != close_counts.get(session.pk, {}):
            problems.append(f"{label}: close_count movements do not equal its variance")
        counted = sum((Decimal(r["value"]) * r["count"] for r in session.closing_counted or []), Decimal("0.00"))
        if session.variance_total != counted - Decimal(now_cash["expected"]):
            problems.append(f"{label}: variance_total is not counted minus expected")
    return problems


def cash_movement_get(*, movement_id: int):
    """One cash in/out with its pieces."""
    from django.db.models import Prefetch

    from .models import CashMovement

    return CashMovement.objects.prefetch_related(
        Prefetch("drawer_movements", queryset=DrawerMovement.objects.select_related("denomination"))
    ).get(pk=movement_id)


def sessions_pending_approval():
    """Sessions whose closing count waits for a manager, oldest first, with the till and counter."""
    return (
        TillSession.objects.filter(status=TillSession.Status.PENDING_APPROVAL)
        .select_related("till", "closed_by")
        .order_by("opened_at", "pk")
    )
