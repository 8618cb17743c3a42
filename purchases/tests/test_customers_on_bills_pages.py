"""Customers by phone, and walk-in sales, on the billing page, the bill and history pages, the
previous-bills box and the admin."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.tests.factories import ProductFactory
from customers.models import Customer
from purchases.models import InvoiceStatus, Purchase
from purchases.tests.factories import purchase_for
from purchases.tests.helpers import form_data

pytestmark = pytest.mark.django_db

NEW = "/billing/"
HISTORY = "/billing/history/"

D = Decimal
CUSTOMERS = reverse("admin:customers_customer_changelist")
BILLS = reverse("admin:purchases_purchase_changelist")


def html(response) -> str:
    return response.content.decode()


def input_value(fragment: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', fragment)
    assert match, f"no input {name}"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else None


@pytest.fixture
def drawer_counts():
    return {"500": 5, "100": 10, "50": 10, "10": 10, "5": 10, "1": 10}


@pytest.fixture
def rice():
    return ProductFactory(sku="RICE-5", name="Basmati rice 5 kg", price=D("250.00"), tax_percent=5, stock=20)


@pytest.fixture
def tea():
    return ProductFactory(price=D("50.00"), tax_percent=D("0"), stock=100)


# --- The billing page: one "Customer" box --------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ann@example.com", ("ann@example.com", None)),
        ("98765 43210", (None, "+919876543210")),
        ("+91-98765-43210", (None, "+919876543210")),
        ("098765-43210", (None, "+919876543210")),
    ],
)
def test_the_customer_box_takes_an_email_or_a_mobile_number(cashier_client, drawer, rice, typed, stored):
    response = cashier_client.post(NEW, form_data(email=typed, notes={"500": 1, "100": 1}, action="generate"))

    assert response.status_code == 302, html(response)[:3000]
    bill = Purchase.objects.get()
    assert bill.customer is not None
    assert (bill.customer.email, bill.customer.phone) == stored


def test_the_customer_box_left_empty_is_a_walk_in_sale(cashier_client, drawer, rice):
    response = cashier_client.post(NEW, form_data(email="", notes={"500": 1, "100": 1}, action="generate"))

    assert response.status_code == 302, html(response)[:3000]
    bill = Purchase.objects.get()
    assert bill.customer is None
    assert bill.invoice_status == InvoiceStatus.SKIPPED
    page = html(cashier_client.get(response["Location"]))
    assert 'id="bill-customer">Walk-in customer<' in page
    assert 'id="customer-bills"' not in page  # no one's bills to link to


def test_two_customers_in_one_box_cannot_happen_but_a_conflict_from_the_service_is_shown_there(
    cashier_client, drawer, rice
):
    # The box holds one of the two; a conflict can only come from the API. The page places the
    # code next to the box all the same (forms.BillEntry.add_refusal).
    from customers.errors import CustomerConflict
    from purchases.forms import BillEntry

    entry = BillEntry(form_data(email="ann@example.com"), denominations=[])
    entry.is_valid()
    entry.add_refusal(CustomerConflict())

    assert entry.bill.errors["customer"] == [CustomerConflict.default_message]
    assert entry.refusal_target == "id_customer"


def test_a_bad_mobile_number_is_shown_next_to_the_box_and_nothing_is_written(cashier_client, drawer, rice):
    response = cashier_client.post(NEW, form_data(email="12345", notes={"500": 1, "100": 1}, action="generate"))

    assert response.status_code == 400
    assert "or an Indian mobile number" in html(response)
    assert input_value(html(response), "customer") == "12345"
    assert Purchase.objects.count() == 0 and Customer.objects.count() == 0


def test_previous_bills_by_mobile_number(cashier_client, drawer, tea):
    mine = purchase_for(tea, email=None, phone="9876543210")

    found = cashier_client.get("/billing/customer-bills/", {"customer": "+91 98765 43210"})
    none = cashier_client.get("/billing/customer-bills/", {"customer": "9123456789"})
    bad = cashier_client.get("/billing/customer-bills/", {"customer": "12345"})

    assert f"Bill #{mine.pk}" in html(found)
    assert "?customer=%2B919876543210" in html(found)
    assert "No previous bills for +919123456789" in html(none)
    assert "Enter the customer" in html(bad)


def test_history_by_mobile_number_and_a_walk_in_row(cashier_client, drawer, tea):
    mine = purchase_for(tea, email=None, phone="9876543210")
    walk_in = purchase_for(tea, email=None)

    by_phone = html(cashier_client.get(HISTORY, {"customer": "98765-43210"}))
    everything = html(cashier_client.get(HISTORY))

    assert f"Bill #{mine.pk}<" in by_phone and f"Bill #{walk_in.pk}<" not in by_phone
    assert "<td>+919876543210</td>" in everything
    assert "<td>walk-in</td>" in everything


# --- The admin ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("term", ["9876543210", "+91 98765 43210", "098765-43210", "98765"])
def test_admin_finds_a_customer_by_mobile_number_in_any_spelling_or_part(manager_client, drawer, tea, term):
    purchase_for(tea, email=None, phone="9876543210")
    purchase_for(tea, email="ann@example.com")

    response = manager_client.get(CUSTOMERS, {"q": term})

    assert [(c.email, c.phone) for c in response.context["cl"].result_list] == [(None, "+919876543210")]


def test_admin_lists_phone_only_customers_after_the_others_with_their_totals(manager_client, drawer, tea):
    purchase_for(tea, email=None, phone="9876543210")
    purchase_for(tea, email=None, phone="9876543210")
    purchase_for(tea, email="ann@example.com")

    response = manager_client.get(CUSTOMERS)

    rows = [(c.email, c.phone, c.purchase_count, c.total_spent) for c in response.context["cl"].result_list]
    assert rows == [("ann@example.com", None, 1, D("50.00")), (None, "+919876543210", 2, D("100.00"))]


def test_admin_page_of_a_phone_only_customer_shows_their_bills_and_totals(manager_client, drawer, tea):
    bills = [purchase_for(tea, email=None, phone="9876543210") for _ in range(2)]
    assert bills[0].customer is not None

    response = manager_client.get(reverse("admin:customers_customer_change", args=[bills[0].customer.pk]))

    page = html(response)
    assert response.status_code == 200
    assert "+919876543210" in page
    assert "2 bill(s); spent" in page
    for bill in bills:
        assert reverse("admin:purchases_purchase_change", args=[bill.pk]) in page


@pytest.mark.parametrize("term", ["9876543210", "+91-98765-43210"])
def test_admin_finds_bills_by_the_customers_mobile_number(manager_client, drawer, tea, term):
    mine = purchase_for(tea, email=None, phone="9876543210")
    purchase_for(tea, email="ann@example.com")
    purchase_for(tea, email=None)

    response = manager_client.get(BILLS, {"q": term})

    assert [p.pk for p in response.context["cl"].result_list] == [mine.pk]


def test_admin_shows_a_walk_in_sale(manager_client, drawer, tea):
    walk_in = purchase_for(tea, email=None)

    listed = html(manager_client.get(BILLS))
    page = manager_client.get(reverse("admin:purchases_purchase_change", args=[walk_in.pk]))

    assert "walk-in" in listed
    assert page.status_code == 200
    assert "walk-in" in html(page)


def test_admin_resend_skips_a_bill_without_an_email(manager_client, drawer, tea):
    walk_in = purchase_for(tea, email=None)

    response = manager_client.post(
        BILLS, {"action": "resend_invoice", "_selected_action": [str(walk_in.pk)]}, follow=True
    )

    assert "No email address to send to" in html(response)
    assert Purchase.objects.get().invoice_status == InvoiceStatus.SKIPPED
