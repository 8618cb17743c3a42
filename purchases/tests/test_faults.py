"""A till blocked behind a stuck lock gives up with 503 ``busy`` instead of waiting forever."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection, transaction

from cashdrawer.tests.factories import drawer_with
from catalog.models import Product
from catalog.tests.factories import ProductFactory
from purchases.models import Purchase

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def test_a_stuck_product_lock_gives_503_busy_within_the_lock_timeout(postgres_only, admin_api, settings):
    settings.BILL_LOCK_TIMEOUT_MS = 300
    drawer_with({"1": 10})
    product = ProductFactory(price=Decimal("10"), tax_percent=Decimal("0"), stock=5)
    locked, release = threading.Event(), threading.Event()

    def hold_the_row():
        try:
            with transaction.atomic():
                Product.objects.select_for_update().get(pk=product.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            close_old_connections()
            connection.close()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        started = time.monotonic()
        response = admin_api.post(
            "/api/v1/purchases",
            {
                "customer_email": "a@example.com",
                "items": [{"product_id": product.pk, "quantity": 1}],
                "paid_amount": "10",
            },
            format="json",
        )
        elapsed = time.monotonic() - started
    finally:
        release.set()
        holder.join(timeout=30)

    assert response.status_code == 503
    assert response.json()["code"] == "busy"
    assert response.headers["Retry-After"] == "1"
    assert elapsed < 5
    assert Purchase.objects.count() == 0
    assert Product.objects.get(pk=product.pk).stock == 5
