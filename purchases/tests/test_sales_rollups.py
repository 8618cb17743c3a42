"""The sales report's rollups (``purchases.sales_rollups``, issue 30) answer exactly as the raw rows do.

The property (hypothesis, derandomized by the repo's profiles): after any mix of bills on any day,
seals, refunds of old bills on later days and bills recorded for days already sealed (late
corrections), every grouping's report, of every store and of the default store, is the same when read
from the rollup plus the rows past the seal as when read from the raw rows alone; and after a last
seal, the rollup alone holds every figure. Runs on SQLite and on PostgreSQL.
"""

import threading
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_project.core.testing.properties import examples
from billing_project.core.types import BillLine
from catalog.stores import default_store_id
from purchases import sales_report as report_module
from purchases import sales_rollups
from purchases.models import Purchase, PurchaseItem, Refund, SalesRollup, SalesRollupMonth, SalesRollupSeal
from purchases.sales_report import GROUPINGS, sales_report
from purchases.sales_rollup_reads import month_plan, read_rollup
from purchases.sales_rollups import sales_rollup_seal
from purchases.services import bills as bill_service
from purchases.services import refund_create
from purchases.tests import sales_plans
from purchases.tests.sales_plans import BASE, KOLKATA, TIMES, _ring_up, bill_plan, one_bill

pytestmark = [pytest.mark.django_db]

# The shop of the sales report's property tests (fixtures): four products, three cashiers, two tills.
shop = sales_plans.shop
drawer_counts = sales_plans.drawer_counts

D = Decimal
# One bill paid by card at noon of BASE, by the first cashier at the default till, not refunded.
CARD_BILL: dict[str, Any] = one_bill([(3, 2, D("0"))], tender="card", cashier=1)
RANGES = [(-1, 4), (0, 0), (1, 2), (3, 3)]  # days after BASE: every day the plans use, and parts

step = st.one_of(
    st.tuples(st.just("bill"), bill_plan),
    st.tuples(st.just("seal"), st.none()),
    # A refund of an earlier bill (which one, counted back), one unit of its first line left, some
    # days after the bill: often on a day already sealed.
    st.tuples(st.just("refund"), st.tuples(st.integers(0, 5), st.integers(0, 3), st.sampled_from(TIMES))),
)


def _raw(monkeypatch, **kwargs) -> dict:
    """The report read from the raw rows only."""
    with monkeypatch.context() as patch:
        patch.setattr(report_module, "read_rollup", lambda *args: None)
        return sales_report(**kwargs)


def _refund_old(bills: list[Purchase], plan) -> None:
    back, later, (hour, minute) = plan
    if not bills:
        return
    bill = bills[-1 - back % len(bills)]
    item = next(
        (i for i in PurchaseItem.objects.filter(purchase=bill).order_by("id") if i.quantity > i.refunded_quantity),
        None,
    )
    if item is None:
        return
    items: list[BillLine] = [{"product_id": item.product_id, "quantity": 1}]
    refund = refund_create(purchase_id=bill.pk, items=items, reason="returned", till=None, user=None)
    day = bill.created_at.astimezone(KOLKATA).date() + timedelta(days=later)
    at = datetime.combine(day, datetime.min.time()).replace(hour=hour, minute=minute, tzinfo=KOLKATA)
    Refund.objects.filter(pk=refund.pk).update(created_at=max(at, bill.created_at))


def _same_as_raw(monkeypatch) -> None:
    for start, end in RANGES:
        date_from, date_to = BASE + timedelta(days=start), BASE + timedelta(days=end)
        for store in (None, default_store_id()):
            for group_by in GROUPINGS:
                kwargs: dict[str, Any] = {"date_from": date_from, "date_to": date_to}
                kwargs.update(group_by=group_by, store=store)
                assert sales_report(**kwargs) == _raw(monkeypatch, **kwargs), (group_by, start, end, store)


@settings(
    max_examples=examples(15),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(steps=st.lists(step, min_size=1, max_size=7))
def test_the_rollup_and_the_rows_past_its_seal_answer_as_the_raw_rows(shop, monkeypatch, steps):
    with transaction.atomic():
        bills: list[Purchase] = []
        for kind, plan in steps:
            if kind == "bill":
                bills.append(_ring_up(shop, plan))
            elif kind == "seal":
                sales_rollup_seal(step=2)  # small steps: a seal of several
            else:
                _refund_old(bills, plan)
        _same_as_raw(monkeypatch)  # part sealed, part raw
        seal = sales_rollup_seal()
        assert seal.bills_through == max((b.pk for b in bills), default=seal.bills_through)
        _same_as_raw(monkeypatch)  # all of it in the rollup
        transaction.set_rollback(True)


def test_a_bill_after_the_seal_shows_at_once_and_the_next_seal_adds_it_to_its_day(shop, monkeypatch):
    plan = one_bill([(0, 2, D("0"))], tender="card+cash", cashier=1, till=1)
    first = _ring_up(shop, plan)
    sales_rollup_seal()
    kwargs: dict[str, Any] = {"date_from": BASE - timedelta(days=1), "date_to": BASE, "group_by": "day"}
    assert sales_report(**kwargs)["totals"]["bills"] == 1

    late = _ring_up(shop, {**plan, "day": -1})  # recorded for a day before, after the seal

    report = sales_report(**kwargs)
    assert report["totals"]["bills"] == 2
    assert [row["bills"] for row in report["rows"]] == [1, 1]
    assert report == _raw(monkeypatch, **kwargs)
    assert not SalesRollup.objects.filter(grouping="day", day=BASE - timedelta(days=1)).exists()
    sales_rollup_seal()
    assert SalesRollup.objects.get(grouping="day", day=BASE - timedelta(days=1)).net_sales == late.total
    assert SalesRollup.objects.get(grouping="day", day=BASE).net_sales == first.total
    assert sales_report(**kwargs) == _raw(monkeypatch, **kwargs)


def test_a_seal_of_another_time_zone_is_not_read_and_the_next_seal_rebuilds(shop, settings):
    _ring_up(
        shop,
        one_bill([(1, 1, D("0"))], time=(0, 1)),  # 00:01 in Kolkata: the day before in UTC
    )
    sales_rollup_seal()
    assert read_rollup("default", "day", BASE, BASE, None) is not None
    settings.TIME_ZONE = "UTC"
    assert read_rollup("default", "day", BASE, BASE, None) is None

    sales_rollup_seal()

    assert SalesRollupSeal.objects.get().time_zone == "UTC"
    assert SalesRollup.objects.get(grouping="day").day == BASE - timedelta(days=1)


def test_one_till_reads_the_raw_rows(shop, monkeypatch):
    sales_rollup_seal()
    monkeypatch.setattr(report_module, "read_rollup", pytest.fail)
    sales_report(date_from=BASE, date_to=BASE, group_by="day", till=shop[2][1])


def test_the_command_seals_and_rebuilds(shop, capsys):
    bill = _ring_up(
        shop,
        {
            "lines": [(2, 3, D("5"))],
            "bill_discount": D("5"),
            "tender": "upi+card+cash",
            "change": D("10"),
            "day": 1,
            "time": (23, 59),
            "cashier": 2,
            "till": 1,
            "refunds": [(1, (12, 0), 0.5, 0)],
        },
    )
    call_command("seal_sales_rollups")
    rows = SalesRollup.objects.count()
    SalesRollup.objects.filter(grouping="day").update(net_sales=D("0.00"))  # wrong: a rebuild repairs it

    call_command("seal_sales_rollups", "--rebuild")

    assert SalesRollup.objects.count() == rows
    assert SalesRollup.objects.get(grouping="day", day=BASE + timedelta(days=1)).net_sales == bill.total
    assert f"every bill up to id {bill.pk}" in capsys.readouterr().out


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's VACUUM")
@pytest.mark.django_db(transaction=True)  # the seal's transactions are its own, as from cron
def test_a_big_seal_vacuums_and_samples_the_rollup_tables(shop, monkeypatch):
    from django.test.utils import CaptureQueriesContext

    _ring_up(shop, CARD_BILL)
    _ring_up(shop, {**CARD_BILL, "day": 2})
    monkeypatch.setattr(sales_rollups, "ANALYZE_AFTER_BILLS", 2)
    with CaptureQueriesContext(connection) as queries:
        sales_rollup_seal()
    tidied = [query["sql"] for query in queries.captured_queries if query["sql"].startswith(("VACUUM", "ANALYZE"))]
    assert tidied == ["VACUUM (ANALYZE) purchases_salesrollup, purchases_salesrollupmonth"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'purchases_salesrollupmonth'")
        assert cursor.fetchone() == (0,)

    _ring_up(shop, {**CARD_BILL, "day": 1})
    with CaptureQueriesContext(connection) as queries:
        sales_rollup_seal()  # one bill: left to autovacuum
    assert not [query for query in queries.captured_queries if query["sql"].startswith(("VACUUM", "ANALYZE"))]


@pytest.mark.django_db(transaction=True)
def test_on_the_replica_the_rollup_and_its_seal_are_read_there(shop, settings, monkeypatch):
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    from billing_project.core.testing.replica import replica_connection

    plan = {**CARD_BILL, "refunds": [(2, (9, 30), 0.5, 1)]}
    _ring_up(shop, plan)
    sales_rollup_seal()
    _ring_up(shop, {**plan, "day": 1})  # past the seal: read raw
    kwargs: dict[str, Any] = {"date_from": BASE, "date_to": BASE + timedelta(days=3), "group_by": "payment_method"}
    with (
        replica_connection(settings) as replica,
        CaptureQueriesContext(replica) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        report = sales_report(**kwargs)
        raw = _raw(monkeypatch, **kwargs)

    assert any("salesrollupseal" in query["sql"] for query in on_replica.captured_queries)
    assert on_primary.captured_queries == []
    assert report["totals"]["bills"] == 2
    assert report == raw


# Across month boundaries: days around the ends of February, March and April (BASE is 10 March), and
# ranges with whole months inside (read from the month rows by product, the edges from the day rows)
# and without.
EDGE_DAYS = [-11, -10, -9, 0, 21, 22, 51, 52]  # 27, 28 Feb; 1, 10, 31 Mar; 1, 30 Apr; 1 May
MONTH_RANGES = [(-10, 52), (-9, 51), (-9, 21), (-11, 22), (21, 22), (-10, 21), (0, 52)]
# Read by the month row of March less its days outside the range: from 2 March, and from 10 March (and 1 April).
MONTH_RANGES += [(-8, 21), (0, 22)]

month_step = st.one_of(
    st.tuples(st.just("bill"), st.tuples(bill_plan, st.sampled_from(EDGE_DAYS))),
    st.tuples(st.just("seal"), st.none()),
    st.tuples(st.just("refund"), st.tuples(st.integers(0, 5), st.integers(0, 3), st.sampled_from(TIMES))),
)


def _same_as_raw_across_months(monkeypatch) -> None:
    from purchases.sales_dashboard import _blocks

    for start, end in MONTH_RANGES:
        date_from, date_to = BASE + timedelta(days=start), BASE + timedelta(days=end)
        for store in (None, default_store_id()):
            kwargs: dict[str, Any] = {"date_from": date_from, "date_to": date_to, "store": store}
            report = sales_report(group_by="product", **kwargs)
            assert report == _raw(monkeypatch, group_by="product", **kwargs), (start, end, store)
            # The Sales page's best sellers: the report's first rows, and how many rows it has.
            best = sales_report(group_by="product", best=2, **kwargs)
            assert best["rows"] == report["rows"][:2]
            assert best["rows_in_all"] == len(report["rows"])
            assert best["totals"] == {key: value for key, value in report["totals"].items() if "quantity" not in key}
        params: dict[str, Any] = {"date_from": date_from, "date_to": date_to, "till": None, "store": None}
        dashboard = _blocks(params)
        with monkeypatch.context() as patch:
            patch.setattr(report_module, "read_rollup", lambda *args: None)
            assert dashboard == _blocks(params), (start, end)


@settings(
    max_examples=examples(15),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(steps=st.lists(month_step, min_size=1, max_size=8))
def test_by_product_across_months_and_the_dashboard_answer_as_the_raw_rows(shop, monkeypatch, steps):
    """Bills, seals, refunds of old bills and late bills around month ends: the report by product
    (whole months from the month rows, the edge days from the day rows) and the dashboard are the raw
    answer, part sealed and all sealed."""
    with transaction.atomic():
        bills: list[Purchase] = []
        for kind, plan in steps:
            if kind == "bill":
                bill, day = plan
                bills.append(_ring_up(shop, {**bill, "day": day}))
            elif kind == "seal":
                sales_rollup_seal(step=2)
            else:
                _refund_old(bills, plan)
        _same_as_raw_across_months(monkeypatch)
        sales_rollup_seal()
        _same_as_raw_across_months(monkeypatch)
        # The month rows are the day rows by product added up, whatever order the seals added them in.
        for month in SalesRollupMonth.objects.all():
            days = SalesRollup.objects.filter(
                grouping="product", key=month.key, day__year=month.month.year, day__month=month.month.month
            )
            assert month.net_sales == sum((day.net_sales for day in days), D("0.00"))
            assert month.bills == sum(day.bills for day in days)
        transaction.set_rollback(True)


def test_a_month_plan_reads_each_day_of_its_range_once_and_no_other():
    first = BASE.replace(month=1, day=1)
    days = [first + timedelta(days=n) for n in range(0, 140, 3)] + [date(2024, 2, 10), date(2024, 3, 9)]
    for date_from in days:
        for date_to in (day for day in days if day >= date_from):
            plan = month_plan(date_from, date_to)
            whole = [month for month in _months(date_from, date_to) if _month_days(month) <= _span(date_from, date_to)]
            if plan is None:
                assert not whole
                continue
            counted = _counted(plan)
            assert +counted == Counter(_span(date_from, date_to)) and -counted == Counter(), (date_from, date_to)
            # Every month wholly inside is read by its month row; a partial month by its fewer days.
            assert set(whole) <= set(plan.months)
            partial_days = len(_span(date_from, date_to)) - sum(len(_month_days(month)) for month in whole)
            read_days = sum(len(_span(start, end)) for start, end in plan.added + plan.taken)
            assert read_days <= partial_days


def test_a_month_plan_to_today_reads_this_month_by_its_row_and_still_each_day_once():
    today = date(2026, 12, 6)
    plan = month_plan(date(2026, 11, 7), today, last_day=today)
    # November less its first six days; December's row, less the days after today, which hold no rows.
    assert plan is not None and plan.months == [date(2026, 11, 1), date(2026, 12, 1)]
    assert plan.added == [] and plan.taken == [
        (date(2026, 11, 1), date(2026, 11, 6)),
        (date(2026, 12, 7), date(2026, 12, 31)),
    ]
    # Without today, December's six days are read one by one.
    counting_every_day = month_plan(date(2026, 11, 7), today)
    assert counting_every_day is not None and counting_every_day.added == [(date(2026, 12, 1), today)]
    for date_from in (date(2026, 10, 20), date(2026, 11, 1), date(2026, 11, 25), date(2026, 12, 3)):
        for date_to in (date(2026, 12, 1), today, date(2026, 12, 20)):
            plan = month_plan(date_from, date_to, last_day=today)
            if plan is not None:
                counted = _counted(plan)
                assert +counted == Counter(_span(date_from, date_to)) and -counted == Counter(), (date_from, date_to)


def _counted(plan) -> Counter[date]:
    """How many times a plan reads each day: its months' days and the days added, less the days taken."""
    counted: Counter[date] = Counter()
    for month in plan.months:
        counted.update(_month_days(month))
    for start, end in plan.added:
        counted.update(_span(start, end))
    for start, end in plan.taken:
        counted.subtract(_span(start, end))
    return counted


def _span(start: date, end: date) -> set[date]:
    return {start + timedelta(days=n) for n in range((end - start).days + 1)}


def _month_days(month: date) -> set[date]:
    after = (month + timedelta(days=32)).replace(day=1)
    return _span(month, after - timedelta(days=1))


def _months(date_from: date, date_to: date) -> list[date]:
    return sorted({day.replace(day=1) for day in _span(date_from, date_to)})


def test_the_month_rows_read_in_a_year_by_product_are_the_sums_of_the_days(shop, monkeypatch):
    plan = one_bill([(0, 2, D("0")), (1, 1, D("5"))], refunds=[(1, (9, 30), 0.5, 0)])
    for day in (-10, -9, 0, 21, 22):
        _ring_up(shop, {**plan, "day": day})
    sales_rollup_seal()
    assert {row.month.month for row in SalesRollupMonth.objects.all()} == {2, 3, 4}

    SalesRollup.objects.filter(grouping="product", day__month=3).delete()  # wrong: March is read by month
    kwargs: dict[str, Any] = {"date_from": BASE.replace(month=1, day=1), "date_to": BASE.replace(month=12, day=31)}
    assert sales_report(group_by="product", **kwargs) == _raw(monkeypatch, group_by="product", **kwargs)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the seal waits on PostgreSQL's table lock")
@pytest.mark.django_db(transaction=True)
def test_a_seal_waits_for_a_bill_whose_id_is_taken_before_its_row_is_written(shop, monkeypatch):
    """A bill takes its id with its lines, before its till's lock, and writes its own row after it
    (docs/architecture.md, the statement plan). A seal in between must not move past that id, though
    a bill with a higher id commits first: it waits for the bill in flight, and then adds it."""
    plan: dict[str, Any] = {**CARD_BILL, "lines": [(0, 1, D("0"))]}
    _ring_up(shop, plan)  # the customer exists: the two bills below share no lock but the bills' table
    taken, go, failures = threading.Event(), threading.Event(), []
    till_lock = bill_service.till_lock_for_bill

    def pausing(**kwargs):
        if threading.current_thread().name == "in-flight":  # its lines written, its row not yet
            taken.set()
            go.wait(30)
        return till_lock(**kwargs)

    def in_flight():
        try:
            _ring_up(shop, {**plan, "day": 1})
        except Exception as exc:  # reported by the test below
            failures.append(exc)
        finally:
            connection.close()

    monkeypatch.setattr(bill_service, "till_lock_for_bill", pausing)
    monkeypatch.setattr(sales_rollups, "SEAL_LOCK_TIMEOUT", "300ms")
    thread = threading.Thread(target=in_flight, name="in-flight")
    thread.start()
    try:
        assert taken.wait(30)
        later = _ring_up(shop, {**plan, "lines": [(3, 1, D("0"))], "till": 1, "day": 2})  # a higher id, committed
        with pytest.raises(OperationalError):  # the seal waits for the bill in flight (here, to its timeout)
            sales_rollup_seal()
    finally:
        go.set()
        thread.join(30)
    assert not failures

    seal = sales_rollup_seal()

    last = Purchase.objects.order_by("pk").last()
    assert last is not None
    assert seal.bills_through == later.pk == last.pk
    assert Purchase.objects.count() == 3
    _same_as_raw(monkeypatch)
