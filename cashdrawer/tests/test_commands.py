import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from cashdrawer.models import Denomination, DrawerMovement
from cashdrawer.tests.factories import drawer_with
from catalog.tests.factories import ProductFactory
from purchases.services import purchase_create

pytestmark = pytest.mark.django_db


def counts():
    return {str(d.value): d.count for d in Denomination.objects.all()}


def run(command, *args):
    out, err = io.StringIO(), io.StringIO()
    call_command(command, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# --- set_float --------------------------------------------------------------------------------


def test_set_float_sets_counts_and_records_them_in_the_ledger():
    drawer_with({"500": 1, "200": 4})

    out, _ = run("set_float", "500=10", "200=4", "100=30")

    assert counts() == {"500.00": 10, "200.00": 4, "100.00": 30}
    movements = DrawerMovement.objects.filter(reason="float set by command").order_by("denomination__value")
    assert [(m.denomination.value, m.delta, m.count_after, m.kind) for m in movements] == [
        (Decimal("100.00"), 30, 30, "manual_set"),
        (Decimal("500.00"), 9, 10, "manual_set"),
    ]
    assert "Added 1, changed 1, unchanged 1 denomination(s)." in out
    assert "total" in out and "8800.00" in out  # 5000 + 800 + 3000


def test_set_float_accepts_coins_and_a_custom_reason():
    run("set_float", "0.50=8", "--reason", "coin roll")

    assert counts() == {"0.50": 8}
    assert DrawerMovement.objects.get().reason == "coin roll"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["500"], "expected VALUE=COUNT"),
        (["500=ten"], "is not a count"),
        (["500=-1"], "is not a count"),
        (["abc=1"], "is not a positive amount"),
        (["0=1"], "is not a positive amount"),
        (["-5=1"], "unrecognized arguments"),
        (["0.001=1"], "is not a positive amount"),
        (["500=1", "500.00=2"], "given twice"),
        (["500=2147483648"], "is not a count"),
    ],
)
def test_set_float_rejects_bad_arguments_and_changes_nothing(args, message):
    drawer_with({"500": 3})

    with pytest.raises(CommandError, match=message):
        run("set_float", "100=5", *args)

    assert counts() == {"500.00": 3}
    assert DrawerMovement.objects.count() == 1


def test_set_float_needs_at_least_one_pair():
    with pytest.raises(CommandError):
        run("set_float")


def test_set_float_twice_is_idempotent():
    run("set_float", "500=10", "100=5")
    run("set_float", "500=10", "100=5")

    assert counts() == {"500.00": 10, "100.00": 5}
    assert DrawerMovement.objects.count() == 2


# --- drawer_audit -----------------------------------------------------------------------------


def ring_up_a_bill_with_change():
    drawer_with({"500": 1, "100": 5})
    product = ProductFactory(price=Decimal("300.00"), tax_percent=Decimal("0"), stock=10)
    purchase_create(
        customer_email="buyer@example.com",
        items=[{"product_id": product.pk, "quantity": 1}],
        paid_amount=Decimal("500"),
        tendered=[{"value": Decimal("500"), "count": 1}],
    )


def test_audit_passes_and_prints_the_drawer_with_its_total():
    ring_up_a_bill_with_change()

    out, err = run("drawer_audit")

    assert "Drawer audit passed: 2 denomination(s)" in out
    assert "1300.00" in out  # 2 × 500 + 3 × 100
    assert err == ""


def test_audit_passes_on_an_empty_drawer():
    out, _ = run("drawer_audit")

    assert "Drawer audit passed: 0 denomination(s)" in out


def test_audit_fails_when_a_count_does_not_match_its_movements():
    ring_up_a_bill_with_change()
    Denomination.objects.filter(value=Decimal("100")).update(count=9)  # written behind the ledger's back

    with pytest.raises(CommandError, match="Drawer audit failed: 1 problem"):
        run("drawer_audit")


def test_audit_reports_the_mismatch_and_marks_the_row():
    drawer_with({"500": 2})
    Denomination.objects.filter(value=Decimal("500")).update(count=5)
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError):
        call_command("drawer_audit", stdout=out, stderr=err)

    assert "500.00: count 5 but its movements add up to 2" in err.getvalue()
    assert "MISMATCH" in out.getvalue()


def test_audit_fails_when_a_movement_count_after_is_wrong():
    ring_up_a_bill_with_change()
    movement = DrawerMovement.objects.filter(kind="change_out").get()
    DrawerMovement.objects.filter(pk=movement.pk).update(count_after=movement.count_after + 1)
    err = io.StringIO()

    with pytest.raises(CommandError, match="1 problem"):
        call_command("drawer_audit", stdout=io.StringIO(), stderr=err)

    assert f"movement #{movement.pk} says count_after=" in err.getvalue()
