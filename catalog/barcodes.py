"""Barcodes: a product's own (EAN-13, EAN-8, UPC-A) and the labels a weighing scale prints.

A product's ``barcode`` is 8, 12 or 13 digits with a valid check digit (``python-stdnum``'s EAN
module checks it). A UPC-A (12 digits) is the EAN-13 with a leading 0: a scanner may send either
form, and both find the product.

A scale prints EAN-13 labels in GS1's in-store range (first digit 2) in the store's format, set
once in ``SCALE_BARCODE_FORMAT`` (``scale_format`` parses it once; a system check refuses a bad
one at startup). The format is 13 characters: fixed digits (the prefix the store's scales print,
starting with 2), a run of ``P`` (the product's ``plu``), a run of ``W`` (the weight in grams) or
of ``$`` (the price in paise), and ``C``, the EAN-13 check digit, last. ``21PPPPPWWWWWC`` reads
``2112345007502`` as 750 g of the product whose PLU is 12345.
"""

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from django.conf import settings
from django.core import checks
from stdnum import ean
from stdnum.exceptions import ValidationError as StdnumError

BARCODE_LENGTHS = (8, 12, 13)
BARCODE_MAX_LENGTH = 13
BARCODE_DIGITS = r"^([0-9]{8}|[0-9]{12,13})$"  # the form; the check digit is barcode_problem's
PLU_MAX_LENGTH = 8
PLU_PATTERN = r"^[1-9][0-9]{0,7}$"  # a number: no leading zero (a label's 00123 is PLU 123)
SCALE_LENGTH = 13


def barcode_problem(code: str) -> str:
    """Why ``code`` is not an EAN-13, EAN-8 or UPC-A, or ``""``."""
    if not code.isascii() or not code.isdigit():
        return "A barcode is 8, 12 or 13 digits."
    if len(code) not in BARCODE_LENGTHS:
        return "A barcode is 8 (EAN-8), 12 (UPC-A) or 13 (EAN-13) digits."
    try:
        ean.validate(code)
    except StdnumError:
        return "The barcode's check digit is wrong."
    return ""


def barcode_forms(code: str) -> list[str]:
    """The stored forms a scanned code may match: itself, and a UPC-A with or without the EAN-13's
    leading 0."""
    if len(code) == 12:
        return [code, "0" + code]
    if len(code) == 13 and code.startswith("0"):
        return [code, code[1:]]
    return [code]


def looks_like_barcode(code: str) -> bool:
    return code.isascii() and code.isdigit() and len(code) in BARCODE_LENGTHS


@dataclass(frozen=True)
class ScaleFormat:
    """A parsed ``SCALE_BARCODE_FORMAT``: the fixed prefix and the slices of the PLU and the
    weight (grams) or price (paise)."""

    text: str
    prefix: str
    plu: slice
    value: slice
    by_price: bool

    def matches(self, code: str) -> bool:
        return len(code) == SCALE_LENGTH and code.isascii() and code.isdigit() and code.startswith(self.prefix)


@dataclass(frozen=True)
class ScaleLabel:
    plu: str  # as printed, zeros included
    grams: int | None  # a weight label
    paise: int | None  # a price label

    @property
    def price(self) -> Decimal | None:
        return None if self.paise is None else Decimal(self.paise) / 100


class ScaleFormatError(ValueError):
    pass


@lru_cache(maxsize=8)
def parse_scale_format(text: str) -> ScaleFormat:
    """Parse a format such as ``21PPPPPWWWWWC``; ``ScaleFormatError`` says what is wrong."""
    if len(text) != SCALE_LENGTH:
        raise ScaleFormatError(f"it has {len(text)} characters; an EAN-13 label has 13")
    if not text.isascii() or set(text) - set("0123456789PW$C"):
        raise ScaleFormatError("it may hold only digits, P, W, $ and C")
    if text[-1] != "C" or text.count("C") != 1:
        raise ScaleFormatError("it ends with C, the check digit, and has no other C")
    prefix = text[: len(text) - len(text.lstrip("0123456789"))]
    if not prefix.startswith("2"):
        raise ScaleFormatError("it starts with the scales' prefix, in GS1's in-store range: a 2")
    if "W" in text and "$" in text:
        raise ScaleFormatError("it has a weight (W) or a price ($), not both")
    if "W" not in text and "$" not in text:
        raise ScaleFormatError("it has a weight (W) or a price ($)")
    if "P" not in text:
        raise ScaleFormatError("it has the PLU (P)")
    value_char = "W" if "W" in text else "$"
    body = text[len(prefix) : -1]
    if set(body) - {"P", value_char}:
        raise ScaleFormatError("after the prefix come the PLU and the weight or price, then C")
    spans = {}
    for char in ("P", value_char):
        start, end = text.index(char), text.rindex(char) + 1
        if text[start:end] != char * (end - start):
            raise ScaleFormatError(f"its {char}s are one run")
        spans[char] = slice(start, end)
    return ScaleFormat(text=text, prefix=prefix, plu=spans["P"], value=spans[value_char], by_price=value_char == "$")


def scale_format() -> ScaleFormat:
    """The store's ``SCALE_BARCODE_FORMAT``, parsed once per value."""
    return parse_scale_format(settings.SCALE_BARCODE_FORMAT)


def read_scale_label(code: str) -> ScaleLabel | None:
    """``code`` as one of the store's scale labels, or ``None`` when it is not one (another length,
    another prefix). Its check digit is not checked here: see ``barcode_problem``."""
    fmt = scale_format()
    if not fmt.matches(code):
        return None
    value = int(code[fmt.value])
    return ScaleLabel(plu=code[fmt.plu], grams=None if fmt.by_price else value, paise=value if fmt.by_price else None)


def plu_forms(printed: str) -> list[str]:
    """The stored PLU a label's digits name: the number without its leading zeros."""
    stripped = printed.lstrip("0")
    return [stripped] if stripped else []


@checks.register(checks.Tags.compatibility)
def check_scale_format(app_configs=None, **kwargs):
    """Startup refuses a ``SCALE_BARCODE_FORMAT`` the scale labels could not be read with."""
    text = getattr(settings, "SCALE_BARCODE_FORMAT", None)
    if not isinstance(text, str):
        return [checks.Error("SCALE_BARCODE_FORMAT must be a string.", id="catalog.E001")]
    try:
        parse_scale_format(text)
    except ScaleFormatError as exc:
        return [
            checks.Error(
                f"SCALE_BARCODE_FORMAT {text!r} is not a scale label format: {exc}.",
                hint="For example 21PPPPPWWWWWC (prefix 21, a 5-digit PLU, grams, the check digit) "
                "or 22PPPPP$$$$$C (the price in paise).",
                id="catalog.E001",
            )
        ]
    return []
