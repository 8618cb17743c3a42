from decimal import Decimal

from purchases.models import Purchase
from purchases.pricing import quote
from purchases.services import purchase_create


def purchase_for(
    product, *, quantity: int | Decimal = 1, email: str | None = "buyer@example.com", phone: str | None = None
) -> Purchase:
    """A real bill for ``product`` through the service, paid exactly, so no change is needed. With
    ``email=None`` and no ``phone``, a walk-in sale."""
    payable = quote({product.pk: product}, {product.pk: quantity}).payable
    return purchase_create(
        customer_email=email,
        customer_phone=phone,
        items=[{"product_id": product.pk, "quantity": quantity}],
        paid_amount=payable,
    )
