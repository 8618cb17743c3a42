"""The demo `make run` leaves, in real headless Chromium: the demo cashier's first shift.

The store is configured as the local settings configure it and loaded by ``seed_demo --sales`` in
the test database, as `make run` does. The cashier opens the till with the float the page suggests,
rings up a bill of three products paid in notes, and closes the till with a count of the drawer: no
variance. The bill's tax invoice carries the store's GSTIN and address, the HSN codes and CGST and
SGST columns."""

import math
import re
from decimal import Decimal

import pytest

from billing_project.core.gst import store_gstin, store_state_code
from billing_project.core.money import format_money
from billing_project.core.testing.browser import CHROMIUM, expect, log_in
from cashdrawer.models import Denomination, TillSession
from catalog.models import Product
from catalog.tests.stores import set_default_store
from purchases.management.commands.seed_demo import USERS
from purchases.models import Purchase
from purchases.pricing import quote
from purchases.tests.demo_store import STORE_SETTINGS, local_settings, seed
from purchases.tests.pdf import pdf_text_of, save_first_page_png

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]

THREE = ("RICE-5KG", "GHEE-1L", "SOAP-100G")  # tax at 5, 12 and 18 %


@pytest.fixture
def demo(settings):
    store = local_settings()
    for name in STORE_SETTINGS:
        setattr(settings, name, store[name])
    # What `make run`'s migrate does with these settings: the default store is made from them.
    set_default_store(
        name=store["STORE_NAME"],
        legal_name=store["STORE_LEGAL_NAME"],
        address=store["STORE_ADDRESS"],
        gstin=store_gstin(),
        state_code=store_state_code() or "",
    )
    out = seed("--sales")
    cashier = next((name, password) for name, password, role in USERS if role == "Cashier")
    assert f"username: {cashier[0]}" in out and f"password: {cashier[1]}" in out  # the printed login
    return {"store": store, "login": cashier}


def test_the_demo_cashier_opens_rings_up_three_products_and_closes_without_variance(page, live_server, demo):
    username, password = demo["login"]
    log_in(page, live_server, username=username, password=password)
    expect(page.locator("#till-session")).to_contain_text("no open session")

    # Open: the float the page fills in, as suggested.
    page.get_by_role("link", name="Open till").click()
    expect(page.locator("#suggested-float")).to_be_visible()
    suggested = {
        Decimal(field.get_attribute("data-value")): int(field.input_value() or 0)
        for field in page.locator("#count-form input[data-value]").all()
    }
    assert sum(suggested.values()) > 0
    page.get_by_role("button", name="Open till").click()
    session = TillSession.objects.get(status=TillSession.Status.OPEN)
    expect(page.locator("#till-session")).to_have_text(f"#{session.pk}")
    assert session.opening_variance == 0

    # A bill of three products, paid in ₹500 notes, the change from the drawer.
    products = {p.pk: p for p in Product.objects.filter(sku__in=THREE)}
    payable = quote(products, dict.fromkeys(products, 1)).payable
    notes = math.ceil(payable / 500)
    page.get_by_label("Email or mobile number").fill("first.customer@example.com")
    for index, sku in enumerate(THREE):
        page.locator(f"#id_lines-{index}-product").fill(sku)
    page.get_by_label("500", exact=True).fill(str(notes))
    summary = page.locator("#summary")
    expect(summary.locator('[data-amount="payable"]')).to_have_text(format_money(payable))
    expect(summary.locator('[data-amount="change_due"]')).to_have_text(format_money(notes * 500 - payable))
    page.get_by_role("button", name="Generate bill").click()
    expect(page).to_have_url(re.compile(r"/billing/bills/\d+/$"))
    bill = Purchase.objects.get(session=session)
    assert set(bill.items.values_list("product__sku", flat=True)) == set(THREE)

    # Close: count the drawer. The page is blind, so count what is in it (the ledger's counts).
    page.goto(f"{live_server.url}/billing/")
    page.get_by_role("link", name="Close till").click()
    for value, count in Denomination.objects.filter(till=session.till).values_list("value", "count"):
        page.get_by_label(f"{value}", exact=True).fill(str(count))
    page.get_by_role("button", name="Close till").click()

    # Closed at once (it balances); the cashier's Z report is blind: no expected, no over/short.
    expect(page.locator("#z-report-title")).to_have_text("Z report")
    expect(page.locator("#report-variance")).to_have_count(0)
    closed = TillSession.objects.get(pk=session.pk)
    assert closed.status == TillSession.Status.CLOSED and closed.variance_total == 0 and closed.variance == []
    assert closed.report is not None
    assert Decimal(closed.report["cash"]["counted"]) == sum(v * c for v, c in suggested.items()) + payable

    # The bill's tax invoice: a real Indian one.
    response = page.request.get(f"{live_server.url}/billing/bills/{bill.pk}/invoice.pdf")
    assert response.ok and response.headers["content-type"] == "application/pdf"
    text = pdf_text_of(response.body())
    save_first_page_png(response.body(), "demo-first-invoice")
    store = demo["store"]
    assert store["STORE_TAX_ID"] in text
    assert store["STORE_LEGAL_NAME"] in text
    for line in store["STORE_ADDRESS"].splitlines():
        assert line in text
    for product in products.values():
        assert product.hsn_code and product.hsn_code in text
    assert re.search(r"CGST\s+SGST", text) and "CGST rate" in text and "SGST rate" in text
    assert bill.number and bill.number in text
