"""Reading the sales report's rollups (``sales_rollups`` says what they hold and how they are kept):
the rows of a grouping over a range of days, with the seal they were read under, in one statement.

The rollup keeps amounts as whole paise and quantities as thousandths (``RollupSums``): a read adds
them as ``bigint`` and scales each sum back to 2 or 3 places exactly (``_sum``)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import orjson
from django.conf import settings
from django.db import connections
from django.utils import timezone

from billing_project.core.db.scaled import from_units
from billing_project.core.money import money
from catalog.models import Product, ProductNamesVersion

from . import report_cache
from .models import SUMS_COLUMNS, SalesRollup, SalesRollupMonth, SalesRollupSeal

ZERO = Decimal("0.00")
NO_QUANTITY = Decimal("0.000")
THREE_PLACES = Decimal("0.001")
# The rollup's columns of sums, in the order a read hands them back.
SUMS: tuple[str, ...] = SUMS_COLUMNS
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

    rows: dict[Any, Any]  # collected sums by key; ``PRODUCT_ROW`` tuples when read with ``product_rows``
    totals: dict[str, Any]
    bills_through: int
    refunds_through: int
    sealed_by: int = 0  # the seal's newest step when read (``SalesRollupSeal.steps``), or 0


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


def _scaled(field: str, vendor: str) -> str:
    """A sum of whole units of ``_whole_sums`` as ``_sum`` hands it back."""
    if vendor == "postgresql" and PLACES[field]:
        return f"{field} * {UNIT[PLACES[field]]}"
    return field


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


def thousandths(value: Any) -> int:
    """A quantity as the rollup keeps it: rounded to 3 places, in whole thousandths (``_quantity``
    reads it back)."""
    return int(Decimal(value).quantize(THREE_PLACES).scaleb(3))


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
    are fewer than the days inside (counting only the days that can hold rows yet), or else as the days
    inside."""

    months: list[date]
    added: list[tuple[date, date]]
    taken: list[tuple[date, date]]


def month_plan(date_from: date, date_to: date, last_day: date | None = None) -> MonthPlan | None:
    """The ``MonthPlan`` of a range; ``None`` when it reads no month row (the day rows alone).

    ``last_day``: the last day that can hold rows yet (today). The days after it are still read where
    the plan takes them, so the answer is exact whatever they hold, but they are not counted as days
    to read: a range ending today reads this month's row rather than each of its days so far."""
    months, added, taken = [], [], []
    first = date_from.replace(day=1)
    while first <= date_to:
        after = _next_month(first)
        last = after - timedelta(days=1)
        inside = (max(first, date_from), min(last, date_to))
        outside = [(first, date_from - timedelta(days=1)), (date_to + timedelta(days=1), last)]
        outside = [(a, b) for a, b in outside if a <= b]
        days_in = _days_with_rows(*inside, last_day)
        days_out = sum(_days_with_rows(a, b, last_day) for a, b in outside)
        if days_out < days_in:
            months.append(first)
            taken += outside
        else:
            added.append(inside)
        first = after
    return MonthPlan(months, added, taken) if months else None


def _days_with_rows(first: date, last: date, last_day: date | None) -> int:
    """How many days of ``first``..``last`` can hold rows: those up to ``last_day``, when given."""
    if last_day is not None:
        last = min(last, last_day)
    return max((last - first).days + 1, 0)


def _product_sums_by_month(plan: MonthPlan, ops, fields: Sequence[str] = SUMS) -> tuple[str, list]:
    """Every store's sums by product read as ``plan`` says, added up by product (``key``, then
    ``SUMS`` in whole units, named). A month row less the day rows of days outside the range can leave
    a product whose sums are all nought (it sold only on those days): the caller leaves it out, as the
    raw answer has a row for a product only when it has a bill (``bills``) or a refund
    (``refunded_quantity``) in the range. (Filtered here, the rows' count would be a guess, and
    PostgreSQL, guessing 111 for 50,000, would join them to the products row by row.)"""
    table, by_month = SalesRollup._meta.db_table, SalesRollupMonth._meta.db_table
    columns = ", ".join(fields)
    negated = ", ".join(f"-{field}" for field in fields)

    def days(ranges: list[tuple[date, date]]) -> tuple[str, list]:
        where = " OR ".join(["(day >= %s AND day <= %s)"] * len(ranges)) or "1 = 0"
        return where, [ops.adapt_datefield_value(day) for pair in ranges for day in pair]

    added, added_params = days(plan.added)
    taken, taken_params = days(plan.taken)
    months = ", ".join(["%s"] * len(plan.months))
    sql = (
        f"SELECT key, {_whole_sums(ops.connection.vendor, fields)} FROM ("  # noqa: S608 - only our own table and column names
        f"SELECT key, {columns} FROM {by_month} WHERE month IN ({months})"
        f" UNION ALL SELECT key, {columns} FROM {table} WHERE grouping = 'product' AND ({added})"
        f" UNION ALL SELECT key, {negated} FROM {table} WHERE grouping = 'product' AND ({taken})"
        ") AS parts GROUP BY key"
    )
    params = [*(ops.adapt_datefield_value(month) for month in plan.months), *added_params, *taken_params]
    return sql, params


def _whole_sums(vendor: str, fields: Sequence[str] = SUMS) -> str:
    """``fields`` (of ``SUMS``) summed in whole units and named, as ints: on PostgreSQL by
    ``rollup_sum`` (migration 0039), a ``bigint`` sum of ``bigint`` in half the time of ``sum``'s
    ``numeric`` one."""
    total = "rollup_sum" if vendor == "postgresql" else "SUM"
    return ", ".join(f"{total}({field}) AS {field}" for field in fields)


def _days_and_stores(ops, date_from: date, date_to: date, store_ids: list[int] | None) -> tuple[str, list[Any]]:
    """The ``WHERE`` of a rollup's rows of ``date_from``..``date_to`` at ``store_ids`` (``None``: every
    store), and its parameters."""
    where = "day >= %s AND day <= %s"
    params: list[Any] = [ops.adapt_datefield_value(date_from), ops.adapt_datefield_value(date_to)]
    if store_ids is not None:
        stores = [int(pk) for pk in store_ids]
        where += f" AND store_id IN ({', '.join(['%s'] * len(stores))})" if stores else " AND 1 = 0"
        params += stores
    return where, params


def read_rollup(
    alias: str,
    grouping: str,
    date_from: date,
    date_to: date,
    store_ids: list[int] | None,
    first: tuple[str, list[Any]] | None = None,
    product_rows: bool = False,
    written: bool = False,
) -> Rolled | None:
    """The rollup of ``grouping`` over ``date_from``..``date_to`` at ``store_ids`` (``None``: every
    store), read from ``alias`` with its seal in one statement, so both come from one snapshot even
    while a seal commits. ``None`` when nothing is sealed, or sealed by another time zone's days.

    ``first``: a ``SELECT`` (and its parameters) to run in the same statement, before the rest (the
    report's ``set_config`` of its limits, without a round trip of its own).

    ``product_rows`` (by product, without ``first``): the rows as ``PRODUCT_ROW`` tuples, in the form a
    report presents them from (``_read_products``), rather than as collected Decimal sums; and
    ``written`` too, on PostgreSQL, as ``WRITTEN_ROW`` tuples, each row already written as the API
    writes it (``_read_written``)."""
    if product_rows:
        assert grouping == "product" and first is None, "product_rows: by product, without first"
        if written and connections[alias].vendor == "postgresql":
            key = (date_from, date_to, None if store_ids is None else tuple(store_ids))
            return report_cache.cached(
                key, lambda: _written_stamp(alias), lambda: _read_written(alias, date_from, date_to, store_ids)
            )
        return _read_products(alias, date_from, date_to, store_ids)
    connection = connections[alias]
    ops = connection.ops
    table, seal = SalesRollup._meta.db_table, SalesRollupSeal._meta.db_table
    where, params = _days_and_stores(ops, date_from, date_to, store_ids)
    sums = ", ".join(_sum(field, connection.vendor) for field in SUMS)
    zeros = ", ".join(["0"] * (len(SUMS) - 2))
    # The seal's row comes out even when there is no seal (NULLs), and after ``first``, which the
    # outer side of the join makes run whatever the seal table holds.
    prelude, before = ("WITH first AS MATERIALIZED (" + first[0] + ") ", list(first[1])) if first else ("", [])
    seal_from = f"first LEFT JOIN {seal} ON true" if first else f"(SELECT 1) AS one LEFT JOIN {seal} ON true"
    plan = month_plan(date_from, date_to, timezone.localdate()) if grouping == "product" and store_ids is None else None
    if plan is None:
        # Only our own table and column names are formatted in; the values are parameters.
        rows_sql = f"SELECT 'r', key, {sums} FROM {table} WHERE grouping = %s AND {where} GROUP BY key"  # noqa: S608
        rows_params = [grouping, *params]
    else:
        by_month, rows_params = _product_sums_by_month(plan, ops)
        scaled = ", ".join(_scaled(field, connection.vendor) for field in SUMS)
        rows_sql = (
            f"SELECT 'r', key, {scaled} FROM ({by_month}) AS by_product"  # noqa: S608 - our own SQL
            " WHERE bills > 0 OR refunded_quantity > 0"
        )
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


# A row of ``_read_products``, by product: the kind ("r"), the product's id (None for a line of no
# product), the bills, the amounts (``PRODUCT_AMOUNTS``), the quantities sold and refunded in
# thousandths, ``net_after_refunds`` in paise (the report's order), the product's name and unit. On
# PostgreSQL each amount a report shows is the text of its exact 2-place figure (``12.50``,
# ``-0.40``), as the API writes it; on other databases it is whole paise, as the two amounts no
# report by product shows (``UNSHOWN``) are everywhere. ``sales_by_product`` adds the raw rows.
PRODUCT_AMOUNTS = (*SUMS[1:9], "net_after_refunds", "margin")
UNSHOWN = ("sold_taxable", "taxable")
PRODUCT_ROW = ("kind", "product_id", "bills", *PRODUCT_AMOUNTS, *SUMS[9:], "order", "name", "unit")
PRODUCT_ID, BILLS, GROSS, REFUNDED, ORDER, NAME = (
    PRODUCT_ROW.index(name) for name in ("product_id", "bills", "gross", "refunded_quantity", "order", "name")
)
# The amounts summed as they are (the rest are worked out from them), from GROSS on.
SUMMED_AMOUNTS = SUMS[1:9]
# The amounts' expressions over the sums of whole paise.
_AMOUNT_OF = dict(zip(SUMMED_AMOUNTS, SUMMED_AMOUNTS, strict=True)) | {
    "net_after_refunds": "net_sales - refunds",
    "margin": "sold_taxable - cost",
}


def _amount_text(expression: str, vendor: str) -> str:
    """A 2-place amount from its whole paise (``PRODUCT_ROW``): the exact ``numeric``'s text on
    PostgreSQL; the paise elsewhere."""
    if vendor == "postgresql":
        return f"CAST(({expression}) * 0.01 AS text)"
    return f"({expression})"


def _read_products(alias: str, date_from: date, date_to: date, store_ids: list[int] | None) -> Rolled | None:
    """``read_rollup`` by product, each row read in the form the report presents it from
    (``PRODUCT_ROW``), with the product's name and unit: a report of a supermarket's 50,000 products
    shapes each row once (``sales_by_product``) rather than adding, rounding and formatting Decimals.
    A report of every store reads whole months from the month rows (``month_plan``), one of some
    stores its day rows. The rows, the totals (``read_rollup``'s) and the seal come from one statement, one
    snapshot, in ``PRODUCT_ROW``'s columns: the totals (kind "t") have the summed amounts, the seal's
    row (kind "s") its ``bills_through`` as the bills, ``refunds_through`` as the order and its time
    zone as the name. ``rows``: the ``PRODUCT_ROW`` tuples by product id."""
    connection = connections[alias]
    ops, vendor = connection.ops, connection.vendor
    table, seal = SalesRollup._meta.db_table, SalesRollupSeal._meta.db_table
    where, params = _days_and_stores(ops, date_from, date_to, store_ids)
    plan, by_product, by_product_params = _product_sums(ops, date_from, date_to, store_ids)
    amounts = ", ".join(name if name in UNSHOWN else _amount_text(_AMOUNT_OF[name], vendor) for name in PRODUCT_AMOUNTS)
    total_amounts = ", ".join(
        f"CAST(SUM({name}) AS bigint)" if name in UNSHOWN else _amount_text(f"SUM({name})", vendor)
        for name in SUMMED_AMOUNTS
    )
    nothing = ", ".join(["NULL"] * (len(PRODUCT_AMOUNTS) - len(SUMMED_AMOUNTS)))
    # Only our own table and column names are formatted in; the values are parameters.
    # A month plan's rows are named afterwards (``product_names``): PostgreSQL cannot tell how many
    # products the months' and days' rows come to (it guesses 200 for 50,000) and would look each name
    # up in turn, three times as long as reading them all.
    named = plan is None
    product = (
        f" LEFT JOIN {Product._meta.db_table} AS product ON product.id = CAST(NULLIF(by_product.key, '') AS bigint)"
        if named
        else ""
    )
    sql = (
        f"SELECT 'r', CAST(NULLIF(by_product.key, '') AS bigint), bills, {amounts}, quantity,"  # noqa: S608
        f" refunded_quantity, net_sales - refunds, {'product.name, product.unit' if named else 'NULL, NULL'}"
        f" FROM ({by_product}) AS by_product{product}"
        f" UNION ALL SELECT 't', NULL, CAST(SUM(bills) AS bigint), {total_amounts}, {nothing}, 0, 0, 0, NULL, NULL"
        f" FROM {table} WHERE grouping = 'day' AND {where}"
        f" UNION ALL SELECT 's', NULL, bills_through, {', '.join(['NULL'] * len(PRODUCT_AMOUNTS))}, 0, 0,"
        f" refunds_through, time_zone, NULL FROM (SELECT 1) AS one LEFT JOIN {seal} ON true"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*by_product_params, *params])
        found = cursor.fetchall()
    rows, totals, sealed = {}, None, None
    for row in found:
        if row[0] == "r":
            # A month row less the days outside the range can come to nought: no row
            # (``_product_sums_by_month``).
            if row[BILLS] or row[REFUNDED]:
                rows[row[PRODUCT_ID]] = row
        elif row[0] == "t":
            totals = row
        else:
            sealed = row
    assert totals is not None and sealed is not None
    bills_through, refunds_through, time_zone = sealed[BILLS], sealed[ORDER], sealed[NAME]
    if time_zone != settings.TIME_ZONE or not (bills_through or refunds_through):
        return None
    if not named:
        names = product_names([pk for pk in rows if pk is not None])
        rows = {pk: (*row[:NAME], *names.get(pk, ("", None))) for pk, row in rows.items()}
    amounts = totals[GROSS : GROSS + len(SUMMED_AMOUNTS)]
    summed = [Decimal(value) if type(value) is str else value for value in amounts]
    return Rolled(
        rows=rows,
        totals=_row("day", [totals[BILLS], *summed, NO_QUANTITY, NO_QUANTITY]),
        bills_through=int(bills_through),
        refunds_through=int(refunds_through),
    )


def _product_sums(
    ops, date_from: date, date_to: date, store_ids: list[int] | None, fields: Sequence[str] = SUMS
) -> tuple[MonthPlan | None, str, list]:
    """The SQL of the rollup's sums by product over ``date_from``..``date_to`` at ``store_ids``
    (``key``, then ``fields`` of ``SUMS`` in whole units, named), its parameters, and the ``MonthPlan``
    it reads by (every store's ranges), if any."""
    plan = month_plan(date_from, date_to, timezone.localdate()) if store_ids is None else None
    if plan is not None:
        return (plan, *_product_sums_by_month(plan, ops, fields))
    where, params = _days_and_stores(ops, date_from, date_to, store_ids)
    table = SalesRollup._meta.db_table
    sums = _whole_sums(ops.connection.vendor, fields)
    return None, f"SELECT key, {sums} FROM {table} WHERE grouping = 'product' AND {where} GROUP BY key", params  # noqa: S608


# A row of ``_read_written``, by product: the kind ("w"), the product's id, ``net_after_refunds`` in
# paise (the report's order), the pieces sold and refunded (the quantities of a product sold ``each``,
# else 0: the totals count those alone), and the row as the API writes it: ``SalesReportRowSerializer``'s
# keys and values, as compact JSON text.
WRITTEN_ROW = ("kind", "product_id", "order", "pieces", "refunded_pieces", "json")
WRITTEN_JSON = WRITTEN_ROW.index("json")
# Each key of a written row, in the serializer's order (``test_sales_by_product`` holds them to it), and
# the SQL of its value over ``_read_written``'s named sums: an amount, the text of its exact 2-place
# figure, written as a JSON string; the other values as JSON already (a name as ``to_json`` escapes it,
# as Python's ``json`` does; a quantity an integer for ``each``, else a 3-place string).
_QUANTITY_JSON = (
    "CASE WHEN unit = 'each' THEN CAST({0} / 1000 AS text) ELSE '\"' || CAST({0} * 0.001 AS text) || '\"' END"
)
WRITTEN_AMOUNTS = ("gross", "discounts", "net_sales", "refunds", "net_after_refunds", "tax", "cost", "margin")
WRITTEN_VALUES = {
    "bills": "CAST(bills AS text)",
    **{name: _amount_text(_AMOUNT_OF[name], "postgresql") for name in WRITTEN_AMOUNTS},
    "product_id": "COALESCE(CAST(product_id AS text), 'null')",
    "product_name": "CAST(to_json(name) AS text)",
    "quantity": _QUANTITY_JSON.format("quantity"),
    "refunded_quantity": _QUANTITY_JSON.format("refunded_quantity"),
    "unit": "CAST(to_json(unit) AS text)",
}


def _written_json_sql() -> str:
    """The SQL of a written row's JSON: compact, its keys and the quotes around its amounts written
    into the text between the values, joined by ``||`` (three times as fast as ``row_to_json``, which
    looks up how to write each column's type again for every row, and than ``concat`` of every part)."""
    parts, between = [], "{"
    for n, (key, value) in enumerate(WRITTEN_VALUES.items()):
        quote = '"' if key in WRITTEN_AMOUNTS else ""
        between += f'{"," if n else ""}"{key}":{quote}'
        parts += [f"'{between}'", value]
        between = quote
    parts.append(f"'{between}}}'")
    return " || ".join(parts)


# What a written row depends on besides its range (``report_cache``): the seal (its steps, and the ids
# it holds bills and refunds up to) and the products' names' and units' version.
_NAMES_VERSION = ProductNamesVersion._meta.db_table
_STAMP = (
    "seal.steps AS steps, seal.bills_through AS bills_through, seal.refunds_through AS refunds_through,"  # noqa: S608
    f" COALESCE((SELECT version FROM {_NAMES_VERSION} WHERE id = 1), 0) AS names"
)


def _written_stamp(alias: str) -> report_cache.Sealed:
    """The seal and the names' version (``_STAMP``) as they are now, in one row."""
    with connections[alias].cursor() as cursor:
        cursor.execute(
            f"SELECT {_STAMP} FROM (SELECT 1) AS one LEFT JOIN {SalesRollupSeal._meta.db_table} AS seal ON true"  # noqa: S608
        )
        steps, bills_through, refunds_through, names = cursor.fetchone()
    # Django has psycopg hand ``jsonb`` over as its text.
    steps = tuple(orjson.loads(steps)) if steps else ()
    return report_cache.Sealed(steps, int(bills_through or 0), int(refunds_through or 0), int(names))


def _read_written(alias: str, date_from: date, date_to: date, store_ids: list[int] | None) -> tuple[Rolled | None, int]:
    """``read_rollup`` by product on PostgreSQL, each row written by the database as the API writes
    it (``WRITTEN_ROW``): a report of a supermarket's 50,000 products is then joined into its answer
    rather than built in Python row by row. The rows, the totals and the seal come from one statement,
    one snapshot; the totals (kind "t", whole paise) and the seal (kind "s") as JSON too. ``rows``: the
    ``WRITTEN_ROW`` tuples by product id, in no order (``sales_by_product.written`` orders them, in a
    third of the time PostgreSQL takes to sort rows this wide); ``sealed_by`` the seal's newest step.
    Also the names' version read in the same statement, which ``report_cache`` keeps the rows under."""
    connection = connections[alias]
    ops = connection.ops
    table, seal = SalesRollup._meta.db_table, SalesRollupSeal._meta.db_table
    where, params = _days_and_stores(ops, date_from, date_to, store_ids)
    # Every sum but the lines' taxable value, which no row by product shows.
    shown = [field for field in SUMS if field != "taxable"]
    _, by_product, by_product_params = _product_sums(ops, date_from, date_to, store_ids, shown)
    totals = _whole_sums(connection.vendor, SUMS[:9])
    # A month plan's sums of a product can come to nought (it sold only on the days taken away): no row.
    # Only our own table and column names are formatted in; the values are parameters.
    sql = (
        "SELECT 'w', named.product_id, named.net_sales - named.refunds,"  # noqa: S608
        " CASE WHEN named.unit = 'each' THEN named.quantity / 1000 ELSE 0 END,"
        " CASE WHEN named.unit = 'each' THEN named.refunded_quantity / 1000 ELSE 0 END,"
        f" {_written_json_sql()}"
        " FROM (SELECT by_product.*, CAST(NULLIF(by_product.key, '') AS bigint) AS product_id,"
        " COALESCE(product.name, '') AS name, COALESCE(product.unit, 'each') AS unit"
        f" FROM ({by_product}) AS by_product LEFT JOIN {Product._meta.db_table} AS product"
        " ON product.id = CAST(NULLIF(by_product.key, '') AS bigint)"
        " WHERE by_product.bills > 0 OR by_product.refunded_quantity > 0) AS named"
        f" UNION ALL SELECT 't', NULL, 0, 0, 0, CAST(row_to_json(totals) AS text)"
        f" FROM (SELECT {totals} FROM {table} WHERE grouping = 'day' AND {where}) AS totals"
        " UNION ALL SELECT 's', NULL, 0, 0, 0, CAST(row_to_json(sealed) AS text) FROM"
        f" (SELECT time_zone, {_STAMP}"
        f" FROM (SELECT 1) AS one LEFT JOIN {seal} AS seal ON true) AS sealed"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*by_product_params, *params])
        found = cursor.fetchall()
    rows, read = {}, {}
    for row in found:
        if row[0] == "w":
            rows[row[1]] = row
        else:
            read[row[0]] = orjson.loads(row[WRITTEN_JSON])
    sealed, totals_row = read["s"], read["t"]
    names = int(sealed["names"])
    if sealed["time_zone"] != settings.TIME_ZONE or not (sealed["bills_through"] or sealed["refunds_through"]):
        return None, names
    steps = sealed["steps"] or [0]
    rolled = Rolled(
        rows=rows,
        totals=_row("day", [*(totals_row[field] or 0 for field in SUMS[:9]), 0, 0]),
        bills_through=int(sealed["bills_through"]),
        refunds_through=int(sealed["refunds_through"]),
        sealed_by=int(steps[-1]),
    )
    return rolled, names


def product_names(ids: list[int]) -> dict[int, tuple[str, str]]:
    """The name and unit of each product of ``ids``, read where the report reads. On PostgreSQL the
    ids are one array parameter: a report of a supermarket's year names 50,000 products, and as many
    placeholders cost more to build and send than the read itself."""
    if not ids:
        return {}
    products = Product.objects.all()
    connection = connections[products.db]
    if connection.vendor != "postgresql":
        return {pk: (name, unit) for pk, name, unit in products.filter(pk__in=ids).values_list("pk", "name", "unit")}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, name, unit FROM {Product._meta.db_table} WHERE id = ANY(%s::bigint[])",  # noqa: S608
            # The array's text form: psycopg's adapter of a list of 50,000 ints takes four times the CPU of the join.
            ["{" + ",".join(map(str, ids)) + "}"],
        )
        return {pk: (name, unit) for pk, name, unit in cursor.fetchall()}
