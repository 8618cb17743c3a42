"""Every row lock a bill takes, in one place, so the global order is visible at a glance.

Order: customer (insert, unique index) → products by primary key → the bill's till row → that
till's drawer denominations by value. The till and drawer steps live in
``cashdrawer.lock_objects``, whose docstring has the whole order. Every transaction that locks more
than one of these takes them in this order, so two tills can wait for each other but never
deadlock.
"""

from collections.abc import Iterable

from cashdrawer.lock_objects import denomination_for_update, denominations_for_update, till_for_update
from catalog.models import Product

__all__ = ["denomination_for_update", "denominations_for_update", "products_for_update", "till_for_update"]


def products_for_update(ids: Iterable[int]):
    return Product.objects.select_for_update(of=("self",)).filter(pk__in=list(ids)).order_by("pk")
