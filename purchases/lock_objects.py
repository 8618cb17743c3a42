"""Every row lock a bill or a refund takes, re-exported in one place. The order itself, who takes
each step and why, is written once, in docs/architecture.md ("The lock order").

A bill never locks a bill row (it inserts one); a refund locks its bill first (step 2), so refunds of
one bill run one after the other. Products are locked by the catalogue's own ``catalog.lock_objects``,
the till and drawer by ``cashdrawer.lock_objects``.
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
