"""The drawer's ledger: the one place a count changes.

Every change of a drawer count, whatever moves it (a bill's notes in and change out, a refund's cash,
a float counted at an open or a close, cash paid in or out, a count a manager sets), is posted here:
one guarded UPDATE of the counts (``count + delta >= 0``, backed by the CHECK constraint) and the
INSERT of one ``DrawerMovement`` per value moved, each with the count it leaves. The movements are
written only when every count was updated, so the ledger always sums to the counts
(``manage.py drawer_audit``).

``ledger_post`` takes the rows locked by ``lock_objects.denominations_for_update`` (step 5 of the
lock order in docs/architecture.md) and posts at once. ``ledger_post_with`` rides as CTEs of the
caller's own statement (a bill's last); the caller then reads ``Posting.movements`` from what the
statement returned and refuses the whole operation when it is ``None``.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Model

from billing_project.core.db import InsertedIds, Writes, guarded_add_then_insert, insert_rows, new_row
from billing_project.core.errors import DomainError
from billing_project.core.types import Actor, recorded_user

from .errors import ChangeUnavailable
from .models import CashMovement, Denomination, DrawerMovement, Till

Kind = DrawerMovement.Kind


class Posting:
    """What ``ledger_post`` recorded. With ``writes``: ``sql`` goes in the statement's ``RETURNING`` (or
    ``SELECT``) list, and ``movements(value)`` reads what it returned."""

    def __init__(self, ids: InsertedIds[DrawerMovement] | None = None, done: list[DrawerMovement] | None = None):
        self._ids, self._done = ids, done
        self.sql = ids.sql if ids is not None else ""

    def movements(self, value: Any = None) -> list[DrawerMovement] | None:
        """The ledger rows written, or ``None`` when a count would have gone negative (then nothing was
        written, and the caller's transaction must roll back)."""
        return self._ids.inserted(value) if self._ids is not None else self._done


def ledger_post(
    *,
    denominations: Iterable[Denomination],
    moves: Sequence[tuple[str, Mapping[Decimal, int]]],
    session_id: int | None,
    user: Actor,
    reason: str,
    created_at: datetime | None = None,
    purchase: Model | None = None,
    refund: Model | None = None,
    cash_movement: CashMovement | None = None,
    refusal: DomainError | None = None,
    store_id: int | None = None,
) -> list[DrawerMovement]:
    """Post ``moves`` to the locked ``denominations`` now: each ``(kind, {value: delta})``, in the
    order given, one movement per value (a delta of 0 is skipped), ``count_after`` following on from
    the one before; the denominations' ``count`` is updated in memory too. One statement on
    PostgreSQL, two elsewhere. Returns the movements written; a count that would go negative writes
    nothing and raises ``refusal`` (by default ``ChangeUnavailable``), which the lock makes rare.
    ``purchase`` and ``refund`` are the bill or refund that moved the cash (models of the app above,
    so typed as any model here). ``store_id`` is the till's store, which every movement carries
    (docs/scale-out.md); not given, it is read from the till (one more query)."""
    changed, movements = _movements(
        denominations, moves, session_id, user, reason, created_at, purchase, refund, cash_movement, store_id
    )
    if not movements:
        return []
    if not changed:
        return insert_rows(movements)
    written = guarded_add_then_insert(Denomination, "count", changed, movements)
    if written is None:
        raise refusal or ChangeUnavailable("The drawer changed while it was being counted.")
    return written


def ledger_post_with(
    writes: Writes,
    *,
    denominations: Iterable[Denomination],
    moves: Sequence[tuple[str, Mapping[Decimal, int]]],
    session_id: int | None,
    user: Actor,
    reason: str,
    created_at: datetime | None = None,
    purchase: Model | None = None,
    refund: Model | None = None,
    store_id: int | None = None,
) -> Posting:
    """``ledger_post`` as CTEs of a statement the caller sends (``writes``): see ``Posting``. The
    caller raises the refusal, where its statement runs."""
    changed, movements = _movements(
        denominations, moves, session_id, user, reason, created_at, purchase, refund, None, store_id
    )
    if not movements:
        return Posting(done=[])
    return Posting(writes.guarded_add_then_insert("drawer", Denomination, "count", changed, movements))


def _movements(
    denominations, moves, session_id, user, reason, created_at, purchase, refund, cash_movement, store_id
) -> tuple[dict[int, int], list[DrawerMovement]]:
    """The count changes by denomination (those that cancel out left out) and the ledger rows."""
    by_value = {d.value: d for d in denominations}
    if store_id is None and by_value and any(delta for _, changes in moves for delta in changes.values()):
        till_id = next(iter(by_value.values())).till_id
        store_id = Till.objects.values_list("store_id", flat=True).get(pk=till_id)
    recorded = recorded_user(user)
    movements: list[DrawerMovement] = []
    deltas: dict[int, int] = {}
    extra: dict[str, Any] = {} if created_at is None else {"created_at": created_at}
    for kind, changes in moves:
        for value, delta in changes.items():
            if not delta:
                continue
            denomination = by_value[value]
            deltas[denomination.pk] = deltas.get(denomination.pk, 0) + delta
            denomination.count += delta
            movements.append(
                new_row(
                    DrawerMovement,
                    till_id=denomination.till_id,
                    store_id=store_id,
                    session_id=session_id,
                    denomination=denomination,
                    kind=kind,
                    delta=delta,
                    count_after=denomination.count,
                    purchase=purchase,
                    refund=refund,
                    cash_movement=cash_movement,
                    user=recorded,
                    reason=reason,
                    **extra,
                )
            )
    # Notes in and change out of one value may cancel: then only the movements are written.
    return {pk: delta for pk, delta in deltas.items() if delta}, movements
