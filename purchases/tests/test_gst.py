"""GST on bills (issue 27): the store's registration and its check, B2B buyers, the place of supply,
each line's HSN snapshot and CGST/SGST/IGST split, the invoice and credit note built from the bill
alone, and the migration of existing bills."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from billing_project.core.gst import check_store_gst, split_tax
from billing_project.core.testing.migrations import migrate, migrate_to_latest
from billing_project.core.validators import validate_gstin
from catalog.models import Product
from catalog.tests.factories import ProductFactory
from catalog.tests.stores import set_default_store
from customers.models import Customer
from purchases.documents import credit_note_document, document_html, invoice_document
from purchases.models import Purchase, PurchaseItem
from purchases.selectors import purchase_get, refund_get
from purchases.services import purchase_create, refund_create

pytestmark = pytest.mark.django_db

D = Decimal
URL = "/api/v1/purchases"
STORE = "29AAGCB7383J1Z4"  # Karnataka (29)
BUYER_KA = "29AAACR4849R1ZH"
BUYER_MH = "27AAACR4849R1ZL"


@pytest.fixture
def store(db):
    return set_default_store(gstin=STORE, state_code="29")


@pytest.fixture
def products(drawer):
    return (
        ProductFactory(name="Rice", price=D("100.00"), tax_percent=D("5"), hsn_code="1006", stock=100),
        ProductFactory(name="Toffee", price=D("0.05"), tax_percent=D("5"), hsn_code="1704", stock=100),
        ProductFactory(name="Soap", price=D("33.33"), tax_percent=D("18"), hsn_code="3401", stock=100),
    )


def ring(products, **gst):
    return purchase_create(
        items=[{"product_id": p.pk, "quantity": 3} for p in products],
        paid_amount=D("1000"),
        send_invoice=False,
        **gst,
    )


# --- The GSTIN and the store's check ------------------------------------------------------------------


def test_a_gstin_is_normalised_and_checked_with_its_check_character():
    assert validate_gstin(" 27aaacr4849r1zl ") == BUYER_MH
    assert validate_gstin("27-AAACR-4849R1ZL") == BUYER_MH
    for bad in ("27AAACR4849R1ZM", "27AAACR4849R1Z", "99AAACR4849R1ZL", "hello", ""):
        with pytest.raises(ValidationError):
            validate_gstin(bad)


@pytest.mark.parametrize(
    ("gstin", "state", "tax_id", "ids"),
    [
        (STORE, "29", "", []),
        (STORE, "", "", []),
        ("", "", "", []),
        ("", "29", "", []),
        ("", "", "GB123456789", []),  # an older tax id of another kind: printed, not checked
        ("29AAGCB7383J1Z5", "29", "", ["core.E101"]),
        (STORE, "27", "", ["core.E104"]),
        (STORE, "99", "", ["core.E103"]),
        ("", "27", STORE, ["core.E104"]),  # STORE_TAX_ID, the older name, holds a GSTIN of 29
        (STORE, "", BUYER_MH, ["core.E102"]),
    ],
)
def test_start_up_refuses_a_malformed_gstin_or_another_state(settings, gstin, state, tax_id, ids):
    settings.STORE_GSTIN, settings.STORE_STATE_CODE, settings.STORE_TAX_ID = gstin, state, tax_id
    errors = check_store_gst()
    assert [error.id for error in errors] == ids
    assert all(error.msg and error.hint for error in errors)


# --- Bills ---------------------------------------------------------------------------------------------


def test_a_b2c_bill_within_the_state_splits_each_line_into_halves(store, products):
    purchase = ring(products)
    assert (purchase.supply_type, purchase.place_of_supply, purchase.customer_gstin) == ("B2C", "29", None)
    for item in PurchaseItem.objects.filter(purchase=purchase):
        assert (item.cgst, item.sgst, item.igst) == (*split_tax(item.tax_amount, intra_state=True)[:2], D("0"))
        assert item.cgst + item.sgst == item.tax_amount
    toffee = PurchaseItem.objects.get(purchase=purchase, product=products[1])
    assert (toffee.tax_amount, toffee.cgst, toffee.sgst) == (D("0.01"), D("0.01"), D("0.00"))
    stored = Purchase.objects.get(pk=purchase.pk)
    assert stored.cgst_total + stored.sgst_total == stored.tax_total and stored.igst_total == 0


def test_a_buyer_in_another_state_pays_igst_and_the_totals_do_not_change(store, products):
    local = ring(products)
    other = ring(products, customer_gstin=BUYER_MH.lower())
    assert (other.supply_type, other.place_of_supply, other.customer_gstin) == ("B2B", "27", BUYER_MH)
    assert (other.tax_total, other.total, other.payable) == (local.tax_total, local.total, local.payable)
    assert other.igst_total == other.tax_total and other.cgst_total == other.sgst_total == 0
    for item in PurchaseItem.objects.filter(purchase=other):
        assert (item.cgst, item.sgst, item.igst) == (0, 0, item.tax_amount)


def test_the_place_of_supply_given_wins_and_defaults_to_the_store(store, products):
    assert ring(products, customer_gstin=BUYER_KA).place_of_supply == "29"
    delivered = ring(products, customer_gstin=BUYER_KA, place_of_supply="33")
    assert delivered.place_of_supply == "33" and delivered.igst_total == delivered.tax_total
    b2c_inter = ring(products, place_of_supply="27")
    assert (b2c_inter.supply_type, b2c_inter.igst_total) == ("B2C", b2c_inter.tax_total)


def test_an_unset_store_state_leaves_old_style_bills(products):
    set_default_store(gstin="", state_code="")
    purchase = ring(products)
    assert purchase.place_of_supply is None and purchase.igst_total == 0


def test_the_bill_copies_the_buyer_and_a_later_edit_changes_nothing(store, products, admin_api):
    customer = Customer.objects.create(
        email="buyer@example.com",
        gstin=BUYER_MH,
        state_code="27",
        legal_name="Ravi Traders LLP",
        billing_address="5 MG Road\nPune",
    )
    purchase = ring(products, customer_email="buyer@example.com")  # the GSTIN on file
    assert (purchase.customer_gstin, purchase.buyer_legal_name) == (BUYER_MH, "Ravi Traders LLP")
    html_before = document_html(invoice_document(purchase_get(purchase_id=purchase.pk)))
    Customer.objects.filter(pk=customer.pk).update(
        gstin=BUYER_KA, state_code="29", legal_name="New", billing_address=""
    )
    Product.objects.update(hsn_code="9999", tax_percent=D("28"), name="Renamed")
    body = admin_api.get(f"{URL}/{purchase.pk}").json()
    assert (body["customer_gstin"], body["place_of_supply"], body["supply_type"]) == (BUYER_MH, "27", "B2B")
    assert [line["hsn_code"] for line in body["items"]] == ["1006", "1704", "3401"]
    assert document_html(invoice_document(purchase_get(purchase_id=purchase.pk))) == html_before


@pytest.mark.parametrize(
    ("body", "field"),
    [({"customer_gstin": "27AAACR4849R1ZM"}, "customer_gstin"), ({"place_of_supply": "99"}, "place_of_supply")],
)
def test_a_bad_gstin_or_place_is_a_validation_error_and_nothing_is_written(store, products, admin_api, body, field):
    response = admin_api.post(
        URL,
        {"items": [{"product_id": products[0].pk, "quantity": 1}], "paid_amount": "200", **body},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error" and field in response.json()["details"]
    assert Purchase.objects.count() == 0 and Product.objects.get(pk=products[0].pk).stock == 100


def test_the_api_shows_the_split(store, products, admin_api):
    response = admin_api.post(
        URL,
        {"items": [{"product_id": products[2].pk, "quantity": 3}], "paid_amount": "200", "customer_gstin": BUYER_MH},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["supply_type"], body["place_of_supply"], body["customer_gstin"]) == ("B2B", "27", BUYER_MH)
    assert (body["cgst_total"], body["sgst_total"], body["igst_total"]) == ("0.00", "0.00", "18.00")
    assert {k: body["items"][0][k] for k in ("hsn_code", "cgst", "sgst", "igst")} == {
        "hsn_code": "3401",
        "cgst": "0.00",
        "sgst": "0.00",
        "igst": "18.00",
    }


@pytest.mark.parametrize(
    "change",
    [
        {"cgst": D("1.00")},  # the heads no longer add up to the tax (18.00: 9.00 + 9.00)
        {"igst": D("9.00"), "sgst": D("0.00")},  # IGST beside a half
        {"cgst": D("8.99"), "sgst": D("9.01")},  # SGST above CGST
        {"hsn_code": "12"},
    ],
)
def test_the_database_refuses_a_line_split_against_the_rule(store, products, change):
    purchase = ring(products[2:3])
    with pytest.raises(IntegrityError), transaction.atomic():
        PurchaseItem.objects.filter(purchase=purchase).update(**change)


def test_the_database_refuses_a_b2b_bill_without_a_gstin(store, products):
    purchase = ring(products[:1])
    with pytest.raises(IntegrityError), transaction.atomic():
        Purchase.objects.filter(pk=purchase.pk).update(supply_type="B2B")


# --- Documents -----------------------------------------------------------------------------------------


def test_a_b2b_inter_state_invoice_names_the_buyer_the_place_and_igst(store, products):
    set_default_store(legal_name="Dakshin Provisions")
    Customer.objects.create(email="buyer@example.com", gstin=BUYER_MH, state_code="27", legal_name="Ravi Traders")
    purchase = ring(products, customer_email="buyer@example.com")
    html = document_html(invoice_document(purchase_get(purchase_id=purchase.pk)))
    for text in ("Tax Invoice", STORE, "Karnataka (29)", BUYER_MH, "Ravi Traders", "Maharashtra (27)", "IGST"):
        assert text in html, text
    assert "CGST" not in html and "Place of supply" in html


def test_an_intra_state_invoice_has_cgst_and_sgst_and_a_summary_by_hsn(store, products):
    purchase = ring(products)
    document = invoice_document(purchase_get(purchase_id=purchase.pk))
    html = document_html(document)
    assert "CGST" in html and "SGST" in html and "IGST" not in html
    assert [(row.hsn_code, row.tax_percent) for row in document.tax_summary()] == [
        ("1006", D("5")),
        ("1704", D("5")),
        ("3401", D("18")),
    ]


def test_a_credit_note_splits_as_its_bill_and_names_the_invoice_and_its_date(store, products):
    purchase = ring(products[:1], customer_gstin=BUYER_MH)
    refund = refund_create(purchase_id=purchase.pk, items=[{"product_id": products[0].pk, "quantity": 1}], reason="r")
    document = credit_note_document(refund_get(refund_id=refund.pk))
    assert [(line.cgst, line.sgst, line.igst) for line in document.lines] == [(0, 0, D("5.00"))]
    assert document.original_number == purchase.number and document.original_date == purchase.created_at
    html = document_html(document)
    assert purchase.number in html and "IGST" in html and BUYER_MH in html


def test_an_unregistered_store_issues_a_bill_of_supply(products):
    set_default_store(gstin="", state_code="")
    html = document_html(invoice_document(purchase_get(purchase_id=ring(products).pk)))
    assert "Bill of Supply" in html and "Tax Invoice" not in html
    assert "CGST" not in html and "IGST" not in html


# --- The migration -------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_existing_bills_keep_their_hsn_and_get_the_halves_once(settings):
    settings.STORE_GSTIN, settings.STORE_STATE_CODE = STORE, ""
    apps = migrate([("purchases", "0025_report_cover_cost"), ("customers", "0002_phone_and_name")])
    try:
        product = apps.get_model("catalog", "Product").objects.create(
            sku="S1", name="Soap", price=D("33.35"), tax_percent=D("18"), stock=5, hsn_code="3401"
        )
        bare = apps.get_model("catalog", "Product").objects.create(
            sku="S2", name="Nut", price=D("0.05"), tax_percent=D("5"), stock=5
        )
        Purchase = apps.get_model("purchases", "Purchase")
        bill = Purchase.objects.create(
            subtotal=D("33.40"),
            tax_total=D("6.01"),
            total=D("39.41"),
            rounding=D("-0.41"),
            payable=D("39.00"),
            paid_amount=D("39.00"),
            cash_paid=D("39.00"),
            change_due=D("0.00"),
            invoice_status="skipped",
        )
        Item = apps.get_model("purchases", "PurchaseItem")
        for p, price, tax in ((product, D("33.35"), D("6.00")), (bare, D("0.05"), D("0.01"))):
            Item.objects.create(
                purchase=bill,
                product=p,
                product_name=p.name,
                quantity=1,
                unit_price=price,
                tax_percent=p.tax_percent,
                gross=price,
                subtotal=price,
                tax_amount=tax,
                total=price + tax,
            )

        apps = migrate([("purchases", "0028_gst_checks")])

        after = apps.get_model("purchases", "Purchase").objects.get(pk=bill.pk)
        assert (after.supply_type, after.place_of_supply, after.customer_gstin) == ("B2C", "29", None)
        assert (after.cgst_total, after.sgst_total, after.igst_total) == (D("3.01"), D("3.00"), D("0.00"))
        lines = apps.get_model("purchases", "PurchaseItem").objects.order_by("id")
        assert [(i.hsn_code, i.cgst, i.sgst, i.igst) for i in lines] == [
            ("3401", D("3.00"), D("3.00"), D("0.00")),
            ("", D("0.01"), D("0.00"), D("0.00")),
        ]
        # Once: a later edit of the product is not copied again.
        apps.get_model("catalog", "Product").objects.filter(pk=product.pk).update(hsn_code="9999")
        assert lines.first().hsn_code == "3401"
    finally:
        migrate_to_latest()
