"""Back-office reads: the day's sales, totals over a set of bills and the bills CSV."""

import csv
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from billing_project.core.quantities import Unit
from catalog.stores import store_filter

from .figures import bill_figures, bill_totals
from .models import Payment, Purchase
from .selectors import bill_counts


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The start of ``day`` and of the next day in the current time zone (TIME_ZONE)."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
    return start, end


# The amounts ``purchase_totals`` sums: a till's index carries them (``purchase_till_created_cover``).
TOTALS_AMOUNTS = ("subtotal", "tax_total", "total", "payable", "discount_total")


def purchase_totals(queryset: QuerySet[Purchase]) -> dict:
    """Number of bills and the sums of their amounts (``figures.bill_totals``), in one query."""
    return _as_totals(bill_totals(queryset, *TOTALS_AMOUNTS))


def stores_purchase_totals(*, store_ids: list[int] | None) -> dict | None:
    """``purchase_totals`` of every bill of the stores ``store_ids`` (None: every store), from
    ``BillCount`` (kept exact by its trigger, in the bills' own transactions) instead of the bills: one
    read of a few rows a store. None where there is no trigger (SQLite): the caller sums the bills."""
    if connection.vendor != "postgresql":
        return None
    sums = bill_counts(store_ids=store_ids).aggregate(
        bills=Sum("bills"), **{amount: Sum(amount) for amount in TOTALS_AMOUNTS}
    )
    return _as_totals(bill_figures(sums))


def _as_totals(figures: dict) -> dict:
    return {"count": figures["bills"], **{amount: figures[amount] for amount in TOTALS_AMOUNTS}}


def sales_for_day(*, day: date | None = None, store_ids: list[int] | None = None) -> dict:
    """Bills rung up on ``day`` (default today, local time) at the stores ``store_ids`` (``None``:
    every store): count, revenue (sum payable), tax."""
    day = day or timezone.localdate()
    start, end = day_bounds(day)
    bills = Purchase.objects.filter(created_at__gte=start, created_at__lt=end)
    if store_ids is not None:
        bills = bills.filter(store_filter(Purchase, store_ids))
    totals = purchase_totals(bills)
    return {"day": day, "count": totals["count"], "revenue": totals["payable"], "tax": totals["tax_total"]}


CSV_HEADER = [
    "bill_id",
    "invoice_number",
    "created_at",
    "customer_email",
    "customer_phone",
    "lines",
    "quantity",
    "discount_percent",
    "discount_total",
    "discount_reason",
    "subtotal",
    "tax_total",
    "total",
    "rounding",
    "payable",
    "payment_methods",
    "paid_amount",
    "change_due",
    "cashier",
]


def _text(value: str) -> str:
    """Defuse spreadsheet formulas in free text (CSV injection): a leading =, +, -, @, tab or CR."""
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


def purchases_csv(queryset: QuerySet[Purchase], stream) -> int:
    """Write one CSV row per bill, oldest first, to ``stream``. Returns the number of bills.

    Amounts are plain decimal strings with 2 places; times are ISO 8601 in the current time zone.
    ``discount_percent`` is the bill discount (each line's own is on the bill's page);
    ``payment_methods`` names the methods that paid it, in the order they were entered
    (``Card + Cash``). A walk-in sale has neither a customer email nor a phone. ``quantity`` counts the
    pieces of the lines sold ``each``: a weighed line's kilograms are not added to them."""
    writer = csv.writer(stream)
    writer.writerow(CSV_HEADER)
    rows = (
        queryset.order_by("created_at", "id")
        .select_related("customer", "created_by")
        .prefetch_related(Prefetch("payments", queryset=Payment.objects.select_related("method")))
        .annotate(line_count=Count("items"), quantity=Sum("items__quantity", filter=Q(items__unit=Unit.EACH)))
    )
    count = 0
    for bill in rows:
        writer.writerow(
            [
                bill.pk,
                bill.number or "",
                timezone.localtime(bill.created_at).isoformat(timespec="seconds"),
                _text(bill.customer.email or "") if bill.customer else "",
                # E.164, checked on the way in (and by a CHECK): no formula to defuse, and kept as sent.
                (bill.customer.phone or "") if bill.customer else "",
                bill.line_count,
                int(bill.quantity or 0),
                f"{bill.discount_percent:.2f}",
                f"{bill.discount_total:.2f}",
                _text(bill.discount_reason),
                f"{bill.subtotal:.2f}",
                f"{bill.tax_total:.2f}",
                f"{bill.total:.2f}",
                f"{bill.rounding:.2f}",
                f"{bill.payable:.2f}",
                _text(" + ".join(payment.method.name for payment in bill.payments.all())),
                f"{bill.paid_amount:.2f}",
                f"{bill.change_due:.2f}",
                _text(bill.created_by.get_username()) if bill.created_by else "",
            ]
        )
        count += 1
    return count
