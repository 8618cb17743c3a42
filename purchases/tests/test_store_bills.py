"""Bills and refunds at a store's tills take and return that store's stock, at its own prices (issue 29)."""

from decimal import Decimal

import pytest

from cashdrawer.models import Till
from cashdrawer.services import till_create
from catalog.models import StockMovement, Store, StoreStock
from catalog.selectors import at_store
from catalog.services import store_price_set
from catalog.stock import adjustment_create, stock_audit
from catalog.stores import default_store
from catalog.tests.factories import ProductFactory
from purchases.errors import InsufficientStock
from purchases.preview import RowInput, bill_preview
from purchases.services import purchase_create, refund_create

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def branch():
    return Store.objects.create(code="B", name="Branch")


@pytest.fixture
def branch_till(branch):
    till = till_create(code="B1")
    Till.objects.filter(pk=till.pk).update(store=branch)
    return Till.objects.get(pk=till.pk)


def at(product, store) -> Decimal:
    row = StoreStock.objects.filter(product=product, store=store).first()
    return row.stock if row is not None else D("0.000")


def card_bill(product, quantity, amount, till):
    return purchase_create(
        items=[{"product_id": product.pk, "quantity": quantity}],
        payments=[{"method": "card", "amount": amount}],
        till=till.pk,
    )


def test_a_bill_at_a_branch_till_takes_the_branchs_stock_at_its_price(branch, branch_till):
    product = ProductFactory(price=D("100.00"), tax_percent=D("0"), mrp=D("120.00"), stock=10)
    adjustment_create(lines=[{"product_id": product.pk, "quantity": 4}], reason="found", store=branch.pk, user=None)
    store_price_set(product=product, store=branch.pk, price=D("90.00"))

    bill = card_bill(product, 3, "270.00", branch_till)

    assert bill.total == D("270.00")
    assert bill.items.get().unit_price == D("90.00")
    assert (at(product, default_store()), at(product, branch)) == (10, 1)
    sale = StockMovement.objects.get(purchase=bill)
    assert (sale.store_id, sale.quantity, sale.balance_after) == (branch.pk, -3, 1)
    assert stock_audit().problems == []


def test_a_branch_without_the_stock_refuses_the_bill_though_the_default_store_has_it(branch, branch_till):
    product = ProductFactory(price=D("10.00"), tax_percent=D("0"), stock=10)  # all at the default store

    with pytest.raises(InsufficientStock) as refused:
        card_bill(product, 1, "10.00", branch_till)

    assert refused.value.details["available"] == 0
    assert at(product, default_store()) == 10
    assert not StockMovement.objects.filter(store=branch).exists()


def test_a_refund_restocks_the_bills_store(branch, branch_till):
    product = ProductFactory(price=D("10.00"), tax_percent=D("0"), stock=0)
    adjustment_create(lines=[{"product_id": product.pk, "quantity": 5}], reason="found", store=branch.pk, user=None)
    bill = card_bill(product, 2, "20.00", branch_till)

    refund_create(
        purchase_id=bill.pk,
        items=[{"product_id": product.pk, "quantity": 1}],
        reason="damaged box",
        restock=True,
        payments=[{"method": "card", "amount": "10.00"}],
        till=branch_till.pk,
    )

    assert (at(product, default_store()), at(product, branch)) == (0, 4)
    restock = StockMovement.objects.get(kind="refund_restock")
    assert (restock.store_id, restock.balance_after) == (branch.pk, 4)
    assert stock_audit().problems == []


def test_the_preview_and_the_lookup_agree_with_the_bill_at_a_store(branch):
    product = ProductFactory(price=D("100.00"), tax_percent=D("0"), stock=1)
    store_price_set(product=product, store=branch.pk, price=D("80.00"))

    (seen,) = at_store([product], branch.pk)
    assert (seen.price, seen.stock) == (D("80.00"), 0)
    row = RowInput(index=0, term=product.sku or "", product=type(product).objects.get(pk=product.pk), quantity=D(1))
    preview = bill_preview(rows=[row], tendered={}, paid_amount=None, denominations=[], store_id=branch.pk)
    assert preview.quote is not None and preview.quote.total == D("80.00")
    assert "Not enough stock" in preview.stock_problem


# --- A row's store: copied from its bill, checked by the audit (no foreign key of its own) ----------


def test_the_bills_rows_carry_its_store(branch, branch_till):
    product = ProductFactory(price=D("100.00"), tax_percent=D("0"), stock=0)
    adjustment_create(lines=[{"product_id": product.pk, "quantity": 5}], reason="found", store=branch.pk, user=None)

    bill = card_bill(product, 2, D("200.00"), branch_till)

    assert bill.store_id == branch.pk
    assert {line.store_id for line in bill.items.all()} == {branch.pk}
    assert {payment.store_id for payment in bill.payments.all()} == {branch.pk}
    assert set(StockMovement.objects.filter(purchase=bill).values_list("store_id", flat=True)) == {branch.pk}
    assert stock_audit().problems == []


def test_the_audit_reports_a_sale_at_another_store_than_its_bills(branch, branch_till):
    product = ProductFactory(price=D("100.00"), tax_percent=D("0"), stock=5)
    bill = card_bill(product, 2, D("200.00"), Till.objects.get(code="MAIN"))
    sale = StockMovement.objects.get(purchase=bill)

    StockMovement.objects.filter(pk=sale.pk).update(store=branch)

    problems = stock_audit().problems
    assert (
        f"movement {sale.pk} of product {product.pk}: a sale at store {branch.pk} on bill {bill.pk} of store "
        in (problems[0])
    )


def test_the_audit_reports_a_movement_at_a_store_that_does_not_exist():
    product = ProductFactory(stock=5)
    opening = StockMovement.objects.get(product=product)
    missing = max(Store.objects.values_list("pk", flat=True)) + 1000

    StockMovement.objects.filter(pk=opening.pk).update(store_id=missing)

    assert stock_audit().problems[0] == f"movement {opening.pk} of product {product.pk}: store {missing} does not exist"
