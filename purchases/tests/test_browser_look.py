"""What cashiers and managers see, in real headless Chromium: the currency sign and the store's
local time on the bill and the printed receipt, the keyboard shortcut that generates a bill, the
admin's bills list at 1280 × 800, and the screenshots under ``docs/``.

``UPDATE_SCREENSHOTS=1`` writes the screenshots to ``docs/screenshots/`` (commit them); otherwise
they go to ``test-artifacts/``."""

# The browser, page and store fixtures come from test_browser; pytest passes them by name.

import os
import re
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils.dateformat import format as date_format

from billing_project.core.testing.browser import CHROMIUM, PASSWORD, expect, log_in
from catalog.tests.factories import ProductFactory
from catalog.tests.stores import set_default_store
from purchases.models import Purchase
from purchases.services import purchase_create

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
KOLKATA = ZoneInfo("Asia/Kolkata")
ADMIN_WIDTH, ADMIN_HEIGHT = 1280, 800


@pytest.fixture
def screenshots(artifacts):
    target = DOCS if os.environ.get("UPDATE_SCREENSHOTS") else artifacts
    target.mkdir(parents=True, exist_ok=True)
    return target


@pytest.fixture
def store_in_kolkata(settings, store):
    settings.TIME_ZONE = "Asia/Kolkata"
    settings.CURRENCY = "INR"
    set_default_store(name="Corner Store", address="12 Market Road, Pune")
    return store


def _local(purchase) -> str:
    return date_format(purchase.created_at.astimezone(KOLKATA), "j M Y, H:i")


def test_the_bill_and_its_printed_receipt_show_rupees_and_the_stores_local_time(
    page, live_server, store_in_kolkata, screenshots
):
    store = store_in_kolkata
    log_in(page, live_server)
    page.get_by_label("Email or mobile number").fill("ann@example.com")
    page.locator("#id_lines-0-product").fill("RICE-5")
    page.locator("#id_lines-0-quantity").fill("2")
    page.locator("#id_lines-1-product").fill("SOAP-1")
    page.get_by_label("500", exact=True).fill("1")
    page.get_by_label("100", exact=True).fill("1")
    summary = page.locator("#summary")
    expect(summary.locator('[data-amount="payable"]')).to_have_text("₹566.00")
    expect(summary.locator(".handback li")).to_have_text(["1 × ₹20", "1 × ₹10", "2 × ₹2"])
    page.screenshot(path=str(screenshots / "billing-page.png"), full_page=True)

    page.get_by_role("button", name="Generate bill").click()

    expect(page).to_have_url(re.compile(r"/billing/bills/\d+/$"))
    purchase = Purchase.objects.get()
    local = _local(purchase)
    utc = date_format(purchase.created_at.astimezone(ZoneInfo("UTC")), "j M Y, H:i")
    assert local != utc  # Kolkata is 5:30 ahead: the check below can tell them apart
    expect(page.locator("#bill-time")).to_have_text(local)
    expect(page.locator(".receipt__meta")).to_contain_text("IST")
    expect(page.locator("#payable")).to_have_text("₹566.00")
    expect(page.locator("#change-due")).to_have_text("₹34.00")
    page.screenshot(path=str(screenshots / "bill.png"), full_page=True)

    page.emulate_media(media="print")
    receipt = page.locator(".receipt")
    expect(receipt).to_contain_text(local)
    expect(receipt).not_to_contain_text(utc)
    first = page.locator(".receipt__lines tbody tr").nth(0)
    expect(first.locator(".receipt__qty")).to_have_text("2 × 250.00")
    expect(first.locator(".receipt__tax-rate")).to_be_visible()
    expect(first.locator(".receipt__tax-rate")).to_have_text("5%")
    expect(page.locator(".receipt__lines tbody tr").nth(1).locator(".receipt__tax-rate")).to_have_text("12%")
    expect(page.locator("#payable")).to_have_text("₹566.00")
    assert store["rice"].name in receipt.inner_text()


def test_ctrl_enter_generates_the_bill_from_the_last_row(page, live_server, store):
    log_in(page, live_server)
    expect(page.locator("#generate kbd")).to_have_text(["Ctrl", "Enter"])
    page.get_by_label("Email or mobile number").fill("ann@example.com")
    page.locator("#id_lines-0-product").fill("RICE-5")
    page.locator("#id_lines-0-quantity").fill("1")
    page.locator("#id_send_invoice").uncheck()
    page.get_by_label("Amount paid").fill("300")
    page.locator("#id_lines-2-quantity").focus()  # the last row, far from the button

    page.keyboard.press("Control+Enter")

    expect(page).to_have_url(re.compile(r"/billing/bills/\d+/$"))
    purchase = Purchase.objects.get()
    assert (purchase.payable, purchase.paid_amount) == (Decimal("263.00"), Decimal("300.00"))


def test_a_manager_logs_in_to_the_admin_in_the_stores_colours(page, live_server, store, manager_user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("manager")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(f"{live_server.url}/admin/")
    expect(page.locator("#site-name")).to_contain_text("Store Billing")
    page.wait_for_load_state("load")  # the stylesheets applied (the URL changes before they arrive)
    header = page.locator("#header").evaluate("element => getComputedStyle(element).backgroundColor")
    assert header == "rgb(18, 48, 42)"  # the billing page's header colour (#12302a)
    icon = page.request.get(f"{live_server.url}/favicon.ico")
    assert icon.ok and icon.headers["content-type"].startswith("image/svg+xml")


def test_the_admin_bills_list_fits_1280_pixels(browser, live_server, store, manager_user, screenshots):
    rice = store["rice"]
    for n, email in enumerate(["ann@example.com", "a.very.long.customer.address@corner-store-example.com"] * 3):
        purchase_create(
            customer_email=email,
            items=[{"product_id": rice.pk, "quantity": 1 + n % 3}],
            paid_amount=Decimal(["263", "525", "788"][n % 3]),  # 250.00 + 5% tax, paid exactly
            user=store["cashier"],
        )
    ProductFactory(sku="GHEE-1L-PREMIUM", name="Cow ghee, premium, cold pressed 1 L", price=Decimal("1650.00"))
    context = browser.new_context(viewport={"width": ADMIN_WIDTH, "height": ADMIN_HEIGHT})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/admin/login/")
        page.get_by_label("Username").fill("manager")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()

        for url, columns in [
            (
                "/admin/purchases/purchase/",
                ["Bill", "Created at", "Customer", "Lines", "Payable", "Cashier", "Invoice"],
            ),
            ("/admin/catalog/product/", ["Name", "Sku", "Price", "MRP", "Tax", "Stock", "Unit", "Is active"]),
        ]:
            page.goto(f"{live_server.url}{url}")
            headers = page.locator("#result_list thead th")
            expect(headers.filter(has_text=columns[-1])).to_be_visible()
            names = page.locator("#result_list thead th:not(.action-checkbox-column) .text > :is(a, span)")
            assert [text.strip() for text in names.all_text_contents()] == columns
            texts = ["", *columns]
            # The list sits in a box that scrolls sideways when the table is wider than it: every
            # column must end inside that box, and the box inside the window.
            visible = page.locator("#changelist-form .results").bounding_box()
            right = min(visible["x"] + visible["width"], ADMIN_WIDTH)
            for index in range(headers.count()):
                box = headers.nth(index).bounding_box()
                assert box is not None and box["x"] >= 0, texts[index]
                assert box["x"] + box["width"] <= right + 0.5, f"{url}: column {texts[index]!r} is off-screen"
            for cell in page.locator("#result_list tbody tr").first.locator("td, th").all():
                box = cell.bounding_box()
                assert box["x"] + box["width"] <= right + 0.5
            assert page.evaluate("document.documentElement.scrollWidth") <= ADMIN_WIDTH
            results = "document.querySelector('#changelist-form .results')"
            assert page.evaluate(f"{results}.scrollWidth <= {results}.clientWidth")
            if url.startswith("/admin/purchases/"):
                expect(page.locator("#result_list tbody")).to_contain_text("₹263.00")
                row_height = page.locator("#result_list tbody tr").first.bounding_box()["height"]
                assert row_height < 60  # one line per bill: nothing wraps
                page.screenshot(path=str(screenshots / "admin-bills.png"))
            else:
                page.screenshot(path=str(screenshots / "admin-products.png"))
                name = page.locator("#result_list tbody tr", has_text="Cow ghee").locator("th, td").nth(1)
                assert name.bounding_box()["height"] < 50  # the name is not wrapped onto three lines

        # A bill's page: a link to its receipt, and its lines without a label above each row.
        bill = Purchase.objects.order_by("pk").first()
        assert bill is not None
        page.goto(f"{live_server.url}/admin/purchases/purchase/{bill.pk}/change/")
        receipt = page.get_by_role("link", name=f"Receipt for bill #{bill.pk}")
        expect(receipt).to_have_attribute("href", f"/billing/bills/{bill.pk}/")
        lines = page.locator("#items-group tbody tr.has_original")
        expect(lines).to_have_count(1)
        expect(lines.first.locator("td.original p")).to_be_hidden()
        expect(lines.first).to_contain_text("₹250.00")
        page.screenshot(path=str(screenshots / "admin-bill.png"), full_page=True)
    finally:
        context.close()


def test_the_admin_index_leads_to_the_sales_dashboard_in_one_readable_line(browser, live_server, manager_user):
    context = browser.new_context(viewport={"width": ADMIN_WIDTH, "height": ADMIN_HEIGHT})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/admin/login/")
        page.get_by_label("Username").fill("manager")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        cell = page.locator("#sales-report-link td")
        expect(cell).to_contain_text("Sales dashboard: sales by day")

        # The link runs on into its description: no line of its own with the ":" starting the next.
        link = cell.get_by_role("link", name="Sales dashboard").bounding_box()
        first_line = cell.evaluate(
            """cell => { const range = document.createRange();
                         range.setStart(cell.lastChild, 0); range.setEnd(cell.lastChild, 1);
                         return range.getBoundingClientRect().top; }"""
        )
        assert abs(first_line - link["y"]) < 4
        # Nothing is cut off: the text wraps inside its box, which stays beside the recent actions.
        assert cell.evaluate("cell => cell.scrollWidth <= cell.clientWidth")
        module = page.locator("#sales-report-link").bounding_box()
        actions = page.locator("#recent-actions-module").bounding_box()
        assert module["x"] + module["width"] <= actions["x"]
    finally:
        context.close()


def test_the_change_to_hand_back_is_the_first_thing_on_a_long_bill(browser, live_server, store, artifacts):
    products = [
        ProductFactory(sku=f"ITEM-{n}", name=f"Item number {n}", price=Decimal("10.00"), tax_percent=0, stock=5)
        for n in range(12)
    ]
    purchase = purchase_create(
        customer_email="ann@example.com",
        items=[{"product_id": product.pk, "quantity": 1} for product in products],  # 120.00
        paid_amount=Decimal("200"),
        tendered=[{"value": Decimal("100"), "count": 2}],
        user=store["cashier"],
    )
    context = browser.new_context(viewport={"width": ADMIN_WIDTH, "height": ADMIN_HEIGHT})
    page = context.new_page()
    try:
        log_in(page, live_server)
        page.goto(f"{live_server.url}/billing/bills/{purchase.pk}/")

        for block in ("#handback-amount", "#handback-list"):
            box = page.locator(block).bounding_box()
            assert box is not None and box["y"] + box["height"] <= ADMIN_HEIGHT, f"{block} is below the fold"
        expect(page.locator("#handback-amount")).to_have_text("₹80.00")
        expect(page.locator("#handback-list li")).to_have_text(["1 × ₹50", "1 × ₹20", "1 × ₹10"])
        # The receipt's own totals are further down on a bill this long: the panel is what puts it first.
        assert page.locator("#change-due").bounding_box()["y"] > ADMIN_HEIGHT
        page.screenshot(path=str(artifacts / "bill-long-1280.png"))
    finally:
        context.close()


PHONE_WIDTH, PHONE_HEIGHT = 390, 844


def test_the_billing_page_at_phone_width(browser, live_server, store, artifacts):
    context = browser.new_context(viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT}, has_touch=True)
    page = context.new_page()
    try:
        log_in(page, live_server)
        page.get_by_label("Email or mobile number").fill("ann@example.com")
        item = page.locator("#id_lines-0-product")
        item.fill("Basmati rice 5 kg")
        expect(page.locator("#line-rows tr[data-line]").first).to_contain_text("₹262.50")

        # The item box spans the row, inside the screen, wide enough for a product's name.
        box = item.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH
        assert box["width"] >= 0.6 * PHONE_WIDTH
        assert item.evaluate("input => input.scrollWidth <= input.clientWidth")  # the name is not cut off
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
        # The totals come right after the products, before the discount and payment sections.
        totals = page.locator("#summary").bounding_box()
        assert totals["y"] < page.locator("#discounts").bounding_box()["y"]
        assert totals["y"] < 1.5 * PHONE_HEIGHT
        expect(page.locator('#summary [data-amount="payable"]')).to_have_text("₹263.00")
        page.screenshot(path=str(artifacts / "billing-page-390.png"), full_page=True)
    finally:
        context.close()
