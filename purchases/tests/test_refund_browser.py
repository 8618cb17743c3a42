"""A return with cash handed back, in real headless Chromium (Debian's ``chromium``, never downloaded)."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from billing_project.core.testing.browser import ARTIFACTS, CHROMIUM, expect, log_in
from cashdrawer.models import Denomination
from cashdrawer.tests.factories import drawer_with
from catalog.models import Product
from catalog.tests.factories import ProductFactory
from purchases.models import Refund
from purchases.services import purchase_create

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


def test_a_return_hands_back_cash_and_prints_a_refund_receipt(page, live_server, cashier_user):
    cashier_user.user_permissions.add(Permission.objects.get(codename="add_refund"))
    drawer_with({"500": 2, "100": 5, "50": 2, "20": 5, "10": 5, "5": 5, "2": 5, "1": 5})
    rice = ProductFactory(sku="RICE-5", name="Basmati rice 5 kg", price=Decimal("250.00"), tax_percent=5, stock=20)
    bill = purchase_create(
        customer_email="ann@example.com",
        items=[{"product_id": rice.pk, "quantity": 3}],
        paid_amount=Decimal("788"),  # 750 + 37.50 tax = 787.50 → 788
        tendered=[
            {"value": Decimal("500"), "count": 1},
            {"value": Decimal("100"), "count": 2},
            {"value": Decimal("50"), "count": 1},
            {"value": Decimal("20"), "count": 1},
            {"value": Decimal("10"), "count": 1},
            {"value": Decimal("5"), "count": 1},
            {"value": Decimal("2"), "count": 1},
            {"value": Decimal("1"), "count": 1},
        ],
    )
    log_in(page, live_server)
    page.goto(f"{live_server.url}/billing/bills/{bill.pk}/")
    page.get_by_role("link", name="Return items").click()
    expect(page.get_by_role("heading", name=f"Return items from bill #{bill.pk}")).to_be_visible()

    qty = page.get_by_label("Basmati rice 5 kg")
    expect(qty).to_have_attribute("max", "3")
    qty.fill("2")
    page.get_by_label("Reason").fill("wrong variety")
    page.get_by_role("button", name="Refund").click()

    refund = Refund.objects.get()
    expect(page).to_have_url(f"{live_server.url}/billing/refunds/{refund.pk}/")
    expect(page.locator("#refund-amount")).to_have_text("₹525.00")  # 500 + 25.00 tax
    handback = page.locator("#handback-list li")
    expect(handback).to_have_count(3)  # the fewest pieces: 500 + 20 + 5
    expect(handback.nth(0)).to_contain_text("1 × ₹500")
    expect(handback.nth(1)).to_contain_text("1 × ₹20")
    expect(handback.nth(2)).to_contain_text("1 × ₹5")
    expect(page.get_by_role("button", name="Print refund receipt")).to_be_visible()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "refund-receipt.png"), full_page=True)

    assert Product.objects.get(pk=rice.pk).stock == 19
    assert Denomination.objects.get(value=Decimal("500")).count == 2  # 2 + 1 in − 1 out

    page.get_by_role("link", name=f"Back to bill #{bill.pk}").click()
    page.get_by_role("link", name="Return items").click()
    expect(page.get_by_label("Basmati rice 5 kg")).to_have_attribute("max", "1")
