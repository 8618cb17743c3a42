"""Metrics at /metrics, request ids, and the log lines (billing_project.core.metrics, .request_id)."""

import json
import logging
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import RequestFactory
from prometheus_client.parser import text_string_to_metric_families

from billing_project.core import request_id
from billing_project.views import server_error
from cashdrawer.tests.factories import drawer_with
from catalog.tests.factories import ProductFactory
from purchases.invoices import invoice_deliver
from purchases.models import Purchase

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent.parent
TOKEN = "scrape-secret-0123456789"
BILLS = "/api/v1/purchases"


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


@pytest.fixture
def drawer():
    return drawer_with({"2000": 2, "500": 5, "200": 5, "100": 10, "50": 10, "20": 10, "10": 10, "5": 10, "1": 10})


@pytest.fixture
def soap():
    return ProductFactory(name="Soap", price=Decimal("36.50"), tax_percent=Decimal("12"), stock=10)


def scrape(client) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics as {(name, sorted labels): value}."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def ring_up(api, product, quantity, paid="100", key=None):
    body = {
        "customer_email": "ann@example.com",
        "items": [{"product_id": product.pk, "quantity": quantity}],
        "paid_amount": paid,
        "tendered": [{"value": "100", "count": int(Decimal(paid) // 100)}],
    }
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api.post(BILLS, body, format="json", **headers)


# --- /metrics ------------------------------------------------------------------------------------


def test_a_bill_and_a_refusal_are_counted(
    client, admin_api, metrics_token, drawer, soap, django_capture_on_commit_callbacks
):
    before = scrape(client)

    with django_capture_on_commit_callbacks(execute=True):
        ok = ring_up(admin_api, soap, 1)
    refused = ring_up(admin_api, soap, 11)  # only 10 in stock

    assert ok.status_code == 201
    assert refused.status_code == 409
    assert refused.json()["code"] == "insufficient_stock"
    after = scrape(client)
    assert value(after, "billing_bills_total", till="MAIN") - value(before, "billing_bills_total", till="MAIN") == 1
    assert (
        value(after, "billing_refusals_total", code="insufficient_stock")
        - value(before, "billing_refusals_total", code="insufficient_stock")
        == 1
    )
    assert value(after, "billing_bill_seconds_count") - value(before, "billing_bill_seconds_count") == 1
    assert value(after, "billing_bill_seconds_sum") > value(before, "billing_bill_seconds_sum")
    assert (
        value(after, "billing_change_making_seconds_count") - value(before, "billing_change_making_seconds_count") == 1
    )
    created = {"method": "POST", "view": "purchase-list", "status": "201"}
    assert (
        value(after, "billing_http_requests_total", **created) - value(before, "billing_http_requests_total", **created)
        == 1
    )


def test_an_idempotent_replay_is_not_counted_again(
    client, admin_api, metrics_token, drawer, soap, django_capture_on_commit_callbacks
):
    before = scrape(client)

    with django_capture_on_commit_callbacks(execute=True):
        first = ring_up(admin_api, soap, 1, key="till-1-0001")
    with django_capture_on_commit_callbacks(execute=True):
        replay = ring_up(admin_api, soap, 1, key="till-1-0001")

    assert first.status_code == replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
    after = scrape(client)
    assert value(after, "billing_bills_total", till="MAIN") - value(before, "billing_bills_total", till="MAIN") == 1


def test_a_rolled_back_bill_is_not_counted(client, admin_api, metrics_token, drawer, soap, monkeypatch):
    before = scrape(client)

    # on_commit callbacks of a transaction that never commits are discarded: the test's wrapping
    # transaction is rolled back, and without capturing them they never run.
    response = ring_up(admin_api, soap, 1)

    assert response.status_code == 201
    after = scrape(client)
    assert value(after, "billing_bills_total", till="MAIN") == value(before, "billing_bills_total", till="MAIN")


def test_invoice_emails_are_counted_by_outcome(
    client, admin_api, metrics_token, settings, drawer, soap, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    ring_up(admin_api, soap, 1)
    purchase = Purchase.objects.get()
    before = scrape(client)

    outcome = invoice_deliver(purchase_id=purchase.pk, invoice_round=purchase.invoice_round, attempt=1)

    assert outcome == "sent"
    after = scrape(client)
    sent = value(after, "billing_invoice_emails_total", outcome="sent") - value(
        before, "billing_invoice_emails_total", outcome="sent"
    )
    assert sent == 1


def test_the_invoice_queue_is_read_at_scrape_time(client, admin_api, metrics_token, drawer, soap):
    from django_tasks_db.models import DBTaskResult

    empty = scrape(client)
    ring_up(admin_api, soap, 1)
    ring_up(admin_api, soap, 2)

    samples = scrape(client)
    assert value(empty, "billing_invoice_queue_depth", state="due") == 0
    assert value(samples, "billing_invoice_queue_depth", state="due") == 2
    assert DBTaskResult.objects.filter(status="READY").count() == 2
    assert value(samples, "billing_invoice_queue_oldest_age_seconds") >= 0


@pytest.mark.parametrize(
    ("configured", "header", "expected"),
    [
        ("", f"Bearer {TOKEN}", 404),  # no token configured: /metrics does not exist
        (TOKEN, "", 401),
        (TOKEN, "Bearer wrong-token", 401),
        (TOKEN, f"Token {TOKEN}", 401),
        (TOKEN, f"Bearer {TOKEN}", 200),
    ],
)
def test_metrics_need_the_bearer_token(client, settings, configured, header, expected):
    settings.METRICS_TOKEN = configured

    response = client.get("/metrics", HTTP_AUTHORIZATION=header) if header else client.get("/metrics")

    assert response.status_code == expected
    if expected == 401:
        assert response["WWW-Authenticate"] == "Bearer"
        assert b"billing_" not in response.content


# --- request ids ---------------------------------------------------------------------------------


def test_a_sane_incoming_request_id_is_kept(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="till-07:4f2a-91.c")

    assert response["X-Request-ID"] == "till-07:4f2a-91.c"


@pytest.mark.parametrize("incoming", [None, "", "short", "has spaces in it", "x" * 129, "bad\"quote'1234", "é" * 10])
def test_an_insane_or_missing_request_id_is_replaced(client, incoming):
    headers = {} if incoming is None else {"HTTP_X_REQUEST_ID": incoming}

    response = client.get("/healthz", **headers)

    generated = response["X-Request-ID"]
    assert generated != incoming
    assert len(generated) == 32
    assert int(generated, 16) >= 0


def test_every_request_gets_its_own_id(client):
    assert client.get("/healthz")["X-Request-ID"] != client.get("/healthz")["X-Request-ID"]


def test_a_500_from_the_api_carries_the_request_id(admin_api, drawer, soap, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("purchases.api.purchase_create", broken)

    response = admin_api.post(
        BILLS, {"customer_email": "a@example.com", "items": [{"product_id": soap.pk, "quantity": 1}],
                "paid_amount": "100"}, format="json",
        HTTP_X_REQUEST_ID="cashier-quote-123",
    )  # fmt: skip

    assert response.status_code == 500
    assert response.json() == {
        "code": "server_error",
        "message": "Internal server error.",
        "details": {},
        "request_id": "cashier-quote-123",
    }
    assert response["X-Request-ID"] == "cashier-quote-123"


def test_djangos_500_handler_carries_the_request_id_too():
    token = request_id.bind("outside-drf-0001")
    try:
        response = server_error(RequestFactory().get("/api/v1/products"))
    finally:
        request_id.unbind(token)

    assert response.status_code == 500
    assert json.loads(response.content) == {
        "code": "server_error",
        "message": "Internal server error.",
        "details": {},
        "request_id": "outside-drf-0001",
    }


def test_other_errors_keep_their_shape(admin_api):
    response = admin_api.get("/api/v1/products/999999")

    assert response.status_code == 404
    assert set(response.json()) == {"code", "message", "details"}


# --- log lines -----------------------------------------------------------------------------------


def test_bill_and_refusal_log_lines_carry_till_and_bill(admin_api, drawer, soap, caplog):
    with caplog.at_level(logging.INFO, logger="billing.purchases"):
        ring_up(admin_api, soap, 1)
        ring_up(admin_api, soap, 11)

    bill_line = next(r for r in caplog.records if "rung up" in r.getMessage())
    refusal = next(r for r in caplog.records if "refused" in r.getMessage())
    bill = Purchase.objects.get()
    assert (bill_line.till, bill_line.session, bill_line.bill) == ("MAIN", bill.session_id, bill.pk)
    assert (refusal.till, refusal.bill, refusal.code) == ("MAIN", None, "insufficient_stock")


PRODUCTION_LOG_SCRIPT = """
import django, logging
django.setup()
from django.test import Client
Client().get("/no-such-page", HTTP_X_REQUEST_ID="probe-req-0001")
logging.getLogger("billing.purchases").warning("bill refused", extra={"till": "T3", "session": 7, "bill": None})
"""


def test_production_logs_are_one_json_object_per_line_with_the_request_id(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "billing_project.settings.production",
        "SECRET_KEY": "x" * 50,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "EMAIL_URL": "smtp://127.0.0.1:25",
        "DEFAULT_FROM_EMAIL": "shop@example.com",
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "False",
        "LOG_LEVEL": "INFO",
        "STATIC_ROOT": str(tmp_path),
        "PYTHONWARNINGS": "ignore",
    }
    proc = subprocess.run(  # noqa: S603 (this interpreter, a fixed script)
        [sys.executable, "-c", PRODUCTION_LOG_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stderr.splitlines() if line.strip()]
    not_found = next(line for line in lines if line["logger"] == "django.request")
    assert not_found["request_id"] == "probe-req-0001"
    assert not_found["level"] == "WARNING"
    assert {"time", "message"} <= set(not_found)
    refusal = next(line for line in lines if line["logger"] == "billing.purchases")
    assert (refusal["till"], refusal["session"], refusal["bill"], refusal["request_id"]) == ("T3", 7, None, "-")


def test_bills_are_counted_by_their_till_and_a_close_records_its_variance(
    client, admin_api, superuser, metrics_token, soap, django_capture_on_commit_callbacks
):
    from cashdrawer.services import denomination_create, session_close, session_open, till_create

    till = till_create(code="T9")
    denomination_create(value=Decimal("100"), count=5, till=till)
    session = session_open(till_id=till.pk, counted=[{"value": Decimal("100"), "count": 5}])
    before = scrape(client)

    with django_capture_on_commit_callbacks(execute=True):
        body = {
            "customer_email": "ann@example.com",
            "items": [{"product_id": soap.pk, "quantity": 1}],
            "paid_amount": "41",  # cash taken without its notes
            "till": till.pk,
        }
        assert admin_api.post(BILLS, body, format="json").status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        # 5 notes and 41.00 of uncounted cash are expected; 4 notes are counted: 141.00 short.
        session_close(session_id=session.pk, counted=[{"value": Decimal("100"), "count": 4}], user=superuser)

    after = scrape(client)
    assert value(after, "billing_bills_total", till="T9") - value(before, "billing_bills_total", till="T9") == 1
    assert value(after, "billing_cash_variance", till="T9") == -141
    assert (
        value(after, "billing_sessions_closed_total", till="T9")
        - value(before, "billing_sessions_closed_total", till="T9")
        == 1
    )
