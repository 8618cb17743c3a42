"""Race tests for tills and sessions: real threads, real connections, PostgreSQL row locks."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import transaction

from billing_project.core.errors import DomainError
from billing_project.core.testing.concurrency import run_concurrently
from cashdrawer.errors import VarianceNeedsManager
from cashdrawer.lock_objects import denominations_for_update, till_for_update
from cashdrawer.models import CashMovement, Denomination, DrawerMovement, TillSession
from cashdrawer.selectors import drawer_audit
from cashdrawer.services import (
    cash_movement_create,
    denomination_create,
    drawer_set_count,
    session_close,
    session_open,
    till_create,
)
from catalog.tests.factories import ProductFactory
from customers.tests.factories import UserFactory
from purchases.models import Purchase
from purchases.services import purchase_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

D = Decimal


def a_till(code: str, drawer: dict):
    till = till_create(code=code)
    for value, count in drawer.items():
        denomination_create(value=D(value), count=count, till=till)
    return till


def ring(till, product, i, *, note="100"):
    return purchase_create(
        customer_email=f"b{i}@example.com",
        items=[{"product_id": product.pk, "quantity": 1}],
        paid_amount=D(note),
        tendered=[{"value": D(note), "count": 1}],
        till=till.pk,
        send_invoice=False,
    )


def counts(till) -> dict:
    return dict(Denomination.objects.filter(till=till).values_list("value", "count"))


def test_a_close_racing_bills_includes_every_bill_before_it_and_none_after(postgres_only):
    manager = UserFactory(username="boss", is_superuser=True)
    till = a_till("T1", {"100": 0, "10": 100})
    product = ProductFactory(price=D("100"), tax_percent=D("0"), stock=1000)  # exact notes: no change needed
    session = session_open(till_id=till.pk, counted=[{"value": "10", "count": 100}])

    def work(i):
        if i == 6:
            time.sleep(0.01)
            return session_close(session_id=session.pk, counted=[], user=manager)
        return ring(till, product, i)

    results = run_concurrently(12, work)

    assert not [r for r in results if isinstance(r, Exception)], results
    closed = TillSession.objects.get(pk=session.pk)
    assert closed.status == "closed"
    in_session = Purchase.objects.filter(session=closed)
    after = Purchase.objects.filter(till=till).exclude(session=closed)
    assert in_session.count() + after.count() == 11
    # The close's expected counts are the opening plus every bill recorded in the session.
    moves = DrawerMovement.objects.filter(session=closed, kind__in=["tender_in", "change_out"])
    expected = {D("100"): 0, D("10"): 100}
    for m in moves:
        expected[m.denomination.value] += m.delta
    assert closed.expected is not None and closed.closed_at is not None
    assert {D(r["value"]): r["count"] for r in closed.expected} == expected
    assert moves.count() == in_session.count()
    # Nothing of the session was written after its close.
    last_close = DrawerMovement.objects.filter(session=closed, kind="close_count").order_by("id").first()
    if last_close is not None:
        assert not DrawerMovement.objects.filter(session=closed, id__gt=last_close.id).exclude(kind="close_count")
    for bill in after:
        assert bill.session is not None
        assert bill.session_id != closed.pk and bill.session.opened_at >= closed.closed_at
    assert drawer_audit().ok


def test_two_opens_of_one_till_give_one_session_and_one_session_open(postgres_only):
    till = a_till("T1", {"100": 5})

    results = run_concurrently(2, lambda i: session_open(till_id=till.pk, counted=[{"value": "100", "count": 5}]))

    assert sorted(type(r).__name__ for r in results) == ["SessionOpen", "TillSession"]
    assert TillSession.objects.filter(till=till, status="open").count() == 1


def test_cash_out_racing_bills_change_never_takes_the_drawer_below_zero(postgres_only):
    manager = UserFactory(username="boss", is_superuser=True)
    till = a_till("T1", {"100": 0, "10": 5})
    product = ProductFactory(price=D("90"), tax_percent=D("0"), stock=100)
    session = session_open(till_id=till.pk, counted=[{"value": "10", "count": 5}])

    def work(i):
        if i % 2:
            return ring(till, product, i)  # needs one 10 of change
        return cash_movement_create(
            session_id=session.pk, direction="out", pieces=[{"value": "10", "count": 2}], reason="payout", user=manager
        )

    results = run_concurrently(8, work)

    assert not [r for r in results if not isinstance(r, (Purchase, CashMovement, DomainError))], results
    refusals = {r.code for r in results if isinstance(r, DomainError)}
    assert refusals <= {"change_unavailable", "insufficient_cash"}
    bills = sum(isinstance(r, Purchase) for r in results)
    outs = sum(isinstance(r, CashMovement) for r in results)
    assert counts(till)[D("10")] == 5 - bills - 2 * outs >= 0
    assert drawer_audit().ok


def test_bills_at_different_tills_do_not_wait_on_each_others_drawer(postgres_only):
    busy = a_till("T1", {"100": 10, "10": 10})
    free = a_till("T2", {"100": 10, "10": 10})
    product = ProductFactory(price=D("90"), tax_percent=D("0"), stock=100)
    locked, release = threading.Event(), threading.Event()

    def hold_till_one():
        from django.db import connection

        try:
            with transaction.atomic():
                till_for_update(till_id=busy.pk).get()
                list(denominations_for_update(till_id=busy.pk))
                locked.set()
                release.wait(timeout=20)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_till_one)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        started = time.monotonic()
        bill = ring(free, product, 1)
        elapsed = time.monotonic() - started
    finally:
        release.set()
        holder.join(timeout=30)

    assert bill.till_id == free.pk
    assert elapsed < 1.0, f"a bill at T2 waited {elapsed:.2f}s behind T1's drawer"
    assert counts(free) == {D("100"): 11, D("10"): 9}


def test_no_deadlock_in_a_mix_of_bills_opens_closes_and_cash_movements(postgres_only):
    manager = UserFactory(username="boss", is_superuser=True)
    tills = [a_till(f"T{n}", {"100": 50, "10": 50}) for n in (1, 2)]
    products = [ProductFactory(price=D("90"), tax_percent=D("0"), stock=1000) for _ in range(3)]
    sessions = [
        session_open(till_id=t.pk, counted=[{"value": "100", "count": 50}, {"value": "10", "count": 50}]) for t in tills
    ]

    def work(i):
        till = tills[i % 2]
        kind = i % 8
        if kind in (0, 1, 2, 3):
            first, second = (products[0], products[1]) if i % 3 else (products[1], products[0])
            return purchase_create(
                customer_email=f"mix{i}@example.com",
                items=[{"product_id": first.pk, "quantity": 1}, {"product_id": second.pk, "quantity": 1}],
                paid_amount=D("200"),
                tendered=[{"value": D("100"), "count": 2}],
                till=till.pk,
                send_invoice=False,
            )
        if kind in (4, 5):
            return cash_movement_create(
                session_id=sessions[i % 2].pk,
                direction="in" if i % 4 else "out",
                pieces=[{"value": "10", "count": 1}],
                reason="mix",
                user=manager,
            )
        if kind == 6:
            return session_close(session_id=sessions[i % 2].pk, counted=[], user=manager)
        return session_open(till_id=till.pk, counted=[{"value": "100", "count": 50}])

    results = run_concurrently(24, work)

    unexpected = [r for r in results if not isinstance(r, (Purchase, CashMovement, TillSession, DomainError))]
    assert unexpected == []
    codes = {r.code for r in results if isinstance(r, DomainError)}
    assert codes <= {"session_open", "session_closed", "insufficient_cash", "change_unavailable"}, codes
    for till in tills:
        assert TillSession.objects.filter(till=till, status="open").count() <= 1
    assert drawer_audit().ok


def _wait_for_a_lock_wait(timeout: float = 10.0) -> None:
    """Until some connection of this database waits on a row lock."""
    from django.db import connection

    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("no connection started waiting for the till's lock")


@pytest.mark.parametrize(("cashier_counts", "opens"), [(10, True), (5, False)])
def test_an_open_is_checked_against_the_drawer_as_it_is_once_the_till_is_locked(postgres_only, cashier_counts, opens):
    """A manager sets the float while a cashier's open waits for the till: the open's variance is
    counted against the manager's counts, not the ones before."""
    from django.db import connection

    manager = UserFactory(username="boss", is_superuser=True)
    cashier = UserFactory(username="counter")
    till = a_till("T1", {"100": 5})
    holding, release = threading.Event(), threading.Event()

    def manager_sets_the_float():
        try:
            with transaction.atomic():
                drawer_set_count(value=D("100"), count=10, user=manager, reason="float", till=till)
                holding.set()
                release.wait(timeout=20)
        finally:
            connection.close()

    outcome: list = []

    def cashier_opens():
        try:
            outcome.append(
                session_open(till_id=till.pk, counted=[{"value": "100", "count": cashier_counts}], user=cashier)
            )
        except DomainError as exc:
            outcome.append(exc)
        finally:
            connection.close()

    setter, opener = threading.Thread(target=manager_sets_the_float), threading.Thread(target=cashier_opens)
    setter.start()
    try:
        assert holding.wait(timeout=10)
        opener.start()
        _wait_for_a_lock_wait()
    finally:
        release.set()
        setter.join(timeout=30)
        opener.join(timeout=30)

    assert not setter.is_alive() and not opener.is_alive()
    if opens:
        assert isinstance(outcome[0], TillSession), outcome
        assert outcome[0].opening_variance == D("0.00")
    else:
        assert isinstance(outcome[0], VarianceNeedsManager), outcome
        assert outcome[0].details["variance"] == "-500.00"
        assert not TillSession.objects.filter(till=till).exists()
    assert counts(till) == {D("100"): 10}
    assert drawer_audit().ok
