"""Every row lock the system takes, in one place, so the global order is visible at a glance.

Order: customer (insert, unique index) → products by primary key → drawer denominations by value.
Every transaction that locks more than one of these takes them in this order, so two tills can
wait for each other but never deadlock.
"""

from collections.abc import Iterable

from cashdrawer.models import Denomination
from catalog.models import Product


def products_for_update(ids: Iterable[int]):
    return Product.objects.select_for_update(of=("self",)).filter(pk__in=list(ids)).order_by("pk")


def denominations_for_update():
    return Denomination.objects.select_for_update(of=("self",)).order_by("value")


def denomination_for_update(value):
    return Denomination.objects.select_for_update(of=("self",)).filter(value=value)
