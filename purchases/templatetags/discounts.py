"""``{% load discounts %}``: a bill's discounts written as a shop writes them.

A line keeps only its effective rate (``9.75`` for 5 % and then 5 %); the receipt shows what was
given: ``5 % + 5 % off ₹570.00 = −₹55.58``, or ``5 % off ₹570.00 = −₹28.50`` for one discount. The
totals say what they add up: the lines' own discounts, and the bill discount with its percent
(``pricing.discount_shares``). Amounts go through ``format_money``, as everywhere."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django import template
from django.utils.html import format_html, format_html_join

from billing_project.core.money import format_money

from ..models import PurchaseItem
from ..pricing import ZERO, discount_shares

register = template.Library()


def percent(value: Decimal) -> str:
    """``5 %``, ``12.5 %``: the percent as entered, with a space as on a shop's price tag."""
    return f"{value.normalize():f} %"


@register.filter
def line_discount(line: PurchaseItem, bill_percent: Decimal) -> str:
    """``{{ item|line_discount:purchase.discount_percent }}``: what came off this line, or ''. Each
    percent and amount stays on one line when the text wraps (a narrow receipt)."""
    if not line.discount_amount:
        return ""
    own_percent = discount_shares(line, bill_percent).own_percent
    given = format_html_join(
        " + ", '<span class="nowrap">{}</span>', ((percent(p),) for p in (own_percent, bill_percent) if p)
    )
    return format_html(
        '{} off <span class="nowrap">{}</span> = <span class="nowrap">−{}</span>',
        given,
        format_money(line.gross),
        format_money(line.discount_amount),
    )


@dataclass(frozen=True)
class DiscountTotals:
    items: Decimal  # the lines' gross, before any discount
    lines: Decimal  # the lines' own discounts
    bill: Decimal  # the bill discount's part of every line
    bill_percent: Decimal
    any_line: bool  # whether a line has a discount of its own (even one that rounds to 0.00)

    @property
    def bill_label(self) -> str:
        return f"Bill discount {percent(self.bill_percent)}"


@register.simple_tag
def discount_totals(lines: Iterable[PurchaseItem], bill_percent: Decimal) -> DiscountTotals:
    """``{% discount_totals purchase.items.all purchase.discount_percent as discounts %}``."""
    items = own = bill = ZERO
    any_line = False
    for line in lines:
        shares = discount_shares(line, bill_percent)
        items += line.gross
        own += shares.own
        bill += shares.bill
        any_line = any_line or bool(shares.own_percent)
    return DiscountTotals(items=items, lines=own, bill=bill, bill_percent=bill_percent, any_line=any_line)
