from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.utils import timezone

from billing_project.core.db.orm_internals import prefetched
from billing_project.core.db.scaled import ScaledIntegerField
from billing_project.core.gst import B2B, B2C, STATE_CODE_PATTERN
from billing_project.core.money import money
from billing_project.core.quantities import Unit, quantity_json, quantity_text
from billing_project.core.validators import GSTIN_LENGTH, GSTIN_PATTERN
from cashdrawer.models import DrawerMovement
from catalog.models import HSN_PATTERN, quantity_field, whole_unless_measured

# Bill amounts: NUMERIC(18, 2). purchase_create refuses a bill that would not fit.
AMOUNT_MAX_DIGITS = 18


def _equals(field: str, expression) -> Q:
    """``field == expression`` for 2-place amounts. Written as "within half a cent" because SQLite
    evaluates CHECK arithmetic in floating point; with NUMERIC(…, 2) columns on PostgreSQL the
    two forms are equivalent, as any difference is a multiple of 0.01."""
    half_cent = Value(Decimal("0.005"))
    return Q(**{f"{field}__gt": expression - half_cent, f"{field}__lt": expression + half_cent})


def _rounded_from(field: str, expression) -> Q:
    """``field == expression`` rounded to 2 places: within half a cent, both ends included (a weighed
    line's price × quantity has up to 5 places, and 0.005 rounds half-up to 0.01)."""
    half_cent = Value(Decimal("0.005"))
    return Q(**{f"{field}__gte": expression - half_cent, f"{field}__lte": expression + half_cent})


def _at_most(field: str, expression) -> Q:
    """``field <= expression`` for 2-place amounts, within half a cent (see ``_equals``)."""
    return Q(**{f"{field}__lt": expression + Value(Decimal("0.005"))})


def _amount(**kwargs):
    return models.DecimalField(max_digits=AMOUNT_MAX_DIGITS, decimal_places=2, **kwargs)


class InvoiceStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


# <series>/<financial year>/<sequence>: GST's 16 characters at most (issue 13).
NUMBER_MAX_LENGTH = 16
NUMBER_PATTERN = r"^[A-Z0-9-]{1,4}/[0-9]{4}/[0-9]{6}$"
# The sequence's digits at the end of every number (``NUMBER_PATTERN``'s last part).
SEQUENCE_DIGITS = 6
SEQUENCE_MAX = 999_999


# The counter's range CHECK: its violation is how a series says it has given its last number.
COUNTER_RANGE_CONSTRAINT = "documentcounter_number_range"


class DocumentCounter(models.Model):
    """The last number given in one series in one financial year: invoices (a till's
    ``invoice_series``) and credit notes (its ``credit_series``) alike. Only
    ``purchases.numbering`` writes it, with one ``INSERT … ON CONFLICT DO UPDATE … RETURNING``
    inside the caller's transaction, so a number rolled back with its bill is never given."""

    series = models.CharField(max_length=4)
    financial_year = models.CharField(max_length=4, help_text="Two-digit start and end years: 2627 is 2026-27.")
    last_number = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["series", "financial_year"], name="documentcounter_one_per_series_year"),
            models.CheckConstraint(
                condition=Q(last_number__gte=1, last_number__lte=SEQUENCE_MAX), name=COUNTER_RANGE_CONSTRAINT
            ),
            models.CheckConstraint(condition=Q(financial_year__regex=r"^[0-9]{4}$"), name="documentcounter_year_form"),
        ]

    def __str__(self):
        return f"{self.series}/{self.financial_year}: {self.last_number}"


# A bill's amounts and a line's fields, in the order every view of a bill shows them.
AMOUNT_FIELDS = ("subtotal", "tax_total", "total", "rounding", "payable", "paid_amount", "change_due")
LINE_FIELDS = (
    "product_id",
    "product_name",
    "quantity",
    "unit",
    "unit_price",
    "mrp",
    "tax_percent",
    "subtotal",
    "tax_amount",
    "total",
    "refunded_quantity",
)
# A line as the API shows it: the discount's figures before the taxable value they lead to.
LINE_OUTPUT_FIELDS = (
    "product_id",
    "product_name",
    "quantity",
    "unit",
    "unit_price",
    "mrp",
    "tax_percent",
    "gross",
    "discount_percent",
    "discount_amount",
    "subtotal",
    "tax_amount",
    "total",
    "refunded_quantity",
)
# Added with discounts; listed after the fields above so that a bill without discounts reads as before.
DISCOUNT_FIELDS = ("discount_percent", "discount_total", "discount_reason")
LINE_DISCOUNT_FIELDS = ("gross", "discount_percent", "discount_amount")
# Added with GST (issue 27), after all of the above.
GST_FIELDS = ("supply_type", "place_of_supply", "customer_gstin", "cgst_total", "sgst_total", "igst_total")
LINE_GST_FIELDS = ("hsn_code", "cgst", "sgst", "igst")

# A discount percent as entered (line or bill): 0 to 100 with at most 2 places. A line's effective
# rate, 1 − (1 − line%)(1 − bill%), is kept exactly: it has at most 6 places.
DISCOUNT_MAX_DIGITS, DISCOUNT_PLACES = 5, 2
EFFECTIVE_MAX_DIGITS, EFFECTIVE_PLACES = 9, 6
DISCOUNT_REASON_MAX_LENGTH = 200
PAYMENT_REFERENCE_MAX_LENGTH = 100


class PaymentMethod(models.Model):
    """How a bill can be paid: cash, card, UPI, or one a manager adds (a voucher). Exactly one
    method is the cash method: the migration creates it, a partial unique index allows no second
    one, and the admin cannot delete it (a payment protects its method)."""

    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=60)
    is_cash = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-is_cash", "code"]
        constraints = [
            models.UniqueConstraint(fields=["is_cash"], condition=Q(is_cash=True), name="paymentmethod_one_cash"),
            models.CheckConstraint(condition=~Q(code=""), name="paymentmethod_code_not_blank"),
        ]

    def __str__(self):
        return self.name


class SupplyType(models.TextChoices):
    B2B = B2B, "B2B (a registered buyer)"
    B2C = B2C, "B2C"


class Purchase(models.Model):
    """A bill. Written once by ``purchase_create`` and never changed, except for the ``invoice_*``
    fields, which only ``purchases.invoices`` writes, and what refunds can still pay back
    (``refundable``, ``cash_refundable``), which only ``refund_create`` writes."""

    # Null for a walk-in sale: a bill rung up without an email or a mobile number.
    # Indexed by ``purchase_customer_created``, which leads with it.
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, null=True, blank=True, related_name="purchases", db_index=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The manager whose override (a PIN at the counter) allowed what the user alone could not.
    # Null on most bills: indexed only where set (``purchase_approved_by``).
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    # Indexed by ``purchase_created_id_cover`` (with the figures the sales report sums).
    created_at = models.DateTimeField(default=timezone.now)
    # The till whose drawer took the cash, and its session. Null only for a bill written outside
    # purchase_create (bills from before tills were given MAIN by the migration). Indexed by
    # ``purchase_till_created_cover``, which leads with it.
    till = models.ForeignKey(
        "cashdrawer.Till", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    # The store of the bill's till at the time it was rung up (docs/scale-out.md: the column a
    # distributed schema shards on). Kept in step by ``purchase_create``; never changed.
    store = models.ForeignKey("catalog.Store", on_delete=models.PROTECT, related_name="+", db_index=False)
    # The seller as the invoice prints it: the store's name, legal name, address, GSTIN and state
    # code, copied when the bill is rung up, so a store's later edits change no bill already issued.
    seller_name = models.CharField(max_length=200, blank=True, default="", db_default="")
    seller_legal_name = models.CharField(max_length=200, blank=True, default="", db_default="")
    seller_address = models.TextField(blank=True, default="", db_default="")
    seller_gstin = models.CharField("seller's GSTIN", max_length=GSTIN_LENGTH, blank=True, default="", db_default="")
    seller_state_code = models.CharField(max_length=2, blank=True, default="", db_default="")
    # The tax invoice number, e.g. M/2627/000123: given by ``purchases.numbering`` in the bill's own
    # transaction, in the same UPDATE that records the till, so every bill with a till has one.
    number = models.CharField(max_length=NUMBER_MAX_LENGTH, null=True, blank=True, unique=True)
    # When the tax invoice was first printed (at the counter, the API or the admin): that print is
    # the original for the recipient, every later one a duplicate. The emailed copy, also an
    # original, leaves it alone (``documents.copies``).
    invoice_printed_at = models.DateTimeField(null=True, blank=True)
    session = models.ForeignKey(
        "cashdrawer.TillSession", on_delete=models.PROTECT, null=True, blank=True, related_name="purchases"
    )
    subtotal = _amount()
    tax_total = _amount()
    total = _amount()
    rounding = _amount()
    payable = _amount()
    paid_amount = _amount()
    change_due = _amount()
    # The part of paid_amount paid in cash (the rest is card, UPI…): rounding applies only to it and
    # change comes only from it. Not in the API; the payments list shows it.
    cash_paid = _amount(default=Decimal("0.00"))
    # The bill discount as entered (every line's effective rate includes it), the sum of the lines'
    # discounts, and why (required whenever any line has a discount).
    discount_percent = models.DecimalField(
        max_digits=DISCOUNT_MAX_DIGITS, decimal_places=DISCOUNT_PLACES, default=Decimal("0.00")
    )
    discount_total = _amount(default=Decimal("0.00"))
    discount_reason = models.CharField(max_length=DISCOUNT_REASON_MAX_LENGTH, blank=True, default="")
    # What refunds can still pay back: the payable, and of it the cash the drawer kept (cash paid −
    # change), each less what the bill's refunds paid back. ``purchase_create`` sets them and
    # ``refund_create`` lowers them under the bill's lock; never below 0 (CHECK), so no sequence of
    # refunds pays back more than the bill took, nor more cash than the drawer kept. Not in the API.
    # (The database default, 0, is for rows written by hand, such as the benchmarks' bills.)
    refundable = _amount(default=Decimal("0.00"), db_default=Decimal("0.00"))
    cash_refundable = _amount(default=Decimal("0.00"), db_default=Decimal("0.00"))
    # What the goods sold cost: the lines' quantity × cost_price, each rounded to the paisa. The
    # sales report's ``cost`` sums it (``figures``).
    cost_total = _amount(default=Decimal("0.00"), db_default=Decimal("0.00"))

    # GST (docs/gst.md), fixed when the bill is rung up. A bill with the buyer's GSTIN is B2B, one
    # without B2C. The buyer's GSTIN, legal name and address are copies: editing the customer
    # later changes no bill. The place of supply is a 2-digit state code (null only for bills from
    # before it, of a store without a state); against the store's state it decides the split of
    # every line's tax: CGST + SGST within the state, IGST to another.
    supply_type = models.CharField(
        max_length=3, choices=SupplyType.choices, default=SupplyType.B2C, db_default=SupplyType.B2C
    )
    place_of_supply = models.CharField(max_length=2, null=True, blank=True)
    customer_gstin = models.CharField("buyer's GSTIN", max_length=GSTIN_LENGTH, null=True, blank=True)
    buyer_legal_name = models.CharField(max_length=200, blank=True, default="", db_default="")
    buyer_address = models.TextField(blank=True, default="", db_default="")
    cgst_total = _amount(default=Decimal("0.00"), db_default=Decimal("0.00"))
    sgst_total = _amount(default=Decimal("0.00"), db_default=Decimal("0.00"))
    igst_total = _amount(default=Decimal("0.00"), db_default=Decimal("0.00"))

    # The invoice email's delivery. ``invoice_round`` goes up with every re-send, so a queued job
    # of an earlier round finds it changed and does nothing.
    invoice_status = models.CharField(max_length=8, choices=InvoiceStatus.choices, default=InvoiceStatus.PENDING)
    invoice_round = models.PositiveIntegerField(default=0)
    invoice_attempts = models.PositiveIntegerField(default=0)
    invoice_sent_at = models.DateTimeField(null=True, blank=True)
    invoice_last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("resend_invoice", "Can re-send invoice emails"),
            ("give_large_discount", "Can give a discount above CASHIER_MAX_DISCOUNT_PERCENT"),
            ("view_sales_report", "Can view the sales reports"),
        ]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="purchase_customer_created"),
            models.Index(fields=["approved_by"], name="purchase_approved_by", condition=Q(approved_by__isnull=False)),
            # A store's bills by time: the per-store sales report, and the bill list's order (newest
            # first, then by id) for a user of some stores, a deep page read from the index alone.
            models.Index(fields=["store", "created_at", "id"], name="purchase_store_created_id"),
            # A till's bills in the list's order (the admin's list filtered by till, its count), with
            # the figures of the totals above that list (``reports.purchase_totals``): a till's
            # 31,000 bills summed from the index alone, not from 31,000 pages of the table.
            models.Index(
                fields=["till", "created_at", "id"],
                include=["subtotal", "discount_total", "tax_total", "total", "payable"],
                name="purchase_till_created_cover",
            ),
            # The bill list's order (created_at, id: a deep page is an index-only scan, also for a
            # user of several stores, whose store it carries) and the sales report's range: on
            # PostgreSQL it carries the figures the report sums, so a report by day, hour, cashier or
            # till reads only this index.
            models.Index(
                fields=["created_at", "id"],
                include=[
                    "store",
                    "till",
                    "created_by",
                    "subtotal",
                    "discount_total",
                    "tax_total",
                    "total",
                    "cost_total",
                ],
                name="purchase_created_id_cover",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(subtotal__gte=0), name="purchase_subtotal_gte_0"),
            # A walk-in sale has nobody to email its invoice to.
            models.CheckConstraint(
                condition=Q(customer__isnull=False) | Q(invoice_status="skipped"), name="purchase_walk_in_not_emailed"
            ),
            models.CheckConstraint(
                condition=Q(session__isnull=True) | Q(till__isnull=False), name="purchase_session_has_till"
            ),
            models.CheckConstraint(
                condition=Q(till__isnull=True) | Q(number__isnull=False), name="purchase_with_till_has_number"
            ),
            models.CheckConstraint(
                condition=Q(number__isnull=True) | Q(number__regex=NUMBER_PATTERN), name="purchase_number_form"
            ),
            models.CheckConstraint(condition=Q(tax_total__gte=0), name="purchase_tax_total_gte_0"),
            models.CheckConstraint(
                condition=_equals("total", F("subtotal") + F("tax_total")), name="purchase_total_sum"
            ),
            models.CheckConstraint(condition=Q(payable__gte=0), name="purchase_payable_gte_0"),
            models.CheckConstraint(condition=_equals("rounding", F("payable") - F("total")), name="purchase_rounding"),
            models.CheckConstraint(condition=Q(paid_amount__gte=F("payable")), name="purchase_paid_gte_payable"),
            models.CheckConstraint(
                condition=_equals("change_due", F("paid_amount") - F("payable")), name="purchase_change_due"
            ),
            models.CheckConstraint(
                condition=Q(cash_paid__gte=0, cash_paid__lte=F("paid_amount")), name="purchase_cash_paid_0_paid"
            ),
            # Change is handed back in cash, so never more than the cash paid.
            models.CheckConstraint(condition=Q(change_due__lte=F("cash_paid")), name="purchase_change_lte_cash"),
            # Cash rounding touches only the cash part: a bill paid without cash is not rounded. (A
            # bill whose total rounds to nothing payable, paid with the cash shorthand, has no cash.)
            models.CheckConstraint(
                condition=Q(cash_paid__gt=0) | Q(rounding=0) | Q(payable=0), name="purchase_rounding_only_cash"
            ),
            models.CheckConstraint(
                condition=Q(refundable__gte=0) & _at_most("refundable", F("payable")),
                name="purchase_refundable_0_payable",
            ),
            models.CheckConstraint(
                condition=Q(cash_refundable__gte=0)
                & _at_most("cash_refundable", F("cash_paid") - F("change_due"))
                & _at_most("cash_refundable", F("refundable")),
                name="purchase_cash_refundable_0_kept",
            ),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100), name="purchase_discount_percent_0_100"
            ),
            models.CheckConstraint(condition=Q(discount_total__gte=0), name="purchase_discount_total_gte_0"),
            models.CheckConstraint(
                condition=(Q(discount_total=0) & Q(discount_percent=0)) | ~Q(discount_reason=""),
                name="purchase_discount_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(invoice_status__in=InvoiceStatus.values), name="purchase_invoice_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(invoice_status=InvoiceStatus.SENT) | Q(invoice_sent_at__isnull=False),
                name="purchase_invoice_sent_has_time",
            ),
            models.CheckConstraint(
                condition=(Q(supply_type=B2B) & Q(customer_gstin__isnull=False))
                | (Q(supply_type=B2C) & Q(customer_gstin__isnull=True)),
                name="purchase_b2b_iff_gstin",
            ),
            models.CheckConstraint(
                condition=Q(customer_gstin__isnull=True) | Q(customer_gstin__regex=GSTIN_PATTERN),
                name="purchase_customer_gstin_form",
            ),
            models.CheckConstraint(
                condition=Q(place_of_supply__isnull=True) | Q(place_of_supply__regex=STATE_CODE_PATTERN),
                name="purchase_place_of_supply_form",
            ),
            models.CheckConstraint(
                condition=Q(cgst_total__gte=0, sgst_total__gte=0, igst_total__gte=0), name="purchase_tax_heads_gte_0"
            ),
            # The split never changes the tax: the heads add up to it exactly.
            models.CheckConstraint(
                condition=_equals("tax_total", F("cgst_total") + F("sgst_total") + F("igst_total")),
                name="purchase_tax_heads_sum",
            ),
        ]

    def __str__(self):
        return f"Bill {self.number}" if self.number else f"Bill #{self.pk}"

    def _movements(self, kind):
        # Reads the prefetched ledger rows when the selector prefetched them.
        return [m for m in prefetched_or_all(self, "drawer_movements") if m.kind == kind]

    @property
    def tendered(self) -> list[dict]:
        return _pieces(self._movements(DrawerMovement.Kind.TENDER_IN))

    @property
    def change(self) -> list[dict]:
        return _pieces(self._movements(DrawerMovement.Kind.CHANGE_OUT))

    @property
    def you_saved(self) -> Decimal:
        """What the customer saved: against the MRPs of the lines that have one, and the discounts
        (reads the prefetched lines). Computed from the lines' snapshots, which never change."""
        return you_saved(prefetched_or_all(self, "items"), self.discount_total)

    @property
    def refunded_total(self) -> Decimal:
        """Money paid back by this bill's refunds (reads the prefetched refunds)."""
        return sum((refund.amount for refund in prefetched_or_all(self, "refunds")), Decimal("0.00"))


def prefetched_or_all(instance, name: str):
    """``getattr(instance, name).all()`` for a reverse relation: the prefetched rows, when they are
    there, are what the related manager would return; taken from the prefetch cache itself, no
    manager is made (each costs a few dozen calls, and answering a bill reads six)."""
    cached = prefetched(instance)
    if cached is not None and name in cached:
        return cached[name]
    return getattr(instance, name).all()


def _pieces(movements) -> list[dict]:
    return largest_first([{"value": m.denomination.value, "count": m.pieces} for m in movements])


def largest_first(pieces: list[dict]) -> list[dict]:
    """``[{value, count}]`` largest value first, as the cashier hands them over."""
    return sorted(pieces, key=lambda piece: piece["value"], reverse=True)


def mrp_saving(*, mrp: Decimal | None, unit_price: Decimal, quantity) -> Decimal:
    """(MRP − price) × quantity for a line with an MRP, half-up to the paisa; 0 without one."""
    if mrp is None:
        return Decimal("0.00")
    return money((mrp - unit_price) * quantity)


def you_saved(lines, discount_total: Decimal) -> Decimal:
    """What a bill's "You saved ₹X" says: the sum of (MRP − price) × quantity over the lines that have
    an MRP, plus the bill's discounts. ``lines`` are bill lines, or rows with their ``mrp``,
    ``unit_price`` and ``quantity``. Computed, not stored: the lines' snapshots never change."""
    saved = discount_total
    for line in lines:
        if isinstance(line, dict):
            saved += mrp_saving(mrp=line["mrp"], unit_price=line["unit_price"], quantity=line["quantity"])
        else:
            saved += mrp_saving(mrp=line.mrp, unit_price=line.unit_price, quantity=line.quantity)
    return saved


class PurchaseItem(models.Model):
    """A bill line: a snapshot of the product's name, price, MRP and tax at the time of sale. Only the
    ``refunded_*`` running sums ever change, and only through ``refund_create``."""

    # Indexed by ``purchaseitem_one_line_per_product`` (purchase, product), which leads with it.
    purchase = models.ForeignKey(Purchase, on_delete=models.CASCADE, related_name="items", db_index=False)
    # Its bill's store (``Purchase.store``), so a store's rows are found without the bill. Copied
    # from the bill, whose own foreign key checks it is a store: no constraint of its own (each would
    # cost every row a referential check at the commit; docs/architecture.md, "A row's store").
    store = models.ForeignKey(
        "catalog.Store", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    # The bill's own ``created_at``, copied by ``purchase_create`` into the same INSERT (no extra
    # query), so the sales report by product and tax rate reads the lines of a range without
    # joining a year of bills.
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="purchase_items")
    product_name = models.CharField(max_length=200)
    # The product's unit when sold: ``each`` lines have whole quantities (CHECK), measured ones 3 places.
    unit = models.CharField(max_length=4, choices=Unit.choices, default=Unit.EACH, db_default=Unit.EACH)
    quantity = quantity_field()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    # The product's MRP when sold (null: it had none), so "You saved" never changes with the catalogue.
    mrp = models.DecimalField("MRP", max_digits=12, decimal_places=2, null=True, blank=True)
    tax_percent = models.DecimalField(max_digits=5, decimal_places=2)
    # gross = unit_price × quantity; discount_amount = gross × discount_percent (the line's effective
    # rate) rounded half-up; subtotal = gross − discount_amount is the taxable value.
    gross = _amount()
    discount_percent = models.DecimalField(
        max_digits=EFFECTIVE_MAX_DIGITS, decimal_places=EFFECTIVE_PLACES, default=Decimal("0")
    )
    discount_amount = _amount(default=Decimal("0.00"))
    subtotal = _amount()
    tax_amount = _amount()
    total = _amount()
    # The product's HSN/SAC code when sold, and the line's tax split by its bill's place of supply:
    # CGST + SGST (halves, CGST rounded half up) within the store's state, IGST to another.
    hsn_code = models.CharField("HSN/SAC code", max_length=8, blank=True, default="", db_default="")
    cgst = _amount(default=Decimal("0.00"), db_default=Decimal("0.00"))
    sgst = _amount(default=Decimal("0.00"), db_default=Decimal("0.00"))
    igst = _amount(default=Decimal("0.00"), db_default=Decimal("0.00"))
    # Running sums of this line's refunds (``refund_create``, under the bill's lock). They never
    # pass the line's own figures, and a fully refunded line has given back exactly its amounts.
    refunded_quantity = quantity_field(default=0)
    # The product's cost_price at sale time: the margin of this line, also after the catalogue's
    # cost moves. 0 for lines from before costs were kept.
    cost_price = _amount(default=Decimal("0.00"), db_default=Decimal("0.00"))
    refunded_subtotal = _amount(default=Decimal("0.00"))
    refunded_tax_amount = _amount(default=Decimal("0.00"))

    class Meta:
        ordering = ["id"]
        # The sales report by product and tax rate reads a range of lines by time. A plain index: a
        # year's report reads most of the table anyway (a parallel scan), and lines are written in
        # time order, so a month's range is a few contiguous pages.
        indexes = [
            models.Index(fields=["created_at"], name="purchaseitem_created_at"),
            # A store's lines by time: the per-store sales report's product rows.
            models.Index(fields=["store", "created_at"], name="purchaseitem_store_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="purchaseitem_quantity_gt_0"),
            models.CheckConstraint(condition=Q(unit__in=Unit.values), name="purchaseitem_unit_valid"),
            models.CheckConstraint(
                condition=whole_unless_measured("quantity"), name="purchaseitem_each_quantity_whole"
            ),
            models.CheckConstraint(
                condition=whole_unless_measured("refunded_quantity"), name="purchaseitem_each_refunded_whole"
            ),
            models.CheckConstraint(
                condition=Q(refunded_quantity__gte=0, refunded_quantity__lte=F("quantity")),
                name="purchaseitem_refunded_quantity_lte_sold",
            ),
            models.CheckConstraint(
                condition=Q(refunded_subtotal__gte=0) & _at_most("refunded_subtotal", F("subtotal")),
                name="purchaseitem_refunded_subtotal_lte_subtotal",
            ),
            models.CheckConstraint(
                condition=Q(refunded_tax_amount__gte=0) & _at_most("refunded_tax_amount", F("tax_amount")),
                name="purchaseitem_refunded_tax_lte_tax",
            ),
            models.CheckConstraint(
                condition=Q(refunded_quantity__lt=F("quantity"))
                | (_equals("refunded_subtotal", F("subtotal")) & _equals("refunded_tax_amount", F("tax_amount"))),
                name="purchaseitem_full_refund_exact",
            ),
            models.CheckConstraint(condition=Q(unit_price__gt=0), name="purchaseitem_unit_price_gt_0"),
            # As the product's own CHECK: a line is never sold above the MRP it snapshots.
            models.CheckConstraint(
                condition=Q(mrp__isnull=True) | Q(unit_price__lte=F("mrp")), name="purchaseitem_unit_price_lte_mrp"
            ),
            models.CheckConstraint(
                condition=Q(tax_percent__gte=0, tax_percent__lte=100), name="purchaseitem_tax_percent_0_100"
            ),
            models.CheckConstraint(
                condition=_rounded_from("gross", F("unit_price") * F("quantity")), name="purchaseitem_gross"
            ),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100),
                name="purchaseitem_discount_percent_0_100",
            ),
            # A discount never makes a line negative.
            models.CheckConstraint(
                condition=Q(discount_amount__gte=0, discount_amount__lte=F("gross")),
                name="purchaseitem_discount_amount_0_gross",
            ),
            models.CheckConstraint(
                condition=_equals("subtotal", F("gross") - F("discount_amount")), name="purchaseitem_subtotal"
            ),
            models.CheckConstraint(condition=Q(tax_amount__gte=0), name="purchaseitem_tax_amount_gte_0"),
            models.CheckConstraint(
                condition=_equals("total", F("subtotal") + F("tax_amount")), name="purchaseitem_total"
            ),
            models.UniqueConstraint(fields=["purchase", "product"], name="purchaseitem_one_line_per_product"),
            models.CheckConstraint(condition=Q(hsn_code__regex=HSN_PATTERN), name="purchaseitem_hsn_code_form"),
            models.CheckConstraint(
                condition=Q(cgst__gte=0, sgst__gte=0, igst__gte=0), name="purchaseitem_tax_heads_gte_0"
            ),
            models.CheckConstraint(
                condition=_equals("tax_amount", F("cgst") + F("sgst") + F("igst")), name="purchaseitem_tax_heads_sum"
            ),
            # CGST is the half of the tax rounded half up, SGST the rest: equal, or CGST a paisa more.
            models.CheckConstraint(
                condition=Q(cgst__gt=F("sgst") - Value(Decimal("0.005")), cgst__lt=F("sgst") + Value(Decimal("0.015"))),
                name="purchaseitem_cgst_half_up",
            ),
            # CGST and SGST within the state, or IGST to another: never both.
            models.CheckConstraint(condition=Q(igst=0) | (Q(cgst=0) & Q(sgst=0)), name="purchaseitem_igst_or_halves"),
        ]

    def __str__(self):
        return f"{self.quantity_text} × {self.product_name}"

    @property
    def quantity_text(self) -> str:
        """``2`` or ``1.250 kg``, as pages and documents write it."""
        return quantity_text(self.quantity, self.unit)

    @property
    def quantity_json(self) -> int | str:
        return quantity_json(self.quantity, self.unit)

    @property
    def refunded_quantity_json(self) -> int | str:
        return quantity_json(self.refunded_quantity, self.unit)

    @property
    def refunded_quantity_text(self) -> str:
        return quantity_text(self.refunded_quantity, self.unit)

    @property
    def left_quantity(self):
        """What can still be refunded."""
        return self.quantity - self.refunded_quantity


class Payment(models.Model):
    """One way a bill was paid: an amount by a method. A bill has at most one cash payment (its notes
    are the drawer's tender movements); a non-cash payment may carry a reference (a card slip, a UPI
    transaction id). ``is_cash`` copies the method's flag, so the database can check both rules."""

    purchase = models.ForeignKey(Purchase, on_delete=models.CASCADE, related_name="payments")
    # Its bill's store (``Purchase.store``), so a store's rows are found without the bill. Copied
    # from the bill, whose own foreign key checks it is a store: no constraint of its own (each would
    # cost every row a referential check at the commit; docs/architecture.md, "A row's store").
    store = models.ForeignKey(
        "catalog.Store", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    method = models.ForeignKey(PaymentMethod, on_delete=models.PROTECT, related_name="+")
    is_cash = models.BooleanField()
    amount = _amount()
    reference = models.CharField(max_length=PAYMENT_REFERENCE_MAX_LENGTH, blank=True, default="")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_gt_0"),
            models.CheckConstraint(condition=Q(is_cash=False) | Q(reference=""), name="payment_reference_not_cash"),
            models.UniqueConstraint(fields=["purchase"], condition=Q(is_cash=True), name="payment_one_cash_per_bill"),
        ]

    def __str__(self):
        return f"{self.method} {self.amount}"

    @property
    def method_code(self) -> str:
        return self.method.code


class Refund(models.Model):
    """Things taken back from a bill, and the money paid back for them. Written once by
    ``refund_create`` and never changed. The bill's own figures are never changed by a refund.

    ``till`` and ``session`` are where the cash was paid out from, which may be another till or a
    later session than the bill's. ``total = subtotal + tax_total`` is what the lines are worth;
    ``amount = total + rounding`` is what was paid back, split by method in ``payments`` (the cash
    part rounded to the cash increment, as on a bill)."""

    purchase = models.ForeignKey(Purchase, on_delete=models.PROTECT, related_name="refunds")
    till = models.ForeignKey("cashdrawer.Till", on_delete=models.PROTECT, related_name="+")
    # Its bill's store: a bill is refunded only at a till of its own store (``refund_create``).
    store = models.ForeignKey("catalog.Store", on_delete=models.PROTECT, related_name="+", db_index=False)
    session = models.ForeignKey("cashdrawer.TillSession", on_delete=models.PROTECT, related_name="refunds")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The manager whose override (a PIN at the counter) allowed what the user alone could not.
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    reason = models.CharField(max_length=255)
    restock = models.BooleanField(default=True, help_text="False: the goods are written off (damaged, say).")
    subtotal = _amount()
    tax_total = _amount()
    total = _amount()
    rounding = _amount()
    amount = _amount()
    # What the goods taken back cost, at the cost they were sold at (their lines' cost_price): the
    # sales report's cost is net of it.
    cost_total = _amount(default=Decimal("0.00"), db_default=Decimal("0.00"))
    # The credit note's number in the refunding till's credit series (``numbering``), such as
    # CM/2627/000007: taken in the refund's own transaction, so a refused refund takes none.
    number = models.CharField(max_length=NUMBER_MAX_LENGTH, null=True, blank=True, unique=True)
    # When the credit note was first printed: the original; later prints are duplicates. The
    # emailed copy, also an original, leaves it alone (``documents.copies``).
    credit_note_printed_at = models.DateTimeField(null=True, blank=True)
    # The refund receipt email (``refund_receipts``): set once it is sent, so a job runs at most once.
    receipt_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # A store's refunds by time: the per-store sales report nets them.
        indexes = [models.Index(fields=["store", "created_at"], name="refund_store_created")]
        constraints = [
            models.CheckConstraint(condition=Q(subtotal__gte=0), name="refund_subtotal_gte_0"),
            models.CheckConstraint(condition=Q(tax_total__gte=0), name="refund_tax_total_gte_0"),
            models.CheckConstraint(condition=_equals("total", F("subtotal") + F("tax_total")), name="refund_total_sum"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="refund_amount_gte_0"),
            models.CheckConstraint(condition=_equals("rounding", F("amount") - F("total")), name="refund_rounding"),
            models.CheckConstraint(condition=~Q(reason=""), name="refund_reason_not_empty"),
            models.CheckConstraint(
                condition=Q(number__isnull=True) | Q(number__regex=NUMBER_PATTERN), name="refund_number_form"
            ),
        ]

    def __str__(self):
        return f"Refund #{self.pk} of bill #{self.purchase_id}"

    @property
    def cash_out(self) -> list[dict]:
        """The notes and coins handed back, largest first (reads the prefetched ledger rows)."""
        return largest_first(
            [{"value": m.denomination.value, "count": abs(m.delta)} for m in self.drawer_movements.all()]
        )


class RefundLine(models.Model):
    """One bill line's part of a refund: how many, and its share of the line's stored amounts."""

    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="lines")
    # Its refund's store (``Refund.store``).
    store = models.ForeignKey("catalog.Store", on_delete=models.PROTECT, related_name="+", db_index=False)
    item = models.ForeignKey(PurchaseItem, on_delete=models.PROTECT, related_name="refund_lines")
    quantity = quantity_field()  # in the bill line's unit
    subtotal = _amount()
    tax_amount = _amount()
    total = _amount()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="refundline_quantity_gt_0"),
            models.CheckConstraint(condition=Q(subtotal__gte=0), name="refundline_subtotal_gte_0"),
            models.CheckConstraint(condition=Q(tax_amount__gte=0), name="refundline_tax_amount_gte_0"),
            models.CheckConstraint(
                condition=_equals("total", F("subtotal") + F("tax_amount")), name="refundline_total"
            ),
            models.UniqueConstraint(fields=["refund", "item"], name="refundline_one_per_item"),
        ]

    def __str__(self):
        return f"{self.quantity_text} × {self.item.product_name}"

    @property
    def quantity_text(self) -> str:
        return quantity_text(self.quantity, self.item.unit)

    @property
    def quantity_json(self) -> int | str:
        return quantity_json(self.quantity, self.item.unit)

    @property
    def discount_percent(self) -> Decimal:
        """The bill line's discount (none before bills carry discounts)."""
        return getattr(self.item, "discount_percent", None) or Decimal("0.00")


class RefundPayment(models.Model):
    """Money paid back by one method (``cash``, or a method the bill was paid with)."""

    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="payments")
    # Its refund's store (``Refund.store``).
    store = models.ForeignKey("catalog.Store", on_delete=models.PROTECT, related_name="+", db_index=False)
    method = models.CharField(max_length=32)
    is_cash = models.BooleanField()
    amount = _amount()
    reference = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refundpayment_amount_gt_0"),
            models.CheckConstraint(condition=~Q(method=""), name="refundpayment_method_not_empty"),
            models.UniqueConstraint(fields=["refund", "method"], name="refundpayment_one_per_method"),
        ]

    def __str__(self):
        return f"{self.method} {self.amount}"


def _sum_of_amounts():
    return models.DecimalField(max_digits=AMOUNT_MAX_DIGITS + 7, decimal_places=2, default=0, db_default=0)


class BillCount(models.Model):
    """How many bills each store has, and the sums of their amounts: the bill list's exact ``count``,
    and the totals above the admin's list of every bill, without reading millions of rows. On
    PostgreSQL a trigger of ``purchases_purchase`` keeps it (migrations 0033 and 0042: every INSERT,
    DELETE and TRUNCATE of bills, and a change of a bill's store or amounts), in the same
    transaction as the bills, so it is exact at every snapshot; the figures are spread over ``slot``
    (the connection's process id modulo ``BILL_COUNT_SLOTS``) so that bills rung up at the same
    moment on other connections never wait on one row. A store's figures are the sums of its slots.
    SQLite has no trigger and reads the bills themselves (``selectors.bill_count``,
    ``reports.stores_purchase_totals``). A slot may go below 0 (a bill deleted from another
    connection than the one that wrote it); a store's sum never does."""

    store_id = models.BigIntegerField()
    slot = models.SmallIntegerField()
    bills = models.BigIntegerField()
    subtotal = _sum_of_amounts()
    tax_total = _sum_of_amounts()
    total = _sum_of_amounts()
    payable = _sum_of_amounts()
    discount_total = _sum_of_amounts()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store_id", "slot"], name="billcount_one_per_store_slot"),
        ]

    def __str__(self):
        return f"{self.bills} bills of store {self.store_id} (slot {self.slot})"


class CustomerFigures(models.Model):
    """Every customer's lifetime figures at once, as ``selectors.customer_list`` works them out one
    customer at a time: the database view ``purchases_customerfigures`` (migration 0043) groups the
    bills by customer, each bill with what its refunds paid back. For ordering all customers by a
    figure (``selectors.customers_by_figures``): one pass over the bills, where a subquery per
    customer is worked out for every customer (8-13 s at 200,000 customers). Read-only; a customer
    without bills has no row."""

    customer = models.OneToOneField(
        "customers.Customer",
        primary_key=True,
        on_delete=models.DO_NOTHING,
        related_name="figures",
        db_column="customer_id",
        db_constraint=False,
    )
    bills = models.BigIntegerField()
    payable = _sum_of_amounts()
    discounts = _sum_of_amounts()
    refunded = _sum_of_amounts()

    class Meta:
        managed = False
        db_table = "purchases_customerfigures"
        verbose_name_plural = "customer figures"

    def __str__(self):
        return f"{self.bills} bills of customer {self.customer_id}"


class DocumentPdf(models.Model):
    """A tax invoice's or a credit note's PDF as rendered for its first print, without a copy mark,
    so that later prints are this file with the DUPLICATE mark laid over it instead of a new layout
    (``documents.copies``). It is a copy of what the bill or refund already holds, kept for a while
    and then dropped (``manage.py prune_document_pdfs``); a later print renders it again."""

    purchase = models.OneToOneField(Purchase, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    refund = models.OneToOneField(Refund, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    pdf = models.BinaryField()
    # The same with the DUPLICATE mark, made by the first reprint: later ones send it as it is.
    duplicate = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(purchase__isnull=False, refund__isnull=True) | Q(purchase__isnull=True, refund__isnull=False)
                ),
                name="documentpdf_one_document",
            ),
        ]

    def __str__(self):
        return f"PDF of bill #{self.purchase_id}" if self.purchase_id else f"PDF of refund #{self.refund_id}"


HELD_NOTE_MAX_LENGTH = 200
HELD_LINES_MAX = 200  # as many lines as a bill may have (services.bills.MAX_LINES)


class HeldBill(models.Model):
    """A parked cart: the lines and the customer of a bill the cashier set aside at a till, to be
    recalled (and then deleted) or discarded. It takes no stock and no money; ``held_bill_create``
    checks its lines as a bill would. ``items`` are ``[{product_id, name, unit, quantity,
    discount_percent}]``, one per product, in the API's forms (an ``each`` quantity an integer, a
    measure's a 3-place string, the discount a 2-place string or null); ``line_count`` is their
    number, so the database can check that a held bill has at least one line."""

    till = models.ForeignKey("cashdrawer.Till", on_delete=models.PROTECT, related_name="+")
    items = models.JSONField(default=list)
    line_count = models.PositiveSmallIntegerField()
    customer_email = models.CharField(max_length=254, blank=True, default="")
    customer_phone = models.CharField(max_length=16, blank=True, default="")  # E.164, as on a customer
    note = models.CharField(max_length=HELD_NOTE_MAX_LENGTH, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["till", "created_at", "id"], name="heldbill_till_oldest_first")]
        constraints = [
            models.CheckConstraint(
                condition=Q(line_count__gte=1, line_count__lte=HELD_LINES_MAX), name="heldbill_line_count_range"
            ),
        ]

    def __str__(self):
        return f"Parked bill #{self.pk} at till {self.till_id}"


# The groupings a rollup row may hold (``purchases.sales_rollups``): the sales report's, less none.
ROLLUP_GROUPINGS = ("day", "hour", "product", "cashier", "till", "payment_method", "tax_rate")


def rollup_amount() -> ScaledIntegerField:
    """A rollup's amount: whole paise in the database, a 2-place Decimal in Python."""
    return ScaledIntegerField(decimal_places=2, default=Decimal("0.00"))


# ``RollupSums``' columns, in their order.
SUMS_COLUMNS: tuple[str, ...] = ("bills", "gross", "discounts", "net_sales", "refunds", "tax", "cost")
SUMS_COLUMNS += ("sold_taxable", "taxable", "quantity", "refunded_quantity")


class RollupSums(models.Model):
    """The sales report's sums a rollup row holds, before rounding and presentation
    (``sales_report.COLLECTORS``): every one a sum or a count over bills and refunds, so rows add up.
    Amounts are kept as whole paise and quantities as thousandths (``bigint``, ``ScaledIntegerField``;
    Python sees 2- and 3-place Decimals): PostgreSQL adds a report's rows of ``bigint`` sums a quarter to
    a half faster than of ``numeric`` ones, in a third of the memory (migration 0037)."""

    bills = models.BigIntegerField(default=0)
    gross = rollup_amount()
    discounts = rollup_amount()
    net_sales = rollup_amount()
    refunds = rollup_amount()
    tax = rollup_amount()
    cost = rollup_amount()
    # The taxable value sold net of refunds (the margin's base) and, by product and tax rate, the
    # lines' taxable value shown; the quantities sold and taken back, by product.
    sold_taxable = rollup_amount()
    taxable = rollup_amount()
    quantity = ScaledIntegerField(decimal_places=3, default=Decimal("0.000"))
    refunded_quantity = ScaledIntegerField(decimal_places=3, default=Decimal("0.000"))

    class Meta:
        abstract = True


class SalesRollup(RollupSums):
    """The sales report's sums of one local day, one store and one key of one grouping, over the bills
    and refunds the seal (``SalesRollupSeal``) covers: those with an id up to its ``bills_through`` and
    ``refunds_through``. Written only by ``sales_rollups.sales_rollup_seal``, which adds each new
    bill's and refund's figures once, set-based, after they committed (never in the bill's own
    transaction). A report reads these rows and the raw rows past the seal together, so it is exact
    (docs/reports.md, "Rollups")."""

    grouping = models.CharField(max_length=16)
    day = models.DateField()
    store = models.ForeignKey("catalog.Store", on_delete=models.PROTECT, related_name="+", db_index=False)
    # The grouping's key as text: the day (ISO), the hour, a product, cashier or till id ("" for
    # none), "m<id>" / "c<code>" / "u" for a payment method, the 2-place tax rate.
    key = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            # Also the index a report reads: one grouping, a range of days, a store or all.
            models.UniqueConstraint(fields=["grouping", "day", "store", "key"], name="salesrollup_one_row"),
            models.CheckConstraint(condition=Q(grouping__in=ROLLUP_GROUPINGS), name="salesrollup_grouping_known"),
            models.CheckConstraint(condition=Q(bills__gte=0), name="salesrollup_bills_gte_0"),
            models.CheckConstraint(
                condition=Q(quantity__gte=0, refunded_quantity__gte=0), name="salesrollup_quantities_gte_0"
            ),
        ]
        indexes = [
            # A report of one store by product reads its days' rows from this index alone (an
            # index-only scan): 54,000 rows of a store's 30 days rather than 1.1 million of all the
            # stores' 30 days, each visited in the table.
            models.Index(
                fields=["store", "day"],
                include=["key", *SUMS_COLUMNS],
                condition=Q(grouping="product"),
                name="salesrollup_product_store_day",
            ),
        ]

    def __str__(self):
        return f"{self.grouping} {self.key} on {self.day} at store {self.store_id}"


class SalesRollupMonth(RollupSums):
    """By product, the whole chain's sums of one local month (``month``, its first day) and one
    product: the ``SalesRollup`` rows of that month by product, of every store, added up. Sealed with
    them (the same ``SalesRollupSeal``, the same transaction), so it holds the same bills and refunds.
    A report of every store reads it for the months its range holds wholly, or mostly (less the day
    rows of the days outside the range), and the day rows for the other days (docs/reports.md,
    "Rollups")."""

    month = models.DateField()
    # The product's id as text ("" for a line of no product), as ``SalesRollup.key``.
    key = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            # Also the index a report reads: a range of months.
            models.UniqueConstraint(fields=["month", "key"], name="salesrollupmonth_one_row"),
            models.CheckConstraint(condition=Q(month__day=1), name="salesrollupmonth_first_day"),
            models.CheckConstraint(condition=Q(bills__gte=0), name="salesrollupmonth_bills_gte_0"),
            models.CheckConstraint(
                condition=Q(quantity__gte=0, refunded_quantity__gte=0), name="salesrollupmonth_quantities_gte_0"
            ),
        ]

    def __str__(self):
        return f"product {self.key} in {self.month:%Y-%m}"


class SalesRollupSeal(models.Model):
    """The one row saying what ``SalesRollup`` holds: every bill with an id up to ``bills_through``
    and every refund up to ``refunds_through`` (all of them committed when the seal read those ids),
    by the local days of ``time_zone``. ``steps``: a random token for each of the last steps that
    added to the rollup, the newest last; a rebuild empties it (``purchases.report_cache``)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    bills_through = models.BigIntegerField(default=0)
    refunds_through = models.BigIntegerField(default=0)
    time_zone = models.CharField(max_length=64)
    sealed_at = models.DateTimeField(default=timezone.now)
    steps = models.JSONField(default=list, db_default=[], blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="salesrollupseal_one_row"),
            models.CheckConstraint(
                condition=Q(bills_through__gte=0, refunds_through__gte=0), name="salesrollupseal_through_gte_0"
            ),
        ]

    def __str__(self):
        return f"Sales rollups through bill {self.bills_through} and refund {self.refunds_through}"
