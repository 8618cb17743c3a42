"""The cashier's pages through Django's test client: every page, every refusal, input kept."""

import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from cashdrawer.models import Denomination
from cashdrawer.tests.factories import drawer_with
from catalog.tests.factories import ProductFactory
from customers.tests.factories import UserFactory
from purchases.models import InvoiceStatus, Purchase
from purchases.pricing import quote
from purchases.services import purchase_create
from purchases.tests.helpers import NEW, PREVIEW, db_state, form_data, html, input_value, rows_html

pytestmark = pytest.mark.django_db

HISTORY = "/billing/history/"


@pytest.fixture
def drawer_counts():
    return {"500": 2, "100": 5, "50": 2, "20": 5, "10": 5, "5": 5, "2": 5, "1": 5}


@pytest.fixture
def rice():
    return ProductFactory(sku="RICE-5", name="Basmati rice 5 kg", price=Decimal("250.00"), tax_percent=5, stock=20)


@pytest.fixture
def soap():
    return ProductFactory(sku="SOAP-1", name="Sandal soap", price=Decimal("36.50"), tax_percent=12, stock=10)


@pytest.fixture
def cashier(cashier_client):
    return cashier_client


def section_html(response, section_id: str) -> str:
    match = re.search(rf'<section[^>]*id="{section_id}".*?</section>', html(response), flags=re.S)
    assert match, f"no section #{section_id}"
    return match.group(0)


# --- Access ----------------------------------------------------------------------------------------


def test_root_sends_anonymous_users_to_the_login_page(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"


def test_root_sends_a_logged_in_user_to_the_billing_page(cashier):
    response = cashier.get("/")

    assert response.status_code == 302
    assert response["Location"] == NEW


def test_root_sends_a_manager_to_the_admin(manager_client):
    response = manager_client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


@pytest.mark.parametrize(("username", "landing"), [("cashier", NEW), ("manager", "/admin/")])
def test_logging_in_lands_a_cashier_on_the_billing_page_and_a_manager_on_the_admin(
    client, cashier_user, manager_user, username, landing
):
    response = client.post("/accounts/login/", {"username": username, "password": "pass-word-123"}, follow=True)

    assert response.redirect_chain[-1] == (landing, 302)
    assert response.status_code == 200


def test_a_login_with_next_still_goes_there(client, manager_user):
    response = client.post(
        "/accounts/login/?next=/billing/history/", {"username": "manager", "password": "pass-word-123", "next": HISTORY}
    )

    assert response["Location"] == HISTORY


@pytest.mark.parametrize("url", [NEW, HISTORY, "/billing/bills/1/", "/billing/products/?q=a"])
def test_pages_need_a_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("url", [NEW, HISTORY, "/billing/customer-bills/?customer=a@example.com", "/billing/products/"])
def test_a_user_without_a_role_is_refused(client, url):
    client.force_login(UserFactory(username="nobody"))

    response = client.get(url)

    assert response.status_code == 403
    assert "Your account (nobody) is not set up for the till yet. Ask a manager to make you a cashier." in html(
        response
    )


def test_a_cashier_refused_a_managers_page_is_told_to_ask_a_manager(cashier_client):
    from django.contrib.auth.models import Group, Permission

    # A shop whose cashiers may not count the drawer: the cash page is then a manager's page.
    Group.objects.get(name="Cashier").permissions.remove(Permission.objects.get(codename="change_tillsession"))
    response = cashier_client.get("/billing/till/cash/")

    assert response.status_code == 403
    assert "This needs a manager. Ask a manager to do it for you, or to allow your account (cashier) to do it." in (
        html(response)
    )


def test_the_login_page_is_styled_and_logs_a_cashier_in(client, cashier_user):
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert 'autocomplete="current-password"' in html(page)
    assert "billing.css" in html(page)

    response = client.post("/accounts/login/", {"username": "cashier", "password": "pass-word-123"}, follow=True)

    assert response.redirect_chain[-1] == (NEW, 302)
    assert response.wsgi_request.user.username == "cashier"


def test_a_wrong_password_is_refused_with_a_message(client, cashier_user):
    response = client.post("/accounts/login/", {"username": "cashier", "password": "nope"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in html(response)
    assert input_value(html(response), "username") == "cashier"


def test_logout_is_a_post_and_returns_to_the_login_page(cashier):
    response = cashier.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert cashier.get(NEW).status_code == 302


def test_a_manager_can_ring_up_too(manager_client, drawer, rice):
    response = manager_client.post(NEW, form_data(rows=[("RICE-5", 1)], notes={"500": 1}, action="generate"))

    assert response.status_code == 302
    created_by = Purchase.objects.get().created_by
    assert created_by is not None and created_by.username == "manager"


def test_csrf_protection_stays_on(cashier_user, drawer, rice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cashier_user)

    assert client.post(NEW, form_data(notes={"500": 2})).status_code == 403
    assert client.post(PREVIEW, form_data()).status_code == 403
    assert Purchase.objects.count() == 0


# --- The billing page -------------------------------------------------------------------------------


def test_the_empty_billing_page(cashier, drawer):
    response = cashier.get(NEW)

    assert response.status_code == 200
    content = html(response)
    assert len(rows_html(response)) == 3
    assert 'name="csrfmiddlewaretoken"' in content
    # Denominations highest first, without the drawer's count: the close is blind.
    labels = re.findall(r'<label for="id_note_[0-9_]+" class="note__value">([^<]+)</label>', content)
    assert labels == ["500", "100", "50", "20", "10", "5", "2", "1"]
    assert "drawer holds" not in content
    assert re.search(r'<input type="checkbox" name="send_invoice"[^>]*checked', content)
    assert 'value="generate"' in content and 'value="add_row"' in content


def test_a_two_line_bill_paid_with_notes(cashier, drawer, rice, soap):
    response = cashier.post(
        NEW, form_data(rows=[("RICE-5", 2), ("Sandal", 1)], notes={"500": 1, "100": 1}, action="generate")
    )

    purchase = Purchase.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/billing/bills/{purchase.pk}/"
    assert [(i.product_name, i.quantity) for i in purchase.items.all()] == [
        ("Basmati rice 5 kg", 2),
        ("Sandal soap", 1),
    ]
    assert purchase.subtotal == Decimal("536.50")
    assert purchase.tax_total == Decimal("29.38")
    assert purchase.payable == Decimal("566.00")
    assert purchase.paid_amount == Decimal("600.00")
    assert purchase.change_due == Decimal("34.00")
    assert purchase.created_by is not None and purchase.created_by.username == "cashier"
    assert purchase.customer is not None and purchase.customer.email == "ann@example.com"
    assert purchase.invoice_status == InvoiceStatus.PENDING
    rice.refresh_from_db()
    soap.refresh_from_db()
    assert (rice.stock, soap.stock) == (18, 9)
    drawer_counts = dict(Denomination.objects.values_list("value", "count"))
    assert drawer_counts[Decimal("500")] == 3
    assert drawer_counts[Decimal("100")] == 6
    assert drawer_counts[Decimal("20")] == 4
    assert drawer_counts[Decimal("10")] == 4
    assert drawer_counts[Decimal("2")] == 3

    bill = cashier.get(response["Location"])
    assert f"Bill {purchase.number} generated." in html(bill)


def test_a_bill_paid_with_a_plain_amount(cashier, drawer, rice):
    response = cashier.post(NEW, form_data(rows=[("RICE-5", 1)], paid="300", action="generate"))

    purchase = Purchase.objects.get()
    assert response.status_code == 302
    assert (purchase.payable, purchase.paid_amount, purchase.change_due) == (
        Decimal("263.00"),
        Decimal("300.00"),
        Decimal("37.00"),
    )
    assert purchase.tendered == []
    assert purchase.change == [
        {"value": Decimal("20.00"), "count": 1},
        {"value": Decimal("10.00"), "count": 1},
        {"value": Decimal("5.00"), "count": 1},
        {"value": Decimal("2.00"), "count": 1},
    ]


@pytest.mark.parametrize("term", ["RICE-5", "rice-5", "Basmati", "basmati rice 5 kg"])
def test_a_product_is_found_by_sku_or_name(cashier, drawer, rice, soap, term):
    cashier.post(NEW, form_data(rows=[(term, 1)], paid="263", action="generate"))

    assert Purchase.objects.get().items.get().product == rice


def test_a_product_is_found_by_id(cashier, drawer, rice):
    cashier.post(NEW, form_data(rows=[(str(rice.pk), 1)], paid="263", action="generate"))

    assert Purchase.objects.get().items.get().product == rice


def test_blank_rows_are_skipped(cashier, drawer, rice):
    rows = [("", 1), ("RICE-5", 1), ("", 1)]
    response = cashier.post(NEW, form_data(rows=rows, paid="263", action="generate"))

    assert response.status_code == 302
    assert Purchase.objects.get().items.count() == 1


def test_the_customer_can_decline_the_invoice_email(cashier, drawer, rice):
    cashier.post(NEW, form_data(rows=[("RICE-5", 1)], paid="263", send_invoice=False, action="generate"))

    assert Purchase.objects.get().invoice_status == InvoiceStatus.SKIPPED


def test_enter_without_javascript_adds_a_row(cashier, drawer, rice):
    """The form's first (hidden) submit button is "add row", so Enter never rings up a bill."""
    content = html(cashier.get(NEW))
    match = re.search(r'<button type="submit"[^>]*>', content[content.index('id="bill-form"') :])
    assert match is not None
    first_submit = match.group(0)
    assert 'value="add_row"' in first_submit


# --- Refusals: a clear message next to the cause, everything kept ----------------------------------


def test_insufficient_stock_is_shown_on_its_row(cashier, drawer, rice, soap):
    before = db_state()
    response = cashier.post(
        NEW,
        form_data(email="bob@example.com", rows=[("SOAP-1", 1), ("RICE-5", 25)], notes={"500": 2}, action="generate"),
    )

    assert response.status_code == 409
    assert db_state() == before
    message = "Only 20 of Basmati rice 5 kg in stock; 25 requested."
    rows = rows_html(response)
    assert message in rows[1]
    assert message not in rows[0]
    assert "The bill was not generated." in html(response)
    assert 'href="#id_lines-1-product"' in html(response)
    # Everything typed is still there.
    assert input_value(html(response), "customer") == "bob@example.com"
    assert input_value(rows[0], "lines-0-product") == "SOAP-1"
    assert input_value(rows[1], "lines-1-product") == "RICE-5"
    assert input_value(rows[1], "lines-1-quantity") == "25"
    assert input_value(html(response), "note_500_00") == "2"


def test_an_archived_product_is_shown_on_its_row(cashier, drawer, rice):
    ProductFactory(sku="OLD-1", name="Old stock", is_active=False)
    before = db_state()

    response = cashier.post(NEW, form_data(rows=[("RICE-5", 1), ("OLD-1", 1)], paid="1000", action="generate"))

    assert response.status_code == 409
    assert db_state() == before
    assert "Old stock is archived and cannot be sold." in rows_html(response)[1]
    assert input_value(html(response), "paid_amount") == "1000"


def test_an_unknown_product_id_is_refused_by_the_service(cashier, drawer, rice):
    before = db_state()

    response = cashier.post(NEW, form_data(rows=[("RICE-5", 1), ("999999", 2)], paid="1000", action="generate"))

    assert response.status_code == 400
    assert db_state() == before
    rows = rows_html(response)
    assert "Product 999999 does not exist." in rows[1]
    assert input_value(rows[1], "lines-1-product") == "999999"
    assert input_value(rows[1], "lines-1-quantity") == "2"


def test_a_name_that_matches_nothing_is_refused_on_its_row(cashier, drawer, rice):
    response = cashier.post(NEW, form_data(rows=[("RICE-5", 1), ("caviar", 1)], paid="1000", action="generate"))

    assert response.status_code == 400
    assert Purchase.objects.count() == 0
    assert "No product matches “caviar”." in rows_html(response)[1]
    assert input_value(rows_html(response)[1], "lines-1-product") == "caviar"


def test_an_ambiguous_name_lists_the_candidates(cashier, drawer, rice):
    ProductFactory(sku="RICE-1", name="Basmati rice 1 kg")

    response = cashier.post(NEW, form_data(rows=[("basmati", 1)], paid="1000", action="generate"))

    assert response.status_code == 400
    assert Purchase.objects.count() == 0
    row = rows_html(response)[0]
    assert "“basmati” matches 2 products" in row
    assert "Basmati rice 1 kg (RICE-1)" in row and "Basmati rice 5 kg (RICE-5)" in row


def test_insufficient_payment_is_shown_at_the_payment(cashier, drawer, rice):
    before = db_state()

    response = cashier.post(NEW, form_data(rows=[("RICE-5", 2)], notes={"500": 1}, action="generate"))

    assert response.status_code == 400
    assert db_state() == before
    payment = section_html(response, "payment")
    assert "Paid ₹500.00, but ₹525.00 is payable." in payment
    assert input_value(payment, "note_500_00") == "1"
    assert input_value(rows_html(response)[0], "lines-0-product") == "RICE-5"


def test_no_payment_at_all_is_insufficient_payment(cashier, drawer, rice):
    response = cashier.post(NEW, form_data(rows=[("RICE-5", 1)], action="generate"))

    assert response.status_code == 400
    assert "Paid ₹0.00, but ₹263.00 is payable." in section_html(response, "payment")


def test_change_unavailable_is_shown_at_the_payment(cashier, rice):
    drawer_with({"500": 0, "100": 0})  # an empty drawer cannot give 237 back
    before = db_state()

    response = cashier.post(NEW, form_data(rows=[("RICE-5", 1)], notes={"500": 1}, action="generate"))

    assert response.status_code == 409
    assert db_state() == before
    payment = section_html(response, "payment")
    assert "The drawer cannot make exact change of ₹237.00." in payment
    assert input_value(payment, "note_500_00") == "1"
    assert 'href="#payment"' in html(response)


def test_notes_that_do_not_add_up_to_the_amount_are_a_tender_mismatch(cashier, drawer, rice):
    before = db_state()

    response = cashier.post(NEW, form_data(rows=[("RICE-5", 1)], notes={"100": 3}, paid="500", action="generate"))

    assert response.status_code == 400
    assert db_state() == before
    payment = section_html(response, "payment")
    assert "The tendered notes add up to ₹300.00, not the ₹500.00 paid." in payment
    assert input_value(payment, "note_100_00") == "3"
    assert input_value(payment, "paid_amount") == "500"


def test_a_bill_without_lines_is_refused_at_the_lines(cashier, drawer):
    response = cashier.post(NEW, form_data(rows=[("", 1), ("", 1)], paid="100", action="generate"))

    assert response.status_code == 400
    assert Purchase.objects.count() == 0
    assert "A bill needs at least one line." in section_html(response, "lines")
    assert len(rows_html(response)) == 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"customer": "ann@"}, "Enter a valid email address."),
        ({"customer": "not-an-email"}, "or an Indian mobile number: 10 digits starting with 6, 7, 8 or 9"),
        ({"customer": "5876543210"}, "or an Indian mobile number: 10 digits starting with 6, 7, 8 or 9"),
        ({"lines-0-quantity": "0"}, "Ensure this value is greater than or equal to 0.001."),
        ({"lines-0-quantity": "1.5"}, "Basmati rice 5 kg: Sold each: enter a whole number."),
        ({"lines-0-quantity": "1.2345"}, "Ensure that there are no more than 3 decimal places."),
        ({"lines-0-quantity": ""}, "This field is required."),
        ({"paid_amount": "12.345"}, "Ensure that there are no more than 2 decimal places."),
        ({"note_500_00": "-1"}, "Ensure this value is greater than or equal to 0."),
    ],
)
def test_invalid_input_is_refused_with_the_field_message(cashier, drawer, rice, changes, message):
    data = form_data(rows=[("RICE-5", 2)], notes={"500": 2}, action="generate") | changes

    response = cashier.post(NEW, data)

    assert response.status_code == 400
    assert Purchase.objects.count() == 0
    assert message in html(response)
    assert input_value(rows_html(response)[0], "lines-0-product") == "RICE-5"


# --- Rows without JavaScript ----------------------------------------------------------------------


def test_add_row_keeps_everything_and_shows_no_errors(cashier, drawer, rice):
    data = form_data(email="", rows=[("RICE-5", 3)], notes={"100": 2}, action="add_row")

    response = cashier.post(NEW, data)

    assert response.status_code == 200
    rows = rows_html(response)
    assert len(rows) == 2
    assert input_value(rows[0], "lines-0-product") == "RICE-5"
    assert input_value(rows[0], "lines-0-quantity") == "3"
    assert input_value(rows[1], "lines-1-product") is None
    assert input_value(html(response), "note_100_00") == "2"
    assert "This field is required." not in html(response)
    assert "aria-invalid" not in html(response)  # the blank email is not announced as an error yet
    assert "Basmati rice 5 kg" in rows[0]  # the chosen product's details
    assert Purchase.objects.count() == 0


def test_remove_row_drops_that_row_and_keeps_the_others(cashier, drawer, rice, soap):
    data = form_data(rows=[("RICE-5", 1), ("caviar", 9), ("SOAP-1", 2)], remove_row="1")

    response = cashier.post(NEW, data)

    assert response.status_code == 200
    rows = rows_html(response)
    assert len(rows) == 2
    assert input_value(rows[0], "lines-0-product") == "RICE-5"
    assert input_value(rows[1], "lines-1-product") == "SOAP-1"
    assert input_value(rows[1], "lines-1-quantity") == "2"
    assert 'name="lines-TOTAL_FORMS" value="2"' in html(response)


def test_removing_the_last_row_leaves_a_blank_one(cashier, drawer):
    response = cashier.post(NEW, form_data(rows=[("RICE-5", 1)], remove_row="0"))

    rows = rows_html(response)
    assert len(rows) == 1
    assert input_value(rows[0], "lines-0-product") is None


def test_refresh_previews_rows_totals_change_and_previous_bills(cashier, drawer, rice, soap):
    purchase_create(
        customer_email="ann@example.com", items=[{"product_id": soap.pk, "quantity": 1}], paid_amount=Decimal("41")
    )
    data = form_data(rows=[("RICE-5", 2), ("Sandal", 1)], notes={"500": 1, "100": 1}, action="refresh")

    response = cashier.post(NEW, data)

    assert response.status_code == 200
    assert Purchase.objects.count() == 1
    rows = rows_html(response)
    assert "Basmati rice 5 kg" in rows[0] and "250.00 each" in rows[0] and "tax 5%" in rows[0]
    assert "19 in stock" not in rows[0] and "20 in stock" in rows[0]
    assert "525.00" in rows[0]
    assert "Sandal soap" in rows[1] and "9 in stock" in rows[1]
    match = re.search(r'<div id="summary".*?</aside>', html(response), flags=re.S)
    assert match is not None
    summary = match.group(0)
    assert re.search(r'data-amount="payable">₹566.00<', summary)
    assert re.search(r'data-amount="rounding">₹0.12<', summary)
    assert re.search(r'data-amount="change_due">₹34.00<', summary)
    assert re.findall(r'handback__count">(\d+) ×</span> <span class="handback__value">₹([\d.]+)<', summary) == [
        ("1", "20"),
        ("1", "10"),
        ("2", "2"),
    ]
    previous = section_html(response, "customer")
    assert "Previous bills of <strong>ann@example.com</strong>" in previous
    assert f"Bill #{Purchase.objects.get().pk}" in previous


def test_the_preview_warns_about_stock_before_the_bill_is_generated(cashier, drawer, rice):
    response = cashier.post(NEW, form_data(rows=[("RICE-5", 25)], action="refresh"))

    assert "Only 20 in stock." in rows_html(response)[0]


# --- The preview endpoint -------------------------------------------------------------------------


def test_the_preview_matches_the_bill_the_service_rings_up(cashier, drawer, rice, soap):
    data = form_data(rows=[("RICE-5", 2), ("SOAP-1", 3), ("rice-5", 1)], notes={"500": 2})

    preview = cashier.post(PREVIEW, data).json()
    cashier.post(NEW, data | {"action": "generate"})

    purchase = Purchase.objects.get()
    assert preview["amounts"] == {
        "subtotal": str(purchase.subtotal),
        "tax_total": str(purchase.tax_total),
        "total": str(purchase.total),
        "rounding": str(purchase.rounding),
        "payable": str(purchase.payable),
        "paid": str(purchase.paid_amount),
        "change_due": str(purchase.change_due),
        "discount_total": str(purchase.discount_total),
        "cash_due": str(purchase.payable),  # all in cash
    }
    assert preview["change"] == [{"value": str(p["value"]), "count": p["count"]} for p in purchase.change]
    assert preview["payment_problem"] == ""


def test_the_preview_uses_the_pricing_quote(cashier, drawer, rice, soap):
    expected = quote({rice.pk: rice, soap.pk: soap}, {rice.pk: 3, soap.pk: 7})

    body = cashier.post(PREVIEW, form_data(rows=[("RICE-5", 3), ("SOAP-1", 7)])).json()

    assert body["amounts"]["total"] == str(expected.total)
    assert body["amounts"]["payable"] == str(expected.payable)
    assert body["amounts"]["paid"] is None
    assert [row["index"] for row in body["rows"]] == [0, 1]
    assert "Sandal soap" in body["rows"][1]["html"]
    assert 'data-amount="payable">' in body["summary_html"]


@pytest.mark.parametrize(
    ("rows", "notes", "paid", "problem"),
    [
        ([("RICE-5", 1)], {"100": 2}, "", "Paid ₹200.00, but ₹263.00 is payable."),
        ([("RICE-5", 1)], {"100": 2}, "300", "The notes add up to ₹200.00, not the ₹300.00 entered"),
    ],
)
def test_the_preview_reports_payment_problems(cashier, drawer, rice, rows, notes, paid, problem):
    body = cashier.post(PREVIEW, form_data(rows=rows, notes=notes, paid=paid)).json()

    assert problem in body["payment_problem"]


def test_the_preview_offers_no_hand_back_for_a_bill_that_would_be_refused_for_stock(cashier, drawer, rice):
    # 21 of the 20 in stock, over two rows: each row alone would fit.
    body = cashier.post(PREVIEW, form_data(rows=[("RICE-5", 11), ("RICE-5", 10)], notes={"500": 2} | {"100": 5})).json()

    assert body["change"] == []
    assert "handback" not in body["summary_html"]
    assert "Not enough stock for Basmati rice 5 kg (only 20 in stock)" in body["summary_html"]
    assert body["amounts"]["payable"] is not None  # the totals are still shown


def test_the_same_bill_within_stock_offers_the_hand_back(cashier, drawer, rice):
    body = cashier.post(PREVIEW, form_data(rows=[("RICE-5", 1)], notes={"500": 1})).json()

    assert body["change"] != []
    assert "Hand back" in body["summary_html"]


def _discounted(*, line="15", reason="damaged box"):
    # 2 × 250.00 at 15 % = 425.00 + 5 % tax = 446.25 → 446, paid with a 500 note.
    return form_data(rows=[("RICE-5", 2)], notes={"500": 1}) | {
        "lines-0-discount_percent": line,
        "discount_reason": reason,
    }


def test_the_preview_warns_instead_of_offering_change_for_a_discount_a_cashier_may_not_give(
    cashier, drawer, rice, settings
):
    settings.CASHIER_MAX_DISCOUNT_PERCENT = Decimal("10")

    body = cashier.post(PREVIEW, _discounted()).json()

    assert body["change"] == []
    assert "handback" not in body["summary_html"]
    assert body["discount_problem"] == (
        "This bill would be refused: A discount of 15% is above the 10% a cashier may give; "
        "a manager has to ring this bill up."
    )
    assert "data-discount-problem" in body["summary_html"]
    assert body["amounts"]["payable"] == "446.00"  # the totals are still shown
    # And the service does refuse it, with the same words.
    refused = cashier.post(NEW, _discounted() | {"action": "generate"})
    assert refused.status_code == 403 and "a manager has to ring this bill up" in html(refused)


def test_the_preview_offers_a_manager_the_change_for_the_same_discount(manager_client, drawer, rice, settings):
    settings.CASHIER_MAX_DISCOUNT_PERCENT = Decimal("10")

    body = manager_client.post(PREVIEW, _discounted()).json()

    assert body["discount_problem"] == ""
    assert body["change"] == [{"value": "50.00", "count": 1}, {"value": "2.00", "count": 2}]


def test_the_preview_warns_of_a_discount_without_a_reason(cashier, drawer, rice, settings):
    settings.CASHIER_MAX_DISCOUNT_PERCENT = Decimal("20")

    body = cashier.post(PREVIEW, _discounted(reason="")).json()

    assert body["change"] == []
    assert body["discount_problem"] == "This bill would be refused: A discount needs a reason."


def test_the_page_shows_the_discount_warning_in_its_preview_too(cashier, drawer, rice, settings):
    settings.CASHIER_MAX_DISCOUNT_PERCENT = Decimal("10")

    response = cashier.post(NEW, _discounted() | {"action": "refresh"})

    assert response.status_code == 200
    assert "data-discount-problem" in html(response) and '<div class="handback' not in html(response)


def test_refusal_messages_write_amounts_like_the_page(cashier, drawer):
    ProductFactory(sku="TV", name="Television", price=Decimal("1203.00"), tax_percent=5, stock=5)

    response = cashier.post(NEW, form_data(rows=[("TV", 1)], paid="300", action="generate"))

    payment = section_html(response, "payment")
    assert "Paid ₹300.00, but ₹1,263.00 is payable." in payment
    assert 'data-amount="payable">₹1,263.00<' in html(response)


def test_the_preview_reports_change_the_drawer_cannot_make(cashier, rice):
    drawer_with({"500": 0})

    body = cashier.post(PREVIEW, form_data(rows=[("RICE-5", 1)], notes={"500": 1})).json()

    assert body["payment_problem"] == "The drawer cannot make exact change of ₹237.00."
    assert body["amounts"]["change_due"] == "237.00"


def test_the_preview_tolerates_half_typed_rows(cashier, drawer, rice):
    data = form_data(rows=[("RICE-5", "x"), ("ric", 2), ("nothing-like-it", 1), ("", 1)])

    body = cashier.post(PREVIEW, data).json()

    assert body["amounts"]["total"] == "525.00"  # only the row with a valid quantity counts
    assert "Basmati rice 5 kg" in body["rows"][0]["html"]
    assert "Basmati rice 5 kg" in body["rows"][1]["html"]
    assert "No product matches “nothing-like-it”." in body["rows"][2]["html"]
    assert body["rows"][3]["html"].strip() == ""


def test_the_preview_writes_nothing(cashier, drawer, rice):
    before = db_state()

    cashier.post(PREVIEW, form_data(rows=[("RICE-5", 1)], notes={"500": 1}))

    assert db_state() == before


def test_the_product_lookup_suggests_sellable_products(cashier, rice, soap):
    ProductFactory(sku="RICE-OLD", name="Old rice", is_active=False)

    body = cashier.get("/billing/products/", {"q": "rice"}).json()

    assert [p["value"] for p in body["results"]] == ["RICE-5"]
    assert body["results"][0]["label"] == "Basmati rice 5 kg · 250.00 each · 20 in stock"
    assert (body["results"][0]["unit"], body["results"][0]["stock"]) == ("each", 20)


def test_the_previous_bills_fragment(cashier, drawer, rice):
    purchase_create(
        customer_email="ann@example.com", items=[{"product_id": rice.pk, "quantity": 1}], paid_amount=Decimal("263")
    )

    found = cashier.get("/billing/customer-bills/", {"customer": "ANN@example.com"})
    none = cashier.get("/billing/customer-bills/", {"customer": "new@example.com"})

    assert f"Bill #{Purchase.objects.get().pk}" in html(found)
    assert "No previous bills for new@example.com" in html(none)


# --- The bill ---------------------------------------------------------------------------------------


def test_the_bill_page(cashier, drawer, rice, soap, settings):
    settings.STORE_NAME = "Corner Store"
    settings.STORE_ADDRESS = "12 Market Road, Pune"
    cashier.post(NEW, form_data(rows=[("RICE-5", 2), ("SOAP-1", 1)], notes={"500": 1, "100": 1}, action="generate"))
    purchase = Purchase.objects.get()

    response = cashier.get(f"/billing/bills/{purchase.pk}/")

    assert response.status_code == 200
    content = html(response)
    assert f"Bill #{purchase.pk}" in content
    assert "Corner Store" in content and "12 Market Road, Pune" in content
    assert "Basmati rice 5 kg" in content and "Sandal soap" in content
    assert '<dd id="payable">₹566.00</dd>' in content
    assert '<dd id="paid">₹600.00</dd>' in content
    assert '<dd id="change-due">₹34.00</dd>' in content
    match = re.search(r'<ul id="handback-list">.*?</ul>', content, flags=re.S)
    assert match is not None
    hand_back = match.group(0)
    assert re.findall(r'count">(\d+) ×</span> <span class="handback__value">₹([\d.]+)<', hand_back) == [
        ("1", "20"),
        ("1", "10"),
        ("2", "2"),
    ]
    assert "1 × ₹500, 1 × ₹100" in content  # received
    assert 'href="/billing/"' in content and "New bill" in content
    assert "billing.css" in content  # carries the @media print receipt layout


def test_a_bill_without_change(cashier, drawer, rice):
    cashier.post(NEW, form_data(rows=[("RICE-5", 1)], paid="263", action="generate"))

    response = cashier.get(f"/billing/bills/{Purchase.objects.get().pk}/")

    assert "No change due." in html(response)


@pytest.fixture
def kettle():
    return ProductFactory(sku="KETTLE", name="Steel kettle", price=Decimal("285.00"), tax_percent=0, stock=10)


def _discounted_bill(manager_user, kettle, soap, *, kettle_discount, bill_discount):
    return purchase_create(
        customer_email="ann@example.com",
        items=[
            {"product_id": kettle.pk, "quantity": 2, "discount_percent": kettle_discount},
            {"product_id": soap.pk, "quantity": 1},
        ],
        discount_percent=bill_discount,
        discount_reason="loyal customer",
        paid_amount=Decimal("1000"),
        user=manager_user,
    )


def _discount_texts(content: str) -> list[str]:
    """The discount under each line of the receipt, as read (tags left out)."""
    found = re.findall(r'<span class="receipt__discount">(.*?)</span>(?=</th>)', content, flags=re.S)
    return [re.sub(r"<[^>]+>", "", text) for text in found]


def _totals(content: str) -> list[tuple[str, str]]:
    found = re.search(r'<dl class="totals receipt__totals">(.*?)</dl>', content, flags=re.S)
    assert found is not None
    return [
        (re.sub(r"<[^>]+>", "", label).strip(), re.sub(r"<[^>]+>", "", amount).strip())
        for label, amount in re.findall(r"<dt>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>", found.group(1), flags=re.S)
    ]


def test_the_bill_shows_a_compound_discount_as_a_shop_writes_it(manager_client, manager_user, drawer, kettle, soap):
    # 2 × 285.00 = 570.00 at 5 % then 5 %: 9.75 % off, 55.575 → 55.58, of which the line's own 28.50.
    purchase = _discounted_bill(manager_user, kettle, soap, kettle_discount=Decimal("5"), bill_discount=Decimal("5"))

    content = html(manager_client.get(f"/billing/bills/{purchase.pk}/"))

    assert _discount_texts(content) == [
        "5 % + 5 % off ₹570.00 = −₹55.58",
        "5 % off ₹36.50 = −₹1.83",  # the bill's 5 % alone
    ]
    assert "9.75" not in content
    assert _totals(content)[:4] == [
        ("Items", "₹606.50"),
        ("Line discounts", "−₹28.50"),
        ("Bill discount 5 %", "−₹28.91"),  # 27.08 of the kettles + 1.83 of the soap
        ("Reason", "loyal customer"),
    ]
    assert Decimal("606.50") - Decimal("28.50") - Decimal("28.91") == purchase.subtotal


def test_the_bill_shows_a_line_discount_alone_without_a_bill_discount(
    manager_client, manager_user, drawer, kettle, soap
):
    purchase = _discounted_bill(manager_user, kettle, soap, kettle_discount=Decimal("5"), bill_discount=Decimal("0"))

    content = html(manager_client.get(f"/billing/bills/{purchase.pk}/"))

    assert _discount_texts(content) == ["5 % off ₹570.00 = −₹28.50"]
    assert _totals(content)[:3] == [("Items", "₹606.50"), ("Line discounts", "−₹28.50"), ("Reason", "loyal customer")]


def test_a_bill_without_discounts_shows_no_discount_rows(cashier, drawer, rice):
    cashier.post(NEW, form_data(rows=[("RICE-5", 1)], paid="263", action="generate"))

    content = html(cashier.get(f"/billing/bills/{Purchase.objects.get().pk}/"))

    assert [label for label, _ in _totals(content)][:2] == ["Subtotal", "Tax"]
    assert "receipt__discount" not in content


def test_the_preview_labels_line_and_bill_discounts(manager_client, drawer, kettle, soap):
    data = form_data(rows=[("KETTLE", 2), ("SOAP-1", 1)], paid="1000")
    data |= {"lines-0-discount_percent": "5", "discount_percent": "5", "discount_reason": "loyal customer"}

    summary = manager_client.post(PREVIEW, data).json()["summary_html"]

    assert re.search(r'<dt>Line discounts</dt><dd data-amount="line_discounts">−₹28.50</dd>', summary)
    assert re.search(r'<dt>Bill discount 5 %</dt><dd data-amount="bill_discount">−₹28.91</dd>', summary)


def test_an_unknown_bill_is_404(cashier):
    assert cashier.get("/billing/bills/424242/").status_code == 404


def test_the_print_stylesheet_has_a_narrow_receipt():
    from django.contrib.staticfiles import finders

    path = finders.find("purchases/billing.css")
    assert isinstance(path, str)
    css = open(path, encoding="utf-8").read()  # noqa: SIM115

    assert "@media print" in css
    assert "size: 80mm auto" in css


# --- History ----------------------------------------------------------------------------------------


@pytest.fixture
def tea():
    return ProductFactory(sku="TEA", name="Tea", price=Decimal("10.00"), tax_percent=0, stock=1000)


def _bill(product, email, *, days_ago=0):
    purchase = purchase_create(
        customer_email=email,
        items=[{"product_id": product.pk, "quantity": 1}],
        paid_amount=quote({product.pk: product}, {product.pk: 1}).payable,
    )
    if days_ago:
        Purchase.objects.filter(pk=purchase.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    return purchase


def test_history_lists_bills_newest_first_with_links(cashier, drawer, tea):
    old = _bill(tea, "ann@example.com", days_ago=2)
    new = _bill(tea, "bob@example.com")

    response = cashier.get(HISTORY)

    assert response.status_code == 200
    content = html(response)
    links = re.findall(r'<a href="/billing/bills/(\d+)/">Bill #', content)
    assert links == [str(new.pk), str(old.pk)]
    assert "bob@example.com" in content and "ann@example.com" in content


def test_history_is_paginated(cashier, drawer, tea):
    bills = [_bill(tea, f"c{n}@example.com") for n in range(27)]

    first = cashier.get(HISTORY)
    second = cashier.get(HISTORY, {"page": 2})

    assert len(re.findall(r'<a href="/billing/bills/\d+/">Bill #', html(first))) == 25
    assert re.findall(r'<a href="/billing/bills/(\d+)/">Bill #', html(second)) == [str(bills[1].pk), str(bills[0].pk)]
    assert "Page 2 of 2" in html(second)
    assert 'href="?page=2"' in html(first)


def test_history_filters_by_customer_email(cashier, drawer, tea):
    ann = _bill(tea, "ann@example.com")
    _bill(tea, "bob@example.com")

    response = cashier.get(HISTORY, {"customer": " ANN@example.com "})

    assert re.findall(r'<a href="/billing/bills/(\d+)/">Bill #', html(response)) == [str(ann.pk)]
    assert input_value(html(response), "customer") == " ANN@example.com "


def test_history_filters_by_date(cashier, drawer, tea):
    _bill(tea, "old@example.com", days_ago=10)
    middle = _bill(tea, "mid@example.com", days_ago=5)
    _bill(tea, "new@example.com")
    day = timezone.localdate() - timedelta(days=5)

    response = cashier.get(HISTORY, {"date_from": day.isoformat(), "date_to": day.isoformat()})

    assert re.findall(r'<a href="/billing/bills/(\d+)/">Bill #', html(response)) == [str(middle.pk)]


def test_history_keeps_the_filter_when_paging(cashier, drawer, tea):
    for _ in range(26):
        _bill(tea, "ann@example.com")

    response = cashier.get(HISTORY, {"customer": "ann@example.com"})

    assert 'href="?customer=ann%40example.com&amp;page=2"' in html(response)


def test_history_reports_a_reversed_date_range(cashier, drawer, tea):
    _bill(tea, "ann@example.com")
    today = timezone.localdate()

    response = cashier.get(
        HISTORY, {"date_from": today.isoformat(), "date_to": (today - timedelta(days=1)).isoformat()}
    )

    assert response.status_code == 200
    assert "The end date is before the start date." in html(response)


@pytest.mark.parametrize("field", ["date_from", "date_to"])
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_history_refuses_a_far_off_date_instead_of_failing(cashier, drawer, tea, field, day):
    bill = _bill(tea, "ann@example.com")

    response = cashier.get(HISTORY, {field: day})

    assert response.status_code == 200
    assert "Enter a day from 2000-01-01 to 2999-12-31." in html(response)
    assert re.findall(r'<a href="/billing/bills/(\d+)/">Bill #', html(response)) == [str(bill.pk)]


def test_history_query_count_does_not_grow_with_bills(cashier, drawer, tea, django_assert_max_num_queries):
    milk = ProductFactory(price=Decimal("30.00"), tax_percent=0, stock=1000)
    for n in range(20):
        purchase_create(
            customer_email=f"c{n}@example.com",
            items=[{"product_id": tea.pk, "quantity": 1}, {"product_id": milk.pk, "quantity": 1}],
            paid_amount=Decimal("40"),
        )

    with django_assert_max_num_queries(10):
        response = cashier.get(HISTORY)

    assert response.status_code == 200


def test_bill_dates_are_shown_in_the_local_time_zone(cashier, drawer, tea, settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    purchase = _bill(tea, "ann@example.com")
    Purchase.objects.filter(pk=purchase.pk).update(
        created_at=timezone.make_aware(datetime(2025, 3, 1, 20, 0), timezone=timezone.get_fixed_timezone(0))
    )

    response = cashier.get(f"/billing/bills/{purchase.pk}/")

    assert "2 Mar 2025, 01:30" in html(response)


def _autofocused(response) -> list[str]:
    return re.findall(r'<input[^>]*name="([^"]+)"[^>]*autofocus', html(response))


def test_the_empty_page_focuses_the_customer(cashier, drawer):
    assert _autofocused(cashier.get(NEW)) == ["customer"]


@pytest.mark.parametrize(
    ("rows", "notes", "focused"),
    [
        ([("RICE-5", 1), ("RICE-5", 99)], {"500": 1}, "lines-0-product"),  # the combined line is short of stock
        ([("RICE-5", 1), ("caviar", 1)], {"500": 1}, "lines-1-product"),
        ([("RICE-5", 2)], {"100": 1}, "note_500_00"),
        ([("", 1)], {"100": 1}, "lines-0-product"),
    ],
)
def test_a_refused_page_focuses_the_cause(cashier, drawer, rice, rows, notes, focused):
    response = cashier.post(NEW, form_data(rows=rows, notes=notes, action="generate"))

    assert response.status_code in (400, 409)
    assert _autofocused(response) == [focused]


def test_there_is_a_favicon(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    assert icon["Content-Type"].startswith("image/svg+xml")
    assert b"<svg" in b"".join(icon.streaming_content if icon.streaming else [icon.content])


def test_the_bill_page_links_to_the_customers_bills_as_a_link(cashier, drawer, rice):
    cashier.post(NEW, form_data(rows=[("RICE-5", 1)], paid="263", action="generate"))

    content = html(cashier.get(f"/billing/bills/{Purchase.objects.get().pk}/"))

    match = re.search(r'<a [^>]*id="customer-bills"[^>]*>', content)
    assert match is not None
    link = match.group(0)
    assert 'class="link"' in link and "button" not in link
    assert "?customer=ann%40example.com" in link


def test_the_receipt_after_ringing_up_is_the_original_and_a_reprint_is_marked_duplicate(cashier, drawer, rice):
    response = cashier.post(NEW, form_data(rows=[("RICE-5", 1)], paid="300", action="generate"))
    purchase = Purchase.objects.get()

    first = html(cashier.get(response["Location"]))
    again = html(cashier.get(response["Location"]))

    assert str(purchase.number) in first and 'id="invoice-number"' in first
    assert 'id="duplicate-mark"' not in first
    assert 'id="duplicate-mark"' in again
    assert f'href="/billing/bills/{purchase.pk}/invoice.pdf"' in again


def test_the_page_serves_the_invoice_pdf_and_history_links_it(cashier, drawer, rice):
    cashier.post(NEW, form_data(rows=[("RICE-5", 1)], paid="300", action="generate"))
    purchase = Purchase.objects.get()

    pdf = cashier.get(f"/billing/bills/{purchase.pk}/invoice.pdf")
    history = html(cashier.get("/billing/history/"))

    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert str(purchase.number) in history
    assert f'href="/billing/bills/{purchase.pk}/invoice.pdf"' in history
