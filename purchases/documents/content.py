"""What a tax invoice or a credit note shows, as plain data.

The renderer takes a ``TaxDocument``, not a model, so one layout serves both a bill
(``invoice_document``) and a refund (``credit_note_document``, or a ``TaxDocument`` of kind
``CREDIT_NOTE`` naming the invoice it credits in ``original_number``). Which copy a print is
(original or duplicate) is not part of the document: it is a mark laid over the rendered pages
(``render.with_copy_mark``).
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from billing_project.core.money import CENT, money
from billing_project.core.quantities import Quantity, Unit, quantity_text

from ..models import Purchase, Refund
from ..selectors import purchase_payments_net

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
    quantity: Quantity
    unit_price: Decimal
    taxable_value: Decimal
    tax_percent: Decimal
    tax: Decimal
    total: Decimal
    discount: Decimal = Decimal("0.00")
    mrp: Decimal | None = None  # the MRP printed on the pack, as the bill line snapshots it
    unit: str = Unit.EACH

    @property
    def quantity_text(self) -> str:
        """``2``, or ``1.250 kg``."""
        return quantity_text(self.quantity, self.unit)

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
    # Who it is billed to: the customer's email, else their mobile number, else "Walk-in customer".
    billed_to: str
    lines: list[DocumentLine]
    rounding: Decimal
    payments: list[tuple[str, Decimal]] = field(default_factory=list)
    original_number: str | None = None
    # An invoice's "You saved": against the lines' MRPs, and the discounts (``Purchase.you_saved``).
    you_saved: Decimal = Decimal("0.00")

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
    from ..models import PurchaseItem

    return dict(PurchaseItem.objects.filter(pk__in=item_ids).values_list("pk", "product__hsn_code"))


def _payments(purchase: Purchase) -> list[tuple[str, Decimal]]:
    """How the bill was paid, by method name: cash net of the change handed back, so they add up to
    the amount payable."""
    return [(payment.method.name, amount) for payment, amount in purchase_payments_net(purchase)]


WALK_IN_CUSTOMER = "Walk-in customer"


def billed_to(purchase: Purchase) -> str:
    """The bill's customer as the documents name them: email, else mobile number, else walk-in."""
    return str(purchase.customer) if purchase.customer is not None else WALK_IN_CUSTOMER


def invoice_document(purchase: Purchase) -> TaxDocument:
    """A bill as a tax invoice. ``purchase`` should come from ``purchase_get`` (lines prefetched);
    the HSN codes are read from the lines' products in one query."""
    items = list(purchase.items.all())
    hsn = _hsn_codes([i.pk for i in items])
    return TaxDocument(
        kind=INVOICE,
        number=purchase.number or f"#{purchase.pk}",
        issued_at=purchase.created_at,
        billed_to=billed_to(purchase),
        lines=[
            DocumentLine(
                description=item.product_name,
                hsn_code=hsn.get(item.pk) or "",
                quantity=item.quantity,
                unit=item.unit,
                unit_price=item.unit_price,
                taxable_value=item.subtotal,
                tax_percent=item.tax_percent,
                tax=item.tax_amount,
                total=item.total,
                discount=item.discount_amount,
                mrp=item.mrp,
            )
            for item in items
        ],
        rounding=purchase.rounding,
        payments=_payments(purchase),
        you_saved=purchase.you_saved,
    )


def credit_note_document(refund: Refund) -> TaxDocument:
    """A refund as a credit note naming the invoice it credits. ``refund`` should come from
    ``refund_get`` (lines and payments prefetched). Each line shows its share of the bill line's
    discount: the gross of the quantity taken back less the taxable value paid back."""
    lines = list(refund.lines.all())
    hsn = _hsn_codes([line.item_id for line in lines])
    return TaxDocument(
        kind=CREDIT_NOTE,
        number=refund.number or f"R{refund.pk}",
        issued_at=refund.created_at,
        billed_to=billed_to(refund.purchase),
        lines=[
            DocumentLine(
                description=line.item.product_name,
                hsn_code=hsn.get(line.item_id) or "",
                quantity=line.quantity,
                unit=line.item.unit,
                unit_price=line.item.unit_price,
                taxable_value=line.subtotal,
                tax_percent=line.item.tax_percent,
                tax=line.tax_amount,
                total=line.total,
                discount=max(money(line.item.unit_price * line.quantity) - line.subtotal, Decimal("0.00")),
            )
            for line in lines
        ],
        rounding=refund.rounding,
        payments=[(payment.method, payment.amount) for payment in refund.payments.all()],
        original_number=refund.purchase.number or f"#{refund.purchase_id}",
    )
