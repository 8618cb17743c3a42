from decimal import Decimal

import pytest

from catalog.models import Product
from catalog.tests.factories import ProductFactory
from purchases.tests.factories import purchase_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/products"


def product_body(**overrides):
    body = {"sku": "RICE-5KG", "name": "Rice 5 kg", "price": "349.50", "tax_percent": "5", "stock": 20}
    body.update(overrides)
    return body


@pytest.mark.parametrize("path", [URL, URL + "/"])
def test_create_product_with_and_without_trailing_slash(admin_api, path):
    response = admin_api.post(path, product_body(), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {
        "id",
        "sku",
        "name",
        "unit",
        "stock",
        "price",
        "cost_price",
        "lead_time_days",
        "mrp",
        "tax_percent",
        "hsn_code",
        "barcode",
        "plu",
        "is_active",
        "created_at",
        "updated_at",
    }
    assert body["price"] == "349.50"
    assert body["mrp"] is None
    assert body["tax_percent"] == "5.00"
    product = Product.objects.get(pk=body["id"])
    assert (product.sku, product.price, product.stock, product.is_active) == ("RICE-5KG", Decimal("349.50"), 20, True)


def test_money_may_be_a_json_number(admin_api):
    response = admin_api.post(URL, product_body(price=12.5, tax_percent=18), format="json")

    assert response.status_code == 201
    assert Product.objects.get().price == Decimal("12.50")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("price", "0"),
        ("price", "-1"),
        ("price", "1.234"),
        ("price", "1e308"),
        ("price", "NaN"),
        ("price", "abc"),
        ("tax_percent", "100.01"),
        ("tax_percent", "-1"),
        ("stock", -1),
        ("stock", 2**31),
        ("stock", 2**64),
        ("stock", "ten"),
        ("name", ""),
        ("name", "x" * 201),
        ("sku", "s" * 65),
        ("mrp", "0"),
        ("mrp", "-1"),
        ("mrp", "1.234"),
        ("mrp", "abc"),
    ],
)
def test_invalid_product_fields_are_validation_errors(admin_api, field, value):
    response = admin_api.post(URL, product_body(**{field: value}), format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["details"]
    assert Product.objects.count() == 0


def test_missing_fields_are_listed(admin_api):
    response = admin_api.post(URL, {}, format="json")

    assert response.status_code == 400
    assert set(response.json()["details"]) == {"name", "price"}


def test_sku_is_unique_when_set_and_blank_skus_may_repeat(admin_api):
    ProductFactory(sku="A1")

    duplicate = admin_api.post(URL, product_body(sku="A1"), format="json")
    blank_1 = admin_api.post(URL, product_body(sku=""), format="json")
    blank_2 = admin_api.post(URL, product_body(sku=None), format="json")

    assert duplicate.status_code == 400
    assert duplicate.json()["code"] == "validation_error"
    assert "sku" in duplicate.json()["details"]
    assert blank_1.status_code == blank_2.status_code == 201
    assert Product.objects.filter(sku__isnull=True).count() == 2


def test_list_is_paginated_and_searchable_by_name_and_sku(admin_api):
    ProductFactory(name="Basmati rice", sku="R-1")
    ProductFactory(name="Sunflower oil", sku="OIL-1")
    ProductFactory(name="Salt", sku="S-RICE")

    everything = admin_api.get(URL).json()
    by_name = admin_api.get(URL, {"search": "rice"}).json()

    assert set(everything) == {"count", "next", "previous", "results"}
    assert everything["count"] == 3
    assert sorted(p["name"] for p in by_name["results"]) == ["Basmati rice", "Salt"]
    assert [p["name"] for p in admin_api.get(URL, {"search": "oil-1"}).json()["results"]] == ["Sunflower oil"]


def test_retrieve_put_and_patch(admin_api):
    product = ProductFactory(price=Decimal("10.00"), stock=5)

    got = admin_api.get(f"{URL}/{product.pk}")
    put = admin_api.put(f"{URL}/{product.pk}/", product_body(sku="NEW", price="11.00", stock=5), format="json")
    patch = admin_api.patch(f"{URL}/{product.pk}", {"name": "Renamed"}, format="json")

    assert got.status_code == 200 and got.json()["id"] == product.pk
    assert put.status_code == 200 and put.json()["price"] == "11.00"
    assert patch.status_code == 200
    product.refresh_from_db()
    assert (product.sku, product.price, product.name, product.stock) == ("NEW", Decimal("11.00"), "Renamed", 5)


def test_delete_removes_an_unsold_product(admin_api):
    product = ProductFactory()

    response = admin_api.delete(f"{URL}/{product.pk}")

    assert response.status_code == 204
    assert not Product.objects.filter(pk=product.pk).exists()


def test_delete_archives_a_product_that_is_on_a_bill(admin_api):
    product = ProductFactory()
    purchase_for(product)

    response = admin_api.delete(f"{URL}/{product.pk}")

    assert response.status_code == 204
    assert Product.objects.get(pk=product.pk).is_active is False


@pytest.mark.parametrize("pk", ["999999", "99999999999999999999999"])
def test_unknown_product_is_not_found(admin_api, pk):
    response = admin_api.get(f"{URL}/{pk}")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_method_not_allowed(admin_api):
    response = admin_api.put(URL, product_body(), format="json")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_anonymous_gets_401(api_client):
    response = api_client.get(URL)

    assert response.status_code == 401
    assert response.json() == {
        "code": "not_authenticated",
        "message": "Authentication credentials were not provided.",
        "details": {},
    }


@pytest.mark.parametrize(
    ("hsn", "status"), [("1006", 201), ("100630", 201), ("10063010", 201), ("100", 400), ("1006A", 400)]
)
def test_create_product_with_an_hsn_code(admin_api, hsn, status):
    response = admin_api.post("/api/v1/products", {"name": "Rice", "price": "10.00", "hsn_code": hsn}, format="json")
    assert response.status_code == status
    assert list(Product.objects.values_list("hsn_code", flat=True)) == ([hsn] if status == 201 else [])
