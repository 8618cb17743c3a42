"""How amounts are written for people: ``format_money`` and ``format_note``, grouped the Indian way
(``₹1,18,000.00``) or the international way (``₹118,000.00``) as settings.NUMBER_GROUPING says."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from billing_project.core.money import format_money, format_note, group_digits, number_locale
from billing_project.core.testing.properties import examples

D = Decimal


@pytest.mark.parametrize(
    ("value", "indian", "international"),
    [
        ("0", "₹0.00", "₹0.00"),
        ("-0.00", "₹0.00", "₹0.00"),
        ("0.4", "₹0.40", "₹0.40"),
        ("999.99", "₹999.99", "₹999.99"),
        ("1000", "₹1,000.00", "₹1,000.00"),
        ("99999.99", "₹99,999.99", "₹99,999.99"),
        ("100000", "₹1,00,000.00", "₹100,000.00"),
        ("118000", "₹1,18,000.00", "₹118,000.00"),
        ("1234567.89", "₹12,34,567.89", "₹1,234,567.89"),
        ("123456789012.34", "₹1,23,45,67,89,012.34", "₹123,456,789,012.34"),
        ("-118000", "-₹1,18,000.00", "-₹118,000.00"),
        ("-0.40", "-₹0.40", "-₹0.40"),
        ("1.005", "₹1.01", "₹1.01"),  # half-up to the paisa first, as money() rounds
    ],
)
def test_format_money_groups_as_the_setting_says(settings, value, indian, international):
    settings.NUMBER_GROUPING = "indian"
    assert format_money(D(value)) == indian
    settings.NUMBER_GROUPING = "international"
    assert format_money(D(value)) == international
    assert format_money(D(value), grouping="indian") == indian  # an explicit grouping wins


def test_format_money_without_sign_and_in_another_currency(settings):
    settings.NUMBER_GROUPING = "indian"
    assert format_money(D("118000"), sign=False) == "1,18,000.00"
    assert format_money(D("-1234567.89"), sign=False) == "-12,34,567.89"
    assert format_money(D("118000"), currency="USD", grouping="international") == "$118,000.00"
    assert format_money(D("5"), currency="CHF") == "CHF 5.00"


def test_format_note_groups_whole_values_and_keeps_coins(settings):
    settings.NUMBER_GROUPING = "indian"
    assert format_note(D("500")) == "₹500"
    assert format_note(D("2000")) == "₹2,000"
    assert format_note(D("100000")) == "₹1,00,000"
    assert format_note(D("0.50")) == "₹0.50"
    settings.NUMBER_GROUPING = "international"
    assert format_note(D("100000")) == "₹100,000"


def test_an_unknown_grouping_is_refused():
    with pytest.raises(ValueError, match="NUMBER_GROUPING"):
        group_digits(D("1"), grouping="chinese")


def test_the_browser_locale_groups_the_same_way(settings):
    assert number_locale("indian") == "en-IN"
    assert number_locale("international") == "en-US"
    settings.NUMBER_GROUPING = "indian"
    assert number_locale() == "en-IN"


def test_the_template_filters_use_the_setting(settings):
    template = Template("{% load money %}{{ a|money }} {{ a|amount }} {{ n|note }} {{ z|money }} {{ m|money }}")
    context = Context({"a": D("1234567.89"), "n": D("2000"), "z": D("0"), "m": D("-118000")})
    settings.NUMBER_GROUPING = "indian"
    assert template.render(context) == "₹12,34,567.89 12,34,567.89 ₹2,000 ₹0.00 -₹1,18,000.00"
    settings.NUMBER_GROUPING = "international"
    assert template.render(context) == "₹1,234,567.89 1,234,567.89 ₹2,000 ₹0.00 -₹118,000.00"


@pytest.mark.property
@hypothesis_settings(max_examples=examples(300))
@given(
    cents=st.integers(min_value=-(10**17) + 1, max_value=10**17 - 1),
    grouping=st.sampled_from(["indian", "international"]),
)
@example(cents=11_800_000, grouping="indian")
@example(cents=-123_456_789, grouping="indian")
@example(cents=0, grouping="international")
def test_stripping_the_separators_gives_the_number_back(cents, grouping):
    """Whatever the amount and the grouping, removing the sign and the commas gives back exactly the
    number, and the groups have the grouping's sizes: the last three digits, then pairs (indian) or
    threes (international)."""
    value = D(cents) / 100
    text = format_money(value, grouping=grouping)
    assert text.startswith("-₹") == (value < 0)
    digits = text.replace("-", "").replace("₹", "")
    assert D(digits.replace(",", "")) == abs(value)
    whole = digits.split(".")[0].split(",")
    assert all(group.isdigit() for group in whole)
    assert whole[0] == "0" or not whole[0].startswith("0")
    if len(whole) == 1:
        assert 1 <= len(whole[0]) <= 3
    else:
        assert len(whole[-1]) == 3
        size = 2 if grouping == "indian" else 3
        assert 1 <= len(whole[0]) <= size
        assert all(len(group) == size for group in whole[1:-1])
