"""Copies of tax documents: the emailed copy and the first print are ORIGINAL FOR RECIPIENT, later
prints DUPLICATE; later prints come from the PDF stored at the first print, until it is pruned."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from billing_project.core.testing.concurrency import run_concurrently
from cashdrawer.tests.factories import INR, drawer_with
from catalog.tests.factories import ProductFactory
from catalog.tests.stores import set_default_store
from customers.tests.factories import UserFactory
from purchases.documents import DUPLICATE, ORIGINAL, PdfRateThrottle, credit_note_pdf_print, invoice_pdf_print
from purchases.invoices import invoice_render
from purchases.models import DocumentPdf, Purchase, Refund
from purchases.refund_receipts import refund_receipt_render
from purchases.selectors import purchase_get, refund_get
from purchases.services import purchase_create, refund_create
from purchases.tests.pdf import pdf_text_of

pytestmark = pytest.mark.django_db

D = Decimal
API = "/api/v1"


@pytest.fixture
def bill(db):
    set_default_store(legal_name="Corner Grocer Pvt Ltd")
    drawer_with(dict.fromkeys(INR, 10))
    rice = ProductFactory(name="Basmati rice 5 kg", price=D("549.00"), tax_percent=D("5"), hsn_code="1006", stock=10)
    return purchase_create(
        customer_email="ann@example.com", items=[{"product_id": rice.pk, "quantity": 2}], paid_amount=D("2000")
    )


@pytest.fixture
def refund(bill):
    item = purchase_get(purchase_id=bill.pk).items.get()
    return refund_create(purchase_id=bill.pk, items=[{"product_id": item.product_id, "quantity": 1}], reason="torn")


def emailed_invoice(bill) -> bytes:
    """The PDF the worker attaches to the invoice email."""
    [(_, pdf, _)] = invoice_render(purchase_get(purchase_id=bill.pk)).attachments
    return pdf


def emailed_credit_note(refund) -> bytes:
    [(_, pdf, _)] = refund_receipt_render(refund_get(refund_id=refund.pk)).attachments
    return pdf


def marks_in(pdf: bytes) -> list[str]:
    text = pdf_text_of(pdf)
    return [mark for mark in (ORIGINAL, DUPLICATE) if mark in text]


def test_the_emailed_invoice_leaves_the_first_print_its_original(bill, admin_api):
    emailed = emailed_invoice(bill)
    first = admin_api.get(f"{API}/purchases/{bill.pk}/invoice.pdf")
    second = admin_api.get(f"{API}/purchases/{bill.pk}/invoice.pdf")
    emailed_again = emailed_invoice(bill)  # a re-sent email is still the customer's original

    assert marks_in(emailed) == [ORIGINAL]
    assert (first.status_code, first["X-Duplicate"], marks_in(first.content)) == (200, "0", [ORIGINAL])
    assert (second.status_code, second["X-Duplicate"], marks_in(second.content)) == (200, "1", [DUPLICATE])
    assert marks_in(emailed_again) == [ORIGINAL]
    for pdf in (emailed, first.content, second.content):
        assert bill.number in pdf_text_of(pdf) and "Basmati rice 5 kg" in pdf_text_of(pdf)


def test_the_emailed_credit_note_leaves_the_first_print_its_original(refund, admin_api):
    emailed = emailed_credit_note(refund)
    first = admin_api.get(f"{API}/refunds/{refund.pk}/credit-note.pdf")
    second = admin_api.get(f"{API}/refunds/{refund.pk}/credit-note.pdf")

    assert marks_in(emailed) == [ORIGINAL]
    assert (first["X-Duplicate"], marks_in(first.content)) == ("0", [ORIGINAL])
    assert (second["X-Duplicate"], marks_in(second.content)) == ("1", [DUPLICATE])
    assert Refund.objects.get(pk=refund.pk).credit_note_printed_at is not None


def test_the_counter_page_and_the_api_share_one_original(bill, admin_api, superuser):
    page = Client()
    page.force_login(superuser)

    at_the_counter = page.get(f"/billing/bills/{bill.pk}/invoice.pdf")
    through_the_api = admin_api.get(f"{API}/purchases/{bill.pk}/invoice.pdf")

    assert marks_in(at_the_counter.content) == [ORIGINAL]
    assert marks_in(through_the_api.content) == [DUPLICATE]


def test_later_prints_and_emails_are_the_stored_first_print(bill, admin_api, settings):
    admin_api.get(f"{API}/purchases/{bill.pk}/invoice.pdf")
    # The store renamed: the stored print, and any new render of the bill, keep the name it copied.
    set_default_store(legal_name="Renamed Traders LLP")

    reprint = pdf_text_of(admin_api.get(f"{API}/purchases/{bill.pk}/invoice.pdf").content)
    emailed = pdf_text_of(emailed_invoice(bill))

    assert DocumentPdf.objects.filter(purchase=bill).count() == 1
    for text in (reprint, emailed):
        assert "Corner Grocer Pvt Ltd" in text and "Renamed Traders LLP" not in text


def test_a_reprint_is_the_stored_duplicate_in_two_queries(bill, admin_api, django_assert_num_queries):
    admin_api.get(f"{API}/purchases/{bill.pk}/invoice.pdf")  # the original: rendered and stored
    first_reprint = admin_api.get(f"{API}/purchases/{bill.pk}/invoice.pdf")  # lays the mark over, stores it

    # The stored PDFs, and the guarded UPDATE that finds the original already printed; no bill lines.
    with django_assert_num_queries(2):
        reprint = admin_api.get(f"{API}/purchases/{bill.pk}/invoice.pdf")

    stored = DocumentPdf.objects.get(purchase=bill).duplicate
    assert stored is not None
    assert reprint.content == first_reprint.content == bytes(stored)
    assert marks_in(reprint.content) == [DUPLICATE]
    assert reprint["Content-Disposition"] == f'inline; filename="invoice-{bill.number.replace("/", "-")}.pdf"'


def test_an_email_alone_stores_nothing(bill):
    emailed_invoice(bill)

    assert not DocumentPdf.objects.exists()
    assert Purchase.objects.get(pk=bill.pk).invoice_printed_at is None


def test_a_pruned_pdf_is_rendered_again_by_the_next_print(bill, refund, admin_api, settings):
    settings.DOCUMENT_PDF_KEEP_DAYS = 30
    admin_api.get(f"{API}/purchases/{bill.pk}/invoice.pdf")
    admin_api.get(f"{API}/refunds/{refund.pk}/credit-note.pdf")
    DocumentPdf.objects.filter(purchase=bill).update(created_at=timezone.now() - timedelta(days=31))

    call_command("prune_document_pdfs", verbosity=0)

    assert list(DocumentPdf.objects.values_list("refund", flat=True)) == [refund.pk]  # 30 days not yet past
    set_default_store(legal_name="Renamed Traders LLP")
    reprint = admin_api.get(f"{API}/purchases/{bill.pk}/invoice.pdf")
    assert marks_in(reprint.content) == [DUPLICATE]
    # Rendered again, it still names the seller the bill copied when it was rung up.
    text = pdf_text_of(reprint.content)
    assert "Corner Grocer Pvt Ltd" in text and "Renamed Traders LLP" not in text
    assert DocumentPdf.objects.filter(purchase=bill).count() == 1


def test_a_stored_pdf_belongs_to_exactly_one_document(bill, refund):
    from django.db import IntegrityError, transaction

    for owners in ({}, {"purchase": bill, "refund": refund}):
        with pytest.raises(IntegrityError), transaction.atomic():
            DocumentPdf.objects.create(pdf=b"%PDF-", **owners)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_of_first_prints_at_once_exactly_one_is_the_original(postgres_only, bill, refund):
    invoices = run_concurrently(4, lambda i: invoice_pdf_print(purchase_id=bill.pk))
    notes = run_concurrently(4, lambda i: credit_note_pdf_print(refund_id=refund.pk))

    for results in (invoices, notes):
        assert not [r for r in results if isinstance(r, Exception)], results
        assert sorted(printed.mark for printed in results) == [DUPLICATE, DUPLICATE, DUPLICATE, ORIGINAL]
        assert sorted(marks_in(printed.pdf)[0] for printed in results) == [DUPLICATE, DUPLICATE, DUPLICATE, ORIGINAL]
    assert DocumentPdf.objects.filter(purchase=bill).count() == 1
    assert DocumentPdf.objects.filter(refund=refund).count() == 1


# --- prints per user ----------------------------------------------------------------------------


@pytest.fixture
def pdf_rate(monkeypatch):
    """Set the prints' rate for one test (DRF reads the rates once, at import)."""
    return lambda rate: monkeypatch.setattr(PdfRateThrottle, "THROTTLE_RATES", {"pdf": rate})


def test_prints_are_throttled_per_user_over_the_api_and_the_pages(bill, refund, pdf_rate, admin_api, superuser):
    pdf_rate("3/min")
    page = Client()
    page.force_login(superuser)
    cashier = UserFactory(username="counter2", is_staff=True, is_superuser=True)
    other = APIClient()
    other.force_authenticate(cashier)

    statuses = [
        admin_api.get(f"{API}/purchases/{bill.pk}/invoice.pdf").status_code,
        admin_api.get(f"{API}/refunds/{refund.pk}/credit-note.pdf").status_code,
        page.get(f"/billing/bills/{bill.pk}/invoice.pdf").status_code,
    ]
    refused = admin_api.get(f"{API}/purchases/{bill.pk}/invoice.pdf")
    refused_page = page.get(f"/billing/refunds/{refund.pk}/credit-note.pdf")

    assert statuses == [200, 200, 200]
    assert refused.status_code == 429 and refused.json()["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused_page.status_code == 429 and 0 < int(refused_page["Retry-After"]) <= 60
    # Another user's prints are counted apart.
    assert other.get(f"{API}/purchases/{bill.pk}/invoice.pdf").status_code == 200
    # The refused prints used up nothing: the first is still the only original.
    assert Purchase.objects.get(pk=bill.pk).invoice_printed_at is not None
    assert DocumentPdf.objects.count() == 2
