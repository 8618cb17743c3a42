"""Background tasks, run by `python manage.py db_worker`. With Django 6, `django_tasks` becomes
`django.tasks`; nothing else changes."""

from django_tasks import task

from .invoices import invoice_deliver


@task()
def send_invoice_email(purchase_id: int, invoice_round: int, attempt: int) -> str:
    """One attempt at emailing a bill's invoice; see ``invoices.invoice_deliver``."""
    return invoice_deliver(purchase_id=purchase_id, invoice_round=invoice_round, attempt=attempt)
