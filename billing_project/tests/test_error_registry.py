"""The registry of error codes is the one source: the API docs' error table, the schema and the exceptions agree
with it."""

import importlib
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from rest_framework.test import APIRequestFactory

from billing_project.core.api.exceptions import exception_handler
from billing_project.core.api.schema import error_responses
from billing_project.core.errors import DomainError, ErrorCode

API_DOCS = Path(settings.BASE_DIR) / "docs" / "api.md"
_ROW = re.compile(r"^\| (\d{3}) \| `([a-z_]+)` \| (.+?) \|$")


def _documented_error_table() -> list[tuple[int, str]]:
    text = API_DOCS.read_text(encoding="utf-8")
    start = text.index("| status | code | when |")
    table = text[start : text.index("\n\n", start)]
    return [(int(m[1]), m[2]) for line in table.splitlines() if (m := _ROW.match(line))]


def _domain_error_classes() -> set[type[DomainError]]:
    for app in apps.get_app_configs():
        for module in ("errors", "services", "idempotency", "invoices", "importing"):
            try:
                importlib.import_module(f"{app.name}.{module}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app.name}.{module}":
                    raise
    found: set[type[DomainError]] = set()
    todo = [DomainError]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            found.add(sub)
            todo.append(sub)
    return found


def test_the_documented_error_table_matches_the_registry():
    rows = _documented_error_table()
    assert len(rows) == len(set(rows)), "a code is listed twice in docs/api.md"
    assert sorted(rows) == sorted((code.status, code.value) for code in ErrorCode)


def test_codes_are_unique_snake_case_with_an_error_status():
    values = [code.value for code in ErrorCode]
    assert len(values) == len(set(values))
    for code in ErrorCode:
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", code.value)
        assert 400 <= code.status <= 599
        assert code.meaning


def test_every_domain_error_names_a_registered_code():
    classes = _domain_error_classes()
    assert len(classes) >= 10  # the services' own errors were found, not just the base classes
    for cls in classes:
        assert isinstance(cls.code, ErrorCode), f"{cls.__qualname__}.code is not an ErrorCode"


_DOMAIN_ERRORS = sorted(_domain_error_classes(), key=lambda cls: cls.__qualname__)


@pytest.mark.parametrize("cls", _DOMAIN_ERRORS, ids=[cls.__name__ for cls in _DOMAIN_ERRORS])
def test_the_handler_answers_each_domain_error_with_the_registry_status(cls):
    exc = cls.__new__(cls)
    DomainError.__init__(exc, "refused", details={"k": 1})
    response = exception_handler(exc, {"request": APIRequestFactory().get("/")})
    assert response.status_code == cls.code.status
    assert response.data == {"code": cls.code.value, "message": "refused", "details": {"k": 1}}


def test_documented_responses_group_codes_by_their_status():
    responses = error_responses(ErrorCode.INSUFFICIENT_STOCK, ErrorCode.TENDER_MISMATCH, ErrorCode.BUSY)
    assert sorted(responses) == [400, 409, 503]
    assert "`insufficient_stock`" in str(responses[409].description)
    assert "`busy`" not in str(responses[409].description)


@pytest.mark.django_db
def test_the_schema_enumerates_exactly_the_registered_codes(admin_api):
    schema = admin_api.get("/api/schema/", {"format": "json"}).json()
    assert schema["components"]["schemas"]["Error"]["properties"]["code"]["enum"] == [c.value for c in ErrorCode]
    post = schema["paths"][f"{settings.API_V1_PREFIX}/purchases/"]["post"]["responses"]
    assert "`insufficient_stock`" in post["409"]["description"]
