"""Background tasks, run by `python manage.py db_worker`. With Django 6, `django_tasks` becomes
`django.tasks`; nothing else changes."""

from django_tasks import task

from .invoices import invoice_deliver


@task()
def send_invoice_email(purchase_id: int, invoice_round: int, attempt: int) -> str:
    """One attempt at emailing a bill's invoice; see ``invoices.invoice_deliver``."""
    return invoice_deliver(purchase_id=purchase_id, invoice_round=invoice_round, attempt=attempt)


@task()
def send_refund_receipt_email(refund_id: int, attempt: int) -> str:
    """One attempt at emailing a refund receipt; see ``refund_receipts.refund_receipt_deliver``."""
    from .refund_receipts import refund_receipt_deliver

    return refund_receipt_deliver(refund_id=refund_id, attempt=attempt)
