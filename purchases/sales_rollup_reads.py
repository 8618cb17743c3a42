"""Reading the sales report's rollups (``sales_rollups`` says what they hold and how they are kept):
the rows of a grouping over a range of days, with the seal they were read under, in one statement.

The rollup keeps amounts as whole paise and quantities as thousandths (``RollupSums``): a read adds
them as ``bigint`` and scales each sum back to 2 or 3 places exactly (``_sum``)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connections

from billing_project.core.db.scaled import from_units
from billing_project.core.money import money

from .models import SalesRollup, SalesRollupMonth, SalesRollupSeal

ZERO = Decimal("0.00")
NO_QUANTITY = Decimal("0.000")
THREE_PLACES = Decimal("0.001")
# The rollup's columns of sums, in the order a read hands them back.
SUMS: tuple[str, ...] = ("bills", "gross", "discounts", "net_sales", "refunds", "tax", "cost", "sold_taxable")
SUMS += ("taxable", "quantity", "refunded_quantity")
LINE_GROUPINGS = ("product", "tax_rate")
# The places of each sum (``RollupSums``): amounts in paise, quantities in thousandths, bills counted.
PLACES = dict.fromkeys(SUMS, 2) | {"bills": 0, "quantity": 3, "refunded_quantity": 3}
# On PostgreSQL a read scales each sum of whole units back in the statement (``_sum``): a ``numeric``
# sum of ``bigint`` times 0.01 (0.001) is exact and has 2 (3) places, so psycopg hands back the
# Decimals the report adds, as it did when the rollup was ``numeric``.
UNIT = {2: "0.01", 3: "0.001"}


@dataclass(frozen=True)
class Rolled:
    """What a report reads from the rollup: its rows by key and its totals (the collected sums of
    ``sales_report``, before ``_finish``), and the ids the rollup holds bills and refunds up to."""

    rows: dict[Any, dict]
    totals: dict[str, Any]
    bills_through: int
    refunds_through: int


def _encode(grouping: str, key: Any) -> str:
    if key is None:
        return ""
    if grouping == "day":
        return key.isoformat()
    if grouping == "tax_rate":
        return str(money(key))
    return str(key)


def _decode(grouping: str, text: str) -> Any:
    if grouping in ("hour", "product", "cashier", "till"):
        return int(text) if text else None
    if grouping == "day":
        return date.fromisoformat(text)
    if grouping == "tax_rate":
        return Decimal(text)
    return text  # payment_method: the collector's own keys


def _sum(field: str, vendor: str) -> str:
    """The SQL of the sum of one of ``SUMS``: on PostgreSQL scaled back to its places (``UNIT``); on
    other databases the sum of whole units, which ``_cents`` and ``_quantity`` scale."""
    if vendor == "postgresql" and PLACES[field]:
        return f"SUM({field}) * {UNIT[PLACES[field]]}"
    return f"SUM({field})"


def _cents(value: Any) -> Decimal:
    """A 2-place amount from a read's sum: PostgreSQL's is scaled already (``_sum``) and taken as it
    is (a report by product reads 50,000 rows of these); another database's is whole paise (an int)."""
    if type(value) is Decimal:
        return value
    return from_units(value or 0, 2)


def _quantity(value: Any) -> Decimal:
    """A 3-place quantity, as ``_cents`` (thousandths from another database)."""
    if type(value) is Decimal:
        return value
    return from_units(value or 0, 3)


def _row(grouping: str, sums: Sequence[Any]) -> dict[str, Any]:
    """A collected row of ``grouping``'s shape from the rollup's sums (``SUMS``' order)."""
    bills, gross, discounts, net_sales, refunds, tax, cost, sold_taxable, taxable, quantity, refunded = sums
    row = {
        "bills": int(bills or 0),
        "gross": _cents(gross),
        "discounts": _cents(discounts),
        "net_sales": _cents(net_sales),
        "refunds": _cents(refunds),
        "net_after_refunds": ZERO,
        "tax": _cents(tax),
        "cost": _cents(cost),
        "margin": ZERO,
        "_taxable": _cents(sold_taxable),
    }
    if grouping in LINE_GROUPINGS:
        row["taxable"] = _cents(taxable)
        row["quantity"] = _quantity(quantity)
        row["refunded_quantity"] = _quantity(refunded)
    return row


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


@dataclass(frozen=True)
class MonthPlan:
    """How a report of every store by product reads ``date_from``..``date_to``: the month rows of
    ``months`` (first days), plus the day rows of the days ``added``, less the day rows of the days
    ``taken`` (each a list of inclusive ranges of days). A month wholly inside the range is read as
    its month row; a month partly inside, as its month row less the days outside the range when they
    are fewer than the days inside, or else as the days inside."""

    months: list[date]
    added: list[tuple[date, date]]
    taken: list[tuple[date, date]]


def month_plan(date_from: date, date_to: date) -> MonthPlan | None:
    """The ``MonthPlan`` of a range; ``None`` when it reads no month row (the day rows alone)."""
    months, added, taken = [], [], []
    first = date_from.replace(day=1)
    while first <= date_to:
        after = _next_month(first)
        last = after - timedelta(days=1)
        inside = (max(first, date_from), min(last, date_to))
        outside = [(first, date_from - timedelta(days=1)), (date_to + timedelta(days=1), last)]
        outside = [(a, b) for a, b in outside if a <= b]
        days_in = (inside[1] - inside[0]).days + 1
        days_out = sum((b - a).days + 1 for a, b in outside)
        if days_out < days_in:
            months.append(first)
            taken += outside
        else:
            added.append(inside)
        first = after
    return MonthPlan(months, added, taken) if months else None


def _product_rows_by_month(plan: MonthPlan, ops) -> tuple[str, list]:
    """Every store's rows by product read as ``plan`` says, added up by product. A month row less the
    day rows of days outside the range can leave a product whose sums are all nought (it sold only
    on those days): it has no row, as in the raw answer, where a product has a row when it has a bill
    (``bills``) or a refund (``refunded_quantity``) in the range."""
    table, by_month = SalesRollup._meta.db_table, SalesRollupMonth._meta.db_table
    sums = ", ".join(_sum(field, ops.connection.vendor) for field in SUMS)
    columns = ", ".join(SUMS)
    negated = ", ".join(f"-{field}" for field in SUMS)

    def days(ranges: list[tuple[date, date]]) -> tuple[str, list]:
        where = " OR ".join(["(day >= %s AND day <= %s)"] * len(ranges)) or "1 = 0"
        return where, [ops.adapt_datefield_value(day) for pair in ranges for day in pair]

    added, added_params = days(plan.added)
    taken, taken_params = days(plan.taken)
    months = ", ".join(["%s"] * len(plan.months))
    sql = (
        f"SELECT 'r', key, {sums} FROM ("  # noqa: S608 - only our own table and column names
        f"SELECT key, {columns} FROM {by_month} WHERE month IN ({months})"
        f" UNION ALL SELECT key, {columns} FROM {table} WHERE grouping = 'product' AND ({added})"
        f" UNION ALL SELECT key, {negated} FROM {table} WHERE grouping = 'product' AND ({taken})"
        ") AS parts GROUP BY key HAVING SUM(bills) > 0 OR SUM(refunded_quantity) > 0"
    )
    params = [*(ops.adapt_datefield_value(month) for month in plan.months), *added_params, *taken_params]
    return sql, params


def read_rollup(
    alias: str,
    grouping: str,
    date_from: date,
    date_to: date,
    store_ids: list[int] | None,
    first: tuple[str, list[Any]] | None = None,
) -> Rolled | None:
    """The rollup of ``grouping`` over ``date_from``..``date_to`` at ``store_ids`` (``None``: every
    store), read from ``alias`` with its seal in one statement, so both come from one snapshot even
    while a seal commits. ``None`` when nothing is sealed, or sealed by another time zone's days.

    ``first``: a ``SELECT`` (and its parameters) to run in the same statement, before the rest (the
    report's ``set_config`` of its limits, without a round trip of its own)."""
    connection = connections[alias]
    ops = connection.ops
    table, seal = SalesRollup._meta.db_table, SalesRollupSeal._meta.db_table
    days = [ops.adapt_datefield_value(date_from), ops.adapt_datefield_value(date_to)]
    where = "day >= %s AND day <= %s"
    params: list[Any] = list(days)
    if store_ids is not None:
        stores = [int(pk) for pk in store_ids]
        where += f" AND store_id IN ({', '.join(['%s'] * len(stores))})" if stores else " AND 1 = 0"
        params += stores
    sums = ", ".join(_sum(field, connection.vendor) for field in SUMS)
    zeros = ", ".join(["0"] * (len(SUMS) - 2))
    # The seal's row comes out even when there is no seal (NULLs), and after ``first``, which the
    # outer side of the join makes run whatever the seal table holds.
    prelude, before = ("WITH first AS MATERIALIZED (" + first[0] + ") ", list(first[1])) if first else ("", [])
    seal_from = f"first LEFT JOIN {seal} ON true" if first else f"(SELECT 1) AS one LEFT JOIN {seal} ON true"
    plan = month_plan(date_from, date_to) if grouping == "product" and store_ids is None else None
    if plan is None:
        # Only our own table and column names are formatted in; the values are parameters.
        rows_sql = f"SELECT 'r', key, {sums} FROM {table} WHERE grouping = %s AND {where} GROUP BY key"  # noqa: S608
        rows_params = [grouping, *params]
    else:
        rows_sql, rows_params = _product_rows_by_month(plan, ops)
    sql = (
        f"{prelude}{rows_sql}"  # noqa: S608 - only our own table and column names; the values are parameters
        f" UNION ALL SELECT 't', '', {sums} FROM {table} WHERE grouping = 'day' AND {where}"
        f" UNION ALL SELECT 's', time_zone, bills_through, refunds_through, {zeros} FROM {seal_from}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*before, *rows_params, *params])
        found = cursor.fetchall()
    sealed = [row for row in found if row[0] == "s"]
    if sealed[0][1] != settings.TIME_ZONE or not (sealed[0][2] or sealed[0][3]):
        return None
    rows = {}
    totals = None
    for kind, key, *values in found:
        if kind == "r":
            rows[_decode(grouping, key)] = _row(grouping, values)
        elif kind == "t":
            totals = _row("day", values)
    assert totals is not None
    return Rolled(rows=rows, totals=totals, bills_through=int(sealed[0][2]), refunds_through=int(sealed[0][3]))
