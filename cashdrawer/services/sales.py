"""What a bill or a refund does at a till: lock the till and its drawer, check the notes tendered,
work out the change, and record the drawer's movements."""

import logging
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Subquery

from billing_project.core.db import (
    InsertedIds,
    Writes,
    compiled_rows,
    guarded_add,
    new_row,
)
from billing_project.core.errors import ValidationFailed
from billing_project.core.money import format_money
from billing_project.core.types import Actor, Pieces, recorded_user

from ..change import SearchBudgetExceeded, make_change
from ..errors import (
    ChangeTooComplex,
    ChangeUnavailable,
    SessionClosed,
    TenderMismatch,
    TillInactive,
    TillNotFound,
)
from ..lock_objects import denominations_for_update, till_for_update
from ..models import (
    MAX_COUNT,
    Denomination,
    DrawerMovement,
    Till,
    TillSession,
)
from .drawer import _pieces_list
from .tills import _lock_till, _open_session_id, _open_sessions, till_default

if TYPE_CHECKING:
    from purchases.models import Purchase, Refund

logger = logging.getLogger("billing.drawer")

Kind = DrawerMovement.Kind


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
    tendered notes are in it. Pass rows locked with ``denominations_for_update``."""
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


class DrawerRecord:
    """A bill's drawer writes, sent with the caller's statement (``drawer_record_bill``): put ``sql``
    in its ``RETURNING`` list and hand what it returns to ``movements()``."""

    def __init__(self, ids: InsertedIds | None) -> None:
        self._ids = ids
        self.sql = ids.sql if ids is not None else ""

    def movements(self, value: Any = None) -> list[DrawerMovement]:
        """The ledger rows recorded; ``ChangeUnavailable`` when a count would have gone negative
        (nothing was recorded then, and the bill's transaction must roll back)."""
        if self._ids is None:
            return []
        recorded = self._ids.inserted(value)
        if recorded is None:
            raise ChangeUnavailable("The drawer changed while the bill was being rung up.")
        return recorded


def drawer_record_bill(
    *,
    writes: Writes,
    denominations: Iterable[Denomination],
    purchase: "Purchase",
    tendered: Mapping[Decimal, int],
    change: Mapping[Decimal, int],
    user: Actor = None,
    session_id: int | None = None,
) -> DrawerRecord:
    """Apply a bill to the drawer, whatever the number of notes: one guarded UPDATE of the counts
    and the INSERT of the movements, the movements only when every count was updated
    (``Writes.guarded_add_then_insert``). They are added to ``writes``, to go out as CTEs of the
    caller's statement on PostgreSQL (the bill's last: its invoice number); elsewhere they run now.

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
                new_row(
                    DrawerMovement,
                    till_id=denomination.till_id,
                    session_id=session_id,
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
    if not movements:
        return DrawerRecord(None)
    # Nothing to count (change given back in the notes tendered): the movements alone.
    deltas = {pk: delta for pk, delta in delta_by_pk.items() if delta}
    return DrawerRecord(writes.guarded_add_then_insert("drawer", Denomination, "count", deltas, movements))


def drawer_record_refund(
    *,
    denominations: Iterable[Denomination],
    refund: "Refund",
    pieces: Mapping[Decimal, int],
    user: Actor = None,
    session_id: int,
) -> list[DrawerMovement]:
    """Pay a refund's cash out of the drawer: one ``refund_out`` movement per value, in one UPDATE
    and one INSERT. Plan ``pieces`` with ``drawer_plan_change`` on rows locked with
    ``denominations_for_update``; the ``count + delta >= 0`` guard backs the lock up."""
    by_value = {d.value: d for d in denominations}
    movements, deltas = [], {}
    for value, count in sorted(pieces.items(), reverse=True):
        if not count:
            continue
        denomination = by_value[value]
        deltas[denomination.pk] = -count
        denomination.count -= count
        movements.append(
            DrawerMovement(
                till_id=denomination.till_id,
                session_id=session_id,
                denomination=denomination,
                kind=Kind.REFUND_OUT,
                delta=-count,
                count_after=denomination.count,
                refund=refund,
                user=recorded_user(user),
                reason=f"refund #{refund.pk} of bill #{refund.purchase_id}",
                created_at=refund.created_at,
            )
        )
    if deltas and guarded_add(Denomination, "count", deltas) != len(deltas):
        raise ChangeUnavailable("The drawer changed while the refund was being paid out.")
    return DrawerMovement.objects.bulk_create(movements)


def till_lock_for_bill(*, till_id: int | None, user: Actor = None) -> tuple[Till, int, list[Denomination]]:
    """For ``purchase_create``, inside its transaction: lock the bill's till (default
    ``DEFAULT_TILL``) and its denominations, and find its open session, opening one automatically at
    the current counts when there is none.

    Run after the bill's products are locked (steps 3 and 4 of the lock order). The session is read
    after the till lock, so a bill that waited for a close sees the session closed.

    Returns ``(till, session_id, denominations)``. Raises ``ValidationFailed`` for an unknown till,
    ``TillInactive``, or ``SessionClosed`` when the till requires an open session and has none."""
    # The locks are the lock_objects querysets, compiled once (``compiled_rows``): a bill pays for
    # running them, not for building them. Code and id are unique, so each finds one till or none.
    if till_id is None:
        till = next(iter(compiled_rows(_till_by_code, settings.DEFAULT_TILL)), None)
        if till is None:
            till = _lock_till(till_default().pk)
    else:
        till = next(iter(compiled_rows(_till_by_id, till_id)), None)
        if till is None:
            raise TillNotFound(f"Till {till_id} does not exist.", details={"till": till_id})
    if not till.is_active:
        raise TillInactive(f"Till {till.code} is inactive.", details={"till": till.pk})
    # The open session rides on the drawer's locking SELECT (one round trip fewer). That statement
    # starts after the till lock is held, so its snapshot sees any open or close committed before
    # (sessions are only written under the till lock), exactly as a separate query would.
    denominations = compiled_rows(_drawer_with_open_session, till.pk)
    # A till without denominations has no row to carry it; ask on its own then.
    session_id = denominations[0].open_session_id if denominations else _open_session_id(till.pk)
    if session_id is None:
        if till.requires_open_session:
            raise SessionClosed(
                f"Till {till.code} has no open session; open it with a counted float first.",
                details={"till": till.pk},
            )
        session_id = TillSession.objects.create(
            till=till,
            opened_by=recorded_user(user),
            opening_counted=_pieces_list({d.value: d.count for d in denominations}),
            auto_opened=True,
            note="opened by a bill",
        ).pk
        logger.info("till %s session #%s opened automatically", till.code, session_id)
    return till, session_id, denominations


def _till_by_code(code: str):
    return till_for_update(code=code)


def _till_by_id(till_id: int):
    return till_for_update(till_id=till_id)


def _drawer_with_open_session(till_id: int):
    """The till's denominations, locked by value (step 5), each carrying the till's open session."""
    return denominations_for_update(till_id=till_id).annotate(
        open_session_id=Subquery(_open_sessions(till_id).values("pk")[:1])
    )
