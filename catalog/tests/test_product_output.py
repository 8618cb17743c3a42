"""A product as the API puts it out (``ProductSerializer``, through ``FastOutputMixin``): the same keys,
in the same order, with the same values and types as DRF's own ``ModelSerializer`` output."""

from decimal import Decimal

import pytest
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from billing_project.core.quantities import quantity_json
from catalog.selectors import product_list
from catalog.serializers import ProductSerializer, can_view_cost
from catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


class DrfProductSerializer(ProductSerializer):
    """ProductSerializer's output as DRF's ModelSerializer writes it."""

    def to_representation(self, instance):
        data = serializers.ModelSerializer.to_representation(self, instance)
        data["stock"] = quantity_json(instance.stock, instance.unit)
        if not can_view_cost(self.context):
            data["cost_price"] = None
        return data


@pytest.mark.parametrize("who", ["superuser", "cashier_user"])
def test_a_page_of_products_is_put_out_as_drf_would(request, who):
    ProductFactory(name="Tea", sku="TEA-1", price=Decimal("10.50"), mrp=Decimal("12.00"), stock=7)
    ProductFactory(name="Rice", sku=None, unit="kg", plu="501", stock=Decimal("2.500"), hsn_code="1006")
    ProductFactory(name="Soap", is_active=False, tax_percent=Decimal("18"))
    http = APIRequestFactory().get("/api/v1/products")
    http.user = request.getfixturevalue(who)
    products = list(product_list())

    ours = ProductSerializer(products, many=True, context={"request": http}).data
    drf = DrfProductSerializer(products, many=True, context={"request": http}).data

    assert [list(row.items()) for row in ours] == [list(row.items()) for row in drf]
    assert [[type(v) for v in row.values()] for row in ours] == [[type(v) for v in row.values()] for row in drf]
    assert {row["name"] for row in ours} == {"Tea", "Rice", "Soap"}
