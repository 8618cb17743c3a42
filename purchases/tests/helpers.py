"""Test helpers: a snapshot of everything a bill can write, to prove a refusal wrote nothing."""

from cashdrawer.models import Denomination, DrawerMovement
from catalog.models import Product
from customers.models import Customer
from purchases.models import Payment, Purchase, PurchaseItem


def db_state() -> dict:
    return {
        "stock": dict(Product.objects.values_list("pk", "stock")),
        "active": dict(Product.objects.values_list("pk", "is_active")),
        "drawer": dict(Denomination.objects.values_list("value", "count")),
        "movements": DrawerMovement.objects.count(),
        "customers": sorted((e or "", p or "") for e, p in Customer.objects.values_list("email", "phone")),
        "purchases": Purchase.objects.count(),
        "items": PurchaseItem.objects.count(),
        "payments": Payment.objects.count(),
    }


def pieces(rows) -> dict:
    """[{value, count}] (API strings or Decimals) → {Decimal value: count}."""
    from decimal import Decimal

    return {Decimal(str(r["value"])): r["count"] for r in rows}
