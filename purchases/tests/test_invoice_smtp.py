"""End to end: bills rung up for real (committed), the real ``db_worker`` command, and a real SMTP
server listening on 127.0.0.1 (``smtp_sink`` in conftest.py). No mock of the mail API."""

from datetime import timedelta
from decimal import Decimal
from threading import Barrier, Thread

import pytest
from django.core.mail import EmailMessage
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from catalog.tests.factories import ProductFactory
from purchases.errors import InsufficientStock
from purchases.models import InvoiceStatus, Purchase, Refund
from purchases.services import purchase_create, refund_create
from purchases.tests.helpers import db_state, form_data
from purchases.tests.pdf import pdf_text_of

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal
URL = "/api/v1/purchases"


@pytest.fixture
def tea():
    return ProductFactory(name="Assam Tea", price=D("120.00"), tax_percent=D("5"), stock=20)


def ring_up(product, *, email="ann@example.com", quantity=1, **kwargs) -> Purchase:
    # 120.00 + 6.00 tax = 126.00 payable per packet of tea
    return purchase_create(
        customer_email=email,
        items=[{"product_id": product.pk, "quantity": quantity}],
        paid_amount=D("200"),
        tendered=[{"value": D("200"), "count": 1}],
        **kwargs,
    )


def fresh(purchase) -> Purchase:
    return Purchase.objects.get(pk=purchase.pk)


def test_a_bill_rung_up_through_the_api_gets_exactly_one_email_over_smtp(
    settings, admin_api, drawer, tea, smtp_sink, run_worker
):
    settings.DEFAULT_FROM_EMAIL = "Corner Grocer <billing@corner.example>"
    body = {
        "customer_email": "Ann@Example.com",
        "items": [{"product_id": tea.pk, "quantity": 1}],
        "paid_amount": "200",
        "tendered": [{"value": "200", "count": 1}],
    }
    response = admin_api.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["invoice_email_status"]["status"] == "pending"
    assert smtp_sink.messages == []  # nothing is sent until a worker runs

    run_worker()
    run_worker()  # a second run finds nothing more to send

    [message] = smtp_sink.messages
    assert smtp_sink.envelopes == [("billing@corner.example", ["ann@example.com"])]
    assert message["To"] == "ann@example.com"
    assert message["Subject"] == f"Your invoice {response.json()['number']} from {settings.STORE_NAME}"
    # The text and HTML bodies, and the tax invoice of this very bill attached as a PDF.
    assert message.get_content_type() == "multipart/mixed"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    pdf = attachment.get_content()
    assert pdf.startswith(b"%PDF-")
    pdf_text = pdf_text_of(pdf)
    assert response.json()["number"] in pdf_text
    assert "ORIGINAL FOR RECIPIENT" in pdf_text and "DUPLICATE" not in pdf_text
    assert attachment.get_filename() == f"invoice-{response.json()['number'].replace('/', '-')}.pdf"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    for part in (text, html):
        for amount in ("120.00", "126.00", "200.00", "74.00"):
            assert amount in part
    assert "Change given: 1 × ₹50, 1 × ₹20, 2 × ₹2" in text
    purchase = Purchase.objects.get(pk=response.json()["id"])
    assert purchase.invoice_status == InvoiceStatus.SENT
    assert purchase.invoice_sent_at is not None
    status = admin_api.get(f"{URL}/{purchase.pk}").json()["invoice_email_status"]
    assert (status["status"], status["attempts"], status["last_error"]) == ("sent", 1, "")


def test_bills_committed_while_no_worker_runs_are_all_sent_by_the_next_worker(drawer, tea, smtp_sink, run_worker):
    bills = [ring_up(tea, email=f"customer{n}@example.com") for n in range(3)]
    # The process that rang them up dies here: nothing of it survives but the database.
    connection.close()

    assert DBTaskResult.objects.filter(status="READY").count() == 3
    assert smtp_sink.messages == []

    run_worker()

    assert sorted(to for _, [to] in smtp_sink.envelopes) == [f"customer{n}@example.com" for n in range(3)]
    assert {fresh(bill).invoice_status for bill in bills} == {InvoiceStatus.SENT}


def test_a_refused_bill_sends_no_email(drawer, tea, smtp_sink, run_worker):
    with pytest.raises(InsufficientStock):
        ring_up(tea, quantity=21)

    run_worker()

    assert not DBTaskResult.objects.exists()
    assert smtp_sink.data_commands == 0


def test_a_declined_invoice_sends_no_email(drawer, tea, smtp_sink, run_worker):
    purchase = ring_up(tea, send_invoice=False)

    run_worker()

    assert smtp_sink.data_commands == 0
    assert fresh(purchase).invoice_status == InvoiceStatus.SKIPPED


def test_a_mail_server_refusing_every_attempt_marks_the_invoice_failed(settings, drawer, tea, smtp_sink, run_worker):
    settings.INVOICE_RETRY_BACKOFF_SECONDS = 0  # every retry is due at once
    smtp_sink.reject_next = 100
    purchase = ring_up(tea)
    bill_state = db_state()

    run_worker()

    assert smtp_sink.data_commands == settings.INVOICE_MAX_ATTEMPTS == 3
    assert smtp_sink.messages == []
    purchase = fresh(purchase)
    assert purchase.invoice_status == InvoiceStatus.FAILED
    assert purchase.invoice_attempts == 3
    assert purchase.invoice_sent_at is None
    assert purchase.invoice_last_error.startswith("SMTPDataError: (451")
    assert "temporarily unavailable" in purchase.invoice_last_error
    assert db_state() == bill_state  # the bill, its stock and the drawer are untouched
    assert not DBTaskResult.objects.filter(status="READY").exists()


def test_an_unreachable_mail_server_is_retried_then_marked_failed(settings, drawer, tea, smtp_down, run_worker):
    settings.INVOICE_RETRY_BACKOFF_SECONDS = 0
    purchase = ring_up(tea)
    bill_state = db_state()

    run_worker()

    purchase = fresh(purchase)
    assert purchase.invoice_status == InvoiceStatus.FAILED
    assert purchase.invoice_attempts == 3
    assert purchase.invoice_last_error.startswith("ConnectionRefusedError")
    assert db_state() == bill_state


def test_a_failed_attempt_is_retried_after_the_backoff_and_then_sent_once(settings, drawer, tea, smtp_sink, run_worker):
    settings.INVOICE_RETRY_BACKOFF_SECONDS = 60
    smtp_sink.reject_next = 1
    purchase = ring_up(tea)

    run_worker()

    purchase = fresh(purchase)
    assert (purchase.invoice_status, purchase.invoice_attempts) == (InvoiceStatus.PENDING, 1)
    assert "SMTPDataError" in purchase.invoice_last_error
    [retry] = DBTaskResult.objects.filter(status="READY")
    assert 55 <= (retry.run_after - timezone.now()).total_seconds() <= 60
    assert smtp_sink.messages == []

    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())  # a minute later
    run_worker()

    assert len(smtp_sink.messages) == 1
    assert smtp_sink.data_commands == 2
    purchase = fresh(purchase)
    assert (purchase.invoice_status, purchase.invoice_attempts, purchase.invoice_last_error) == (
        InvoiceStatus.SENT,
        2,
        "",
    )


def test_several_workers_share_the_queue_and_send_each_invoice_once(postgres_only, drawer, tea, smtp_sink):
    emails = [f"customer{n}@example.com" for n in range(12)]
    for address in emails:
        purchase_create(customer_email=address, items=[{"product_id": tea.pk, "quantity": 1}], paid_amount=D("126"))

    start = Barrier(4)

    def work(n: int) -> None:
        # What `db_worker --batch` runs, minus the signal handlers, which only the main thread may set.
        worker = Worker(
            queue_names=["default"],
            excluded_queue_names=[],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=f"test-worker-{n}",
        )
        try:
            start.wait(timeout=10)
            worker.run()
        finally:
            connection.close()

    threads = [Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(to for _, [to] in smtp_sink.envelopes) == sorted(emails)
    assert set(Purchase.objects.values_list("invoice_status", flat=True)) == {InvoiceStatus.SENT}
    workers = {worker for job in DBTaskResult.objects.filter(status="SUCCESSFUL") for worker in job.worker_ids}
    assert len(workers) > 1


def test_a_bill_rung_up_on_the_billing_page_gets_exactly_one_email_over_smtp(
    cashier_client, drawer, tea, smtp_sink, run_worker
):
    tea.sku = "TEA-1"
    tea.save()
    response = cashier_client.post(
        "/billing/", form_data(email="Bob@Example.com", rows=[("TEA-1", 1)], notes={"200": 1}, action="generate")
    )
    assert response.status_code == 302, response.content.decode()[:500]
    purchase = Purchase.objects.get()
    assert smtp_sink.messages == []

    run_worker()
    run_worker()

    [message] = smtp_sink.messages
    assert message["To"] == "bob@example.com"
    assert fresh(purchase).number in message["Subject"]
    assert fresh(purchase).invoice_status == InvoiceStatus.SENT


def test_declining_the_invoice_on_the_billing_page_sends_nothing(cashier_client, drawer, tea, smtp_sink, run_worker):
    tea.sku = "TEA-1"
    tea.save()
    response = cashier_client.post(
        "/billing/",
        form_data(rows=[("TEA-1", 1)], notes={"200": 1}, send_invoice=False, action="generate"),
    )
    assert response.status_code == 302

    run_worker()

    assert smtp_sink.messages == []
    assert Purchase.objects.get().invoice_status == InvoiceStatus.SKIPPED


# --- A worker killed after the mail server accepted a message and before it recorded it -----------


class WorkerKilled(BaseException):
    """Stands in for the worker process dying: nothing in the task catches it."""


def sent_then_killed(patch) -> None:
    """Every send reaches the mail server, then the worker dies before it records the message sent."""
    real_send = EmailMessage.send

    def send_then_die(self, fail_silently=False):
        real_send(self, fail_silently)
        raise WorkerKilled

    patch.setattr("django.core.mail.EmailMessage.send", send_then_die)


def left_running_by_the_killed_worker(task_path: str) -> None:
    """A killed worker leaves its job RUNNING (this in-process worker caught the exception and marked
    it failed instead); minutes later, cron's ``requeue_stale_tasks`` puts it back in the queue."""
    DBTaskResult.objects.filter(task_path=task_path, status="FAILED").update(
        status="RUNNING", started_at=timezone.now() - timedelta(minutes=11), finished_at=None
    )


def drain(run_worker, rounds: int = 8) -> None:
    """Run the queue to the end, as time passing would: cron's requeue, every retry made due."""
    for _ in range(rounds):
        call_command("requeue_stale_tasks", seconds=600)
        DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())
        run_worker()
    assert not DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists()


def test_an_invoice_sent_but_not_recorded_reaches_the_customer_twice_at_most_with_one_message_id(
    settings, drawer, tea, smtp_sink, run_worker, monkeypatch
):
    settings.DEFAULT_FROM_EMAIL = "Corner Grocer <billing@corner.example>"
    purchase = ring_up(tea)
    with monkeypatch.context() as patch:
        sent_then_killed(patch)
        run_worker()
    assert len(smtp_sink.messages) == 1
    assert fresh(purchase).invoice_status == InvoiceStatus.PENDING  # the send was never recorded
    left_running_by_the_killed_worker("purchases.invoices.send_invoice_email")

    drain(run_worker)

    # The next attempt sent it again, as the same message; nothing sent it a third time.
    assert [m["Message-ID"] for m in smtp_sink.messages] == [f"<invoice-{purchase.pk}.0@corner.example>"] * 2
    assert smtp_sink.messages[0].get_body(preferencelist=("plain",)).get_content() == (
        smtp_sink.messages[1].get_body(preferencelist=("plain",)).get_content()
    )
    assert (fresh(purchase).invoice_status, fresh(purchase).invoice_attempts) == (InvoiceStatus.SENT, 2)


def test_a_refund_receipt_sent_but_not_recorded_reaches_the_customer_twice_at_most_with_one_message_id(
    settings, drawer, tea, smtp_sink, run_worker, monkeypatch
):
    settings.DEFAULT_FROM_EMAIL = "Corner Grocer <billing@corner.example>"
    purchase = ring_up(tea)
    run_worker()  # the invoice goes out as usual
    refund = refund_create(purchase_id=purchase.pk, items=[{"product_id": tea.pk, "quantity": 1}], reason="torn")
    with monkeypatch.context() as patch:
        sent_then_killed(patch)
        run_worker()
    assert Refund.objects.get(pk=refund.pk).receipt_sent_at is None  # the send was never recorded
    left_running_by_the_killed_worker("purchases.refund_receipts.send_refund_receipt_email")

    drain(run_worker)

    receipts = [m["Message-ID"] for m in smtp_sink.messages if m["Message-ID"].startswith("<refund-")]
    assert receipts == [f"<refund-{refund.pk}@corner.example>"] * 2
    assert Refund.objects.get(pk=refund.pk).receipt_sent_at is not None
    assert [m["Message-ID"] for m in smtp_sink.messages].count(f"<invoice-{purchase.pk}.0@corner.example>") == 1
