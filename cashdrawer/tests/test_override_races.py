"""Override race tests: real threads, real connections, PostgreSQL row locks on the override."""

from decimal import Decimal

import pytest

from billing_project.core.errors import DomainError
from billing_project.core.roles import role_assign, roles_setup
from billing_project.core.testing.concurrency import run_concurrently
from cashdrawer.models import Override
from cashdrawer.tests.factories import drawer_with
from cashdrawer.tests.helpers import token_for, with_pin
from catalog.tests.factories import ProductFactory
from customers.tests.factories import UserFactory
from purchases.models import Purchase
from purchases.services import purchase_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

D = Decimal


@pytest.mark.parametrize("uses", [2, 8])
def test_two_uses_of_one_override_token_have_exactly_one_winner(postgres_only, uses):
    roles_setup()
    manager, cashier = UserFactory(username="boss"), UserFactory(username="till1")
    role_assign(user=manager, role="Manager")
    role_assign(user=cashier, role="Cashier")
    with_pin(manager)
    drawer_with({"100": 50, "10": 50})
    product = ProductFactory(price=D("100"), tax_percent=D("0"), stock=100)
    token = token_for(manager, "discount", cashier=cashier)

    def ring_up(i):
        return purchase_create(
            items=[{"product_id": product.pk, "quantity": 1}],
            paid_amount=D("50"),
            discount_percent=D("50"),
            discount_reason=f"race {i}",
            user=type(cashier).objects.get(pk=cashier.pk),
            override_token=token,
        )

    results = run_concurrently(uses, ring_up)

    bills = [r for r in results if isinstance(r, Purchase)]
    refusals = [r for r in results if isinstance(r, DomainError)]
    assert len(bills) == 1, results
    assert [r.code for r in refusals] == ["override_invalid"] * (uses - 1)
    assert Purchase.objects.get().approved_by == manager
    override = Override.objects.get(outcome="granted")
    assert override.used_on == f"bill {bills[0].number}" and override.used_by == cashier
