"""Row locks on the catalogue's own models. Every product lock in the system is taken here.

Global order (see ``purchases.lock_objects``): customer → products by primary key → drawer
denominations by value. A transaction that locks several products takes them in primary-key order.
"""

from collections.abc import Iterable

from .models import Product


def products_for_update(ids: Iterable[int]):
    return Product.objects.select_for_update(of=("self",)).filter(pk__in=list(ids)).order_by("pk")


def product_for_update(pk: int):
    return Product.objects.select_for_update(of=("self",)).filter(pk=pk)
