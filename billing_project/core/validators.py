"""Input rules shared by every way in: the API, the billing page, the admin and the file import.

One place says which characters free text may hold, what a whole number looks like and what a
customer's email address is, so a name refused by the API is refused by the admin and by
``seed_stock`` too, and the API schema publishes the same rule as a pattern (``text_pattern()``,
``CUSTOMER_EMAIL_PATTERN``).
"""

import functools
import re
import sys
import unicodedata

import phonenumbers
from django.core.exceptions import ValidationError

# Control characters, format characters (bidi overrides and isolates, zero-width spaces, the
# byte-order mark, invisible tag characters) and line/paragraph separators: none belongs in a name,
# a SKU or a reason a person types and reads. A right-to-left override makes "Soap" display as
# another product's name; a zero-width space makes two SKUs that look the same.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
# Zero-width (non-)joiners are format characters, but Indic scripts (and emoji sequences) need them
# to write words correctly, so product names may hold them. SKUs and other codes may not.
JOINERS = frozenset({"\u200c", "\u200d"})


def _refused_ranges(allowed: frozenset[str]) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for code in range(sys.maxunicode + 1):
        ch = chr(code)
        if unicodedata.category(ch) in _REFUSED_CATEGORIES and ch not in allowed:
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return ranges


def _negated_class(ranges: list[tuple[int, int]]) -> str:
    """A character class of everything outside ``ranges``, as ``\\uXXXX`` escapes that Python, ECMA 262
    and the schema validators all read. Only the BMP: surrogates cannot be sent in valid UTF-8, and the
    few format characters above it (musical and shorthand format controls, tags) cannot be written in
    a pattern every dialect reads; the validators still refuse them."""
    parts = []
    for low, high in ranges:
        if low > 0xFFFF or (low >= 0xD800 and high <= 0xDFFF):
            continue
        parts.append(f"\\u{low:04x}" if low == high else f"\\u{low:04x}-\\u{min(high, 0xFFFF):04x}")
    return "[^" + "".join(parts) + "]"


@functools.cache
def text_pattern() -> str:
    """The JSON schema pattern of ``validate_plain_text``: no refused character."""
    return f"^{_negated_class(_refused_ranges(JOINERS))}*$"


@functools.cache
def code_pattern() -> str:
    """The JSON schema pattern of ``validate_code_text``."""
    return f"^{_negated_class(_refused_ranges(frozenset()))}*$"


def _invisible(value: str, allowed: frozenset[str]) -> str | None:
    for ch in value:
        if unicodedata.category(ch) in _REFUSED_CATEGORIES and ch not in allowed:
            return ch
    return None


def validate_plain_text(value: str) -> None:
    """Names, reasons and other free text: no control, bidi or other invisible formatting characters
    (zero-width joiners are allowed: Indic scripts need them)."""
    ch = _invisible(value, JOINERS)
    if ch is not None:
        raise ValidationError(
            "Remove the invisible or control character (%(char)s).", code="invisible", params={"char": _name(ch)}
        )


def validate_code_text(value: str) -> None:
    """SKUs and other codes: like ``validate_plain_text``, and no zero-width joiners either."""
    ch = _invisible(value, frozenset())
    if ch is not None:
        raise ValidationError(
            "Remove the invisible or control character (%(char)s).", code="invisible", params={"char": _name(ch)}
        )


def _name(ch: str) -> str:
    return f"U+{ord(ch):04X}" + (f" {unicodedata.name(ch)}" if unicodedata.name(ch, "") else "")


# Whole numbers are written with ASCII digits: int() also reads "５" (full-width) or "٥" (Arabic-Indic),
# which a till must not take as a quantity.
ASCII_INTEGER = re.compile(r"-?[0-9]+")


# --- Customer emails ------------------------------------------------------------------------------------------------
# The one rule for a customer's email address, used by the API, the billing page, the admin and
# ``customer_normalize_email`` (which every bill goes through). ``CUSTOMER_EMAIL_PATTERN`` is also
# published as the API schema's pattern for the address, so the schema says exactly what is taken.
#
# What a shop takes: an ordinary mailbox someone can type from a receipt and receive mail at.
#
# - The local part (before the ``@``) is ASCII, dot-separated runs of letters, digits and
#   ``!#$%&'*+/=?^_`{|}~-``; at most 64 characters. No quoted local parts, no comments.
# - The domain is a real internet domain name: at least two labels (``root@localhost`` is refused),
#   labels of letters, digits and inner hyphens, a top-level label that starts with a letter (so no
#   ``1.2.3.4``), and no IP literals (``a@[127.0.0.1]``). Internationalised domains (IDN, e.g.
#   ``bücher.example``) are taken, in Latin, Greek and Cyrillic letters, up to 16 characters a label
#   (so that the label's IDNA form, which mail is delivered to, fits DNS's 63).
# - At most 254 characters in all, and no invisible or control characters.
MAX_EMAIL_LENGTH = 254
MAX_LOCAL_PART_LENGTH = 64

_ATEXT = "-A-Za-z0-9!#$%&'*+/=?^_`{|}~"  # the hyphen first: a literal, not a range
# Letters of internationalised domain labels: Latin-1 and Latin Extended-A, Greek, Cyrillic. Every one
# of them has an IDNA 2003 form (Python's "idna" codec), so a label's only other limit is its length.
_IDN_LETTERS = (
    "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u012f\u0131-\u017f"  # À-Ö Ø-ö ø-ſ but İ (lower-cased, it is two characters)
    "\u0391-\u03a1\u03a3-\u03a9\u03b1-\u03c9"  # Α-Ρ Σ-Ω α-ω
    "\u0410-\u044f"  # А-я
)
_ASCII_CHAR = "[A-Za-z0-9]"
_ASCII_LABEL = f"{_ASCII_CHAR}(?:[-A-Za-z0-9]{{0,61}}{_ASCII_CHAR})?"
_ASCII_TOP_LABEL = f"[A-Za-z](?:[-A-Za-z0-9]{{0,61}}{_ASCII_CHAR})"
# A label with other letters is at most MAX_IDN_LABEL_LENGTH characters, so that its IDNA form
# ("xn--" and punycode) always fits the 63 characters DNS allows.
MAX_IDN_LABEL_LENGTH = 16
_IDN_CHAR = f"[A-Za-z0-9{_IDN_LETTERS}]"
_IDN_LABEL = f"{_IDN_CHAR}(?:[-A-Za-z0-9{_IDN_LETTERS}]{{0,{MAX_IDN_LABEL_LENGTH - 2}}}{_IDN_CHAR})?"
_IDN_TOP_LABEL = f"[A-Za-z{_IDN_LETTERS}](?:[-A-Za-z0-9{_IDN_LETTERS}]{{0,{MAX_IDN_LABEL_LENGTH - 2}}}{_IDN_CHAR})"
_LABEL = f"(?:{_ASCII_LABEL}|{_IDN_LABEL})"
_TOP_LABEL = f"(?:{_ASCII_TOP_LABEL}|{_IDN_TOP_LABEL})"
# Python's re and ECMA 262 read it alike; no flags. The negative lookahead only refuses ".." in the
# local part; the local part's length is checked separately (MAX_LOCAL_PART_LENGTH).
CUSTOMER_EMAIL_PATTERN = (
    rf"^(?![^@]*\.\.)[{_ATEXT}](?:[{_ATEXT}.]{{0,{MAX_LOCAL_PART_LENGTH - 2}}}[{_ATEXT}])?"
    rf"@(?:{_LABEL}\.)+{_TOP_LABEL}$"
)

_EMAIL = re.compile(CUSTOMER_EMAIL_PATTERN[1:-1])

INVALID_EMAIL = "Enter a valid email address."

_INVISIBLE = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})


def validate_customer_email(value: str) -> None:
    """One mailbox, visibly, and deliverable: see "Customer emails" above. Raises one ``ValidationError``
    with one message."""
    # Printable ASCII (the usual address) holds no such character: the per-character look-up is
    # only needed for the rest.
    if not (value.isascii() and value.isprintable()) and any(unicodedata.category(ch) in _INVISIBLE for ch in value):
        # A zero-width space or a right-to-left override makes a look-alike of another customer's address.
        raise ValidationError("Enter an email address without invisible or control characters.", code="invisible")
    if len(value) > MAX_EMAIL_LENGTH:
        raise ValidationError(f"Enter an email address of at most {MAX_EMAIL_LENGTH} characters.", code="max_length")
    if len(value.rpartition("@")[0]) > MAX_LOCAL_PART_LENGTH:
        raise ValidationError(
            f"Enter an email address with at most {MAX_LOCAL_PART_LENGTH} characters before the @.",
            code="local_part",
        )
    if not _EMAIL.fullmatch(value):
        raise ValidationError(INVALID_EMAIL, code="invalid")
    domain = value.rpartition("@")[2]
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValidationError(INVALID_EMAIL, code="invalid") from None
    if any(len(label) > 63 for label in ascii_domain.split(".")):
        raise ValidationError(INVALID_EMAIL, code="invalid")


# --- A customer's mobile number -------------------------------------------------------------------
# An Indian mobile number, as a shop's customers say it: 10 digits starting with 6, 7, 8 or 9,
# optionally written with +91, 91 or 0 in front, with spaces or dashes anywhere. Nothing else: no
# brackets, dots, letters, extensions or other countries. Stored and returned in E.164 form
# (+919876543210), which ``INDIAN_MOBILE_E164_PATTERN`` (also the database's CHECK) says. Beside the
# email rule: the API, the billing page, the admin and the bill's service all take a customer's
# number through ``indian_mobile_e164``. ``INDIAN_MOBILE_PATTERN`` is the API schema's pattern.
MAX_PHONE_LENGTH = 24
_SEP = "[ -]*"
INDIAN_MOBILE_PATTERN = rf"^{_SEP}(?:\+{_SEP}9{_SEP}1{_SEP}|9{_SEP}1{_SEP}|0{_SEP})?[6-9](?:{_SEP}[0-9]){{9}}{_SEP}$"
INDIAN_MOBILE_E164_PATTERN = r"^\+91[6-9][0-9]{9}$"
INVALID_PHONE = (
    "Enter an Indian mobile number: 10 digits starting with 6, 7, 8 or 9, optionally with +91, 91 or 0 in front."
)
_MOBILE = re.compile(INDIAN_MOBILE_PATTERN[1:-1])
_E164 = re.compile(INDIAN_MOBILE_E164_PATTERN[1:-1])


def indian_mobile_e164(value: str) -> str:
    """``value``, an Indian mobile number in any of the spellings above, in E.164 form
    (``+919876543210``). Raises one ``ValidationError`` (``INVALID_PHONE``) for anything else.

    The rule is the pattern; ``phonenumbers`` (Google's libphonenumber) parses what it takes, so the
    prefixes (country code, trunk 0) are read as a telephone system reads them."""
    if not isinstance(value, str) or len(value) > MAX_PHONE_LENGTH or not _MOBILE.fullmatch(value):
        raise ValidationError(INVALID_PHONE, code="invalid")
    try:
        number = phonenumbers.parse(value, "IN")
    except phonenumbers.NumberParseException:
        raise ValidationError(INVALID_PHONE, code="invalid") from None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if number.country_code != 91 or not _E164.fullmatch(e164):
        raise ValidationError(INVALID_PHONE, code="invalid")
    return e164


def validate_indian_mobile(value: str) -> None:
    """``indian_mobile_e164`` as a validator (forms, serializers): raises, returns nothing."""
    indian_mobile_e164(value)


def validate_gstin(value: str) -> str:
    """A GSTIN (15 characters: state code, PAN, entity number, ``Z``, check character), checked with
    its check character (``stdnum.in_.gstin``). Returns it normalized (upper case, no spaces);
    raises ``ValidationError`` when it is not a valid GSTIN."""
    from stdnum.exceptions import ValidationError as StdnumError
    from stdnum.in_ import gstin

    try:
        return str(gstin.validate(value)).upper()
    except StdnumError:
        raise ValidationError("Not a valid GSTIN: 15 characters with a valid check character.") from None
