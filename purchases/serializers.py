from decimal import Decimal

from rest_framework import serializers

from billing_project.api.fields import EmailAddressField, MoneyField, PlainDecimalField, StrictIntegerField
from billing_project.api.serializers import FastOutputMixin
from cashdrawer.models import MAX_COUNT

from .models import AMOUNT_FIELDS, AMOUNT_MAX_DIGITS, LINE_FIELDS, InvoiceStatus, Purchase, PurchaseItem
from .services import MAX_LINES

MAX_QUANTITY = 1_000_000
MAX_ID = 2**63 - 1


class PurchaseLineInputSerializer(serializers.Serializer):
    product_id = StrictIntegerField(min_value=1, max_value=MAX_ID)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY)


class PiecesSerializer(FastOutputMixin, serializers.Serializer):
    value = MoneyField(min_value=Decimal("0.01"))
    count = StrictIntegerField(min_value=1, max_value=MAX_COUNT)


class PurchaseCreateSerializer(serializers.Serializer):
    customer_email = EmailAddressField()
    # max_length goes to the ListSerializer that many=True builds; the stub does not know it.
    items = PurchaseLineInputSerializer(many=True, allow_empty=False, max_length=MAX_LINES)  # type: ignore[call-arg]
    paid_amount = MoneyField(max_digits=AMOUNT_MAX_DIGITS, min_value=Decimal("0"))
    tendered = PiecesSerializer(  # type: ignore[call-arg]  # max_length, as above
        many=True,
        required=False,
        max_length=100,
        help_text="The notes and coins handed over. When given, they must add up to `paid_amount`.",
    )
    send_invoice = serializers.BooleanField(
        default=True, help_text="Email the invoice to the customer. False when the customer declines."
    )
    till = StrictIntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        help_text="The till (id) whose drawer takes the cash. Default: the `DEFAULT_TILL`.",
    )


class PurchaseItemSerializer(FastOutputMixin, serializers.ModelSerializer):
    product_id = serializers.IntegerField()
    unit_price = MoneyField()
    tax_percent = PlainDecimalField(max_digits=5, decimal_places=2)
    subtotal = MoneyField(max_digits=AMOUNT_MAX_DIGITS)
    tax_amount = MoneyField(max_digits=AMOUNT_MAX_DIGITS)
    total = MoneyField(max_digits=AMOUNT_MAX_DIGITS)

    class Meta:
        model = PurchaseItem
        fields = list(LINE_FIELDS)


class InvoiceEmailStatusSerializer(FastOutputMixin, serializers.ModelSerializer):
    status = serializers.ChoiceField(
        source="invoice_status",
        choices=InvoiceStatus.choices,
        help_text="`pending` (queued or being retried), `sent`, `failed` (gave up) or `skipped` (declined).",
    )
    sent_at = serializers.DateTimeField(
        source="invoice_sent_at", allow_null=True, help_text="When the invoice was last sent."
    )
    attempts = serializers.IntegerField(source="invoice_attempts", help_text="Attempts in the latest (re-)send.")
    last_error = serializers.CharField(
        source="invoice_last_error", help_text="The last failed attempt's error; empty once sent."
    )

    class Meta:
        model = Purchase
        fields = ["status", "sent_at", "attempts", "last_error"]
        read_only_fields = fields


class PurchaseSerializer(FastOutputMixin, serializers.ModelSerializer):
    customer_email = serializers.CharField(source="customer.email")
    items = PurchaseItemSerializer(many=True)
    subtotal = MoneyField(max_digits=AMOUNT_MAX_DIGITS)
    tax_total = MoneyField(max_digits=AMOUNT_MAX_DIGITS)
    total = MoneyField(max_digits=AMOUNT_MAX_DIGITS)
    rounding = MoneyField(max_digits=AMOUNT_MAX_DIGITS)
    payable = MoneyField(max_digits=AMOUNT_MAX_DIGITS)
    paid_amount = MoneyField(max_digits=AMOUNT_MAX_DIGITS)
    change_due = MoneyField(max_digits=AMOUNT_MAX_DIGITS)
    change = PiecesSerializer(many=True, help_text="The notes and coins handed back, largest first.")
    tendered = PiecesSerializer(many=True, help_text="The notes and coins handed over, largest first.")
    invoice_email_status = InvoiceEmailStatusSerializer(source="*", read_only=True)
    number = serializers.CharField(
        allow_null=True, help_text="The tax invoice number, such as M/2627/000123 (null only for bills without a till)."
    )
    till = serializers.IntegerField(source="till_id", allow_null=True, help_text="The till's id.")
    session = serializers.IntegerField(source="session_id", allow_null=True, help_text="The till session's id.")

    class Meta:
        model = Purchase
        fields = [
            "id",
            "number",
            "customer_email",
            "created_at",
            "till",
            "session",
            "items",
            *AMOUNT_FIELDS,
            "change",
            "tendered",
            "invoice_email_status",
        ]
        read_only_fields = fields
