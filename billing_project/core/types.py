"""Types shared by the services and their callers (the API, the billing page, the admin, the commands)."""

from decimal import Decimal
from typing import TYPE_CHECKING, NotRequired, TypeAlias, TypedDict

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


class BillLine(TypedDict):
    """One line of a bill as a caller asks for it; lines for the same product are combined.
    ``quantity`` is whole for a product sold ``each``, up to 3 places for one sold by measure.
    ``discount_percent`` (0 to 100, 2 places) is the line's own discount, before the bill's."""

    product_id: int
    quantity: int | Decimal
    discount_percent: NotRequired[Decimal]


class PieceRow(TypedDict):
    """Notes or coins of one value as a caller writes them (`{value, count}`): `billing_project.core.pieces.Pieces`
    is a set of them, parsed."""

    value: Decimal
    count: int


class PaymentInput(TypedDict):
    """One payment of a bill as a caller gives it: a method's code and an amount; the notes
    (``tendered``) only on the cash payment, a ``reference`` (card slip, UPI id) only on another."""

    method: str
    amount: Decimal
    tendered: NotRequired[list[PieceRow]]
    reference: NotRequired[str]


# Who is acting: a request's user (possibly anonymous), or None for the system (a management
# command). Services record only an authenticated user (``recorded_user``); anyone else is no one.
Actor: TypeAlias = "User | AnonymousUser | None"


def recorded_user(user: Actor) -> "User | None":
    """The user to store on a row for ``user``: the user when authenticated, otherwise no one."""
    return user if user is not None and user.is_authenticated else None
