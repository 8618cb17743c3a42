"""The refund allocation's property (hypothesis, against the database): for any sequence of partial
refunds, each with the default allocation or an explicit one (cash, card, UPI, in any amounts),
on split-tender bills with odd prices, tax and discounts:

- the money paid back never exceeds the bill's payable;
- per method, it never exceeds what that method kept (cash: cash paid − change);
- once the last unit is back, it is exactly the payable, each method got back exactly what it kept,
  and each line its subtotal and tax;
- a refused refund writes nothing, and the bill's stored ``refundable`` / ``cash_refundable`` are
  always the payable and the cash kept less what went back.

Bills and refunds are made through ``purchase_create`` and ``refund_create``. Each example runs in a
transaction that is rolled back. Runs on SQLite and on PostgreSQL.
"""

from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import F
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from billing_project.core.errors import DomainError
from billing_project.core.money import cash_round, money
from billing_project.core.testing.properties import examples
from billing_project.core.types import BillLine, PaymentInput
from catalog.tests.factories import ProductFactory
from purchases.errors import RefundPaymentMismatch
from purchases.models import Purchase, PurchaseItem, Refund, RefundPayment
from purchases.pricing import quote
from purchases.services import purchase_create, refund_create
from purchases.services.refunds import refund_line_share

pytestmark = [pytest.mark.django_db, pytest.mark.property]

D = Decimal
ZERO = D("0.00")
NON_CASH = ("card", "upi")

prices = st.decimals(min_value=D("0.01"), max_value=D("250.00"), places=2)
taxes = st.sampled_from([D(t) for t in ("0", "5", "12", "18", "28", "12.50")])
discounts = st.sampled_from([D(d) for d in ("0", "0", "2.50", "7.50", "10", "33.33")])
product = st.tuples(prices, taxes, st.integers(1, 6), discounts)
# What card and UPI pay, as parts of the total (0: not used); the rest is cash, with change.
bill_plan = st.fixed_dictionaries(
    {
        "products": st.lists(product, min_size=1, max_size=3),
        "bill_discount": st.sampled_from([D("0"), D("0"), D("5"), D("12.50")]),
        "card": st.sampled_from([D(s) for s in ("0.50", "0", "0.10", "0.33", "0.73", "1")]),
        "upi": st.sampled_from([D(s) for s in ("0", "0.20", "0.50", "1")]),
        "change": st.sampled_from([D("0"), D("0"), D("3"), D("50")]),
    }
)
# How a refund's money is asked to go back: the default, or explicit amounts built from parts of the
# refund's total (so that many are right, and many are not).
allocation = st.one_of(
    st.lists(
        st.tuples(
            st.sampled_from(["cash", *NON_CASH]),
            st.sampled_from(["rest rounded", "rest", "part", "all", "odd"]),
            st.sampled_from([D("0.5"), D("0.2"), D("0.9")]),
        ),
        min_size=1,
        max_size=3,
        unique_by=lambda item: item[0],
    ),
    st.none(),
)
# A refund: for each line, a part of what is left of it (0: none), and its allocation.
refund_plan = st.tuples(st.lists(st.sampled_from([0.5, 0, 0.3, 1]), min_size=3, max_size=3), allocation)


@pytest.fixture
def drawer_counts():
    return {"500": 100, "200": 100, "100": 100, "50": 100, "20": 100, "10": 100, "5": 100, "2": 100, "1": 500}


def _payments(total: Decimal, plan: dict) -> list[PaymentInput]:
    """Card and UPI their parts of the total (never more than it), and the rest in cash with change."""
    card = money(total * plan["card"])
    upi = min(money(total * plan["upi"]), total - card)
    cash_due = cash_round(total - card - upi)
    if cash_due == 0 and total - card - upi > 0:
        card = total - upi  # a remainder that rounds to nothing payable: the card takes it
    payments: list[PaymentInput] = [{"method": m, "amount": a} for m, a in (("card", card), ("upi", upi)) if a > 0]
    if cash_due > 0:
        payments.append({"method": "cash", "amount": cash_due + plan["change"]})
    return payments


def _ring_up(plan: dict) -> Purchase:
    products = {}
    quantities, line_discounts = {}, {}
    for price, tax, quantity, discount in plan["products"]:
        p = ProductFactory(price=price, tax_percent=tax, stock=100)
        products[p.pk], quantities[p.pk], line_discounts[p.pk] = p, quantity, discount
    total = quote(products, quantities, line_discounts=line_discounts, bill_discount=plan["bill_discount"]).total
    discounted = plan["bill_discount"] or any(line_discounts.values())
    return purchase_create(
        customer_email="ann@example.com",
        items=[
            {"product_id": pk, "quantity": q, "discount_percent": line_discounts[pk]} for pk, q in quantities.items()
        ],
        payments=_payments(total, plan),
        discount_percent=plan["bill_discount"],
        discount_reason="regular" if discounted else "",
        send_invoice=False,
    )


def _refund_total(bill: Purchase, items: list[BillLine]) -> Decimal:
    """What the lines taken back are worth, as ``refund_create`` works it out (to build amounts)."""
    lines = {i.product_id: i for i in PurchaseItem.objects.filter(purchase=bill)}
    return sum((refund_line_share(item=lines[i["product_id"]], quantity=i["quantity"]).total for i in items), ZERO)


def _explicit(total: Decimal, parts) -> list[dict]:
    """Amounts for the methods asked: a part of the total, all of it, the rest after the others
    (rounded to the cash increment or not), or an odd amount."""
    given: list[dict] = []
    for method, kind, fraction in parts:
        so_far = sum((p["amount"] for p in given), ZERO)
        if kind == "rest":
            amount = total - so_far
        elif kind == "rest rounded":
            amount = cash_round(total - so_far)
        elif kind == "part":
            amount = money(total * fraction)
        elif kind == "all":
            amount = total
        else:
            amount = money(total * fraction) + D("0.01")
        if amount > 0:
            given.append({"method": method, "amount": amount})
    return given


def _kept(bill: Purchase) -> dict[str, Decimal]:
    """What each method kept of the bill: the cash less the change."""
    kept: dict[str, Decimal] = {}
    for code, is_cash, amount in bill.payments.values_list("method__code", "is_cash", "amount"):
        kept[code] = kept.get(code, ZERO) + (amount - bill.change_due if is_cash else amount)
    return {code: amount for code, amount in kept.items() if amount > 0}


def _paid_back(bill: Purchase) -> dict[str, Decimal]:
    back: dict[str, Decimal] = {}
    for method, amount in RefundPayment.objects.filter(refund__purchase=bill).values_list("method", "amount"):
        back[method] = back.get(method, ZERO) + amount
    return back


def _state(bill: Purchase) -> tuple:
    refunds = list(Refund.objects.filter(purchase=bill).values_list("pk", "amount"))
    lines = list(PurchaseItem.objects.filter(purchase=bill).values_list("pk", "refunded_quantity"))
    stored = Purchase.objects.values_list("refundable", "cash_refundable").get(pk=bill.pk)
    return refunds, lines, sorted(_paid_back(bill).items()), stored


def _check(bill: Purchase, kept: dict[str, Decimal]) -> None:
    back = _paid_back(bill)
    total_back = sum(back.values(), ZERO)
    assert total_back <= bill.payable, (back, bill.payable)
    for method, amount in back.items():
        assert amount <= kept.get(method, ZERO), (method, back, kept)
    for refund in Refund.objects.filter(purchase=bill).prefetch_related("payments"):
        assert sum((p.amount for p in refund.payments.all()), ZERO) == refund.amount == refund.total + refund.rounding
    stored = Purchase.objects.values_list("refundable", "cash_refundable").get(pk=bill.pk)
    assert stored == (bill.payable - total_back, kept.get("cash", ZERO) - back.get("cash", ZERO))


def _one_refund(bill: Purchase, plan) -> None:
    parts, asked = plan
    items: list[BillLine] = []
    for item, part in zip(PurchaseItem.objects.filter(purchase=bill).order_by("pk"), parts, strict=False):
        left = item.quantity - item.refunded_quantity
        quantity = min(left, max(1, round(float(left) * part))) if part and left else 0
        if quantity:
            items.append({"product_id": item.product_id, "quantity": quantity})
    if not items:
        return
    payments = None if asked is None else _explicit(_refund_total(bill, items), asked)
    before = _state(bill)
    try:
        refund_create(purchase_id=bill.pk, items=items, reason="back", payments=payments)
    except RefundPaymentMismatch:
        assert payments is not None  # the default allocation always fits
        assert _state(bill) == before  # a refusal writes nothing
    except DomainError as exc:  # e.g. the drawer has no exact change: also nothing written
        assert exc.code != "refund_payment_mismatch"
        assert _state(bill) == before


@settings(
    max_examples=examples(60),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(bill=bill_plan, refunds=st.lists(refund_plan, max_size=6), last=allocation)
# Like the probe's second bill: 2 × 50.60 = 101.20 paid card 73.88 + cash (27.32 → 27), payable
# 100.88. One unit back as cash 51 (50.60 rounded), the other to the card, 50.60: 101.60 went back.
@example(
    bill={
        "products": [(D("50.60"), D("0"), 2, D("0"))],
        "bill_discount": D("0"),
        "card": D("0.73"),
        "upi": D("0"),
        "change": D("0"),
    },
    refunds=[([0.5, 0, 0], [("cash", "rest rounded", D("0.5"))]), ([1, 0, 0], [("card", "all", D("0.5"))])],
    last=None,
).via("the probe's second bill")
def test_refunds_never_pay_back_more_than_the_bill_took_and_all_of_them_exactly_that(drawer, bill, refunds, last):
    with transaction.atomic():
        purchase = _ring_up(bill)
        kept = _kept(purchase)
        assert sum(kept.values(), ZERO) == purchase.payable
        for plan in refunds:
            _one_refund(purchase, plan)
            _check(purchase, kept)
        # Whatever came before, the last units come back (the default allocation if the asked one
        # does not fit), and then everything the bill took has gone back, each method its own.
        _one_refund(purchase, ([1, 1, 1], last))
        if PurchaseItem.objects.filter(purchase=purchase, refunded_quantity__lt=F("quantity")).exists():
            _one_refund(purchase, ([1, 1, 1], None))
        _check(purchase, kept)
        assert not PurchaseItem.objects.filter(purchase=purchase, refunded_quantity__lt=F("quantity")).exists()
        assert _paid_back(purchase) == kept
        # And each line's amounts came back to the cent, its last refund taking the remainder.
        for item in PurchaseItem.objects.filter(purchase=purchase):
            assert (item.refunded_subtotal, item.refunded_tax_amount) == (item.subtotal, item.tax_amount)
            assert sum(item.refund_lines.values_list("total", flat=True)) == item.total
        assert Purchase.objects.values_list("refundable", "cash_refundable").get(pk=purchase.pk) == (ZERO, ZERO)
        transaction.set_rollback(True)
