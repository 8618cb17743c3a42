"""Which copy of a tax document a PDF is, and where a print's PDF comes from.

**Copy marks**, as Indian practice has them: the copy the customer gets is marked *ORIGINAL FOR
RECIPIENT*, whether it is the emailed PDF or the first print at the counter (a customer who gets
both has the one document twice); every later print is marked *DUPLICATE*. The first print is
decided by a guarded UPDATE of the bill's ``invoice_printed_at`` (the refund's
``credit_note_printed_at``), so of two first prints at once only one is the original. The email
never touches it, so it cannot use up the counter's original. (A supplier whose goods travel with
a transporter prints a third copy, *DUPLICATE FOR TRANSPORTER*; a shop whose customers carry their
goods away has no such copy.)

**Stored prints.** The first print renders the document and keeps that PDF, without a mark
(``DocumentPdf.pdf``); the first reprint lays the DUPLICATE mark over it (``render.with_copy_mark``)
and keeps that too (``DocumentPdf.duplicate``). Every later reprint is then two small queries and
the stored file, about what a bill costs, where a new layout takes a hundred milliseconds for 12
lines and seconds for 200; an email sent after a print is the stored PDF with the ORIGINAL mark.
Only printed documents are kept, for ``DOCUMENT_PDF_KEEP_DAYS`` (``manage.py prune_document_pdfs``):
most bills are never printed, and a bill is an immutable snapshot, so a print after that renders
the same document again. The first print of a document still renders in its request: a few seconds
of one worker for a 200-line invoice, bounded per user by ``PdfRateThrottle``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NamedTuple

from django.http import HttpResponse
from django.utils import timezone

from billing_project.core.api.throttling import PerUserRateThrottle, page_throttle

from ..models import DocumentPdf, Purchase, Refund
from ..selectors import purchase_for_invoice, refund_get
from .content import TaxDocument, credit_note_document, invoice_document
from .render import DUPLICATE, ORIGINAL, document_pdf, with_copy_mark


class Print(NamedTuple):
    pdf: bytes
    mark: str  # ORIGINAL or DUPLICATE
    filename: str


@dataclass(frozen=True)
class _Kind:
    """What differs between printing an invoice and a credit note."""

    owner: str  # DocumentPdf's field: "purchase" or "refund"
    model: type[Purchase] | type[Refund]
    printed_at: str  # the owner's field that the first print sets
    load: Callable[[int], Any]  # the owner with what its document needs; raises DoesNotExist
    document: Callable[[Any], TaxDocument]
    file_prefix: str

    def filename(self, number: str) -> str:
        return f"{self.file_prefix}-{number.replace('/', '-')}.pdf"


_INVOICE = _Kind(
    owner="purchase",
    model=Purchase,
    printed_at="invoice_printed_at",
    load=lambda pk: purchase_for_invoice(purchase_id=pk),
    document=invoice_document,
    file_prefix="invoice",
)
_CREDIT_NOTE = _Kind(
    owner="refund",
    model=Refund,
    printed_at="credit_note_printed_at",
    load=lambda pk: refund_get(refund_id=pk),
    document=credit_note_document,
    file_prefix="credit-note",
)


def invoice_pdf_filename(purchase: Purchase) -> str:
    return _INVOICE.filename(purchase.number or str(purchase.pk))


def credit_note_pdf_filename(refund: Refund) -> str:
    return _CREDIT_NOTE.filename(refund.number or str(refund.pk))


def _print(kind: _Kind, pk: int) -> Print:
    """A print of the document of ``kind`` of owner ``pk``: ORIGINAL FOR RECIPIENT the first time,
    DUPLICATE after that, from the stored PDFs when there are some. Raises the owner's
    ``DoesNotExist``. Two first prints at once may both render; the first insert is kept (the two
    are the same document) and the guarded UPDATE makes only one of them the original."""
    of_owner = {f"{kind.owner}_id": pk}
    stored = DocumentPdf.objects.filter(**of_owner).values_list("pdf", "duplicate", f"{kind.owner}__number").first()
    if stored is None:
        owner = kind.load(pk)
        pdf, duplicate, number = document_pdf(kind.document(owner)), None, owner.number
        DocumentPdf.objects.bulk_create([DocumentPdf(**of_owner, pdf=pdf)], ignore_conflicts=True)
    else:
        pdf, duplicate, number = bytes(stored[0]), stored[1], stored[2]
    filename = kind.filename(number or str(pk))
    # Claimed only with the PDF in hand, so a render that fails does not use up the original.
    first = kind.model.objects.filter(pk=pk, **{f"{kind.printed_at}__isnull": True}).update(
        **{kind.printed_at: timezone.now()}
    )
    if first:
        return Print(with_copy_mark(pdf, ORIGINAL), ORIGINAL, filename)
    if duplicate is None:
        duplicate = with_copy_mark(pdf, DUPLICATE)
        DocumentPdf.objects.filter(**of_owner, duplicate__isnull=True).update(duplicate=duplicate)
    return Print(bytes(duplicate), DUPLICATE, filename)


def _original(kind: _Kind, owner: Purchase | Refund) -> bytes:
    """The document for its email: ORIGINAL FOR RECIPIENT, from the stored PDF when it was printed.
    Not a print, so the first print at the counter is an original too."""
    stored = DocumentPdf.objects.filter(**{f"{kind.owner}_id": owner.pk}).values_list("pdf", flat=True).first()
    pdf = bytes(stored) if stored is not None else document_pdf(kind.document(owner))
    return with_copy_mark(pdf, ORIGINAL)


def invoice_pdf_print(*, purchase_id: int) -> Print:
    """A print of a bill's tax invoice (see ``_print``). Raises ``Purchase.DoesNotExist``."""
    return _print(_INVOICE, purchase_id)


def credit_note_pdf_print(*, refund_id: int) -> Print:
    """A print of a refund's credit note (see ``_print``). Raises ``Refund.DoesNotExist``."""
    return _print(_CREDIT_NOTE, refund_id)


def invoice_pdf_original(purchase: Purchase) -> bytes:
    """The tax invoice attached to the invoice email (made by the worker). ``purchase`` comes from
    ``purchase_for_invoice``."""
    return _original(_INVOICE, purchase)


def credit_note_pdf_original(refund: Refund) -> bytes:
    """The credit note attached to the refund receipt email. ``refund`` comes from ``refund_get``."""
    return _original(_CREDIT_NOTE, refund)


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


def pdf_response(printed: Print) -> HttpResponse:
    """A print shown inline under its file name; ``X-Duplicate: 1`` marks a copy after the original."""
    response = HttpResponse(printed.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{printed.filename}"'
    response["X-Duplicate"] = "1" if printed.mark == DUPLICATE else "0"
    return response
