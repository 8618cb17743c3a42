"""Ringing up a bill."""

import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from billing_project.core import metrics
from billing_project.core.db import atomic_write, new_row, set_prefetched, shared_cursor
from billing_project.core.errors import Busy, DomainError, ValidationFailed
from billing_project.core.gst import B2B, B2C, validate_state_code
from billing_project.core.money import CENT, format_money, money
from billing_project.core.quantities import MILLI, QUANTITY_MAX_DIGITS, QUANTITY_PLACES, parse_quantity
from billing_project.core.types import Actor, BillLine, PaymentInput, PieceRow
from billing_project.core.validators import validate_gstin
from cashdrawer.models import Override
from cashdrawer.services import (
    approver_for,
    drawer_check_tender,
    drawer_plan_change,
    override_used_on,
    till_lock_for_bill,
)
from customers.services import customer_get_or_create, customer_normalize_email, customer_normalize_phone

from ..errors import (
    DiscountNeedsManager,
    InsufficientPayment,
    Overpayment,
    UnknownPaymentMethod,
)
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
from ..pricing import ZERO, effective_discount, quote, settle
from . import bill_statements as statements

logger = logging.getLogger("billing.purchases")

MAX_LINES = 200
MAX_PAYMENTS = 10
_CASH = "<the cash method>"  # the shorthand's payment method: whichever method is the cash one
AMOUNT_LIMIT = Decimal(10) ** (AMOUNT_MAX_DIGITS - 2)
# A UPI payment's reference, when given, is the 12-digit UTR (Unique Transaction Reference) the
# customer's app shows once the money has gone.
UPI_METHOD = "upi"
UTR_PATTERN = re.compile(r"[0-9]{12}")


def purchase_create(
    *,
    customer_email: str | None = None,
    customer_phone: str | None = None,
    items: Sequence[BillLine],
    paid_amount: Decimal | None = None,
    tendered: Sequence[PieceRow] | None = None,
    payments: Sequence[PaymentInput] | None = None,
    discount_percent: Decimal = ZERO,
    discount_reason: str = "",
    user: Actor = None,
    send_invoice: bool = True,
    till: int | None = None,
    customer_gstin: str | None = None,
    place_of_supply: str | None = None,
    override_token: str | None = None,
) -> Purchase:
    """Ring up a bill in one transaction; on any refusal nothing at all is written.

    The customer is found or created by ``customer_email`` and/or ``customer_phone`` (an Indian
    mobile number, stored in E.164 form), with the rules of ``customers.services.customer_get_or_create``
    (two different customers: ``CustomerConflict``). With neither, the bill is a walk-in sale: no
    customer, and no invoice email.

    ``items`` are ``{"product_id", "quantity", "discount_percent"?}``; lines for the same product
    are combined. A quantity is whole for a product sold ``each`` and has at most 3 decimal places
    for one sold by measure (``kg``…); a fraction of an ``each`` product is a ``ValidationFailed``.
    ``payments`` are ``{"method", "amount", "tendered"?, "reference"?}`` (split tender: at most one
    cash payment; the non-cash ones never more than the total). ``paid_amount`` with ``tendered``
    is the shorthand for one cash payment; give one form or the other. The cash payment's notes
    (``{"value", "count"}``), when given, must add up to its amount and go into the drawer of
    ``till`` (an id; default ``DEFAULT_TILL``), whose drawer also gives the change, never
    more than the cash paid. Cash rounding applies to the cash part only (``pricing.settle``).
    ``discount_percent`` is the bill discount, applied to every line with the line's own; any
    discount needs a ``discount_reason``, and an effective rate above ``CASHIER_MAX_DISCOUNT_PERCENT``,
    or more money taken off than that share of the discounted lines' gross, needs the
    ``purchases.give_large_discount`` permission, or an ``override_token`` for ``discount`` from a
    manager who has it (recorded as the bill's ``approved_by``). The bill is recorded in the till's open
    session; with none, one is opened automatically at the current counts, unless the till
    ``requires_open_session``.

    Unless ``send_invoice`` is false (the customer declined) or there is no email to send it to (a
    walk-in sale, a customer known by phone only), the invoice email's job is written in this same
    transaction (``invoices.invoice_job``): it exists exactly when the bill does. Otherwise the
    bill's ``invoice_status`` is ``skipped``.

    The bill gets its tax invoice ``number`` in the till's invoice series, inside this transaction:
    a refused bill takes none.

    GST (docs/gst.md): ``customer_gstin`` (else the customer's own GSTIN on file) makes the bill B2B;
    the bill copies it with the customer's legal name and billing address. ``place_of_supply`` (a
    2-digit state code) defaults to the GSTIN's state, else the store's: the store of the bill's till
    (``Till.store``), whose GSTIN, state, name and address the bill copies as its seller
    (``seller_*``), so a store's later edits change no bill. Each line snapshots its HSN code and
    splits its tax: CGST + SGST within the store's state, IGST to another. A malformed GSTIN or state
    code is a ``ValidationFailed``. None of it costs a statement.

    The statements, in order, are ``bill_statements``'; they lock, in the global order of
    docs/architecture.md: the customer (a new one's unique email or number, or the one row given
    what it lacks), the override row (only with a token), the bill's products by primary key, the
    till row, every denomination of that till by value, then the counter row of the till's series
    and financial year.

    Raises ``ValidationFailed``, ``CustomerConflict``, ``UnknownPaymentMethod``, ``DiscountNeedsManager``,
    ``ProductNotFound``, ``ProductInactive``, ``InsufficientStock``, ``Overpayment``, ``InsufficientPayment``,
    ``TenderMismatch``, ``ChangeUnavailable``, ``ChangeTooComplex``, ``TillNotFound``, ``TillInactive``,
    ``SessionClosed`` (a till that requires an open session has none), ``SeriesExhausted``, or ``Busy``
    when it gave up waiting for a lock (``BILL_LOCK_TIMEOUT_MS``).

    Metrics and logs: a committed bill is counted by till with its latency (after the commit); a
    refusal is counted by its error code. Log lines carry ``till``, ``session`` and ``bill``.
    """
    started = time.perf_counter()
    # A refusal is logged with the till as the request named it: the default till's code, or an id.
    log = {"till": settings.DEFAULT_TILL if till is None else str(till), "session": None, "bill": None}
    # One transaction, whose timeouts the bill's first statement sets; the statements share one
    # cursor (a cursor costs more to make and close than a small statement costs to send).
    refusals = atomic_write(set_timeouts=False, name="bill", log=log, busy_message=Busy.default_message, logger=logger)
    with refusals, shared_cursor():
        purchase = _ring_up(
            customer_email=customer_email,
            customer_phone=customer_phone,
            items=items,
            paid_amount=paid_amount,
            tendered=tendered,
            payments=payments,
            discount_percent=discount_percent,
            discount_reason=discount_reason,
            user=user,
            send_invoice=send_invoice,
            till=till,
            customer_gstin=customer_gstin,
            place_of_supply=place_of_supply,
            override_token=override_token,
        )
    assert purchase.till is not None
    transaction.on_commit(partial(metrics.observe_bill_since, purchase.till.code, started))
    return purchase


@dataclass(frozen=True)
class _Tender:
    """A payment checked against its method: ``tendered`` only on cash, ``reference`` only on non-cash."""

    method: PaymentMethod
    amount: Decimal
    tendered: Sequence[PieceRow]
    reference: str


def _ring_up(
    *,
    customer_email: str | None,
    customer_phone: str | None,
    items: Sequence[BillLine],
    paid_amount: Decimal | None,
    tendered: Sequence[PieceRow] | None,
    payments: Sequence[PaymentInput] | None,
    discount_percent: Decimal,
    discount_reason: str,
    user: Actor,
    send_invoice: bool,
    till: int | None,
    customer_gstin: str | None = None,
    place_of_supply: str | None = None,
    override_token: str | None = None,
) -> Purchase:
    """The bill's steps; each statement is one of ``bill_statements`` (docs/architecture.md)."""
    quantities, line_discounts = _combine_lines(items)
    gstin_given, place_given = _gst_given(customer_gstin, place_of_supply)
    asked = _payments_asked(paid_amount=paid_amount, tendered=tendered, payments=payments)
    # A bad email or number is refused after the payments and discounts are checked, as it always was.
    email, phone, customer_refused = _customer_given(customer_email, customer_phone)

    # 1. The transaction's timeouts, the payment methods, and the customer (lock step 1).
    # The till's store is the bill's seller: its state decides the tax's split, and the bill copies it.
    methods, customer, store = statements.begin_bill(method_codes=asked.codes, email=email, phone=phone, till=till)
    tenders = _check_payments(asked, methods, paid_amount=paid_amount)
    # With a manager's override, the discount is checked against the manager's rights (lock step 2).
    override = (
        approver_for(token=override_token, action=Override.Action.DISCOUNT, user=user) if override_token else None
    )
    allowed = override.manager if override is not None else user
    bill_discount, discount_reason = _check_discounts(line_discounts, discount_percent, discount_reason, user=allowed)
    if customer_refused is not None:
        raise customer_refused
    if customer is None and (email is not None or phone is not None):
        # SQLite, or a concurrent first bill for this new email or number won the race.
        customer = customer_get_or_create(email=email, phone=phone)
    # The invoice goes to the customer's email, also when the bill named them by phone.
    send_invoice = send_invoice and customer is not None and customer.email is not None

    gst = _supply(gstin_given, place_given, customer, store_state=store.gst_state_code or None)

    # 2. The stock at the till's store, locked, and taken (lock step 3); the prices are the store's.
    taken = statements.take_stock(quantities, store_id=store.pk)
    bill = quote(
        taken.products,
        quantities,
        line_discounts=line_discounts,
        bill_discount=bill_discount,
        intra_state=gst.intra_state,
    )
    _check_discount_taken(bill.lines, user=allowed)
    if bill.total >= AMOUNT_LIMIT:
        raise ValidationFailed("The bill is too large.", details={"items": ["The bill total is too large."]})
    cash = next((t for t in tenders if t.method.is_cash), None)
    settlement = _settle(bill.total, tenders, cash, paid_amount if asked.shorthand else None)
    purchase = new_row(
        Purchase,
        customer=customer,
        created_by=user if user is not None and user.is_authenticated else None,
        approved_by=override.manager if override is not None else None,
        store_id=store.pk,
        seller_name=store.name,
        seller_legal_name=store.legal_name or store.name,
        seller_address=store.address,
        seller_gstin=store.gstin,
        seller_state_code=store.gst_state_code,
        subtotal=bill.subtotal,
        tax_total=bill.tax_total,
        total=bill.total,
        rounding=settlement.rounding,
        payable=settlement.payable,
        paid_amount=settlement.paid,
        change_due=settlement.change_due,
        cash_paid=cash.amount if cash is not None else ZERO,
        refundable=settlement.payable,
        cash_refundable=cash.amount - settlement.change_due if cash is not None else ZERO,
        discount_percent=bill.discount_percent,
        discount_total=bill.discount_total,
        discount_reason=discount_reason,
        invoice_status=InvoiceStatus.PENDING if send_invoice else InvoiceStatus.SKIPPED,
        supply_type=B2B if gst.gstin else B2C,
        place_of_supply=gst.place,
        customer_gstin=gst.gstin,
        buyer_legal_name=gst.legal_name,
        buyer_address=gst.address,
        cgst_total=sum((line.cgst for line in bill.lines), ZERO),
        sgst_total=sum((line.sgst for line in bill.lines), ZERO),
        igst_total=sum((line.igst for line in bill.lines), ZERO),
        cost_total=sum((money(line.quantity * line.cost_price) for line in bill.lines), ZERO),
    )
    for line in bill.lines:  # the reports read a line's copy of its bill's time, and its store
        line.created_at, line.store_id = purchase.created_at, store.pk
    # The stock ledger's rows: the products are locked, so their stock now is each row's balance.
    stock_rows = statements.sale_movements(purchase, bill.lines, taken)
    payment_rows = [
        new_row(
            Payment,
            store_id=store.pk,
            method=t.method,
            is_cash=t.method.is_cash,
            amount=t.amount,
            reference=t.reference,
        )
        for t in tenders
        if t.amount > 0  # the shorthand's "paid 0" is no payment
    ]

    # 3. The bill's lines, payments and stock ledger rows, written now (the bill's key reserved for
    # them): bills at one till queue on its lock below, so only the bill itself is written under it.
    rows = statements.insert_bill_rows(purchase, lines=bill.lines, payments=payment_rows, stock=stock_rows)

    # 4 and 5. The till and its drawer (lock steps 4 and 5), last of the locks a bill waits for:
    # holding them only for the drawer's planning, the bill's last statement and the commit lets
    # bills at one till overlap more. A refusal here still rolls back everything above.
    till_row, session_id, denominations = till_lock_for_bill(till_id=till, user=purchase.created_by)
    if till_row.store_id != store.pk:
        # The till moved to another store since statement 1 read it: nothing is kept.
        raise ValidationFailed(
            "The till moved to another store while the bill was being rung up; try again.",
            details={"till": [f"Till {till_row.code} is in another store now."]},
        )
    tender = (
        drawer_check_tender(denominations=denominations, tendered=cash.tendered, paid_amount=cash.amount)
        if cash is not None and cash.tendered
        else {}
    )
    planning = time.perf_counter()
    change = drawer_plan_change(denominations=denominations, tendered=tender, change_due=settlement.change_due)
    metrics.observe_change_making(time.perf_counter() - planning)

    # 6. The bill, complete with its till, session and number, the drawer's counts and ledger, and
    # the invoice email's job.
    movements = statements.record_bill(
        purchase=purchase,
        rows=rows,
        till=till_row,
        session_id=session_id,
        denominations=denominations,
        tendered=tender,
        change=change,
        send_invoice=send_invoice,
    )
    if override is not None:
        override_used_on(override, f"bill {purchase.number}")
    # Hand the bill back with its lines, payments and ledger rows in place, as purchase_list
    # prefetches them, so answering with it costs no further queries.
    set_prefetched(purchase, items=bill.lines, payments=payment_rows, drawer_movements=movements, refunds=[])
    logger.info(
        "bill #%s rung up: customer=%s lines=%d payable=%s paid=%s change=%s by=%s",
        purchase.pk,
        customer.pk if customer is not None else "walk-in",
        len(bill.lines),
        settlement.payable,
        settlement.paid,
        settlement.change_due,
        user,
        extra={"till": till_row.code, "session": session_id, "bill": purchase.pk},
    )
    return purchase


@dataclass(frozen=True)
class _Supply:
    gstin: str | None
    legal_name: str
    address: str
    place: str | None
    intra_state: bool


def _gst_given(gstin: str | None, place: str | None) -> tuple[str | None, str | None]:
    """The buyer's GSTIN and the place of supply as given, normalised; ``ValidationFailed`` naming
    each bad one."""
    problems: dict[str, list[str]] = {}
    if gstin is not None and str(gstin).strip() == "":
        gstin = None
    if place is not None and str(place).strip() == "":
        place = None
    try:
        gstin = validate_gstin(gstin) if gstin is not None else None
    except ValidationError as exc:
        problems["customer_gstin"] = exc.messages
    try:
        place = validate_state_code(place) if place is not None else None
    except ValidationError as exc:
        problems["place_of_supply"] = exc.messages
    if problems:
        raise ValidationFailed(next(iter(problems.values()))[0], details=problems)
    return gstin, place


def _supply(gstin: str | None, place: str | None, customer, *, store_state: str | None) -> _Supply:
    """The bill's GST facts: the buyer's GSTIN (given, else the customer's on file), their legal
    name and address (the customer's), the place of supply (given, else the GSTIN's state, else the
    store's: ``store_state``, the bill's till's store's), and whether the supply is within the
    store's state."""
    if gstin is None and customer is not None and customer.gstin:
        gstin = customer.gstin
    legal_name = address = ""
    if gstin is not None and customer is not None:
        legal_name, address = customer.legal_name or "", customer.billing_address or ""
    place = place or (gstin[:2] if gstin else store_state)
    return _Supply(
        gstin=gstin,
        legal_name=legal_name,
        address=address,
        place=place,
        intra_state=store_state is None or place is None or place == store_state,
    )


def _customer_given(email: str | None, phone: str | None) -> tuple[str | None, str | None, ValidationFailed | None]:
    """The bill's email and number, normalised (``None``: not given), and their refusal, if any:
    one ``validation_error`` naming each bad field."""
    refusals: list[ValidationFailed] = []
    normalized: list[str | None] = []
    for value, normalize in ((email, customer_normalize_email), (phone, customer_normalize_phone)):
        if value is None:
            normalized.append(None)
            continue
        try:
            normalized.append(normalize(value))
        except ValidationFailed as exc:
            normalized.append(None)
            refusals.append(exc)
    if refusals:  # the bill is refused: the other one is not looked up (nor inserted) either
        details = {key: value for exc in refusals for key, value in exc.details.items()}
        return None, None, ValidationFailed(refusals[0].message, details=details)
    return normalized[0], normalized[1], None


def _settle(total: Decimal, tenders: Sequence["_Tender"], cash: "_Tender | None", shorthand_paid: Decimal | None):
    """What is payable (cash rounded) and the change, or the refusal: more non-cash than the total
    (``Overpayment``: no change from a card), or less paid than payable (``InsufficientPayment``)."""
    non_cash = [t.amount for t in tenders if not t.method.is_cash]
    non_cash_total = sum(non_cash, ZERO)
    if non_cash_total > total:
        raise Overpayment(
            f"The card and other non-cash payments add up to {format_money(non_cash_total)}, more than the "
            f"{format_money(total)} due; no change is given from a card.",
            details={"non_cash_total": f"{non_cash_total:.2f}", "total": f"{total:.2f}"},
        )
    # The shorthand is one cash payment: rounded as cash even when nothing was paid.
    settlement = settle(total=total, non_cash=non_cash, cash=cash.amount if cash is not None else shorthand_paid)
    if settlement.paid < settlement.payable:
        raise InsufficientPayment(
            f"Paid {format_money(settlement.paid)}, but {format_money(settlement.payable)} is payable.",
            details={"paid_amount": f"{settlement.paid:.2f}", "payable": f"{settlement.payable:.2f}"},
        )
    return settlement


@dataclass(frozen=True)
class _Asked:
    """The payments as the request gave them, before any is checked against its method: ``rows`` of
    ``{method, amount, tendered?, reference?}`` (the shorthand as one cash row), and the codes named."""

    rows: list[PaymentInput]
    codes: set[str]
    shorthand: bool


def _payments_asked(
    *, paid_amount: Decimal | None, tendered: Sequence[PieceRow] | None, payments: Sequence[PaymentInput] | None
) -> _Asked:
    """The payments' form, checked before anything is read: one form or the other, at most
    ``MAX_PAYMENTS``. The shorthand ``paid_amount`` (+ ``tendered``) is one cash payment, or none
    when nothing was paid."""
    if payments is not None and (paid_amount is not None or tendered):
        raise ValidationFailed(
            "Give either `payments` or `paid_amount` (with `tendered`), not both.",
            details={"payments": ["Not allowed together with paid_amount or tendered."]},
        )
    if payments is None:
        if paid_amount is None:
            raise ValidationFailed(
                "How the bill is paid is missing: give `payments` or `paid_amount`.",
                details={"paid_amount": ["This field is required."]},
            )
        amount = _check_amount(paid_amount, field="paid_amount")
        if amount == 0 and not tendered:
            return _Asked(rows=[], codes=set(), shorthand=True)
        rows: list[PaymentInput] = [{"method": _CASH, "amount": amount, "tendered": list(tendered or [])}]
        return _Asked(rows=rows, codes=set(), shorthand=True)
    if len(payments) > MAX_PAYMENTS:
        raise ValidationFailed(f"A bill has at most {MAX_PAYMENTS} payments.", details={"payments": ["Too many."]})
    return _Asked(rows=list(payments), codes={str(p["method"]) for p in payments} - {_CASH}, shorthand=False)


def _check_payments(asked: _Asked, named: Sequence[PaymentMethod], *, paid_amount: Decimal | None) -> list["_Tender"]:
    """Each payment asked for, checked against its method (``named``: the methods the request named,
    and the cash method): ``UnknownPaymentMethod`` for one not taken (or inactive), or a
    ``validation_error`` for an amount, a reference or notes the method does not take, or a second
    cash payment."""
    methods: dict[str, PaymentMethod] = {}
    for method in named:
        if method.is_active:
            methods[method.code] = method
        if method.is_cash and asked.shorthand:
            methods[_CASH] = method
    payments = asked.rows
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
        if method.code == UPI_METHOD and reference and not UTR_PATTERN.fullmatch(reference):
            raise ValidationFailed(
                "A UPI reference is the 12-digit UTR from the customer's app.",
                details={"payments": ["The UPI reference must be the 12-digit UTR."]},
            )
        tenders.append(_Tender(method=method, amount=amount, tendered=notes, reference=reference))
    if sum(t.method.is_cash for t in tenders) > 1:
        raise ValidationFailed("A bill has at most one cash payment.", details={"payments": ["More than one cash."]})
    return tenders


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


def _combine_lines(items: Sequence[BillLine]) -> tuple[dict[int, Decimal], dict[int, Decimal]]:
    """Quantities and line discounts by product. Lines for one product are combined; they must then
    carry the same discount."""
    if not items:
        raise ValidationFailed("A bill needs at least one line.", details={"items": ["This list may not be empty."]})
    if len(items) > MAX_LINES:
        raise ValidationFailed(f"A bill has at most {MAX_LINES} lines.", details={"items": ["Too many lines."]})
    quantities: dict[int, Decimal] = {}
    discounts: dict[int, Decimal] = {}
    for item in items:
        product_id, quantity = int(item["product_id"]), line_quantity(item["quantity"])
        discount = _check_percent(item.get("discount_percent"), field="items")
        if discounts.setdefault(product_id, discount) != discount:
            raise ValidationFailed(
                "Two lines of one product have different discounts; give the product one line.",
                details={"items": ["Different discounts for one product."]},
            )
        quantities[product_id] = quantities.get(product_id, ZERO_QUANTITY) + quantity
    return quantities, {pid: d for pid, d in discounts.items() if d}


ZERO_QUANTITY = Decimal("0.000")


def line_quantity(value) -> Decimal:
    """A line's quantity as a caller gave it (an int, a ``Decimal``): above 0, at most 3 decimal
    places. Whether the product takes a fraction is checked with the product (``take_stock``)."""
    quantity = value if type(value) is Decimal else parse_quantity(value)
    if quantity is None or not quantity.is_finite() or quantity <= 0:
        raise ValidationFailed("Quantities must be positive.", details={"items": ["Quantity must be > 0."]})
    if quantity.adjusted() >= QUANTITY_MAX_DIGITS - QUANTITY_PLACES:
        raise ValidationFailed("A quantity is too large.", details={"items": ["Quantity is too large."]})
    if quantity != quantity.quantize(MILLI, rounding=ROUND_DOWN):
        raise ValidationFailed(
            "A quantity has at most 3 decimal places.", details={"items": ["At most 3 decimal places."]}
        )
    return quantity


def _check_amount(amount, *, field: str = "paid_amount") -> Decimal:
    amount = Decimal(amount)
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(CENT) or amount >= AMOUNT_LIMIT:
        raise ValidationFailed(
            "The amount paid must be a non-negative amount with at most 2 decimal places.",
            details={field: ["Invalid amount."]},
        )
    return money(amount)
