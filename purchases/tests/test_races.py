"""Race tests: real threads, real connections, PostgreSQL row locks."""

from decimal import Decimal

import pytest

from billing_project.core.errors import DomainError
from billing_project.core.testing.concurrency import run_concurrently
from cashdrawer.models import Denomination
from cashdrawer.tests.factories import drawer_with
from catalog.models import Product
from catalog.tests.factories import ProductFactory
from customers.models import Customer
from purchases.models import Purchase, PurchaseItem
from purchases.services import purchase_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

D = Decimal


def test_twenty_buyers_for_ten_units_make_exactly_ten_bills(postgres_only):
    drawer_with({"100": 50, "10": 50})
    product = ProductFactory(price=D("90"), tax_percent=D("0"), stock=10)

    results = run_concurrently(
        20,
        lambda i: purchase_create(
            customer_email=f"buyer{i}@example.com",
            items=[{"product_id": product.pk, "quantity": 1}],
            paid_amount=D("100"),
            tendered=[{"value": D("100"), "count": 1}],
        ),
    )

    bills = [r for r in results if isinstance(r, Purchase)]
    refusals = [r for r in results if isinstance(r, DomainError)]
    unexpected = [r for r in results if not isinstance(r, (Purchase, DomainError))]
    assert unexpected == []
    assert len(bills) == 10
    assert {r.code for r in refusals} == {"insufficient_stock"}
    assert Product.objects.get(pk=product.pk).stock == 0
    assert PurchaseItem.objects.filter(product=product).count() == 10
    # Every paid note went in and every change note came out, and nothing else.
    counts = dict(Denomination.objects.values_list("value", "count"))
    assert counts == {D("100"): 60, D("10"): 40}


def test_concurrent_bills_never_take_the_drawer_below_zero(postgres_only):
    # The drawer can give change of 10 only three times.
    drawer_with({"10": 3, "100": 0})
    product = ProductFactory(price=D("90"), tax_percent=D("0"), stock=100)

    results = run_concurrently(
        8,
        lambda i: purchase_create(
            customer_email=f"buyer{i}@example.com",
            items=[{"product_id": product.pk, "quantity": 1}],
            paid_amount=D("100"),
            tendered=[{"value": D("100"), "count": 1}],
        ),
    )

    bills = [r for r in results if isinstance(r, Purchase)]
    assert len(bills) == 3
    assert sorted(r.code for r in results if isinstance(r, DomainError)) == ["change_unavailable"] * 5
    assert dict(Denomination.objects.values_list("value", "count")) == {D("10"): 0, D("100"): 3}
    assert Product.objects.get(pk=product.pk).stock == 97


def test_two_first_bills_for_a_new_email_create_one_customer(postgres_only):
    drawer_with({"10": 10})
    product = ProductFactory(price=D("10"), tax_percent=D("0"), stock=100)

    results = run_concurrently(
        6,
        lambda i: purchase_create(
            customer_email="New.Person@example.com" if i % 2 else "new.person@EXAMPLE.com",
            items=[{"product_id": product.pk, "quantity": 1}],
            paid_amount=D("10"),
        ),
    )

    assert all(isinstance(r, Purchase) for r in results), results
    assert Customer.objects.count() == 1
    assert Purchase.objects.filter(customer=Customer.objects.get()).count() == 6


def test_opposite_line_orders_do_not_deadlock(postgres_only):
    drawer_with({"10": 100})
    a, b = (
        ProductFactory(price=D("10"), tax_percent=D("0"), stock=100),
        ProductFactory(price=D("10"), tax_percent=D("0"), stock=100),
    )

    def buy(i):
        first, second = (a, b) if i % 2 else (b, a)
        return purchase_create(
            customer_email=f"b{i}@example.com",
            items=[{"product_id": first.pk, "quantity": 1}, {"product_id": second.pk, "quantity": 1}],
            paid_amount=D("20"),
        )

    results = run_concurrently(12, buy)

    assert all(isinstance(r, Purchase) for r in results), results
    assert Product.objects.get(pk=a.pk).stock == 88
    assert Product.objects.get(pk=b.pk).stock == 88
