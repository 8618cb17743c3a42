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
