"""One cursor for a service's statements: on the bill's path, making and closing a cursor costs more
CPU than a small statement takes to send. On PostgreSQL with ``DB_PREPARED_STATEMENTS`` it binds
server-side, so each statement is prepared once per connection and not planned again."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections


class _SharedCursor:
    """The cursor of a ``shared_cursor()`` block, made on first use and made again if the
    connection changed under it or began or stopped logging queries (``CaptureQueriesContext``)."""

    __slots__ = ("cursor", "logged", "raw")

    def __init__(self) -> None:
        self.cursor: Any = None
        self.raw: Any = None
        self.logged = False

    def get(self):
        conn = default_connection()
        if self.cursor is None or self.raw is not conn.connection or self.logged != conn.queries_logged:
            self.close()
            self.cursor = _statement_cursor(conn)
            self.raw, self.logged = conn.connection, conn.queries_logged
        return self.cursor

    def close(self) -> None:
        if self.cursor is not None:
            self.cursor.close()
            self.cursor = None


_scope = threading.local()


@contextmanager
def shared_cursor() -> Iterator[None]:
    """Inside, ``statement_cursor()`` hands every statement on the default connection the same
    cursor, closed when the block ends. A bill sends several statements in one transaction, and
    making and closing a cursor costs more CPU than executing a small statement on one. Nested blocks
    share the outer one's cursor."""
    if getattr(_scope, "shared", None) is not None:
        yield
        return
    shared = _scope.shared = _SharedCursor()
    try:
        yield
    finally:
        _scope.shared = None
        shared.close()


def statement_cursor():
    """``with statement_cursor() as cursor:``: a cursor on the default connection for a statement.
    Inside ``shared_cursor()`` it is the block's cursor (left open for the next statement);
    elsewhere a new one, closed after the statement, as ``connection.cursor()`` gives."""
    shared = getattr(_scope, "shared", None)
    if shared is None:
        return default_connection().cursor()
    return nullcontext(shared.get())


def _statement_cursor(conn):
    """A cursor for the block's statements. Django's psycopg cursors bind client-side: each statement
    goes with its values written in, and PostgreSQL plans it afresh, which is most of a bill
    statement's cost. With ``DB_PREPARED_STATEMENTS`` (PostgreSQL; see the settings) it is psycopg's
    own server-side binding cursor, wrapped as Django wraps its cursors (errors, execute wrappers):
    psycopg prepares a statement once the connection has sent it ``prepare_threshold`` times, and
    PostgreSQL keeps its plan. While queries are logged (``DEBUG``, ``CaptureQueriesContext``) it is
    Django's own cursor, so the log shows each statement with its values as for every other query."""
    if not (settings.DB_PREPARED_STATEMENTS and conn.vendor == "postgresql") or conn.queries_logged:
        return conn.cursor()
    conn.close_if_health_check_failed()
    conn.ensure_connection()
    conn.validate_thread_sharing()
    with conn.wrap_database_errors:
        return conn.make_cursor(psycopg.Cursor(conn.connection))


def default_connection():
    """The default database's connection wrapper itself. ``django.db.connection`` is a proxy that
    looks the wrapper up (a thread-local read) on every attribute access, and a field preparing a
    value reads several of them: resolved once per call, a bill's statements skip over a hundred
    lookups. The helpers here and the bill's own statements use it."""
    return connections[DEFAULT_DB_ALIAS]
