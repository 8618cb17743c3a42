"""The task queue's backend: django-tasks-db's, writing its row as the bill writes its own.

``DatabaseBackend.enqueue`` stores a task with ``DBTaskResult.objects.create``: the ORM's insert
compiler builds the same ``INSERT`` on every call, at more CPU than the statement takes to run, and
every bill enqueues its invoice email. Here the row (the same model instance, with the same values
the library gives it) is inserted with ``billing_project.core.db.insert_rows``, whose statement text is
built once per process, between the ``pre_save`` and ``post_save`` signals ``save()`` would send
(the library sets a task's ``run_after`` in a ``pre_save`` receiver). Everything else (validation,
the ``task_enqueued`` signal, the result returned, the worker) is the library's own.
``test_tasks_backend.py`` checks the row is exactly the one the library writes.

Inside ``deferred_task_rows()`` the rows are not inserted at once: the caller writes them with a
statement it sends anyway (a bill's last one), which saves the job its own round trip. The
transactional outbox holds as before: the rows are written in the caller's transaction, before
it commits, and any row the caller did not take is inserted when the block ends.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, router
from django.db.models.signals import post_save, pre_save
from django_tasks.signals import task_enqueued
from django_tasks_db import DatabaseBackend as LibraryDatabaseBackend
from django_tasks_db.backend import normalize_json

from billing_project.core.db import Writes, insert_rows, insert_sql, insert_values, statement_cursor

_deferred = threading.local()


class DatabaseBackend(LibraryDatabaseBackend):
    def enqueue(self, task, args, kwargs):
        # The library's enqueue, with the row written now or, in deferred_task_rows(), later.
        self.validate_task(task)
        row, using = self._unsaved_row(task, args, kwargs)
        pending: DeferredRows | None = getattr(_deferred, "rows", None)
        if pending is None or connection.vendor != "postgresql":
            insert_rows([row])
            return _saved(type(self), row, using)
        # The values are prepared now, as the INSERT would prepare them (the enqueue time
        # included), so the result returned shows the row exactly as it will be stored.
        values = insert_values(row)
        result = row.task_result
        pending.add(type(self), row, using, values, result)
        return result

    def _unsaved_row(self, task, args, kwargs):
        """The row the library's ``_task_to_db_task`` would create, with ``pre_save`` sent, and its database."""
        from django_tasks_db.models import DBTaskResult

        row: Any = DBTaskResult(
            id=self._get_id(),
            args_kwargs=normalize_json({"args": args, "kwargs": kwargs}),
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            run_after=task.run_after,
            backend_name=self.alias,
        )
        using = router.db_for_write(DBTaskResult, instance=row)
        pre_save.send(sender=DBTaskResult, instance=row, raw=False, using=using, update_fields=None)
        return row, using


def _saved(backend: type, row, using: str, result=None):
    """What follows the INSERT in the library: the instance marked saved, ``post_save``, then
    ``task_enqueued`` with the task's result (built from the row unless given), which it returns."""
    row._state.adding, row._state.db = False, using
    post_save.send(sender=type(row), instance=row, created=True, update_fields=None, raw=False, using=using)
    if result is None:
        result = row.task_result
    task_enqueued.send(backend, task_result=result)
    return result


class DeferredRows:
    """The task rows enqueued in a ``deferred_task_rows()`` block, waiting to be written."""

    def __init__(self) -> None:
        self._waiting: list[tuple[type, Any, str, list[Any], Any]] = []
        self._taken: list[tuple[type, Any, str, list[Any], Any]] = []

    def add(self, backend: type, row, using: str, values: list[Any], result) -> None:
        self._waiting.append((backend, row, using, values, result))

    def take(self) -> tuple[str, list[Any]] | None:
        """``(INSERT …, params)`` for the rows waiting, to send as a CTE of a statement of the
        caller's own, in this transaction; the rows then count as written. ``None`` when none wait."""
        if not self._waiting:
            return None
        jobs, self._waiting = self._waiting, []
        self._taken.extend(jobs)
        return insert_sql(type(jobs[0][1]), [values for _, _, _, values, _ in jobs])

    def write_with(self, writes: Writes) -> None:
        """Hand the rows waiting to ``writes``, as the CTE ``task_rows``, for the caller's statement."""
        taken = self.take()
        if taken is not None:
            writes.add("task_rows", *taken)


@contextmanager
def deferred_task_rows() -> Iterator[DeferredRows]:
    """Enqueue tasks inside without writing their rows at once: ``take()`` hands them to a statement
    the caller sends anyway, and the rows not taken are inserted when the block ends. The signals
    (``post_save``, ``task_enqueued``) follow once every row is written. If the block raises,
    nothing more is written or sent: its transaction is rolling back. Use it inside a transaction.
    With another task backend configured, tasks are enqueued as usual and nothing waits."""
    outer = getattr(_deferred, "rows", None)
    rows = _deferred.rows = DeferredRows()
    try:
        yield rows
    finally:
        _deferred.rows = outer
    left = rows.take()
    if left is not None:
        with statement_cursor() as cursor:
            cursor.execute(*left)
    for backend, row, using, _, result in rows._taken:
        _saved(backend, row, using, result)
