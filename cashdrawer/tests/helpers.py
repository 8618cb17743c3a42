"""Shared support for the drawer's tests: a manager with an override PIN, and an override token."""

from cashdrawer.models import Override
from cashdrawer.services import manager_pin_set, override_grant

PIN = "4321"


def with_pin(user, pin: str = PIN):
    """``user`` (a manager) with an override PIN set."""
    manager_pin_set(user=user, pin=pin)
    return user


def token_for(manager, action: str, *, cashier=None, till_id=None) -> str:
    """A fresh override token of ``manager`` (whose PIN is ``PIN``) for ``action``."""
    granted = override_grant(username=manager.username, pin=PIN, action=action, till_id=till_id, user=cashier)
    return granted.token


def last_override() -> Override:
    return Override.objects.order_by("-pk")[0]
