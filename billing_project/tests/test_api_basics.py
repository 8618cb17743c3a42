import inspect

import pytest
from django.db import DatabaseError
from knox.models import AuthToken

from catalog.tests.factories import ProductFactory
from customers.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_healthz_needs_no_auth(api_client):
    for path in ("/healthz", "/healthz/"):
        response = api_client.get(path)
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_is_down(api_client, monkeypatch):
    def down(*args, **kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr("billing_project.core.api.views.connection.cursor", down)

    response = api_client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["database"] == "down"


def test_token_login_and_use(api_client):
    user = UserFactory(username="till1", is_superuser=True)

    response = api_client.post("/api/v1/auth/token", {"username": "till1", "password": "pass-word-123"}, format="json")

    assert response.status_code == 200
    token = response.json()["token"]
    assert AuthToken.objects.get(user=user).token_key == token[:15]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/v1/products").status_code == 200


def test_token_with_a_wrong_password_is_401(api_client):
    UserFactory(username="till1")

    response = api_client.post("/api/v1/auth/token/", {"username": "till1", "password": "nope"}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_token_request_needs_both_fields(api_client):
    response = api_client.post("/api/v1/auth/token", {"username": "till1"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert set(response.json()["details"]) == {"password"}


def test_a_bad_token_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = api_client.get("/api/v1/products")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_unknown_api_path_is_a_json_404(admin_api):
    response = admin_api.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_body_over_the_limit_is_413(admin_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = admin_api.post(
        "/api/v1/purchases", {"customer_email": "a@example.com", "padding": "x" * 2000}, format="json"
    )

    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_empty_body_is_a_validation_error(admin_api):
    response = admin_api.post("/api/v1/purchases", b"", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


def test_database_unavailable_is_503_service_unavailable(admin_api, monkeypatch):
    from django.db import OperationalError

    def down(**kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr("catalog.api.product_list", down)

    response = admin_api.get("/api/v1/products")

    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert "connect" not in response.json()["message"]


def test_schema_and_docs(admin_api):
    schema = admin_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    swagger = admin_api.get("/api/docs/")
    redoc = admin_api.get("/api/redoc/")

    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/v1/products/",
        "/api/v1/products/{id}/",
        "/api/v1/denominations/",
        "/api/v1/denominations/{value}/",
        "/api/v1/purchases/",
        "/api/v1/purchases/{id}/",
        "/api/v1/customers/",
        "/api/v1/customers/{id}/",
        "/api/v1/customers/{id}/purchases/",
        "/api/v1/auth/token/",
    ):
        assert path in paths, path
    create = paths["/api/v1/purchases/"]["post"]["responses"]
    assert {"201", "400", "401", "403", "409", "500"} <= set(create)
    assert create["409"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/Error"
    assert swagger.status_code == 200 and b"swagger" in swagger.content.lower()
    assert redoc.status_code == 200


def test_docs_need_login_unless_made_public(api_client, settings):
    assert settings.API_DOCS_PUBLIC is False

    assert api_client.get("/api/schema/").status_code in (401, 403)


def test_every_view_set_action_takes_the_format_suffix():
    """The router answers every route with a format suffix too (``/products/lookup.json``), and
    passes ``format`` to the action: an action that does not take it was a 500."""
    from billing_project.api_router import router

    refusing = []
    for prefix, viewset, _ in router.registry:
        for extra in viewset.get_extra_actions():
            parameters = inspect.signature(extra).parameters
            takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
            if "format" not in parameters and not takes_any:
                refusing.append(f"{prefix}: {extra.__name__}")
    assert not refusing


@pytest.mark.django_db
def test_a_code_lookup_with_a_format_suffix(admin_api):
    product = ProductFactory(sku="SUFFIX-1")
    response = admin_api.get("/api/v1/products/lookup.json", {"code": "SUFFIX-1"})
    assert (response.status_code, response.json()["product"]["id"]) == (200, product.pk)
