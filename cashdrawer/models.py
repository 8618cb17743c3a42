from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q, Value
from django.utils import timezone

from billing_project.core.validators import validate_code_text, validate_plain_text
from catalog.stores import default_store_id

from .limits import MAX_COUNT, MAX_DENOMINATIONS, MAX_VALUE

__all__ = [
    "MAX_COUNT",
    "MAX_DENOMINATIONS",
    "MAX_VALUE",
    "CashMovement",
    "Denomination",
    "DrawerMovement",
    "ManagerPin",
    "Override",
    "Till",
    "TillSession",
]
MONEY_DIGITS = 18


def _money(**kwargs):
    return models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=2, **kwargs)


# Invoice and credit-note series (issue 13). A custom series is 1–4 upper-case letters, digits or
# hyphens (the slash separates the parts of a number) and may not have the form of a default: digits
# alone (a till's id, its default invoice series) or C and digits (its default credit series). So
# the defaults of two tills never collide, and no custom series ever takes a default.
SERIES_PATTERN = r"^[A-Z0-9-]{1,4}$"
DEFAULT_FORM_PATTERN = r"^C?[0-9]+$"
# Both rules in one pattern, for the API schema (with a length of 1 to 4): C alone, or a first
# character that is a letter other than C or a hyphen, or a letter or hyphen after a leading digit/C.
CUSTOM_SERIES_PATTERN = r"^(?:C|[A-BD-Z-][A-Z0-9-]*|[0-9C][0-9]*[A-Z-][A-Z0-9-]*)$"


def _custom_series(field: str) -> Q:
    return Q(**{f"{field}__isnull": True}) | (
        Q(**{f"{field}__regex": SERIES_PATTERN}) & ~Q(**{f"{field}__regex": DEFAULT_FORM_PATTERN})
    )


class Till(models.Model):
    """A till: one cash drawer and the shifts (sessions) worked at it."""

    code = models.CharField(
        max_length=16, unique=True, validators=[validate_code_text], help_text="Short unique code, such as T1."
    )
    name = models.CharField(max_length=100, blank=True, validators=[validate_plain_text])
    is_active = models.BooleanField(default=True, help_text="An inactive till takes no bills and opens no session.")
    requires_open_session = models.BooleanField(
        default=False,
        help_text="Refuse bills while no session is open, instead of opening one automatically.",
    )
    # The store the till stands in: its bills take stock from that store and carry its GSTIN. A till
    # made without one is in the default store (``catalog.stores.default_store_id``).
    store = models.ForeignKey("catalog.Store", on_delete=models.PROTECT, related_name="tills", default=default_store_id)
    created_at = models.DateTimeField(default=timezone.now)
    # Null means the default: the till's id for invoices, C and the id for credit notes. Set only
    # through ``till_create`` / ``till_update``, which check uniqueness across both columns of every
    # till under ``series_lock``; the unique constraints backstop each column on its own.
    invoice_series = models.CharField(
        max_length=4,
        null=True,
        blank=True,
        unique=True,
        help_text="1–4 letters, digits or hyphens for this till's invoice numbers. Blank: the till's id.",
    )
    credit_series = models.CharField(
        max_length=4,
        null=True,
        blank=True,
        unique=True,
        help_text="1–4 letters, digits or hyphens for this till's credit notes. Blank: C and the till's id.",
    )

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=~Q(code=""), name="till_code_not_empty"),
            models.CheckConstraint(condition=_custom_series("invoice_series"), name="till_invoice_series_form"),
            models.CheckConstraint(condition=_custom_series("credit_series"), name="till_credit_series_form"),
            models.CheckConstraint(
                condition=Q(invoice_series__isnull=True)
                | Q(credit_series__isnull=True)
                | ~Q(invoice_series=F("credit_series")),
                name="till_series_differ",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name}".strip()

    @property
    def invoice_series_code(self) -> str:
        """The series this till's bills are numbered in."""
        return self.invoice_series or str(self.pk)

    @property
    def credit_series_code(self) -> str:
        """The series this till's credit notes are numbered in."""
        return self.credit_series or f"C{self.pk}"


class Denomination(models.Model):
    """One note or coin value in the drawer, and how many of it the drawer holds now.

    ``count`` is a running total of this denomination's movements; never write it directly:
    go through ``cashdrawer.services`` so the ledger stays in step.
    """

    # Indexed by ``denomination_unique_per_till``, which leads with it.
    till = models.ForeignKey(Till, on_delete=models.PROTECT, related_name="denominations", db_index=False)
    value = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(MAX_VALUE)],
    )
    count = models.IntegerField(default=0, validators=[MinValueValidator(0), MaxValueValidator(MAX_COUNT)])

    class Meta:
        ordering = ["till", "-value"]
        constraints = [
            models.UniqueConstraint(fields=["till", "value"], name="denomination_unique_per_till"),
            models.CheckConstraint(condition=Q(value__gt=0), name="denomination_value_gt_0"),
            models.CheckConstraint(condition=Q(value__lte=MAX_VALUE), name="denomination_value_lte_max"),
            models.CheckConstraint(condition=Q(count__gte=0), name="denomination_count_gte_0"),
            models.CheckConstraint(condition=Q(count__lte=MAX_COUNT), name="denomination_count_lte_max"),
        ]

    def __str__(self):
        return f"{self.value}"

    @property
    def total(self):
        return self.value * self.count


class TillSession(models.Model):
    """A shift at a till: opened with a counted float, closed with a blind count.

    While open, the closing fields are all null; a close fills every one of them and freezes the Z
    report in ``report``. At most one session per till is open (partial unique constraint)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PENDING_APPROVAL = "pending_approval", "Pending approval"
        CLOSED = "closed", "Closed"

    till = models.ForeignKey(Till, on_delete=models.PROTECT, related_name="sessions")
    # The till's store (docs/scale-out.md), copied by the service that writes the row.
    store = models.ForeignKey("catalog.Store", on_delete=models.PROTECT, related_name="+", db_index=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(default=timezone.now, db_index=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    opening_counted = models.JSONField(default=list, help_text="[{value, count}] counted at the open.")
    opening_variance = _money(default=0, help_text="Counted minus expected at the open, in money.")
    auto_opened = models.BooleanField(default=False, help_text="Opened by a bill, at the counts of the moment.")
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closing_counted = models.JSONField(null=True, blank=True, help_text="[{value, count}] counted at the close.")
    expected = models.JSONField(null=True, blank=True, help_text="[{value, count}] the ledger held at the close.")
    variance = models.JSONField(null=True, blank=True, help_text="[{value, count}] counted minus expected, non-zero.")
    variance_total = _money(null=True, blank=True, help_text="Counted value minus expected value (over > 0).")
    report = models.JSONField(null=True, blank=True, help_text="The Z report, frozen at the close.")
    note = models.CharField(max_length=500, blank=True)
    # Who let an opening variance past the limit with an override (null: nobody needed to).
    opening_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Who let the closing variance past the limit: an override at the close, or POST …/approve.
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approval_reason = models.CharField(max_length=500, blank=True, default="", db_default="")
    rejected_counts = models.JSONField(
        default=list,
        db_default=Value([], output_field=models.JSONField()),
        blank=True,
        help_text="Closing counts a manager sent back for a recount: [{counted, counted_by, variance_total, "
        "rejected_by, rejected_at, reason}], oldest first.",
    )

    class Meta:
        ordering = ["-opened_at", "-id"]
        # A store's sessions by time.
        indexes = [models.Index(fields=["store", "opened_at"], name="tillsession_store_opened")]
        permissions = [("approve_variance", "Can close a till session whose variance exceeds the limit")]
        constraints = [
            # One live session per till: open, or counted and waiting for a manager.
            models.UniqueConstraint(
                fields=["till"],
                condition=Q(status__in=["open", "pending_approval"]),
                name="tillsession_one_live_per_till",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "pending_approval", "closed"]), name="tillsession_status_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        status="open",
                        closed_at__isnull=True,
                        closed_by__isnull=True,
                        closing_counted__isnull=True,
                        expected__isnull=True,
                        variance__isnull=True,
                        variance_total__isnull=True,
                        report__isnull=True,
                    )
                    | Q(
                        status="pending_approval",
                        closed_at__isnull=True,
                        closing_counted__isnull=False,
                        expected__isnull=False,
                        variance__isnull=False,
                        variance_total__isnull=False,
                        report__isnull=True,
                    )
                    | Q(
                        status="closed",
                        closed_at__isnull=False,
                        closing_counted__isnull=False,
                        expected__isnull=False,
                        variance__isnull=False,
                        variance_total__isnull=False,
                        report__isnull=False,
                    )
                ),
                name="tillsession_closed_fields_match_status",
            ),
            models.CheckConstraint(
                condition=Q(approval_reason="") | Q(approved_by__isnull=False),
                name="tillsession_reason_has_approver",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=F("opened_at")),
                name="tillsession_closed_after_opened",
            ),
        ]

    def __str__(self):
        return f"Session #{self.pk} at {self.till.code} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING_APPROVAL


class CashMovement(models.Model):
    """Cash paid into or out of a till between bills (a float top-up, a payout, a safe drop).
    Its pieces are the ``cash_in`` / ``cash_out`` rows of the drawer ledger pointing at it."""

    class Direction(models.TextChoices):
        IN = "in", "In"
        OUT = "out", "Out"

    till = models.ForeignKey(Till, on_delete=models.PROTECT, related_name="cash_movements")
    # The till's store (docs/scale-out.md), copied by the service that writes the row.
    store = models.ForeignKey("catalog.Store", on_delete=models.PROTECT, related_name="+", db_index=False)
    session = models.ForeignKey(TillSession, on_delete=models.PROTECT, related_name="cash_movements")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    amount = _money()
    reason = models.CharField(max_length=255)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The manager whose override let a user without add_cashmovement move the cash.
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(direction__in=["in", "out"]), name="cashmovement_direction_valid"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="cashmovement_amount_gt_0"),
            models.CheckConstraint(condition=~Q(reason=""), name="cashmovement_reason_not_empty"),
        ]

    def __str__(self):
        return f"Cash {self.direction} {self.amount} ({self.reason})"

    @property
    def pieces(self) -> list[dict]:
        """``[{value, count}]``, highest value first (reads the prefetched ledger rows)."""
        rows = [{"value": m.denomination.value, "count": abs(m.delta)} for m in self.drawer_movements.all()]
        return sorted(rows, key=lambda row: row["value"], reverse=True)


class DrawerMovement(models.Model):
    """The drawer's ledger: every change to a count, with what caused it. Rows are never changed."""

    class Kind(models.TextChoices):
        TENDER_IN = "tender_in", "Tender in"
        CHANGE_OUT = "change_out", "Change out"
        MANUAL_SET = "manual_set", "Manual set"
        OPEN_COUNT = "open_count", "Open count"
        CLOSE_COUNT = "close_count", "Close count"
        CASH_IN = "cash_in", "Cash in"
        CASH_OUT = "cash_out", "Cash out"
        REFUND_OUT = "refund_out", "Refund out"

    till = models.ForeignKey(Till, on_delete=models.PROTECT, related_name="movements")
    # The till's store (docs/scale-out.md), copied by the service that writes the row from the till,
    # whose own foreign key checks it is a store: no constraint of its own (docs/architecture.md, "A
    # row's store").
    store = models.ForeignKey(
        "catalog.Store", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    session = models.ForeignKey(
        TillSession, on_delete=models.PROTECT, null=True, blank=True, related_name="drawer_movements"
    )
    # Null on a bill's rows: indexed only where set (``drawermovement_cash_movement``).
    cash_movement = models.ForeignKey(
        CashMovement, on_delete=models.PROTECT, null=True, blank=True, related_name="drawer_movements", db_index=False
    )
    denomination = models.ForeignKey(Denomination, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    delta = models.IntegerField()
    count_after = models.IntegerField()
    purchase = models.ForeignKey(
        "purchases.Purchase", on_delete=models.PROTECT, null=True, blank=True, related_name="drawer_movements"
    )
    # The refund that paid these pieces out (kind refund_out). Its bill may be another till's.
    # Null on a bill's rows: indexed only where set (``drawermovement_refund``).
    refund = models.ForeignKey(
        "purchases.Refund",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="drawer_movements",
        db_index=False,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=[field], name=f"drawermovement_{field}", condition=Q(**{f"{field}__isnull": False}))
            for field in ("cash_movement", "refund")
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(delta=0), name="movement_delta_not_0"),
            models.CheckConstraint(condition=Q(count_after__gte=0), name="movement_count_after_gte_0"),
            models.CheckConstraint(
                condition=(
                    Q(
                        kind="tender_in",
                        delta__gt=0,
                        purchase__isnull=False,
                        cash_movement__isnull=True,
                        refund__isnull=True,
                    )
                    | Q(
                        kind="change_out",
                        delta__lt=0,
                        purchase__isnull=False,
                        cash_movement__isnull=True,
                        refund__isnull=True,
                    )
                    | Q(kind="manual_set", purchase__isnull=True, cash_movement__isnull=True, refund__isnull=True)
                    | Q(
                        kind__in=["open_count", "close_count"],
                        purchase__isnull=True,
                        cash_movement__isnull=True,
                        refund__isnull=True,
                        session__isnull=False,
                    )
                    | Q(
                        kind="cash_in",
                        delta__gt=0,
                        purchase__isnull=True,
                        cash_movement__isnull=False,
                        refund__isnull=True,
                    )
                    | Q(
                        kind="cash_out",
                        delta__lt=0,
                        purchase__isnull=True,
                        cash_movement__isnull=False,
                        refund__isnull=True,
                    )
                    | Q(
                        kind="refund_out",
                        delta__lt=0,
                        purchase__isnull=True,
                        cash_movement__isnull=True,
                        refund__isnull=False,
                        session__isnull=False,
                    )
                ),
                name="movement_kind_consistent",
            ),
            models.CheckConstraint(
                condition=Q(cash_movement__isnull=True) | Q(session__isnull=False),
                name="movement_cash_has_session",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.delta:+d} × {self.denomination.value}"

    @property
    def value(self):
        return self.denomination.value

    @property
    def pieces(self) -> int:
        return abs(self.delta)


PIN_PATTERN = r"^[0-9]{4,8}$"


class ManagerPin(models.Model):
    """A manager's override PIN (4 to 8 digits, stored hashed as a password is), and the run of
    failed overrides against it. Five failures in a row lock it for 15 minutes (``locked_until``),
    in the database, so every worker sees the lockout."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="manager_pin")
    pin_hash = models.CharField(max_length=200)
    failures = models.PositiveSmallIntegerField(default=0, help_text="Failed overrides in a row.")
    locked_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(pin_hash=""), name="managerpin_hash_not_empty"),
            models.CheckConstraint(condition=Q(failures__gte=0, failures__lte=5), name="managerpin_failures_range"),
        ]

    def __str__(self):
        return f"PIN of {self.user}"


class Override(models.Model):
    """One manager override asked for at a till: granted (a single-use token for one action, good
    for ``OVERRIDE_TTL_SECONDS``), refused (a wrong PIN, a user without ``approve_override``) or
    locked (the PIN was locked). The audit list of overrides; rows are never deleted by the app.
    Only the token's SHA-256 is kept."""

    class Action(models.TextChoices):
        DISCOUNT = "discount", "Discount above the limit"
        REFUND = "refund", "Refund"
        CASH_MOVEMENT = "cash_movement", "Cash in or out"
        OPEN_VARIANCE = "open_variance", "Opening variance"
        CLOSE_VARIANCE = "close_variance", "Closing variance"
        PRICE_OVERRIDE = "price_override", "Price override"

    class Outcome(models.TextChoices):
        GRANTED = "granted", "Granted"
        REFUSED = "refused", "Refused"
        LOCKED = "locked", "Locked"

    action = models.CharField(max_length=16, choices=Action.choices)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    username = models.CharField(max_length=150, help_text="The manager's username, as typed.")
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The user of that username, if there is one.",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    till = models.ForeignKey(Till, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    token_digest = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    used_on = models.CharField(max_length=100, blank=True, help_text="What the token was used on: bill 12, refund 3…")

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("approve_override", "Can approve a cashier's action with a manager PIN")]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    action__in=[
                        "discount",
                        "refund",
                        "cash_movement",
                        "open_variance",
                        "close_variance",
                        "price_override",
                    ]
                ),
                name="override_action_valid",
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=["granted", "refused", "locked"]), name="override_outcome_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(outcome="granted", manager__isnull=False, token_digest__isnull=False, expires_at__isnull=False)
                    | Q(outcome__in=["refused", "locked"], token_digest__isnull=True, expires_at__isnull=True)
                ),
                name="override_outcome_fields",
            ),
            models.CheckConstraint(
                condition=Q(used_at__isnull=True, used_on="") | Q(outcome="granted", used_at__isnull=False),
                name="override_used_only_granted",
            ),
        ]

    def __str__(self):
        return f"{self.get_action_display()} by {self.username}: {self.outcome}"
