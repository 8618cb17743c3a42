"""The stock ledger's property (hypothesis, against the database): whatever sequence of bills,
refunds (restocked or written off), goods received, adjustments and stock counts (opened, counted
while trading, posted) across 3 stores, every product's stock at every store is what a plain model
of the chain says, and ``stock_audit`` passes per store: each store's stock is the sum of its
movements there and their balances chain.

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
from cashdrawer.models import Till
from cashdrawer.services import till_create
from catalog.models import Product, StockMovement, Store
from catalog.stock import (
    adjustment_create,
    receipt_create,
    stock_audit,
    stock_count_open,
    stock_count_post,
    stock_count_record,
    supplier_save,
)
from catalog.stores import default_store_id
from catalog.tests.factories import ProductFactory
from purchases.models import PurchaseItem
from purchases.services import purchase_create, refund_create
from purchases.tests.factories import purchase_for

pytestmark = [pytest.mark.django_db, pytest.mark.property]

D = Decimal
PRODUCTS = 3
STORES = 3

which = st.integers(0, PRODUCTS - 1)
where = st.integers(0, STORES - 1)
operation = st.one_of(
    st.tuples(st.just("bill"), where, which, st.integers(1, 6)),
    st.tuples(st.just("refund"), st.integers(0, 20), st.booleans()),
    st.tuples(st.just("receipt"), where, which, st.integers(1, 9), st.sampled_from([D("7.00"), D("9.99"), D("12.35")])),
    st.tuples(st.just("adjust"), where, which, st.sampled_from([-5, -2, -1, 1, 3])),
    st.tuples(st.just("open"), where),
    st.tuples(st.just("count"), which, st.integers(0, 15)),
    st.tuples(st.just("post"), st.none()),
)


@pytest.fixture
def drawer_counts():
    return {"100": 200, "10": 500, "1": 500}


class Shop:
    """What the stock at each store should be, worked out without the database. Store 0 is the
    default store (its bills at the default till, paid in cash); the others have a till each
    (their bills paid by card)."""

    def __init__(self, products, stores, tills):
        self.products, self.stores, self.tills = products, stores, tills
        self.stock = {(s, p.pk): D(p.stock) if s == stores[0] else D(0) for s in stores for p in products}
        self.bills: list[tuple[int, int, int, int]] = []  # (bill id, store, product id, units not yet refunded)
        self.count: int | None = None
        self.count_store: int = stores[0]
        self.differences: dict[int, Decimal] = {}

    def product(self, index: int) -> Product:
        return Product.objects.get(pk=self.products[index].pk)


def _bill(shop: Shop, store_index: int, product: Product, quantity: int):
    if store_index == 0:
        return purchase_for(product, quantity=quantity, email=None)
    return purchase_create(
        items=[{"product_id": product.pk, "quantity": quantity}],
        payments=[{"method": "card", "amount": product.price * quantity}],
        till=shop.tills[store_index],
    )


def _run(shop: Shop, supplier, step) -> None:
    kind = step[0]
    if kind == "bill":
        _, store_index, index, quantity = step
        pk, store = shop.products[index].pk, shop.stores[store_index]
        try:
            bill = _bill(shop, store_index, shop.product(index), quantity)
        except DomainError as exc:
            assert exc.code == "insufficient_stock" and shop.stock[store, pk] < quantity
            return
        shop.stock[store, pk] -= quantity
        shop.bills.append((bill.pk, store, pk, quantity))
    elif kind == "refund":
        _, index, restock = step
        open_bills = [b for b in shop.bills if b[3] > 0]
        if not open_bills:
            return
        bill_id, store, pk, left = open_bills[index % len(open_bills)]
        refund_create(
            purchase_id=bill_id,
            items=[{"product_id": pk, "quantity": 1}],
            reason="back",
            restock=restock,
            payments=None if store == shop.stores[0] else [{"method": "card", "amount": "10.00"}],
        )
        shop.bills[shop.bills.index((bill_id, store, pk, left))] = (bill_id, store, pk, left - 1)
        if restock:
            shop.stock[store, pk] += 1  # back to the bill's store
    elif kind == "receipt":
        _, store_index, index, quantity, cost = step
        pk, store = shop.products[index].pk, shop.stores[store_index]
        receipt_create(
            supplier=supplier.pk,
            supplier_invoice="INV",
            invoice_date=date(2026, 1, 1),
            lines=[{"product_id": pk, "quantity": quantity, "unit_cost": cost, "tax_percent": "5"}],
            store=store,
            user=None,
        )
        shop.stock[store, pk] += quantity
    elif kind == "adjust":
        _, store_index, index, quantity = step
        pk, store = shop.products[index].pk, shop.stores[store_index]
        try:
            adjustment_create(lines=[{"product_id": pk, "quantity": quantity}], reason="found", store=store, user=None)
        except DomainError as exc:
            assert exc.code == "insufficient_stock" and shop.stock[store, pk] + quantity < 0
            return
        shop.stock[store, pk] += quantity
    elif kind == "open" and shop.count is None:
        store = shop.stores[step[1]]
        shop.count, shop.count_store, shop.differences = stock_count_open(store=store, user=None).pk, store, {}
    elif kind == "count" and shop.count is not None:
        _, index, counted = step
        pk, store = shop.products[index].pk, shop.count_store
        line = stock_count_record(count_id=shop.count, product_id=pk, counted=counted, user=None)
        assert line.expected == shop.stock[store, pk]  # the store's stock at the moment the line was recorded
        shop.differences[pk] = counted - shop.stock[store, pk]
    elif kind == "post" and shop.count is not None:
        stock_count_post(count_id=shop.count, user=None)
        for pk, difference in shop.differences.items():
            shop.stock[shop.count_store, pk] = max(D(0), shop.stock[shop.count_store, pk] + difference)
        shop.count = None


def _stores() -> tuple[list[int], dict[int, int]]:
    stores, tills = [default_store_id()], {}
    for n in (1, 2):
        store = Store.objects.create(code=f"S{n}", name=f"Store {n}")
        till = till_create(code=f"S{n}-1")
        Till.objects.filter(pk=till.pk).update(store=store)
        stores.append(store.pk)
        tills[n] = till.pk
    return stores, tills


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
        stores, tills = _stores()
        shop, supplier = Shop(products, stores, tills), supplier_save(name="Wholesaler")
        for step in steps:
            _run(shop, supplier, step)
            for (store, pk), expected in shop.stock.items():
                assert Product.objects.with_stock(store).values_list("stock", flat=True).get(pk=pk) == expected
            for product in products:
                chain = sum(shop.stock[store, product.pk] for store in stores)
                assert Product.objects.values_list("stock", flat=True).get(pk=product.pk) == chain
        audit = stock_audit()
        assert audit.problems == []
        assert len(audit.stores) == STORES
        # Each bill line's sale movement took exactly the line's quantity, at the line's cost snapshot.
        for item in PurchaseItem.objects.filter(product__in=products):
            sale = StockMovement.objects.get(purchase_id=item.purchase_id, product_id=item.product_id)
            assert (sale.quantity, sale.unit_cost) == (-item.quantity, item.cost_price)
        transaction.set_rollback(True)
