"""Parked bills (held carts) through the API: park, list, recall, discard, and what they leave at a close."""

from decimal import Decimal

import pytest

from cashdrawer.models import Till
from cashdrawer.services import session_close, session_open, till_create
from catalog.tests.factories import ProductFactory
from purchases.models import HeldBill
from purchases.services import held_bill_create
from purchases.tests.helpers import db_state

pytestmark = pytest.mark.django_db

D = Decimal
URL = "/api/v1/held-bills"


@pytest.fixture
def till():
    return Till.objects.get(code="MAIN")


@pytest.fixture
def rice():
    return ProductFactory(name="Rice 5 kg", price=D("549.00"), stock=3)


@pytest.fixture
def dal():
    return ProductFactory(name="Toor dal", price=D("160.00"), unit="kg", stock=D("10.000"))


def park(api, body, status=201):
    response = api.post(URL, body, format="json")
    assert response.status_code == status, response.json()
    return response.json()


def test_a_parked_cart_takes_no_stock_and_no_money_and_answers_its_lines(cashier_api, cashier_user, till, rice, dal):
    before = db_state()

    answer = park(
        cashier_api,
        {
            "till": till.pk,
            "items": [
                {"product_id": rice.pk, "quantity": 2},
                {"product_id": dal.pk, "quantity": "1.250", "discount_percent": "5"},
                {"product_id": rice.pk, "quantity": 3},  # combined with the first line, as on a bill
            ],
            "customer_phone": "98765 43210",
            "note": "gone for milk",
        },
    )

    assert db_state() == before  # stock, drawer, customers, bills: all as they were
    assert set(answer) == {
        "id",
        "till",
        "items",
        "customer_email",
        "customer_phone",
        "note",
        "created_at",
        "created_by",
    }
    assert answer["till"] == till.pk
    assert answer["created_by"] == cashier_user.pk
    assert answer["note"] == "gone for milk"
    assert answer["customer_email"] is None
    assert answer["customer_phone"] == "+919876543210"
    assert answer["items"] == [
        {"product_id": rice.pk, "name": "Rice 5 kg", "unit": "each", "quantity": 5, "discount_percent": None},
        {"product_id": dal.pk, "name": "Toor dal", "unit": "kg", "quantity": "1.250", "discount_percent": "5.00"},
    ]
    # More than the stock may be parked: the stock is checked when the bill is rung up.
    assert HeldBill.objects.get().line_count == 2


@pytest.mark.parametrize(
    ("items", "extra", "status", "code"),
    [
        ([], {}, 400, "validation_error"),
        ([{"product_id": 999999, "quantity": 1}], {}, 400, "product_not_found"),
        ([{"product_id": "RICE", "quantity": 1}], {}, 400, "validation_error"),
        ("fraction", {}, 400, "validation_error"),
        ("archived", {}, 409, "product_inactive"),
        ("ok", {"customer_phone": "12345"}, 400, "validation_error"),
        ("ok", {"customer_email": "not-an-email"}, 400, "validation_error"),
        ("ok", {"note": "x" * 201}, 400, "validation_error"),
        ("ok", {"till": 999999}, 404, "till_not_found"),
        ("ok", {"till": None}, 400, "validation_error"),
    ],
    ids=[
        "no-lines",
        "unknown",
        "not-an-id",
        "fraction-of-each",
        "archived",
        "phone",
        "email",
        "note",
        "till",
        "no-till",
    ],
)
def test_a_cart_that_could_not_be_rung_up_is_not_parked(cashier_api, till, rice, items, extra, status, code):
    if items == "fraction":
        items = [{"product_id": rice.pk, "quantity": "1.5"}]
    elif items == "archived":
        rice.is_active = False
        rice.save()
        items = [{"product_id": rice.pk, "quantity": 1}]
    elif items == "ok":
        items = [{"product_id": rice.pk, "quantity": 1}]
    body = {"till": till.pk, "items": items, **extra}
    if body["till"] is None:
        del body["till"]

    answer = park(cashier_api, body, status)

    assert answer["code"] == code, answer
    assert not HeldBill.objects.exists()


def test_an_inactive_till_parks_nothing(cashier_api, rice):
    closed = till_create(code="T9")
    closed.is_active = False
    closed.save()
    answer = park(cashier_api, {"till": closed.pk, "items": [{"product_id": rice.pk, "quantity": 1}]}, 409)
    assert answer["code"] == "till_inactive"


def test_the_list_is_one_tills_oldest_first(cashier_api, till, rice):
    other = till_create(code="T2")
    first = park(cashier_api, {"till": till.pk, "items": [{"product_id": rice.pk, "quantity": 1}]})
    park(cashier_api, {"till": other.pk, "items": [{"product_id": rice.pk, "quantity": 1}]})
    third = park(cashier_api, {"till": till.pk, "items": [{"product_id": rice.pk, "quantity": 2}]})

    response = cashier_api.get(f"{URL}?till={till.pk}")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [first["id"], third["id"]]
    assert len(cashier_api.get(URL).json()["results"]) == 3
    assert cashier_api.get(f"{URL}?till=abc").json()["code"] == "validation_error"


def test_a_recall_answers_the_cart_and_deletes_it_and_a_second_is_404(cashier_api, till, rice):
    parked = park(cashier_api, {"till": till.pk, "items": [{"product_id": rice.pk, "quantity": 2}], "note": "n"})

    first = cashier_api.post(f"{URL}/{parked['id']}/recall")
    second = cashier_api.post(f"{URL}/{parked['id']}/recall")

    assert first.status_code == 200
    assert first.json() == parked
    assert not HeldBill.objects.exists()
    assert second.status_code == 404
    assert second.json()["code"] == "not_found"


def test_a_retried_recall_with_its_idempotency_key_answers_the_same_cart(cashier_api, till, rice):
    parked = park(cashier_api, {"till": till.pk, "items": [{"product_id": rice.pk, "quantity": 2}]})

    first = cashier_api.post(f"{URL}/{parked['id']}/recall", HTTP_IDEMPOTENCY_KEY="recall-1")
    retry = cashier_api.post(f"{URL}/{parked['id']}/recall", HTTP_IDEMPOTENCY_KEY="recall-1")

    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json() == parked
    assert retry["Idempotent-Replayed"] == "true"


def test_discard_deletes_it_once(cashier_api, till, rice):
    parked = park(cashier_api, {"till": till.pk, "items": [{"product_id": rice.pk, "quantity": 2}]})

    assert cashier_api.delete(f"{URL}/{parked['id']}").status_code == 204
    again = cashier_api.delete(f"{URL}/{parked['id']}")

    assert again.status_code == 404
    assert again.json()["code"] == "not_found"
    assert cashier_api.post(f"{URL}/{parked['id']}/recall").status_code == 404


def test_one_parked_bill_reads_back(cashier_api, till, rice):
    parked = park(cashier_api, {"till": till.pk, "items": [{"product_id": rice.pk, "quantity": 2}]})
    assert cashier_api.get(f"{URL}/{parked['id']}").json() == parked
    assert cashier_api.get(f"{URL}/{parked['id'] + 1}").status_code == 404


def test_parking_needs_the_right_to_ring_up(api_client, till, rice, django_user_model):
    body = {"till": till.pk, "items": [{"product_id": rice.pk, "quantity": 1}]}
    assert api_client.post(URL, body, format="json").status_code == 401
    nobody = django_user_model.objects.create_user("nobody", password="pw-nobody-1")
    api_client.force_authenticate(nobody)
    response = api_client.post(URL, body, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_a_close_with_parked_bills_left_says_how_many(manager_user, till, rice):
    session = session_open(till_id=till.pk, counted=[], user=manager_user)
    for quantity in (1, 2):
        held_bill_create(till=till.pk, items=[{"product_id": rice.pk, "quantity": quantity}], user=manager_user)
    held_bill_create(till=till_create(code="T3").pk, items=[{"product_id": rice.pk, "quantity": 1}])

    closed = session_close(session_id=session.pk, counted=[], user=manager_user)

    assert closed.report is not None and closed.report["held_bills_left"] == 2
    # The Z report is frozen: a recall afterwards does not change it.
    HeldBill.objects.filter(till=till).delete()
    closed.refresh_from_db()
    assert closed.report is not None and closed.report["held_bills_left"] == 2


def test_the_close_answer_and_the_reports_carry_the_count(manager_api, manager_user, till, rice):
    session = session_open(till_id=till.pk, counted=[], user=manager_user)
    held_bill_create(till=till.pk, items=[{"product_id": rice.pk, "quantity": 1}], user=manager_user)

    x_report = manager_api.get(f"/api/v1/sessions/{session.pk}/report").json()
    assert x_report["held_bills_left"] == 1
    assert manager_api.get(f"/api/v1/sessions/{session.pk}").json()["held_bills_left"] is None  # open: not yet

    closed = manager_api.post(f"/api/v1/sessions/{session.pk}/close", {"counted": []}, format="json")

    assert closed.status_code == 200, closed.json()
    assert closed.json()["held_bills_left"] == 1
    assert manager_api.get(f"/api/v1/sessions/{session.pk}/report").json()["held_bills_left"] == 1


def test_managers_see_the_parked_bills_in_the_admin_read_only(manager_client, till, rice):
    held = held_bill_create(till=till.pk, items=[{"product_id": rice.pk, "quantity": 2}], customer_email="a@b.in")

    listing = manager_client.get("/admin/purchases/heldbill/")
    page = manager_client.get(f"/admin/purchases/heldbill/{held.pk}/change/")

    assert listing.status_code == 200
    assert "2 × Rice 5 kg" in listing.content.decode() and "a@b.in" in listing.content.decode()
    assert page.status_code == 200
    assert manager_client.get("/admin/purchases/heldbill/add/").status_code == 403
