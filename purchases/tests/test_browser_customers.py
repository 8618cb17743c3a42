"""The billing page's one "Customer" box in real headless Chromium: an email, a mobile number in
any spelling, or nothing (a walk-in sale). The ``page`` and ``store`` fixtures are the conftests'."""

import re
from decimal import Decimal

import pytest

from billing_project.core.testing.browser import CHROMIUM, expect, log_in
from customers.models import Customer
from purchases.models import Purchase
from purchases.services import purchase_create

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


def ring_up_rice(tab):
    """One bag of rice, paid with a 500 note; generate the bill."""
    tab.locator("#id_lines-0-product").fill("RICE-5")
    tab.get_by_label("500", exact=True).fill("1")
    tab.get_by_role("button", name="Generate bill").click()
    expect(tab).to_have_url(re.compile(r"/billing/bills/\d+/$"))


def test_a_known_mobile_number_in_another_spelling_shows_the_previous_bills(page, live_server, store):
    earlier = purchase_create(
        customer_phone="9876543210",
        items=[{"product_id": store["rice"].pk, "quantity": 1}],
        paid_amount=Decimal("300"),
    )
    log_in(page, live_server)

    page.get_by_label("Email or mobile number").fill("+91 98765-43210")
    page.keyboard.press("Enter")

    expect(page.locator("#id_lines-0-product")).to_be_focused()
    expect(page.locator("#previous-bills")).to_contain_text("Previous bills of +919876543210")
    expect(page.locator("#previous-bills")).to_contain_text(f"Bill #{earlier.pk}")
    ring_up_rice(page)

    expect(page.locator("#bill-customer")).to_have_text("+919876543210")
    assert Customer.objects.count() == 1
    assert Purchase.objects.filter(customer__phone="+919876543210").count() == 2


def test_a_new_mobile_number_makes_a_new_customer(page, live_server, store):
    log_in(page, live_server)

    page.get_by_label("Email or mobile number").fill("098765 43210")
    page.keyboard.press("Enter")
    expect(page.locator("#previous-bills")).to_contain_text("No previous bills for +919876543210: a new customer.")
    ring_up_rice(page)

    expect(page.locator("#bill-customer")).to_have_text("+919876543210")
    expect(page.locator("#customer-bills")).to_be_visible()
    assert list(Customer.objects.values_list("email", "phone")) == [(None, "+919876543210")]


def test_the_box_left_empty_rings_up_a_walk_in_sale(page, live_server, store):
    log_in(page, live_server)

    expect(page.locator("#previous-bills")).to_contain_text("leave it empty for a walk-in sale")
    ring_up_rice(page)

    expect(page.locator("#bill-customer")).to_have_text("Walk-in customer")
    expect(page.locator("#customer-bills")).to_have_count(0)
    bill = Purchase.objects.get()
    assert bill.customer is None and bill.invoice_status == "skipped"


def test_a_bad_number_is_refused_next_to_the_box(page, live_server, store):
    log_in(page, live_server)

    page.get_by_label("Email or mobile number").fill("12345")
    page.locator("#id_lines-0-product").fill("RICE-5")
    page.get_by_label("500", exact=True).fill("1")
    page.get_by_role("button", name="Generate bill").click()

    expect(page.locator("#id_customer_error")).to_contain_text("or an Indian mobile number")
    assert Purchase.objects.count() == 0
