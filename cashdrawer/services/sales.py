"""What a bill or a refund does at a till: lock the till and its drawer, check the notes tendered, and
work out the change. The drawer's movements are posted through ``cashdrawer.ledger``."""

import logging
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import cast

from django.conf import settings

from billing_project.core.db import compiled_rows
from billing_project.core.errors import ValidationFailed
from billing_project.core.money import format_money
from billing_project.core.pieces import Pieces
from billing_project.core.types import Actor, PieceRow, recorded_user
from catalog.stores import can_see_store

from ..change import SearchBudgetExceeded, make_change
from ..errors import (
    ChangeTooComplex,
    ChangeUnavailable,
    SessionClosed,
    SessionPendingApproval,
    TenderMismatch,
    TillInactive,
    TillNotFound,
)
from ..lock_objects import drawer_with_open_session_for_update, till_by_code_for_update, till_by_id_for_update
from ..models import MAX_COUNT, Denomination, Till, TillSession
from .tills import _live_session, _lock_till, till_default

logger = logging.getLogger("billing.drawer")


def drawer_check_tender(
    *, denominations: Iterable[Denomination], tendered: Iterable[PieceRow], paid_amount: Decimal
) -> Pieces:
    """The tendered notes, combined by value and checked against the drawer and the amount paid."""
    denominations = list(denominations)
    pieces = Pieces.parse(
        tendered,
        field="tendered",
        known={d.value for d in denominations},
        repeats="combine",
        count_error=("A tendered count must be positive.", "Count must be > 0."),
        unknown=lambda value: TenderMismatch(
            f"{value} is not a denomination of this drawer.", details={"value": str(value)}
        ),
    )
    counts = {d.value: d.count for d in denominations}
    if any(counts[value] + count > MAX_COUNT for value, count in pieces.items()):
        raise ValidationFailed(
            "The drawer cannot hold that many notes of one value.", details={"tendered": ["Count too large."]}
        )
    if pieces.total != paid_amount:
        raise TenderMismatch(
            f"The tendered notes add up to {format_money(pieces.total)}, not the {format_money(paid_amount)} paid.",
            details={"tendered_total": f"{pieces.total:.2f}", "paid_amount": f"{paid_amount:.2f}"},
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


def till_lock_for_bill(*, till_id: int | None, user: Actor = None) -> tuple[Till, int, list[Denomination]]:
    """For ``purchase_create``, inside its transaction: lock the bill's till (default
    ``DEFAULT_TILL``) and its denominations, and find its open session, opening one automatically at
    the current counts when there is none.

    Two statements: the till row, then its denominations by value with the open session (steps 4
    and 5 of the lock order in docs/architecture.md, after the bill's products), and an INSERT of a
    session only when the till has none open. The session is read after the till's lock, so a bill
    that waited for a close sees the session closed.

    Returns ``(till, session_id, denominations)``. Raises ``ValidationFailed`` for an unknown till,
    ``TillInactive``, or ``SessionClosed`` when the till requires an open session and has none."""
    # The locks are the lock_objects querysets, compiled once (``compiled_rows``): a bill pays for
    # running them, not for building them. Code and id are unique, so each finds one till or none.
    if till_id is None:
        till = next(iter(compiled_rows(till_by_code_for_update, settings.DEFAULT_TILL)), None)
        if till is None:
            till = _lock_till(till_default().pk)
    else:
        till = next(iter(compiled_rows(till_by_id_for_update, till_id)), None)
        if till is None:
            raise TillNotFound(f"Till {till_id} does not exist.", details={"till": till_id})
    if user is not None and user.is_authenticated and not can_see_store(user, till.store_id):
        # Another store's till is answered as one that does not exist.
        raise TillNotFound(f"Till {till_id} does not exist.", details={"till": till_id} if till_id else {})
    if not till.is_active:
        raise TillInactive(f"Till {till.code} is inactive.", details={"till": till.pk})
    denominations = compiled_rows(drawer_with_open_session_for_update, till.pk)
    # A till without denominations has no row to carry it; ask on its own then.
    if denominations:
        session_id, status = denominations[0].open_session_id, denominations[0].open_session_status
    else:
        session_id, status = _live_session(till.pk) or (None, None)
    if status == TillSession.Status.PENDING_APPROVAL:
        raise SessionPendingApproval(
            f"Till {till.code}'s closing count is waiting for a manager: no bill until it is approved.",
            details={"till": till.pk, "session": session_id},
        )
    if session_id is None:
        if till.requires_open_session:
            raise SessionClosed(
                f"Till {till.code} has no open session; open it with a counted float first.",
                details={"till": till.pk},
            )
        session_id = TillSession.objects.create(
            till=till,
            store_id=cast(int, till.store_id),
            opened_by=recorded_user(user),
            opening_counted=Pieces((d.value, d.count) for d in denominations).as_api(),
            auto_opened=True,
            note="opened by a bill",
        ).pk
        logger.info("till %s session #%s opened automatically", till.code, session_id)
    return till, session_id, denominations
