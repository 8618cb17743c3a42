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
# prepare_threshold), and PostgreSQL plans a prepared statement afresh five times before it keeps a
# generic plan.
BILLS = 12


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
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")


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


def prepared_bill_statements() -> dict[str, tuple[int, int]]:
    """``{the statement's first words: (generic plans, custom plans)}`` of this connection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
        return {" ".join(text.split())[:40]: (generic, custom) for text, generic, custom in cursor.fetchall()}


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


def test_a_bills_statements_are_prepared_once_and_planned_no_more(drawer, prepared):
    products = [ProductFactory(price=D("19.99"), tax_percent=D("12")) for _ in range(3)]

    for _ in range(BILLS):
        ring_up(products)

    statements = prepared_bill_statements()
    # The six statements of docs/architecture.md's plan, each prepared once on this connection.
    assert sorted(statements) == sorted(
        [
            'SELECT "cashdrawer_denomination"."id", "',
            'SELECT "cashdrawer_till"."id", "cashdraw',
            "WITH bill_timeouts AS MATERIALIZED (SELE",
            'WITH counter AS (INSERT INTO "purchases_',
            'WITH locked AS (SELECT s.id FROM "catalo',
            'WITH parent_writer AS (UPDATE "purchases',
        ]
    )
    for text, (generic, custom) in statements.items():
        # Sent BILLS times, prepared at the sixth: custom plans for its first five executions as
        # prepared, then the generic plan, not planned again.
        assert (generic, custom) == (BILLS - 5 - 5, 5), text


def test_without_the_setting_nothing_is_prepared(drawer, unprepared):
    products = [ProductFactory(price=D("19.99"), tax_percent=D("12")) for _ in range(3)]
    connection.connection.prepare_threshold = 5
    try:
        for _ in range(BILLS):
            ring_up(products)
    finally:
        connection.connection.prepare_threshold = None

    assert prepared_bill_statements() == {}


def test_a_prepared_bill_is_the_bill_an_unprepared_one_is(drawer, settings):
    products = [ProductFactory(price=D("19.99"), tax_percent=D("12")) for _ in range(3)]
    settings.DB_PREPARED_STATEMENTS = False
    plain = bill_figures(ring_up(products))

    settings.DB_PREPARED_STATEMENTS = True
    connection.connection.prepare_threshold = 1  # prepared from the first bill on
    try:
        bills = [ring_up(products) for _ in range(7)]
    finally:
        connection.connection.prepare_threshold = None

    assert prepared_bill_statements()  # it did go through prepared statements
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
