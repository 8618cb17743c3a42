"""GET /api/v1/reports/sales through DRF's client: permission, parameters, JSON, CSV."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.tests.factories import ProductFactory
from customers.tests.factories import UserFactory
from purchases.pricing import quote
from purchases.services import purchase_create

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/sales"


@pytest.fixture
def sold(drawer):
    product = ProductFactory(name="+Tea", price=Decimal("40.00"), tax_percent=Decimal("5"), stock=50)
    payable = quote({product.pk: product}, {product.pk: 2}).payable
    return purchase_create(
        customer_email="ann@example.com", items=[{"product_id": product.pk, "quantity": 2}], paid_amount=payable
    )


def test_a_manager_gets_the_report_with_money_as_strings(manager_api, sold):
    today = timezone.localdate()
    response = manager_api.get(URL, {"group_by": "product"})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["date_from"] == str(today - timedelta(days=29))
    assert body["date_to"] == str(today)
    assert body["group_by"] == "product"
    assert body["till"] is None
    assert body["rows"] == [
        {
            "bills": 1,
            "gross": "80.00",
            "discounts": "0.00",
            "net_sales": "84.00",
            "refunds": "0.00",
            "net_after_refunds": "84.00",
            "tax": "4.00",
            "cost": "0.00",
            "margin": "80.00",
            "product_id": sold.items.get().product_id,
            "product_name": "+Tea",
            "quantity": 2,
            "refunded_quantity": 0,
            "unit": "each",
        }
    ]
    assert body["totals"]["net_sales"] == "84.00"
    assert body["totals"]["bills"] == 1


def test_by_day_has_every_day(manager_api, sold):
    body = manager_api.get(URL, {"date_from": "2026-01-01", "date_to": "2026-01-31"}).json()
    assert [row["day"] for row in body["rows"]] == [f"2026-01-{n:02d}" for n in range(1, 32)]


def test_a_cashier_is_refused(cashier_api):
    response = cashier_api.get(URL)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_a_user_without_a_role_is_refused(api_client):
    api_client.force_authenticate(UserFactory(username="nobody"))
    assert api_client.get(URL).status_code == 403


def test_anonymous_is_401(api_client):
    assert api_client.get(URL).status_code == 401


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"date_from": "2026-02-01", "date_to": "2026-01-01"}, "report_range_invalid"),
        ({"date_from": "2025-01-01", "date_to": "2026-01-02"}, "report_range_invalid"),
        # Far-off days: the end of the range (the day after date_to) once overflowed into a 500.
        ({"date_from": "9999-12-31", "date_to": "9999-12-31"}, "report_range_invalid"),
        ({"date_from": "9999-12-20"}, "report_range_invalid"),
        ({"date_to": "0001-01-05"}, "report_range_invalid"),
        ({"date_from": "1999-12-31", "date_to": "2000-01-01"}, "report_range_invalid"),
        ({"group_by": "week"}, "report_grouping_invalid"),
        ({"till": "x"}, "validation_error"),
        ({"date_from": "yesterday"}, "validation_error"),
        ({"date_to": "2026-02-30"}, "validation_error"),
        ({"group_by": "week", "format": "csv"}, "report_grouping_invalid"),
    ],
)
def test_bad_parameters_are_400_with_a_code(manager_api, params, code):
    response = manager_api.get(URL, params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == code


def test_csv_has_the_same_rows_and_is_formula_safe(manager_api, sold):
    today = timezone.localdate()
    response = manager_api.get(URL, {"group_by": "product", "format": "csv", "date_from": str(today)})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    stamp = f"{today:%Y%m%d}"
    assert response["Content-Disposition"] == f'attachment; filename="sales-product-{stamp}-{stamp}.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "product_id",
        "product_name",
        "bills",
        "gross",
        "discounts",
        "net_sales",
        "refunds",
        "net_after_refunds",
        "tax",
        "cost",
        "margin",
        "quantity",
        "refunded_quantity",
        "unit",
    ]
    assert rows[1][1:] == [
        "'+Tea", "1", "80.00", "0.00", "84.00", "0.00", "84.00", "4.00", "0.00", "80.00", "2", "0", "each"
    ]  # fmt: skip


def test_the_report_is_in_the_schema_with_its_errors(admin_api):
    schema = admin_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/v1/reports/sales/"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"date_from", "date_to", "group_by", "till", "format"} <= names
    assert "report_range_invalid" in operation["responses"]["400"]["description"]
    assert "refunds count in the period" in operation["description"]


def test_an_unknown_till_is_404_till_not_found(manager_api):
    """As another store's till is (issue 29): the two answers cannot be told apart."""
    response = manager_api.get(URL, {"till": "999999"})
    assert (response.status_code, response.json()["code"]) == (404, "till_not_found")


def test_the_row_serializer_puts_out_what_drf_would_for_each_rows_keys():
    """The rows' serializer works out its fields once per set of keys and formats amounts itself:
    rows of different shapes in one list each come out as DRF's own serializer puts them out, less
    the fields the row does not have."""
    from rest_framework import serializers

    from purchases.serializers import SalesReportRowSerializer

    figures = {"bills": 2, "gross": Decimal("10.50"), "discounts": Decimal("0.00"), "net_sales": Decimal("-1.25")}
    figures |= {"refunds": Decimal("3.10"), "net_after_refunds": Decimal("7.40"), "tax": Decimal("0.5")}
    figures |= {"cost": Decimal("4"), "margin": Decimal("1.23")}
    rows = [
        {"product_id": 7, "product_name": "Tea", **figures, "quantity": 3, "refunded_quantity": "0.250", "unit": "kg"},
        {**figures, "day": timezone.localdate()},
        {"cashier_id": None, "cashier": "", **figures},
        {"tax_rate": Decimal("5.00"), **figures, "taxable": Decimal("9.99")},
        {"product_id": 8, "product_name": "Rice", **figures, "quantity": 1, "refunded_quantity": 0, "unit": "each"},
    ]
    out = SalesReportRowSerializer(rows, many=True).data
    drf = SalesReportRowSerializer()
    for row, got in zip(rows, out, strict=True):
        names = [(str(field.field_name), field) for field in drf._readable_fields if field.field_name in row]
        want = {name: None if row[name] is None else field.to_representation(row[name]) for name, field in names}
        assert got == want and list(got) == list(want)
    assert isinstance(drf.fields["gross"], serializers.DecimalField)
