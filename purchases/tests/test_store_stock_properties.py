"""Stock per store, as a property (hypothesis, against the database): across 3 stores, whatever
sequence of bills (at a till of each store), refunds (restocked or written off), goods received,
adjustments, stock counts and transfers (some received short, some still on the road), each store's
stock of each product is what a plain model of the chain says, ``stock_audit`` passes at every
store, and each store's stock is the sum of its movements there.

Everything goes through the services. Each example runs in a transaction that is rolled back. Runs
on SQLite and on PostgreSQL.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_project.core.errors import DomainError
from billing_project.core.testing.properties import examples
from cashdrawer.models import Till
from cashdrawer.services import till_create
from catalog.models import Product, StockMovement, StoreStock
from catalog.stock import (
    adjustment_create,
    receipt_create,
    stock_audit,
    stock_count_open,
    stock_count_post,
    stock_count_record,
    supplier_save,
)
from catalog.stores import default_store
from catalog.tests.factories import ProductFactory, StoreFactory
from catalog.transfers import transfer_create, transfer_receive
from purchases.pricing import quote
from purchases.services import purchase_create, refund_create

pytestmark = [pytest.mark.django_db, pytest.mark.property]

D = Decimal
PRODUCTS = 3
STORES = 3

product = st.integers(0, PRODUCTS - 1)
store = st.integers(0, STORES - 1)
# A transfer from a store to the next but ``offset`` (0: itself, refused), received at once or later
# (``receive``), ``short`` units short.
send = st.tuples(
    st.just("send"),
    store,
    st.sampled_from([1, 2, 1, 2, 0]),
    product,
    st.integers(1, 8),
    st.integers(0, 3),
    st.booleans(),
)
receive = st.tuples(st.just("receive"), st.integers(0, 20), st.integers(0, 3))
operation = st.one_of(
    st.tuples(st.just("bill"), store, product, st.integers(1, 6)),
    st.tuples(st.just("refund"), st.integers(0, 20), st.booleans()),
    st.tuples(st.just("receipt"), store, product, st.integers(1, 9)),
    st.tuples(st.just("adjust"), store, product, st.sampled_from([-5, -2, -1, 1, 3])),
    st.tuples(st.just("open"), store),
    st.tuples(st.just("count"), product, st.integers(0, 15)),
    st.tuples(st.just("post"), st.none()),
    # Transfers twice as often as the rest: they are what this property is about.
    send,
    receive,
    send,
    receive,
)


class Chain:
    """What each store's stock should be, worked out without the database."""

    def __init__(self, stores, tills, products, stocks):
        self.stores, self.tills, self.products = stores, tills, products
        self.stock = {(s.pk, p.pk): D(stocks[i][j]) for i, s in enumerate(stores) for j, p in enumerate(products)}
        self.bills: list[list] = []  # [bill id, store id, product id, units not yet refunded]
        self.count: tuple[int, int] | None = None  # (count id, store id)
        self.differences: dict[int, Decimal] = {}
        self.on_the_road: list[tuple[int, int, int, int]] = []  # (transfer id, to store, product, quantity)


def _refused(exc: DomainError, code: str) -> None:
    assert exc.code == code, exc


def _run(chain: Chain, supplier, step) -> None:
    kind = step[0]
    if kind == "bill":
        _, s, p, quantity = step
        where, item = chain.stores[s].pk, chain.products[p]
        prices = Product.objects.filter(pk=item.pk).in_bulk()
        try:
            bill = purchase_create(
                items=[{"product_id": item.pk, "quantity": quantity}],
                # By card: the stores' drawers stay out of it, and so do their refunds.
                payments=[{"method": "card", "amount": quote(prices, {item.pk: quantity}).payable}],
                till=chain.tills[s].pk,
            )
        except DomainError as exc:
            _refused(exc, "insufficient_stock")
            assert chain.stock[(where, item.pk)] < quantity
            return
        chain.stock[(where, item.pk)] -= quantity
        chain.bills.append([bill.pk, where, item.pk, quantity])
    elif kind == "refund":
        _, index, restock = step
        open_bills = [b for b in chain.bills if b[3] > 0]
        if not open_bills:
            return
        sold = open_bills[index % len(open_bills)]
        refund_create(
            purchase_id=sold[0], items=[{"product_id": sold[2], "quantity": 1}], reason="back", restock=restock
        )
        sold[3] -= 1
        if restock:  # back into the store it was sold at
            chain.stock[(sold[1], sold[2])] += 1
    elif kind == "receipt":
        _, s, p, quantity = step
        where, pk = chain.stores[s].pk, chain.products[p].pk
        receipt_create(
            supplier=supplier.pk,
            supplier_invoice="INV",
            invoice_date=date(2026, 1, 1),
            lines=[{"product_id": pk, "quantity": quantity, "unit_cost": "9.50", "tax_percent": "5"}],
            store=where,
            user=None,
        )
        chain.stock[(where, pk)] += quantity
    elif kind == "adjust":
        _, s, p, quantity = step
        where, pk = chain.stores[s].pk, chain.products[p].pk
        try:
            adjustment_create(lines=[{"product_id": pk, "quantity": quantity}], reason="found", store=where, user=None)
        except DomainError as exc:
            _refused(exc, "insufficient_stock")
            assert chain.stock[(where, pk)] + quantity < 0
            return
        chain.stock[(where, pk)] += quantity
    elif kind == "open" and chain.count is None:
        where = chain.stores[step[1]].pk
        chain.count, chain.differences = (stock_count_open(store=where, user=None).pk, where), {}
    elif kind == "count" and chain.count is not None:
        _, p, counted = step
        (count_id, where), pk = chain.count, chain.products[p].pk
        line = stock_count_record(count_id=count_id, product_id=pk, counted=counted, user=None)
        assert line.expected == chain.stock[(where, pk)]
        chain.differences[pk] = counted - chain.stock[(where, pk)]
    elif kind == "post" and chain.count is not None:
        count_id, where = chain.count
        stock_count_post(count_id=count_id, user=None)
        for pk, difference in chain.differences.items():
            chain.stock[(where, pk)] = max(D(0), chain.stock[(where, pk)] + difference)
        chain.count = None
    elif kind == "send":
        _, s, offset, p, quantity, short, now = step
        source, pk = chain.stores[s].pk, chain.products[p].pk
        destination = chain.stores[(s + offset) % STORES].pk
        try:
            transfer = transfer_create(
                from_store=source, to_store=destination, lines=[{"product_id": pk, "quantity": quantity}], user=None
            )
        except DomainError as exc:
            if source == destination:
                _refused(exc, "validation_error")
            else:
                _refused(exc, "insufficient_stock")
                assert chain.stock[(source, pk)] < quantity
            return
        assert source != destination
        chain.stock[(source, pk)] -= quantity
        chain.on_the_road.append((transfer.pk, destination, pk, quantity))
        if now:
            _run(chain, supplier, ("receive", -1, short))
    elif kind == "receive" and chain.on_the_road:
        _, index, short = step
        transfer_id, destination, pk, quantity = chain.on_the_road.pop(index % len(chain.on_the_road))
        received = max(0, quantity - short)
        transfer_receive(transfer_id=transfer_id, lines=[{"product_id": pk, "quantity": received}], user=None)
        chain.stock[(destination, pk)] += received


def _check(chain: Chain) -> None:
    for (where, pk), expected in chain.stock.items():
        row = StoreStock.objects.filter(store_id=where, product_id=pk).values_list("stock", flat=True).first()
        assert (row or D(0)) == expected, (where, pk)


@settings(
    max_examples=examples(30),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    stocks=st.lists(
        st.lists(st.integers(0, 12), min_size=PRODUCTS, max_size=PRODUCTS), min_size=STORES, max_size=STORES
    ),
    steps=st.lists(operation, min_size=3, max_size=30),
)
def test_each_stores_stock_is_its_ledger_whatever_happens_across_the_chain(stocks, steps):
    with transaction.atomic():
        stores = [default_store(), StoreFactory(code="NORTH"), StoreFactory(code="SOUTH")]
        tills = []
        for where in stores:
            till = till_create(code=f"T-{where.code}")
            Till.objects.filter(pk=till.pk).update(store=where)
            tills.append(till)
        products = [ProductFactory(price=D("10.00"), tax_percent=D("0"), stock=s) for s in stocks[0]]
        supplier = supplier_save(name="Wholesaler")
        for where, opening in zip(stores[1:], stocks[1:], strict=True):  # the other stores' opening stock
            lines = [
                {"product_id": p.pk, "quantity": n, "unit_cost": "9.50"}
                for p, n in zip(products, opening, strict=True)
                if n
            ]
            if lines:
                receipt_create(
                    supplier=supplier.pk,
                    supplier_invoice="OPEN",
                    invoice_date=date(2026, 1, 1),
                    lines=lines,
                    store=where.pk,
                    user=None,
                )
        chain = Chain(stores, tills, products, stocks)
        for step in steps:
            _run(chain, supplier, step)
            _check(chain)
        audit = stock_audit()
        assert audit.problems == []
        assert all(row.problems == 0 for row in audit.stores)
        for where in stores:
            for item in products:
                moved = StockMovement.objects.filter(store=where, product=item).aggregate(total=Sum("quantity"))
                assert (moved["total"] or 0) == chain.stock[(where.pk, item.pk)]
        transaction.set_rollback(True)
