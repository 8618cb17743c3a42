"""Admin pieces for invoice emails, wired into ``PurchaseAdmin`` in ``admin.py``:
``list_display`` / ``readonly_fields`` get ``invoice_email_status`` and ``actions`` gets
``resend_invoice``, which needs the ``purchases.resend_invoice`` permission (managers). Both only
call ``purchases.invoices``."""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.dateformat import format as date_format

from .invoices import InvoiceAlreadyPending, InvoiceWithoutEmail, invoice_resend
from .models import InvoiceStatus, Purchase

RESEND_INVOICE = "purchases.resend_invoice"


@admin.display(description="Invoice email", ordering="invoice_status")
def invoice_email_status(purchase: Purchase) -> str:
    """e.g. "Sent 24 Nov 2026, 10:15", "Pending (attempt 2)", "Failed after 5 attempts: SMTP…"."""
    status = purchase.invoice_status
    if status == InvoiceStatus.SENT:
        return f"Sent {date_format(timezone.localtime(purchase.invoice_sent_at), 'j M Y, H:i')}"
    if status == InvoiceStatus.FAILED:
        return f"Failed after {purchase.invoice_attempts} attempt(s): {purchase.invoice_last_error}"
    if status == InvoiceStatus.PENDING and purchase.invoice_attempts:
        error = f"; last error: {purchase.invoice_last_error}" if purchase.invoice_last_error else ""
        return f"Pending ({purchase.invoice_attempts} attempt(s) so far{error})"
    return purchase.get_invoice_status_display()


# Offered only to users with the permission: the ModelAdmin answers has_resend_invoice_permission.
@admin.action(description="Re-send invoice email", permissions=["resend_invoice"])
def resend_invoice(modeladmin, request, queryset) -> None:
    if not request.user.has_perm(RESEND_INVOICE):
        modeladmin.message_user(request, "You may not re-send invoice emails.", messages.ERROR)
        return
    queued, pending, no_email = [], [], []
    for purchase in queryset.select_related("customer").order_by("pk"):
        try:
            invoice_resend(purchase=purchase)
        except InvoiceAlreadyPending:
            pending.append(f"#{purchase.pk}")
        except InvoiceWithoutEmail:
            no_email.append(f"#{purchase.pk}")
        else:
            queued.append(f"#{purchase.pk}")
    if queued:
        modeladmin.message_user(request, f"Invoice email queued for bill(s) {', '.join(queued)}.", messages.SUCCESS)
    if pending:
        modeladmin.message_user(
            request,
            f"Already queued, not sent again: {', '.join(pending)}. They are sent or retried automatically.",
            messages.WARNING,
        )
    if no_email:
        modeladmin.message_user(
            request,
            f"No email address to send to (a walk-in sale, or a customer known by phone only): {', '.join(no_email)}.",
            messages.WARNING,
        )
