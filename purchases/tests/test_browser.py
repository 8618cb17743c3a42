"""The cashier's pages in real headless Chromium: Debian's ``chromium`` driven by Playwright.

Never downloads a browser: the tests use /usr/bin/chromium and are skipped when it is missing
(``apt-get install chromium``). Screenshots go to ``test-artifacts/`` at the project root."""

import re
from decimal import Decimal

import pytest

from billing_project.core.testing.browser import ARTIFACTS, CHROMIUM, expect, log_in
from purchases.models import Purchase
from purchases.services import purchase_create

BILLING_SCREENSHOT = ARTIFACTS / "billing-page.png"
BILL_SCREENSHOT = ARTIFACTS / "bill-page.png"
REFUSED_SCREENSHOT = ARTIFACTS / "billing-page-refused.png"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


def test_a_cashier_logs_in_and_out(page, live_server, store):
    log_in(page, live_server)

    expect(page.get_by_role("heading", name="New bill")).to_be_visible()
    expect(page.locator(".site-user")).to_contain_text("cashier")
    expect(page.get_by_label("Email or mobile number")).to_be_focused()

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))


def test_a_two_line_bill_paid_with_notes_shows_the_change_to_hand_back(page, live_server, store, artifacts):
    log_in(page, live_server)

    page.get_by_label("Email or mobile number").fill("ann@example.com")
    page.keyboard.press("Enter")
    expect(page.locator("#id_lines-0-product")).to_be_focused()
    page.keyboard.type("RICE-5")
    page.keyboard.press("Tab")
    page.keyboard.type("2")  # the quantity's "1" is selected when tabbing in
    page.keyboard.press("Enter")
    expect(page.locator("#id_lines-1-product")).to_be_focused()
    page.keyboard.type("Sandal")
    rows = page.locator("#line-rows tr[data-line]")
    expect(rows.nth(0).locator("[data-line-info]")).to_contain_text("Basmati rice 5 kg")
    expect(rows.nth(0).locator("[data-line-info]")).to_contain_text("₹250.00 each · tax 5% · 20 in stock")
    expect(rows.nth(0).locator("[data-line-info]")).to_contain_text("₹525.00")
    expect(rows.nth(1).locator("[data-line-info]")).to_contain_text("Sandal soap")

    page.get_by_label("500", exact=True).fill("1")
    page.get_by_label("100", exact=True).fill("1")
    summary = page.locator("#summary")
    expect(summary.locator('[data-amount="payable"]')).to_have_text("₹566.00")
    expect(summary.locator('[data-amount="paid"]')).to_have_text("₹600.00")
    expect(summary.locator('[data-amount="change_due"]')).to_have_text("₹34.00")
    expect(summary.locator(".handback li")).to_have_text(["1 × ₹20", "1 × ₹10", "2 × ₹2"])
    page.screenshot(path=str(BILLING_SCREENSHOT), full_page=True)

    page.get_by_role("button", name="Generate bill").click()

    expect(page).to_have_url(re.compile(r"/billing/bills/\d+/$"))
    purchase = Purchase.objects.get()
    expect(page.get_by_role("heading", name=f"Bill #{purchase.pk}")).to_be_visible()
    expect(page.locator("#handback-list li")).to_have_text(["1 × ₹20", "1 × ₹10", "2 × ₹2"])
    expect(page.locator("#change-due")).to_have_text("₹34.00")
    expect(page.locator(".receipt__lines tbody tr")).to_have_count(2)
    expect(page.get_by_role("button", name="Print receipt")).to_be_visible()
    expect(page.get_by_role("link", name="New bill", exact=True).first).to_be_visible()
    page.screenshot(path=str(BILL_SCREENSHOT), full_page=True)
    assert purchase.change_due == Decimal("34.00")
    assert purchase.created_by == store["cashier"]
    assert [(item.product_name, item.quantity) for item in purchase.items.all()] == [
        ("Basmati rice 5 kg", 2),
        ("Sandal soap", 1),
    ]
    assert BILLING_SCREENSHOT.stat().st_size > 0 and BILL_SCREENSHOT.stat().st_size > 0


def test_the_receipt_prints_narrow_without_the_page_chrome(page, live_server, store):
    purchase = purchase_create(
        customer_email="ann@example.com",
        items=[{"product_id": store["rice"].pk, "quantity": 1}],
        paid_amount=Decimal("300"),
    )
    log_in(page, live_server)
    page.goto(f"{live_server.url}/billing/bills/{purchase.pk}/")

    page.emulate_media(media="print")

    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".bill-actions")).to_be_hidden()
    expect(page.locator(".receipt__store")).to_be_visible()
    width = page.locator(".receipt").bounding_box()["width"]
    assert width <= 80 / 25.4 * 96  # no wider than an 80 mm till roll


def test_a_refused_bill_shows_its_message_and_keeps_the_input(page, live_server, store, artifacts):
    log_in(page, live_server)

    page.get_by_label("Email or mobile number").fill("bob@example.com")
    page.locator("#id_lines-0-product").fill("SOAP-1")
    page.locator("#id_lines-1-product").fill("RICE-5")
    page.locator("#id_lines-1-quantity").fill("25")
    expect(page.locator("#line-rows tr[data-line]").nth(1)).to_contain_text("Only 20 in stock.")
    page.get_by_label("500", exact=True).fill("2")
    page.get_by_role("button", name="Generate bill").click()

    message = "Only 20 of Basmati rice 5 kg in stock; 25 requested."
    expect(page.get_by_role("alert")).to_contain_text("The bill was not generated.")
    expect(page.get_by_role("alert")).to_contain_text(message)
    second_row = page.locator("#line-rows tr[data-line]").nth(1)
    expect(second_row.locator(".field-error")).to_have_text(message)
    expect(page.locator("#id_lines-1-product")).to_be_focused()
    expect(page.get_by_label("Email or mobile number")).to_have_value("bob@example.com")
    expect(page.locator("#id_lines-0-product")).to_have_value("SOAP-1")
    expect(page.locator("#id_lines-1-product")).to_have_value("RICE-5")
    expect(page.locator("#id_lines-1-quantity")).to_have_value("25")
    expect(page.get_by_label("500", exact=True)).to_have_value("2")
    page.screenshot(path=str(REFUSED_SCREENSHOT), full_page=True)
    assert Purchase.objects.count() == 0

    # Fixing the quantity rings the same bill up.
    page.locator("#id_lines-1-quantity").fill("2")
    expect(second_row.locator(".field-error")).to_have_count(0)
    page.get_by_role("button", name="Generate bill").click()
    expect(page).to_have_url(re.compile(r"/billing/bills/\d+/$"))
    assert Purchase.objects.values_list("customer__email", flat=True).get() == "bob@example.com"


def test_rows_are_added_with_enter_and_removed_with_the_keyboard(page, live_server, store):
    log_in(page, live_server)
    rows = page.locator("#line-rows tr[data-line]")
    expect(rows).to_have_count(3)

    for index, sku in enumerate(["RICE-5", "SOAP-1", "RICE-5"]):
        page.locator(f"#id_lines-{index}-product").fill(sku)
    page.locator("#id_lines-2-product").press("Enter")

    expect(rows).to_have_count(4)
    expect(page.locator("#id_lines-3-product")).to_be_focused()
    expect(page.locator('input[name="lines-TOTAL_FORMS"]')).to_have_value("4")

    rows.nth(1).get_by_role("button", name="Remove row 2").focus()
    page.keyboard.press("Enter")

    expect(rows).to_have_count(3)
    expect(page.locator("#id_lines-1-product")).to_have_value("RICE-5")
    expect(page.locator("#id_lines-1-product")).to_be_focused()
    expect(page.locator('input[name="lines-TOTAL_FORMS"]')).to_have_value("3")
    expect(rows.nth(2).locator("td.line__num")).to_have_text("3")


def test_the_bill_is_found_in_the_history(page, live_server, store):
    rice = store["rice"]
    ann = purchase_create(
        customer_email="ann@example.com",
        items=[{"product_id": rice.pk, "quantity": 1}],
        paid_amount=Decimal("300"),
        user=store["cashier"],
    )
    purchase_create(
        customer_email="bob@example.com", items=[{"product_id": rice.pk, "quantity": 2}], paid_amount=Decimal("600")
    )
    log_in(page, live_server)

    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name="Bill history")).to_be_visible()
    expect(page.locator("table.history tbody tr")).to_have_count(2)
    page.get_by_label("Email or mobile number").fill("ann@example.com")
    page.get_by_role("button", name="Filter").click()

    expect(page.locator("table.history tbody tr")).to_have_count(1)
    page.get_by_role("link", name=f"Bill #{ann.pk}").click()

    expect(page).to_have_url(f"{live_server.url}/billing/bills/{ann.pk}/")
    expect(page.get_by_role("heading", name=f"Bill #{ann.pk}")).to_be_visible()
    expect(page.locator("#change-due")).to_have_text("₹37.00")


def test_the_core_flow_works_without_javascript(page_without_js, live_server, store):
    page = page_without_js
    log_in(page, live_server)

    page.get_by_label("Email or mobile number").fill("ann@example.com")
    page.locator("#id_lines-0-product").fill("RICE-5")
    page.locator("#id_lines-0-quantity").fill("2")
    page.locator("#id_lines-1-product").fill("Sandal")
    page.get_by_role("button", name="+ Add row").click()  # a plain post that re-renders the page

    expect(page.locator("#line-rows tr[data-line]")).to_have_count(4)
    expect(page.locator("#id_lines-0-product")).to_have_value("RICE-5")
    expect(page.locator("#line-rows tr[data-line]").nth(1)).to_contain_text("Sandal soap")
    page.get_by_label("500", exact=True).fill("1")
    page.get_by_label("100", exact=True).fill("1")
    page.get_by_role("button", name="Generate bill").click()

    expect(page).to_have_url(re.compile(r"/billing/bills/\d+/$"))
    expect(page.locator("#handback-list li")).to_have_text(["1 × ₹20", "1 × ₹10", "2 × ₹2"])
    assert Purchase.objects.get().change_due == Decimal("34.00")
