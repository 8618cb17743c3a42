"""validate_input: one shared serializer per class gives exactly what a new serializer's
is_valid(raise_exception=True) gives, for good input and every kind of bad input."""

import pytest
from rest_framework.exceptions import ValidationError

from billing_project.api.serializers import validate_input
from purchases.serializers import PurchaseCreateSerializer

GOOD = {
    "customer_email": "Ann@Example.com",
    "items": [{"product_id": 1, "quantity": 2, "discount_percent": "5"}],
    "paid_amount": "1200.00",
    "tendered": [{"value": "500", "count": 2}, {"value": "200", "count": 1}],
    "discount_reason": "loyal",
}

BAD = [
    None,
    [],
    "a bill",
    {},
    {"customer_email": "not an email", "items": []},
    {**GOOD, "items": [{"product_id": 0, "quantity": "2"}, {"quantity": 1}]},
    {**GOOD, "paid_amount": 12.5, "tendered": [{"value": "x", "count": 0}]},
    {**GOOD, "payments": [{"method": "card", "amount": "-1"}], "till": True},
    {key: value for key, value in GOOD.items() if key not in ("paid_amount", "customer_email")},
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
