"""The shop and the random bills of the sales report's property tests (test_sales_report_properties,
test_sales_rollups): four products whose tax and discounts round, three cashiers, two tills, and
``_ring_up`` of a ``bill_plan`` (lines, discounts, split tenders with change, refunds on later days),
moved to times around the store's local midnight (Asia/Kolkata) and UTC's."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from hypothesis import strategies as st

from billing_project.core.money import cash_round
from billing_project.core.types import BillLine, PaymentInput
from cashdrawer.services import denomination_create, till_create
from catalog.models import Product
from catalog.tests.factories import ProductFactory
from customers.tests.factories import UserFactory
from purchases.models import Purchase, PurchaseItem, Refund
from purchases.pricing import quote
from purchases.services import purchase_create, refund_create

D = Decimal
ZONE = "Asia/Kolkata"
KOLKATA = ZoneInfo(ZONE)
BASE = date(2026, 3, 10)
# Local times around the local midnight, UTC's midnight (05:30 here) and the middle of the day.
TIMES = [(0, 0), (0, 1), (5, 29), (5, 30), (12, 0), (23, 59)]

# (price, tax %): every rate the store files, and prices whose tax and discounts round.
CATALOGUE = [(D("45.50"), D("5")), (D("199.99"), D("18")), (D("12.35"), D("12")), (D("80.00"), D("0"))]


@pytest.fixture
def drawer_counts():
    return {"500": 200, "200": 200, "100": 200, "50": 200, "20": 200, "10": 200, "5": 200, "2": 200, "1": 500}


@pytest.fixture
def shop(drawer, drawer_counts, settings):
    settings.TIME_ZONE = ZONE
    timezone.deactivate()
    products = [ProductFactory(price=price, tax_percent=rate, stock=100_000) for price, rate in CATALOGUE]
    # Costs with odd paise, so a line's cost rounds and a method's share of it too.
    for index, product in enumerate(products):
        Product.objects.filter(pk=product.pk).update(
            cost_price=(product.price * D("0.6137")).quantize(D("0.01")) + index
        )
    cashiers = [None, UserFactory(username="asha"), UserFactory(username="ravi")]
    second = till_create(code="T2", name="Counter 2")
    for value, count in drawer_counts.items():
        denomination_create(value=D(value), count=count, till=second)
    tills = [None, second.pk]
    return products, cashiers, tills


line = st.tuples(st.integers(0, len(CATALOGUE) - 1), st.integers(1, 4), st.sampled_from([D("0"), D("2.5"), D("5")]))
tender = st.sampled_from(["cash", "card", "card+cash", "upi+card+cash", "card+upi"])
refund_plan = st.tuples(st.integers(0, 3), st.sampled_from(TIMES), st.floats(0, 1), st.integers(0, 1))
bill_plan = st.fixed_dictionaries(
    {
        "lines": st.lists(line, min_size=1, max_size=3, unique_by=lambda item: item[0]),
        "bill_discount": st.sampled_from([D("0"), D("0"), D("5")]),
        "tender": tender,
        "change": st.sampled_from([D("0"), D("0"), D("10"), D("50")]),
        "day": st.integers(-1, 3),
        "time": st.sampled_from(TIMES),
        "cashier": st.integers(0, 2),
        "till": st.integers(0, 1),
        "refunds": st.lists(refund_plan, max_size=2),
    }
)


def one_bill(lines: list[tuple[int, int, Decimal]], **fields) -> dict:
    """A ``bill_plan`` written out: ``lines`` (catalogue index, quantity, discount %), no bill
    discount, cash without change, at noon of BASE, no cashier, the default till, never refunded;
    ``fields`` sets any of these otherwise."""
    plan = {
        "lines": lines,
        "bill_discount": D("0"),
        "tender": "cash",
        "change": D("0"),
        "day": 0,
        "time": (12, 0),
        "cashier": 0,
        "till": 0,
        "refunds": [],
    }
    assert set(fields) <= set(plan), f"not a bill plan's field: {set(fields) - set(plan)}"
    return {**plan, **fields}


def _payments(total: Decimal, tender: str, change: Decimal) -> list[PaymentInput]:
    card = upi = D("0")
    if tender == "card":
        card = total
    elif tender == "card+cash":
        card = (total * D("0.4")).quantize(D("0.01"))
    elif tender == "upi+card+cash":
        card, upi = (total * D("0.3")).quantize(D("0.01")), (total * D("0.2")).quantize(D("0.01"))
    elif tender == "card+upi":
        card = (total * D("0.5")).quantize(D("0.01"))
        upi = total - card
    cash_due = cash_round(total - card - upi)
    if cash_due == 0 and total - card - upi > 0:
        card = total - upi  # a remainder that rounds to nothing: the card takes it
    payments: list[PaymentInput] = [{"method": m, "amount": a} for m, a in (("card", card), ("upi", upi)) if a > 0]
    cash = cash_due + change if "cash" in tender else cash_due
    if cash > 0:
        payments.append({"method": "cash", "amount": cash})
    return payments


def _ring_up(shop, plan) -> Purchase:
    products, cashiers, tills = shop
    chosen = {products[index].pk: (products[index], quantity, discount) for index, quantity, discount in plan["lines"]}
    total = quote(
        {pk: product for pk, (product, _, _) in chosen.items()},
        {pk: quantity for pk, (_, quantity, _) in chosen.items()},
        line_discounts={pk: discount for pk, (_, _, discount) in chosen.items()},
        bill_discount=plan["bill_discount"],
    ).total
    discounted = plan["bill_discount"] or any(discount for _, _, discount in chosen.values())
    bill = purchase_create(
        customer_email="ann@example.com",
        items=[
            {"product_id": pk, "quantity": quantity, "discount_percent": discount}
            for pk, (_, quantity, discount) in chosen.items()
        ],
        payments=_payments(total, plan["tender"], plan["change"]),
        discount_percent=plan["bill_discount"],
        discount_reason="regular customer" if discounted else "",
        user=cashiers[plan["cashier"]],
        till=tills[plan["till"]],
        send_invoice=False,
    )
    hour, minute = plan["time"]
    when = datetime.combine(BASE + timedelta(days=plan["day"]), datetime.min.time()).replace(
        hour=hour, minute=minute, tzinfo=KOLKATA
    )
    Purchase.objects.filter(pk=bill.pk).update(created_at=when, created_by=cashiers[plan["cashier"]])
    PurchaseItem.objects.filter(purchase=bill).update(created_at=when)  # as purchase_create copies it
    for later, (hour, minute), share, refund_till in plan["refunds"]:
        items: list[BillLine] = []
        for item in PurchaseItem.objects.filter(purchase=bill):
            left = item.quantity - item.refunded_quantity
            quantity = min(left, max(1, round(float(left) * share)))
            if left and share > 0:
                items.append({"product_id": item.product_id, "quantity": quantity})
        if not items:
            continue
        refund = refund_create(
            purchase_id=bill.pk,
            items=items,
            reason="returned",
            till=tills[refund_till],
            user=cashiers[(plan["cashier"] + 1) % 3],
        )
        at = datetime.combine(when.date() + timedelta(days=later), datetime.min.time()).replace(
            hour=hour, minute=minute, tzinfo=KOLKATA
        )
        Refund.objects.filter(pk=refund.pk).update(created_at=max(at, when))
    return bill
