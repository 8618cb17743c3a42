"""Split tender and discounts through the API: every rule and every code of POST /purchases."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from catalog.tests.factories import ProductFactory
from purchases.models import Payment, PaymentMethod, Purchase, PurchaseItem
from purchases.tests.helpers import db_state, pieces

pytestmark = pytest.mark.django_db

D = Decimal
URL = "/api/v1/purchases"


@pytest.fixture(autouse=True)
def _whole_rupees(settings):
    settings.CASH_ROUNDING_INCREMENT = D("1.00")
    settings.CASH_ROUNDING_METHOD = "ROUND_HALF_UP"
    settings.CASHIER_MAX_DISCOUNT_PERCENT = D("10")


@pytest.fixture
def drawer_counts():
    return {"500": 4, "100": 10, "50": 4, "20": 10, "10": 10, "5": 10, "2": 10, "1": 10}


@pytest.fixture
def lamp():
    """Total 100.40: no tax, so the worked example's figures are the lamp's."""
    return ProductFactory(name="Lamp", price=D("100.40"), tax_percent=D("0"), stock=100)


@pytest.fixture
def kettle():
    return ProductFactory(name="Kettle", price=D("100.00"), tax_percent=D("18"), stock=100)


def bill(*lines, payments=None, **extra):
    body = {"customer_email": "ann@example.com", "items": [{"product_id": p.pk, "quantity": q} for p, q in lines]}
    if payments is not None:
        body["payments"] = payments
    return {**body, **extra}


def post(api, body, status=201):
    response = api.post(URL, body, format="json")
    assert response.status_code == status, response.json()
    return response.json()


def refused(api, body, status, code):
    before = db_state()
    answer = post(api, body, status)
    assert answer["code"] == code, answer
    assert db_state() == before  # nothing written
    return answer


# --- payment methods -----------------------------------------------------------------------------


def test_payment_methods_lists_the_active_ones_cash_first(cashier_api):
    PaymentMethod.objects.create(code="voucher", name="Voucher")
    PaymentMethod.objects.create(code="cheque", name="Cheque", is_active=False)

    response = cashier_api.get("/api/v1/payment-methods")

    assert response.status_code == 200
    assert response.json() == [
        {"code": "cash", "name": "Cash", "is_cash": True},
        {"code": "card", "name": "Card", "is_cash": False},
        {"code": "upi", "name": "UPI", "is_cash": False},
        {"code": "voucher", "name": "Voucher", "is_cash": False},
    ]


def test_payment_methods_need_a_login(api_client):
    assert api_client.get("/api/v1/payment-methods").status_code == 401


def test_a_second_cash_method_is_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentMethod.objects.create(code="cash2", name="More cash", is_cash=True)


# --- the worked example --------------------------------------------------------------------------


def test_card_and_cash_rounds_only_the_cash_part(admin_api, drawer, lamp):
    answer = post(
        admin_api,
        bill(
            (lamp, 1),
            payments=[
                {"method": "card", "amount": "50.00", "reference": "SLIP-0042"},
                {"method": "cash", "amount": "50.00", "tendered": [{"value": "50", "count": 1}]},
            ],
        ),
    )

    assert (answer["total"], answer["payable"], answer["rounding"]) == ("100.40", "100.00", "-0.40")
    assert (answer["paid_amount"], answer["change_due"], answer["change"]) == ("100.00", "0.00", [])
    assert answer["payments"] == [
        {"method": "card", "amount": "50.00", "reference": "SLIP-0042"},
        {"method": "cash", "amount": "50.00", "reference": ""},
    ]
    assert answer["tendered"] == [{"value": "50.00", "count": 1}]
    purchase = Purchase.objects.get(pk=answer["id"])
    assert purchase.cash_paid == D("50.00")
    assert admin_api.get(f"{URL}/{answer['id']}").json() == answer


def test_card_alone_is_not_rounded_and_touches_no_drawer(admin_api, drawer, lamp):
    drawer_before = db_state()["drawer"]

    answer = post(admin_api, bill((lamp, 1), payments=[{"method": "card", "amount": "100.40"}]))

    assert (answer["payable"], answer["rounding"], answer["change_due"]) == ("100.40", "0.00", "0.00")
    assert answer["payments"] == [{"method": "card", "amount": "100.40", "reference": ""}]
    assert db_state()["drawer"] == drawer_before


def test_upi_and_cash_change_comes_from_the_drawer(admin_api, drawer, lamp):
    answer = post(
        admin_api,
        bill(
            (lamp, 2),  # 200.80
            payments=[
                {"method": "upi", "amount": "120.00", "reference": "412345677880"},
                {"method": "cash", "amount": "100.00", "tendered": [{"value": "100", "count": 1}]},
            ],
        ),
    )

    # cash part 80.80 -> 81.00; payable 201.00; change 19.00 in cash.
    assert (answer["payable"], answer["rounding"], answer["change_due"]) == ("201.00", "0.20", "19.00")
    assert pieces(answer["change"]) == {D("10"): 1, D("5"): 1, D("2"): 2}
    assert db_state()["drawer"][D("100")] == 11


def test_change_is_never_more_than_the_cash_paid(admin_api, drawer, lamp):
    # The card covers the whole total; the cash part (0) rounds to 0 and all the cash comes back.
    answer = post(
        admin_api,
        bill((lamp, 1), payments=[{"method": "card", "amount": "100.40"}, {"method": "cash", "amount": "10.00"}]),
    )

    assert (answer["payable"], answer["paid_amount"], answer["change_due"]) == ("100.40", "110.40", "10.00")


def test_payments_without_cash_at_a_total_that_would_round(admin_api, drawer, kettle):
    # 118.00 by card + UPI: no rounding.
    answer = post(
        admin_api,
        bill((kettle, 1), payments=[{"method": "card", "amount": "100"}, {"method": "upi", "amount": "18"}]),
    )
    assert (answer["payable"], answer["paid_amount"]) == ("118.00", "118.00")
    assert [p["method"] for p in answer["payments"]] == ["card", "upi"]


def test_a_voucher_added_by_a_manager_can_pay(admin_api, drawer, kettle):
    PaymentMethod.objects.create(code="voucher", name="Voucher")

    answer = post(admin_api, bill((kettle, 1), payments=[{"method": "voucher", "amount": "118.00"}]))

    assert answer["payments"] == [{"method": "voucher", "amount": "118.00", "reference": ""}]


# --- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["cheque", "bitcoin"])
def test_an_unknown_or_inactive_method_is_refused(admin_api, drawer, lamp, method):
    PaymentMethod.objects.create(code="cheque", name="Cheque", is_active=False)

    answer = refused(
        admin_api, bill((lamp, 1), payments=[{"method": method, "amount": "100.40"}]), 400, "unknown_payment_method"
    )
    assert answer["details"]["method"] == method


def test_non_cash_above_the_total_is_an_overpayment(admin_api, drawer, lamp):
    answer = refused(
        admin_api,
        bill((lamp, 1), payments=[{"method": "card", "amount": "60"}, {"method": "upi", "amount": "40.41"}]),
        400,
        "overpayment",
    )
    assert answer["details"] == {"non_cash_total": "100.41", "total": "100.40"}


def test_too_little_paid_is_insufficient_payment(admin_api, drawer, lamp):
    answer = refused(
        admin_api,
        bill((lamp, 1), payments=[{"method": "card", "amount": "50"}, {"method": "cash", "amount": "49"}]),
        400,
        "insufficient_payment",
    )
    assert answer["details"] == {"paid_amount": "99.00", "payable": "100.00"}


def test_card_short_of_the_total_without_cash_is_insufficient(admin_api, drawer, lamp):
    answer = refused(
        admin_api, bill((lamp, 1), payments=[{"method": "card", "amount": "100.00"}]), 400, "insufficient_payment"
    )
    assert answer["details"] == {"paid_amount": "100.00", "payable": "100.40"}


def test_notes_not_adding_up_to_the_cash_payment_are_a_tender_mismatch(admin_api, drawer, lamp):
    refused(
        admin_api,
        bill(
            (lamp, 1),
            payments=[
                {"method": "card", "amount": "50"},
                {"method": "cash", "amount": "60", "tendered": [{"value": "50", "count": 1}]},
            ],
        ),
        400,
        "tender_mismatch",
    )


@pytest.mark.parametrize(
    "payments",
    [
        [{"method": "cash", "amount": "101", "reference": "R1"}],
        [{"method": "card", "amount": "100.40", "tendered": [{"value": "100", "count": 1}]}],
        [{"method": "cash", "amount": "50"}, {"method": "cash", "amount": "51"}],
        [{"method": "card", "amount": "100.40", "reference": "x" * 101}],
        [{"method": "card", "amount": "0"}],
        [{"method": "card", "amount": "1.001"}],
    ],
    ids=["reference-on-cash", "tendered-on-card", "two-cash", "long-reference", "zero", "three-places"],
)
def test_bad_payments_are_validation_errors(admin_api, drawer, lamp, payments):
    refused(admin_api, bill((lamp, 1), payments=payments), 400, "validation_error")


def test_payments_and_paid_amount_together_are_a_validation_error(admin_api, drawer, lamp):
    refused(
        admin_api,
        bill((lamp, 1), payments=[{"method": "card", "amount": "100.40"}], paid_amount="101"),
        400,
        "validation_error",
    )


def test_no_payment_at_all_is_a_validation_error(admin_api, drawer, lamp):
    answer = refused(admin_api, bill((lamp, 1)), 400, "validation_error")
    assert "paid_amount" in answer["details"]


# --- discounts -----------------------------------------------------------------------------------


def test_a_line_and_a_bill_discount_compound_exactly(admin_api, drawer, kettle):
    answer = post(
        admin_api,
        bill(
            (kettle, 1),
            paid_amount="100",
            discount_percent="10",
            discount_reason="loyal customer",
        )
        | {"items": [{"product_id": kettle.pk, "quantity": 1, "discount_percent": "10"}]},
    )

    line = answer["items"][0]
    # 100.00 less 19% (not 10% then 10% of 90 rounded twice): 81.00 taxable, 14.58 tax.
    assert (line["gross"], line["discount_percent"], line["discount_amount"]) == ("100.00", "19.000000", "19.00")
    assert (line["subtotal"], line["tax_amount"], line["total"]) == ("81.00", "14.58", "95.58")
    assert (answer["discount_percent"], answer["discount_total"], answer["discount_reason"]) == (
        "10.00",
        "19.00",
        "loyal customer",
    )
    assert (answer["total"], answer["payable"]) == ("95.58", "96.00")


def test_the_effective_rate_is_rounded_only_where_the_amount_is(admin_api, drawer):
    oil = ProductFactory(price=D("33.33"), tax_percent=D("5"), stock=10)
    answer = post(
        admin_api,
        bill((oil, 3), paid_amount="500", discount_percent="7.5", discount_reason="promotion")
        | {"items": [{"product_id": oil.pk, "quantity": 3, "discount_percent": "2.25"}]},
    )
    line = answer["items"][0]
    # effective = 2.25 + 7.5 - 2.25 * 7.5 / 100 = 9.58125 %; 99.99 * 9.58125 % = 9.5803... -> 9.58
    assert (line["discount_percent"], line["discount_amount"], line["subtotal"]) == ("9.581250", "9.58", "90.41")


def test_a_discount_needs_a_reason(admin_api, drawer, kettle):
    answer = refused(admin_api, bill((kettle, 1), paid_amount="100", discount_percent="5"), 400, "validation_error")
    assert "discount_reason" in answer["details"]


def test_a_cashier_may_give_up_to_the_limit(cashier_api, drawer, kettle):
    answer = post(cashier_api, bill((kettle, 1), paid_amount="107", discount_percent="10", discount_reason="box"))
    assert answer["discount_total"] == "10.00"


@pytest.mark.parametrize(
    ("line", "whole_bill"),
    [("10.01", "0"), ("0", "10.01"), ("5", "5.3")],  # 5 and 5.3 make 10.035 %
)
def test_a_cashier_above_the_limit_needs_a_manager(cashier_api, drawer, kettle, line, whole_bill):
    answer = refused(
        cashier_api,
        bill((kettle, 1), paid_amount="200", discount_percent=whole_bill, discount_reason="damaged box")
        | {"items": [{"product_id": kettle.pk, "quantity": 1, "discount_percent": line}]},
        403,
        "discount_needs_manager",
    )
    assert answer["details"]["limit"] == "10"


def _pennies(count: int) -> list:
    return [ProductFactory(name=f"Clip {i}", price=D("0.05"), tax_percent=D("0"), stock=10) for i in range(count)]


@pytest.mark.parametrize("on", ["bill", "lines"])
def test_a_cashier_cannot_beat_the_limit_by_rounding_many_small_lines(cashier_api, drawer, on):
    """60 lines of a 0.05 item at 10 %: each line's 0.005 off rounds up to 0.01, so 0.60 comes off
    3.00, which is 20 %. The limit holds for the money taken off, bill-wide."""
    clips = _pennies(60)
    body = bill(*[(clip, 1) for clip in clips], paid_amount="2", discount_reason="bulk")
    if on == "bill":
        body["discount_percent"] = "10"
    else:
        body["items"] = [{**item, "discount_percent": "10"} for item in body["items"]]

    answer = refused(cashier_api, body, 403, "discount_needs_manager")

    assert answer["message"] == (
        "A discount of ₹0.60 on ₹3.00 (20%) is above the 10% a cashier may give; a manager has to ring this bill up."
    )
    assert answer["details"] == {"discount_percent": "20", "limit": "10", "discount_total": "0.60", "gross": "3.00"}


def test_the_money_limit_allows_a_lines_own_rounding_and_counts_only_discounted_lines(cashier_api, drawer, kettle):
    # One 0.05 line at 10 %: 0.01 off is 10 % of 0.05 rounded to the cent, as the line's own discount is.
    # The kettle carries no discount, so its 100.00 cannot hide the clips' rounding.
    clip, two = _pennies(1)[0], _pennies(2)
    post(cashier_api, bill((clip, 1), paid_amount="0", discount_percent="10", discount_reason="bulk"))
    body = bill((two[0], 1), (two[1], 1), (kettle, 1), paid_amount="118", discount_reason="bulk")
    body["items"] = [
        {**item, "discount_percent": "10" if item["product_id"] != kettle.pk else "0"} for item in body["items"]
    ]
    # 0.02 off 0.10: 20 %, though only 0.02 of 118.10.
    refused(cashier_api, body, 403, "discount_needs_manager")


def test_a_manager_may_round_many_small_lines(manager_api, drawer):
    clips = _pennies(60)
    answer = post(
        manager_api, bill(*[(c, 1) for c in clips], paid_amount="2", discount_percent="10", discount_reason="bulk")
    )
    assert (answer["discount_total"], answer["total"]) == ("0.60", "2.40")


def test_a_manager_may_give_a_large_discount(manager_api, drawer, kettle):
    answer = post(manager_api, bill((kettle, 1), paid_amount="60", discount_percent="50", discount_reason="expiry"))
    assert (answer["discount_total"], answer["total"]) == ("50.00", "59.00")


def test_a_full_discount_leaves_a_zero_line(manager_api, drawer, kettle):
    answer = post(manager_api, bill((kettle, 2), paid_amount="0", discount_percent="100", discount_reason="giveaway"))
    assert (answer["items"][0]["subtotal"], answer["total"], answer["payable"], answer["payments"]) == (
        "0.00",
        "0.00",
        "0.00",
        [],
    )


@pytest.mark.parametrize("percent", ["100.01", "-1", "1.234"])
def test_bad_discount_percents_are_validation_errors(admin_api, drawer, kettle, percent):
    refused(
        admin_api,
        bill((kettle, 1), paid_amount="200", discount_percent=percent, discount_reason="x"),
        400,
        "validation_error",
    )


def test_two_lines_of_one_product_with_different_discounts_are_refused(admin_api, drawer, kettle):
    body = bill((kettle, 1), paid_amount="300", discount_reason="x") | {
        "items": [
            {"product_id": kettle.pk, "quantity": 1, "discount_percent": "5"},
            {"product_id": kettle.pk, "quantity": 1},
        ]
    }
    refused(admin_api, body, 400, "validation_error")


def test_customer_totals_show_discounts(admin_api, drawer, kettle):
    post(admin_api, bill((kettle, 1), paid_amount="107", discount_percent="10", discount_reason="box"))

    customer = admin_api.get("/api/v1/customers?email=ann@example.com").json()["results"][0]

    assert (customer["total_spent"], customer["discount_total"]) == ("106.00", "10.00")


# --- the session report --------------------------------------------------------------------------


def test_the_report_lists_payments_by_method_and_counts_only_cash(admin_api, drawer, lamp, kettle):
    first = post(
        admin_api,
        bill(
            (lamp, 1),
            payments=[
                {"method": "card", "amount": "50.00"},
                {"method": "cash", "amount": "100.00", "tendered": [{"value": "100", "count": 1}]},
            ],
        ),
    )
    post(admin_api, bill((kettle, 1), payments=[{"method": "upi", "amount": "118.00", "reference": "412345670001"}]))
    post(admin_api, bill((kettle, 1), paid_amount="110", discount_percent="10", discount_reason="box"))

    report = admin_api.get(f"/api/v1/sessions/{first['session']}/report").json()

    # cash: 50.00 (first bill, 100 less 50 change) + 106.00 (third) = 156.00
    assert report["payments"] == [
        {"method": "cash", "amount": "156.00"},
        {"method": "card", "amount": "50.00"},
        {"method": "upi", "amount": "118.00"},
    ]
    assert sum(D(p["amount"]) for p in report["payments"]) == D("100.00") + D("118.00") + D("106.00")
    assert report["discount_total"] == "10.00"
    assert (report["cash"]["sales"], report["cash"]["change_given"]) == ("210.00", "54.00")
    opening = D(report["cash"]["opening"])
    assert D(report["cash"]["expected"]) == opening + D("156.00")


# --- CHECK constraints ---------------------------------------------------------------------------


def _a_bill(admin_api, lamp):
    answer = post(admin_api, bill((lamp, 1), payments=[{"method": "card", "amount": "100.40", "reference": "R"}]))
    return Purchase.objects.get(pk=answer["id"])


@pytest.mark.parametrize(
    "change",
    [
        lambda p: Payment.objects.filter(purchase=p).update(amount=0),
        lambda p: Payment.objects.create(
            purchase=p,
            store_id=p.store_id,
            method=PaymentMethod.objects.get(code="cash"),
            is_cash=True,
            amount=1,
            reference="R",
        ),
        lambda p: PurchaseItem.objects.filter(purchase=p).update(discount_percent=D("100.5")),
        lambda p: PurchaseItem.objects.filter(purchase=p).update(discount_amount=D("1.00")),  # subtotal no longer
        lambda p: PurchaseItem.objects.filter(purchase=p).update(gross=D("1.00")),
        lambda p: Purchase.objects.filter(pk=p.pk).update(discount_total=D("1.00")),  # without a reason
        lambda p: Purchase.objects.filter(pk=p.pk).update(change_due=D("1.00"), paid_amount=D("101.40")),
        lambda p: Purchase.objects.filter(pk=p.pk).update(rounding=D("-0.40"), payable=D("100.00")),
        lambda p: Purchase.objects.filter(pk=p.pk).update(cash_paid=D("200.00")),
    ],
    ids=[
        "payment-amount-0",
        "reference-on-cash",
        "line-discount-over-100",
        "subtotal-identity",
        "gross-identity",
        "discount-without-reason",
        "change-without-cash",
        "rounding-without-cash",
        "cash-above-paid",
    ],
)
def test_the_database_refuses_broken_amounts(admin_api, drawer, lamp, change):
    purchase = _a_bill(admin_api, lamp)
    with pytest.raises(IntegrityError), transaction.atomic():
        change(purchase)


def test_one_cash_payment_per_bill_is_enforced_by_the_database(admin_api, drawer, lamp):
    purchase = _a_bill(admin_api, lamp)
    cash = PaymentMethod.objects.get(code="cash")
    Payment.objects.create(purchase=purchase, store_id=purchase.store_id, method=cash, is_cash=True, amount=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(purchase=purchase, store_id=purchase.store_id, method=cash, is_cash=True, amount=1)
