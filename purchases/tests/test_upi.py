"""UPI at the counter: the QR code's link and picture (GET /upi-qr), and the UTR a UPI payment carries."""

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from catalog.tests.factories import ProductFactory
from purchases.models import Payment
from purchases.tests.helpers import db_state, decode_qr_svg

pytestmark = pytest.mark.django_db

D = Decimal
URL = "/api/v1/upi-qr"


@pytest.fixture(autouse=True)
def _store_upi(settings):
    settings.UPI_VPA = "shop@okaxis"
    settings.UPI_PAYEE_NAME = "Dakshin Provisions & Sons"


def test_the_link_names_the_store_the_amount_and_the_reference_url_encoded(cashier_api):
    response = cashier_api.get(URL, {"amount": "1153.5", "ref": "M/2627/000123 till 1"})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"uri", "svg"}
    assert body["uri"] == (
        "upi://pay?pa=shop@okaxis&pn=Dakshin%20Provisions%20%26%20Sons&am=1153.50&cu=INR&tn=M%2F2627%2F000123%20till%201"
    )
    query = parse_qs(urlsplit(body["uri"]).query)
    assert query == {
        "pa": ["shop@okaxis"],
        "pn": ["Dakshin Provisions & Sons"],
        "am": ["1153.50"],
        "cu": ["INR"],
        "tn": ["M/2627/000123 till 1"],
    }


def test_the_svg_is_a_qr_code_of_the_link(cashier_api):
    body = cashier_api.get(URL, {"amount": "99.00", "ref": "T1"}).json()

    assert body["svg"].startswith("<svg") and 'xmlns="http://www.w3.org/2000/svg"' in body["svg"]
    assert decode_qr_svg(body["svg"]) == body["uri"]


def test_without_a_reference_the_link_has_no_note(cashier_api):
    body = cashier_api.get(URL, {"amount": "10"}).json()
    assert body["uri"] == "upi://pay?pa=shop@okaxis&pn=Dakshin%20Provisions%20%26%20Sons&am=10.00&cu=INR"


def test_the_payee_name_defaults_to_the_store_name(cashier_api, settings):
    settings.UPI_PAYEE_NAME = ""
    settings.STORE_NAME = "Corner Shop"
    assert "&pn=Corner%20Shop&" in cashier_api.get(URL, {"amount": "10"}).json()["uri"]


def test_without_a_vpa_there_is_no_qr_code(cashier_api, settings):
    settings.UPI_VPA = ""
    response = cashier_api.get(URL, {"amount": "10.00"})
    assert response.status_code == 404
    assert response.json()["code"] == "upi_not_configured"


@pytest.mark.parametrize(
    "query",
    [
        {"amount": "0"},
        {"amount": "0.00"},
        {"amount": "-5"},
        {"amount": "1.005"},
        {"amount": "abc"},
        {"amount": "NaN"},
        {"amount": "Infinity"},
        {"amount": "1e30"},
        {"amount": "+1"},
        {"amount": "1.5\n"},
        {},
        {"amount": "10", "ref": "x" * 51},
        {"amount": "10", "ref": "line\nbreak"},
    ],
    ids=[
        "zero",
        "zero-cents",
        "negative",
        "three-places",
        "text",
        "nan",
        "infinity",
        "huge",
        "plus",
        "newline",
        "missing",
        "long-ref",
        "ref-newline",
    ],
)
def test_a_bad_amount_or_reference_is_a_validation_error(cashier_api, query):
    response = cashier_api.get(URL, query)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


def test_the_qr_code_needs_the_right_to_ring_up(api_client, django_user_model):
    assert api_client.get(URL, {"amount": "10"}).status_code == 401
    api_client.force_authenticate(django_user_model.objects.create_user("nobody", password="pw-nobody-1"))
    assert api_client.get(URL, {"amount": "10"}).status_code == 403


# --- the UTR on a UPI payment --------------------------------------------------------------------


@pytest.fixture
def kettle():
    return ProductFactory(name="Kettle", price=D("100.00"), tax_percent=D("18"), stock=100)


def upi_bill(product, reference):
    payment = {"method": "upi", "amount": "118.00"}
    if reference is not None:
        payment["reference"] = reference
    return {"items": [{"product_id": product.pk, "quantity": 1}], "payments": [payment]}


@pytest.mark.parametrize(
    "reference", ["412345678901", " 412345678901 ", "", None], ids=["utr", "padded", "blank", "none"]
)
def test_a_upi_payment_takes_a_12_digit_utr_or_none(cashier_api, kettle, reference):
    response = cashier_api.post("/api/v1/purchases", upi_bill(kettle, reference), format="json")

    assert response.status_code == 201, response.json()
    expected = (reference or "").strip()
    assert response.json()["payments"] == [{"method": "upi", "amount": "118.00", "reference": expected}]
    assert Payment.objects.get().reference == expected


@pytest.mark.parametrize(
    "reference",
    ["41234567890", "4123456789012", "UPI-77", "41234567890a", "４１２３４５６７８９０１"],
    ids=["11-digits", "13-digits", "text", "letter", "fullwidth-digits"],
)
def test_any_other_upi_reference_is_refused_and_nothing_is_written(cashier_api, kettle, reference):
    before = db_state()

    response = cashier_api.post("/api/v1/purchases", upi_bill(kettle, reference), format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "12-digit UTR" in response.json()["message"]
    assert db_state() == before


def test_a_card_slip_is_still_free_text(cashier_api, kettle):
    body = {
        "items": [{"product_id": kettle.pk, "quantity": 1}],
        "payments": [{"method": "card", "amount": "118.00", "reference": "SLIP-0042"}],
    }
    assert cashier_api.post("/api/v1/purchases", body, format="json").status_code == 201


def test_a_bad_amount_is_a_validation_error_in_a_store_without_upi_too(cashier_api, settings):
    settings.UPI_VPA = ""
    response = cashier_api.get(URL, {"amount": "-1"})
    assert (response.status_code, response.json()["code"]) == (400, "validation_error")
