"""Every row lock the cash drawer takes, in one place, so the global order is visible at a glance.

The global lock order (every transaction that locks more than one of these takes them in this
order, so two transactions can wait for each other but never deadlock):

1. the customer (insert, unique email index)           -- bills
2. ONE bill row (purchase)                              -- refunds (purchases.lock_objects)
3. products by primary key                              -- bills, refunds (purchases.lock_objects)
4. ONE till row                                         -- bills, refunds, session open/close, cash
                                                           in/out, drawer counts set by a manager
5. that till's denominations by value                   -- the same

The till row is the till's mutex: everything that reads or changes a till's drawer or its session
locks the till row first. So a close and a bill at the same till run one after the other, and a
bill that waited for a close sees the session closed (it opens a new one, or is refused). Session
rows are only written under their till's lock, so they need no lock of their own. No transaction
locks two tills, so bills at different tills never wait on each other's drawer rows; they still
meet on a product they both sell (step 3). A refund locks its bill's row first (step 2), so two
refunds of one bill never both pass the cap; a bill and a refund meet on products and the till.

Three locks stand outside this order because nothing else is held with them, or only before them:

- the ``Idempotency-Key``'s transaction-level advisory lock (``billing_project.core.idempotency``),
  taken first by a request with a key and never waited for (``pg_try_advisory_xact_lock``): a
  duplicate that cannot have it answers 409 ``idempotency_in_progress`` at once.
- ``series_lock``: a transaction-level advisory lock taken by ``till_create`` / ``till_update``
  before anything else, so two managers cannot both give a new series to two tills at once (a
  series is unique across both series columns of every till, which no single constraint says).
- the bill's number counter row (``purchases.numbering``), taken after step 4 by a bill, locks
  one (series, financial year) row; series belong to one till each, so it adds no wait.
"""

from django.db import connection

from .models import Denomination, Till

# Any fixed number: the advisory lock's key, one for the whole set of invoice and credit series.
SERIES_LOCK_KEY = 0x5E81E5


def series_lock() -> None:
    """Hold the series lock until the end of the transaction. PostgreSQL only: SQLite runs one
    writer at a time already."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SERIES_LOCK_KEY])


def till_for_update(*, till_id: int | None = None, code: str | None = None):
    """The till row, locked (step 4). Give exactly one of ``till_id`` or ``code``."""
    qs = Till.objects.select_for_update(of=("self",))
    return qs.filter(pk=till_id) if till_id is not None else qs.filter(code=code)


def denominations_for_update(*, till_id: int):
    """All of one till's denominations, locked in ascending value (step 5)."""
    return Denomination.objects.select_for_update(of=("self",)).filter(till_id=till_id).order_by("value")


def denomination_for_update(*, till_id: int, value):
    """One of a till's denominations, locked (step 5)."""
    return Denomination.objects.select_for_update(of=("self",)).filter(till_id=till_id, value=value)
