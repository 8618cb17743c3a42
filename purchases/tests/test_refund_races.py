"""Refund race tests: real threads, real connections, PostgreSQL row locks on the bill."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from billing_project.core.errors import DomainError
from billing_project.core.testing.concurrency import run_concurrently
from cashdrawer.models import Denomination, DrawerMovement
from cashdrawer.tests.factories import drawer_with
from catalog.models import Product
from catalog.tests.factories import ProductFactory
from purchases.models import Purchase, PurchaseItem, Refund, RefundLine, RefundPayment
from purchases.services import purchase_create, refund_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

D = Decimal


def test_concurrent_refunds_of_one_bill_refund_each_unit_at_most_once(postgres_only):
    drawer_with({"100": 50, "10": 50, "1": 50})
    product = ProductFactory(price=D("10"), tax_percent=D("5"), stock=100)  # 10.50 a unit
    bill = purchase_create(
        customer_email="ann@example.com", items=[{"product_id": product.pk, "quantity": 6}], paid_amount=D("63")
    )
    results = run_concurrently(
        16,
        lambda i: refund_create(
            purchase_id=bill.pk, items=[{"product_id": product.pk, "quantity": 1 + i % 2}], reason=f"race {i}"
        ),
    )

    refunds = [r for r in results if isinstance(r, Refund)]
    refusals = [r for r in results if isinstance(r, DomainError)]
    assert [r for r in results if not isinstance(r, (Refund, DomainError))] == []
    assert {r.code for r in refusals} <= {"refund_exceeds_sold"}
    item = PurchaseItem.objects.get(purchase=bill)
    refunded = sum(RefundLine.objects.filter(item=item).values_list("quantity", flat=True))
    assert refunded == item.refunded_quantity <= 6
    assert sum(r.lines.get().quantity for r in refunds) == refunded
    assert Product.objects.get(pk=product.pk).stock == 100 - 6 + refunded
    if refunded == 6:
        assert (item.refunded_subtotal, item.refunded_tax_amount) == (item.subtotal, item.tax_amount)
    paid_out = sum(m.denomination.value * -m.delta for m in DrawerMovement.objects.filter(kind="refund_out"))
    assert paid_out == sum(r.amount for r in Refund.objects.all())
    call_command("drawer_audit")


def test_a_refund_locks_the_bill_before_its_stores_stock_and_the_drawer(postgres_only):
    drawer_with({"100": 5, "10": 5, "1": 5})
    product = ProductFactory(price=D("10"), tax_percent=D("0"), stock=10)
    bill = purchase_create(
        customer_email="ann@example.com", items=[{"product_id": product.pk, "quantity": 2}], paid_amount=D("20")
    )
    with CaptureQueriesContext(connection) as ctx:
        refund_create(purchase_id=bill.pk, items=[{"product_id": product.pk, "quantity": 1}], reason="order")
    sql = [q["sql"] for q in ctx.captured_queries]
    locks = [i for i, s in enumerate(sql) if "FOR UPDATE" in s]
    tables = [
        next(
            t
            for t in ("purchases_purchase", "catalog_storestock", "cashdrawer_till", "cashdrawer_denomination")
            if f'FROM "{t}"' in sql[i]
        )
        for i in locks
    ]
    assert tables == ["purchases_purchase", "catalog_storestock", "cashdrawer_till", "cashdrawer_denomination"]
    first_update = next(i for i, s in enumerate(sql) if s.startswith("UPDATE"))
    assert locks[0] < first_update
    assert Denomination.objects.filter(value=D("10")).get().count == 4


def test_concurrent_refunds_with_explicit_payments_never_pay_back_more_than_the_bill_took(postgres_only):
    """16 refunds of one bill at once, each naming how its money goes back: one unit as cash 1.00
    (0.50 rounded up) or two units to the card, 1.00. However they interleave, the bill never pays
    back more than its payable, nor more cash than its drawer kept, nor more to the card than it paid."""
    drawer_with({"100": 5, "10": 5, "1": 50})
    pen = ProductFactory(price=D("0.50"), tax_percent=D("0"), stock=100)
    bill = purchase_create(
        customer_email="ann@example.com",
        items=[{"product_id": pen.pk, "quantity": 20}],
        payments=[{"method": "card", "amount": D("5.00")}, {"method": "cash", "amount": D("5")}],
    )

    def refund(i):
        cash = i % 2 == 0
        return refund_create(
            purchase_id=bill.pk,
            items=[{"product_id": pen.pk, "quantity": 1 if cash else 2}],
            reason=f"race {i}",
            payments=[{"method": "cash", "amount": "1.00"} if cash else {"method": "card", "amount": "1.00"}],
        )

    results = run_concurrently(16, refund)

    assert [r for r in results if not isinstance(r, (Refund, DomainError))] == []
    assert {r.code for r in results if isinstance(r, DomainError)} <= {"refund_payment_mismatch"}
    back = dict(RefundPayment.objects.filter(refund__purchase=bill).values_list("method").annotate(s=Sum("amount")))
    assert sum(back.values()) <= bill.payable
    assert back.get("cash", D("0")) <= D("5") and back.get("card", D("0")) <= D("5.00")
    stored = Purchase.objects.values_list("refundable", "cash_refundable").get(pk=bill.pk)
    assert stored == (bill.payable - sum(back.values()), D("5") - back.get("cash", D("0")))
    paid_out = sum(m.denomination.value * -m.delta for m in DrawerMovement.objects.filter(kind="refund_out"))
    assert paid_out == back.get("cash", D("0"))

    # The rest of the units, by default: then exactly the payable has gone back.
    item = PurchaseItem.objects.get(purchase=bill)
    refund_create(
        purchase_id=bill.pk,
        items=[{"product_id": pen.pk, "quantity": item.quantity - item.refunded_quantity}],
        reason="the rest",
    )
    assert sum(Refund.objects.filter(purchase=bill).values_list("amount", flat=True)) == bill.payable
    call_command("drawer_audit")
