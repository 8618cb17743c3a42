"""Race test: split-tender and cash-only bills at one till, at once, leave the drawer reconciled."""

from decimal import Decimal

import pytest

from billing_project.core.errors import DomainError
from billing_project.core.testing.concurrency import run_concurrently
from billing_project.core.types import BillLine, PaymentInput
from cashdrawer.models import Denomination, TillSession
from cashdrawer.reports import session_figures
from cashdrawer.selectors import drawer_audit
from cashdrawer.tests.factories import drawer_with
from catalog.tests.factories import ProductFactory
from purchases.models import Payment, Purchase
from purchases.services import purchase_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

D = Decimal


def test_split_and_cash_bills_at_one_till_leave_the_drawer_reconciled(postgres_only, settings):
    settings.CASH_ROUNDING_INCREMENT = D("1.00")
    drawer_with({"100": 20, "10": 6, "1": 0})
    product = ProductFactory(price=D("90.40"), tax_percent=D("0"), stock=100)  # total 90.40

    def ring_up(i):
        items: list[BillLine] = [{"product_id": product.pk, "quantity": 1}]
        payments: list[PaymentInput]
        if i % 3 == 0:  # cash only: payable 90.00, change 10 from a 100 note
            return purchase_create(
                customer_email=f"c{i}@example.com",
                items=items,
                paid_amount=D("100"),
                tendered=[{"value": D("100"), "count": 1}],
            )
        if i % 3 == 1:  # card 40.40 + cash 100: the cash part 50.00, change 50 (five 10s)
            payments = [
                {"method": "card", "amount": D("40.40"), "reference": f"S{i}"},
                {"method": "cash", "amount": D("100"), "tendered": [{"value": D("100"), "count": 1}]},
            ]
        else:  # UPI alone: no drawer movement, no rounding
            payments = [{"method": "upi", "amount": D("90.40"), "reference": f"4123456{i:05d}"}]
        return purchase_create(customer_email=f"c{i}@example.com", items=items, payments=payments)

    results = run_concurrently(12, ring_up)

    unexpected = [r for r in results if not isinstance(r, (Purchase, DomainError))]
    assert unexpected == []
    bills = [r for r in results if isinstance(r, Purchase)]
    refusals = [r for r in results if isinstance(r, DomainError)]
    assert {r.code for r in refusals} <= {"change_unavailable"}
    # Every UPI bill goes through; the 10s run out for some cash bills, never below zero.
    assert sum(1 for b in bills if b.cash_paid == 0) == 4
    counts = dict(Denomination.objects.values_list("value", "count"))
    cash_bills = [b for b in bills if b.cash_paid > 0]
    assert counts[D("100")] == 20 + len(cash_bills)
    change_tens = sum(int(b.change_due / 10) for b in cash_bills)
    assert counts[D("10")] == 6 - change_tens >= 0
    assert Payment.objects.filter(purchase__in=bills).count() == sum(len(b.payments.all()) for b in bills)

    # The session's report: cash counts only cash, and matches the drawer.
    session = TillSession.objects.get(status="open")
    figures = session_figures(session)
    drawer_value = sum((value * count for value, count in counts.items()), D("0"))
    assert D(figures["cash"]["expected"]) == drawer_value
    assert D(figures["cash"]["uncounted_cash"]) == 0
    by_method = {p["method"]: D(p["amount"]) for p in figures["payments"]}
    assert sum(by_method.values()) == sum(b.payable for b in bills)
    assert by_method["upi"] == D("90.40") * 4
    assert drawer_audit().ok
