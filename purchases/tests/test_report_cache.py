"""A worker's cache of reports by product (``purchases.report_cache``) answers what a read of the
rollup would: the same report asked again is not read from the rollup again, also after later seals
(the bills past its own seal read raw) until the seal is ``REPORT_CACHE_LAG_BILLS`` past it; a bill
past the seal or a renamed product shows in the very next answer; and rows read under a seal that
was rolled back or rebuilt are never used."""

import re
import threading
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from billing_project.core.testing.properties import examples
from catalog.models import Product, ProductNamesVersion
from catalog.services import product_update
from catalog.stores import default_store_id
from catalog.tests.factories import ProductFactory
from purchases import report_cache
from purchases.report_cache import MAX_ENTRIES, RolledCache
from purchases.sales_report import sales_report
from purchases.sales_rollup_reads import Rolled
from purchases.sales_rollups import sales_rollup_seal
from purchases.serializers import SalesReportSerializer
from purchases.tests import sales_plans
from purchases.tests.helpers import refund, ring_up
from purchases.tests.sales_plans import BASE, _ring_up, bill_plan, one_bill

D = Decimal
# A statement reading the rollup's rows (day or month), not only its seal.
ROLLUP_READ = re.compile(r"purchases_salesrollup(month)?\b")

shop = sales_plans.shop
drawer_counts = sales_plans.drawer_counts

pg_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="the cache is of PostgreSQL's written rows")


@pytest.fixture
def goods():
    return [
        ProductFactory(name="Sugar", unit="kg", price=D("48.00"), tax_percent=D("5"), stock=D("50.000")),
        ProductFactory(name="Dal", price=D("112.35"), tax_percent=D("12"), stock=100),
    ]


def _served(**kwargs) -> tuple[list[dict], int]:
    """The report by product as the API writes its rows (read back), and how many of its statements
    read the rollup's rows."""
    with CaptureQueriesContext(connection) as queries:
        served = sales_report(group_by="product", as_json=True, **kwargs)
    reads = sum(1 for query in queries.captured_queries if ROLLUP_READ.search(query["sql"]))
    return orjson.loads(served["rows"].text), reads


def _expected(**kwargs) -> list[dict]:
    """The rows as the serializer writes the service's Decimal rows (read without the cache)."""
    return [dict(row) for row in SalesReportSerializer(sales_report(group_by="product", **kwargs)).data["rows"]]


def _answers_as_read(reads: int, **kwargs) -> list[dict]:
    rows, read = _served(**kwargs)
    assert rows == _expected(**kwargs)
    assert read == reads, "rollup reads"
    return rows


@pg_only
@pytest.mark.django_db
def test_the_same_report_before_the_next_seal_is_not_read_from_the_rollup_again(drawer, goods):
    sugar, dal = goods
    first = ring_up((sugar, D("1.250")), (dal, 2))
    sales_rollup_seal()
    report_cache.written_reports.clear()

    _answers_as_read(1)
    _answers_as_read(0)  # from the cache
    _answers_as_read(1, store=default_store_id())  # another report: read
    _answers_as_read(0, store=default_store_id())
    _answers_as_read(0)

    ring_up((dal, 1))  # past the seal: read raw, with the cached rows
    refund(first, (sugar, D("0.250")))
    rows = _answers_as_read(0)
    assert [row["bills"] for row in rows] == [2, 1] and rows[1]["refunded_quantity"] == "0.250"

    sales_rollup_seal()  # a new seal: the cached rows, with the bills past their own seal read raw
    _answers_as_read(0)
    _answers_as_read(0, store=default_store_id())


@pg_only
@pytest.mark.django_db
def test_cached_rows_are_read_again_once_the_seal_is_more_bills_past_them_than_the_lag(drawer, goods, settings):
    sugar, dal = goods
    ring_up((sugar, D("1.000")))
    sales_rollup_seal()
    report_cache.written_reports.clear()
    settings.REPORT_CACHE_LAG_BILLS = 2
    _answers_as_read(1)

    ring_up((dal, 1))
    ring_up((dal, 2))
    sales_rollup_seal()  # two bills past the cached rows: within the lag
    _answers_as_read(0)
    ring_up((sugar, D("0.500")))
    _answers_as_read(0)  # past the seal: not counted until sealed
    sales_rollup_seal()  # three
    _answers_as_read(1)
    _answers_as_read(0)

    bill = ring_up((dal, 3))
    sales_rollup_seal()  # one bill past: within the lag
    _answers_as_read(0)
    for _ in range(3):
        refund(bill, (dal, 1))
    sales_rollup_seal()  # three refunds past
    _answers_as_read(1)


@pg_only
@pytest.mark.django_db
def test_rows_read_under_a_seal_rolled_back_or_rebuilt_are_not_used(drawer, goods, settings):
    sugar, dal = goods
    ring_up((sugar, D("1.000")))
    sales_rollup_seal()
    report_cache.written_reports.clear()
    _answers_as_read(1)

    # A seal whose transaction rolls back (or a database restored to before it) takes its rows and
    # its step with it: rows read under that step would count its bill, which no longer exists.
    settings.REPORT_CACHE_LAG_BILLS = 0  # each seal's rows read afresh
    with transaction.atomic():
        ring_up((dal, 5))
        sales_rollup_seal()
        rows = _answers_as_read(1)
        assert [row["bills"] for row in rows] == [1, 1]
        transaction.set_rollback(True)
    settings.REPORT_CACHE_LAG_BILLS = 2_000
    ring_up((sugar, D("2.000")))
    sales_rollup_seal()  # a later bill and seal: the bills' ids move past the rolled-back one's
    rows = _answers_as_read(1)
    assert [(row["product_name"], row["bills"]) for row in rows] == [("Sugar", 2)]
    _answers_as_read(0)

    sales_rollup_seal(rebuild=True)  # the rollup emptied and added up again
    _answers_as_read(1)
    _answers_as_read(0)


@pg_only
@pytest.mark.django_db
def test_a_renamed_product_shows_in_the_next_report_however_it_was_renamed(drawer, goods):
    sugar, dal = goods
    ring_up((sugar, D("2.000")), (dal, 3))
    sales_rollup_seal()
    version = ProductNamesVersion.objects.get().version
    _answers_as_read(1)
    _answers_as_read(0)

    product_update(product=dal, name="Toor dal")  # a service's save
    _answers_as_read(1)
    Product.objects.filter(pk=sugar.pk).update(name="Sugar (loose)")  # one statement of SQL
    _answers_as_read(1)
    Product.objects.filter(pk=sugar.pk).update(unit="l")  # SQL, as no service would once it sold
    rows = _answers_as_read(1)
    assert {(row["product_name"], row["unit"]) for row in rows} == {("Toor dal", "each"), ("Sugar (loose)", "l")}
    assert ProductNamesVersion.objects.get().version == version + 3

    Product.objects.filter(pk=sugar.pk).update(is_active=False, cost_price=D("30.00"))  # no name or unit
    ProductFactory(name="New")  # a new product has sold nothing
    assert ProductNamesVersion.objects.get().version == version + 3
    _answers_as_read(0)


@pg_only
@pytest.mark.django_db
def test_reports_of_other_days_and_stores_are_kept_apart(drawer, goods, settings):
    sugar, dal = goods
    ring_up((sugar, D("1.000")), (dal, 1))
    sales_rollup_seal()
    report_cache.written_reports.clear()
    today = timezone.localdate()
    old = {"date_from": today - timedelta(days=400), "date_to": today - timedelta(days=35)}
    assert _answers_as_read(1, **old) == []
    assert len(_answers_as_read(1)) == 2
    assert len(_answers_as_read(1, store=default_store_id())) == 2
    assert len(report_cache.written_reports) == 3
    assert _answers_as_read(0, **old) == []

    settings.REPORT_CACHE_ROWS = 0  # off
    report_cache.written_reports.clear()
    _answers_as_read(1)
    _answers_as_read(1)
    assert len(report_cache.written_reports) == 0


@pg_only
@pytest.mark.django_db(transaction=True)
def test_a_report_begun_after_a_rename_committed_shows_the_new_name(drawer, goods):
    """Renames committing while reports are read, in real threads: every report begun after a rename
    committed shows that name or a later one, never the name its cached rows were written with."""
    sugar, dal = goods
    ring_up((sugar, D("1.000")), (dal, 2))
    sales_rollup_seal()
    renames = 12
    committed = [0]

    def rename(n: int) -> None:
        product_update(product=Product.objects.get(pk=dal.pk), name=f"Dal {n}")
        committed[0] = n

    def read() -> tuple[int, int]:
        before = committed[0]
        rows = orjson.loads(sales_report(group_by="product", as_json=True)["rows"].text)
        name = next(row["product_name"] for row in rows if row["product_id"] == dal.pk)
        return before, 0 if name == "Dal" else int(name.split()[1])

    # Readers read, from the cache and not, before the next rename.
    seen = _read_while_writing(rename, range(1, renames + 1), read, reads_between=3)
    assert len(seen) >= 3 * renames
    assert all(shown >= before for before, shown in seen), [pair for pair in seen if pair[1] < pair[0]]
    rows = orjson.loads(sales_report(group_by="product", as_json=True)["rows"].text)
    assert {row["product_name"] for row in rows} == {"Sugar", f"Dal {renames}"}


@pg_only
@pytest.mark.django_db(transaction=True)
def test_reports_read_while_bills_and_seals_commit_count_each_committed_bill_once(drawer, goods, settings):
    """Bills and seals committing while reports are read from the cache and afresh, in real threads:
    every report counts every bill committed before it began and none not yet begun by its end,
    whichever seal its cached rows were read under (a bill counted both in cached rows and past
    their seal would count twice)."""
    settings.REPORT_CACHE_LAG_BILLS = 3  # cached rows used across seals, and read again, in turn
    sugar, _dal = goods
    ring_up((sugar, D("1.000")))
    sales_rollup_seal()
    report_cache.written_reports.clear()
    bills = 24
    # Bills committed, and bills begun: a report may count a bill that committed before the writer
    # could say so, never one not yet begun.
    committed, begun = [1], [1]

    def ring_and_seal(n: int) -> None:
        begun[0] = n
        ring_up((sugar, D("1.000")))
        committed[0] = n
        if n % 2 == 0:
            sales_rollup_seal()

    def read() -> tuple[int, int, int]:
        before = committed[0]
        rows = orjson.loads(sales_report(group_by="product", as_json=True)["rows"].text)
        return before, next(row["bills"] for row in rows if row["product_id"] == sugar.pk), begun[0]

    seen = _read_while_writing(ring_and_seal, range(2, bills + 1), read, reads_between=2)
    assert len(seen) >= 2 * bills
    assert all(before <= counted <= after for before, counted, after in seen), [
        read for read in seen if not read[0] <= read[1] <= read[2]
    ]
    assert orjson.loads(sales_report(group_by="product", as_json=True)["rows"].text)[0]["bills"] == bills


# Bills (with refunds on later days), seals, rebuilds, and a bill and a seal rolled back after a report
# read under that seal; the cached report is checked after each.
step = st.one_of(
    st.tuples(st.just("bill"), bill_plan),
    st.tuples(st.just("seal"), st.none()),
    st.tuples(st.just("rebuild"), st.none()),
    st.tuples(st.just("rolled back"), bill_plan),
)


# One line, paid in cash, at noon of BASE.
PLAIN_BILL = one_bill([(0, 1, D("0"))])


def _cached_is_the_report() -> None:
    for start, end, store in ((-1, 4, None), (1, 3, default_store_id())):
        kwargs = {"date_from": BASE + timedelta(days=start), "date_to": BASE + timedelta(days=end), "store": store}
        rows, _ = _served(**kwargs)
        assert rows == _expected(**kwargs), kwargs


@pg_only
@pytest.mark.property
@pytest.mark.django_db
@hypothesis_settings(
    max_examples=examples(10),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(steps=st.lists(step, min_size=1, max_size=8), lag=st.sampled_from([0, 1, 3, 2_000]))
@example(steps=[("bill", PLAIN_BILL), ("seal", None), ("bill", PLAIN_BILL), ("seal", None)], lag=2_000)
def test_after_any_mix_of_bills_seals_rebuilds_and_rollbacks_a_cached_report_is_the_report(shop, steps, lag):
    with override_settings(REPORT_CACHE_LAG_BILLS=lag), transaction.atomic():
        for kind, plan in steps:
            if kind == "bill":
                _ring_up(shop, plan)
            elif kind == "seal":
                sales_rollup_seal(step=2)
            elif kind == "rebuild":
                sales_rollup_seal(rebuild=True, step=2)
            else:
                with transaction.atomic():
                    _ring_up(shop, plan)
                    sales_rollup_seal(step=2)
                    _cached_is_the_report()
                    transaction.set_rollback(True)
            _cached_is_the_report()
        transaction.set_rollback(True)


def _read_while_writing(
    write: Callable[[int], None], steps: Iterable[int], read: Callable[[], Any], *, reads_between: int
) -> list:
    """``write(step)`` for each of ``steps`` in a thread while two other threads call ``read()`` over
    and over, each on its own connection; after each write the writer waits (at most 10 s) until
    ``reads_between`` more reads are done. What the reads returned, in order; any exception in a
    thread fails the test."""
    seen: list = []
    failures: list[BaseException] = []
    done = threading.Event()

    def writer():
        try:
            for step in steps:
                write(step)
                reads = len(seen)
                deadline = time.monotonic() + 10
                while len(seen) < reads + reads_between and time.monotonic() < deadline and not failures:
                    time.sleep(0.002)
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            done.set()
            connection.close()

    def reader():
        try:
            while not done.is_set():
                seen.append(read())
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer), threading.Thread(target=reader), threading.Thread(target=reader)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures
    return seen


def _rolled(rows: int) -> Rolled:
    return Rolled(rows={n: ("w", n) for n in range(rows)}, totals={"bills": rows}, bills_through=1, refunds_through=0)


def test_the_cache_keeps_the_most_recently_used_reads_within_its_rows():
    cache = RolledCache(lambda: 10)
    cache.put("a", _rolled(4))
    cache.put("b", _rolled(4))
    assert cache.get("a") is not None  # now the most recent
    cache.put("c", _rolled(4))  # 12 rows: the least recently used goes
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("c") is not None
    assert cache.keys_by_use() == ["a", "c"]  # the least recently used first
    cache.put("d", _rolled(11))  # more than the bound: not kept
    assert cache.get("d") is None and len(cache) == 2

    for n in range(MAX_ENTRIES + 3):
        cache.put(n, _rolled(0))
    assert len(cache) == MAX_ENTRIES


def test_the_cache_hands_out_copies_a_report_may_change():
    cache = RolledCache(lambda: 10)
    read = _rolled(2)
    cache.put("a", read)
    read.rows[9] = ("w", 9)  # the report that read it adds its rows past the seal
    handed = cache.get("a")
    assert handed is not None and len(handed.rows) == 2
    handed.rows.clear()
    handed.totals["bills"] = 0
    again = cache.get("a")
    assert again is not None and len(again.rows) == 2 and again.totals == {"bills": 2}
