"""Every row lock the system takes, in one place, so the global order is visible at a glance.

Order: customer (insert, unique index) → products by primary key → drawer denominations by value.
Every transaction that locks more than one of these takes them in this order, so two tills can
wait for each other but never deadlock. Products are locked by the catalogue's own
``catalog.lock_objects``, re-exported here so the whole order reads in one place.
"""

from cashdrawer.models import Denomination
from catalog.lock_objects import products_for_update

__all__ = ["denomination_for_update", "denominations_for_update", "products_for_update"]


def denominations_for_update():
    return Denomination.objects.select_for_update(of=("self",)).order_by("value")


def denomination_for_update(value):
    return Denomination.objects.select_for_update(of=("self",)).filter(value=value)
