from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from billing_project.core.db.orm_internals import prefetched
from cashdrawer.models import Denomination, DrawerMovement
from cashdrawer.selectors import drawer_list
from catalog.models import Product
from catalog.selectors import as_sold_at, store_priced
from customers.models import Customer

from .models import (
    AMOUNT_FIELDS,
    DISCOUNT_FIELDS,
    GST_FIELDS,
    LINE_DISCOUNT_FIELDS,
    LINE_FIELDS,
    LINE_GST_FIELDS,
    BillCount,
    Payment,
    PaymentMethod,
    Purchase,
    PurchaseItem,
    Refund,
    RefundLine,
    RefundPayment,
    largest_first,
)
from .pricing import you_saved


def purchase_list(
    *,
    customer_email: str | None = None,
    customer_phone: str | None = None,
    customer_id: int | None = None,
    number: str | None = None,
) -> QuerySet[Purchase]:
    """Bills newest first, with lines and drawer movements prefetched: a constant number of
    queries however many bills and lines are listed. ``customer_phone`` is a mobile number in E.164
    form (``customers.services.customer_normalize_phone`` reads any spelling)."""
    qs = Purchase.objects.select_related("customer").prefetch_related(
        Prefetch("items", queryset=PurchaseItem.objects.order_by("id")),
        Prefetch("payments", queryset=Payment.objects.select_related("method").order_by("id")),
        Prefetch("drawer_movements", queryset=DrawerMovement.objects.select_related("denomination")),
        Prefetch("refunds", queryset=Refund.objects.order_by("created_at", "id")),
    )
    if customer_email:
        qs = qs.filter(customer__email__iexact=customer_email.strip())
    if customer_phone:
        qs = qs.filter(customer__phone=customer_phone)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if number:
        qs = qs.filter(number=number.strip().upper())
    return qs.order_by("-created_at", "-id")


def bill_count(*, store_ids: list[int] | None) -> int | None:
    """How many bills the stores ``store_ids`` (None: every store) have, from ``BillCount`` (kept
    exact by its trigger, in the bills' own transactions): what ``count()`` of ``purchase_list()``
    cut to those stores gives, without reading the bills. None where there is no trigger (SQLite):
    the caller counts the rows."""
    if connection.vendor != "postgresql":
        return None
    return bill_counts(store_ids=store_ids).aggregate(bills=Sum("bills"))["bills"] or 0


def bill_counts(*, store_ids: list[int] | None) -> QuerySet[BillCount]:
    """The ``BillCount`` rows of the stores ``store_ids`` (None: every store)."""
    return BillCount.objects.all() if store_ids is None else BillCount.objects.filter(store_id__in=store_ids)


# A slice of the bill list starting this deep or deeper is positioned by day (``purchase_ids_slice``);
# above it, walking the time index from the newest bill costs less than counting the days.
DEEP_SLICE = 10_000
# At most this many bills past the sales rollup's seal are counted by day; more, and the slice walks
# the time index (the seal is moved up every few minutes: docs/reports.md, "Rollups").
UNSEALED_MAX = 50_000

_SEAL_SQL = """
SELECT seal.time_zone, seal.bills_through, (SELECT COALESCE(MAX(id), 0) FROM purchases_purchase)
FROM purchases_salesrollupseal seal
"""

# Each local day's bills, newest day first (the sealed ones from the rollup, the others counted), with
# the first instant of the next day: the bills newer than the day are those from that instant on. The
# seal is read first, so this statement has its id as a value (the bills past it found by primary key);
# a seal moved in between counts some bills twice, and the days then do not add up to the count.
_DAY_BILLS_SQL = """
SELECT day, SUM(bills), ((day + 1)::timestamp AT TIME ZONE %(tz)s) FROM (
    SELECT day, bills FROM purchases_salesrollup WHERE grouping = 'day' {stores}
    UNION ALL
    SELECT (created_at AT TIME ZONE %(tz)s)::date, COUNT(*) FROM purchases_purchase
    WHERE id > %(through)s {stores} GROUP BY 1
) days
GROUP BY day ORDER BY day DESC
"""


def purchase_ids_slice(
    bills: QuerySet[Purchase], *, store_ids: list[int] | None, total: int, start: int, stop: int
) -> list[int]:
    """The ids of ``bills[start:stop]``, where ``bills`` is ``purchase_list()`` of the stores
    ``store_ids`` (None: every store), newest first, and ``total`` how many it has (``bill_count``).

    A deep slice (``DEEP_SLICE``) is not read by walking the time index past its ``start`` bills:
    the sales rollup's bills per local day (exact up to its seal) and the bills past the seal tell how
    many bills are newer than each day, and the slice is then taken inside its day, from the same
    index. The same ids as ``bills[start:stop]``, in the same order; the plain slice when the page is
    not deep, on SQLite, with no rollup or one far behind, or when the days do not add up to
    ``total`` (a bill rung up meanwhile)."""

    def walked() -> list[int]:
        return list(bills.values_list("id", flat=True)[start:stop])

    if start < DEEP_SLICE or connection.vendor != "postgresql":
        return walked()
    with connection.cursor() as cursor:
        cursor.execute(_SEAL_SQL)
        seal = cursor.fetchone()
        if seal is None or seal[2] - seal[1] > UNSEALED_MAX:
            return walked()
        tz, through, _ = seal
        stores = "" if store_ids is None else "AND store_id = ANY(%(stores)s)"
        cursor.execute(_DAY_BILLS_SQL.format(stores=stores), {"tz": tz, "through": through, "stores": store_ids})
        days = [(int(count), newer_from) for _, count, newer_from in cursor.fetchall()]
    if sum(count for count, _ in days) != total:
        return walked()
    newer = 0
    for count, newer_from in days:
        if start < newer + count:
            day_bills = bills.filter(created_at__lt=newer_from).values_list("id", flat=True)
            return list(day_bills[start - newer : stop - newer])
        newer += count
    return []


def deep_purchase_ids(
    bills: QuerySet[Purchase], *, store_ids: list[int] | None, total: int, start: int, stop: int
) -> list[int] | None:
    """``purchase_ids_slice`` of a deep slice (from ``DEEP_SLICE`` on); None for a shallower one,
    which the caller reads as it is (one query: its rows straight from the time index)."""
    if start < DEEP_SLICE:
        return None
    return purchase_ids_slice(bills, store_ids=store_ids, total=total, start=start, stop=stop)


# A search word matching at most this many customers finds their bills by their ids (the bills'
# customer index); more, and by a subquery of the customers (most bills match it anyway).
SEARCH_CUSTOMERS_MAX = 5000


def bills_matching(term: str) -> Q:
    """The bills a search of the bills' list finds: for each word of ``term``, bills of a customer
    whose email or mobile number holds it, or whose invoice number starts with it. The customers are
    found first, in a query of their own, so the bills are read by their customer and number indexes;
    a join of every bill with its customer, filtered by either, read every bill of the chain (9 s at
    5,000,000 bills). An invoice number is found by its start (``T009/2627``, or whole), by the index
    of its prefixes: a part from its middle would mean reading every bill's number."""
    found = Q()
    for word in term.split():
        customers = Customer.objects.filter(Q(email__icontains=word) | Q(phone__icontains=word))
        ids = list(customers.values_list("pk", flat=True)[: SEARCH_CUSTOMERS_MAX + 1])
        by_customer = Q(customer_id__in=ids) if len(ids) <= SEARCH_CUSTOMERS_MAX else Q(customer__in=customers)
        found &= by_customer | Q(number__startswith=word.upper())
    return found


def purchase_get(*, purchase_id: int) -> Purchase:
    return purchase_list().get(pk=purchase_id)


def purchase_for_invoice(*, purchase_id: int) -> Purchase:
    """A bill with what its tax invoice and its invoice email show: the customer, the lines, the
    payments with their methods and the drawer movements (tendered notes and change), in four
    queries; not its refunds, which neither shows (``purchase_get`` also fetches them)."""
    return (
        Purchase.objects.select_related("customer")
        .prefetch_related(
            Prefetch("items", queryset=PurchaseItem.objects.order_by("id")),
            Prefetch("payments", queryset=Payment.objects.select_related("method").order_by("id")),
            Prefetch("drawer_movements", queryset=DrawerMovement.objects.select_related("denomination")),
        )
        .get(pk=purchase_id)
    )


# --- Billing page ---------------------------------------------------------------------------------

LOOKUP_LIMIT = 8
MAX_PRODUCT_ID = 2**63 - 1


def purchase_history(
    *,
    customer_email: str | None = None,
    customer_phone: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[Purchase]:
    """Bills newest first for the history page, optionally for one customer (by email, or by mobile
    number in E.164 form) and between two days (inclusive, in the current time zone). The bounds are
    datetimes, so the created_at index is used."""
    qs = purchase_list(customer_email=customer_email, customer_phone=customer_phone).select_related("created_by")
    if date_from:
        qs = qs.filter(created_at__gte=_start_of(date_from))
    if date_to:
        qs = qs.filter(created_at__lt=_start_of(date_to + timedelta(days=1)))
    return qs


def with_line_count(bills: QuerySet[Purchase]) -> QuerySet[Purchase]:
    """``bills`` with ``line_count``, each bill's number of lines, as a subquery of the bill rather
    than a join grouped by bill: a count or a sum of ``bills`` (the admin's, the totals above its
    list) leaves it out and reads no line, and a page computes it only for its own rows."""
    lines = PurchaseItem.objects.filter(purchase=OuterRef("pk")).order_by().values("purchase").annotate(n=Count("id"))
    return bills.annotate(line_count=Coalesce(Subquery(lines.values("n")), 0))


def purchase_history_rows(*, ids: list[int]) -> list[Purchase]:
    """The bills ``ids``, in that order, with what a row of the history page shows: the customer,
    the cashier and the number of lines (``line_count``), in one query. The page's ids come first
    from the time index (``purchase_history(...).values_list("id")``, however deep the page), then
    only these rows are read."""
    bills = with_line_count(Purchase.objects.select_related("customer", "created_by")).in_bulk(ids)
    return [bills[pk] for pk in ids]


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def product_search(*, term: str, limit: int = LOOKUP_LIMIT, store: int | None = None) -> list[Product]:
    """Products that can be sold whose SKU or name contains ``term``: exact SKU matches first. With
    ``store``: as that store sells them (its stock and its own prices, ``catalog.selectors.at_store``),
    in the same query.

    One query, whose subquery picks the ``limit`` rows among the matches (a term can match a
    thousand products: ``Basm`` 1,250 of a chain's 50,000); the stock and the store's price are then
    read for those rows only. Asked of every match, PostgreSQL may work them out before it sorts (it
    does for a price it thinks cheap, on a table of few store prices), for every match."""
    term = term.strip()
    if not term:
        return []
    exact = Case(When(sku__iexact=term, then=Value(0)), default=Value(1), output_field=IntegerField())
    order = (exact, "name", "id")
    matches = Product.objects.active().filter(Q(name__icontains=term) | Q(sku__icontains=term))
    rows = Product.objects.filter(pk__in=matches.order_by(*order).values("pk")[:limit])
    if store is None:
        return list(rows.order_by(*order))
    return store_priced(list(as_sold_at(rows, store).order_by(*order)))


def product_for_term(*, term: str) -> tuple[Product | None, list[Product]]:
    """What a cashier typed in a bill row: an exact SKU, then a product ID, then a unique name.

    Returns ``(product, [])`` on a match, ``(None, candidates)`` when a name search is ambiguous and
    ``(None, [])`` when nothing matches. An exact SKU or ID also finds an archived product, so that
    ringing it up is refused with the service's own message."""
    term = term.strip()
    if not term:
        return None, []
    product = Product.objects.filter(sku__iexact=term).first()
    if product is not None:
        return product, []
    if term.isdigit() and 0 < int(term) <= MAX_PRODUCT_ID:
        product = Product.objects.filter(pk=int(term)).first()
        if product is not None:
            return product, []
    named = list(Product.objects.active().filter(name__iexact=term)[:2])
    if len(named) == 1:
        return named[0], []
    candidates = named or product_search(term=term)
    if len(candidates) == 1:
        return candidates[0], []
    return None, candidates


def payment_method_list() -> QuerySet[PaymentMethod]:
    """The payment methods a bill can be paid with now: the active ones, cash first."""
    return PaymentMethod.objects.filter(is_active=True).order_by("-is_cash", "code")


def tender_denominations(*, till_id: int | None = None) -> list[Denomination]:
    """A till's notes and coins (default: ``DEFAULT_TILL``), highest first, with how many it holds now."""
    return list(drawer_list(till_id=till_id))


# --- The API's bill lists -----------------------------------------------------------------------

_BILL_FIELDS = (
    "id",
    "number",
    "created_at",
    "till_id",
    "session_id",
    "approved_by_id",
    *AMOUNT_FIELDS,
    *DISCOUNT_FIELDS,
    *GST_FIELDS,
    "invoice_status",
    "invoice_sent_at",
    "invoice_attempts",
    "invoice_last_error",
)


def purchase_rows(*, ids: list[int]) -> list[dict]:
    """The bills ``ids``, in that order, as plain rows shaped like ``Purchase`` (``customer_id``,
    ``customer.email`` and ``customer.phone``, ``customer`` None for a walk-in sale,
    ``items``, ``tendered``, ``change``), for ``PurchaseSerializer``. Three queries and no model
    instances: a page of 100 bills costs a third of what model instances with prefetches do."""
    # (Four with the payments.)
    bills = {
        row["id"]: row
        for row in Purchase.objects.filter(id__in=ids).values(
            *_BILL_FIELDS, "customer_id", customer_email=F("customer__email"), customer_phone=F("customer__phone")
        )
    }
    lines: dict[int, list[dict]] = {pk: [] for pk in ids}
    line_fields = (*LINE_FIELDS, *LINE_DISCOUNT_FIELDS, *LINE_GST_FIELDS)
    for row in PurchaseItem.objects.filter(purchase_id__in=ids).order_by("id").values("purchase_id", *line_fields):
        lines[row.pop("purchase_id")].append(row)
    payments: dict[int, list[dict]] = {pk: [] for pk in ids}
    for purchase_id, code, amount, reference in (
        Payment.objects.filter(purchase_id__in=ids)
        .order_by("id")
        .values_list("purchase_id", "method__code", "amount", "reference")
    ):
        payments[purchase_id].append({"method_code": code, "amount": amount, "reference": reference})
    pieces: dict[int, dict[str, list[dict]]] = {pk: {"tender_in": [], "change_out": []} for pk in ids}
    for purchase_id, kind, delta, value in DrawerMovement.objects.filter(purchase_id__in=ids).values_list(
        "purchase_id", "kind", "delta", "denomination__value"
    ):
        pieces[purchase_id][kind].append({"value": value, "count": abs(delta)})
    refunds: dict[int, list[dict]] = {pk: [] for pk in ids}
    for purchase_id, refund_id, created_at, amount in (
        Refund.objects.filter(purchase_id__in=ids)
        .order_by("created_at", "id")
        .values_list("purchase_id", "id", "created_at", "amount")
    ):
        refunds[purchase_id].append({"id": refund_id, "created_at": created_at, "amount": amount})
    rows = []
    for pk in ids:
        row = bills[pk]
        email, phone = row.pop("customer_email"), row.pop("customer_phone")
        row["customer"] = {"email": email, "phone": phone} if row["customer_id"] is not None else None
        row["items"] = lines[pk]
        row["payments"] = payments[pk]
        row["tendered"] = largest_first(pieces[pk][DrawerMovement.Kind.TENDER_IN])
        row["change"] = largest_first(pieces[pk][DrawerMovement.Kind.CHANGE_OUT])
        row["refunds"] = refunds[pk]
        row["refunded_total"] = sum((r["amount"] for r in refunds[pk]), Decimal("0.00"))
        row["you_saved"] = you_saved(row["items"], row["discount_total"])
        rows.append(row)
    return rows


# --- Refunds ----------------------------------------------------------------------------------------


def refund_list(
    *, purchase_id: int | None = None, session_id: int | None = None, till_id: int | None = None
) -> QuerySet[Refund]:
    """Refunds newest first, with their lines, payments and cash pieces prefetched (a constant
    number of queries), optionally of one bill, paid out in one session or at one till."""
    qs = Refund.objects.select_related("purchase__customer", "till").prefetch_related(
        Prefetch("lines", queryset=RefundLine.objects.select_related("item").order_by("id")),
        Prefetch("payments", queryset=RefundPayment.objects.order_by("id")),
        Prefetch("drawer_movements", queryset=DrawerMovement.objects.select_related("denomination")),
    )
    if purchase_id is not None:
        qs = qs.filter(purchase_id=purchase_id)
    if session_id is not None:
        qs = qs.filter(session_id=session_id)
    if till_id is not None:
        qs = qs.filter(till_id=till_id)
    return qs.order_by("-created_at", "-id")


def refund_get(*, refund_id: int) -> Refund:
    return refund_list().get(pk=refund_id)


def purchase_payments(purchase: Purchase) -> list[tuple[str, bool, Decimal]]:
    """How a bill was paid: ``[(method_code, is_cash, amount)]``, the amounts adding up to ``payable``.

    Refunds pay money back through these. The cash payment is stored as tendered, so the change
    handed back is taken off it here; non-cash payments never exceed what was due."""
    return [(payment.method.code, payment.is_cash, amount) for payment, amount in purchase_payments_net(purchase)]


def purchase_payments_net(purchase: Purchase) -> list[tuple[Payment, Decimal]]:
    """Each payment with what it really paid toward ``payable``: the cash payment less the change
    handed back; payments that paid nothing are left out. Shared by refunds and the invoice PDF.
    Reads the payments prefetched with their methods (``purchase_list``), when they are."""
    cached = prefetched(purchase)
    payments = (
        cached["payments"]
        if cached is not None and "payments" in cached
        else purchase.payments.select_related("method").order_by("id")
    )
    rows = []
    for payment in payments:
        amount = payment.amount - purchase.change_due if payment.is_cash else payment.amount
        if amount > 0:
            rows.append((payment, amount))
    return rows


_AMOUNT = DecimalField(max_digits=20, decimal_places=2)


def customer_list(*, email: str | None = None, phone: str | None = None) -> QuerySet[Customer]:
    """Customers with their number of bills, what their refunds paid back (``total_refunded``),
    their lifetime spend net of it (``total_spent`` = sum of amounts payable − total_refunded) and
    the discounts they were given (``discount_total``, the sum of the bills' discount totals).
    Each figure is a subquery of the customer's own bills (or refunds): computed only for the
    customers a page shows, each through the bills' customer index, and never multiplied by a
    join. By email, then those known by phone only; ``phone`` is in E.164 form
    (``customer_normalize_phone``)."""
    zero = Value(Decimal("0.00"))
    bills = Purchase.objects.filter(customer_id=OuterRef("pk"))
    # The refunds of the customer's bills, found by their bill (its index), never by reading them all.
    refunds = Refund.objects.filter(
        purchase_id__in=Purchase.objects.filter(customer_id=OuterRef(OuterRef("pk"))).values("id")
    )
    refunded = _per_customer(refunds, Sum("amount"), _AMOUNT)
    qs = Customer.objects.annotate(
        purchase_count=Coalesce(
            _per_customer(bills, Count("id"), IntegerField()), Value(0), output_field=IntegerField()
        ),
        total_refunded=Coalesce(refunded, zero, output_field=_AMOUNT),
        total_spent=Coalesce(_per_customer(bills, Sum("payable"), _AMOUNT), zero, output_field=_AMOUNT)
        - Coalesce(refunded, zero, output_field=_AMOUNT),
        discount_total=Coalesce(_per_customer(bills, Sum("discount_total"), _AMOUNT), zero, output_field=_AMOUNT),
    ).order_by(F("email").asc(nulls_last=True), "phone", "id")
    if email:
        qs = qs.filter(email__iexact=email.strip())
    if phone:
        qs = qs.filter(phone=phone)
    return qs


# The figures of ``customer_list``, by which the admin's customers can be ordered.
CUSTOMER_FIGURES = ("purchase_count", "total_refunded", "total_spent", "discount_total")


def customers_by_figures(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """The customers of ``customers`` (a ``customer_list``, searched or not) with the same figures,
    worked out for all of them at once (``CustomerFigures``: the bills grouped by customer in one
    pass) instead of by subqueries per customer: for ordering every customer by a figure, where
    ``customer_list`` works out each figure's subquery for every customer before it can sort them
    (8-13 s at 200,000 customers). A page's rows are then read with ``customer_list``'s figures,
    whose subqueries cost little for a page's customers."""
    zero = Value(Decimal("0.00"))
    refunded = Coalesce("figures__refunded", zero, output_field=_AMOUNT)
    return Customer.objects.filter(pk__in=customers.values("pk")).annotate(
        purchase_count=Coalesce("figures__bills", Value(0), output_field=IntegerField()),
        total_refunded=refunded,
        total_spent=Coalesce("figures__payable", zero, output_field=_AMOUNT) - refunded,
        discount_total=Coalesce("figures__discounts", zero, output_field=_AMOUNT),
    )


def _per_customer(rows: QuerySet, aggregate, output_field) -> Subquery:
    """``aggregate`` over ``rows`` (already cut to one customer with ``OuterRef("pk")``): one value,
    or NULL when the customer has none."""
    grouped = rows.order_by().annotate(one=Value(1)).values("one").annotate(value=aggregate).values("value")
    return Subquery(grouped, output_field=output_field)
