"""Every row lock a bill takes, in one place, so the global order is visible at a glance.

Order: customer (insert, unique index) → products by primary key → the bill's till row → that
till's drawer denominations by value. Products are locked by the catalogue's own
``catalog.lock_objects``, the till and drawer by ``cashdrawer.lock_objects`` (whose docstring has
the whole order); both are re-exported here so a bill's whole order reads in one place. Every
transaction that locks more than one of these takes them in this order, so two tills can wait for
each other but never deadlock.
"""

from cashdrawer.lock_objects import denomination_for_update, denominations_for_update, till_for_update
from catalog.lock_objects import products_for_update

__all__ = ["denomination_for_update", "denominations_for_update", "products_for_update", "till_for_update"]
