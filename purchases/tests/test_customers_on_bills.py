"""A bill's customer: an email, an Indian mobile number, both, or nobody (a walk-in sale), through the
service and the API."""

from decimal import Decimal

import pytest
from django_tasks_db.models import DBTaskResult

from billing_project.core.errors import ValidationFailed
from catalog.tests.factories import ProductFactory
from customers.errors import CustomerConflict
from customers.models import Customer
from purchases.invoices import InvoiceWithoutEmail, invoice_resend
from purchases.models import InvoiceStatus, Purchase
from purchases.services import purchase_create
from purchases.tests.helpers import db_state

pytestmark = pytest.mark.django_db

D = Decimal
URL = "/api/v1/purchases"
TASK_PATH = "purchases.invoices.send_invoice_email"


@pytest.fixture
def drawer_counts():
    return {"500": 5, "100": 10, "50": 10, "10": 10, "5": 10, "1": 10}


@pytest.fixture
def tea():
    return ProductFactory(name="Tea", price=D("50.00"), tax_percent=D("0"), stock=100)


def ring_up(product, **customer) -> Purchase:
    return purchase_create(items=[{"product_id": product.pk, "quantity": 1}], paid_amount=D("50"), **customer)


def invoice_jobs():
    return DBTaskResult.objects.filter(task_path=TASK_PATH)


def customers() -> list[tuple]:
    return sorted(Customer.objects.values_list("email", "phone"), key=str)


# --- Walk-in sales ------------------------------------------------------------------------------


def test_a_bill_without_email_or_phone_is_a_walk_in_sale(drawer, tea):
    bill = ring_up(tea)

    stored = Purchase.objects.get()
    assert bill.customer is None and stored.customer_id is None
    assert stored.invoice_status == InvoiceStatus.SKIPPED
    assert not invoice_jobs().exists()
    assert Customer.objects.count() == 0
    assert stored.number is not None  # still a numbered tax invoice


def test_a_walk_in_sale_is_not_emailed_even_when_asked(drawer, tea):
    bill = ring_up(tea, send_invoice=True)

    assert bill.invoice_status == InvoiceStatus.SKIPPED
    assert not invoice_jobs().exists()
    with pytest.raises(InvoiceWithoutEmail):
        invoice_resend(purchase=bill)
    assert Purchase.objects.get().invoice_status == InvoiceStatus.SKIPPED


def test_the_database_refuses_an_emailed_walk_in_sale(drawer, tea):
    from django.db import IntegrityError, transaction

    bill = ring_up(tea)

    with pytest.raises(IntegrityError), transaction.atomic():
        Purchase.objects.filter(pk=bill.pk).update(invoice_status=InvoiceStatus.PENDING)


# --- Phone numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling", ["9876543210", "+919876543210", "919876543210", "09876543210", "+91 98765-43210", " 98765 43210 "]
)
def test_any_spelling_of_a_mobile_number_finds_one_customer_stored_in_e164(drawer, tea, spelling):
    first = ring_up(tea, customer_phone="98765 43210")
    again = ring_up(tea, customer_phone=spelling)

    assert first.customer is not None and again.customer is not None
    assert again.customer.pk == first.customer.pk
    assert customers() == [(None, "+919876543210")]


def test_a_customer_known_by_phone_only_gets_no_invoice_email(drawer, tea):
    bill = ring_up(tea, customer_phone="9876543210")

    assert bill.invoice_status == InvoiceStatus.SKIPPED
    assert not invoice_jobs().exists()


@pytest.mark.parametrize(
    "phone", ["5876543210", "98765 4321", "987654321012", "+44 7700 900123", "(98765) 43210", "98765.43210", "abc", ""]
)
def test_anything_else_is_a_validation_error_on_customer_phone(drawer, tea, phone):
    before = db_state()

    with pytest.raises(ValidationFailed) as refused:
        ring_up(tea, customer_phone=phone)

    assert "customer_phone" in refused.value.details
    assert db_state() == before


def test_a_bad_email_and_a_bad_phone_are_both_named(drawer, tea):
    with pytest.raises(ValidationFailed) as refused:
        ring_up(tea, customer_email="ann@", customer_phone="123")

    assert set(refused.value.details) == {"customer_email", "customer_phone"}


# --- Both -------------------------------------------------------------------------------------------


def test_neither_known_makes_one_customer_with_both(drawer, tea):
    bill = ring_up(tea, customer_email="Ann@Example.com", customer_phone="98765-43210")

    assert customers() == [("ann@example.com", "+919876543210")]
    assert bill.invoice_status == InvoiceStatus.PENDING  # an email to send it to
    # Either one alone finds them now.
    assert ring_up(tea, customer_email="ann@example.com").customer == bill.customer
    assert ring_up(tea, customer_phone="9876543210").customer == bill.customer


def test_a_known_email_gets_the_new_phone(drawer, tea):
    ann = ring_up(tea, customer_email="ann@example.com").customer

    bill = ring_up(tea, customer_email="ann@example.com", customer_phone="9876543210")

    assert ann is not None and bill.customer is not None and bill.customer.pk == ann.pk
    assert customers() == [("ann@example.com", "+919876543210")]


def test_a_known_phone_gets_the_new_email_and_its_later_invoices(drawer, tea):
    first = ring_up(tea, customer_phone="9876543210")

    bill = ring_up(tea, customer_email="ann@example.com", customer_phone="+91 98765 43210")
    later = ring_up(tea, customer_phone="9876543210")

    assert bill.customer is not None and first.customer is not None
    assert bill.customer.pk == first.customer.pk
    assert customers() == [("ann@example.com", "+919876543210")]
    # Known by phone at the counter, emailed at the address on file.
    assert later.invoice_status == InvoiceStatus.PENDING
    assert invoice_jobs().count() == 2
    # The first bill's invoice can be sent now that there is an address.
    invoice_resend(purchase=Purchase.objects.get(pk=first.pk))
    assert Purchase.objects.get(pk=first.pk).invoice_status == InvoiceStatus.PENDING


def test_both_of_one_customer_find_that_customer(drawer, tea):
    ann = ring_up(tea, customer_email="ann@example.com", customer_phone="9876543210").customer

    again = ring_up(tea, customer_email="ANN@example.com", customer_phone="09876543210")

    assert again.customer == ann
    assert Customer.objects.count() == 1


def test_an_email_and_a_phone_of_two_customers_are_a_conflict_and_nothing_is_written(drawer, tea):
    ring_up(tea, customer_email="ann@example.com")
    ring_up(tea, customer_phone="9876543210")
    before = db_state()

    with pytest.raises(CustomerConflict) as refused:
        ring_up(tea, customer_email="ann@example.com", customer_phone="9876543210")

    assert refused.value.code == "customer_conflict"
    assert set(refused.value.details) == {"customer_email", "customer_phone"}
    assert db_state() == before
    assert customers() == [("ann@example.com", None), (None, "+919876543210")]


@pytest.mark.parametrize(
    ("known", "given"),
    [
        ({"customer_email": "ann@example.com", "customer_phone": "9876543210"}, {"customer_phone": "9123456789"}),
        ({"customer_email": "ann@example.com", "customer_phone": "9876543210"}, {"customer_email": "bob@example.com"}),
    ],
)
def test_a_customer_on_file_with_another_email_or_phone_is_a_conflict(drawer, tea, known, given):
    ring_up(tea, **known)
    before = db_state()

    with pytest.raises(CustomerConflict):
        ring_up(tea, **{**known, **given})  # one of the pair, and another value of the other

    assert db_state() == before


# --- The API ----------------------------------------------------------------------------------------


def body(product, **customer) -> dict:
    return {"items": [{"product_id": product.pk, "quantity": 1}], "paid_amount": "50", **customer}


def test_api_a_phone_bill_answers_with_the_customer_in_e164(admin_api, drawer, tea):
    response = admin_api.post(URL, body(tea, customer_phone="098765-43210"), format="json")

    assert response.status_code == 201, response.json()
    answer = response.json()
    customer = Customer.objects.get()
    assert (answer["customer"], answer["customer_email"], answer["customer_phone"]) == (
        customer.pk,
        None,
        "+919876543210",
    )
    assert answer["invoice_email_status"]["status"] == "skipped"
    assert admin_api.get(f"{URL}/{answer['id']}").json() == answer


def test_api_an_email_bill_shows_the_customer_and_null_phone(admin_api, drawer, tea):
    answer = admin_api.post(URL, body(tea, customer_email="ann@example.com"), format="json").json()

    assert list(answer)[1:5] == ["number", "customer", "customer_email", "customer_phone"]
    assert (answer["customer"], answer["customer_email"], answer["customer_phone"]) == (
        Customer.objects.get().pk,
        "ann@example.com",
        None,
    )
    assert answer["invoice_email_status"]["status"] == "pending"


@pytest.mark.parametrize("customer", [{}, {"customer_email": None, "customer_phone": None}])
def test_api_a_walk_in_sale(admin_api, drawer, tea, customer):
    response = admin_api.post(URL, body(tea, **customer), format="json")

    assert response.status_code == 201, response.json()
    answer = response.json()
    assert (answer["customer"], answer["customer_email"], answer["customer_phone"]) == (None, None, None)
    assert answer["invoice_email_status"]["status"] == "skipped"
    assert admin_api.get(f"{URL}/{answer['id']}").json() == answer
    assert admin_api.get(URL).json()["results"] == [answer]


@pytest.mark.parametrize("phone", ["5876543210", "98765", "+1 202 555 0143", 9876543210, ""])
def test_api_a_bad_phone_is_a_validation_error_on_customer_phone(admin_api, drawer, tea, phone):
    before = db_state()

    response = admin_api.post(URL, body(tea, customer_phone=phone), format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert list(response.json()["details"]) == ["customer_phone"]
    assert db_state() == before


def test_api_two_customers_are_409_customer_conflict_and_nothing_is_written(admin_api, drawer, tea):
    ring_up(tea, customer_email="ann@example.com")
    ring_up(tea, customer_phone="9876543210")
    before = db_state()

    response = admin_api.post(
        URL, body(tea, customer_email="ann@example.com", customer_phone="9876543210"), format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "customer_conflict"
    assert db_state() == before


def test_api_an_idempotent_replay_of_a_phone_bill_makes_one_bill(admin_api, drawer, tea):
    headers = {"Idempotency-Key": "phone-bill-1"}
    first = admin_api.post(URL, body(tea, customer_phone="9876543210"), format="json", headers=headers)
    again = admin_api.post(URL, body(tea, customer_phone="9876543210"), format="json", headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert Purchase.objects.count() == 1


def test_api_a_replayed_conflict_is_the_same_refusal(admin_api, drawer, tea):
    ring_up(tea, customer_email="ann@example.com")
    ring_up(tea, customer_phone="9876543210")
    headers = {"Idempotency-Key": "conflict-1"}
    conflict = body(tea, customer_email="ann@example.com", customer_phone="9876543210")

    first = admin_api.post(URL, conflict, format="json", headers=headers)
    again = admin_api.post(URL, conflict, format="json", headers=headers)

    assert first.status_code == again.status_code == 409
    assert again.json() == first.json()
    assert Purchase.objects.count() == 2


@pytest.mark.parametrize("spelling", ["9876543210", "+919876543210", "098765-43210", "91 98765 43210"])
def test_api_bills_by_customer_phone_in_any_spelling(admin_api, drawer, tea, spelling):
    mine = ring_up(tea, customer_phone="9876543210")
    ring_up(tea, customer_phone="9123456789")
    ring_up(tea)

    response = admin_api.get(URL, {"customer_phone": spelling})

    assert response.status_code == 200
    assert [b["id"] for b in response.json()["results"]] == [mine.pk]


def test_api_a_plus_in_a_query_string_read_as_a_space_still_finds_the_number(admin_api, drawer, tea):
    mine = ring_up(tea, customer_phone="9876543210")

    response = admin_api.get(f"{URL}?customer_phone=+919876543210")

    assert [b["id"] for b in response.json()["results"]] == [mine.pk]


@pytest.mark.parametrize(("path", "name"), [(URL, "customer_phone"), ("/api/v1/customers", "phone")])
def test_api_a_bad_phone_query_is_a_validation_error(admin_api, path, name):
    response = admin_api.get(path, {name: "12345"})

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert list(response.json()["details"]) == [name]


@pytest.mark.parametrize("spelling", ["9876543210", "+91-98765-43210", "0 98765 43210"])
def test_api_customers_by_phone_in_any_spelling(admin_api, drawer, tea, spelling):
    ring_up(tea, customer_phone="9876543210")
    ring_up(tea, customer_phone="9876543210")
    ring_up(tea, customer_email="ann@example.com")

    response = admin_api.get("/api/v1/customers", {"phone": spelling})

    results = response.json()["results"]
    assert [(c["email"], c["phone"], c["name"], c["purchase_count"], c["total_spent"]) for c in results] == [
        (None, "+919876543210", None, 2, "100.00")
    ]


def test_api_a_phone_only_customers_history_and_totals(admin_api, drawer, tea):
    first = ring_up(tea, customer_phone="9876543210")
    second = ring_up(tea, customer_phone="9876543210")
    ring_up(tea)
    assert first.customer is not None
    customer_id = first.customer.pk

    detail = admin_api.get(f"/api/v1/customers/{customer_id}").json()
    bills = admin_api.get(f"/api/v1/customers/{customer_id}/purchases").json()

    assert (detail["phone"], detail["purchase_count"], detail["total_spent"]) == ("+919876543210", 2, "100.00")
    assert [b["id"] for b in bills["results"]] == [second.pk, first.pk]
    assert {b["customer_phone"] for b in bills["results"]} == {"+919876543210"}


def test_api_customers_list_puts_phone_only_customers_after_those_with_email(admin_api, drawer, tea):
    ring_up(tea, customer_phone="9876543210")
    ring_up(tea, customer_email="zed@example.com")
    ring_up(tea, customer_email="ann@example.com")

    results = admin_api.get("/api/v1/customers").json()["results"]

    assert [(c["email"], c["phone"]) for c in results] == [
        ("ann@example.com", None),
        ("zed@example.com", None),
        (None, "+919876543210"),
    ]
