"""The orjson renderer writes what DRF's JSON renderer writes, byte for byte (core/api/renderers.py)."""

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.renderers import JSONRenderer
from rest_framework.serializers import Serializer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from billing_project.core.api.renderers import OrjsonRenderer, WrittenJSON

IST = timezone(timedelta(hours=5, minutes=30))


def both(data, media_type="application/json", context=None):
    return OrjsonRenderer().render(data, media_type, context), JSONRenderer().render(data, media_type, context)


@pytest.mark.parametrize(
    "data",
    [
        {"rows": [{"product_id": 7, "product_name": "Basmati rice 5 kg", "gross": "1180.00", "quantity": 2}]},
        {"name": "चावल ₹ 1,18,000.00 “quoted” \\ / \t\n", "sep": "a\u2028b\u2029c", "nul": "\x00\x1f"},
        {"amount": Decimal("12.50"), "rate": Decimal("18.00"), "negative": Decimal("-0.01")},
        {"day": date(2026, 12, 6), "at": datetime(2026, 12, 6, 9, 30, 1, 123456, tzinfo=UTC)},
        {"local": datetime(2026, 12, 6, 9, 30, 1, 500, tzinfo=IST), "naive": datetime(2026, 1, 2, 3, 4, 5)},
        {"opens": time(9, 30), "closes": time(21, 0, 0, 250000)},
        {1: "int key", None: "none key", False: "bool key", 2.5: "float key"},
        {"flags": [True, False, None], "nested": {"a": [1, [2, [3]]]}, "empty": {}, "none": []},
        {"lazy": gettext_lazy("This field is required.")},
        ReturnDict({"rows": ReturnList([{"bills": 1}], serializer=Serializer())}, serializer=Serializer()),
        {"wide": 2**70, "small": -(2**63)},
        [],
        "text",
    ],
)
def test_it_writes_what_drfs_renderer_writes(data):
    mine, drfs = both(data)
    assert mine == drfs


def test_an_indented_answer_is_drfs_own():
    data = {"rows": [{"a": 1}], "name": "x"}
    mine, drfs = both(data, "application/json; indent=4")
    assert mine == drfs
    assert b"\n    " in mine


def test_no_data_is_an_empty_body():
    assert OrjsonRenderer().render(None) == b""


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.text()
    | st.decimals(allow_nan=False, allow_infinity=False, places=2)
    | st.dates()
    | st.datetimes(timezones=st.sampled_from([None, UTC, IST])),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_any_answer_of_the_reports_kinds_is_written_as_drfs_renderer_writes_it(data):
    mine, drfs = both(data)
    assert mine == drfs


def test_written_json_is_put_in_as_it_is_and_read_back_for_an_indented_answer():
    rows = [{"product_id": 7, "product_name": "Dal\u2028“Tadka”", "gross": "1180.00", "quantity": 2}]
    written = JSONRenderer().render(rows).decode()
    data = {"rows": WrittenJSON(written), "totals": {"gross": Decimal("1180.00")}}
    assert OrjsonRenderer().render(data, "application/json") == JSONRenderer().render({**data, "rows": rows})
    indented = OrjsonRenderer().render(data, "application/json; indent=2")
    assert indented == JSONRenderer().render({**data, "rows": rows}, "application/json; indent=2")
    assert b'\n  "rows": [\n' in indented
