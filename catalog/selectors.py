from django.conf import settings
from django.db.models import Q, QuerySet

from .models import Product


def product_list(*, search: str | None = None, is_active: bool | None = None) -> QuerySet[Product]:
    qs = Product.objects.all()
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(sku__icontains=search))
    if is_active is not None:
        qs = qs.filter(is_active=is_active)
    return qs


def low_stock_threshold() -> int:
    return settings.LOW_STOCK_THRESHOLD


def low_stock_products(*, threshold: int | None = None) -> QuerySet[Product]:
    """Active products with stock below the threshold (LOW_STOCK_THRESHOLD), emptiest first."""
    threshold = low_stock_threshold() if threshold is None else threshold
    return Product.objects.active().filter(stock__lt=threshold).order_by("stock", "name", "id")
