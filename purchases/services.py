"""Ringing up a bill."""

import logging
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.db import OperationalError, transaction
from django.utils import timezone

from billing_project import metrics
from billing_project.db import guarded_add, set_transaction_timeouts
from billing_project.errors import Busy, DomainError, ValidationFailed, is_busy
from billing_project.money import CENT, format_money, money
from billing_project.types import Actor, BillLine, Pieces
from cashdrawer.services import drawer_check_tender, drawer_plan_change, drawer_record_bill, till_lock_for_bill
from catalog.lock_objects import products_for_update
from catalog.models import Product
from customers.services import customer_get_or_create

from .errors import InsufficientPayment, InsufficientStock, ProductInactive, ProductNotFound
from .invoices import invoice_enqueue
from .models import AMOUNT_MAX_DIGITS, InvoiceStatus, Purchase, PurchaseItem
from .numbering import invoice_number_take
from .pricing import quote

logger = logging.getLogger("billing.purchases")

MAX_LINES = 200
AMOUNT_LIMIT = Decimal(10) ** (AMOUNT_MAX_DIGITS - 2)


@transaction.atomic
def purchase_create(
    *,
    customer_email: str,
    items: Sequence[BillLine],
    paid_amount: Decimal,
    tendered: Sequence[Pieces] | None = None,
    user: Actor = None,
    send_invoice: bool = True,
    till: int | None = None,
) -> Purchase:
    """Ring up a bill in one transaction; on any refusal nothing at all is written.

    ``items`` are ``{"product_id", "quantity"}``; lines for the same product are combined.
    ``tendered`` are ``{"value", "count"}`` notes; when given they must add up to ``paid_amount``
    and go into the drawer of ``till`` (an id; default ``DEFAULT_TILL``), whose drawer also gives
    the change. The bill is recorded in the till's open session; with none, one is opened
    automatically at the current counts, unless the till ``requires_open_session``.

    Unless ``send_invoice`` is false (the customer declined), the invoice email's job is queued
    in this same transaction (``invoices.invoice_enqueue``): it exists exactly when the bill does.

    The bill gets its tax invoice ``number`` in the till's invoice series
    (``numbering.invoice_number_take``), inside this transaction: a refused bill takes none.

    Locks, in this order (see ``lock_objects``): the customer's unique email (insert), the bill's
    products by primary key, the till row, every denomination of that till by value, then the
    counter row of the till's series and financial year.

    Raises ``ValidationFailed``, ``ProductNotFound``, ``ProductInactive``,
    ``InsufficientStock``, ``InsufficientPayment``, ``TenderMismatch``, ``ChangeUnavailable``,
    ``ChangeTooComplex``, ``TillNotFound``, ``TillInactive``, ``SessionClosed`` (a till that requires an
    open session has none), ``SeriesExhausted``, or ``Busy`` when it gave up waiting for a lock
    (``BILL_LOCK_TIMEOUT_MS``).

    Metrics and logs: a committed bill is counted by till with its latency (after the commit); a
    refusal is counted by its error code. Log lines carry ``till``, ``session`` and ``bill``.
    """
    started = time.perf_counter()
    # Refusals are logged with the till the request named (an id; None for the default till).
    log = {"till": till, "session": None, "bill": None}
    try:
        purchase = _ring_up(
            customer_email=customer_email,
            items=items,
            paid_amount=paid_amount,
            tendered=tendered,
            user=user,
            send_invoice=send_invoice,
            till=till,
        )
    except OperationalError as exc:
        if not is_busy(exc):
            raise
        metrics.count_refusal(Busy.code)
        logger.warning(
            "bill refused: busy (%s)",
            getattr(exc.__cause__, "sqlstate", None),
            extra={**log, "code": str(Busy.code)},
        )
        raise Busy() from exc
    except DomainError as exc:
        metrics.count_refusal(exc.code)
        logger.warning(
            "bill refused: %s %s %s",
            exc.code,
            exc.message,
            exc.details,
            extra={**log, "code": str(exc.code)},
        )
        raise
    assert purchase.till is not None
    transaction.on_commit(partial(metrics.observe_bill_since, purchase.till.code, started))
    return purchase


def _ring_up(
    *,
    customer_email: str,
    items: Sequence[BillLine],
    paid_amount: Decimal,
    tendered: Sequence[Pieces] | None,
    user: Actor,
    send_invoice: bool,
    till: int | None,
) -> Purchase:
    quantities = _combine_lines(items)
    paid_amount = _check_amount(paid_amount)
    set_transaction_timeouts(
        lock_timeout_ms=settings.BILL_LOCK_TIMEOUT_MS, statement_timeout_ms=settings.BILL_STATEMENT_TIMEOUT_MS
    )

    customer = customer_get_or_create(email=customer_email)
    products = {p.pk: p for p in products_for_update(sorted(quantities))}
    for product_id, quantity in quantities.items():
        product = products.get(product_id)
        if product is None:
            raise ProductNotFound(f"Product {product_id} does not exist.", details={"product_id": product_id})
        if not product.is_active:
            raise ProductInactive(f"{product.name} is archived and cannot be sold.", details={"product_id": product_id})
        if product.stock < quantity:
            raise InsufficientStock(
                f"Only {product.stock} of {product.name} in stock; {quantity} requested.",
                details={"product_id": product_id, "available": product.stock, "requested": quantity},
            )

    bill = quote(products, quantities)
    if bill.total >= AMOUNT_LIMIT:
        raise ValidationFailed("The bill is too large.", details={"items": ["The bill total is too large."]})
    payable = bill.payable
    if paid_amount < payable:
        raise InsufficientPayment(
            f"Paid {format_money(paid_amount)}, but {format_money(payable)} is payable.",
            details={"paid_amount": f"{paid_amount:.2f}", "payable": f"{payable:.2f}"},
        )
    change_due = paid_amount - payable

    purchase = Purchase.objects.create(
        customer=customer,
        created_by=user if user is not None and user.is_authenticated else None,
        subtotal=bill.subtotal,
        tax_total=bill.tax_total,
        total=bill.total,
        rounding=bill.rounding,
        payable=payable,
        paid_amount=paid_amount,
        change_due=change_due,
        invoice_status=InvoiceStatus.PENDING if send_invoice else InvoiceStatus.SKIPPED,
    )
    for line in bill.lines:
        line.purchase = purchase
    PurchaseItem.objects.bulk_create(bill.lines)
    _take_stock(quantities)
    if send_invoice:
        invoice_enqueue(purchase=purchase)

    # The till comes last: every bill at a till locks its till row and all of its drawer rows, so
    # holding them only for the drawer's own statements and the commit lets bills at one till
    # overlap more. A refusal here still rolls back everything above.
    till_row, session_id, denominations = till_lock_for_bill(till_id=till, user=purchase.created_by)
    tender = (
        drawer_check_tender(denominations=denominations, tendered=tendered, paid_amount=paid_amount) if tendered else {}
    )
    planning = time.perf_counter()
    change = drawer_plan_change(denominations=denominations, tendered=tender, change_due=change_due)
    metrics.observe_change_making(time.perf_counter() - planning)
    movements = drawer_record_bill(
        denominations=denominations,
        purchase=purchase,
        tendered=tender,
        change=change,
        user=purchase.created_by,
        session_id=session_id,
    )
    # The number last: the counter row is locked until the commit, so taking it after every check
    # that can refuse the bill keeps it held for the shortest time. One statement.
    number = invoice_number_take(till=till_row, when=purchase.created_at)
    Purchase.objects.filter(pk=purchase.pk).update(till=till_row, session_id=session_id, number=number)
    purchase.till, purchase.session_id, purchase.number = till_row, session_id, number
    # Hand the bill back with its lines and ledger rows in place, as purchase_list prefetches
    # them, so answering with it costs no further queries.
    _set_prefetched(purchase, items=bill.lines, drawer_movements=movements)
    logger.info(
        "bill #%s rung up: customer=%s lines=%d payable=%s paid=%s change=%s by=%s",
        purchase.pk,
        customer.pk,
        len(bill.lines),
        payable,
        paid_amount,
        change_due,
        user,
        extra={"till": till_row.code, "session": session_id, "bill": purchase.pk},
    )
    return purchase


def _set_prefetched(instance, **related) -> None:
    cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    for name, objects in related.items():
        queryset = getattr(instance, name).all()
        queryset._result_cache = list(objects)
        queryset._prefetch_done = True
        cache[name] = queryset


def _combine_lines(items: Sequence[BillLine]) -> dict[int, int]:
    if not items:
        raise ValidationFailed("A bill needs at least one line.", details={"items": ["This list may not be empty."]})
    if len(items) > MAX_LINES:
        raise ValidationFailed(f"A bill has at most {MAX_LINES} lines.", details={"items": ["Too many lines."]})
    quantities: dict[int, int] = {}
    for item in items:
        product_id, quantity = int(item["product_id"]), int(item["quantity"])
        if quantity <= 0:
            raise ValidationFailed("Quantities must be positive.", details={"items": ["Quantity must be > 0."]})
        quantities[product_id] = quantities.get(product_id, 0) + quantity
    return quantities


def _check_amount(amount) -> Decimal:
    amount = Decimal(amount)
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(CENT) or amount >= AMOUNT_LIMIT:
        raise ValidationFailed(
            "The amount paid must be a non-negative amount with at most 2 decimal places.",
            details={"paid_amount": ["Invalid amount."]},
        )
    return money(amount)


def _take_stock(quantities: Mapping[int, int]) -> None:
    """One guarded UPDATE for every line: ``stock >= quantity`` is re-checked by the database."""
    deltas = {pk: -qty for pk, qty in quantities.items()}
    if guarded_add(Product, "stock", deltas, also_set={"updated_at": timezone.now()}) != len(deltas):
        raise InsufficientStock("Stock changed while the bill was being rung up.")
