"""The sales dashboard in real headless Chromium: the charts are drawn by the vendored Chart.js
from the page's data, under the CSP, with no console error.

Screenshots: the test's own goes to ``$TEST_ARTIFACTS_DIR`` when set, otherwise to pytest's
temporary directory of the run. ``UPDATE_SCREENSHOTS=1`` also writes the docs'
``docs/sales-dashboard.png`` from a month of demo sales (``purchases.demo_sales``)."""

import os
from decimal import Decimal
from pathlib import Path

import pytest

from billing_project.core.money import format_money
from billing_project.core.testing.browser import CHROMIUM, PASSWORD, TIMEOUT_MS, expect
from cashdrawer.tests.factories import drawer_with
from catalog.tests.factories import ProductFactory
from purchases.demo_sales import demo_sales
from purchases.management.commands.seed_demo import FLOAT, PRODUCTS
from purchases.services import purchase_create, refund_create

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]

DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "sales-dashboard.png"
WIDTH, HEIGHT = 1280, 800
CHARTS = ("chart-day", "chart-hour", "chart-product", "chart-payment-method")

# Every violation of the page's Content-Security-Policy, as the browser reports it.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.fixture
def artifacts_dir(tmp_path_factory) -> Path:
    configured = os.environ.get("TEST_ARTIFACTS_DIR")
    target = Path(configured) if configured else tmp_path_factory.mktemp("sales-dashboard")
    target.mkdir(parents=True, exist_ok=True)
    return target


@pytest.fixture
def manager_page(browser, live_server, manager_user):
    """A page logged in to the admin as the manager, recording console errors and CSP violations."""
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill(manager_user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}/admin/")
    yield page, errors
    context.close()


def _chart_data(page, canvas_id: str) -> dict:
    return page.evaluate(
        """(id) => {
          const chart = Chart.getChart(document.getElementById(id));
          if (!chart) return null;
          return {type: chart.config.type, labels: chart.data.labels,
                  datasets: chart.data.datasets.map((d) => ({label: d.label, data: d.data}))};
        }""",
        canvas_id,
    )


def test_the_dashboard_draws_its_charts_from_real_bills_and_refunds(
    manager_page, live_server, cashier_user, artifacts_dir
):
    drawer_with({"500": 2, "100": 5, "50": 2, "20": 5, "10": 5, "5": 5, "2": 5, "1": 5})
    rice = ProductFactory(name="Basmati rice 5 kg", price=Decimal("250.00"), tax_percent=5, stock=20)
    soap = ProductFactory(name="Sandal soap", price=Decimal("36.50"), tax_percent=12, stock=10)
    first = purchase_create(
        customer_email="ann@example.com",
        items=[{"product_id": rice.pk, "quantity": 2}, {"product_id": soap.pk, "quantity": 1}],  # 525 + 40.88
        paid_amount=Decimal("566"),
        user=cashier_user,
    )
    second = purchase_create(
        customer_email="bob@example.com",
        items=[{"product_id": soap.pk, "quantity": 2}],  # 73.00 + 8.76
        payments=[{"method": "upi", "amount": Decimal("81.76"), "reference": "412345670001"}],
        user=cashier_user,
    )
    refund = refund_create(purchase_id=first.pk, items=[{"product_id": rice.pk, "quantity": 1}], reason="torn bag")
    net_sales = first.total + second.total
    page, errors = manager_page

    page.get_by_role("link", name="Sales dashboard").click()

    expect(page).to_have_url(f"{live_server.url}/admin/sales/")
    expect(page.get_by_role("heading", name="Sales", exact=True)).to_be_visible()
    for canvas in CHARTS:
        expect(page.locator(f"#{canvas}")).to_be_visible()
    page.wait_for_function(
        "ids => window.Chart && ids.every((id) => Chart.getChart(document.getElementById(id)))", arg=list(CHARTS)
    )

    day = _chart_data(page, "chart-day")
    assert day["type"] == "line"
    assert len(day["labels"]) == 30
    assert [d["label"] for d in day["datasets"]] == ["Net sales", "Refunds", "Margin"]
    assert day["datasets"][0]["data"][-1] == float(net_sales)  # today, the last point
    assert day["datasets"][1]["data"][-1] == float(refund.total)
    assert sum(day["datasets"][0]["data"][:-1]) == 0

    hour = _chart_data(page, "chart-hour")
    assert hour["type"] == "bar" and len(hour["labels"]) == 24
    assert sum(hour["datasets"][0]["data"]) == pytest.approx(float(net_sales - refund.total))

    products = _chart_data(page, "chart-product")
    # Net of the refund: rice 525.00 − 262.50 = 262.50, soap 40.88 + 81.76 = 122.64.
    assert products["labels"] == ["Basmati rice 5 kg", "Sandal soap"]
    assert products["datasets"][0]["data"] == [262.5, 122.64]
    methods = _chart_data(page, "chart-payment-method")
    assert set(methods["labels"]) == {"Cash", "UPI"}

    # The charts' tooltips and axes group digits as the tables do (NUMBER_GROUPING, indian for INR).
    assert page.evaluate("Chart.getChart(document.getElementById('chart-day')).options.locale") == "en-IN"
    grouped = "new Intl.NumberFormat('en-IN', {minimumFractionDigits: 2}).format(%s)"
    assert page.evaluate(grouped % "118000") == format_money(Decimal("118000"), sign=False) == "1,18,000.00"
    assert page.evaluate(grouped % "1234567.89") == "12,34,567.89"

    # The tables beside the charts carry the same figures.
    expect(page.locator("#total-net-sales")).to_have_text(format_money(net_sales))
    expect(page.locator("#total-refunds")).to_have_text(format_money(refund.total))
    expect(page.locator("#table-product tbody tr")).to_have_count(2)

    assert page.evaluate("window.__cspViolations") == []
    assert errors == []
    page.screenshot(path=str(artifacts_dir / "sales-dashboard.png"), full_page=True)


def test_a_bad_range_shows_an_error_message_and_no_chart(manager_page, live_server, artifacts_dir):
    page, errors = manager_page
    page.goto(f"{live_server.url}/admin/sales/")
    page.get_by_label("From:", exact=True).fill("2026-03-10")
    page.get_by_label("To:", exact=True).fill("2026-03-01")
    page.get_by_role("button", name="Show").click()

    expect(page.locator(".messagelist .error")).to_contain_text("The report was not run")
    expect(page.locator("canvas")).to_have_count(0)
    expect(page.get_by_label("From:", exact=True)).to_have_value("2026-03-10")  # kept, to correct
    assert errors == []
    page.screenshot(path=str(artifacts_dir / "sales-dashboard-bad-range.png"), full_page=True)


@pytest.mark.skipif(not os.environ.get("UPDATE_SCREENSHOTS"), reason="UPDATE_SCREENSHOTS=1 writes docs/ screenshots")
def test_the_readme_screenshot_of_a_month_of_demo_sales(manager_page, live_server, cashier_user, settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    settings.CURRENCY = "INR"
    for sku, name, price, tax, hsn, _ in PRODUCTS:
        ProductFactory(sku=sku, name=name, price=Decimal(price), tax_percent=Decimal(tax), hsn_code=hsn, stock=400)
    drawer_with(FLOAT)  # the demo's cash bills are paid in notes, the change from the drawer
    made = demo_sales(user=cashier_user)
    assert made["bills"] > 100 and made["refunds"] > 0
    page, errors = manager_page

    page.goto(f"{live_server.url}/admin/sales/")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('chart-payment-method'))")
    assert errors == []
    page.screenshot(path=str(DOCS_SCREENSHOT), full_page=True)
