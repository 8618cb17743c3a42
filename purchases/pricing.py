"""A bill's arithmetic, in one place: used to ring up a bill and to preview one."""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from billing_project.money import cash_round, line_tax, money
from catalog.models import Product

from .models import PurchaseItem


@dataclass(frozen=True)
class Quote:
    lines: list[PurchaseItem]
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    payable: Decimal

    @property
    def rounding(self) -> Decimal:
        return self.payable - self.total


def quote(products: Mapping[int, Product], quantities: Mapping[int, int]) -> Quote:
    """Line subtotal = price × quantity; line tax = subtotal × tax% / 100, half-up to 0.01; the
    bill's amounts are sums of the lines; payable is the total rounded to the cash increment."""
    lines = [_line(products[pid], qty) for pid, qty in quantities.items()]
    subtotal = sum((line.subtotal for line in lines), Decimal("0.00"))
    tax_total = sum((line.tax_amount for line in lines), Decimal("0.00"))
    total = subtotal + tax_total
    return Quote(lines=lines, subtotal=subtotal, tax_total=tax_total, total=total, payable=cash_round(total))


def _line(product: Product, quantity: int) -> PurchaseItem:
    subtotal = money(product.price * quantity)
    tax_amount = line_tax(subtotal=subtotal, tax_percent=product.tax_percent)
    return PurchaseItem(
        product=product,
        product_name=product.name,
        quantity=quantity,
        unit_price=product.price,
        tax_percent=product.tax_percent,
        subtotal=subtotal,
        tax_amount=tax_amount,
        total=subtotal + tax_amount,
    )
