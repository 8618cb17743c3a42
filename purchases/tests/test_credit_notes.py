"""Credit notes (issues 12 and 13 together): every refund gets a number in its till's credit series,
gapless; its PDF names the invoice it credits; the refund email attaches it; invoices show split tender."""

from decimal import Decimal

import pytest
from django.utils import timezone

from cashdrawer.tests.factories import INR, drawer_with
from catalog.tests.factories import ProductFactory
from purchases.models import Refund
from purchases.numbering import financial_year
from purchases.refund_receipts import refund_receipt_render
from purchases.selectors import purchase_get, refund_get
from purchases.services import purchase_create, refund_create
from purchases.tests.pdf import pdf_text_of

pytestmark = pytest.mark.django_db

D = Decimal
API = "/api/v1"


@pytest.fixture
def bill(db):
    drawer_with(dict.fromkeys(INR, 10))
    rice = ProductFactory(name="Basmati rice 5 kg", price=D("549.00"), tax_percent=D("5"), hsn_code="1006", stock=10)
    soap = ProductFactory(name="Neem soap", price=D("33.33"), tax_percent=D("18"), stock=10)
    return purchase_create(
        customer_email="ann@example.com",
        items=[{"product_id": rice.pk, "quantity": 2}, {"product_id": soap.pk, "quantity": 3}],
        payments=[
            {"method": "upi", "amount": D("500.00"), "reference": "412345670077"},
            {"method": "cash", "amount": D("1000.00"), "tendered": [{"value": D("500"), "count": 2}]},
        ],
    )


def _refund(bill, product_name: str, quantity: int) -> Refund:
    item = next(i for i in purchase_get(purchase_id=bill.pk).items.all() if i.product_name == product_name)
    return refund_create(
        purchase_id=bill.pk, items=[{"product_id": item.product_id, "quantity": quantity}], reason="damaged box"
    )


def test_refunds_take_consecutive_credit_note_numbers_and_a_refused_one_takes_none(bill):
    year = financial_year(timezone.now())

    first = _refund(bill, "Neem soap", 1)
    with pytest.raises(Exception, match="sold"):
        _refund(bill, "Neem soap", 5)  # only 2 left: refused
    second = _refund(bill, "Basmati rice 5 kg", 1)

    assert (first.number, second.number) == (f"CM/{year}/000001", f"CM/{year}/000002")
    assert Refund.objects.count() == 2
    assert bill.number == f"M/{year}/000001"  # the invoice series is a series of its own


def test_the_credit_note_pdf_names_its_invoice_and_lines_and_reprints_are_duplicates(bill, admin_api):
    refund = _refund(bill, "Basmati rice 5 kg", 1)

    first = admin_api.get(f"{API}/refunds/{refund.pk}/credit-note.pdf")
    second = admin_api.get(f"{API}/refunds/{refund.pk}/credit-note.pdf")

    assert first.status_code == 200 and first["Content-Type"] == "application/pdf"
    text = pdf_text_of(first.content)
    assert refund.number is not None and bill.number is not None
    assert "Credit Note" in text and refund.number in text and bill.number in text
    assert "Basmati rice 5 kg" in text and "Neem soap" not in text
    assert "DUPLICATE" not in text
    assert "DUPLICATE" in pdf_text_of(second.content)
    assert admin_api.get(f"{API}/refunds/{refund.pk}").json()["number"] == refund.number


def test_the_refund_email_attaches_the_credit_note(bill):
    refund = _refund(bill, "Neem soap", 2)

    message = refund_receipt_render(refund_get(refund_id=refund.pk))

    [(filename, content, mimetype)] = message.attachments
    assert refund.number is not None and isinstance(content, bytes)
    assert mimetype == "application/pdf" and filename.startswith("credit-note-")
    assert content.startswith(b"%PDF")
    assert refund.number in pdf_text_of(content)
    assert refund.number in message.subject


def test_the_invoice_lists_payments_by_method_net_of_change(bill, admin_api):
    text = pdf_text_of(admin_api.get(f"{API}/purchases/{bill.pk}/invoice.pdf").content)

    # 2 × 549.00 at 5% + 3 × 33.33 at 18% = 1,152.90 + 117.99 = 1,270.89, payable 1,271.00:
    # UPI 500.00, and cash 1,000.00 less 229.00 change = 771.00.
    assert "UPI" in text and "500.00" in text
    assert "771.00" in text
