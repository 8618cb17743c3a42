"""Ringing up a bill."""

import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, partial
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from billing_project.core import metrics
from billing_project.core.db import (
    Writes,
    compiled_rows,
    default_connection,
    guarded_add,
    insert_with_children,
    new_row,
    set_transaction_timeouts,
    shared_cursor,
    statement_cursor,
    transaction_timeouts_sql,
)
from billing_project.core.errors import Busy, DomainError, ValidationFailed, is_busy
from billing_project.core.money import CENT, format_money, money
from billing_project.core.tasks_backend import deferred_task_rows
from billing_project.core.types import Actor, BillLine, PaymentInput, Pieces
from cashdrawer.services import drawer_check_tender, drawer_plan_change, drawer_record_bill, till_lock_for_bill
from catalog.lock_objects import PRODUCT_ATTNAMES, products_for_update, products_lock_and_take_sql
from catalog.models import Product
from customers.models import Customer
from customers.services import (
    customer_from_row,
    customer_get_or_create,
    customer_get_or_create_ctes,
    customer_normalize_email,
)

from ..errors import (
    DiscountNeedsManager,
    InsufficientPayment,
    InsufficientStock,
    Overpayment,
    ProductInactive,
    ProductNotFound,
    UnknownPaymentMethod,
)
from ..invoices import invoice_enqueue
from ..models import (
    AMOUNT_MAX_DIGITS,
    DISCOUNT_REASON_MAX_LENGTH,
    PAYMENT_REFERENCE_MAX_LENGTH,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    Purchase,
    PurchaseItem,
)
from ..numbering import invoice_number_assign
from ..pricing import ZERO, effective_discount, quote, settle

logger = logging.getLogger("billing.purchases")

MAX_LINES = 200
MAX_PAYMENTS = 10
_CASH = "<the cash method>"  # the shorthand's payment method: whichever method is the cash one
AMOUNT_LIMIT = Decimal(10) ** (AMOUNT_MAX_DIGITS - 2)


@transaction.atomic
def purchase_create(
    *,
    customer_email: str,
    items: Sequence[BillLine],
    paid_amount: Decimal | None = None,
    tendered: Sequence[Pieces] | None = None,
    payments: Sequence[PaymentInput] | None = None,
    discount_percent: Decimal = ZERO,
    discount_reason: str = "",
    user: Actor = None,
    send_invoice: bool = True,
    till: int | None = None,
) -> Purchase:
    """Ring up a bill in one transaction; on any refusal nothing at all is written.

    ``items`` are ``{"product_id", "quantity", "discount_percent"?}``; lines for the same product
    are combined. ``payments`` are ``{"method", "amount", "tendered"?, "reference"?}`` (split tender:
    at most one cash payment; the non-cash ones never more than the total). ``paid_amount`` with
    ``tendered`` is the shorthand for one cash payment; give one form or the other. The cash
    payment's notes (``{"value", "count"}``), when given, must add up to its amount and go into the
    drawer of ``till`` (an id; default ``DEFAULT_TILL``), whose drawer also gives the change, never
    more than the cash paid. Cash rounding applies to the cash part only (``pricing.settle``).
    ``discount_percent`` is the bill discount, applied to every line with the line's own; any
    discount needs a ``discount_reason``, and an effective rate above ``CASHIER_MAX_DISCOUNT_PERCENT``,
    or more money taken off than that share of the discounted lines' gross, needs the
    ``purchases.give_large_discount`` permission. The bill is recorded in the till's open
    session; with none, one is opened automatically at the current counts, unless the till
    ``requires_open_session``.

    Unless ``send_invoice`` is false (the customer declined), the invoice email's job is queued
    in this same transaction (``invoices.invoice_enqueue``): it exists exactly when the bill does.

    The bill gets its tax invoice ``number`` in the till's invoice series
    (``numbering.invoice_number_assign``), inside this transaction: a refused bill takes none.

    Locks, in this order (see ``lock_objects``): the customer's unique email (insert), the bill's
    products by primary key, the till row, every denomination of that till by value, then the
    counter row of the till's series and financial year.

    Raises ``ValidationFailed``, ``UnknownPaymentMethod``, ``DiscountNeedsManager``, ``ProductNotFound``,
    ``ProductInactive``, ``InsufficientStock``, ``Overpayment``, ``InsufficientPayment``, ``TenderMismatch``,
    ``ChangeUnavailable``, ``ChangeTooComplex``, ``TillNotFound``, ``TillInactive``, ``SessionClosed`` (a till
    that requires an open session has none), ``SeriesExhausted``, or ``Busy`` when it gave up waiting for a
    lock (``BILL_LOCK_TIMEOUT_MS``).

    Metrics and logs: a committed bill is counted by till with its latency (after the commit); a
    refusal is counted by its error code. Log lines carry ``till``, ``session`` and ``bill``.
    """
    started = time.perf_counter()
    # A refusal is logged with the till as the request named it: the default till's code, or an id.
    log = {"till": settings.DEFAULT_TILL if till is None else str(till), "session": None, "bill": None}
    try:
        # The bill's statements share one cursor (``shared_cursor``): a cursor costs more to make
        # and close than a small statement costs to send.
        with shared_cursor():
            purchase = _ring_up(
                customer_email=customer_email,
                items=items,
                paid_amount=paid_amount,
                tendered=tendered,
                payments=payments,
                discount_percent=discount_percent,
                discount_reason=discount_reason,
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


@dataclass(frozen=True)
class _Tender:
    """A payment checked against its method: ``tendered`` only on cash, ``reference`` only on non-cash."""

    method: PaymentMethod
    amount: Decimal
    tendered: Sequence[Pieces]
    reference: str


def _ring_up(
    *,
    customer_email: str,
    items: Sequence[BillLine],
    paid_amount: Decimal | None,
    tendered: Sequence[Pieces] | None,
    payments: Sequence[PaymentInput] | None,
    discount_percent: Decimal,
    discount_reason: str,
    user: Actor,
    send_invoice: bool,
    till: int | None,
) -> Purchase:
    quantities, line_discounts = _combine_lines(items)
    # The shorthand is today's one cash payment: rounded as cash even when nothing was paid.
    shorthand = payments is None
    # A bad email is refused where the customer is looked up, after the payments and discounts
    # are checked, as before; a good one is looked up (or inserted) with the payment methods.
    try:
        email, email_refused = customer_normalize_email(customer_email), None
    except ValidationFailed as exc:
        email, email_refused = None, exc
    tenders, timeouts_set, customer = _check_payments(
        paid_amount=paid_amount, tendered=tendered, payments=payments, email=email
    )
    bill_discount, discount_reason = _check_discounts(line_discounts, discount_percent, discount_reason, user=user)
    if not timeouts_set:  # no payment method was looked up (nothing paid), or not PostgreSQL
        set_transaction_timeouts(**_bill_timeouts())
    if email_refused is not None:
        raise email_refused
    if customer is None:  # not looked up with the methods, or a concurrent first bill won the race
        customer = customer_get_or_create(email=customer_email)
    products = _take_stock(quantities)

    bill = quote(products, quantities, line_discounts=line_discounts, bill_discount=bill_discount)
    _check_discount_taken(bill.lines, user=user)
    if bill.total >= AMOUNT_LIMIT:
        raise ValidationFailed("The bill is too large.", details={"items": ["The bill total is too large."]})
    cash = next((t for t in tenders if t.method.is_cash), None)
    non_cash = [t.amount for t in tenders if not t.method.is_cash]
    non_cash_total = sum(non_cash, ZERO)
    if non_cash_total > bill.total:
        raise Overpayment(
            f"The card and other non-cash payments add up to {format_money(non_cash_total)}, more than the "
            f"{format_money(bill.total)} due; no change is given from a card.",
            details={"non_cash_total": f"{non_cash_total:.2f}", "total": f"{bill.total:.2f}"},
        )
    cash_amount = cash.amount if cash is not None else (paid_amount if shorthand else None)
    settlement = settle(total=bill.total, non_cash=non_cash, cash=cash_amount)
    payable, paid = settlement.payable, settlement.paid
    if paid < payable:
        raise InsufficientPayment(
            f"Paid {format_money(paid)}, but {format_money(payable)} is payable.",
            details={"paid_amount": f"{paid:.2f}", "payable": f"{payable:.2f}"},
        )
    change_due = settlement.change_due

    purchase = new_row(
        Purchase,
        customer=customer,
        created_by=user if user is not None and user.is_authenticated else None,
        subtotal=bill.subtotal,
        tax_total=bill.tax_total,
        total=bill.total,
        rounding=settlement.rounding,
        payable=payable,
        paid_amount=paid,
        change_due=change_due,
        cash_paid=cash.amount if cash is not None else ZERO,
        refundable=payable,
        cash_refundable=cash.amount - change_due if cash is not None else ZERO,
        discount_percent=bill.discount_percent,
        discount_total=bill.discount_total,
        discount_reason=discount_reason,
        invoice_status=InvoiceStatus.PENDING if send_invoice else InvoiceStatus.SKIPPED,
    )
    for line in bill.lines:  # the reports read a line's copy of its bill's time
        line.created_at = purchase.created_at
    payment_rows = [
        new_row(Payment, method=t.method, is_cash=t.method.is_cash, amount=t.amount, reference=t.reference)
        for t in tenders
        if t.amount > 0  # the shorthand's "paid 0" is no payment
    ]
    # The bill, its lines and its payments: one statement on PostgreSQL.
    insert_with_children(purchase, ("purchase", bill.lines), ("purchase", payment_rows))

    # The till comes last: every bill at a till locks its till row and all of its drawer rows, so
    # holding them only for the drawer's own statements and the commit lets bills at one till
    # overlap more. A refusal here still rolls back everything above.
    till_row, session_id, denominations = till_lock_for_bill(till_id=till, user=purchase.created_by)
    tender = (
        drawer_check_tender(denominations=denominations, tendered=cash.tendered, paid_amount=cash.amount)
        if cash is not None and cash.tendered
        else {}
    )
    planning = time.perf_counter()
    change = drawer_plan_change(denominations=denominations, tendered=tender, change_due=change_due)
    metrics.observe_change_making(time.perf_counter() - planning)
    # The drawer's counts and ledger rows, the invoice email's job, and the number: ONE statement
    # on PostgreSQL (the first two ride as CTEs of the number's). The number last: the counter row
    # is locked until the commit, so taking it after every check that can refuse the bill keeps it
    # held for the shortest time. The statement also records the till, the session and the number
    # on the bill; a drawer count that would go negative writes no ledger row and refuses the bill.
    writes = Writes()
    drawer = drawer_record_bill(
        writes=writes,
        denominations=denominations,
        purchase=purchase,
        tendered=tender,
        change=change,
        user=purchase.created_by,
        session_id=session_id,
    )
    with deferred_task_rows() as jobs:
        if send_invoice:
            invoice_enqueue(purchase=purchase)
        jobs.write_with(writes)
        number, ledger = invoice_number_assign(
            purchase_id=purchase.pk,
            till=till_row,
            session_id=session_id,
            when=purchase.created_at,
            writes=writes,
            returning=drawer.sql,
        )
        movements = drawer.movements(ledger)
    purchase.till, purchase.session_id, purchase.number = till_row, session_id, number
    # Hand the bill back with its lines, payments and ledger rows in place, as purchase_list
    # prefetches them, so answering with it costs no further queries.
    _set_prefetched(purchase, items=bill.lines, payments=payment_rows, drawer_movements=movements, refunds=[])
    logger.info(
        "bill #%s rung up: customer=%s lines=%d payable=%s paid=%s change=%s by=%s",
        purchase.pk,
        customer.pk,
        len(bill.lines),
        payable,
        paid,
        change_due,
        user,
        extra={"till": till_row.code, "session": session_id, "bill": purchase.pk},
    )
    return purchase


def _check_payments(
    *,
    paid_amount: Decimal | None,
    tendered: Sequence[Pieces] | None,
    payments: Sequence[PaymentInput] | None,
    email: str | None,
) -> tuple[list[_Tender], bool, Customer | None]:
    """The bill's payments, each with its method (one query, which on PostgreSQL also sets the
    bill's timeouts and gets or creates the customer of ``email``: see ``_payment_methods``),
    whether the timeouts are set, and the customer if it was got. The shorthand ``paid_amount``
    (+ ``tendered``) is one cash payment, or none when nothing was paid."""
    if payments is not None and (paid_amount is not None or tendered):
        raise ValidationFailed(
            "Give either `payments` or `paid_amount` (with `tendered`), not both.",
            details={"payments": ["Not allowed together with paid_amount or tendered."]},
        )
    shorthand = payments is None
    if payments is None:
        if paid_amount is None:
            raise ValidationFailed(
                "How the bill is paid is missing: give `payments` or `paid_amount`.",
                details={"paid_amount": ["This field is required."]},
            )
        amount = _check_amount(paid_amount, field="paid_amount")
        if amount == 0 and not tendered:
            return [], False, None
        payments = [{"method": _CASH, "amount": amount, "tendered": list(tendered or [])}]
    elif len(payments) > MAX_PAYMENTS:
        raise ValidationFailed(f"A bill has at most {MAX_PAYMENTS} payments.", details={"payments": ["Too many."]})
    codes = {str(p["method"]) for p in payments} - {_CASH}
    # One query for the methods named and the cash method (the shorthand's).
    methods: dict[str, PaymentMethod] = {}
    found_methods, timeouts_set, customer = _payment_methods(codes, email)
    for method in found_methods:
        if method.is_active:
            methods[method.code] = method
        if method.is_cash and shorthand:
            methods[_CASH] = method
    tenders = []
    for index, payment in enumerate(payments):
        found = methods.get(str(payment["method"]))
        if found is None:
            code = "cash" if payment["method"] == _CASH else str(payment["method"])
            raise UnknownPaymentMethod(
                f"{code!r} is not a payment method this store takes.", details={"method": code, "index": index}
            )
        method = found
        amount = _check_amount(payment["amount"], field="payments")
        if amount <= 0 and not (method.is_cash and paid_amount is not None):
            raise ValidationFailed("A payment's amount must be above 0.", details={"payments": ["Amount must be > 0."]})
        reference = (payment.get("reference") or "").strip()
        notes = list(payment.get("tendered") or [])
        if method.is_cash and reference:
            raise ValidationFailed(
                "The cash payment takes no reference.", details={"payments": ["reference is only for card, UPI…"]}
            )
        if not method.is_cash and notes:
            raise ValidationFailed(
                "Notes are tendered only on the cash payment.",
                details={"payments": ["tendered is only for the cash payment."]},
            )
        if len(reference) > PAYMENT_REFERENCE_MAX_LENGTH:
            raise ValidationFailed(
                "A reference has at most 100 characters.", details={"payments": ["reference is too long."]}
            )
        tenders.append(_Tender(method=method, amount=amount, tendered=notes, reference=reference))
    if sum(t.method.is_cash for t in tenders) > 1:
        raise ValidationFailed("A bill has at most one cash payment.", details={"payments": ["More than one cash."]})
    return tenders, timeouts_set, customer


def _bill_timeouts() -> dict[str, int]:
    return {
        "lock_timeout_ms": settings.BILL_LOCK_TIMEOUT_MS,
        "statement_timeout_ms": settings.BILL_STATEMENT_TIMEOUT_MS,
    }


_METHOD_FIELDS = ["id", "code", "name", "is_cash", "is_active"]


def _payment_methods(codes: set[str], email: str | None) -> tuple[list[PaymentMethod], bool, Customer | None]:
    """The methods named in ``codes`` and the cash method, in the model's order, whether the bill's
    timeouts were set, and the customer of ``email`` (normalised), when given and got. Methods are
    configuration, read fresh by every bill (a manager's edit holds from the next bill on), without
    a lock, as the ORM query did.

    On PostgreSQL this is the bill's first statement, and two more ride on it, each saving a round
    trip: the bill's ``set_transaction_timeouts``, in a one-row CTE that is the preserved side of
    the join (so it runs even when no method matches), and ``customer_get_or_create``'s lookup and
    insert (``customer_get_or_create_ctes``). The customer's INSERT is the only part that can wait
    for a lock (a concurrent first bill for the same new email: step 1 of the lock order), and it
    runs only once the timeouts' CTE exists, so the bill's ``lock_timeout`` bounds that wait as it
    would in a statement of its own. The customer is ``None`` when that race was lost."""
    conn = default_connection()
    if conn.vendor != "postgresql":
        return list(PaymentMethod.objects.filter(Q(code__in=codes) | Q(is_cash=True))), False, None
    _, timeouts = transaction_timeouts_sql(**_bill_timeouts())
    params: list[Any] = [*timeouts, email, email, timezone.now()] if email is not None else [*timeouts]
    with statement_cursor() as cursor:
        cursor.execute(_methods_sql(with_customer=email is not None), [*params, sorted(codes)])
        rows = cursor.fetchall()
    alias = conn.alias
    methods = [PaymentMethod.from_db(alias, _METHOD_FIELDS, row[:5]) for row in rows if row[0] is not None]
    customer = customer_from_row(rows[0][5:]) if email is not None and rows[0][5] is not None else None
    return methods, True, customer


@cache
def _methods_sql(*, with_customer: bool) -> str:
    # Built once from the model's names (the timeouts' SQL text does not depend on their values);
    # the values are parameters. The order is the model's (``-is_cash``, ``code``). The timeouts
    # CTE is MATERIALIZED: computed once, before the customer's INSERT may run.
    quote = connection.ops.quote_name
    timeouts, _ = transaction_timeouts_sql()
    columns = ", ".join(f"m.{quote(name)}" for name in _METHOD_FIELDS)  # the fields' own column names
    customer = ""
    customer_columns = ""
    if with_customer:
        customer = ", " + customer_get_or_create_ctes(after="EXISTS (SELECT FROM bill_timeouts)")
        customer_columns = "".join(f", (SELECT {quote(n)} FROM customer)" for n in ("id", "email", "created_at"))  # noqa: S608
    return (
        f"WITH bill_timeouts AS MATERIALIZED ({timeouts}){customer} "  # noqa: S608
        f"SELECT {columns}{customer_columns} FROM bill_timeouts "
        f"LEFT JOIN {quote(PaymentMethod._meta.db_table)} AS m ON m.code = ANY(%s) OR m.is_cash "
        "ORDER BY m.is_cash DESC, m.code"
    )


def purchase_discount_refusal(
    *, items: Sequence[BillLine], discount_percent: Decimal, discount_reason: str, user: Actor
) -> DomainError | None:
    """What ``purchase_create`` would say of these discounts, without ringing anything up: the
    refusal its discount check raises (a discount above what ``user`` may give, one without a
    reason, two discounts for one product), or ``None``. For the billing page's preview, which
    must not offer change for a bill that will be refused. Reads and writes nothing."""
    try:
        _, line_discounts = _combine_lines(items)
        _check_discounts(line_discounts, discount_percent, discount_reason, user=user)
    except DomainError as exc:
        return exc
    return None


def _check_discounts(
    line_discounts: Mapping[int, Decimal], bill_discount: Decimal, reason: str, *, user: Actor
) -> tuple[Decimal, str]:
    """The bill discount, checked, and the reason. Refuses a discount without a reason
    (``ValidationFailed``) and one above ``CASHIER_MAX_DISCOUNT_PERCENT`` on any line by a user
    without ``purchases.give_large_discount`` (``DiscountNeedsManager``)."""
    bill_discount = _check_percent(bill_discount, field="discount_percent")
    reason = (reason or "").strip()
    if len(reason) > DISCOUNT_REASON_MAX_LENGTH:
        raise ValidationFailed(
            "A discount reason has at most 200 characters.", details={"discount_reason": ["Too long."]}
        )
    largest_line = max(line_discounts.values(), default=ZERO)
    if not (bill_discount or largest_line):
        return bill_discount, reason
    if not reason:
        raise ValidationFailed(
            "A discount needs a reason.", details={"discount_reason": ["Required when a discount is given."]}
        )
    # The effective rate grows with both discounts, so the largest line discount gives the largest.
    largest = effective_discount(largest_line, bill_discount)
    limit = settings.CASHIER_MAX_DISCOUNT_PERCENT
    if largest > limit and user is not None and not user.has_perm("purchases.give_large_discount"):
        raise DiscountNeedsManager(
            f"A discount of {largest.normalize():f}% is above the {limit.normalize():f}% a cashier may give; "
            "a manager has to ring this bill up.",
            details={"discount_percent": f"{largest.normalize():f}", "limit": f"{limit.normalize():f}"},
        )
    return bill_discount, reason


def _check_discount_taken(lines: Sequence[PurchaseItem], *, user: Actor) -> None:
    """The money a cashier's discount takes off, against ``CASHIER_MAX_DISCOUNT_PERCENT`` of the
    gross it is taken off (the discounted lines'), the allowance rounded to the cent as a line's
    discount is. Each line's discount is rounded half-up on its own, so many small lines at the
    limit's rate take off more than the rate: 60 lines of 0.05 at 10 % take 0.60 off 3.00, 20 %.
    ``DiscountNeedsManager`` without ``purchases.give_large_discount``."""
    discounted = [line for line in lines if line.discount_amount > 0]
    taken = sum((line.discount_amount for line in discounted), ZERO)
    gross = sum((line.gross for line in discounted), ZERO)
    limit = settings.CASHIER_MAX_DISCOUNT_PERCENT
    if taken <= money(gross * limit / 100) or user is None or user.has_perm("purchases.give_large_discount"):
        return
    percent = (taken * 100 / gross).quantize(CENT)
    raise DiscountNeedsManager(
        f"A discount of {format_money(taken)} on {format_money(gross)} ({percent.normalize():f}%) is above the "
        f"{limit.normalize():f}% a cashier may give; a manager has to ring this bill up.",
        details={
            "discount_percent": f"{percent.normalize():f}",
            "limit": f"{limit.normalize():f}",
            "discount_total": f"{taken:.2f}",
            "gross": f"{gross:.2f}",
        },
    )


def _check_percent(value, *, field: str) -> Decimal:
    value = Decimal(value if value is not None else 0)
    if not value.is_finite() or not ZERO <= value <= 100 or value != value.quantize(CENT):
        raise ValidationFailed(
            "A discount is 0 to 100 percent with at most 2 decimal places.", details={field: ["Invalid percent."]}
        )
    return value.quantize(CENT)


def _set_prefetched(instance, **related) -> None:
    cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    for name, objects in related.items():
        queryset = getattr(instance, name).all()
        queryset._result_cache = list(objects)
        queryset._prefetch_done = True
        cache[name] = queryset


def _combine_lines(items: Sequence[BillLine]) -> tuple[dict[int, int], dict[int, Decimal]]:
    """Quantities and line discounts by product. Lines for one product are combined; they must then
    carry the same discount."""
    if not items:
        raise ValidationFailed("A bill needs at least one line.", details={"items": ["This list may not be empty."]})
    if len(items) > MAX_LINES:
        raise ValidationFailed(f"A bill has at most {MAX_LINES} lines.", details={"items": ["Too many lines."]})
    quantities: dict[int, int] = {}
    discounts: dict[int, Decimal] = {}
    for item in items:
        product_id, quantity = int(item["product_id"]), int(item["quantity"])
        if quantity <= 0:
            raise ValidationFailed("Quantities must be positive.", details={"items": ["Quantity must be > 0."]})
        discount = _check_percent(item.get("discount_percent"), field="items")
        if discounts.setdefault(product_id, discount) != discount:
            raise ValidationFailed(
                "Two lines of one product have different discounts; give the product one line.",
                details={"items": ["Different discounts for one product."]},
            )
        quantities[product_id] = quantities.get(product_id, 0) + quantity
    return quantities, {pid: d for pid, d in discounts.items() if d}


def _check_amount(amount, *, field: str = "paid_amount") -> Decimal:
    amount = Decimal(amount)
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(CENT) or amount >= AMOUNT_LIMIT:
        raise ValidationFailed(
            "The amount paid must be a non-negative amount with at most 2 decimal places.",
            details={field: ["Invalid amount."]},
        )
    return money(amount)


def _take_stock(quantities: Mapping[int, int]) -> dict[int, Product]:
    """Lock the bill's products (step 3 of the lock order, by primary key) and take the bill's
    quantities off their stock. Returns the products by id, their stock as it now is. Refuses, in
    the order of the bill's lines, an unknown product (``ProductNotFound``), an archived one
    (``ProductInactive``) and a line with more than the stock (``InsufficientStock``).

    On PostgreSQL this is ONE statement (catalog's ``products_lock_and_take_sql``): a CTE locks the
    rows in primary-key order, to the end before any row is updated, and the UPDATE takes the stock
    only where the product is active and keeps ``stock >= 0`` (the guard; the CHECK constraint backs
    it up), returning the rows. When it updates fewer rows than the bill has products, the locked
    rows are read again to say why, and the refusal rolls the bill back. Elsewhere (SQLite) it is
    the locking SELECT (catalog's queryset, compiled once: ``compiled_rows``), the checks, then one
    guarded UPDATE."""
    conn = default_connection()
    if conn.vendor == "postgresql":
        params: list[Any] = [sorted(quantities), timezone.now(), json.dumps(list(quantities.items())), len(quantities)]
        with statement_cursor() as cursor:
            cursor.execute(products_lock_and_take_sql(), params)
            rows = cursor.fetchall()
        if len(rows) == len(quantities):
            alias = conn.alias
            return {row[0]: Product.from_db(alias, PRODUCT_ATTNAMES, row) for row in rows}
    products = {p.pk: p for p in compiled_rows(products_for_update, sorted(quantities))}
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
    if conn.vendor == "postgresql":  # every check passes now, yet the guard refused a row
        raise InsufficientStock("Stock changed while the bill was being rung up.")
    deltas = {pk: -qty for pk, qty in quantities.items()}
    if guarded_add(Product, "stock", deltas, also_set={"updated_at": timezone.now()}) != len(deltas):
        raise InsufficientStock("Stock changed while the bill was being rung up.")
    for product_id, quantity in quantities.items():
        products[product_id].stock -= quantity
    return products


def purchase_payments(purchase: Purchase) -> list[tuple[str, bool, Decimal]]:
    """How a bill was paid: ``[(method_code, is_cash, amount)]``, the amounts adding up to ``payable``.

    Refunds pay money back through these. The cash payment is stored as tendered, so the change
    handed back is taken off it here; non-cash payments never exceed what was due."""
    return [(payment.method.code, payment.is_cash, amount) for payment, amount in purchase_payments_net(purchase)]


def purchase_payments_net(purchase: Purchase) -> list[tuple[Payment, Decimal]]:
    """Each payment with what it really paid toward ``payable``: the cash payment less the change
    handed back; payments that paid nothing are left out. Shared by refunds and the invoice PDF."""
    rows = []
    for payment in purchase.payments.select_related("method").order_by("id"):
        amount = payment.amount - purchase.change_due if payment.is_cash else payment.amount
        if amount > 0:
            rows.append((payment, amount))
    return rows
