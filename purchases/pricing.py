"""A bill's arithmetic, in one place: used to ring up a bill and to preview one."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from billing_project.core.db import new_row
from billing_project.core.money import CENT, HUNDRED, cash_round, line_tax, money
from billing_project.core.quantities import Quantity
from catalog.models import Product

from .models import PurchaseItem, you_saved

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Quote:
    lines: list[PurchaseItem]
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    payable: Decimal
    discount_percent: Decimal = ZERO
    discount_total: Decimal = ZERO

    @property
    def rounding(self) -> Decimal:
        return self.payable - self.total

    @property
    def you_saved(self) -> Decimal:
        return you_saved(self.lines, self.discount_total)


@dataclass(frozen=True)
class Settlement:
    """What a bill's payments come to. With a cash payment, payable = non-cash + the rest rounded
    to the cash increment; without one, payable = total (nothing is rounded)."""

    payable: Decimal
    rounding: Decimal
    paid: Decimal
    cash_due: Decimal  # what the cash payment has to cover (payable − non-cash)
    change_due: Decimal  # paid − payable, when enough was paid


def effective_discount(line_percent: Decimal, bill_percent: Decimal) -> Decimal:
    """A line's effective discount rate in percent, exactly: 1 − (1 − line%)(1 − bill%).

    10% and 10% give 19%; the result has at most 6 decimal places, never rounded."""
    return line_percent + bill_percent - line_percent * bill_percent / HUNDRED


def quote(
    products: Mapping[int, Product],
    quantities: Mapping[int, Quantity],
    *,
    line_discounts: Mapping[int, Decimal] | None = None,
    bill_discount: Decimal = ZERO,
) -> Quote:
    """Per line: gross = price × quantity, rounded half-up to 0.01 once (a weighed line's quantity
    has up to 3 places); discount = gross × effective rate, half-up to 0.01;
    subtotal = gross − discount (the taxable value); tax = subtotal × tax% / 100, half-up to 0.01;
    total = subtotal + tax. The bill's amounts are sums of the lines. ``payable`` is the total
    rounded to the cash increment, as for a bill paid all in cash (``settle`` gives the payable for
    other payments)."""
    line_discounts = line_discounts or {}
    lines = [
        _line(products[pid], qty, effective_discount(line_discounts.get(pid, ZERO), bill_discount))
        for pid, qty in quantities.items()
    ]
    subtotal = sum((line.subtotal for line in lines), ZERO)
    tax_total = sum((line.tax_amount for line in lines), ZERO)
    discount_total = sum((line.discount_amount for line in lines), ZERO)
    total = subtotal + tax_total
    return Quote(
        lines=lines,
        subtotal=subtotal,
        tax_total=tax_total,
        total=total,
        payable=cash_round(total),
        discount_percent=bill_discount,
        discount_total=discount_total,
    )


def settle(*, total: Decimal, non_cash: Sequence[Decimal], cash: Decimal | None) -> Settlement:
    """The payable, rounding and change for ``total`` paid with the ``non_cash`` amounts and
    ``cash`` (``None``: no cash payment). Rounding touches only the cash part; change is cash.

    Example (increment 1.00, HALF_UP): total 100.40 paid by card 50.00 + cash: the cash part 50.40
    rounds to 50.00, so payable = 100.00 and rounding = −0.40. By card alone, payable = 100.40.

    The caller checks that the non-cash amounts do not exceed ``total`` (no change from a card) and
    that ``paid >= payable``; ``change_due`` is only meaningful then."""
    non_cash_total = sum(non_cash, ZERO)
    if cash is None:
        payable, paid = total, non_cash_total
    else:
        payable = non_cash_total + cash_round(max(total - non_cash_total, ZERO))
        paid = non_cash_total + cash
    return Settlement(
        payable=payable,
        rounding=payable - total,
        paid=paid,
        cash_due=payable - non_cash_total,
        change_due=paid - payable,
    )


def _line(product: Product, quantity: Quantity, discount_percent: Decimal) -> PurchaseItem:
    gross = money(product.price * quantity)
    discount_amount = money(gross * discount_percent / HUNDRED)
    subtotal = gross - discount_amount
    tax_amount = line_tax(subtotal=subtotal, tax_percent=product.tax_percent)
    return new_row(
        PurchaseItem,
        product=product,
        product_name=product.name,
        unit=product.unit,
        quantity=quantity,
        unit_price=product.price,
        mrp=product.mrp,
        tax_percent=product.tax_percent,
        cost_price=product.cost_price,
        gross=gross,
        discount_percent=discount_percent,
        discount_amount=discount_amount,
        subtotal=subtotal,
        tax_amount=tax_amount,
        total=subtotal + tax_amount,
    )


def line_own_discount(effective: Decimal, bill_percent: Decimal) -> Decimal:
    """A line's own discount percent, from its effective rate and the bill discount: the inverse of
    ``effective_discount``, exact since both percents have at most 2 places. Under a 100% bill
    discount the line's own leaves no trace in the effective rate; it counts as 0 then."""
    if bill_percent >= HUNDRED:
        return ZERO
    return ((effective - bill_percent) * HUNDRED / (HUNDRED - bill_percent)).quantize(CENT)


@dataclass(frozen=True)
class DiscountShares:
    """What a line's ``discount_amount`` is made of: its own discount, taken off the gross first,
    and the bill discount, taken off what is left. ``bill`` is the remainder, so the two add up to
    the line's discount exactly."""

    own_percent: Decimal
    own: Decimal
    bill: Decimal


def discount_shares(line: PurchaseItem, bill_percent: Decimal) -> DiscountShares:
    own_percent = line_own_discount(line.discount_percent, bill_percent)
    own = money(line.gross * own_percent / HUNDRED)
    return DiscountShares(own_percent=own_percent, own=own, bill=line.discount_amount - own)
