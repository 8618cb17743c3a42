from decimal import Decimal

import pytest

from catalog.tests.factories import ProductFactory
from purchases.models import Purchase
from purchases.tests.helpers import db_state

pytestmark = pytest.mark.django_db

URL = "/api/v1/purchases"


@pytest.fixture
def drawer_counts():
    return {"2000": 2, "500": 5, "200": 5, "100": 10, "50": 10, "20": 10, "10": 10, "5": 10, "2": 10, "1": 10}


@pytest.fixture
def rice():
    return ProductFactory(name="Rice", price=Decimal("2000.00"), tax_percent=Decimal("18"), stock=100)


@pytest.fixture
def soap():
    return ProductFactory(name="Soap", price=Decimal("36.50"), tax_percent=Decimal("12"), stock=10)


def bill(*lines, paid="10000", tendered=None, email="ann@example.com"):
    body = {
        "customer_email": email,
        "items": [{"product_id": p.pk, "quantity": q} for p, q in lines],
        "paid_amount": paid,
    }
    if tendered is not None:
        body["tendered"] = [{"value": v, "count": c} for v, c in tendered]
    return body


def test_create_returns_the_whole_bill(admin_api, drawer, rice, soap):
    soap.mrp = Decimal("40.00")
    soap.save()
    response = admin_api.post(
        URL, bill((rice, 40), (soap, 2), paid="95000", tendered=[("2000", 47), ("500", 2)]), format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["customer_email"] == "ann@example.com"
    assert body["items"] == [
        {
            "product_id": rice.pk,
            "product_name": "Rice",
            "quantity": 40,
            "unit": "each",
            "unit_price": "2000.00",
            "mrp": None,
            "tax_percent": "18.00",
            "gross": "80000.00",
            "discount_percent": "0.000000",
            "discount_amount": "0.00",
            "subtotal": "80000.00",
            "tax_amount": "14400.00",
            "total": "94400.00",
            "refunded_quantity": 0,
            "hsn_code": "",
            "cgst": "7200.00",
            "sgst": "7200.00",
            "igst": "0.00",
        },
        {
            "product_id": soap.pk,
            "product_name": "Soap",
            "quantity": 2,
            "unit": "each",
            "unit_price": "36.50",
            "mrp": "40.00",
            "tax_percent": "12.00",
            "gross": "73.00",
            "discount_percent": "0.000000",
            "discount_amount": "0.00",
            "subtotal": "73.00",
            "tax_amount": "8.76",
            "total": "81.76",
            "refunded_quantity": 0,
            "hsn_code": "",
            "cgst": "4.38",
            "sgst": "4.38",
            "igst": "0.00",
        },
    ]
    assert (body["refunds"], body["refunded_total"]) == ([], "0.00")
    assert body["you_saved"] == "7.00"  # (40.00 − 36.50) × 2 on the soap; the rice has no MRP
    assert (body["subtotal"], body["tax_total"], body["total"]) == ("80073.00", "14408.76", "94481.76")
    assert (body["rounding"], body["payable"], body["paid_amount"], body["change_due"]) == (
        "0.24",
        "94482.00",
        "95000.00",
        "518.00",
    )
    assert body["change"] == [
        {"value": "500.00", "count": 1},
        {"value": "10.00", "count": 1},
        {"value": "5.00", "count": 1},
        {"value": "2.00", "count": 1},
        {"value": "1.00", "count": 1},
    ]
    assert body["tendered"] == [{"value": "2000.00", "count": 47}, {"value": "500.00", "count": 2}]
    assert Purchase.objects.get(pk=body["id"]).payable == Decimal("94482.00")
    # The answer is built from the objects in hand; it must be exactly what the database holds.
    assert admin_api.get(f"{URL}/{body['id']}").json() == body


def test_get_list_and_detail(admin_api, drawer, soap):
    first = admin_api.post(URL, bill((soap, 1), paid="41", email="a@example.com"), format="json").json()
    second = admin_api.post(URL, bill((soap, 1), paid="41", email="b@example.com"), format="json").json()

    listing = admin_api.get(URL).json()
    filtered = admin_api.get(URL + "/", {"customer_email": "A@example.com"}).json()
    detail = admin_api.get(f"{URL}/{first['id']}")

    assert [b["id"] for b in listing["results"]] == [second["id"], first["id"]]
    assert listing["count"] == 2 and listing["next"] is None and listing["previous"] is None
    assert [b["id"] for b in filtered["results"]] == [first["id"]]
    assert detail.status_code == 200 and detail.json() == first


def test_unknown_bill_is_not_found(admin_api):
    response = admin_api.get(f"{URL}/424242")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_bills_cannot_be_changed(admin_api, drawer, soap, method):
    created = admin_api.post(URL, bill((soap, 1), paid="41"), format="json").json()

    response = getattr(admin_api, method)(f"{URL}/{created['id']}", {}, format="json")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def _refusal_cases(rice, soap):
    archived = ProductFactory(is_active=False)
    return {
        "product_not_found": (400, bill((soap, 1), paid="41") | {"items": [{"product_id": 987654, "quantity": 1}]}),
        "insufficient_payment": (400, bill((soap, 1), paid="40.99")),
        "tender_mismatch": (400, bill((soap, 1), paid="100", tendered=[("50", 1)])),
        "insufficient_stock": (409, bill((soap, 11), paid="1000")),
        "product_inactive": (409, bill((archived, 1), paid="1000")),
        "change_unavailable": (409, bill((soap, 1), paid="99041")),
    }


@pytest.mark.parametrize(
    "code",
    [
        "product_not_found",
        "insufficient_payment",
        "tender_mismatch",
        "insufficient_stock",
        "product_inactive",
        "change_unavailable",
    ],
)
def test_refusals_have_their_code_and_write_nothing(admin_api, drawer, rice, soap, code):
    status, body = _refusal_cases(rice, soap)[code]
    before = db_state()

    response = admin_api.post(URL, body, format="json")

    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.json()["message"]
    assert db_state() == before


def test_insufficient_stock_details(admin_api, drawer, soap):
    response = admin_api.post(URL, bill((soap, 11), paid="1000"), format="json")

    assert response.json()["details"] == {"product_id": soap.pk, "available": 10, "requested": 11}


def test_unknown_tendered_denomination(admin_api, drawer, soap):
    response = admin_api.post(URL, bill((soap, 1), paid="41", tendered=[("41", 1)]), format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "tender_mismatch"


def test_duplicate_product_lines_are_combined(admin_api, drawer, soap):
    response = admin_api.post(URL, bill((soap, 2), (soap, 3), paid="205"), format="json")

    assert response.status_code == 201
    assert [(i["product_id"], i["quantity"]) for i in response.json()["items"]] == [(soap.pk, 5)]


@pytest.mark.parametrize(
    "patch",
    [
        {"customer_email": "not-an-email"},
        {"customer_email": "ü" * 300 + "@example.com"},
        {"customer_email": ""},
        {"items": []},
        {"items": "soap"},
        {"items": [{"product_id": 1}]},
        {"items": [{"product_id": 1, "quantity": 0}]},
        {"items": [{"product_id": 1, "quantity": 2**31}]},
        {"items": [{"product_id": 2**64, "quantity": 1}]},
        {"items": [{"product_id": -1, "quantity": 1}]},
        {"paid_amount": "1.001"},
        {"paid_amount": "-1"},
        {"paid_amount": "1e308"},
        {"paid_amount": "Infinity"},
        {"paid_amount": None},
        {"tendered": [{"value": "10", "count": 0}]},
        {"tendered": [{"value": "abc", "count": 1}]},
        {"tendered": "cash"},
    ],
)
def test_invalid_bodies_are_validation_errors(admin_api, drawer, soap, patch):
    body = bill((soap, 1), paid="41") | patch
    before = db_state()

    response = admin_api.post(URL, body, format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "validation_error"
    assert set(response.json()["details"]) == set(patch)
    assert db_state() == before


def test_missing_body_fields(admin_api):
    response = admin_api.post(URL, {}, format="json")

    assert response.status_code == 400
    # The customer is optional: a bill without one is a walk-in sale.
    assert set(response.json()["details"]) == {"items", "paid_amount"}


@pytest.mark.parametrize("raw", ["{", '{"customer_email": ', "[1, 2", '{"paid_amount": NaN}'])
def test_malformed_json_is_a_parse_error(admin_api, raw):
    response = admin_api.post(URL, raw, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_json_number_money_is_exact(admin_api, drawer, soap):
    response = admin_api.post(URL, bill((soap, 1), paid=50.1) | {"paid_amount": 41.00}, format="json")

    assert response.status_code == 201
    assert response.json()["paid_amount"] == "41.00"


def test_unexpected_errors_are_500_without_internals(admin_api, drawer, soap, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("SELECT secret FROM settings")

    monkeypatch.setattr("purchases.api.purchase_create", broken)

    response = admin_api.post(URL, bill((soap, 1), paid="41"), format="json")

    assert response.status_code == 500
    assert response.json() == {
        "code": "server_error",
        "message": "Internal server error.",
        "details": {},
        "request_id": response["X-Request-ID"],
    }


def test_anonymous_cannot_ring_up(api_client, drawer, soap):
    response = api_client.post(URL, bill((soap, 1), paid="41"), format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert Purchase.objects.count() == 0


def test_the_list_shows_each_bill_exactly_as_its_detail(admin_api, drawer, rice, soap):
    """The list reads plain rows (purchase_rows) and the detail model instances: same output."""
    admin_api.post(URL, bill((rice, 1), (soap, 2), paid="4000", tendered=[("2000", 2)]), format="json")
    admin_api.post(URL, bill((soap, 1), paid="41", email="b@example.com") | {"send_invoice": False}, format="json")

    listed = admin_api.get(URL).json()["results"]

    assert len(listed) == 2
    assert all(row == admin_api.get(f"{URL}/{row['id']}").json() for row in listed)
    assert listed[1]["change"] and listed[1]["tendered"]


def test_drf_generic_output_equals_the_fast_output(drawer, soap):
    from rest_framework import serializers

    from purchases.selectors import purchase_get
    from purchases.serializers import PurchaseSerializer
    from purchases.services import purchase_create

    purchase = purchase_create(
        customer_email="a@example.com",
        items=[{"product_id": soap.pk, "quantity": 2}],
        paid_amount=Decimal("100"),
        tendered=[{"value": Decimal("50"), "count": 2}],
    )
    serializer = PurchaseSerializer(purchase_get(purchase_id=purchase.pk))

    fast = serializer.data
    generic = serializers.ModelSerializer.to_representation(serializer, serializer.instance)

    assert fast == generic
