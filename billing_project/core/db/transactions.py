"""Write transactions: bounded in time, and refused as one.

Every write service runs in ``atomic_write``: one transaction, its timeouts set at its start, and one
way to refuse. A statement that gives up waiting (lock or statement timeout, deadlock) rolls the
whole transaction back and becomes ``Busy`` (503 ``busy``, with Retry-After) instead of hanging or
answering 500; a ``DomainError`` rolls it back as it passes. Either is counted in
``billing_refusals_total{code}`` and logged once, by the outermost ``atomic_write``.
"""

import logging
import threading
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import OperationalError, transaction

from billing_project.core import metrics
from billing_project.core.errors import Busy, DomainError, is_busy

from .cursor import default_connection, statement_cursor

_logger = logging.getLogger("billing.db")

GENERIC_BUSY = "Another change holds what this one needs; nothing was written. Try again."

_depth = threading.local()


def set_transaction_timeouts(*, lock_timeout_ms: int | None = None, statement_timeout_ms: int | None = None) -> None:
    """Bound the current transaction on PostgreSQL: ``lock_timeout``, ``statement_timeout`` and
    ``idle_in_transaction_session_timeout``, from ``DB_*_MS`` unless given.

    ``set_config(..., true)`` is ``SET LOCAL``: it ends with the transaction, so nothing is left on
    the connection for the next user of a pooled (or PgBouncer transaction-mode) connection. Call
    it inside the transaction; elsewhere (SQLite) it does nothing.
    """
    conn = default_connection()
    if conn.vendor != "postgresql":
        return
    sql, params = transaction_timeouts_sql(lock_timeout_ms=lock_timeout_ms, statement_timeout_ms=statement_timeout_ms)
    with statement_cursor() as cursor:
        cursor.execute(sql, params)


def transaction_timeouts_sql(
    *, lock_timeout_ms: int | None = None, statement_timeout_ms: int | None = None
) -> tuple[str, list[str]]:
    """The ``SELECT set_config(…)`` that ``set_transaction_timeouts`` runs, with its parameters, for
    a service that sends it inside its first statement to save a round trip (a bill: see
    ``docs/architecture.md``). The timeouts hold for whatever that statement runs after them, and for
    every later statement. PostgreSQL only."""
    lock_ms = settings.DB_LOCK_TIMEOUT_MS if lock_timeout_ms is None else lock_timeout_ms
    statement_ms = settings.DB_STATEMENT_TIMEOUT_MS if statement_timeout_ms is None else statement_timeout_ms
    return (
        "SELECT set_config('lock_timeout', %s, true), set_config('statement_timeout', %s, true), "
        "set_config('idle_in_transaction_session_timeout', %s, true)",
        [f"{lock_ms}ms", f"{statement_ms}ms", f"{settings.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS}ms"],
    )


@contextmanager
def reads_without_jit() -> Iterator[None]:
    """A block of reads in one transaction in which PostgreSQL compiles no plan (``jit``, for the
    transaction only). A statement with a correlated subquery per row of a big table (a low-stock
    list: a product's stock at the stores, for each of 50,000 products) is costed high enough for
    JIT, which then spends about 120 ms compiling a plan that runs in 90. Elsewhere (SQLite) just a
    transaction."""
    with transaction.atomic():
        conn = default_connection()
        if conn.vendor == "postgresql":
            with conn.cursor() as cursor:
                cursor.execute("SELECT set_config('jit', 'off', true)")
        yield


@contextmanager
def atomic_write(
    *,
    lock_timeout_ms: int | None = None,
    statement_timeout_ms: int | None = None,
    set_timeouts: bool = True,
    name: str = "write",
    log: MutableMapping[str, Any] | None = None,
    busy_message: str = GENERIC_BUSY,
    logger: logging.Logger = _logger,
) -> Iterator[None]:
    """``transaction.atomic`` for a write service: a decorator (``@atomic_write()``) or a ``with`` block.

    Sets the transaction's timeouts at its start, unless ``set_timeouts`` is false because the
    block's first statement sets them itself. A refusal (``Busy``, or any ``DomainError``) is counted
    by its code and logged to ``logger`` as ``"<name> refused: …"`` with the fields of ``log``, a
    mapping the block may fill in as it learns them (a bill's till, session and number). Nested blocks leave that to
    the outermost one, so a refusal is counted once."""
    outermost = not getattr(_depth, "level", 0)
    _depth.level = getattr(_depth, "level", 0) + 1
    try:
        with transaction.atomic():
            if set_timeouts:
                set_transaction_timeouts(lock_timeout_ms=lock_timeout_ms, statement_timeout_ms=statement_timeout_ms)
            yield
    except OperationalError as exc:
        if not is_busy(exc):
            raise
        if outermost:
            _refused(logger, name, log, str(Busy.code), "busy (%s)", getattr(exc.__cause__, "sqlstate", "?"))
        raise Busy(busy_message) from exc
    except DomainError as exc:
        if outermost:
            _refused(logger, name, log, str(exc.code), "%s %s %s", exc.code, exc.message, exc.details)
        raise
    finally:
        _depth.level -= 1


def _refused(
    logger: logging.Logger, name: str, log: MutableMapping[str, Any] | None, code: str, message: str, *args: Any
) -> None:
    metrics.count_refusal(code)
    logger.warning(f"%s refused: {message}", name, *args, extra={**(log or {}), "code": code})
