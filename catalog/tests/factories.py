from decimal import Decimal

import factory

from billing_project.core.testing.factories import ModelFactory
from catalog.models import Product
from catalog.stock import opening_movement


class ProductFactory(ModelFactory[Product]):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    price = Decimal("100.00")
    tax_percent = Decimal("18.00")
    stock = 100
    is_active = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # As ``product_create`` does: the product's stock ledger starts with its opening row, at
        # ``store`` (an id; default: the default store), which is its StoreStock row there.
        store = kwargs.pop("store", None)
        product = super()._create(model_class, *args, **kwargs)
        product.stock = Decimal(product.stock).quantize(Decimal("0.001"))
        opening_movement(product, store=store)
        return product
