from rest_framework import serializers

from billing_project.money import MONEY_DECIMAL_PLACES


class MoneyField(serializers.DecimalField):
    """A money amount: a number or string in requests, a 2-place decimal string in responses.
    More than 2 decimal places is a validation error, not a silent rounding."""

    def __init__(self, *, max_digits: int = 12, **kwargs):
        kwargs.setdefault("decimal_places", MONEY_DECIMAL_PLACES)
        kwargs.setdefault("coerce_to_string", True)
        super().__init__(max_digits=max_digits, **kwargs)
