"""The schema reads well to an integrator and to a client generator: every component has a name of its
own (no leading underscore, no two that differ only in case or underscores, no doubled suffix), and
every component and operation has a description written for the API's reader, not the code's."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import resolve
from rest_framework.test import APIRequestFactory, force_authenticate

from billing_project.core.api.schema import ENUM_DESCRIPTIONS

SCHEMA_URL = "/api/schema/"

# Wording that belongs to the code: reST literals and roles, docstring sections, Python's literals (the
# API's are true, false and null), and names of the code's own machinery.
INTERNAL_WORDING = re.compile(
    r"``|:param|:class:|:func:|:meth:|\bArgs:|\bReturns:|\bRaises:|\b(True|False|None)\b|\bself\b|__"
    r"|\.py\b|\bkwargs\b|docstring|Documentation only|\bTODO\b|\bFIXME\b"
    r"|(?i:queryset|serializer|validated_data|to_representation|drf_spectacular|\bDRF\b|django)"
)


def served_schema() -> dict:
    request = APIRequestFactory().get(SCHEMA_URL, HTTP_ACCEPT="application/vnd.oai.openapi+json")
    force_authenticate(request, user=get_user_model()(username="schema", is_superuser=True, is_staff=True))
    response = resolve(SCHEMA_URL).func(request)
    response.render()
    return response.data


SCHEMA = served_schema()
COMPONENTS = SCHEMA["components"]["schemas"]
OPERATIONS = {
    f"{method.upper()} {path}": operation
    for path, item in SCHEMA["paths"].items()
    for method, operation in item.items()
}


def descriptions(node, where=""):
    """Every description and summary in a part of the schema, with where it is."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("description", "summary") and isinstance(value, str):
                yield f"{where}/{key}", value
            else:
                yield from descriptions(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from descriptions(value, f"{where}/{index}")


@pytest.mark.parametrize("name", COMPONENTS)
def test_a_component_name_is_plain_pascal_case(name):
    assert re.fullmatch(r"[A-Z][A-Za-z0-9]*", name), name
    assert not re.search(r"(Request){2}|Input|Serializer", name), name


def test_no_two_component_names_differ_only_in_case_or_underscores():
    seen: dict[str, str] = {}
    for name in COMPONENTS:
        key = name.replace("_", "").lower()
        assert key not in seen, f"{name} and {seen[key]}"
        seen[key] = name


@pytest.mark.parametrize("name", COMPONENTS)
def test_every_component_is_described(name):
    description = COMPONENTS[name].get("description", "")

    assert len(description.split()) >= 4, f"{name}: {description!r}"


def test_every_enum_has_its_own_description():
    enums = {name for name, schema in COMPONENTS.items() if "enum" in schema}

    assert enums == set(ENUM_DESCRIPTIONS)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_operation_is_described(operation):
    description = OPERATIONS[operation].get("description", "")

    assert len(description.split()) >= 2, f"{operation}: {description!r}"


def test_no_description_uses_the_codes_wording():
    found = [f"{where}: {text[:120]!r}" for where, text in descriptions(SCHEMA) if INTERNAL_WORDING.search(text)]

    assert found == []


@pytest.mark.parametrize(
    "text",
    [
        "Output through the serializer's declared fields.",
        "Documentation only: the report is built by ``cashdrawer.reports``.",
        "Args: data",
        "False when the customer declines.",
        "The queryset of products.",
    ],
)
def test_the_wording_rule_catches_the_codes_own(text):
    assert INTERNAL_WORDING.search(text)


@pytest.mark.parametrize(
    "text",
    [
        "`false`: archived; an archived product cannot be sold.",
        "Null while the session is open.",
        "The emailed copy (or the first print when none was emailed) is the original.",
        "Send it as `Authorization: Token <token>`.",
    ],
)
def test_the_wording_rule_lets_the_apis_own_through(text):
    assert not INTERNAL_WORDING.search(text)
