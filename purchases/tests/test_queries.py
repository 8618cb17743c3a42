"""Query budgets: an N+1 anywhere in ringing up or listing bills fails here."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing_project.core.types import PaymentInput
from catalog.tests.factories import ProductFactory
from purchases.services import purchase_create

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def drawer_counts():
    return {"2000": 10, "500": 1000, "100": 1000, "50": 1000, "10": 1000, "5": 1000, "1": 1000}


def _ring_up(products, customer="a@example.com"):
    return purchase_create(
        customer_email=customer,
        items=[{"product_id": p.pk, "quantity": 2} for p in products],
        paid_amount=D("4000"),
        tendered=[{"value": D("2000"), "count": 2}],
    )


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_a_bill_costs_the_same_queries_for_1_or_50_lines(drawer):
    products = [ProductFactory(price=D("19.99"), tax_percent=D("12")) for _ in range(50)]
    _ring_up(products[:1], customer="warm@example.com")  # the customer exists for both runs below

    one_line = _queries(lambda: _ring_up(products[:1], customer="warm@example.com"))
    fifty_lines = _queries(lambda: _ring_up(products, customer="warm@example.com"))

    assert one_line == fifty_lines
    assert fifty_lines == bill_queries()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the client-side parsing cache is psycopg's")
def test_a_bills_statements_are_parsed_once(drawer, monkeypatch):
    """psycopg splits a statement's text at its placeholders and caches that only for short
    statements; the bill's last one is long (orm_internals.cache_long_statements). Once a bill of a
    shape has been rung up, the next one like it parses no statement text again."""
    from psycopg import _queries

    products = [ProductFactory(price=D("19.99"), tax_percent=D("12")) for _ in range(3)]
    _ring_up(products, customer="warm@example.com")
    parsed = []
    uncached = _queries._query2pg_client_nocache

    def parse(query, *args):
        parsed.append(query)
        return uncached(query, *args)

    monkeypatch.setattr(_queries, "_query2pg_client_nocache", parse)

    _ring_up(products, customer="warm@example.com")

    assert [text[:60] for text in parsed] == []


def bill_queries() -> int:
    """The statements of one bill, as captured inside the test's transaction: on PostgreSQL the six
    of ``purchases/services/bill_statements.py`` (docs/architecture.md has the plan) and the
    savepoint and its release (``purchase_create``'s transaction inside the test's; in production,
    BEGIN and COMMIT). Elsewhere (SQLite) 18: no timeouts; the customer's lookup and insert are their
    own statements, the till's store (``begin_bill``), the store's stock rows' lock, the products (with their store
    prices) and the stock's UPDATE four, the number, then the bill, its lines, its payments and its
    stock ledger rows four INSERTs, the drawer's UPDATE and INSERT two, and the job its own INSERT."""
    return 8 if connection.vendor == "postgresql" else 18


def test_a_new_customers_bill_costs_no_more_on_postgresql(drawer):
    products = [ProductFactory(price=D("19.99"), tax_percent=D("12")) for _ in range(3)]
    _ring_up(products[:1], customer="warm@example.com")

    new = _queries(lambda: _ring_up(products, customer="new@example.com"))

    # SQLite's get_or_create adds a savepoint around the insert, and the insert: 3 more.
    assert new == (bill_queries() if connection.vendor == "postgresql" else bill_queries() + 3)


def _split(products, payments: int, customer="warm@example.com"):
    """A bill with discounts on every line, paid by card and UPI in ``payments`` parts and the rest in
    notes."""
    parts: list[PaymentInput] = [
        {
            "method": "card" if i % 2 else "upi",
            "amount": D("0.01"),
            "reference": f"R{i}" if i % 2 else f"4123456700{i:02d}",
        }
        for i in range(payments)
    ]
    parts.append({"method": "cash", "amount": D("4000"), "tendered": [{"value": D("2000"), "count": 2}]})
    return purchase_create(
        customer_email=customer,
        items=[{"product_id": p.pk, "quantity": 2, "discount_percent": D("5")} for p in products],
        discount_percent=D("2.5"),
        discount_reason="promotion",
        user=None,
        payments=parts,
    )


def test_a_split_bill_with_discounts_costs_the_same_for_1_or_50_lines_and_1_or_9_payments(drawer):
    products = [ProductFactory(price=D("19.99"), tax_percent=D("12")) for _ in range(50)]
    _split(products[:1], 1)

    small = _queries(lambda: _split(products[:1], 1))
    large = _queries(lambda: _split(products, 9))
    cash_only = _queries(lambda: _ring_up(products[:1], customer="warm@example.com"))

    assert small == large == cash_only == bill_queries()


def test_listing_100_bills_with_lines_is_a_constant_number_of_queries(drawer, admin_api):
    products = [ProductFactory(price=D("10"), tax_percent=D("0"), stock=10_000) for _ in range(5)]
    _ring_up(products[:2])
    few = _queries(lambda: admin_api.get("/api/v1/purchases?page_size=100"))
    for i in range(99):
        _ring_up(products[: 1 + i % 5], customer=f"c{i % 7}@example.com")

    response = None

    def fetch():
        nonlocal response
        response = admin_api.get("/api/v1/purchases?page_size=100")

    many = _queries(fetch)
    assert response is not None
    assert response.status_code == 200
    assert len(response.json()["results"]) == 100
    assert many == few
    # count, ids, bills, lines, movements, payments, refunds: constant however many bills and lines.
    assert many <= 7


def test_customer_list_and_detail_are_constant(drawer, admin_api):
    product = ProductFactory(price=D("10"), tax_percent=D("0"), stock=10_000)
    _ring_up([product], customer="first@example.com")
    few = _queries(lambda: admin_api.get("/api/v1/customers"))
    for i in range(30):
        _ring_up([product], customer=f"c{i}@example.com")

    assert _queries(lambda: admin_api.get("/api/v1/customers")) == few


def test_product_list_is_constant(admin_api):
    ProductFactory()
    few = _queries(lambda: admin_api.get("/api/v1/products"))
    ProductFactory.create_batch(40)

    assert _queries(lambda: admin_api.get("/api/v1/products")) == few


def _ring_up_as(products, **customer):
    return purchase_create(
        items=[{"product_id": p.pk, "quantity": 2} for p in products],
        paid_amount=D("4000"),
        tendered=[{"value": D("2000"), "count": 2}],
        **customer,
    )


def test_a_known_customer_by_phone_or_by_both_costs_the_same_as_by_email(drawer):
    products = [ProductFactory(price=D("19.99"), tax_percent=D("12")) for _ in range(3)]
    _ring_up_as(products[:1], customer_email="warm@example.com", customer_phone="9876543210")

    by_phone = _queries(lambda: _ring_up_as(products, customer_phone="98765 43210"))
    by_both = _queries(lambda: _ring_up_as(products, customer_email="warm@example.com", customer_phone="9876543210"))

    assert by_phone == by_both == bill_queries()


def test_a_new_phone_or_a_new_pair_costs_no_more_on_postgresql(drawer):
    products = [ProductFactory(price=D("19.99"), tax_percent=D("12")) for _ in range(3)]
    _ring_up_as(products[:1], customer_email="warm@example.com")

    new_phone = _queries(lambda: _ring_up_as(products, customer_phone="9876543210"))
    new_pair = _queries(lambda: _ring_up_as(products, customer_email="new@example.com", customer_phone="9123456789"))
    # A known email given a new phone: the UPDATE is a CTE of the same first statement on PostgreSQL.
    added = _queries(lambda: _ring_up_as(products, customer_email="warm@example.com", customer_phone="9000000001"))

    if connection.vendor == "postgresql":
        assert new_phone == new_pair == added == bill_queries()
    else:
        # SQLite: the lookup, then a savepoint around the INSERT (or the UPDATE), as get_or_create has.
        # A phone-only customer gets no invoice email: one INSERT (the job) fewer.
        assert new_phone == bill_queries() + 3 - 1
        assert new_pair == added == bill_queries() + 3


def test_a_walk_in_sale_costs_no_more_than_a_bill_with_a_customer(drawer):
    products = [ProductFactory(price=D("19.99"), tax_percent=D("12")) for _ in range(3)]
    _ring_up_as(products[:1])

    walk_in = _queries(lambda: _ring_up_as(products))

    # PostgreSQL: the same eight (the customer's CTEs and the job's INSERT are simply left out of
    # statements 1 and 6). SQLite: no customer lookup and no job INSERT.
    assert walk_in == (bill_queries() if connection.vendor == "postgresql" else bill_queries() - 2)
