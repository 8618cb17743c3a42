"""Manager overrides at the counter: a manager's PIN, the single-use tokens it grants, and their use.

A manager (``cashdrawer.approve_override``) sets a PIN of 4 to 8 digits (``manager_pin_set``). At a
till, a cashier whose action needs a manager asks for an override with the manager's username and
PIN (``override_grant``): granted, it is a random token good for ``OVERRIDE_TTL_SECONDS`` and for
one action. The action's request carries the token; its service takes it (``override_take``) in
its own transaction, under the override row's lock, so two requests with one token have exactly one
winner, and a refused action leaves the token unused. Every grant and refusal is a row of
``Override``: the audit list.
"""

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.utils import timezone

from billing_project.core.db import atomic_write
from billing_project.core.errors import ValidationFailed
from billing_project.core.types import Actor, recorded_user

from ..errors import NotPermitted, OverrideInvalid, OverrideLocked, OverrideRefused
from ..lock_objects import manager_pin_for_update, override_for_update
from ..models import PIN_PATTERN, ManagerPin, Override, Till

logger = logging.getLogger("billing.drawer")

APPROVE_OVERRIDE = "cashdrawer.approve_override"
OVERRIDE_TTL_SECONDS = 120
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
# Hashed when the username has no PIN, so a wrong username takes as long as a wrong PIN.
_DUMMY_HASH = None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def can_approve_override(user) -> bool:
    return user is not None and user.is_active and user.has_perm(APPROVE_OVERRIDE)


def check_pin(pin) -> str:
    if not isinstance(pin, str) or not re.fullmatch(PIN_PATTERN, pin):
        raise ValidationFailed("A PIN is 4 to 8 digits.", details={"pin": ["A PIN is 4 to 8 digits."]})
    return pin


@atomic_write()
def manager_pin_set(*, user, pin: str) -> ManagerPin:
    """Set ``user``'s own override PIN (hashed), and clear any lockout. ``NotPermitted`` for a user
    without ``approve_override``, ``ValidationFailed`` for a PIN that is not 4 to 8 digits."""
    if not can_approve_override(user):
        raise NotPermitted("Only a manager who may approve overrides has a PIN.")
    pin = check_pin(pin)
    row = manager_pin_for_update(user=user).first() or ManagerPin(user=user)
    row.pin_hash = make_password(pin)
    row.failures = 0
    row.locked_until = None
    row.updated_at = timezone.now()
    row.save()
    logger.info("override PIN set for %s", user)
    return row


@dataclass(frozen=True)
class Granted:
    override: Override
    token: str


def override_grant(*, username: str, pin: str, action: str, till_id: int | None = None, user: Actor) -> Granted:
    """Ask for a manager's override of ``action`` at ``till_id`` (optional, for the audit list).

    Granted: a new single-use token for ``action``, good for ``OVERRIDE_TTL_SECONDS``. A wrong PIN,
    an unknown username, a user without ``approve_override`` or without a PIN: ``OverrideRefused``
    (403). A run of ``MAX_FAILURES`` failures locks the manager's PIN for ``LOCKOUT``: until then
    every try is ``OverrideLocked`` (429), even with the right PIN. The attempt is recorded whatever
    the outcome (its transaction commits before the refusal is raised).

    Locks the manager's ``ManagerPin`` row, so concurrent tries count one after the other."""
    if action not in Override.Action.values:
        raise ValidationFailed("Unknown action.", details={"action": ["Not a valid choice."]})
    till = None
    if till_id is not None:
        till = Till.objects.filter(pk=till_id).first()
        if till is None:
            raise ValidationFailed("Unknown till.", details={"till": ["No such till."]})
    outcome, granted, wait = _decide(username=username, pin=pin, action=action, till=till, user=user)
    if outcome == Override.Outcome.LOCKED:
        error = OverrideLocked(
            f"Too many wrong PINs: {username}'s PIN is locked for {max(1, round(wait / 60))} more minutes.",
            details={"retry_after": wait},
        )
        error.retry_after = wait
        raise error
    if granted is None:
        raise OverrideRefused()
    return granted


@atomic_write()
def _decide(*, username: str, pin: str, action: str, till: Till | None, user: Actor):
    global _DUMMY_HASH
    now = timezone.now()
    manager = get_user_model().objects.filter(username=username).first()
    row = manager_pin_for_update(user=manager).first() if manager is not None else None
    audit = {
        "action": action,
        "username": username[:150],
        "manager": manager,
        "requested_by": recorded_user(user),
        "till": till,
        "created_at": now,
    }
    if row is not None and row.locked_until is not None and row.locked_until > now:
        Override.objects.create(outcome=Override.Outcome.LOCKED, **audit)
        logger.warning("override %s by %s refused: PIN locked", action, username)
        return Override.Outcome.LOCKED, None, int((row.locked_until - now).total_seconds()) + 1
    if row is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = make_password("0000")
        check_password(pin, _DUMMY_HASH)
        right = False
    else:
        right = check_password(pin, row.pin_hash)
    if right and row is not None and can_approve_override(manager):
        row.failures = 0
        row.locked_until = None
        row.save(update_fields=["failures", "locked_until"])
        token = secrets.token_urlsafe(24)
        override = Override.objects.create(
            outcome=Override.Outcome.GRANTED,
            token_digest=_digest(token),
            expires_at=now + timedelta(seconds=OVERRIDE_TTL_SECONDS),
            **audit,
        )
        logger.info("override %s granted by %s to %s", action, username, user)
        return Override.Outcome.GRANTED, Granted(override=override, token=token), 0
    if row is not None:
        row.failures += 1
        if row.failures >= MAX_FAILURES:
            row.failures = 0
            row.locked_until = now + LOCKOUT
            logger.warning("override PIN of %s locked after %d failures", username, MAX_FAILURES)
        row.save(update_fields=["failures", "locked_until"])
    Override.objects.create(outcome=Override.Outcome.REFUSED, **audit)
    logger.warning("override %s by %s refused", action, username)
    return Override.Outcome.REFUSED, None, 0


def override_take(*, token: str, action: str, user: Actor) -> Override:
    """Inside the action's transaction: lock the override of ``token`` and mark it used by ``user``.
    The caller names what it was used on with ``override_used_on`` once the object exists.

    ``OverrideInvalid`` for a token that is unknown, already used, expired, or for another action.
    The row lock makes a second request with the same token wait for the first's commit, then see
    the token used; if the first is refused (rolled back), the token is still good."""
    now = timezone.now()
    override = override_for_update(token_digest=_digest(token or "")).first()
    if override is None or override.used_at is not None:
        raise OverrideInvalid("This manager's approval was already used, or does not exist.")
    if override.expires_at is None or override.expires_at <= now:
        raise OverrideInvalid("This manager's approval has expired: ask again.")
    if override.action != action:
        raise OverrideInvalid(
            f"This manager's approval is for {override.get_action_display().lower()}, not this.",
            details={"action": override.action},
        )
    if not can_approve_override(override.manager):
        raise OverrideInvalid("The manager who approved this may no longer approve overrides.")
    override.used_at = now
    override.used_by = recorded_user(user)
    return override


def override_used_on(override: Override, what: str) -> None:
    """Record the use of a taken override, and what it was used on (``bill 12``, ``refund 3``…)."""
    override.used_on = what[:100]
    override.save(update_fields=["used_at", "used_by", "used_on"])


def approver_for(*, token: str | None, action: str, user: Actor, needs: str | None = None):
    """The manager whose override lets ``user`` do ``action``, or None without a token.

    Without a token, whether ``user`` may do it is the caller's check (the API's permissions, the
    page's), as before overrides. With one, and ``needs`` (a permission): a user who has it takes
    the token all the same (its use is recorded); one who has not needs a token whose manager has
    it, otherwise ``NotPermitted``."""
    if not token:
        return None
    # No user: a command or the system, which the caller's own checks already let through.
    allowed = needs is None or user is None or user.has_perm(needs)
    override = override_take(token=token, action=action, user=user)
    if not allowed and not (needs is not None and override.manager is not None and override.manager.has_perm(needs)):
        raise NotPermitted("The manager who approved this may not do it either.")
    return override


def override_list():
    """The audit list, newest first, with the users and till it names."""
    return Override.objects.select_related("manager", "requested_by", "till", "used_by")


__all__ = [
    "APPROVE_OVERRIDE",
    "OVERRIDE_TTL_SECONDS",
    "Granted",
    "approver_for",
    "can_approve_override",
    "manager_pin_set",
    "override_grant",
    "override_list",
    "override_take",
    "override_used_on",
]
