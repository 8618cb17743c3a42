from decimal import Decimal
from typing import ClassVar

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from billing_project.core.api.fields import (
    MoneyField,
    PlainDecimalField,
    PlainTextField,
    StrictBooleanField,
    StrictIntegerField,
    StrictRegexField,
)

from .models import (
    CUSTOM_SERIES_PATTERN,
    MAX_COUNT,
    MAX_VALUE,
    MONEY_DIGITS,
    PIN_PATTERN,
    CashMovement,
    Denomination,
    Override,
    Till,
    TillSession,
)


class DenominationSerializer(serializers.ModelSerializer):
    """One note or coin value in a till's drawer, and how many of it the drawer holds (null for a user
    without `approve_variance`: the close is blind, so a cashier never sees what the drawer holds)."""

    value = MoneyField(min_value=Decimal("0.01"), max_value=MAX_VALUE)
    available_count = StrictIntegerField(source="count", min_value=0, max_value=MAX_COUNT, default=0, allow_null=True)

    def validate_available_count(self, value):
        # Null only in answers (a blind user's); a count sent is a number.
        if value is None:
            raise serializers.ValidationError("This field may not be null.", code="null")
        return value

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if self.context.get("blind"):
            data["available_count"] = None
        return data

    class Meta:
        model = Denomination
        fields = ["value", "available_count"]
        validators: list = []


class DenominationCountSerializer(serializers.Serializer):
    """A new count for one value of the drawer, recorded in the drawer's ledger as a manual movement."""

    available_count = StrictIntegerField(min_value=0, max_value=MAX_COUNT)
    reason = PlainTextField(max_length=255, required=False, allow_blank=True, default="")


# --- Tills and sessions ---------------------------------------------------------------------------


class TillSerializer(serializers.ModelSerializer):
    """A till: a cash drawer with its own sessions (shifts) and its own invoice and credit-note series."""

    current_session = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The open session's id, or null."
    )

    code = PlainTextField(code=True, max_length=16, help_text="Short unique code, such as T1.")
    name = PlainTextField(max_length=100, required=False, allow_blank=True, default="")
    is_active = StrictBooleanField(required=False, help_text="An inactive till takes no bills and opens no session.")
    requires_open_session = StrictBooleanField(
        required=False, help_text="Refuse bills while no session is open, instead of opening one automatically."
    )
    invoice_series = StrictRegexField(
        CUSTOM_SERIES_PATTERN,
        max_length=4,
        required=False,
        allow_null=True,
        help_text="The invoice series (1–4 of A–Z, 0–9, -), unique across every series of every till; not digits "
        "alone nor C and digits (the defaults). Null: the default, the till's id.",
    )
    credit_series = StrictRegexField(
        CUSTOM_SERIES_PATTERN,
        max_length=4,
        required=False,
        allow_null=True,
        help_text="The credit-note series, under the same rules. Null: the default, C and the till's id.",
    )
    store = serializers.IntegerField(
        source="store_id",
        required=False,
        min_value=1,
        help_text="The store the till stands in (an id). Default: the default store. It can change only before the "
        "till's first session.",
    )
    invoice_series_code = serializers.CharField(read_only=True, help_text="The series bills are numbered in.")
    credit_series_code = serializers.CharField(read_only=True, help_text="The series credit notes are numbered in.")

    class Meta:
        model = Till
        fields = [
            "id",
            "code",
            "name",
            "is_active",
            "requires_open_session",
            "store",
            "invoice_series",
            "credit_series",
            "invoice_series_code",
            "credit_series_code",
            "current_session",
        ]
        read_only_fields = ["id", "current_session", "invoice_series_code", "credit_series_code"]
        extra_kwargs: ClassVar[dict] = {"code": {"validators": []}}  # a duplicate is 409 till_exists, from the service


@extend_schema_serializer(component_name="DrawerCount")
class CountSerializer(serializers.Serializer):
    """How many notes or coins of one value the drawer holds: as counted at a session's open or close, or
    as the drawer's ledger expects."""

    value = MoneyField(min_value=Decimal("0.01"), max_value=MAX_VALUE)
    count = StrictIntegerField(min_value=0, max_value=MAX_COUNT)


@extend_schema_serializer(component_name="DrawerCountVariance")
class SignedCountSerializer(serializers.Serializer):
    """The difference found at a session's close for one value: counted minus expected."""

    value = MoneyField(min_value=Decimal("0.01"), max_value=MAX_VALUE)
    count = serializers.IntegerField(help_text="Counted minus expected: negative when short.")


@extend_schema_serializer(component_name="CashMovementNotesAndCoins")
class PieceSerializer(serializers.Serializer):
    """Notes or coins of one value moved into or out of the drawer: `count` of them, each worth `value`."""

    value = MoneyField(min_value=Decimal("0.01"), max_value=MAX_VALUE)
    count = StrictIntegerField(min_value=1, max_value=MAX_COUNT)


class SessionCountSerializer(serializers.Serializer):
    """A count of the whole drawer, to open a session (the float) or to close it (a blind count)."""

    counted = CountSerializer(  # type: ignore[call-arg]  # DRF takes max_length with many=True
        many=True, allow_empty=True, max_length=100, help_text="What is in the drawer. A value left out counts as 0."
    )
    note = PlainTextField(max_length=500, required=False, allow_blank=True, default="")
    override_token = PlainTextField(
        max_length=100,
        required=False,
        help_text="A manager's single-use token (`POST /overrides`): `open_variance` to open, `close_variance` to "
        "close, with a variance past `CASH_VARIANCE_LIMIT`.",
    )


class RejectedCountSerializer(serializers.Serializer):
    """A closing count a manager sent back for a recount."""

    counted = CountSerializer(many=True, help_text="What was counted.")
    counted_by = serializers.CharField(allow_null=True, help_text="Who counted (username).")
    variance_total = MoneyField(
        max_digits=MONEY_DIGITS, allow_null=True, help_text="Its variance; null for a user without approve_variance."
    )
    rejected_by = serializers.CharField(allow_null=True, help_text="The manager who sent it back (username).")
    rejected_at = serializers.DateTimeField()
    reason = serializers.CharField(help_text="Why.")


class SessionDecisionSerializer(serializers.Serializer):
    """A manager's decision on a count waiting for approval: why."""

    reason = PlainTextField(max_length=500, allow_blank=False, help_text="Required: why.")


class SessionSerializer(serializers.ModelSerializer):
    """A till session (a shift): opened with the counted float, closed with a blind count of the drawer.
    The close fills in what the ledger expected and the variance."""

    till = serializers.IntegerField(source="till_id")
    opened_by = serializers.IntegerField(source="opened_by_id", allow_null=True)
    closed_by = serializers.IntegerField(source="closed_by_id", allow_null=True)
    opening_counted = CountSerializer(many=True)
    opening_variance = MoneyField(max_digits=MONEY_DIGITS, help_text="Counted minus expected at the open.")
    closing_counted = CountSerializer(many=True, allow_null=True)
    expected = CountSerializer(many=True, allow_null=True, help_text="The ledger's counts at the close.")
    variance = SignedCountSerializer(many=True, allow_null=True, help_text="Counted minus expected, non-zero rows.")
    variance_total = MoneyField(
        max_digits=MONEY_DIGITS, allow_null=True, help_text="Counted value minus expected cash: over > 0, short < 0."
    )
    held_bills_left = serializers.SerializerMethodField(
        help_text="Parked carts left at the till when the session closed (its Z report's); null while open."
    )
    opening_approved_by = serializers.IntegerField(
        source="opening_approved_by_id",
        allow_null=True,
        help_text="The manager whose override let the opening variance past the limit, or null.",
    )
    approved_by = serializers.IntegerField(
        source="approved_by_id",
        allow_null=True,
        help_text="The manager who let the closing variance past the limit (an override, or `approve`), or null.",
    )
    approval_reason = serializers.CharField(help_text="Why the manager approved the count (`approve`), or empty.")
    rejected_counts = RejectedCountSerializer(
        many=True, help_text="Closing counts a manager sent back for a recount, oldest first."
    )

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if self.context.get("blind"):
            data["expected"] = data["variance"] = data["variance_total"] = None
            for row in data["rejected_counts"]:
                row["variance_total"] = None
        return data

    class Meta:
        model = TillSession
        fields = [
            "id",
            "till",
            "status",
            "opened_at",
            "opened_by",
            "opening_counted",
            "opening_variance",
            "auto_opened",
            "closed_at",
            "closed_by",
            "closing_counted",
            "expected",
            "variance",
            "variance_total",
            "held_bills_left",
            "note",
            "opening_approved_by",
            "approved_by",
            "approval_reason",
            "rejected_counts",
        ]
        read_only_fields = fields

    def get_held_bills_left(self, session) -> int | None:
        return session.report.get("held_bills_left", 0) if session.report else None


class CashMovementCreateSerializer(serializers.Serializer):
    """Cash paid into or out of the till outside a bill: a float top-up, a payout, a safe drop."""

    direction = serializers.ChoiceField(choices=CashMovement.Direction.choices)
    pieces = PieceSerializer(many=True, allow_empty=False, max_length=100)  # type: ignore[call-arg]  # as above
    reason = PlainTextField(max_length=255, allow_blank=False, help_text="Required: why the cash moves.")
    override_token = PlainTextField(
        max_length=100,
        required=False,
        help_text="A manager's single-use token for `cash_movement` (`POST /overrides`), for a user without "
        "`add_cashmovement`.",
    )


class CashMovementSerializer(serializers.ModelSerializer):
    """A cash movement as recorded in the session."""

    session = serializers.IntegerField(source="session_id")
    user = serializers.IntegerField(source="user_id", allow_null=True)
    approved_by = serializers.IntegerField(
        source="approved_by_id", allow_null=True, help_text="The manager whose override allowed it, or null."
    )
    pieces = PieceSerializer(many=True)
    amount = MoneyField(max_digits=MONEY_DIGITS)

    class Meta:
        model = CashMovement
        fields = ["id", "session", "direction", "pieces", "amount", "reason", "created_at", "user", "approved_by"]
        read_only_fields = fields


def _report_amount(**kwargs) -> MoneyField:
    # Sums over a whole session: wider than one bill's amounts, and signed (a variance can be short).
    # Documentation only, as the whole report: cashdrawer.reports builds it.
    return MoneyField(max_digits=20, **kwargs)


class SessionReportTaxRateSerializer(serializers.Serializer):
    """The session's bills at one tax rate: the taxable value and the tax on it."""

    tax_percent = PlainDecimalField(max_digits=5, decimal_places=2, help_text="The tax rate.")
    taxable = _report_amount(help_text="The lines' taxable value (after discounts) at this rate.")
    tax = _report_amount(help_text="The tax on them.")


class SessionReportPaymentSerializer(serializers.Serializer):
    """What the session's bills took by one payment method."""

    method = serializers.CharField(help_text="The payment method's code: `cash`, `card`, `upi`…")
    amount = _report_amount(help_text="Taken by this method; for cash, net of the change handed back.")


class SessionReportRefundsSerializer(serializers.Serializer):
    """The refunds paid out in the session."""

    count = serializers.IntegerField(help_text="Refunds paid out in the session.")
    total = _report_amount(help_text="What they paid back, by every method.")


class SessionReportCashSerializer(serializers.Serializer):
    """The drawer's cash over the session, from its ledger:
    `expected` = `opening` + `sales` − `change_given` + `cash_in` − `cash_out` − `refunds`."""

    opening = _report_amount(help_text="The float counted at the open.")
    sales = _report_amount(help_text="Cash tendered for the session's bills.")
    change_given = _report_amount(help_text="Change handed back on those bills.")
    cash_in = _report_amount(help_text="Cash paid in (float top-ups, and counts set up by a manager).")
    cash_out = _report_amount(help_text="Cash paid out (payouts, safe drops, and counts set down by a manager).")
    refunds = _report_amount(help_text="Cash handed back by the session's refunds.")
    expected = _report_amount(
        allow_null=True,
        help_text="What the drawer should hold now (or held at the close); null for a user without approve_variance.",
    )
    uncounted_cash = _report_amount(help_text="Cash taken without its notes: in `sales`, not in the counts.")
    counted = _report_amount(
        allow_null=True,
        help_text="The value counted at the close; null in the X report and for a user without approve_variance.",
    )
    variance = _report_amount(
        allow_null=True,
        help_text="`counted` − `expected`; null in the X report and for a user without approve_variance.",
    )


class SessionReportSerializer(serializers.Serializer):
    """A till session's report: the X report while the session is open (figures as of now), the Z report
    once it is closed (frozen at the close, never recomputed). Amounts are decimal strings with 2 places."""

    session = serializers.IntegerField(help_text="The session's id.")
    till = serializers.IntegerField(help_text="The till's id.")
    status = serializers.ChoiceField(
        choices=TillSession.Status.choices,
        help_text="`open` (or `pending_approval`): an X report; `closed`: the Z report.",
    )
    opened_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True, help_text="Null while the session is open.")
    bills = serializers.IntegerField(help_text="Bills rung up in the session.")
    gross_sales = _report_amount(help_text="The bills' totals (subtotal + tax), before cash rounding.")
    tax_total = _report_amount(help_text="The bills' tax.")
    tax_by_rate = SessionReportTaxRateSerializer(many=True, help_text="By tax rate, lowest first.")
    rounding_total = _report_amount(help_text="The bills' cash rounding.")
    discount_total = _report_amount(
        required=False, help_text="The bills' discounts (absent from Z reports closed before discounts existed)."
    )
    payments = SessionReportPaymentSerializer(
        many=True, help_text="By payment method, cash first; together they add up to the bills' payable."
    )
    refunds = SessionReportRefundsSerializer()
    held_bills_left = serializers.IntegerField(
        required=False,
        help_text="Parked carts at the till: now on an X report, left at the close on a Z report (absent from "
        "Z reports closed before parking existed).",
    )
    cash = SessionReportCashSerializer()
    counted_by = serializers.CharField(
        required=False, allow_null=True, help_text="Z report: who counted the drawer at the close (username)."
    )
    approved_by = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="Z report: the manager who approved a count past the limit (username), or null.",
    )
    approval_reason = serializers.CharField(required=False, help_text="Z report: why the manager approved it.")


# --- Manager overrides ----------------------------------------------------------------------------

OVERRIDE_ACTIONS_DOC = "`discount`, `refund`, `cash_movement`, `open_variance`, `close_variance` or `price_override`."


class PinSetSerializer(serializers.Serializer):
    """A manager sets their own override PIN; their password confirms it."""

    password = serializers.CharField(max_length=128, trim_whitespace=False, help_text="The user's own password.")
    pin = StrictRegexField(PIN_PATTERN, max_length=8, help_text="4 to 8 digits.")


class OverrideCreateSerializer(serializers.Serializer):
    """A manager's username and PIN, typed at the till, for one action."""

    username = PlainTextField(max_length=150, help_text="The manager's username.")
    pin = StrictRegexField(PIN_PATTERN, max_length=8, help_text="The manager's PIN, 4 to 8 digits.")
    action = serializers.ChoiceField(choices=Override.Action.choices, help_text=OVERRIDE_ACTIONS_DOC)
    till = StrictIntegerField(
        min_value=1, max_value=2**63 - 1, required=False, help_text="The till (id), for the audit."
    )


class OverrideGrantSerializer(serializers.Serializer):
    """A granted override: a single-use token for one action, good for 120 seconds. Send it as the
    action's `override_token`."""

    token = serializers.CharField(help_text="Single use; only its hash is stored.")
    action = serializers.ChoiceField(choices=Override.Action.choices)
    approved_by = serializers.IntegerField(help_text="The manager's user id.")
    approved_by_username = serializers.CharField(help_text="The manager's username.")
    expires_at = serializers.DateTimeField()


class OverrideSerializer(serializers.ModelSerializer):
    """One override asked for at a till, granted or refused: the audit list."""

    manager = serializers.IntegerField(source="manager_id", allow_null=True, help_text="The manager's id, if known.")
    requested_by = serializers.IntegerField(source="requested_by_id", allow_null=True, help_text="Who asked.")
    till = serializers.IntegerField(source="till_id", allow_null=True)
    used_by = serializers.IntegerField(source="used_by_id", allow_null=True)

    class Meta:
        model = Override
        fields = [
            "id",
            "action",
            "outcome",
            "username",
            "manager",
            "requested_by",
            "till",
            "created_at",
            "expires_at",
            "used_at",
            "used_by",
            "used_on",
        ]
        read_only_fields = fields
