"""The shared database helpers."""

import pytest

from billing_project.db import insert_rows
from customers.models import Customer

pytestmark = pytest.mark.django_db


def test_insert_rows_writes_every_row_and_sets_the_keys_in_order():
    rows = [Customer(email=f"c{i}@example.com") for i in range(3)]

    returned = insert_rows(rows)

    assert returned == rows
    assert [c.email for c in Customer.objects.order_by("pk")] == ["c0@example.com", "c1@example.com", "c2@example.com"]
    for row in rows:
        stored = Customer.objects.get(pk=row.pk)
        assert (stored.email, stored.created_at) == (
            row.email,
            row.created_at,
        )  # auto_now_add filled in, as the ORM does
        assert row.created_at is not None
        assert row._state.adding is False


def test_insert_rows_of_nothing_writes_nothing():
    assert insert_rows([]) == []
    assert not Customer.objects.exists()
