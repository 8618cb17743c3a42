"""The optional read replica (``DATABASE_REPLICA_URL``): only the sales report reads from it.

Everything else - bills, refunds, sessions, logins, the admin - reads and writes the primary
(``default``), so nothing ever acts on a stale row. The report service wraps its reads in
``reporting_reads()``; inside it, reads go to ``replica`` when one is configured. Writes always go to
``default`` and migrations run only there.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

REPLICA = "replica"
DEFAULT = "default"

_reporting: ContextVar[bool] = ContextVar("reporting_reads", default=False)


@contextmanager
def reporting_reads() -> Iterator[str]:
    """Send this block's reads to the replica when there is one. Yields the alias read from."""
    token = _reporting.set(True)
    try:
        yield report_alias()
    finally:
        _reporting.reset(token)


def report_alias() -> str:
    """The database a report reads: the replica inside ``reporting_reads`` when configured."""
    return REPLICA if _reporting.get() and REPLICA in settings.DATABASES else DEFAULT


class ReplicaRouter:
    """Reads inside ``reporting_reads()`` go to the replica; every other read, every write and
    every migration goes to the primary."""

    def db_for_read(self, model, **hints):
        return report_alias()

    def db_for_write(self, model, **hints):
        return DEFAULT

    def allow_relation(self, obj1, obj2, **hints):
        # Both aliases hold the same data (the replica is a copy of the primary).
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT
