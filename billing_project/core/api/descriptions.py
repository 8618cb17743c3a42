"""How the browsable API shows a view's docstring.

The docstrings mark code with backticks (`{"code", "message", "details"}`). DRF shows them as
typed unless the Markdown package is installed, and Markdown would also read the docstrings'
other characters (``*``, ``_``, ``<token>``) as markup; only the backticks are meant. So the page
gets each paragraph with its backticked parts as ``<code>``, and the JSON answers (OPTIONS) keep the
docstring as it is."""

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from rest_framework.views import get_view_description as plain_description

_CODE = re.compile(r"`([^`\n]+)`")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def view_description(view, html: bool = False) -> str | SafeString:
    """DRF's ``VIEW_DESCRIPTION_FUNCTION``: the docstring as text, or as HTML paragraphs for the page."""
    text = plain_description(view, html=False)
    if not html:
        return text
    paragraphs = (" ".join(part.split()) for part in _PARAGRAPH_BREAK.split(text) if part.strip())
    # The text is escaped first; the only markup added is <code> around backticked parts.
    return mark_safe("".join("<p>" + _CODE.sub(r"<code>\1</code>", escape(p)) + "</p>" for p in paragraphs))  # noqa: S308
