"""A worker killed between claiming an invoice job and the job's first commit leaves the job
RUNNING; ``manage.py requeue_stale_tasks`` (billing_project.core.outbox) puts it back, and the invoice is
then sent exactly once."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cashdrawer.tests.factories import drawer_with
from catalog.tests.factories import ProductFactory
from purchases.models import InvoiceStatus, Purchase
from purchases.services import purchase_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def bill():
    drawer_with({"500": 4, "100": 10, "50": 4, "20": 10, "10": 10, "5": 10, "2": 10, "1": 10})
    rice = ProductFactory(name="Rice", price=Decimal("45.50"), tax_percent=Decimal("5"), stock=10)
    return purchase_create(
        customer_email="ann@example.com",
        items=[{"product_id": rice.pk, "quantity": 1}],
        paid_amount=Decimal("500"),
        tendered=[{"value": Decimal("500"), "count": 1}],
    )


def claimed_by_a_dead_worker(minutes_ago: int) -> DBTaskResult:
    job = DBTaskResult.objects.get()
    DBTaskResult.objects.filter(pk=job.pk).update(
        status="RUNNING", started_at=timezone.now() - timedelta(minutes=minutes_ago), worker_ids=["killed"]
    )
    return job


@pytest.mark.django_db(transaction=True)  # the worker closes and reopens its connection
def test_a_job_left_running_by_a_dead_worker_is_requeued_and_sent_once(bill, smtp_sink, run_worker):
    job = claimed_by_a_dead_worker(minutes_ago=11)
    run_worker()
    assert smtp_sink.messages == []  # no worker takes a RUNNING job by itself

    call_command("requeue_stale_tasks", seconds=600)
    run_worker()
    call_command("requeue_stale_tasks", seconds=600)
    run_worker()

    assert len(smtp_sink.messages) == 1
    assert Purchase.objects.get(pk=bill.pk).invoice_status == InvoiceStatus.SENT
    assert DBTaskResult.objects.get(pk=job.pk).status == "SUCCESSFUL"


def test_a_job_running_for_less_than_the_limit_is_left_alone(bill):
    job = claimed_by_a_dead_worker(minutes_ago=5)

    call_command("requeue_stale_tasks", seconds=600)

    assert DBTaskResult.objects.get(pk=job.pk).status == "RUNNING"


def test_a_limit_shorter_than_a_live_job_can_take_is_refused(bill, settings):
    settings.EMAIL_TIMEOUT = 20
    job = claimed_by_a_dead_worker(minutes_ago=11)

    with pytest.raises(CommandError, match="at least 60"):
        call_command("requeue_stale_tasks", seconds=30)

    assert DBTaskResult.objects.get(pk=job.pk).status == "RUNNING"
