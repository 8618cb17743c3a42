"""A till's drawer: its denominations and their counts, set by a manager or brought to a counted
float. Every change of a count lands in the movement ledger."""

import logging
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing_project.core.db import atomic_write
from billing_project.core.errors import ValidationFailed
from billing_project.core.pieces import Pieces
from billing_project.core.types import Actor, recorded_user

from ..errors import (
    DenominationExists,
    TooManyDenominations,
)
from ..ledger import ledger_post
from ..lock_objects import denomination_for_update
from ..models import (
    MAX_COUNT,
    MAX_DENOMINATIONS,
    MAX_VALUE,
    Denomination,
    DrawerMovement,
    Till,
)
from .tills import _check_count, _lock_till, _open_session_id, _till_id

logger = logging.getLogger("billing.drawer")

Kind = DrawerMovement.Kind


def _check_value(value: Decimal) -> None:
    if value <= 0:
        raise ValidationFailed("A denomination must be positive.", details={"value": ["Must be greater than 0."]})
    if value > MAX_VALUE:
        raise ValidationFailed(
            f"A denomination is worth at most {MAX_VALUE}.", details={"value": [f"Must be at most {MAX_VALUE}."]}
        )


def _check_room(till_id: int) -> None:
    """Refuse a new value once the till's drawer holds ``MAX_DENOMINATIONS``. Hold the till's lock:
    two managers adding values at once queue on it, and the count is a fresh statement after it."""
    held = Denomination.objects.filter(till_id=till_id).count()
    if held >= MAX_DENOMINATIONS:
        raise TooManyDenominations(
            f"The drawer already holds {held} denomination values, the most it may ({MAX_DENOMINATIONS}).",
            details={"held": held, "max": MAX_DENOMINATIONS},
        )


@atomic_write()
def denomination_create(
    *, value: Decimal, count: int = 0, user: Actor = None, reason: str = "", till: "Till | int | None" = None
) -> Denomination:
    """Add a note or coin value to a till's drawer (default: ``DEFAULT_TILL``). A starting count is
    recorded as a manual movement. Locks the till row, then counts the drawer's values: raises
    ``TooManyDenominations`` at ``MAX_DENOMINATIONS``, ``ValidationFailed`` for a value or count over
    its cap, and ``DenominationExists`` for a value already there."""
    _check_value(value)
    _check_count(count)
    till_id = _till_id(till)
    _lock_till(till_id)
    if Denomination.objects.filter(till_id=till_id, value=value).exists():
        raise DenominationExists(details={"value": str(value)})
    _check_room(till_id)
    try:
        with transaction.atomic():
            denomination = Denomination.objects.create(till_id=till_id, value=value, count=0)
    except IntegrityError:
        raise DenominationExists(details={"value": str(value)}) from None
    if count:
        _set(denomination, count, user=user, reason=reason or "denomination added")
    return denomination


@atomic_write()
def drawer_set_count(
    *, value: Decimal, count: int, user: Actor = None, reason: str = "", till: "Till | int | None" = None
) -> Denomination:
    """Set one denomination's count, e.g. when a manager counts the float.

    Locks the till row, then that denomination's row. Raises ``Denomination.DoesNotExist`` for an
    unknown value."""
    _check_count(count)
    till_id = _till_id(till)
    _lock_till(till_id)
    denomination = denomination_for_update(till_id=till_id, value=value).get()
    if count != denomination.count:
        _set(denomination, count, user=user, reason=reason or "count set")
    return denomination


def _set(denomination: Denomination, count: int, *, user: Actor, reason: str) -> None:
    """A manual set, recorded in the till's open session when there is one. Hold the till's lock."""
    before = denomination.count
    ledger_post(
        denominations=[denomination],
        moves=[(Kind.MANUAL_SET, {denomination.value: count - before})],
        session_id=_open_session_id(denomination.till_id),
        user=user,
        reason=reason,
    )
    logger.info("drawer %s set %s -> %s by %s: %s", denomination.value, before, count, recorded_user(user), reason)


@atomic_write()
def drawer_set_counts(
    *,
    counts: Mapping[Decimal, int],
    user: Actor = None,
    reason: str = "",
    create_missing: bool = False,
    till: "Till | int | None" = None,
) -> dict[str, list[Decimal]]:
    """Set several denominations' counts at once (a counted float), all or nothing.

    Each set is a manual movement with ``user`` and ``reason``, as with ``drawer_set_count``.
    Unknown values are added with ``denomination_create`` when ``create_missing``, otherwise
    ``Denomination.DoesNotExist`` is raised. Locks the till row, then the existing rows one by one
    in ascending value, the global drawer lock order (``lock_objects``).

    Returns ``{"created": [...], "changed": [...], "unchanged": [...]}`` lists of values."""
    result: dict[str, list[Decimal]] = {"created": [], "changed": [], "unchanged": []}
    for value in sorted(counts):
        _check_count(counts[value])
    till_id = _till_id(till)
    _lock_till(till_id)
    existing = set(Denomination.objects.filter(till_id=till_id, value__in=list(counts)).values_list("value", flat=True))
    for value in sorted(counts):
        count = counts[value]
        if value not in existing:
            if not create_missing:
                raise Denomination.DoesNotExist(f"{value} is not a denomination of this drawer.")
            denomination_create(value=value, count=count, user=user, reason=reason, till=till_id)
            result["created"].append(value)
            continue
        # read under the lock drawer_set_count takes
        before = denomination_for_update(till_id=till_id, value=value).get().count
        drawer_set_count(value=value, count=count, user=user, reason=reason, till=till_id)
        result["changed" if count != before else "unchanged"].append(value)
    return result


def drawer_counted(denominations: Sequence[Denomination], counted: Iterable[Mapping], *, field: str) -> Pieces:
    """A full count of the drawer: every known value, those left out at zero. An unknown or repeated
    value, or a count out of range, is a ``validation_error``."""
    given = Pieces.parse(
        counted,
        field=field,
        known={d.value for d in denominations},
        repeats="refuse",
        counts=range(MAX_COUNT + 1),
        count_error=(f"A count must be between 0 and {MAX_COUNT}.", "Out of range."),
    )
    return Pieces({**dict.fromkeys((d.value for d in denominations), 0), **given})


def drawer_bring_counts_to(
    *,
    denominations: Sequence[Denomination],
    target: Mapping[Decimal, int],
    kind: str,
    session_id: int,
    user: Actor,
    reason: str,
) -> None:
    """Set the locked ``denominations`` to ``target`` with one movement of ``kind`` per changed value."""
    ledger_post(
        denominations=denominations,
        moves=[(kind, {d.value: target[d.value] - d.count for d in denominations})],
        session_id=session_id,
        user=user,
        reason=reason,
        created_at=timezone.now(),
    )
