"""The payments migrations on an upgraded shop's data: every existing bill was paid in cash, so it gets
one cash payment of its amount paid, and its lines' gross is their subtotal (no discount)."""

from decimal import Decimal

import pytest

from billing_project.core.testing.migrations import migrate, migrate_to_latest

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("purchases", "0006_bills_at_main")]
AFTER = [("purchases", "0009_payment_and_discount_checks")]
D = Decimal


@pytest.fixture
def before_payments():
    apps = migrate(BEFORE)
    yield apps
    migrate_to_latest()


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


@pytest.fixture
def before_refundable():
    apps = migrate([("purchases", "0016_sales_report_indexes")])
    yield apps
    migrate_to_latest()


def test_existing_bills_get_what_their_refunds_left_to_pay_back(before_refundable):
    apps = before_refundable
    customer = apps.get_model("customers", "Customer").objects.create(email="ann@example.com")
    till = apps.get_model("cashdrawer", "Till").objects.create(code="OLD", name="Old till")
    session = apps.get_model("cashdrawer", "TillSession").objects.create(till=till)
    Purchase = apps.get_model("purchases", "Purchase")
    Refund = apps.get_model("purchases", "Refund")
    RefundPayment = apps.get_model("purchases", "RefundPayment")

    def bill(total, payable, paid, cash_paid):
        return Purchase.objects.create(
            customer=customer,
            subtotal=total,
            tax_total=D("0.00"),
            total=total,
            rounding=payable - total,
            payable=payable,
            paid_amount=paid,
            change_due=paid - payable,
            cash_paid=cash_paid,
        )

    def refund(purchase, **paid_back):
        amount = sum(paid_back.values(), D("0.00"))
        r = Refund.objects.create(
            purchase=purchase, till=till, session=session, reason="back", subtotal=amount, tax_total=D("0.00"),
            total=amount, rounding=D("0.00"), amount=amount,
        )  # fmt: skip
        for method, value in paid_back.items():
            RefundPayment.objects.create(refund=r, method=method, is_cash=method == "cash", amount=value)

    # Card 60 + cash 50 with 10 change on 100.40 (payable 100.00); 50.20 went back to the card.
    split = bill(D("100.40"), D("100.00"), D("110.00"), D("50.00"))
    refund(split, card=D("50.20"))
    # Paid back more than it took (possible before): nothing more can go back.
    over = bill(D("10.00"), D("10.00"), D("10.00"), D("5.00"))
    for _ in range(10):
        refund(over, cash=D("1.00"))
    refund(over, card=D("5.00"))
    untouched = bill(D("81.76"), D("82.00"), D("100.00"), D("100.00"))

    apps = migrate([("purchases", "0018_refundable_checks")])

    stored = apps.get_model("purchases", "Purchase").objects.values_list("refundable", "cash_refundable")
    assert stored.get(pk=split.pk) == (D("49.80"), D("40.00"))
    assert stored.get(pk=over.pk) == (D("0.00"), D("0.00"))
    assert stored.get(pk=untouched.pk) == (D("82.00"), D("82.00"))
