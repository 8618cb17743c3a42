"""The session services, called directly: open with a counted float, cash in and out, the blind
close with its variance and frozen Z report, and the X report's sales from the registered source."""

from decimal import Decimal

import pytest

from billing_project.core.errors import ValidationFailed
from cashdrawer import reports
from cashdrawer.errors import InsufficientCash, SessionClosed, SessionOpen, TillInactive, VarianceNeedsManager
from cashdrawer.models import Denomination, DrawerMovement, TillSession
from cashdrawer.reports import SessionSales, session_figures
from cashdrawer.services import cash_movement_create, session_close, session_open, session_report, till_update
from cashdrawer.tests.factories import pieces

pytestmark = pytest.mark.django_db

D = Decimal
FLOAT = {"500": 2, "100": 5, "10": 4, "1": 10}  # the till fixture's drawer: 1,550.00


def counts(till) -> dict[str, int]:
    return {f"{d.value:.0f}": d.count for d in Denomination.objects.filter(till=till)}


def test_opening_with_the_expected_float_records_no_variance_and_no_movement(till):
    session = session_open(till_id=till.pk, counted=pieces(FLOAT))

    assert session.is_open
    assert session.opening_variance == D("0.00")
    assert not DrawerMovement.objects.filter(session=session).exists()
    assert counts(till) == FLOAT


def test_a_short_opening_count_needs_a_manager_and_then_becomes_the_drawer(till, superuser, settings):
    settings.CASH_VARIANCE_LIMIT = D("5.00")
    short = {**FLOAT, "100": 4}  # 100.00 short

    with pytest.raises(VarianceNeedsManager) as refused:
        session_open(till_id=till.pk, counted=pieces(short))
    assert refused.value.details == {"limit": "5.00", "variance": "-100.00"}
    assert not TillSession.objects.filter(till=till).exists()
    assert counts(till) == FLOAT

    session = session_open(till_id=till.pk, counted=pieces(short), user=superuser)

    assert session.opening_variance == D("-100.00")
    assert counts(till) == short
    movement = DrawerMovement.objects.get(session=session)
    assert (movement.kind, movement.delta, movement.count_after) == ("open_count", -1, 4)


def test_a_variance_within_the_limit_needs_no_manager(till, settings):
    settings.CASH_VARIANCE_LIMIT = D("5.00")

    session = session_open(till_id=till.pk, counted=pieces({**FLOAT, "1": 7}))

    assert session.opening_variance == D("-3.00")


def test_a_till_opens_once_and_an_inactive_till_not_at_all(till):
    session = session_open(till_id=till.pk, counted=pieces(FLOAT))

    with pytest.raises(SessionOpen) as again:
        session_open(till_id=till.pk, counted=pieces(FLOAT))
    assert again.value.details == {"session": session.pk}

    session_close(session_id=session.pk, counted=pieces(FLOAT))
    till_update(till_id=till.pk, is_active=False)
    with pytest.raises(TillInactive):
        session_open(till_id=till.pk, counted=pieces(FLOAT))


def test_a_count_of_an_unknown_value_or_out_of_range_is_refused(till):
    with pytest.raises(ValidationFailed):
        session_open(till_id=till.pk, counted=pieces({"2000": 1}))
    with pytest.raises(ValidationFailed):
        session_open(till_id=till.pk, counted=pieces({"500": -1}))

    assert not TillSession.objects.filter(till=till).exists()


def test_cash_in_and_out_move_the_counts_and_the_expected_cash(till):
    session = session_open(till_id=till.pk, counted=pieces(FLOAT))

    cash_movement_create(session_id=session.pk, direction="in", pieces=pieces({"100": 3}), reason="float top-up")
    out = cash_movement_create(session_id=session.pk, direction="out", pieces=pieces({"500": 2}), reason="safe drop")

    assert out.amount == D("1000.00")
    assert counts(till) == {**FLOAT, "100": 8, "500": 0}
    cash = session_report(session_id=session.pk)["cash"]
    assert (cash["cash_in"], cash["cash_out"], cash["expected"]) == ("300.00", "1000.00", "850.00")


def test_taking_out_more_than_the_drawer_holds_is_refused_and_changes_nothing(till):
    session = session_open(till_id=till.pk, counted=pieces(FLOAT))

    with pytest.raises(InsufficientCash) as refused:
        cash_movement_create(session_id=session.pk, direction="out", pieces=pieces({"500": 3}), reason="too much")

    assert refused.value.details == {"value": "500.00", "available": 2, "requested": 3}
    assert counts(till) == FLOAT
    assert not DrawerMovement.objects.filter(session=session).exists()


@pytest.mark.parametrize(
    ("direction", "reason", "given"),
    [("in", "  ", {"100": 1}), ("sideways", "why", {"100": 1}), ("in", "nothing", {})],
)
def test_a_cash_movement_needs_a_reason_a_direction_and_pieces(till, direction, reason, given):
    session = session_open(till_id=till.pk, counted=pieces(FLOAT))

    with pytest.raises(ValidationFailed):
        cash_movement_create(session_id=session.pk, direction=direction, pieces=pieces(given), reason=reason)

    assert counts(till) == FLOAT


def test_closing_posts_the_variance_and_freezes_the_z_report(till, superuser):
    session = session_open(till_id=till.pk, counted=pieces(FLOAT))
    cash_movement_create(session_id=session.pk, direction="in", pieces=pieces({"10": 2}), reason="coins")
    closing = {**FLOAT, "10": 6, "1": 8}  # expected 1,570.00; counted 1,568.00

    closed = session_close(session_id=session.pk, counted=pieces(closing), user=superuser, note="2 short")

    assert closed.status == TillSession.Status.CLOSED
    assert closed.variance_total == D("-2.00")
    assert closed.variance == [{"value": "1.00", "count": -2}]
    assert counts(till) == closing
    close_counts = DrawerMovement.objects.filter(session=session, kind="close_count")
    assert list(close_counts.values_list("delta", flat=True)) == [-2]
    report = closed.report
    assert report is not None
    assert report["status"] == "closed"
    assert report["cash"]["expected"] == "1570.00"
    assert (report["cash"]["counted"], report["cash"]["variance"]) == ("1568.00", "-2.00")
    # The Z report is frozen: later changes to the drawer do not reach it.
    assert session_report(session_id=session.pk) == report


def test_a_close_with_a_variance_over_the_limit_waits_for_a_manager(till):
    session = session_open(till_id=till.pk, counted=pieces(FLOAT))

    pending = session_close(session_id=session.pk, counted=pieces({**FLOAT, "500": 1}))

    assert TillSession.objects.get(pk=session.pk).status == TillSession.Status.PENDING_APPROVAL
    assert pending.closing_counted == pieces({**FLOAT, "500": 1}) or pending.closing_counted
    assert counts(till) == FLOAT  # nothing is posted until a manager decides


def test_a_closed_session_takes_no_cash_and_no_second_close(till):
    session = session_open(till_id=till.pk, counted=pieces(FLOAT))
    session_close(session_id=session.pk, counted=pieces(FLOAT))

    with pytest.raises(SessionClosed):
        session_close(session_id=session.pk, counted=pieces(FLOAT))
    with pytest.raises(SessionClosed):
        cash_movement_create(session_id=session.pk, direction="in", pieces=pieces({"1": 1}), reason="late")


def test_a_sessions_sales_come_from_the_registered_source(till, superuser, monkeypatch):
    """The drawer knows no bills: the X and Z report take what a session sold from the source the
    app that rings bills up registers, and expect its cash (less the change) in the drawer."""
    session = session_open(till_id=till.pk, counted=pieces(FLOAT))
    sold = SessionSales(
        bills=3,
        total=D("1180.00"),
        tax_total=D("180.00"),
        rounding=D("0.00"),
        discount_total=D("20.00"),
        cash_paid=D("700.00"),
        change_due=D("20.00"),
        payments={"cash": (True, D("700.00")), "card": (False, D("500.00"))},
        tax_by_rate=[(D("18.00"), D("1000.00"), D("180.00"))],
        refund_count=1,
        refund_total=D("50.00"),
    )
    monkeypatch.setattr(reports, "_sales_source", lambda s: sold if s.pk == session.pk else SessionSales())

    live = session_report(session_id=session.pk)
    closed = session_close(
        session_id=session.pk, counted=pieces({**FLOAT, "500": 3, "100": 6, "10": 2}), user=superuser
    )

    assert (live["bills"], live["gross_sales"], live["tax_total"], live["discount_total"]) == (
        3,
        "1180.00",
        "180.00",
        "20.00",
    )
    assert live["payments"] == [{"method": "cash", "amount": "680.00"}, {"method": "card", "amount": "500.00"}]
    assert live["tax_by_rate"] == [{"tax_percent": "18.00", "taxable": "1000.00", "tax": "180.00"}]
    assert live["refunds"] == {"count": 1, "total": "50.00"}
    # 1,550.00 opening + 700.00 cash − 20.00 change; none of its notes were counted in.
    assert (live["cash"]["expected"], live["cash"]["uncounted_cash"]) == ("2230.00", "700.00")
    assert closed.report is not None
    assert (closed.report["cash"]["expected"], closed.report["cash"]["counted"]) == ("2230.00", "2130.00")
    assert closed.variance_total == D("-100.00")


def test_without_a_source_a_session_sold_nothing(till, monkeypatch):
    monkeypatch.setattr(reports, "_sales_source", None)
    session = session_open(till_id=till.pk, counted=pieces(FLOAT))

    figures = session_figures(session)

    assert (figures["bills"], figures["gross_sales"], figures["cash"]["expected"]) == (0, "0.00", "1550.00")
    assert figures["payments"] == [{"method": "cash", "amount": "0.00"}]
