"""Deleting a product while a bill sells it: PostgreSQL, real threads, real row locks.

Reported: DELETE /products/{id} in parallel with a bill for that product answered 500 in 8 of 10
rounds (the DELETE's foreign key failed at COMMIT), left the product active, and logged
"product None deleted".
"""

import logging
import threading
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.db import close_old_connections, connection
from rest_framework.test import APIClient

from billing_project.core.errors import DomainError
from catalog.models import Product
from catalog.tests.factories import ProductFactory
from purchases.models import Purchase, PurchaseItem
from purchases.services import bills as bill_services
from purchases.services import purchase_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

D = Decimal


def _in_thread(work, results, key):
    def target():
        try:
            results[key] = work()
        except Exception as exc:
            results[key] = exc
        finally:
            close_old_connections()
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    return thread


def _bill(product):
    return purchase_create(
        customer_email="ann@example.com", items=[{"product_id": product.pk, "quantity": 1}], paid_amount=D("10")
    )


def _delete(user, product):
    client = APIClient()
    client.force_authenticate(user)
    return client.delete(f"/api/v1/products/{product.pk}")


def test_a_delete_waiting_behind_a_bill_archives_the_product(postgres_only, manager_user, caplog):
    """The bill is paused after writing its line, holding the product lock; the delete comes then."""
    product = ProductFactory(price=D("10"), tax_percent=D("0"), stock=5)
    line_written, go_on = threading.Event(), threading.Event()
    real = bill_services.till_lock_for_bill

    def pause_then_lock_drawer(**kwargs):
        line_written.set()
        go_on.wait(timeout=10)
        return real(**kwargs)

    results: dict[str, Any] = {}
    with mock.patch.object(bill_services, "till_lock_for_bill", pause_then_lock_drawer):
        bill = _in_thread(lambda: _bill(product), results, "bill")
        assert line_written.wait(timeout=10)
        with caplog.at_level(logging.INFO, logger="billing.catalog"):
            delete = _in_thread(lambda: _delete(manager_user, product), results, "delete")
            delete.join(timeout=0.5)  # it waits for the bill's product lock
            assert delete.is_alive()
            go_on.set()
            bill.join(timeout=20)
            delete.join(timeout=20)

    assert isinstance(results["bill"], Purchase)
    assert results["delete"].status_code == 204
    product.refresh_from_db()
    assert product.is_active is False
    assert PurchaseItem.objects.filter(product=product).count() == 1
    assert f"product {product.pk} archived" in caplog.text
    assert "deleted" not in caplog.text


@pytest.mark.parametrize("round_", range(10))
def test_a_delete_racing_a_bill_is_204_and_the_log_is_true(postgres_only, manager_user, caplog, round_):
    product = ProductFactory(price=D("10"), tax_percent=D("0"), stock=5)
    barrier = threading.Barrier(2)
    results: dict[str, Any] = {}

    def at_once(work):
        def run():
            barrier.wait(timeout=10)
            return work()

        return run

    with caplog.at_level(logging.INFO, logger="billing.catalog"):
        threads = [
            _in_thread(at_once(lambda: _bill(product)), results, "bill"),
            _in_thread(at_once(lambda: _delete(manager_user, product)), results, "delete"),
        ]
        for thread in threads:
            thread.join(timeout=30)

    assert results["delete"].status_code in (204, 409), results["delete"].content
    remaining = Product.objects.filter(pk=product.pk).first()
    if isinstance(results["bill"], Purchase):
        # the bill went first: the product is kept for its history, archived
        assert remaining is not None and remaining.is_active is False
        assert f"product {product.pk} archived" in caplog.text
    else:
        # the delete went first: the bill finds no product, and nothing of it was written
        assert isinstance(results["bill"], DomainError) and results["bill"].code == "product_not_found"
        assert remaining is None
        assert Purchase.objects.count() == 0
        assert f"product {product.pk} deleted" in caplog.text
    assert "product None" not in caplog.text
