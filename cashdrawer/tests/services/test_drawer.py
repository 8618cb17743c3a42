"""The drawer services, called directly: values and their caps, counts set one by one or as a
float, and the ledger that follows every count."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from billing_project.core.errors import ValidationFailed
from cashdrawer.errors import DenominationExists, TooManyDenominations
from cashdrawer.models import MAX_COUNT, MAX_DENOMINATIONS, Denomination, DrawerMovement
from cashdrawer.services import (
    denomination_create,
    drawer_set_count,
    drawer_set_counts,
    session_open,
    till_create,
)
from cashdrawer.tests.factories import pieces

pytestmark = pytest.mark.django_db


def test_set_count_records_the_delta_and_who_did_it(superuser):
    denomination_create(value=Decimal("100"), count=5)

    drawer_set_count(value=Decimal("100"), count=2, user=superuser, reason="counted at noon")

    assert Denomination.objects.get().count == 2
    movement = DrawerMovement.objects.order_by("id").last()
    assert movement is not None
    assert (movement.kind, movement.delta, movement.count_after) == ("manual_set", -3, 2)
    assert (movement.user, movement.reason) == (superuser, "counted at noon")


def test_count_always_equals_the_sum_of_movements():
    denomination_create(value=Decimal("50"), count=5)
    for count in (9, 0, 4, 4, 12):
        drawer_set_count(value=Decimal("50"), count=count)

    denomination = Denomination.objects.get()
    assert denomination.count == 12 == sum(denomination.movements.values_list("delta", flat=True))


def test_negative_counts_are_refused_by_the_service_and_the_database():
    denomination_create(value=Decimal("20"), count=1)

    with pytest.raises(ValidationFailed):
        drawer_set_count(value=Decimal("20"), count=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Denomination.objects.update(count=-1)

    assert Denomination.objects.get().count == 1


def test_zero_or_negative_values_are_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        Denomination.objects.create(value=Decimal("0"))


def test_a_value_is_added_once_and_within_its_caps(till):
    with pytest.raises(DenominationExists):
        denomination_create(value=Decimal("500"), till=till)
    with pytest.raises(ValidationFailed):
        denomination_create(value=Decimal("-5"), till=till)
    with pytest.raises(ValidationFailed):
        denomination_create(value=Decimal("20"), count=MAX_COUNT + 1, till=till)

    assert Denomination.objects.filter(till=till).count() == 4


def test_a_drawer_holds_at_most_max_denominations_values(db):
    till = till_create(code="T5")
    for value in range(1, MAX_DENOMINATIONS + 1):
        denomination_create(value=Decimal(value), till=till)

    with pytest.raises(TooManyDenominations):
        denomination_create(value=Decimal("1000"), till=till)


def test_a_counted_float_is_set_all_or_nothing(till, superuser):
    result = drawer_set_counts(
        counts={Decimal("500"): 2, Decimal("100"): 7, Decimal("50"): 3},
        create_missing=True,
        user=superuser,
        reason="float",
        till=till,
    )

    assert result == {"created": [Decimal("50")], "changed": [Decimal("100")], "unchanged": [Decimal("500")]}
    with pytest.raises(Denomination.DoesNotExist):
        drawer_set_counts(counts={Decimal("100"): 1, Decimal("20"): 1}, till=till)  # 20 is no value here
    assert Denomination.objects.get(till=till, value=100).count == 7  # the 100 was not set either
    assert set(DrawerMovement.objects.filter(till=till, reason="float").values_list("kind", flat=True)) == {
        "manual_set"
    }


def test_a_set_during_a_session_is_recorded_in_it(till):
    session = session_open(till_id=till.pk, counted=pieces({"500": 2, "100": 5, "10": 4, "1": 10}))

    drawer_set_count(value=Decimal("10"), count=9, till=till, reason="found coins")

    movement = DrawerMovement.objects.get(kind="manual_set", reason="found coins")
    assert (movement.session_id, movement.delta) == (session.pk, 5)
