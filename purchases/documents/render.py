"""A ``TaxDocument`` as HTML and as PDF (WeasyPrint), and the copy mark laid over a rendered PDF.

Where a render's time goes (``bench/invoice_pdf_bench.py --profile``): WeasyPrint spends it per
box, about half a millisecond of CPU for every table cell, in styling, line layout and drawing; a
12-line invoice has about 200 boxes. Parsing the stylesheets and the HTML, the fonts and writing
the PDF are a small part. So the layout is kept plain: the stylesheets are parsed once per process,
every table has a fixed layout (columns sized by the stylesheet, not measured from every cell's
text, which also keeps a long unbroken name from pushing the other columns off the page), and the
copy mark is not laid out with the document at all but drawn over its pages afterwards.
"""

import atexit
import gc
import io
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import cache
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from billing_project.core.fonts import FONTS_CSS
from billing_project.core.money import currency_sign

from ..words import amount_in_words
from .content import TaxDocument

DOCUMENT_CSS = Path(settings.BASE_DIR) / "templates" / "documents" / "document.css"

# The copy marks, as Indian practice prints them. The emailed copy and the first print at the
# counter are the original for the recipient; every later print is a duplicate.
ORIGINAL = "ORIGINAL FOR RECIPIENT"
DUPLICATE = "DUPLICATE"
COPY_MARKS = (ORIGINAL, DUPLICATE)


def document_html(document: TaxDocument) -> str:
    currency = settings.CURRENCY
    summary = document.tax_summary()
    return render_to_string(
        f"documents/{document.kind}.html",
        {
            "doc": document,
            "title": document.title,
            "summary": summary,
            "summary_cgst": sum((rate.cgst for rate in summary), Decimal("0.00")),
            "summary_sgst": sum((rate.sgst for rate in summary), Decimal("0.00")),
            "split": document.mode,
            # The seller as the bill copied it from its store (never the settings of today).
            "store_name": document.seller_name,
            "legal_name": document.seller_legal_name,
            "store_address": document.seller_address,
            "tax_id": document.seller_tax_id,
            "store_gstin": document.seller_gstin,
            "store_state": document.seller_state_text,
            "original_date": timezone.localtime(document.original_date) if document.original_date else None,
            "currency": currency,
            "sign": currency_sign(currency).strip(),
            "in_words": amount_in_words(document.payable, currency),
            "issued_at": timezone.localtime(document.issued_at),
        },
    )


@cache
def _stylesheets() -> list:
    """The font stack and the documents' stylesheet, parsed once per process (WeasyPrint reads a
    ``CSS`` and never changes it, so every render can share them)."""
    from weasyprint import CSS  # type: ignore[import-untyped]

    return [CSS(filename=str(FONTS_CSS)), CSS(filename=str(DOCUMENT_CSS))]


_fonts = threading.local()


def _font_config():
    """This thread's WeasyPrint font configuration. Pango keeps the fonts it has matched to a font
    stack in it, so a new one for every render would match them again (a fifth of a 12-line
    invoice's time); Pango's font map is not safe to share between threads, hence one per thread."""
    config = getattr(_fonts, "config", None)
    if config is None:
        from weasyprint.text.fonts import FontConfiguration  # type: ignore[import-untyped]

        config = _fonts.config = FontConfiguration()
    return config


@atexit.register
def _forget_font_config() -> None:
    """Let go of this thread's font configuration while the process can still free it. Left to the
    very end of the interpreter's exit, the main thread's was freed after Pango's libraries had gone:
    a process that rendered in its main thread with the cycle collector off (``core.collector``, as
    a web worker and ``bench/scale.py`` run) and exited before a collection died of a segmentation
    fault (``make bench-scale`` exited 139 after printing its table)."""
    _fonts.__dict__.pop("config", None)


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """Python's cycle collector paused for one render. A layout makes hundreds of thousands of
    objects that live until its end, and the collector kept walking all of them, and every other
    object of the process, again and again: a fifth of a 200-line invoice's time, growing with the
    square of its length. Reference counting still frees what it can; the collector catches up
    afterwards, once. (Another thread that paused it too finds it paused and leaves it to the
    first to switch it back on.)"""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


# Whitespace between two tags that runs onto a new line: the templates' indentation. It draws
# nothing (the PDF is the same, byte for byte, without it: test_documents.py), but WeasyPrint makes
# a box of every piece of it before it drops them: about 3 % of a 12-line invoice.
_INDENTATION = re.compile(r">\s*\n\s*<")


def _write_pdf(html: str) -> bytes:
    # Imported here: WeasyPrint loads Pango at import, which only the worker and prints need.
    from weasyprint import HTML

    with _without_cyclic_gc():
        return HTML(string=_INDENTATION.sub("><", html), base_url=str(settings.BASE_DIR)).write_pdf(
            stylesheets=_stylesheets(), font_config=_font_config()
        )


def document_pdf(document: TaxDocument) -> bytes:
    """The document as PDF bytes, without a copy mark."""
    return _write_pdf(document_html(document))


@cache
def copy_mark_pdf(mark: str) -> bytes:
    """A page of the documents' size holding only ``mark``, in the top margin that every
    document's page leaves empty for it; rendered once per process."""
    if mark not in COPY_MARKS:
        raise ValueError(f"unknown copy mark {mark!r}")
    return _write_pdf(render_to_string("documents/copy_mark.html", {"mark": mark, "duplicate": mark == DUPLICATE}))


def with_copy_mark(pdf: bytes, mark: str) -> bytes:
    """``pdf`` with ``mark`` drawn on every page: a few milliseconds a page, where laying the
    document out again would take a hundred or more."""
    from pypdf import PdfReader, PdfWriter

    # A reader of its own on every call: a reader reads its stream lazily, so it is not shared
    # between the threads of a threaded worker.
    stamp = PdfReader(io.BytesIO(copy_mark_pdf(mark))).pages[0]
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    for page in writer.pages:
        page.merge_page(stamp)
        page.compress_content_streams()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
