"""refund_create against the database: the shares, the cap, the money, the drawer, the stock."""

import random
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from billing_project.core.errors import ValidationFailed
from cashdrawer.errors import ChangeUnavailable
from cashdrawer.models import Denomination, DrawerMovement, Till, TillSession
from cashdrawer.reports import session_figures
from cashdrawer.services import session_close, session_open, till_create
from cashdrawer.tests.factories import drawer_with
from catalog.models import Product
from catalog.tests.factories import ProductFactory
from purchases.errors import NotOnBill, RefundExceedsSold, RefundPaymentMismatch
from purchases.models import Purchase, PurchaseItem, Refund, RefundLine, RefundPayment
from purchases.selectors import customer_list
from purchases.services import purchase_create, refund_create
from purchases.services.refunds import refund_allocate
from purchases.tests.helpers import db_state, refund, ring_up

pytestmark = pytest.mark.django_db

D = Decimal
REFUND_STATE = ("refundable", "cash_refundable")


def full_state() -> dict:
    return {
        **db_state(),
        "refunds": Refund.objects.count(),
        "refund_lines": RefundLine.objects.count(),
        "refund_payments": RefundPayment.objects.count(),
        "refunded": list(
            PurchaseItem.objects.values_list("refunded_quantity", "refunded_subtotal", "refunded_tax_amount")
        ),
        "sessions": TillSession.objects.count(),
    }


@pytest.fixture
def rice():
    return ProductFactory(name="Rice", price=D("45.50"), tax_percent=D("5"), stock=10)


@pytest.fixture
def oil():
    return ProductFactory(name="Oil", price=D("199.99"), tax_percent=D("18"), stock=10)


def test_a_partial_refund_pays_back_the_proportional_share_half_up(drawer, rice):
    bill = ring_up((rice, 3))  # 136.50 + 6.83 tax
    r = refund(bill, (rice, 1))

    assert (r.subtotal, r.tax_total, r.total) == (D("45.50"), D("2.28"), D("47.78"))  # 6.83 / 3 = 2.2766…
    assert (r.rounding, r.amount) == (D("0.22"), D("48.00"))  # the cash part rounds to the rupee
    line = RefundLine.objects.get(refund=r)
    assert (line.quantity, line.subtotal, line.tax_amount, line.total) == (1, D("45.50"), D("2.28"), D("47.78"))
    item = PurchaseItem.objects.get(purchase=bill)
    assert (item.refunded_quantity, item.refunded_subtotal, item.refunded_tax_amount) == (1, D("45.50"), D("2.28"))


def test_the_last_refund_of_a_line_takes_exactly_the_remainder(drawer, rice):
    bill = ring_up((rice, 3))
    shares = [refund(bill, (rice, 1)) for _ in range(3)]

    assert [r.tax_total for r in shares] == [D("2.28"), D("2.28"), D("2.27")]
    assert sum(r.subtotal for r in shares) == D("136.50")
    assert sum(r.tax_total for r in shares) == D("6.83")
    item = PurchaseItem.objects.get(purchase=bill)
    assert (item.refunded_quantity, item.refunded_subtotal, item.refunded_tax_amount) == (3, D("136.50"), D("6.83"))


def test_a_refund_never_changes_the_bills_own_figures(drawer, rice):
    bill = ring_up((rice, 2))
    # Only what refunds can still pay back goes down.
    figures = [f.attname for f in Purchase._meta.concrete_fields if f.attname not in REFUND_STATE]
    before = Purchase.objects.values(*figures).get(pk=bill.pk)
    refund(bill, (rice, 2))
    assert Purchase.objects.values(*before).get(pk=bill.pk) == before


def test_a_product_not_on_the_bill_is_refused_and_nothing_is_written(drawer, rice, oil):
    bill = ring_up((rice, 1))
    before = full_state()
    with pytest.raises(NotOnBill) as excinfo:
        refund(bill, (rice, 1), (oil, 1))
    assert excinfo.value.details == {"product_id": oil.pk}
    assert full_state() == before


def test_refunding_more_than_is_left_is_refused_with_the_counts(drawer, rice):
    bill = ring_up((rice, 3))
    refund(bill, (rice, 2))
    before = full_state()
    with pytest.raises(RefundExceedsSold) as excinfo:
        refund(bill, (rice, 2))
    assert excinfo.value.details == {"product_id": rice.pk, "sold": 3, "refunded": 2, "requested": 2}
    assert full_state() == before


def test_lines_for_the_same_product_are_combined_against_the_cap(drawer, rice):
    bill = ring_up((rice, 2))
    with pytest.raises(RefundExceedsSold):
        refund(bill, (rice, 1), (rice, 2))


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reason_is_required(drawer, rice, reason):
    bill = ring_up((rice, 1))
    with pytest.raises(ValidationFailed):
        refund(bill, (rice, 1), reason=reason)
    assert Refund.objects.count() == 0


def test_restock_puts_the_goods_back_even_for_an_archived_product(drawer, rice):
    bill = ring_up((rice, 3))
    Product.objects.filter(pk=rice.pk).update(is_active=False)
    refund(bill, (rice, 2))
    assert Product.objects.get(pk=rice.pk).stock == 9


def test_a_write_off_leaves_the_stock_alone(drawer, rice):
    bill = ring_up((rice, 3))
    r = refund(bill, (rice, 2), restock=False)
    assert Product.objects.get(pk=rice.pk).stock == 7
    assert Refund.objects.get(pk=r.pk).restock is False


def test_the_cash_leaves_the_drawer_in_the_fewest_pieces(drawer, oil):
    bill = ring_up((oil, 2))  # 399.98 + 72.00 = 471.98 → 472 paid
    counts = dict(Denomination.objects.values_list("value", "count"))
    r = refund(bill, (oil, 2))

    assert r.amount == D("472.00")
    assert r.cash_out == [
        {"value": D("200"), "count": 2},
        {"value": D("50"), "count": 1},
        {"value": D("20"), "count": 1},
        {"value": D("2"), "count": 1},
    ]
    after = dict(Denomination.objects.values_list("value", "count"))
    assert {v: counts[v] - after[v] for v in counts if counts[v] != after[v]} == {
        D("200"): 2,
        D("50"): 1,
        D("20"): 1,
        D("2"): 1,
    }
    moves = DrawerMovement.objects.filter(kind=DrawerMovement.Kind.REFUND_OUT)
    assert sorted((m.denomination.value, m.delta, m.refund_id) for m in moves) == [
        (D("2"), -1, r.pk),
        (D("20"), -1, r.pk),
        (D("50"), -1, r.pk),
        (D("200"), -2, r.pk),
    ]
    assert list(RefundPayment.objects.filter(refund=r).values_list("method", "amount")) == [("cash", D("472.00"))]
    call_command("drawer_audit")  # exits non-zero on any mismatch


@pytest.mark.parametrize("drawer_counts", [{"500": 1}])
def test_no_exact_cash_is_change_unavailable_and_nothing_is_written(drawer, rice):
    bill = ring_up((rice, 1))  # 48 paid with no tendered notes: the drawer still only holds a 500
    before = full_state()
    with pytest.raises(ChangeUnavailable):
        refund(bill, (rice, 1))
    assert full_state() == before


def test_a_refund_worth_less_than_the_cash_increment_pays_nothing_in_cash(drawer):
    gum = ProductFactory(name="Gum", price=D("0.40"), tax_percent=D("0"), stock=5)
    bill = ring_up((gum, 2))
    r = refund(bill, (gum, 1))
    assert (r.total, r.rounding, r.amount) == (D("0.40"), D("-0.40"), D("0.00"))
    assert r.cash_out == [] and RefundPayment.objects.filter(refund=r).count() == 0


def test_a_refund_at_another_till_after_the_bills_session_closed(drawer, rice, superuser):
    bill = ring_up((rice, 2))
    counted = [{"value": v, "count": c} for v, c in _counts(bill.till_id)]
    assert bill.session_id is not None
    session_close(session_id=bill.session_id, counted=counted, user=superuser)  # uncounted cash: a manager
    other = till_create(code="T2")
    drawer_with_till(other, {"100": 2, "20": 5, "5": 5, "1": 5})

    r = refund(bill, (rice, 1), till=other.pk)

    assert r.till_id == other.pk
    session = TillSession.objects.get(pk=r.session_id)
    assert session.till_id == other.pk and session.is_open and session.auto_opened
    assert DrawerMovement.objects.filter(refund=r).values_list("till_id", flat=True).distinct().get() == other.pk
    figures = session_figures(session)
    assert figures["refunds"] == {"count": 1, "total": "48.00"}
    assert figures["cash"]["refunds"] == "48.00"


def _counts(till_id):
    return Denomination.objects.filter(till_id=till_id).values_list("value", "count")


def drawer_with_till(till: Till, counts: dict) -> None:
    from cashdrawer.services import denomination_create

    for value, count in counts.items():
        denomination_create(value=D(value), count=count, till=till)


def test_the_session_report_identity_holds_after_bills_and_refunds(drawer, rice, oil):
    till = Till.objects.get(code="MAIN")
    session = session_open(till_id=till.pk, counted=[{"value": v, "count": c} for v, c in _counts(till.pk)])
    a = ring_up((rice, 3), (oil, 1))
    ring_up((oil, 2), email="bob@example.com")
    refund(a, (rice, 1))
    refund(a, (oil, 1), restock=False)

    figures = session_figures(TillSession.objects.get(pk=session.pk))
    cash = {k: D(v) for k, v in figures["cash"].items() if v is not None}
    assert figures["refunds"]["count"] == 2
    assert cash["refunds"] == D(figures["refunds"]["total"]) == D("48.00") + D("236.00")
    assert cash["expected"] == (
        cash["opening"] + cash["sales"] - cash["change_given"] + cash["cash_in"] - cash["cash_out"] - cash["refunds"]
    )
    drawer_value = sum(d.value * d.count for d in Denomination.objects.filter(till=till))
    assert cash["expected"] - cash["uncounted_cash"] == drawer_value
    call_command("drawer_audit")


def test_customers_totals_are_net_of_refunds(drawer, rice):
    bill = ring_up((rice, 2))  # 95.55 → 96
    ring_up((rice, 1))  # 48
    refund(bill, (rice, 1))  # 47.78 → 48
    ann = vars(customer_list(email="ann@example.com").get())
    assert (ann["purchase_count"], ann["total_spent"], ann["total_refunded"]) == (2, D("96.00"), D("48.00"))


# --- Where the money goes -----------------------------------------------------------------------


def test_allocation_goes_to_non_cash_methods_first_within_what_they_can_take_back():
    payments = [("card", False, D("60.00")), ("cash", True, D("40.00"))]
    allocation, rounding = refund_allocate(total=D("70.40"), bill_payments=payments, already_refunded={"card": D("20")})
    assert allocation == {"card": D("40.00"), "cash": D("30.00")}
    assert rounding == D("-0.40")


def test_allocation_of_a_cash_bill_is_all_cash_rounded():
    allocation, rounding = refund_allocate(
        total=D("47.78"), bill_payments=[("cash", True, D("96"))], already_refunded={}
    )
    assert (allocation, rounding) == ({"cash": D("48.00")}, D("0.22"))


def test_client_payments_may_put_everything_in_cash_up_to_the_cash_the_bill_kept():
    payments = [("card", False, D("60.00")), ("cash", True, D("40.00"))]
    allocation, _ = refund_allocate(
        total=D("40.00"), bill_payments=payments, already_refunded={}, requested=[{"method": "cash", "amount": "40"}]
    )
    assert allocation == {"cash": D("40.00")}


def test_client_payments_may_not_pay_back_in_cash_what_the_card_paid():
    # No cash reached the drawer for this bill: cash cannot stand in for the card.
    with pytest.raises(RefundPaymentMismatch, match=r"cash can take back at most ₹0\.00"):
        refund_allocate(
            total=D("50.00"),
            bill_payments=[("card", False, D("100.00"))],
            already_refunded={},
            requested=[{"method": "cash", "amount": "50"}],
        )


@pytest.mark.parametrize(
    "requested",
    [
        [{"method": "cash", "amount": "49"}],  # does not add up
        [{"method": "card", "amount": "51"}],  # more than the card can take back (cap 50 − 0; total 50)
        [{"method": "card", "amount": "30"}, {"method": "cash", "amount": "30"}],  # over the amount
        [{"method": "voucher", "amount": "50"}],  # the bill was not paid with it
        [{"method": "cash", "amount": "25"}, {"method": "cash", "amount": "25"}],  # twice
    ],
)
def test_client_payments_that_do_not_fit_are_a_mismatch(requested):
    with pytest.raises(RefundPaymentMismatch):
        refund_allocate(
            total=D("50.00"),
            bill_payments=[("card", False, D("60.00")), ("cash", True, D("40"))],
            already_refunded={"card": D("10.00")},
            requested=requested,
        )


def test_a_payment_mismatch_writes_nothing(drawer, rice):
    bill = ring_up((rice, 1))
    before = full_state()
    with pytest.raises(RefundPaymentMismatch):
        refund(bill, (rice, 1), payments=[{"method": "cash", "amount": D("47")}])
    assert full_state() == before


# --- Never more back than the bill took (the probe's defects) --------------------------------------


def paid_back(purchase) -> dict[str, Decimal]:
    """What the bill's refunds paid back, by method."""
    back: dict[str, Decimal] = {}
    for method, amount in RefundPayment.objects.filter(refund__purchase=purchase).values_list("method", "amount"):
        back[method] = back.get(method, D("0.00")) + amount
    return back


def test_cash_refunds_rounded_up_then_a_card_refund_never_pay_back_more_than_the_payable(drawer):
    """20 × 0.50 paid card 5.00 + cash 5. Each unit paid back as cash 1.00 rounds 0.50 up: the cash
    the bill kept (5) is used up after five of them, and the card then takes back only what is left
    of the payable. Before, all eleven refunds were taken and 15.00 went back on a payable of 10.00."""
    pen = ProductFactory(name="Pen", price=D("0.50"), tax_percent=D("0"), stock=100)
    bill = purchase_create(
        customer_email="ann@example.com",
        items=[{"product_id": pen.pk, "quantity": 20}],
        payments=[{"method": "card", "amount": D("5.00")}, {"method": "cash", "amount": D("5")}],
    )
    assert bill.payable == D("10.00")

    taken = []
    for _ in range(10):
        try:
            taken.append(refund(bill, (pen, 1), payments=[{"method": "cash", "amount": "1.00"}]))
        except RefundPaymentMismatch as exc:
            assert "cash can take back at most ₹0.00" in exc.message
    taken.append(refund(bill, (pen, 10), payments=[{"method": "card", "amount": "5.00"}]))
    assert len(taken) == 6
    assert sum(r.amount for r in taken) == bill.payable
    assert paid_back(bill) == {"cash": D("5.00"), "card": D("5.00")}

    last = refund(bill, (pen, 5))  # the last units: nothing is left to pay back
    assert (last.total, last.amount) == (D("2.50"), D("0.00"))
    assert sum(r.amount for r in Refund.objects.filter(purchase=bill)) == bill.payable


def test_a_card_refund_after_a_cash_refund_never_pays_back_more_than_the_payable(drawer):
    """2 × 50.20 = 100.40 paid card 60 + cash (40.40 → 40): payable 100.00. One unit back as cash
    50 and the other to the card, 50.20, gave back 100.20 before."""
    jar = ProductFactory(name="Jar", price=D("50.20"), tax_percent=D("0"), stock=10)
    bill = purchase_create(
        customer_email="ann@example.com",
        items=[{"product_id": jar.pk, "quantity": 2}],
        payments=[{"method": "card", "amount": D("60.00")}, {"method": "cash", "amount": D("40")}],
    )
    assert (bill.total, bill.payable) == (D("100.40"), D("100.00"))

    with pytest.raises(RefundPaymentMismatch, match=r"cash can take back at most ₹40\.00"):
        refund(bill, (jar, 1), payments=[{"method": "cash", "amount": "50"}])
    first = refund(bill, (jar, 1), payments=[{"method": "card", "amount": "10.20"}, {"method": "cash", "amount": "40"}])
    with pytest.raises(RefundPaymentMismatch, match="exactly what is left") as refused:
        refund(bill, (jar, 1), payments=[{"method": "card", "amount": "50.20"}])
    assert refused.value.details["payments"] == [{"method": "card", "amount": "49.80"}]
    last = refund(bill, (jar, 1))

    assert (first.amount, last.amount) == (D("50.20"), D("49.80"))
    assert paid_back(bill) == {"card": D("60.00"), "cash": D("40.00")}
    assert first.amount + last.amount == bill.payable


def test_a_refused_cash_amount_says_cash_is_whole_rupees_and_names_the_amount_taken(drawer, rice):
    bill = ring_up((rice, 2))  # 95.55 → 96
    with pytest.raises(RefundPaymentMismatch) as refused:
        refund(bill, (rice, 1), payments=[{"method": "cash", "amount": "47.78"}])
    assert refused.value.message == (
        "The cash part of this refund is ₹48.00 (cash is paid back in whole rupees), not ₹47.78."
    )
    assert refused.value.details["cash"] == "48.00"
    assert refund(bill, (rice, 1), payments=[{"method": "cash", "amount": "48"}]).amount == D("48.00")


def test_the_bill_keeps_what_refunds_can_still_pay_back(drawer):
    jar = ProductFactory(name="Jar", price=D("50.20"), tax_percent=D("0"), stock=10)
    bill = purchase_create(
        customer_email="ann@example.com",
        items=[{"product_id": jar.pk, "quantity": 2}],
        payments=[{"method": "card", "amount": D("60.00")}, {"method": "cash", "amount": D("50")}],
    )
    assert (bill.payable, bill.change_due) == (D("100.00"), D("10.00"))
    stored = Purchase.objects.values_list("refundable", "cash_refundable")
    assert stored.get(pk=bill.pk) == (D("100.00"), D("40.00"))
    refund(bill, (jar, 1))  # card first: 50.20
    assert stored.get(pk=bill.pk) == (D("49.80"), D("40.00"))
    refund(bill, (jar, 1))  # the rest: card 9.80 and cash 40
    assert stored.get(pk=bill.pk) == (D("0.00"), D("0.00"))


@pytest.mark.parametrize(
    ("refundable", "cash_refundable"),
    [
        (D("-0.01"), D("0.00")),  # more paid back than the bill took
        (D("100.01"), D("0.00")),  # more left than the payable
        (D("100.00"), D("-1.00")),  # more cash paid back than the drawer kept
        (D("100.00"), D("41.00")),  # more cash left than the drawer kept (40)
        (D("30.00"), D("40.00")),  # more cash left than anything left
    ],
)
def test_the_database_refuses_to_pay_back_more_than_the_bill_took(drawer, refundable, cash_refundable):
    jar = ProductFactory(name="Jar", price=D("50.20"), tax_percent=D("0"), stock=10)
    bill = purchase_create(
        customer_email="ann@example.com",
        items=[{"product_id": jar.pk, "quantity": 2}],
        payments=[{"method": "card", "amount": D("60.00")}, {"method": "cash", "amount": D("50")}],
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Purchase.objects.filter(pk=bill.pk).update(refundable=refundable, cash_refundable=cash_refundable)


# --- Property: random partial refunds never exceed a line, and all of them give back exactly ------


@pytest.mark.parametrize("seed", range(12))
def test_random_partial_refunds_never_exceed_a_line_and_sum_to_it_exactly(seed):
    rng = random.Random(seed)
    drawer_with({"2000": 50, "500": 50, "200": 50, "100": 50, "50": 50, "20": 50, "10": 50, "5": 50, "2": 50, "1": 50})
    products = [
        ProductFactory(
            price=D(rng.randint(1, 99999)) / 100,
            tax_percent=rng.choice([D("0"), D("5"), D("12"), D("18"), D("28"), D("12.5")]),
            stock=1000,
        )
        for _ in range(rng.randint(1, 4))
    ]
    bill = ring_up(*[(p, rng.randint(1, 9)) for p in products])
    lines = {i.product_id: i for i in PurchaseItem.objects.filter(purchase=bill)}
    left = {pid: int(item.quantity) for pid, item in lines.items()}  # sold each: whole numbers

    while any(left.values()):
        pid = rng.choice([p for p, q in left.items() if q])
        qty = rng.randint(1, left[pid])
        refund_create(purchase_id=bill.pk, items=[{"product_id": pid, "quantity": qty}], reason="back")
        left[pid] -= qty
        for item in PurchaseItem.objects.filter(purchase=bill):
            assert item.refunded_subtotal <= item.subtotal and item.refunded_tax_amount <= item.tax_amount
            sums = RefundLine.objects.filter(item=item).values_list("subtotal", "tax_amount", "total")
            assert sum(s for s, _, _ in sums) == item.refunded_subtotal
            assert sum(t for _, t, _ in sums) == item.refunded_tax_amount

    for item in PurchaseItem.objects.filter(purchase=bill):
        assert item.refunded_quantity == item.quantity
        assert (item.refunded_subtotal, item.refunded_tax_amount) == (item.subtotal, item.tax_amount)
        assert sum(RefundLine.objects.filter(item=item).values_list("total", flat=True)) == item.total
    totals = Refund.objects.filter(purchase=bill).values_list("subtotal", "tax_total", "total")
    assert (sum(t[0] for t in totals), sum(t[1] for t in totals), sum(t[2] for t in totals)) == (
        bill.subtotal,
        bill.tax_total,
        bill.total,
    )
    with pytest.raises(RefundExceedsSold):
        refund_create(purchase_id=bill.pk, items=[{"product_id": products[0].pk, "quantity": 1}], reason="again")
    call_command("drawer_audit")


@pytest.mark.parametrize(
    ("price", "amounts"),
    [
        # 3 × 33.50 = 100.50 → payable 101.00; each third rounds up to 34.00, but the bill only
        # took 101.00: the last refund gives back exactly the rest, 33.00.
        (D("33.50"), [D("34.00"), D("34.00"), D("33.00")]),
        # 3 × 33.20 = 99.60 → payable 100.00; each third rounds down to 33.00, and the last one
        # gives back the rest, 34.00, so the customer gets back all they paid.
        (D("33.20"), [D("33.00"), D("33.00"), D("34.00")]),
    ],
)
def test_refunds_one_unit_at_a_time_give_back_exactly_the_payable(drawer, price, amounts):
    product = ProductFactory(name="Jar", price=price, tax_percent=D("0"), stock=10)
    bill = purchase_create(
        customer_email="ann@example.com",
        items=[{"product_id": product.pk, "quantity": 3}],
        paid_amount=(price * 3).quantize(D("1"), rounding=ROUND_HALF_UP),
    )
    given = [
        refund_create(purchase_id=bill.pk, items=[{"product_id": product.pk, "quantity": 1}], reason="broken").amount
        for _ in range(3)
    ]

    assert given == amounts
    assert sum(given) == bill.payable
