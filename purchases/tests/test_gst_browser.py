"""A B2B inter-state tax invoice, opened from the bill's page in real headless Chromium: its PDF
names the buyer's GSTIN and the place of supply, and its lines have an IGST column (read with
poppler's ``pdftotext``, word by word with their boxes)."""

from decimal import Decimal

import pytest

from billing_project.core.testing.browser import CHROMIUM, expect, log_in
from catalog.tests.stores import set_default_store
from customers.models import Customer
from purchases.models import PurchaseItem
from purchases.services import purchase_create
from purchases.tests.pdf import pdf_words_of

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]

STORE = "29AAGCB7383J1Z4"  # Karnataka (29)
BUYER = "27AAACR4849R1ZL"  # Maharashtra (27)


def test_a_b2b_inter_state_invoice_shows_the_buyer_the_place_of_supply_and_igst(page, live_server, store):
    set_default_store(gstin=STORE, state_code="29")
    Customer.objects.create(
        email="accounts@ravitraders.example", gstin=BUYER, state_code="27", legal_name="Ravi Traders LLP"
    )
    bill = purchase_create(
        customer_email="accounts@ravitraders.example",
        items=[{"product_id": store["rice"].pk, "quantity": 2}, {"product_id": store["soap"].pk, "quantity": 1}],
        paid_amount=Decimal("600"),
        send_invoice=False,
    )
    log_in(page, live_server)
    page.goto(f"{live_server.url}/billing/bills/{bill.pk}/")
    link = page.get_by_role("link", name="Tax invoice (PDF)")
    expect(link).to_be_visible()
    response = page.request.get(f"{live_server.url}{link.get_attribute('href')}")
    assert response.ok and response.headers["content-type"] == "application/pdf"

    [first] = pdf_words_of(response.body())[:1]
    words = [word.text for word in first.words]
    text = " ".join(words)
    assert BUYER in words and "Ravi Traders LLP" in text
    assert "Place of supply: Maharashtra (27)" in text
    assert "CGST" not in words and "SGST" not in words
    # The IGST column: its heading, and each line's IGST right under it.
    heading = next(word for word in first.words if word.text == "IGST")
    for item in PurchaseItem.objects.filter(purchase=bill):
        assert item.igst == item.tax_amount > 0
        below = [
            w
            for w in first.words
            if w.text == f"{item.igst:.2f}"
            and w.y_min > heading.y_max
            and w.x_min < heading.x_max + 5
            and w.x_max > heading.x_min - 40
        ]
        assert below, item.igst
