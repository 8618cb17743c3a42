import re
from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import ProhibitNullCharactersValidator
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers
from rest_framework.settings import api_settings
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from billing_project.core.db.orm_internals import spectacular_field_schema
from billing_project.core.money import MONEY_DECIMAL_PLACES
from billing_project.core.validators import (
    ASCII_INTEGER,
    CUSTOMER_EMAIL_PATTERN,
    INDIAN_MOBILE_PATTERN,
    MAX_EMAIL_LENGTH,
    MAX_PHONE_LENGTH,
    code_pattern,
    indian_mobile_e164,
    text_pattern,
    validate_code_text,
    validate_customer_email,
    validate_plain_text,
)

# Plain decimal notation only: no exponent ("1E+2"), no "NaN"/"Infinity", no bare "." forms.
PLAIN_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


class PlainDecimalField(serializers.DecimalField):
    """A decimal given as a JSON number or as a string in plain notation (`"12.50"`). Exponent notation
    in a string and more decimal places than allowed are validation errors, never silently rounded.
    `-0` is read as `0`, so no response ever says `-0.00`."""

    def to_internal_value(self, data):
        # No surrounding whitespace either: the schema's pattern has none, and what it refuses is refused.
        if isinstance(data, str) and not PLAIN_DECIMAL.fullmatch(data):
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


class StrictBooleanField(serializers.BooleanField):
    """A JSON ``true`` or ``false``, as the schema's ``boolean`` says. DRF's own also takes ``0``/``1``,
    ``"yes"``, ``"on"``, ``"True"``…, which no client of the schema sends on purpose."""

    def to_internal_value(self, data):
        if data is True or data is False:
            return data
        self.fail("invalid", input=data)


class StrictCharField(serializers.CharField):
    """A JSON string, as the schema's ``string`` says. DRF's own also takes a number and keeps its text
    (``0`` becomes ``"0"``)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictRegexField(StrictCharField, serializers.RegexField):
    """A JSON string that matches the pattern (DRF's own also takes a number, as its text)."""


class EmailAddressField(StrictCharField):
    """A customer's email address: exactly the rules of ``billing_project.core.validators.validate_customer_email``,
    with one message per refusal (DRF's ``EmailField`` would add Django's check and say it twice).
    Taken as sent, without trimming: the schema's pattern allows no surrounding whitespace."""

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)
        self.validators = [validate_customer_email]


class MobileNumberField(StrictCharField):
    """A customer's Indian mobile number, in any spelling ``billing_project.core.validators.indian_mobile_e164``
    takes (``98765 43210``, ``+91-98765-43210``, ``098765-43210``…), read as its E.164 form
    (``+919876543210``). Anything else: one message."""

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("max_length", MAX_PHONE_LENGTH)
        super().__init__(**kwargs)
        self.validators = []

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return indian_mobile_e164(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


class StrictIntegerField(serializers.IntegerField):
    """A whole number as a JSON number, or as a string of ASCII digits. ``int()`` also reads "５"
    (full-width), "٥" (Arabic-Indic), " 5", "+5", "5_000" and "5.0": none is a quantity a till takes."""

    def to_internal_value(self, data):
        if isinstance(data, str) and not ASCII_INTEGER.fullmatch(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class PlainTextField(StrictCharField):
    """Free text (names, reasons): no control, bidi-override or other invisible formatting characters
    (``billing_project.core.validators.validate_plain_text``); with ``code=True`` (SKUs) no zero-width
    joiners either. Surrounding whitespace is trimmed, as by any ``CharField``."""

    def __init__(self, *, code: bool = False, **kwargs):
        self.code = code
        super().__init__(**kwargs)
        # Replaces DRF's NUL and surrogate checks, which the rule covers, so a NUL gets one message.
        self.validators = [
            v
            for v in self.validators
            if not isinstance(v, ProhibitNullCharactersValidator | ProhibitSurrogateCharactersValidator)
        ]

    def run_validation(self, data=serializers.empty):
        # Before trimming: str.strip() also removes some refused characters ("\x1f", U+2028), and a
        # value made only of them must be refused, not read as blank.
        if isinstance(data, str):
            try:
                (validate_code_text if self.code else validate_plain_text)(data)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(exc.messages) from None
            # The schema's maxLength counts the value as sent, surrounding whitespace included.
            if self.max_length is not None and len(data) > self.max_length:
                self.fail("max_length", max_length=self.max_length)
        return super().run_validation(data)


class PlainDecimalFieldSchema(OpenApiSerializerFieldExtension):
    """Document exactly what the field accepts and returns. drf-spectacular's own pattern for a decimal
    string also matches `""`, `"-"` and `"."`, and offers a minus sign on fields with a minimum of 0."""

    target_class = PlainDecimalField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        schema = spectacular_field_schema(auto_schema, field, direction)
        whole = rf"[0-9]{{1,{field.max_whole_digits}}}"
        if direction == "response":
            # Responses always carry exactly `decimal_places` places: "12.50", never "12.5".
            sign = "-?" if field.min_value is None or field.min_value < 0 else ""
            schema["pattern"] = rf"^{sign}{whole}\.[0-9]{{{field.decimal_places}}}$"
        else:
            schema["pattern"] = decimal_request_pattern(
                whole_digits=field.max_whole_digits,
                places=field.decimal_places,
                min_value=field.min_value,
                max_value=field.max_value,
            )
            # A pattern on a string says nothing about the range: it is in the pattern itself.
            schema.pop("minimum", None)
            schema.pop("maximum", None)
        return schema


def decimal_request_pattern(
    *, whole_digits: int, places: int, min_value: Decimal | None, max_value: Decimal | None
) -> str:
    """The exact strings ``PlainDecimalField`` takes, range included: at most ``whole_digits`` digits
    before the point (leading zeros aside, as ``Decimal`` reads them), 1 to ``places`` after it, and
    between ``min_value`` and ``max_value``. Supports the ranges the API uses: no minimum, a minimum of
    0 (then "-0" is also taken: it is read as 0), or a minimum of one unit of the last place (a
    positive amount); no maximum, or a whole-number maximum."""
    frac = rf"(?:\.[0-9]{{1,{places}}})?"
    zero_frac = rf"(?:\.0{{1,{places}}})?"
    top = 10**whole_digits - 1
    if max_value is not None:
        if max_value != max_value.to_integral_value() or not 0 < max_value <= top:
            raise ValueError(f"unsupported maximum {max_value}")
        top = int(max_value) - 1
    if min_value is None or min_value < 0:
        if max_value is not None:
            raise ValueError("a maximum without a minimum of 0 is not supported")
        return rf"^-?0*{_at_most(top)}{frac}$"
    unit = Decimal(1).scaleb(-places)
    alternatives = []
    if min_value == 0:
        alternatives.append(rf"0*{_at_most(top)}{frac}")
        alternatives.append(rf"-0+{zero_frac}")
    elif min_value == unit:
        if top >= 1:
            alternatives.append(rf"0*{_from_one_to(top)}{frac}")
        # 0.01 to 0.99: a zero whole part and a fraction that is not all zeros.
        fractions = "|".join("0" * i + f"[1-9][0-9]{{0,{places - 1 - i}}}" for i in range(places))
        alternatives.append(rf"0+\.(?:{fractions})")
    else:
        raise ValueError(f"unsupported minimum {min_value}")
    if max_value is not None:
        alternatives.append(rf"0*{int(max_value)}{zero_frac}")
    return rf"^(?:{'|'.join(alternatives)})$"


def _at_most(n: int) -> str:
    """A regex for the whole numbers 0 to ``n``, without leading zeros."""
    return f"(?:0|{_from_one_to(n)})" if n >= 1 else "0"


def _from_one_to(n: int) -> str:
    """A regex for the whole numbers 1 to ``n`` (n >= 1), without leading zeros."""
    digits = str(n)
    if set(digits) == {"9"}:
        return f"[1-9][0-9]{{0,{len(digits) - 1}}}"
    alternatives = [f"[1-9][0-9]{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    for i, digit in enumerate(digits):
        low = 1 if i == 0 else 0
        high = int(digit) if i == len(digits) - 1 else int(digit) - 1
        if high >= low:
            rest = len(digits) - 1 - i
            alternatives.append(digits[:i] + f"[{low}-{high}]" + (f"[0-9]{{{rest}}}" if rest else ""))
    return f"(?:{'|'.join(alternatives)})"


class ListSerializerSchema(OpenApiSerializerFieldExtension):
    """A nested ``many=True`` serializer's ``allow_empty``/``min_length``/``max_length`` become
    ``minItems``/``maxItems``; drf-spectacular only does this for ``ListField``."""

    target_class = serializers.ListSerializer
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        schema = spectacular_field_schema(auto_schema, field, direction)
        if direction == "request" and schema is not None:
            min_items = max(field.min_length or 0, 0 if field.allow_empty else 1)
            if min_items:
                schema["minItems"] = min_items
            if field.max_length is not None:
                schema["maxItems"] = field.max_length
        return schema


class EmailAddressFieldSchema(OpenApiSerializerFieldExtension):
    """The address as the validator takes it: its pattern and length, and no ``format: email``. IDN
    domains are taken (``ann@bücher.example``), which ``format: email`` does not allow; see
    ``billing_project.core.validators``."""

    target_class = EmailAddressField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = spectacular_field_schema(auto_schema, self.target, direction)
        schema.pop("format", None)
        schema["maxLength"] = MAX_EMAIL_LENGTH
        schema["pattern"] = CUSTOMER_EMAIL_PATTERN
        return schema


class MobileNumberFieldSchema(OpenApiSerializerFieldExtension):
    """The spellings ``MobileNumberField`` takes, as a pattern."""

    target_class = MobileNumberField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = spectacular_field_schema(auto_schema, self.target, direction)
        schema["maxLength"] = MAX_PHONE_LENGTH
        schema["pattern"] = INDIAN_MOBILE_PATTERN
        return schema


class PlainTextFieldSchema(OpenApiSerializerFieldExtension):
    """The characters ``PlainTextField`` refuses, as a pattern; a required, non-blank field must also
    have a character that is not whitespace (it is trimmed)."""

    target_class = PlainTextField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        schema = spectacular_field_schema(auto_schema, field, direction)
        if direction == "request":
            pattern = code_pattern() if field.code else text_pattern()
            char = pattern[1:-2]  # "[^...]"
            # drf-spectacular documents a blank-allowed patterned field as oneOf [pattern, ""]: the
            # pattern takes the non-empty values, so that exactly one alternative matches. A field
            # that may not be blank needs a character that trimming leaves.
            pattern = f"^{char}+$" if field.allow_blank else f"^{char}*{char[:-1]}\\s]{char}*$"
            inner = schema["oneOf"][0] if "oneOf" in schema else schema
            inner["pattern"] = pattern
        return schema
