from decimal import Decimal

from rest_framework import serializers

from billing_project.api.fields import MoneyField, PlainTextField, StrictIntegerField

from .models import MAX_COUNT, Denomination


class DenominationSerializer(serializers.ModelSerializer):
    value = MoneyField(min_value=Decimal("0.01"))
    available_count = StrictIntegerField(source="count", min_value=0, max_value=MAX_COUNT, default=0)

    class Meta:
        model = Denomination
        fields = ["value", "available_count"]
        validators = []


class DenominationCountSerializer(serializers.Serializer):
    available_count = StrictIntegerField(min_value=0, max_value=MAX_COUNT)
    reason = PlainTextField(max_length=255, required=False, allow_blank=True, default="")
