"""The background tasks' old import path. Each task is declared beside the work it does
(``invoices.send_invoice_email``, ``refund_receipts.send_refund_receipt_email``), so that a task
that queues its own next attempt imports nothing that imports it back. Jobs queued before that
move name this module (their ``task_path``); ``db_worker`` finds them here. Nothing in the code
imports this module."""

from .invoices import send_invoice_email
from .refund_receipts import send_refund_receipt_email

__all__ = ["send_invoice_email", "send_refund_receipt_email"]
