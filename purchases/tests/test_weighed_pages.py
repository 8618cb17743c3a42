"""Weighed goods and scanned codes on the cashier's pages as plain form posts (no JavaScript): the
billing page's item box, its quantities, the scan lookup it calls, the receipt and the return page."""

from decimal import Decimal

import pytest

from catalog.tests.factories import ProductFactory
from purchases.models import Purchase, PurchaseItem, Refund
from purchases.services import purchase_create
from purchases.tests.helpers import NEW, PREVIEW, form_data, html, input_value, rows_html

pytestmark = pytest.mark.django_db

D = Decimal
SCAN = "/billing/scan/"


@pytest.fixture
def drawer_counts():
    return {"500": 2, "100": 5, "50": 2, "20": 5, "10": 5, "5": 5, "2": 5, "1": 5}


@pytest.fixture
def sugar():
    return ProductFactory(
        sku="SUGAR", name="Loose sugar", unit="kg", price=D("48.00"), tax_percent=0, stock=D("25.000"), plu="12345"
    )


@pytest.fixture
def soap():
    return ProductFactory(
        sku="SOAP-1", name="Sandal soap", price=D("36.50"), tax_percent=12, stock=10, barcode="4006381333931"
    )


def test_a_weighed_quantity_is_rung_up_to_the_gram(cashier_client, drawer, sugar):
    response = cashier_client.post(NEW, form_data(rows=[("SUGAR", "1.255")], paid="61", action="generate"))
    assert response.status_code == 302
    line = Purchase.objects.get().items.get()
    assert (line.quantity, line.unit, line.gross) == (D("1.255"), "kg", D("60.24"))
    receipt = html(cashier_client.get(response["Location"]))
    assert "1.255 kg" in receipt


def test_a_fraction_of_a_product_sold_each_is_refused_on_its_row(cashier_client, drawer, soap):
    response = cashier_client.post(NEW, form_data(rows=[("SOAP-1", "1.5")], paid="100", action="generate"))
    assert response.status_code == 400
    assert "Sandal soap: Sold each: enter a whole number." in rows_html(response)[0]
    assert not Purchase.objects.exists()


def test_a_barcode_and_a_scale_label_in_the_item_box_without_javascript(cashier_client, drawer, sugar, soap):
    rows = [("4006381333931", 2), ("2112345007502", 1)]  # the label's 750 g, whatever the box says
    response = cashier_client.post(NEW, form_data(rows=rows, paid="118", action="generate"))
    assert response.status_code == 302
    items = [(i.product_name, i.quantity) for i in Purchase.objects.get().items.all()]
    assert items == [("Sandal soap", D("2.000")), ("Loose sugar", D("0.750"))]


def test_the_preview_reads_a_scale_label_and_the_page_shows_its_weight(cashier_client, drawer, sugar):
    data = form_data(rows=[("2112345007502", 1)], action="refresh")
    page = cashier_client.post(NEW, data)
    row = rows_html(page)[0]
    assert input_value(row, "lines-0-product") == "SUGAR"
    assert input_value(row, "lines-0-quantity") == "0.750"
    preview = cashier_client.post(PREVIEW, form_data(rows=[("2112345007502", 1)])).json()
    assert "₹36.00" in preview["rows"][0]["html"] and "per kg" in preview["rows"][0]["html"]


def test_a_bad_check_digit_is_shown_on_its_row(cashier_client, drawer, sugar):
    response = cashier_client.post(NEW, form_data(rows=[("2112345007503", 1)], paid="40", action="generate"))
    assert response.status_code == 400
    assert "check digit is wrong" in rows_html(response)[0]


def test_the_scan_lookup_answers_the_row_the_page_fills_in(cashier_client, drawer, sugar, soap):
    assert cashier_client.get(SCAN, {"code": "2112345007502"}).json() == {
        "id": sugar.pk,
        "value": "SUGAR",
        "name": "Loose sugar",
        "unit": "kg",
        "quantity": "0.750",
        "found_by": "scale_label",
    }
    assert cashier_client.get(SCAN, {"code": "4006381333931"}).json()["quantity"] == "1"
    assert cashier_client.get(SCAN, {"code": "4006381333930"}).status_code == 400
    assert cashier_client.get(SCAN, {"code": "5901234123457"}).status_code == 404


def test_a_weighed_line_is_returned_to_the_gram_from_the_return_page(manager_client, drawer, sugar):
    bill = purchase_create(
        customer_email="ann@example.com", items=[{"product_id": sugar.pk, "quantity": D("1.250")}], paid_amount=D("60")
    )
    field = f"qty_{PurchaseItem.objects.get(purchase=bill).pk}"
    page = html(manager_client.get(f"/billing/bills/{bill.pk}/return/"))
    assert 'max="1.250" step="0.001"' in page and "1.250 kg" in page
    response = manager_client.post(
        f"/billing/bills/{bill.pk}/return/", {field: "0.255", "reason": "wet", "restock": "on"}
    )
    assert response.status_code == 302
    assert Refund.objects.get().lines.get().quantity == D("0.255")
    refused = manager_client.post(f"/billing/bills/{bill.pk}/return/", {field: "1.000", "reason": "wet"})
    assert refused.status_code == 400
    assert Refund.objects.count() == 1
