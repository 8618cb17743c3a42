import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

# Control, format (zero-width, bidi overrides), private-use, surrogate, unassigned, line/paragraph
# separators: none belongs in an address a person types and reads.
_INVISIBLE = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})


def validate_customer_email(value: str) -> None:
    """One mailbox, visibly: Django's email validation, plus no invisible or control characters (a
    zero-width space or a right-to-left override makes a look-alike of another customer's address)
    and at most 64 characters before the ``@`` (RFC 5321), so the invoice can be delivered."""
    if any(unicodedata.category(ch) in _INVISIBLE for ch in value):
        raise ValidationError("Enter an email address without invisible or control characters.", code="invisible")
    if len(value.rpartition("@")[0]) > 64:
        raise ValidationError("Enter an email address with at most 64 characters before the @.", code="local_part")
    validate_email(value)
