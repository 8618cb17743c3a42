from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from billing_project.core.errors import ValidationFailed
from cashdrawer.models import Denomination, DrawerMovement
from cashdrawer.services import denomination_create, drawer_set_count

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
