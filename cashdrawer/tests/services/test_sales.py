"""What a bill does at a till, called directly: the tendered notes checked against the drawer and
the amount paid, the change planned from what the drawer holds, and the till locked for a bill
(with its session found, or opened)."""

from decimal import Decimal

import pytest
from django.db import transaction

from billing_project.core.errors import ValidationFailed
from cashdrawer.errors import ChangeUnavailable, SessionClosed, TenderMismatch, TillInactive, TillNotFound
from cashdrawer.models import MAX_COUNT, Denomination, TillSession
from cashdrawer.services import (
    drawer_check_tender,
    drawer_plan_change,
    session_open,
    till_lock_for_bill,
    till_update,
)
from cashdrawer.tests.factories import pieces

pytestmark = pytest.mark.django_db

D = Decimal


def drawer(till) -> list[Denomination]:
    return list(Denomination.objects.filter(till=till).order_by("value"))


def test_tendered_notes_of_the_same_value_are_combined_and_must_add_up_to_what_is_paid(till):
    tender = drawer_check_tender(
        denominations=drawer(till), tendered=pieces({"500": 1, "100": 2}) + pieces({"100": 1}), paid_amount=D("800")
    )

    assert dict(tender) == {D("500"): 1, D("100"): 3}
    with pytest.raises(TenderMismatch) as refused:
        drawer_check_tender(denominations=drawer(till), tendered=pieces({"500": 1}), paid_amount=D("600"))
    assert refused.value.details == {"tendered_total": "500.00", "paid_amount": "600.00"}


def test_a_note_the_drawer_has_no_place_for_is_refused(till):
    with pytest.raises(TenderMismatch):
        drawer_check_tender(denominations=drawer(till), tendered=pieces({"2000": 1}), paid_amount=D("2000"))
    with pytest.raises(ValidationFailed):
        drawer_check_tender(
            denominations=drawer(till), tendered=pieces({"500": MAX_COUNT}), paid_amount=D("500") * MAX_COUNT
        )
    with pytest.raises(ValidationFailed):
        drawer_check_tender(denominations=drawer(till), tendered=pieces({"500": 0}), paid_amount=D("0"))


def test_change_is_the_fewest_pieces_the_drawer_holds(till):
    # The drawer holds 500, 100, 10 and 1 (no 50s, no 5s): 345.00 back from a 500 note.
    change = drawer_plan_change(denominations=drawer(till), tendered={D("500"): 1}, change_due=D("345"))

    assert change == {D("100"): 3, D("10"): 4, D("1"): 5}


def test_the_tendered_notes_can_be_given_back_as_change(till):
    # A drawer with no 500s and no 100s: a 500.00 bill paid with two 500 notes gets one of them back.
    till_drawer = drawer(till)
    for denomination in till_drawer:
        if denomination.value >= D("100"):
            denomination.count = 0

    change = drawer_plan_change(denominations=till_drawer, tendered={D("500"): 2}, change_due=D("500"))

    assert change == {D("500"): 1}


def test_change_the_drawer_cannot_make_is_refused(till):
    with pytest.raises(ChangeUnavailable) as refused:
        drawer_plan_change(denominations=drawer(till), tendered={D("500"): 1}, change_due=D("55"))  # no 5s

    assert refused.value.details == {"change_due": "55.00"}


def test_a_bill_at_a_till_without_a_session_opens_one_at_the_counts_of_the_moment(till, superuser):
    with transaction.atomic():
        locked, session_id, denominations = till_lock_for_bill(till_id=till.pk, user=superuser)

    session = TillSession.objects.get(pk=session_id)
    assert locked == till
    assert [d.value for d in denominations] == [D("1"), D("10"), D("100"), D("500")]
    assert (session.auto_opened, session.opened_by, session.note) == (True, superuser, "opened by a bill")
    assert session.opening_counted == [
        {"value": "500.00", "count": 2},
        {"value": "100.00", "count": 5},
        {"value": "10.00", "count": 4},
        {"value": "1.00", "count": 10},
    ]
    with transaction.atomic():
        assert till_lock_for_bill(till_id=till.pk)[1] == session_id  # the same session, not a second one


def test_a_bill_uses_the_session_a_cashier_opened(till):
    session = session_open(till_id=till.pk, counted=pieces({"500": 2, "100": 5, "10": 4, "1": 10}))

    with transaction.atomic():
        assert till_lock_for_bill(till_id=till.pk)[1] == session.pk


def test_a_till_that_requires_a_session_refuses_a_bill_without_one(till):
    till_update(till_id=till.pk, requires_open_session=True)

    with pytest.raises(SessionClosed), transaction.atomic():
        till_lock_for_bill(till_id=till.pk)

    assert not TillSession.objects.filter(till=till).exists()


def test_an_unknown_or_inactive_till_takes_no_bill(till):
    with pytest.raises(TillNotFound), transaction.atomic():
        till_lock_for_bill(till_id=till.pk + 1000)
    till_update(till_id=till.pk, is_active=False)
    with pytest.raises(TillInactive), transaction.atomic():
        till_lock_for_bill(till_id=till.pk)
