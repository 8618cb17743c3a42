from decimal import Decimal

from rest_framework import serializers

from billing_project.core.api.fields import (
    EmailAddressField,
    MoneyField,
    PlainDecimalField,
    PlainTextField,
    QuantityInputField,
    StrictBooleanField,
    StrictIntegerField,
    StrictRegexField,
    UnitQuantityField,
)
from billing_project.core.api.serializers import FastOutputMixin
from billing_project.core.quantities import Unit, quantity_json

from .barcodes import BARCODE_DIGITS, BARCODE_MAX_LENGTH, PLU_MAX_LENGTH, PLU_PATTERN
from .models import (
    HSN_DIGITS,
    MAX_STOCK,
    Adjustment,
    AdjustmentLine,
    Product,
    Receipt,
    ReceiptLine,
    StockCount,
    StockCountLine,
    StockMovement,
    Supplier,
    Transfer,
    TransferLine,
)

MAX_ID = 2**63 - 1  # the largest primary key


class StockField(QuantityInputField):
    """The stock: taken as a quantity (0 or more), put out in the product's unit (see
    ``ProductSerializer.to_representation``)."""


class ProductSerializer(FastOutputMixin, serializers.ModelSerializer):
    """A product of the catalogue, with its price, tax rate and stock."""

    # Put out through FastOutputMixin (every source is a model field or the ``stock`` annotation): a
    # page of the catalogue is 50 products of 16 fields.

    sku = PlainTextField(code=True, max_length=64, required=False, allow_null=True, allow_blank=True, default=None)
    name = PlainTextField(max_length=200)
    price = MoneyField(min_value=Decimal("0.01"), help_text="Not above `mrp` when that is set (`price_above_mrp`).")
    mrp = MoneyField(
        min_value=Decimal("0.01"),
        required=False,
        allow_null=True,
        default=None,
        help_text="The maximum retail price printed on the pack; null when unset. Bills show the saving against it.",
    )
    tax_percent = PlainDecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal("0"), max_value=Decimal("100"), default=Decimal("0.00")
    )
    unit = serializers.ChoiceField(
        choices=Unit.choices,
        default=Unit.EACH,
        help_text="`each` (the default): sold in whole numbers; `kg`, `g`, `l`, `ml`, `m`: by measure, to 3 "
        "decimal places. It cannot change once the product has been sold.",
    )
    stock = StockField(
        min_value=Decimal("0"),
        max_value=MAX_STOCK,
        default=0,
        help_text='In `unit`: an integer for `each`, a 3-place string (`"12.500"`) for a measure. The sum of '
        "the stores' stock (with `?store=` on the list: that store's). Set only when the product is created "
        "(its opening stock, at `store`); after that it changes through the stock ledger (an adjustment, goods "
        "received, a count, a transfer): a PUT may repeat it, a change is a `validation_error`.",
    )
    barcode = StrictRegexField(
        BARCODE_DIGITS,
        required=False,
        allow_null=True,
        max_length=BARCODE_MAX_LENGTH,
        default=None,
        help_text="EAN-13, EAN-8 or UPC-A: 13, 8 or 12 digits with a valid check digit (a bad one is a "
        "`validation_error`); unique. Null when unset.",
    )
    plu = StrictRegexField(
        PLU_PATTERN,
        required=False,
        allow_null=True,
        max_length=PLU_MAX_LENGTH,
        default=None,
        help_text="The number the weighing scales print on their labels: 1 to 8 digits, no leading zero; unique. "
        "Null when unset.",
    )
    store = StrictIntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        write_only=True,
        default=None,
        help_text="On create: the store whose shelves hold the opening `stock` (an id; default: the default "
        "store; `store_not_found` for one that does not exist, is inactive or is not yours). Ignored after.",
    )
    is_active = StrictBooleanField(default=True, help_text="`false`: archived; an archived product cannot be sold.")
    hsn_code = StrictRegexField(
        # The non-blank values; drf-spectacular documents blank as its own alternative.
        HSN_DIGITS,
        required=False,
        allow_blank=True,
        max_length=8,
        default="",
        help_text="HSN or SAC code, 4, 6 or 8 digits; printed on tax invoices.",
    )

    cost_price = MoneyField(
        read_only=True,
        allow_null=True,
        help_text="The moving average cost of the goods received; null without the `catalog.view_cost` permission.",
    )
    lead_time_days = serializers.IntegerField(
        min_value=0,
        max_value=365,
        default=7,
        help_text="Days a reorder takes to arrive: the low-stock list suggests this many days of sales.",
    )

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name",
            "unit",
            "stock",
            "store",
            "price",
            "cost_price",
            "lead_time_days",
            "mrp",
            "tax_percent",
            "hsn_code",
            "barcode",
            "plu",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # Uniqueness of the SKU, barcode and PLU is checked by the service, which also handles
        # concurrent inserts.
        validators: list = []

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["stock"] = quantity_json(instance.stock, instance.unit)
        if not can_view_cost(self.context):
            data["cost_price"] = None
        return data


class ProductLookupQuerySerializer(serializers.Serializer):
    code = PlainTextField(
        code=True,
        max_length=64,
        help_text="What the scanner sent (a barcode or a scale label), or a SKU or a product id.",
    )


class ProductLookupSerializer(serializers.Serializer):
    """What a scanned code names: the product, and the quantity it stands for."""

    product = ProductSerializer()
    quantity = UnitQuantityField(
        unit="product.unit",
        help_text='1 (`1`, or `"1.000"` for a product sold by measure) for a barcode, SKU or id; a scale '
        "label's weight in the product's unit (`\"0.750\"` for 750 g of a `kg` product), or the quantity its "
        "price buys, rounded half-up to 3 places.",
    )


# --- The stock ledger, suppliers, goods received, adjustments and counts ---------------------------


def can_view_cost(context) -> bool:
    request = context.get("request") if context else None
    return bool(request is not None and request.user.has_perm("catalog.view_cost"))


class StockMovementSerializer(serializers.ModelSerializer):
    """One row of a product's stock ledger at a store. `quantity` is signed (in the product's unit:
    an integer for `each`, a 3-place string for a measure); `balance_after` is the store's stock
    right after it."""

    quantity = serializers.SerializerMethodField()
    balance_after = serializers.SerializerMethodField()
    unit_cost = serializers.SerializerMethodField(help_text="Null without `catalog.view_cost`, or where unknown.")
    reference = serializers.SerializerMethodField(
        help_text='What caused it: `{"type": "bill"|"refund"|"receipt"|"adjustment"|"count"|"transfer", "id"}`, or '
        "null (`opening`, `import`)."
    )

    class Meta:
        model = StockMovement
        fields = [
            "id",
            "store",
            "kind",
            "quantity",
            "balance_after",
            "unit_cost",
            "reference",
            "reason",
            "user",
            "created_at",
        ]
        read_only_fields = fields

    def get_quantity(self, obj) -> int | str:
        return quantity_json(obj.quantity, obj.product.unit)

    def get_balance_after(self, obj) -> int | str:
        return quantity_json(obj.balance_after, obj.product.unit)

    def get_unit_cost(self, obj) -> str | None:
        if obj.unit_cost is None or not can_view_cost(self.context):
            return None
        return f"{obj.unit_cost:.2f}"

    def get_reference(self, obj) -> dict | None:
        for attname, kind in (
            ("purchase_id", "bill"),
            ("refund_id", "refund"),
            ("receipt_id", "receipt"),
            ("adjustment_id", "adjustment"),
            ("stock_count_id", "count"),
            ("transfer_id", "transfer"),
        ):
            value = getattr(obj, attname)
            if value is not None:
                return {"type": kind, "id": value}
        return None


class SupplierSerializer(serializers.ModelSerializer):
    """A supplier goods are received from: a name, and optionally a GSTIN, phone, email and address."""

    name = PlainTextField(max_length=200)
    gstin = PlainTextField(
        code=True,
        max_length=15,
        required=False,
        allow_blank=True,
        default="",
        help_text="Optional: 15 characters with a valid check character; kept in upper case.",
    )
    phone = PlainTextField(code=True, max_length=20, required=False, allow_blank=True, default="")
    email = EmailAddressField(required=False, allow_blank=True, default="")
    address = PlainTextField(max_length=1000, required=False, allow_blank=True, default="")

    class Meta:
        model = Supplier
        fields = ["id", "name", "gstin", "phone", "email", "address", "created_at"]
        read_only_fields = ["id", "created_at"]
        validators: list = []


class ReceivedLineSerializer(serializers.Serializer):
    """A line of goods received: a product that exists, how many, the unit cost before tax and the tax rate."""

    product_id = StrictIntegerField(min_value=1, max_value=MAX_ID)
    quantity = QuantityInputField(max_value=MAX_STOCK)
    unit_cost = MoneyField(min_value=Decimal("0"), help_text="Per unit, before tax.")
    tax_percent = PlainDecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal("0"), max_value=Decimal("100"), default=Decimal("0")
    )


def stock_store_field() -> StrictIntegerField:
    """The optional ``store`` of goods received, an adjustment or a count."""
    return StrictIntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        default=None,
        help_text="The store (an id; default: the default store). `store_not_found` for one that does not "
        "exist, is inactive or is not yours.",
    )


class ReceiptCreateSerializer(serializers.Serializer):
    """Goods received against a supplier's invoice: the supplier's id, its invoice number and date, and the lines."""

    store = stock_store_field()
    supplier = StrictIntegerField(min_value=1, max_value=MAX_ID)
    supplier_invoice = PlainTextField(code=True, max_length=64)
    invoice_date = serializers.DateField()
    lines = ReceivedLineSerializer(many=True, allow_empty=False)
    note = PlainTextField(max_length=255, required=False, allow_blank=True, default="")


class ReceiptLineSerializer(serializers.ModelSerializer):
    """A line of a receipt: its quantity, unit cost and tax rate, and the value and input tax they make."""

    quantity = UnitQuantityField(unit="product.unit")
    unit_cost = MoneyField(read_only=True)
    subtotal = MoneyField(read_only=True)
    tax_amount = MoneyField(read_only=True)

    class Meta:
        model = ReceiptLine
        fields = ["product_id", "quantity", "unit_cost", "tax_percent", "subtotal", "tax_amount"]
        read_only_fields = fields


class ReceiptSerializer(serializers.ModelSerializer):
    """Goods received against a supplier's invoice: `subtotal` (the lines' quantity × unit cost),
    `tax_total` (the input tax) and `total`."""

    lines = ReceiptLineSerializer(many=True, read_only=True)
    subtotal = MoneyField(read_only=True)
    tax_total = MoneyField(read_only=True)
    total = MoneyField(read_only=True)

    class Meta:
        model = Receipt
        fields = [
            "id",
            "store",
            "supplier",
            "supplier_invoice",
            "invoice_date",
            "note",
            "subtotal",
            "tax_total",
            "total",
            "lines",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class AdjustedLineSerializer(serializers.Serializer):
    """A line of an adjustment: a product and the signed quantity to add to its stock."""

    product_id = StrictIntegerField(min_value=1, max_value=MAX_ID)
    quantity = PlainDecimalField(
        max_digits=13,
        decimal_places=3,
        help_text="Signed, not 0 (at most the largest stock either way): negative takes stock off (damaged, "
        "expired, theft), positive adds (found).",
    )


class AdjustmentCreateSerializer(serializers.Serializer):
    """A change of stock: its lines, its reason and, for `other`, a note saying why."""

    store = stock_store_field()
    lines = AdjustedLineSerializer(many=True, allow_empty=False)
    reason = serializers.ChoiceField(choices=Adjustment.Reason.choices)
    note = PlainTextField(max_length=255, required=False, allow_blank=True, default="", help_text="Required for other.")


class AdjustmentLineSerializer(serializers.ModelSerializer):
    """A line of an adjustment: the product and the signed quantity added to its stock."""

    quantity = serializers.SerializerMethodField(
        help_text="Signed, in the product's unit: an integer for `each`, a 3-place string for a measure."
    )

    def get_quantity(self, obj) -> int | str:
        return quantity_json(obj.quantity, obj.product.unit)

    class Meta:
        model = AdjustmentLine
        fields = ["product_id", "quantity"]
        read_only_fields = fields


class AdjustmentSerializer(serializers.ModelSerializer):
    """A manager's change of stock: its reason, its note and its lines (each an `adjustment` movement)."""

    lines = AdjustmentLineSerializer(many=True, read_only=True)

    class Meta:
        model = Adjustment
        fields = ["id", "store", "reason", "note", "lines", "created_by", "created_at"]
        read_only_fields = fields


class StockCountCreateSerializer(serializers.Serializer):
    """Opens a stock count over every product, or over the products named."""

    products = serializers.ListField(
        child=StrictIntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        allow_null=True,
        default=None,
        max_length=100_000,
        help_text="The products to count; left out or null: every product.",
    )
    note = PlainTextField(max_length=255, required=False, allow_blank=True, default="")
    store = stock_store_field()


class CountedSerializer(serializers.Serializer):
    """What the shelf holds of a product, in its unit (0 or more)."""

    counted = PlainDecimalField(max_digits=13, decimal_places=3, min_value=Decimal("0"), max_value=Decimal(MAX_STOCK))


def _quantity_or_null(value, unit: str):
    return None if value is None else quantity_json(value, unit)


class StockCountLineSerializer(serializers.ModelSerializer):
    """One product of a count: `opening` (its stock when the count opened), and once counted,
    `counted`, `expected` (its stock when the count was recorded) and `difference`."""

    opening = serializers.SerializerMethodField()
    counted = serializers.SerializerMethodField()
    expected = serializers.SerializerMethodField()
    difference = serializers.SerializerMethodField()

    class Meta:
        model = StockCountLine
        fields = ["product_id", "opening", "counted", "expected", "difference", "counted_at"]
        read_only_fields = fields

    def get_opening(self, obj) -> int | str:
        return quantity_json(obj.opening, obj.product.unit)

    def get_counted(self, obj) -> int | str | None:
        return _quantity_or_null(obj.counted, obj.product.unit)

    def get_expected(self, obj) -> int | str | None:
        return _quantity_or_null(obj.expected, obj.product.unit)

    def get_difference(self, obj) -> int | str | None:
        return _quantity_or_null(obj.difference, obj.product.unit)


class StockCountSerializer(serializers.ModelSerializer):
    """A stock take: `open` while it is being counted, `posted` once its differences are applied."""

    lines = StockCountLineSerializer(many=True, read_only=True)

    class Meta:
        model = StockCount
        fields = ["id", "store", "status", "note", "created_by", "created_at", "posted_by", "posted_at", "lines"]
        read_only_fields = fields


class StoreStockSerializer(serializers.Serializer):
    """A product's stock at one store."""

    store = serializers.IntegerField(help_text="The store's id.")
    store_code = serializers.CharField()
    store_name = serializers.CharField()
    stock = serializers.SerializerMethodField(
        help_text="In the product's unit: an integer for `each`, a 3-place string for a measure; 0 without a row."
    )

    def get_stock(self, obj) -> int | str:
        return quantity_json(obj["stock"], obj["unit"])


class StorePriceSerializer(serializers.Serializer):
    """A product's own price at a store: bills at that store's tills charge it instead of `price`."""

    store = serializers.IntegerField(read_only=True, help_text="The store's id.")
    product_id = serializers.IntegerField(read_only=True)
    price = MoneyField(
        min_value=Decimal("0.01"), help_text="Above 0, not above the product's `mrp` (`price_above_mrp`)."
    )
    updated_at = serializers.DateTimeField(read_only=True)


# --- Transfers ------------------------------------------------------------------------------------


class TransferredLineSerializer(serializers.Serializer):
    """A line of a transfer: a product and how much of it is sent."""

    product_id = StrictIntegerField(min_value=1, max_value=MAX_ID)
    quantity = QuantityInputField(max_value=MAX_STOCK, help_text="Above 0; whole for an `each` product.")


class TransferCreateSerializer(serializers.Serializer):
    """Goods sent from one store to another: the two stores' ids, the lines (each product once) and
    an optional note."""

    from_store = StrictIntegerField(min_value=1, max_value=MAX_ID, help_text="The store the goods leave now.")
    to_store = StrictIntegerField(min_value=1, max_value=MAX_ID, help_text="Another store, which receives them.")
    lines = TransferredLineSerializer(many=True, allow_empty=False)
    note = PlainTextField(max_length=255, required=False, allow_blank=True, default="")


class ReceivedTransferLineSerializer(serializers.Serializer):
    """A line of a transfer's receipt: a product of the transfer and how much of it arrived."""

    product_id = StrictIntegerField(min_value=1, max_value=MAX_ID)
    quantity = QuantityInputField(
        max_value=MAX_STOCK,
        min_value=Decimal("0"),
        help_text="What arrived: 0 to the quantity sent (an excess is refused); the rest is lost in transit.",
    )


class TransferFilterSerializer(serializers.Serializer):
    """The transfer list's query: `status`, and `store` (from or to it)."""

    status = serializers.ChoiceField(choices=Transfer.Status.choices, required=False)
    store = StrictIntegerField(min_value=1, max_value=MAX_ID, required=False)


class TransferReceiveSerializer(serializers.Serializer):
    """What arrived of a transfer: every product of the transfer once, with the quantity received."""

    lines = ReceivedTransferLineSerializer(many=True, allow_empty=False)


class TransferLineSerializer(serializers.ModelSerializer):
    """A line of a transfer: `quantity` sent and, once received, `received` and `loss` (sent −
    received, lost in transit); both null while in transit."""

    quantity = UnitQuantityField(unit="product.unit")
    received = serializers.SerializerMethodField()
    loss = serializers.SerializerMethodField()

    class Meta:
        model = TransferLine
        fields = ["product_id", "quantity", "received", "loss"]
        read_only_fields = fields

    def get_received(self, obj) -> int | str | None:
        return _quantity_or_null(obj.received, obj.product.unit)

    def get_loss(self, obj) -> int | str | None:
        return _quantity_or_null(obj.loss, obj.product.unit)


class TransferSerializer(serializers.ModelSerializer):
    """Goods sent between stores: `in_transit` from its creation (the stock left `from_store`), then
    `received` (what arrived went into `to_store`'s stock, the rest was lost in transit)."""

    lines = TransferLineSerializer(many=True, read_only=True)

    class Meta:
        model = Transfer
        fields = [
            "id",
            "status",
            "from_store",
            "to_store",
            "note",
            "lines",
            "created_by",
            "created_at",
            "received_by",
            "received_at",
        ]
        read_only_fields = fields
