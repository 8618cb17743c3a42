"""Race tests of transfers: real threads, real connections, PostgreSQL row locks. After each,
``stock_audit`` passes at every store."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from billing_project.core.testing.concurrency import run_concurrently
from catalog.errors import InsufficientStock, TransferAlreadyReceived
from catalog.models import StockMovement, Store, StoreStock, Transfer, TransferLine
from catalog.stock import adjustment_create, stock_audit
from catalog.tests.factories import ProductFactory, StoreFactory
from catalog.transfers import transfer_create, transfer_receive

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


def test_transfers_racing_for_the_last_units_at_the_source_never_take_more_than_is_there(postgres_only, main):
    branch = StoreFactory(code="BR")
    tea, rice = ProductFactory(stock=5), ProductFactory(stock=50)

    def work(i):
        # Both products in every transfer, named in opposite orders: the locks are taken in product order.
        lines = [{"product_id": tea.pk, "quantity": 2}, {"product_id": rice.pk, "quantity": 1}]
        if i % 2:
            lines.reverse()
        return transfer_create(from_store=main.pk, to_store=branch.pk, lines=lines, user=None)

    results = run_concurrently(6, work)

    sent = [r for r in results if isinstance(r, Transfer)]
    refused = [r for r in results if isinstance(r, InsufficientStock)]
    assert len(sent) == 2 and len(refused) == 4, results
    assert (at(main, tea), at(main, rice)) == (1, 48)
    assert TransferLine.objects.count() == 4
    assert stock_audit().problems == []


def test_two_receives_of_one_transfer_have_one_winner(postgres_only, main):
    branch = StoreFactory(code="BR")
    tea = ProductFactory(stock=10)
    transfer = transfer_create(
        from_store=main.pk, to_store=branch.pk, lines=[{"product_id": tea.pk, "quantity": 6}], user=None
    )

    def work(i):
        # One says all 6 came, the other 4: whichever is first is the receipt.
        received = 6 if i == 0 else 4
        return transfer_receive(
            transfer_id=transfer.pk, lines=[{"product_id": tea.pk, "quantity": received}], user=None
        )

    results = run_concurrently(2, work)

    assert sorted(type(r).__name__ for r in results) == ["Transfer", "TransferAlreadyReceived"], results
    line = TransferLine.objects.get(transfer=transfer)
    assert at(branch, tea) == line.received and line.received in (4, 6)
    assert StockMovement.objects.filter(transfer=transfer, kind="transfer_in").count() == 1
    assert StockMovement.objects.filter(transfer=transfer, kind="transfer_loss").count() == (line.received == 4)
    assert isinstance(next(r for r in results if not isinstance(r, Transfer)), TransferAlreadyReceived)
    assert stock_audit().problems == []


def test_sending_and_receiving_and_adjusting_at_one_store_at_once_keep_its_ledger(postgres_only, main):
    branch = StoreFactory(code="BR")
    tea = ProductFactory(stock=40)
    incoming = [
        transfer_create(
            from_store=main.pk, to_store=branch.pk, lines=[{"product_id": tea.pk, "quantity": 3}], user=None
        )
        for _ in range(3)
    ]
    adjustment_create(lines=[{"product_id": tea.pk, "quantity": 10}], reason="found", store=branch.pk, user=None)

    def work(i):
        if i < 3:  # goods arriving at the branch, 1 of each 3 lost
            return transfer_receive(
                transfer_id=incoming[i].pk, lines=[{"product_id": tea.pk, "quantity": 2}], user=None
            )
        if i < 6:  # and the branch sending some back
            return transfer_create(
                from_store=branch.pk, to_store=main.pk, lines=[{"product_id": tea.pk, "quantity": 2}], user=None
            )
        return adjustment_create(
            lines=[{"product_id": tea.pk, "quantity": -1}], reason="damaged", store=branch.pk, user=None
        )

    results = run_concurrently(8, work)

    assert [r for r in results if isinstance(r, Exception)] == []
    # 10 found + 3 × 2 arrived − 3 × 2 sent back − 2 damaged.
    assert at(branch, tea) == 8
    assert at(main, tea) == 40 - 9
    assert stock_audit().problems == []
    assert TransferLine.objects.aggregate(lost=Sum("loss"))["lost"] == 3
