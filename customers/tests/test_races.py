"""Race tests: real threads, real connections, PostgreSQL."""

import threading

import pytest
from django.db import close_old_connections, connection, transaction

from customers.models import Customer
from customers.services import customer_get_or_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def test_a_lookup_that_waited_for_a_concurrent_insert_returns_that_customer(postgres_only):
    """The second caller's insert waits on the unique index for the first one's commit, inserts
    nothing, and reads the committed row instead (its statement's snapshot could not see it)."""
    inserted, go_on = threading.Event(), threading.Event()
    first: dict = {}

    def first_caller():
        try:
            with transaction.atomic():
                first["customer"] = customer_get_or_create(email="new@example.com")
                inserted.set()
                go_on.wait(timeout=10)
        finally:
            close_old_connections()

    thread = threading.Thread(target=first_caller)
    thread.start()
    assert inserted.wait(timeout=10)
    threading.Timer(0.3, go_on.set).start()  # commits while the call below waits on the index

    second = customer_get_or_create(email="NEW@example.com")
    thread.join(timeout=10)

    assert second.pk == first["customer"].pk
    assert Customer.objects.get().email == "new@example.com"
    assert connection.vendor == "postgresql"


def _hold_then_commit(work):
    """Run ``work`` in a transaction on another thread, hold it open, and commit it 0.3 s after the
    caller goes on (while the caller's statement waits on it). Returns (done event, result dict, thread)."""
    done, go_on = threading.Event(), threading.Event()
    result: dict = {}

    def first_caller():
        try:
            with transaction.atomic():
                result["customer"] = work()
                done.set()
                go_on.wait(timeout=10)
        finally:
            close_old_connections()

    thread = threading.Thread(target=first_caller)
    thread.start()
    assert done.wait(timeout=10)
    threading.Timer(0.3, go_on.set).start()
    return result, thread


def test_a_new_phone_that_waited_for_a_concurrent_insert_returns_that_customer(postgres_only):
    first, thread = _hold_then_commit(lambda: customer_get_or_create(phone="9876543210"))

    second = customer_get_or_create(phone="+91 98765-43210")
    thread.join(timeout=10)

    assert second.pk == first["customer"].pk
    assert list(Customer.objects.values_list("email", "phone")) == [(None, "+919876543210")]


def test_a_pair_that_waited_for_its_email_completes_that_customer(postgres_only):
    first, thread = _hold_then_commit(lambda: customer_get_or_create(email="new@example.com"))

    second = customer_get_or_create(email="new@example.com", phone="9876543210")
    thread.join(timeout=10)

    assert second.pk == first["customer"].pk
    assert list(Customer.objects.values_list("email", "phone")) == [("new@example.com", "+919876543210")]


def test_a_phone_given_to_another_customer_while_the_update_waited_is_a_conflict(postgres_only):
    """Both find their own customer by email; the second's UPDATE waits on the first's new phone,
    which then commits: a unique violation, refused as a conflict (never a 500)."""
    from customers.errors import CustomerConflict

    Customer.objects.create(email="ann@example.com")
    Customer.objects.create(email="bob@example.com")
    _, thread = _hold_then_commit(lambda: customer_get_or_create(email="ann@example.com", phone="9876543210"))

    with pytest.raises(CustomerConflict), transaction.atomic():
        customer_get_or_create(email="bob@example.com", phone="9876543210")
    thread.join(timeout=10)

    assert sorted(Customer.objects.values_list("email", "phone")) == [
        ("ann@example.com", "+919876543210"),
        ("bob@example.com", None),
    ]
