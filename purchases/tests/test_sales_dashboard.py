"""The admin's "Sales" page (``/admin/sales/``): who may open it, the figures in its tables, its
CSV links and its answer to a bad range. The charts themselves are tested in the browser
(``test_sales_dashboard_browser.py``)."""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from billing_project.core.money import format_money
from catalog.tests.factories import ProductFactory
from purchases.services import purchase_create, refund_create

pytestmark = pytest.mark.django_db

URL = "/admin/sales/"


@pytest.fixture
def sales(drawer):
    """Two bills and a refund, rung up today through the services."""
    rice = ProductFactory(name="Basmati rice 5 kg", price=Decimal("45.50"), tax_percent=Decimal("5"), stock=10)
    soap = ProductFactory(name="Sandal soap", price=Decimal("36.50"), tax_percent=Decimal("12"), stock=10)
    first = purchase_create(
        customer_email="ann@example.com",
        items=[{"product_id": rice.pk, "quantity": 2}],  # 91.00 + 4.55 tax = 95.55
        paid_amount=Decimal("96"),
    )
    second = purchase_create(
        customer_email="bob@example.com",
        items=[{"product_id": soap.pk, "quantity": 1}],  # 36.50 + 4.38 tax = 40.88
        payments=[{"method": "card", "amount": Decimal("40.88"), "reference": "SLIP-1"}],
    )
    refund = refund_create(purchase_id=first.pk, items=[{"product_id": rice.pk, "quantity": 1}], reason="torn bag")
    return {"rice": rice, "soap": soap, "bills": [first, second], "refund": refund}


def _search(pattern: str, text: str) -> str:
    match = re.search(pattern, text, re.DOTALL)
    assert match, pattern
    return match.group(1) if match.groups() else match.group(0)


def _table(html: str, table_id: str, part: str = "table") -> str:
    """The HTML inside ``<table id=…>``, or inside its ``part`` (``tbody``, ``tfoot``)."""
    match = re.search(rf'<table id="{table_id}">(.*?)</table>', html, re.DOTALL)
    assert match, f"no table #{table_id}"
    inner = match.group(1)
    if part != "table":
        inner = _search(rf"<{part}>(.*?)</{part}>", inner)
    return unescape(inner)


def _csv_links(html: str) -> dict[str, str]:
    links = re.findall(r'<section[^>]* id="block-([a-z-]+)".*?<a class="sales-csv" href="([^"]+)"', html, re.DOTALL)
    return {block: unescape(href) for block, href in links}


def test_a_cashier_may_not_open_the_sales_page(cashier_client):
    assert cashier_client.get(URL).status_code == 403


def test_a_visitor_who_is_not_logged_in_is_sent_to_the_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_the_index_links_the_sales_page_for_a_manager(manager_client):
    assert f'href="{URL}"' in manager_client.get("/admin/").content.decode()


def test_the_index_has_no_sales_link_for_a_cashier(cashier_client):
    index = cashier_client.get("/admin/")
    assert index.status_code == 200
    assert f'href="{URL}"' not in index.content.decode()


def test_a_manager_sees_the_last_30_days_by_default(manager_client):
    response = manager_client.get(URL)

    assert response.status_code == 200
    today = timezone.localdate()
    form = response.context["form"]
    assert form.initial["date_from"] == today - timedelta(days=29)
    assert form.initial["date_to"] == today
    html = response.content.decode()
    assert f'value="{(today - timedelta(days=29)).isoformat()}"' in html
    assert _table(html, "table-day", "tbody").count("<tr>") == 30
    assert _table(html, "table-hour", "tbody").count("<tr>") == 24


def test_the_tables_hold_the_bills_and_refunds_figures(manager_client, sales):
    first, second = sales["bills"]
    refund = sales["refund"]
    assert (first.total, second.total) == (Decimal("95.55"), Decimal("40.88"))
    net_sales = first.total + second.total
    refunds = refund.total
    margin = (
        first.subtotal + second.subtotal - refund.subtotal - (first.cost_total + second.cost_total - refund.cost_total)
    )

    html = manager_client.get(URL).content.decode()

    totals = unescape(_search(r'<dl class="sales-totals".*?</dl>', html))
    assert '<dd id="total-bills">2</dd>' in totals
    assert format_money(net_sales) in totals
    assert format_money(refunds) in totals
    assert format_money(net_sales - refunds) in totals

    today = timezone.localdate()
    day = _table(html, "table-day")
    today_row = _search(rf"<tr><th scope=\"row\">{today:%a} {today.day} {today:%b}</th>(.*?)</tr>", day)
    assert today_row == (
        f"<td>2</td><td>{format_money(net_sales)}</td><td>{format_money(refunds)}</td>"
        f"<td>{format_money(net_sales - refunds)}</td><td>{format_money(margin)}</td>"
    )

    products = _table(html, "table-product")
    rows = re.findall(r"<tr><th scope=\"row\">(.*?)</th>(.*?)</tr>", products)
    assert [name for name, _ in rows] == ["Basmati rice 5 kg", "Sandal soap"]  # best first, net of refunds
    assert rows[0][1].startswith("<td>2</td><td>1</td>")  # sold 2, one returned
    assert format_money(first.total - refund.total) in rows[0][1]

    methods = _table(html, "table-payment-method")
    assert "Cash" in methods and "Card" in methods
    assert format_money(second.total) in methods

    tax = _table(html, "table-tax-rate")
    assert '<th scope="row">5%</th>' in tax and '<th scope="row">12%</th>' in tax
    assert format_money(Decimal("36.50")) in tax  # the soap's taxable value
    assert format_money(Decimal("4.38")) in tax  # and its tax


def test_each_chart_has_its_data_for_the_script(manager_client, sales):
    html = manager_client.get(URL).content.decode()

    for chart in ("chart-day", "chart-hour", "chart-product", "chart-payment-method"):
        assert f'<canvas id="{chart}" role="img"' in html
        assert f'<script id="{chart}-data" type="application/json">' in html
    assert "chart.umd.min.js" in html
    assert "<script>" not in html  # no inline script: the CSP allows none without a nonce


@pytest.mark.parametrize(("grouping", "locale"), [("indian", "en-IN"), ("international", "en-US")])
def test_each_chart_groups_digits_as_the_tables_do(manager_client, sales, settings, grouping, locale):
    settings.NUMBER_GROUPING = grouping

    html = manager_client.get(URL).content.decode()

    assert html.count(f'data-number-locale="{locale}"') == 4


def test_every_block_has_a_csv_link_that_downloads_its_rows(manager_client, sales):
    html = manager_client.get(URL).content.decode()
    links = _csv_links(html)
    assert set(links) == {"day", "hour", "product", "payment-method", "tax-rate"}

    for block, href in links.items():
        response = manager_client.get(href)
        assert response.status_code == 200, (block, href)
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        header = rows[0]
        assert "net_after_refunds" in header
        if block == "product":
            names = [row[header.index("product_name")] for row in rows[1:]]
            assert names == ["Basmati rice 5 kg", "Sandal soap"]
        if block == "day":
            assert len(rows) == 1 + 30


def test_the_page_links_the_months_gstr1_as_json_and_csv_sections(manager_client, sales):
    today = timezone.localdate()
    html = manager_client.get(URL, {"date_from": today.isoformat(), "date_to": today.isoformat()}).content.decode()
    assert f"GSTR-1 for {today:%B %Y}" in html
    json_url = unescape(_search(r'id="gstr1-json" href="([^"]+)"', html))
    assert f"period={today:%Y-%m}" in json_url
    body = manager_client.get(json_url).json()
    assert body["fp"] == f"{today:%m%Y}"
    assert sum(len(series["docs"]) for series in body["doc_issue"]["doc_det"]) >= 1
    sections = {}
    for href in re.findall(r'class="gstr1-csv" href="([^"]+)"', html):
        href = unescape(href)
        response = manager_client.get(href)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv"), href
        sections[_search(r"section=(\w+)", href)] = response.content.decode()
    assert set(sections) == {"b2b", "b2cl", "b2cs", "cdnr", "cdnur", "hsn", "docs"}
    assert sections["b2cs"].startswith("Type,Place Of Supply")


def test_the_csv_links_keep_the_chosen_range_and_till(manager_client, sales):
    till = sales["bills"][0].till_id
    today = timezone.localdate()
    html = manager_client.get(URL, {"date_from": today.isoformat(), "date_to": today.isoformat(), "till": till})
    links = _csv_links(html.content.decode())
    assert f"date_from={today.isoformat()}" in links["day"]
    assert f"till={till}" in links["day"]
    rows = list(csv.reader(io.StringIO(manager_client.get(links["day"]).content.decode())))
    assert len(rows) == 2  # the header and today


@pytest.mark.parametrize(
    ("date_from", "date_to", "message"),
    [
        ("2026-03-10", "2026-03-01", "“From” is after “To”"),
        ("2025-01-01", "2026-01-02", "the period is 367 days long, and a report covers at most 366 days"),
        ("2026-02-30", "2026-03-01", "valid date"),
        ("9999-12-31", "9999-12-31", "a report covers days from 2000-01-01 to 2999-12-31"),
    ],
)
def test_a_bad_range_is_an_error_message_not_a_server_error(manager_client, date_from, date_to, message):
    response = manager_client.get(URL, {"date_from": date_from, "date_to": date_to})

    assert response.status_code == 200
    errors = [str(m) for m in get_messages(response.wsgi_request)]
    assert len(errors) == 1 and message in errors[0]
    assert errors[0] in unescape(response.content.decode())
    assert response.context["blocks"] is None
    assert "<canvas" not in response.content.decode()


def test_an_unknown_till_is_an_error_message(manager_client):
    response = manager_client.get(URL, {"till": "999999"})

    assert response.status_code == 200
    errors = [str(m) for m in get_messages(response.wsgi_request)]
    assert len(errors) == 1 and "Till" in errors[0]


def test_the_till_filter_shows_only_that_tills_sales(manager_client, sales):
    from cashdrawer.services import till_create

    other = till_create(code="T9", name="Back counter")
    response = manager_client.get(URL, {"till": other.pk})

    assert response.status_code == 200
    assert response.context["blocks"]["totals"]["bills"] == 0
    assert response.context["form"].initial["till"] == other


def test_the_page_reads_a_fixed_number_of_queries_however_many_bills(
    manager_client, sales, django_assert_max_num_queries
):
    # The session, the user, five reports (each in its own read transaction), the tills, and the
    # user's stores (the store choice and the scope of each report).
    with django_assert_max_num_queries(47) as captured:
        manager_client.get(URL)
    few = len(captured)
    rice = sales["rice"]
    for n in range(3):
        purchase_create(
            customer_email=f"c{n}@example.com",
            items=[{"product_id": rice.pk, "quantity": 1}],
            paid_amount=Decimal("48"),
        )

    with django_assert_max_num_queries(few) as captured:
        manager_client.get(URL)


def test_a_report_past_its_statement_timeout_is_an_error_message(manager_client, monkeypatch):
    from django.db import OperationalError

    class QueryCanceled(Exception):
        sqlstate = "57014"  # PostgreSQL's statement_timeout

    def too_slow(**kwargs):
        raise OperationalError("canceling statement due to statement timeout") from QueryCanceled()

    monkeypatch.setattr("purchases.sales_dashboard.sales_report", too_slow)

    response = manager_client.get(URL)

    assert response.status_code == 200
    errors = [str(m) for m in get_messages(response.wsgi_request)]
    assert errors == ["The report was not run: it took longer than a report may. Try a shorter period or one till."]
