"""A till session's X report (live) and Z report (frozen at the close).

Expected cash comes from one ledger: the session's opening count plus every movement since. The
identity ``expected = opening + sales − change_given + cash_in − cash_out − refunds`` holds, where
``sales`` is the cash paid for the session's bills (card, UPI and other payments never reach the
drawer: they are listed under ``payments`` only) and ``refunds`` the cash paid out by the refunds
made in the session (``refund_out`` pieces; the refunded bill may be another session's). Cash
taken without its notes (a bill paid with ``paid_amount`` alone) is in ``sales`` but not in the
counts by value; the report shows it as ``uncounted_cash``, and the close's count absorbs it.

The drawer knows no bills: what a session sold comes from the source the app that rings bills up
registers (``register_sales_source``; ``purchases.figures.session_sales``), as a ``SessionSales``.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from .models import CashMovement, DrawerMovement, TillSession

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class SessionSales:
    """What a session's bills and refunds came to, as the app that rings them up counts them (the
    drawer knows no bills). Amounts are 2-place Decimals."""

    bills: int = 0
    total: Decimal = ZERO  # the bills' total (subtotal + tax, before rounding): "gross_sales"
    tax_total: Decimal = ZERO
    rounding: Decimal = ZERO
    discount_total: Decimal = ZERO
    cash_paid: Decimal = ZERO  # the cash handed over for the bills: "sales"
    change_due: Decimal = ZERO  # the change handed back: "change_given"
    # Per payment method's code: (is it cash, what its payments came to; cash as tendered).
    payments: dict[str, tuple[bool, Decimal]] = field(default_factory=dict)
    # Per tax rate, lowest first: (rate, taxable value, tax).
    tax_by_rate: list[tuple[Decimal, Decimal, Decimal]] = field(default_factory=list)
    refund_count: int = 0
    refund_total: Decimal = ZERO  # what the session's refunds paid back
    held_bills: int = 0  # the carts parked at the session's till and not recalled (yet)


SalesSource = Callable[[TillSession], SessionSales]
_sales_source: SalesSource | None = None


def register_sales_source(source: SalesSource) -> None:
    """Name the function that tells what a session sold (``purchases.figures.session_sales``,
    registered by ``PurchasesConfig.ready``). Without one, a session sold nothing."""
    global _sales_source  # one source per process, set once at start-up
    _sales_source = source


def session_sales(session: TillSession) -> SessionSales:
    return _sales_source(session) if _sales_source is not None else SessionSales()


def _m(amount) -> str:
    return f"{(amount or ZERO):.2f}"


def _value_of(pieces: list[dict]) -> Decimal:
    return sum((Decimal(p["value"]) * p["count"] for p in pieces), ZERO)


def session_figures(session: TillSession, sales: SessionSales | None = None) -> dict:
    """The session's report, computed now from what it sold (``sales``; by default the registered
    source's) and the drawer ledger (JSON-safe)."""
    sold = sales if sales is not None else session_sales(session)
    cash_in = cash_out = tendered = refunded_cash = ZERO
    for direction, amount in CashMovement.objects.filter(session_id=session.pk).values_list("direction", "amount"):
        if direction == CashMovement.Direction.IN:
            cash_in += amount
        else:
            cash_out += amount
    for kind, delta, value in DrawerMovement.objects.filter(
        session_id=session.pk,
        kind__in=[DrawerMovement.Kind.TENDER_IN, DrawerMovement.Kind.MANUAL_SET, DrawerMovement.Kind.REFUND_OUT],
    ).values_list("kind", "delta", "denomination__value"):
        if kind == DrawerMovement.Kind.TENDER_IN:
            tendered += value * delta
        elif kind == DrawerMovement.Kind.REFUND_OUT:
            refunded_cash += value * -delta
        elif delta > 0:  # a manager's count set during the session moves cash in or out too
            cash_in += value * delta
        else:
            cash_out += value * -delta
    opening = _value_of(session.opening_counted)
    cash_sales = sold.cash_paid
    change_given = sold.change_due
    expected = opening + cash_sales - change_given + cash_in - cash_out - refunded_cash
    # Per method what was taken: cash net of the change handed back, so the list adds up to the
    # bills' payable.
    payments = [
        {"method": code, "amount": _m(amount - change_given if is_cash else amount)}
        for code, (is_cash, amount) in sorted(sold.payments.items(), key=lambda item: (not item[1][0], item[0]))
    ]
    if not any(is_cash for is_cash, _ in sold.payments.values()):
        payments.insert(0, {"method": "cash", "amount": _m(cash_sales - change_given)})
    return {
        "session": session.pk,
        "till": session.till_id,
        "status": session.status,
        "opened_at": session.opened_at.isoformat(),
        "closed_at": session.closed_at.isoformat() if session.closed_at else None,
        "bills": sold.bills,
        "gross_sales": _m(sold.total),
        "tax_total": _m(sold.tax_total),
        "tax_by_rate": [
            {"tax_percent": f"{rate:.2f}", "taxable": _m(taxable), "tax": _m(tax)}
            for rate, taxable, tax in sold.tax_by_rate
        ],
        "rounding_total": _m(sold.rounding),
        "discount_total": _m(sold.discount_total),
        "payments": payments,
        "refunds": {"count": sold.refund_count, "total": _m(sold.refund_total)},
        # Parked carts at the till: now on the X report, left at the close on the Z report.
        "held_bills_left": sold.held_bills,
        "cash": {
            "opening": _m(opening),
            "sales": _m(cash_sales),
            "change_given": _m(change_given),
            "cash_in": _m(cash_in),
            "cash_out": _m(cash_out),
            "refunds": _m(refunded_cash),
            "expected": _m(expected),
            "uncounted_cash": _m(cash_sales - tendered),
            "counted": None,
            "variance": None,
        },
    }
