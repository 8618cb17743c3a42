"""Response headers (no-store, CSP, Permissions-Policy) and chunked API bodies."""

import pytest
from django.test import Client

from purchases.models import Purchase

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/purchases", "/api/v1/customers", "/api/v1/products"])
def test_api_answers_are_not_stored(admin_api, path):
    response = admin_api.get(path)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("path", ["/billing/", "/billing/history/"])
def test_pages_with_bills_are_not_stored_and_send_csp_and_permissions_policy(cashier_client, path):
    response = cashier_client.get(path)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


def test_the_admin_is_not_stored(manager_client):
    response = manager_client.get("/admin/purchases/purchase/")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "Content-Security-Policy" in response


def test_static_files_keep_their_caching(client):
    response = client.get("/static/purchases/billing.js")

    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_a_chunked_api_body_is_411_and_changes_nothing(cashier_api):
    response = cashier_api.generic(
        "POST",
        "/api/v1/purchases",
        # A real client's chunked body: there, WSGI gives no CONTENT_LENGTH, and the body would read as empty.
        data=b'{"customer_email": "a@example.com", "items": [], "paid_amount": "1"}',
        content_type="application/json",
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
        HTTP_IDEMPOTENCY_KEY="chunked-1",
    )

    assert response.status_code == 411
    assert response.json() == {
        "code": "length_required",
        "message": "Send the request body with a Content-Length header; chunked bodies are not accepted.",
        "details": {},
    }
    assert not Purchase.objects.exists()


def test_a_chunked_token_request_is_411(api_client):
    client = Client()
    response = client.generic(
        "POST", "/api/v1/auth/token", data=b"", content_type="application/json", HTTP_TRANSFER_ENCODING="chunked"
    )

    assert response.status_code == 411
    assert response.json()["code"] == "length_required"


def test_a_body_with_a_content_length_is_read_as_before(cashier_api):
    response = cashier_api.post(
        "/api/v1/purchases", {"customer_email": "a@example.com"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )

    assert response.status_code == 400
    assert "items" in response.json()["details"]


def test_an_api_answer_gets_django_csps_own_header(admin_api):
    from csp.utils import build_policy

    response = admin_api.get("/api/v1/products")

    assert response["Content-Security-Policy"] == build_policy()
    assert "nonce-" not in response["Content-Security-Policy"]


def test_a_response_that_used_the_nonce_gets_it_in_its_header(rf):
    from django.http import HttpResponse

    from billing_project.core.middleware import CSPMiddleware

    def page(request):
        return HttpResponse(f'<script nonce="{request.csp_nonce}"></script>')

    middleware = CSPMiddleware(page)
    first, second = middleware(rf.get("/billing/")), middleware(rf.get("/billing/"))
    assert isinstance(first, HttpResponse) and isinstance(second, HttpResponse)

    nonce = first.content.decode().split('nonce="')[1].split('"')[0]
    assert f"'nonce-{nonce}'" in first["Content-Security-Policy"]
    assert first["Content-Security-Policy"] != second["Content-Security-Policy"]


def test_the_nonce_cannot_be_read_after_the_header_is_written(rf):
    from csp.exceptions import CSPNonceError
    from django.http import HttpResponse

    from billing_project.core.middleware import CSPMiddleware

    request = rf.get("/api/v1/products")
    CSPMiddleware(lambda request: HttpResponse("{}"))(request)

    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)


def test_the_built_once_header_follows_a_settings_change(admin_api, settings):
    assert "img-src 'self' data:" in admin_api.get("/api/v1/products")["Content-Security-Policy"]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}

    assert admin_api.get("/api/v1/products")["Content-Security-Policy"] == "default-src 'none'"
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"default-src": ["'self'"]}}
    response = admin_api.get("/api/v1/products")
    assert response["Content-Security-Policy-Report-Only"] == "default-src 'self'"
