"""Taking things back: a refund against a bill's own lines, capped under the bill's lock."""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.db.models.functions import Round
from django.utils import timezone

from billing_project.core import metrics
from billing_project.core.db import atomic_write, guarded_add, insert_with_children, new_row, set_prefetched
from billing_project.core.errors import Busy, ValidationFailed
from billing_project.core.money import cash_round, format_money, format_note, money
from billing_project.core.quantities import QUANTITY_PLACES, Quantity, quantity_json, quantity_problem, quantity_text
from billing_project.core.types import Actor, BillLine, recorded_user
from cashdrawer.errors import ChangeUnavailable
from cashdrawer.ledger import ledger_post
from cashdrawer.models import DrawerMovement, Override
from cashdrawer.services import approver_for, drawer_plan_change, override_used_on, till_lock_for_bill
from catalog.lock_objects import store_stock_for_update
from catalog.models import StockMovement, StoreStock

from ..errors import NotOnBill, RefundExceedsSold, RefundPaymentMismatch
from ..lock_objects import purchase_for_update
from ..models import InvoiceStatus, Purchase, PurchaseItem, Refund, RefundLine, RefundPayment
from ..numbering import credit_note_number_take
from ..selectors import purchase_payments
from .bills import MAX_LINES, ZERO_QUANTITY, line_quantity

logger = logging.getLogger("billing.refunds")

ZERO = Decimal("0.00")
CASH = "cash"


@dataclass(frozen=True)
class LineShare:
    item: PurchaseItem
    quantity: Quantity
    subtotal: Decimal
    tax_amount: Decimal

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax_amount


def refund_line_share(*, item: PurchaseItem, quantity: Quantity) -> LineShare:
    """What refunding ``quantity`` more of ``item`` pays back, from the line's stored amounts
    (``quantity`` in the line's unit: whole for ``each``, to the gram for a weighed line).

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


def refund_allocate(
    *,
    total: Decimal,
    bill_payments: Sequence[tuple[str, bool, Decimal]],
    already_refunded: Mapping[str, Decimal],
    requested: Sequence[Mapping] | None = None,
    remaining: Decimal | None = None,
    final: bool = False,
) -> tuple[dict[str, Decimal], Decimal]:
    """Split a refund worth ``total`` over the methods money goes back through; returns
    ``({method: amount}, rounding)``, where rounding = what is paid back − ``total``.

    ``bill_payments`` are the bill's ``(method_code, is_cash, amount)``, each what it kept (cash net
    of the change). A method can take back at most what it kept less ``already_refunded`` to it,
    cash included: cash cannot stand in for a card, or the card could later take back what the
    cash already had. ``remaining`` is what is left of the bill's payable (by default what the
    methods can take back); the refund never pays back more.

    By default the non-cash methods come first, in the bill's order, and the rest goes in cash,
    rounded to the cash increment. ``requested`` (``[{method, amount}]``) replaces the default: each
    method within what it can take back, and the cash exactly the rounded rest, or
    ``RefundPaymentMismatch``. Rounding each refund's cash on its own may pay back a little more or
    less than the goods were worth; the ``final`` refund (the one that takes back the bill's last
    units) evens it out by paying back exactly what is left of every method, so a bill refunded in
    full, in any number of refunds, gives back exactly its payable, each method what it kept."""
    caps = _caps(bill_payments, already_refunded)
    room = sum(caps.values(), ZERO) if remaining is None else max(remaining, ZERO)
    if final:
        allocation = _what_is_left(caps, room)
        if requested is not None:
            asked = _asked(requested, caps)
            if asked != allocation:
                listed = ", ".join(f"{m} {format_money(a)}" for m, a in allocation.items()) or "nothing"
                raise RefundPaymentMismatch(
                    f"This refund takes back the bill's last items, so it pays back exactly what is left of each "
                    f"payment: {listed}.",
                    details={"payments": [{"method": m, "amount": f"{a:.2f}"} for m, a in allocation.items()]},
                )
            allocation = asked  # the same amounts, in the order the request listed them
        return allocation, sum(allocation.values(), ZERO) - total

    if requested is None:
        allocation = {}
        rest = total
        for method, cap in caps.items():
            take = min(rest, cap, room - (total - rest))
            if method != CASH and take > 0:
                allocation[method] = take
                rest -= take
        cash = _cash_part(rest, caps, room - (total - rest))
        if cash > 0:
            allocation[CASH] = cash
        return allocation, cash - rest

    given = _read_requested(requested, caps)
    non_cash = sum((a for m, a in given.items() if m != CASH), ZERO)
    if non_cash > total:
        payments_total = sum(given.values(), ZERO)
        raise RefundPaymentMismatch(
            f"The payments add up to {format_money(payments_total)}, more than the refund's {format_money(total)}.",
            details={"amount": f"{total:.2f}", "payments_total": f"{payments_total:.2f}"},
        )
    if non_cash > room:  # earlier refunds, before the cap per method, gave back too much
        raise RefundPaymentMismatch(
            f"Only {format_money(room)} is left to pay back on this bill.", details={"available": f"{room:.2f}"}
        )
    owed_cash = total - non_cash
    cash = _cash_part(owed_cash, caps, room - non_cash)
    if given.get(CASH, ZERO) != cash:
        raise RefundPaymentMismatch(
            f"The cash part of this refund is {format_money(cash)} (cash is paid back in {_cash_steps()}), "
            f"not {format_money(given.get(CASH, ZERO))}.",
            details={
                "amount": f"{non_cash + cash:.2f}",
                "payments_total": f"{sum(given.values(), ZERO):.2f}",
                "cash": f"{cash:.2f}",
            },
        )
    return given, cash - owed_cash


def _caps(bill_payments: Sequence[tuple[str, bool, Decimal]], already: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """What each method of the bill can still take back, non-cash first in the bill's order, then cash."""
    kept: dict[str, Decimal] = {}
    for method, is_cash, amount in sorted(bill_payments, key=lambda payment: payment[1]):
        code = CASH if is_cash else method
        kept[code] = kept.get(code, ZERO) + amount
    return {m: max(amount - already.get(m, ZERO), ZERO) for m, amount in kept.items()}


def _what_is_left(caps: Mapping[str, Decimal], room: Decimal) -> dict[str, Decimal]:
    """Every method's rest, non-cash first, never more in all than ``room``."""
    allocation: dict[str, Decimal] = {}
    for method, cap in caps.items():
        take = min(cap, room - sum(allocation.values(), ZERO))
        if take > 0:
            allocation[method] = take
    return allocation


def _cash_part(owed: Decimal, caps: Mapping[str, Decimal], room: Decimal) -> Decimal:
    """The cash for ``owed``: rounded to the cash increment, never more than the cash can take back
    nor than ``room``."""
    if owed <= 0:
        return ZERO
    return max(min(cash_round(owed), caps.get(CASH, ZERO), room), ZERO)


def _cash_steps() -> str:
    increment = settings.CASH_ROUNDING_INCREMENT
    if increment == 1 and settings.CURRENCY.upper() == "INR":
        return "whole rupees"
    return f"multiples of {format_note(increment)}"


def _asked(requested: Sequence[Mapping], caps: Mapping[str, Decimal]) -> dict[str, Decimal] | None:
    """``_read_requested``, or ``None`` when it refuses."""
    try:
        return _read_requested(requested, caps)
    except RefundPaymentMismatch:
        return None


def _read_requested(requested: Sequence[Mapping], caps: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """The asked ``{method: amount}`` (amounts above 0), each within what its method can take back."""
    given: dict[str, Decimal] = {}
    for payment in requested:
        method, amount = str(payment["method"]), money(payment["amount"])
        if method in given:
            raise RefundPaymentMismatch(f"{method} is listed twice.", details={"method": method})
        if method != CASH and method not in caps:
            raise RefundPaymentMismatch(
                f"The bill was not paid with {method}; it cannot take money back.", details={"method": method}
            )
        cap = caps.get(method, ZERO)
        if amount > cap:
            raise RefundPaymentMismatch(
                f"{method} can take back at most {format_money(cap)}.",
                details={"method": method, "available": f"{cap:.2f}", "requested": f"{amount:.2f}"},
            )
        given[method] = amount
    return {m: a for m, a in given.items() if a > 0}


def refund_create(
    *,
    purchase_id: int,
    items: Sequence[BillLine],
    reason: str,
    restock: bool = True,
    till: int | None = None,
    payments: Sequence[Mapping] | None = None,
    user: Actor = None,
    override_token: str | None = None,
) -> Refund:
    """Take back ``items`` (``{"product_id", "quantity"}``, combined by product) of a bill, in one
    transaction; on any refusal nothing at all is written. A quantity is in the bill line's unit:
    whole for a line sold ``each``, up to 3 places for a weighed one, never more than is left of
    the line (exactly: to the gram).

    Each line pays back its share of the line's stored amounts (``refund_line_share``). The money
    goes back through the bill's payments, non-cash first, or as ``payments`` says, never more to a
    method than it kept nor in all than the bill's payable (``refund_allocate``; the bill's
    ``refundable`` and ``cash_refundable`` go down by what this refund pays back). The cash part
    comes out of ``till``'s drawer (default ``DEFAULT_TILL``) in its open session, opened
    automatically as for a bill, in the fewest pieces the drawer can give. ``restock`` puts the
    goods back in stock (archived products too); otherwise they are written off. The bill may be
    another till's of its store (a till of another store is a ``validation_error``), or from a closed
    session. Unless the customer declined the bill's invoice, a
    refund receipt email is queued in this same transaction.

    A user without ``purchases.add_refund`` needs an ``override_token`` for ``refund`` from a manager
    who has it; the manager is recorded as the refund's ``approved_by``.

    Locks, in this order (see ``lock_objects``): the override row (with a token), the bill row, the
    products to restock by primary key, the till row, then every denomination of that till by value.

    Raises ``ValidationFailed``, ``Purchase.DoesNotExist``, ``NotOnBill``, ``RefundExceedsSold``,
    ``RefundPaymentMismatch``, ``ChangeUnavailable``, ``ChangeTooComplex``, ``TillNotFound``,
    ``TillInactive``, ``SessionClosed``, ``SessionPendingApproval``, ``NotPermitted``,
    ``OverrideInvalid``, or ``Busy`` when it gave up waiting for a lock.
    Metrics: a committed refund is counted by till after the commit; a refusal by its code.
    """
    refusals = atomic_write(
        lock_timeout_ms=settings.BILL_LOCK_TIMEOUT_MS,
        statement_timeout_ms=settings.BILL_STATEMENT_TIMEOUT_MS,
        name="refund",
        log={"bill": purchase_id},
        busy_message=Busy.default_message,
        logger=logger,
    )
    with refusals:
        refund = _refund(
            purchase_id=purchase_id,
            items=items,
            reason=reason,
            restock=restock,
            till=till,
            payments=payments,
            user=user,
            override_token=override_token,
        )
    transaction.on_commit(partial(metrics.count_refund, refund.till.code))
    return refund


def _combine(items: Sequence[BillLine]) -> dict[int, Decimal]:
    if not items:
        raise ValidationFailed("Take back at least one line.", details={"items": ["This list may not be empty."]})
    if len(items) > MAX_LINES:
        raise ValidationFailed(f"A refund has at most {MAX_LINES} lines.", details={"items": ["Too many lines."]})
    quantities: dict[int, Decimal] = {}
    for item in items:
        product_id, quantity = int(item["product_id"]), line_quantity(item["quantity"])
        quantities[product_id] = quantities.get(product_id, ZERO_QUANTITY) + quantity
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
    override_token: str | None,
) -> Refund:
    quantities = _combine(items)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why the goods come back.", details={"reason": ["This field may not be blank."]})
    override = approver_for(
        token=override_token, action=Override.Action.REFUND, user=user, needs="purchases.add_refund"
    )
    # The bill's lock serializes its refunds: what the bill can still pay back and the lines'
    # refunded sums are read after it.
    purchase = purchase_for_update(purchase_id=purchase_id).get()
    lines = {item.product_id: item for item in PurchaseItem.objects.filter(purchase_id=purchase.pk)}
    for product_id in quantities:
        if product_id not in lines:
            raise NotOnBill(f"Product {product_id} is not on bill #{purchase.pk}.", details={"product_id": product_id})
    shares = []
    for product_id, quantity in quantities.items():
        item = lines[product_id]
        problem = quantity_problem(quantity, item.unit)
        if problem:  # a fraction of a line sold each
            raise ValidationFailed(
                f"{item.product_name}: {problem}", details={"items": [problem], "product_id": product_id}
            )
        if quantity > item.quantity - item.refunded_quantity:  # exact: to the gram
            unit = item.unit
            raise RefundExceedsSold(
                f"{item.product_name}: {quantity_text(item.quantity, unit)} sold, "
                f"{quantity_text(item.refunded_quantity, unit)} already refunded; "
                f"{quantity_text(quantity, unit)} requested.",
                details={
                    "product_id": product_id,
                    "sold": quantity_json(item.quantity, unit),
                    "refunded": quantity_json(item.refunded_quantity, unit),
                    "requested": quantity_json(quantity, unit),
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
        remaining=purchase.refundable,
        final=final,
    )
    references = {str(p["method"]): str(p.get("reference") or "") for p in payments or ()}

    stock_after: dict[int, Decimal] = {}
    store_id = purchase.store_id  # restocked goods go back to the bill's store
    if restock:
        # Step 3 of the lock order: the stock rows at the bill's store, by product id (a missing
        # one made at 0), before the till. Their stock as read under the lock, plus what comes
        # back, is each stock ledger row's balance.
        locked = {r.product_id: r for r in store_stock_for_update(store_id, quantities, create=True)}
        guarded_add(
            StoreStock,
            "stock",
            {locked[pk].pk: q for pk, q in quantities.items()},
            also_set={"updated_at": timezone.now()},
        )
        stock_after = {pk: locked[pk].stock + quantity for pk, quantity in quantities.items()}

    till_row, session_id, denominations = till_lock_for_bill(till_id=till, user=user)
    if till_row.store_id != purchase.store_id:
        # A refund is its bill's store's: its rows, drawer and credit note stay with the bill's
        # (docs/scale-out.md: no refund spans two stores).
        raise ValidationFailed(
            f"Bill #{purchase.pk} is refunded at a till of its own store, not at {till_row.code}.",
            details={"till": ["A bill is refunded at a till of its own store."]},
        )
    cash = allocation.get(CASH, ZERO)
    pieces = drawer_plan_change(denominations=denominations, tendered={}, change_due=cash) if cash else {}

    # The credit note's number last of the locks: its counter row is held until the commit.
    now = timezone.now()
    refund = new_row(
        Refund,
        number=credit_note_number_take(till=till_row, when=now),
        created_at=now,
        purchase=purchase,
        till=till_row,
        store_id=purchase.store_id,
        session_id=session_id,
        created_by=recorded_user(user),
        approved_by=override.manager if override is not None else None,
        reason=reason,
        restock=restock,
        subtotal=subtotal,
        tax_total=tax_total,
        total=total,
        rounding=rounding,
        amount=total + rounding,
        cost_total=sum((money(s.quantity * s.item.cost_price) for s in shares), ZERO),
    )
    refund_lines = [
        new_row(
            RefundLine,
            item=s.item,
            store_id=purchase.store_id,
            quantity=s.quantity,
            subtotal=s.subtotal,
            tax_amount=s.tax_amount,
            total=s.total,
        )
        for s in shares
    ]
    payment_rows = [
        new_row(
            RefundPayment,
            store_id=purchase.store_id,
            method=m,
            is_cash=m == CASH,
            amount=a,
            reference=references.get(m, "")[:100],
        )
        for m, a in allocation.items()
    ]
    stock_rows = [
        new_row(
            StockMovement,
            store_id=store_id,
            product_id=s.item.product_id,
            kind=StockMovement.Kind.REFUND_RESTOCK,
            quantity=s.quantity,
            balance_after=stock_after[s.item.product_id],
            unit_cost=s.item.cost_price,
            reason=reason[:255],
            user=refund.created_by,
            created_at=now,
        )
        for s in shares
        if restock
    ]
    # The refund, its lines, its payments and its stock ledger rows: one statement on PostgreSQL,
    # as a bill's.
    insert_with_children(refund, ("refund", refund_lines), ("refund", payment_rows), ("refund", stock_rows))
    if override is not None:
        override_used_on(override, f"refund {refund.pk}")
    for share in shares:
        updated = PurchaseItem.objects.filter(
            pk=share.item.pk, refunded_quantity__lte=share.item.quantity - share.quantity
        ).update(
            # Rounded to its 3 places: SQLite adds decimals as floats (see ``guarded_add``).
            refunded_quantity=Round(F("refunded_quantity") + share.quantity, QUANTITY_PLACES),
            refunded_subtotal=F("refunded_subtotal") + share.subtotal,
            refunded_tax_amount=F("refunded_tax_amount") + share.tax_amount,
        )
        if not updated:  # cannot happen under the bill's lock; the CHECK constraint backs it too
            raise RefundExceedsSold(details={"product_id": share.item.product_id})
    # What the bill can still pay back goes down by this refund; its CHECK constraints refuse a
    # refund that would pay back more than the bill took, or more cash than its drawer kept.
    purchase.refundable -= total + rounding
    purchase.cash_refundable -= cash
    Purchase.objects.filter(pk=purchase.pk).update(
        refundable=purchase.refundable, cash_refundable=purchase.cash_refundable
    )
    movements = ledger_post(
        denominations=denominations,
        moves=[
            (DrawerMovement.Kind.REFUND_OUT, {value: -count for value, count in sorted(pieces.items(), reverse=True)})
        ],
        session_id=session_id,
        store_id=purchase.store_id,
        user=user,
        reason=f"refund #{refund.pk} of bill #{purchase.pk}",
        created_at=refund.created_at,
        refund=refund,
        refusal=ChangeUnavailable("The drawer changed while the refund was being paid out."),
    )
    if purchase.invoice_status != InvoiceStatus.SKIPPED:
        from ..refund_receipts import refund_receipt_enqueue

        refund_receipt_enqueue(refund=refund)

    refund.till, refund.purchase = till_row, purchase
    set_prefetched(refund, lines=refund_lines, payments=payment_rows, drawer_movements=movements)
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
