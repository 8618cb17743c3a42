from django.db.models import Prefetch, QuerySet

from cashdrawer.models import DrawerMovement

from .models import Purchase, PurchaseItem


def purchase_list(*, customer_email: str | None = None, customer_id: int | None = None) -> QuerySet[Purchase]:
    """Bills newest first, with lines and drawer movements prefetched: a constant number of
    queries however many bills and lines are listed."""
    qs = Purchase.objects.select_related("customer").prefetch_related(
        Prefetch("items", queryset=PurchaseItem.objects.order_by("id")),
        Prefetch("drawer_movements", queryset=DrawerMovement.objects.select_related("denomination")),
    )
    if customer_email:
        qs = qs.filter(customer__email__iexact=customer_email.strip())
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    return qs.order_by("-created_at", "-id")


def purchase_get(*, purchase_id: int) -> Purchase:
    return purchase_list().get(pk=purchase_id)
