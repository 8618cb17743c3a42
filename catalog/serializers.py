from decimal import Decimal

from rest_framework import serializers

from billing_project.core.api.fields import (
    MoneyField,
    PlainDecimalField,
    PlainTextField,
    StrictBooleanField,
    StrictIntegerField,
    StrictRegexField,
)

from .models import HSN_DIGITS, MAX_STOCK, Product


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
    stock = StrictIntegerField(min_value=0, max_value=MAX_STOCK, default=0)
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
            "stock",
            "price",
            "mrp",
            "tax_percent",
            "hsn_code",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # Uniqueness of the SKU is checked by the service, which also handles concurrent inserts.
        validators: list = []
