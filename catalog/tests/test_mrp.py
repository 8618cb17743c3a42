"""A product's MRP, the maximum retail price printed on the pack: optional, and the price may never be
above it, whichever way the price or the MRP is set (API, admin, import), nor in the database."""

import threading
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from catalog.importing import ImportRejected, parse_stream, product_import_rows
from catalog.models import Product
from catalog.services import product_create, product_update
from catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

D = Decimal
URL = "/api/v1/products"


def body(**overrides):
    data = {"sku": "SOAP-1", "name": "Soap", "price": "45.00", "mrp": "50.00", "tax_percent": "18", "stock": 5}
    data.update(overrides)
    return data


# --- The API ------------------------------------------------------------------------------------------


def test_a_product_is_created_with_its_mrp_and_shows_it(admin_api):
    created = admin_api.post(URL, body(), format="json")

    assert created.status_code == 201, created.json()
    assert (created.json()["price"], created.json()["mrp"]) == ("45.00", "50.00")
    shown = admin_api.get(f"{URL}/{created.json()['id']}").json()
    assert shown["mrp"] == "50.00"
    assert Product.objects.get().mrp == D("50.00")


@pytest.mark.parametrize("mrp", [None, "45.00", 45])
def test_the_mrp_may_be_left_out_null_or_equal_to_the_price(admin_api, mrp):
    response = admin_api.post(URL, body(mrp=mrp), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["mrp"] == (None if mrp is None else "45.00")


def test_the_mrp_is_null_when_not_given(admin_api):
    data = body()
    del data["mrp"]

    response = admin_api.post(URL, data, format="json")

    assert response.status_code == 201
    assert response.json()["mrp"] is None


def test_creating_a_product_priced_above_its_mrp_is_price_above_mrp(admin_api):
    response = admin_api.post(URL, body(price="118000.00", mrp="117999.99"), format="json")

    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "price_above_mrp"
    assert error["details"] == {"price": "118000.00", "mrp": "117999.99"}
    assert error["message"] == "The price ₹1,18,000.00 is above the MRP ₹1,17,999.99."
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("change", "refused"),
    [
        ({"price": "50.01"}, True),  # above the MRP it has
        ({"mrp": "44.99"}, True),  # below the price it has
        ({"price": "60.00", "mrp": "59.00"}, True),
        ({"price": "60.00", "mrp": "60.00"}, False),
        ({"price": "50.00"}, False),
        ({"mrp": None}, False),  # no MRP: any price
        ({"mrp": "45.00"}, False),
    ],
)
def test_patch_checks_the_price_against_the_mrp_as_they_will_stand(admin_api, change, refused):
    product = ProductFactory(price=D("45.00"), mrp=D("50.00"))

    response = admin_api.patch(f"{URL}/{product.pk}", change, format="json")

    product.refresh_from_db()
    if refused:
        assert response.status_code == 400
        assert response.json()["code"] == "price_above_mrp"
        assert (product.price, product.mrp) == (D("45.00"), D("50.00"))
    else:
        assert response.status_code == 200, response.json()
        expected = {"price": D("45.00"), "mrp": D("50.00")} | {
            k: None if v is None else D(v) for k, v in change.items()
        }
        assert (product.price, product.mrp) == (expected["price"], expected["mrp"])
        assert response.json()["mrp"] == (None if expected["mrp"] is None else f"{expected['mrp']:.2f}")


def test_a_put_without_the_mrp_clears_it(admin_api):
    product = ProductFactory(sku="SOAP-1", price=D("45.00"), mrp=D("50.00"), stock=5)  # a PUT repeats the stock
    data = body(price="55.00")
    del data["mrp"]

    response = admin_api.put(f"{URL}/{product.pk}", data, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["mrp"] is None


def test_the_services_refuse_too():
    from catalog.errors import PriceAboveMrp

    with pytest.raises(PriceAboveMrp):
        product_create(name="Soap", price=D("51.00"), mrp=D("50.00"))
    product = product_create(name="Soap", price=D("50.00"), mrp=D("50.00"))
    with pytest.raises(PriceAboveMrp):
        product_update(product=product, price=D("50.01"))
    assert Product.objects.get().price == D("50.00")


def test_the_database_refuses_a_price_above_the_mrp():
    product = ProductFactory(price=D("45.00"), mrp=D("50.00"))

    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(price=D("50.01"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(mrp=D("0"), price=D("0.01"))
    Product.objects.filter(pk=product.pk).update(price=D("50.00"))  # equal is fine
    Product.objects.filter(pk=product.pk).update(mrp=None, price=D("999.00"))  # no MRP: any price


# --- The admin ------------------------------------------------------------------------------------------


def admin_form(**overrides):
    data = {"sku": "SOAP-1", "name": "Soap", "price": "45.00", "mrp": "50.00", "tax_percent": "18", "stock": "5"}
    data["is_active"] = "on"
    data.update(overrides)
    return data


def test_the_admin_adds_a_product_with_its_mrp(manager_client):
    response = manager_client.post(reverse("admin:catalog_product_add"), admin_form())

    assert response.status_code == 302
    assert Product.objects.get().mrp == D("50.00")


def test_the_admin_form_refuses_a_price_above_the_mrp(manager_client):
    response = manager_client.post(reverse("admin:catalog_product_add"), admin_form(price="50.01"))

    assert response.status_code == 200
    assert "The price may not be above the MRP." in response.content.decode()
    assert not Product.objects.exists()


def test_the_admin_list_refuses_a_price_above_the_mrp(manager_client):
    product = ProductFactory(price=D("45.00"), mrp=D("50.00"), stock=5)
    data = {"form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1", "_save": "Save"}
    data |= {"form-0-id": str(product.pk), "form-0-price": "118000.00", "form-0-stock": "5"}

    response = manager_client.post(reverse("admin:catalog_product_changelist"), data, follow=True)

    messages = [str(m) for m in response.context["messages"]]
    assert "The price ₹1,18,000.00 is above the MRP ₹50.00." in messages
    product.refresh_from_db()
    assert product.price == D("45.00")


def test_the_admin_list_shows_the_mrp_grouped(manager_client):
    ProductFactory(price=D("100000.00"), mrp=D("118000.00"))
    ProductFactory(sku="NO-MRP", mrp=None)

    html = manager_client.get(reverse("admin:catalog_product_changelist")).content.decode()

    assert "₹1,18,000.00" in html


# --- The import --------------------------------------------------------------------------------------


def parsed(text: str):
    import io

    return parse_stream(io.StringIO(text), "csv")


def test_an_import_keeps_the_mrp_and_refuses_a_price_above_it():
    ProductFactory(sku="SOAP-1", name="Soap", price=D("45.00"), mrp=D("50.00"), stock=5)
    rows = parsed("sku,name,price,tax_percent,stock\nSOAP-1,Soap,50.01,18,1\n").rows

    with pytest.raises(ImportRejected) as refused:
        product_import_rows(rows=rows)

    assert [str(e) for e in refused.value.errors] == ["line 2: price: ₹50.01 is above the product's MRP ₹50.00"]
    assert Product.objects.get().price == D("45.00")
    result = product_import_rows(rows=parsed("sku,name,price,tax_percent,stock\nSOAP-1,Soap,49,18,1\n").rows)
    assert result.updated == 1
    assert Product.objects.values_list("price", "mrp", "stock").get() == (D("49.00"), D("50.00"), 6)


def test_a_partial_import_skips_the_row_above_the_mrp(manager_client):
    ProductFactory(sku="SOAP-1", name="Soap", price=D("45.00"), mrp=D("50.00"), stock=5)
    content = "sku,name,price,tax_percent,stock\nSOAP-1,Soap,60,18,1\nTEA-1,Tea,10,5,3\n"
    upload = SimpleUploadedFile("stock.csv", content.encode(), content_type="text/csv")

    response = manager_client.post(reverse("admin:catalog_product_import"), {"file": upload, "partial": "on"})

    assert "line 2: price: ₹60.00 is above the product&#x27;s MRP ₹50.00" in response.content.decode()
    assert dict(Product.objects.values_list("sku", "price")) == {"SOAP-1": D("45.00"), "TEA-1": D("10.00")}


# --- Concurrent changes (PostgreSQL) --------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(5))
def test_a_price_rise_and_an_mrp_cut_at_once_never_leave_the_price_above_the_mrp(postgres_only, manager_user, round_):
    """Each change alone is fine (45 → 48 under an MRP of 50; 50 → 46 over a price of 45), both
    together are not: the service checks each under the product's row lock, so the second one sees
    the first and is refused with price_above_mrp, never a 500 from the CHECK constraint."""
    product = ProductFactory(price=D("45.00"), mrp=D("50.00"))
    barrier = threading.Barrier(2)
    results: dict[str, Any] = {}

    def patch(name, change):
        try:
            client = APIClient()
            client.force_authenticate(manager_user)
            barrier.wait(timeout=10)
            results[name] = client.patch(f"{URL}/{product.pk}", change, format="json")
        except Exception as exc:  # pragma: no cover - reported by the assertions below
            results[name] = exc
        finally:
            close_old_connections()
            connection.close()

    threads = [
        threading.Thread(target=patch, args=("price", {"price": "48.00"})),
        threading.Thread(target=patch, args=("mrp", {"mrp": "46.00"})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    statuses = sorted(results[name].status_code for name in ("price", "mrp"))
    assert statuses == [200, 400]
    refused = next(r for r in results.values() if r.status_code == 400)
    assert refused.json()["code"] == "price_above_mrp"
    product.refresh_from_db()
    assert product.mrp is not None and product.price <= product.mrp
    assert (product.price, product.mrp) in {(D("48.00"), D("50.00")), (D("45.00"), D("46.00"))}
