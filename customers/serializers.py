from rest_framework import serializers

from billing_project.core.api.fields import MoneyField

from .models import Customer


class CustomerSerializer(serializers.ModelSerializer):
    """A customer, known by email from their first bill, with what they have bought so far."""

    # Not ``format: email``: addresses may have an internationalised domain (billing_project.core.validators).
    email = serializers.CharField(read_only=True, help_text="Lower-cased; the domain may be internationalised.")
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
        fields = ["id", "email", "created_at", "purchase_count", "total_spent", "total_refunded", "discount_total"]
        read_only_fields = fields
