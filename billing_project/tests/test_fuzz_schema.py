"""Schemathesis fuzzes every operation in ``/api/schema/`` through the real WSGI stack (middleware, URL
resolver, DRF, exception handler), authenticated as a superuser with a token, with valid data and with
data that breaks the schema (``mode: all``), and runs every check it has. So every response must:

- not be a 5xx;
- have a documented status code, content type, headers and body, error bodies included;
- accept what the schema says is valid (``positive_data_acceptance``) and refuse what it says is not
  (``negative_data_rejection``): the schema says exactly what the API takes;
- refuse a request without credentials (``ignored_auth``), answer a method the path lacks with 405
  (``unsupported_method``), and so on;
- not leak internals: SQL, tracebacks, driver or settings names.

A bill can be schema-valid and still refused by the store (not enough paid, an unknown product): for
``POST /purchases`` a 400 is expected too, and ``refused_only_by_the_store`` checks it is such a refusal.
So can a product's price, above the MRP it has or is given (``price_above_mrp``).

The run is deterministic (``derandomize``), so a failure in CI reproduces locally with the same command.

A few dozen cases an operation cannot try every field with every wrong type, so the tests at the end go
through the schema field by field: every value the schema refuses in a body or a query parameter is
refused, a query parameter given twice is refused, and an unknown ``?format=`` is 406 on every operation.
"""

import copy
import json
import os
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core import signals
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.db import OperationalError, close_old_connections
from django.urls import resolve
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator, FormatChecker
from knox.models import AuthToken
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.throttling import ScopedRateThrottle
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client

from cashdrawer.models import Denomination
from cashdrawer.services import session_close
from cashdrawer.tests.factories import drawer_with
from catalog.models import Product, Store, Transfer
from catalog.services import STOCK_READ_ONLY
from catalog.stock import adjustment_create, receipt_create, stock_count_open, supplier_save
from catalog.stores import default_store_id
from catalog.tests.factories import ProductFactory, StoreFactory
from catalog.transfers import transfer_create
from customers.tests.factories import UserFactory
from purchases.services import held_bill_create, refund_create
from purchases.tests.factories import purchase_for

SCHEMA_URL = "/api/schema/"
OPENAPI_JSON = "application/vnd.oai.openapi+json"
# Fuzzed examples per operation, a few thousand requests in all; POST /purchases gets five times as
# many. Dig deeper locally with e.g. FUZZ_EXAMPLES=500.
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
BILL_EXAMPLES = 5 * MAX_EXAMPLES


def served_schema() -> dict:
    """The document ``GET /api/schema/`` serves, rendered by the real view at collection time as an
    unsaved superuser, so collecting needs no database. ``test_fuzzed_schema_is_the_served_one`` checks
    the same document comes back over HTTP with a real token."""
    request = APIRequestFactory().get(SCHEMA_URL, HTTP_ACCEPT=OPENAPI_JSON)
    force_authenticate(request, user=get_user_model()(username="schema", is_superuser=True, is_staff=True))
    response = resolve(SCHEMA_URL).func(request)
    response.render()
    return json.loads(response.content)


RAW_SCHEMA = served_schema()
PRODUCT_WRITES = (("/api/v1/products/", "POST"), ("/api/v1/products/{id}/", "PUT"), ("/api/v1/products/{id}/", "PATCH"))
schema = schemathesis.openapi.from_dict(
    RAW_SCHEMA,
    config=schemathesis.Config.from_dict(
        {
            "generation": {"mode": "all", "deterministic": True, "database": "none", "max-examples": MAX_EXAMPLES},
            "phases": {"stateful": {"enabled": False}},
            # Ringing up a bill is where the money is: fuzz it harder.
            "operations": [
                {
                    "include-path": "/api/v1/purchases/",
                    "include-method": "POST",
                    "generation": {"max-examples": BILL_EXAMPLES},
                    "checks": {
                        "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404", "409"]}
                    },
                },
                # A schema-valid price can still be above the product's MRP, and a SKU taken. (By name:
                # an operation's filters are alternatives, so a path and a method would each match alone.)
                {
                    "include-name": [f"{method} {path}" for path, method in PRODUCT_WRITES],
                    "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404"]}},
                },
                # Stock writes name products and a supplier that may not exist (`product_not_found`,
                # `supplier_not_found`), can take stock below 0 (`insufficient_stock`) or a fraction of a
                # product sold each, and a GSTIN's check character is no pattern's to say.
                {
                    "include-path-regex": "^/api/v1/(suppliers|receipts|adjustments|stock-counts)/",
                    "checks": {
                        "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404", "409"]}
                    },
                },
                # Store ids that do not exist are a `validation_error` on `stores`.
                {
                    "include-path-regex": "^/api/v1/staff/",
                    "include-method": "PUT",
                    "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404"]}},
                },
                # A store's GSTIN check character, a state code that is no state, a GSTIN of another state
                # and a code taken are no pattern's to say; a till may name a store that is gone or inactive.
                {
                    "include-path-regex": "^/api/v1/stores/",
                    "checks": {
                        "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404", "409"]}
                    },
                },
                {
                    "include-name": ["POST /api/v1/tills/", "PATCH /api/v1/tills/{id}/"],
                    "checks": {
                        "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404", "409"]}
                    },
                },
                # A schema-valid range can still be too long or backwards, or name a till that is gone.
                {
                    "include-path": "/api/v1/reports/sales/",
                    "include-method": "GET",
                    "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404"]}},
                },
                # A schema-valid product can still break a rule of its unit or its codes (a fraction of a
                # product sold each, a barcode's check digit, a code that is taken), and a scanned code
                # may be unknown (404) or have a bad check digit: ``refused_only_by_the_store`` checks them.
                {
                    "include-path-regex": "^/api/v1/products/",
                    "checks": {
                        "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404", "409"]}
                    },
                },
            ],
        }
    ),
)
schema.app = WSGIHandler()

# Text that only appears in a body when internals leak.
LEAK_MARKERS = (
    "Traceback",
    'File "',
    "SELECT ",
    "INSERT INTO",
    "UPDATE ",
    "DELETE FROM",
    "psycopg",
    "sqlite3",
    "django.db",
    "IntegrityError",
    "DataError",
    "OperationalError",
    "ProgrammingError",
    "SECRET_KEY",
    "settings.",
)


# Everything sent so far in the current test: a product named "SELECT 1" is echoed back, also later.
SENT: list[str] = []


@schemathesis.check
def no_internals_leak(ctx, response, case):
    """No body mentions SQL, a traceback, the database driver or settings, unless a request did."""
    SENT.append(json.dumps([case.body, case.query, case.path_parameters, case.headers], default=str))
    sent = "\n".join(SENT)
    # A PDF (the tax invoice) is binary: the check reads what text it can.
    text = response.text_lossy() or ""
    leaked = [marker for marker in LEAK_MARKERS if marker in text and marker not in sent]
    if leaked:
        raise AssertionError(f"the response leaks internals {leaked}: {text[:500]}")
    return None


# What the store refuses in a schema-valid bill: the codes, and the service's own validation messages.
STORE_REFUSALS = {
    "product_not_found",
    "insufficient_payment",
    "tender_mismatch",
    "till_not_found",
    "unknown_payment_method",
    "overpayment",
}
STORE_VALIDATION_MESSAGES = {
    "The bill is too large.",
    "The drawer cannot hold that many notes of one value.",
    # Split tender and discounts: rules that need the payment methods or span fields.
    "A bill has at most one cash payment.",
    "Give either `payments` or `paid_amount` (with `tendered`), not both.",
    "How the bill is paid is missing: give `payments` or `paid_amount`.",
    "The cash payment takes no reference.",
    "Notes are tendered only on the cash payment.",
    "A discount needs a reason.",
    "Two lines of one product have different discounts; give the product one line.",
    # GST: a GSTIN's check character and the state codes in use are rules, not the schema's pattern.
    "Enter a valid GSTIN: 15 characters, the state code first and a correct check character.",
    "Enter a GST state code such as 29 (Karnataka).",
}


# What the sales report refuses in schema-valid parameters: rules across them, and a till that is gone.
SKU_TAKEN = "A product with this SKU already exists."
REPORT_REFUSALS = {"report_range_invalid", "till_not_found", "store_not_found"}
# What the catalogue's rules refuse in a schema-valid product (per field), and in a scanned code.
PRODUCT_RULE_MESSAGES = {
    "stock": {
        "Sold each: enter a whole number.",
        "At most 3 decimal places (kg).",
        "Must be 0 or more.",
        STOCK_READ_ONLY,
    },
    "barcode": {"The barcode's check digit is wrong.", "A product with this barcode already exists."},
    "plu": {"A product with this PLU already exists."},
    "sku": {"A product with this SKU already exists."},
}
LOOKUP_RULE_MESSAGES = {
    "The barcode's check digit is wrong.",
    "Scan or type a barcode, a scale label, a SKU or a product id.",
}


@schemathesis.check
def refused_only_by_the_store(ctx, response, case):
    """A schema-valid bill answered 400 was refused by the store's rules, never by input validation:
    anything the serializer refuses, the schema must refuse too. Likewise for the sales report."""
    if response.status_code != 400 or case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    if (case.method, case.path) == ("GET", "/api/v1/reports/sales/"):
        code = response.json()["code"]
        if code not in REPORT_REFUSALS:
            raise AssertionError(f"a schema-valid report request was refused with {code}: {response.text_lossy()}")
        return None
    if (case.path, case.method) in PRODUCT_WRITES:
        body = response.json()
        if body["code"] in ("price_above_mrp", "store_not_found"):  # a store's id the schema cannot know
            return None
        details = body["details"]
        if details and all(
            set(messages) <= PRODUCT_RULE_MESSAGES.get(field, set())
            or (field in ("stock",) and all(m.startswith("At most 3 decimal places") for m in messages))
            or (field == "unit" and all(m.endswith("cannot change once it has been sold.") for m in messages))
            for field, messages in details.items()
        ):
            return None
        raise AssertionError(f"a schema-valid product was refused: {response.text_lossy()}")
    if case.path == "/api/v1/products/lookup/":
        details = response.json()["details"]
        if all(m in LOOKUP_RULE_MESSAGES or "is sold each" in m for m in details.get("code", ["?"])):
            return None
        raise AssertionError(f"a schema-valid code was refused: {response.text_lossy()}")
    if (case.method, case.path) != ("POST", "/api/v1/purchases/"):
        return None
    body = response.json()
    if body["code"] in STORE_REFUSALS:
        return None
    if body["code"] == "validation_error" and body["message"] in STORE_VALIDATION_MESSAGES:
        return None
    if body["code"] == "validation_error" and body["message"].endswith(": Sold each: enter a whole number."):
        return None  # a fraction of a product sold each: the product's unit decides
    raise AssertionError(f"a schema-valid request was refused: {response.text[:500]}")


CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    no_internals_leak,
]


@pytest.fixture
def wsgi_requests_keep_the_test_transaction():
    """Django's test client stops ``close_old_connections`` from closing the connection, and with it the
    test's transaction, around each request. The WSGI transport does not, so do it here."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def store(db, wsgi_requests_keep_the_test_transaction):
    """A superuser's token and a store worth fuzzing: cheap products with plenty of stock, an archived
    one, a drawer that can make change, and a bill, so detail routes and bills can succeed."""
    SENT.clear()
    user = UserFactory(username="fuzzer", is_superuser=True, is_staff=True)
    products = [ProductFactory(price=price, stock=10_000_000) for price in ("1.00", "2.50", "10.00")]
    archived = ProductFactory(is_active=False)
    drawer = drawer_with(
        {"2000": 100, "500": 100, "200": 100, "100": 100, "50": 100, "20": 100, "10": 100, "5": 100, "2": 100, "1": 100}
    )
    bill = purchase_for(Product.objects.get(pk=products[0].pk), quantity=5, email="fuzz@example.com")
    assert bill.session_id is not None
    closed = session_close(session_id=bill.session_id, counted=drawer_counts(drawer), user=user)
    refund = refund_create(purchase_id=bill.pk, items=[{"product_id": products[0].pk, "quantity": 1}], reason="fuzz")
    supplier = supplier_save(name="Fuzz wholesaler")
    receipt = receipt_create(
        supplier=supplier.pk,
        supplier_invoice="F-1",
        invoice_date=date(2026, 1, 5),
        lines=[{"product_id": products[0].pk, "quantity": 1, "unit_cost": "0.50"}],
        user=user,
    )
    adjustment = adjustment_create(lines=[{"product_id": products[1].pk, "quantity": -1}], reason="damaged", user=user)
    count = stock_count_open(product_ids=[p.pk for p in products], user=user)
    assert bill.till_id is not None
    held = held_bill_create(till=bill.till_id, items=[{"product_id": products[1].pk, "quantity": 1}])
    branch = StoreFactory(code="FUZZ")
    transfer = transfer_create(
        from_store=default_store_id(),
        to_store=branch.pk,
        lines=[{"product_id": products[2].pk, "quantity": 1}],
        user=user,
    )
    return {
        "token": AuthToken.objects.create(user=user)[1],
        "/api/v1/products/": [p.pk for p in [*products, archived]],
        "/api/v1/purchases/": [bill.pk],
        "/api/v1/customers/": [bill.customer_id],
        "/api/v1/denominations/": [str(d.value) for d in drawer],
        "/api/v1/tills/": [bill.till_id],
        "/api/v1/sessions/": [closed.pk],
        "/api/v1/refunds/": [refund.pk],
        "/api/v1/suppliers/": [supplier.pk],
        "/api/v1/receipts/": [receipt.pk],
        "/api/v1/adjustments/": [adjustment.pk],
        "/api/v1/stock-counts/": [count.pk],
        "/api/v1/held-bills/": [held.pk],
        "/api/v1/staff/": [user.username],
        "stores": list(Store.objects.values_list("pk", flat=True)),
        "/api/v1/transfers/": [transfer.pk],
        "branch": [branch.pk],  # a second store: a transfer's destination
        "/api/v1/stores/": list(Store.objects.values_list("pk", flat=True)),
    }


def drawer_counts(drawer) -> list[dict]:
    return [{"value": d.value, "count": Denomination.objects.get(pk=d.pk).count} for d in drawer]


# Payments for a fuzzed bill of at most 5 lines of 5 cheap units: exact notes, or change from the drawer.
PAYMENTS = [
    ("5000", None),
    ("2000", [{"value": "2000", "count": 1}]),
    ("700", [{"value": "500", "count": 1}, {"value": "200", "count": 1}]),
    ("3", [{"value": "2", "count": 1}, {"value": "1", "count": 1}]),
]


REPORT_RANGES = [("2026-01-01", "2026-01-31"), ("2025-12-01", "2026-11-30"), ("2026-11-30", "2026-11-30")]


def point_at_real_rows(case, data, store):
    """Random ids almost never exist. Half the time, aim a path id or a bill line at a seeded row, so
    the success paths (updates, bills, change-making) are fuzzed too. Only for schema-valid cases: a
    case that breaks the schema must reach the API as generated."""
    if case.meta is not None and not case.meta.generation.mode.is_positive:
        return
    for name in ("id", "value", "username"):
        if name in (case.path_parameters or {}) and data.draw(st.booleans(), label=f"real {name}"):
            prefix = case.path.split("{")[0]
            case.path_parameters[name] = str(data.draw(st.sampled_from(store[prefix]), label=name))
    query = case.query
    if case.path == "/api/v1/reports/sales/" and isinstance(query, dict) and data.draw(st.booleans(), label="range"):
        # Random dates are years apart: half the time ask for a range the report gives.
        query["date_from"], query["date_to"] = data.draw(st.sampled_from(REPORT_RANGES), label="dates")
        if "till" in query:
            query["till"] = data.draw(st.sampled_from(store["/api/v1/tills/"]), label="till")
        if "store" in query:
            query["store"] = data.draw(st.sampled_from(store["/api/v1/stores/"]), label="store")
    body = case.body
    if (
        case.method == "POST"
        and case.path == "/api/v1/purchases/"
        and isinstance(body, dict)
        and isinstance(body.get("items"), list)
        and body["items"]
        and all(isinstance(line, dict) for line in body["items"])
        and data.draw(st.booleans(), label="real bill")
    ):
        for line in body["items"]:
            line["product_id"] = data.draw(st.sampled_from(store["/api/v1/products/"]), label="product")
            line["quantity"] = data.draw(st.integers(1, 5), label="quantity")
        paid, tendered = data.draw(st.sampled_from(PAYMENTS), label="payment")
        body["paid_amount"] = paid
        body.pop("tendered", None)
        if tendered:
            body["tendered"] = tendered


@schema.parametrize()
@schema.given(data=st.data())
@settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.django_db
def test_api_conforms_to_its_schema(case, data, store):
    point_at_real_rows(case, data, store)
    headers = {"Authorization": f"Token {store['token']}"}

    response = case.call(headers=headers)

    # Every check schemathesis has (the default set is all of them), plus ours. A body that breaks the
    # schema only by a decimal sent as a JSON number is the documented leniency, which the API takes.
    excluded = [schemathesis.checks.negative_data_rejection] if only_lenient(case) else []
    case.validate_response(
        response,
        additional_checks=[no_internals_leak, refused_only_by_the_store],
        excluded_checks=excluded,
        headers=headers,
    )


def only_lenient(case) -> bool:
    """A negative case whose body becomes schema-valid once its decimals sent as numbers are strings."""
    if case.meta is None or not case.meta.generation.mode.is_negative or not isinstance(case.body, dict):
        return False
    if any(location.name != "BODY" and info.mode.is_negative for location, info in case.meta.components.items()):
        return False
    content = RAW_SCHEMA["paths"][case.path][case.method.lower()].get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return False
    body_schema = json_schema(content["application/json"]["schema"])
    return not refuses(body_schema, decimals_as_strings(body_schema, case.body))


def decimals_as_strings(schema: dict, value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool) and "decimal" in kinds(schema):
        return str(value)
    if isinstance(value, dict):
        properties = {
            name: sub for part in [schema, *schema.get("allOf", [])] for name, sub in part.get("properties", {}).items()
        }
        return {key: decimals_as_strings(properties.get(key, {}), item) for key, item in value.items()}
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [decimals_as_strings(schema["items"], item) for item in value]
    return value


def test_every_operation_is_fuzzed():
    operations = {(method.upper(), path) for path, item in RAW_SCHEMA["paths"].items() for method in item}
    loaded = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    fuzzed = {(operation.method.upper(), operation.path) for operation in loaded}

    assert fuzzed == operations
    assert len(operations) >= 18  # products 6, denominations 4, purchases 3, customers 3, token, health


def test_fuzzed_schema_is_the_served_one(store):
    client = Client(schema.app)

    response = client.get(SCHEMA_URL, headers={"Authorization": f"Token {store['token']}", "Accept": OPENAPI_JSON})

    assert response.status_code == 200
    assert response.json == RAW_SCHEMA


def _over_the_limit() -> str:
    return json.dumps({"customer_email": "a@example.com", "note": "x" * django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE})


def _archived_bill(store) -> dict:
    archived = store["/api/v1/products/"][-1]
    return {"customer_email": "a@example.com", "items": [{"product_id": archived, "quantity": 1}], "paid_amount": "9"}


# Responses the fuzzer may never provoke, checked against the schema all the same:
# name: (documented operation, request for werkzeug's Client.open(), expected status).
RARE_RESPONSES: dict[str, tuple[tuple[str, str], Callable[[dict], dict[str, Any]], int]] = {
    "nul in a query": (("GET", "/api/v1/denominations/"), lambda s: {"query_string": "x=%00"}, 400),
    "no such page": (("GET", "/api/v1/products/"), lambda s: {"query_string": "page=0"}, 404),
    "body too large": (
        ("POST", "/api/v1/purchases/"),
        lambda s: {"data": _over_the_limit(), "content_type": "application/json"},
        413,
    ),
    "body too large, anonymous": (
        ("POST", "/api/v1/auth/token/"),
        lambda s: {"data": _over_the_limit(), "content_type": "application/json", "anonymous": True},
        413,
    ),
    "text body": (("POST", "/api/v1/products/"), lambda s: {"data": "Rice", "content_type": "text/plain"}, 415),
    "xml wanted": (("GET", "/api/v1/products/"), lambda s: {"headers": {"Accept": "application/xml"}}, 406),
    "nul in the token": (("GET", "/api/v1/purchases/"), lambda s: {"headers": {"Authorization": "Token \x00"}}, 401),
    "no token": (("GET", "/api/v1/customers/"), lambda s: {"anonymous": True}, 401),
    "wrong password": (
        ("POST", "/api/v1/auth/token/"),
        lambda s: {"json": {"username": "fuzzer", "password": "wrong"}, "anonymous": True},
        401,
    ),
    "bills are never deleted": (
        ("GET", "/api/v1/purchases/{id}/"),
        lambda s: {"path": f"/api/v1/purchases/{s['/api/v1/purchases/'][0]}/", "method": "DELETE"},
        405,
    ),
    "archived product": (("POST", "/api/v1/purchases/"), lambda s: {"json": _archived_bill(s)}, 409),
}


@pytest.mark.parametrize("name", RARE_RESPONSES)
@pytest.mark.django_db
def test_rare_responses_conform_to_the_schema(store, name):
    (method, path), build, status = RARE_RESPONSES[name]
    request = {"path": path, "method": method} | build(store)
    headers = {} if request.pop("anonymous", False) else {"Authorization": f"Token {store['token']}"}
    headers |= request.pop("headers", {})

    response = Client(schema.app).open(headers=headers, **request)

    assert response.status_code == status, response.get_data(as_text=True)[:500]
    schema[path][method].Case().validate_response(response, checks=CHECKS)


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (RuntimeError("SELECT * FROM settings.SECRET_KEY"), 500, "server_error"),
        (OperationalError("could not connect to server"), 503, "service_unavailable"),
    ],
    ids=["crash", "database down"],
)
@pytest.mark.django_db
def test_server_side_failures_conform_to_the_schema(store, monkeypatch, error, status, code):
    def fail(**kwargs):
        raise error

    monkeypatch.setattr("catalog.api.product_list", fail)
    case = schema["/api/v1/products/"]["GET"].Case()

    response = Client(schema.app).get("/api/v1/products/", headers={"Authorization": f"Token {store['token']}"})

    assert response.status_code == status
    assert response.json is not None and response.json["code"] == code
    case.validate_response(response, checks=[c for c in CHECKS if c is not schemathesis.checks.not_a_server_error])


@pytest.mark.django_db
def test_throttled_token_requests_conform_to_the_schema(store, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth_token": "1/min"})
    cache.clear()
    client = Client(schema.app)
    client.post("/api/v1/auth/token/", json={"username": "fuzzer", "password": "wrong"})

    response = client.post("/api/v1/auth/token/", json={"username": "fuzzer", "password": "wrong"})

    assert response.status_code == 429
    assert response.json is not None and response.json["code"] == "throttled"
    schema["/api/v1/auth/token/"]["POST"].Case().validate_response(response, checks=CHECKS)
    cache.clear()


@pytest.mark.django_db
def test_health_down_conforms_to_the_schema(store, monkeypatch):
    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("billing_project.core.api.views.connection.cursor", down)

    response = Client(schema.app).get("/healthz/")

    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "down"}
    case = schema["/healthz/"]["GET"].Case()
    case.validate_response(response, checks=[c for c in CHECKS if c is not schemathesis.checks.not_a_server_error])


# --- What the schema refuses, the API refuses ----------------------------------------------------------
# Schemathesis draws a few dozen cases an operation: too few to try every field with every wrong type.
# These tests go through the schema's request bodies and query parameters field by field: each value the
# schema refuses (checked against the schema itself) is sent in an otherwise good request, and must be
# refused, naming the field, with an answer the schema documents. A new field is covered as it appears.

# Two leniencies docs/api.md documents ("What the API takes"), which the schema leaves out so that
# generated clients get one type: a decimal may be sent as a JSON number, a whole number as a string of
# ASCII digits.
WRONG_BODY_VALUES: list[Any] = [
    0,
    1,
    -1,
    1.5,
    True,
    False,
    "",
    "0",
    "1",
    "true",
    "yes",
    "x",
    None,
    [],
    {},
    [1],
    {"a": 1},
]
WRONG_QUERY_VALUES = ["", "abc", "1.5", "+1", " 1", "0", "-1", "true", "True", "yes", "1", "AAA", "2026-13-01", "a b"]
WRONG_QUERY_VALUES.append("x" * 17)


def json_schema(node: Any) -> Any:
    """A part of the OpenAPI 3.0 document as plain JSON Schema: references resolved, ``nullable`` as a
    null alternative, annotations dropped."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return json_schema(RAW_SCHEMA["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]])
    converted = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties"):
            converted[key] = {name: json_schema(sub) for name, sub in value.items()}
        elif key not in ("nullable", "readOnly", "writeOnly", "description", "example", "default"):
            converted[key] = json_schema(value)
    return {"anyOf": [converted, {"type": "null"}]} if node.get("nullable") else converted


def refuses(schema: dict, value: Any) -> bool:
    return not Draft4Validator(schema, format_checker=FormatChecker()).is_valid(value)


def kinds(schema: dict) -> set[str]:
    """The types and formats a schema (and its alternatives) speaks of."""
    found = {str(schema.get("type")), str(schema.get("format"))}
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            found |= kinds(sub)
    return found


def documented_leniency(schema: dict, value: Any) -> bool:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    digits = isinstance(value, str) and value.isascii() and value.isdigit()
    return ("decimal" in kinds(schema) and number) or ("integer" in kinds(schema) and digits)


def fields_of(schema: dict, body: Any, at: tuple = ()):
    """``(path, schema)`` of every property of a request body, into the objects of the arrays the body has."""
    for name, sub in schema.get("properties", {}).items():
        yield (*at, name), sub
        if sub.get("type") == "array" and isinstance(body, dict) and body.get(name):
            yield from fields_of(sub["items"], body[name][0], (*at, name, 0))
        elif sub.get("type") == "object" and isinstance(body, dict) and isinstance(body.get(name), dict):
            yield from fields_of(sub, body[name], (*at, name))
    for sub in schema.get("allOf", []):
        yield from fields_of(sub, body, at)


def with_value(body: dict, path: tuple, value: Any) -> dict:
    changed = copy.deepcopy(body)
    target = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


def good_bodies(store) -> dict[tuple[str, str], list[tuple[dict, dict]]]:
    """For each operation that takes a body: its path parameters and bodies that are good but for the
    store's rules, with every optional field present (each form, for the bill)."""
    product, bill, till = store["/api/v1/products/"][0], store["/api/v1/purchases/"][0], store["/api/v1/tills/"][0]
    session = store["/api/v1/sessions/"][0]
    line = {"product_id": product, "quantity": 1, "discount_percent": "0"}
    new_product = {
        "sku": "TEA-1",
        "name": "Tea",
        "stock": 3,
        "price": "10.00",
        "tax_percent": "5",
        "hsn_code": "0902",
        "is_active": True,
    }
    new_till = {
        "code": "T9",
        "name": "Counter 9",
        "is_active": True,
        "requires_open_session": False,
        "invoice_series": "T9",
        "credit_series": "CT9",
        "store": store["/api/v1/stores/"][0],
    }
    new_store = {
        "code": "PUN",
        "name": "Pune",
        "legal_name": "Pune Traders Pvt Ltd",
        "address": "Market yard, Pune",
        "state_code": "27",
        "gstin": "27AAPFU0939F1ZV",
        "is_active": True,
    }
    count = {"counted": [{"value": "2000", "count": 1}], "note": "float"}
    supplier = {
        "name": "Wholesaler",
        "gstin": "27AAPFU0939F1ZV",
        "phone": "9800000000",
        "email": "orders@example.com",
        "address": "Market yard, Pune",
    }
    received = {
        "supplier": store["/api/v1/suppliers/"][0],
        "supplier_invoice": "INV-7",
        "invoice_date": "2026-01-05",
        "lines": [{"product_id": product, "quantity": 2, "unit_cost": "0.50", "tax_percent": "5"}],
        "note": "morning delivery",
    }
    stock_count = store["/api/v1/stock-counts/"][0]
    transfer, branch = store["/api/v1/transfers/"][0], store["branch"][0]
    sent = Transfer.objects.get(pk=transfer).lines.get()
    return {
        ("POST", "/api/v1/auth/token/"): [({}, {"username": "fuzzer", "password": "pass-word-123"})],
        ("POST", "/api/v1/products/"): [({}, new_product)],
        ("PUT", "/api/v1/products/{id}/"): [({"id": product}, new_product)],
        ("PATCH", "/api/v1/products/{id}/"): [({"id": product}, new_product)],
        ("POST", "/api/v1/denominations/"): [({}, {"value": "7", "available_count": 1})],
        ("PUT", "/api/v1/denominations/{value}/"): [({"value": "2000"}, {"available_count": 5, "reason": "count"})],
        ("POST", "/api/v1/purchases/"): [
            (
                {},
                {
                    "customer_email": "a@example.com",
                    "items": [line],
                    "paid_amount": "2000",
                    "tendered": [{"value": "2000", "count": 1}],
                    "discount_percent": "0",
                    "discount_reason": "loyal",
                    "send_invoice": False,
                    "till": till,
                },
            ),
            (
                {},
                {
                    "customer_email": "a@example.com",
                    "items": [line],
                    "payments": [
                        {"method": "cash", "amount": "5", "tendered": [{"value": "5", "count": 1}]},
                        {"method": "card", "amount": "1", "reference": "slip 42"},
                    ],
                },
            ),
        ],
        ("POST", "/api/v1/purchases/{id}/refunds/"): [
            (
                {"id": bill},
                {
                    "items": [line],
                    "reason": "damaged",
                    "restock": True,
                    "till": till,
                    "payments": [{"method": "cash", "amount": "1.00", "reference": "r"}],
                },
            )
        ],
        ("POST", "/api/v1/tills/"): [({}, new_till)],
        ("PATCH", "/api/v1/tills/{id}/"): [({"id": till}, new_till)],
        ("POST", "/api/v1/tills/{id}/denominations/"): [({"id": till}, {"value": "7", "available_count": 1})],
        ("PUT", "/api/v1/tills/{id}/denominations/{value}/"): [
            ({"id": till, "value": "2000"}, {"available_count": 1, "reason": "count"})
        ],
        ("POST", "/api/v1/tills/{id}/sessions/"): [({"id": till}, count)],
        ("POST", "/api/v1/sessions/{id}/cash-movements/"): [
            ({"id": session}, {"direction": "in", "pieces": [{"value": "100", "count": 1}], "reason": "float"})
        ],
        ("POST", "/api/v1/sessions/{id}/close/"): [({"id": session}, count)],
        ("POST", "/api/v1/sessions/{id}/approve/"): [({"id": session}, {"reason": "the 100s went to the safe"})],
        ("POST", "/api/v1/sessions/{id}/recount/"): [({"id": session}, {"reason": "count again"})],
        ("POST", "/api/v1/auth/pin/"): [({}, {"password": "pass-word-123", "pin": "1234"})],
        ("POST", "/api/v1/overrides/"): [
            ({}, {"username": "fuzzer", "pin": "1234", "action": "discount", "till": till})
        ],
        ("POST", "/api/v1/stores/"): [({}, new_store)],
        ("PATCH", "/api/v1/stores/{id}/"): [({"id": store["/api/v1/stores/"][0]}, new_store)],
        ("POST", "/api/v1/suppliers/"): [({}, supplier)],
        ("PUT", "/api/v1/staff/{username}/stores/"): [({"username": "fuzzer"}, {"stores": store["stores"]})],
        ("PUT", "/api/v1/suppliers/{id}/"): [({"id": store["/api/v1/suppliers/"][0]}, supplier)],
        ("PATCH", "/api/v1/suppliers/{id}/"): [({"id": store["/api/v1/suppliers/"][0]}, supplier)],
        ("POST", "/api/v1/receipts/"): [({}, received)],
        ("POST", "/api/v1/adjustments/"): [
            ({}, {"lines": [{"product_id": product, "quantity": "1"}], "reason": "other", "note": "shelf recount"})
        ],
        ("POST", "/api/v1/stock-counts/"): [({}, {"products": [product], "note": "aisle 3"})],
        ("POST", "/api/v1/transfers/"): [
            (
                {},
                {
                    "from_store": default_store_id(),
                    "to_store": branch,
                    "lines": [{"product_id": product, "quantity": 1}],
                    "note": "to the branch",
                },
            )
        ],
        ("POST", "/api/v1/transfers/{id}/receive/"): [
            ({"id": transfer}, {"lines": [{"product_id": sent.product_id, "quantity": 1}]})
        ],
        ("PUT", "/api/v1/stock-counts/{id}/lines/{product_id}/"): [
            ({"id": stock_count, "product_id": product}, {"counted": "5"})
        ],
        ("PUT", "/api/v1/products/{id}/store-prices/{store_id}/"): [
            ({"id": product, "store_id": default_store_id()}, {"price": "1.00"})
        ],
        ("POST", "/api/v1/held-bills/"): [
            (
                {},
                {
                    "till": till,
                    "items": [line],
                    "customer_email": "a@example.com",
                    "customer_phone": "9876543210",
                    "note": "back soon",
                },
            )
        ],
    }


def names(operations: list[tuple[str, str]]) -> list[str]:
    return [f"{method} {path}" for method, path in operations]


def operations_with(location: str) -> list[tuple[str, str]]:
    found = []
    for path, item in RAW_SCHEMA["paths"].items():
        for method, operation in item.items():
            has = (
                "requestBody" in operation
                if location == "body"
                else any(p["in"] == location for p in operation.get("parameters", []))
            )
            if has:
                found.append((method.upper(), path))
    return found


def url(path: str, parameters: dict) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: str(parameters[match.group(1)]), path)


def body_schema(method: str, path: str) -> dict:
    operation = RAW_SCHEMA["paths"][path][method.lower()]
    return json_schema(operation["requestBody"]["content"]["application/json"]["schema"])


def test_every_operation_with_a_body_has_good_bodies(store):
    assert set(good_bodies(store)) == set(operations_with("body"))


@pytest.mark.parametrize(("method", "path"), operations_with("body"), ids=names(operations_with("body")))
@pytest.mark.django_db
def test_a_value_the_schema_refuses_in_a_body_is_refused(store, method, path):
    client = Client(schema.app)
    headers = {"Authorization": f"Token {store['token']}"}
    full = body_schema(method, path)
    accepted, tried = [], 0
    for parameters, body in good_bodies(store)[(method, path)]:
        assert not refuses(full, body), body  # the good body is good
        for where, field in fields_of(full, body):
            for value in WRONG_BODY_VALUES:
                field_schema = json_schema(field)
                if not refuses(field_schema, value) or documented_leniency(field_schema, value):
                    continue
                tried += 1
                response = client.open(
                    url(path, parameters), method=method, json=with_value(body, where, value), headers=headers
                )
                answer = response.json or {}
                if (
                    response.status_code != 400
                    or answer.get("code") != "validation_error"
                    or where[0] not in answer.get("details", {})
                ):
                    accepted.append(f"{'.'.join(map(str, where))}={value!r}: {response.status_code} {answer}")
                schema[path][method].Case().validate_response(response, checks=CHECKS)

    assert tried > 0
    assert accepted == []


def query_parameters(method: str, path: str) -> list[dict]:
    return [p for p in RAW_SCHEMA["paths"][path][method.lower()].get("parameters", []) if p["in"] == "query"]


def query_value_taken(raw: str, parameter_schema: dict) -> bool:
    """Whether a value as sent in a query string is one the schema allows (booleans and integers are
    written as OpenAPI writes them: `true`, `false`, `-12`)."""
    kind = parameter_schema.get("type")
    if kind == "boolean":
        if raw not in ("true", "false"):
            return False
        return not refuses(parameter_schema, raw == "true")
    if kind == "integer":
        return re.fullmatch(r"-?[0-9]+", raw) is not None and not refuses(parameter_schema, int(raw))
    return not refuses(parameter_schema, raw)


def path_parameters(store, path: str) -> dict:
    """Path parameters naming real rows, so that a query is refused for itself, not for a missing row."""
    if "{" not in path:
        return {}
    return {
        "id": store[path.split("{")[0]][0],
        "value": "2000",
        "product_id": store["/api/v1/products/"][0],
        "username": store["/api/v1/staff/"][0],
        "store_id": default_store_id(),
    }


# A bad page is 404 `not_found`, as a page past the last one; a format the endpoint lacks is 406.
QUERY_REFUSAL_STATUS = {"page": 404, "format": 406}


@pytest.mark.parametrize(("method", "path"), operations_with("query"), ids=names(operations_with("query")))
@pytest.mark.django_db
def test_a_query_value_the_schema_refuses_is_refused(store, method, path):
    client = Client(schema.app)
    headers = {"Authorization": f"Token {store['token']}"}
    accepted, tried = [], 0
    for parameter in query_parameters(method, path):
        name, parameter_schema = parameter["name"], json_schema(parameter["schema"])
        for raw in WRONG_QUERY_VALUES:
            if query_value_taken(raw, parameter_schema):
                continue
            tried += 1
            response = client.open(
                url(path, path_parameters(store, path)), method=method, query_string={name: raw}, headers=headers
            )
            answer = response.json or {}
            status = QUERY_REFUSAL_STATUS.get(name, 400)
            named = name in answer.get("details", {}) or answer.get("code") != "validation_error"
            if response.status_code != status or not named:
                accepted.append(f"{name}={raw!r}: {response.status_code} {answer}")
            schema[path][method].Case().validate_response(response, checks=CHECKS)

    assert tried > 0
    assert accepted == []


@pytest.mark.parametrize(("method", "path"), operations_with("query"), ids=names(operations_with("query")))
@pytest.mark.django_db
def test_a_query_parameter_given_twice_is_refused(store, method, path):
    client = Client(schema.app)
    for parameter in query_parameters(method, path):
        name = parameter["name"]
        candidates = ["true", "1", "2026-01-01", "x", "9876543210", *parameter["schema"].get("enum", [])]
        value = next(raw for raw in candidates if query_value_taken(raw, json_schema(parameter["schema"])))

        response = client.open(
            f"{url(path, path_parameters(store, path))}?{name}={value}&{name}={value}",
            method=method,
            headers={"Authorization": f"Token {store['token']}"},
        )

        assert response.status_code == 400, (name, response.json)
        assert response.json is not None and response.json["code"] == "validation_error"
        assert response.json["details"] == {name: ["Give this parameter once."]}
        schema[path][method].Case().validate_response(response, checks=CHECKS)


ALL_OPERATIONS = [(method.upper(), path) for path, item in RAW_SCHEMA["paths"].items() for method in item]


@pytest.mark.parametrize(("method", "path"), ALL_OPERATIONS, ids=names(ALL_OPERATIONS))
@pytest.mark.parametrize("wanted", ["AAA", ""])
@pytest.mark.django_db
def test_an_unknown_format_is_406_not_acceptable(store, method, path, wanted):
    response = Client(schema.app).open(
        url(path, path_parameters(store, path)),
        method=method,
        query_string={"format": wanted},
        headers={"Authorization": f"Token {store['token']}"},
    )

    assert response.status_code == 406, response.json
    assert response.json is not None and response.json["code"] == "not_acceptable"
    schema[path][method].Case().validate_response(response, checks=CHECKS)
