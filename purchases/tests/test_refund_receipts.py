"""The refund receipt email: queued with the refund through the outbox, with the invoice's opt-out."""

from decimal import Decimal

import pytest
from django.core import mail
from django_tasks_db.models import DBTaskResult

from catalog.tests.factories import ProductFactory
from purchases.errors import RefundExceedsSold
from purchases.models import Refund
from purchases.services import purchase_create, refund_create

TASK_PATH = "purchases.refund_receipts.send_refund_receipt_email"
D = Decimal


def jobs():
    return DBTaskResult.objects.filter(task_path=TASK_PATH)


def ring_up(*, send_invoice=True):
    rice = ProductFactory(name="Rice", price=D("45.50"), tax_percent=D("5"), stock=10)
    bill = purchase_create(
        customer_email="ann@example.com",
        items=[{"product_id": rice.pk, "quantity": 2}],
        paid_amount=D("96"),
        send_invoice=send_invoice,
    )
    return bill, rice


@pytest.mark.django_db(transaction=True)
def test_a_refund_queues_one_receipt_that_the_worker_sends_once(drawer, run_worker):
    bill, rice = ring_up()
    refund = refund_create(purchase_id=bill.pk, items=[{"product_id": rice.pk, "quantity": 1}], reason="torn")
    assert [j.args_kwargs["kwargs"] for j in jobs()] == [{"refund_id": refund.pk, "attempt": 1}]

    run_worker()
    run_worker()

    receipts = [m for m in mail.outbox if "refund" in m.subject.lower()]
    assert [m.to for m in receipts] == [["ann@example.com"]]
    assert "torn" in receipts[0].body and "₹48.00" in receipts[0].body
    assert Refund.objects.get(pk=refund.pk).receipt_sent_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_customer_who_declined_the_invoice_gets_no_receipt(drawer, run_worker):
    bill, rice = ring_up(send_invoice=False)
    refund_create(purchase_id=bill.pk, items=[{"product_id": rice.pk, "quantity": 1}], reason="torn")
    run_worker()
    assert jobs().count() == 0 and mail.outbox == []


@pytest.mark.django_db
def test_a_refused_refund_queues_nothing(drawer):
    bill, rice = ring_up()
    with pytest.raises(RefundExceedsSold):
        refund_create(purchase_id=bill.pk, items=[{"product_id": rice.pk, "quantity": 3}], reason="torn")
    assert jobs().count() == 0
