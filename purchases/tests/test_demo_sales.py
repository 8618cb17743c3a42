"""``seed_demo --sales``: a month of demo bills and refunds for the sales dashboard, rung up
through the services day by day, added once; and the shop it leaves, ready to trade."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db.models import F, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from cashdrawer.models import DrawerMovement, TillSession
from cashdrawer.selectors import drawer_audit
from catalog.models import Product
from catalog.stock import stock_audit
from purchases.management.commands.seed_demo import KEPT_LOW, PRODUCTS
from purchases.models import Purchase, PurchaseItem, Refund
from purchases.numbering import financial_year
from purchases.sales_report import sales_report
from purchases.tests.demo_store import seed

pytestmark = pytest.mark.django_db


def test_seed_demo_without_sales_rings_up_nothing():
    seed()
    assert not Purchase.objects.exists()


def test_seed_demo_sales_fills_the_last_30_days_once():
    out = seed("--sales")

    bills, refunds = Purchase.objects.count(), Refund.objects.count()
    assert bills > 100 and refunds > 0
    assert f"Sales: {bills} demo bills and {refunds} refunds" in out
    now = timezone.now()
    days = {timezone.localtime(at).date() for at in Purchase.objects.values_list("created_at", flat=True)}
    assert len(days) >= 25  # spread over the month, not all today
    assert min(days) >= timezone.localdate() - timedelta(days=29)
    assert not Purchase.objects.filter(created_at__gt=now).exists()
    assert not Refund.objects.filter(created_at__gt=now).exists()
    for refund in Refund.objects.select_related("purchase"):
        assert refund.created_at > refund.purchase.created_at
    assert not PurchaseItem.objects.exclude(created_at=F("purchase__created_at")).exists()
    past = min(days)
    by_day = sales_report(date_from=past, date_to=past)
    by_product = sales_report(date_from=past, date_to=past, group_by="product")
    assert by_day["totals"]["bills"] > 0
    assert sum(row["net_sales"] for row in by_product["rows"]) == by_day["totals"]["net_sales"]
    report = sales_report()
    assert report["totals"]["bills"] == bills
    assert report["totals"]["discounts"] > 0 and report["totals"]["refunds"] > 0
    assert {row["payment_method"] for row in sales_report(group_by="payment_method")["rows"]} >= {"cash", "card", "upi"}

    again = seed("--sales")

    assert "no demo sales added" in again
    assert (Purchase.objects.count(), Refund.objects.count()) == (bills, refunds)


# --- The shop the demo month leaves: ready to trade ------------------------------------------------

# A fixed "now" for the demo month, so these tests see the same month whatever day they run.
NOW = datetime(2026, 12, 5, 11, 30, tzinfo=ZoneInfo("Asia/Kolkata"))


@pytest.fixture
def demo_month(settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    with time_machine.travel(NOW):
        return seed("--sales")


def test_the_demo_month_ends_restocked_with_one_product_kept_low(demo_month, settings):
    busiest_day: dict[int, int] = {}  # product id: the most it sold in one day
    by_day = (
        PurchaseItem.objects.annotate(day=TruncDate("created_at"))
        .values("product_id", "day")
        .annotate(quantity=Sum("quantity"))
    )
    for row in by_day:
        busiest_day[row["product_id"]] = max(busiest_day.get(row["product_id"], 0), row["quantity"])
    assert "Stock: " in demo_month and f"{KEPT_LOW} is kept low" in demo_month
    products = list(Product.objects.all())
    assert len(products) == len(PRODUCTS)
    for product in products:
        if product.sku == KEPT_LOW:
            assert 0 < product.stock < settings.LOW_STOCK_THRESHOLD, product.sku
        else:  # enough for the busiest day the demo had, and not flagged low
            assert product.stock >= max(busiest_day.get(product.pk, 0), settings.LOW_STOCK_THRESHOLD), product.sku
    assert busiest_day  # the month did sell, so a restock had something to make up


def test_the_demo_leaves_no_session_open_and_every_session_closed_without_variance(demo_month):
    sessions = list(TillSession.objects.all())

    assert len(sessions) >= 25  # a session a trading day
    assert not TillSession.objects.filter(status=TillSession.Status.OPEN).exists()
    for session in sessions:
        assert session.status == TillSession.Status.CLOSED
        assert session.opening_variance == 0 and not session.auto_opened
        assert session.variance_total == 0 and session.variance == []
        assert session.closing_counted == session.expected
        report, closed_at = session.report, session.closed_at
        assert report is not None and closed_at is not None
        assert report["cash"]["uncounted_cash"] == "0.00"  # every cash bill paid with its notes
        assert report["cash"]["counted"] == report["cash"]["expected"]
        assert timezone.localdate(session.opened_at) == timezone.localdate(closed_at)
    assert drawer_audit().ok
    assert stock_audit().problems == []
    # Every bill and refund is in the session of its day, within its hours.
    documents: list[Purchase | Refund] = [
        *Purchase.objects.select_related("session"),
        *Refund.objects.select_related("session"),
    ]
    for document in documents:
        assert document.session is not None and document.session.closed_at is not None
        assert document.session.opened_at <= document.created_at <= document.session.closed_at


def test_cash_bills_put_their_notes_in_the_drawer(demo_month):
    cash_bills = Purchase.objects.filter(cash_paid__gt=0)

    assert cash_bills.count() > 30
    assert not cash_bills.exclude(drawer_movements__kind=DrawerMovement.Kind.TENDER_IN).exists()
    assert cash_bills.filter(change_due__gt=0).exists()  # change handed back from the drawer, too


@pytest.mark.parametrize("model", [Purchase, Refund])
def test_the_demo_numbers_every_series_in_date_order(demo_month, model):
    _assert_numbers_follow_dates(model)


def test_a_demo_month_across_the_financial_year_numbers_each_year_in_date_order(settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    with time_machine.travel(datetime(2027, 4, 12, 20, 0, tzinfo=ZoneInfo("Asia/Kolkata"))):
        seed("--sales")

    years = {(number or "").split("/")[1] for number in Purchase.objects.values_list("number", flat=True)}
    assert years == {"2627", "2728"}
    _assert_numbers_follow_dates(Purchase)
    _assert_numbers_follow_dates(Refund)


def _assert_numbers_follow_dates(model) -> None:
    """In each series and financial year: numbers 1, 2, 3… in the order of the documents' times, each
    in the financial year of its date."""
    by_series: dict[tuple[str, str], list] = {}
    for number, created_at in model.objects.order_by("created_at", "id").values_list("number", "created_at"):
        assert number
        series, year, sequence = number.split("/")
        assert year == financial_year(created_at), number
        by_series.setdefault((series, year), []).append(int(sequence))
    assert by_series
    for sequences in by_series.values():
        assert sequences == list(range(1, len(sequences) + 1))
