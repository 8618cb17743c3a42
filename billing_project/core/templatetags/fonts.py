"""``{% load fonts %}``: ``{% font_stack %}`` is the store's font stack (``billing_project.core.fonts``)
as a ``font-family`` value, for the emails' inline styles."""

from django import template

from billing_project.core.fonts import font_stack as _font_stack

register = template.Library()


@register.simple_tag
def font_stack() -> str:
    return _font_stack()
