"""A chain of stores: every row that grows with trade carries its store, each bill copies its store
as the seller (GSTIN, state, address) and splits its tax by that store's state, invoice numbers stay
unique within a GSTIN, GSTR-1 is filed per GSTIN and the sales report per store."""

from decimal import Decimal
from typing import cast

import pytest
from django.db import IntegrityError, transaction

from billing_project.core.errors import DomainError
from cashdrawer.models import CashMovement, DrawerMovement, TillSession
from cashdrawer.services import cash_movement_create, denomination_create, session_close, till_create
from catalog.models import Store
from catalog.stock import adjustment_create
from catalog.tests.factories import ProductFactory
from catalog.tests.stores import set_default_store, store_with
from purchases.documents import document_html, invoice_document
from purchases.gstr1 import gstr1
from purchases.models import Payment, Purchase, PurchaseItem, Refund, RefundLine, RefundPayment
from purchases.sales_report import sales_report
from purchases.selectors import purchase_get
from purchases.services import purchase_create, refund_create

pytestmark = pytest.mark.django_db

D = Decimal
API = "/api/v1"
KA = "29AAGCB7383J1Z4"  # Karnataka (29)
MH = "27AAACR4849R1ZL"  # Maharashtra (27)
BUYER_KA = "29AAACR4849R1ZH"


def _till(code: str, store: Store):
    till = till_create(code=code, store=store.pk)
    for value, count in (("500", 20), ("100", 20), ("50", 20), ("10", 20), ("5", 20), ("1", 20)):
        denomination_create(value=D(value), count=count, till=till)
    return till


@pytest.fixture
def chain(db):
    """The default store in Karnataka with till KA1; store PUN in Maharashtra with till MH1."""
    main = set_default_store(gstin=KA, state_code="29", name="Main", address="1 MG Road, Bengaluru")
    pune = store_with("PUN", gstin=MH, state_code="27", name="Pune", address="12 FC Road, Pune")
    return {"main": main, "pune": pune, "ka": _till("KA1", main), "mh": _till("MH1", pune)}


def _stock_everywhere(product):
    """Stock is per store: the product's opening stock is at the default store; put as much at the others."""
    for store in Store.objects.exclude(is_default=True):
        adjustment_create(
            lines=[{"product_id": product.pk, "quantity": 1000}], reason="found", store=store.pk, user=None
        )
    return product


@pytest.fixture
def rice(chain):
    return _stock_everywhere(
        ProductFactory(name="Rice", price=D("100.00"), tax_percent=D("5"), hsn_code="1006", stock=1000)
    )


def _ring(till, product, **kwargs):
    return purchase_create(
        items=[{"product_id": product.pk, "quantity": 2}],
        payments=[
            {
                "method": "cash",
                "amount": D("210"),
                "tendered": [{"value": D("100"), "count": 2}, {"value": D("10"), "count": 1}],
            }
        ],
        till=till.pk,
        send_invoice=False,
        **kwargs,
    )


def test_every_row_of_trade_carries_its_tills_store(chain, rice):
    for key in ("ka", "mh"):
        till = chain[key]
        bill = _ring(till, rice)
        purchase_create(
            items=[{"product_id": rice.pk, "quantity": 1}],
            payments=[{"method": "card", "amount": D("105.00")}],
            till=till.pk,
            send_invoice=False,
        )
        refund_create(
            purchase_id=bill.pk, items=[{"product_id": rice.pk, "quantity": 1}], reason="torn bag", till=till.pk
        )
        cash_movement_create(
            session_id=bill.session_id,
            direction="out",
            pieces=[{"value": D("500"), "count": 1}],
            reason="safe drop",
        )
        session = TillSession.objects.get(pk=bill.session_id)
        counts = [{"value": d.value, "count": d.count} for d in till.denominations.all()]
        session_close(session_id=session.pk, counted=counts)

    till_store = {chain["ka"].pk: chain["main"].pk, chain["mh"].pk: chain["pune"].pk}
    assert set(Purchase.objects.values_list("store_id", flat=True)) == set(till_store.values())
    for bill in Purchase.objects.all():
        assert bill.store_id == till_store[bill.till_id]
    for child, path in (
        (PurchaseItem, "purchase__store_id"),
        (Payment, "purchase__store_id"),
        (Refund, "purchase__store_id"),
        (RefundLine, "refund__store_id"),
        (RefundPayment, "refund__store_id"),
    ):
        pairs = list(child.objects.values_list("store_id", path))
        assert pairs and all(own == parent for own, parent in pairs), child.__name__
    for model in (TillSession, CashMovement, DrawerMovement):
        rows = list(model.objects.values_list("store_id", "till__store_id"))
        assert rows and all(own == till for own, till in rows), model.__name__
        assert {own for own, _ in rows} == set(till_store.values()), model.__name__
    for refund in Refund.objects.all():
        assert refund.store_id == till_store[refund.till_id]


def test_a_bill_copies_its_stores_seller_and_splits_by_its_state(chain, rice):
    in_bengaluru = _ring(chain["ka"], rice)
    in_pune = _ring(chain["mh"], rice)

    assert (in_bengaluru.seller_gstin, in_bengaluru.seller_state_code, in_bengaluru.place_of_supply) == (KA, "29", "29")
    assert (in_pune.seller_gstin, in_pune.seller_state_code, in_pune.place_of_supply) == (MH, "27", "27")
    assert in_pune.seller_address == "12 FC Road, Pune" and in_pune.seller_name == "Pune"
    # A Karnataka buyer: within the state at Bengaluru (CGST + SGST), to another state from Pune (IGST).
    b2b_ka = _ring(chain["ka"], rice, customer_gstin=BUYER_KA)
    b2b_mh = _ring(chain["mh"], rice, customer_gstin=BUYER_KA)
    assert b2b_ka.igst_total == 0 and b2b_ka.cgst_total > 0
    assert b2b_mh.igst_total == b2b_mh.tax_total > 0 and b2b_mh.cgst_total == 0

    html = document_html(invoice_document(purchase_get(purchase_id=in_pune.pk)))
    for text in (MH, "Maharashtra (27)", "12 FC Road, Pune"):
        assert text in html
    assert KA not in html and "1 MG Road" not in html


def test_a_stores_later_edits_change_no_bill(chain, rice):
    bill = _ring(chain["mh"], rice)
    other = "27AAGCB7383J1ZZ"
    Store.objects.filter(pk=chain["pune"].pk).update(name="Pune West", address="elsewhere")

    html = document_html(invoice_document(purchase_get(purchase_id=bill.pk)))

    assert "12 FC Road, Pune" in html and "elsewhere" not in html
    assert Purchase.objects.get(pk=bill.pk).seller_name == "Pune"
    assert other not in html


def test_a_bill_is_refunded_only_at_a_till_of_its_store(chain, rice):
    bill = _ring(chain["ka"], rice)

    with pytest.raises(DomainError) as refused:
        refund_create(
            purchase_id=bill.pk, items=[{"product_id": rice.pk, "quantity": 1}], reason="r", till=chain["mh"].pk
        )

    assert refused.value.code == "validation_error"
    assert "till" in refused.value.details
    assert not Refund.objects.exists()


def test_invoice_numbers_are_unique_within_a_gstin_shared_by_two_stores(chain, rice):
    Store.objects.filter(pk=chain["pune"].pk).update(gstin=KA, state_code="29")  # one GSTIN, two stores
    numbers = [_ring(chain[key], rice).number for key in ("ka", "mh", "ka", "mh")]

    assert len(set(numbers)) == 4
    # Each till numbers its own series; the number is unique across every bill (a DB constraint), so
    # the stores sharing a GSTIN never issue one number twice in a financial year.
    first = Purchase.objects.get(number=numbers[0])
    with pytest.raises(IntegrityError), transaction.atomic():
        Purchase.objects.filter(number=numbers[1]).update(number=first.number)


def test_gstr1_is_per_gstin_and_files_the_stores_that_share_it_together(chain, rice, api_client, admin_api):
    bills = {key: _ring(chain[key], rice) for key in ("ka", "mh")}
    third = store_with("BLR2", gstin=KA, state_code="29", name="Bengaluru 2")
    adjustment_create(lines=[{"product_id": rice.pk, "quantity": 10}], reason="found", store=third.pk, user=None)
    bills["ka2"] = _ring(_till("KA2", third), rice)
    period = f"{bills['ka'].created_at:%Y-%m}"

    default = gstr1(period=period)
    of_mh = gstr1(period=period, gstin=MH)

    assert default["gstin"] == KA and of_mh["gstin"] == MH
    series = lambda report: {doc["from"] for d in report["doc_issue"]["doc_det"] for doc in d["docs"]}  # noqa: E731
    assert series(default) == {bills["ka"].number, bills["ka2"].number}
    assert series(of_mh) == {bills["mh"].number}
    response = admin_api.get(f"{API}/reports/gstr1", {"period": period, "gstin": MH})
    assert response.status_code == 200 and response.json()["gstin"] == MH
    unknown = admin_api.get(f"{API}/reports/gstr1", {"period": period, "gstin": "07AAACR4849R1ZN"})
    assert unknown.status_code == 400 and unknown.json()["code"] == "validation_error"
    assert "gstin" in unknown.json()["details"]


def test_the_sales_report_takes_a_store(chain, rice, admin_api):
    ka, mh = _ring(chain["ka"], rice), _ring(chain["mh"], rice)
    _ring(chain["mh"], rice)

    everything = sales_report()
    pune = sales_report(store=chain["pune"].pk)
    main = sales_report(store=chain["main"].pk)

    assert everything["totals"]["bills"] == 3
    assert (pune["totals"]["bills"], main["totals"]["bills"]) == (2, 1)
    assert pune["totals"]["net_sales"] == 2 * mh.total and main["totals"]["net_sales"] == ka.total
    response = admin_api.get(f"{API}/reports/sales", {"store": chain["pune"].pk, "group_by": "product"})
    assert response.status_code == 200
    assert [row["quantity"] for row in response.json()["rows"]] == [4]
    missing = admin_api.get(f"{API}/reports/sales", {"store": 999999})
    assert missing.status_code == 400 and missing.json()["code"] == "store_not_found"


# --- A till moving store while bills ring up (PostgreSQL, real threads) ---------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_a_till_moving_store_while_bills_ring_up_never_splits_a_bill(postgres_only):
    from billing_project.core.testing.concurrency import run_concurrently
    from cashdrawer.models import Till
    from cashdrawer.services import till_update

    for attempt in range(3):
        main = set_default_store(gstin=KA, state_code="29")
        pune = store_with(f"PN{attempt}", gstin=MH, state_code="27")
        till = _till(f"NEW{attempt}", main)  # no session yet: it may still move
        product = _stock_everywhere(ProductFactory(price=D("100.00"), tax_percent=D("5"), stock=1000))

        def work(i, till=till, pune=pune, product=product):
            if i == 2:
                return till_update(till_id=till.pk, store=pune.pk)
            return _ring(till, product)

        results = run_concurrently(6, work)

        assert all(not isinstance(r, Exception) or isinstance(r, DomainError) for r in results), results
        moved = Till.objects.get(pk=till.pk).store_id == pune.pk
        bills = Purchase.objects.filter(till=till)
        # Every bill is one store's: its own, its lines', payments', session's and ledger's agree, and
        # it is the store the till stood in when the bill took the till's lock.
        for bill in bills:
            session = TillSession.objects.get(pk=cast(int, bill.session_id))
            assert bill.store_id == session.store_id
            assert set(bill.items.values_list("store_id", flat=True)) == {bill.store_id}
            assert set(bill.payments.values_list("store_id", flat=True)) == {bill.store_id}
            assert set(bill.drawer_movements.values_list("store_id", flat=True)) <= {bill.store_id}
            assert bill.seller_gstin == (MH if bill.store_id == pune.pk else KA)
        if moved:
            # The move came before the first session: every bill that committed is Pune's.
            assert set(bills.values_list("store_id", flat=True)) <= {pune.pk}
        else:
            # A bill opened the till's first session before the move: the move was refused.
            assert isinstance(results[2], DomainError) and set(bills.values_list("store_id", flat=True)) == {main.pk}
        assert set(TillSession.objects.filter(till=till).values_list("store_id", flat=True)) <= {
            Till.objects.get(pk=till.pk).store_id
        }
