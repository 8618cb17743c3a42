"""A fast path for input validation: the common, valid body checked without DRF's field machinery.

``compile_input(serializer)`` reads a serializer's declared fields once and returns a function that
takes a request body and returns exactly the ``validated_data`` DRF's ``run_validation`` would
(same keys, values and types; decimals with the same exponent), or ``None`` when it is not sure,
and then DRF runs as before, so every error stays DRF's own. It only says yes to plainly valid
input: ints as ``int``, decimals as ``int``, ``Decimal`` or a plain-notation string, booleans as
``True``/``False``, text as printable ASCII without surrounding spaces; ``None`` and anything else
are for DRF to judge.

It compiles nothing it does not know: a field of another class (exactly), a validator it has no
rule for, a ``validate_<field>`` method, or an override of the serializer's validation methods makes
``compile_input`` return ``None``, so a field added later can slow a request down but never let a
bad value through. An override that only rewords errors can be marked ``@reshapes_errors_only``.
"""

from collections.abc import Callable
from decimal import Context, Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinLengthValidator,
    MinValueValidator,
    ProhibitNullCharactersValidator,
)
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from billing_project.core.api.fields import (
    PLAIN_DECIMAL,
    EmailAddressField,
    MobileNumberField,
    MoneyField,
    PlainDecimalField,
    PlainTextField,
    QuantityInputField,
    StrictBooleanField,
    StrictIntegerField,
)
from billing_project.core.db.orm_internals import FIELD_LIST_METHODS, FieldListsOnce
from billing_project.core.validators import (
    indian_mobile_e164,
    validate_code_text,
    validate_customer_email,
    validate_plain_text,
)

Reader = Callable[[Any], Any]

# Text validators that are cheap on short ASCII and safe to call as they are.
_TEXT_CHECKS = (validate_customer_email, validate_plain_text, validate_code_text)
# They refuse only NUL and surrogates, which printable ASCII never holds.
_ASCII_ALWAYS_PASSES = (ProhibitNullCharactersValidator, ProhibitSurrogateCharactersValidator)
# Defaults safe to hand out as they are: immutable.
_PLAIN_DEFAULTS = (bool, int, str, Decimal, type(None))
# What DRF's run_validation calls on a serializer; each must be DRF's own, FastInputMixin's, or marked.
_SERIALIZER_METHODS = (
    "run_validation",
    "validate_empty_values",
    "to_internal_value",
    "run_validators",
    "validate",
    "get_value",
    "set_value",
    "get_validators",
    *FIELD_LIST_METHODS,
)
# A decimal string longer than this is unusual enough for DRF to judge.
_MAX_DECIMAL_STRING = 40


class _GiveUp(Exception):
    """Not sure: DRF decides."""


class _Unknown(Exception):
    """A field, validator or override the compiler has no rule for."""


def reshapes_errors_only(method):
    """Mark a serializer's override (``to_internal_value``, ``validate``…) that returns what DRF's
    own would and raises only when it would, changing just the errors: the fast path may skip it."""
    method.reshapes_errors_only = True
    return method


def compile_input(serializer) -> Reader | None:
    """The fast path for ``serializer`` (an unbound instance, as ``validate_input`` shares), or
    ``None`` if anything in it, nested serializers included, is unknown. Compile once per class."""
    try:
        read = _object_reader(serializer)
    except _Unknown:
        return None

    def fast(data):
        try:
            return read(data)
        except _GiveUp:
            return None

    return fast


def _check_serializer(serializer) -> None:
    if not isinstance(serializer, serializers.Serializer) or isinstance(serializer, serializers.ModelSerializer):
        raise _Unknown("not a plain Serializer")
    for name in _SERIALIZER_METHODS:
        found = getattr(type(serializer), name, None)
        if found is getattr(serializers.Serializer, name, None) or found is vars(FieldListsOnce).get(name):
            continue
        if getattr(found, "reshapes_errors_only", False):
            continue
        raise _Unknown(f"{type(serializer).__name__}.{name} is overridden")
    if getattr(serializer, "partial", False) or serializer.validators:
        raise _Unknown("partial, or serializer-level validators")


def _object_reader(serializer) -> Reader:
    """A serializer's fields: a dict in, a dict of the validated values out, in the fields' order."""
    _check_serializer(serializer)
    plan = []
    for field in serializer.fields.values():
        name = field.field_name
        if field.read_only or field.source != name or getattr(serializer, f"validate_{name}", None) is not None:
            raise _Unknown(f"{name}: read-only, sourced elsewhere or with a validate_ method")
        if field.default is not empty:
            if type(field.default) not in _PLAIN_DEFAULTS:
                raise _Unknown(f"{name}: default {field.default!r}")
            absent = (False, field.default)
        else:
            absent = (field.required, empty)
        plan.append((name, _field_reader(field), *absent))

    def read(data):
        if type(data) is not dict:
            raise _GiveUp
        out = {}
        for name, reader, required, default in plan:
            value = data.get(name, empty)
            if value is empty:
                if required:
                    raise _GiveUp
                if default is not empty:
                    out[name] = default
            else:
                out[name] = reader(value)
        return out

    return read


def _field_reader(field) -> Reader:
    kind = type(field)
    if kind is serializers.ListSerializer:
        return _list_reader(field)
    if kind is StrictIntegerField:
        return _integer_reader(field)
    if kind in (PlainDecimalField, MoneyField, QuantityInputField):
        return _decimal_reader(field)
    if kind in (EmailAddressField, PlainTextField):
        return _nullable(field, _text_reader(field))
    if kind is MobileNumberField:
        return _nullable(field, _mobile_reader(field))
    if kind in (StrictBooleanField, serializers.BooleanField):
        if field.validators:
            raise _Unknown(f"{field.field_name}: validators")
        return _boolean
    raise _Unknown(f"{field.field_name}: {kind.__name__}")


def _nullable(field, reader: Reader) -> Reader:
    """``null`` where the field allows it (DRF validates it as ``None``), else ``reader``."""
    if not field.allow_null:
        return reader

    def read(value):
        return None if value is None else reader(value)

    return read


def _mobile_reader(field) -> Reader:
    """A mobile number: a string, through the one rule, as its E.164 form."""
    if field.validators or field.max_length is None:
        raise _Unknown(f"{field.field_name}: validators or no length")
    longest = field.max_length

    def read(value):
        if type(value) is not str or len(value) > longest:
            raise _GiveUp
        try:
            return indian_mobile_e164(value)
        except DjangoValidationError:
            raise _GiveUp from None

    return read


def _boolean(value):
    if value is True or value is False:
        return value
    raise _GiveUp


def _list_reader(field) -> Reader:
    if field.validators:
        raise _Unknown(f"{field.field_name}: validators")
    child = _object_reader(field.child)
    least = max(field.min_length or 0, 0 if field.allow_empty else 1)
    most = field.max_length

    def read(value):
        if type(value) is not list or len(value) < least or (most is not None and len(value) > most):
            raise _GiveUp
        return [child(item) for item in value]

    return read


def _bounds(field) -> tuple[Any, Any]:
    """The range its Min/MaxValueValidators allow (``None``: open), from the validators DRF runs."""
    low = high = None
    for validator in field.validators:
        if type(validator) not in (MinValueValidator, MaxValueValidator):
            raise _Unknown(f"{field.field_name}: {validator!r}")
        limit = validator.limit_value
        if type(limit) not in (int, Decimal):  # a callable limit, a float…
            raise _Unknown(f"{field.field_name}: limit {limit!r}")
        if type(validator) is MinValueValidator:
            low = limit if low is None else max(low, limit)
        else:
            high = limit if high is None else min(high, limit)
    return low, high


def _integer_reader(field) -> Reader:
    low, high = _bounds(field)
    if low is None or high is None:
        # DRF reads an int through str(), which refuses more than 4,300 digits: a bound keeps clear of that.
        raise _Unknown(f"{field.field_name}: an unbounded integer")

    def read(value):
        if type(value) is int and low <= value <= high:
            return value
        raise _GiveUp

    return read


def _decimal_reader(field) -> Reader:
    """DRF's ``DecimalField.to_internal_value``, ``validate_precision`` and ``quantize``, then
    ``PlainDecimalField``'s -0 as 0, then the range; for values that need no rounding."""
    places, digits, whole = field.decimal_places, field.max_digits, field.max_whole_digits
    if field.localize or places is None or digits is None:
        raise _Unknown(f"{field.field_name}: localized or unlimited")
    low, high = _bounds(field)
    unit = Decimal(1).scaleb(-places)
    context = Context(prec=digits)
    int_limit = 10**digits

    def read(value):
        kind = type(value)
        if kind is str:
            if len(value) > _MAX_DECIMAL_STRING or not PLAIN_DECIMAL.fullmatch(value):
                raise _GiveUp
            value = Decimal(value)
        elif kind is int:
            if not -int_limit < value < int_limit:
                raise _GiveUp
            value = Decimal(value)
        elif kind is not Decimal:
            raise _GiveUp
        _sign, numerals, exponent = value.as_tuple()
        # Finite, in plain notation, within the places: DRF's precision rule without its exponent cases.
        if type(exponent) is not int or exponent > 0 or -exponent > places:
            raise _GiveUp
        count = len(numerals)
        total = count if count > -exponent else -exponent
        if total > digits or total + exponent > whole:
            raise _GiveUp
        value = value.quantize(unit, context=context)
        if value.is_zero():
            value = value.copy_abs()
        if (low is not None and value < low) or (high is not None and value > high):
            raise _GiveUp
        return value

    return read


def _text_reader(field) -> Reader:
    """Printable ASCII only (so no whitespace but the space, none at either end, nothing any of the
    text rules refuses), within the lengths, through the field's own checks."""
    checks = []
    if type(field) is PlainTextField:
        # It checks the text as sent, before trimming: the same text here.
        checks.append(validate_code_text if field.code else validate_plain_text)
    longest = field.max_length
    shortest = field.min_length or 0
    for validator in field.validators:
        if type(validator) is MaxLengthValidator and type(validator.limit_value) is int:
            longest = validator.limit_value if longest is None else min(longest, validator.limit_value)
        elif type(validator) is MinLengthValidator and type(validator.limit_value) is int:
            shortest = max(shortest, validator.limit_value)
        elif type(validator) in _ASCII_ALWAYS_PASSES:
            pass
        elif any(validator is check for check in _TEXT_CHECKS):
            checks.append(validator)
        else:
            raise _Unknown(f"{field.field_name}: {validator!r}")
    blank = field.allow_blank

    def read(value):
        if type(value) is not str or not value.isascii() or not value.isprintable():
            raise _GiveUp
        if not value:
            if blank:
                return value
            raise _GiveUp
        # No space at either end: trimmed or not, the value is the same, and not blank.
        if value[0] == " " or value[-1] == " " or len(value) < shortest:
            raise _GiveUp
        if longest is not None and len(value) > longest:
            raise _GiveUp
        try:
            for check in checks:
                check(value)
        except DjangoValidationError:
            raise _GiveUp from None
        return value

    return read
