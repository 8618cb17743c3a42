from decimal import Decimal

from django.apps import apps
from django.db.models import Count, DecimalField, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from .models import Customer

_AMOUNT = DecimalField(max_digits=20, decimal_places=2)


def customer_list(*, email: str | None = None, phone: str | None = None) -> QuerySet[Customer]:
    """Customers with their number of bills, what their refunds paid back (``total_refunded``),
    their lifetime spend net of it (``total_spent`` = sum of amounts payable − total_refunded) and
    the discounts they were given (``discount_total``, the sum of the bills' discount totals).
    The refunds are summed in a subquery, so they do not multiply the bill rows. By email, then
    those known by phone only; ``phone`` is in E.164 form (``customer_normalize_phone``)."""
    Refund = apps.get_model("purchases", "Refund")
    refunded = (
        Refund.objects.filter(purchase__customer_id=OuterRef("pk"))
        .order_by()
        .values("purchase__customer_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    zero = Value(Decimal("0.00"))
    qs = Customer.objects.annotate(
        purchase_count=Count("purchases"),
        total_refunded=Coalesce(Subquery(refunded, output_field=_AMOUNT), zero, output_field=_AMOUNT),
        total_spent=Coalesce(Sum("purchases__payable"), zero, output_field=_AMOUNT)
        - Coalesce(Subquery(refunded, output_field=_AMOUNT), zero, output_field=_AMOUNT),
        discount_total=Coalesce(Sum("purchases__discount_total"), zero, output_field=_AMOUNT),
    ).order_by(F("email").asc(nulls_last=True), "phone", "id")
    if email:
        qs = qs.filter(email__iexact=email.strip())
    if phone:
        qs = qs.filter(phone=phone)
    return qs
