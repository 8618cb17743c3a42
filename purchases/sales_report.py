"""The sales report (issue 14): bills and refunds over a range of local days, grouped one way.

Definitions (docs/reports.md, "Sales reports", says the same):

- A bill belongs to the local day (``TIME_ZONE``) of its ``created_at``; a refund to the local day of
  its own ``created_at``: refunds count in the period they happened, not when the bill was rung up.
- ``gross`` is the lines' gross (price × quantity) and ``discounts`` the lines' discounts, of the
  bills in the range; ``net_sales`` is the bills' ``total`` (subtotal + tax, before cash rounding);
  ``refunds`` is the refunds' ``total`` (what the lines taken back were worth, before rounding);
  ``net_after_refunds = net_sales − refunds``; ``tax`` is the bills' tax less the refunds' tax.
  So ``gross − discounts`` is the taxable value sold, and every figure after it is net of
  discounts; ``net_after_refunds`` and ``tax`` are net of refunds too.
- A refund counts at the till and for the cashier that processed it (as the X/Z reports and the
  drawer do), for the product and tax rate of the line it took back, and for the methods it was paid
  back by.
- ``payment_method``: ``net_sales`` per method is what the method kept (cash: cash paid − change −
  rounding), so the methods add up to the bills' total; ``refunds`` likewise (cash: the cash paid
  back − the refund's rounding), and a refund with no cash payment to carry its rounding (its cash
  part rounded to nothing) shares its total among the methods that paid it back, in proportion. A
  bill's gross, discounts and tax, and a refund's tax, are shared between its methods in proportion,
  the last payment taking the remainder, so they add up exactly. A bill or refund with no payment
  (nothing payable after rounding) counts under cash.
- ``bills``: by day, hour, cashier and till each bill is counted once, so the rows add up to the
  total; by product, tax rate and payment method a row counts the bills with such a line or payment,
  so those rows do not add up to the total (a bill with two products counts under both).

Reads go through ``reporting_reads()``, so they use the read replica when one is configured.
"""

import csv
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import groupby
from operator import itemgetter
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction
from django.db.models import Case, Count, DecimalField, Exists, F, OuterRef, QuerySet, Sum, Value, When
from django.db.models.functions import ExtractHour, Round, TruncDate
from django.http import HttpResponse
from django.utils import timezone

from billing_project.core.api.renderers import WrittenJSON
from billing_project.core.db_router import reporting_reads
from billing_project.core.money import money
from billing_project.core.quantities import Unit
from cashdrawer.errors import TillNotFound
from cashdrawer.models import Till
from catalog.errors import StoreNotFound
from catalog.models import Store
from catalog.stores import store_filter

from . import sales_by_product as by_products
from .errors import ReportGroupingInvalid, ReportRangeInvalid
from .figures import bill_figures, bill_sums
from .models import Payment, PaymentMethod, Purchase, PurchaseItem, Refund, RefundLine, RefundPayment
from .reports import _text
from .sales_rollup_reads import read_rollup

GROUPINGS = ("day", "hour", "product", "cashier", "till", "payment_method", "tax_rate")
MAX_DAYS = 366
DEFAULT_DAYS = 30
# The days a report may name. Far-off dates are typing mistakes, and the range's end (the day after
# date_to, in the store's time zone) must stay a datetime Python and the database can hold.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2999, 12, 31)
# The figures of every row and of the totals, in this order.
FIELDS = ("bills", "gross", "discounts", "net_sales", "refunds", "net_after_refunds", "tax", "cost", "margin")
MONEY_FIELDS = FIELDS[1:]
# Worked out beside the figures, not shown: the taxable value sold, net of refunds (margin's base).
TAXABLE = "_taxable"
# Each grouping's key columns, before the figures, and its extra columns, after them.
KEY_COLUMNS = {
    "day": ("day",),
    "hour": ("hour",),
    "product": ("product_id", "product_name"),
    "cashier": ("cashier_id", "cashier"),
    "till": ("till_id", "till"),
    "payment_method": ("payment_method", "payment_method_name"),
    "tax_rate": ("tax_rate",),
}
EXTRA_COLUMNS = {"product": ("quantity", "refunded_quantity", "unit"), "tax_rate": ("taxable",)}

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
NO_QUANTITY = Decimal("0.000")


def _check_days(date_from: date | None, date_to: date | None) -> None:
    """Refuses a day before ``FIRST_DAY`` or after ``LAST_DAY`` (``ReportRangeInvalid``)."""
    for name, day in (("date_from", date_from), ("date_to", date_to)):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise ReportRangeInvalid(
                f"A report covers days from {FIRST_DAY} to {LAST_DAY}; {name} is {day}.",
                details={name: str(day), "first_day": str(FIRST_DAY), "last_day": str(LAST_DAY)},
            )


def report_period(date_from: date | None, date_to: date | None) -> tuple[date, date]:
    """The range a report covers: the given dates, by default the last 30 days up to today (local)."""
    if date_to is None:
        date_to = timezone.localdate() if date_from is None else min(timezone.localdate(), _last_day(date_from))
    if date_from is None:
        date_from = date_to - timedelta(days=DEFAULT_DAYS - 1)
    return date_from, date_to


def _last_day(date_from: date) -> date:
    return date_from + timedelta(days=DEFAULT_DAYS - 1)


def _validate(date_from: date, date_to: date, group_by: str, till: int | None, store_ids: list[int] | None) -> None:
    if group_by not in GROUPINGS:
        raise ReportGroupingInvalid(
            f"group_by must be one of {', '.join(GROUPINGS)}.", details={"group_by": list(GROUPINGS)}
        )
    if date_from > date_to:
        raise ReportRangeInvalid(
            "date_from is after date_to.", details={"date_from": str(date_from), "date_to": str(date_to)}
        )
    days = (date_to - date_from).days + 1
    if days > MAX_DAYS:
        raise ReportRangeInvalid(
            f"A report covers at most {MAX_DAYS} days.", details={"days": days, "max_days": MAX_DAYS}
        )
    tills = Till.objects.all() if store_ids is None else Till.objects.filter(store__in=store_ids)
    if till is not None and not tills.filter(pk=till).exists():
        raise TillNotFound(details={"till": till})


def _bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    tz = timezone.get_default_timezone()
    start = timezone.make_aware(datetime.combine(date_from, time.min), tz)
    end = timezone.make_aware(datetime.combine(date_to + timedelta(days=1), time.min), tz)
    return start, end


def _zero_row() -> dict[str, Any]:
    return {"bills": 0, **dict.fromkeys(MONEY_FIELDS, ZERO), TAXABLE: ZERO}


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    """2-place Decimals (SQLite sums decimals as floats), ``net_after_refunds`` and ``margin``: the
    taxable value sold less what the goods cost, both net of refunds (tax is not the shop's money)."""
    for field in MONEY_FIELDS:
        row[field] = _money(row[field])
    row["net_after_refunds"] = row["net_sales"] - row["refunds"]
    row["margin"] = _money(row.pop(TAXABLE, ZERO)) - row["cost"]
    return row


def _money(value: Any) -> Decimal:
    """``money`` of a sum, nothing (SQLite's sum of no rows) as nought."""
    return money(value or ZERO)


def sales_report(
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    group_by: str = "day",
    till: int | None = None,
    store: int | None = None,
    store_ids: list[int] | None = None,
    best: int | None = None,
    as_json: bool = False,
) -> dict:
    """The sales of ``date_from``..``date_to`` (inclusive local days; default the last 30 days),
    grouped by ``group_by`` (one of ``GROUPINGS``), optionally of one till (bills rung up and refunds
    paid out there), of one store (``store``: its bills and their refunds), and of the stores
    ``store_ids`` only (``None``: every store; a till outside them is ``TillNotFound``, a store outside
    them an empty report). Returns ``{date_from, date_to, group_by, till, store, rows, totals}``; every
    row and the totals hold ``FIELDS`` (money as 2-place Decimals) after the grouping's key. An
    unknown store is ``StoreNotFound``.

    ``best`` (by product only): the report's first ``best`` rows only, the best sellers, as the whole
    report has them, and ``rows_in_all``, how many rows the whole report has; the totals then leave
    out the quantities (they would need every product's unit). The Sales page shows its top ten so,
    without naming and shaping a row for each of a supermarket's 50,000 products.

    ``as_json`` (by product only, without ``best``): the rows as the API writes them, one
    ``WrittenJSON`` array (``sales_by_product.written``); the totals as ever.

    Raises ``ReportRangeInvalid`` (date_from after date_to, more than ``MAX_DAYS`` days, a day outside
    ``FIRST_DAY``..``LAST_DAY``), ``ReportGroupingInvalid`` or ``TillNotFound``.
    """
    _check_days(date_from, date_to)
    date_from, date_to = report_period(date_from, date_to)
    with reporting_reads() as alias, transaction.atomic(using=alias):
        # A report of all tills sets its limits in the statement that reads the rollup; one by product
        # sets them before its reads, which are planned for the memory it gives them.
        folded = till is None and group_by != "product" and connections[alias].vendor == "postgresql"
        if not folded:
            bound_report(alias, **_limits(group_by))
        if store is not None and not Store.objects.filter(pk=store).exists():
            raise StoreNotFound(f"Store {store} does not exist.", details={"store": store})
        if store is not None:
            store_ids = [store] if store_ids is None or store in store_ids else []
        _validate(date_from, date_to, group_by, till, store_ids)
        start, end = _bounds(date_from, date_to)
        bills = Purchase.objects.filter(created_at__gte=start, created_at__lt=end)
        refunds = Refund.objects.filter(created_at__gte=start, created_at__lt=end)
        # A line carries its bill's created_at: the lines of a range are read without the bills.
        lines = PurchaseItem.objects.filter(created_at__gte=start, created_at__lt=end)
        if till is not None:
            bills, refunds = bills.filter(till_id=till), refunds.filter(till_id=till)
            lines = lines.filter(purchase__till_id=till)
        if store_ids is not None:
            bills = bills.filter(store_filter(Purchase, store_ids))
            refunds = refunds.filter(store_filter(Refund, store_ids))
            lines = lines.filter(store_filter(PurchaseItem, store_ids))
        # A report of all tills reads the rollup of its days and the bills and refunds past its seal
        # (``sales_rollups``); one till's reads the raw rows (a till's year is small).
        rolled = None
        if till is None:
            first = report_limits() if folded else None
            # By product, the rows as ``PRODUCT_ROW`` tuples (``sales_by_product`` shows them).
            rolled = read_rollup(alias, group_by, date_from, date_to, store_ids, first, group_by == "product", as_json)
        if rolled is not None:
            bills = bills.filter(pk__gt=rolled.bills_through)
            refunds = refunds.filter(pk__gt=rolled.refunds_through)
            lines = lines.filter(purchase_id__gt=rolled.bills_through)
        scope = _Scope(bills=bills, refunds=refunds, lines=lines, date_from=date_from, date_to=date_to)
        collected = COLLECTORS[group_by](scope)
        total = _collect_totals(bills, refunds)
        if rolled is not None:
            merge_rows({None: total}, {None: rolled.totals})
        assert group_by == "product" or (best is None and not as_json), "best, as_json: by product only"
        assert best is None or not as_json, "best or as_json"
        written: tuple[WrittenJSON, dict[str, int]] | None = None
        rows: list[dict] = []
        if group_by == "product" and as_json:
            written = by_products.written(rolled.rows if rolled is not None else {}, collected)
        elif group_by == "product":
            # The rollup's rows are most of them (50,000): the few past the seal are added to them.
            by_product = by_products.added(rolled.rows if rolled is not None else {}, collected)
            rows_in_all = len(by_product)
            rows = by_products.presented(by_product, best=best)
        else:
            if rolled is not None:
                merge_rows(rolled.rows, collected)
                collected = rolled.rows
            rows = _PRESENTERS[group_by](collected, scope)
        totals = _finish(total)
    report = {"date_from": date_from, "date_to": date_to, "group_by": group_by, "till": till, "store": store}
    if best is not None:
        return {**report, "rows": rows, "rows_in_all": rows_in_all, "totals": totals}
    if written is not None:
        written_rows, pieces = written
        return {**report, "rows": written_rows, "totals": {**totals, **pieces}}
    for field in EXTRA_COLUMNS.get(group_by, ()):
        if field == "unit":
            continue
        if field.endswith("quantity"):
            # Pieces add up; kilograms and litres do not add to them: the totals count what is sold each.
            totals[field] = sum((row[field] for row in rows if row["unit"] == Unit.EACH), 0)
        else:
            totals[field] = sum((row[field] for row in rows), ZERO)
    return {**report, "rows": rows, "totals": totals}


@dataclass(frozen=True)
class _Scope:
    """What a report covers: its bills, refunds and bill lines, and its days."""

    bills: QuerySet[Purchase]
    refunds: QuerySet[Refund]
    lines: QuerySet[PurchaseItem]
    date_from: date | None
    date_to: date | None
    # Group by the local day and the store too (the rollup's rows): each key is (day, store, key).
    split: bool = False


def _dims(scope: _Scope, moment: str, store: str) -> dict[str, Any]:
    """The rollup's extra keys, the local day of ``moment`` and ``store``, when ``scope.split``."""
    return {"rd": _local_day(moment), "rs": F(store)} if scope.split else {}


def _key(scope: _Scope, aggregate: Mapping[str, Any], key: Any) -> Any:
    return (aggregate["rd"], aggregate["rs"], key) if scope.split else key


def report_limits(*, work_mem: bool = False, parallel: bool = True) -> tuple[str, list[Any]]:
    """The SQL that sets a report's limits on PostgreSQL, for its transaction only (``SET LOCAL``): a
    statement timeout (``REPORT_STATEMENT_TIMEOUT_MS``), and no JIT compilation, which costs a big
    aggregate more time than it saves. Optionally:

    - ``work_mem``: the memory to hash a big aggregate at once (``REPORT_WORK_MEM_MB``) instead of
      sorting it on disk, and to scan a month of bills through a lossless bitmap of their index;
    - ``parallel=False``: no parallel workers (see ``_limits``).

    Settings that change a plan are in force only for statements planned after this one."""
    sql = "SELECT set_config('statement_timeout', %s, true), set_config('jit', 'off', true)"
    params = [f"{settings.REPORT_STATEMENT_TIMEOUT_MS}ms"]
    if work_mem:
        sql += ", set_config('work_mem', %s, true)"
        params.append(f"{settings.REPORT_WORK_MEM_MB}MB")
    if not parallel:
        sql += ", set_config('max_parallel_workers_per_gather', '0', true)"
    return sql, params


def bound_report(alias: str, *, work_mem: bool = False, parallel: bool = True) -> None:
    """``report_limits`` in a statement of its own, on PostgreSQL."""
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(*report_limits(work_mem=work_mem, parallel=parallel))


def _limits(group_by: str) -> dict[str, bool]:
    """``report_limits``' options of a sales report. By product, two settings that change its plan,
    so made in a statement before the reads:

    - the memory to hash every product's sums at once (``REPORT_WORK_MEM_MB``): a chain's 50,000
      products of 11 sums each hash in about 60 MB, and with the default 4 MB PostgreSQL sorts them on
      disk instead, in about twice the time;
    - no parallel workers: PostgreSQL cannot tell how many products the rollup's rows hold (it guesses
      200), so it would have two workers sum half the rows each, both of which find nearly every
      product, and then merge their sums in one process, which takes longer than summing all the rows
      there in the first place (`bench/RESULTS.md`, "a report by product's memory and workers")."""
    by_product = group_by == "product"
    return {"work_mem": by_product, "parallel": not by_product}


# The bill columns ``_add_bills`` reads, summed over bills: only columns the covering index holds.
BILL_SUMMED = ("subtotal", "discount_total", "total", "tax_total", "cost_total")
# What ``_add_refunds`` reads, each the sum of a refund's column of the same meaning as a bill's.
REFUND_SUMMED = {"refunds": "total", "tax": "tax_total", "taxable": "subtotal", "cost": "cost_total"}


def _bill_sums() -> dict[str, Any]:
    """What ``_add_bills`` reads, summed over bills (``figures.bill_sums``)."""
    return bill_sums(*BILL_SUMMED)


def _refund_sums() -> dict[str, Any]:
    """What ``_add_refunds`` reads, summed over refunds."""
    return {name: Sum(column) for name, column in REFUND_SUMMED.items()}


def _collect_totals(bills: QuerySet, refunds: QuerySet) -> dict[str, Any]:
    """The totals' sums, before ``_finish``: the bills' and the refunds' in one statement, a ``UNION
    ALL`` of two one-row aggregates (``part`` 0 and 1). A union's columns are its first part's, so the
    refunds' sums are read under the bill columns they match (``REFUND_SUMMED``; a refund has no
    discounts) and named back afterwards."""
    no_sum = Value(ZERO, output_field=DecimalField(max_digits=12, decimal_places=2))
    matching = {column: Sum(column) if column in REFUND_SUMMED.values() else no_sum for column in BILL_SUMMED}
    sold = bills.values(part=Value(0)).annotate(**_bill_sums()).order_by()
    back = refunds.values(part=Value(1)).annotate(bills=Count("*"), **matching).order_by()
    parts = {part.pop("part"): part for part in sold.union(back, all=True)}
    # A part of no rows at all (an empty queryset: a store the user does not see) sums to nothing.
    nothing = dict.fromkeys(("bills", *BILL_SUMMED))
    row = _zero_row()
    _add_bills(row, parts.get(0, nothing))
    refunded = parts.get(1, nothing)
    _add_refunds(row, {name: refunded[column] for name, column in REFUND_SUMMED.items()})
    return row


def _add_bills(row: dict, sold: dict) -> None:
    """Add an aggregate of ``_bill_sums`` to ``row``: the bills, their gross (the lines' gross), their
    discounts, ``net_sales`` (their total) and tax."""
    figures = bill_figures(sold)
    row["bills"] += figures["bills"]
    row["gross"] += figures["gross"]
    row["discounts"] += figures["discount_total"]
    row["net_sales"] += figures["total"]
    row["tax"] += figures["tax_total"]
    row["cost"] += figures["cost_total"]
    row[TAXABLE] += figures["subtotal"]


def _add_refunds(row: dict, back: dict) -> None:
    """Refunds are net of sales: their value, tax, and the goods' cost at what they were sold at."""
    row["refunds"] += back["refunds"] or ZERO
    row["tax"] -= back["tax"] or ZERO
    row["cost"] -= back["cost"] or ZERO
    row[TAXABLE] -= back["taxable"] or ZERO


def _by_bill_key(scope: _Scope, bill_key, refund_key) -> dict[Any, dict]:
    """Rows by a key of the bill (for bills) and of the refund (for refunds), such as the local day."""
    rows: dict[Any, dict] = defaultdict(_zero_row)
    dims = _dims(scope, "created_at", "store_id")
    sold = scope.bills.annotate(k=bill_key, **dims).values("k", *dims).annotate(**_bill_sums()).order_by()
    for aggregate in sold:
        _add_bills(rows[_key(scope, aggregate, aggregate["k"])], aggregate)
    back = scope.refunds.annotate(k=refund_key, **dims).values("k", *dims).annotate(**_refund_sums()).order_by()
    for aggregate in back:
        _add_refunds(rows[_key(scope, aggregate, aggregate["k"])], aggregate)
    return rows


def _local_day(field: str = "created_at") -> TruncDate:
    return TruncDate(field, tzinfo=timezone.get_default_timezone())


def _local_hour(field: str = "created_at") -> ExtractHour:
    return ExtractHour(field, tzinfo=timezone.get_default_timezone())


def _present_day(rows: dict[Any, dict], scope: _Scope) -> list[dict]:
    assert scope.date_from is not None and scope.date_to is not None
    days = (scope.date_to - scope.date_from).days + 1
    out = []
    for offset in range(days):
        day = scope.date_from + timedelta(days=offset)
        out.append({"day": day, **_finish(rows.get(day) or _zero_row())})
    return out


def _present_hour(rows: dict[Any, dict], scope: _Scope) -> list[dict]:
    return [{"hour": hour, **_finish(rows.get(hour) or _zero_row())} for hour in range(24)]


def _present_cashier(rows: dict[Any, dict], scope: _Scope) -> list[dict]:
    User = get_user_model()
    users = User._default_manager.filter(pk__in=[k for k in rows if k is not None])
    names = dict(users.values_list("pk", User.USERNAME_FIELD))
    out = [
        {"cashier_id": k, "cashier": names.get(k, "") if k is not None else "", **_finish(r)} for k, r in rows.items()
    ]
    return sorted(out, key=lambda row: (row["cashier_id"] is None, row["cashier"], row["cashier_id"] or 0))


def _present_till(rows: dict[Any, dict], scope: _Scope) -> list[dict]:
    codes = dict(Till.objects.filter(pk__in=[k for k in rows if k is not None]).values_list("pk", "code"))
    out = [{"till_id": k, "till": codes.get(k, "") if k is not None else "", **_finish(r)} for k, r in rows.items()]
    return sorted(out, key=lambda row: (row["till_id"] is None, row["till"], row["till_id"] or 0))


def _line_rows(scope: _Scope, line_key: str, refund_line_key: str, *, one_line_per_bill: bool) -> dict[Any, dict]:
    """Rows by a key of the bill line (``product_id``, ``tax_percent``) and of the refunded line."""
    rows: dict[Any, dict] = defaultdict(
        lambda: {**_zero_row(), "quantity": NO_QUANTITY, "refunded_quantity": NO_QUANTITY, "taxable": ZERO}
    )
    dims = _dims(scope, "created_at", "store_id")
    sold = (
        scope.lines.values(k=F(line_key), **dims)
        .annotate(
            # A bill has one line per product (a unique constraint): COUNT(*) counts its bills without
            # the sort a DISTINCT needs. A bill has many lines at one tax rate.
            bills=Count("*") if one_line_per_bill else Count("purchase_id", distinct=True),
            gross=Sum("gross"),
            discounts=Sum("discount_amount"),
            net_sales=Sum("total"),
            tax=Sum("tax_amount"),
            # Each line's cost rounded to the paisa, as its bill's cost_total adds them up (before
            # ``quantity`` names the sum).
            cost=Sum(Round(F("quantity") * F("cost_price"), 2)),
            taxable=Sum("subtotal"),
            quantity=Sum("quantity"),
        )
        .order_by()
    )
    for aggregate in sold:
        row = rows[_key(scope, aggregate, aggregate["k"])]
        row["bills"] += aggregate["bills"]
        for field in ("gross", "discounts", "net_sales", "tax", "taxable", "cost"):
            row[field] += aggregate[field] or ZERO
        row[TAXABLE] += aggregate["taxable"] or ZERO
        row["quantity"] += aggregate["quantity"] or NO_QUANTITY
    back = (
        RefundLine.objects.filter(refund__in=scope.refunds)
        .values(k=F(refund_line_key), **_dims(scope, "refund__created_at", "store_id"))
        .annotate(
            cost=Sum(Round(F("quantity") * F("item__cost_price"), 2)),
            refunds=Sum("total"),
            tax=Sum("tax_amount"),
            taxable=Sum("subtotal"),
            quantity=Sum("quantity"),
        )
        .order_by()
    )
    for taken_back in back:
        row = rows[_key(scope, taken_back, taken_back["k"])]
        row["refunds"] += taken_back["refunds"] or ZERO
        row["tax"] -= taken_back["tax"] or ZERO
        row["taxable"] -= taken_back["taxable"] or ZERO
        row["cost"] -= taken_back["cost"] or ZERO
        row[TAXABLE] -= taken_back["taxable"] or ZERO
        row["refunded_quantity"] += taken_back["quantity"] or NO_QUANTITY
    return rows


def _present_tax_rate(rows: dict[Any, dict], scope: _Scope) -> list[dict]:
    merged: dict[Decimal, dict] = {}
    for rate, row in rows.items():
        # SQLite may hand back a rate as a float-ish Decimal: key on the 2-place rate.
        key = money(rate)
        if key in merged:
            for field in (*FIELDS, "taxable", TAXABLE):
                merged[key][field] += row[field]
        else:
            merged[key] = row
    out = []
    for rate in sorted(merged):
        row = _finish(merged[rate])
        out.append({"tax_rate": rate, **{field: row[field] for field in FIELDS}, "taxable": money(row["taxable"])})
    return out


def _share(amount: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    if not whole:
        return ZERO
    return (amount * part / whole).quantize(CENT, rounding=ROUND_HALF_UP)


def _apportion(amounts: dict[str, Decimal], parts: list[Decimal], whole: Decimal) -> list[dict[str, Decimal]]:
    """Split each of ``amounts`` over ``parts`` in proportion to part/whole; the last part takes
    the remainder, so the pieces add up to the amount exactly."""
    pieces: list[dict[str, Decimal]] = []
    given = dict.fromkeys(amounts, ZERO)
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        piece = {}
        for name, amount in amounts.items():
            piece[name] = amount - given[name] if last else _share(amount, part, whole)
            given[name] += piece[name]
        pieces.append(piece)
    return pieces


# A bill's gross, discounts and tax shared between its payments in proportion to what each kept,
# half-up to the cent, the last payment (highest id) taking the remainder: one pass of window
# functions over the range's payments, grouped by method ({dims}: and by the bill's local day and
# store, for the rollup). Runs on PostgreSQL and SQLite alike.
_SHARES_SQL = """
WITH pay AS ({payments}),
shares AS (
    SELECT purchase_id, method_id{dims}, kept, b_gross, b_disc, b_tax, b_cost,
        CASE WHEN b_total = 0 THEN 0 ELSE ROUND(b_gross * kept / b_total, 2) END AS g,
        CASE WHEN b_total = 0 THEN 0 ELSE ROUND(b_disc * kept / b_total, 2) END AS d,
        CASE WHEN b_total = 0 THEN 0 ELSE ROUND(b_tax * kept / b_total, 2) END AS t,
        CASE WHEN b_total = 0 THEN 0 ELSE ROUND(b_cost * kept / b_total, 2) END AS c,
        ROW_NUMBER() OVER (PARTITION BY purchase_id ORDER BY id DESC) AS last_first
    FROM pay
),
pieces AS (
    SELECT purchase_id, method_id{dims}, kept,
        CASE WHEN last_first = 1 THEN b_gross - SUM(g) OVER (PARTITION BY purchase_id) + g ELSE g END AS g,
        CASE WHEN last_first = 1 THEN b_disc - SUM(d) OVER (PARTITION BY purchase_id) + d ELSE d END AS d,
        CASE WHEN last_first = 1 THEN b_tax - SUM(t) OVER (PARTITION BY purchase_id) + t ELSE t END AS t,
        CASE WHEN last_first = 1 THEN b_cost - SUM(c) OVER (PARTITION BY purchase_id) + c ELSE c END AS c
    FROM shares
)
SELECT method_id{dims}, COUNT(DISTINCT purchase_id), SUM(kept), SUM(g), SUM(d), SUM(t), SUM(c)
FROM pieces GROUP BY method_id{dims}
"""


def _payment_shares(scope: _Scope) -> list[tuple]:
    """Per method (and, split, per local day and store): the bills paid with it, what it kept, and
    its shares of gross, discounts, tax and cost."""
    dims = _dims(scope, "purchase__created_at", "purchase__store_id")
    payments = (
        Payment.objects.filter(purchase__in=scope.bills)
        .annotate(
            kept=Case(
                When(is_cash=True, then=F("amount") - F("purchase__change_due") - F("purchase__rounding")),
                default=F("amount"),
            ),
            b_gross=F("purchase__subtotal") + F("purchase__discount_total"),
            b_disc=F("purchase__discount_total"),
            b_tax=F("purchase__tax_total"),
            b_cost=F("purchase__cost_total"),
            b_total=F("purchase__total"),
            **dims,
        )
        .values("purchase_id", "id", "method_id", *dims, "kept", "b_gross", "b_disc", "b_tax", "b_cost", "b_total")
        .order_by()
    )
    try:
        sql, params = payments.query.sql_with_params()
    except EmptyResultSet:  # an empty queryset (a user who sees no store): no payments
        return []
    extra = "".join(f", {name}" for name in dims)
    with connections[payments.db].cursor() as cursor:
        cursor.execute(_SHARES_SQL.format(payments=sql, dims=extra), params)
        found = []
        for method_id, *rest in cursor.fetchall():
            keys, (count, *sums) = rest[: len(dims)], rest[len(dims) :]
            if keys:  # SQLite hands the local day back as text
                keys[0] = _as_date(keys[0])
            found.append((method_id, *keys, count, *(money(value or ZERO) for value in sums)))
        return found


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _refund_weights(paid: list[tuple], rounding: Decimal, total: Decimal) -> list[Decimal]:
    """How a refund's total is shared among the methods that paid it back. With a cash payment,
    what each paid back toward the total (the cash less the refund's rounding), so the shares are
    those amounts exactly. A refund whose cash part rounded to nothing has no cash payment to carry
    its rounding: then (and whenever the cash would carry more than its own part) the total is
    shared in proportion to what each method paid back."""
    kept = [amount - rounding if is_cash else amount for _, _, is_cash, amount, *_ in paid]
    if sum(kept, ZERO) == total and all(part > 0 for part in kept):
        return kept
    return [amount for _, _, _, amount, *_ in paid]


# The keys of ``_collect_payment_methods``: a bill's payments by the method's id, a refund's by the
# code it was paid back by, and what nothing paid (or paid back) under "u", the cash method.
UNPAID = "u"


def _local_date(moment: datetime) -> date:
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def _collect_payment_methods(scope: _Scope) -> dict[Any, dict]:
    bills, refunds = scope.bills, scope.refunds
    rows: dict[Any, dict] = defaultdict(_zero_row)
    split = 2 if scope.split else 0

    def at(key: str, where: tuple = ()) -> dict:
        return rows[(*where, key) if scope.split else key]

    for method_id, *rest in _payment_shares(scope):
        where, (count, kept, gross, discounts, tax, cost) = tuple(rest[:split]), rest[split:]
        row = at(f"m{method_id}", where)
        row["bills"] += count
        row["net_sales"] += kept
        row["gross"] += gross
        row["discounts"] += discounts
        row["tax"] += tax
        row["cost"] += cost
        row[TAXABLE] += gross - discounts
    unpaid = bills.filter(~Exists(Payment.objects.filter(purchase_id=OuterRef("pk")))).values_list(
        "pk", "subtotal", "discount_total", "tax_total", "total", "cost_total", *(("created_at", "store_id")[:split])
    )
    for _, subtotal, discounts, tax, total, cost, *rest in unpaid:
        row = at(UNPAID, (_local_date(rest[0]), rest[1]) if split else ())
        row["bills"] += 1
        row["net_sales"] += total
        row["gross"] += subtotal + discounts
        row["discounts"] += discounts
        row["tax"] += tax
        row["cost"] += cost
        row[TAXABLE] += subtotal

    paid_back = (
        RefundPayment.objects.filter(refund__in=refunds)
        .order_by("refund_id", "id")
        .values_list(
            "refund_id",
            "method",
            "is_cash",
            "amount",
            "refund__rounding",
            "refund__tax_total",
            "refund__total",
            "refund__subtotal",
            "refund__cost_total",
            *(("refund__created_at", "refund__store_id")[:split]),
        )
    )
    for _, refund_group in groupby(paid_back.iterator(chunk_size=5000), key=itemgetter(0)):
        paid = list(refund_group)
        _, _, _, _, back_rounding, back_tax, back_total, back_taxable, back_cost, *rest = paid[0]
        where = (_local_date(rest[0]), rest[1]) if split else ()
        weights = _refund_weights(paid, back_rounding, back_total)
        amounts = {"refunds": back_total, "tax": back_tax, TAXABLE: back_taxable, "cost": back_cost}
        back_pieces = _apportion(amounts, weights, sum(weights, ZERO))
        for (_, method_code, *_), piece in zip(paid, back_pieces, strict=True):
            row = at(f"c{method_code}", where)
            row["refunds"] += piece["refunds"]
            row["tax"] -= piece["tax"]
            row["cost"] -= piece["cost"]
            row[TAXABLE] -= piece[TAXABLE]
    unrefunded = refunds.filter(~Exists(RefundPayment.objects.filter(refund_id=OuterRef("pk")))).values_list(
        "total", "tax_total", "subtotal", "cost_total", *(("created_at", "store_id")[:split])
    )
    for total, tax, taxable, cost, *rest in unrefunded:
        row = at(UNPAID, (_local_date(rest[0]), rest[1]) if split else ())
        row["refunds"] += total
        row["tax"] -= tax
        row["cost"] -= cost
        row[TAXABLE] -= taxable
    return rows


def _present_payment_method(collected: dict[Any, dict], scope: _Scope) -> list[dict]:
    methods = {
        pk: (code, name, is_cash)
        for pk, code, name, is_cash in PaymentMethod.objects.values_list("pk", "code", "name", "is_cash")
    }
    cash_code = next((code for code, _, is_cash in methods.values() if is_cash), "cash")
    names = {code: name for code, name, _ in methods.values()}
    rows: dict[str, dict] = {}
    for key, row in collected.items():
        if key == UNPAID:
            code = cash_code
        elif key.startswith("m"):
            code = methods[int(key[1:])][0]
        else:
            code = key[1:]
        merge_rows(rows, {code: row})

    order = {code: (not is_cash, code) for code, _, is_cash in methods.values()}
    out = [
        {"payment_method": code, "payment_method_name": names.get(code, code), **_finish(row)}
        for code, row in rows.items()
    ]
    return sorted(out, key=lambda row: order.get(row["payment_method"], (True, row["payment_method"])))


def merge_rows(into: dict[Any, dict], rows: dict[Any, dict]) -> None:
    """Add ``rows`` (collected sums, before ``_finish``) to ``into``, field by field. Every figure is
    a sum or a count over bills and refunds, and each bill and refund is in one part only, so the
    parts add up to what the whole would have summed."""
    for key, row in rows.items():
        target = into.get(key)
        if target is None:
            into[key] = dict(row)
            continue
        for field, value in row.items():
            target[field] += value


# What each grouping sums (keys as described above; with ``split``, (day, store, key)), and how its
# rows are shown.
COLLECTORS = {
    "day": lambda scope: _by_bill_key(scope, _local_day(), _local_day()),
    "hour": lambda scope: _by_bill_key(scope, _local_hour(), _local_hour()),
    "product": lambda scope: _line_rows(scope, "product_id", "item__product_id", one_line_per_bill=True),
    "cashier": lambda scope: _by_bill_key(scope, F("created_by_id"), F("created_by_id")),
    "till": lambda scope: _by_bill_key(scope, F("till_id"), F("till_id")),
    "payment_method": _collect_payment_methods,
    "tax_rate": lambda scope: _line_rows(scope, "tax_percent", "item__tax_percent", one_line_per_bill=False),
}
_PRESENTERS = {
    "day": _present_day,
    "hour": _present_hour,
    "cashier": _present_cashier,
    "till": _present_till,
    "payment_method": _present_payment_method,
    "tax_rate": _present_tax_rate,
}


# --- CSV ---------------------------------------------------------------------------------------


def sales_report_columns(group_by: str) -> tuple[str, ...]:
    return (*KEY_COLUMNS[group_by], *FIELDS, *EXTRA_COLUMNS.get(group_by, ()))


def _cell(value) -> Any:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return _text(value)  # names typed by people: defuse spreadsheet formulas
    return value


def sales_report_csv_rows(report: dict) -> Iterator[list]:
    """The header, then one list of cells per row; text is safe against formula injection."""
    columns = sales_report_columns(report["group_by"])
    yield list(columns)
    for row in report["rows"]:
        yield [_cell(row[column]) for column in columns]


def sales_report_filename(report: dict) -> str:
    till = f"-till{report['till']}" if report.get("till") is not None else ""
    store = f"-store{report['store']}" if report.get("store") is not None else ""
    return f"sales-{report['group_by']}-{report['date_from']:%Y%m%d}-{report['date_to']:%Y%m%d}{store}{till}.csv"


def sales_report_csv_response(report: dict) -> HttpResponse:
    """The report as a CSV download named after its range and grouping."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{sales_report_filename(report)}"'
    write_csv(sales_report_csv_rows(report), response)
    return response


def write_csv(rows: Iterable[list], stream) -> None:
    writer = csv.writer(stream)
    writer.writerows(rows)
