"""A month of demo trading for the sales dashboard and the till pages: each day the till is opened
with its float, bills and a few refunds are rung up in time order, the day's takings go to the safe
and the till is closed with a count that matches its drawer. Everything goes through the real
services (``session_open``, ``purchase_create``, ``refund_create``, ``cash_movement_create``,
``session_close``, ``receipt_create``), as a cashier's and a manager's days would.

The services stamp what they write with the current time, as they must. So that a month of trading
really happened over that month, each step runs with the clock set to its moment (``demo_clock``,
time-machine): the bill, its lines, its drawer movements, its session, and its invoice number's
financial year all agree, and the numbers of a series follow their dates. It is for demo databases
(``seed_demo --sales``) and the screenshots in docs/screenshots/ only; nothing in the application calls it.
"""

import heapq
import itertools
import random
from collections.abc import Mapping
from contextlib import nullcontext
from datetime import date, datetime, time, timedelta
from decimal import ROUND_CEILING, Decimal

import time_machine
from django.utils import timezone

from billing_project.core.types import Actor, BillLine, PieceRow
from cashdrawer.errors import ChangeUnavailable
from cashdrawer.selectors import drawer_list
from cashdrawer.services import cash_movement_create, drawer_plan_change, session_close, session_open, till_default
from catalog.models import Product, Receipt, Supplier
from catalog.stock import receipt_create, supplier_save

from .errors import InsufficientStock
from .models import Purchase
from .pricing import quote
from .services import purchase_create, refund_create

# Hours the shop is busy, with a weight each: a late-morning and an evening peak.
HOURS = {9: 2, 10: 4, 11: 7, 12: 6, 13: 4, 14: 3, 15: 3, 16: 4, 17: 6, 18: 8, 19: 7, 20: 4, 21: 2}
# The till opens before the first bill and closes after the last one (a bill at 21:59 brought back
# half an hour later is still within the day).
OPENS, CLOSES = time(8, 30), time(22, 30)
DELIVERY = time(8, 0)  # Mondays, before the till opens
METHODS = (("cash", 5), ("upi", 4), ("card", 2))
DISCOUNT = Decimal("5")
CUSTOMERS = [f"{name}@example.com" for name in ("asha", "ravi", "meena", "arjun", "kavya", "imran", "neha", "vikram")]
# What customers hand over: notes up to ₹500 (the ₹2000 note is withdrawn from circulation), and
# for an exact amount the coins too.
NOTES = [Decimal(v) for v in ("500", "200", "100", "50", "20", "10")]
ROUND_UP_TO = ((Decimal("10"), 2), (Decimal("50"), 2), (Decimal("100"), 4), (Decimal("500"), 2))
DAY_NOTE = "demo day"
TAKINGS = "demo: the day's takings to the safe"
CHANGE = "demo: change for tomorrow's float, from the safe"


def demo_clock(when: datetime | None):
    """The clock stopped at ``when`` while the block runs (nothing changes for ``None``)."""
    return time_machine.travel(when, tick=False) if when is not None else nullcontext()


def demo_month_start(*, days: int = 30) -> datetime:
    """When the demo month starts: the first demo day, an hour before the till opens. ``seed_demo``
    stocks the shop (catalogue, float) at this time, so the ledger starts before the first bill."""
    first = timezone.localdate() - timedelta(days=days - 1)
    return _at(first, OPENS) - timedelta(hours=1)


def demo_sales(
    *,
    days: int = 30,
    bills_per_day: tuple[int, int] = (4, 9),
    refund_share: float = 0.12,
    seed: int = 14,
    user: Actor = None,
    shelf: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """Trade on each of the last ``days`` local days, today included (only up to now), at the
    default till: ``bills_per_day`` (a range) bills from the active products in stock, paid in
    cash (with notes, the change from the drawer), UPI or card; about ``refund_share`` of the UPI
    and card bills have one item brought back, the same day or one of the next two. Weekends sell
    more. With ``shelf`` (SKU to shelf level), a delivery brings the products back up to their
    level before the till opens each Monday (``demo_restock``).

    Each day with a bill or a refund is one till session: opened with the drawer's float counted
    as the ledger holds it, closed after the day's takings go to the safe and its change comes
    back, with a count of what the drawer then holds, so every session closes with no variance
    and the drawer starts each day with the float it started the demo with. The last session is
    closed too (today's at the current time): the next cashier opens the till.

    Returns ``{"bills": n, "refunds": m, "sessions": s}``. The same ``seed`` gives the same sales."""
    rng = random.Random(seed)
    made = {"bills": 0, "refunds": 0, "sessions": 0}
    products = list(Product.objects.active().order_by("id"))
    if not products:
        return made
    # A few best sellers: earlier products in the catalogue sell more often.
    weights = [len(products) - index for index in range(len(products))]
    till = till_default()
    float_counts = _counts(till.pk)
    now = timezone.localtime()
    order = itertools.count()  # breaks ties between events at the same moment: first planned, first done
    # (when, order, the bill an item is brought back to and that item's product; both None: a new bill)
    events: list[tuple[datetime, int, int | None, int | None]] = []
    for back in range(days - 1, -1, -1):
        day = now.date() - timedelta(days=back)
        if shelf and day.weekday() == 0:
            with demo_clock(_at(day, DELIVERY)):
                demo_restock(levels=shelf)
        low, high = bills_per_day
        for _ in range(rng.randint(low, high) + (2 if day.weekday() >= 5 else 0)):
            hour = rng.choices(list(HOURS), weights=list(HOURS.values()))[0]
            when = _at(day, time(hour, rng.randrange(60), rng.randrange(60)))
            if when < now:
                heapq.heappush(events, (when, next(order), None, None))
        closes = min(_at(day, CLOSES), now)
        if not events or events[0][0] > closes:
            continue  # nothing to ring up today (yet): the till stays closed

        with demo_clock(_at(day, OPENS)):
            session = session_open(till_id=till.pk, counted=_pieces(_counts(till.pk)), note=DAY_NOTE, user=user)
        made["sessions"] += 1
        while events and events[0][0] <= closes:
            when, _, bill_id, product_id = heapq.heappop(events)
            if bill_id is not None and product_id is not None:
                with demo_clock(when):
                    refund_create(
                        purchase_id=bill_id,
                        items=[{"product_id": product_id, "quantity": 1}],
                        reason="demo: returned",
                        user=user,
                    )
                made["refunds"] += 1
                continue
            with demo_clock(when):
                bill = _bill(rng, products, weights, till_id=till.pk, user=user)
            if bill is None:
                continue
            made["bills"] += 1
            if bill.payments.filter(is_cash=False).exists() and rng.random() < refund_share:
                item = bill.items.order_by("id").first()
                later = _brought_back(rng, sold=when, now=now)
                if item is not None:
                    heapq.heappush(events, (later, next(order), bill.pk, item.product_id))
        with demo_clock(closes):
            _close_the_day(session_id=session.pk, till_id=till.pk, float_counts=float_counts, user=user)
    return made


DEMO_SUPPLIER = "Demo Wholesale Traders"
COST_SHARE = Decimal("0.72")  # what the demo's goods cost, as a share of their price


def demo_restock(*, levels: Mapping[str, int], when: date | None = None) -> list[Product]:
    """A delivery (the demo's weekly one, and the one after its month, so the shop can trade the
    next day): every product whose SKU is in ``levels`` and whose stock is below its level is
    brought up to it, as goods received from the demo's wholesaler (``receipt_create``, at 72 % of
    the price: the shop's cost, so the sales report has a margin). A level under
    ``LOW_STOCK_THRESHOLD`` keeps that product low on purpose. Returns the products restocked."""
    lines, restocked = [], []
    for product in Product.objects.filter(sku__in=list(levels)).order_by("pk"):
        level = levels[product.sku or ""]
        if product.stock < level:
            cost = (product.price * COST_SHARE).quantize(Decimal("0.01"))
            lines.append(
                {
                    "product_id": product.pk,
                    "quantity": level - product.stock,
                    "unit_cost": cost,
                    "tax_percent": product.tax_percent,
                }
            )
            restocked.append(product)
    if lines:
        supplier = Supplier.objects.filter(name=DEMO_SUPPLIER).first() or supplier_save(name=DEMO_SUPPLIER)
        day = when or timezone.localdate()
        receipt_create(
            supplier=supplier.pk,
            supplier_invoice=f"DW/{day:%Y%m%d}/{Receipt.objects.count() + 1}",
            invoice_date=day,
            lines=lines,
            user=None,
        )
    return [Product.objects.get(pk=product.pk) for product in restocked]


def _at(day: date, at: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, at))


def _brought_back(rng: random.Random, *, sold: datetime, now: datetime) -> datetime:
    """When an item sold at ``sold`` comes back: during opening hours, the same day or one of the
    next two, at least half an hour later; if that is not yet, soon after the sale instead."""
    back_on = timezone.localdate(sold) + timedelta(days=rng.randint(0, 2))
    later = max(_at(back_on, time(rng.choice(list(HOURS)), rng.randrange(60))), sold + timedelta(minutes=30))
    return later if later < now else sold + min(timedelta(minutes=30), (now - sold) / 2)


def _counts(till_id: int) -> dict[Decimal, int]:
    return {d.value: d.count for d in drawer_list(till_id=till_id)}


def _pieces(counts: Mapping[Decimal, int]) -> list[PieceRow]:
    return [{"value": value, "count": count} for value, count in sorted(counts.items(), reverse=True) if count]


def _total(pieces: Mapping[Decimal, int]) -> Decimal:
    return sum((value * count for value, count in pieces.items()), Decimal("0.00"))


def _close_the_day(*, session_id: int, till_id: int, float_counts: Mapping[Decimal, int], user: Actor) -> None:
    """The takings above the float go to the safe, the safe gives back the change the day used up,
    and the till is closed with a count of the drawer: the float again, no variance."""
    counts = _counts(till_id)
    over = {v: c - float_counts.get(v, 0) for v, c in counts.items() if c > float_counts.get(v, 0)}
    short = {v: float_counts[v] - c for v, c in counts.items() if c < float_counts.get(v, 0)}
    if over:
        cash_movement_create(session_id=session_id, direction="out", pieces=_pieces(over), reason=TAKINGS, user=user)
    if short:
        cash_movement_create(session_id=session_id, direction="in", pieces=_pieces(short), reason=CHANGE, user=user)
    session_close(session_id=session_id, counted=_pieces(_counts(till_id)), user=user)


def _notes_for(amount: Decimal, values: list[Decimal]) -> dict[Decimal, int] | None:
    """``amount`` in pieces of ``values``, largest first (the fewest, for rupee notes and coins), or
    None when they cannot make it."""
    pieces: dict[Decimal, int] = {}
    for value in values:
        count, amount = divmod(amount, value)
        if count:
            pieces[value] = int(count)
    return pieces if amount == 0 else None


def _tender(rng: random.Random, payable: Decimal, *, till_id: int) -> dict[Decimal, int] | None:
    """What the customer hands over for ``payable``: now and then the exact amount, usually notes
    rounded up (to 10, 50, 100 or 500) when the drawer can give the change; None when the drawer's
    values cannot make the amount at all."""
    drawer = list(drawer_list(till_id=till_id))
    values = [d.value for d in drawer]
    exact = _notes_for(payable, [v for v in values if v <= NOTES[0]])
    if rng.random() < 0.25:
        return exact
    step = rng.choices([s for s, _ in ROUND_UP_TO], weights=[w for _, w in ROUND_UP_TO])[0]
    handed = _notes_for((payable / step).to_integral_value(rounding=ROUND_CEILING) * step, NOTES)
    if handed is None or not set(handed) <= set(values):
        return exact
    try:  # as the till will: refused when the drawer cannot make the change
        drawer_plan_change(denominations=drawer, tendered=handed, change_due=_total(handed) - payable)
    except ChangeUnavailable:
        return exact
    return handed


def _bill(
    rng: random.Random, products: list[Product], weights: list[int], *, till_id: int, user: Actor
) -> Purchase | None:
    picked = {p.pk: p for p in rng.choices(products, weights=weights, k=rng.choice((1, 1, 2, 2, 3, 4)))}
    quantities = {pk: rng.choice((1, 1, 1, 2, 2, 3)) for pk in picked}
    fresh = {p.pk: p for p in Product.objects.filter(pk__in=picked, stock__gte=1)}
    quantities = {pk: min(q, fresh[pk].stock) for pk, q in quantities.items() if pk in fresh}
    if not quantities:
        return None
    # Now and then a loyalty discount on the whole bill, within what a cashier may give.
    discount = DISCOUNT if rng.random() < 0.15 else Decimal("0")
    priced = quote(fresh, quantities, bill_discount=discount)
    reason = "demo: loyalty card" if discount else ""
    method = rng.choices([m for m, _ in METHODS], weights=[w for _, w in METHODS])[0]
    items: list[BillLine] = [{"product_id": pk, "quantity": q} for pk, q in quantities.items()]
    email = rng.choice(CUSTOMERS)
    tendered = _tender(rng, priced.payable, till_id=till_id) if method == "cash" else None
    try:
        if tendered is not None:
            # Paid in notes and coins, the change from the drawer: the drawer holds what its ledger says.
            return purchase_create(
                customer_email=email,
                items=items,
                paid_amount=_total(tendered),
                tendered=_pieces(tendered),
                send_invoice=False,
                user=user,
                discount_percent=discount,
                discount_reason=reason,
            )
        if method == "cash":
            method = "upi"  # a drawer without the values to make the amount: the customer pays by UPI
        return purchase_create(
            customer_email=email,
            items=items,
            payments=[
                {"method": method, "amount": priced.total, "reference": _reference(method, rng.randrange(10**6))}
            ],
            send_invoice=False,
            user=user,
            discount_percent=discount,
            discount_reason=reason,
        )
    except InsufficientStock:
        return None


def _reference(method: str, number: int) -> str:
    """A demo payment's reference: a UPI payment's 12-digit UTR, a card's slip number."""
    return f"6{number:011d}" if method == "upi" else f"DEMO-{number:06d}"
