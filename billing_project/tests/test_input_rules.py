"""The shared input rules, and the schema patterns published for them, agree with each other and
hold on every path: the billing page form, the file import and the admin's product form."""

import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing_project.core.api.fields import decimal_request_pattern
from billing_project.core.validators import (
    CUSTOMER_EMAIL_PATTERN,
    code_pattern,
    text_pattern,
    validate_code_text,
    validate_customer_email,
    validate_plain_text,
)
from catalog.importing import ProductRow, RowError, validate_record
from purchases.forms import BillForm, LineForm

EMAILS_TAKEN = [
    "ann@example.com",
    "Ann@Bücher.Example",
    "o'neil+x@shop.co.in",
    "a@xn--bcher-kva.example",
    "ivan@пример.рф",
]
EMAILS_REFUSED = [
    "root@localhost",
    "a@[127.0.0.1]",
    "a@1.2.3.45",
    "a..b@example.com",
    ".a@example.com",
    "a@-x.com",
    "a@exa_mple.com",
    '"a b"@example.com',
    "a" * 65 + "@example.com",
    "ü@example.com",
    "ann\u202e@example.com",
    "ann@example.com\n",
    "ann@" + "ä" * 17 + ".example",  # an IDN label over 16 characters
]


@pytest.mark.parametrize("email", EMAILS_TAKEN)
def test_emails_taken_match_the_published_pattern(email):
    validate_customer_email(email)

    assert re.search(CUSTOMER_EMAIL_PATTERN, email)


@pytest.mark.parametrize("email", EMAILS_REFUSED)
def test_emails_refused_do_not_match_the_published_pattern(email):
    with pytest.raises(ValidationError) as refused:
        validate_customer_email(email)

    assert len(refused.value.messages) == 1
    assert not re.fullmatch(CUSTOMER_EMAIL_PATTERN[1:-1], email) or len(email.partition("@")[0]) > 64


@pytest.mark.parametrize("text", ["Soap", "चावल 🍚", "\u05d0\u05d1 Ünïcödé", "क्\u200dष"])
def test_plain_text_taken(text):
    validate_plain_text(text)

    assert re.search(text_pattern(), text)


@pytest.mark.parametrize("char", ["\x00", "\t", "\u202e", "\u2067", "\u200b", "\u00ad", "\ufeff", "\u2029"])
def test_invisible_characters_refused_in_text_and_codes(char):
    for validate, pattern in ((validate_plain_text, text_pattern()), (validate_code_text, code_pattern())):
        with pytest.raises(ValidationError):
            validate(f"a{char}b")
        assert not re.search(pattern, f"a{char}b")


def test_joiners_are_text_but_not_codes():
    validate_plain_text("a\u200db")
    with pytest.raises(ValidationError):
        validate_code_text("a\u200db")


@pytest.mark.parametrize(
    ("kwargs", "taken", "refused"),
    [
        (
            {"whole_digits": 10, "places": 2, "min_value": Decimal("0.01"), "max_value": None},
            ["0.01", "0.1", "1", "0099.5", "9999999999.99"],
            ["0", "0.00", "-0", "-1", "10000000000", "1.001", ".5", " 1", "1e2"],
        ),
        (
            {"whole_digits": 3, "places": 2, "min_value": Decimal("0"), "max_value": Decimal("100")},
            ["0", "-0", "-0.00", "0.5", "99.99", "100", "100.00"],
            ["100.01", "101", "999.99", "-1", "-0.01"],
        ),
        (
            {"whole_digits": 10, "places": 2, "min_value": None, "max_value": None},
            ["-5", "0", "9999999999.99"],
            ["10000000000", "--5", "5."],
        ),
    ],
)
def test_decimal_request_patterns_carry_the_range(kwargs, taken, refused):
    pattern = re.compile(decimal_request_pattern(**kwargs))

    assert [v for v in taken if not pattern.search(v)] == []
    assert [v for v in refused if pattern.search(v)] == []


@pytest.mark.django_db
@pytest.mark.parametrize("quantity", ["\uff15", "\u0665", "5_0"])
def test_the_billing_page_refuses_quantities_in_other_digits(quantity):
    form = LineForm(data={"product": "1", "quantity": quantity})

    assert "quantity" in form.errors


@pytest.mark.parametrize("email", ["root@localhost", "a@[127.0.0.1]", "ann\u202e@example.com"])
def test_the_billing_page_refuses_the_same_emails_with_one_message(email):
    form = BillForm(data={"customer": email, "paid_amount": ""})

    assert len(form.errors["customer"]) == 1


def test_the_billing_page_refuses_an_amount_in_other_digits():
    form = BillForm(data={"customer": "ann@example.com", "paid_amount": "\uff15\uff10"})

    assert "paid_amount" in form.errors


@pytest.mark.parametrize(
    ("field", "value"), [("name", "Ri\u202ece"), ("sku", "A\u200bB"), ("sku", "A\u200dB"), ("price", "\uff15")]
)
def test_the_file_import_refuses_the_same_input(field, value):
    record = {"sku": "RICE", "name": "Rice", "price": "5", "tax_percent": "0", "stock": "1"} | {field: value}

    row = validate_record(record, 2)

    assert isinstance(row, RowError)
    assert row.messages[0].startswith(f"{field}:")


def test_the_file_import_takes_a_joiner_in_a_name():
    row = validate_record({"sku": "K", "name": "क्\u200dष", "price": "5", "tax_percent": "0", "stock": "1"}, 2)

    assert isinstance(row, ProductRow)


@pytest.mark.django_db
def test_the_admin_product_form_refuses_bidi_names(admin_client):
    from catalog.models import Product

    response = admin_client.post(
        "/admin/catalog/product/add/",
        {"sku": "R1", "name": "Ri\u202ece", "price": "1.00", "tax_percent": "0", "stock": "1", "is_active": "on"},
    )

    assert response.status_code == 200  # the form again, with the error
    assert "invisible or control character" in response.content.decode()
    assert not Product.objects.exists()
