"""The purchases app's use cases: ringing up a bill (``bills``) and taking things back (``refunds``).

Callers import from ``purchases.services``; the modules behind it are an implementation detail."""

from .bills import MAX_LINES, MAX_PAYMENTS, purchase_create, purchase_discount_refusal
from .refunds import refund_create

__all__ = [
    "MAX_LINES",
    "MAX_PAYMENTS",
    "purchase_create",
    "purchase_discount_refusal",
    "refund_create",
]
