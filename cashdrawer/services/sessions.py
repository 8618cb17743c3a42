"""Till sessions (shifts): open with a counted float, cash in and out, the blind close, the X and Z
reports."""

import logging
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing_project.core import metrics
from billing_project.core.db import (
    atomic_write,
)
from billing_project.core.errors import ValidationFailed
from billing_project.core.money import format_money
from billing_project.core.pieces import Pieces
from billing_project.core.types import Actor, recorded_user

from ..errors import (
    InsufficientCash,
    SessionClosed,
    SessionOpen,
    TillInactive,
    VarianceNeedsManager,
)
from ..ledger import ledger_post
from ..lock_objects import denominations_for_update
from ..models import (
    MAX_COUNT,
    CashMovement,
    DrawerMovement,
    Till,
    TillSession,
)
from .drawer import drawer_bring_counts_to, drawer_counted
from .tills import _lock_till, _open_session_id

logger = logging.getLogger("billing.drawer")

Kind = DrawerMovement.Kind


@atomic_write()
def session_open(*, till_id: int, counted: Sequence[Mapping], note: str = "", user: Actor = None) -> TillSession:
    """Open a session at a till with the counted float.

    The counts become the drawer's counts: every difference from the ledger is an ``open_count``
    movement, and ``opening_variance`` is counted minus expected in money. A value left out counts
    as zero. An opening variance over ``CASH_VARIANCE_LIMIT`` needs ``cashdrawer.approve_variance``,
    as a close's does: otherwise a count could write the drawer off, or invent cash, unseen.

    Locks the till row, then its denominations by value; the variance is worked out from those
    locked counts, so a count set or a bill committed while the open waited is in it.

    Raises ``Till.DoesNotExist``, ``TillInactive``, ``SessionOpen``, ``VarianceNeedsManager``,
    ``ValidationFailed``; on any refusal nothing changes."""
    till = _lock_till(till_id)
    if not till.is_active:
        raise TillInactive(f"Till {till.code} is inactive.", details={"till": till.pk})
    current = _open_session_id(till.pk)
    if current is not None:
        raise SessionOpen(f"Till {till.code} already has session #{current} open.", details={"session": current})
    denominations = list(denominations_for_update(till_id=till.pk))
    counts = drawer_counted(denominations, counted, field="counted")
    expected = Pieces((d.value, d.count) for d in denominations)
    opening_variance = counts.total - expected.total
    _check_variance_allowed(opening_variance, user=user, who_else="a manager opens the till")
    user = recorded_user(user)
    session = TillSession.objects.create(
        till=till,
        opened_by=user,
        opening_counted=counts.as_api(),
        opening_variance=opening_variance,
        note=note or "",
    )
    drawer_bring_counts_to(
        denominations=denominations,
        target=counts,
        kind=Kind.OPEN_COUNT,
        session_id=session.pk,
        user=user,
        reason=f"session #{session.pk} opened",
    )
    logger.info("till %s session #%s opened by %s, variance %s", till.code, session.pk, user, session.opening_variance)
    return session


def _session_for_update(session_id: int) -> tuple[TillSession, Till]:
    """Lock the session's till, then read the session under that lock. ``TillSession.DoesNotExist``."""
    till_id = TillSession.objects.values_list("till_id", flat=True).get(pk=session_id)
    till = _lock_till(till_id)
    session = TillSession.objects.select_related("till").get(pk=session_id)
    return session, till


@atomic_write()
def cash_movement_create(
    *, session_id: int, direction: str, pieces: Sequence[Mapping], reason: str, user: Actor = None
) -> CashMovement:
    """Pay cash into (``in``) or out of (``out``) a till during its open session: a float top-up,
    a payout, a safe drop. Pieces of the same value are combined.

    Locks the till row, then its denominations by value. Raises ``TillSession.DoesNotExist``,
    ``SessionClosed``, ``InsufficientCash`` (taking out more pieces than the drawer holds), or
    ``ValidationFailed``; on any refusal nothing changes."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why the cash moves.", details={"reason": ["This field may not be blank."]})
    if direction not in CashMovement.Direction.values:
        raise ValidationFailed("Direction is in or out.", details={"direction": ["Must be in or out."]})
    session, till = _session_for_update(session_id)
    if not session.is_open:
        raise SessionClosed(f"Session #{session.pk} is closed.", details={"session": session.pk})
    denominations = list(denominations_for_update(till_id=till.pk))
    by_value = {d.value: d for d in denominations}
    combined = Pieces.parse(pieces, field="pieces", known=by_value, repeats="combine")
    if not combined:
        raise ValidationFailed("Give at least one piece.", details={"pieces": ["This list may not be empty."]})
    sign = 1 if direction == CashMovement.Direction.IN else -1
    for value, count in combined.items():
        available = by_value[value].count
        if sign < 0 and count > available:
            raise InsufficientCash(
                f"The drawer holds {available} × {value:.2f}; {count} requested.",
                details={"value": f"{value:.2f}", "available": available, "requested": count},
            )
        if sign > 0 and available + count > MAX_COUNT:
            raise ValidationFailed("The drawer cannot hold that many.", details={"pieces": ["Count too large."]})
    user = recorded_user(user)
    movement = CashMovement.objects.create(
        till=till, session=session, direction=direction, amount=combined.total, reason=reason, user=user
    )
    ledger_post(
        denominations=denominations,
        moves=[(Kind.CASH_IN if sign > 0 else Kind.CASH_OUT, {v: sign * c for v, c in combined.highest_first()})],
        session_id=session.pk,
        user=user,
        reason=reason,
        created_at=movement.created_at,
        cash_movement=movement,
        refusal=InsufficientCash("The drawer changed while the cash was being moved."),
    )
    logger.info("till %s cash %s %s (%s) by %s", till.code, direction, movement.amount, reason, user)
    return movement


def can_approve_variance(user) -> bool:
    return user is not None and user.has_perm("cashdrawer.approve_variance")


def _check_variance_allowed(variance: Decimal, *, user: Actor, who_else: str) -> None:
    """Refuse an over/short past ``CASH_VARIANCE_LIMIT`` unless ``user`` may approve it (opens and
    closes alike). ``who_else`` ends the cashier's message: who may do it instead."""
    limit = settings.CASH_VARIANCE_LIMIT
    if abs(variance) > limit and not can_approve_variance(user):
        raise VarianceNeedsManager(
            f"The drawer is {'over' if variance > 0 else 'short'} by {format_money(abs(variance))}, "
            f"more than the {format_money(limit)} allowed: recount, or {who_else}.",
            details={"limit": f"{limit:.2f}", "variance": f"{variance:.2f}"},
        )


@atomic_write()
def session_close(*, session_id: int, counted: Sequence[Mapping], note: str = "", user: Actor = None) -> TillSession:
    """Close a session with a blind count of the drawer, post the variance and freeze the Z report.

    expected = the till's counts in the ledger now; variance = counted − expected per value, and
    in money counted value − expected cash (which includes cash taken without its notes). The
    counts become the counted ones through ``close_count`` movements. A value left out counts as
    zero. A variance over ``CASH_VARIANCE_LIMIT`` needs ``cashdrawer.approve_variance``.

    Locks the till row, then its denominations by value: every bill committed before the close is
    in the expected counts, and no bill is recorded in the session afterwards.

    Raises ``TillSession.DoesNotExist``, ``SessionClosed``, ``VarianceNeedsManager``,
    ``ValidationFailed``; on any refusal nothing changes."""
    from ..reports import session_figures

    session, till = _session_for_update(session_id)
    if not session.is_open:
        raise SessionClosed(f"Session #{session.pk} is already closed.", details={"session": session.pk})
    denominations = list(denominations_for_update(till_id=till.pk))
    counts = drawer_counted(denominations, counted, field="counted")
    expected = Pieces((d.value, d.count) for d in denominations)
    figures = session_figures(session)
    expected_cash = Decimal(figures["cash"]["expected"])
    counted_cash = counts.total
    variance_total = counted_cash - expected_cash
    _check_variance_allowed(variance_total, user=user, who_else="a manager closes the till")
    user = recorded_user(user)
    now = timezone.now()
    drawer_bring_counts_to(
        denominations=denominations,
        target=counts,
        kind=Kind.CLOSE_COUNT,
        session_id=session.pk,
        user=user,
        reason=f"session #{session.pk} closed",
    )
    variance = Pieces((value, counts[value] - expected[value]) for value in counts)
    session.status = TillSession.Status.CLOSED
    session.closed_at = max(now, session.opened_at)
    session.closed_by = user
    session.closing_counted = counts.as_api()
    session.expected = expected.as_api()
    session.variance = variance.as_api(skip_zero=True)
    session.variance_total = variance_total
    if note:
        session.note = f"{session.note}\n{note}".strip() if session.note else note
    figures.update(status=TillSession.Status.CLOSED, closed_at=session.closed_at.isoformat())
    figures["cash"].update(counted=f"{counted_cash:.2f}", variance=f"{variance_total:.2f}")
    session.report = figures
    session.save()
    logger.info("till %s session #%s closed by %s, variance %s", till.code, session.pk, user, variance_total)
    transaction.on_commit(partial(metrics.observe_variance, till.code, variance_total))
    return session


def session_report(*, session_id: int) -> dict:
    """The X report of an open session (live, read-only) or the Z report frozen at its close."""
    from ..reports import session_figures

    session = TillSession.objects.select_related("till").get(pk=session_id)
    if session.report is not None:
        return session.report
    return session_figures(session)
