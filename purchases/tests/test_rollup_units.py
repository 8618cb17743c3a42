"""The sales rollups keep their sums as whole paise and thousandths (``RollupSums``, migration 0037):
what the seal writes is the figure times 100 (1000) to the unit, a read scales the sums back exactly
(a paisa off fails here), and the migration converts rows written as ``numeric`` exactly, both ways."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from billing_project.core.testing.migrations import migrate, migrate_to_latest
from catalog.stores import default_store_id
from purchases.models import SalesRollup, SalesRollupMonth, SalesRollupSeal
from purchases.sales_rollup_reads import read_rollup
from purchases.sales_rollups import sales_rollup_seal
from purchases.tests import sales_plans
from purchases.tests.sales_plans import BASE, _ring_up, one_bill

pytestmark = [pytest.mark.django_db]

shop = sales_plans.shop
drawer_counts = sales_plans.drawer_counts
D = Decimal

AMOUNTS = ("gross", "discounts", "net_sales", "refunds", "tax", "cost", "sold_taxable", "taxable")
QUANTITIES = ("quantity", "refunded_quantity")


def _stored(table: str, where: str, params: list[Any]) -> dict[str, Any]:
    """A rollup row's columns as the database holds them (not through the model's field)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(AMOUNTS + QUANTITIES)} FROM {table} WHERE {where}", params)  # noqa: S608
        row = cursor.fetchone()
    return dict(zip(AMOUNTS + QUANTITIES, row, strict=True))


def test_the_seal_writes_whole_paise_and_thousandths(shop):
    plan = one_bill([(1, 3, D("5"))], tender="card", cashier=1)  # 199.99 at 18 %, 5 % off: paise that round
    bill = _ring_up(shop, plan)
    sales_rollup_seal()

    day = SalesRollup.objects.get(grouping="day", day=BASE)
    stored = _stored(
        SalesRollup._meta.db_table, "grouping = 'day' AND day = %s", [connection.ops.adapt_datefield_value(BASE)]
    )
    assert day.net_sales == bill.total  # the model's field reads a 2-place Decimal
    assert int(stored["net_sales"]) == bill.total * 100  # the column holds paise
    for field in AMOUNTS:
        assert int(stored[field]) == getattr(day, field) * 100, field
    product = SalesRollup.objects.get(grouping="product", day=BASE)
    assert product.quantity == D("3.000")
    month = _stored(SalesRollupMonth._meta.db_table, "key = %s", [product.key])
    assert int(month["quantity"]) == 3000
    assert int(month["net_sales"]) == product.net_sales * 100


# Amounts a paisa apart, large and small, positive and negative (a day's tax net of refunds can be).
PAISE = [1, 99, 100, 12_345_678_901, -1, 999_999_999_999_999, 7]


@pytest.mark.parametrize("store_ids", [None, "default"])
def test_a_read_adds_whole_paise_and_scales_them_back_exactly(store_ids):
    store = default_store_id()
    SalesRollupSeal.objects.create(time_zone=settings.TIME_ZONE, bills_through=1, refunds_through=0)
    days = [date(2026, 3, 1 + index) for index in range(len(PAISE))]
    for day, paise in zip(days, PAISE, strict=True):
        amount, quantity = D(paise).scaleb(-2), D(paise).scaleb(-3)
        for grouping, key in (("product", "7"), ("day", day.isoformat())):
            SalesRollup.objects.create(
                grouping=grouping,
                day=day,
                store_id=store,
                key=key,
                bills=1,
                **dict.fromkeys(AMOUNTS, amount),
                quantity=abs(quantity),
                refunded_quantity=D("0.001"),
            )

    rolled = read_rollup("default", "product", days[0], days[-1], None if store_ids is None else [store])

    assert rolled is not None
    row = rolled.rows[7]
    total = D(sum(PAISE)).scaleb(-2)
    for field in ("gross", "discounts", "net_sales", "refunds", "tax", "cost", "_taxable", "taxable"):
        assert row[field] == total, field
        assert str(row[field]) == str(total)  # 2 places, as the report shows them
    assert row["quantity"] == D(sum(abs(paise) for paise in PAISE)).scaleb(-3)
    assert str(row["refunded_quantity"]) == f"0.00{len(PAISE)}"
    assert rolled.totals["net_sales"] == total


BEFORE = [("purchases", "0036_product_rollups")]
AFTER = [("purchases", "0037_rollup_sums_in_paise")]


@pytest.fixture
def before_paise():
    apps = migrate(BEFORE)
    yield apps
    migrate_to_latest()


NUMERIC_ROWS = [
    {"amount": D("0.01"), "quantity": D("0.001")},
    {"amount": D("-0.01"), "quantity": D("1.250")},
    {"amount": D("1234567890123.45"), "quantity": D("999999.999")},
    {"amount": D("199.99"), "quantity": D("3.000")},
]


@pytest.mark.django_db(transaction=True)
def test_the_migration_converts_every_row_exactly_and_back(before_paise):
    apps = before_paise
    store = apps.get_model("catalog", "Store").objects.create(code="MIG", name="Migrated")
    Rollup, Month = apps.get_model("purchases", "SalesRollup"), apps.get_model("purchases", "SalesRollupMonth")
    for index, values in enumerate(NUMERIC_ROWS):
        sums = {**dict.fromkeys(AMOUNTS, values["amount"]), "quantity": values["quantity"]}
        sums["refunded_quantity"] = values["quantity"]
        Rollup.objects.create(grouping="product", day=date(2026, 3, 1), store=store, key=str(index), bills=1, **sums)
        Month.objects.create(month=date(2026, 3, 1), key=str(index), bills=1, **sums)

    migrate(AFTER)

    for index, values in enumerate(NUMERIC_ROWS):
        for table in (SalesRollup._meta.db_table, SalesRollupMonth._meta.db_table):
            stored = _stored(table, "key = %s", [str(index)])
            assert {int(stored[field]) for field in AMOUNTS} == {values["amount"] * 100}, (table, index)
            assert {int(stored[field]) for field in QUANTITIES} == {values["quantity"] * 1000}, (table, index)

    apps = migrate(BEFORE)

    for model in (apps.get_model("purchases", "SalesRollup"), apps.get_model("purchases", "SalesRollupMonth")):
        for index, values in enumerate(NUMERIC_ROWS):
            row = model.objects.get(key=str(index))
            assert [getattr(row, field) for field in AMOUNTS] == [values["amount"]] * len(AMOUNTS)
            assert (row.quantity, row.refunded_quantity) == (values["quantity"], values["quantity"])
