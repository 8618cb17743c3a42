"""The one rule for a customer's email address, used by the API, the billing page, the admin and
``customer_normalize_email`` (which every bill goes through). ``CUSTOMER_EMAIL_PATTERN`` is also
published as the API schema's pattern for the address, so the schema says exactly what is taken.

What a shop takes: an ordinary mailbox someone can type from a receipt and receive mail at.

- The local part (before the ``@``) is ASCII, dot-separated runs of letters, digits and
  ``!#$%&'*+/=?^_`{|}~-``; at most 64 characters. No quoted local parts, no comments.
- The domain is a real internet domain name: at least two labels (``root@localhost`` is refused),
  labels of letters, digits and inner hyphens, a top-level label that starts with a letter (so no
  ``1.2.3.4``), and no IP literals (``a@[127.0.0.1]``). Internationalised domains (IDN, e.g.
  ``bücher.example``) are taken, in Latin, Greek and Cyrillic letters, up to 16 characters a label
  (so that the label's IDNA form, which mail is delivered to, fits DNS's 63).
- At most 254 characters in all, and no invisible or control characters.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError

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
    """One mailbox, visibly, and deliverable: see the module docstring. Raises one ``ValidationError``
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
