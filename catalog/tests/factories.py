from decimal import Decimal

import factory

from billing_project.core.testing.factories import ModelFactory
from catalog.models import Product


class ProductFactory(ModelFactory[Product]):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    price = Decimal("100.00")
    tax_percent = Decimal("18.00")
    stock = 100
    is_active = True
