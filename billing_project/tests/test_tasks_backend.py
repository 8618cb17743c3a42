"""The task backend writes exactly the row django-tasks-db writes, through the bill's insert path."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tasks import task_backends
from django_tasks.signals import task_enqueued
from django_tasks_db import DatabaseBackend as LibraryBackend
from django_tasks_db.models import DBTaskResult

from billing_project.core.db import Writes
from billing_project.core.tasks_backend import DatabaseBackend, task_job
from purchases.invoices import send_invoice_email

pytestmark = pytest.mark.django_db

KWARGS = {"purchase_id": 7, "invoice_round": 2, "attempt": 3}


@contextmanager
def enqueued_ids() -> Iterator[list]:
    """The ids of the task results ``task_enqueued`` announces inside the block, in order."""
    seen: list = []

    def receiver(sender, task_result, **kwargs):
        seen.append(task_result.id)

    task_enqueued.connect(receiver)
    try:
        yield seen
    finally:
        task_enqueued.disconnect(receiver)


def _stored(result_id) -> dict[str, Any]:
    row = dict(DBTaskResult.objects.values().get(id=result_id))
    del row["id"], row["enqueued_at"]
    return row


@pytest.mark.parametrize("delay", [None, timedelta(minutes=5)])
def test_the_row_is_the_one_the_library_writes(delay):
    task = send_invoice_email.using(run_after=timezone.now() + delay) if delay else send_invoice_email
    backends: list[Any] = [
        DatabaseBackend("default", {"QUEUES": ["default"]}),
        LibraryBackend("default", {"QUEUES": ["default"]}),
    ]
    ours, theirs = (backend.enqueue(task, (), KWARGS) for backend in backends)

    assert ours.id != theirs.id
    assert _stored(ours.id) == _stored(theirs.id)
    stored = DBTaskResult.objects.get(id=ours.id)
    assert stored.enqueued_at is not None
    assert stored.task_result.kwargs == KWARGS
    assert stored.task_result.task.module_path == send_invoice_email.module_path


def test_the_project_enqueues_through_it_and_the_signal_still_fires():
    with enqueued_ids() as seen:
        result = send_invoice_email.enqueue(**KWARGS)

    assert isinstance(task_backends["default"], DatabaseBackend)
    assert seen == [result.id]
    assert DBTaskResult.objects.filter(id=result.id).exists()


def test_a_job_is_the_row_the_library_writes_and_written_by_the_callers_statement():
    if connection.vendor != "postgresql":
        pytest.skip("a job is written by the caller's statement on PostgreSQL only")
    with enqueued_ids() as seen, transaction.atomic():
        job = task_job(send_invoice_email, **KWARGS)
        assert job is not None
        assert not DBTaskResult.objects.filter(id=job.row.id).exists()
        writes = Writes()
        writes.insert("job", [job.row])
        with connection.cursor() as cursor:
            cursor.execute(f"WITH {writes.sql} SELECT 1", writes.params)
        assert seen == []  # not before the row is written and the writer says so
        result = job.written()
        assert DBTaskResult.objects.filter(id=result.id).exists()

    assert seen == [result.id]
    library: Any = LibraryBackend("default", {"QUEUES": ["default"]})
    theirs = library.enqueue(send_invoice_email, (), KWARGS)
    assert _stored(result.id) == _stored(theirs.id)
    assert DBTaskResult.objects.get(id=result.id).enqueued_at == result.enqueued_at


def test_without_a_statement_to_carry_it_a_job_is_enqueued_at_once():
    if connection.vendor == "postgresql":
        pytest.skip("on PostgreSQL the caller's statement writes it")
    with enqueued_ids() as seen:
        assert task_job(send_invoice_email, **KWARGS) is None

    assert len(seen) == 1 and DBTaskResult.objects.filter(id=seen[0]).exists()


def test_a_job_whose_transaction_fails_is_not_written_and_sends_no_signal():
    if connection.vendor != "postgresql":
        pytest.skip("a job is written by the caller's statement on PostgreSQL only")
    with enqueued_ids() as seen, pytest.raises(RuntimeError), transaction.atomic():
        job = task_job(send_invoice_email, **KWARGS)
        raise RuntimeError(f"refused before {job} was written")

    assert seen == []
    assert not DBTaskResult.objects.exists()
