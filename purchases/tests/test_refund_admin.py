"""The refunds admin is read-only and shows what was paid back."""

from decimal import Decimal

import pytest

from catalog.tests.factories import ProductFactory
from purchases.services import purchase_create, refund_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def a_refund(drawer):
    rice = ProductFactory(name="Rice", price=Decimal("45.50"), tax_percent=Decimal("5"), stock=10)
    bill = purchase_create(
        customer_email="ann@example.com", items=[{"product_id": rice.pk, "quantity": 2}], paid_amount=Decimal("96")
    )
    return refund_create(purchase_id=bill.pk, items=[{"product_id": rice.pk, "quantity": 1}], reason="torn bag")


def test_a_manager_sees_a_refund_with_its_lines_and_cash(manager_client, a_refund):
    listing = manager_client.get("/admin/purchases/refund/")
    page = manager_client.get(f"/admin/purchases/refund/{a_refund.pk}/change/")
    assert listing.status_code == page.status_code == 200
    text = page.content.decode()
    assert "torn bag" in text and "Rice" in text and "₹48.00" in text
    assert "1 × ₹20" in text or "2 × ₹20" in text


def test_refunds_cannot_be_added_changed_or_deleted_in_the_admin(manager_client, a_refund):
    assert manager_client.get("/admin/purchases/refund/add/").status_code == 403
    assert manager_client.post(f"/admin/purchases/refund/{a_refund.pk}/delete/").status_code == 403
    page = manager_client.get(f"/admin/purchases/refund/{a_refund.pk}/change/").content.decode()
    assert 'name="_save"' not in page
