"""Stock per store (issue 29): the services against the database, and the API through DRF's client."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from catalog.errors import InsufficientStock, PriceAboveMrp, StoreNotFound
from catalog.models import Product, StockMovement, Store, StorePrice, StoreStock, Supplier
from catalog.services import product_create, product_update, store_price_delete, store_price_set
from catalog.stock import (
    adjustment_create,
    receipt_create,
    stock_audit,
    stock_count_open,
    stock_count_post,
    stock_count_record,
)
from catalog.stores import default_store, default_store_id
from catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def branch():
    return Store.objects.create(code="B", name="Branch")


def at(product, store) -> Decimal:
    row = StoreStock.objects.filter(product=product, store=store).first()
    return row.stock if row is not None else D("0.000")


def total(product) -> Decimal:
    return Product.objects.values_list("stock", flat=True).get(pk=product.pk)


# --- Services -----------------------------------------------------------------------------------------


def test_a_new_product_puts_its_stock_in_the_default_store_or_the_store_named(branch):
    main = product_create(name="Tea", price=D("10"), stock=5)
    there = product_create(name="Soap", price=D("10"), stock=7, store=branch.pk)

    assert (at(main, default_store()), at(main, branch)) == (5, 0)
    assert (at(there, default_store()), at(there, branch)) == (0, 7)
    assert StockMovement.objects.get(product=there).store_id == branch.pk
    assert total(there) == 7
    with pytest.raises(StoreNotFound):
        product_create(name="Rice", price=D("10"), stock=1, store=999_999)


def test_adjustments_receipts_and_counts_move_only_their_stores_stock(branch):
    product = ProductFactory(stock=10)  # at the default store
    supplier = Supplier.objects.create(name="Wholesale")

    receipt = receipt_create(
        supplier=supplier.pk,
        supplier_invoice="INV-1",
        invoice_date=date(2026, 12, 1),
        lines=[{"product_id": product.pk, "quantity": 6, "unit_cost": "5.00"}],
        store=branch.pk,
        user=None,
    )
    adjustment = adjustment_create(
        lines=[{"product_id": product.pk, "quantity": -2}], reason="damaged", store=branch.pk, user=None
    )
    assert (receipt.store_id, adjustment.store_id) == (branch.pk, branch.pk)
    assert (at(product, default_store()), at(product, branch), total(product)) == (10, 4, 14)

    count = stock_count_open(product_ids=[product.pk], store=branch.pk, user=None)
    assert count.lines.get().opening == 4
    line = stock_count_record(count_id=count.pk, product_id=product.pk, counted=3, user=None)
    assert (line.expected, line.difference) == (4, -1)
    stock_count_post(count_id=count.pk, user=None)

    assert (at(product, default_store()), at(product, branch)) == (10, 3)
    balances = list(
        StockMovement.objects.filter(product=product, store=branch)
        .order_by("id")
        .values_list("balance_after", flat=True)
    )
    assert balances == [6, 4, 3]
    audit = stock_audit()
    assert audit.problems == []
    assert {s.code: s.movements for s in audit.stores} == {"MAIN": 1, "B": 3}


def test_a_store_cannot_go_below_0_even_when_another_store_has_stock(branch):
    product = ProductFactory(stock=10)
    with pytest.raises(InsufficientStock):
        adjustment_create(
            lines=[{"product_id": product.pk, "quantity": -1}], reason="theft", store=branch.pk, user=None
        )
    assert not StockMovement.objects.filter(store=branch).exists()


def test_the_audit_reports_a_stores_stock_changed_behind_its_ledger(branch, capsys):
    product = ProductFactory(stock=4, store=branch.pk)
    call_command("stock_audit")
    assert "store B: 1 product(s), 1 movement(s), 0 problem(s)" in capsys.readouterr().out

    StoreStock.objects.filter(product=product, store=branch).update(stock=5)
    problems = stock_audit().problems
    assert len(problems) == 1 and "store B" in problems[0]


def test_a_store_price_is_not_above_the_mrp_nor_is_an_mrp_lowered_below_it(branch):
    product = ProductFactory(price=D("90.00"), mrp=D("100.00"))
    with pytest.raises(PriceAboveMrp):
        store_price_set(product=product, store=branch.pk, price=D("100.01"))
    row = store_price_set(product=product, store=branch.pk, price=D("95.00"))
    assert (row.store_id, row.price) == (branch.pk, D("95.00"))
    with pytest.raises(PriceAboveMrp):
        product_update(product=product, mrp=D("94.00"))
    product_update(product=product, mrp=D("95.00"))
    assert store_price_delete(product=product, store=branch.pk) is True
    assert not StorePrice.objects.exists()


# --- API ----------------------------------------------------------------------------------------------

URL = "/api/v1/products"


def test_the_stock_of_each_store_and_the_list_at_one_store(admin_api, branch):
    product = ProductFactory(stock=5)
    adjustment_create(lines=[{"product_id": product.pk, "quantity": 3}], reason="found", store=branch.pk, user=None)

    answer = admin_api.get(f"{URL}/{product.pk}/stock")
    assert answer.status_code == 200
    assert answer.json() == [
        {"store": branch.pk, "store_code": "B", "store_name": "Branch", "stock": 3},
        {"store": default_store_id(), "store_code": "MAIN", "store_name": default_store().name, "stock": 5},
    ]
    assert admin_api.get(f"{URL}/{product.pk}").json()["stock"] == 8
    listed = admin_api.get(URL, {"store": branch.pk}).json()["results"]
    assert [(p["id"], p["stock"]) for p in listed] == [(product.pk, 3)]
    assert admin_api.get(URL, {"store": "x"}).json()["code"] == "validation_error"


def test_a_user_sees_the_stock_of_their_stores_only(manager_api, manager_user, branch):
    product = ProductFactory(stock=5)
    branch.staff.add(manager_user)

    assert [row["store"] for row in manager_api.get(f"{URL}/{product.pk}/stock").json()] == [branch.pk]
    assert manager_api.get(URL, {"store": default_store_id()}).json()["results"] == []
    assert manager_api.get(URL, {"store": branch.pk}).json()["results"][0]["stock"] == 0


def test_a_product_created_through_the_api_at_a_store(admin_api, branch):
    response = admin_api.post(URL, {"name": "Rice", "price": "50.00", "stock": 4, "store": branch.pk}, format="json")
    assert response.status_code == 201, response.json()
    assert "store" not in response.json()
    assert at(Product.objects.get(), branch) == 4

    refused = admin_api.post(URL, {"name": "Dal", "price": "50.00", "stock": 4, "store": 999_999}, format="json")
    assert refused.status_code == 400
    assert refused.json()["code"] == "store_not_found"


def test_receipts_adjustments_and_counts_name_their_store(admin_api, branch):
    product = ProductFactory(stock=5)
    supplier = Supplier.objects.create(name="Wholesale")
    receipt = admin_api.post(
        "/api/v1/receipts",
        {
            "supplier": supplier.pk,
            "supplier_invoice": "A-1",
            "invoice_date": "2026-12-01",
            "store": branch.pk,
            "lines": [{"product_id": product.pk, "quantity": 2, "unit_cost": "3.00"}],
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="receipt-b-1",
    )
    assert receipt.status_code == 201, receipt.json()
    assert receipt.json()["store"] == branch.pk
    adjustment = admin_api.post(
        "/api/v1/adjustments",
        {"lines": [{"product_id": product.pk, "quantity": "-1"}], "reason": "damaged"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="adjust-main-1",
    )
    assert adjustment.status_code == 201, adjustment.json()
    assert adjustment.json()["store"] == default_store_id()  # no store named: the default store
    count = admin_api.post(
        "/api/v1/stock-counts",
        {"products": [product.pk], "store": branch.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="count-b-1",
    )
    assert count.status_code == 201, count.json()
    assert (count.json()["store"], count.json()["lines"][0]["opening"]) == (branch.pk, 2)
    assert (at(product, default_store()), at(product, branch)) == (4, 2)


def test_a_write_at_a_store_the_user_does_not_see_is_store_not_found(manager_api, branch):
    product = ProductFactory(stock=5)
    refused = manager_api.post(
        "/api/v1/adjustments",
        {"lines": [{"product_id": product.pk, "quantity": "1"}], "reason": "found", "store": branch.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="adjust-b-1",
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "store_not_found"
    assert at(product, branch) == 0


def test_store_prices_through_the_api(admin_api, branch):
    product = ProductFactory(price=D("90.00"), mrp=D("100.00"))
    path = f"{URL}/{product.pk}/store-prices/{branch.pk}"

    assert admin_api.get(path).status_code == 404
    put = admin_api.put(path, {"price": "85.00"}, format="json")
    assert put.status_code == 200, put.json()
    assert {k: put.json()[k] for k in ("store", "product_id", "price")} == {
        "store": branch.pk,
        "product_id": product.pk,
        "price": "85.00",
    }
    assert admin_api.get(path).json()["price"] == "85.00"
    above = admin_api.put(path, {"price": "101.00"}, format="json")
    assert (above.status_code, above.json()["code"]) == (400, "price_above_mrp")
    assert admin_api.delete(path).status_code == 204
    assert admin_api.get(path).status_code == 404


def test_a_cashier_cannot_set_a_store_price(cashier_api, branch):
    product = ProductFactory(price=D("90.00"))
    answer = cashier_api.put(f"{URL}/{product.pk}/store-prices/{branch.pk}", {"price": "80.00"}, format="json")
    assert answer.status_code in (403, 404)
    assert not StorePrice.objects.exists()
