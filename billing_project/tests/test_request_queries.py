"""The request layer's query budget: ringing up a bill through the API with a till's token costs
no query beyond the service's own (the token, its user and the role check are remembered)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from billing_project.core.tokens import api_token_issue
from catalog.tests.factories import ProductFactory
from purchases.services import purchase_create

pytestmark = pytest.mark.django_db

D = Decimal


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["cashier_user", "superuser"])
def test_a_bill_through_the_api_costs_only_the_services_queries(who, request, drawer):
    user = request.getfixturevalue(who)
    product = ProductFactory(price=D("10"), tax_percent=D("5"), stock=1000)
    _, token = api_token_issue(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    body = {
        "customer_email": "warm@example.com",
        "items": [{"product_id": product.pk, "quantity": 1}],
        "paid_amount": "20",
        "tendered": [{"value": "20", "count": 1}],
    }

    def api():
        response = client.post("/api/v1/purchases", body, format="json")
        assert response.status_code == 201, response.content

    def service():
        purchase_create(
            customer_email="warm@example.com",
            items=[{"product_id": product.pk, "quantity": 1}],
            paid_amount=D("20"),
            tendered=[{"value": D("20"), "count": 1}],
            user=user,
        )

    api()  # the customer exists and the token is remembered from here on
    service()  # the user object knows its permissions and stores from here on, as the remembered one does

    assert _queries(api) == _queries(service)
