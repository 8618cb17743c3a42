"""Property tests (hypothesis) of a bill's arithmetic: discounts, payments, rounding and change, and
the tax halves of its documents."""

from datetime import datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal

import pytest
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_project.core.money import CENT, cash_round, line_tax
from billing_project.core.testing.properties import examples
from catalog.models import Product
from purchases.documents import INVOICE, DocumentLine, TaxDocument
from purchases.pricing import discount_shares, effective_discount, line_own_discount, quote, settle

pytestmark = pytest.mark.property

ZERO = Decimal("0.00")

prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)
taxes = st.sampled_from([Decimal(t) for t in ("0", "5", "12", "18", "28", "12.50", "0.25")])
percents = st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=2)
increments = st.sampled_from([Decimal("0.01"), Decimal("0.05"), Decimal("0.50"), Decimal("1.00"), Decimal("5.00")])
methods = st.sampled_from([ROUND_HALF_UP, ROUND_DOWN, ROUND_UP])


@st.composite
def bills(draw):
    n = draw(st.integers(min_value=1, max_value=6))
    products = {
        pk: Product(pk=pk, name=f"P{pk}", price=draw(prices), tax_percent=draw(taxes)) for pk in range(1, n + 1)
    }
    quantities = {pk: draw(st.integers(min_value=1, max_value=500)) for pk in products}
    line_discounts = {pk: draw(percents) for pk in products if draw(st.booleans())}
    bill_discount = draw(st.one_of(st.just(ZERO), percents))
    return quote(products, quantities, line_discounts=line_discounts, bill_discount=bill_discount), line_discounts


@settings(max_examples=examples(300))
@given(bills())
def test_line_and_bill_identities_hold(drawn):
    bill, _ = drawn
    for line in bill.lines:
        assert line.gross == line.unit_price * line.quantity
        assert line.subtotal == line.gross - line.discount_amount
        assert line.total == line.subtotal + line.tax_amount
        assert line.discount_amount == (line.gross * line.discount_percent / 100).quantize(CENT, ROUND_HALF_UP)
        for amount in (line.gross, line.discount_amount, line.subtotal, line.tax_amount, line.total):
            assert amount == amount.quantize(CENT)
    assert bill.subtotal == sum(line.subtotal for line in bill.lines)
    assert bill.tax_total == sum(line.tax_amount for line in bill.lines)
    assert bill.discount_total == sum(line.discount_amount for line in bill.lines)
    assert bill.total == bill.subtotal + bill.tax_total
    assert bill.subtotal + bill.discount_total == sum(line.gross for line in bill.lines)


@settings(max_examples=examples(300))
@given(bills())
def test_a_discount_never_makes_a_line_negative(drawn):
    bill, _ = drawn
    for line in bill.lines:
        assert 0 <= line.discount_percent <= 100
        assert ZERO <= line.discount_amount <= line.gross
        assert line.subtotal >= 0 and line.tax_amount >= 0 and line.total >= 0


@settings(max_examples=examples(100))
@given(percents, percents)
def test_the_effective_rate_is_exact_and_between_the_two_and_100(line, whole_bill):
    rate = effective_discount(line, whole_bill)
    assert (1 - rate / 100) == (1 - line / 100) * (1 - whole_bill / 100)
    assert max(line, whole_bill) <= rate <= 100
    assert rate == rate.quantize(Decimal("0.000001"))


@st.composite
def payments(draw, total):
    """Non-cash amounts up to the total, and maybe a cash payment."""
    non_cash = []
    room = total
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        if room <= 0:
            break
        amount = draw(st.decimals(min_value=Decimal("0.01"), max_value=room, places=2))
        non_cash.append(amount)
        room -= amount
    cash = draw(st.one_of(st.none(), st.decimals(min_value=Decimal("0.01"), max_value=total + 1000, places=2)))
    return non_cash, cash


@settings(max_examples=examples(400))
@given(st.data(), st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999.99"), places=2), increments, methods)
def test_rounding_touches_only_cash_and_change_never_exceeds_cash(data, total, increment, method):
    non_cash, cash = data.draw(payments(total))
    with override_settings(CASH_ROUNDING_INCREMENT=increment, CASH_ROUNDING_METHOD=method):
        s = settle(total=total, non_cash=non_cash, cash=cash)
        non_cash_total = sum(non_cash, ZERO)

        # The identities.
        assert s.rounding == s.payable - total
        assert s.paid == non_cash_total + (cash or ZERO)
        assert s.change_due == s.paid - s.payable
        assert s.cash_due == s.payable - non_cash_total
        if cash is None:
            # No cash: nothing is rounded.
            assert (s.payable, s.rounding) == (total, ZERO)
        else:
            # Only the cash part is rounded: the non-cash part is paid to the cent.
            assert s.cash_due == cash_round(total - non_cash_total)
            assert abs(s.rounding) < increment
        if s.paid >= s.payable:
            # Change is in cash and never more than the cash paid.
            assert ZERO <= s.change_due <= (cash or ZERO)


@settings(max_examples=examples(300))
@given(percents, percents.filter(lambda bill: bill < 100))
def test_a_lines_own_discount_is_read_back_from_its_effective_rate(own, bill):
    assert line_own_discount(effective_discount(own, bill), bill) == own


@settings(max_examples=examples(300))
@given(bills())
def test_a_lines_discount_is_shared_between_its_own_and_the_bills_exactly(drawn):
    bill, line_discounts = drawn
    for line in bill.lines:
        shares = discount_shares(line, bill.discount_percent)
        assert shares.own + shares.bill == line.discount_amount
        assert shares.own >= 0 and shares.bill >= 0
        if bill.discount_percent < 100:
            own_percent = line_discounts.get(line.product.pk, ZERO)
            assert shares.own_percent == own_percent
            assert shares.own == (line.gross * own_percent / 100).quantize(CENT, ROUND_HALF_UP)
        if not bill.discount_percent:
            assert shares.bill == 0


# --- The tax halves (CGST + SGST) on the invoice and the credit note ------------------------------


@settings(max_examples=examples(300))
@given(
    st.lists(
        st.tuples(taxes, st.decimals(min_value=Decimal("0"), max_value=Decimal("99999.99"), places=2)),
        min_size=1,
        max_size=8,
    )
)
def test_the_tax_halves_add_up_to_each_line_each_rate_and_the_document(drawn):
    lines = [
        DocumentLine(
            description="x",
            hsn_code="",
            quantity=1,
            unit_price=taxable,
            taxable_value=taxable,
            tax_percent=rate,
            tax=line_tax(subtotal=taxable, tax_percent=rate),
            total=taxable + line_tax(subtotal=taxable, tax_percent=rate),
        )
        for rate, taxable in drawn
    ]
    document = TaxDocument(
        kind=INVOICE,
        number="M/2627/000001",
        issued_at=datetime(2026, 4, 1),
        billed_to="",
        lines=lines,
        rounding=ZERO,
    )
    for line in lines:
        first, second = line.halves
        # The first half takes the odd cent: the two add up and differ by at most a cent.
        assert first + second == line.tax and ZERO <= first - second <= CENT
    summary = document.tax_summary()
    for rate in summary:
        assert rate.cgst + rate.sgst == rate.tax
    assert sum(rate.cgst + rate.sgst for rate in summary) == document.tax_total
    assert sum(rate.taxable_value for rate in summary) == document.taxable_total
