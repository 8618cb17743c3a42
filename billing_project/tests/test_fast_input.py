"""fast_input's path for the bill's body: whenever it returns data, DRF's ``run_validation`` succeeds
with exactly that data (types and decimal exponents included); whenever DRF refuses a body, the fast
path gave up. Hypothesis makes the bodies from the serializers' own fields, valid and subtly invalid;
the corner cases are spelled out below; the compiler refuses what it does not know."""

import copy
import os
from decimal import Decimal
from typing import Any

import pytest
from django.core.validators import RegexValidator
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from billing_project.core.api.fast_input import compile_input, reshapes_errors_only
from billing_project.core.api.fields import (
    EmailAddressField,
    MobileNumberField,
    MoneyField,
    PlainDecimalField,
    PlainTextField,
    QuantityInputField,
    StrictBooleanField,
    StrictIntegerField,
)
from billing_project.core.api.input import validate_input
from billing_project.core.testing.properties import examples
from purchases.serializers import MAX_ID, MAX_QUANTITY, PurchaseCreateSerializer
from purchases.services import MAX_LINES

EXAMPLES = int(os.environ.get("FAST_INPUT_EXAMPLES", "1000"))
DRF = PurchaseCreateSerializer()  # DRF's own path, apart from validate_input's shared instance
_FAST = compile_input(PurchaseCreateSerializer())
assert _FAST is not None, "the bill's serializer compiles"
FAST = _FAST
D = Decimal


def drf(body):
    """DRF's validated data, or None when it refuses the body."""
    try:
        return DRF.run_validation(body)
    except ValidationError:
        return None


def assert_identical(got, expected, where="body"):
    """Equal, of the same types all the way down, decimals with the same digits and exponent, keys
    in the same order."""
    assert type(got) is type(expected), (where, got, expected)
    if isinstance(expected, dict):
        assert list(got) == list(expected), where
        for key in expected:
            assert_identical(got[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert len(got) == len(expected), where
        for index, (a, b) in enumerate(zip(got, expected, strict=True)):
            assert_identical(a, b, f"{where}[{index}]")
    elif isinstance(expected, Decimal):
        assert got.as_tuple() == expected.as_tuple(), (where, got, expected)
    else:
        assert got == expected, (where, got, expected)


# --- Bodies, from the fields --------------------------------------------------------------------------
# Each field gives a strategy of good values and one of bad or unusual ones, most of them just past a
# limit (a bound, the places, a length, a space, the type: its ``near`` list). A body is made valid, then one of its
# fields (or a few) is spoilt: with one bad value, nothing else makes the fast path give up first,
# so a check it lacks shows.

NOT_A_VALUE: st.SearchStrategy = st.sampled_from([None, [], {}, 1.5, "", "null", b"1"])


def bad_values(near, mapped, far):
    """Mostly the values just past a limit (``near``, a flat list, so each is drawn often), the
    likeliest to find a check the fast path lacks; then good values made bad, then anything."""
    flat = st.sampled_from(near)

    # Weighted by hand: st.one_of flattens nested choices, which would leave the flat list one in ten.
    @st.composite
    def bad(draw):
        pick = draw(st.integers(0, 9))
        return draw(flat if pick < 6 else mapped if pick < 8 else far)

    return bad()


def integers(field):
    low, high = field.min_value, field.max_value
    edges = st.sampled_from([low, low + 1, high - 1, high])
    good = st.one_of(edges, st.integers(low, min(high, low + 1000)), st.integers(low, high))
    near = [low - 1, high + 1, True, False, None, str(high), D(high)]
    mapped = st.one_of(
        good.map(str),
        good.map(D),
        good.map(float),
        good.map(lambda n: f"{n}.0"),
        good.map(lambda n: f" {n}"),
        good.map(lambda n: f"+{n}"),
    )
    far = st.one_of(st.sampled_from([0, -1, 2**63, 2**64, -(2**63), 10**30]), st.integers(), NOT_A_VALUE)
    return good, near, bad_values(near, mapped, far)


def decimal_texts(field):
    """Plain notation, within the digits and places or just past them, with leading zeros, signs and -0."""
    whole = st.integers(0, 10 ** (field.max_whole_digits + 1))
    places = st.integers(0, field.decimal_places + 1)
    digits = st.integers(0, 10 ** (field.decimal_places + 1))

    def text(n, p, f, sign, zeros):
        fraction = f"{f:0{p}d}"[-p:] if p else ""
        return f"{sign}{'0' * zeros}{n}" + (f".{fraction}" if p else "")

    return st.builds(text, whole, places, digits, st.sampled_from(["", "", "", "-"]), st.sampled_from([0, 0, 0, 1, 3]))


def decimals(field):
    places = field.decimal_places
    unit = D(1).scaleb(-places)
    low = field.min_value
    high = field.max_value if field.max_value is not None else D(10**field.max_whole_digits) - unit
    low_n, high_n = int(low / unit), int(high / unit)

    def with_places(p):
        """Values in range written with exactly p places."""
        step = 10 ** (places - p)
        return st.integers(-(-low_n // step), high_n // step).map(lambda m: D(m).scaleb(-p))

    edges = [d for d in (low, high, low + unit, high - unit, D(0), D(1), D(100)) if low <= d <= high]
    values = st.one_of(st.sampled_from(edges), st.integers(0, places).flatmap(with_places))
    good = st.one_of(values.map(lambda d: f"{d:f}"), values, with_places(0).map(int))
    if low == 0:
        good = st.one_of(good, st.sampled_from(["-0", "-0.0", "-0.00", D("-0"), D("-0.00")]))  # read as 0
    past = [low - unit, high + unit, low - unit / 10, high + unit / 10]
    near = [
        *past,
        *(f"{d:f}" for d in past),
        f"{high:f}{'0' * places}1",
        *(f" {d:f}" for d in edges),
        *(f"{d:e}" for d in edges),
        *(float(d) for d in edges),
        *(d.normalize() for d in edges),  # 1E+2 for 100
        True,
        False,
        None,
        "0.001",
        "1e2",
        "1E+2",
        D("1E+2"),
        D("0E-5"),
        D("0E+2"),
        "-0.01",
        "+1",
        ".5",
        "1.",
        "１",
        "NaN",
        D("NaN"),
        D("sNaN"),
        D("-Infinity"),
        "9" * 40,
        "0" * 50 + "1",
    ]
    mapped = st.one_of(
        values.map(lambda d: f"{d:f}1" if d.as_tuple().exponent == -places else f"{d:f}"),  # a place too many
        values.map(lambda d: D(f"{d:f}1") if d.as_tuple().exponent == -places else d),
        values.map(lambda d: -d),
        values.map(lambda d: f"{d:f} "),
        decimal_texts(field),
        decimal_texts(field).map(D),
    )
    far = st.one_of(st.decimals(allow_nan=True, allow_infinity=True), st.integers(), NOT_A_VALUE)
    return good, near, bad_values(near, mapped, far)


TEXTS = [
    "",
    " ",
    "  ",
    "\\tloyal",
    "loyal\\n",
    "a\\x00b",
    "a\\x7fb",
    "a\\u200bb",
    "a\\u200db",
    "ｃａｓｈ",
    "café",
    "नमस्ते",
    "\\u2028",
    "\\x1f",
    "\\xa0x",
    "x\\u3000",
    1,
    True,
    None,
]


def texts(field):
    longest = field.max_length
    good = st.one_of(
        st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=longest),
        st.from_regex(rf"[!-~][ -~]{{0,{longest - 2}}}[!-~]", fullmatch=True),
        st.just("" if field.allow_blank else "x"),
        st.just("x" * longest),
    )
    near = [*TEXTS, "x" * (longest + 1), " " + "x" * (longest - 1), "x" * (longest - 1) + " ", " x", "x "]
    mapped = st.one_of(good.map(lambda s: f" {s}"), good.map(lambda s: f"{s} "), good.map(lambda s: f"{s}\\t"))
    far = st.one_of(
        st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=longest + 2),
        st.text(max_size=longest + 2),
        st.integers(-5, 5),
        NOT_A_VALUE,
    )
    return good, near, bad_values(near, mapped, far)


EMAILS = [
    "ann@example.com",
    "Ann@Example.COM",
    "c12@shop.example.in",
    "a.b-c+d@x-y.example.org",
    "o'neil@example.ie",
    "x@y.z1",
    "a" * 64 + "@example.com",
    "a@" + ("b" * 60 + ".") * 3 + "com",
]

ODD_EMAILS = [
    "ann@bücher.example",
    "ann@localhost",
    "ann@1.2.3.4",
    "ann@[127.0.0.1]",
    "ann..b@example.com",
    ".ann@example.com",
    "ann.@example.com",
    "ann@-example.com",
    "ann@example-.com",
    "a@b.c",
    " ann@example.com",
    "ann@example.com ",
    "ann @example.com",
    "ann@example.com\\n",
    "ann\\u200b@example.com",
    "ännä@example.com",
    '"ann"@example.com',
    "ann@example..com",
    "a" * 65 + "@example.com",
    "a@" + "b" * 64 + ".com",
    "a@" + ("b" * 60 + ".") * 4 + "com",
    "",
    "@",
    "ann@",
]


def emails(field):
    mapped = st.sampled_from(EMAILS).flatmap(lambda s: st.sampled_from([f" {s}", f"{s} ", s.replace("@", "@@")]))
    far = st.one_of(st.emails(), st.text(max_size=30), NOT_A_VALUE, st.integers(0, 5))
    near = [*ODD_EMAILS, None, 1, True]
    return st.sampled_from(EMAILS), near, bad_values(near, mapped, far)


PHONES = [
    "9876543210",
    "+919876543210",
    "919876543210",
    "09876543210",
    "+91 98765 43210",
    "098765-43210",
    "6000000000",
    " 98765 43210 ",
    "9-8-7-6-5-4-3-2-1-0",
]

ODD_PHONES = [
    "5876543210",
    "987654321",
    "98765432101",
    "+9198765432",
    "+44 7700 900123",
    "(98765) 43210",
    "98765.43210",
    "091 98765 43210",
    "+91 0 98765 43210",
    "９８７６５４３２１０",
    "98765\u00a043210",
    "9876543210\n",
    "",
    " ",
    "+",
    "x" * 25,
]


def phones(field):
    mapped = st.sampled_from(PHONES).flatmap(lambda s: st.sampled_from([f"{s}0", f"({s})", s.replace("9", "x", 1)]))
    far = st.one_of(st.from_regex(r"[+0-9 -]{0,26}", fullmatch=True), st.text(max_size=30), NOT_A_VALUE)
    near = [*ODD_PHONES, None, 9876543210, True]
    return st.sampled_from(PHONES), near, bad_values(near, mapped, far)


def booleans(field):
    near = [0, 1, "true", "false", "True", "on", None, "", 1.0, 0.0]
    return st.booleans(), near, bad_values(near, st.sampled_from(near), st.one_of(st.integers(), NOT_A_VALUE))


KINDS = {
    StrictIntegerField: integers,
    PlainDecimalField: decimals,
    MoneyField: decimals,
    QuantityInputField: decimals,
    PlainTextField: texts,
    EmailAddressField: emails,
    MobileNumberField: phones,
    StrictBooleanField: booleans,
    serializers.BooleanField: booleans,
}
_STRATEGIES: dict = {}


def strategies(field):
    """``(good, near, bad)``: strategies of good and of bad values, and the list of those just past
    the field's limits."""
    if field not in _STRATEGIES:
        _STRATEGIES[field] = KINDS[type(field)](field)
    return _STRATEGIES[field]


def draw_list(draw, field, slots, bad=False):
    """A list for a nested ``many=True`` serializer: 1 to 4 items, or as many as allowed; when bad, one
    just past its limits or not a list."""
    most = field.max_length
    if bad:
        shape = draw(st.sampled_from(["empty", "too long", "too long", "tuple", "item", "other"]))
        if shape == "other":
            return draw(NOT_A_VALUE)
        if shape == "item":
            return draw_object(draw, field.child, slots)
        if shape == "too long":
            # Copies of one item: checking a long list's every item is the same code anyway.
            return [draw_object(draw, field.child, slots)] * (most + 1)
        items = [draw_object(draw, field.child, slots) for _ in range(draw(st.integers(0, 2)))]
        return tuple(items) if shape == "tuple" else []
    if draw(st.integers(0, 9)) == 0:
        return [draw_object(draw, field.child, slots)] * draw(st.sampled_from([most - 1, most]))
    least = max(field.min_length or 0, 0 if field.allow_empty else 1, 1)
    return [draw_object(draw, field.child, slots) for _ in range(draw(st.integers(least, 4)))]


def draw_object(draw, serializer, slots):
    """A valid dict of the serializer's fields (the optional ones every other time, an unknown key now
    and then); every field's place, present or not, goes into ``slots`` for spoiling."""
    body: dict = {}
    for name, field in serializer.fields.items():
        slots.append((body, name, field))
        if not field.required and draw(st.booleans()):
            continue
        if type(field) is serializers.ListSerializer:
            body[name] = draw_list(draw, field, slots)
        else:
            body[name] = draw(strategies(field)[0])
    if draw(st.integers(0, 4)) == 0:
        body[draw(st.sampled_from(["extra", "note", "Items", "customer-email", ""]))] = draw(
            st.one_of(NOT_A_VALUE, st.integers(), st.text(max_size=3))
        )
    return body


def spoil(draw, slots):
    """One field made bad: a value just past its limits or of another type, or a key taken away. The
    kind of field first, so that the few text fields get their share beside the many numbers."""
    kinds = sorted({type(field).__name__ for _, _, field in slots})
    kind = draw(st.sampled_from(kinds))
    body, name, field = draw(st.sampled_from([slot for slot in slots if type(slot[2]).__name__ == kind]))
    if draw(st.integers(0, 9)) == 0:
        body.pop(name, None)
    elif type(field) is serializers.ListSerializer:
        body[name] = draw_list(draw, field, [], bad=True)
    else:
        body[name] = draw(strategies(field)[2])


@st.composite
def bodies(draw, spoilt=(0, 1, 1, 1, 1, 2, 3, 8)):
    """A valid body with that many fields spoilt (``spoilt`` is the choice), the same field maybe
    twice; now and then something else than a dict."""
    slots: list = []
    body = draw_object(draw, DRF, slots)
    count = draw(st.sampled_from(spoilt))
    for _ in range(count):
        spoil(draw, slots)
    if count and draw(st.integers(0, 29)) == 0:
        return draw(st.one_of(NOT_A_VALUE, st.text(max_size=3), st.integers(), st.just([body])))
    return body


@pytest.mark.property
@settings(
    max_examples=examples(EXAMPLES),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(bodies())
def test_the_fast_path_returns_exactly_drfs_data_or_gives_up(body):
    sent = repr(copy.deepcopy(body))
    got = FAST(body)
    assert repr(body) == sent  # the body is read, never changed (repr: NaN is not equal to itself)
    expected = drf(body)
    if expected is None:
        event("DRF refuses")
        assert got is None, got
    elif got is None:
        event("DRF takes, the fast path gave up")
    else:
        event("both take")
        assert_identical(got, expected)


@pytest.mark.property
@settings(max_examples=examples(EXAMPLES // 4), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies(spoilt=(0,)))
def test_the_fast_path_takes_a_plainly_valid_body(body):
    expected = drf(body)
    assert expected is not None, body
    got = FAST(body)
    assert got is not None, body
    assert_identical(got, expected)


# Every field of a full body, in turn, with each value of its near list (and taken away).
FULL = {
    "customer_email": "ann@example.com",
    "customer_phone": "+91 98765 43210",
    "items": [{"product_id": 7, "quantity": 2, "discount_percent": "5.5"}],
    "paid_amount": "1200.00",
    "tendered": [{"value": "500", "count": 2}],
    "payments": [{"method": "cash", "amount": "700", "tendered": [{"value": "500", "count": 1}], "reference": "x 1"}],
    "discount_percent": "10",
    "discount_reason": "loyal",
    "send_invoice": False,
    "till": 2,
    "customer_gstin": "27AAACR4849R1ZL",
    "place_of_supply": "27",
    "override_token": "a-managers-token",
}
ABSENT = object()


def places(serializer, path=()):
    """(path, field) for every field of the serializer, nested ones through a list's first item."""
    for name, field in serializer.fields.items():
        yield (*path, name), field
        if type(field) is serializers.ListSerializer:
            yield from places(field.child, (*path, name, 0))


def near_values(field, value):
    if type(field) is serializers.ListSerializer:
        item = value[0]
        too_long = [item] * (field.max_length + 1)  # type: ignore[attr-defined]  # the stub lacks it
        return [[], too_long, (item,), item, [item, None], None, "x"]
    return strategies(field)[1]


def test_every_field_with_each_value_just_past_its_limits():
    assert FAST(FULL) is not None
    tried = taken = 0
    for path, field in places(DRF):
        target: Any = FULL
        for key in path[:-1]:
            target = target[key]
        for value in [*near_values(field, target[path[-1]]), ABSENT]:
            body = copy.deepcopy(FULL)
            target = body
            for key in path[:-1]:
                target = target[key]
            if value is ABSENT:
                del target[path[-1]]
            else:
                target[path[-1]] = value
            got, expected = FAST(body), drf(body)
            if expected is None:
                assert got is None, (path, value)
            elif got is not None:
                assert_identical(got, expected, str(path))
                taken += 1
            tried += 1
    assert tried > 500 and taken > 50, (tried, taken)


# --- Corner cases --------------------------------------------------------------------------------------

BILL = {
    "customer_email": "ann@example.com",
    "items": [{"product_id": 1, "quantity": 2}],
    "paid_amount": "1200.00",
    "tendered": [{"value": "500", "count": 2}, {"value": "200", "count": 1}],
}


def line(**changes):
    return {**BILL, "items": [{"product_id": 1, "quantity": 2, **changes}]}


def bill(**changes):
    return {**BILL, **changes}


TAKEN = [
    BILL,
    bill(paid_amount=1200),
    bill(paid_amount=D("1200.5")),
    bill(paid_amount="0"),
    bill(paid_amount="-0"),
    bill(paid_amount="-0.00"),
    bill(paid_amount=D("-0")),
    bill(paid_amount="0001200.10"),
    bill(paid_amount="9999999999999999.99"),
    bill(discount_percent="100", discount_reason="loyal"),
    bill(discount_percent="100.00"),
    bill(discount_percent="-0"),
    bill(discount_percent=D("12.5")),
    bill(discount_reason=""),
    bill(send_invoice=False),
    bill(till=MAX_ID),
    bill(till=1),
    bill(extra="ignored", note=None),
    bill(customer_email=None),  # a walk-in sale, or a customer known by phone
    {k: v for k, v in BILL.items() if k != "customer_email"},
    bill(customer_phone="98765 43210"),
    bill(customer_email=None, customer_phone="+91-98765-43210"),
    bill(customer_phone=None),
    line(quantity=MAX_QUANTITY),
    # A weighed line's quantity: up to 3 places, as a string, a Decimal or an int.
    line(quantity="1.250"),
    line(quantity="0.001"),
    line(quantity=D("0.75")),
    line(quantity="2"),
    line(quantity=D("2")),
    line(product_id=MAX_ID),
    line(discount_percent="0.01"),
    {**BILL, "items": [{"product_id": 1, "quantity": 1}] * MAX_LINES},
    {k: v for k, v in BILL.items() if k not in ("paid_amount", "tendered")},  # the service names what is missing
    bill(
        payments=[
            {"method": "card", "amount": "700.00", "reference": "slip 42"},
            {"method": "cash", "amount": "500", "tendered": [{"value": "500", "count": 1}]},
            {"method": "upi", "amount": "0.01", "reference": ""},
        ]
    ),
]

REFUSED = [
    None,
    [],
    "a bill",
    (BILL,),
    {},
    bill(items=[]),
    bill(items=None),
    {k: v for k, v in BILL.items() if k != "items"},
    {**BILL, "items": [{"product_id": 1, "quantity": 1}] * (MAX_LINES + 1)},
    line(quantity=True),
    line(quantity=0),
    line(quantity=MAX_QUANTITY + 1),
    line(product_id=MAX_ID + 1),
    line(product_id=-1),
    line(quantity="1.2345"),
    line(quantity="0.000"),
    line(quantity="-1"),
    line(quantity="1e3"),
    line(discount_percent="100.01"),
    line(discount_percent="0.001"),
    line(discount_percent="-1"),
    line(discount_percent="-0.01"),
    line(discount_percent="1e2"),
    bill(paid_amount="-0.01"),
    bill(paid_amount="1200.001"),
    bill(paid_amount="10000000000000000"),
    bill(paid_amount="1E+3"),
    bill(paid_amount=" 1200"),
    bill(paid_amount=True),
    bill(paid_amount="NaN"),
    bill(paid_amount=D("Infinity")),
    bill(tendered=[{"value": "0", "count": 1}]),
    bill(customer_email="ann@localhost"),
    bill(customer_email=" ann@example.com"),
    bill(customer_email="ann\u200b@example.com"),
    bill(discount_reason="x" * 201),
    bill(discount_reason="a\x00b"),
    bill(payments=[{"method": "", "amount": "1"}]),
    bill(payments=[{"method": "card"}]),
    bill(send_invoice=None),
    # The schema's boolean and string: DRF's own fields would take these.
    bill(send_invoice="false"),
    bill(send_invoice=0),
    bill(send_invoice=1),
    bill(payments=[{"method": "card", "amount": "1", "reference": 42}]),
    bill(discount_reason=0),
    bill(customer_email=1),
    bill(customer_phone="5876543210"),
    bill(customer_phone="98765"),
    bill(customer_phone=9876543210),
    bill(customer_phone=""),
    bill(customer_phone="(98765) 43210"),
    bill(till=0),
    bill(till=None),
]

# DRF takes these; they are unusual enough to leave to it.
LEFT_TO_DRF = [
    line(quantity=2.5),  # a float: the API's parser never makes one
    bill(paid_amount=D("1E+3")),
    bill(paid_amount=1200.0),
    bill(customer_email="ann@bücher.example"),
    bill(discount_reason=" loyal "),
    bill(discount_reason="नमस्ते"),
    bill(discount_reason="   "),
]


@pytest.mark.parametrize("body", TAKEN)
def test_taken(body):
    got = FAST(body)
    assert got is not None
    assert_identical(got, DRF.run_validation(body))
    assert_identical(validate_input(PurchaseCreateSerializer, body), got)


def test_taken_values():
    got = FAST(bill(paid_amount="-0", discount_percent=12, till=3, extra=1))
    assert got == {
        "customer_email": "ann@example.com",
        "items": [{"product_id": 1, "quantity": 2}],
        "paid_amount": D("0.00"),
        "tendered": [{"value": D("500.00"), "count": 2}, {"value": D("200.00"), "count": 1}],
        "discount_percent": D("12.00"),
        "send_invoice": True,
        "till": 3,
    }
    assert got["paid_amount"].as_tuple() == (0, (0,), -2)
    assert got["tendered"][0]["value"].as_tuple() == (0, (5, 0, 0, 0, 0), -2)
    # In the fields' order, as DRF puts them.
    assert list(got) == [
        "customer_email",
        "items",
        "paid_amount",
        "tendered",
        "discount_percent",
        "send_invoice",
        "till",
    ]


def test_a_mobile_number_is_taken_in_its_e164_form():
    got = FAST(bill(customer_email=None, customer_phone="098765-43210"))

    assert got is not None
    assert (got["customer_email"], got["customer_phone"]) == (None, "+919876543210")
    assert_identical(got, DRF.run_validation(bill(customer_email=None, customer_phone="098765-43210")))


@pytest.mark.parametrize("body", REFUSED)
def test_refused_bodies_are_given_up(body):
    assert drf(body) is None
    assert FAST(body) is None


@pytest.mark.parametrize("body", LEFT_TO_DRF)
def test_unusual_bodies_are_left_to_drf(body):
    assert drf(body) is not None
    assert FAST(body) is None


def test_an_error_is_drfs_own():
    body = line(quantity=True)
    with pytest.raises(ValidationError) as got:
        validate_input(PurchaseCreateSerializer, body)
    assert got.value.detail == {"items": {0: {"quantity": ["A valid number is required."]}}}


# --- What the compiler refuses -------------------------------------------------------------------------


class Known(serializers.Serializer):
    count = StrictIntegerField(min_value=1, max_value=10)
    amount = MoneyField(required=False)
    name = PlainTextField(max_length=20, required=False)
    flag = serializers.BooleanField(default=False)


def test_a_serializer_of_known_fields_compiles():
    fast = compile_input(Known())
    assert fast is not None
    assert fast({"count": 3, "amount": "1.5"}) == {"count": 3, "amount": D("1.50"), "flag": False}


class WithUnknownField(Known):
    when = serializers.DateField()


class WithPlainCharField(Known):
    note = serializers.CharField()


class WithUnboundedInteger(Known):
    big = StrictIntegerField(min_value=1)


class WithFieldMethod(Known):
    def validate_count(self, value):
        return value


class WithValidate(Known):
    def validate(self, attrs):
        return attrs


class WithToInternalValue(Known):
    def to_internal_value(self, data):
        return super().to_internal_value(data)


class WithReadOnly(Known):
    total = MoneyField(read_only=True)


class WithSource(Known):
    other = StrictIntegerField(min_value=1, max_value=2, source="count_too")


class WithCallableDefault(Known):
    tags = StrictIntegerField(min_value=1, max_value=2, default=lambda: 1)


class WithValidator(Known):
    code = PlainTextField(max_length=5, validators=[RegexValidator("^[a-z]+$")])


class WithIntegerValidator(Known):
    code = StrictIntegerField(min_value=1, max_value=9, validators=[RegexValidator("^[0-9]+$")])


class WithNestedUnknown(Known):
    parts = WithUnknownField(many=True)


class WithNestedObject(Known):
    part = Known()


class WithMetaValidators(Known):
    class Meta:
        validators = [lambda attrs: None]


@pytest.mark.parametrize(
    "serializer_class",
    [
        WithUnknownField,
        WithPlainCharField,
        WithUnboundedInteger,
        WithFieldMethod,
        WithValidate,
        WithToInternalValue,
        WithReadOnly,
        WithSource,
        WithCallableDefault,
        WithValidator,
        WithIntegerValidator,
        WithNestedUnknown,
        WithNestedObject,
        WithMetaValidators,
    ],
)
def test_the_compiler_gives_up_on_what_it_does_not_know(serializer_class):
    assert compile_input(serializer_class()) is None


def test_an_override_marked_as_rewording_errors_compiles():
    class Reworded(Known):
        @reshapes_errors_only
        def to_internal_value(self, data):
            return super().to_internal_value(data)

    assert compile_input(Reworded()) is not None
