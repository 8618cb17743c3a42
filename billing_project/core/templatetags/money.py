"""``{% load money %}``: ``{{ amount|money }}`` → ``₹1,263.00``, ``{{ amount|amount }}`` → ``1,263.00``.

Both use ``billing_project.core.money.format_money``, as the refusal messages do, so a page never writes
an amount two ways. An empty value prints as the one empty mark, ``—``."""

from django import template

from billing_project.core.money import format_money, format_note

register = template.Library()

EMPTY = "—"


@register.filter(name="money")
def money_filter(value, currency=None):
    if value is None or value == "":
        return EMPTY
    return format_money(value, currency=currency or None)


@register.filter(name="amount")
def amount_filter(value):
    if value is None or value == "":
        return EMPTY
    return format_money(value, sign=False)


@register.filter(name="note")
def note_filter(value):
    """A note or coin's value: ``₹500``, ``₹0.50``."""
    if value is None or value == "":
        return EMPTY
    return format_note(value)
