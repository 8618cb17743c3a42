"""The counter in real headless Chromium: a parked cart recalled after another bill, the UPI QR code
shown for the UPI amount (decoded from a screenshot) and paid with a UTR, and the customer display
following the cashier's page."""

import re
import time
from decimal import Decimal
from io import BytesIO
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image

from billing_project.core.testing.browser import CHROMIUM, expect, log_in, new_page
from purchases.models import HeldBill, Purchase
from purchases.tests.helpers import decode_qr_image

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


@pytest.fixture(autouse=True)
def _counter_settings(settings):
    settings.CASH_ROUNDING_INCREMENT = Decimal("1.00")
    settings.UPI_VPA = "dakshin@okaxis"
    settings.UPI_PAYEE_NAME = "Dakshin Provisions"


def qr_in(locator) -> str:
    """The text of the QR code an element shows, decoded from a screenshot of it."""
    return decode_qr_image(Image.open(BytesIO(locator.screenshot())))


def test_a_parked_cart_is_recalled_after_another_bill(page, live_server, store):
    log_in(page, live_server)
    page.get_by_label("Email or mobile number").fill("98765 43210")
    page.locator("#id_lines-0-product").fill("RICE-5")
    page.locator("#id_lines-0-quantity").fill("2")

    page.keyboard.press("F8")  # Park

    expect(page.locator(".messages")).to_contain_text("Bill parked as #")
    expect(page.locator("#parked-count")).to_have_text("1")
    expect(page.locator("#id_lines-0-product")).to_have_value("")
    assert HeldBill.objects.count() == 1

    # Another customer's bill, rung up while the first one is parked.
    page.locator("#id_lines-0-product").fill("SOAP-1")
    page.get_by_label("50", exact=True).fill("1")
    page.get_by_role("button", name="Generate bill").click()
    expect(page).to_have_url(re.compile(r"/billing/bills/\d+/$"))

    page.goto(f"{live_server.url}/billing/")
    expect(page.locator("#parked-count")).to_have_text("1")
    page.locator("[data-recall]").first.click()

    expect(page.locator(".messages")).to_contain_text("is back on screen")
    expect(page.locator("#id_customer")).to_have_value("+919876543210")
    expect(page.locator("#id_lines-0-product")).to_have_value("RICE-5")
    expect(page.locator("#id_lines-0-quantity")).to_have_value("2")
    expect(page.locator("#parked-count")).to_have_text("0")
    page.get_by_label("500", exact=True).fill("1")
    page.get_by_label("20", exact=True).fill("1")
    page.get_by_label("5", exact=True).fill("1")
    expect(page.locator('#summary [data-amount="change_due"]')).to_have_text("₹0.00")
    page.get_by_role("button", name="Generate bill").click()

    expect(page).to_have_url(re.compile(r"/billing/bills/\d+/$"))
    first, second = Purchase.objects.order_by("id")
    assert [i.product.sku for i in first.items.all()] == ["SOAP-1"]
    assert [(i.product.sku, i.quantity) for i in second.items.all()] == [("RICE-5", 2)]
    assert second.customer is not None and second.customer.phone == "+919876543210"
    assert not HeldBill.objects.exists()


def test_the_upi_qr_code_is_shown_for_the_upi_amount_and_paid_with_a_utr(page, live_server, store, artifacts):
    log_in(page, live_server)
    page.locator("#id_lines-0-product").fill("RICE-5")  # 250.00 + 5 % = 262.50
    page.get_by_label("UPI amount").fill("262.50")

    qr = page.locator("#upi-qr-code svg")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box is not None and box["width"] >= 240 and box["height"] >= 240  # big enough for a phone
    page.locator("#upi-qr").screenshot(path=str(artifacts / "upi-qr.png"))

    uri = qr_in(qr)
    assert uri == page.locator("#upi-qr").get_attribute("data-uri")
    assert uri.startswith("upi://pay?")
    assert parse_qs(urlsplit(uri).query) == {
        "pa": ["dakshin@okaxis"],
        "pn": ["Dakshin Provisions"],
        "am": ["262.50"],
        "cu": ["INR"],
        "tn": ["Bill at till MAIN"],
    }

    # A reference that is not a UTR is refused beside its field, with everything kept.
    page.get_by_label("UPI UTR (12 digits)").fill("UPI-77")
    page.get_by_role("button", name="Generate bill").click()
    expect(page.locator("#payment")).to_contain_text("12-digit UTR")
    assert not Purchase.objects.exists()
    expect(page.get_by_label("UPI amount")).to_have_value("262.50")
    expect(page.locator("#upi-qr-code svg")).to_be_visible()  # drawn again for the kept amount

    page.get_by_label("UPI UTR (12 digits)").fill("412345678901")
    page.get_by_role("button", name="Generate bill").click()

    expect(page).to_have_url(re.compile(r"/billing/bills/\d+/$"))
    payment = Purchase.objects.get().payments.get()
    assert (payment.method.code, payment.amount, payment.reference) == ("upi", Decimal("262.50"), "412345678901")


def test_the_customer_display_follows_the_cashiers_page(browser, page, live_server, store):
    log_in(page, live_server)
    context, display = new_page(browser)
    try:
        log_in(display, live_server)
        display.goto(f"{live_server.url}/billing/display/")
        expect(display.locator("#display-idle")).to_have_text("Welcome!")

        page.locator("#id_lines-0-product").fill("RICE-5")
        page.locator("#id_lines-0-quantity").fill("2")
        page.locator("#id_lines-0-quantity").press("Enter")
        expect(page.locator('#summary [data-amount="payable"]')).to_have_text("₹525.00")
        previewed = time.monotonic()
        expect(display.locator("#display-lines tbody tr")).to_have_count(1)
        followed = time.monotonic() - previewed
        expect(display.locator("#display-lines tbody tr")).to_contain_text("Basmati rice 5 kg")
        expect(display.locator("#display-total")).to_have_text("To pay: ₹525.00")
        # The display polls every 0.5 s: within a second of the cashier's preview (2 s allows a busy machine).
        assert followed < 2.0, f"the display took {followed:.2f} s"

        page.get_by_label("UPI amount").fill("100")
        expect(display.locator("#display-upi-amount")).to_have_text("₹100.00")
        uri = qr_in(display.locator("#display-upi-code svg"))
        assert "&am=100.00&" in uri and uri.startswith("upi://pay?pa=dakshin@okaxis&")

        page.get_by_label("UPI amount").fill("")
        page.get_by_label("500", exact=True).fill("1")
        page.get_by_label("20", exact=True).fill("1")
        page.get_by_label("5", exact=True).fill("1")
        expect(page.locator('#summary [data-amount="change_due"]')).to_have_text("₹0.00")
        page.get_by_role("button", name="Generate bill").click()
        expect(page).to_have_url(re.compile(r"/billing/bills/\d+/$"))
        expect(display.locator("#display-idle")).to_have_text("Thank you!")
        expect(display.locator("#display-upi")).to_be_hidden()
    finally:
        context.close()
