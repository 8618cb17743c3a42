"""What a tax invoice or a credit note shows, as plain data.

The renderer takes a ``TaxDocument``, not a model, so one layout serves both a bill
(``invoice_document``) and a refund (``credit_note_document``, or a ``TaxDocument`` of kind
``CREDIT_NOTE`` naming the invoice it credits in ``original_number``). Which copy a print is
(original or duplicate) is not part of the document: it is a mark laid over the rendered pages
(``render.with_copy_mark``).
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings

from billing_project.core import gst
from billing_project.core.money import money
from billing_project.core.quantities import Quantity, Unit, quantity_text
from catalog.stores import default_store_id

from ..models import Purchase, Refund
from ..selectors import purchase_payments_net

INVOICE = "invoice"
CREDIT_NOTE = "credit_note"
TITLES = {INVOICE: "Tax Invoice", CREDIT_NOTE: "Credit Note"}
# An unregistered store (no GSTIN) may not issue a tax invoice: it issues a bill of supply.
BILL_OF_SUPPLY = "Bill of Supply"

# How a document shows its tax: CGST and SGST columns (within the store's state), an IGST column
# (to another state), or one tax column (an unregistered store: no split).
INTRA, INTER, NO_SPLIT = "intra", "inter", "none"


def split_tax(tax: Decimal) -> tuple[Decimal, Decimal]:
    """CGST and SGST halves of ``tax``: the first rounded half up to the cent, the second the rest,
    so the two always add up exactly (0.05 → 0.03 + 0.02)."""
    cgst, sgst, _ = gst.split_tax(tax, intra_state=True)
    return cgst, sgst


def is_inter_state(purchase: Purchase) -> bool:
    """Whether a bill's tax went to IGST, read from the bill alone: its lines carry IGST, or (a bill
    without tax) its place of supply is not the state of its store as the bill copied it."""
    if purchase.igst_total > 0:
        return True
    if purchase.tax_total > 0:
        return False
    store = purchase.seller_state_code
    return bool(purchase.place_of_supply and store and purchase.place_of_supply != store)


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
    # The tax split as the bill line stores it (a credit note's lines: split as their bill's). Not
    # given: CGST and SGST halves of the tax.
    cgst: Decimal = None  # type: ignore[assignment]
    sgst: Decimal = None  # type: ignore[assignment]
    igst: Decimal = None  # type: ignore[assignment]

    def __post_init__(self):
        if self.cgst is None and self.sgst is None and self.igst is None:
            cgst, sgst, igst = gst.split_tax(self.tax, intra_state=True)
            object.__setattr__(self, "cgst", cgst)
            object.__setattr__(self, "sgst", sgst)
            object.__setattr__(self, "igst", igst)

    @property
    def quantity_text(self) -> str:
        """``2``, or ``1.250 kg``."""
        return quantity_text(self.quantity, self.unit)

    @property
    def halves(self) -> tuple[Decimal, Decimal]:
        return self.cgst, self.sgst


@dataclass(frozen=True)
class RateSummary:
    """One row of the tax summary: an HSN code at one rate."""

    tax_percent: Decimal
    taxable_value: Decimal
    tax: Decimal
    cgst: Decimal
    sgst: Decimal
    igst: Decimal = Decimal("0.00")
    hsn_code: str = ""

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
    # GST: how the tax is shown (INTRA, INTER or NO_SPLIT), the place of supply's state code, the
    # buyer's GSTIN, legal name and address as the bill copied them (B2B), and a credit note's
    # original invoice date.
    mode: str = INTRA
    place_of_supply: str | None = None
    buyer_gstin: str | None = None
    buyer_name: str = ""
    buyer_address: str = ""
    original_date: datetime | None = None
    # The seller: the bill's store as the bill copied it when it was rung up (``Purchase.seller_*``),
    # and the older ``STORE_TAX_ID`` for a bill of the default store without a GSTIN.
    seller_name: str = ""
    seller_legal_name: str = ""
    seller_address: str = ""
    seller_gstin: str = ""
    seller_state_code: str = ""
    seller_tax_id: str = ""

    @property
    def seller_state_text(self) -> str:
        return gst.place_text(self.seller_state_code)

    @property
    def registered(self) -> bool:
        return self.mode != NO_SPLIT

    @property
    def title(self) -> str:
        if self.kind == INVOICE and not self.registered:
            return BILL_OF_SUPPLY
        return TITLES[self.kind]

    @property
    def place_of_supply_text(self) -> str:
        return gst.place_text(self.place_of_supply)

    @property
    def buyer_state_text(self) -> str:
        return gst.place_text(self.buyer_gstin[:2]) if self.buyer_gstin else ""

    @property
    def cgst_total(self) -> Decimal:
        return sum((line.cgst for line in self.lines), Decimal("0.00"))

    @property
    def sgst_total(self) -> Decimal:
        return sum((line.sgst for line in self.lines), Decimal("0.00"))

    @property
    def igst_total(self) -> Decimal:
        return sum((line.igst for line in self.lines), Decimal("0.00"))

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
        """Taxable value and tax per HSN code and rate (by code, then rate; lines without a code
        last); each head is the sum of the lines', so every figure adds up to the lines and the
        totals."""
        groups: dict[tuple[str, Decimal], list[DocumentLine]] = {}
        for line in self.lines:
            groups.setdefault((line.hsn_code, line.tax_percent), []).append(line)
        return [
            RateSummary(
                hsn_code=hsn,
                tax_percent=rate,
                taxable_value=sum((line.taxable_value for line in lines), Decimal("0.00")),
                tax=sum((line.tax for line in lines), Decimal("0.00")),
                cgst=sum((line.cgst for line in lines), Decimal("0.00")),
                sgst=sum((line.sgst for line in lines), Decimal("0.00")),
                igst=sum((line.igst for line in lines), Decimal("0.00")),
            )
            for (hsn, rate), lines in sorted(groups.items(), key=lambda g: (g[0][0] == "", g[0][0], g[0][1]))
        ]


def _mode(purchase: Purchase) -> str:
    if not purchase.seller_gstin:  # the store was unregistered when the bill was rung up
        return NO_SPLIT
    return INTER if is_inter_state(purchase) else INTRA


def _payments(purchase: Purchase) -> list[tuple[str, Decimal]]:
    """How the bill was paid, by method name: cash net of the change handed back, so they add up to
    the amount payable."""
    return [(payment.method.name, amount) for payment, amount in purchase_payments_net(purchase)]


WALK_IN_CUSTOMER = "Walk-in customer"


def billed_to(purchase: Purchase) -> str:
    """The bill's customer as the documents name them: email, else mobile number, else walk-in."""
    return str(purchase.customer) if purchase.customer is not None else WALK_IN_CUSTOMER


def invoice_document(purchase: Purchase) -> TaxDocument:
    """A bill as a tax invoice (a bill of supply for an unregistered store). ``purchase`` should
    come from ``purchase_for_invoice`` or ``purchase_get`` (lines and payments prefetched).
    Everything comes from the bill and its lines'
    snapshots (HSN code, tax split, buyer): never from the product or the customer as they are now."""
    items = list(purchase.items.all())
    return TaxDocument(
        kind=INVOICE,
        number=purchase.number or f"#{purchase.pk}",
        issued_at=purchase.created_at,
        billed_to=billed_to(purchase),
        lines=[
            DocumentLine(
                description=item.product_name,
                hsn_code=item.hsn_code,
                quantity=item.quantity,
                unit=item.unit,
                unit_price=item.unit_price,
                taxable_value=item.subtotal,
                tax_percent=item.tax_percent,
                tax=item.tax_amount,
                total=item.total,
                discount=item.discount_amount,
                mrp=item.mrp,
                cgst=item.cgst,
                sgst=item.sgst,
                igst=item.igst,
            )
            for item in items
        ],
        rounding=purchase.rounding,
        payments=_payments(purchase),
        you_saved=purchase.you_saved,
        **_gst_facts(purchase),
    )


def _gst_facts(purchase: Purchase) -> dict:
    return {
        "mode": _mode(purchase),
        "place_of_supply": purchase.place_of_supply,
        "buyer_gstin": purchase.customer_gstin,
        "buyer_name": purchase.buyer_legal_name,
        "buyer_address": purchase.buyer_address,
        "seller_name": purchase.seller_name,
        "seller_legal_name": purchase.seller_legal_name or purchase.seller_name,
        "seller_address": purchase.seller_address,
        "seller_gstin": purchase.seller_gstin,
        "seller_state_code": purchase.seller_state_code,
        "seller_tax_id": _legacy_tax_id(purchase),
    }


def _legacy_tax_id(purchase: Purchase) -> str:
    """``STORE_TAX_ID`` (a tax id that is not a GSTIN), printed by a bill of the default store
    without a GSTIN, as before stores."""
    if purchase.seller_gstin or not settings.STORE_TAX_ID:
        return ""
    return settings.STORE_TAX_ID if purchase.store_id == default_store_id() else ""


def credit_note_document(refund: Refund) -> TaxDocument:
    """A refund as a credit note naming the invoice it credits. ``refund`` should come from
    ``refund_get`` (lines and payments prefetched). Each line shows its share of the bill line's
    discount: the gross of the quantity taken back less the taxable value paid back. Its tax splits
    as its bill's did (``refund_line_split``)."""
    lines = list(refund.lines.all())
    intra = not is_inter_state(refund.purchase)
    return TaxDocument(
        kind=CREDIT_NOTE,
        number=refund.number or f"R{refund.pk}",
        issued_at=refund.created_at,
        billed_to=billed_to(refund.purchase),
        lines=[
            DocumentLine(
                description=line.item.product_name,
                hsn_code=line.item.hsn_code,
                quantity=line.quantity,
                unit=line.item.unit,
                unit_price=line.item.unit_price,
                taxable_value=line.subtotal,
                tax_percent=line.item.tax_percent,
                tax=line.tax_amount,
                total=line.total,
                discount=max(money(line.item.unit_price * line.quantity) - line.subtotal, Decimal("0.00")),
                **_split_fields(line.tax_amount, intra),
            )
            for line in lines
        ],
        rounding=refund.rounding,
        payments=[(payment.method, payment.amount) for payment in refund.payments.all()],
        original_number=refund.purchase.number or f"#{refund.purchase_id}",
        original_date=refund.purchase.created_at,
        **_gst_facts(refund.purchase),
    )


def _split_fields(tax: Decimal, intra: bool) -> dict[str, Decimal]:
    cgst, sgst, igst = gst.split_tax(tax, intra_state=intra)
    return {"cgst": cgst, "sgst": sgst, "igst": igst}
