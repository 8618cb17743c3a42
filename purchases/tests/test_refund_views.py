"""The "Return items" page as a plain form post (Django's test client)."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from catalog.models import Product
from catalog.tests.factories import ProductFactory
from purchases.models import PurchaseItem, Refund
from purchases.services import purchase_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def bill(drawer):
    rice = ProductFactory(name="Rice", price=Decimal("45.50"), tax_percent=Decimal("5"), stock=10)
    return purchase_create(
        customer_email="ann@example.com", items=[{"product_id": rice.pk, "quantity": 3}], paid_amount=Decimal("143")
    )


def qty_field(bill) -> str:
    return f"qty_{PurchaseItem.objects.get(purchase=bill).pk}"


def test_the_bill_page_links_to_return_items_for_a_manager(manager_client, bill):
    page = manager_client.get(f"/billing/bills/{bill.pk}/").content.decode()
    assert f"/billing/bills/{bill.pk}/return/" in page


def test_a_return_posts_and_shows_the_refund_receipt_with_the_pieces(manager_client, bill):
    response = manager_client.post(
        f"/billing/bills/{bill.pk}/return/", {qty_field(bill): "2", "reason": "wrong size", "restock": "on"}
    )
    refund = Refund.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/billing/refunds/{refund.pk}/"
    receipt = manager_client.get(response["Location"]).content.decode()
    assert "wrong size" in receipt and "₹96.00" in receipt  # 91.00 + 4.55 tax → 96 in cash
    assert "handback-list" in receipt
    assert Product.objects.get().stock == 9
    bill_page = manager_client.get(f"/billing/bills/{bill.pk}/").content.decode()
    assert f"Refund #{refund.pk}" in bill_page


def test_more_than_is_left_is_refused_on_the_form_and_writes_nothing(manager_client, bill):
    manager_client.post(f"/billing/bills/{bill.pk}/return/", {qty_field(bill): "2", "reason": "x", "restock": "on"})
    response = manager_client.post(f"/billing/bills/{bill.pk}/return/", {qty_field(bill): "2", "reason": "x"})
    assert response.status_code == 400
    assert Refund.objects.count() == 1


def test_nothing_chosen_or_no_reason_is_refused(manager_client, bill):
    assert (
        manager_client.post(f"/billing/bills/{bill.pk}/return/", {qty_field(bill): "0", "reason": "x"}).status_code
        == 400
    )
    assert (
        manager_client.post(f"/billing/bills/{bill.pk}/return/", {qty_field(bill): "1", "reason": ""}).status_code
        == 400
    )
    assert Refund.objects.count() == 0


def test_a_write_off_from_the_page(manager_client, bill):
    manager_client.post(f"/billing/bills/{bill.pk}/return/", {qty_field(bill): "1", "reason": "damaged"})
    assert Refund.objects.get().restock is False
    assert Product.objects.get().stock == 7


def test_a_cashier_without_add_refund_needs_a_manager_until_granted(cashier_client, cashier_user, bill):
    page = cashier_client.get(f"/billing/bills/{bill.pk}/return/")
    assert page.status_code == 200 and "return/" in cashier_client.get(f"/billing/bills/{bill.pk}/").content.decode()
    item = bill.items.get()
    form = {f"qty_{item.pk}": "1", "reason": "cracked", "restock": "on"}
    refused = cashier_client.post(f"/billing/bills/{bill.pk}/return/", form)
    assert refused.status_code == 403
    assert 'data-action="refund"' in refused.content.decode() and 'value="cracked"' in refused.content.decode()
    assert not Refund.objects.exists()
    cashier_user.user_permissions.add(Permission.objects.get(codename="add_refund"))
    assert cashier_client.post(f"/billing/bills/{bill.pk}/return/", form).status_code == 302
    assert Refund.objects.count() == 1


def test_a_second_submit_of_the_same_return_page_makes_no_second_refund(client, manager_user, drawer):
    """A double click, or a reload that posts the form again: the page's key replays the refund."""
    product = ProductFactory(name="Jar", price=Decimal("10.00"), tax_percent=Decimal("0"), stock=10)
    bill = purchase_create(
        customer_email="ann@example.com", items=[{"product_id": product.pk, "quantity": 3}], paid_amount=Decimal("30")
    )
    client.force_login(manager_user)
    page = client.get(f"/billing/bills/{bill.pk}/return/")
    key = re.search(r'name="submission" value="([0-9a-f]{32})"', page.content.decode())
    assert key is not None
    item = bill.items.get()
    form = {"submission": key.group(1), f"qty_{item.pk}": "1", "reason": "cracked", "restock": "on"}

    first = client.post(f"/billing/bills/{bill.pk}/return/", form)
    second = client.post(f"/billing/bills/{bill.pk}/return/", form)

    refund = Refund.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"/billing/refunds/{refund.pk}/"
    assert Refund.objects.count() == 1 and bill.items.get().refunded_quantity == 1
