"""Taking things back: a refund against a bill's own lines, capped under the bill's lock."""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from billing_project import metrics
from billing_project.db import guarded_add, set_transaction_timeouts
from billing_project.errors import Busy, DomainError, ValidationFailed, is_busy
from billing_project.money import cash_round, format_money, money
from billing_project.types import Actor, BillLine, recorded_user
from cashdrawer.services import drawer_plan_change, drawer_record_refund, till_lock_for_bill
from catalog.models import Product

from ..errors import NotOnBill, RefundExceedsSold, RefundPaymentMismatch
from ..lock_objects import products_for_update, purchase_for_update
from ..models import InvoiceStatus, PurchaseItem, Refund, RefundLine, RefundPayment
from ..numbering import credit_note_number_take
from .bills import MAX_LINES, _set_prefetched, purchase_payments

logger = logging.getLogger("billing.refunds")

ZERO = Decimal("0.00")
CASH = "cash"


@dataclass(frozen=True)
class LineShare:
    item: PurchaseItem
    quantity: int
    subtotal: Decimal
    tax_amount: Decimal

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax_amount


def refund_line_share(*, item: PurchaseItem, quantity: int) -> LineShare:
    """What refunding ``quantity`` more of ``item`` pays back, from the line's stored amounts.

    A partial refund is the proportional share, half-up to 0.01, never more than what is left of
    the line; the refund that brings the refunded quantity to the quantity sold takes exactly the
    remainder. So every unit refunded, in any number of refunds, gives back the line's amounts."""
    left_subtotal = item.subtotal - item.refunded_subtotal
    left_tax = item.tax_amount - item.refunded_tax_amount
    if item.refunded_quantity + quantity >= item.quantity:
        return LineShare(item=item, quantity=quantity, subtotal=left_subtotal, tax_amount=left_tax)
    subtotal = min(money(item.subtotal * quantity / item.quantity), left_subtotal)
    tax_amount = min(money(item.tax_amount * quantity / item.quantity), left_tax)
    return LineShare(item=item, quantity=quantity, subtotal=subtotal, tax_amount=tax_amount)


def _cash_within(cash: Decimal, remaining: Decimal | None, non_cash: Decimal, final: bool) -> Decimal:
    """The cash part, kept within what the bill's payable still allows (see ``refund_allocate``)."""
    if remaining is None:
        return cash
    room = max(remaining - non_cash, ZERO)
    return room if final else min(cash, room)


def refund_allocate(
    *,
    total: Decimal,
    bill_payments: Sequence[tuple[str, bool, Decimal]],
    already_refunded: Mapping[str, Decimal],
    requested: Sequence[Mapping] | None = None,
    remaining: Decimal | None = None,
    final: bool = False,
) -> tuple[dict[str, Decimal], Decimal]:
    """Split ``total`` over the methods money goes back through; returns ``({method: amount}, rounding)``.

    ``bill_payments`` are the bill's ``(method_code, is_cash, amount)``. Each non-cash method can
    take back up to what it paid minus ``already_refunded`` to it. By default the non-cash methods
    come first, in the bill's order, and the rest goes in cash, rounded to the cash increment
    (``rounding`` = cash paid − cash owed). ``requested`` (``[{method, amount}]``) replaces the
    default: each non-cash method within its cap, the cash part exactly the rounded rest, so the
    payments add up to the refund's amount; otherwise ``RefundPaymentMismatch``.

    ``remaining`` is what the bill's earlier refunds left of its payable. Rounding each refund's cash
    part on its own could hand back more than the customer paid over several refunds, so the cash is
    never more than ``remaining`` less this refund's non-cash part; and the ``final`` refund (the one
    that takes back the bill's last units) pays exactly that rest, so a bill refunded in full, in any
    number of refunds, gives back exactly its payable."""
    caps: dict[str, Decimal] = {}
    for method, is_cash, amount in bill_payments:
        if not is_cash:
            caps[method] = caps.get(method, ZERO) + amount
    caps = {m: max(cap - already_refunded.get(m, ZERO), ZERO) for m, cap in caps.items()}

    if requested is None:
        allocation: dict[str, Decimal] = {}
        rest = total
        for method, cap in caps.items():
            take = min(rest, cap)
            if take > 0:
                allocation[method] = take
                rest -= take
        cash = _cash_within(cash_round(rest), remaining, sum(allocation.values(), ZERO), final)
        if cash > 0:
            allocation[CASH] = cash
        return allocation, cash - rest

    given: dict[str, Decimal] = {}
    for payment in requested:
        method, amount = str(payment["method"]), money(payment["amount"])
        if method in given:
            raise RefundPaymentMismatch(f"{method} is listed twice.", details={"method": method})
        if method != CASH and method not in caps:
            raise RefundPaymentMismatch(
                f"The bill was not paid with {method}; it cannot take money back.", details={"method": method}
            )
        if method != CASH and amount > caps[method]:
            raise RefundPaymentMismatch(
                f"{method} can take back at most {format_money(caps[method])}.",
                details={"method": method, "available": f"{caps[method]:.2f}", "requested": f"{amount:.2f}"},
            )
        given[method] = amount
    non_cash = sum((a for m, a in given.items() if m != CASH), ZERO)
    owed_cash = total - non_cash
    cash = _cash_within(cash_round(owed_cash), remaining, non_cash, final) if owed_cash > 0 else ZERO
    expected = non_cash + cash
    if owed_cash < 0 or given.get(CASH, ZERO) != cash:
        raise RefundPaymentMismatch(
            f"The payments add up to {format_money(sum(given.values(), ZERO))}; the refund is "
            f"{format_money(max(expected, total))}.",
            details={"amount": f"{max(expected, total):.2f}", "payments_total": f"{sum(given.values(), ZERO):.2f}"},
        )
    return {m: a for m, a in given.items() if a > 0}, cash - owed_cash


def refund_create(
    *,
    purchase_id: int,
    items: Sequence[BillLine],
    reason: str,
    restock: bool = True,
    till: int | None = None,
    payments: Sequence[Mapping] | None = None,
    user: Actor = None,
) -> Refund:
    """Take back ``items`` (``{"product_id", "quantity"}``, combined by product) of a bill, in one
    transaction; on any refusal nothing at all is written.

    Each line pays back its share of the line's stored amounts (``refund_line_share``). The money
    goes back through the bill's payments, non-cash first, or as ``payments`` says
    (``refund_allocate``); the cash part comes out of ``till``'s drawer (default ``DEFAULT_TILL``)
    in its open session, opened automatically as for a bill, in the fewest pieces the drawer can
    give. ``restock`` puts the goods back in stock (archived products too); otherwise they are
    written off. The bill may be another till's, or from a closed session. Unless the customer
    declined the bill's invoice, a refund receipt email is queued in this same transaction.

    Locks, in this order (see ``lock_objects``): the bill row, the products to restock by primary
    key, the till row, then every denomination of that till by value.

    Raises ``ValidationFailed``, ``Purchase.DoesNotExist``, ``NotOnBill``, ``RefundExceedsSold``,
    ``RefundPaymentMismatch``, ``ChangeUnavailable``, ``ChangeTooComplex``, ``TillNotFound``,
    ``TillInactive``, ``SessionClosed``, or ``Busy`` when it gave up waiting for a lock.
    Metrics: a committed refund is counted by till after the commit; a refusal by its code.
    """
    try:
        with transaction.atomic():
            refund = _refund(
                purchase_id=purchase_id,
                items=items,
                reason=reason,
                restock=restock,
                till=till,
                payments=payments,
                user=user,
            )
            transaction.on_commit(partial(metrics.count_refund, refund.till.code))
            return refund
    except OperationalError as exc:
        if not is_busy(exc):
            raise
        metrics.count_refusal(Busy.code)
        logger.warning("refund refused: busy", extra={"bill": purchase_id, "code": str(Busy.code)})
        raise Busy() from exc
    except DomainError as exc:
        metrics.count_refusal(exc.code)
        logger.warning(
            "refund refused: %s %s %s",
            exc.code,
            exc.message,
            exc.details,
            extra={"bill": purchase_id, "code": exc.code},
        )
        raise


def _combine(items: Sequence[BillLine]) -> dict[int, int]:
    if not items:
        raise ValidationFailed("Take back at least one line.", details={"items": ["This list may not be empty."]})
    if len(items) > MAX_LINES:
        raise ValidationFailed(f"A refund has at most {MAX_LINES} lines.", details={"items": ["Too many lines."]})
    quantities: dict[int, int] = {}
    for item in items:
        product_id, quantity = int(item["product_id"]), int(item["quantity"])
        if quantity <= 0:
            raise ValidationFailed("Quantities must be positive.", details={"items": ["Quantity must be > 0."]})
        quantities[product_id] = quantities.get(product_id, 0) + quantity
    return quantities


def _refund(
    *,
    purchase_id: int,
    items: Sequence[BillLine],
    reason: str,
    restock: bool,
    till: int | None,
    payments: Sequence[Mapping] | None,
    user: Actor,
) -> Refund:
    quantities = _combine(items)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why the goods come back.", details={"reason": ["This field may not be blank."]})
    set_transaction_timeouts(
        lock_timeout_ms=settings.BILL_LOCK_TIMEOUT_MS, statement_timeout_ms=settings.BILL_STATEMENT_TIMEOUT_MS
    )

    # The bill's lock serializes its refunds: the lines' refunded sums are read after it.
    purchase = purchase_for_update(purchase_id=purchase_id).get()
    lines = {item.product_id: item for item in PurchaseItem.objects.filter(purchase_id=purchase.pk)}
    for product_id in quantities:
        if product_id not in lines:
            raise NotOnBill(f"Product {product_id} is not on bill #{purchase.pk}.", details={"product_id": product_id})
    shares = []
    for product_id, quantity in quantities.items():
        item = lines[product_id]
        if quantity > item.quantity - item.refunded_quantity:
            raise RefundExceedsSold(
                f"{item.product_name}: {item.quantity} sold, {item.refunded_quantity} already refunded; "
                f"{quantity} requested.",
                details={
                    "product_id": product_id,
                    "sold": item.quantity,
                    "refunded": item.refunded_quantity,
                    "requested": quantity,
                },
            )
        shares.append(refund_line_share(item=item, quantity=quantity))

    subtotal = sum((s.subtotal for s in shares), ZERO)
    tax_total = sum((s.tax_amount for s in shares), ZERO)
    total = subtotal + tax_total
    already = dict(
        RefundPayment.objects.filter(refund__purchase_id=purchase.pk)
        .values("method")
        .annotate(amount=Sum("amount"))
        .values_list("method", "amount")
    )
    taken_back = {share.item.pk: share.quantity for share in shares}
    final = all(item.refunded_quantity + taken_back.get(item.pk, 0) == item.quantity for item in lines.values())
    allocation, rounding = refund_allocate(
        total=total,
        bill_payments=purchase_payments(purchase),
        already_refunded=already,
        requested=payments,
        remaining=purchase.payable - sum(already.values(), ZERO),
        final=final,
    )
    references = {str(p["method"]): str(p.get("reference") or "") for p in payments or ()}

    if restock:
        # Step 3 of the lock order: the products, by primary key, before the till.
        list(products_for_update(sorted(quantities)).values_list("pk", flat=True))
        guarded_add(Product, "stock", quantities, also_set={"updated_at": timezone.now()})

    till_row, session_id, denominations = till_lock_for_bill(till_id=till, user=user)
    cash = allocation.get(CASH, ZERO)
    pieces = drawer_plan_change(denominations=denominations, tendered={}, change_due=cash) if cash else {}

    # The credit note's number last of the locks: its counter row is held until the commit.
    now = timezone.now()
    refund = Refund.objects.create(
        number=credit_note_number_take(till=till_row, when=now),
        created_at=now,
        purchase=purchase,
        till=till_row,
        session_id=session_id,
        created_by=recorded_user(user),
        reason=reason,
        restock=restock,
        subtotal=subtotal,
        tax_total=tax_total,
        total=total,
        rounding=rounding,
        amount=total + rounding,
    )
    refund_lines = RefundLine.objects.bulk_create(
        RefundLine(
            refund=refund, item=s.item, quantity=s.quantity, subtotal=s.subtotal, tax_amount=s.tax_amount, total=s.total
        )
        for s in shares
    )
    for share in shares:
        updated = PurchaseItem.objects.filter(
            pk=share.item.pk, refunded_quantity__lte=share.item.quantity - share.quantity
        ).update(
            refunded_quantity=F("refunded_quantity") + share.quantity,
            refunded_subtotal=F("refunded_subtotal") + share.subtotal,
            refunded_tax_amount=F("refunded_tax_amount") + share.tax_amount,
        )
        if not updated:  # cannot happen under the bill's lock; the CHECK constraint backs it too
            raise RefundExceedsSold(details={"product_id": share.item.product_id})
    payment_rows = RefundPayment.objects.bulk_create(
        RefundPayment(refund=refund, method=m, is_cash=m == CASH, amount=a, reference=references.get(m, "")[:100])
        for m, a in allocation.items()
    )
    movements = drawer_record_refund(
        denominations=denominations, refund=refund, pieces=pieces, user=user, session_id=session_id
    )
    if purchase.invoice_status != InvoiceStatus.SKIPPED:
        from ..refund_receipts import refund_receipt_enqueue

        refund_receipt_enqueue(refund=refund)

    refund.till, refund.purchase = till_row, purchase
    _set_prefetched(refund, lines=refund_lines, payments=payment_rows, drawer_movements=movements)
    for line in refund_lines:
        line.item = lines[line.item.product_id]
    logger.info(
        "refund #%s of bill #%s: lines=%d amount=%s cash=%s restock=%s by %s",
        refund.pk,
        purchase.pk,
        len(shares),
        refund.amount,
        cash,
        restock,
        user,
        extra={"till": till_row.code, "session": session_id, "bill": purchase.pk},
    )
    return refund
