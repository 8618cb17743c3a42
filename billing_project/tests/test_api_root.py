"""The browsable API for someone new to it: a root that names every endpoint, and a POST form for
a bill that is an example of what to send."""

import json
import re
from html import unescape

import pytest

from purchases.api import EXAMPLE_BILL

pytestmark = pytest.mark.django_db

API = "/api/v1"


def test_the_root_lists_every_endpoint_with_a_line_on_each(api_client):
    response = api_client.get(f"{API}/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200  # no token needed to find out how to get one
    body = response.json()
    assert body["auth/token"]["url"] == "http://testserver/api/v1/auth/token"
    assert body["auth/token"]["methods"] == "POST"
    for name in ("products", "denominations", "purchases", "customers", "customers/{id}/purchases", "healthz"):
        assert name in body
    assert body["purchases"]["url"] == "http://testserver/api/v1/purchases"
    assert body["denominations/{value}"]["url"] == "http://testserver/api/v1/denominations/{value}"
    assert body["docs"]["url"] == "http://testserver/api/docs/"
    assert all(entry["description"].strip() for entry in body.values())


def test_the_root_names_every_registered_route():
    """A route added to the router without a line in the root's list fails here."""
    from billing_project.api_router import ENDPOINTS, router

    listed = {target for _, target, _, _ in ENDPOINTS}
    for prefix, _viewset, basename in router.registry:
        # A viewset with no list of its own (reports) is named by its actions.
        actions = {target for target in listed if target.startswith(f"{basename}-")}
        assert f"{basename}-list" in listed or prefix in listed or actions, prefix


def _raw_form(html: str) -> dict:
    match = re.search(r'<textarea name="_content"[^>]*>(.*?)</textarea>', html, flags=re.S)
    assert match, "no raw data form"
    return json.loads(unescape(match.group(1)))


def test_the_bill_post_form_is_an_example_of_the_input_fields_only(admin_api):
    response = admin_api.get(f"{API}/purchases", HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    example = _raw_form(response.content.decode())
    assert set(example) == {"customer_email", "customer_phone", "items", "paid_amount", "tendered", "send_invoice"}
    assert example["items"] == [{"product_id": 1, "quantity": 2}]
    assert example["paid_amount"] == "1200.00"
    assert None not in example.values()


def test_the_example_bill_is_a_valid_bill_body():
    from purchases.serializers import PurchaseCreateSerializer

    serializer = PurchaseCreateSerializer(data=EXAMPLE_BILL)

    assert serializer.is_valid(), serializer.errors
    tendered = sum(p["value"] * p["count"] for p in serializer.validated_data["tendered"])
    assert tendered == serializer.validated_data["paid_amount"]


def test_the_browsable_root_shows_backticked_parts_as_code(api_client):
    response = api_client.get(f"{API}/", HTTP_ACCEPT="text/html")

    content = response.content.decode()
    description = re.search(r'<div class="pull-left">(.*?)</div>', content, flags=re.S)
    assert description is not None
    assert "<code>{&quot;code&quot;, &quot;message&quot;, &quot;details&quot;}</code>" in description.group(1)
    assert "`" not in description.group(1)


def test_the_options_answer_keeps_the_docstring_as_text(api_client):
    response = api_client.options(f"{API}/", HTTP_ACCEPT="application/json")

    assert response.json()["description"] == (
        "Every endpoint of the API with a line on what it does. Every error body is\n"
        '`{"code", "message", "details"}`; money is a string with 2 places. Anyone may read this list.'
    )
