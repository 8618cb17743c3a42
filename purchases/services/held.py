"""Parked bills: a cart set aside at a till while the customer fetches something, recalled later.

A parked bill is a saved cart, nothing more: it takes no stock and no money, and ringing it up
after a recall goes through ``purchase_create`` like any bill. Its lines are checked as a bill's
are (``_combine_lines``, the products exist, are sold and take the quantity's unit), so a cart
that could never be rung up is refused when it is parked, not when it comes back.

A recall returns the cart and deletes it in one statement: of two concurrent recalls of one
parked bill, exactly one deletes the row and gets the cart; the other finds nothing
(``HeldBillNotFound``, 404 ``not_found``)."""

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from billing_project.core.errors import ValidationFailed
from billing_project.core.quantities import quantity_json, quantity_problem
from billing_project.core.types import Actor, BillLine
from cashdrawer.errors import TillInactive, TillNotFound
from cashdrawer.models import Till
from catalog.models import Product

from ..errors import HeldBillNotFound, ProductInactive, ProductNotFound
from ..models import HELD_NOTE_MAX_LENGTH, HeldBill
from .bills import _combine_lines, _customer_given


def held_bill_create(
    *,
    till: int,
    items: Sequence[BillLine],
    customer_email: str | None = None,
    customer_phone: str | None = None,
    note: str = "",
    user: Actor = None,
) -> HeldBill:
    """Park a cart at ``till``: its lines (combined per product as on a bill) and its customer.

    Raises ``ValidationFailed`` (no lines, too many, a bad quantity, discount, email, number or a
    note over 200 characters), ``ProductNotFound``, ``ProductInactive``, ``TillNotFound`` or
    ``TillInactive``. Writes one row; reads no stock and locks nothing."""
    quantities, discounts = _combine_lines(items)
    email, phone, refused = _customer_given(customer_email, customer_phone)
    if refused is not None:
        raise refused
    note = (note or "").strip()
    if len(note) > HELD_NOTE_MAX_LENGTH:
        raise ValidationFailed(
            f"A note has at most {HELD_NOTE_MAX_LENGTH} characters.", details={"note": ["Too long."]}
        )
    till_row = Till.objects.filter(pk=till).first()
    if till_row is None:
        raise TillNotFound(f"Till {till} does not exist.", details={"till": till})
    if not till_row.is_active:
        raise TillInactive(f"Till {till_row.code} is inactive.", details={"till": till_row.pk})
    products = Product.objects.in_bulk(list(quantities))
    for product_id, quantity in quantities.items():
        product = products.get(product_id)
        if product is None:
            raise ProductNotFound(f"Product {product_id} does not exist.", details={"product_id": product_id})
        if not product.is_active:
            raise ProductInactive(f"{product.name} is archived and cannot be sold.", details={"product_id": product_id})
        problem = quantity_problem(quantity, product.unit)
        if problem:
            raise ValidationFailed(f"{product.name}: {problem}", details={"items": [problem], "product_id": product_id})
    lines: list[dict[str, Any]] = []
    for product_id, quantity in quantities.items():
        product = products[product_id]
        discount = discounts.get(product_id)
        lines.append(
            {
                "product_id": product_id,
                "name": product.name,  # as the cart showed it; the bill reads the product again
                "unit": product.unit,
                "quantity": quantity_json(quantity, product.unit),
                "discount_percent": f"{discount:.2f}" if discount else None,
            }
        )
    return HeldBill.objects.create(
        till=till_row,
        items=lines,
        line_count=len(lines),
        customer_email=email or "",
        customer_phone=phone or "",
        note=note,
        created_by=user if user is not None and user.is_authenticated else None,
    )


def held_bill_list(*, till_id: int | None = None):
    """Parked bills, oldest first; only ``till_id``'s when given."""
    held = HeldBill.objects.all()
    if till_id is not None:
        held = held.filter(till_id=till_id)
    return held.order_by("created_at", "id")


def held_bill_count(*, till_id: int) -> int:
    return HeldBill.objects.filter(till_id=till_id).count()


@transaction.atomic
def held_bill_recall(*, held_bill_id: int) -> HeldBill:
    """The parked bill, deleted: it is back on a screen and nowhere else. ``HeldBillNotFound`` when
    it was recalled or discarded already. The DELETE decides: a concurrent recall waits for this
    one's row lock and then deletes nothing."""
    held = HeldBill.objects.filter(pk=held_bill_id).first()
    if held is None or HeldBill.objects.filter(pk=held_bill_id).delete()[0] != 1:
        raise HeldBillNotFound(details={"id": held_bill_id})
    return held


def held_bill_discard(*, held_bill_id: int) -> None:
    """Throw a parked bill away. ``HeldBillNotFound`` when it is not there (any more)."""
    if HeldBill.objects.filter(pk=held_bill_id).delete()[0] != 1:
        raise HeldBillNotFound(details={"id": held_bill_id})
