"""Races with decimal quantities: real threads, real connections, PostgreSQL row locks. A weighed
product's stock never goes below 0, and a weighed line is never refunded past what was sold, to the
gram, however the bills and refunds interleave."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from billing_project.core.errors import DomainError
from billing_project.core.testing.concurrency import run_concurrently
from cashdrawer.tests.factories import drawer_with
from catalog.models import Product
from catalog.tests.factories import ProductFactory
from purchases.models import Purchase, PurchaseItem, Refund, RefundLine
from purchases.services import purchase_create, refund_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

D = Decimal


def test_buyers_of_loose_sugar_never_take_the_stock_below_zero(postgres_only):
    drawer_with({"100": 50, "10": 50, "1": 50})
    # 1.000 kg on the shelf; 20 buyers each want 0.150 or 0.075 kg: not all can have it.
    sugar = ProductFactory(name="Sugar", unit="kg", price=D("40.00"), tax_percent=D("0"), stock=D("1.000"))
    wants = [D("0.150") if i % 2 else D("0.075") for i in range(20)]

    results = run_concurrently(
        20,
        lambda i: purchase_create(
            customer_email=f"buyer{i}@example.com",
            items=[{"product_id": sugar.pk, "quantity": wants[i]}],
            paid_amount=wants[i] * 40,  # exactly: no change to make
        ),
    )

    bills = [r for r in results if isinstance(r, Purchase)]
    assert [r for r in results if not isinstance(r, (Purchase, DomainError))] == []
    assert {r.code for r in results if isinstance(r, DomainError)} <= {"insufficient_stock"}
    sold = sum((PurchaseItem.objects.get(purchase=b).quantity for b in bills), D("0"))
    stock = Product.objects.get(pk=sugar.pk).stock
    assert stock >= 0
    assert stock + sold == D("1.000")  # to the gram
    refused = [wants[i] for i, r in enumerate(results) if isinstance(r, DomainError)]
    assert refused  # 2.250 kg were asked for
    assert stock < min(refused)  # whoever was refused really could not be served
    call_command("drawer_audit")


def test_concurrent_partial_refunds_of_a_weighed_line_stop_at_what_was_sold(postgres_only):
    drawer_with({"100": 50, "10": 50, "1": 50})
    sugar = ProductFactory(name="Sugar", unit="kg", price=D("40.00"), tax_percent=D("5"), stock=D("5.000"))
    bill = purchase_create(
        customer_email="ann@example.com",
        items=[{"product_id": sugar.pk, "quantity": D("1.250")}],
        paid_amount=D("53"),
    )
    takes = [D("0.125") if i % 2 else D("0.333") for i in range(16)]

    results = run_concurrently(
        16,
        lambda i: refund_create(
            purchase_id=bill.pk, items=[{"product_id": sugar.pk, "quantity": takes[i]}], reason=f"race {i}"
        ),
    )

    assert [r for r in results if not isinstance(r, (Refund, DomainError))] == []
    assert {r.code for r in results if isinstance(r, DomainError)} <= {"refund_exceeds_sold"}
    item = PurchaseItem.objects.get(purchase=bill)
    refunded = sum(RefundLine.objects.filter(item=item).values_list("quantity", flat=True), D("0"))
    assert refunded == item.refunded_quantity <= item.quantity
    refused = [takes[i] for i, r in enumerate(results) if isinstance(r, DomainError)]
    assert refused  # 3.664 kg were asked back of 1.250
    assert item.quantity - refunded < min(refused)  # every refusal really found too little left
    assert Product.objects.get(pk=sugar.pk).stock == D("5.000") - D("1.250") + refunded
    assert item.refunded_subtotal <= item.subtotal and item.refunded_tax_amount <= item.tax_amount
    call_command("drawer_audit")
