"""The till pages in real headless Chromium (Debian's chromium, driven by Playwright)."""

import re
from decimal import Decimal

import pytest

from billing_project.core.testing.browser import CHROMIUM, expect, log_in
from cashdrawer.models import TillSession
from cashdrawer.services import denomination_create, till_create

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


@pytest.fixture
def till(cashier_user):
    """A drawer holding ₹301.50 (3 × 100, 3 × 0.50), as the ledger says."""
    t = till_create(code="T5", name="Garden")
    denomination_create(value=Decimal("100"), count=3, till=t)
    denomination_create(value=Decimal("0.50"), count=3, till=t)
    return t


def _at_the_till(page, live_server):
    log_in(page, live_server)
    page.goto(f"{live_server.url}/billing/till/")
    page.get_by_label(re.compile("T5")).check()
    page.get_by_role("button", name="Use this till").click()
    expect(page.locator("#till-code")).to_have_text("T5")


def test_pick_open_with_a_live_total_then_close_blind_and_print_the_z_report(page, live_server, till):
    _at_the_till(page, live_server)
    expect(page.locator("#till-session")).to_contain_text("no open session")

    page.get_by_role("link", name="Open till").click()
    page.get_by_label("0.50").fill("3")
    page.get_by_label("100.00").fill("1500")
    expect(page.locator("#live-total")).to_have_text("1,50,001.50")  # grouped as the server groups (INR)
    page.get_by_label("100.00").fill("3")
    expect(page.locator("#live-total")).to_have_text("301.50")
    page.get_by_role("button", name="Open till").click()
    session = TillSession.objects.get(till=till)
    expect(page.locator("#till-session")).to_have_text(f"#{session.pk}")

    page.get_by_role("link", name="Close till").click()
    expect(page.locator("body")).not_to_contain_text("301.50")  # blind: nothing expected is shown
    page.get_by_label("100.00").fill("3")
    page.get_by_label("0.50").fill("3")
    page.get_by_role("button", name="Close till").click()

    # Closed at once (no variance), and still blind for the cashier: no expected, no over/short.
    expect(page.locator("#z-report-title")).to_have_text("Z report")
    expect(page.locator("#report-expected")).to_have_count(0)
    expect(page.locator("#over-short")).to_have_count(0)
    assert TillSession.objects.get(pk=session.pk).variance_total == 0
    page.emulate_media(media="print")
    width = page.locator("#z-report").evaluate("el => el.getBoundingClientRect().width")
    assert width <= 80 / 25.4 * 96  # fits an 80 mm receipt
    assert TillSession.objects.get(pk=session.pk).status == "closed"


def test_a_cashiers_open_short_of_the_ledger_is_refused_on_the_page_with_the_count_kept(page, live_server, till):
    _at_the_till(page, live_server)
    page.get_by_role("link", name="Open till").click()
    page.get_by_label("100.00").fill("1")
    page.get_by_label("0.50").fill("3")
    page.get_by_label("Note").fill("shift two")
    page.get_by_role("button", name="Open till").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("short by ₹200.00")
    expect(alert).to_contain_text("a manager opens the till")
    expect(page.get_by_label("100.00")).to_have_value("1")
    expect(page.get_by_label("0.50")).to_have_value("3")
    expect(page.get_by_label("Note")).to_have_value("shift two")
    expect(page.locator("#live-total")).to_have_text("101.50")
    assert not TillSession.objects.filter(till=till).exists()
