"""The Content-Security-Policy in real headless Chromium: the billing page, the admin, Swagger UI and
Redoc all work under it, with no CSP violation. Uses Debian's /usr/bin/chromium; never downloads a
browser."""

import re
from pathlib import Path

import pytest

from customers.tests.factories import UserFactory

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "pass-word-123"  # customers.tests.factories.UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
expect.set_options(timeout=15_000)

# Collects every violation the page reports, even one without a console message.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.csp_errors = []
    page.on(
        "console",
        lambda message: (
            page.csp_errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    yield page
    context.close()


def _violations(page) -> list[str]:
    return page.csp_errors + page.evaluate("window.__cspViolations || []")


def _log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def test_the_billing_page_runs_its_script_under_the_csp(page, live_server, cashier_user):
    from catalog.tests.factories import ProductFactory

    ProductFactory(sku="RICE-5", name="Basmati rice 5 kg", price="250.00", tax_percent=5, stock=20)
    _log_in(page, live_server, "cashier")
    page.goto(f"{live_server.url}/billing/")
    # Only the page's script fills the row's details in place while typing.
    page.get_by_label("Customer email").fill("ann@example.com")
    page.keyboard.press("Enter")
    expect(page.locator("#id_lines-0-product")).to_be_focused()
    page.keyboard.type("RICE-5")
    page.keyboard.press("Tab")
    row = page.locator("#line-rows tr[data-line]").nth(0)
    expect(row.locator("[data-line-info]")).to_contain_text("Basmati rice 5 kg")

    assert _violations(page) == []


def test_swagger_ui_and_redoc_render_under_the_csp(page, live_server):
    UserFactory(username="docs", is_staff=True, is_superuser=True)
    _log_in(page, live_server, "docs")

    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".opblock").first).to_be_visible()
    assert _violations(page) == []

    page.goto(f"{live_server.url}/api/redoc/")
    expect(page.get_by_text("/api/v1/purchases").first).to_be_attached()
    assert _violations(page) == []


def test_the_admin_works_under_the_csp(page, live_server, manager_user):
    _log_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/admin/")
    expect(page.get_by_text("Back office").first).to_be_visible()
    page.goto(f"{live_server.url}/admin/catalog/product/add/")
    expect(page.locator("input[name='sku']")).to_be_visible()
    page.goto(f"{live_server.url}/admin/knox/authtoken/")
    expect(page.get_by_text("0 auth tokens").or_(page.get_by_text("0 Auth tokens"))).to_be_visible()

    assert _violations(page) == []
