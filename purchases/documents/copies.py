"""Which copy of a tax document a PDF is, and where a print's PDF comes from.

**Copy marks**, as Indian practice has them: the copy the customer gets is marked *ORIGINAL FOR
RECIPIENT*, whether it is the emailed PDF or the first print at the counter (a customer who gets
both has the one document twice); every later print is marked *DUPLICATE*. The first print is
decided by a guarded UPDATE of the bill's ``invoice_printed_at`` (the refund's
``credit_note_printed_at``), so of two first prints at once only one is the original. The email
never touches it, so it cannot use up the counter's original. (A supplier whose goods travel with
a transporter prints a third copy, *DUPLICATE FOR TRANSPORTER*; a shop whose customers carry their
goods away has no such copy.)

**Stored originals.** The first print renders the document and keeps that PDF, without a mark
(``DocumentPdf``); every later print, and an email sent after it, is that file with the mark laid
over it (``render.with_copy_mark``): a few milliseconds against a hundred for a 12-line layout and
seconds for a 200-line one, so reprints never hold a web worker for long. Only printed documents
are kept, for ``DOCUMENT_PDF_KEEP_DAYS`` (``manage.py prune_document_pdfs``): most bills are never
printed, and a bill is an immutable snapshot, so a print after that renders the same document again.
"""

from datetime import timedelta

from django.db.models import Model
from django.http import HttpResponse
from django.utils import timezone

from billing_project.api.throttling import PerUserRateThrottle, page_throttle

from ..models import DocumentPdf, Purchase, Refund
from .content import credit_note_document, invoice_document
from .render import DUPLICATE, ORIGINAL, document_pdf, with_copy_mark


def _stored_or_rendered(render, *, keep: bool, **owner: Model) -> bytes:
    """The stored PDF of the document ``owner`` names (``purchase=`` or ``refund=``), or a new
    render of it, stored when ``keep``. Two first prints at once may both render; the first insert
    wins and the other is dropped (the two are the same document)."""
    ((field, instance),) = owner.items()
    stored = DocumentPdf.objects.filter(**{f"{field}_id": instance.pk}).values_list("pdf", flat=True).first()
    if stored is not None:
        return bytes(stored)
    pdf = render()
    if keep:
        DocumentPdf.objects.bulk_create([DocumentPdf(**{f"{field}_id": instance.pk}, pdf=pdf)], ignore_conflicts=True)
    return pdf


def invoice_pdf_filename(purchase: Purchase) -> str:
    return f"invoice-{(purchase.number or str(purchase.pk)).replace('/', '-')}.pdf"


def invoice_pdf_original(purchase: Purchase) -> bytes:
    """The invoice for the invoice email (made by the worker): ORIGINAL FOR RECIPIENT. It is not a
    print, so the first print at the counter is an original too. ``purchase`` comes from
    ``purchase_get``."""
    pdf = _stored_or_rendered(lambda: document_pdf(invoice_document(purchase)), keep=False, purchase=purchase)
    return with_copy_mark(pdf, ORIGINAL)


def invoice_pdf_print(purchase: Purchase) -> tuple[bytes, str]:
    """A print of the invoice: ORIGINAL FOR RECIPIENT the first time, DUPLICATE after that.
    Returns ``(pdf, mark)``. ``purchase`` comes from ``purchase_get``."""
    pdf = _stored_or_rendered(lambda: document_pdf(invoice_document(purchase)), keep=True, purchase=purchase)
    # Claimed after the PDF is in hand, so a render that fails does not use up the original.
    first = Purchase.objects.filter(pk=purchase.pk, invoice_printed_at__isnull=True).update(
        invoice_printed_at=timezone.now()
    )
    mark = ORIGINAL if first else DUPLICATE
    return with_copy_mark(pdf, mark), mark


def credit_note_pdf_filename(refund: Refund) -> str:
    return f"credit-note-{(refund.number or str(refund.pk)).replace('/', '-')}.pdf"


def credit_note_pdf_original(refund: Refund) -> bytes:
    """The credit note for the refund receipt email (the worker): ORIGINAL FOR RECIPIENT, not a
    print. ``refund`` comes from ``refund_get``."""
    pdf = _stored_or_rendered(lambda: document_pdf(credit_note_document(refund)), keep=False, refund=refund)
    return with_copy_mark(pdf, ORIGINAL)


def credit_note_pdf_print(refund: Refund) -> tuple[bytes, str]:
    """A print of the credit note: ORIGINAL FOR RECIPIENT the first time, DUPLICATE after that.
    Returns ``(pdf, mark)``. ``refund`` comes from ``refund_get``."""
    pdf = _stored_or_rendered(lambda: document_pdf(credit_note_document(refund)), keep=True, refund=refund)
    first = Refund.objects.filter(pk=refund.pk, credit_note_printed_at__isnull=True).update(
        credit_note_printed_at=timezone.now()
    )
    mark = ORIGINAL if first else DUPLICATE
    return with_copy_mark(pdf, mark), mark


def document_pdfs_prune(*, older_than_days: int) -> int:
    """Drop the stored PDFs kept longer than ``older_than_days``; returns how many. A later print of
    one of those documents renders it again."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = DocumentPdf.objects.filter(created_at__lt=cutoff).delete()
    return deleted


class PdfRateThrottle(PerUserRateThrottle):
    """Prints per user (``PDF_THROTTLE_RATE``), over the API and the pages together: a first print
    of a long document holds a worker for a while, so no one user may keep the workers busy."""

    scope = "pdf"


pdf_page_throttle = page_throttle(PdfRateThrottle)


def pdf_response(pdf: bytes, filename: str, *, mark: str) -> HttpResponse:
    """A PDF shown inline, named ``filename``; ``X-Duplicate: 1`` marks a copy after the original."""
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["X-Duplicate"] = "1" if mark == DUPLICATE else "0"
    return response
