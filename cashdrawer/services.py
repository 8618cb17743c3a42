"""The cash drawer. Every change to a count goes through here and lands in the movement ledger."""

import logging
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from billing_project.db import atomic_write, guarded_add
from billing_project.errors import ValidationFailed
from billing_project.money import format_money
from billing_project.types import Actor, Pieces, recorded_user
from purchases.lock_objects import denomination_for_update, denominations_for_update

from .change import SearchBudgetExceeded, make_change
from .errors import ChangeTooComplex, ChangeUnavailable, DenominationExists, TenderMismatch, TooManyDenominations
from .models import MAX_COUNT, MAX_DENOMINATIONS, MAX_VALUE, Denomination, DrawerMovement

if TYPE_CHECKING:
    from purchases.models import Purchase

logger = logging.getLogger("billing.drawer")

Kind = DrawerMovement.Kind


def _check_count(count: int) -> None:
    if not 0 <= count <= MAX_COUNT:
        raise ValidationFailed(
            f"A count must be between 0 and {MAX_COUNT}.", details={"available_count": ["Out of range."]}
        )


def _check_value(value: Decimal) -> None:
    if value <= 0:
        raise ValidationFailed("A denomination must be positive.", details={"value": ["Must be greater than 0."]})
    if value > MAX_VALUE:
        raise ValidationFailed(
            f"A denomination is worth at most {MAX_VALUE}.", details={"value": [f"Must be at most {MAX_VALUE}."]}
        )


def _lock_drawer_with_room() -> None:
    """Lock the drawer's rows and refuse a new value once it holds ``MAX_DENOMINATIONS``.

    Two managers adding values at once both lock every row (in value order, as a bill does), so
    the second waits for the first to commit; the count is a fresh statement after the lock, so
    it sees the first one's row. (A drawer with no rows yet has nothing to lock, and room.)"""
    list(denominations_for_update().values_list("pk", flat=True))
    held = Denomination.objects.count()
    if held >= MAX_DENOMINATIONS:
        raise TooManyDenominations(
            f"The drawer already holds {held} denomination values, the most it may ({MAX_DENOMINATIONS}).",
            details={"held": held, "max": MAX_DENOMINATIONS},
        )


@atomic_write()
def denomination_create(*, value: Decimal, count: int = 0, user: Actor = None, reason: str = "") -> Denomination:
    """Add a note or coin value to the drawer. A starting count is recorded as a manual movement.

    Locks every drawer row (value order), then counts them: raises ``TooManyDenominations`` at
    ``MAX_DENOMINATIONS``, ``ValidationFailed`` for a value or count over its cap, and
    ``DenominationExists`` for a value already there."""
    _check_value(value)
    _check_count(count)
    if Denomination.objects.filter(value=value).exists():
        raise DenominationExists(details={"value": str(value)})
    _lock_drawer_with_room()
    try:
        with transaction.atomic():
            denomination = Denomination.objects.create(value=value, count=0)
    except IntegrityError:
        raise DenominationExists(details={"value": str(value)}) from None
    if count:
        _set(denomination, count, user=user, reason=reason or "denomination added")
    return denomination


@atomic_write()
def drawer_set_count(*, value: Decimal, count: int, user: Actor = None, reason: str = "") -> Denomination:
    """Set one denomination's count, e.g. when a manager counts the float.

    Locks that denomination's row. Raises ``Denomination.DoesNotExist`` for an unknown value."""
    _check_count(count)
    denomination = denomination_for_update(value).get()
    if count != denomination.count:
        _set(denomination, count, user=user, reason=reason or "count set")
    return denomination


def _set(denomination: Denomination, count: int, *, user: Actor, reason: str) -> None:
    user = recorded_user(user)
    delta = count - denomination.count
    Denomination.objects.filter(pk=denomination.pk).update(count=count)
    DrawerMovement.objects.create(
        denomination=denomination, kind=Kind.MANUAL_SET, delta=delta, count_after=count, user=user, reason=reason
    )
    logger.info("drawer %s set %s -> %s by %s: %s", denomination.value, denomination.count, count, user, reason)
    denomination.count = count


def drawer_check_tender(
    *, denominations: Iterable[Denomination], tendered: Iterable[Pieces], paid_amount: Decimal
) -> dict[Decimal, int]:
    """Combine the tendered notes by value and check them against the drawer and the amount paid."""
    known = {d.value for d in denominations}
    pieces: dict[Decimal, int] = {}
    for note in tendered:
        value, count = Decimal(note["value"]), int(note["count"])
        if value not in known:
            raise TenderMismatch(f"{value} is not a denomination of this drawer.", details={"value": str(value)})
        if count <= 0:
            raise ValidationFailed("A tendered count must be positive.", details={"tendered": ["Count must be > 0."]})
        pieces[value] = pieces.get(value, 0) + count
    counts = {d.value: d.count for d in denominations}
    if any(counts[value] + count > MAX_COUNT for value, count in pieces.items()):
        raise ValidationFailed(
            "The drawer cannot hold that many notes of one value.", details={"tendered": ["Count too large."]}
        )
    tendered_total = sum((v * c for v, c in pieces.items()), Decimal("0.00"))
    if tendered_total != paid_amount:
        raise TenderMismatch(
            f"The tendered notes add up to {format_money(tendered_total)}, not the {format_money(paid_amount)} paid.",
            details={"tendered_total": f"{tendered_total:.2f}", "paid_amount": f"{paid_amount:.2f}"},
        )
    return pieces


def drawer_plan_change(
    *, denominations: Iterable[Denomination], tendered: Mapping[Decimal, int], change_due: Decimal
) -> dict[Decimal, int]:
    """The fewest notes and coins that make ``change_due`` from what the drawer holds once the
    tendered notes are in it. Pass rows locked with ``denominations_for_update``.

    Raises ``ChangeUnavailable`` when no exact change exists, and its subclass ``ChangeTooComplex``
    when the search gives up within its step budget (a contrived drawer; a few tens of
    milliseconds at most, so the drawer rows are never held for long)."""
    available = {d.value: d.count + tendered.get(d.value, 0) for d in denominations}
    try:
        change = make_change(change_due, available)
    except SearchBudgetExceeded:
        logger.warning("change of %s refused: the search ran out of its budget (%d values)", change_due, len(available))
        raise ChangeTooComplex(details={"change_due": f"{change_due:.2f}", "denominations": len(available)}) from None
    if change is None:
        raise ChangeUnavailable(
            f"The drawer cannot make exact change of {format_money(change_due)}.",
            details={"change_due": f"{change_due:.2f}"},
        )
    return change


def drawer_record_bill(
    *,
    denominations: Iterable[Denomination],
    purchase: "Purchase",
    tendered: Mapping[Decimal, int],
    change: Mapping[Decimal, int],
    user: Actor = None,
) -> list[DrawerMovement]:
    """Apply a bill to the drawer in one UPDATE and one INSERT, whatever the number of notes.

    The rows must be locked (``denominations_for_update``). The ``count + delta >= 0`` guard and
    the CHECK constraint back the lock up: a count can never go negative."""
    by_value = {d.value: d for d in denominations}
    movements = []
    delta_by_pk: dict[int, int] = {}
    for kind, pieces, sign in ((Kind.TENDER_IN, tendered, 1), (Kind.CHANGE_OUT, change, -1)):
        for value, count in pieces.items():
            denomination = by_value[value]
            delta_by_pk[denomination.pk] = delta_by_pk.get(denomination.pk, 0) + sign * count
            denomination.count += sign * count
            movements.append(
                DrawerMovement(
                    denomination=denomination,
                    kind=kind,
                    delta=sign * count,
                    count_after=denomination.count,
                    purchase=purchase,
                    user=recorded_user(user),
                    reason=f"bill #{purchase.pk}",
                    created_at=purchase.created_at,
                )
            )
    delta_by_pk = {pk: delta for pk, delta in delta_by_pk.items() if delta}
    if delta_by_pk and guarded_add(Denomination, "count", delta_by_pk) != len(delta_by_pk):
        raise ChangeUnavailable("The drawer changed while the bill was being rung up.")
    return DrawerMovement.objects.bulk_create(movements)


@atomic_write()
def drawer_set_counts(
    *, counts: Mapping[Decimal, int], user: Actor = None, reason: str = "", create_missing: bool = False
) -> dict[str, list[Decimal]]:
    """Set several denominations' counts at once (a counted float), all or nothing.

    Each set is a manual movement with ``user`` and ``reason``, as with ``drawer_set_count``.
    Unknown values are added with ``denomination_create`` when ``create_missing``, otherwise
    ``Denomination.DoesNotExist`` is raised. Locks the existing rows one by one in ascending
    value, the global drawer lock order (``purchases.lock_objects``).

    Returns ``{"created": [...], "changed": [...], "unchanged": [...]}`` lists of values."""
    result: dict[str, list[Decimal]] = {"created": [], "changed": [], "unchanged": []}
    for value in sorted(counts):
        _check_count(counts[value])
    existing = set(Denomination.objects.filter(value__in=list(counts)).values_list("value", flat=True))
    for value in sorted(counts):
        count = counts[value]
        if value not in existing:
            if not create_missing:
                raise Denomination.DoesNotExist(f"{value} is not a denomination of this drawer.")
            denomination_create(value=value, count=count, user=user, reason=reason)
            result["created"].append(value)
            continue
        before = denomination_for_update(value).get().count  # read under the lock drawer_set_count takes
        drawer_set_count(value=value, count=count, user=user, reason=reason)
        result["changed" if count != before else "unchanged"].append(value)
    return result
