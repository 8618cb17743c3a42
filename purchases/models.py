from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.utils import timezone

from cashdrawer.models import DrawerMovement

# Bill amounts: NUMERIC(18, 2). purchase_create refuses a bill that would not fit.
AMOUNT_MAX_DIGITS = 18


def _equals(field: str, expression) -> Q:
    """``field == expression`` for 2-place amounts. Written as "within half a cent" because SQLite
    evaluates CHECK arithmetic in floating point; with NUMERIC(…, 2) columns on PostgreSQL the
    two forms are equivalent, as any difference is a multiple of 0.01."""
    half_cent = Value(Decimal("0.005"))
    return Q(**{f"{field}__gt": expression - half_cent, f"{field}__lt": expression + half_cent})


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
SEQUENCE_MAX = 999_999


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
                condition=Q(last_number__gte=1, last_number__lte=SEQUENCE_MAX), name="documentcounter_number_range"
            ),
            models.CheckConstraint(condition=Q(financial_year__regex=r"^[0-9]{4}$"), name="documentcounter_year_form"),
        ]

    def __str__(self):
        return f"{self.series}/{self.financial_year}: {self.last_number}"


# A bill's amounts and a line's fields, in the order every view of a bill shows them.
AMOUNT_FIELDS = ("subtotal", "tax_total", "total", "rounding", "payable", "paid_amount", "change_due")
LINE_FIELDS = ("product_id", "product_name", "quantity", "unit_price", "tax_percent", "subtotal", "tax_amount", "total")


class Purchase(models.Model):
    """A bill. Written once by ``purchase_create`` and never changed, except for the ``invoice_*``
    fields, which only ``purchases.invoices`` writes."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="purchases")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The till whose drawer took the cash, and its session. Null only for a bill written outside
    # purchase_create (bills from before tills were given MAIN by the migration).
    till = models.ForeignKey("cashdrawer.Till", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # The tax invoice number, e.g. M/2627/000123: given by ``purchases.numbering`` in the bill's own
    # transaction, in the same UPDATE that records the till, so every bill with a till has one.
    number = models.CharField(max_length=NUMBER_MAX_LENGTH, null=True, blank=True, unique=True)
    # When the original tax invoice PDF was made (by the worker, or by the first print); every
    # later print is marked DUPLICATE.
    invoice_issued_at = models.DateTimeField(null=True, blank=True)
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

    # The invoice email's delivery. ``invoice_round`` goes up with every re-send, so a queued job
    # of an earlier round finds it changed and does nothing.
    invoice_status = models.CharField(max_length=8, choices=InvoiceStatus.choices, default=InvoiceStatus.PENDING)
    invoice_round = models.PositiveIntegerField(default=0)
    invoice_attempts = models.PositiveIntegerField(default=0)
    invoice_sent_at = models.DateTimeField(null=True, blank=True)
    invoice_last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("resend_invoice", "Can re-send invoice emails")]
        indexes = [models.Index(fields=["customer", "-created_at"], name="purchase_customer_created")]
        constraints = [
            models.CheckConstraint(condition=Q(subtotal__gte=0), name="purchase_subtotal_gte_0"),
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
                condition=Q(invoice_status__in=InvoiceStatus.values), name="purchase_invoice_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(invoice_status=InvoiceStatus.SENT) | Q(invoice_sent_at__isnull=False),
                name="purchase_invoice_sent_has_time",
            ),
        ]

    def __str__(self):
        return f"Bill {self.number}" if self.number else f"Bill #{self.pk}"

    def _movements(self, kind):
        # Reads the prefetched ledger rows when the selector prefetched them.
        return [m for m in self.drawer_movements.all() if m.kind == kind]

    @property
    def tendered(self) -> list[dict]:
        return _pieces(self._movements(DrawerMovement.Kind.TENDER_IN))

    @property
    def change(self) -> list[dict]:
        return _pieces(self._movements(DrawerMovement.Kind.CHANGE_OUT))


def _pieces(movements) -> list[dict]:
    return largest_first([{"value": m.denomination.value, "count": m.pieces} for m in movements])


def largest_first(pieces: list[dict]) -> list[dict]:
    """``[{value, count}]`` largest value first, as the cashier hands them over."""
    return sorted(pieces, key=lambda piece: piece["value"], reverse=True)


class PurchaseItem(models.Model):
    """A bill line: a snapshot of the product's name, price and tax at the time of sale."""

    purchase = models.ForeignKey(Purchase, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="purchase_items")
    product_name = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    tax_percent = models.DecimalField(max_digits=5, decimal_places=2)
    subtotal = _amount()
    tax_amount = _amount()
    total = _amount()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="purchaseitem_quantity_gt_0"),
            models.CheckConstraint(condition=Q(unit_price__gt=0), name="purchaseitem_unit_price_gt_0"),
            models.CheckConstraint(
                condition=Q(tax_percent__gte=0, tax_percent__lte=100), name="purchaseitem_tax_percent_0_100"
            ),
            models.CheckConstraint(
                condition=_equals("subtotal", F("unit_price") * F("quantity")), name="purchaseitem_subtotal"
            ),
            models.CheckConstraint(
                condition=_equals("total", F("subtotal") + F("tax_amount")), name="purchaseitem_total"
            ),
            models.UniqueConstraint(fields=["purchase", "product"], name="purchaseitem_one_line_per_product"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.product_name}"
