"""The billing page in real headless Chromium: a split payment (card + notes) with a discount, and a
cashier's discount above the limit refused in place."""

import re
from decimal import Decimal

import pytest

from billing_project.core.testing.browser import CHROMIUM, expect, log_in
from purchases.models import Purchase

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


def _two_bags_of_rice(page):
    page.get_by_label("Email or mobile number").fill("ann@example.com")
    page.locator("#id_lines-0-product").fill("RICE-5")
    page.locator("#id_lines-0-quantity").fill("2")


def test_a_split_payment_with_a_discount_previews_and_rings_up(page, live_server, store, settings):
    settings.CASH_ROUNDING_INCREMENT = Decimal("1.00")
    settings.CASHIER_MAX_DISCOUNT_PERCENT = Decimal("10")
    log_in(page, live_server)
    _two_bags_of_rice(page)  # 2 × 250.00 = 500.00
    page.get_by_label("Bill discount %").fill("10")
    page.get_by_label("Discount reason").fill("loyal customer")
    page.get_by_label("Card amount").fill("200")
    page.get_by_label("Card slip no.").fill("SLIP-77")

    summary = page.locator("#summary")
    # 500.00 − 50.00 = 450.00 + 5% tax = 472.50; card 200.00; cash part 272.50 → 273.00.
    expect(summary.locator('[data-amount="bill_discount"]')).to_have_text("−₹50.00")
    expect(summary.locator('[data-amount="total"]')).to_have_text("₹472.50")
    expect(summary.locator('[data-amount="cash_due"]')).to_have_text("₹273.00")
    expect(summary.locator('[data-amount="rounding"]')).to_have_text("₹0.50")
    expect(summary.locator('[data-amount="payable"]')).to_have_text("₹473.00")

    page.get_by_label("100", exact=True).fill("3")
    expect(summary.locator('[data-amount="change_due"]')).to_have_text("₹27.00")
    expect(summary.locator(".handback li")).to_have_text(["1 × ₹20", "1 × ₹5", "1 × ₹2"])

    page.get_by_role("button", name="Generate bill").click()

    expect(page).to_have_url(re.compile(r"/billing/bills/\d+/$"))
    purchase = Purchase.objects.get()
    assert (purchase.payable, purchase.paid_amount, purchase.change_due) == (
        Decimal("473.00"),
        Decimal("500.00"),
        Decimal("27.00"),
    )
    assert [(p.method.code, p.amount, p.reference) for p in purchase.payments.all()] == [
        ("card", Decimal("200.00"), "SLIP-77"),
        ("cash", Decimal("300.00"), ""),
    ]
    expect(page.locator('[data-payment="card"]')).to_have_text("₹200.00")
    expect(page.locator('[data-payment="cash"]')).to_have_text("₹300.00")
    expect(page.locator(".receipt__totals")).to_contain_text("SLIP-77")
    expect(page.locator("#bill-discount")).to_have_text("−₹50.00")
    expect(page.locator("#discount-reason")).to_have_text("loyal customer")
    expect(page.locator("#change-due")).to_have_text("₹27.00")


def test_a_cashier_over_the_discount_limit_sees_the_refusal_in_place(page, live_server, store, settings):
    settings.CASHIER_MAX_DISCOUNT_PERCENT = Decimal("10")
    log_in(page, live_server)
    _two_bags_of_rice(page)
    page.locator("#id_lines-0-discount_percent").fill("15")
    page.get_by_label("Discount reason").fill("damaged box")
    page.get_by_label("Amount paid").fill("500")
    # The preview already says the bill will be refused, and offers no change to count out.
    summary = page.locator("#summary")
    expect(summary.locator("[data-discount-problem]")).to_contain_text("a manager has to ring this bill up")
    expect(summary.locator(".handback")).to_have_count(0)

    page.get_by_role("button", name="Generate bill").click()

    expect(page.locator("[data-discount-error]")).to_contain_text("a manager has to ring this bill up")
    expect(page.locator("#refusal")).to_be_visible()
    # Everything typed is kept, and nothing was written.
    expect(page.locator("#id_lines-0-discount_percent")).to_have_value("15")
    expect(page.get_by_label("Discount reason")).to_have_value("damaged box")
    assert Purchase.objects.count() == 0
