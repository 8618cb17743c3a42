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
that sums them for the report, to the day rows and the month rows in the same transaction, and gives
each step a token (``SalesRollupSeal.steps``: a worker's cached report by product read under it is
good while the seal keeps it, ``report_cache``). A late
change - a refund of an old bill, a bill recorded for a past day - is a new row past the seal: the
report reads it raw at once, and the next seal adds it to the day (and month) it belongs to. Nothing
is written in the bill's own transaction. Bills, lines, payments and refunds are never changed
after they commit (``models.Purchase``); deleting one needs ``seal_sales_rollups --rebuild``.
docs/reports.md, "Rollups", says the same.
"""

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.utils import timezone

from billing_project.core.db.scaled import to_units
from billing_project.core.money import money

from .models import Purchase, PurchaseItem, Refund, SalesRollup, SalesRollupMonth, SalesRollupSeal
from .sales_report import COLLECTORS, _Scope
from .sales_rollup_reads import NO_QUANTITY, SUMS, ZERO, _encode, thousandths

# How many bill ids (and refund ids) one step of a seal covers: each step is its own transaction.
SEAL_STEP = 100_000
# How long a seal waits for the bills being rung up to commit before it gives up (PostgreSQL).
SEAL_LOCK_TIMEOUT = "5s"
# The steps whose tokens the seal keeps (``SalesRollupSeal.steps``): a worker's cached report by product
# read under an older step is read again (``purchases.report_cache``).
SEAL_STEPS_KEPT = 64
# A seal that adds at least this many bills (a first build, a rebuild, a long pause) vacuums and
# samples the rollup tables at once rather than waiting for autovacuum: until they are sampled the
# planner takes them for near empty and sorts a year by product on disk rather than hashing it, and
# until they are vacuumed each month row keeps a dead version from every step that added to it (at
# 5,000,000 bills, 2.2 million dead rows beside 700,000 live ones) and an index-only read of the day
# rows visits the table for every row.
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
                seal.bills_through = seal.refunds_through = 0
                seal.time_zone = settings.TIME_ZONE
                seal.steps = []
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
            seal.steps = [*seal.steps, secrets.randbits(63)][-SEAL_STEPS_KEPT:]
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
    _write_adding(_MONTHS, _months(rows))


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
        thousandths(row.get("quantity", NO_QUANTITY)),
        thousandths(row.get("refunded_quantity", NO_QUANTITY)),
    )


def _paise(value: Any) -> int:
    return int(money(value).scaleb(2))


def _months(rows: list[tuple]) -> list[tuple]:
    """The by-product rows of ``rows`` (the day rows: grouping, day, store, key, then ``SUMS``) added
    up by local month and product over every store (``SalesRollupMonth``): every figure is a sum or a
    count, so the month's row is the sum of its days'."""
    months: dict[tuple[date, str], list[int]] = {}
    for grouping, day, _store, key, *values in rows:
        if grouping != "product":
            continue
        month = months.get((day.replace(day=1), key))
        if month is None:
            months[(day.replace(day=1), key)] = values
        else:
            for index, value in enumerate(values):
                month[index] += value
    return [(month, key, *values) for (month, key), values in months.items()]


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


def _write_adding(table: _Table, rows: list[tuple]) -> None:
    """Add ``rows`` (the key columns' values, then ``SUMS``') to ``table``."""
    if not rows:
        return
    if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
        _copy_adding(table, rows)
    else:
        batch = UPSERT_PARAMETERS // len(table.columns)
        for start in range(0, len(rows), batch):
            _upsert_adding(table, rows[start : start + batch])


# Parameters per INSERT statement on SQLite: well under its limit of 32,766.
UPSERT_PARAMETERS = 15_000


def _adding(table: _Table) -> str:
    """Insert a new key's row, or add to the sums of the row already there."""
    keys = ", ".join(column for column, _ in table.keys)
    return f"ON CONFLICT ({keys}) DO UPDATE SET " + ", ".join(
        f"{field} = {table.name}.{field} + EXCLUDED.{field}" for field in SUMS
    )


def _copy_adding(table: _Table, rows: list[tuple]) -> None:
    """PostgreSQL: ``COPY`` the rows into a temporary table, then one ``INSERT … SELECT`` adds them
    (whole paise and thousandths: ``_units``)."""
    columns = ", ".join(table.columns)
    keys = ", ".join(f"{column} {kind}" for column, kind in table.keys)
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE sales_rollup_delta ({keys}, bills bigint, gross bigint, discounts bigint,"
            " net_sales bigint, refunds bigint, tax bigint, cost bigint, sold_taxable bigint,"
            " taxable bigint, quantity bigint, refunded_quantity bigint) ON COMMIT DROP"
        )
        with cursor.copy(f"COPY sales_rollup_delta ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM sales_rollup_delta {_adding(table)}"  # noqa: S608
        )
        cursor.execute("DROP TABLE sales_rollup_delta")


def _upsert_adding(table: _Table, rows: list[tuple]) -> None:
    """SQLite: the rows in one ``INSERT … VALUES`` statement."""
    connection = connections[DEFAULT_DB_ALIAS]
    ops = connection.ops
    one = "(" + ", ".join(["%s"] * len(table.columns)) + ")"
    values = ", ".join([one] * len(rows))
    sql = f"INSERT INTO {table.name} ({', '.join(table.columns)}) VALUES {values} {_adding(table)}"  # noqa: S608
    params: list[Any] = []
    for row in rows:
        keys, sums = row[: len(table.keys)], row[len(table.keys) :]
        params += [ops.adapt_datefield_value(key) if isinstance(key, date) else key for key in keys]
        params += sums
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
