"""The purchases app's use cases: ringing up a bill (``bills``) and taking things back (``refunds``).

Callers import from ``purchases.services``; the modules behind it are an implementation detail."""

from .bills import MAX_LINES, MAX_PAYMENTS, UPI_METHOD, UTR_PATTERN, purchase_create, purchase_discount_refusal
from .held import held_bill_count, held_bill_create, held_bill_discard, held_bill_list, held_bill_recall
from .refunds import refund_create

__all__ = [
    "MAX_LINES",
    "MAX_PAYMENTS",
    "UPI_METHOD",
    "UTR_PATTERN",
    "held_bill_count",
    "held_bill_create",
    "held_bill_discard",
    "held_bill_list",
    "held_bill_recall",
    "purchase_create",
    "purchase_discount_refusal",
    "refund_create",
]
