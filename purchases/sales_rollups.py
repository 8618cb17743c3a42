"""The sales report's rollups (issue 30): its sums per local day, store and key, kept exact.

``SalesRollup`` holds, for every grouping of the sales report, the sums of the bills with an id up
to the seal's ``bills_through`` and of the refunds up to its ``refunds_through`` (``SalesRollupSeal``),
by the local day and store each belongs to. A report of all tills reads, in one statement (one
snapshot), the rollup rows of its days and the seal, and then the raw bills and refunds of its days
with an id past the seal; the two parts hold every bill and refund once, and every figure is a sum
or a count, so the answer is the raw answer exactly (``sales_report.merge_rows``). A bill therefore
shows in every report as soon as it commits, and the rollup is never stale, only incomplete: what it
lacks is read raw.

The sums are kept as whole paise and thousandths (``bigint``, ``RollupSums``): the seal converts each
figure exactly (``_units``) and a read scales the sums back (``sales_rollup_reads``).

By product there are also month rows of the whole chain (``SalesRollupMonth``): the day rows by
product of a local month and every store, added up, which a report of every store reads for the months
of its range it holds wholly or mostly (``sales_rollup_reads.month_plan``).

``sales_rollup_seal`` (``manage.py seal_sales_rollups``, every few minutes from cron) moves the seal
forward: it adds the figures of the bills and refunds committed since, set-based, by the same code
that sums them for the report, to the day rows and the month rows in the same transaction. A late
change - a refund of an old bill, a bill recorded for a past day - is a new row past the seal: the
report reads it raw at once, and the next seal adds it to the day (and month) it belongs to. Nothing
is written in the bill's own transaction. Bills, lines, payments and refunds are never changed
after they commit (``models.Purchase``); deleting one needs ``seal_sales_rollups --rebuild``.
docs/reports.md, "Rollups", says the same.
"""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.utils import timezone

from billing_project.core.db.scaled import to_units
from billing_project.core.money import CENT, money

from .models import Purchase, PurchaseItem, Refund, SalesRollup, SalesRollupMonth, SalesRollupSeal, SalesRollupToDate
from .sales_report import COLLECTORS, _Scope
from .sales_rollup_reads import NO_QUANTITY, SUMS, THREE_PLACES, ZERO, _encode

# How many bill ids (and refund ids) one step of a seal covers: each step is its own transaction.
SEAL_STEP = 100_000
# How long a seal waits for the bills being rung up to commit before it gives up (PostgreSQL).
SEAL_LOCK_TIMEOUT = "5s"
# A seal that adds at least this many bills (a first build, a rebuild, a long pause) vacuums and
# samples the rollup tables at once rather than waiting for autovacuum: until they are sampled the
# planner takes them for near empty and sorts a year by product on disk rather than hashing it, and
# until they are vacuumed each month row keeps a dead version from every step that added to it (at
# 5,000,000 bills, 2.2 million dead rows beside 700,000 live ones) and an index-only read of the day
# rows visits the table for every row. The running totals (``SalesRollupToDate``) are left to
# autovacuum: a seal inserts a new day's rows there and rarely updates one, and a report reads a day's
# rows by their unique index whatever the planner's statistics.
ANALYZE_AFTER_BILLS = 100_000


def _committed_through() -> tuple[int, int]:
    """The highest bill id and refund id such that every bill and refund up to them has committed.

    On PostgreSQL the seal takes a SHARE lock on both tables for an instant: it waits for the
    transactions writing bills or refunds to end (each holds ROW EXCLUSIVE from the statement that
    takes its id: a bill takes its id with its lines, before its own row, and that statement takes
    the lock too, ``reserve_with_children``), and the highest ids then read are below every id still
    to be given out. SQLite has one writer at a time."""
    connection = connections[DEFAULT_DB_ALIAS]
    bills, refunds = Purchase._meta.db_table, Refund._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [SEAL_LOCK_TIMEOUT])
            cursor.execute(f"LOCK TABLE {bills}, {refunds} IN SHARE MODE")
        cursor.execute(
            f"SELECT (SELECT COALESCE(MAX(id), 0) FROM {bills}),"  # noqa: S608 - our own table names
            f" (SELECT COALESCE(MAX(id), 0) FROM {refunds})"
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def sales_rollup_seal(*, rebuild: bool = False, step: int = SEAL_STEP) -> SalesRollupSeal:
    """Move the seal up to every bill and refund committed now, adding their figures to
    ``SalesRollup`` in steps of ``step`` ids, each step in its own transaction (so a long first
    build can be stopped and resumed). ``rebuild`` (or a changed ``TIME_ZONE``) empties the rollup
    first. Locks the seal row for each step, so two seals never add the same rows; a report reading
    meanwhile sees the rollup and the seal as they were before or after a step, never between.
    Returns the seal."""
    bills_through, refunds_through = _committed_through()
    added = 0
    while True:
        with transaction.atomic():
            seal, _ = SalesRollupSeal.objects.get_or_create(pk=1, defaults={"time_zone": settings.TIME_ZONE})
            seal = SalesRollupSeal.objects.select_for_update().get(pk=1)
            if rebuild or seal.time_zone != settings.TIME_ZONE:
                SalesRollup.objects.all().delete()
                SalesRollupMonth.objects.all().delete()
                SalesRollupToDate.objects.all().delete()
                seal.bills_through = seal.refunds_through = 0
                seal.time_zone = settings.TIME_ZONE
                rebuild = False
            done_bills, done_refunds = seal.bills_through, seal.refunds_through
            if done_bills >= bills_through and done_refunds >= refunds_through:
                seal.save()
                break
            to_bills = _step_end(Purchase.objects.all(), done_bills, bills_through, step)
            to_refunds = _step_end(Refund.objects.all(), done_refunds, refunds_through, step)
            _add(done_bills, to_bills, done_refunds, to_refunds)
            added += to_bills - done_bills
            seal.bills_through, seal.refunds_through, seal.sealed_at = to_bills, to_refunds, timezone.now()
            seal.save()
    connection = connections[DEFAULT_DB_ALIAS]
    if added >= ANALYZE_AFTER_BILLS and connection.vendor == "postgresql":
        # VACUUM cannot run inside a transaction: a seal called inside one (a test's) only samples.
        tidy = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            cursor.execute(f"{tidy} {SalesRollup._meta.db_table}, {SalesRollupMonth._meta.db_table}")
    return seal


def _step_end(rows: models.QuerySet, done: int, through: int, step: int) -> int:
    """The last id of the next step: ``step`` ids from the first row past ``done`` (the ids of
    transactions that rolled back are gaps no step needs to walk), never past ``through``."""
    if done >= through:
        return done
    first = rows.filter(pk__gt=done, pk__lte=through).aggregate(first=models.Min("pk"))["first"]
    return through if first is None else min(through, first - 1 + step)


def _add(bills_after: int, bills_to: int, refunds_after: int, refunds_to: int) -> None:
    """Add the figures of the bills ``bills_after`` < id <= ``bills_to`` and the refunds likewise to
    the rollup, grouping by grouping: one set-based pass of the report's own sums each."""
    scope = _Scope(
        bills=Purchase.objects.filter(pk__gt=bills_after, pk__lte=bills_to),
        refunds=Refund.objects.filter(pk__gt=refunds_after, pk__lte=refunds_to),
        lines=PurchaseItem.objects.filter(purchase_id__gt=bills_after, purchase_id__lte=bills_to),
        date_from=None,
        date_to=None,
        split=True,
    )
    rows = [
        (grouping, day, store, _encode(grouping, key), *_units(row))
        for grouping, collect in COLLECTORS.items()
        for (day, store, key), row in collect(scope).items()
    ]
    _write_adding(_DAYS, rows)
    by_product = ((day, key, *values) for grouping, day, _, key, *values in rows if grouping == "product")
    by_day = _chain_wide(by_product, _same)
    _write_adding(_MONTHS, _chain_wide(by_day, _first_of_month))
    _add_to_date(by_day)


def _units(row: dict[str, Any]) -> tuple[int, ...]:
    """A collected row's ``SUMS`` as the rollup keeps them: whole paise and thousandths
    (``RollupSums``). Each figure is rounded to its places first, as the report rounds it (SQLite sums
    decimals as floats; PostgreSQL's sums already have their places), so the scaling is exact. A seal
    of a year converts about four rows per bill line: this is its Python's inner loop."""
    bills = row["bills"]
    if type(bills) is not int:
        bills = to_units(bills, 0)
    return (
        bills,
        *(_paise(row[field]) for field in ("gross", "discounts", "net_sales", "refunds", "tax", "cost", "_taxable")),
        _paise(row.get("taxable", ZERO)),
        _thousandths(row.get("quantity", NO_QUANTITY)),
        _thousandths(row.get("refunded_quantity", NO_QUANTITY)),
    )


def _paise(value: Any) -> int:
    rounded = value.quantize(CENT, ROUND_HALF_UP) if type(value) is Decimal else money(value)
    return int(rounded.scaleb(2))


def _thousandths(value: Any) -> int:
    return int(Decimal(value).quantize(THREE_PLACES).scaleb(3))


def _chain_wide(rows: Iterable[tuple], period: Callable[[date], date]) -> list[tuple]:
    """Rows by product (day, key, then ``SUMS``' values) added up over every store by ``period`` of
    their day and product: the day rows by product of a local day (``_same``) or month
    (``_first_of_month``). Every figure is a sum or a count, so the added row is the sum of its rows."""
    added: dict[tuple[date, str], list[int]] = {}
    for day, key, *values in rows:
        sums = added.get((period(day), key))
        if sums is None:
            added[(period(day), key)] = values
        else:
            for index, value in enumerate(values):
                sums[index] += value
    return [(day, key, *sums) for (day, key), sums in added.items()]


def _same(day: date) -> date:
    return day


def _first_of_month(day: date) -> date:
    return day.replace(day=1)


def _add_to_date(by_day: list[tuple]) -> None:
    """Add the whole chain's rows by product of some days (``_chain_wide``) to the running totals
    (``SalesRollupToDate``), day by day in order. A day after every day the totals have (the usual
    case: today, or the next day of a first build) gets its totals from the last day's plus its own
    rows, in one ``INSERT … SELECT``. An earlier day (a late bill) gets its totals, if it has none,
    from the last day's before it, and then its rows are added to its totals and every later day's."""
    if not by_day:
        return
    table = _TO_DATE.name
    columns, summed = ", ".join(SUMS), ", ".join(f"SUM({field})" for field in SUMS)
    connection = connections[DEFAULT_DB_ALIAS]
    ops = connection.ops
    with _delta_table(_TO_DATE, by_day) as delta, connection.cursor() as cursor:
        from_delta = ", ".join(f"{delta}.{field}" for field in SUMS)
        for day in sorted({row[0] for row in by_day}):
            on = ops.adapt_datefield_value(day)
            cursor.execute(f"SELECT MAX(day) FROM {table}")  # noqa: S608 - our own table
            last = _as_date(cursor.fetchone()[0])
            if last is None or day > last:
                cursor.execute(
                    f"INSERT INTO {table} (day, key, {columns}) SELECT %s, key, {summed} FROM ("  # noqa: S608
                    f"SELECT key, {columns} FROM {table} WHERE day = (SELECT MAX(day) FROM {table})"
                    f" UNION ALL SELECT key, {columns} FROM {delta} WHERE day = %s) AS parts GROUP BY key",
                    [on, on],
                )
                continue
            cursor.execute(
                f"INSERT INTO {table} (day, key, {columns}) SELECT %s, key, {columns} FROM {table}"  # noqa: S608
                f" WHERE day = (SELECT MAX(day) FROM {table} WHERE day < %s)"
                f" AND NOT EXISTS (SELECT 1 FROM {table} WHERE day = %s)",
                [on, on, on],
            )
            cursor.execute(
                f"INSERT INTO {table} (day, key, {columns}) SELECT later.day, {delta}.key, {from_delta}"  # noqa: S608
                f" FROM {delta} JOIN (SELECT DISTINCT day FROM {table} WHERE day > %s UNION SELECT %s) AS later"
                f" ON true WHERE {delta}.day = %s {_adding(_TO_DATE)}",
                [on, on, on],
            )


def _as_date(value: Any) -> date | None:
    """A date as the database hands it back (SQLite: its ISO text)."""
    return date.fromisoformat(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class _Table:
    """A rollup table as the seal writes it: its name, its key columns (of the unique constraint the
    upsert adds on) and their types for the temporary table."""

    model: type[models.Model]
    keys: tuple[tuple[str, str], ...]

    @property
    def name(self) -> str:
        return self.model._meta.db_table

    @property
    def columns(self) -> tuple[str, ...]:
        return (*(column for column, _ in self.keys), *SUMS)


_DAYS = _Table(
    SalesRollup, (("grouping", "varchar(16)"), ("day", "date"), ("store_id", "bigint"), ("key", "varchar(64)"))
)
_MONTHS = _Table(SalesRollupMonth, (("month", "date"), ("key", "varchar(64)")))
_TO_DATE = _Table(SalesRollupToDate, (("day", "date"), ("key", "varchar(64)")))


def _write_adding(table: _Table, rows: list[tuple]) -> None:
    """Add ``rows`` (the key columns' values, then ``SUMS``') to ``table``: loaded into a temporary
    table, then added by one ``INSERT … SELECT`` (whole paise and thousandths: ``_units``)."""
    if not rows:
        return
    columns = ", ".join(table.columns)
    with _delta_table(table, rows) as delta, connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        # WHERE true tells SQLite's parser that ON CONFLICT belongs to the upsert, not to a join.
        cursor.execute(
            f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM {delta} WHERE true {_adding(table)}"  # noqa: S608
        )


def _adding(table: _Table) -> str:
    """Insert a new key's row, or add to the sums of the row already there."""
    keys = ", ".join(column for column, _ in table.keys)
    return f"ON CONFLICT ({keys}) DO UPDATE SET " + ", ".join(
        f"{field} = {table.name}.{field} + EXCLUDED.{field}" for field in SUMS
    )


@contextmanager
def _delta_table(table: _Table, rows: list[tuple]) -> Iterator[str]:
    """A temporary table ``sales_rollup_delta`` of ``rows`` (``table``'s key columns, then ``SUMS``'
    whole units), dropped afterwards: filled by ``COPY`` on PostgreSQL, by one ``INSERT`` per row
    elsewhere (SQLite: development and tests). Only inside a transaction (the seal's step)."""
    connection = connections[DEFAULT_DB_ALIAS]
    keys = ", ".join(f"{column} {kind}" for column, kind in table.keys)
    sums = ", ".join(f"{field} bigint" for field in SUMS)
    columns = ", ".join(table.columns)
    with connection.cursor() as cursor:
        # Inside the seal's transaction: a failure rolls its creation back with the rest.
        cursor.execute(f"CREATE TEMP TABLE sales_rollup_delta ({keys}, {sums})")
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY sales_rollup_delta ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            ops, width = connection.ops, len(table.keys)
            values = ", ".join(["%s"] * len(table.columns))
            cursor.executemany(
                f"INSERT INTO sales_rollup_delta ({columns}) VALUES ({values})",  # noqa: S608 - our own columns
                [[_key(ops, value) for value in row[:width]] + list(row[width:]) for row in rows],
            )
        yield "sales_rollup_delta"
        cursor.execute("DROP TABLE sales_rollup_delta")


def _key(ops, value: Any) -> Any:
    return ops.adapt_datefield_value(value) if isinstance(value, date) else value
