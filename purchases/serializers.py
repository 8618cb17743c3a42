from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from billing_project.core.api.fast_input import reshapes_errors_only
from billing_project.core.api.fields import (
    EmailAddressField,
    MobileNumberField,
    MoneyField,
    PlainDecimalField,
    PlainTextField,
    QuantityInputField,
    QuantityValueField,
    StrictBooleanField,
    StrictIntegerField,
    StrictRegexField,
    UnitQuantityField,
)
from billing_project.core.api.serializers import FastInputMixin, FastOutputMixin
from billing_project.core.quantities import Unit
from cashdrawer.models import MAX_COUNT
from customers.models import Customer

from .gstr1 import SECTIONS as GSTR1_SECTIONS
from .models import (
    AMOUNT_FIELDS,
    AMOUNT_MAX_DIGITS,
    DISCOUNT_MAX_DIGITS,
    DISCOUNT_PLACES,
    DISCOUNT_REASON_MAX_LENGTH,
    EFFECTIVE_MAX_DIGITS,
    EFFECTIVE_PLACES,
    GST_FIELDS,
    HELD_NOTE_MAX_LENGTH,
    LINE_GST_FIELDS,
    LINE_OUTPUT_FIELDS,
    PAYMENT_REFERENCE_MAX_LENGTH,
    HeldBill,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    Purchase,
    PurchaseItem,
    Refund,
    RefundLine,
    RefundPayment,
    SupplyType,
)
from .services import MAX_LINES, MAX_PAYMENTS

MAX_QUANTITY = 1_000_000
PAID_REQUIRED = "This field is required."  # paid_amount, unless payments are given
MAX_ID = 2**63 - 1


def _discount_field(**kwargs) -> PlainDecimalField:
    return PlainDecimalField(
        max_digits=DISCOUNT_MAX_DIGITS,
        decimal_places=DISCOUNT_PLACES,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        required=False,
        **kwargs,
    )


@extend_schema_serializer(component_name="PurchaseItem")
class PurchaseLineInputSerializer(FastInputMixin, serializers.Serializer):
    """One line of a new bill: a product and how many. Lines of the same product are combined."""

    product_id = StrictIntegerField(min_value=1, max_value=MAX_ID)
    quantity = QuantityInputField(
        max_value=MAX_QUANTITY,
        help_text='A whole number for a product sold `each`; up to 3 decimal places (`"1.250"` kg) for one sold '
        "by measure.",
    )
    discount_percent = _discount_field(help_text="The line's own discount, 0 to 100 percent (needs a reason).")


@extend_schema_serializer(component_name="NotesAndCoins")
class PiecesSerializer(FastInputMixin, FastOutputMixin, serializers.Serializer):
    """Notes or coins of one value: `count` of them, each worth `value`."""

    value = MoneyField(min_value=Decimal("0.01"))
    count = StrictIntegerField(min_value=1, max_value=MAX_COUNT)


@extend_schema_serializer(component_name="Payment")
class PaymentInputSerializer(FastInputMixin, serializers.Serializer):
    """One payment of a split-tender bill: a method and the amount paid with it."""

    method = PlainTextField(code=True, max_length=20, help_text="A payment method's code: `cash`, `card`, `upi`…")
    amount = MoneyField(max_digits=AMOUNT_MAX_DIGITS, min_value=Decimal("0.01"))
    tendered = PiecesSerializer(  # type: ignore[call-arg]  # max_length goes to the ListSerializer
        many=True,
        required=False,
        max_length=100,
        help_text="Only on the cash payment: the notes and coins handed over; they must add up to `amount`.",
    )
    reference = PlainTextField(
        max_length=PAYMENT_REFERENCE_MAX_LENGTH,
        required=False,
        allow_blank=True,
        help_text="Only on a non-cash payment: the card slip or UPI transaction id.",
    )


class PurchaseCreateSerializer(FastInputMixin, serializers.Serializer):
    """A new bill: the customer, the lines, and how it is paid, either with `payments` (split tender) or
    with the cash shorthand `paid_amount` (and `tendered`). The customer is known by `customer_email`,
    `customer_phone` or both; with neither, the bill is a walk-in sale."""

    customer_email = EmailAddressField(
        required=False,
        allow_null=True,
        help_text="The customer's email. Optional: with `customer_phone`, or neither for a walk-in sale.",
    )
    customer_phone = MobileNumberField(
        required=False,
        allow_null=True,
        help_text="The customer's Indian mobile number: 10 digits starting with 6–9, optionally with +91, 91 or 0 "
        "in front, spaces or dashes allowed; stored and returned as E.164 (`+919876543210`).",
    )
    # max_length goes to the ListSerializer that many=True builds; the stub does not know it.
    items = PurchaseLineInputSerializer(many=True, allow_empty=False, max_length=MAX_LINES)  # type: ignore[call-arg]
    paid_amount = MoneyField(
        max_digits=AMOUNT_MAX_DIGITS,
        min_value=Decimal("0"),
        required=False,
        help_text="Shorthand for one cash payment (with `tendered`). Give this or `payments`, not both.",
    )
    tendered = PiecesSerializer(  # type: ignore[call-arg]  # max_length, as above
        many=True,
        required=False,
        max_length=100,
        help_text="With `paid_amount`: the notes and coins handed over; they must add up to `paid_amount`.",
    )
    payments = PaymentInputSerializer(  # type: ignore[call-arg]  # max_length, as above
        many=True,
        required=False,
        max_length=MAX_PAYMENTS,
        help_text="Split tender: at most one cash payment; card, UPI… together at most the bill's total.",
    )
    discount_percent = _discount_field(help_text="The bill discount, applied to every line with the line's own.")
    discount_reason = PlainTextField(
        max_length=DISCOUNT_REASON_MAX_LENGTH,
        required=False,
        allow_blank=True,
        help_text="Why a discount is given; required whenever a line or the bill has one.",
    )
    send_invoice = StrictBooleanField(
        default=True,
        help_text="Email the invoice to the customer; `false` when the customer declines. A bill without an email "
        "to send it to (a walk-in sale, a customer known by phone only) is not emailed either.",
    )
    till = StrictIntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        help_text="The till (id) whose drawer takes the cash. Default: the `DEFAULT_TILL`.",
    )
    customer_gstin = PlainTextField(
        code=True,
        max_length=20,
        required=False,
        allow_blank=True,
        help_text="A business buyer's GSTIN (15 characters; spaces, dashes and lower case are normalised): the bill "
        "is B2B. Default: the customer's GSTIN on file, if any. One that fails its check (its state code, its check "
        "character) is a `validation_error`.",
    )
    place_of_supply = PlainTextField(
        code=True,
        max_length=2,
        required=False,
        allow_blank=True,
        help_text="The GST state code of the place of supply (`29`). Default: the GSTIN's state, else the store's. "
        "A code that is no state is a `validation_error`.",
    )
    override_token = PlainTextField(
        max_length=100,
        required=False,
        help_text="A manager's single-use token for `discount` (`POST /overrides`): a discount above what the user "
        "may give, with the manager's right. The manager is the bill's `approved_by`.",
    )

    @reshapes_errors_only
    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            # Name the missing payment beside the other fields' errors, as a required field would be.
            missing = isinstance(data, dict) and "payments" not in data and "paid_amount" not in data
            if missing and isinstance(exc.detail, dict):
                exc.detail.setdefault("paid_amount", [serializers.ErrorDetail(PAID_REQUIRED, code="required")])
            raise


class PaymentMethodSerializer(serializers.ModelSerializer):
    """A way a bill can be paid: cash, card, UPI…"""

    class Meta:
        model = PaymentMethod
        fields = ["code", "name", "is_cash"]
        read_only_fields = fields


class PaymentSerializer(FastOutputMixin, serializers.ModelSerializer):
    """One payment of a bill."""

    method = serializers.CharField(source="method_code", help_text="The payment method's code.")
    amount = MoneyField(max_digits=AMOUNT_MAX_DIGITS)
    reference = serializers.CharField(help_text="A card slip or UPI transaction id; empty for cash.")

    class Meta:
        model = Payment
        fields = ["method", "amount", "reference"]
        read_only_fields = fields


class PurchaseItemSerializer(FastOutputMixin, serializers.ModelSerializer):
    """One line of a bill, with its amounts as charged."""

    product_id = serializers.IntegerField()
    quantity = UnitQuantityField(help_text='In `unit`: an integer for `each`, a 3-place string (`"1.250"`) else.')
    unit = serializers.ChoiceField(choices=Unit.choices, help_text="The product's unit when sold.")
    unit_price = MoneyField(help_text="The price of one `unit`.")
    mrp = MoneyField(
        allow_null=True, help_text="The product's MRP when it was sold (a snapshot); null when it had none."
    )
    tax_percent = PlainDecimalField(max_digits=5, decimal_places=2)
    gross = MoneyField(max_digits=AMOUNT_MAX_DIGITS, help_text="unit_price × quantity.")
    discount_percent = PlainDecimalField(
        max_digits=EFFECTIVE_MAX_DIGITS,
        decimal_places=EFFECTIVE_PLACES,
        help_text="The line's effective discount, exactly: 1 − (1 − line%)(1 − bill%).",
    )
    discount_amount = MoneyField(max_digits=AMOUNT_MAX_DIGITS, help_text="gross × discount_percent, half-up.")
    subtotal = MoneyField(max_digits=AMOUNT_MAX_DIGITS, help_text="gross − discount_amount: the taxable value.")
    tax_amount = MoneyField(max_digits=AMOUNT_MAX_DIGITS)
    total = MoneyField(max_digits=AMOUNT_MAX_DIGITS)
    refunded_quantity = UnitQuantityField(
        quantity="refunded_quantity", help_text="How much of this line has been refunded so far, in `unit`."
    )
    hsn_code = serializers.CharField(help_text="The product's HSN/SAC code when sold (a snapshot); empty if none.")
    cgst = MoneyField(max_digits=AMOUNT_MAX_DIGITS, help_text="Within the state: tax / 2, half-up; else 0.")
    sgst = MoneyField(max_digits=AMOUNT_MAX_DIGITS, help_text="Within the state: tax − cgst; else 0.")
    igst = MoneyField(max_digits=AMOUNT_MAX_DIGITS, help_text="To another state: the whole tax; else 0.")

    class Meta:
        model = PurchaseItem
        fields = [*LINE_OUTPUT_FIELDS, *LINE_GST_FIELDS]


class PurchaseRefundSummarySerializer(FastOutputMixin, serializers.Serializer):
    """A refund made on the bill; `GET /refunds/{id}` has the whole refund."""

    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    amount = MoneyField(max_digits=AMOUNT_MAX_DIGITS, help_text="Paid back.")


class InvoiceEmailStatusSerializer(FastOutputMixin, serializers.ModelSerializer):
    """Where the emailing of the bill's invoice stands."""

    status = serializers.ChoiceField(
        source="invoice_status",
        choices=InvoiceStatus.choices,
        help_text="`pending` (queued or being retried), `sent`, `failed` (gave up) or `skipped` (declined, or no "
        "email to send it to).",
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
    """A bill: its lines, totals, payments, the change handed back, the invoice email and its refunds.
    Bills are never changed or deleted."""

    customer = serializers.IntegerField(
        source="customer_id", allow_null=True, help_text="The customer's id; null for a walk-in sale."
    )
    customer_email = serializers.CharField(
        source="customer.email", allow_null=True, help_text="The customer's email; null when unknown."
    )
    customer_phone = serializers.CharField(
        source="customer.phone", allow_null=True, help_text="The customer's mobile number (E.164); null when unknown."
    )
    items = PurchaseItemSerializer(many=True)
    subtotal = MoneyField(max_digits=AMOUNT_MAX_DIGITS)
    tax_total = MoneyField(max_digits=AMOUNT_MAX_DIGITS)
    total = MoneyField(max_digits=AMOUNT_MAX_DIGITS)
    rounding = MoneyField(max_digits=AMOUNT_MAX_DIGITS)
    payable = MoneyField(max_digits=AMOUNT_MAX_DIGITS)
    paid_amount = MoneyField(max_digits=AMOUNT_MAX_DIGITS)
    change_due = MoneyField(max_digits=AMOUNT_MAX_DIGITS)
    discount_percent = PlainDecimalField(
        max_digits=DISCOUNT_MAX_DIGITS, decimal_places=DISCOUNT_PLACES, help_text="The bill discount as given."
    )
    discount_total = MoneyField(max_digits=AMOUNT_MAX_DIGITS, help_text="The sum of the lines' discounts.")
    discount_reason = serializers.CharField()
    you_saved = MoneyField(
        max_digits=AMOUNT_MAX_DIGITS,
        help_text="(mrp − unit_price) × quantity summed over the lines with an MRP, plus `discount_total`.",
    )
    payments = PaymentSerializer(many=True, help_text="How the bill was paid; `paid_amount` is their sum.")
    change = PiecesSerializer(many=True, help_text="The notes and coins handed back, largest first.")
    tendered = PiecesSerializer(many=True, help_text="The notes and coins handed over, largest first.")
    invoice_email_status = InvoiceEmailStatusSerializer(source="*", read_only=True)
    number = serializers.CharField(
        allow_null=True, help_text="The tax invoice number, such as M/2627/000123 (null only for bills without a till)."
    )
    till = serializers.IntegerField(source="till_id", allow_null=True, help_text="The till's id.")
    session = serializers.IntegerField(source="session_id", allow_null=True, help_text="The till session's id.")
    refunds = PurchaseRefundSummarySerializer(many=True, help_text="The bill's refunds, oldest first.")
    refunded_total = MoneyField(max_digits=AMOUNT_MAX_DIGITS, help_text="Paid back by the bill's refunds.")
    supply_type = serializers.ChoiceField(
        choices=SupplyType.choices, help_text="`B2B` (the buyer gave a GSTIN) or `B2C`."
    )
    place_of_supply = serializers.CharField(
        allow_null=True, help_text="The GST state code of the place of supply (`29`); null only for old bills."
    )
    customer_gstin = serializers.CharField(allow_null=True, help_text="The buyer's GSTIN when sold; null for B2C.")
    cgst_total = MoneyField(max_digits=AMOUNT_MAX_DIGITS, help_text="The lines' CGST.")
    sgst_total = MoneyField(max_digits=AMOUNT_MAX_DIGITS, help_text="The lines' SGST.")
    igst_total = MoneyField(max_digits=AMOUNT_MAX_DIGITS, help_text="The lines' IGST.")
    approved_by = serializers.IntegerField(
        source="approved_by_id", allow_null=True, help_text="The manager whose override allowed the bill, or null."
    )

    class Meta:
        model = Purchase
        fields = [
            "id",
            "number",
            "customer",
            "customer_email",
            "customer_phone",
            "created_at",
            "till",
            "session",
            "items",
            *AMOUNT_FIELDS,
            "discount_percent",
            "discount_total",
            "discount_reason",
            "you_saved",
            "payments",
            "change",
            "tendered",
            "invoice_email_status",
            "refunds",
            "refunded_total",
            *GST_FIELDS,
            "approved_by",
        ]
        read_only_fields = fields


# --- Refunds ----------------------------------------------------------------------------------------

METHOD_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"


@extend_schema_serializer(component_name="RefundPayment")
class RefundPaymentInputSerializer(serializers.Serializer):
    """How much of a refund goes back by one method."""

    method = StrictRegexField(METHOD_PATTERN, max_length=32, help_text="`cash`, or a method the bill was paid with.")
    amount = MoneyField(max_digits=AMOUNT_MAX_DIGITS, min_value=Decimal("0.01"))
    reference = PlainTextField(max_length=100, required=False, allow_blank=True, default="")


@extend_schema_serializer(component_name="RefundLine")
class RefundLineInputSerializer(PurchaseLineInputSerializer):
    """A line of the bill to take back: the product and how many."""

    discount_percent = _discount_field(help_text="Ignored: a refund pays back the bill line's own amounts.")


class RefundCreateSerializer(serializers.Serializer):
    """A refund: lines of one bill taken back, why, and where the money goes."""

    items = RefundLineInputSerializer(many=True, allow_empty=False, max_length=MAX_LINES)  # type: ignore[call-arg]
    reason = PlainTextField(max_length=255, allow_blank=False, help_text="Required: why the goods come back.")
    restock = StrictBooleanField(
        default=True, help_text="Put the goods back in stock; false writes them off (damaged goods)."
    )
    till = StrictIntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        help_text="The till (id) whose drawer pays the cash out. Default: the `DEFAULT_TILL`.",
    )
    override_token = PlainTextField(
        max_length=100,
        required=False,
        help_text="A manager's single-use token for `refund` (`POST /overrides`), for a user without "
        "`purchases.add_refund`. The manager is the refund's `approved_by`.",
    )
    payments = RefundPaymentInputSerializer(  # type: ignore[call-arg]  # max_length, as above
        many=True,
        required=False,
        allow_empty=False,
        max_length=10,
        help_text="How the money goes back, instead of the default (the bill's methods, non-cash first, rest in "
        "cash). They must add up to the refund's amount, the cash part rounded as on a bill, each method within "
        "what it kept (cash: paid − change) less earlier refunds; the bill's last items pay back exactly the rest.",
    )


class RefundFilterSerializer(serializers.Serializer):
    purchase = StrictIntegerField(min_value=1, max_value=MAX_ID, required=False)
    session = StrictIntegerField(min_value=1, max_value=MAX_ID, required=False)
    till = StrictIntegerField(min_value=1, max_value=MAX_ID, required=False)


class RefundLineSerializer(FastOutputMixin, serializers.ModelSerializer):
    """One line of a refund: what was taken back and what it paid back."""

    product_id = serializers.IntegerField(source="item.product_id")
    product_name = serializers.CharField(source="item.product_name")
    quantity = UnitQuantityField(unit="item.unit", help_text="In `unit`.")
    unit = serializers.ChoiceField(source="item.unit", choices=Unit.choices, help_text="The bill line's unit.")
    unit_price = MoneyField(source="item.unit_price")
    tax_percent = PlainDecimalField(source="item.tax_percent", max_digits=5, decimal_places=2)
    discount_percent = PlainDecimalField(max_digits=5, decimal_places=2, help_text="The bill line's discount.")
    subtotal = MoneyField(max_digits=AMOUNT_MAX_DIGITS)
    tax_amount = MoneyField(max_digits=AMOUNT_MAX_DIGITS)
    total = MoneyField(max_digits=AMOUNT_MAX_DIGITS)

    class Meta:
        model = RefundLine
        fields = [
            "product_id",
            "product_name",
            "quantity",
            "unit",
            "unit_price",
            "tax_percent",
            "discount_percent",
            "subtotal",
            "tax_amount",
            "total",
        ]


class RefundPaymentSerializer(FastOutputMixin, serializers.ModelSerializer):
    """What a refund paid back by one method."""

    amount = MoneyField(max_digits=AMOUNT_MAX_DIGITS)

    class Meta:
        model = RefundPayment
        fields = ["method", "amount", "reference"]


class RefundSerializer(FastOutputMixin, serializers.ModelSerializer):
    """A refund (a credit note): the lines taken back, the amounts, and how the money went back.
    Refunds are never changed."""

    purchase = serializers.IntegerField(source="purchase_id", help_text="The bill's id.")
    till = serializers.IntegerField(source="till_id", help_text="The till that paid the cash out.")
    session = serializers.IntegerField(source="session_id", help_text="Its session the cash left in.")
    created_by = serializers.IntegerField(source="created_by_id", allow_null=True)
    approved_by = serializers.IntegerField(
        source="approved_by_id", allow_null=True, help_text="The manager whose override allowed the refund, or null."
    )
    items = RefundLineSerializer(source="lines", many=True)
    subtotal = MoneyField(max_digits=AMOUNT_MAX_DIGITS)
    tax_total = MoneyField(max_digits=AMOUNT_MAX_DIGITS)
    total = MoneyField(max_digits=AMOUNT_MAX_DIGITS)
    rounding = MoneyField(max_digits=AMOUNT_MAX_DIGITS)
    amount = MoneyField(max_digits=AMOUNT_MAX_DIGITS, help_text="Paid back: total + rounding.")
    payments = RefundPaymentSerializer(many=True)
    cash_out = PiecesSerializer(many=True, help_text="The notes and coins handed back, largest first.")
    restock = serializers.BooleanField(help_text="`false`: the goods were written off instead of going back in stock.")

    class Meta:
        model = Refund
        fields = [
            "id",
            "number",
            "purchase",
            "till",
            "session",
            "created_at",
            "created_by",
            "approved_by",
            "reason",
            "restock",
            "items",
            "subtotal",
            "tax_total",
            "total",
            "rounding",
            "amount",
            "payments",
            "cash_out",
        ]
        read_only_fields = fields


class Gstr1QuerySerializer(serializers.Serializer):
    """GSTR-1's query parameters; the period's form is checked by the service (``gstr1_period``)."""

    period = PlainTextField(
        code=True,
        max_length=7,
        help_text="`2026-11` (a month) or `2026-Q3` (a quarter of the financial year: Q3 is October to December).",
    )
    section = serializers.ChoiceField(
        choices=GSTR1_SECTIONS,
        required=False,
        help_text="With `format=csv`: the section, laid out as the offline tool's CSV template (required then).",
    )
    gstin = serializers.CharField(
        max_length=20,
        required=False,
        help_text="The GSTIN to file for: the bills that carried it, of every store that shares it. Default: the "
        "default store's GSTIN. One no store has (nor any bill of the period) is a `validation_error`.",
    )


class SalesReportQuerySerializer(serializers.Serializer):
    """The sales report's query parameters; ``group_by`` and the range are checked by the service."""

    date_from = serializers.DateField(
        required=False, input_formats=["iso-8601"], help_text="First local day (default: 29 days before date_to)."
    )
    date_to = serializers.DateField(
        required=False, input_formats=["iso-8601"], help_text="Last local day, inclusive (default: today)."
    )
    group_by = PlainTextField(required=False, default="day", max_length=20)
    till = StrictIntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        help_text="Only the bills rung up and the refunds paid out at this till (id).",
    )
    store = StrictIntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        help_text="Only the bills of this store (id) and their refunds. An unknown store is 400 `store_not_found`; "
        "a store the user does not see gives an empty report.",
    )


class _ReportAmountField(serializers.DecimalField):
    """DRF's decimal field, formatting a Decimal directly, as ``PlainDecimalField`` does: the report's
    figures already have their 2 places (``money``), so this is what DRF's quantize gives, without its
    context copy per value (a report by product has 50,000 rows of 9 amounts)."""

    def to_representation(self, value):
        if type(value) is Decimal and value.is_finite():
            return f"{value:.{self.decimal_places}f}"
        return super().to_representation(value)


def _report_amount(**kwargs):
    # Signed: net_after_refunds and tax are negative on a day with more refunds than sales.
    return _ReportAmountField(max_digits=20, decimal_places=2, coerce_to_string=True, **kwargs)


class SalesReportFiguresSerializer(serializers.Serializer):
    """The sales figures of a row or of the totals."""

    bills = serializers.IntegerField(help_text="Bills (by product, tax rate and method: bills with one).")
    gross = _report_amount(help_text="The lines' price × quantity, before discounts.")
    discounts = _report_amount()
    net_sales = _report_amount(help_text="The bills' totals (subtotal + tax, before cash rounding).")
    refunds = _report_amount(help_text="The refunds' totals, counted when the refund was made.")
    net_after_refunds = _report_amount()
    tax = _report_amount(help_text="The bills' tax less the refunds' tax.")
    cost = _report_amount(
        help_text="What the goods sold cost (each line's quantity × the cost price it snapshot, to the paisa), "
        "less the cost of the goods refunded, at the cost they were sold at."
    )
    margin = _report_amount(
        help_text="Net sales before tax (the bills' taxable value less the refunds') less `cost`: tax is not the "
        "shop's money."
    )


class SalesReportRowSerializer(SalesReportFiguresSerializer):
    """One row of the sales report: the grouping's key (only the key's fields are present: `day`, `hour`,
    `product_id` and `product_name`…), then the figures. The totals row has the figures alone."""

    day = serializers.DateField(required=False)
    hour = serializers.IntegerField(required=False, min_value=0, max_value=23)
    product_id = serializers.IntegerField(required=False)
    product_name = serializers.CharField(required=False, help_text="The product's current name.")
    quantity = QuantityValueField(
        required=False, help_text="Sold, in `unit`: an integer for `each`, a 3-place string for a measure."
    )
    refunded_quantity = QuantityValueField(required=False, help_text="Refunded, in `unit`.")
    unit = serializers.ChoiceField(
        required=False,
        choices=Unit.choices,
        help_text="The product's unit. The totals' quantities add up only the products sold `each`.",
    )
    cashier_id = serializers.IntegerField(required=False, allow_null=True)
    cashier = serializers.CharField(required=False, allow_blank=True)
    till_id = serializers.IntegerField(required=False, allow_null=True)
    till = serializers.CharField(required=False, allow_blank=True)
    payment_method = serializers.CharField(required=False)
    payment_method_name = serializers.CharField(required=False)
    tax_rate = serializers.DecimalField(required=False, max_digits=5, decimal_places=2, coerce_to_string=True)
    taxable = _report_amount(required=False, help_text="The lines' taxable value less the refunded lines'.")

    def to_representation(self, instance):
        # The fields present in the row, in the declared order, each as its own field shows it: what
        # ``Serializer.to_representation`` gives less the absent keys, without its attribute lookups
        # and ``SkipField`` exceptions per absent field (most of the time of a report of 50,000 rows).
        # The rows of a report share their keys: the fields to put out are worked out once per set of
        # keys (``_output_plan``). A value its field would put out unchanged is taken as it is, and an
        # amount (a 2-place Decimal) is formatted here as its field would format it.
        keys = tuple(instance)
        plans = self.__dict__.setdefault("_output_plans", {})
        plan = plans.get(keys)
        if plan is None:
            plan = plans[keys] = self._output_plan(instance)
        out: dict[str, Any] = {}
        for name, unchanged, amount, represent in plan:
            value = instance[name]
            if value is None or type(value) in unchanged:
                out[name] = value
            elif amount and type(value) is Decimal and (text := str(value))[-3:-2] == ".":
                # A Decimal of exactly 2 places (no exponent notation) prints as its field formats it,
                # in a tenth of the time of formatting it.
                out[name] = text
            else:
                out[name] = represent(value)
        return out

    def _output_plan(self, instance) -> list[tuple[str | None, tuple[type, ...], bool, Any]]:
        """For each field present in ``instance``: its name, the types of value it puts out unchanged
        (an int by an integer field, a str by a text field or by a choice field whose choices are their
        own values, a quantity already in its API form), whether it is a 2-place amount, and how it
        represents any other value."""
        plan = []
        for field in self._readable_fields:
            if field.field_name not in instance:
                continue
            unchanged: tuple[type, ...] = ()
            if isinstance(field, QuantityValueField):
                unchanged = (int, str)
            elif isinstance(field, serializers.IntegerField):
                unchanged = (int,)
            elif isinstance(field, serializers.ChoiceField):
                if all(key == value for key, value in field.choice_strings_to_values.items()):
                    unchanged = (str,)
            elif isinstance(field, serializers.CharField):
                unchanged = (str,)
            amount = isinstance(field, _ReportAmountField) and field.decimal_places == 2
            plan.append((field.field_name, unchanged, amount, field.to_representation))
        return plan


class SalesReportSerializer(serializers.Serializer):
    """Sales over a range of days, grouped one way, net of discounts and refunds."""

    date_from = serializers.DateField()
    date_to = serializers.DateField()
    group_by = serializers.CharField()
    till = serializers.IntegerField(allow_null=True)
    rows = SalesReportRowSerializer(many=True)
    totals = SalesReportRowSerializer()


class CustomerSerializer(serializers.ModelSerializer):
    """A customer, known by email, mobile number or both from their first bill, with what they have
    bought so far."""

    # Not ``format: email``: addresses may have an internationalised domain (billing_project.core.validators).
    email = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="Lower-cased; the domain may be internationalised. Null for a customer known by phone only.",
    )
    phone = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="An Indian mobile number in E.164 form (`+919876543210`); null when unknown.",
    )
    name = serializers.CharField(read_only=True, allow_null=True, help_text="Null when unknown.")
    purchase_count = serializers.IntegerField(read_only=True)
    total_spent = MoneyField(
        max_digits=20,
        read_only=True,
        help_text="Sum of the amounts payable on every bill, net of what refunds paid back.",
    )
    total_refunded = MoneyField(max_digits=20, read_only=True, help_text="What the customer's refunds paid back.")
    discount_total = MoneyField(max_digits=20, read_only=True, help_text="Sum of the discounts on every bill.")

    class Meta:
        model = Customer
        fields = [
            "id",
            "email",
            "phone",
            "name",
            "created_at",
            "purchase_count",
            "total_spent",
            "total_refunded",
            "discount_total",
        ]
        read_only_fields = fields


class HeldBillCreateSerializer(FastInputMixin, serializers.Serializer):
    """A cart to park: the till, the lines as a bill takes them, the customer and a note."""

    till = StrictIntegerField(min_value=1, max_value=MAX_ID, help_text="The till (id) the cart is parked at.")
    items = PurchaseLineInputSerializer(many=True, allow_empty=False, max_length=MAX_LINES)  # type: ignore[call-arg]
    customer_email = EmailAddressField(required=False, allow_null=True, help_text="The customer's email, if known.")
    customer_phone = MobileNumberField(
        required=False, allow_null=True, help_text="The customer's Indian mobile number, if known."
    )
    note = PlainTextField(
        max_length=HELD_NOTE_MAX_LENGTH,
        required=False,
        allow_blank=True,
        help_text="For the cashier: whose cart it is (`the lady in the blue sari`).",
    )


class HeldBillFilterSerializer(serializers.Serializer):
    till = StrictIntegerField(min_value=1, max_value=MAX_ID, required=False, help_text="Only this till's.")


class HeldBillLineSerializer(FastOutputMixin, serializers.Serializer):
    """One line of a parked cart, as it was parked."""

    product_id = serializers.IntegerField()
    name = serializers.CharField(help_text="The product's name when the cart was parked.")
    unit = serializers.ChoiceField(choices=Unit.choices)
    quantity = QuantityValueField(help_text='In `unit`: an integer for `each`, a 3-place string (`"1.250"`) else.')
    discount_percent = PlainDecimalField(
        max_digits=DISCOUNT_MAX_DIGITS, decimal_places=DISCOUNT_PLACES, allow_null=True
    )


class HeldBillSerializer(serializers.ModelSerializer):
    """A parked bill: a saved cart at a till. It took no stock and no money."""

    till = serializers.IntegerField(source="till_id")
    items = HeldBillLineSerializer(many=True)
    customer_email = serializers.CharField(allow_null=True, help_text="Null when the cart named none.")
    customer_phone = serializers.CharField(allow_null=True, help_text="E.164; null when the cart named none.")
    created_by = serializers.IntegerField(source="created_by_id", allow_null=True)

    class Meta:
        model = HeldBill
        fields = ["id", "till", "items", "customer_email", "customer_phone", "note", "created_at", "created_by"]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["customer_email"] = instance.customer_email or None
        data["customer_phone"] = instance.customer_phone or None
        return data
