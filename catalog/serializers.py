from decimal import Decimal

from rest_framework import serializers

from billing_project.core.api.fields import (
    MoneyField,
    PlainDecimalField,
    PlainTextField,
    QuantityInputField,
    StrictBooleanField,
    StrictRegexField,
    UnitQuantityField,
)
from billing_project.core.quantities import Unit, quantity_json

from .barcodes import BARCODE_DIGITS, BARCODE_MAX_LENGTH, PLU_MAX_LENGTH, PLU_PATTERN
from .models import HSN_DIGITS, MAX_STOCK, Product


class StockField(QuantityInputField):
    """The stock: taken as a quantity (0 or more), put out in the product's unit (see
    ``ProductSerializer.to_representation``)."""


class ProductSerializer(serializers.ModelSerializer):
    """A product of the catalogue, with its price, tax rate and stock."""

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
        help_text='In `unit`: an integer for `each`, a 3-place string (`"12.500"`) for a measure.',
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

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name",
            "unit",
            "stock",
            "price",
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
