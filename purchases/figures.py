"""A bill's figures, defined once for every report that sums bills.

A bill stores its amounts when it is rung up (``purchases.models.Purchase``): ``subtotal`` (the
taxable value, after every discount), ``discount_total``, ``tax_total``, ``total`` (subtotal + tax,
before cash rounding), ``rounding``, ``payable`` (total + rounding), ``cash_paid`` (the cash handed
over), ``change_due`` and ``cost_total`` (what its goods cost: each line's quantity × the cost
price it snapshot, to the paisa). Its ``gross``, the lines' price × quantity, is ``subtotal +
discount_total``. Every report sums these and nothing else, here:

- the sales report (``sales_report``: ``net_sales`` is the bills' total, ``tax`` their tax, ``cost``
  their cost_total; ``margin`` is their subtotal less their cost_total, both net of refunds);
- a till session's X and Z report (``session_sales``, registered with ``cashdrawer.reports``:
  ``gross_sales`` is the bills' total, ``sales`` the cash they were paid with);
- the admin's totals under the bills list, today's sales on its index and a customer's lifetime
  totals (``reports.purchase_totals``).

Each report keeps the names it publishes; what a name sums is read off ``bill_sums`` alone.
"""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db.models import Aggregate, Count, QuerySet, Sum

from billing_project.core.money import money
from cashdrawer.models import TillSession
from cashdrawer.reports import SessionSales

from .models import HeldBill, Payment, Purchase, PurchaseItem, Refund

# The amounts a bill stores, in the order the bill is worked out.
BILL_AMOUNTS = (
    "subtotal",
    "discount_total",
    "tax_total",
    "total",
    "rounding",
    "payable",
    "cash_paid",
    "change_due",
    "cost_total",
)
ZERO = Decimal("0.00")


def bill_sums(*amounts: str) -> dict[str, Aggregate]:
    """The aggregates of a set of bills, for ``aggregate()`` or a grouped ``values(...).annotate()``:
    ``bills`` (how many; ``COUNT(*)``, so an index that holds the summed columns covers it) and the
    sum of each of ``amounts`` (``BILL_AMOUNTS`` when none is named). Name only what a report shows:
    a covering index holds only some of the columns."""
    for amount in amounts:
        if amount not in BILL_AMOUNTS:
            raise ValueError(f"{amount!r} is not an amount a bill stores ({', '.join(BILL_AMOUNTS)}).")
    return {"bills": Count("*"), **{amount: Sum(amount) for amount in amounts or BILL_AMOUNTS}}


def bill_figures(sums: Mapping[str, Any]) -> dict[str, Any]:
    """What ``bill_sums`` summed, as figures: ``bills`` an int, every amount a 2-place Decimal (0.00
    over no bills; SQLite sums decimals as floats), and ``gross`` (subtotal + discounts) when both
    were summed."""
    figures: dict[str, Any] = {"bills": sums.get("bills") or 0}
    for amount in BILL_AMOUNTS:
        if amount in sums:
            figures[amount] = money(sums[amount] or ZERO)
    if "subtotal" in figures and "discount_total" in figures:
        figures["gross"] = figures["subtotal"] + figures["discount_total"]
    return figures


def bill_totals(bills: QuerySet[Purchase], *amounts: str) -> dict[str, Any]:
    """``bill_figures`` of ``bills``, in one query; their ordering is dropped. A queryset with
    aggregate annotations (e.g. a count of lines joined) is summed through its ids: aggregating over
    them would need a GROUP BY subquery. Other annotations (a subquery per bill, as
    ``selectors.with_line_count``) are left out of the sums' query."""
    if any(annotation.contains_aggregate for annotation in bills.query.annotations.values()):
        bills = Purchase.objects.filter(pk__in=bills.order_by().values("pk"))
    return bill_figures(bills.order_by().aggregate(**bill_sums(*amounts)))


def session_sales(session: TillSession) -> SessionSales:
    """What ``session`` sold and paid back, for its X and Z report (``cashdrawer.reports``, which
    knows no bills: ``PurchasesConfig.ready`` registers this function there)."""
    sold = bill_totals(
        Purchase.objects.filter(session_id=session.pk),
        "total",
        "tax_total",
        "rounding",
        "discount_total",
        "cash_paid",
        "change_due",
    )
    payments = {
        row["method__code"]: (row["method__is_cash"], money(row["amount"] or ZERO))
        for row in Payment.objects.filter(purchase__session_id=session.pk)
        .values("method__code", "method__is_cash")
        .annotate(amount=Sum("amount"))
    }
    tax_by_rate = [
        (row["tax_percent"], money(row["taxable"] or ZERO), money(row["tax"] or ZERO))
        for row in PurchaseItem.objects.filter(purchase__session_id=session.pk)
        .values("tax_percent")
        .annotate(taxable=Sum("subtotal"), tax=Sum("tax_amount"))
        .order_by("tax_percent")
    ]
    refunds = Refund.objects.filter(session_id=session.pk).aggregate(count=Count("id"), total=Sum("amount"))
    return SessionSales(
        bills=sold["bills"],
        total=sold["total"],
        tax_total=sold["tax_total"],
        rounding=sold["rounding"],
        discount_total=sold["discount_total"],
        cash_paid=sold["cash_paid"],
        change_due=sold["change_due"],
        payments=payments,
        tax_by_rate=tax_by_rate,
        refund_count=refunds["count"],
        refund_total=money(refunds["total"] or ZERO),
        held_bills=HeldBill.objects.filter(till_id=session.till_id).count(),
    )
