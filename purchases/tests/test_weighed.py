"""Loose goods by weight and measure: bills, refunds, reports and documents with decimal quantities,
through the services on the database and through the API. An `each` product's quantities stay whole."""

import csv
import io
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing_project.core.errors import ValidationFailed
from catalog.models import StoreStock
from catalog.tests.factories import ProductFactory
from purchases.documents.content import credit_note_document, invoice_document
from purchases.errors import InsufficientStock, RefundExceedsSold
from purchases.models import PurchaseItem, Refund
from purchases.reports import purchases_csv
from purchases.sales_report import sales_report
from purchases.selectors import purchase_get, refund_get
from purchases.services import purchase_create
from purchases.tests.helpers import db_state, refund, ring_up

pytestmark = pytest.mark.django_db

D = Decimal
API = "/api/v1"


@pytest.fixture
def sugar():
    return ProductFactory(name="Sugar", unit="kg", price=D("48.00"), tax_percent=D("5"), stock=D("10.000"))


@pytest.fixture
def soap():
    return ProductFactory(name="Soap", price=D("36.50"), tax_percent=D("18"), stock=20)


# --- Bills ------------------------------------------------------------------------------------------


def test_a_weighed_line_is_price_times_quantity_rounded_once(drawer, sugar):
    bill = ring_up((sugar, D("1.255")))
    line = bill.items.get()
    # 48.00 × 1.255 = 60.24; tax 5 % of it = 3.012 → 3.01.
    assert (line.unit, line.quantity, line.gross, line.subtotal, line.tax_amount) == (
        "kg",
        D("1.255"),
        D("60.24"),
        D("60.24"),
        D("3.01"),
    )
    sugar.refresh_from_db()
    assert sugar.stock == D("8.745")


@pytest.mark.parametrize(
    ("price", "quantity", "gross"),
    [
        (D("1.00"), D("0.005"), D("0.01")),  # exactly half a paisa: rounds up, and the CHECK takes it
        (D("48.50"), D("0.725"), D("35.16")),  # 35.1625
        (D("99.90"), D("1.235"), D("123.38")),  # 123.3765
        (D("10.10"), D("0.015"), D("0.15")),  # 0.1515
        (D("0.01"), D("0.500"), D("0.01")),  # 0.005
        (D("12.30"), D("2.345"), D("28.84")),  # 28.8435
    ],
)
def test_a_gross_to_half_a_paisa_is_stored(drawer, price, quantity, gross):
    product = ProductFactory(unit="kg", price=price, tax_percent=D("0"), stock=D("100"))
    line = purchase_create(
        customer_email="ann@example.com", items=[{"product_id": product.pk, "quantity": quantity}], paid_amount=D("200")
    ).items.get()
    assert (line.quantity, line.gross) == (quantity, gross)


def test_the_line_keeps_its_unit_when_lines_of_one_product_are_combined(drawer, sugar):
    bill = purchase_create(
        customer_email="ann@example.com",
        items=[{"product_id": sugar.pk, "quantity": D("0.250")}, {"product_id": sugar.pk, "quantity": D("0.5")}],
        paid_amount=D("38"),
    )
    assert [(i.quantity, i.unit, i.gross) for i in bill.items.all()] == [(D("0.750"), "kg", D("36.00"))]


def test_a_fraction_of_an_each_product_is_refused_and_nothing_is_written(drawer, soap):
    before = db_state()
    with pytest.raises(ValidationFailed) as refused:
        ring_up((soap, D("1.5")))
    assert refused.value.details == {"items": ["Sold each: enter a whole number."], "product_id": soap.pk}
    assert db_state() == before


def test_more_than_3_places_is_refused(drawer, sugar):
    with pytest.raises(ValidationFailed, match="at most 3 decimal places"):
        ring_up((sugar, D("0.0005")))


def test_stock_is_taken_to_the_gram_and_never_below_zero(drawer, sugar):
    StoreStock.objects.filter(product_id=sugar.pk).update(stock=D("0.300"))
    ring_up((sugar, D("0.1")))
    ring_up((sugar, D("0.2")))  # 0.3 − 0.1 − 0.2: exactly 0, also where decimals are floats (SQLite)
    sugar.refresh_from_db()
    assert sugar.stock == D("0.000")
    with pytest.raises(InsufficientStock) as refused:
        ring_up((sugar, D("0.001")))
    assert refused.value.details == {"product_id": sugar.pk, "available": "0.000", "requested": "0.001"}
    assert refused.value.message == "Only 0.000 kg of Sugar in stock; 0.001 kg requested."


def test_the_database_refuses_a_fraction_on_an_each_line(drawer, soap):
    line = ring_up((soap, 2)).items.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        PurchaseItem.objects.filter(pk=line.pk).update(refunded_quantity=D("0.5"))


# --- Refunds ----------------------------------------------------------------------------------------


def test_a_weighed_line_is_refunded_in_parts_to_the_gram(drawer, sugar):
    bill = ring_up((sugar, D("1.255")))
    first = refund(bill, (sugar, D("0.255")))
    second = refund(bill, (sugar, D("0.5")))
    with pytest.raises(RefundExceedsSold) as refused:
        refund(bill, (sugar, D("0.501")))
    assert refused.value.details == {
        "product_id": sugar.pk,
        "sold": "1.255",
        "refunded": "0.755",
        "requested": "0.501",
    }
    last = refund(bill, (sugar, D("0.5")))
    line = bill.items.get()
    assert line.refunded_quantity == line.quantity == D("1.255")
    # The shares add up to the line exactly: the last refund takes the rest.
    shares = [r.lines.get() for r in (first, second, last)]
    assert sum(s.subtotal for s in shares) == line.subtotal
    assert sum(s.tax_amount for s in shares) == line.tax_amount
    sugar.refresh_from_db()
    assert sugar.stock == D("10.000")  # restocked to the gram


def test_refunds_of_tenths_add_up_exactly(drawer, sugar):
    bill = ring_up((sugar, D("0.3")))
    refund(bill, (sugar, D("0.1")))
    refund(bill, (sugar, D("0.2")))  # 0.1 + 0.2 is 0.3 here, not 0.30000000000000004
    assert bill.items.get().refunded_quantity == D("0.300")


def test_a_fraction_of_an_each_line_cannot_be_refunded(drawer, soap):
    bill = ring_up((soap, 3))
    with pytest.raises(ValidationFailed) as refused:
        refund(bill, (soap, D("0.5")))
    assert refused.value.details == {"items": ["Sold each: enter a whole number."], "product_id": soap.pk}
    assert not Refund.objects.exists()


# --- The API ----------------------------------------------------------------------------------------


def bill_body(*lines, **extra):
    return {
        "customer_email": "ann@example.com",
        "items": [{"product_id": p.pk, "quantity": q} for p, q in lines],
        "paid_amount": "1000",
        **extra,
    }


def test_the_api_answers_measured_quantities_as_3_place_strings_and_each_as_integers(admin_api, drawer, sugar, soap):
    response = admin_api.post(f"{API}/purchases", bill_body((sugar, "1.25"), (soap, 2)), format="json")
    assert response.status_code == 201, response.json()
    lines = {line["product_name"]: line for line in response.json()["items"]}
    assert {k: lines["Sugar"][k] for k in ("quantity", "unit", "unit_price", "gross", "refunded_quantity")} == {
        "quantity": "1.250",
        "unit": "kg",
        "unit_price": "48.00",
        "gross": "60.00",
        "refunded_quantity": "0.000",
    }
    assert {k: lines["Soap"][k] for k in ("quantity", "unit", "refunded_quantity")} == {
        "quantity": 2,
        "unit": "each",
        "refunded_quantity": 0,
    }
    bill_id = response.json()["id"]
    assert admin_api.get(f"{API}/purchases/{bill_id}").json()["items"] == response.json()["items"]
    listed = admin_api.get(f"{API}/purchases").json()["results"][0]
    assert listed["items"] == response.json()["items"]


def test_the_api_refuses_a_fraction_of_an_each_product(admin_api, drawer, soap):
    response = admin_api.post(f"{API}/purchases", bill_body((soap, "1.5")), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert response.json()["message"] == "Soap: Sold each: enter a whole number."


@pytest.mark.parametrize("quantity", ["1.2345", "0", "-1", "0.000", "abc", "1e3"])
def test_the_api_refuses_quantities_that_are_no_quantity(admin_api, drawer, sugar, quantity):
    response = admin_api.post(f"{API}/purchases", bill_body((sugar, quantity)), format="json")
    assert response.status_code == 400
    assert "quantity" in response.json()["details"]["items"]["0"]


def test_a_partial_refund_of_a_weighed_line_through_the_api(admin_api, drawer, sugar):
    bill = admin_api.post(f"{API}/purchases", bill_body((sugar, "2")), format="json").json()
    url = f"{API}/purchases/{bill['id']}/refunds"
    body = {"items": [{"product_id": sugar.pk, "quantity": "0.750"}], "reason": "wet bag"}
    response = admin_api.post(url, body, format="json", headers={"Idempotency-Key": "r1"})
    assert response.status_code == 201, response.json()
    assert [(i["quantity"], i["unit"]) for i in response.json()["items"]] == [("0.750", "kg")]
    too_much = {"items": [{"product_id": sugar.pk, "quantity": "1.251"}], "reason": "wet bag"}
    refused = admin_api.post(url, too_much, format="json", headers={"Idempotency-Key": "r2"})
    assert refused.status_code == 409
    assert refused.json()["details"]["sold"] == "2.000"
    assert admin_api.get(f"{API}/purchases/{bill['id']}").json()["items"][0]["refunded_quantity"] == "0.750"


def test_insufficient_stock_of_a_weighed_product_through_the_api(admin_api, drawer, sugar):
    response = admin_api.post(f"{API}/purchases", bill_body((sugar, "10.001")), format="json")
    assert response.status_code == 409
    assert response.json()["details"] == {"product_id": sugar.pk, "available": "10.000", "requested": "10.001"}


# --- Reports, CSV, documents ------------------------------------------------------------------------


def test_the_sales_report_by_product_gives_quantities_in_their_units(admin_api, drawer, sugar, soap):
    bill = ring_up((sugar, D("1.25")), (soap, 2))
    ring_up((sugar, D("0.5")), (soap, 1))
    refund(bill, (sugar, D("0.25")))
    report = sales_report(date_from=timezone.localdate(), date_to=timezone.localdate(), group_by="product")
    rows = {row["product_name"]: row for row in report["rows"]}
    assert (rows["Sugar"]["quantity"], rows["Sugar"]["refunded_quantity"], rows["Sugar"]["unit"]) == (
        "1.750",
        "0.250",
        "kg",
    )
    assert (rows["Soap"]["quantity"], rows["Soap"]["unit"]) == (3, "each")
    assert report["totals"]["quantity"] == 3  # the pieces sold each; kilograms do not add to them

    body = admin_api.get(f"{API}/reports/sales", {"group_by": "product"}).json()
    assert {(r["product_name"], r["quantity"], r["unit"]) for r in body["rows"]} == {
        ("Sugar", "1.750", "kg"),
        ("Soap", 3, "each"),
    }
    text = admin_api.get(f"{API}/reports/sales", {"group_by": "product", "format": "csv"}).content.decode()
    table = list(csv.DictReader(io.StringIO(text)))
    assert {(r["product_name"], r["quantity"], r["refunded_quantity"], r["unit"]) for r in table} == {
        ("Sugar", "1.750", "0.250", "kg"),
        ("Soap", "3", "0", "each"),
    }


def test_the_bills_csv_counts_the_pieces_sold_each(drawer, sugar, soap):
    ring_up((sugar, D("1.25")), (soap, 2))
    stream = io.StringIO()
    from purchases.models import Purchase

    purchases_csv(Purchase.objects.all(), stream)
    (row,) = csv.DictReader(io.StringIO(stream.getvalue()))
    assert (row["lines"], row["quantity"]) == ("2", "2")


def test_documents_write_weighed_quantities_with_their_unit(drawer, sugar, soap):
    bill = ring_up((sugar, D("1.25")), (soap, 2))
    lines = invoice_document(purchase_get(purchase_id=bill.pk)).lines
    assert [line.quantity_text for line in lines] == ["1.250 kg", "2"]
    back = refund(bill, (sugar, D("0.5")))
    note = credit_note_document(refund_get(refund_id=back.pk)).lines
    assert [line.quantity_text for line in note] == ["0.500 kg"]
    assert note[0].discount == D("0.00")
