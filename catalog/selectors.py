from django.db.models import Q, QuerySet

from .models import Product


def product_list(*, search: str | None = None, is_active: bool | None = None) -> QuerySet[Product]:
    qs = Product.objects.all()
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(sku__icontains=search))
    if is_active is not None:
        qs = qs.filter(is_active=is_active)
    return qs
