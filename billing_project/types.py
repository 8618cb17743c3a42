"""Types shared by the services and their callers (the API, the billing page, the admin, the commands)."""

from decimal import Decimal
from typing import TYPE_CHECKING, TypeAlias, TypedDict

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


class BillLine(TypedDict):
    """One line of a bill as a caller asks for it; lines for the same product are combined."""

    product_id: int
    quantity: int


class Pieces(TypedDict):
    """Notes or coins of one value: tendered by the customer, or handed back as change."""

    value: Decimal
    count: int


# Who is acting: a request's user (possibly anonymous), or None for the system (a management
# command). Services record only an authenticated user (``recorded_user``); anyone else is no one.
Actor: TypeAlias = "User | AnonymousUser | None"


def recorded_user(user: Actor) -> "User | None":
    """The user to store on a row for ``user``: the user when authenticated, otherwise no one."""
    return user if user is not None and user.is_authenticated else None
