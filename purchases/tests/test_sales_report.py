"""sales_report against the database: the definitions, the validation, local days, the CSV."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from billing_project.core.testing.db_settings import current_settings, settings_at_each_statement
from cashdrawer.errors import TillNotFound
from catalog.tests.factories import ProductFactory
from purchases.errors import ReportGroupingInvalid, ReportRangeInvalid
from purchases.models import Purchase, PurchaseItem, Refund
from purchases.pricing import quote
from purchases.sales_report import FIELDS, GROUPINGS, MAX_DAYS, sales_report, sales_report_csv_rows
from purchases.services import purchase_create, refund_create

pytestmark = pytest.mark.django_db

D = Decimal
ZERO = D("0")
KOLKATA = ZoneInfo("Asia/Kolkata")


@pytest.fixture(autouse=True)
def kolkata(settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    timezone.deactivate()


def ring_up(*lines, at: datetime | None = None, discount=ZERO, **kwargs) -> Purchase:
    products = {p.pk: p for p, _ in lines}
    if "payments" not in kwargs:
        kwargs["paid_amount"] = quote(products, {p.pk: q for p, q in lines}, bill_discount=discount).payable
    bill = purchase_create(
        customer_email="ann@example.com",
        items=[{"product_id": p.pk, "quantity": q} for p, q in lines],
        discount_percent=discount,
        discount_reason="loyal" if discount else "",
        **kwargs,
    )
    if at is not None:
        move_bill(bill, at)
    return bill


def move_bill(bill: Purchase, at: datetime) -> None:
    """Back-date a bill; its lines carry its time, as purchase_create writes them."""
    Purchase.objects.filter(pk=bill.pk).update(created_at=at)
    PurchaseItem.objects.filter(purchase=bill).update(created_at=at)


def take_back(bill, *lines, at: datetime | None = None) -> Refund:
    refund = refund_create(
        purchase_id=bill.pk, items=[{"product_id": p.pk, "quantity": q} for p, q in lines], reason="faulty"
    )
    if at is not None:
        Refund.objects.filter(pk=refund.pk).update(created_at=at)
    return refund


@pytest.fixture
def rice():
    return ProductFactory(name="Rice", price=D("45.50"), tax_percent=D("5"), stock=100)


@pytest.fixture
def oil():
    return ProductFactory(name="Oil", price=D("199.99"), tax_percent=D("18"), stock=100)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=KOLKATA)


def test_a_bill_counts_on_its_local_day_and_a_refund_on_its_own(drawer, rice, oil):
    day = date(2026, 3, 10)
    # 00:30 in Kolkata is 19:00 UTC of the day before: the local day is what counts.
    bill = ring_up((rice, 2), (oil, 1), at=local(day, 0, 30))
    take_back(bill, (rice, 1), at=local(day + timedelta(days=2), 23, 50))

    report = sales_report(date_from=day - timedelta(days=1), date_to=day + timedelta(days=2), group_by="day")

    by_day = {row["day"]: row for row in report["rows"]}
    assert [row["day"] for row in report["rows"]] == [day + timedelta(days=n) for n in range(-1, 3)]
    assert by_day[day - timedelta(days=1)]["bills"] == 0
    sold = by_day[day]
    assert sold["bills"] == 1
    assert sold["gross"] == D("290.99")  # 2 × 45.50 + 199.99
    assert sold["net_sales"] == bill.total
    assert sold["refunds"] == D("0.00")
    back = by_day[day + timedelta(days=2)]
    assert back["bills"] == 0
    assert back["refunds"] == D("47.78")
    assert back["net_after_refunds"] == D("-47.78")
    assert back["tax"] == D("-2.28")
    assert report["totals"]["net_after_refunds"] == bill.total - D("47.78")
    assert report["totals"]["tax"] == bill.tax_total - D("2.28")


def test_every_grouping_adds_up_to_the_totals(drawer, rice, oil):
    day = timezone.localdate()
    bill = ring_up((rice, 3), (oil, 2), discount=D("5"))
    ring_up((oil, 1))
    take_back(bill, (oil, 1))
    for group_by in GROUPINGS:
        report = sales_report(date_from=day, date_to=day, group_by=group_by)
        for field in FIELDS[1:]:
            assert sum(row[field] for row in report["rows"]) == report["totals"][field], (group_by, field)
        if group_by in ("day", "hour", "cashier", "till"):
            assert sum(row["bills"] for row in report["rows"]) == report["totals"]["bills"] == 2


def test_by_payment_method_a_refund_whose_cash_rounds_to_nothing_is_shared_among_the_methods(drawer, rice):
    # Rice × 2 = 95.55: card 28.66 + UPI 19.11 + cash 48. One unit back is worth 47.78; the card and
    # UPI take back 47.77 and the last 0.01 rounds to no cash, so no cash payment carries the rounding.
    bill = ring_up(
        (rice, 2),
        payments=[
            {"method": "card", "amount": D("28.66")},
            {"method": "upi", "amount": D("19.11")},
            {"method": "cash", "amount": D("48")},
        ],
    )
    refund = take_back(bill, (rice, 1))
    assert (refund.total, refund.amount, refund.rounding) == (D("47.78"), D("47.77"), D("-0.01"))

    report = sales_report(group_by="payment_method")

    rows = {row["payment_method"]: row for row in report["rows"]}
    assert report["totals"]["refunds"] == D("47.78")
    # 47.78 shared as 28.66 : 19.11, the last payment (UPI) taking the remainder.
    assert (rows["card"]["refunds"], rows["upi"]["refunds"]) == (D("28.67"), D("19.11"))
    assert rows["cash"]["refunds"] == D("0.00")
    for field in FIELDS[1:]:
        assert sum(row[field] for row in report["rows"]) == report["totals"][field], field


def test_by_product_best_first_with_quantities(drawer, rice, oil):
    bill = ring_up((rice, 3), (oil, 2))
    take_back(bill, (rice, 1))
    rice.name = "Basmati rice"
    rice.save()
    rows = sales_report(group_by="product")["rows"]
    assert [row["product_id"] for row in rows] == [oil.pk, rice.pk]
    assert rows[1]["product_name"] == "Basmati rice"  # the current name
    assert (rows[1]["quantity"], rows[1]["refunded_quantity"]) == (3, 1)


def test_by_tax_rate_is_net_of_refunds(drawer, rice, oil):
    bill = ring_up((rice, 3), (oil, 2))
    take_back(bill, (rice, 1))
    rows = {row["tax_rate"]: row for row in sales_report(group_by="tax_rate")["rows"]}
    assert rows[D("5.00")]["taxable"] == D("91.00")  # 136.50 − 45.50
    assert rows[D("5.00")]["tax"] == D("6.83") - D("2.28")


def test_refusals(db):
    with pytest.raises(ReportRangeInvalid):
        sales_report(date_from=date(2026, 2, 1), date_to=date(2026, 1, 1))
    with pytest.raises(ReportRangeInvalid):
        sales_report(date_from=date(2025, 1, 1), date_to=date(2025, 1, 1) + timedelta(days=MAX_DAYS))
    sales_report(date_from=date(2025, 1, 1), date_to=date(2025, 1, 1) + timedelta(days=MAX_DAYS - 1))
    with pytest.raises(ReportRangeInvalid, match="from 2000-01-01 to 2999-12-31; date_from is 9999-12-31"):
        sales_report(date_from=date(9999, 12, 31), date_to=date(9999, 12, 31))
    with pytest.raises(ReportRangeInvalid):
        sales_report(date_from=date(1999, 12, 31), date_to=date(2000, 1, 1))
    sales_report(date_from=date(2000, 1, 1), date_to=date(2000, 1, 1))
    sales_report(date_from=date(2999, 12, 31), date_to=date(2999, 12, 31))
    with pytest.raises(ReportGroupingInvalid):
        sales_report(group_by="week")
    with pytest.raises(TillNotFound):
        sales_report(till=999999)


def test_csv_is_formula_safe(drawer):
    product = ProductFactory(name="=HYPERLINK(1)", price=D("10.00"), tax_percent=D("0"))
    ring_up((product, 1))
    rows = list(sales_report_csv_rows(sales_report(group_by="product")))
    assert rows[0][:3] == ["product_id", "product_name", "bills"]
    assert rows[1][1] == "'=HYPERLINK(1)"
    assert rows[1][2] == 1


def test_a_line_carries_its_bills_time(drawer, rice, oil):
    bill = ring_up((rice, 1), (oil, 1))
    assert set(PurchaseItem.objects.filter(purchase=bill).values_list("created_at", flat=True)) == {bill.created_at}


@pytest.mark.parametrize("group_by", GROUPINGS)
def test_a_report_of_no_store_is_all_nought(drawer, rice, group_by):
    bill = ring_up((rice, 2))
    take_back(bill, (rice, 1))

    report = sales_report(group_by=group_by, store_ids=[])  # a user who sees no store

    assert report["totals"]["bills"] == 0
    assert all(report["totals"][field] == 0 for field in FIELDS[1:])
    assert all(row["bills"] == 0 and row["net_sales"] == 0 and row["refunds"] == 0 for row in report["rows"])


# What a report by product sets for its transaction on PostgreSQL (``sales_report._limits``).
PLAN_SETTINGS = "SELECT current_setting('work_mem'), current_setting('max_parallel_workers_per_gather')"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's settings")
@pytest.mark.django_db(transaction=True)  # the report's transaction is the outermost, as in a request
@pytest.mark.parametrize(("group_by", "given"), [("product", ("48MB", "0")), ("day", None), ("tax_rate", None)])
def test_a_report_by_product_hashes_its_products_in_memory_in_one_process(drawer, rice, settings, group_by, given):
    settings.REPORT_WORK_MEM_MB = 48
    ring_up((rice, 1))
    default = current_settings(PLAN_SETTINGS)

    with settings_at_each_statement(PLAN_SETTINGS) as seen:
        report = sales_report(group_by=group_by)

    assert report["totals"]["bills"] == 1
    # Set for every read of the report, and for its transaction only (SET LOCAL): the memory to hash
    # the products, and no parallel workers.
    assert seen and set(seen) == {given or default}
    assert current_settings(PLAN_SETTINGS) == default
