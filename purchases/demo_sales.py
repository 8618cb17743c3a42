"""A month of demo sales for the sales dashboard: bills and a few refunds rung up through the real
services (``purchase_create``, ``refund_create``), then placed on past days.

The services stamp every bill and refund with the current time, as they must; a demo of a month
of trading needs them spread over that month, so after each is made this module moves its
``created_at`` (a bill's lines keep a copy of it) and nothing else to a time of day on one of the
past days. It is for demo
databases (``seed_demo --sales``) and the README's screenshot only; nothing in the application
calls it.
"""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from billing_project.types import BillLine
from catalog.models import Product

from .errors import InsufficientStock
from .models import Purchase, PurchaseItem, Refund
from .pricing import quote
from .services import purchase_create, refund_create

# Hours the shop is busy, with a weight each: a late-morning and an evening peak.
HOURS = {9: 2, 10: 4, 11: 7, 12: 6, 13: 4, 14: 3, 15: 3, 16: 4, 17: 6, 18: 8, 19: 7, 20: 4, 21: 2}
METHODS = (("cash", 5), ("upi", 4), ("card", 2))
DISCOUNT = Decimal("5")
CUSTOMERS = [f"{name}@example.com" for name in ("asha", "ravi", "meena", "arjun", "kavya", "imran", "neha", "vikram")]


def demo_sales(
    *,
    days: int = 30,
    bills_per_day: tuple[int, int] = (4, 9),
    refund_share: float = 0.12,
    seed: int = 14,
    user=None,
) -> dict[str, int]:
    """Ring up ``bills_per_day`` (a range) bills on each of the last ``days`` local days, today
    included (only up to now), from the active products in stock, paid in cash, UPI or card, and
    refund one item of about ``refund_share`` of the UPI and card bills. Weekends sell more.
    Returns ``{"bills": n, "refunds": m}``. The same ``seed`` gives the same sales."""
    rng = random.Random(seed)
    products = list(Product.objects.active().order_by("id"))
    if not products:
        return {"bills": 0, "refunds": 0}
    # A few best sellers: earlier products in the catalogue sell more often.
    weights = [len(products) - index for index in range(len(products))]
    now = timezone.localtime()
    made = {"bills": 0, "refunds": 0}
    for back in range(days - 1, -1, -1):
        day = now.date() - timedelta(days=back)
        low, high = bills_per_day
        count = rng.randint(low, high) + (2 if day.weekday() >= 5 else 0)
        for _ in range(count):
            hour = rng.choices(list(HOURS), weights=list(HOURS.values()))[0]
            when = timezone.make_aware(datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60))))
            if when >= now:
                continue
            bill = _bill(rng, products, weights, user=user)
            if bill is None:
                continue
            _move_bill(bill.pk, when)
            made["bills"] += 1
            if bill.payments.filter(is_cash=False).exists() and rng.random() < refund_share:
                item = bill.items.order_by("id").first()
                # Brought back during opening hours, the same day or one of the next two.
                back_on = day + timedelta(days=rng.randint(0, 2))
                later = timezone.make_aware(datetime.combine(back_on, time(rng.choice(list(HOURS)), rng.randrange(60))))
                later = max(later, when + timedelta(minutes=30))
                if later >= now:  # not yet: soon after the sale instead
                    later = min(when + timedelta(minutes=30), now)
                if item is not None:
                    refund = refund_create(
                        purchase_id=bill.pk,
                        items=[{"product_id": item.product_id, "quantity": 1}],
                        reason="demo: returned",
                        user=user,
                    )
                    Refund.objects.filter(pk=refund.pk).update(created_at=later)
                    made["refunds"] += 1
    return made


def _bill(rng: random.Random, products: list[Product], weights: list[int], *, user) -> Purchase | None:
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
    try:
        if method == "cash":
            # Paid exactly: no change to make, so the demo never depends on the drawer's notes.
            return purchase_create(
                customer_email=email,
                items=items,
                paid_amount=priced.payable,
                send_invoice=False,
                user=user,
                discount_percent=discount,
                discount_reason=reason,
            )
        return purchase_create(
            customer_email=email,
            items=items,
            payments=[{"method": method, "amount": priced.total, "reference": f"DEMO-{rng.randrange(10**6):06d}"}],
            send_invoice=False,
            user=user,
            discount_percent=discount,
            discount_reason=reason,
        )
    except InsufficientStock:
        return None


def _move_bill(pk: int, when: datetime) -> None:
    """The bill's time, and its copy on each line (which the sales report reads by product)."""
    Purchase.objects.filter(pk=pk).update(created_at=when)
    PurchaseItem.objects.filter(purchase_id=pk).update(created_at=when)
