"""Gapless document numbers: ``<series>/<financial year>/<6 digits>``, such as ``M/2627/000123``.

One counter row per (series, financial year) in ``DocumentCounter``. A number is taken with one
statement, ``INSERT … ON CONFLICT DO UPDATE … RETURNING``, inside the caller's transaction: the
row stays locked until that transaction ends, so two bills in one series take consecutive numbers
one after the other, and a bill that is refused or rolled back after taking its number rolls the
counter back with it. No number is skipped and none is given twice.

The counter row is the last lock a bill or a refund takes (docs/architecture.md has the order). A
series belongs to one till, whose bills already queue on its till row, so the counter adds no wait
of its own. A bill sends the upsert (``counter_upsert_sql``) as a CTE of its last statement
(``purchases/services/bill_statements.py``).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

from django.conf import settings
from django.db import IntegrityError, connection
from django.utils import timezone

from billing_project.core.db import statement_cursor
from billing_project.core.errors import Conflict, ErrorCode

from .models import COUNTER_RANGE_CONSTRAINT, SEQUENCE_MAX, DocumentCounter


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


def counter_upsert_sql() -> str:
    """Take the next number of a (series, financial year): ``INSERT … ON CONFLICT DO UPDATE …
    RETURNING last_number``, whose parameters are the series and the year. It locks the counter
    row until the transaction ends."""
    table = connection.ops.quote_name(DocumentCounter._meta.db_table)
    # Only the table's quoted name is interpolated; the values are parameters.
    return (
        f"INSERT INTO {table} (series, financial_year, last_number) VALUES (%s, %s, 1) "  # noqa: S608
        f"ON CONFLICT (series, financial_year) DO UPDATE SET last_number = {table}.last_number + 1 "
        "RETURNING last_number"
    )


@contextmanager
def series_guard(*, series: str, year: str) -> Iterator[None]:
    """Around a statement that takes a number: the counter's range CHECK refusing number 1,000,000 is
    ``SeriesExhausted`` (the caller's transaction rolls back)."""
    try:
        yield
    except IntegrityError as exc:
        if getattr(getattr(exc.__cause__, "diag", None), "constraint_name", COUNTER_RANGE_CONSTRAINT) != (
            COUNTER_RANGE_CONSTRAINT
        ):
            raise
        raise SeriesExhausted(details={"series": series, "financial_year": year, "last": SEQUENCE_MAX}) from None


def number_take(*, series: str, when: datetime | date) -> str:
    """The next number in ``series`` for the financial year of ``when``, as its own statement. Must
    run inside the transaction that records the document. Locks the (series, year) counter row
    until it ends. Raises ``SeriesExhausted`` after number 999999."""
    year = financial_year(when)
    with series_guard(series=series, year=year), statement_cursor() as cursor:
        cursor.execute(counter_upsert_sql(), [series, year])
        (sequence,) = cursor.fetchone()
    return format_number(series, year, sequence)


def invoice_number_take(*, till, when: datetime | date) -> str:
    """A bill's tax invoice number, in ``till``'s invoice series. Call it with the till row locked."""
    return number_take(series=till.invoice_series_code, when=when)


def credit_note_number_take(*, till, when: datetime | date) -> str:
    """A refund's credit-note number, in ``till``'s credit series, such as ``CM/2627/000007``.
    Call it inside the refund's transaction, with the till row locked."""
    return number_take(series=till.credit_series_code, when=when)
