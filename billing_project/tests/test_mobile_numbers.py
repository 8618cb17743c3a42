"""The one rule for a customer's mobile number (``billing_project.core.validators``): what it takes,
what it refuses, and that the API schema's pattern and the database's CHECK say the same."""

import re

import pytest
from django.core.exceptions import ValidationError

from billing_project.core.validators import (
    INDIAN_MOBILE_E164_PATTERN,
    INDIAN_MOBILE_PATTERN,
    INVALID_PHONE,
    MAX_PHONE_LENGTH,
    indian_mobile_e164,
)

TAKEN = {
    "9876543210": "+919876543210",
    "6000000000": "+916000000000",
    "7012345678": "+917012345678",
    "8999999999": "+918999999999",
    "+919876543210": "+919876543210",
    "919876543210": "+919876543210",
    "09876543210": "+919876543210",
    "+91 98765 43210": "+919876543210",
    "+91-98765-43210": "+919876543210",
    "91-98765-43210": "+919876543210",
    "0 98765-43210": "+919876543210",
    " 98765 43210 ": "+919876543210",
    "9198765432": "+919198765432",  # ten digits that happen to start with 91: a number, not a prefix
}

REFUSED = [
    "",
    " ",
    "5876543210",  # starts with 5
    "0123456789",
    "987654321",  # nine digits
    "98765432101",  # eleven
    "+9198765432",
    "+91 0 98765 43210",  # a trunk 0 after the country code
    "0919876543210",
    "+44 7700 900123",
    "+1 202 555 0143",
    "(98765) 43210",
    "98765.43210",
    "98765/43210",
    "9876543210 ext 12",
    "tel:+919876543210",
    "98765\u00a043210",  # a no-break space
    "９８７６５４３２１０",  # full-width digits
    "٩٨٧٦٥٤٣٢١٠",  # Arabic-Indic digits
    "9876543210\n",
    "+ 91 " + "-" * 20 + "9876543210",  # longer than any spelling needs
]


@pytest.mark.parametrize(("spelling", "e164"), TAKEN.items())
def test_every_spelling_the_issue_names_is_taken_in_e164(spelling, e164):
    assert indian_mobile_e164(spelling) == e164
    assert re.fullmatch(INDIAN_MOBILE_E164_PATTERN, e164)


@pytest.mark.parametrize("value", REFUSED)
def test_anything_else_is_refused_with_one_message(value):
    with pytest.raises(ValidationError) as refused:
        indian_mobile_e164(value)

    assert refused.value.messages == [INVALID_PHONE]


@pytest.mark.parametrize("value", [*TAKEN, *REFUSED])
def test_the_schema_pattern_says_what_is_taken(value):
    # ECMA 262's "$" is the end of the text (Python's also matches before a final newline).
    schema_takes = len(value) <= MAX_PHONE_LENGTH and re.fullmatch(INDIAN_MOBILE_PATTERN[1:-1], value) is not None
    try:
        indian_mobile_e164(value)
        taken = True
    except ValidationError:
        taken = False
    assert schema_takes == taken, value
