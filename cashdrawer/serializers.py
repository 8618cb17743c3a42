from decimal import Decimal

from rest_framework import serializers

from billing_project.api.fields import MoneyField

from .models import MAX_COUNT, MAX_VALUE, Denomination


class DenominationSerializer(serializers.ModelSerializer):
    value = MoneyField(min_value=Decimal("0.01"), max_value=MAX_VALUE)
    available_count = serializers.IntegerField(source="count", min_value=0, max_value=MAX_COUNT, default=0)

    class Meta:
        model = Denomination
        fields = ["value", "available_count"]
        validators: list = []


class DenominationCountSerializer(serializers.Serializer):
    available_count = serializers.IntegerField(min_value=0, max_value=MAX_COUNT)
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
