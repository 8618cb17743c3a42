"""Exact decimals as whole numbers of their last place (``billing_project.core.db.scaled``): every
2-place amount and 3-place quantity goes to its whole units and back unchanged, to the paisa and the
gram, and a value with one place too many is refused rather than rounded."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_project.core.db.scaled import ScaledIntegerField, from_units, to_units
from billing_project.core.testing.properties import examples

D = Decimal
BIGINT = 2**63 - 1


@pytest.mark.property
@settings(max_examples=examples(300))
@given(units=st.integers(-BIGINT, BIGINT), places=st.sampled_from([2, 3]))
def test_whole_units_and_back_are_the_same_value(units, places):
    value = from_units(units, places)

    assert value.as_tuple().exponent == -places  # exactly its places, as a numeric column gave them
    assert value * 10**places == units
    assert to_units(value, places) == units
    assert str(value) == f"{'-' if units < 0 else ''}{abs(units) // 10**places}.{abs(units) % 10**places:0{places}d}"


@pytest.mark.parametrize(
    ("value", "places", "units"),
    [
        (D("0.01"), 2, 1),
        (D("-0.01"), 2, -1),
        (D("12.34"), 2, 1234),
        (D("12.3"), 2, 1230),
        (D("12"), 2, 1200),
        (7, 2, 700),
        ("99999999999999.99", 2, 9999999999999999),
        (D("1.250"), 3, 1250),
        (D("0.001"), 3, 1),
    ],
)
def test_to_units_is_exact(value, places, units):
    assert to_units(value, places) == units
    assert from_units(units, places) == D(value)


@pytest.mark.parametrize(("value", "places"), [(D("0.005"), 2), (D("12.345"), 2), (D("1.0001"), 3), (0.1, 2)])
def test_a_value_with_more_places_is_refused_not_rounded(value, places):
    with pytest.raises(ValueError, match="decimal places"):
        to_units(value, places)


@pytest.mark.parametrize("units", [D("123456"), 123456, D("1.23456E+5")])
def test_a_sum_of_whole_units_from_either_database_reads_as_its_decimal(units):
    # PostgreSQL's SUM of a bigint is an integral numeric; SQLite's an int.
    assert str(from_units(units, 2)) == "1234.56"


def test_a_fraction_of_a_unit_is_not_read_as_units():
    with pytest.raises(ValueError, match="whole number"):
        from_units(D("1234.5"), 2)


def test_the_field_converts_what_it_writes_and_reads():
    field = ScaledIntegerField(decimal_places=2, default=D("0.00"))

    assert field.get_prep_value(D("12.34")) == 1234
    assert field.get_prep_value(None) is None
    assert field.from_db_value(1234, None, None) == D("12.34")
    assert field.from_db_value(None, None, None) is None
    assert field.to_python("1.50") == D("1.50")
    with pytest.raises(ValueError, match="decimal places"):
        field.get_prep_value(D("0.001"))
    _, path, args, kwargs = field.deconstruct()
    assert args == []
    assert path == "billing_project.core.db.scaled.ScaledIntegerField"
    assert kwargs == {"decimal_places": 2, "default": D("0.00")}
