"""Every row lock the cash drawer takes: the till row (step 4 of the global lock order) and its
denominations by value (step 5). The order itself, who takes each step and the locks outside it are
in docs/architecture.md, once.

The till row is the till's mutex: everything that reads or changes a till's drawer or its session
locks the till row first, so a close and a bill at one till run one after the other, and a bill that
waited for a close sees the session closed. Session rows are only written under their till's lock,
so they need no lock of their own. No transaction locks two tills.
"""

from django.db import connection
from django.db.models import Subquery

from .models import Denomination, ManagerPin, Override, Till, TillSession

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


def till_by_code_for_update(code: str):
    """The till of ``code``, locked (step 4); one argument, for ``compiled_rows``."""
    return till_for_update(code=code)


def till_by_id_for_update(till_id: int):
    """The till of ``till_id``, locked (step 4); one argument, for ``compiled_rows``."""
    return till_for_update(till_id=till_id)


def drawer_with_open_session_for_update(till_id: int):
    """The till's denominations, locked by value (step 5), each carrying the till's open session as
    ``open_session_id``: the session rides on the drawer's lock (one round trip fewer). The statement
    starts once the till's lock is held, so it sees any open or close committed before it. A session
    waiting for a manager's approval of its count is the till's live session too: it rides along
    with its status (``open_session_status``), so the bill can refuse it without a statement more."""
    live = TillSession.objects.filter(
        till_id=till_id, status__in=[TillSession.Status.OPEN, TillSession.Status.PENDING_APPROVAL]
    )[:1]
    return denominations_for_update(till_id=till_id).annotate(
        open_session_id=Subquery(live.values("pk")), open_session_status=Subquery(live.values("status"))
    )


def override_for_update(*, token_digest: str):
    """The override of a token, locked (step 1a, after a bill's customer and before anything else):
    two requests with one token take it one after the other, so exactly one uses it."""
    return Override.objects.select_for_update(of=("self",)).select_related("manager").filter(token_digest=token_digest)


def manager_pin_for_update(*, user):
    """A manager's PIN row, locked: its run of failures counts one try after the other. Taken alone,
    in ``override_grant``'s own transaction, so it has no place in the lock order."""
    return ManagerPin.objects.select_for_update(of=("self",)).filter(user=user)
