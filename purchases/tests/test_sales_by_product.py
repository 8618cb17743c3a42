"""A report by product's rows as the API writes them (``sales_report(as_json=True)``,
``sales_by_product``) are what ``SalesReportRowSerializer`` writes of the service's Decimal rows: the
same keys in the same order and the same values, whether the rows are read from the rollup, from the
rows past its seal, from both, or from the raw rows alone; and the API's answer is, byte for byte, the
serializer's answer rendered by DRF's own JSON renderer."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.renderers import JSONRenderer

from billing_project.core.testing.properties import examples
from catalog.stores import default_store_id
from catalog.tests.factories import ProductFactory
from purchases.sales_report import sales_report
from purchases.sales_rollups import sales_rollup_seal
from purchases.serializers import SalesReportSerializer
from purchases.tests import sales_plans
from purchases.tests.helpers import refund, ring_up
from purchases.tests.sales_plans import BASE, _ring_up, bill_plan

pytestmark = [pytest.mark.django_db]

API = "/api/v1"
D = Decimal
shop = sales_plans.shop
drawer_counts = sales_plans.drawer_counts


# Bills (with their refunds on later days) and seals between them.
step = st.one_of(st.tuples(st.just("bill"), bill_plan), st.tuples(st.just("seal"), st.none()))
# Ranges of days after BASE: every day the plans use, one day, and parts.
RANGES = [(-1, 4), (0, 0), (1, 3)]


def _written(rows) -> list[list[tuple[str, Any]]]:
    """Rows as JSON writes them: each row's keys and values, in order."""
    return [list(row.items()) for row in rows]


def _as_the_serializer_writes(**kwargs) -> None:
    served = sales_report(group_by="product", as_json=True, **kwargs)
    report = sales_report(group_by="product", **kwargs)
    written = orjson.loads(served["rows"].text)
    assert _written(written) == _written(SalesReportSerializer(report).data["rows"]), kwargs
    assert served["totals"] == report["totals"]


@pytest.fixture
def goods():
    return [
        ProductFactory(name="Sugar\u2028loose", unit="kg", price=D("48.00"), tax_percent=D("5"), stock=D("50.000")),
        ProductFactory(name='Dal "Tadka" – 1 kg', price=D("112.35"), tax_percent=D("12"), stock=100),
        ProductFactory(name="नारियल तेल", unit="l", price=D("199.99"), tax_percent=D("18"), stock=D("40.000")),
        # Every character JSON escapes, and one it need not (written by PostgreSQL as by Python).
        ProductFactory(name='Tab\tback\\slash "q" \x01\x1f\u2029 ok', price=D("9.99"), tax_percent=D("5"), stock=20),
    ]


def test_rollup_rows_past_its_seal_and_raw_rows_are_written_as_the_serializer_writes_them(admin_api, drawer, goods):
    sugar, dal, oil, odd = goods
    first = ring_up((sugar, D("1.255")), (dal, 2), (oil, D("0.5")), (odd, 3))
    ring_up((dal, 1))
    refund(first, (sugar, D("0.255")))
    _as_the_serializer_writes()  # nothing sealed: the raw rows alone

    sales_rollup_seal()
    _as_the_serializer_writes()  # the rollup alone
    _api_writes_what_drf_writes(admin_api, rows=4)

    ring_up((sugar, D("2.000")), (oil, D("1.25")))  # past the seal, of products the rollup holds
    refund(first, (dal, 1))
    _as_the_serializer_writes()
    _as_the_serializer_writes(store=default_store_id())
    today = timezone.localdate()
    _as_the_serializer_writes(date_from=today - timedelta(days=400), date_to=today - timedelta(days=35))  # no rows

    _api_writes_what_drf_writes(admin_api, rows=4)
    # An indented answer (the browsable API's) is DRF's own renderer's, the written rows read back.
    indented = admin_api.get(f"{API}/reports/sales", {"group_by": "product"}, HTTP_ACCEPT="application/json; indent=2")
    expected = SalesReportSerializer(sales_report(group_by="product")).data
    assert indented.content == JSONRenderer().render(expected, "application/json; indent=2")
    assert b"\n  " in indented.content


def _api_writes_what_drf_writes(api, *, rows: int) -> None:
    """The API's answer by product, byte for byte DRF's renderer's of the serializer's answer."""
    body = api.get(f"{API}/reports/sales", {"group_by": "product"})
    assert body.status_code == 200
    report = sales_report(group_by="product")
    assert len(report["rows"]) == rows
    assert body.content == JSONRenderer().render(SalesReportSerializer(report).data)


@settings(
    max_examples=examples(10),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(steps=st.lists(step, min_size=1, max_size=7))
def test_any_mix_of_bills_refunds_and_seals_is_written_as_the_serializer_writes_it(shop, steps):
    with transaction.atomic():
        for kind, plan in steps:
            if kind == "bill":
                _ring_up(shop, plan)
            else:
                sales_rollup_seal(step=2)
        for start, end in RANGES:
            for store in (None, default_store_id()):
                _as_the_serializer_writes(
                    date_from=BASE + timedelta(days=start), date_to=BASE + timedelta(days=end), store=store
                )
        _as_the_serializer_writes(date_from=BASE - timedelta(days=1), date_to=BASE + timedelta(days=4), till=shop[2][1])
        transaction.set_rollback(True)
