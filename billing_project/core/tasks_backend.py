"""The task queue's backend: django-tasks-db's, writing its row as the bill writes its own.

``DatabaseBackend.enqueue`` stores a task with ``DBTaskResult.objects.create``: the ORM's insert
compiler builds the same ``INSERT`` on every call, at more CPU than the statement takes to run, and
every bill enqueues its invoice email. Here the row (the same model instance, with the same values
the library gives it: ``orm_internals.task_row``) is inserted with ``billing_project.core.db.insert_rows``,
whose statement text is built once per process. Everything else (validation, the signals, the result
returned, the worker) is the library's own. ``test_tasks_backend.py`` checks the row is exactly the
one the library writes.

``task_job`` makes a task's row without writing it, for a statement the caller sends anyway (a bill's
last one writes its invoice email's job): the caller writes ``job.row`` in its transaction, then calls
``job.written()``. The transactional outbox holds as with ``enqueue``: the row is written in the
caller's transaction, before it commits.
"""

from dataclasses import dataclass
from typing import Any

from django_tasks_db import DatabaseBackend as LibraryDatabaseBackend

from billing_project.core.db import default_connection, insert_rows
from billing_project.core.db.orm_internals import task_row, task_row_saved


class DatabaseBackend(LibraryDatabaseBackend):
    def enqueue(self, task, args, kwargs):
        self.validate_task(task)
        row, using = task_row(self, task, args, kwargs)
        insert_rows([row])
        return task_row_saved(self, row, using)


@dataclass(frozen=True)
class Job:
    """A task's row, made as ``enqueue`` makes it, for a statement of the caller's to write."""

    backend: DatabaseBackend
    row: Any
    using: str

    def written(self):
        """Once the row is written: the signals ``enqueue`` sends after its INSERT, and the task's result."""
        return task_row_saved(self.backend, self.row, self.using)


def task_job(task, **kwargs: Any) -> Job | None:
    """``task.enqueue(**kwargs)``'s row, not yet written (a ``Job``), on PostgreSQL with this backend.
    Elsewhere (SQLite, whose statements cannot carry it, or another backend) the task is enqueued
    at once and ``None`` is returned."""
    backend = task.get_backend()
    if not isinstance(backend, DatabaseBackend) or default_connection().vendor != "postgresql":
        task.enqueue(**kwargs)
        return None
    backend.validate_task(task)
    row, using = task_row(backend, task, (), kwargs)
    return Job(backend=backend, row=row, using=using)
