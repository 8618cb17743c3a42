"""Tax invoices and credit notes as PDFs (issue 13).

The renderer takes a plain ``TaxDocument``, not a model, so one layout serves both a bill
(``invoice_document``) and a refund (``TaxDocument(kind=CREDIT_NOTE, original_number=…)``, built
by the refunds code from its own rows). WeasyPrint lays out an HTML template
(``templates/documents/``) with the fonts installed on the machine (DejaVu Sans, which has ₹).

PDFs are rendered on demand and not stored. A bill and its lines are an immutable snapshot, so
rendering them again gives the same invoice; storing every PDF would cost tens of kilobytes a bill
in the database and its backups for a document that takes a few tens of milliseconds to make (see
``bench/invoice_pdf_bench.py``), and a reprint differs from the original anyway (DUPLICATE). What is
stored is *when* the original was issued (``Purchase.invoice_issued_at``): the invoice email (sent
by the worker) is the original, and so is the first print of a bill whose email was declined;
every later print is marked DUPLICATE. Rendering runs in the task worker (the email) or in the
reprint request, never in the bill's own request.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Q
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

from billing_project.money import CENT, currency_sign

from .models import Purchase, Refund
from .words import amount_in_words

INVOICE = "invoice"
CREDIT_NOTE = "credit_note"
TITLES = {INVOICE: "Tax Invoice", CREDIT_NOTE: "Credit Note"}


def split_tax(tax: Decimal) -> tuple[Decimal, Decimal]:
    """CGST and SGST halves of ``tax``: the first rounded half up to the cent, the second the rest,
    so the two always add up exactly (0.05 → 0.03 + 0.02)."""
    first = (tax / 2).quantize(CENT, rounding=ROUND_HALF_UP)
    return first, tax - first


@dataclass(frozen=True)
class DocumentLine:
    description: str
    hsn_code: str
    quantity: int
    unit_price: Decimal
    taxable_value: Decimal
    tax_percent: Decimal
    tax: Decimal
    total: Decimal
    discount: Decimal = Decimal("0.00")

    @property
    def halves(self) -> tuple[Decimal, Decimal]:
        return split_tax(self.tax)


@dataclass(frozen=True)
class RateSummary:
    tax_percent: Decimal
    taxable_value: Decimal
    tax: Decimal
    cgst: Decimal
    sgst: Decimal

    @property
    def half_percent(self) -> Decimal:
        return self.tax_percent / 2


@dataclass(frozen=True)
class TaxDocument:
    """What an invoice or a credit note shows. ``payments`` are ``(method, amount)``; a credit note
    names the invoice it credits in ``original_number``."""

    kind: str
    number: str
    issued_at: datetime
    customer_email: str
    lines: list[DocumentLine]
    rounding: Decimal
    payments: list[tuple[str, Decimal]] = field(default_factory=list)
    original_number: str | None = None
    duplicate: bool = False

    @property
    def taxable_total(self) -> Decimal:
        return sum((line.taxable_value for line in self.lines), Decimal("0.00"))

    @property
    def discount_total(self) -> Decimal:
        return sum((line.discount for line in self.lines), Decimal("0.00"))

    @property
    def tax_total(self) -> Decimal:
        return sum((line.tax for line in self.lines), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal("0.00"))

    @property
    def payable(self) -> Decimal:
        return self.total + self.rounding

    def tax_summary(self) -> list[RateSummary]:
        """Taxable value and tax per rate, lowest rate first; the halves are the sums of the lines'
        halves, so every figure adds up to the lines and the totals."""
        rates: dict[Decimal, list[DocumentLine]] = {}
        for line in self.lines:
            rates.setdefault(line.tax_percent, []).append(line)
        return [
            RateSummary(
                tax_percent=rate,
                taxable_value=sum((line.taxable_value for line in lines), Decimal("0.00")),
                tax=sum((line.tax for line in lines), Decimal("0.00")),
                cgst=sum((line.halves[0] for line in lines), Decimal("0.00")),
                sgst=sum((line.halves[1] for line in lines), Decimal("0.00")),
            )
            for rate, lines in sorted(rates.items())
        ]


def _hsn_codes(item_ids: list[int]) -> dict[int, str]:
    """Each bill line's product's HSN/SAC code, in one query."""
    from .models import PurchaseItem

    return dict(PurchaseItem.objects.filter(pk__in=item_ids).values_list("pk", "product__hsn_code"))


def _payments(purchase: Purchase) -> list[tuple[str, Decimal]]:
    """How the bill was paid, by method name: cash net of the change handed back, so they add up to
    the amount payable."""
    from .services.bills import purchase_payments_net  # here: the bill service imports this module

    return [(payment.method.name, amount) for payment, amount in purchase_payments_net(purchase)]


def invoice_document(purchase: Purchase, *, duplicate: bool = False) -> TaxDocument:
    """A bill as a tax invoice. ``purchase`` should come from ``purchase_get`` (lines prefetched);
    the HSN codes are read from the lines' products in one query."""
    items = list(purchase.items.all())
    hsn = _hsn_codes([i.pk for i in items])
    return TaxDocument(
        kind=INVOICE,
        number=purchase.number or f"#{purchase.pk}",
        issued_at=purchase.created_at,
        customer_email=purchase.customer.email,
        lines=[
            DocumentLine(
                description=item.product_name,
                hsn_code=hsn.get(item.pk) or "",
                quantity=item.quantity,
                unit_price=item.unit_price,
                taxable_value=item.subtotal,
                tax_percent=item.tax_percent,
                tax=item.tax_amount,
                total=item.total,
                discount=item.discount_amount,
            )
            for item in items
        ],
        rounding=purchase.rounding,
        payments=_payments(purchase),
        duplicate=duplicate,
    )


def credit_note_document(refund: Refund, *, duplicate: bool = False) -> TaxDocument:
    """A refund as a credit note naming the invoice it credits. ``refund`` should come from
    ``refund_get`` (lines and payments prefetched). Each line shows its share of the bill line's
    discount: the gross of the quantity taken back less the taxable value paid back."""
    lines = list(refund.lines.all())
    hsn = _hsn_codes([line.item_id for line in lines])
    return TaxDocument(
        kind=CREDIT_NOTE,
        number=refund.number or f"R{refund.pk}",
        issued_at=refund.created_at,
        customer_email=refund.purchase.customer.email,
        lines=[
            DocumentLine(
                description=line.item.product_name,
                hsn_code=hsn.get(line.item_id) or "",
                quantity=line.quantity,
                unit_price=line.item.unit_price,
                taxable_value=line.subtotal,
                tax_percent=line.item.tax_percent,
                tax=line.tax_amount,
                total=line.total,
                discount=max(line.item.unit_price * line.quantity - line.subtotal, Decimal("0.00")),
            )
            for line in lines
        ],
        rounding=refund.rounding,
        payments=[(payment.method, payment.amount) for payment in refund.payments.all()],
        original_number=refund.purchase.number or f"#{refund.purchase_id}",
        duplicate=duplicate,
    )


def document_html(document: TaxDocument) -> str:
    currency = settings.CURRENCY
    summary = document.tax_summary()
    return render_to_string(
        f"documents/{document.kind}.html",
        {
            "doc": document,
            "title": TITLES[document.kind],
            "summary": summary,
            "summary_cgst": sum((rate.cgst for rate in summary), Decimal("0.00")),
            "summary_sgst": sum((rate.sgst for rate in summary), Decimal("0.00")),
            "split": settings.TAX_SPLIT == "cgst_sgst",
            "store_name": settings.STORE_NAME,
            "legal_name": settings.STORE_LEGAL_NAME,
            "store_address": settings.STORE_ADDRESS,
            "tax_id": settings.STORE_TAX_ID,
            "currency": currency,
            "sign": currency_sign(currency).strip(),
            "in_words": amount_in_words(document.payable, currency),
            "issued_at": timezone.localtime(document.issued_at),
        },
    )


def document_pdf(document: TaxDocument) -> bytes:
    """The document as PDF bytes."""
    # Imported here: WeasyPrint loads Pango at import, which only the worker and reprints need.
    from weasyprint import HTML  # type: ignore[import-untyped]

    return HTML(string=document_html(document), base_url=str(settings.BASE_DIR)).write_pdf()


def invoice_pdf_filename(purchase: Purchase) -> str:
    return f"invoice-{(purchase.number or str(purchase.pk)).replace('/', '-')}.pdf"


def invoice_pdf_original(purchase: Purchase) -> bytes:
    """The original invoice, for the invoice email (run by the worker): never marked DUPLICATE, and
    records that the original was issued."""
    Purchase.objects.filter(pk=purchase.pk, invoice_issued_at__isnull=True).update(invoice_issued_at=timezone.now())
    return document_pdf(invoice_document(purchase))


def invoice_pdf_print(purchase: Purchase) -> tuple[bytes, bool]:
    """A print of the invoice: the original if none was issued yet (a guarded UPDATE decides, so of
    two first prints at once only one is the original), otherwise a copy marked DUPLICATE.
    Returns ``(pdf, duplicate)``."""
    claimed = Purchase.objects.filter(Q(pk=purchase.pk) & Q(invoice_issued_at__isnull=True)).update(
        invoice_issued_at=timezone.now()
    )
    duplicate = not claimed
    return document_pdf(invoice_document(purchase, duplicate=duplicate)), duplicate


def credit_note_pdf_filename(refund: Refund) -> str:
    return f"credit-note-{(refund.number or str(refund.pk)).replace('/', '-')}.pdf"


def credit_note_pdf_original(refund: Refund) -> bytes:
    """The original credit note, for the refund receipt email (the worker)."""
    Refund.objects.filter(pk=refund.pk, credit_note_issued_at__isnull=True).update(credit_note_issued_at=timezone.now())
    return document_pdf(credit_note_document(refund))


def credit_note_pdf_print(refund: Refund) -> tuple[bytes, bool]:
    """A print of the credit note: the original if none was issued yet, otherwise a copy marked
    DUPLICATE (a guarded UPDATE decides). Returns ``(pdf, duplicate)``."""
    claimed = Refund.objects.filter(pk=refund.pk, credit_note_issued_at__isnull=True).update(
        credit_note_issued_at=timezone.now()
    )
    duplicate = not claimed
    return document_pdf(credit_note_document(refund, duplicate=duplicate)), duplicate


def pdf_response(pdf: bytes, filename: str, *, duplicate: bool) -> HttpResponse:
    """A PDF shown inline, named ``filename``; ``X-Duplicate: 1`` marks a reprint."""
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["X-Duplicate"] = "1" if duplicate else "0"
    return response
