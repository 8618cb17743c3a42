"""The customer-facing display (``/billing/display/``): what the cashier's page shows, for a second
screen facing the customer.

The cashier's page and the display are usually two devices, so the state travels through the
server: every time the cashier's page is rendered or previewed (``views._bill_page``,
``views.bill_preview_view``), rings a bill up or parks it, it publishes the till's display state
into Django's cache under the till's id; the display polls ``/billing/display/state/`` every half
second and redraws when the state's ``seq`` changed. A till's state is one cache entry, kept for an
hour; no bill, stock or drawer row is touched. The cache must be shared by every web worker
(production's default is the database cache; the local settings' in-memory cache is one process,
as ``runserver`` is).
"""

import time
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache

from billing_project.core.money import format_money
from billing_project.core.quantities import quantity_text

from .preview import BillPreview
from .upi import upi_configured, upi_qr

STATE_SECONDS = 3600
IDLE: dict = {"status": "idle", "lines": [], "seq": 0}


def _key(till_id: int) -> str:
    return f"billing:display:{till_id}"


def display_publish(till_id: int, state: dict) -> None:
    """Make ``state`` what the till's display shows, with a new ``seq``."""
    cache.set(_key(till_id), {**state, "seq": time.time_ns()}, STATE_SECONDS)


def display_state(till_id: int) -> dict:
    """What the till's display shows now (``IDLE`` before anything was published)."""
    return cache.get(_key(till_id)) or IDLE


def upi_ref(till_code: str) -> str:
    """The note a QR code shown at a till carries (``tn``): the bill has no number yet."""
    return f"Bill at till {till_code}"


def display_from_preview(preview: BillPreview, *, upi_amount: Decimal | None, till_code: str) -> dict:
    """The state of a bill being rung up: its lines, totals and, with a UPI amount, its QR code."""
    lines = [
        {
            "name": row.product.name,
            "quantity": quantity_text(row.quantity, row.product.unit),
            "price": format_money(row.line.unit_price),
            "amount": format_money(row.line.total),
        }
        for row in preview.rows
        if row.line is not None and row.product is not None and row.quantity is not None
    ]
    if not lines:
        return {"status": "idle", "lines": []}
    bill = preview.quote
    state: dict = {
        "status": "ringing",
        "lines": lines,
        "total": format_money(bill.total) if bill is not None else None,
        "payable": format_money(preview.payable) if preview.payable is not None else None,
        "you_saved": format_money(bill.you_saved) if bill is not None and bill.you_saved else None,
        "upi": None,
    }
    if upi_amount and upi_amount > 0 and upi_configured():
        qr = upi_qr(amount=f"{upi_amount:.2f}", ref=upi_ref(till_code))
        state["upi"] = {
            "amount": format_money(upi_amount),
            "payee": settings.UPI_PAYEE_NAME,
            "uri": qr.uri,
            "svg": qr.svg,
        }
    return state


def display_done(*, payable: Decimal, change_due: Decimal, number: str) -> dict:
    """The state once the bill is rung up: thanks, and the change."""
    return {
        "status": "done",
        "lines": [],
        "number": number,
        "payable": format_money(payable),
        "change_due": format_money(change_due) if change_due else None,
    }
