"""The drawer's migrations on an upgraded shop's data: the caps (0004), and till MAIN taking over the one
drawer there was and its whole ledger (0005–0007)."""

from decimal import Decimal

import pytest

from billing_project.core.testing.migrations import latest_nodes, migrate, migrate_to_latest

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("cashdrawer", "0003_denomination_count_max")]
AFTER = [("cashdrawer", "0004_denomination_caps")]


@pytest.fixture
def before_caps():
    """The database as it was before the caps; put back to the latest state afterwards."""
    apps = migrate(BEFORE)
    yield apps
    apps.get_model("cashdrawer", "Denomination").objects.all().delete()
    migrate_to_latest()


def test_real_data_within_the_caps_migrates(before_caps):
    Denomination = before_caps.get_model("cashdrawer", "Denomination")
    Denomination.objects.bulk_create(
        [Denomination(value=Decimal(v), count=c) for v, c in [("2000", 40), ("500", 100_000), ("0.50", 3000)]]
    )

    apps = migrate(AFTER)

    after = apps.get_model("cashdrawer", "Denomination")
    assert sorted(after.objects.values_list("value", "count")) == [
        (Decimal("0.50"), 3000),
        (Decimal("500.00"), 100_000),
        (Decimal("2000.00"), 40),
    ]


def test_rows_over_the_caps_stop_the_migration_and_change_nothing(before_caps):
    Denomination = before_caps.get_model("cashdrawer", "Denomination")
    Denomination.objects.bulk_create(
        [
            Denomination(value=Decimal("6.70"), count=562_140_541),
            Denomination(value=Decimal("1417809170.27"), count=1),
            Denomination(value=Decimal("100"), count=5),
        ]
    )

    with pytest.raises(RuntimeError, match=r"2 drawer row\(s\) are over the caps.*6\.70 x 562140541"):
        migrate(AFTER)

    assert Denomination.objects.get(value=Decimal("6.70")).count == 562_140_541
    Denomination.objects.filter(value=Decimal("1417809170.27")).delete()
    Denomination.objects.filter(value=Decimal("6.70")).update(count=40)
    migrate(AFTER)  # once fixed, it goes through


BEFORE_MAIN = [("cashdrawer", "0005_tills"), ("purchases", "0005_tills")]


def test_main_takes_over_the_drawer_counts_and_the_whole_ledger():
    old = migrate(BEFORE_MAIN)
    Denomination = old.get_model("cashdrawer", "Denomination")
    DrawerMovement = old.get_model("cashdrawer", "DrawerMovement")
    for value, count in (("500", 3), ("100", 7)):
        d = Denomination.objects.create(value=Decimal(value), count=count)
        DrawerMovement.objects.create(denomination=d, kind="manual_set", delta=count, count_after=count, reason="old")

    leaves = latest_nodes()
    new = migrate(leaves)

    Till = new.get_model("cashdrawer", "Till")
    main = Till.objects.get(code="MAIN")
    Denomination = new.get_model("cashdrawer", "Denomination")
    DrawerMovement = new.get_model("cashdrawer", "DrawerMovement")
    assert dict(Denomination.objects.filter(till=main).values_list("value", "count")) == {
        Decimal("500.00"): 3,
        Decimal("100.00"): 7,
    }
    assert DrawerMovement.objects.filter(till=main).count() == DrawerMovement.objects.count() == 2
    assert not Denomination.objects.exclude(till=main).exists()
