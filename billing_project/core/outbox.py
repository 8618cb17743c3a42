"""Recovering the task queue (the transactional outbox) from a worker that died mid-job.

``db_worker`` claims a job (status RUNNING, committed) before it runs it. A worker killed between
that claim and the job's own first commit leaves the job RUNNING forever: no worker takes it again.
For an invoice that is the one window the delivery design cannot cover by itself (once an attempt
is claimed, the next attempt is already queued). ``tasks_requeue_stale`` puts such jobs back in
the queue. It is safe to run a job twice: every invoice job is guarded by a conditional UPDATE on
the bill, so a duplicate finds its attempt taken and does nothing.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult


@transaction.atomic
def tasks_requeue_stale(*, older_than: timedelta) -> int:
    """Set jobs RUNNING for longer than ``older_than`` back to READY; returns how many.

    One guarded UPDATE (``status = RUNNING AND started_at < cutoff``): a job that finishes
    meanwhile is not touched. ``older_than`` must exceed the longest a live job can take."""
    cutoff = timezone.now() - older_than
    return DBTaskResult.objects.filter(status="RUNNING", started_at__lt=cutoff).update(status="READY", started_at=None)
