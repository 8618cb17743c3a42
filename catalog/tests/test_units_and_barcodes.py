"""A product's unit (each, or a measure to 3 places), its barcode and its PLU: the services' rules on
the database, and the API's fields (`GET/POST/PATCH /products`)."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from billing_project.core.errors import ValidationFailed
from catalog.models import Product, StoreStock
from catalog.services import product_create, product_update
from catalog.stock import adjustment_create
from catalog.tests.factories import ProductFactory
from purchases.tests.factories import purchase_for

pytestmark = pytest.mark.django_db

D = Decimal
URL = "/api/v1/products"
EAN13, EAN8, UPC_A = "4006381333931", "73513537", "036000291452"


def sugar(**extra) -> Product:
    return product_create(name="Sugar", price=D("48.00"), unit="kg", stock=D("25.500"), **extra)


# --- Services ---------------------------------------------------------------------------------------


def test_a_product_is_sold_each_by_default_with_no_barcode_or_plu():
    product = product_create(name="Pen", price=D("10.00"), stock=5)
    product.refresh_from_db()
    assert (product.unit, product.stock, product.barcode, product.plu) == ("each", D("5.000"), None, None)


def test_a_weighed_product_keeps_its_stock_to_the_gram():
    product = sugar()
    product.refresh_from_db()
    assert (product.unit, product.stock) == ("kg", D("25.500"))
    assert product.stock_text == "25.500 kg"


@pytest.mark.parametrize(
    ("unit", "stock", "problem"),
    [
        ("each", D("1.5"), "Sold each: enter a whole number."),
        ("kg", D("1.2345"), "At most 3 decimal places (kg)."),
        ("kg", D("-1"), "Must be 0 or more."),
        ("box", D("1"), "One of each, kg, g, l, ml, m."),
    ],
)
def test_stock_must_suit_the_unit(unit, stock, problem):
    with pytest.raises(ValidationFailed) as refused:
        product_create(name="X", price=D("1.00"), unit=unit, stock=stock)
    assert problem in str(refused.value.details)
    assert not Product.objects.exists()


def test_the_database_refuses_a_bad_unit_and_a_store_stock_below_0_even_past_the_service():
    # Whether a store's stock of an each product is whole is the services' check (the unit is the
    # product's, the stock the store's row): see test_stock_must_suit_the_unit.
    product = ProductFactory(stock=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        StoreStock.objects.filter(product=product).update(stock=D("-1"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(unit="box")
    Product.objects.filter(pk=product.pk).update(unit="kg")


@pytest.mark.parametrize("code", [EAN13, EAN8, UPC_A])
def test_ean_13_ean_8_and_upc_a_are_taken(code):
    assert product_create(name="Tea", price=D("5.00"), barcode=code).barcode == code


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("4006381333932", "The barcode's check digit is wrong."),
        ("73513538", "The barcode's check digit is wrong."),
        ("400638133393", "The barcode's check digit is wrong."),  # 12 digits: a UPC-A with a bad check digit
        ("12345", "A barcode is 8 (EAN-8), 12 (UPC-A) or 13 (EAN-13) digits."),
        ("40063813339311", "A barcode is 8 (EAN-8), 12 (UPC-A) or 13 (EAN-13) digits."),
        ("4006381-33393", "A barcode is 8, 12 or 13 digits."),
        ("４００６３８１３３３９３１", "A barcode is 8, 12 or 13 digits."),
    ],
)
def test_a_bad_barcode_is_a_validation_error(code, problem):
    with pytest.raises(ValidationFailed) as refused:
        product_create(name="Tea", price=D("5.00"), barcode=code)
    assert refused.value.details == {"barcode": [problem]}


def test_a_barcode_is_unique_and_a_upc_a_is_its_ean_13_with_a_leading_zero():
    product_create(name="Tea", price=D("5.00"), barcode=UPC_A)
    for same in (UPC_A, "0" + UPC_A):
        with pytest.raises(ValidationFailed) as refused:
            product_create(name="Other", price=D("5.00"), barcode=same)
        assert refused.value.details == {"barcode": ["A product with this barcode already exists."]}
    assert Product.objects.count() == 1


def test_blank_codes_are_unset_and_many_products_have_none():
    first = product_create(name="A", price=D("1.00"), barcode="", plu="  ")
    second = product_create(name="B", price=D("1.00"), barcode=None, plu=None)
    assert [(p.barcode, p.plu) for p in (first, second)] == [(None, None), (None, None)]


@pytest.mark.parametrize("plu", ["0123", "12a", "123456789", "-1", "1 2"])
def test_a_plu_is_digits_without_a_leading_zero(plu):
    with pytest.raises(ValidationFailed) as refused:
        sugar(plu=plu)
    assert refused.value.details == {"plu": ["A PLU is 1 to 8 digits, without a leading zero."]}


def test_a_plu_is_unique():
    sugar(plu="12345")
    with pytest.raises(ValidationFailed) as refused:
        product_create(name="Rice", price=D("60.00"), unit="kg", plu="12345")
    assert refused.value.details == {"plu": ["A product with this PLU already exists."]}


def test_the_unit_changes_only_before_the_product_is_sold(drawer):
    product = ProductFactory(price=D("40.00"), tax_percent=D("0"), stock=10)
    product = product_update(product=product, unit="kg")
    adjustment_create(lines=[{"product_id": product.pk, "quantity": D("0.250")}], reason="found", user=None)
    product.refresh_from_db()
    assert (product.unit, product.stock) == ("kg", D("10.250"))
    with pytest.raises(ValidationFailed) as refused:
        product_update(product=product, unit="each")  # 10.250 is no whole number
    assert "stock" in refused.value.details

    purchase_for(product, quantity=D("0.250"))
    with pytest.raises(ValidationFailed) as refused:
        product_update(product=product, unit="g")
    assert refused.value.details == {
        "unit": ["It has been sold by kg; a product's unit cannot change once it has been sold."]
    }
    product.refresh_from_db()
    assert (product.unit, product.stock) == ("kg", D("10.000"))


# --- API --------------------------------------------------------------------------------------------


def test_get_shows_unit_barcode_and_plu_with_null_where_unset(admin_api):
    pen = ProductFactory(stock=7)
    body = admin_api.get(f"{URL}/{pen.pk}").json()
    assert (body["unit"], body["stock"], body["barcode"], body["plu"]) == ("each", 7, None, None)


def test_post_takes_a_weighed_product_and_answers_its_stock_with_3_places(admin_api):
    response = admin_api.post(
        URL,
        {"name": "Sugar", "price": "48.00", "unit": "kg", "stock": "25.5", "barcode": EAN13, "plu": "12345"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["unit"], body["stock"], body["barcode"], body["plu"]) == ("kg", "25.500", EAN13, "12345")
    assert admin_api.get(f"{URL}/{body['id']}").json()["stock"] == "25.500"


def test_patch_sets_and_clears_the_codes(admin_api):
    tea = ProductFactory(stock=4)
    body = admin_api.patch(f"{URL}/{tea.pk}", {"barcode": EAN8, "plu": "7"}, format="json").json()
    assert (body["barcode"], body["plu"], body["stock"]) == (EAN8, "7", 4)
    body = admin_api.patch(f"{URL}/{tea.pk}", {"barcode": None, "plu": None}, format="json").json()
    assert (body["barcode"], body["plu"]) == (None, None)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"stock": "1.5"}, "stock"),  # an each product
        ({"stock": 2, "unit": "dozen"}, "unit"),
        ({"barcode": "4006381333932"}, "barcode"),
        ({"plu": "007"}, "plu"),
        ({"unit": "kg", "stock": "1.2345"}, "stock"),
    ],
)
def test_bad_units_and_codes_are_validation_errors(admin_api, body, field):
    tea = ProductFactory(stock=4)
    response = admin_api.patch(f"{URL}/{tea.pk}", body, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["details"]
    tea.refresh_from_db()
    assert (tea.unit, tea.stock, tea.barcode, tea.plu) == ("each", 4, None, None)


def test_a_used_barcode_is_a_validation_error_through_the_api(admin_api):
    ProductFactory(barcode=EAN13)
    response = admin_api.post(URL, {"name": "Copy", "price": "1.00", "barcode": EAN13}, format="json")
    assert response.status_code == 400
    assert response.json()["details"] == {"barcode": ["A product with this barcode already exists."]}
