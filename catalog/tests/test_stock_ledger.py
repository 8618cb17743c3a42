"""The stock ledger: goods received, adjustments, stock counts, the audit, and their API."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from billing_project.core.errors import ValidationFailed
from catalog.errors import InsufficientStock, ProductMissing
from catalog.importing import ProductRow, product_import_rows
from catalog.models import Adjustment, Product, Receipt, StockCount, StockMovement, StoreStock, Supplier
from catalog.services import product_create, product_update
from catalog.stock import (
    adjustment_create,
    moving_average,
    receipt_create,
    stock_audit,
    stock_count_open,
    stock_count_post,
    stock_count_record,
    supplier_save,
)
from catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

D = Decimal
API = "/api/v1"


def ledger(product) -> list[tuple[str, Decimal, Decimal]]:
    return [
        (m.kind, m.quantity, m.balance_after)
        for m in StockMovement.objects.filter(product_id=product.pk).order_by("id")
    ]


def stock(product) -> Decimal:
    return Product.objects.values_list("stock", flat=True).get(pk=product.pk)


def assert_audit_passes():
    audit = stock_audit()
    assert audit.problems == []


# --- The ledger starts whole ------------------------------------------------------------------------


def test_a_product_created_with_stock_starts_with_an_opening_movement():
    product = product_create(name="Tea", price=D("10.00"), stock=12)

    assert ledger(product) == [("opening", D("12"), D("12"))]
    assert_audit_passes()


def test_imported_products_start_with_an_import_movement_and_an_import_adds_one():
    rows = [ProductRow(line=1, sku="TEA-1", name="Tea", price=D("10.00"), tax_percent=D("5"), stock=D("8"))]
    product_import_rows(rows=rows)
    product = Product.objects.get(sku="TEA-1")
    product_import_rows(
        rows=[ProductRow(line=1, sku="TEA-1", name="Tea", price=D("10.00"), tax_percent=D("5"), stock=D("3"))]
    )
    product_import_rows(
        rows=[ProductRow(line=1, sku="TEA-1", name="Tea", price=D("10.00"), tax_percent=D("5"), stock=D("5"))],
        set_stock=True,
    )

    assert ledger(product) == [("import", D("8"), D("8")), ("import", D("3"), D("11")), ("import", D("-6"), D("5"))]
    assert stock(product) == 5
    assert_audit_passes()


def test_stock_cannot_be_set_through_the_service():
    product = ProductFactory(stock=5)

    with pytest.raises(ValidationFailed) as refused:
        product_update(product=product, stock=9)

    assert "adjustment" in refused.value.message
    assert stock(product) == 5


def test_the_audit_finds_a_stock_changed_behind_the_ledgers_back(capsys):
    product = ProductFactory(stock=5)
    assert_audit_passes()
    StoreStock.objects.filter(product=product).update(stock=7)

    assert len(stock_audit().problems) == 1
    with pytest.raises(CommandError):
        call_command("stock_audit")


def test_the_audit_finds_a_broken_chain():
    product = ProductFactory(stock=5)
    adjustment_create(lines=[{"product_id": product.pk, "quantity": -2}], reason="damaged", user=None)
    StockMovement.objects.filter(product=product, kind="adjustment").update(balance_after=4)

    problems = stock_audit().problems
    assert len(problems) == 1 and "balance_after" in problems[0]


# --- Adjustments ------------------------------------------------------------------------------------


def test_an_adjustment_moves_stock_with_its_reason():
    product = ProductFactory(stock=10)

    adjustment = adjustment_create(lines=[{"product_id": product.pk, "quantity": -3}], reason="expired", user=None)

    assert stock(product) == 7
    assert ledger(product)[-1] == ("adjustment", D("-3"), D("7"))
    assert StockMovement.objects.get(adjustment=adjustment).reason == "expired"
    assert_audit_passes()


def test_other_needs_a_note_and_an_unknown_reason_is_refused():
    product = ProductFactory(stock=10)

    for reason, note in (("other", ""), ("lost", "x")):
        with pytest.raises(ValidationFailed):
            adjustment_create(lines=[{"product_id": product.pk, "quantity": 1}], reason=reason, note=note, user=None)

    adjustment_create(lines=[{"product_id": product.pk, "quantity": 1}], reason="other", note="gift", user=None)
    assert stock(product) == 11


def test_an_adjustment_below_zero_writes_nothing():
    first, second = ProductFactory(stock=10), ProductFactory(stock=2)

    with pytest.raises(InsufficientStock) as refused:
        adjustment_create(
            lines=[{"product_id": first.pk, "quantity": -1}, {"product_id": second.pk, "quantity": -3}],
            reason="theft",
            user=None,
        )

    assert refused.value.details["product_id"] == second.pk
    assert (stock(first), stock(second)) == (10, 2)
    assert not Adjustment.objects.exists()
    assert StockMovement.objects.filter(kind="adjustment").count() == 0


def test_a_fraction_of_an_each_product_is_refused():
    product = ProductFactory(stock=10)

    with pytest.raises(ValidationFailed):
        adjustment_create(lines=[{"product_id": product.pk, "quantity": D("0.5")}], reason="found", user=None)


# --- Goods received ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stock_before", "cost", "quantity", "unit_cost", "expected"),
    [
        (D("10"), D("50.00"), D("10"), D("60.00"), D("55.00")),
        (D("0"), D("50.00"), D("4"), D("61.37"), D("61.37")),
        (D("3"), D("10.00"), D("1"), D("10.01"), D("10.00")),  # 40.01 / 4 = 10.0025
        (D("3"), D("10.00"), D("3"), D("10.01"), D("10.01")),  # 60.03 / 6 = 10.005, half-up
    ],
)
def test_the_moving_average_to_the_paisa(stock_before, cost, quantity, unit_cost, expected):
    assert moving_average(stock=stock_before, cost=cost, quantity=quantity, unit_cost=unit_cost) == expected


def test_goods_of_a_product_that_does_not_exist_are_refused_and_nothing_is_written():
    product = ProductFactory(stock=1)
    supplier = supplier_save(name="Sharma Wholesale")

    with pytest.raises(ProductMissing):
        receipt_create(
            supplier=supplier.pk,
            supplier_invoice="SW/2",
            invoice_date=date(2026, 3, 1),
            lines=[
                {"product_id": product.pk, "quantity": 1, "unit_cost": "1.00"},
                {"product_id": 999_999, "quantity": 1, "unit_cost": "1.00"},
            ],
            user=None,
        )

    assert not Receipt.objects.exists()
    assert stock(product) == 1


def test_a_suppliers_gstin_is_checked_and_kept_in_upper_case():
    supplier = supplier_save(name="A", gstin="27aapfu0939f1zv")
    assert supplier.gstin == "27AAPFU0939F1ZV"
    with pytest.raises(ValidationFailed):
        supplier_save(name="B", gstin="27AAPFU0939F1ZX")


# --- Stock counts -----------------------------------------------------------------------------------


def test_a_recount_replaces_the_line_and_uncounted_products_are_left():
    counted, uncounted = ProductFactory(stock=10), ProductFactory(stock=7)
    count = stock_count_open(user=None)
    stock_count_record(count_id=count.pk, product_id=counted.pk, counted=3, user=None)
    line = stock_count_record(count_id=count.pk, product_id=counted.pk, counted=12, user=None)
    assert (line.expected, line.difference) == (10, 2)

    stock_count_post(count_id=count.pk, user=None)

    assert (stock(counted), stock(uncounted)) == (12, 7)
    assert StockCount.objects.get(pk=count.pk).status == "posted"
    assert ledger(uncounted) == [("opening", D("7"), D("7"))]
    assert_audit_passes()


# --- The API ----------------------------------------------------------------------------------------


def test_a_patch_that_sets_stock_is_refused_and_nothing_changes(admin_api):
    product = ProductFactory(stock=5, name="Tea")

    response = admin_api.patch(f"{API}/products/{product.pk}", {"stock": 9, "name": "Green tea"}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error" and "adjustment" in body["details"]["stock"][0]
    product.refresh_from_db()
    assert (product.stock, product.name) == (5, "Tea")


def test_cost_price_only_with_view_cost(manager_api, cashier_api):
    product = ProductFactory()
    Product.objects.filter(pk=product.pk).update(cost_price=D("61.50"))

    assert manager_api.get(f"{API}/products/{product.pk}").json()["cost_price"] == "61.50"
    assert cashier_api.get(f"{API}/products/{product.pk}").json()["cost_price"] is None


def test_movements_are_paginated_newest_first(manager_api, cashier_api):
    product = ProductFactory(stock=10)
    for quantity in (-1, -2, 3):
        adjustment_create(lines=[{"product_id": product.pk, "quantity": quantity}], reason="found", user=None)

    response = manager_api.get(f"{API}/products/{product.pk}/movements?page_size=2")

    body = response.json()
    assert response.status_code == 200 and body["count"] == 4
    assert [(m["kind"], m["quantity"], m["balance_after"]) for m in body["results"]] == [
        ("adjustment", 3, 10),
        ("adjustment", -2, 7),
    ]
    assert body["results"][0]["reference"]["type"] == "adjustment"
    assert cashier_api.get(f"{API}/products/{product.pk}/movements").status_code == 403


def _receipt_body(supplier, product, **overrides):
    body = {
        "supplier": supplier.pk,
        "supplier_invoice": "SW/77",
        "invoice_date": "2026-03-01",
        "lines": [{"product_id": product.pk, "quantity": 4, "unit_cost": "25.00", "tax_percent": "5"}],
    }
    return {**body, **overrides}


def test_post_receipts_is_idempotent_and_readable(manager_api, cashier_api):
    product = ProductFactory(stock=0)
    supplier = Supplier.objects.create(name="Sharma Wholesale")
    headers = {"HTTP_IDEMPOTENCY_KEY": "grn-1"}

    first = manager_api.post(f"{API}/receipts", _receipt_body(supplier, product), format="json", **headers)
    again = manager_api.post(f"{API}/receipts", _receipt_body(supplier, product), format="json", **headers)

    assert first.status_code == 201 and again.status_code == 201
    assert first.json() == again.json() and again["Idempotent-Replayed"] == "true"
    body = first.json()
    assert (body["subtotal"], body["tax_total"], body["total"]) == ("100.00", "5.00", "105.00")
    assert stock(product) == 4 and Receipt.objects.count() == 1
    assert manager_api.get(f"{API}/receipts/{body['id']}").json() == body
    assert [r["id"] for r in manager_api.get(f"{API}/receipts").json()["results"]] == [body["id"]]
    assert manager_api.get(f"{API}/products/{product.pk}").json()["cost_price"] == "25.00"
    refused = cashier_api.post(f"{API}/receipts", _receipt_body(supplier, product), format="json")
    assert refused.status_code == 403


def test_a_receipt_of_an_unknown_product_or_supplier_is_refused(manager_api):
    product = ProductFactory(stock=0)
    supplier = Supplier.objects.create(name="Sharma Wholesale")
    unknown = {"product_id": 999_999, "quantity": 1, "unit_cost": "1.00"}

    no_product = manager_api.post(f"{API}/receipts", _receipt_body(supplier, product, lines=[unknown]), format="json")
    no_supplier = manager_api.post(
        f"{API}/receipts", {**_receipt_body(supplier, product), "supplier": 999}, format="json"
    )

    assert (no_product.status_code, no_product.json()["code"]) == (400, "product_not_found")
    assert (no_supplier.status_code, no_supplier.json()["code"]) == (400, "supplier_not_found")
    assert not Receipt.objects.exists()


def test_post_adjustments(manager_api, cashier_api):
    product = ProductFactory(stock=3)
    line = {"product_id": product.pk, "quantity": -4}

    short = manager_api.post(f"{API}/adjustments", {"lines": [line], "reason": "damaged"}, format="json")
    no_note = manager_api.post(
        f"{API}/adjustments", {"lines": [{**line, "quantity": -1}], "reason": "other"}, format="json"
    )
    done = manager_api.post(
        f"{API}/adjustments", {"lines": [{**line, "quantity": "-1"}], "reason": "damaged"}, format="json"
    )
    cashier = cashier_api.post(f"{API}/adjustments", {"lines": [line], "reason": "damaged"}, format="json")

    assert (short.status_code, short.json()["code"]) == (409, "insufficient_stock")
    assert (no_note.status_code, no_note.json()["code"]) == (400, "validation_error")
    assert "note" in no_note.json()["details"]
    assert done.status_code == 201 and done.json()["lines"] == [{"product_id": product.pk, "quantity": -1}]
    assert cashier.status_code == 403
    assert stock(product) == 2


def test_stock_counts_through_the_api(manager_api, cashier_api):
    product, other = ProductFactory(stock=20), ProductFactory(stock=5)

    opened = manager_api.post(f"{API}/stock-counts", {"products": [product.pk]}, format="json")
    count = opened.json()
    line = manager_api.put(f"{API}/stock-counts/{count['id']}/lines/{product.pk}", {"counted": 18}, format="json")
    not_in_count = manager_api.put(f"{API}/stock-counts/{count['id']}/lines/{other.pk}", {"counted": 1}, format="json")
    by_cashier = cashier_api.put(f"{API}/stock-counts/{count['id']}/lines/{product.pk}", {"counted": 1}, format="json")
    posted = manager_api.post(f"{API}/stock-counts/{count['id']}/post")
    twice = manager_api.post(f"{API}/stock-counts/{count['id']}/post")

    assert opened.status_code == 201 and count["status"] == "open"
    assert count["lines"] == [
        {"product_id": product.pk, "opening": 20, "counted": None, "expected": None, "difference": None,
         "counted_at": None}
    ]  # fmt: skip
    assert line.status_code == 200
    assert (line.json()["expected"], line.json()["difference"]) == (20, -2)
    assert not_in_count.status_code == 404
    assert by_cashier.status_code == 403
    assert posted.status_code == 200 and posted.json()["status"] == "posted"
    assert (twice.status_code, twice.json()["code"]) == (409, "stock_count_posted")
    assert (stock(product), stock(other)) == (18, 5)


def test_suppliers_through_the_api(manager_api, cashier_api):
    created = manager_api.post(
        f"{API}/suppliers", {"name": "Sharma Wholesale", "gstin": "27aapfu0939f1zv"}, format="json"
    )
    bad = manager_api.post(f"{API}/suppliers", {"name": "X", "gstin": "27AAPFU0939F1ZX"}, format="json")

    assert created.status_code == 201 and created.json()["gstin"] == "27AAPFU0939F1ZV"
    assert (bad.status_code, bad.json()["code"]) == (400, "validation_error") and "gstin" in bad.json()["details"]
    assert cashier_api.get(f"{API}/suppliers").status_code == 403


# --- Reorder suggestions ----------------------------------------------------------------------------


def test_the_admin_index_lists_low_stock_with_its_reorder(manager_client, settings):
    settings.LOW_STOCK_THRESHOLD = 5
    ProductFactory(name="Almost gone", stock=2)

    html = manager_client.get("/admin/").content.decode()

    assert "Reorder" in html and '<td class="reorder">0</td>' in html


def test_a_receipt_too_large_to_record_is_refused():
    product = ProductFactory(stock=0)
    supplier = supplier_save(name="Sharma Wholesale")
    line = {"product_id": product.pk, "quantity": 2_147_483_647, "unit_cost": "9999999999.99", "tax_percent": "100"}

    with pytest.raises(ValidationFailed):
        receipt_create(
            supplier=supplier.pk, supplier_invoice="A", invoice_date=date(2026, 3, 1), lines=[line], user=None
        )

    assert not Receipt.objects.exists()


# --- The admin --------------------------------------------------------------------------------------


def _receipt_form(supplier, product, **overrides):
    data = {
        "supplier": supplier.pk,
        "supplier_invoice": "SW/9",
        "invoice_date": "2026-03-01",
        "note": "",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        "lines-0-product": product.pk,
        "lines-0-quantity": "6",
        "lines-0-unit_cost": "12.50",
        "lines-0-tax_percent": "5",
    }
    return {**data, **overrides}


def test_a_manager_enters_goods_received_in_the_admin_as_a_form_with_lines(manager_client):
    from django.urls import reverse

    product = ProductFactory(stock=4)
    supplier = Supplier.objects.create(name="Sharma Wholesale")

    response = manager_client.post(reverse("admin:catalog_receipt_add"), _receipt_form(supplier, product))

    assert response.status_code == 302, response.content.decode()[:2000]
    receipt = Receipt.objects.get()
    assert (receipt.supplier_invoice, receipt.total) == ("SW/9", D("78.75"))
    assert stock(product) == 10 and ledger(product)[-1] == ("receipt", D("6"), D("10"))
    page = manager_client.get(reverse("admin:catalog_receipt_change", args=[receipt.pk]))
    assert page.status_code == 200 and "SW/9" in page.content.decode()
    assert_audit_passes()


def test_the_admin_shows_counts_in_progress_with_their_variance_at_cost(manager_client):
    from django.urls import reverse

    product = ProductFactory(stock=10)
    Product.objects.filter(pk=product.pk).update(cost_price=D("20.00"))
    count = stock_count_open(product_ids=[product.pk], user=None)
    stock_count_record(count_id=count.pk, product_id=product.pk, counted=7, user=None)

    listing = manager_client.get(reverse("admin:catalog_stockcount_changelist")).content.decode()
    page = manager_client.get(reverse("admin:catalog_stockcount_change", args=[count.pk])).content.decode()

    assert "In progress" in listing and "1 of 1" in listing
    assert "-₹60.00" in listing and "-₹60.00" in page  # 3 short at ₹20.00


def test_the_ledgers_admin_page_of_a_product_counts_its_movements_only(admin_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    product = ProductFactory(stock=Decimal("5"))
    ProductFactory(stock=Decimal("7"))  # another product's opening movement

    with CaptureQueriesContext(connection) as ctx:
        response = admin_client.get("/admin/catalog/stockmovement/", {"product__id__exact": product.pk})

    assert response.status_code == 200
    assert [m.product_id for m in response.context["cl"].result_list] == [product.pk]
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(*)" in q["sql"] and "catalog_stockmovement" in q["sql"]]
    # Its own rows, not the whole ledger's again for "N total" (16 million rows at a chain's scale).
    assert len(counts) == 1 and "product_id" in counts[0]


def test_the_ledgers_admin_pages_read_their_own_rows_only(admin_client, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from catalog.admin import StockMovementAdmin

    monkeypatch.setattr(StockMovementAdmin, "list_per_page", 2)
    for n in range(5):
        ProductFactory(stock=Decimal(n + 1))
    newest_first = list(StockMovement.objects.order_by("-id").values_list("id", flat=True))

    pages, joined = [], []
    for p in (1, 2, 3):
        with CaptureQueriesContext(connection) as ctx:
            response = admin_client.get("/admin/catalog/stockmovement/", {"p": p})
        pages.append([m.pk for m in response.context["cl"].result_list])
        joined += [q["sql"] for q in ctx.captured_queries if "JOIN" in q["sql"] and "catalog_stockmovement" in q["sql"]]

    assert pages == [newest_first[0:2], newest_first[2:4], newest_first[4:6]]
    # The products, stores and users are joined to the page's rows, found by id, never past an OFFSET.
    assert len(joined) == 3 and all(" IN (" in sql and "OFFSET" not in sql for sql in joined)


def test_a_long_ledger_sorts_only_by_time(admin_client, monkeypatch):
    from django.contrib.messages import get_messages

    from catalog.admin import LedgerChangeList

    products = [ProductFactory(stock=Decimal(n)) for n in (3, 1, 2)]  # an opening movement each
    movements = list(StockMovement.objects.all())
    newest_first = [m.pk for m in sorted(movements, key=lambda m: m.pk, reverse=True)]
    fewest_first = [m.pk for m in sorted(movements, key=lambda m: (m.quantity, -m.pk))]
    by_quantity = {"o": "4"}  # time, store, product, kind, then the quantity (no checkbox: no actions)

    def listed(params):
        response = admin_client.get("/admin/catalog/stockmovement/", params)
        notes = [str(m) for m in get_messages(response.wsgi_request)]
        return response.context["cl"], notes

    monkeypatch.setattr(LedgerChangeList, "sort_any_max", len(movements))
    cl, notes = listed(by_quantity)
    assert [m.pk for m in cl.result_list] == fewest_first and notes == []
    assert {"store", "product", "kind", "quantity", "user"} <= set(cl.sortable_by)

    # One movement more than a list sorts by any column: newest first, and the manager is told why.
    monkeypatch.setattr(LedgerChangeList, "sort_any_max", len(movements) - 1)
    cl, notes = listed(by_quantity)
    assert [m.pk for m in cl.result_list] == newest_first
    assert cl.sortable_by == ("when",) and "o" not in cl.params
    assert notes == [
        f"Shown newest first: a list of more than {len(movements) - 1} movements sorts only by time. Search"
        " for a product, or open the ledger from its page, to sort by another column."
    ]
    # By time (the order the ledger is written in), oldest first, as asked.
    cl, notes = listed({"o": "0"})
    assert [m.pk for m in cl.result_list] == newest_first[::-1] and notes == []
    # A product's movements (its page links here) sort by any column again.
    cl, notes = listed({**by_quantity, "product__id__exact": products[0].pk})
    assert [m.product_id for m in cl.result_list] == [products[0].pk] and notes == []


def test_the_counts_list_works_out_every_rows_variance_in_one_query(manager_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    product, other = ProductFactory(stock=10), ProductFactory(stock=4)
    Product.objects.filter(pk__in=[product.pk, other.pk]).update(cost_price=D("20.00"))
    short = stock_count_open(product_ids=[product.pk, other.pk], user=None)
    stock_count_record(count_id=short.pk, product_id=product.pk, counted=7, user=None)
    stock_count_open(product_ids=[other.pk], user=None)  # nothing counted yet

    with CaptureQueriesContext(connection) as ctx:
        listing = manager_client.get(reverse("admin:catalog_stockcount_changelist"))

    rows = {
        count.pk: (count.variance["counted"], count.variance["lines"], count.variance["value"])
        for count in listing.context["cl"].result_list
    }
    assert rows[short.pk] == (1, 2, D("-60.00"))  # 3 short at ₹20.00
    assert sorted(rows.values())[0] == (0, 1, D("0.00"))
    assert len([q for q in ctx.captured_queries if "catalog_stockcountline" in q["sql"]]) == 1
