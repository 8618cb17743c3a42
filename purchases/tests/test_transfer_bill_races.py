"""A transfer and the bills at its source's tills race for the same shelf: real threads, real
connections, PostgreSQL row locks. The source never goes below 0, and ``stock_audit`` passes at
every store."""

from decimal import Decimal

import pytest

from billing_project.core.errors import DomainError
from billing_project.core.testing.concurrency import run_concurrently
from cashdrawer.models import Till
from cashdrawer.services import till_create
from catalog.models import StockMovement, Store, StoreStock, Transfer
from catalog.stock import stock_audit
from catalog.tests.factories import ProductFactory, StoreFactory
from catalog.transfers import transfer_create, transfer_receive
from purchases.models import Purchase, PurchaseItem
from purchases.services import purchase_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

D = Decimal


@pytest.fixture
def main(db):
    """The default store. Migration 0008 made it, but a transactional test's flush empties the
    table, so the tests after the first make it again."""
    return Store.objects.filter(is_default=True).first() or Store.objects.create(
        code="MAIN", name="Main", is_default=True
    )


def at(store, product) -> Decimal:
    return StoreStock.objects.filter(store=store, product=product).values_list("stock", flat=True).first() or D(0)


def _till_at(store, code: str) -> Till:
    till = till_create(code=code)
    Till.objects.filter(pk=till.pk).update(store=store)
    return till


def _card_bill(till, product, quantity):
    return purchase_create(
        items=[{"product_id": product.pk, "quantity": quantity}],
        payments=[{"method": "card", "amount": D("10.00") * quantity}],
        till=till.pk,
    )


def test_two_transfers_and_a_bill_racing_for_the_last_units_at_the_source_never_oversell(postgres_only, main):
    branch = StoreFactory(code="BR")
    till = _till_at(main, "T-MAIN")
    tea = ProductFactory(price=D("10.00"), tax_percent=D("0"), stock=5)

    def work(i):
        if i < 2:
            return transfer_create(
                from_store=main.pk, to_store=branch.pk, lines=[{"product_id": tea.pk, "quantity": 2}], user=None
            )
        return _card_bill(till, tea, 2)

    for _ in range(2):  # a second round finds the shelf at 1 or 0: every one refused but what fits
        results = run_concurrently(3, work)
        unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, DomainError)]
        assert unexpected == []
        assert all(r.code == "insufficient_stock" for r in results if isinstance(r, DomainError))

    sent = 2 * Transfer.objects.count()
    sold = sum(PurchaseItem.objects.filter(product=tea).values_list("quantity", flat=True))
    assert sent + sold == 4  # two of the three takers of 2 won; the 1 left fits nobody
    assert at(main, tea) == 1 and at(branch, tea) == 0
    assert stock_audit().problems == []


def test_a_receipt_and_the_destinations_bills_race_and_no_bill_sells_what_has_not_arrived(postgres_only, main):
    branch = StoreFactory(code="BR")
    till = _till_at(branch, "T-BR")
    tea = ProductFactory(price=D("10.00"), tax_percent=D("0"), stock=10)
    transfer = transfer_create(
        from_store=main.pk, to_store=branch.pk, lines=[{"product_id": tea.pk, "quantity": 6}], user=None
    )

    def work(i):
        if i == 0:
            return transfer_receive(transfer_id=transfer.pk, lines=[{"product_id": tea.pk, "quantity": 5}], user=None)
        return _card_bill(till, tea, 1)

    results = run_concurrently(8, work)

    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, DomainError)]
    assert unexpected == []
    bills = [r for r in results if isinstance(r, Purchase)]
    # A bill before the goods arrived found nothing on the branch's shelf; one after, the 5 that came.
    assert len(bills) <= 5 and at(branch, tea) == 5 - len(bills)
    assert StockMovement.objects.filter(transfer=transfer, kind="transfer_loss").count() == 1
    assert stock_audit().problems == []
