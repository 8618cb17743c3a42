"""Every write transaction is bounded on PostgreSQL: no write waits for ever behind a stuck lock.

The incident: a bill held every drawer row for minutes, and each PUT /denominations/{value}
queued behind it for 7-8 minutes, as only bills had a lock_timeout.
"""

import threading
import time
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection, transaction

from billing_project.core.db import atomic_write
from billing_project.core.errors import Busy, DomainError
from cashdrawer.models import Denomination, DrawerMovement
from cashdrawer.services import denomination_create, drawer_set_count
from catalog.models import Product
from catalog.services import product_update
from catalog.tests.factories import ProductFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

D = Decimal


def show(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {name}")
        return cursor.fetchone()[0]


@contextmanager
def held_by_another_connection(hold):
    """Another connection runs ``hold()`` in a transaction and sits on what it locked, as a stuck
    bill would, until the block ends; then its transaction rolls back."""
    holding, release = threading.Event(), threading.Event()

    def run():
        try:
            with transaction.atomic():
                hold()
                holding.set()
                release.wait(timeout=30)
                transaction.set_rollback(True)
        finally:
            close_old_connections()
            connection.close()

    holder = threading.Thread(target=run)
    holder.start()
    try:
        assert holding.wait(timeout=10)
        yield
    finally:
        release.set()
        holder.join(timeout=30)
    assert not holder.is_alive()


def row_held(queryset):
    """Another connection locks the queryset's rows FOR UPDATE and sits on them, as a stuck bill did."""
    return held_by_another_connection(lambda: list(queryset.select_for_update()))


@pytest.fixture
def short_timeouts(settings):
    settings.DB_LOCK_TIMEOUT_MS = 300
    settings.DB_STATEMENT_TIMEOUT_MS = 1500
    settings.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS = 4000


def test_a_write_transaction_sets_its_timeouts_locally(postgres_only, short_timeouts):
    outside = (show("lock_timeout"), show("statement_timeout"))
    with atomic_write():
        assert show("lock_timeout") == "300ms"
        assert show("statement_timeout") == "1500ms"
        assert show("idle_in_transaction_session_timeout") == "4s"
    # SET LOCAL: nothing stays on the (pooled) connection
    assert (show("lock_timeout"), show("statement_timeout")) == outside


def test_every_connection_has_an_idle_in_transaction_timeout(postgres_only, settings):
    assert show("idle_in_transaction_session_timeout") != "0"
    expected = settings.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS
    assert show("idle_in_transaction_session_timeout") in (f"{expected}ms", f"{expected // 1000}s")


def test_a_runaway_statement_is_cut_off_and_answers_busy(postgres_only, short_timeouts):
    started = time.monotonic()
    with pytest.raises(Busy), atomic_write(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(30)")
    assert time.monotonic() - started < 5


def test_setting_a_count_behind_a_stuck_drawer_lock_gives_503_busy(postgres_only, short_timeouts, manager_api):
    denomination_create(value=D("85"), count=3)
    movements = DrawerMovement.objects.count()

    with row_held(Denomination.objects.all()):
        started = time.monotonic()
        response = manager_api.put("/api/v1/denominations/85", {"available_count": 7}, format="json")
        elapsed = time.monotonic() - started

    assert response.status_code == 503, response.json()
    assert response.json()["code"] == "busy"
    assert response.headers["Retry-After"] == "1"
    assert elapsed < 5
    assert Denomination.objects.get().count == 3
    assert DrawerMovement.objects.count() == movements


def test_adding_a_denomination_behind_a_stuck_drawer_lock_gives_503_busy(postgres_only, short_timeouts, manager_api):
    denomination_create(value=D("85"), count=3)

    with row_held(Denomination.objects.all()):
        response = manager_api.post("/api/v1/denominations", {"value": "20", "available_count": 4}, format="json")

    assert (response.status_code, response.json()["code"]) == (503, "busy")
    assert list(Denomination.objects.values_list("value", flat=True)) == [D("85")]


@pytest.mark.parametrize(
    "write",
    [
        lambda product: product_update(product=product, price=D("9.00")),
        lambda product: drawer_set_count(value=D("85"), count=1),
    ],
    ids=["product_update", "drawer_set_count"],
)
def test_service_writes_give_up_with_busy(postgres_only, short_timeouts, write):
    product = ProductFactory(stock=5)
    denomination_create(value=D("85"), count=3)

    with row_held(Product.objects.all()), row_held(Denomination.objects.all()):
        started = time.monotonic()
        with pytest.raises(Busy):
            write(product)
        assert time.monotonic() - started < 5

    assert Product.objects.get().stock == 5
    assert Denomination.objects.get().count == 3


def test_product_delete_behind_a_stuck_lock_gives_503_busy(postgres_only, short_timeouts, manager_api):
    product = ProductFactory(stock=5)

    with row_held(Product.objects.filter(pk=product.pk)):
        response = manager_api.delete(f"/api/v1/products/{product.pk}")

    assert (response.status_code, response.json()["code"]) == (503, "busy")
    assert Product.objects.filter(pk=product.pk, is_active=True).exists()


PAID_IN_CASH = {"paid_amount": D("10")}
PAID_BY_CARD = {"payments": [{"method": "card", "amount": D("10"), "reference": "R1"}]}
NOTHING_PAID = {"paid_amount": D("0")}  # refused (insufficient payment), after the products' locks


@pytest.mark.parametrize("paid", [PAID_IN_CASH, PAID_BY_CARD, NOTHING_PAID], ids=["cash", "card", "nothing"])
def test_bills_keep_their_own_timeouts(postgres_only, settings, short_timeouts, admin_api, paid):
    """Set before the products' locks, whether or not the bill looked up a payment method (the
    lookup carries them when it runs). The customer's insert, which can wait too, is the next test's."""
    settings.BILL_LOCK_TIMEOUT_MS = 250
    settings.BILL_STATEMENT_TIMEOUT_MS = 1200
    product = ProductFactory(price=D("10"), tax_percent=D("0"), stock=5)
    seen = {}
    from purchases.services import bill_statements, purchase_create

    real = bill_statements.take_stock

    def spy(*args, **kwargs):
        seen["lock_timeout"] = show("lock_timeout")
        seen["statement_timeout"] = show("statement_timeout")
        seen["idle"] = show("idle_in_transaction_session_timeout")
        return real(*args, **kwargs)

    bill_statements.take_stock = spy
    try:
        purchase_create(customer_email="a@example.com", items=[{"product_id": product.pk, "quantity": 1}], **paid)
    except DomainError:
        assert paid is NOTHING_PAID
    finally:
        bill_statements.take_stock = real
    assert seen == {"lock_timeout": "250ms", "statement_timeout": "1200ms", "idle": "4s"}


def email_held(email: str):
    """Another connection inserts a customer with ``email`` and sits on it, uncommitted, as a stuck
    first bill for a new customer would: a bill for the same email waits on the unique index."""

    def insert():
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO customers_customer (email, created_at) VALUES (%s, now())", [email])

    return held_by_another_connection(insert)


@pytest.mark.parametrize("paid", [PAID_IN_CASH, PAID_BY_CARD], ids=["cash", "card"])
def test_a_bill_waiting_on_a_new_customers_insert_gives_up_at_its_lock_timeout(
    postgres_only, settings, short_timeouts, drawer, paid
):
    """The customer's insert rides on the bill's first statement with the timeouts: it must wait
    no longer than the bill's lock_timeout (the holder here would keep it waiting for 30 s)."""
    from purchases.models import Purchase
    from purchases.services import purchase_create

    settings.BILL_LOCK_TIMEOUT_MS = 250
    settings.BILL_STATEMENT_TIMEOUT_MS = 20_000
    product = ProductFactory(price=D("10"), tax_percent=D("0"), stock=5)

    with email_held("new.customer@example.com"):
        started = time.monotonic()
        with pytest.raises(Busy):
            purchase_create(
                customer_email="New.Customer@example.com",
                items=[{"product_id": product.pk, "quantity": 1}],
                **paid,
            )
        elapsed = time.monotonic() - started

    assert 0.2 <= elapsed < 3, elapsed
    assert not Purchase.objects.exists()
    assert Product.objects.get(pk=product.pk).stock == 5


def test_the_database_compiles_no_plan_in_any_new_session(postgres_only):
    """Migration core 0003: ``jit = off`` is the database's own default, so every session gets it."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setconfig FROM pg_db_role_setting WHERE setrole = 0"
            " AND setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        (settings,) = cursor.fetchone()

    assert "jit=off" in settings


def test_reads_without_jit_turn_it_off_for_their_transaction_only(postgres_only):
    from billing_project.core.db import reads_without_jit

    before = show("jit")
    with reads_without_jit():
        inside = show("jit")

    assert inside == "off"
    assert show("jit") == before
