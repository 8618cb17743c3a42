import re
from decimal import Decimal

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers
from rest_framework.settings import api_settings

from billing_project.money import MONEY_DECIMAL_PLACES
from customers.validators import validate_customer_email

# Plain decimal notation only: no exponent ("1E+2"), no "NaN"/"Infinity", no bare "." forms.
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


class PlainDecimalField(serializers.DecimalField):
    """A decimal given as a JSON number or as a string in plain notation (`"12.50"`). Exponent notation
    in a string and more decimal places than allowed are validation errors, never silently rounded.
    `-0` is read as `0`, so no response ever says `-0.00`."""

    def to_internal_value(self, data):
        if isinstance(data, str) and not _PLAIN_DECIMAL.fullmatch(data.strip()):
            self.fail("invalid")
        value = super().to_internal_value(data)
        return value.copy_abs() if value.is_zero() else value

    def to_representation(self, value):
        # Values come from NUMERIC(…, decimal_places) columns or from the money helpers, so they
        # already have their places: format them directly rather than through DRF's per-value
        # quantize, which is most of the cost of listing bills.
        coerce = getattr(self, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
        if coerce and type(value) is Decimal and value.is_finite():
            return f"{value:.{self.decimal_places}f}"
        return super().to_representation(value)


class MoneyField(PlainDecimalField):
    """A money amount: a number or string in requests, a 2-place decimal string in responses.
    More than 2 decimal places is a validation error, not a silent rounding."""

    def __init__(self, *, max_digits: int = 12, **kwargs):
        kwargs.setdefault("decimal_places", MONEY_DECIMAL_PLACES)
        kwargs.setdefault("coerce_to_string", True)
        super().__init__(max_digits=max_digits, **kwargs)


class EmailAddressField(serializers.EmailField):
    """A customer's email address: the rules of ``customers.validators.validate_customer_email``."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(validate_customer_email)


class PlainDecimalFieldSchema(OpenApiSerializerFieldExtension):
    """Document exactly what the field accepts and returns. drf-spectacular's own pattern for a decimal
    string also matches `""`, `"-"` and `"."`, and offers a minus sign on fields with a minimum of 0."""

    target_class = PlainDecimalField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        schema = auto_schema._map_serializer_field(field, direction, bypass_extensions=True)
        sign = "-?" if field.min_value is None or field.min_value < 0 else ""
        whole = rf"[0-9]{{1,{field.max_whole_digits}}}"
        if direction == "response":
            # Responses always carry exactly `decimal_places` places: "12.50", never "12.5".
            schema["pattern"] = rf"^{sign}{whole}\.[0-9]{{{field.decimal_places}}}$"
        else:
            schema["pattern"] = rf"^{sign}{whole}(?:\.[0-9]{{1,{field.decimal_places}}})?$"
        return schema


class ListSerializerSchema(OpenApiSerializerFieldExtension):
    """A nested ``many=True`` serializer's ``allow_empty``/``min_length``/``max_length`` become
    ``minItems``/``maxItems``; drf-spectacular only does this for ``ListField``."""

    target_class = serializers.ListSerializer
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        schema = auto_schema._map_serializer_field(field, direction, bypass_extensions=True)
        if direction == "request" and schema is not None:
            min_items = max(field.min_length or 0, 0 if field.allow_empty else 1)
            if min_items:
                schema["minItems"] = min_items
            if field.max_length is not None:
                schema["maxItems"] = field.max_length
        return schema
