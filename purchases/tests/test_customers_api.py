from decimal import Decimal

import pytest

from catalog.tests.factories import ProductFactory
from customers.tests.factories import CustomerFactory
from purchases.tests.factories import purchase_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers"


@pytest.fixture
def ann_with_two_bills():
    product = ProductFactory(price=Decimal("99.50"), tax_percent=Decimal("0"))
    first = purchase_for(product, quantity=1, email="ann@example.com")  # 99.50 → payable 100.00
    second = purchase_for(product, quantity=2, email="ANN@example.com")  # 199.00
    return first.customer, [first, second]


def test_list_filter_and_stats(admin_api, ann_with_two_bills):
    customer, _ = ann_with_two_bills
    CustomerFactory(email="zed@example.com")

    everything = admin_api.get(URL).json()
    ann = admin_api.get(URL, {"email": "Ann@Example.com"}).json()

    assert everything["count"] == 2
    assert ann["count"] == 1
    assert ann["results"][0] == {
        "id": customer.pk,
        "email": "ann@example.com",
        "phone": None,
        "name": None,
        "created_at": ann["results"][0]["created_at"],
        "purchase_count": 2,
        "total_spent": "299.00",
        "total_refunded": "0.00",
        "discount_total": "0.00",
    }


def test_detail_has_purchase_count_and_total_spent(admin_api, ann_with_two_bills):
    customer, _ = ann_with_two_bills

    body = admin_api.get(f"{URL}/{customer.pk}").json()

    assert (body["purchase_count"], body["total_spent"]) == (2, "299.00")


def test_customer_without_bills_has_zero_totals(admin_api):
    customer = CustomerFactory()

    body = admin_api.get(f"{URL}/{customer.pk}/").json()

    assert (body["purchase_count"], body["total_spent"]) == (0, "0.00")


def test_customer_purchases_newest_first(admin_api, ann_with_two_bills):
    customer, (first, second) = ann_with_two_bills
    purchase_for(ProductFactory(), email="other@example.com")

    response = admin_api.get(f"{URL}/{customer.pk}/purchases")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert [b["id"] for b in body["results"]] == [second.pk, first.pk]
    assert body["results"][0]["items"][0]["quantity"] == 2


def test_unknown_customer_is_not_found(admin_api):
    for path in (f"{URL}/777", f"{URL}/777/purchases"):
        response = admin_api.get(path)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_customers_are_read_only(admin_api):
    response = admin_api.post(URL, {"email": "x@example.com"}, format="json")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
