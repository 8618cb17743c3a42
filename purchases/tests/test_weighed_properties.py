"""Properties of weighed lines (hypothesis): for any price, tax rate, discount and quantity to the
gram, a line's amount is price × quantity rounded to the paisa once, before tax; and for any way of
refunding it in parts (each to the gram), the parts' shares never pass what is left of the line and
add up to exactly its subtotal and tax once the last gram is back. Pure arithmetic: the same
``pricing.quote`` and ``refund_line_share`` the services use, on unsaved rows."""

from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from billing_project.core.money import money
from billing_project.core.testing.properties import examples
from catalog.models import Product
from purchases.pricing import quote
from purchases.services.refunds import refund_line_share

pytestmark = pytest.mark.property

D = Decimal
ZERO = D("0.00")

prices = st.decimals(min_value=D("0.01"), max_value=D("9999.99"), places=2)
taxes = st.sampled_from([D(t) for t in ("0", "5", "12", "18", "28", "12.50")])
discounts = st.sampled_from([D(d) for d in ("0", "2.50", "10", "33.33", "100")])
grams = st.integers(min_value=1, max_value=50_000)  # 0.001 to 50.000 kg


@settings(max_examples=examples(300))
@given(price=prices, tax=taxes, discount=discounts, sold=grams, cuts=st.lists(st.integers(1, 10_000), max_size=8))
@example(price=D("0.01"), tax=D("18"), discount=D("0"), sold=3, cuts=[1, 1])
@example(price=D("9999.99"), tax=D("28"), discount=D("33.33"), sold=1255, cuts=[255, 500])
def test_weighed_shares_add_up_to_the_line(price, tax, discount, sold, cuts):
    product = Product(pk=1, name="Sugar", unit="kg", price=price, tax_percent=tax)
    quantity = D(sold) / 1000
    line = quote({1: product}, {1: quantity}, line_discounts={1: discount}).lines[0]
    assert line.gross == money(price * quantity)  # rounded once, before tax
    assert line.unit == "kg" and line.quantity == quantity

    # Refund it in parts: each cut (grams) while something is left, then the rest.
    parts = []
    left = sold
    for cut in cuts:
        if left <= 0:
            break
        take = min(cut, left)
        parts.append(take)
        left -= take
    if left:
        parts.append(left)
    line.refunded_quantity, line.refunded_subtotal, line.refunded_tax_amount = D("0.000"), ZERO, ZERO
    for take in parts:
        share = refund_line_share(item=line, quantity=D(take) / 1000)
        assert ZERO <= share.subtotal <= line.subtotal - line.refunded_subtotal
        assert ZERO <= share.tax_amount <= line.tax_amount - line.refunded_tax_amount
        line.refunded_quantity += share.quantity
        line.refunded_subtotal += share.subtotal
        line.refunded_tax_amount += share.tax_amount
    assert line.refunded_quantity == line.quantity
    assert (line.refunded_subtotal, line.refunded_tax_amount) == (line.subtotal, line.tax_amount)
