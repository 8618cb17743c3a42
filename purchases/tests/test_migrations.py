"""The payments migrations on an upgraded shop's data: every existing bill was paid in cash, so it gets
one cash payment of its amount paid, and its lines' gross is their subtotal (no discount)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("purchases", "0006_bills_at_main")]
AFTER = [("purchases", "0009_payment_and_discount_checks")]
D = Decimal


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def before_payments():
    apps = migrate(BEFORE)
    yield apps
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_existing_bills_get_one_cash_payment_and_no_discount(before_payments):
    apps = before_payments
    customer = apps.get_model("customers", "Customer").objects.create(email="ann@example.com")
    product = apps.get_model("catalog", "Product").objects.create(
        sku="S1", name="Soap", price=D("36.50"), tax_percent=D("12"), stock=5
    )
    Purchase = apps.get_model("purchases", "Purchase")
    amounts = {"subtotal": D("73.00"), "tax_total": D("8.76"), "total": D("81.76"), "rounding": D("0.24")}
    paid = Purchase.objects.create(
        customer=customer, **amounts, payable=D("82.00"), paid_amount=D("100.00"), change_due=D("18.00")
    )
    nothing_paid = Purchase.objects.create(
        customer=customer,
        subtotal=D("0.30"),
        tax_total=D("0.00"),
        total=D("0.30"),
        rounding=D("-0.30"),
        payable=D("0.00"),
        paid_amount=D("0.00"),
        change_due=D("0.00"),
    )
    apps.get_model("purchases", "PurchaseItem").objects.create(
        purchase=paid,
        product=product,
        product_name="Soap",
        quantity=2,
        unit_price=D("36.50"),
        tax_percent=D("12"),
        subtotal=D("73.00"),
        tax_amount=D("8.76"),
        total=D("81.76"),
    )

    apps = migrate(AFTER)

    Payment = apps.get_model("purchases", "Payment")
    assert list(Payment.objects.values_list("purchase_id", "method__code", "is_cash", "amount", "reference")) == [
        (paid.pk, "cash", True, D("100.00"), "")
    ]
    after = apps.get_model("purchases", "Purchase").objects
    assert after.get(pk=paid.pk).cash_paid == D("100.00")
    assert after.get(pk=nothing_paid.pk).cash_paid == D("0.00")
    item = apps.get_model("purchases", "PurchaseItem").objects.get()
    assert (item.gross, item.discount_percent, item.discount_amount, item.subtotal) == (
        D("73.00"),
        D("0"),
        D("0.00"),
        D("73.00"),
    )
    methods = apps.get_model("purchases", "PaymentMethod").objects
    assert sorted(methods.values_list("code", "is_cash")) == [("card", False), ("cash", True), ("upi", False)]
