"""POST /purchases/{id}/refunds, GET /refunds, and refunds on the bill: every rule and code."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from catalog.models import Product
from catalog.tests.factories import ProductFactory
from purchases.models import Refund
from purchases.pricing import quote
from purchases.services import purchase_create
from purchases.tests.helpers import db_state

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def rice():
    return ProductFactory(name="Rice", price=D("45.50"), tax_percent=D("5"), stock=10)


@pytest.fixture
def oil():
    return ProductFactory(name="Oil", price=D("199.99"), tax_percent=D("18"), stock=10)


def ring_up(*lines):
    payable = quote({p.pk: p for p, _ in lines}, {p.pk: q for p, q in lines}).payable
    return purchase_create(
        customer_email="ann@example.com",
        items=[{"product_id": p.pk, "quantity": q} for p, q in lines],
        paid_amount=payable,
    )


def url(bill) -> str:
    return f"/api/v1/purchases/{bill.pk}/refunds"


def body(*lines, **extra) -> dict:
    return {"items": [{"product_id": p.pk, "quantity": q} for p, q in lines], "reason": "changed mind", **extra}


def test_a_refund_answers_201_with_the_whole_refund(manager_api, manager_user, drawer, oil):
    bill = ring_up((oil, 2))
    response = manager_api.post(url(bill), body((oil, 1)), format="json")

    assert response.status_code == 201, response.json()
    r = response.json()
    assert r["purchase"] == bill.pk and r["till"] == bill.till_id and r["session"] == bill.session_id
    assert r["created_by"] == manager_user.pk and r["reason"] == "changed mind" and r["restock"] is True
    assert r["items"] == [
        {
            "product_id": oil.pk,
            "product_name": "Oil",
            "quantity": 1,
            "unit": "each",
            "unit_price": "199.99",
            "tax_percent": "18.00",
            "discount_percent": "0.00",
            "subtotal": "199.99",
            "tax_amount": "36.00",
            "total": "235.99",
        }
    ]
    assert (r["subtotal"], r["tax_total"], r["total"], r["rounding"], r["amount"]) == (
        "199.99",
        "36.00",
        "235.99",
        "0.01",
        "236.00",
    )
    assert r["payments"] == [{"method": "cash", "amount": "236.00", "reference": ""}]
    assert r["cash_out"] == [
        {"value": "200.00", "count": 1},
        {"value": "20.00", "count": 1},
        {"value": "10.00", "count": 1},
        {"value": "5.00", "count": 1},
        {"value": "1.00", "count": 1},
    ]
    assert manager_api.get(f"/api/v1/refunds/{r['id']}").json() == r


def test_the_bill_shows_its_refunds_and_refunded_quantities(manager_api, drawer, rice, oil):
    bill = ring_up((rice, 3), (oil, 1))
    first = manager_api.post(url(bill), body((rice, 1)), format="json").json()
    second = manager_api.post(url(bill), body((rice, 1), (oil, 1)), format="json").json()

    for shown in (
        manager_api.get(f"/api/v1/purchases/{bill.pk}").json(),
        manager_api.get("/api/v1/purchases").json()["results"][0],
    ):
        assert [i["refunded_quantity"] for i in shown["items"]] == [2, 1]
        assert [(x["id"], x["amount"]) for x in shown["refunds"]] == [(first["id"], "48.00"), (second["id"], "284.00")]
        assert shown["refunded_total"] == "332.00"
        assert shown["total"] == f"{bill.total:.2f}"  # the bill's own figures never change


def test_refunds_list_filters_by_bill_session_and_till(manager_api, drawer, rice, oil):
    a, b = ring_up((rice, 2)), ring_up((oil, 2))
    ra = manager_api.post(url(a), body((rice, 1)), format="json").json()
    rb = manager_api.post(url(b), body((oil, 1)), format="json").json()

    def ids(**params):
        return [r["id"] for r in manager_api.get("/api/v1/refunds", params).json()["results"]]

    assert ids() == [rb["id"], ra["id"]]
    assert ids(purchase=a.pk) == [ra["id"]]
    assert ids(session=a.session_id) == [rb["id"], ra["id"]]
    assert ids(till=a.till_id + 1000) == []
    assert manager_api.get("/api/v1/refunds", {"till": "x"}).status_code == 400


def test_listing_refunds_costs_a_constant_number_of_queries(manager_api, drawer, rice, django_assert_max_num_queries):
    for _ in range(5):
        bill = ring_up((rice, 2))
        manager_api.post(url(bill), body((rice, 1)), format="json")
    with django_assert_max_num_queries(12):
        response = manager_api.get("/api/v1/refunds")
    assert len(response.json()["results"]) == 5


def test_not_on_bill_is_400_and_writes_nothing(manager_api, drawer, rice, oil):
    bill = ring_up((rice, 1))
    before = db_state()
    response = manager_api.post(url(bill), body((oil, 1)), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "not_on_bill"
    assert response.json()["details"] == {"product_id": oil.pk}
    assert db_state() == before and Refund.objects.count() == 0


def test_refund_exceeds_sold_is_409_with_the_counts(manager_api, drawer, rice):
    bill = ring_up((rice, 2))
    assert manager_api.post(url(bill), body((rice, 1)), format="json").status_code == 201
    response = manager_api.post(url(bill), body((rice, 2)), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "refund_exceeds_sold"
    assert response.json()["details"] == {"product_id": rice.pk, "sold": 2, "refunded": 1, "requested": 2}
    assert Refund.objects.count() == 1


def test_payments_that_do_not_add_up_are_400_refund_payment_mismatch(manager_api, drawer, rice):
    bill = ring_up((rice, 1))
    response = manager_api.post(
        url(bill), body((rice, 1), payments=[{"method": "cash", "amount": "40.00"}]), format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "refund_payment_mismatch"
    card = manager_api.post(url(bill), body((rice, 1), payments=[{"method": "card", "amount": "48.00"}]), format="json")
    assert card.json()["code"] == "refund_payment_mismatch"
    assert Refund.objects.count() == 0


def test_explicit_refund_payments_never_pay_back_more_than_the_bills_payable(manager_api, drawer):
    """The probe's sequence: 20 × 0.50 paid card 5.00 + cash 5; ten refunds of one unit each paid
    as cash 1.00, then ten units to the card, 5.00. All eleven were 201 and 15.00 went back on a
    payable of 10.00. The cash the bill kept runs out after five; the rest are refused."""
    pen = ProductFactory(name="Pen", price=D("0.50"), tax_percent=D("0"), stock=100)
    bill = purchase_create(
        customer_email="ann@example.com",
        items=[{"product_id": pen.pk, "quantity": 20}],
        payments=[{"method": "card", "amount": D("5.00")}, {"method": "cash", "amount": D("5")}],
    )
    answers = [
        manager_api.post(url(bill), body((pen, 1), payments=[{"method": "cash", "amount": "1.00"}]), format="json")
        for _ in range(10)
    ]
    answers.append(
        manager_api.post(url(bill), body((pen, 10), payments=[{"method": "card", "amount": "5.00"}]), format="json")
    )

    assert [a.status_code for a in answers] == [201] * 5 + [400] * 5 + [201]
    refused = answers[5].json()
    assert refused["code"] == "refund_payment_mismatch"
    assert refused["message"] == "cash can take back at most ₹0.00."
    paid_back = sum(D(a.json()["amount"]) for a in answers if a.status_code == 201)
    assert paid_back == bill.payable == D("10.00")
    last = manager_api.post(url(bill), body((pen, 5)), format="json")
    assert (last.status_code, last.json()["amount"], last.json()["payments"]) == (201, "0.00", [])


def test_client_payments_that_match_are_taken(manager_api, drawer, rice):
    bill = ring_up((rice, 1))
    response = manager_api.post(
        url(bill), body((rice, 1), payments=[{"method": "cash", "amount": "48.00", "reference": "r-1"}]), format="json"
    )
    assert response.status_code == 201
    assert response.json()["payments"] == [{"method": "cash", "amount": "48.00", "reference": "r-1"}]


@pytest.mark.parametrize("drawer_counts", [{"500": 1}])
def test_change_unavailable_is_409_and_writes_nothing(manager_api, drawer, rice):
    bill = ring_up((rice, 1))
    before = db_state()
    response = manager_api.post(url(bill), body((rice, 1)), format="json")
    assert (response.status_code, response.json()["code"]) == (409, "change_unavailable")
    assert db_state() == before


def test_restock_false_writes_off(manager_api, drawer, rice):
    bill = ring_up((rice, 2))
    response = manager_api.post(url(bill), body((rice, 2), restock=False), format="json")
    assert response.status_code == 201 and response.json()["restock"] is False
    assert Product.objects.get(pk=rice.pk).stock == 8


def test_unknown_till_is_404_till_not_found(manager_api, drawer, rice):
    bill = ring_up((rice, 1))
    response = manager_api.post(url(bill), body((rice, 1), till=999999), format="json")
    assert (response.status_code, response.json()["code"]) == (404, "till_not_found")


@pytest.mark.parametrize(
    "bad",
    [
        {"items": []},
        {"items": [{"product_id": 1, "quantity": 0}]},
        {"reason": ""},
        {"reason": "bad\u202ereason"},
        {"payments": [{"method": "Cash!", "amount": "1.00"}]},
        {"payments": [{"method": "cash", "amount": "0.00"}]},
    ],
)
def test_bad_input_is_400_validation_error(manager_api, drawer, rice, bad):
    bill = ring_up((rice, 1))
    response = manager_api.post(url(bill), {**body((rice, 1)), **bad}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "validation_error")
    assert Refund.objects.count() == 0


def test_an_unknown_bill_is_404(manager_api, drawer, rice):
    response = manager_api.post(
        "/api/v1/purchases/999999/refunds",
        {"items": [{"product_id": rice.pk, "quantity": 1}], "reason": "x"},
        format="json",
    )
    assert response.status_code == 404


def test_the_idempotency_key_replays_and_refunds_once(manager_api, drawer, rice):
    bill = ring_up((rice, 3))
    first = manager_api.post(url(bill), body((rice, 1)), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = manager_api.post(url(bill), body((rice, 1)), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    other = manager_api.post(url(bill), body((rice, 2)), format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_conflict")
    assert Refund.objects.count() == 1


def test_a_cashier_needs_add_refund_granted(cashier_user, drawer, rice):
    client = APIClient()
    client.force_authenticate(cashier_user)
    bill = ring_up((rice, 2))

    refused = client.post(url(bill), body((rice, 1)), format="json")
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    assert client.get("/api/v1/refunds").status_code == 200  # cashiers see refunds

    cashier_user.user_permissions.add(Permission.objects.get(codename="add_refund"))
    cashier_user = type(cashier_user).objects.get(pk=cashier_user.pk)  # drop the permission cache
    client.force_authenticate(cashier_user)
    assert client.post(url(bill), body((rice, 1)), format="json").status_code == 201


def test_anonymous_is_401(api_client, drawer, rice):
    bill = ring_up((rice, 1))
    assert api_client.post(url(bill), body((rice, 1)), format="json").status_code == 401
    assert api_client.get("/api/v1/refunds").status_code == 401


def test_customers_show_net_spend_and_refunded(manager_api, drawer, rice):
    bill = ring_up((rice, 2))
    manager_api.post(url(bill), body((rice, 1)), format="json")
    customer = manager_api.get("/api/v1/customers", {"email": "ann@example.com"}).json()["results"][0]
    assert (customer["total_spent"], customer["total_refunded"]) == ("48.00", "48.00")


def test_the_session_report_shows_refunds(manager_api, drawer, rice):
    bill = ring_up((rice, 2))
    manager_api.post(url(bill), body((rice, 1)), format="json")
    report = manager_api.get(f"/api/v1/sessions/{bill.session_id}/report").json()
    assert report["refunds"] == {"count": 1, "total": "48.00"}
    assert report["cash"]["refunds"] == "48.00"


def test_a_split_tender_bill_is_paid_back_card_first_then_cash(manager_api, drawer, oil):
    """Oil × 2 = 471.98, payable 472.00: card 300.00 (with a slip), the rest (172.00) in cash with
    28.00 change. Refunds go back card first, up to what the card paid, and the rest in cash."""
    bill = purchase_create(
        customer_email="ann@example.com",
        items=[{"product_id": oil.pk, "quantity": 2}],
        payments=[
            {"method": "card", "amount": D("300.00"), "reference": "slip-1"},
            {"method": "cash", "amount": D("200.00"), "tendered": [{"value": D("200"), "count": 1}]},
        ],
    )
    assert (bill.payable, bill.change_due) == (D("472.00"), D("28.00"))

    first = manager_api.post(url(bill), body((oil, 1)), format="json")
    assert first.status_code == 201, first.json()
    # No cash in it, so no rounding: the card gets the line's exact 235.99.
    assert first.json()["payments"] == [{"method": "card", "amount": "235.99", "reference": ""}]
    assert first.json()["cash_out"] == []

    second = manager_api.post(url(bill), body((oil, 1)), format="json")
    assert second.status_code == 201, second.json()
    # The card has 64.01 left to take back; the other 171.98 (rounded to 172.00) goes out in cash.
    payments = {p["method"]: p["amount"] for p in second.json()["payments"]}
    assert payments == {"card": "64.01", "cash": "172.00"}
    assert sum(D(p["amount"]) for p in second.json()["payments"]) == D(second.json()["amount"])
    # Together the two refunds gave back exactly what the customer paid.
    assert D(first.json()["amount"]) + D(second.json()["amount"]) == bill.payable
