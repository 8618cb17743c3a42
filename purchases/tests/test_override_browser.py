"""A manager's override at the counter and the blind close, in real headless Chromium (Debian's
``chromium``, never downloaded): keyboard only, and what the cashier typed is kept."""

import re
from decimal import Decimal

import pytest

from billing_project.core.testing.browser import CHROMIUM, expect, log_in
from cashdrawer.models import Override, TillSession
from cashdrawer.services import session_open, till_default
from cashdrawer.tests.helpers import PIN, with_pin
from purchases.models import Purchase, Refund
from purchases.services import purchase_create

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


# The ``store`` fixture's drawer.
DRAWER = {"500": 2, "100": 5, "50": 2, "20": 5, "10": 5, "5": 5, "2": 5, "1": 5}


@pytest.fixture
def manager(manager_user):
    return with_pin(manager_user)


def _approve_in_the_dialog(page, manager, *, wrong_pin_first=False):
    dialog = page.locator("#override-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#override-username")).to_be_focused()
    page.keyboard.type(manager.username)
    page.keyboard.press("Tab")
    if wrong_pin_first:
        page.keyboard.type("0000")
        page.keyboard.press("Enter")
        expect(page.locator("#override-error")).to_contain_text("PIN")
        expect(page.locator("#override-pin")).to_be_focused()
    page.keyboard.type(PIN)
    page.keyboard.press("Enter")


def test_a_cashiers_discount_over_the_limit_is_approved_with_a_managers_pin(
    page, live_server, store, manager, settings
):
    settings.CASHIER_MAX_DISCOUNT_PERCENT = Decimal("10")
    log_in(page, live_server)
    page.get_by_label("Email or mobile number").fill("ann@example.com")
    page.locator("#id_lines-0-product").fill("RICE-5")
    page.locator("#id_lines-0-quantity").fill("2")  # 500.00
    page.locator("#id_lines-0-discount_percent").fill("20")  # 400.00 + 5% = 420.00
    page.get_by_label("Discount reason").fill("damaged box")
    page.get_by_label("Amount paid").fill("420")
    page.keyboard.press("Control+Enter")

    # Refused: the dialog opens over the page, with everything typed still in the form.
    expect(page.locator("#refusal")).to_be_visible()
    expect(page.locator("#id_lines-0-discount_percent")).to_have_value("20")
    # Escape cancels and changes nothing.
    expect(page.locator("#override-dialog")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#override-dialog")).to_be_hidden()
    assert Purchase.objects.count() == 0

    page.keyboard.press("Control+Enter")
    _approve_in_the_dialog(page, manager, wrong_pin_first=True)

    expect(page).to_have_url(re.compile(r"/billing/bills/\d+/$"))
    bill = Purchase.objects.get()
    assert bill.created_by == store["cashier"] and bill.approved_by == manager
    assert (bill.discount_total, bill.discount_reason, bill.payable) == (
        Decimal("100.00"),
        "damaged box",
        Decimal("420.00"),
    )
    assert list(Override.objects.order_by("pk").values_list("outcome", flat=True)) == ["refused", "granted"]


def test_a_cashiers_return_is_approved_with_a_managers_pin(page, live_server, store, manager):
    bill = purchase_create(
        customer_email="ann@example.com",
        items=[{"product_id": store["rice"].pk, "quantity": 3}],
        paid_amount=Decimal("800"),  # 787.50 rounded to 788, 12 back
        tendered=[{"value": Decimal("500"), "count": 1}, {"value": Decimal("100"), "count": 3}],
    )
    log_in(page, live_server)
    page.goto(f"{live_server.url}/billing/bills/{bill.pk}/")
    page.get_by_role("link", name="Return items").click()
    page.get_by_label("Basmati rice 5 kg").fill("1")
    page.get_by_label("Reason").fill("torn bag")
    page.get_by_label("Reason").press("Enter")

    expect(page.locator("#refund-errors")).to_be_visible()
    expect(page.get_by_label("Reason")).to_have_value("torn bag")
    expect(page.get_by_label("Basmati rice 5 kg")).to_have_value("1")
    _approve_in_the_dialog(page, manager)

    expect(page).to_have_url(re.compile(r"/billing/refunds/\d+/$"))
    refund = Refund.objects.get()
    assert page.url.endswith(f"/billing/refunds/{refund.pk}/")
    assert refund.created_by == store["cashier"] and refund.approved_by == manager
    assert refund.reason == "torn bag" and refund.lines.get().quantity == 1


def test_a_blind_close_waits_for_a_manager_who_approves_it_with_a_reason(page, live_server, store, manager):
    till = till_default()
    session = session_open(
        till_id=till.pk,
        counted=[{"value": v, "count": c} for v, c in DRAWER.items()],
    )
    log_in(page, live_server)
    expect(page.locator("body")).not_to_contain_text("drawer holds")  # no counts on the billing page

    page.get_by_role("link", name="Close till").click()
    for value, count in DRAWER.items():
        page.get_by_label(f"{value}.00", exact=True).fill(str(count - (value == "100")))  # one 100 short
    page.get_by_role("button", name="Close till").click()

    expect(page.locator("#pending-approval")).to_contain_text("Waiting for a manager")
    expect(page.locator("body")).not_to_contain_text("100.00")  # no expected, no shortfall
    expect(page.locator("#report-expected")).to_have_count(0)
    assert TillSession.objects.get(pk=session.pk).status == "pending_approval"

    page.get_by_label("Reason for the over/short").fill("100 note paid to the milkman")
    page.get_by_label("Reason for the over/short").press("Enter")
    _approve_in_the_dialog(page, manager)

    expect(page.locator("#z-report-title")).to_have_text("Z report")
    expect(page.locator("#report-approved-by")).to_have_text(manager.username)
    expect(page.locator("#report-approval-reason")).to_have_text("100 note paid to the milkman")
    expect(page.locator("#report-counted-by")).to_have_text("cashier")
    closed = TillSession.objects.get(pk=session.pk)
    assert closed.status == "closed" and closed.approved_by == manager and closed.closed_by == store["cashier"]
    assert closed.variance_total == Decimal("-100.00")
