"""The Content-Security-Policy in real headless Chromium: every page a cashier or a manager can reach
loads without a CSP violation, a console error or an uncaught script error. Uses Debian's
/usr/bin/chromium; never downloads a browser.

The admin's pages are derived from the admin site itself (``get_app_list`` and each model admin's
URLs), so a model admin added later is walked without touching this file; the fixture ``shop``
has to hold one record of each model for its change pages (a test below says which is missing)."""

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from http import HTTPStatus
from typing import TYPE_CHECKING

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import Client, RequestFactory
from django.urls import NoReverseMatch, URLPattern, reverse

from billing_project.core.testing.browser import CHROMIUM, PASSWORD, TIMEOUT_MS
from billing_project.core.tokens import api_token_issue
from cashdrawer.browser import TILL_COOKIE
from cashdrawer.models import TillSession
from cashdrawer.services import (
    cash_movement_create,
    denomination_create,
    manager_pin_set,
    override_grant,
    session_close,
    session_open,
    till_create,
)
from cashdrawer.tests.factories import drawer_with
from catalog.stock import adjustment_create, receipt_create, stock_count_open, stock_count_record, supplier_save
from catalog.stores import default_store_id
from catalog.tests.factories import ProductFactory, StoreFactory
from catalog.transfers import transfer_create
from customers.tests.factories import UserFactory
from purchases.services import held_bill_create, purchase_create, refund_create

if TYPE_CHECKING:
    from playwright.sync_api import Page


pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
expect.set_options(timeout=TIMEOUT_MS)  # the shared wait: a loaded CI machine has taken over 15 s

FAILED_LOAD = "Failed to load resource: the server responded with a status of"

# Collects every violation the page reports, even one without a console message.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


@dataclass
class Watched:
    """What went wrong on the pages one browser tab loaded: console errors (CSP violations among
    them, "Refused to …"), uncaught script errors and violations seen by the page itself."""

    page: "Page"
    problems: list[str] = field(default_factory=list)
    # A page answered with an error status on purpose (the 403 and 404 pages) logs the failed load of
    # its own document; that one message is expected, anything else on it is not.
    expected_status: tuple[str, int, str] | None = None

    def console(self, message) -> None:
        if message.type != "error":
            return
        text = message.text
        if self.expected_status is not None:
            url, status, phrase = self.expected_status
            if self.page.url == url and text == f"{FAILED_LOAD} {status} ({phrase})":
                return
        self.problems.append(f"{self.page.url}: console error: {text}")

    def page_error(self, error) -> None:
        self.problems.append(f"{self.page.url}: uncaught error: {error}")

    def assert_clean(self) -> None:
        self.collect()
        assert not self.problems, "\n".join(self.problems)

    def collect(self) -> None:
        """The violations the page recorded itself since the last look."""
        for violation in self.page.evaluate("(window.__cspViolations || []).splice(0)"):
            self.problems.append(f"{self.page.url}: CSP violation: {violation}")


@pytest.fixture
def watched(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    watch = Watched(page)
    page.on("console", watch.console)
    page.on("pageerror", watch.page_error)
    yield watch
    context.close()


def _log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def _visit(watch: Watched, live_server, path: str, *, status: int = 200) -> None:
    """Load ``path`` and check it answered ``status`` (so the walk cannot skip a page quietly)."""
    url = f"{live_server.url}{path}"
    watch.expected_status = (url, status, HTTPStatus(status).phrase) if status != 200 else None
    response = watch.page.goto(url, wait_until="load")
    assert response is not None and response.status == status, f"{path}: {response and response.status}"
    watch.collect()


# --- A shop with one of everything -------------------------------------------------------------


@pytest.fixture
def shop(cashier_user, manager_user, settings):
    """Records for every page to show: bills with discounts, split and cash payments, a refund, an
    open and a closed till session with cash moved, login records and an API token."""
    settings.CASHIER_MAX_DISCOUNT_PERCENT = Decimal("10")
    manager_user.user_permissions.add(Permission.objects.get(codename="add_refund"))
    drawer_with({"500": 4, "100": 10, "50": 4, "20": 10, "10": 10, "5": 10, "2": 10, "1": 10})
    rice = ProductFactory(sku="RICE-5", name="Basmati rice 5 kg", price=Decimal("250.00"), tax_percent=5, stock=40)
    soap = ProductFactory(sku="SOAP-1", name="Sandal soap", price=Decimal("36.50"), tax_percent=12, stock=3)
    discounted = purchase_create(
        customer_email="ann@example.com",
        items=[
            {"product_id": rice.pk, "quantity": 2, "discount_percent": Decimal("5")},
            {"product_id": soap.pk, "quantity": 1},
        ],
        discount_percent=Decimal("5"),
        discount_reason="loyal customer",
        payments=[
            {"method": "card", "amount": Decimal("100.00"), "reference": "SLIP-1"},
            {"method": "cash", "amount": Decimal("500"), "tendered": [{"value": Decimal("500"), "count": 1}]},
        ],
        user=manager_user,
    )
    cash_bill = purchase_create(
        customer_email="bob@example.com",
        items=[{"product_id": rice.pk, "quantity": 1}],
        paid_amount=Decimal("300"),
        tendered=[{"value": Decimal("100"), "count": 3}],
        user=cashier_user,
    )
    refund = refund_create(
        purchase_id=cash_bill.pk, items=[{"product_id": rice.pk, "quantity": 1}], reason="torn bag", user=manager_user
    )
    open_session = TillSession.objects.get(status="open")
    cash_movement_create(
        session_id=open_session.pk,
        direction="in",
        pieces=[{"value": Decimal("100"), "count": 2}],
        reason="float top-up",
        user=manager_user,
    )
    # A second till, opened and closed: its Z report; with no session open, its open page.
    spare = till_create(code="T2", name="Garden")
    denomination_create(value=Decimal("100"), count=2, till=spare)
    spare_session = session_open(till_id=spare.pk, counted=[{"value": Decimal("100"), "count": 2}], user=cashier_user)
    session_close(
        session_id=spare_session.pk, counted=[{"value": Decimal("100"), "count": 2}], note="all good", user=cashier_user
    )
    # A manager's override, granted and used, for the audit list.
    manager_pin_set(user=manager_user, pin="4321")
    granted = override_grant(username="manager", pin="4321", action="cash_movement", user=cashier_user)
    cash_movement_create(
        session_id=open_session.pk,
        direction="in",
        pieces=[{"value": Decimal("10"), "count": 1}],
        reason="coins",
        user=cashier_user,
        override_token=granted.token,
    )
    # The stock ledger's back office: a supplier, goods received, an adjustment, a count in progress.
    supplier = supplier_save(name="Sharma Wholesale", gstin="27AAPFU0939F1ZV")
    receipt_create(
        supplier=supplier.pk,
        supplier_invoice="SW/118",
        invoice_date=date(2026, 1, 5),
        lines=[{"product_id": rice.pk, "quantity": 10, "unit_cost": "200.00", "tax_percent": "5"}],
        user=manager_user,
    )
    adjustment_create(lines=[{"product_id": soap.pk, "quantity": -1}], reason="damaged", user=manager_user)
    count = stock_count_open(product_ids=[rice.pk, soap.pk], user=manager_user)
    stock_count_record(count_id=count.pk, product_id=rice.pk, counted=45, user=manager_user)
    # Goods on their way to a second store.
    transfer_create(
        from_store=default_store_id(),
        to_store=StoreFactory(code="NORTH", name="North").pk,
        lines=[{"product_id": rice.pk, "quantity": 2}],
        note="weekly",
        user=manager_user,
    )
    held_bill_create(
        till=open_session.till_id,
        items=[{"product_id": rice.pk, "quantity": 2}],
        customer_email="carol@example.com",
        note="back in a minute",
        user=cashier_user,
    )
    api_token_issue(user=cashier_user)
    login = {"user_agent": "Mozilla/5.0", "ip_address": "192.0.2.7", "username": "cashier", "path_info": "/login/"}
    AccessAttempt.objects.create(**login, http_accept="*/*", get_data="", post_data="", failures_since_start=1)
    AccessLog.objects.create(**login, http_accept="*/*")
    AccessFailureLog.objects.create(**login, http_accept="*/*")
    return {
        "bills": [discounted, cash_bill],
        "refund": refund,
        "open_session": open_session,
        "closed_session": spare_session,
        "spare_till": spare,
        "no_role": UserFactory(username="newhire", is_staff=False),
    }


# --- The pages ---------------------------------------------------------------------------------

STANDARD_ADMIN_VIEWS = ("changelist", "add", "change", "history", "delete")


def admin_pages(user) -> list[str]:
    """Every admin page ``user`` may open: the index, the site's own pages, and for each model the
    admin shows them (``get_app_list``) its list, add page, and the change, history and delete pages
    of its first record, plus any extra page its model admin adds (an import). Which of those the
    user may open is checked by ``_reachable`` with the admin's own answer."""
    request = RequestFactory().get("/admin/")
    request.user = user
    site = admin.site
    pages = [reverse("admin:index"), reverse("admin:password_change"), reverse("admin:sales_report")]
    for app in site.get_app_list(request):
        pages.append(app["app_url"])
        for entry in app["models"]:
            model = entry["model"]
            pages.append(entry["admin_url"])
            record = model._default_manager.order_by("pk").first()
            for pattern in site.get_model_admin(model).get_urls():
                pages.extend(_admin_urls(pattern, record))
    return list(dict.fromkeys(pages))


def _admin_urls(pattern: URLPattern, record) -> list[str]:
    if not pattern.name:
        return []  # "<id>/": a redirect to the change page
    parameters = set(pattern.pattern.converters) if hasattr(pattern.pattern, "converters") else set()
    if not parameters:
        try:
            return [reverse(f"admin:{pattern.name}")]
        except NoReverseMatch:
            return []
    if record is None or len(parameters) != 1:
        return []
    return [reverse(f"admin:{pattern.name}", args=[record.pk])]


def _reachable(user, paths: list[str]) -> list[str]:
    """The paths the admin answers with a page for ``user`` (not a 403, a redirect or a 404)."""
    client = Client()
    client.force_login(user)
    return [path for path in paths if client.get(path).status_code == 200]


def billing_pages(shop) -> list[str]:
    discounted, cash_bill = shop["bills"]
    return [
        "/billing/",
        f"/billing/bills/{discounted.pk}/",
        f"/billing/bills/{cash_bill.pk}/",
        "/billing/history/",
        "/billing/history/?email=ann%40example.com",
        f"/billing/refunds/{shop['refund'].pk}/",
        "/billing/till/",
        "/billing/till/close/",
        f"/billing/till/sessions/{shop['open_session'].pk}/report/",
        f"/billing/till/sessions/{shop['closed_session'].pk}/report/",
    ]


def api_pages(shop) -> list[str]:
    bill = shop["bills"][0]
    return [
        "/api/v1/",
        "/api/v1/products",
        "/api/v1/purchases",
        f"/api/v1/purchases/{bill.pk}",
        f"/api/v1/sessions/{shop['open_session'].pk}/report",
    ]


def _walk(watch: Watched, live_server, paths: list[str]) -> None:
    for path in paths:
        _visit(watch, live_server, path)


def _api_docs(watch: Watched, live_server) -> None:
    _visit(watch, live_server, "/api/docs/")
    expect(watch.page.locator(".opblock").first).to_be_visible()
    _visit(watch, live_server, "/api/redoc/")
    expect(watch.page.get_by_text("/api/v1/purchases").first).to_be_attached()
    # Redoc draws its sidebar (and anything it loads for it) after the page's load event.
    expect(watch.page.locator(".menu-content")).to_be_visible()
    watch.page.wait_for_load_state("networkidle")
    watch.collect()


def _billing_page_at_work(watch: Watched, live_server) -> None:
    """The billing page's script: the preview and the previous bills, fetched while typing."""
    page = watch.page
    _visit(watch, live_server, "/billing/")
    page.get_by_label("Email or mobile number").fill("ann@example.com")
    page.keyboard.press("Enter")
    page.keyboard.type("RICE-5")
    page.keyboard.press("Tab")
    expect(page.locator("#line-rows tr[data-line]").nth(0).locator("[data-line-info]")).to_contain_text("Basmati")
    expect(page.locator("#previous-bills")).to_contain_text("Previous bills")
    # Let the preview requests finish before the walk moves on (a navigation would cancel them).
    page.wait_for_load_state("networkidle")
    watch.collect()


def test_every_page_a_cashier_can_reach_is_clean(watched, live_server, shop, cashier_user):
    _log_in(watched.page, live_server, "cashier")
    _billing_page_at_work(watched, live_server)
    _walk(watched, live_server, billing_pages(shop))
    _walk(watched, live_server, api_pages(shop))
    _api_docs(watched, live_server)
    pages = _reachable(cashier_user, admin_pages(cashier_user))
    assert "/admin/purchases/purchase/" in pages and len(pages) > 10
    _walk(watched, live_server, pages)
    # The till with no open session: its open page.
    watched.page.context.add_cookies(
        [{"name": TILL_COOKIE, "value": str(shop["spare_till"].pk), "url": live_server.url}]
    )
    _walk(watched, live_server, ["/billing/till/open/", "/billing/"])
    # A page that is not there.
    _visit(watched, live_server, "/billing/bills/999999999/", status=404)

    watched.assert_clean()


def test_every_page_a_manager_can_reach_is_clean(watched, live_server, shop, manager_user):
    discounted, _ = shop["bills"]
    _log_in(watched.page, live_server, "manager")
    _walk(watched, live_server, billing_pages(shop))
    _walk(watched, live_server, [f"/billing/bills/{discounted.pk}/return/", "/billing/till/cash/"])
    _walk(watched, live_server, api_pages(shop))
    _api_docs(watched, live_server)
    pages = _reachable(manager_user, admin_pages(manager_user))
    for expected in ("/admin/", "/admin/sales/", "/admin/catalog/product/import/", "/admin/catalog/product/add/"):
        assert expected in pages
    _walk(watched, live_server, pages)
    dashboard = watched.page
    _visit(watched, live_server, "/admin/sales/")
    expect(dashboard.locator("#chart-day")).to_be_visible()

    watched.assert_clean()


def test_the_login_pages_and_the_403_page_are_clean(watched, live_server, shop):
    _walk(watched, live_server, ["/accounts/login/", "/admin/login/", "/api-auth/login/"])
    # Logging in lands on the billing page, which this user without a role may not use.
    watched.expected_status = (f"{live_server.url}/billing/", 403, "Forbidden")
    _log_in(watched.page, live_server, "newhire")
    _visit(watched, live_server, "/billing/", status=403)
    expect(watched.page.get_by_role("heading", name="Not allowed")).to_be_visible()

    watched.assert_clean()


def test_the_fixture_has_a_record_for_every_model_in_the_admin(shop, manager_user):
    """The walk opens each model's change page only when there is a record to open."""
    request = RequestFactory().get("/admin/")
    request.user = UserFactory(username="root", is_superuser=True, is_staff=True)
    empty = [
        entry["model"]._meta.label
        for app in admin.site.get_app_list(request)
        for entry in app["models"]
        if not entry["model"]._default_manager.exists()
    ]
    assert empty == [], "add a record of these models to the shop fixture"


# --- What the pages do under the policy ----------------------------------------------------------


def test_the_billing_page_runs_its_script_under_the_csp(watched, live_server, cashier_user):
    ProductFactory(sku="RICE-5", name="Basmati rice 5 kg", price="250.00", tax_percent=5, stock=20)
    page = watched.page
    _log_in(page, live_server, "cashier")
    page.goto(f"{live_server.url}/billing/")
    # Only the page's script fills the row's details in place while typing.
    page.get_by_label("Email or mobile number").fill("ann@example.com")
    page.keyboard.press("Enter")
    expect(page.locator("#id_lines-0-product")).to_be_focused()
    page.keyboard.type("RICE-5")
    page.keyboard.press("Tab")
    row = page.locator("#line-rows tr[data-line]").nth(0)
    expect(row.locator("[data-line-info]")).to_contain_text("Basmati rice 5 kg")

    watched.assert_clean()


def test_the_print_button_of_a_till_report_prints(watched, live_server, shop):
    page = watched.page
    _log_in(page, live_server, "cashier")
    _visit(watched, live_server, f"/billing/till/sessions/{shop['closed_session'].pk}/report/")
    page.evaluate("() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; }")
    page.get_by_role("button", name="Print").click()

    assert page.evaluate("window.__printed") == 1
    watched.assert_clean()


def test_the_browsable_apis_log_out_logs_out(watched, live_server, shop):
    page = watched.page
    _log_in(page, live_server, "cashier")
    _visit(watched, live_server, "/api/v1/")
    page.locator(".navbar .dropdown-toggle").click()
    page.get_by_role("button", name="Log out").or_(page.get_by_role("link", name="Log out")).click()

    page.goto(f"{live_server.url}/billing/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    watched.assert_clean()
