"""Invoice emails: rendering, the delivery attempt the worker runs, and re-sending.

The guarantee: a committed bill's invoice is never lost, and a refused or rolled-back bill never
gets one. The job is a row of the database task backend (``django_tasks_db``), written by the bill's
last statement (``invoice_job``) in ``purchase_create``'s own transaction: a transactional outbox,
the bill and its job commit together or not at all. No worker can see the job before the
bill commits, and once committed the job waits in the table until a ``db_worker`` runs it, however
long the worker was down.

Each delivery attempt queues the next one before it talks to the mail server, so an attempt whose
worker dies mid-send is retried after the backoff too. Every job is guarded by a conditional
UPDATE on the bill, so a duplicate or stale job does nothing, and an invoice already sent is never
sent again by a job (delivery is at-least-once only in the narrow case of a send that succeeds
but whose outcome cannot be written, or one that outlasts the backoff).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone
from django_tasks import task

from billing_project.core import metrics
from billing_project.core.db import atomic_write
from billing_project.core.errors import Conflict, ErrorCode, ValidationFailed
from billing_project.core.mail import mail_send
from billing_project.core.tasks_backend import Job, task_job

from .documents import invoice_pdf_filename, invoice_pdf_original
from .models import InvoiceStatus, Purchase
from .selectors import purchase_for_invoice

logger = logging.getLogger("billing.invoices")

MAX_ERROR_LENGTH = 2000


class InvoiceAlreadyPending(Conflict):
    code = ErrorCode.INVOICE_PENDING
    default_message = "The invoice email is already queued; it is sent or retried automatically."


class InvoiceWithoutEmail(ValidationFailed):
    default_message = "The bill's customer has no email address to send the invoice to."


def invoice_render(purchase: Purchase) -> EmailMultiAlternatives:
    """The invoice email, plain text with an HTML alternative. ``purchase`` should come from
    ``purchase_for_invoice`` (or ``purchase_get``) so its lines, payments and drawer movements are
    prefetched."""
    context = {
        # The bill's store as the bill copied it (``seller_*``), not the settings.
        "store_name": purchase.seller_name,
        "store_address": purchase.seller_address,
        "currency": settings.CURRENCY,
        "purchase": purchase,
        "lines": list(purchase.items.all()),
        "tendered": purchase.tendered,
        "change": purchase.change,
        "you_saved": purchase.you_saved,
    }
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" >") or "localhost"
    message = EmailMultiAlternatives(
        subject=f"Your invoice {purchase.number or '#' + str(purchase.pk)} from {purchase.seller_name}",
        body=render_to_string("emails/invoice.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[invoice_recipient(purchase)],
        # One Message-ID per bill and round: a mail system that sees a retry of a message it has
        # already accepted can recognise the duplicate.
        headers={"Message-ID": f"<invoice-{purchase.pk}.{purchase.invoice_round}@{domain}>"},
    )
    message.attach_alternative(render_to_string("emails/invoice.html", context), "text/html")
    # The tax invoice itself, rendered here in the worker: the original, never marked DUPLICATE.
    message.attach(invoice_pdf_filename(purchase), invoice_pdf_original(purchase), "application/pdf")
    return message


def invoice_recipient(purchase: Purchase) -> str:
    """The address a bill's invoice (and its refunds' receipts) go to: its customer's email. Only a
    bill with one is ever emailed (``purchase_create`` queues no job without it, ``invoice_resend``
    refuses)."""
    customer = purchase.customer
    if customer is None or not customer.email:
        raise InvoiceWithoutEmail(details={"purchase_id": purchase.pk})
    return customer.email


def invoice_retry_delay(attempt: int) -> timedelta:
    """Exponential backoff after ``attempt``: base, 2 × base, 4 × base, … capped at the maximum."""
    base = settings.INVOICE_RETRY_BACKOFF_SECONDS
    return timedelta(seconds=min(base * 2 ** (attempt - 1), settings.INVOICE_RETRY_BACKOFF_MAX_SECONDS))


def invoice_job(*, purchase: Purchase) -> Job | None:
    """The first delivery attempt's job for a new bill, for the bill's own last statement to write
    (``task_job``): it is written in the bill's transaction, so it exists exactly when the bill does.
    ``None`` when it was queued at once instead (SQLite, or another task backend)."""
    return task_job(send_invoice_email, purchase_id=purchase.pk, invoice_round=purchase.invoice_round, attempt=1)


@atomic_write()
def invoice_resend(*, purchase: Purchase) -> Purchase:
    """Send a sent, failed or skipped invoice again: a new round of ``INVOICE_MAX_ATTEMPTS``
    attempts. Jobs left over from an earlier round find the round changed and do nothing.

    Writes the bill's ``invoice_*`` fields with one guarded UPDATE, which also locks the row.
    Raises ``InvoiceAlreadyPending`` while a round is still under way, and ``InvoiceWithoutEmail``
    for a walk-in sale or a customer known by phone only (once a later bill gives the customer an
    email, the invoice can be sent to it).
    """
    customer = purchase.customer
    if customer is None or not customer.email:
        raise InvoiceWithoutEmail(details={"purchase_id": purchase.pk})
    updated = (
        Purchase.objects.filter(pk=purchase.pk)
        .exclude(invoice_status=InvoiceStatus.PENDING)
        .update(
            invoice_status=InvoiceStatus.PENDING,
            invoice_round=F("invoice_round") + 1,
            invoice_attempts=0,
            invoice_last_error="",
        )
    )
    if not updated:
        raise InvoiceAlreadyPending(details={"purchase_id": purchase.pk})
    purchase.refresh_from_db(
        fields=["invoice_status", "invoice_round", "invoice_attempts", "invoice_sent_at", "invoice_last_error"]
    )
    _enqueue_attempt(purchase_id=purchase.pk, invoice_round=purchase.invoice_round, attempt=1)
    logger.info("bill #%s invoice re-send queued (round %s)", purchase.pk, purchase.invoice_round)
    return purchase


def invoice_deliver(*, purchase_id: int, invoice_round: int, attempt: int) -> str:
    """One delivery attempt, run by the worker as ``send_invoice_email``.

    1. Claims attempt ``attempt`` with a guarded UPDATE (still pending, same round, one attempt
       fewer so far) and, in the same transaction, queues the next attempt after the backoff.
       A duplicate or stale job matches no row and stops here.
    2. Sends outside any transaction, so a slow mail server holds no lock and blocks no till.
    3. Records the outcome: sent; or the error, and failed after the last attempt.

    The job after the last attempt only marks an invoice failed whose last attempt never
    reported back (its worker died). Returns a short outcome for the task result.
    """
    max_attempts = settings.INVOICE_MAX_ATTEMPTS
    current = Purchase.objects.filter(pk=purchase_id, invoice_status=InvoiceStatus.PENDING, invoice_round=invoice_round)
    if attempt > max_attempts:
        gave_up = current.filter(invoice_attempts=attempt - 1).update(
            invoice_status=InvoiceStatus.FAILED,
            invoice_last_error=f"Attempt {attempt - 1} never finished: the worker stopped while sending.",
        )
        if gave_up:
            metrics.count_invoice_email("failed")
            logger.error("bill #%s invoice failed: attempt %s never finished", purchase_id, attempt - 1)
        return "failed" if gave_up else "nothing to do"

    with atomic_write():
        claimed = current.filter(invoice_attempts=attempt - 1).update(invoice_attempts=attempt)
        if claimed:
            _enqueue_attempt(
                purchase_id=purchase_id,
                invoice_round=invoice_round,
                attempt=attempt + 1,
                delay=invoice_retry_delay(attempt),
            )
    if not claimed:
        return "nothing to do"

    try:
        mail_send(invoice_render(purchase_for_invoice(purchase_id=purchase_id)))
    except Exception as exc:
        final = attempt >= max_attempts
        error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH]
        fields = {"invoice_last_error": error}
        if final:
            fields["invoice_status"] = InvoiceStatus.FAILED
        current.filter(invoice_attempts=attempt).update(**fields)
        metrics.count_invoice_email("failed" if final else "retry")
        log = logger.error if final else logger.warning
        log("bill #%s invoice attempt %s/%s failed: %s", purchase_id, attempt, max_attempts, error)
        return "failed" if final else "will retry"

    current.update(invoice_status=InvoiceStatus.SENT, invoice_sent_at=timezone.now(), invoice_last_error="")
    metrics.count_invoice_email("sent")
    logger.info("bill #%s invoice sent (attempt %s)", purchase_id, attempt)
    return "sent"


def _enqueue_attempt(*, purchase_id: int, invoice_round: int, attempt: int, delay: timedelta | None = None) -> None:
    # Imported here: tasks.py imports this module, and the worker may import tasks.py first.
    task = send_invoice_email.using(run_after=timezone.now() + delay) if delay else send_invoice_email
    task.enqueue(purchase_id=purchase_id, invoice_round=invoice_round, attempt=attempt)


@task()
def send_invoice_email(purchase_id: int, invoice_round: int, attempt: int) -> str:
    """One attempt at emailing a bill's invoice (a job of ``db_worker``); see ``invoice_deliver``."""
    return invoice_deliver(purchase_id=purchase_id, invoice_round=invoice_round, attempt=attempt)
