"""A bill line snapshots its product's MRP, and a bill says what the customer saved: (MRP − price) ×
quantity over the lines with an MRP, plus the discounts. The API gives plain numbers; the receipt, the
billing page, the tax invoice, the email and the admin show the MRP beside the price and "You saved",
with digits grouped as settings.NUMBER_GROUPING says (₹1,18,000.00 the Indian way)."""

import csv
import io
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing_project.core.types import BillLine
from catalog.services import product_update
from catalog.tests.factories import ProductFactory
from purchases.documents import document_pdf, invoice_document
from purchases.invoices import invoice_render
from purchases.models import PurchaseItem, mrp_saving, you_saved
from purchases.pricing import quote
from purchases.selectors import purchase_get
from purchases.services import purchase_create
from purchases.tests.pdf import pdf_text_of

pytestmark = pytest.mark.django_db

D = Decimal
API = "/api/v1/purchases"


@pytest.fixture
def drawer_counts():
    return {"2000": 10, "500": 100, "100": 100, "50": 100, "10": 100, "5": 100, "2": 100, "1": 100}


@pytest.fixture
def tv():
    """₹1,00,000 against an MRP of ₹2,18,000: ₹1,18,000 saved on one, and ₹1,18,000.00 with its tax."""
    return ProductFactory(sku="TV-55", name="Television", price=D("100000.00"), mrp=D("218000.00"), tax_percent=18)


@pytest.fixture
def soap():
    return ProductFactory(sku="SOAP-1", name="Soap", price=D("36.50"), mrp=D("40.00"), tax_percent=12)


@pytest.fixture
def rice():
    return ProductFactory(sku="RICE-5", name="Rice", price=D("250.00"), tax_percent=5)  # no MRP


def ring_up(*lines, discount=None, send_invoice=False):
    """A bill of ``(product, quantity)`` lines, paid in notes (₹2,000s, with change); ``discount`` a
    line percent on the soap."""
    products = {p.pk: p for p, _ in lines}
    quantities = {p.pk: q for p, q in lines}
    discounts = {p.pk: discount for p, _ in lines if discount and p.sku == "SOAP-1"}
    payable = quote(products, quantities, line_discounts=discounts).payable
    notes = int(payable // 2000) + 1
    items: list[BillLine] = []
    for product, quantity in lines:
        items.append({"product_id": product.pk, "quantity": quantity})
        if product.pk in discounts:
            items[-1]["discount_percent"] = discounts[product.pk]
    return purchase_create(
        customer_email="ann@example.com",
        items=items,
        discount_reason="promotion" if discounts else "",
        paid_amount=D(2000 * notes),
        tendered=[{"value": D("2000"), "count": notes}],
        send_invoice=send_invoice,
    )


@pytest.fixture
def bill(drawer, tv, soap, rice):
    """TV × 1 (saves 1,18,000.00), soap × 2 at 10% off (saves 2 × 3.50 = 7.00 and the 7.30 discount),
    rice × 1 (no MRP): you saved 1,18,014.30."""
    return purchase_get(purchase_id=ring_up((tv, 1), (soap, 2), (rice, 1), discount=D("10")).pk)


SAVED = "118014.30"


# --- The arithmetic ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mrp", "price", "quantity", "saving"),
    [
        (None, "10.00", 3, "0.00"),
        ("10.00", "10.00", 3, "0.00"),
        ("40.00", "36.50", 2, "7.00"),
        ("218000.00", "100000.00", 1, "118000.00"),
    ],
)
def test_a_lines_saving_against_its_mrp(mrp, price, quantity, saving):
    assert mrp_saving(mrp=None if mrp is None else D(mrp), unit_price=D(price), quantity=quantity) == D(saving)


def test_you_saved_adds_the_discounts_to_the_mrp_savings():
    lines = [
        {"mrp": D("40.00"), "unit_price": D("36.50"), "quantity": 2},
        {"mrp": None, "unit_price": D("250.00"), "quantity": 1},
    ]
    assert you_saved(lines, D("7.30")) == D("14.30")
    assert you_saved([], D("0.00")) == D("0.00")


# --- The bill and the API ----------------------------------------------------------------------------------


def test_each_line_snapshots_its_products_mrp(bill):
    lines = {item.product_name: item.mrp for item in bill.items.all()}

    assert lines == {"Television": D("218000.00"), "Soap": D("40.00"), "Rice": None}
    assert bill.discount_total == D("7.30")
    assert bill.you_saved == D(SAVED)


def test_the_api_shows_the_mrp_and_you_saved_as_plain_numbers(bill, admin_api):
    detail = admin_api.get(f"{API}/{bill.pk}").json()
    listed = admin_api.get(API).json()["results"][0]

    assert [(line["product_name"], line["mrp"]) for line in detail["items"]] == [
        ("Television", "218000.00"),
        ("Soap", "40.00"),
        ("Rice", None),
    ]
    assert detail["you_saved"] == SAVED
    assert listed == detail  # the list's plain rows and the detail's objects say the same
    assert detail["items"][0]["total"] == "118000.00"


def test_the_answer_to_the_post_has_you_saved(drawer, tv, admin_api):
    response = admin_api.post(
        API,
        {
            "customer_email": "ann@example.com",
            "items": [{"product_id": tv.pk, "quantity": 1}],
            "paid_amount": "118000",
            "send_invoice": False,
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert (response.json()["items"][0]["mrp"], response.json()["you_saved"]) == ("218000.00", "118000.00")
    assert admin_api.get(f"{API}/{response.json()['id']}").json() == response.json()


def test_a_later_change_to_the_mrp_changes_no_bill(bill, tv, soap, admin_api, client, superuser):
    before = admin_api.get(f"{API}/{bill.pk}").json()
    client.force_login(superuser)
    receipt_before = client.get(reverse("billing:bill", args=[bill.pk])).content.decode()

    product_update(product=tv, mrp=None)
    product_update(product=soap, mrp=D("99.00"), price=D("50.00"))

    assert admin_api.get(f"{API}/{bill.pk}").json() == before
    receipt_after = client.get(reverse("billing:bill", args=[bill.pk])).content.decode()
    assert "You saved ₹1,18,014.30" in receipt_after
    assert receipt_after.count("MRP") == receipt_before.count("MRP")


def test_a_bill_without_mrps_or_discounts_saved_nothing(drawer, rice, admin_api, client, superuser):
    purchase = ring_up((rice, 2))
    client.force_login(superuser)

    assert admin_api.get(f"{API}/{purchase.pk}").json()["you_saved"] == "0.00"
    page = client.get(reverse("billing:bill", args=[purchase.pk])).content.decode()
    assert "You saved" not in page and "MRP" not in page


def test_the_database_refuses_a_line_above_its_mrp(bill):
    line = bill.items.get(product_name="Soap")

    with pytest.raises(IntegrityError), transaction.atomic():
        PurchaseItem.objects.filter(pk=line.pk).update(mrp=D("36.49"))
    PurchaseItem.objects.filter(pk=line.pk).update(mrp=D("36.50"))  # at the MRP is fine


def test_a_bill_with_mrps_costs_the_same_statements(drawer, tv, soap, rice):
    ring_up((rice, 1))  # the customer exists

    with CaptureQueriesContext(connection) as queries:
        ring_up((tv, 1), (soap, 2), (rice, 1), send_invoice=True)

    # As test_queries.py counts a bill: its six statements and the savepoint around them on PostgreSQL.
    assert len(queries.captured_queries) == (8 if connection.vendor == "postgresql" else 18)


# --- Where people read it: Indian grouping everywhere ------------------------------------------------------


def test_the_receipt_shows_the_mrp_beside_the_price_and_you_saved_at_the_bottom(bill, client, superuser):
    client.force_login(superuser)

    page = client.get(reverse("billing:bill", args=[bill.pk])).content.decode()

    assert '× 1,00,000.00<br><span class="receipt__mrp">MRP 2,18,000.00</span>' in page
    assert "MRP 40.00" in page
    assert '<p class="receipt__saved" id="you-saved">You saved ₹1,18,014.30</p>' in page
    assert page.index("you-saved") > page.index('id="change-due"')
    assert "₹1,18,000.00" in page  # the television's line total


def test_the_receipt_groups_internationally_when_set(bill, client, superuser, settings):
    settings.NUMBER_GROUPING = "international"
    client.force_login(superuser)

    page = client.get(reverse("billing:bill", args=[bill.pk])).content.decode()

    assert "You saved ₹118,014.30" in page and "MRP 218,000.00" in page
    assert "1,18,0" not in page


def test_the_billing_page_shows_the_mrp_and_what_the_customer_saves(drawer, tv, soap, cashier_client):
    data = {
        "customer_email": "ann@example.com",
        "paid_amount": "",
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "200",
        "lines-0-product": "TV-55",
        "lines-0-quantity": "1",
        "lines-1-product": "SOAP-1",
        "lines-1-quantity": "2",
        "action": "refresh",
    }

    page = cashier_client.post(reverse("billing:new"), data).content.decode()

    assert '₹1,00,000.00 each · <span class="line-info__mrp">MRP ₹2,18,000.00</span>' in page
    assert '<dt>You save</dt><dd data-amount="you_saved">₹1,18,007.00</dd>' in page
    assert 'data-amount="payable">₹1,18,082.00<' in page  # 1,18,000.00 + 81.76, rounded


def test_the_tax_invoice_shows_each_mrp_under_its_name_and_you_saved(bill):
    text = pdf_text_of(document_pdf(invoice_document(bill)))
    lines, totals = text.split("Tax summary")

    assert "MRP 2,18,000.00" in lines and "Soap\nMRP 40.00\n" in lines
    assert lines.count("MRP") == 2  # not the rice's, which has none
    assert "1,18,000.00" in lines  # the television's total, whole in its column: not wrapped
    assert "You saved ₹1,18,014.30" in totals


def test_the_tax_invoice_says_nothing_of_mrp_when_no_line_has_one(drawer, rice):
    purchase = purchase_get(purchase_id=ring_up((rice, 1)).pk)

    text = pdf_text_of(document_pdf(invoice_document(purchase)))

    assert "MRP" not in text and "You saved" not in text


@pytest.mark.parametrize("part", ["text", "html"])
def test_the_invoice_email_shows_the_mrp_and_you_saved(bill, part):
    message = invoice_render(bill)
    content = str(message.body if part == "text" else message.alternatives[0][0])

    assert "MRP ₹2,18,000.00" in content and "MRP ₹40.00" in content
    assert "You saved ₹1,18,014.30" in content
    assert "₹1,18,000.00" in content
    assert "118,000" not in content


def test_the_admin_shows_the_lines_mrp_and_you_saved_grouped(bill, manager_client):
    page = manager_client.get(reverse("admin:purchases_purchase_change", args=[bill.pk])).content.decode()

    assert "₹2,18,000.00" in page and "₹1,18,014.30" in page and "₹1,18,000.00" in page


def test_the_csv_exports_keep_plain_numbers(bill, manager_client, admin_api):
    exported = manager_client.post(
        reverse("admin:purchases_purchase_changelist"), {"action": "export_csv", "_selected_action": [str(bill.pk)]}
    )
    day = timezone.localdate().isoformat()
    report = admin_api.get(
        "/api/v1/reports/sales", {"date_from": day, "date_to": day, "group_by": "product", "format": "csv"}
    )

    for response in (exported, report):
        assert response.status_code == 200
        text = response.content.decode()
        cells = {cell for row in csv.reader(io.StringIO(text)) for cell in row}
        assert "1,18,000.00" not in text and "118,000.00" not in text
        assert cells & {"100000.00", "118000.00", "100315.70"}, text[:300]  # the TV's, or the bill's subtotal
