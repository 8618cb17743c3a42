from rest_framework import serializers

from billing_project.core.api.fields import MoneyField

from .models import Customer


class CustomerSerializer(serializers.ModelSerializer):
    """A customer, known by email, mobile number or both from their first bill, with what they have
    bought so far."""

    # Not ``format: email``: addresses may have an internationalised domain (customers.validators).
    email = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="Lower-cased; the domain may be internationalised. Null for a customer known by phone only.",
    )
    phone = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="An Indian mobile number in E.164 form (`+919876543210`); null when unknown.",
    )
    name = serializers.CharField(read_only=True, allow_null=True, help_text="Null when unknown.")
    purchase_count = serializers.IntegerField(read_only=True)
    total_spent = MoneyField(
        max_digits=20,
        read_only=True,
        help_text="Sum of the amounts payable on every bill, net of what refunds paid back.",
    )
    total_refunded = MoneyField(max_digits=20, read_only=True, help_text="What the customer's refunds paid back.")
    discount_total = MoneyField(max_digits=20, read_only=True, help_text="Sum of the discounts on every bill.")

    class Meta:
        model = Customer
        fields = [
            "id",
            "email",
            "phone",
            "name",
            "created_at",
            "purchase_count",
            "total_spent",
            "total_refunded",
            "discount_total",
        ]
        read_only_fields = fields
