from decimal import Decimal
from typing import ClassVar

from rest_framework import serializers

from billing_project.api.fields import MoneyField, PlainTextField, StrictIntegerField

from .models import (
    CUSTOM_SERIES_PATTERN,
    MAX_COUNT,
    MAX_VALUE,
    MONEY_DIGITS,
    CashMovement,
    Denomination,
    Till,
    TillSession,
)


class DenominationSerializer(serializers.ModelSerializer):
    value = MoneyField(min_value=Decimal("0.01"), max_value=MAX_VALUE)
    available_count = StrictIntegerField(source="count", min_value=0, max_value=MAX_COUNT, default=0)

    class Meta:
        model = Denomination
        fields = ["value", "available_count"]
        validators: list = []


class DenominationCountSerializer(serializers.Serializer):
    available_count = StrictIntegerField(min_value=0, max_value=MAX_COUNT)
    reason = PlainTextField(max_length=255, required=False, allow_blank=True, default="")


# --- Tills and sessions ---------------------------------------------------------------------------


class TillSerializer(serializers.ModelSerializer):
    current_session = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The open session's id, or null."
    )

    code = PlainTextField(code=True, max_length=16, help_text="Short unique code, such as T1.")
    name = PlainTextField(max_length=100, required=False, allow_blank=True, default="")
    invoice_series = serializers.RegexField(
        CUSTOM_SERIES_PATTERN,
        max_length=4,
        required=False,
        allow_null=True,
        help_text="The invoice series (1–4 of A–Z, 0–9, -), unique across every series of every till; not digits "
        "alone nor C and digits (the defaults). Null: the default, the till's id.",
    )
    credit_series = serializers.RegexField(
        CUSTOM_SERIES_PATTERN,
        max_length=4,
        required=False,
        allow_null=True,
        help_text="The credit-note series, under the same rules. Null: the default, C and the till's id.",
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
            "invoice_series",
            "credit_series",
            "invoice_series_code",
            "credit_series_code",
            "current_session",
        ]
        read_only_fields = ["id", "current_session", "invoice_series_code", "credit_series_code"]
        extra_kwargs: ClassVar[dict] = {"code": {"validators": []}}  # a duplicate is 409 till_exists, from the service


class CountSerializer(serializers.Serializer):
    value = MoneyField(min_value=Decimal("0.01"), max_value=MAX_VALUE)
    count = StrictIntegerField(min_value=0, max_value=MAX_COUNT)


class SignedCountSerializer(serializers.Serializer):
    value = MoneyField(min_value=Decimal("0.01"), max_value=MAX_VALUE)
    count = serializers.IntegerField(help_text="Counted minus expected: negative when short.")


class PieceSerializer(serializers.Serializer):
    value = MoneyField(min_value=Decimal("0.01"), max_value=MAX_VALUE)
    count = StrictIntegerField(min_value=1, max_value=MAX_COUNT)


class SessionCountSerializer(serializers.Serializer):
    counted = CountSerializer(  # type: ignore[call-arg]  # DRF takes max_length with many=True
        many=True, allow_empty=True, max_length=100, help_text="What is in the drawer. A value left out counts as 0."
    )
    note = PlainTextField(max_length=500, required=False, allow_blank=True, default="")


class SessionSerializer(serializers.ModelSerializer):
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
            "note",
        ]
        read_only_fields = fields


class CashMovementCreateSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(choices=CashMovement.Direction.choices)
    pieces = PieceSerializer(many=True, allow_empty=False, max_length=100)  # type: ignore[call-arg]  # as above
    reason = PlainTextField(max_length=255, allow_blank=False, help_text="Required: why the cash moves.")


class CashMovementSerializer(serializers.ModelSerializer):
    session = serializers.IntegerField(source="session_id")
    user = serializers.IntegerField(source="user_id", allow_null=True)
    pieces = PieceSerializer(many=True)
    amount = MoneyField(max_digits=MONEY_DIGITS)

    class Meta:
        model = CashMovement
        fields = ["id", "session", "direction", "pieces", "amount", "reason", "created_at", "user"]
        read_only_fields = fields


class _TaxRateSerializer(serializers.Serializer):
    tax_percent = serializers.CharField()
    taxable = serializers.CharField()
    tax = serializers.CharField()


class _PaymentSerializer(serializers.Serializer):
    method = serializers.CharField()
    amount = serializers.CharField()


class _ReportRefundsSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Refunds paid out in the session.")
    total = serializers.CharField(help_text="What they paid back, by every method.")


class _ReportCashSerializer(serializers.Serializer):
    opening = serializers.CharField()
    sales = serializers.CharField(help_text="Cash tendered for the session's bills.")
    change_given = serializers.CharField()
    cash_in = serializers.CharField()
    cash_out = serializers.CharField()
    refunds = serializers.CharField(help_text="Cash handed back by the session's refunds.")
    expected = serializers.CharField(help_text="opening + sales − change_given + cash_in − cash_out − refunds")
    uncounted_cash = serializers.CharField(help_text="Cash taken without its notes: in `sales`, not in the counts.")
    counted = serializers.CharField(allow_null=True, help_text="Null in the X report.")
    variance = serializers.CharField(allow_null=True, help_text="Counted − expected; null in the X report.")


class SessionReportSerializer(serializers.Serializer):
    """Documentation only: the report is built by ``cashdrawer.reports``. Amounts are 2-place strings."""

    session = serializers.IntegerField()
    till = serializers.IntegerField()
    status = serializers.CharField()
    opened_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    bills = serializers.IntegerField()
    gross_sales = serializers.CharField()
    tax_total = serializers.CharField()
    tax_by_rate = _TaxRateSerializer(many=True)
    rounding_total = serializers.CharField()
    payments = _PaymentSerializer(many=True)
    refunds = _ReportRefundsSerializer()
    cash = _ReportCashSerializer()
