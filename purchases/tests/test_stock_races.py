"""Race tests of the stock ledger: real threads, real connections, PostgreSQL row locks. After each,
``stock_audit`` passes: every product's stock is the sum of its movements and the balances chain."""

from decimal import Decimal

import pytest

from billing_project.core.errors import DomainError
from billing_project.core.testing.concurrency import run_concurrently
from cashdrawer.tests.factories import drawer_with
from catalog.models import Product, StockCountLine, StockMovement
from catalog.stock import adjustment_create, stock_audit, stock_count_open, stock_count_post, stock_count_record
from catalog.tests.factories import ProductFactory
from purchases.models import Purchase, PurchaseItem
from purchases.services import purchase_create, refund_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

D = Decimal


def _bill(products, i):
    return purchase_create(
        items=[{"product_id": p.pk, "quantity": 1} for p in products],
        paid_amount=D(10 * len(products)),
        tendered=[{"value": D("10"), "count": len(products)}],
    )


def test_posting_a_count_while_bills_ring_up_the_same_products(postgres_only):
    drawer_with({"10": 10})
    products = [ProductFactory(price=D("10.00"), tax_percent=D("0"), stock=200) for _ in range(3)]
    count = stock_count_open(product_ids=[p.pk for p in products], user=None)
    # Each shelf is counted 5 short of what the system says at that moment.
    for product in products:
        stock_count_record(count_id=count.pk, product_id=product.pk, counted=195, user=None)

    def work(i):
        if i == 0:
            return stock_count_post(count_id=count.pk, user=None)
        return _bill(products, i)

    results = run_concurrently(12, work)

    assert [r for r in results if isinstance(r, Exception)] == []
    bills = [r for r in results if isinstance(r, Purchase)]
    assert len(bills) == 11
    for product in products:
        stock = Product.objects.values_list("stock", flat=True).get(pk=product.pk)
        line = StockCountLine.objects.get(count=count, product=product)
        sold = sum(PurchaseItem.objects.filter(product=product).values_list("quantity", flat=True))
        # The count's variance applied once, and every sale once, in whatever order they ran.
        assert line.difference == -5
        assert stock == 200 - sold + line.difference
        movement = StockMovement.objects.get(stock_count=count, product=product)
        assert movement.quantity == line.difference
        assert sum(StockMovement.objects.filter(product=product).values_list("quantity", flat=True)) == stock
    assert stock_audit().problems == []


def test_counting_while_bills_ring_up_keeps_expected_at_the_moment_of_the_count(postgres_only):
    drawer_with({"10": 10})
    product = ProductFactory(price=D("10.00"), tax_percent=D("0"), stock=100)
    count = stock_count_open(product_ids=[product.pk], user=None)

    def work(i):
        if i == 0:
            # The shelf is counted at 50, whatever was sold before that moment.
            return stock_count_record(count_id=count.pk, product_id=product.pk, counted=50, user=None)
        return _bill([product], i)

    results = run_concurrently(9, work)

    assert [r for r in results if isinstance(r, Exception)] == []
    line = StockCountLine.objects.get(count=count, product=product)
    sold_before = 100 - line.expected
    sold_before_by_the_bills = PurchaseItem.objects.filter(purchase__created_at__lt=line.counted_at).count()
    assert sold_before == sold_before_by_the_bills
    stock_count_post(count_id=count.pk, user=None)
    # Goods sold after the count are not in its difference: posting leaves the stock at the count
    # less what was sold after it.
    assert Product.objects.values_list("stock", flat=True).get(pk=product.pk) == 50 - (8 - sold_before)
    assert stock_audit().problems == []


def test_bills_refunds_and_adjustments_race_and_the_ledger_chains(postgres_only):
    drawer_with({"10": 50})
    product = ProductFactory(price=D("10.00"), tax_percent=D("0"), stock=30)
    earlier = [_bill([product], i) for i in range(4)]

    def work(i):
        if i < 4:
            return refund_create(
                purchase_id=earlier[i].pk, items=[{"product_id": product.pk, "quantity": 1}], reason="back"
            )
        if i < 8:
            return adjustment_create(lines=[{"product_id": product.pk, "quantity": -2}], reason="damaged", user=None)
        return _bill([product], i)

    results = run_concurrently(12, work)

    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, DomainError)]
    assert unexpected == []
    assert [r for r in results if isinstance(r, DomainError)] == []
    # 30 − 4 sold before + 4 back − 4 × 2 adjusted − 4 sold now.
    assert Product.objects.values_list("stock", flat=True).get(pk=product.pk) == 18
    assert stock_audit().problems == []


def _branch_till(code: str):
    from cashdrawer.models import Till
    from cashdrawer.services import till_create
    from catalog.models import Store

    store = Store.objects.create(code=code, name=f"Store {code}")
    till = till_create(code=f"{code}-1")
    Till.objects.filter(pk=till.pk).update(store=store)
    return store, till


def test_two_stores_selling_the_last_units_of_a_product_neither_block_nor_oversell(postgres_only):
    import threading

    from django.db import connection, transaction

    from catalog.models import StoreStock
    from catalog.stores import default_store_id
    from purchases.errors import InsufficientStock

    branch, branch_till = _branch_till("B")
    product = ProductFactory(price=D("10.00"), tax_percent=D("0"), stock=3)  # 3 at the default store
    adjustment_create(lines=[{"product_id": product.pk, "quantity": 3}], reason="found", store=branch.pk, user=None)

    def sell(i):
        return purchase_create(
            items=[{"product_id": product.pk, "quantity": 1}],
            payments=[{"method": "card", "amount": D("10.00")}],
            till=branch_till.pk if i % 2 else None,
        )

    results = run_concurrently(12, sell)

    refused = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(r, InsufficientStock) for r in refused), refused
    bills = [r for r in results if isinstance(r, Purchase)]
    assert sorted(b.till_id == branch_till.pk for b in bills) == [False] * 3 + [True] * 3
    stock = dict(StoreStock.objects.filter(product=product).values_list("store_id", "stock"))
    assert stock == {default_store_id(): 0, branch.pk: 0}
    assert stock_audit().problems == []

    # A bill in progress at one store holds that store's row only: the other store's bill goes through.
    adjustment_create(lines=[{"product_id": product.pk, "quantity": 1}], reason="found", user=None)
    adjustment_create(lines=[{"product_id": product.pk, "quantity": 1}], reason="found", store=branch.pk, user=None)
    held, release = threading.Event(), threading.Event()

    def hold_the_default_stores_row():
        try:
            with transaction.atomic():
                list(StoreStock.objects.select_for_update().filter(product=product, store_id=default_store_id()))
                held.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_default_stores_row)
    holder.start()
    try:
        assert held.wait(10)
        bill = sell(1)  # at the branch: not waiting for the default store's row (no Busy)
    finally:
        release.set()
        holder.join()
    assert bill.till_id == branch_till.pk
    assert StoreStock.objects.get(product=product, store=branch).stock == 0
    assert stock_audit().problems == []
