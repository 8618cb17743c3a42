"""The bill's statements prepared once per connection (``DB_PREPARED_STATEMENTS``, PostgreSQL): the
same bill, the same refusals, and PostgreSQL planning each statement once instead of every time."""

from decimal import Decimal

import pytest
from django.db import connection

from catalog.models import StoreStock
from catalog.tests.factories import ProductFactory
from purchases.errors import InsufficientStock
from purchases.models import Purchase
from purchases.services import purchase_create

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"),
]

D = Decimal
# psycopg prepares a statement once a connection has sent it five times (the settings'
# prepare_threshold); PostgreSQL then plans it afresh five times before it may keep a generic plan.
BILLS = 12
BILL_STATEMENTS = {
    'SELECT "cashdrawer_denomination"."id", "',
    'SELECT "cashdrawer_till"."id", "cashdraw',
    "WITH bill_timeouts AS MATERIALIZED (SELE",
    'WITH counter AS (INSERT INTO "purchases_',
    'WITH locked AS (SELECT s.id FROM "catalo',
    'WITH parent_writer AS (UPDATE "purchases',
}


@pytest.fixture
def drawer_counts():
    return {"2000": 10, "500": 1000, "100": 1000, "50": 1000, "10": 1000, "5": 1000, "1": 1000}


@pytest.fixture
def prepared(settings):
    """Prepared statements on, on this test's connection (the setting is read as each bill's cursor is
    made; the threshold is the connection's, set at connect from the settings' OPTIONS)."""
    settings.DB_PREPARED_STATEMENTS = True
    connection.ensure_connection()
    raw = connection.connection
    before = raw.prepare_threshold
    raw.prepare_threshold = 5
    yield raw
    raw.prepare_threshold = before


@pytest.fixture
def unprepared(settings):
    settings.DB_PREPARED_STATEMENTS = False


def ring_up(products, customer="ann@example.com"):
    return purchase_create(
        customer_email=customer,
        items=[{"product_id": p.pk, "quantity": 2} for p in products],
        paid_amount=D("4000"),
        tendered=[{"value": D("2000"), "count": 2}],
    )


def prepared_bill_statements() -> dict[str, int]:
    """``{a statement's first words: how often it ran as a prepared statement}`` on this connection
    (an earlier test's bills may have left some prepared: compare before and after)."""
    runs: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        for text, count in cursor.fetchall():
            # Summed by their first words: a statement's other shapes (a customer by phone…) add nothing here.
            start = " ".join(text.split())[:40]
            runs[start] = runs.get(start, 0) + count
    return runs


def bill_figures(bill: Purchase) -> tuple:
    return (
        bill.subtotal,
        bill.tax_total,
        bill.total,
        bill.payable,
        bill.paid_amount,
        bill.change_due,
        bill.till_id,
        bill.session_id,
        sorted((line.product_id, line.quantity, line.unit_price, line.tax_percent) for line in bill.items.all()),
        sorted((p.method.code, p.amount) for p in bill.payments.all()),
        list(bill.stock_movements.order_by("product_id").values_list("product_id", "quantity", "balance_after")),
    )


def test_a_bills_statements_are_prepared_once_and_run_as_such(drawer, prepared):
    products = [ProductFactory(price=D("19.99"), tax_percent=D("12")) for _ in range(3)]
    before = prepared_bill_statements()

    for _ in range(BILLS):
        ring_up(products)

    after = prepared_bill_statements()
    # The six statements of docs/architecture.md's plan, each prepared once on this connection.
    assert set(after) >= BILL_STATEMENTS
    for text in BILL_STATEMENTS:
        # Prepared by the sixth bill at the latest (earlier when an earlier test's bills left it
        # prepared), then run as the prepared statement by every bill.
        assert BILLS - 5 <= after[text] - before.get(text, 0) <= BILLS, text


def test_without_the_setting_nothing_is_prepared(drawer, unprepared):
    products = [ProductFactory(price=D("19.99"), tax_percent=D("12")) for _ in range(3)]
    connection.ensure_connection()
    threshold, connection.connection.prepare_threshold = connection.connection.prepare_threshold, 5
    before = prepared_bill_statements()
    try:
        for _ in range(BILLS):
            ring_up(products)
    finally:
        connection.connection.prepare_threshold = threshold

    assert prepared_bill_statements() == before


def test_a_prepared_bill_is_the_bill_an_unprepared_one_is(drawer, settings):
    products = [ProductFactory(price=D("19.99"), tax_percent=D("12")) for _ in range(3)]
    settings.DB_PREPARED_STATEMENTS = False
    plain = bill_figures(ring_up(products))

    settings.DB_PREPARED_STATEMENTS = True
    threshold, connection.connection.prepare_threshold = connection.connection.prepare_threshold, 1
    try:
        bills = [ring_up(products) for _ in range(7)]
    finally:
        connection.connection.prepare_threshold = threshold

    assert set(prepared_bill_statements()) >= BILL_STATEMENTS  # they did run prepared
    for i, bill in enumerate(bills, start=1):
        # The same bill; its stock ledger's balances 2 units of each product lower per bill since.
        expected = [(product, quantity, balance - 2 * i) for product, quantity, balance in plain[-1]]
        assert bill_figures(bill) == (*plain[:-1], expected)


def test_a_prepared_bill_is_refused_as_before_and_writes_nothing(drawer, prepared):
    products = [ProductFactory(price=D("19.99"), tax_percent=D("12")) for _ in range(3)]
    for _ in range(6):
        ring_up(products)
    short = products[2]
    StoreStock.objects.filter(product=short).update(stock=1)
    bills = Purchase.objects.count()

    with pytest.raises(InsufficientStock):
        ring_up(products)

    assert Purchase.objects.count() == bills
    assert StoreStock.objects.get(product=short).stock == 1
    ring_up(products[:2])  # the connection goes on with its prepared statements
    assert Purchase.objects.count() == bills + 1
