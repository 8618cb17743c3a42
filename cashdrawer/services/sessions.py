"""Till sessions (shifts): open with a counted float, cash in and out, the blind close, the X and Z
reports."""

import logging
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import partial
from typing import cast

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
    NotPermitted,
    SessionClosed,
    SessionOpen,
    SessionPendingApproval,
    TillInactive,
    VarianceNeedsManager,
)
from ..ledger import ledger_post
from ..lock_objects import denominations_for_update
from ..models import (
    MAX_COUNT,
    CashMovement,
    DrawerMovement,
    Override,
    Till,
    TillSession,
)
from .drawer import drawer_bring_counts_to, drawer_counted
from .overrides import approver_for, override_used_on
from .tills import _live_session, _lock_till

Action = Override.Action

logger = logging.getLogger("billing.drawer")

Kind = DrawerMovement.Kind


@atomic_write()
def session_open(
    *,
    till_id: int,
    counted: Sequence[Mapping],
    note: str = "",
    user: Actor = None,
    override_token: str | None = None,
) -> TillSession:
    """Open a session at a till with the counted float.

    The counts become the drawer's counts: every difference from the ledger is an ``open_count``
    movement, and ``opening_variance`` is counted minus expected in money. A value left out counts
    as zero. An opening variance over ``CASH_VARIANCE_LIMIT`` needs ``cashdrawer.approve_variance``,
    as a close's does: otherwise a count could write the drawer off, or invent cash, unseen. An
    ``override_token`` for ``open_variance`` lets the cashier open it with the manager's right; the
    manager is recorded as ``opening_approved_by``.

    Locks the override row (with a token), the till row, then its denominations by value; the
    variance is worked out from those locked counts, so a count set or a bill committed while the
    open waited is in it.

    Raises ``Till.DoesNotExist``, ``TillInactive``, ``SessionOpen``, ``SessionPendingApproval``,
    ``VarianceNeedsManager``, ``OverrideInvalid``, ``ValidationFailed``; on any refusal nothing
    changes."""
    override = approver_for(token=override_token, action=Action.OPEN_VARIANCE, user=user)
    till = _lock_till(till_id)
    if not till.is_active:
        raise TillInactive(f"Till {till.code} is inactive.", details={"till": till.pk})
    _refuse_live_session(till)
    denominations = list(denominations_for_update(till_id=till.pk))
    counts = drawer_counted(denominations, counted, field="counted")
    expected = Pieces((d.value, d.count) for d in denominations)
    opening_variance = counts.total - expected.total
    approver = override.manager if override is not None else None
    _check_variance_allowed(
        opening_variance, user=approver if can_approve_variance(approver) else user, who_else="a manager opens the till"
    )
    user = recorded_user(user)
    session = TillSession.objects.create(
        till=till,
        store_id=cast(int, till.store_id),
        opened_by=user,
        opening_counted=counts.as_api(),
        opening_variance=opening_variance,
        opening_approved_by=approver,
        note=note or "",
    )
    if override is not None:
        override_used_on(override, f"session {session.pk} open")
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


def _refuse_live_session(till: Till) -> None:
    """Under the till's lock: ``SessionOpen`` or ``SessionPendingApproval`` when a session is live."""
    live = _live_session(till.pk)
    if live is None:
        return
    session_id, status = live
    if status == TillSession.Status.PENDING_APPROVAL:
        raise SessionPendingApproval(
            f"Till {till.code}'s session #{session_id} is waiting for a manager to approve its count.",
            details={"session": session_id},
        )
    raise SessionOpen(f"Till {till.code} already has session #{session_id} open.", details={"session": session_id})


def _refuse_unless_open(session: TillSession, what: str = "closed") -> None:
    if session.is_pending:
        raise SessionPendingApproval(
            f"Session #{session.pk}'s count is waiting for a manager's approval.", details={"session": session.pk}
        )
    if not session.is_open:
        raise SessionClosed(f"Session #{session.pk} is {what}.", details={"session": session.pk})


def _session_for_update(session_id: int) -> tuple[TillSession, Till]:
    """Lock the session's till, then read the session under that lock. ``TillSession.DoesNotExist``."""
    till_id = TillSession.objects.values_list("till_id", flat=True).get(pk=session_id)
    till = _lock_till(till_id)
    session = TillSession.objects.select_related("till").get(pk=session_id)
    return session, till


@atomic_write()
def cash_movement_create(
    *,
    session_id: int,
    direction: str,
    pieces: Sequence[Mapping],
    reason: str,
    user: Actor = None,
    override_token: str | None = None,
) -> CashMovement:
    """Pay cash into (``in``) or out of (``out``) a till during its open session: a float top-up,
    a payout, a safe drop. Pieces of the same value are combined. A user without
    ``cashdrawer.add_cashmovement`` needs an ``override_token`` for ``cash_movement`` (the manager
    is recorded as ``approved_by``).

    Locks the override row (with a token), the till row, then its denominations by value. Raises
    ``TillSession.DoesNotExist``, ``SessionClosed``, ``SessionPendingApproval``, ``InsufficientCash``
    (taking out more pieces than the drawer holds), ``NotPermitted``, ``OverrideInvalid`` or
    ``ValidationFailed``; on any refusal nothing changes."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why the cash moves.", details={"reason": ["This field may not be blank."]})
    if direction not in CashMovement.Direction.values:
        raise ValidationFailed("Direction is in or out.", details={"direction": ["Must be in or out."]})
    override = approver_for(
        token=override_token, action=Action.CASH_MOVEMENT, user=user, needs="cashdrawer.add_cashmovement"
    )
    session, till = _session_for_update(session_id)
    _refuse_unless_open(session)
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
        till=till,
        store_id=session.store_id,
        session=session,
        direction=direction,
        amount=combined.total,
        reason=reason,
        user=user,
        approved_by=override.manager if override is not None else None,
    )
    if override is not None:
        override_used_on(override, f"cash movement {movement.pk}")
    ledger_post(
        denominations=denominations,
        moves=[(Kind.CASH_IN if sign > 0 else Kind.CASH_OUT, {v: sign * c for v, c in combined.highest_first()})],
        session_id=session.pk,
        store_id=session.store_id,
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
def session_close(
    *,
    session_id: int,
    counted: Sequence[Mapping],
    note: str = "",
    user: Actor = None,
    override_token: str | None = None,
) -> TillSession:
    """Close a session with a blind count of the drawer, post the variance and freeze the Z report.

    expected = the till's counts in the ledger now; variance = counted − expected per value, and
    in money counted value − expected cash (which includes cash taken without its notes). The
    counts become the counted ones through ``close_count`` movements. A value left out counts as
    zero.

    A variance over ``CASH_VARIANCE_LIMIT`` by a user without ``cashdrawer.approve_variance`` (and
    without an ``override_token`` for ``close_variance`` from a manager who has it) does not close:
    the session goes to ``pending_approval`` with the count kept as its closing count, nothing is
    posted, and the till takes no bill and opens no session until a manager approves the count
    (``session_approve``) or sends it back (``session_recount``).

    Locks the override row (with a token), the till row, then its denominations by value: every
    bill committed before the close is in the expected counts, and no bill is recorded in the
    session afterwards.

    Raises ``TillSession.DoesNotExist``, ``SessionClosed``, ``SessionPendingApproval``,
    ``OverrideInvalid``, ``ValidationFailed``; on any refusal nothing changes."""
    from ..reports import session_figures

    override = approver_for(token=override_token, action=Action.CLOSE_VARIANCE, user=user)
    session, till = _session_for_update(session_id)
    _refuse_unless_open(session, "already closed")
    denominations = list(denominations_for_update(till_id=till.pk))
    counts = drawer_counted(denominations, counted, field="counted")
    figures = session_figures(session)
    variance_total = counts.total - Decimal(figures["cash"]["expected"])
    approver = override.manager if override is not None and can_approve_variance(override.manager) else None
    if note:
        session.note = f"{session.note}\n{note}".strip() if session.note else note
    if override is not None:
        override_used_on(override, f"session {session.pk} close")
    if abs(variance_total) > settings.CASH_VARIANCE_LIMIT and not (can_approve_variance(user) or approver):
        expected = Pieces((d.value, d.count) for d in denominations)
        session.status = TillSession.Status.PENDING_APPROVAL
        session.closed_by = recorded_user(user)
        session.closing_counted = counts.as_api()
        session.expected = expected.as_api()
        session.variance = Pieces((v, counts[v] - expected[v]) for v in counts).as_api(skip_zero=True)
        session.variance_total = variance_total
        session.save()
        logger.info(
            "till %s session #%s counted by %s, variance %s: waiting for a manager",
            till.code,
            session.pk,
            user,
            variance_total,
        )
        return session
    return _close(
        session,
        till=till,
        denominations=denominations,
        counts=counts,
        figures=figures,
        counted_by=recorded_user(user),
        approved_by=approver,
        reason="",
    )


def _close(session, *, till, denominations, counts, figures, counted_by, approved_by, reason) -> TillSession:
    """Post the count as ``close_count`` movements, close the session and freeze its Z report."""
    expected = Pieces((d.value, d.count) for d in denominations)
    counted_cash = counts.total
    variance_total = counted_cash - Decimal(figures["cash"]["expected"])
    now = timezone.now()
    drawer_bring_counts_to(
        denominations=denominations,
        target=counts,
        kind=Kind.CLOSE_COUNT,
        session_id=session.pk,
        user=counted_by,
        reason=f"session #{session.pk} closed",
    )
    variance = Pieces((value, counts[value] - expected[value]) for value in counts)
    session.status = TillSession.Status.CLOSED
    session.closed_at = max(now, session.opened_at)
    session.closed_by = counted_by
    session.closing_counted = counts.as_api()
    session.expected = expected.as_api()
    session.variance = variance.as_api(skip_zero=True)
    session.variance_total = variance_total
    session.approved_by = approved_by
    session.approval_reason = reason
    figures.update(
        status=TillSession.Status.CLOSED,
        closed_at=session.closed_at.isoformat(),
        counted_by=counted_by.get_username() if counted_by is not None else None,
        approved_by=approved_by.get_username() if approved_by is not None else None,
        approval_reason=reason,
    )
    figures["cash"].update(counted=f"{counted_cash:.2f}", variance=f"{variance_total:.2f}")
    session.report = figures
    session.save()
    logger.info("till %s session #%s closed by %s, variance %s", till.code, session.pk, counted_by, variance_total)
    transaction.on_commit(partial(metrics.observe_variance, till.code, variance_total))
    return session


def _pending_for_update(session_id: int, *, user: Actor, reason: str) -> tuple[TillSession, Till, str]:
    if not can_approve_variance(user):
        raise NotPermitted("Only a manager who may approve variances decides on a count.")
    return _pending_locked(session_id, reason=reason)


def _pending_locked(session_id: int, *, reason: str) -> tuple[TillSession, Till, str]:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Give a reason.", details={"reason": ["This field may not be blank."]})
    session, till = _session_for_update(session_id)
    if session.is_open:
        raise SessionOpen(
            f"Session #{session.pk} is open: it has no count to decide on.", details={"session": session.pk}
        )
    if not session.is_pending:
        raise SessionClosed(f"Session #{session.pk} is already closed.", details={"session": session.pk})
    return session, till, reason


@atomic_write()
def session_approve(*, session_id: int, reason: str, user: Actor, override_token: str | None = None) -> TillSession:
    """A manager approves a count waiting in ``pending_approval``: the session closes with the
    cashier's count, the variance is posted as ``close_count`` movements, as a close does, and the
    Z report names who counted, who approved and why. ``closed_by`` stays the cashier who counted.
    At the till, ``user`` may be the cashier with an ``override_token`` for ``close_variance``: the
    manager who granted it approves.

    Locks the override row (with a token), the till row, then its denominations by value. Raises
    ``TillSession.DoesNotExist``, ``NotPermitted`` (no ``approve_variance``), ``OverrideInvalid``,
    ``ValidationFailed`` (no reason), ``SessionOpen`` or ``SessionClosed`` (not pending)."""
    from ..reports import session_figures

    if override_token:
        override = approver_for(token=override_token, action=Action.CLOSE_VARIANCE, user=user)
        assert override is not None
        if not can_approve_variance(override.manager):
            raise NotPermitted("The manager who approved this may not approve a variance.")
        session, till, reason = _pending_locked(session_id, reason=reason)
        override_used_on(override, f"session {session.pk} approval")
        user = override.manager
    else:
        session, till, reason = _pending_for_update(session_id, user=user, reason=reason)
    denominations = list(denominations_for_update(till_id=till.pk))
    counts = drawer_counted(denominations, session.closing_counted or [], field="counted")
    return _close(
        session,
        till=till,
        denominations=denominations,
        counts=counts,
        figures=session_figures(session),
        counted_by=session.closed_by,
        approved_by=recorded_user(user),
        reason=reason[:500],
    )


@atomic_write()
def session_recount(*, session_id: int, reason: str, user: Actor) -> TillSession:
    """A manager sends a count waiting in ``pending_approval`` back: the session is ``open`` again
    for a new count, and the rejected count is kept in ``rejected_counts`` with who rejected it and
    why. Locks the till row. Raises as ``session_approve``."""
    session, _, reason = _pending_for_update(session_id, user=user, reason=reason)
    assert session.variance_total is not None
    session.rejected_counts = [
        *session.rejected_counts,
        {
            "counted": session.closing_counted,
            "counted_by": session.closed_by.get_username() if session.closed_by else None,
            "variance_total": f"{session.variance_total:.2f}",
            "rejected_by": user.get_username() if user is not None else None,
            "rejected_at": timezone.now().isoformat(),
            "reason": reason[:500],
        },
    ]
    session.status = TillSession.Status.OPEN
    session.closed_by = None
    session.closing_counted = None
    session.expected = None
    session.variance = None
    session.variance_total = None
    session.save()
    logger.info("till session #%s sent back for a recount by %s: %s", session.pk, user, reason)
    return session


def session_report(*, session_id: int) -> dict:
    """The X report of an open session (live, read-only) or the Z report frozen at its close."""
    from ..reports import session_figures

    session = TillSession.objects.select_related("till").get(pk=session_id)
    if session.report is not None:
        return session.report
    return session_figures(session)
