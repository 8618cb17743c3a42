"""Gapless document numbers: ``<series>/<financial year>/<6 digits>``, such as ``M/2627/000123``.

One counter row per (series, financial year) in ``DocumentCounter``. A number is taken with one
statement, ``INSERT … ON CONFLICT DO UPDATE … RETURNING``, inside the caller's transaction: the
row stays locked until that transaction ends, so two bills in one series take consecutive numbers
one after the other, and a bill that is refused or rolled back after taking its number rolls the
counter back with it. No number is skipped and none is given twice.

Lock order: the counter row comes after the till's drawer (step 5 of the order in
``cashdrawer.lock_objects``). A series belongs to one till, whose bills already queue on its
till row, so the counter adds no wait of its own.
"""

from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection
from django.utils import timezone

from billing_project.core.db import Writes, default_connection, statement_cursor
from billing_project.core.errors import Conflict, ErrorCode

from .models import COUNTER_RANGE_CONSTRAINT, SEQUENCE_MAX, DocumentCounter, Purchase


class SeriesExhausted(Conflict):
    code = ErrorCode.SERIES_EXHAUSTED
    default_message = "This series has given its last number for the financial year; give the till a new series."


def financial_year(when: datetime | date) -> str:
    """The financial year of ``when`` (in the current time zone), as two-digit start and end
    years: 2627 for 2026-27 when it starts in April (``FINANCIAL_YEAR_START_MONTH``). A year that
    starts in January is the calendar year: 2626."""
    day = timezone.localdate(when) if isinstance(when, datetime) else when
    start = day.year if day.month >= settings.FINANCIAL_YEAR_START_MONTH else day.year - 1
    end = start if settings.FINANCIAL_YEAR_START_MONTH == 1 else start + 1
    return f"{start % 100:02d}{end % 100:02d}"


def format_number(series: str, year: str, sequence: int) -> str:
    return f"{series}/{year}/{sequence:06d}"


def _counter_upsert() -> str:
    table = connection.ops.quote_name(DocumentCounter._meta.db_table)
    # Only the table's quoted name is interpolated; the values are parameters.
    return (
        f"INSERT INTO {table} (series, financial_year, last_number) VALUES (%s, %s, 1) "  # noqa: S608
        f"ON CONFLICT (series, financial_year) DO UPDATE SET last_number = {table}.last_number + 1 "
        "RETURNING last_number"
    )


def number_take(*, series: str, when: datetime | date) -> str:
    """The next number in ``series`` for the financial year of ``when``. Must run inside the
    transaction that records the document. Locks the (series, year) counter row until it ends.
    Raises ``SeriesExhausted`` after number 999999."""
    year = financial_year(when)
    try:
        with connection.cursor() as cursor:
            cursor.execute(_counter_upsert(), [series, year])
            (sequence,) = cursor.fetchone()
    except IntegrityError:
        # The range CHECK refused number 1,000,000; the caller's transaction rolls back.
        raise SeriesExhausted(details={"series": series, "financial_year": year, "last": SEQUENCE_MAX}) from None
    return format_number(series, year, sequence)


def invoice_number_assign(
    *,
    purchase_id: int,
    till,
    session_id: int,
    when: datetime | date,
    writes: Writes | None = None,
    returning: str = "",
) -> tuple[str, Any]:
    """Take a bill's tax invoice number in ``till``'s invoice series (as ``invoice_number_take``)
    and record it on the bill with its till and session. Call it with the till row locked.

    On PostgreSQL this is ONE statement: the counter's upsert is a CTE of the bill's UPDATE, so
    taking the number costs no round trip of its own; the counter row is locked exactly as by
    ``number_take``. ``lpad(…, 6, '0')`` is ``format_number``'s ``:06d`` for every number the
    range CHECK allows. ``writes`` (``billing_project.core.db.Writes``: the bill's drawer and its
    invoice email's job) ride along as more CTEs, and ``returning``, an SQL expression, is
    returned with the number: ``(number, value)``, the value ``None`` without one. Elsewhere
    (SQLite) it is ``number_take`` and an UPDATE, the writes having run already. Raises
    ``SeriesExhausted`` after number 999999."""
    conn = default_connection()
    if conn.vendor != "postgresql":
        number = invoice_number_take(till=till, when=when)
        Purchase.objects.filter(pk=purchase_id).update(till=till, session_id=session_id, number=number)
        return number, None
    series, year = till.invoice_series_code, financial_year(when)
    bills = connection.ops.quote_name(Purchase._meta.db_table)
    also = f"{writes.sql}, " if writes is not None and writes.sql else ""
    sql = (
        f"WITH {also}counter AS ({_counter_upsert()}) "  # noqa: S608 - only quoted names and the writes' SQL
        f"UPDATE {bills} SET till_id = %s, session_id = %s, number = %s || lpad(counter.last_number::text, 6, '0') "
        f"FROM counter WHERE {bills}.id = %s RETURNING {bills}.number, {returning or 'NULL'}"
    )
    also_params = writes.params if writes is not None else []
    params = [*also_params, series, year, till.pk, session_id, f"{series}/{year}/", purchase_id]
    try:
        with statement_cursor() as cursor:
            cursor.execute(sql, params)
            number, value = cursor.fetchone()
    except IntegrityError as exc:
        if getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None) != COUNTER_RANGE_CONSTRAINT:
            raise
        raise SeriesExhausted(details={"series": series, "financial_year": year, "last": SEQUENCE_MAX}) from None
    return number, value


def invoice_number_take(*, till, when: datetime | date) -> str:
    """A bill's tax invoice number, in ``till``'s invoice series. Call it with the till row locked."""
    return number_take(series=till.invoice_series_code, when=when)


def credit_note_number_take(*, till, when: datetime | date) -> str:
    """A refund's credit-note number, in ``till``'s credit series, such as ``CM/2627/000007``.
    Call it inside the refund's transaction, with the till row locked."""
    return number_take(series=till.credit_series_code, when=when)
