"""Gapless numbers under concurrency (issue 13): real threads, PostgreSQL row locks."""

from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing_project.core.errors import DomainError
from billing_project.core.testing.concurrency import run_concurrently
from cashdrawer.services import denomination_create, till_create
from catalog.tests.factories import ProductFactory
from purchases.models import Purchase
from purchases.services import purchase_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

D = Decimal
BILLS = 24


def test_concurrent_bills_at_two_tills_some_refused_number_each_series_without_gaps(postgres_only):
    main = till_create(code="T1", invoice_series="A", credit_series="CA")
    other = till_create(code="T2", invoice_series="B", credit_series="CB")
    for till in (main, other):
        denomination_create(value=D("100"), count=0, till=till.pk)
    product = ProductFactory(price=D("100"), tax_percent=D("0"), stock=1000)

    def bill(i: int):
        # Every third bill pays too little and is refused after the customer and stock writes.
        return purchase_create(
            customer_email=f"buyer{i}@example.com",
            items=[{"product_id": product.pk, "quantity": 1}],
            paid_amount=D("99") if i % 3 == 0 else D("100"),
            tendered=None,
            till=(main if i % 2 else other).pk,
        )

    results = run_concurrently(BILLS, bill)

    unexpected = [r for r in results if not isinstance(r, (Purchase, DomainError))]
    assert unexpected == []
    refused = [r for r in results if isinstance(r, DomainError)]
    assert {r.code for r in refused} == {"insufficient_payment"}
    numbers: dict[str, list[int]] = defaultdict(list)
    for series, _year, sequence in (n.split("/") for n in Purchase.objects.values_list("number", flat=True) if n):
        numbers[series].append(int(sequence))
    made = Purchase.objects.count()
    assert made == BILLS - len(refused)
    assert set(numbers) == {"A", "B"}
    for sequences in numbers.values():
        assert sorted(sequences) == list(range(1, len(sequences) + 1))


def test_the_bill_takes_its_number_after_the_drawer_locks(postgres_only):
    denomination_create(value=D("100"), count=0)
    product = ProductFactory(price=D("100"), tax_percent=D("0"), stock=10)

    with CaptureQueriesContext(connection) as queries:
        purchase_create(
            customer_email="a@example.com", items=[{"product_id": product.pk, "quantity": 1}], paid_amount=D("100")
        )

    sql = [q["sql"] for q in queries.captured_queries]
    drawer_lock = max(i for i, s in enumerate(sql) if "FOR UPDATE" in s and "cashdrawer_denomination" in s)
    counter = [i for i, s in enumerate(sql) if "ON CONFLICT" in s and "purchases_documentcounter" in s]
    assert len(counter) == 1
    assert counter[0] > drawer_lock
