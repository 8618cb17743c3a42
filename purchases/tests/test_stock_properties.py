"""The stock ledger's property (hypothesis, against the database): whatever sequence of bills,
refunds (restocked or written off), goods received, adjustments and stock counts (opened, counted
while trading, posted), every product's stock is what a plain model of the shop says, and
``stock_audit`` passes: the stock is the sum of its movements and their balances chain.

Everything goes through the services. Each example runs in a transaction that is rolled back. Runs
on SQLite and on PostgreSQL.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_project.core.errors import DomainError
from billing_project.core.testing.properties import examples
from catalog.models import Product, StockMovement
from catalog.stock import (
    adjustment_create,
    receipt_create,
    stock_audit,
    stock_count_open,
    stock_count_post,
    stock_count_record,
    supplier_save,
)
from catalog.tests.factories import ProductFactory
from purchases.models import PurchaseItem
from purchases.services import refund_create
from purchases.tests.factories import purchase_for

pytestmark = [pytest.mark.django_db, pytest.mark.property]

D = Decimal
PRODUCTS = 3

which = st.integers(0, PRODUCTS - 1)
operation = st.one_of(
    st.tuples(st.just("bill"), which, st.integers(1, 6)),
    st.tuples(st.just("refund"), st.integers(0, 20), st.booleans()),
    st.tuples(st.just("receipt"), which, st.integers(1, 9), st.sampled_from([D("7.00"), D("9.99"), D("12.35")])),
    st.tuples(st.just("adjust"), which, st.sampled_from([-5, -2, -1, 1, 3])),
    st.tuples(st.just("open"), st.none()),
    st.tuples(st.just("count"), which, st.integers(0, 15)),
    st.tuples(st.just("post"), st.none()),
)


@pytest.fixture
def drawer_counts():
    return {"100": 200, "10": 500, "1": 500}


class Shop:
    """What the stock should be, worked out without the database."""

    def __init__(self, products):
        self.products = products
        self.stock = {p.pk: D(p.stock) for p in products}
        self.bills: list[tuple[int, int, int]] = []  # (bill id, product id, units not yet refunded)
        self.count: int | None = None
        self.differences: dict[int, Decimal] = {}

    def product(self, index: int) -> Product:
        return Product.objects.get(pk=self.products[index].pk)


def _run(shop: Shop, supplier, step) -> None:
    kind = step[0]
    if kind == "bill":
        _, index, quantity = step
        pk = shop.products[index].pk
        try:
            bill = purchase_for(shop.product(index), quantity=quantity, email=None)
        except DomainError as exc:
            assert exc.code == "insufficient_stock" and shop.stock[pk] < quantity
            return
        shop.stock[pk] -= quantity
        shop.bills.append((bill.pk, pk, quantity))
    elif kind == "refund":
        _, index, restock = step
        open_bills = [b for b in shop.bills if b[2] > 0]
        if not open_bills:
            return
        bill_id, pk, left = open_bills[index % len(open_bills)]
        refund_create(purchase_id=bill_id, items=[{"product_id": pk, "quantity": 1}], reason="back", restock=restock)
        shop.bills[shop.bills.index((bill_id, pk, left))] = (bill_id, pk, left - 1)
        if restock:
            shop.stock[pk] += 1
    elif kind == "receipt":
        _, index, quantity, cost = step
        pk = shop.products[index].pk
        receipt_create(
            supplier=supplier.pk,
            supplier_invoice="INV",
            invoice_date=date(2026, 1, 1),
            lines=[{"product_id": pk, "quantity": quantity, "unit_cost": cost, "tax_percent": "5"}],
            user=None,
        )
        shop.stock[pk] += quantity
    elif kind == "adjust":
        _, index, quantity = step
        pk = shop.products[index].pk
        try:
            adjustment_create(lines=[{"product_id": pk, "quantity": quantity}], reason="found", user=None)
        except DomainError as exc:
            assert exc.code == "insufficient_stock" and shop.stock[pk] + quantity < 0
            return
        shop.stock[pk] += quantity
    elif kind == "open" and shop.count is None:
        shop.count, shop.differences = stock_count_open(user=None).pk, {}
    elif kind == "count" and shop.count is not None:
        _, index, counted = step
        pk = shop.products[index].pk
        line = stock_count_record(count_id=shop.count, product_id=pk, counted=counted, user=None)
        assert line.expected == shop.stock[pk]  # the stock at the moment the line was recorded
        shop.differences[pk] = counted - shop.stock[pk]
    elif kind == "post" and shop.count is not None:
        stock_count_post(count_id=shop.count, user=None)
        for pk, difference in shop.differences.items():
            shop.stock[pk] = max(D(0), shop.stock[pk] + difference)
        shop.count = None


@settings(
    max_examples=examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    stocks=st.lists(st.integers(0, 12), min_size=PRODUCTS, max_size=PRODUCTS), steps=st.lists(operation, max_size=25)
)
def test_the_ledger_and_the_stock_agree_whatever_happens(drawer, stocks, steps):
    with transaction.atomic():
        products = [ProductFactory(price=D("10.00"), tax_percent=D("0"), stock=s) for s in stocks]
        shop, supplier = Shop(products), supplier_save(name="Wholesaler")
        for step in steps:
            _run(shop, supplier, step)
            for pk, expected in shop.stock.items():
                assert Product.objects.values_list("stock", flat=True).get(pk=pk) == expected
        audit = stock_audit()
        assert audit.problems == []
        # Each bill line's sale movement took exactly the line's quantity, at the line's cost snapshot.
        for item in PurchaseItem.objects.filter(product__in=products):
            sale = StockMovement.objects.get(purchase_id=item.purchase_id, product_id=item.product_id)
            assert (sale.quantity, sale.unit_cost) == (-item.quantity, item.cost_price)
        transaction.set_rollback(True)
