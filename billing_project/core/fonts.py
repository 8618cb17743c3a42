"""The font stack of the PDFs, the pages and the emails, named once: ``--font-text`` in
``static/core/fonts.css``. Pages and PDFs use the variable; emails get the list itself
(``{% load fonts %}{% font_stack %}``), since mail clients do not know CSS variables."""

import re
from functools import cache
from pathlib import Path

FONTS_CSS = Path(__file__).resolve().parent / "static" / "core" / "fonts.css"


@cache
def font_stack() -> str:
    """The families of ``--font-text``, as a ``font-family`` value: ``"DejaVu Sans", …, sans-serif``."""
    found = re.search(r"--font-text:\s*([^;]+);", FONTS_CSS.read_text(encoding="utf-8"))
    if found is None:
        raise RuntimeError(f"{FONTS_CSS} names no --font-text")
    return " ".join(found[1].split())
