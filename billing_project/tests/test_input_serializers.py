"""validate_input: one shared serializer per class gives exactly what a new serializer's
is_valid(raise_exception=True) gives, for good input and every kind of bad input; FastInputMixin
sees the same fields as DRF."""

import pytest
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from billing_project.core.api.input import validate_input
from purchases.serializers import (
    PaymentInputSerializer,
    PiecesSerializer,
    PurchaseCreateSerializer,
    PurchaseLineInputSerializer,
)

GOOD = {
    "customer_email": "Ann@Example.com",
    "items": [{"product_id": 1, "quantity": 2, "discount_percent": "5"}],
    "paid_amount": "1200.00",
    "tendered": [{"value": "500", "count": 2}, {"value": "200", "count": 1}],
    "discount_reason": "loyal",
}

BAD: list[object] = [
    None,
    [],
    "a bill",
    {},
    {"customer_email": "not an email", "items": []},
    {**GOOD, "items": [{"product_id": 0, "quantity": "2"}, {"quantity": 1}]},
    {**GOOD, "paid_amount": 12.5, "tendered": [{"value": "x", "count": 0}]},
    {**GOOD, "payments": [{"method": "card", "amount": "-1"}], "till": True},
    {key: value for key, value in GOOD.items() if key not in ("paid_amount", "items")},
]


def _is_valid(data):
    serializer = PurchaseCreateSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def test_good_input_gives_the_same_validated_data():
    assert validate_input(PurchaseCreateSerializer, GOOD) == _is_valid(GOOD)
    assert validate_input(PurchaseCreateSerializer, GOOD) == _is_valid(GOOD)  # and again, shared


@pytest.mark.parametrize("data", BAD)
def test_bad_input_gives_the_same_errors(data):
    with pytest.raises(ValidationError) as expected:
        _is_valid(data)
    for _ in range(2):  # the shared serializer keeps nothing from one call to the next
        with pytest.raises(ValidationError) as got:
            validate_input(PurchaseCreateSerializer, data)
        assert got.value.detail == expected.value.detail
        assert got.value.get_codes() == expected.value.get_codes()
    assert validate_input(PurchaseCreateSerializer, GOOD) == _is_valid(GOOD)


@pytest.mark.parametrize(
    "serializer_class",
    [PurchaseCreateSerializer, PurchaseLineInputSerializer, PaymentInputSerializer, PiecesSerializer],
)
def test_the_fast_input_serializers_see_the_fields_drf_would(serializer_class):
    serializer = serializer_class()

    for _ in range(2):
        assert serializer._writable_fields == list(vars(serializers.Serializer)["_writable_fields"].fget(serializer))
        assert serializer._read_only_defaults() == serializers.Serializer._read_only_defaults(serializer)


def test_read_only_defaults_still_come_through():
    from billing_project.core.api.serializers import FastInputMixin

    class WithDefault(FastInputMixin, serializers.Serializer):
        name = serializers.CharField()
        kind = serializers.CharField(read_only=True, default="bill")

    serializer = WithDefault()
    for _ in range(2):
        assert serializer._read_only_defaults() == {"kind": "bill"}
        assert [f.field_name for f in serializer._writable_fields] == ["name"]
