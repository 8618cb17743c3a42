"""Park and recall on the billing page, the UTR rule on its UPI field, and the customer display's
state, through Django's test client (the browser tests walk the same in Chromium)."""

from decimal import Decimal

import pytest

from cashdrawer.models import Till
from cashdrawer.services import till_create
from catalog.tests.factories import ProductFactory
from purchases.models import HeldBill, Purchase
from purchases.services import held_bill_create
from purchases.tests.helpers import NEW, PREVIEW, db_state, form_data, html, input_value

pytestmark = pytest.mark.django_db

DISPLAY_STATE = "/billing/display/state/"


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
def till():
    return Till.objects.get(code="MAIN")


def test_park_saves_the_cart_and_starts_a_new_bill(cashier_client, drawer, till, rice, soap):
    before = db_state()

    response = cashier_client.post(
        NEW, form_data(email="98765 43210", rows=(("RICE-5", 2), ("SOAP-1", 1)), action="park"), follow=True
    )

    assert response.redirect_chain == [(NEW, 302)]
    held = HeldBill.objects.get()
    assert (held.till_id, held.customer_phone, held.customer_email) == (till.pk, "+919876543210", "")
    assert [(line["product_id"], line["quantity"]) for line in held.items] == [(rice.pk, 2), (soap.pk, 1)]
    assert db_state() == before  # no stock, no money
    page = html(response)
    assert f"Bill parked as #{held.pk}" in page
    assert 'Parked (<span id="parked-count">1</span>)' in page
    assert f'name="recall" value="{held.pk}"' in page
    assert input_value(page, "lines-0-product") in ("", None)  # a new, empty bill


def test_nothing_to_park_is_said_and_nothing_is_parked(cashier_client, drawer, rice):
    response = cashier_client.post(NEW, form_data(rows=(("", 1),), action="park"))
    assert response.status_code == 400
    assert "nothing to park" in html(response)
    assert not HeldBill.objects.exists()


def test_a_cart_with_a_bad_row_is_not_parked_and_keeps_what_was_typed(cashier_client, drawer, rice):
    response = cashier_client.post(NEW, form_data(rows=(("RICE-5", 2), ("NO-SUCH-THING", 1)), action="park"))
    assert response.status_code == 400
    assert input_value(html(response), "lines-1-product") == "NO-SUCH-THING"
    assert not HeldBill.objects.exists()


def test_recall_puts_the_cart_back_on_screen_and_it_is_no_longer_parked(cashier_client, drawer, till, rice, soap):
    held = held_bill_create(
        till=till.pk,
        items=[
            {"product_id": rice.pk, "quantity": 3},
            {"product_id": soap.pk, "quantity": 1, "discount_percent": Decimal("5")},
        ],
        customer_email="ann@example.com",
    )

    response = cashier_client.post(NEW, form_data(email="", rows=(("", 1),), recall=str(held.pk)))

    assert response.status_code == 200
    page = html(response)
    assert input_value(page, "customer") == "ann@example.com"
    assert (input_value(page, "lines-0-product"), input_value(page, "lines-0-quantity")) == ("RICE-5", "3")
    assert (input_value(page, "lines-1-product"), input_value(page, "lines-1-discount_percent")) == ("SOAP-1", "5.00")
    assert input_value(page, "lines-2-product") in ("", None)
    assert not HeldBill.objects.exists()
    assert f"Parked bill #{held.pk} is back on screen" in page


def test_recalling_with_a_cart_on_screen_parks_that_cart_first(cashier_client, drawer, till, rice, soap):
    held = held_bill_create(till=till.pk, items=[{"product_id": rice.pk, "quantity": 3}])

    response = cashier_client.post(NEW, form_data(rows=(("SOAP-1", 4),), recall=str(held.pk)))

    page = html(response)
    assert input_value(page, "lines-0-product") == "RICE-5"
    swapped = HeldBill.objects.get()  # the screen's cart, parked: no cart is lost
    assert [(line["product_id"], line["quantity"]) for line in swapped.items] == [(soap.pk, 4)]
    assert swapped.customer_email == "ann@example.com"
    assert f"parked as #{swapped.pk}" in page


def test_a_cart_on_screen_that_cannot_be_parked_stops_the_recall(cashier_client, drawer, till, rice):
    held = held_bill_create(till=till.pk, items=[{"product_id": rice.pk, "quantity": 3}])

    response = cashier_client.post(NEW, form_data(rows=(("NO-SUCH-THING", 1),), recall=str(held.pk)))

    assert response.status_code == 400
    assert "could not be parked" in html(response)
    assert HeldBill.objects.get() == held  # still parked


def test_recalling_one_that_is_gone_says_so(cashier_client, drawer, till, rice):
    held = held_bill_create(till=till.pk, items=[{"product_id": rice.pk, "quantity": 3}])
    held.delete()
    response = cashier_client.post(NEW, form_data(email="", rows=(("", 1),), recall="1"), follow=True)
    assert "recalled or discarded already" in html(response)


def test_the_parked_list_is_this_tills_oldest_first(cashier_client, drawer, till, rice):
    first = held_bill_create(till=till.pk, items=[{"product_id": rice.pk, "quantity": 1}])
    held_bill_create(till=till_create(code="T2").pk, items=[{"product_id": rice.pk, "quantity": 1}])
    third = held_bill_create(till=till.pk, items=[{"product_id": rice.pk, "quantity": 2}], customer_email="b@x.in")

    page = html(cashier_client.get(NEW))

    assert 'Parked (<span id="parked-count">2</span>)' in page
    assert page.index(f'name="recall" value="{first.pk}"') < page.index(f'name="recall" value="{third.pk}"')
    assert "b@x.in" in page


def test_a_parked_cart_rings_up_after_another_bill(cashier_client, drawer, till, rice, soap):
    held = held_bill_create(till=till.pk, items=[{"product_id": rice.pk, "quantity": 2}])
    cashier_client.post(NEW, form_data(rows=(("SOAP-1", 1),), notes={"50": 1}))

    page = html(cashier_client.post(NEW, form_data(email="", rows=(("", 1),), recall=str(held.pk))))
    data = form_data(
        rows=((input_value(page, "lines-0-product"), input_value(page, "lines-0-quantity")),), notes={"500": 1, "50": 1}
    )
    cashier_client.post(NEW, data)

    assert [p.items.get().product_id for p in Purchase.objects.order_by("id")] == [soap.pk, rice.pk]


# --- UPI on the page ---------------------------------------------------------------------------------


def test_the_page_refuses_a_upi_reference_that_is_not_a_utr_beside_the_field(cashier_client, drawer, rice):
    before = db_state()
    data = form_data(rows=(("RICE-5", 1),), upi_amount="262.50", upi_reference="UPI-77")

    response = cashier_client.post(NEW, data)

    assert response.status_code == 400
    assert "12-digit UTR" in html(response)
    assert db_state() == before


def test_the_page_rings_up_a_upi_payment_with_its_utr(cashier_client, drawer, rice):
    data = form_data(rows=(("RICE-5", 1),), upi_amount="262.50", upi_reference="412345678901", action="generate")
    response = cashier_client.post(NEW, data)
    assert response.status_code == 302
    assert Purchase.objects.get().payments.get().reference == "412345678901"


def test_the_page_offers_the_qr_code_only_with_a_vpa(cashier_client, drawer, settings):
    settings.UPI_VPA = "shop@okaxis"
    assert 'id="upi-qr" data-url="/api/v1/upi-qr"' in html(cashier_client.get(NEW))
    settings.UPI_VPA = ""
    assert 'id="upi-qr"' not in html(cashier_client.get(NEW))


# --- The customer display ----------------------------------------------------------------------------


def test_the_display_follows_the_previews_of_its_till(cashier_client, drawer, till, rice, settings):
    settings.UPI_VPA = "shop@okaxis"
    assert cashier_client.get(f"{DISPLAY_STATE}?till={till.pk}").json()["status"] == "idle"

    cashier_client.post(PREVIEW, form_data(rows=(("RICE-5", 2),), upi_amount="100.00"))
    state = cashier_client.get(f"{DISPLAY_STATE}?till={till.pk}").json()

    assert state["status"] == "ringing"
    assert state["lines"] == [{"name": "Basmati rice 5 kg", "quantity": "2", "price": "₹250.00", "amount": "₹525.00"}]
    assert state["payable"] == "₹525.00"
    assert state["upi"]["amount"] == "₹100.00"
    assert state["upi"]["uri"].startswith("upi://pay?pa=shop@okaxis&") and "&am=100.00&" in state["upi"]["uri"]
    # Another till's display shows nothing of it.
    other = till_create(code="T2")
    assert cashier_client.get(f"{DISPLAY_STATE}?till={other.pk}").json()["status"] == "idle"


def test_the_display_thanks_the_customer_once_the_bill_is_rung_up(cashier_client, drawer, till, rice):
    cashier_client.post(NEW, form_data(rows=(("RICE-5", 1),), notes={"500": 1}))
    state = cashier_client.get(f"{DISPLAY_STATE}?till={till.pk}").json()
    assert state["status"] == "done"
    assert state["change_due"] == "₹237.00"  # 262.50 payable as 263.00
    assert state["number"] == Purchase.objects.get().number


def test_the_display_page_needs_a_login(client, till):
    assert client.get("/billing/display/").status_code == 302
    assert client.get(DISPLAY_STATE).status_code == 302


def test_the_display_page_names_its_till(cashier_client, till):
    page = html(cashier_client.get(f"/billing/display/?till={till.pk}"))
    assert f'data-state-url="{DISPLAY_STATE}?till={till.pk}"' in page
