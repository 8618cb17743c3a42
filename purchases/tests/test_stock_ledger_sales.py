"""The stock ledger with bills: sales while counting, goods received and the drawer, reorder
suggestions from sales."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cashdrawer.models import DrawerMovement
from catalog.errors import StockCountPosted
from catalog.models import Product, StockMovement
from catalog.selectors import reorder_suggestions
from catalog.stock import (
    receipt_create,
    stock_audit,
    stock_count_open,
    stock_count_post,
    stock_count_record,
    supplier_save,
)
from catalog.tests.factories import ProductFactory
from purchases.tests.factories import purchase_for

pytestmark = pytest.mark.django_db

D = Decimal


def ledger(product) -> list[tuple[str, Decimal, Decimal]]:
    return [
        (m.kind, m.quantity, m.balance_after)
        for m in StockMovement.objects.filter(product_id=product.pk).order_by("id")
    ]


def stock(product) -> Decimal:
    return Product.objects.values_list("stock", flat=True).get(pk=product.pk)


def assert_audit_passes():
    assert stock_audit().problems == []


def test_goods_received_add_stock_and_move_the_cost(drawer):
    product = ProductFactory(stock=10)
    Product.objects.filter(pk=product.pk).update(cost_price=D("50.00"))
    supplier = supplier_save(name="Sharma Wholesale")
    drawer_rows = DrawerMovement.objects.count()

    receipt = receipt_create(
        supplier=supplier.pk,
        supplier_invoice="SW/1",
        invoice_date=date(2026, 3, 1),
        lines=[{"product_id": product.pk, "quantity": 10, "unit_cost": "60.00", "tax_percent": "12"}],
        user=None,
    )

    product.refresh_from_db()
    assert (product.stock, product.cost_price) == (20, D("55.00"))
    assert ledger(product)[-1] == ("receipt", D("10"), D("20"))
    assert (receipt.subtotal, receipt.tax_total, receipt.total) == (D("600.00"), D("72.00"), D("672.00"))
    assert DrawerMovement.objects.count() == drawer_rows  # supplier payments are out of scope
    assert_audit_passes()


def test_the_issues_example_trading_while_counting_never_double_counts(drawer):
    product = ProductFactory(stock=20, price=D("10.00"), tax_percent=D("0"))
    count = stock_count_open(product_ids=[product.pk], user=None)
    purchase_for(Product.objects.get(pk=product.pk), quantity=4)
    line = stock_count_record(count_id=count.pk, product_id=product.pk, counted=15, user=None)
    assert (line.opening, line.expected, line.difference) == (20, 16, -1)
    purchase_for(Product.objects.get(pk=product.pk), quantity=2)

    stock_count_post(count_id=count.pk, user=None)

    assert stock(product) == 13
    assert ledger(product)[-1] == ("count", D("-1"), D("13"))
    with pytest.raises(StockCountPosted):
        stock_count_post(count_id=count.pk, user=None)
    with pytest.raises(StockCountPosted):
        stock_count_record(count_id=count.pk, product_id=product.pk, counted=1, user=None)
    assert_audit_passes()


def test_the_suggested_reorder_is_28_days_of_sales_times_the_lead_time_less_the_stock(drawer):
    tea = ProductFactory(stock=100, price=D("10.00"), tax_percent=D("0"), lead_time_days=7)
    idle = ProductFactory(stock=3, price=D("10.00"), tax_percent=D("0"))
    purchase_for(Product.objects.get(pk=tea.pk), quantity=60)
    old = purchase_for(Product.objects.get(pk=tea.pk), quantity=30)
    # A sale older than 28 days does not count.
    StockMovement.objects.filter(purchase=old).update(created_at=timezone.now() - timedelta(days=29))
    tea.refresh_from_db()

    suggested = reorder_suggestions([tea, idle])

    # 60 sold in 28 days: 15/7 a day × 7 days = 15, less the 10 in stock: 5.
    assert suggested == {tea.pk: 5, idle.pk: 0}
    Product.objects.filter(pk=tea.pk).update(lead_time_days=14)
    tea.refresh_from_db()
    assert reorder_suggestions([tea])[tea.pk] == 20  # 30 − 10
