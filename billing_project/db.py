"""Small database helpers shared by the services."""

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any, TypeVar

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Model

from billing_project.errors import Busy, is_busy

logger = logging.getLogger("billing.db")

M = TypeVar("M", bound=Model)


def set_transaction_timeouts(*, lock_timeout_ms: int | None = None, statement_timeout_ms: int | None = None) -> None:
    """Bound the current transaction on PostgreSQL: ``lock_timeout``, ``statement_timeout`` and
    ``idle_in_transaction_session_timeout``, from ``DB_*_MS`` unless given.

    ``set_config(..., true)`` is ``SET LOCAL``: it ends with the transaction, so nothing is left on
    the connection for the next user of a pooled (or PgBouncer transaction-mode) connection. Call
    it inside the transaction; elsewhere (SQLite) it does nothing.
    """
    if connection.vendor != "postgresql":
        return
    sql, params = transaction_timeouts_sql(lock_timeout_ms=lock_timeout_ms, statement_timeout_ms=statement_timeout_ms)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def transaction_timeouts_sql(
    *, lock_timeout_ms: int | None = None, statement_timeout_ms: int | None = None
) -> tuple[str, list[str]]:
    """The ``SELECT set_config(…)`` that ``set_transaction_timeouts`` runs, with its parameters, for
    a service that sends it inside its first statement (as a one-row subquery in ``FROM``) to save
    a round trip. The timeouts then hold from the next statement on, so that first statement must
    take no lock. PostgreSQL only."""
    lock_ms = settings.DB_LOCK_TIMEOUT_MS if lock_timeout_ms is None else lock_timeout_ms
    statement_ms = settings.DB_STATEMENT_TIMEOUT_MS if statement_timeout_ms is None else statement_timeout_ms
    return (
        "SELECT set_config('lock_timeout', %s, true), set_config('statement_timeout', %s, true), "
        "set_config('idle_in_transaction_session_timeout', %s, true)",
        [f"{lock_ms}ms", f"{statement_ms}ms", f"{settings.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS}ms"],
    )


@contextmanager
def atomic_write(*, lock_timeout_ms: int | None = None, statement_timeout_ms: int | None = None) -> Iterator[None]:
    """``transaction.atomic`` for a write service, with ``set_transaction_timeouts`` at its start.

    A decorator (``@atomic_write()``) or a ``with`` block. A statement that gives up waiting (lock or
    statement timeout, deadlock) rolls the block back and raises ``Busy`` (503 ``busy``, Retry-After),
    as a bill does, instead of hanging or answering 500.
    """
    try:
        with transaction.atomic():
            set_transaction_timeouts(lock_timeout_ms=lock_timeout_ms, statement_timeout_ms=statement_timeout_ms)
            yield
    except OperationalError as exc:
        if not is_busy(exc):
            raise
        logger.warning("write refused: busy (%s)", getattr(exc.__cause__, "sqlstate", "?"))
        raise Busy("Another change holds what this one needs; nothing was written. Try again.") from exc


def guarded_add(model, field: str, deltas: Mapping[int, int], *, also_set: Mapping[str, object] | None = None) -> int:
    """``field = field + delta`` for every primary key in ``deltas`` in ONE statement, only where
    the result stays >= 0. Returns the number of rows updated: fewer than ``len(deltas)`` means a
    guard refused a row, and the caller refuses the whole operation.

    Plain SQL (``UPDATE … FROM (VALUES …)``, which PostgreSQL and SQLite both run): the ORM's
    ``Case(When(…))`` form of the same UPDATE costs more CPU to build than the statement takes to
    run, and this is on every bill's path. Only placeholders carry values; names come from the model.
    """
    quote = connection.ops.quote_name
    table, column = quote(model._meta.db_table), quote(model._meta.get_field(field).column)
    pk = quote(model._meta.pk.column)
    extra = dict(also_set or {})
    assignments = ", ".join(
        [f"{column} = t.{column} + v.column2"] + [f"{quote(model._meta.get_field(n).column)} = %s" for n in extra]
    )
    rows = ", ".join(["(%s, %s)"] * len(deltas))
    sql = (
        f"UPDATE {table} AS t SET {assignments} FROM (VALUES {rows}) AS v "  # noqa: S608 - names from the model
        f"WHERE t.{pk} = v.column1 AND t.{column} + v.column2 >= 0"
    )
    params: list[Any] = [*extra.values(), *(value for pair in deltas.items() for value in pair)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def insert_rows(objs: Sequence[M]) -> list[M]:
    """``bulk_create`` for the bill's path: every concrete field of the new instances (all of one
    model) in ONE ``INSERT … VALUES … RETURNING`` of the primary keys, set on the instances as
    ``bulk_create`` sets them. The values are prepared by each field, as the ORM prepares them.

    The ORM builds the same statement through its insert compiler on every call, at more CPU than
    the statement takes to run; here its text is built once per model and row count. No signals are
    sent, as with ``bulk_create``. PostgreSQL only; elsewhere it is ``bulk_create``."""
    if not objs:
        return []
    model = type(objs[0])
    if connection.vendor != "postgresql":
        return model._default_manager.bulk_create(objs)
    fields = _insert_fields(model)
    params: list[Any] = [
        field.get_db_prep_save(field.pre_save(obj, True), connection) for obj in objs for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(model, len(objs)), params)
        rows = cursor.fetchall()
    db = connection.alias
    for obj, (pk,) in zip(objs, rows, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = db
    return list(objs)


@cache
def _insert_fields(model: type[Model]) -> tuple:
    return tuple(f for f in model._meta.concrete_fields if not f.primary_key and not f.generated)


@cache
def _insert_sql(model: type[Model], rows: int) -> str:
    quote = connection.ops.quote_name
    fields = _insert_fields(model)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(str(f.column)) for f in fields)}) "  # noqa: S608
        f"VALUES {', '.join([row] * rows)} RETURNING {quote(str(model._meta.pk.column))}"
    )
