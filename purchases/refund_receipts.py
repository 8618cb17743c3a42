"""Refund receipt emails, through the same transactional outbox as invoices.

``refund_receipt_enqueue`` runs inside ``refund_create``'s transaction, so the job exists exactly
when the refund does. A customer who declined the bill's invoice gets no receipt either (the same
opt-out). Each attempt claims the send with a guarded UPDATE of ``receipt_sent_at`` after it
succeeds; a failed attempt queues the next one after the invoice backoff, up to
``INVOICE_MAX_ATTEMPTS``.

A worker killed after the mail server accepted the receipt and before ``receipt_sent_at`` was
written leaves the job RUNNING; ``requeue_stale_tasks`` puts it back and it sends the receipt once
more, with the same Message-ID (one per refund, never per attempt), then records it.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone
from django_tasks import task

from billing_project.core.mail import mail_send

from .documents import credit_note_pdf_filename, credit_note_pdf_original
from .invoices import invoice_recipient, invoice_retry_delay
from .models import Refund
from .selectors import refund_get

logger = logging.getLogger("billing.invoices")


def refund_receipt_render(refund: Refund) -> EmailMultiAlternatives:
    """The refund receipt, plain text with an HTML alternative. ``refund`` comes from ``refund_get``."""
    context = {
        # The bill's store as the bill copied it (``seller_*``), not the settings.
        "store_name": refund.purchase.seller_name,
        "store_address": refund.purchase.seller_address,
        "refund": refund,
        "purchase": refund.purchase,
        "lines": list(refund.lines.all()),
        "payments": list(refund.payments.all()),
        "cash_out": refund.cash_out,
    }
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" >") or "localhost"
    message = EmailMultiAlternatives(
        subject=(
            f"Your refund receipt {refund.number or f'#{refund.pk}'} for bill "
            f"{refund.purchase.number or f'#{refund.purchase_id}'} from {refund.purchase.seller_name}"
        ),
        body=render_to_string("emails/refund.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[invoice_recipient(refund.purchase)],
        headers={"Message-ID": f"<refund-{refund.pk}@{domain}>"},
    )
    message.attach_alternative(render_to_string("emails/refund.html", context), "text/html")
    message.attach(credit_note_pdf_filename(refund), credit_note_pdf_original(refund), "application/pdf")
    return message


def refund_receipt_enqueue(*, refund: Refund, attempt: int = 1, delay: timedelta | None = None) -> None:
    """Queue an attempt at the refund's receipt. Call it inside the refund's transaction."""
    task = send_refund_receipt_email.using(run_after=timezone.now() + delay) if delay else send_refund_receipt_email
    task.enqueue(refund_id=refund.pk, attempt=attempt)


def refund_receipt_deliver(*, refund_id: int, attempt: int) -> str:
    """One attempt, run by the worker. A receipt already sent is never sent again by a job."""
    refund = refund_get(refund_id=refund_id)
    if refund.receipt_sent_at is not None:
        return "nothing to do"
    try:
        mail_send(refund_receipt_render(refund))
    except Exception as exc:
        if attempt >= settings.INVOICE_MAX_ATTEMPTS:
            logger.error("refund #%s receipt failed after %s attempts: %s", refund_id, attempt, exc)
            return "failed"
        refund_receipt_enqueue(refund=refund, attempt=attempt + 1, delay=invoice_retry_delay(attempt))
        logger.warning("refund #%s receipt attempt %s failed: %s", refund_id, attempt, exc)
        return "will retry"
    Refund.objects.filter(pk=refund_id, receipt_sent_at__isnull=True).update(receipt_sent_at=timezone.now())
    logger.info("refund #%s receipt sent (attempt %s)", refund_id, attempt)
    return "sent"


@task()
def send_refund_receipt_email(refund_id: int, attempt: int) -> str:
    """One attempt at emailing a refund receipt (a job of ``db_worker``); see ``refund_receipt_deliver``."""
    return refund_receipt_deliver(refund_id=refund_id, attempt=attempt)
