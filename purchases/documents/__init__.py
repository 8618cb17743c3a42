"""Tax invoices and credit notes as PDFs: what they show (``content``), their layout and copy mark
(``render``), and which copy a print is and where its PDF comes from (``copies``)."""

from .content import (
    CREDIT_NOTE,
    INVOICE,
    TITLES,
    DocumentLine,
    RateSummary,
    TaxDocument,
    credit_note_document,
    invoice_document,
    split_tax,
)
from .copies import (
    PdfRateThrottle,
    Print,
    credit_note_pdf_filename,
    credit_note_pdf_original,
    credit_note_pdf_print,
    document_pdfs_prune,
    invoice_pdf_filename,
    invoice_pdf_original,
    invoice_pdf_print,
    pdf_page_throttle,
    pdf_response,
)
from .render import COPY_MARKS, DUPLICATE, ORIGINAL, copy_mark_pdf, document_html, document_pdf, with_copy_mark

__all__ = [
    "COPY_MARKS",
    "CREDIT_NOTE",
    "DUPLICATE",
    "INVOICE",
    "ORIGINAL",
    "TITLES",
    "DocumentLine",
    "PdfRateThrottle",
    "Print",
    "RateSummary",
    "TaxDocument",
    "copy_mark_pdf",
    "credit_note_document",
    "credit_note_pdf_filename",
    "credit_note_pdf_original",
    "credit_note_pdf_print",
    "document_html",
    "document_pdf",
    "document_pdfs_prune",
    "invoice_document",
    "invoice_pdf_filename",
    "invoice_pdf_original",
    "invoice_pdf_print",
    "pdf_page_throttle",
    "pdf_response",
    "split_tax",
    "with_copy_mark",
]
