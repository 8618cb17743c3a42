"""The task queue's backend: django-tasks-db's, writing its row as the bill writes its own.

``DatabaseBackend.enqueue`` stores a task with ``DBTaskResult.objects.create``: the ORM's insert
compiler builds the same ``INSERT`` on every call, at more CPU than the statement takes to run, and
every bill enqueues its invoice email. Here the row (the same model instance, with the same values
the library gives it) is inserted with ``billing_project.db.insert_rows``, whose statement text is
built once per process, between the ``pre_save`` and ``post_save`` signals ``save()`` would send
(the library sets a task's ``run_after`` in a ``pre_save`` receiver). Everything else (validation,
the ``task_enqueued`` signal, the result returned, the worker) is the library's own.
``test_tasks_backend.py`` checks the row is exactly the one the library writes.
"""

from typing import Any

from django.db import router
from django.db.models.signals import post_save, pre_save
from django_tasks_db import DatabaseBackend as LibraryDatabaseBackend
from django_tasks_db.backend import normalize_json

from billing_project.db import insert_rows


class DatabaseBackend(LibraryDatabaseBackend):
    def _task_to_db_task(self, task, args, kwargs):
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
        insert_rows([row])
        post_save.send(sender=DBTaskResult, instance=row, created=True, update_fields=None, raw=False, using=using)
        return row
