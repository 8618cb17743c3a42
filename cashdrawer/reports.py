"""A till session's X report (live) and Z report (frozen at the close).

Expected cash comes from one ledger: the session's opening count plus every movement since. The
identity ``expected = opening + sales − change_given + cash_in − cash_out − refunds`` holds, where
``sales`` is the cash paid for the session's bills (card, UPI and other payments never reach the
drawer: they are listed under ``payments`` only) and ``refunds`` the cash paid out by the refunds
made in the session (``refund_out`` pieces; the refunded bill may be another session's). Cash
taken without its notes (a bill paid with ``paid_amount`` alone) is in ``sales`` but not in the
counts by value; the report shows it as ``uncounted_cash``, and the close's count absorbs it.
"""

from decimal import Decimal

from django.apps import apps
from django.db.models import Count, Sum

from .models import CashMovement, DrawerMovement, TillSession

ZERO = Decimal("0.00")


def _m(amount) -> str:
    return f"{(amount or ZERO):.2f}"


def _value_of(pieces: list[dict]) -> Decimal:
    return sum((Decimal(p["value"]) * p["count"] for p in pieces), ZERO)


def session_figures(session: TillSession) -> dict:
    """The session's report, computed now from its bills and the drawer ledger (JSON-safe)."""
    Purchase = apps.get_model("purchases", "Purchase")
    PurchaseItem = apps.get_model("purchases", "PurchaseItem")
    Payment = apps.get_model("purchases", "Payment")
    Refund = apps.get_model("purchases", "Refund")
    bills = Purchase.objects.filter(session_id=session.pk).aggregate(
        bills=Count("id"),
        gross_sales=Sum("total"),
        tax_total=Sum("tax_total"),
        rounding_total=Sum("rounding"),
        discount_total=Sum("discount_total"),
        payable=Sum("payable"),
        sales=Sum("cash_paid"),
        change_given=Sum("change_due"),
    )
    # Per method what was taken: cash net of the change handed back, so the list adds up to the
    # bills' payable.
    by_method = {
        row["method__code"]: (row["method__is_cash"], row["amount"] or ZERO)
        for row in Payment.objects.filter(purchase__session_id=session.pk)
        .values("method__code", "method__is_cash")
        .annotate(amount=Sum("amount"))
    }
    tax_by_rate = [
        {"tax_percent": f"{row['tax_percent']:.2f}", "taxable": _m(row["taxable"]), "tax": _m(row["tax"])}
        for row in PurchaseItem.objects.filter(purchase__session_id=session.pk)
        .values("tax_percent")
        .annotate(taxable=Sum("subtotal"), tax=Sum("tax_amount"))
        .order_by("tax_percent")
    ]
    refunds = Refund.objects.filter(session_id=session.pk).aggregate(count=Count("id"), total=Sum("amount"))
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
    sales = bills["sales"] or ZERO
    change_given = bills["change_given"] or ZERO
    expected = opening + sales - change_given + cash_in - cash_out - refunded_cash
    payments = [
        {"method": code, "amount": _m(amount - change_given if is_cash else amount)}
        for code, (is_cash, amount) in sorted(by_method.items(), key=lambda item: (not item[1][0], item[0]))
    ]
    if not any(is_cash for is_cash, _ in by_method.values()):
        payments.insert(0, {"method": "cash", "amount": _m(sales - change_given)})
    return {
        "session": session.pk,
        "till": session.till_id,
        "status": session.status,
        "opened_at": session.opened_at.isoformat(),
        "closed_at": session.closed_at.isoformat() if session.closed_at else None,
        "bills": bills["bills"],
        "gross_sales": _m(bills["gross_sales"]),
        "tax_total": _m(bills["tax_total"]),
        "tax_by_rate": tax_by_rate,
        "rounding_total": _m(bills["rounding_total"]),
        "discount_total": _m(bills["discount_total"]),
        "payments": payments,
        "refunds": {"count": refunds["count"], "total": _m(refunds["total"])},
        "cash": {
            "opening": _m(opening),
            "sales": _m(sales),
            "change_given": _m(change_given),
            "cash_in": _m(cash_in),
            "cash_out": _m(cash_out),
            "refunds": _m(refunded_cash),
            "expected": _m(expected),
            "uncounted_cash": _m(sales - tendered),
            "counted": None,
            "variance": None,
        },
    }
