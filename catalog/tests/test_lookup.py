"""What a scanner sends, resolved: `GET /api/v1/products/lookup?code=…` (barcode, scale label, SKU,
product id), and the scale label format (`SCALE_BARCODE_FORMAT`), parsed once and checked at startup."""

import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from stdnum import ean

from catalog.barcodes import ScaleFormatError, check_scale_format, parse_scale_format, read_scale_label
from catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

D = Decimal
URL = "/api/v1/products/lookup"


def label(digits12: str) -> str:
    """The 12 digits with their EAN-13 check digit."""
    return digits12 + ean.calc_check_digit(digits12)


@pytest.fixture
def sugar():
    return ProductFactory(name="Sugar", unit="kg", price=D("48.00"), stock=D("25.000"), plu="12345")


# --- The format -------------------------------------------------------------------------------------


def test_the_default_format_reads_the_issues_example():
    fmt = parse_scale_format("21PPPPPWWWWWC")
    assert (fmt.prefix, fmt.plu, fmt.value, fmt.by_price) == ("21", slice(2, 7), slice(7, 12), False)
    read = read_scale_label("2112345007502")
    assert read is not None and (read.plu, read.grams, read.paise) == ("12345", 750, None)


def test_a_price_format_reads_paise():
    fmt = parse_scale_format("22PPPP$$$$$$C")
    assert (fmt.prefix, fmt.plu, fmt.value, fmt.by_price) == ("22", slice(2, 6), slice(6, 12), True)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("21PPPPPWWWWC", "it has 12 characters"),
        ("21PPPPPWWWWWX", "it may hold only digits"),
        ("21PPPPPWWWWW1", "it ends with C"),
        ("11PPPPPWWWWWC", "it starts with the scales' prefix"),
        ("21PPPPPWW$$$C", "not both"),
        ("21PPPPPPPPPPC", "a weight (W) or a price ($)"),
        ("21WWWWWWWWWWC", "it has the PLU (P)"),
        ("21PPPWWWPPWWC", "its Ps are one run"),
        ("21PPPPP1WWWWC", "after the prefix come the PLU"),
    ],
)
def test_a_bad_format_says_what_is_wrong(text, problem):
    with pytest.raises(ScaleFormatError, match=re.escape(problem)):
        parse_scale_format(text)


def test_startup_refuses_a_bad_format(settings):
    assert check_scale_format() == []
    settings.SCALE_BARCODE_FORMAT = "21PPPPPWWWWW"
    errors = check_scale_format()
    assert [e.id for e in errors] == ["catalog.E001"]
    with pytest.raises(SystemCheckError, match="SCALE_BARCODE_FORMAT"):
        call_command("check")


# --- The lookup -------------------------------------------------------------------------------------


def test_a_barcode_finds_its_product_with_a_quantity_of_one(admin_api):
    tea = ProductFactory(name="Tea", barcode="4006381333931", stock=3)
    body = admin_api.get(URL, {"code": "4006381333931"}).json()
    assert body == {"product": admin_api.get(f"/api/v1/products/{tea.pk}").json(), "quantity": 1}


def test_a_upc_a_is_found_from_its_ean_13_form_and_back(admin_api):
    cola = ProductFactory(barcode="036000291452")
    stored = label("007351353700")  # an EAN-13 with a leading 0, found from its UPC-A form
    other = ProductFactory(barcode=stored)
    assert admin_api.get(URL, {"code": "0036000291452"}).json()["product"]["id"] == cola.pk
    assert admin_api.get(URL, {"code": stored[1:]}).json()["product"]["id"] == other.pk


def test_a_scale_label_gives_the_weight_in_the_products_unit(admin_api, sugar):
    body = admin_api.get(URL, {"code": "2112345007502"}).json()
    assert (body["product"]["id"], body["quantity"]) == (sugar.pk, "0.750")
    # The same grams of a product sold by the gram.
    ProductFactory(name="Saffron", unit="g", price=D("300.00"), stock=D("100"), plu="77")
    body = admin_api.get(URL, {"code": label("210007700750")}).json()
    assert (body["product"]["name"], body["quantity"]) == ("Saffron", "750.000")


def test_a_price_label_gives_what_the_price_buys_rounded_half_up(admin_api, sugar, settings):
    settings.SCALE_BARCODE_FORMAT = "22PPPPP$$$$$C"
    # ₹36.00 of sugar at ₹48.00/kg is 0.750 kg; ₹10.01 is 0.208541… kg, 0.209 rounded half up.
    assert admin_api.get(URL, {"code": label("221234503600")}).json()["quantity"] == "0.750"
    assert admin_api.get(URL, {"code": label("221234501001")}).json()["quantity"] == "0.209"


def test_a_sku_and_an_id_are_found_too(admin_api, sugar):
    pen = ProductFactory(sku="PEN-1")
    assert admin_api.get(URL, {"code": "PEN-1"}).json()["product"]["id"] == pen.pk
    assert admin_api.get(URL, {"code": "pen-1"}).json()["product"]["id"] == pen.pk
    body = admin_api.get(URL, {"code": str(sugar.pk)}).json()
    assert (body["product"]["id"], body["quantity"]) == (sugar.pk, "1.000")


@pytest.mark.parametrize("code", ["4006381333931", "2199999007508", "NO-SUCH", "987654321"])
def test_an_unknown_code_is_404_product_not_found(admin_api, sugar, code):
    response = admin_api.get(URL, {"code": code})
    assert response.status_code == 404
    assert response.json()["code"] == "product_not_found"


@pytest.mark.parametrize("code", ["2112345007503", "4006381333932", "73513538"])
def test_a_bad_check_digit_is_400_validation_error(admin_api, sugar, code):
    response = admin_api.get(URL, {"code": code})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["details"] == {"code": ["The barcode's check digit is wrong."]}


def test_a_scale_label_for_a_product_sold_each_is_refused(admin_api):
    ProductFactory(name="Eggs", plu="42")
    response = admin_api.get(URL, {"code": label("210004200750")})
    assert response.status_code == 400
    assert "Eggs is sold each" in response.json()["message"]


def test_a_label_weighing_nothing_is_refused(admin_api, sugar):
    response = admin_api.get(URL, {"code": label("211234500000")})
    assert response.status_code == 400


def test_no_code_is_a_validation_error(admin_api):
    assert admin_api.get(URL).status_code == 400
    assert admin_api.get(URL, {"code": ""}).status_code == 400


def test_a_cashier_may_look_up_and_a_stranger_may_not(cashier_api, api_client, sugar):
    assert cashier_api.get(URL, {"code": "2112345007502"}).status_code == 200
    assert api_client.get(URL, {"code": "2112345007502"}).status_code == 401


def test_the_lookup_is_in_the_schema(admin_api):
    schema = admin_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/v1/products/lookup/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"code"}
    assert {"200", "400", "404"} <= set(operation["responses"])
