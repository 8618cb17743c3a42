"""Every row lock a bill or a refund takes, in one place, so the global order is visible at a glance.

Order: customer (insert, unique indexes; or the one known row given a missing email or number) →
the bill row (refunds) → products by primary key → the till row → that till's drawer denominations
by value. A bill never locks a bill row (it inserts
one); a refund locks its bill first, so refunds of one bill run one after the other. Products are
locked by the catalogue's own ``catalog.lock_objects``, the till and drawer by
``cashdrawer.lock_objects`` (whose docstring has the whole order); both are re-exported here so
the whole order reads in one place. Every transaction that locks more than one of these takes them
in this order, so two tills can wait for each other but never deadlock.
"""

from cashdrawer.lock_objects import denomination_for_update, denominations_for_update, till_for_update
from catalog.lock_objects import products_for_update

from .models import Purchase

__all__ = [
    "denomination_for_update",
    "denominations_for_update",
    "products_for_update",
    "purchase_for_update",
    "till_for_update",
]


def purchase_for_update(*, purchase_id: int):
    """The bill row, locked: a refund's mutex for its bill (step 2 of the global order, before the
    products). Every refund of one bill waits here, so the cap on each line holds under any race."""
    return Purchase.objects.select_for_update(of=("self",)).filter(pk=purchase_id)
