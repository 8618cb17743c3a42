"""The tills migration: till MAIN takes over the one drawer there was, and its whole ledger."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("cashdrawer", "0004_tills"), ("purchases", "0004_tills")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def test_main_takes_over_the_drawer_counts_and_the_whole_ledger():
    old = _migrate(BEFORE)
    Denomination = old.get_model("cashdrawer", "Denomination")
    DrawerMovement = old.get_model("cashdrawer", "DrawerMovement")
    for value, count in (("500", 3), ("100", 7)):
        d = Denomination.objects.create(value=Decimal(value), count=count)
        DrawerMovement.objects.create(denomination=d, kind="manual_set", delta=count, count_after=count, reason="old")

    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    new = _migrate(leaves)

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
