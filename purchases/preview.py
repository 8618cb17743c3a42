"""The billing page's live preview of a bill that has not been rung up yet.

Read only: nothing is locked or written. The amounts come from ``pricing.quote()`` and the change
from ``drawer_plan_change()``, the same functions ``purchase_create`` uses, so the preview and the
bill cannot disagree on the arithmetic. The service stays the judge: a preview that looks fine can
still be refused (stock or the drawer may change before the bill is generated).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from billing_project.core.money import format_money
from billing_project.core.types import Actor, BillLine
from cashdrawer.errors import ChangeUnavailable
from cashdrawer.models import Denomination
from cashdrawer.services import drawer_plan_change
from catalog.models import Product
from catalog.selectors import at_store

from .models import PurchaseItem
from .pricing import Quote, Settlement, quote, settle
from .services import purchase_discount_refusal


@dataclass(frozen=True)
class RowInput:
    """One product row as entered: the text typed, what it resolved to and the quantity."""

    index: int
    term: str = ""
    product: Product | None = None
    quantity: Decimal | None = None
    problem: str = ""  # why the text did not resolve to a product
    discount: Decimal = Decimal("0")  # the line's own discount percent


@dataclass(frozen=True)
class RowPreview:
    index: int
    term: str
    product: Product | None
    quantity: Decimal | None
    line: PurchaseItem | None
    problem: str
    discount: Decimal = Decimal("0")

    @property
    def is_empty(self) -> bool:
        return not self.term


@dataclass(frozen=True)
class BillPreview:
    rows: list[RowPreview]
    quote: Quote | None
    paid: Decimal | None = None
    change_due: Decimal | None = None
    change: list[dict] = field(default_factory=list)
    payment_problem: str = ""
    # Set when the bill is already known to be refused, for stock or for its discounts: no change is
    # offered then.
    stock_problem: str = ""
    discount_problem: str = ""
    # With card or UPI amounts: what they cover and what is left to pay in cash (rounded).
    settlement: Settlement | None = None
    non_cash: Decimal = Decimal("0.00")

    @property
    def payable(self) -> Decimal | None:
        if self.settlement is not None:
            return self.settlement.payable
        return self.quote.payable if self.quote is not None else None

    @property
    def rounding(self) -> Decimal | None:
        if self.settlement is not None:
            return self.settlement.rounding
        return self.quote.rounding if self.quote is not None else None

    @property
    def cash_due(self) -> Decimal | None:
        return self.settlement.cash_due if self.settlement is not None else None


def pieces_total(pieces: Mapping[Decimal, int]) -> Decimal:
    """What a handful of notes and coins is worth: ``{value: count}`` → amount."""
    return sum((value * count for value, count in pieces.items()), Decimal("0.00"))


def bill_preview(
    *,
    rows: Sequence[RowInput],
    tendered: Mapping[Decimal, int],
    paid_amount: Decimal | None,
    denominations: Iterable[Denomination],
    non_cash: Sequence[Decimal] = (),
    bill_discount: Decimal = Decimal("0"),
    discount_reason: str = "",
    user: Actor = None,
    store_id: int | None = None,
) -> BillPreview:
    """Preview a bill: each row's product and line amounts, the bill's totals and, once a payment is
    entered, the change the drawer would hand back.

    ``tendered`` are the notes entered (``{value: count}``, counts > 0); ``paid_amount`` is the plain
    amount field (the cash paid). As in ``purchase_create``, when notes are given they are the cash
    payment. ``non_cash`` are card and UPI amounts: only the rest, paid in cash, is rounded
    (``pricing.settle``). Discounts are the rows' own and ``bill_discount``; when the service would
    refuse them for ``user`` (``purchase_discount_refusal``: above the limit, no reason), the preview
    says so instead of offering change. ``store_id`` (the till's store): the rows' products are
    priced and stocked as that store's bill takes them (``catalog.selectors.at_store``)."""
    at_store([row.product for row in rows if row.product is not None], store_id)
    previews = [_row(row) for row in rows]
    sellable = [row for row in previews if row.line is not None]
    products: dict[int, Product] = {}
    quantities: dict[int, Decimal] = {}
    discounts: dict[int, Decimal] = {}
    for row in sellable:
        assert row.product is not None and row.quantity is not None  # a row with a line has both
        products[row.product.pk] = row.product
        quantities[row.product.pk] = quantities.get(row.product.pk, 0) + row.quantity
        discounts[row.product.pk] = row.discount
    bill = quote(products, quantities, line_discounts=discounts, bill_discount=bill_discount) if quantities else None
    short = [products[pk] for pk, quantity in quantities.items() if quantity > products[pk].stock]
    if short:
        # purchase_create would refuse this bill with insufficient_stock: offering a hand-back list
        # for it would only invite the cashier to count change out.
        names = ", ".join(f"{p.name} (only {p.stock_text} in stock)" for p in short)
        return BillPreview(
            rows=previews,
            quote=bill,
            paid=_paid(tendered, paid_amount),
            stock_problem=f"Not enough stock for {names}: this bill would be refused. Lower the quantity first.",
        )

    if sellable and (bill_discount or any(row.discount for row in sellable)):
        items: list[BillLine] = [
            {"product_id": row.product.pk, "quantity": row.quantity, "discount_percent": row.discount}
            for row in sellable
            if row.product is not None and row.quantity is not None
        ]
        refusal = purchase_discount_refusal(
            items=items, discount_percent=bill_discount, discount_reason=discount_reason, user=user
        )
        if refusal is not None:
            return BillPreview(
                rows=previews,
                quote=bill,
                paid=_paid(tendered, paid_amount),
                discount_problem=f"This bill would be refused: {refusal.message}",
            )

    notes_total = pieces_total(tendered) if tendered else None
    if notes_total is not None and paid_amount is not None and notes_total != paid_amount:
        return BillPreview(
            rows=previews,
            quote=bill,
            paid=notes_total,
            payment_problem=(
                f"The notes add up to {format_money(notes_total)}, not the {format_money(paid_amount)} entered as "
                "the amount paid."
            ),
        )
    cash = notes_total if notes_total is not None else paid_amount
    non_cash_total = sum(non_cash, Decimal("0.00"))
    if bill is None or (cash is None and not non_cash):
        return BillPreview(rows=previews, quote=bill, paid=cash)
    if non_cash_total > bill.total:
        return BillPreview(
            rows=previews,
            quote=bill,
            paid=non_cash_total + (cash or 0),
            non_cash=non_cash_total,
            payment_problem=(
                f"Card and UPI add up to {format_money(non_cash_total)}, more than the {format_money(bill.total)} due; "
                "no change is given from a card."
            ),
        )
    # No cash entered yet: show what is left to pay in cash, rounded.
    paying_cash = cash is not None or non_cash_total < bill.total
    settlement = settle(total=bill.total, non_cash=non_cash, cash=(cash or Decimal(0)) if paying_cash else None)
    paid = settlement.paid
    base = BillPreview(rows=previews, quote=bill, paid=paid, settlement=settlement, non_cash=non_cash_total)
    if paid < settlement.payable:
        return replace(
            base, payment_problem=f"Paid {format_money(paid)}, but {format_money(settlement.payable)} is payable."
        )
    change_due = settlement.change_due
    try:
        plan = drawer_plan_change(denominations=denominations, tendered=tendered, change_due=change_due)
    except ChangeUnavailable as exc:
        return replace(base, change_due=change_due, payment_problem=exc.message)
    change = [{"value": value, "count": count} for value, count in sorted(plan.items(), reverse=True)]
    return replace(base, change_due=change_due, change=change)


def _paid(tendered: Mapping[Decimal, int], paid_amount: Decimal | None) -> Decimal | None:
    return pieces_total(tendered) if tendered else paid_amount


def _row(row: RowInput) -> RowPreview:
    product, quantity, problem, line = row.product, row.quantity, row.problem, None
    if product is not None:
        if not product.is_active:
            problem = f"{product.name} is archived and cannot be sold."
        elif quantity:
            # A single-line quote gives this row's own amounts with the bill's arithmetic.
            line = quote(
                {product.pk: product}, {product.pk: quantity}, line_discounts={product.pk: row.discount}
            ).lines[0]
            if quantity > product.stock:
                problem = f"Only {product.stock_text} in stock."
    return RowPreview(
        index=row.index,
        term=row.term,
        product=product,
        quantity=quantity,
        line=line,
        problem=problem,
        discount=row.discount,
    )
