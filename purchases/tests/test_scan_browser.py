"""Scanning at the billing page, in real headless Chromium: a product's barcode fills a row, the same
barcode again adds one to that row, a scale label fills a row with its weight, a bad check digit is
shown on the row, and the bill is rung up with the decimal quantity."""

import re
from decimal import Decimal

import pytest

from billing_project.core.testing.browser import CHROMIUM, expect, log_in, new_page
from cashdrawer.tests.factories import drawer_with
from catalog.tests.factories import ProductFactory
from purchases.models import Purchase

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]

SOAP_BARCODE = "4006381333931"
SUGAR_750_G = "2112345007502"  # SCALE_BARCODE_FORMAT 21PPPPPWWWWWC: PLU 12345, 750 g


@pytest.fixture
def page(browser):
    context, page = new_page(browser)
    yield page
    context.close()


@pytest.fixture
def store(cashier_user):
    drawer_with({"500": 2, "100": 5, "50": 2, "20": 5, "10": 5, "5": 5, "2": 5, "1": 5})
    return {
        "soap": ProductFactory(
            sku="SOAP-1", name="Sandal soap", price=Decimal("36.50"), tax_percent=12, stock=10, barcode=SOAP_BARCODE
        ),
        "sugar": ProductFactory(
            sku="SUGAR",
            name="Loose sugar",
            unit="kg",
            price=Decimal("48.00"),
            tax_percent=0,
            stock=Decimal("25.000"),
            plu="12345",
        ),
    }


def scan(page, code: str) -> None:
    """What a scanner does: types the digits, then Enter."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def test_scanning_fills_rows_adds_to_a_row_and_weighs(page, live_server, store):
    log_in(page, live_server)
    page.get_by_label("Email or mobile number").fill("ann@example.com")
    page.keyboard.press("Enter")
    rows = page.locator("#line-rows tr[data-line]")

    expect(page.locator("#id_lines-0-product")).to_be_focused()
    scan(page, SOAP_BARCODE)
    expect(page.locator("#id_lines-0-product")).to_have_value("SOAP-1")
    expect(page.locator("#id_lines-0-quantity")).to_have_value("1")
    expect(page.locator("#id_lines-1-product")).to_be_focused()

    # The same barcode again: one more on the soap's row, and this row stays free for the next scan.
    scan(page, SOAP_BARCODE)
    expect(page.locator("#id_lines-0-quantity")).to_have_value("2")
    expect(page.locator("#id_lines-1-product")).to_have_value("")
    expect(page.locator("#id_lines-1-product")).to_be_focused()

    scan(page, SUGAR_750_G)
    expect(page.locator("#id_lines-1-product")).to_have_value("SUGAR")
    expect(page.locator("#id_lines-1-quantity")).to_have_value("0.750")
    expect(rows.nth(1).locator("[data-line-info]")).to_contain_text("₹48.00 per kg")
    expect(rows.nth(1).locator("[data-line-info]")).to_contain_text("25.000 kg in stock")
    expect(rows.nth(1).locator("[data-line-info]")).to_contain_text("₹36.00")

    # A bad check digit is refused on its row, and nothing is filled in.
    expect(page.locator("#id_lines-2-product")).to_be_focused()
    scan(page, "4006381333932")
    expect(rows.nth(2)).to_contain_text("The barcode's check digit is wrong.")
    page.locator("#id_lines-2-product").fill("")

    summary = page.locator("#summary")
    expect(summary.locator('[data-amount="payable"]')).to_have_text("₹118.00")  # 81.76 + 36.00, rounded
    page.get_by_label("100", exact=True).fill("1")
    page.get_by_label("20", exact=True).fill("1")
    page.get_by_role("button", name="Generate bill").click()

    expect(page).to_have_url(re.compile(r"/billing/bills/\d+/$"))
    purchase = Purchase.objects.get()
    assert [(i.product_name, i.quantity, i.unit) for i in purchase.items.all()] == [
        ("Sandal soap", Decimal("2.000"), "each"),
        ("Loose sugar", Decimal("0.750"), "kg"),
    ]
    expect(page.locator(".receipt__lines")).to_contain_text("0.750 kg")
    expect(page.locator(".receipt__qty-count").first).to_have_text("2")
