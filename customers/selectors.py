from decimal import Decimal

from django.db.models import Count, DecimalField, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from .models import Customer


def customer_list(*, email: str | None = None) -> QuerySet[Customer]:
    """Customers with their number of bills, lifetime spend (sum of amounts payable) and the
    discounts they were given (sum of the bills' discount totals)."""
    qs = Customer.objects.annotate(
        purchase_count=Count("purchases"),
        total_spent=Coalesce(
            Sum("purchases__payable"),
            Value(Decimal("0.00")),
            output_field=DecimalField(max_digits=20, decimal_places=2),
        ),
        discount_total=Coalesce(
            Sum("purchases__discount_total"),
            Value(Decimal("0.00")),
            output_field=DecimalField(max_digits=20, decimal_places=2),
        ),
    ).order_by("email")
    if email:
        qs = qs.filter(email__iexact=email.strip())
    return qs
