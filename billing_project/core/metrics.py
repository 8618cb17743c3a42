"""Every Prometheus metric the app exposes, in one place, and the small functions domain code calls.

Domain code never touches ``prometheus_client`` itself: it calls ``observe_bill``, ``count_refusal``
and the rest below, so a metric's name, labels and buckets are decided here once.

Under gunicorn the metrics are kept per worker in ``PROMETHEUS_MULTIPROC_DIR`` (set up, and cleaned
when a worker exits, by the top-level ``gunicorn.conf.py``) and summed at scrape time; without that
variable (``runserver``, the tests, the task worker) they live in this process's default registry.

Read at scrape time, not kept: the invoice queue's depth and its oldest due job's age (one query on
the task table), and the database pool's use (each worker publishes its own pool's figures at most
once a second from the request middleware; gauges are summed over live workers).

``METRICS_ENABLED=False`` turns every function here into a no-op (the benchmark's baseline).
"""

from __future__ import annotations

import os
import time
from decimal import Decimal

from django.conf import settings
from django.db import DatabaseError, connections
from django.utils import timezone
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

# Latency buckets in seconds: a bill takes milliseconds; a till stuck behind a lock waits up to
# BILL_LOCK_TIMEOUT_MS (3 s) before it gives up.
_BILL_BUCKETS = (0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_CHANGE_BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1)
_REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# --- Business metrics -------------------------------------------------------------------------
BILLS = Counter("billing_bills", "Bills rung up (committed), by till.", ["till"])
BILL_SECONDS = Histogram(
    "billing_bill_seconds",
    "Time to ring up a bill, from the service call to its commit (committed bills only).",
    buckets=_BILL_BUCKETS,
)
REFUSALS = Counter("billing_refusals", "Bills refused, by error code (nothing was written).", ["code"])
CHANGE_MAKING_SECONDS = Histogram(
    "billing_change_making_seconds", "Time to plan a bill's change from the drawer.", buckets=_CHANGE_BUCKETS
)
REFUNDS = Counter("billing_refunds", "Refunds, by till.", ["till"])
CASH_VARIANCE = Gauge(
    "billing_cash_variance",
    "Counted minus expected cash at the last session close, by till (currency units).",
    ["till"],
    multiprocess_mode="mostrecent",
)
CASH_VARIANCE_ABS = Counter(
    "billing_cash_variance_abs", "Sum of the absolute cash variance over session closes, by till.", ["till"]
)
SESSIONS_CLOSED = Counter("billing_sessions_closed", "Till sessions closed, by till.", ["till"])
INVOICE_EMAILS = Counter(
    "billing_invoice_emails",
    "Invoice email attempts, by outcome: sent, retry (will be retried), failed (gave up).",
    ["outcome"],
)

# --- Requests (the equivalent of django-prometheus's middleware, without its per-query wrapper) ---
REQUESTS = Counter("billing_http_requests", "HTTP requests, by method, route and status.", ["method", "view", "status"])
REQUEST_SECONDS = Histogram(
    "billing_http_request_seconds", "HTTP request latency, by method and route.", ["method", "view"],
    buckets=_REQUEST_BUCKETS,
)  # fmt: skip

# --- The database pool (each worker publishes its own; summed over live workers) ---------------
DB_POOL = Gauge(
    "billing_db_pool_connections",
    "Django's psycopg pool: connections open (size), idle (available), in use, waiting requests, max.",
    ["state"],
    multiprocess_mode="livesum",
)

POOL_PUBLISH_INTERVAL = 1.0  # seconds
_pool_published_at = 0.0


def enabled() -> bool:
    return getattr(settings, "METRICS_ENABLED", True)


def observe_bill(till: str, seconds: float) -> None:
    if enabled():
        BILLS.labels(till).inc()
        BILL_SECONDS.observe(seconds)


def observe_bill_since(till: str, started: float) -> None:
    """``observe_bill`` for a bill whose service call began at ``perf_counter()`` = ``started``;
    registered with ``transaction.on_commit``, so only committed bills count."""
    observe_bill(till, time.perf_counter() - started)


def count_refusal(code: str) -> None:
    if enabled():
        REFUSALS.labels(str(code)).inc()


def observe_change_making(seconds: float) -> None:
    if enabled():
        CHANGE_MAKING_SECONDS.observe(seconds)


def count_refund(till: str) -> None:
    if enabled():
        REFUNDS.labels(till).inc()


def observe_variance(till: str, amount: Decimal) -> None:
    """A till session closed with ``amount`` = counted - expected (negative: cash missing)."""
    if enabled():
        CASH_VARIANCE.labels(till).set(float(amount))
        CASH_VARIANCE_ABS.labels(till).inc(float(abs(amount)))
        SESSIONS_CLOSED.labels(till).inc()


def count_invoice_email(outcome: str) -> None:
    if enabled():
        INVOICE_EMAILS.labels(outcome).inc()


def observe_request(method: str, view: str, status: int, seconds: float) -> None:
    if enabled():
        REQUESTS.labels(method, view, str(status)).inc()
        REQUEST_SECONDS.labels(method, view).observe(seconds)
        publish_pool_stats()


def publish_pool_stats(force: bool = False) -> None:
    """Copy this process's pool figures into the gauges, at most once per interval."""
    global _pool_published_at
    now = time.monotonic()
    if not force and now - _pool_published_at < POOL_PUBLISH_INTERVAL:
        return
    _pool_published_at = now
    stats = _pool_stats()
    if stats is None:
        return
    size, available = stats.get("pool_size", 0), stats.get("pool_available", 0)
    DB_POOL.labels("size").set(size)
    DB_POOL.labels("available").set(available)
    DB_POOL.labels("in_use").set(max(size - available, 0))
    DB_POOL.labels("waiting").set(stats.get("requests_waiting", 0))
    DB_POOL.labels("max").set(stats.get("pool_max", 0))


def _pool_stats() -> dict | None:
    connection = connections["default"]
    if connection.vendor != "postgresql" or not connection.settings_dict.get("OPTIONS", {}).get("pool"):
        return None
    try:
        return connection.pool.get_stats()  # type: ignore[attr-defined]  # the PostgreSQL backend's pool
    except Exception:  # a pool that cannot be built is reported by /healthz, not here
        return None


class InvoiceQueueCollector:
    """The task queue, read at scrape time: due jobs waiting, the oldest one's age, running jobs."""

    def collect(self):
        from django.db.models import Count, Min, Q
        from django_tasks_db.models import DBTaskResult, get_date_max

        depth = GaugeMetricFamily(
            "billing_invoice_queue_depth",
            "Jobs waiting in the task queue, due now or scheduled later.",
            labels=["state"],
        )
        oldest = GaugeMetricFamily(
            "billing_invoice_queue_oldest_age_seconds", "Seconds since the oldest due job became due (0: none)."
        )
        now = timezone.now()
        never = get_date_max()
        ready = DBTaskResult.objects.filter(status="READY")
        try:
            row = ready.aggregate(
                due=Count("pk", filter=Q(run_after=never) | Q(run_after__lte=now)),
                scheduled=Count("pk", filter=Q(run_after__gt=now) & ~Q(run_after=never)),
                oldest_enqueued=Min("enqueued_at", filter=Q(run_after=never)),
                oldest_run_after=Min("run_after", filter=Q(run_after__lte=now)),
            )
            running = DBTaskResult.objects.filter(status="RUNNING").count()
        except DatabaseError:
            return  # the scrape still answers; the database's own health is /healthz
        depth.add_metric(["due"], row["due"])
        depth.add_metric(["scheduled"], row["scheduled"])
        depth.add_metric(["running"], running)
        due_since = [t for t in (row["oldest_enqueued"], row["oldest_run_after"]) if t is not None]
        oldest.add_metric([], max((now - min(due_since)).total_seconds(), 0.0) if due_since else 0.0)
        yield depth
        yield oldest


def render() -> bytes:
    """The exposition text: every worker's metrics (or this process's), then the scrape-time ones."""
    publish_pool_stats(force=True)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        base = generate_latest(registry)
    else:
        from prometheus_client import REGISTRY

        base = generate_latest(REGISTRY)
    scrape = CollectorRegistry()
    scrape.register(InvoiceQueueCollector())
    return base + generate_latest(scrape)
