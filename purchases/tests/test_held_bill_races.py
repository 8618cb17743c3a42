"""Race tests for parked bills: real threads, real connections, PostgreSQL row locks."""

import pytest
from rest_framework.test import APIClient

from billing_project.core.testing.concurrency import run_concurrently
from cashdrawer.services import till_default
from catalog.tests.factories import ProductFactory
from purchases.errors import HeldBillNotFound
from purchases.models import HeldBill
from purchases.services import held_bill_create, held_bill_recall

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.mark.parametrize("callers", [2, 6])
def test_of_concurrent_recalls_of_one_parked_bill_exactly_one_gets_the_cart(postgres_only, callers):
    till = till_default()
    product = ProductFactory(stock=5)
    for _round in range(5):
        held = held_bill_create(till=till.pk, items=[{"product_id": product.pk, "quantity": 2}])

        results = run_concurrently(callers, lambda i, pk=held.pk: held_bill_recall(held_bill_id=pk))

        winners = [r for r in results if isinstance(r, HeldBill)]
        losers = [r for r in results if isinstance(r, HeldBillNotFound)]
        assert len(winners) == 1, results
        assert len(losers) == callers - 1, results
        assert winners[0].pk == held.pk and winners[0].items == held.items
        assert not HeldBill.objects.filter(pk=held.pk).exists()


def test_of_concurrent_api_recalls_exactly_one_answers_200(postgres_only, cashier_user):
    till = till_default()
    held = held_bill_create(till=till.pk, items=[{"product_id": ProductFactory(stock=5).pk, "quantity": 1}])

    def recall(_i):
        client = APIClient()
        client.force_authenticate(cashier_user)
        return client.post(f"/api/v1/held-bills/{held.pk}/recall").status_code

    assert sorted(run_concurrently(4, recall)) == [200, 404, 404, 404]
