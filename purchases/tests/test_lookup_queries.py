"""Lookups and lists at a chain's scale (issue 30): their query budgets, the indexes the queries the
views send are served by (on PostgreSQL, read from the plans), and one bill read as the list reads
it, the same answer as before."""

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from stdnum import ean

from catalog.tests.factories import ProductFactory
from purchases.selectors import product_search, purchase_get, purchase_list
from purchases.serializers import PurchaseSerializer
from purchases.tests.helpers import refund, ring_up

pytestmark = pytest.mark.django_db

D = Decimal


def _queries(fn) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as ctx:
        result = fn()
    return len(ctx.captured_queries), result


def _barcode(n: int) -> str:
    body = f"890{n:09d}"
    return body + ean.calc_check_digit(body)


# --- Product lookups ----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["barcode", "sku", "sku_lower", "label", "id"])
def test_a_lookup_costs_the_same_with_1_or_40_products(admin_api, code):
    def codes(product, weighed):
        label = "21" + weighed.plu.zfill(5) + "00750"
        return {
            "barcode": product.barcode,
            "sku": product.sku,
            "sku_lower": product.sku.lower(),
            "label": label + ean.calc_check_digit(label),
            "id": str(product.pk),
        }

    product = ProductFactory(barcode=_barcode(1), sku="ABC-1")
    weighed = ProductFactory(unit="kg", plu="501")
    expected = weighed if code == "label" else product
    few, response = _queries(lambda: admin_api.get(f"/api/v1/products/lookup?code={codes(product, weighed)[code]}"))
    assert response.status_code == 200 and response.json()["product"]["id"] == expected.pk
    for n in range(2, 40):
        ProductFactory(barcode=_barcode(n), name=f"Other {n}")

    many, response = _queries(lambda: admin_api.get(f"/api/v1/products/lookup?code={codes(product, weighed)[code]}"))

    assert response.status_code == 200 and response.json()["product"]["id"] == expected.pk
    assert many == few
    assert many <= 6


def test_the_billing_pages_suggestions_cost_the_same_for_1_or_40_matches(cashier_client, drawer):
    ProductFactory(name="Tea leaves 1")
    few, response = _queries(lambda: cashier_client.get("/billing/products/?q=tea"))
    assert len(response.json()["results"]) == 1
    for n in range(2, 41):
        ProductFactory(name=f"Tea leaves {n}")

    many, response = _queries(lambda: cashier_client.get("/billing/products/?q=tea"))

    assert len(response.json()["results"]) == 8
    assert many == few
    # The session, its user, the user's permissions (one query: core.auth_backend) and stores, the
    # default till (seen without a query of its own: cashdrawer.browser.current_till), the products.
    assert many <= 6


def test_a_search_finds_a_name_or_sku_containing_the_term_in_any_case():
    tea = ProductFactory(name="Assam Tea 500 g", sku="TEA-500")
    ProductFactory(name="Coffee", sku="COF-1")

    assert product_search(term="sam t") == [tea]
    assert product_search(term="tea-5") == [tea]
    assert product_search(term="ASSAM") == [tea]


# --- One bill -------------------------------------------------------------------------------------------


def test_one_bill_costs_the_same_queries_with_1_or_30_lines_and_refunds(admin_api, drawer):
    products = [ProductFactory(price=D("10"), tax_percent=D("5"), stock=1000) for _ in range(30)]
    small = ring_up((products[0], 1))
    few, response = _queries(lambda: admin_api.get(f"/api/v1/purchases/{small.pk}"))
    assert response.status_code == 200
    large = ring_up(*((p, 2) for p in products))
    refund(large, (products[0], 1))
    refund(large, (products[1], 2))

    many, response = _queries(lambda: admin_api.get(f"/api/v1/purchases/{large.pk}"))

    assert response.status_code == 200 and len(response.json()["refunds"]) == 2
    assert many == few
    # The bill's id, then the bill, its lines, payments, cash pieces and refunds.
    assert many <= 6


def test_one_bill_reads_as_the_list_and_the_model_read_it(admin_api, drawer):
    products = [ProductFactory(price=D("99.50"), tax_percent=D("12"), stock=1000) for _ in range(3)]
    bill = ring_up((products[0], 2), (products[1], 1), (products[2], 3))
    refund(bill, (products[1], 1))

    one = admin_api.get(f"/api/v1/purchases/{bill.pk}").json()
    listed = admin_api.get("/api/v1/purchases").json()["results"]

    assert one == next(row for row in listed if row["id"] == bill.pk)
    assert one == admin_api.get(f"/api/v1/purchases/{bill.pk}.json").json()
    expected = PurchaseSerializer(purchase_get(purchase_id=bill.pk)).data
    assert one == admin_api.get(f"/api/v1/purchases/{bill.pk}").json() == _json(expected)


def _json(data):
    import json

    from rest_framework.utils.encoders import JSONEncoder

    return json.loads(json.dumps(data, cls=JSONEncoder))


def test_an_unknown_bill_is_404_not_found(admin_api):
    response = admin_api.get("/api/v1/purchases/999999")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# --- Plans (PostgreSQL): the queries the views send use the indexes made for them ------------------------


def _plan(queryset, off=("enable_seqscan", "enable_bitmapscan", "enable_sort")) -> str:
    """The plan of ``queryset``'s SQL, with the scans an empty table makes cheapest (a sequential
    or bitmap scan, then a sort) priced out: what is left is what the indexes can serve."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        for setting in off:
            cursor.execute(f"SET LOCAL {setting} = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        for setting in off:
            cursor.execute(f"RESET {setting}")
    return plan


def test_the_billing_pages_search_uses_the_trigram_indexes(postgres_only):
    from django.db.models import Q

    from catalog.models import Product

    ProductFactory(name="Assam Tea")
    # A GIN index is read by a bitmap scan.
    plan = _plan(
        Product.objects.active().filter(Q(name__icontains="tea") | Q(sku__icontains="tea")), off=("enable_seqscan",)
    )

    assert "product_name_trgm" in plan and "product_sku_trgm" in plan


def test_a_sku_in_any_case_uses_its_index(postgres_only):
    from catalog.models import Product

    ProductFactory(sku="TEA-1")

    assert "product_sku_upper" in _plan(Product.objects.filter(sku__iexact="tea-1"), off=("enable_seqscan",))


def test_a_page_of_bills_is_read_from_the_index_alone_in_the_lists_order(postgres_only):
    ids = purchase_list().values_list("id", flat=True)[5000:5050]
    plan = _plan(ids)

    assert "Index Only Scan Backward using purchase_created_id_cover" in plan
    assert "Sort" not in plan


def test_a_stores_page_of_bills_is_read_from_its_index_in_the_lists_order(postgres_only):
    from catalog.stores import default_store_id

    ids = purchase_list().filter(store_id=default_store_id()).values_list("id", flat=True)[500:550]
    plan = _plan(ids)

    assert "purchase_store_created_id" in plan
    assert "Sort" not in plan


# --- The bill list's count ---------------------------------------------------------------------------


def _second_store_bills(products, n):
    from cashdrawer.services import till_create
    from catalog.models import StoreStock
    from catalog.tests.stores import store_with

    store = store_with("B2")
    till = till_create(code="B2-1", store=store.pk)
    for product in products:
        StoreStock.objects.create(store=store, product=product, stock=1000)
    return store, [ring_up((products[0], 1), till=till.pk) for _ in range(n)]


def test_the_bill_lists_count_is_every_bill_the_user_sees(admin_api, manager_api, manager_user, drawer):
    from catalog.stores import default_store

    products = [ProductFactory(price=D("10"), tax_percent=D("0"), stock=1000)]
    for _ in range(3):
        ring_up((products[0], 1))
    store, _ = _second_store_bills(products, 2)
    default_store().staff.add(manager_user)

    everything = admin_api.get("/api/v1/purchases?page_size=2").json()
    own = manager_api.get("/api/v1/purchases?page_size=2").json()
    other = admin_api.get("/api/v1/purchases?number=" + everything["results"][0]["number"]).json()
    store.staff.add(manager_user)
    manager_user.__dict__.pop("remembered_store_ids", None)
    both = manager_api.get("/api/v1/purchases?page_size=2").json()

    assert (everything["count"], own["count"], other["count"], both["count"]) == (5, 3, 1, 5)
    assert everything["next"] is not None and len(everything["results"]) == 2


def test_the_unfiltered_bill_list_counts_no_bill_rows_on_postgresql(admin_api, drawer, postgres_only):
    product = ProductFactory(price=D("10"), tax_percent=D("0"), stock=1000)
    for _ in range(3):
        ring_up((product, 1))

    with CaptureQueriesContext(connection) as ctx:
        body = admin_api.get("/api/v1/purchases").json()

    statements = [q["sql"] for q in ctx.captured_queries]
    assert body["count"] == 3
    assert not any("COUNT(" in sql.upper() for sql in statements)
    assert any('FROM "purchases_billcount"' in sql for sql in statements)


def test_the_bill_count_follows_every_insert_delete_and_truncate(drawer, postgres_only):
    from purchases.models import BillCount, Purchase
    from purchases.selectors import bill_count

    product = ProductFactory(price=D("10"), tax_percent=D("0"), stock=1000)
    bills = [ring_up((product, 1)) for _ in range(4)]
    assert bill_count(store_ids=None) == Purchase.objects.count() == 4
    with connection.cursor() as cursor:
        # A hand-written INSERT of two bills as one statement, and a DELETE, are counted too.
        cursor.execute(
            "INSERT INTO purchases_purchase (customer_id, created_at, store_id, subtotal, tax_total, total, rounding,"
            " payable, paid_amount, change_due, cash_paid, discount_percent, discount_total, discount_reason,"
            " invoice_status, invoice_round, invoice_attempts, invoice_last_error)"
            " SELECT NULL::bigint, now(), store_id, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '', 'skipped', 0, 0, ''"
            " FROM purchases_purchase WHERE id = %s UNION ALL"
            " SELECT NULL::bigint, now(), store_id, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '', 'skipped', 0, 0, ''"
            " FROM purchases_purchase WHERE id = %s RETURNING id",
            [bills[0].pk, bills[0].pk],
        )
        added = [row[0] for row in cursor.fetchall()]
        assert bill_count(store_ids=None) == Purchase.objects.count() == 6
        cursor.execute("DELETE FROM purchases_purchase WHERE id = ANY(%s)", [added])
    assert bill_count(store_ids=[bills[0].store_id]) == Purchase.objects.count() == 4
    assert bill_count(store_ids=[]) == 0
    assert BillCount.objects.exists()


def test_a_page_of_several_stores_bills_is_read_from_the_time_index_alone(postgres_only):
    from catalog.stores import default_store_id
    from catalog.tests.stores import store_with

    stores = [default_store_id(), store_with("B2").pk]
    plan = _plan(purchase_list().filter(store_id__in=stores).values_list("id", flat=True)[500:550])

    assert "Index Only Scan Backward using purchase_created_id_cover" in plan
    assert "Sort" not in plan


def test_the_billing_pages_suggestions_are_the_tills_stores_in_one_query(cashier_client, drawer):
    from catalog.models import StorePrice, StoreStock
    from catalog.stores import default_store_id
    from catalog.tests.factories import StoreFactory

    # The cashier's till is at the default store; the branch's stock and prices are not the page's.
    branch = StoreFactory(code="BR")
    here = default_store_id()
    own = ProductFactory(name="Tea own price", price=D("100.00"), stock=7)
    StorePrice.objects.create(store_id=here, product=own, price=D("95.50"))
    elsewhere = ProductFactory(name="Tea stocked elsewhere", price=D("80.00"), stock=0, store=branch.pk)
    StoreStock.objects.create(store=branch, product=own, stock=40)
    StorePrice.objects.create(store=branch, product=elsewhere, price=D("70.00"))

    with CaptureQueriesContext(connection) as ctx:
        response = cashier_client.get("/billing/products/?q=tea")

    rows = {row["name"]: (row["price"], row["stock"]) for row in response.json()["results"]}
    assert rows == {"Tea own price": ("95.50", 7), "Tea stocked elsewhere": ("80.00", 0)}
    # The search reads the store's stock and prices in its own query: none of their own.
    reads = [
        q["sql"] for q in ctx.captured_queries if "catalog_storestock" in q["sql"] or "catalog_storeprice" in q["sql"]
    ]
    assert len(reads) == 1 and "catalog_product" in reads[0]


# --- The history page and the admin's bills list (issue 30: the lists at a chain's scale) -----------

HISTORY = "/billing/history/"


def _history_rows(response) -> list[tuple[str, str]]:
    """(bill id, lines) of each row of the history page."""
    import re

    page = response.content.decode()
    return re.findall(r'<a href="/billing/bills/(\d+)/">Bill #\d+</a>.*?<td class="num">(\d+)</td>', page, flags=re.S)


def test_a_deep_history_page_costs_the_queries_of_the_first_and_shows_the_same_rows(cashier_client, drawer):
    from purchases.models import Purchase

    tea = ProductFactory(price=D("10"), tax_percent=D("0"), stock=1000)
    milk = ProductFactory(price=D("30"), tax_percent=D("0"), stock=1000)
    for n in range(30):
        ring_up((tea, 1), (milk, 1)) if n % 3 == 0 else ring_up((tea, 1))
    newest_first = list(Purchase.objects.order_by("-created_at", "-id").values_list("id", flat=True))

    first, first_page = _queries(lambda: cashier_client.get(HISTORY))
    second, second_page = _queries(lambda: cashier_client.get(HISTORY, {"page": 2}))

    assert first == second
    rows = _history_rows(first_page) + _history_rows(second_page)
    assert [int(pk) for pk, _ in rows] == newest_first
    lines = dict(rows)
    assert {lines[str(pk)] for pk in newest_first[-1::-3]} == {"2"}  # every third bill, from the oldest
    assert sum(line == "1" for line in lines.values()) == 20
    assert "30 bills · page 2 of 2" in second_page.content.decode()


def test_the_history_page_reads_no_bills_payments_cash_or_refunds_it_does_not_show(cashier_client, drawer):
    product = ProductFactory(price=D("10"), tax_percent=D("0"), stock=1000)
    refund(ring_up((product, 2)), (product, 1))

    with CaptureQueriesContext(connection) as ctx:
        cashier_client.get(HISTORY)

    tables = " ".join(q["sql"] for q in ctx.captured_queries)
    for table in ("purchases_payment", "cashdrawer_drawermovement", "purchases_refund"):
        assert f'FROM "{table}"' not in tables


def test_the_unfiltered_history_page_counts_no_bill_rows_on_postgresql(
    cashier_client, cashier_user, drawer, postgres_only
):
    from catalog.stores import default_store

    product = ProductFactory(price=D("10"), tax_percent=D("0"), stock=1000)
    for _ in range(3):
        ring_up((product, 1))
    _second_store_bills([product], 2)  # another store's: not the cashier's
    default_store().staff.add(cashier_user)
    with CaptureQueriesContext(connection) as ctx:
        response = cashier_client.get(HISTORY)
    statements = [q["sql"] for q in ctx.captured_queries]
    filtered = cashier_client.get(HISTORY, {"customer": "ann@example.com"})

    assert "3 bills" in response.content.decode()
    assert not any("COUNT(*)" in sql.upper() for sql in statements)  # (a row's lines are counted by bill)
    assert any('FROM "purchases_billcount"' in sql for sql in statements)
    assert "3 bills" in filtered.content.decode()


def _till_bills(n):
    from cashdrawer.services import till_create
    from catalog.stores import default_store_id

    product = ProductFactory(price=D("10"), tax_percent=D("0"), stock=1000)
    till = till_create(code="T-2", store=default_store_id())
    ring_up((product, 1))  # the main till's
    return till, [ring_up((product, 1), (ProductFactory(stock=10), 1), till=till.pk) for _ in range(n)]


def test_the_admin_bills_of_a_till_count_their_rows_alone_and_the_total_from_billcount(
    admin_client, drawer, postgres_only
):
    till, bills = _till_bills(3)

    with CaptureQueriesContext(connection) as ctx:
        response = admin_client.get(f"/admin/purchases/purchase/?till__id__exact={till.pk}")

    statements = [q["sql"] for q in ctx.captured_queries]
    page = response.content.decode()
    assert response.status_code == 200
    assert "3 results" in page and "4 total" in page
    # No query joins the lines to the bills to count them: each row's count is a subquery of its bill.
    assert not any('JOIN "purchases_purchaseitem"' in sql for sql in statements)
    counts = [sql for sql in statements if "COUNT(*)" in sql.upper()]
    assert counts and all('"purchases_purchase"."till_id" =' in sql for sql in counts)
    assert any('FROM "purchases_billcount"' in sql for sql in statements)
    assert [b.pk for b in response.context["cl"].result_list] == [b.pk for b in reversed(bills)]
    assert {b.line_count for b in response.context["cl"].result_list} == {2}


def test_the_admin_bills_of_a_till_are_counted_once_with_their_totals(admin_client, drawer, monkeypatch):
    from purchases.admin import PurchaseAdmin

    till, _ = _till_bills(3)
    monkeypatch.setattr(PurchaseAdmin, "list_per_page", 2)  # two pages

    with CaptureQueriesContext(connection) as ctx:
        response = admin_client.get(f"/admin/purchases/purchase/?till__id__exact={till.pk}")

    # The filtered count ("3 results") is the totals' number of bills: one query counts the till's bills.
    tills_counts = [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].upper().startswith("SELECT COUNT(") and '"till_id" =' in q["sql"]
    ]
    assert len(tills_counts) == 1 and "SUM(" in tills_counts[0].upper()
    assert "3 results" in response.content.decode()
    assert response.context["cl"].result_count == response.context["totals"]["count"] == 3
    # The page is read as a page, not every bill of the till to count them.
    page = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('SELECT "purchases_purchase"."id"')]
    assert len(page) == 1 and "LIMIT 2" in page[0]


def test_the_admin_bills_sorted_by_lines_and_their_totals_are_as_before(admin_client, drawer):
    from purchases.models import Purchase

    till, _ = _till_bills(2)
    product = ProductFactory(price=D("10"), tax_percent=D("0"), stock=1000)
    three = ring_up((product, 1), (ProductFactory(stock=10), 1), (ProductFactory(stock=10), 1), till=till.pk)

    response = admin_client.get(f"/admin/purchases/purchase/?till__id__exact={till.pk}&o=-4")

    shown = response.context["cl"].result_list
    assert [b.line_count for b in shown] == [3, 2, 2] and shown[0].pk == three.pk
    till_bills = Purchase.objects.filter(till=till)
    assert response.context["totals"]["count"] == 3
    assert response.context["totals"]["payable"] == sum(b.payable for b in till_bills)


def test_a_tills_page_of_bills_is_read_from_its_index_in_the_lists_order(postgres_only):
    from purchases.models import Purchase

    plan = _plan(
        Purchase.objects.filter(till_id=1).order_by("-created_at", "-id").values_list("id", flat=True)[100:200]
    )

    assert "purchase_till_created_cover" in plan
    assert "Sort" not in plan


def test_a_tills_totals_are_summed_from_its_index_alone(postgres_only):
    from purchases.figures import bill_sums
    from purchases.models import Purchase
    from purchases.reports import TOTALS_AMOUNTS

    totals = Purchase.objects.filter(till_id=1).order_by().values("till").annotate(**bill_sums(*TOTALS_AMOUNTS))

    assert "Index Only Scan using purchase_till_created_cover" in _plan(totals)


# --- A deep page of the bill list, positioned by day ---------------------------------------------------


def _bills_over_days(products, till=None, *, days=6, per_day=3):
    """Bills on ``days`` local days, some just before and after a local midnight, newest last."""
    from datetime import datetime, time, timedelta

    from django.utils import timezone

    from purchases.models import Purchase

    today = timezone.localdate()
    bills = []
    for back in range(days, 0, -1):
        midnight = timezone.make_aware(datetime.combine(today - timedelta(days=back), time.min))
        for at in (timedelta(seconds=1), timedelta(hours=12), timedelta(hours=24, seconds=-1))[:per_day]:
            bill = ring_up((products[0], 1), till=till)
            Purchase.objects.filter(pk=bill.pk).update(created_at=midnight + at)
            bills.append(bill)
    return bills


@pytest.fixture
def deep(monkeypatch):
    """Every slice from the 4th bill on counts as deep."""
    from purchases import selectors

    monkeypatch.setattr(selectors, "DEEP_SLICE", 4)


def _slices(store_ids):
    from purchases.models import Purchase
    from purchases.selectors import bill_count, purchase_ids_slice

    bills = purchase_list() if store_ids is None else purchase_list().filter(store_id__in=store_ids)
    total = bill_count(store_ids=store_ids)
    assert total is not None  # PostgreSQL
    windows = [(start, start + size) for start in range(total + 2) for size in (1, 2, 5)]
    positioned = [purchase_ids_slice(bills, store_ids=store_ids, total=total, start=a, stop=b) for a, b in windows]
    every = Purchase.objects.filter(pk__in=bills.values("pk")).order_by("-created_at", "-id")
    walked = [list(every.values_list("id", flat=True))[a:b] for a, b in windows]
    return positioned, walked


def test_a_deep_slice_positioned_by_day_is_the_slice_of_the_time_index(drawer, deep, settings, postgres_only):
    from cashdrawer.models import Till
    from catalog.stores import default_store_id
    from purchases.sales_rollups import sales_rollup_seal

    settings.TIME_ZONE = "Asia/Kolkata"  # local days that are not UTC's

    products = [ProductFactory(price=D("10"), tax_percent=D("0"), stock=1000)]
    _bills_over_days(products)
    store, _ = _second_store_bills(products, 0)
    _bills_over_days(products, till=Till.objects.get(store=store).pk, days=4, per_day=2)
    sales_rollup_seal()
    for _ in range(3):  # past the seal: counted from the bills
        ring_up((products[0], 1))

    for store_ids in (None, [default_store_id()], [store.pk], [default_store_id(), store.pk], []):
        positioned, walked = _slices(store_ids)
        assert positioned == walked


def test_a_deep_slice_reads_a_day_not_the_bills_before_it(drawer, deep, postgres_only):
    from purchases.sales_rollups import sales_rollup_seal
    from purchases.selectors import bill_count, purchase_ids_slice

    products = [ProductFactory(price=D("10"), tax_percent=D("0"), stock=1000)]
    bills = _bills_over_days(products)
    sales_rollup_seal()

    total = bill_count(store_ids=None)
    assert total == len(bills)

    with CaptureQueriesContext(connection) as ctx:
        ids = purchase_ids_slice(purchase_list(), store_ids=None, total=total, start=9, stop=11)

    page = [sql for sql in ctx.captured_queries if 'SELECT "purchases_purchase"."id"' in sql["sql"]]
    assert ids == [bills[-10].pk, bills[-11].pk]
    # The 9th bill is the newest of the 4th day back: the slice is read from that day on, from its start.
    assert len(page) == 1 and '"created_at" <' in page[0]["sql"] and "OFFSET" not in page[0]["sql"]


def test_a_deep_slice_walks_the_index_when_the_days_do_not_add_up(drawer, deep, postgres_only):
    from purchases.sales_rollups import sales_rollup_seal
    from purchases.selectors import purchase_ids_slice

    products = [ProductFactory(price=D("10"), tax_percent=D("0"), stock=1000)]
    bills = _bills_over_days(products)
    sales_rollup_seal()

    # A count that is not the days' (a bill rung up between the two reads): the plain slice.
    ids = purchase_ids_slice(purchase_list(), store_ids=None, total=len(bills) + 1, start=9, stop=11)

    assert ids == [bills[-10].pk, bills[-11].pk]


def test_a_deep_api_page_is_the_page_it_was(admin_api, drawer, deep, postgres_only):
    from purchases.sales_rollups import sales_rollup_seal

    products = [ProductFactory(price=D("10"), tax_percent=D("0"), stock=1000)]
    bills = _bills_over_days(products)
    sales_rollup_seal()
    bills.append(ring_up((products[0], 1)))

    pages = [admin_api.get("/api/v1/purchases", {"page_size": 4, "page": n}).json() for n in (1, 2, 3, 4, 5)]

    newest_first = [b.pk for b in reversed(bills)]
    assert [[row["id"] for row in page["results"]] for page in pages] == [
        newest_first[n : n + 4] for n in range(0, 19, 4)
    ]
    assert {page["count"] for page in pages} == {19}


def test_a_deep_admin_page_of_every_bill_is_the_page_it_was(
    admin_client, manager_client, manager_user, drawer, deep, monkeypatch, postgres_only
):
    from catalog.stores import default_store
    from purchases.admin import PurchaseAdmin
    from purchases.sales_rollups import sales_rollup_seal

    monkeypatch.setattr(PurchaseAdmin, "list_per_page", 4)
    products = [ProductFactory(price=D("10"), tax_percent=D("0"), stock=1000)]
    bills = _bills_over_days(products)
    _, theirs = _second_store_bills(products, 3)
    sales_rollup_seal()
    bills += [ring_up((products[0], 1)) for _ in range(2)]  # past the seal
    default_store().staff.add(manager_user)

    def pages(client, n, **params):
        rows, by_ids = [], []
        for p in range(1, n + 1):
            with CaptureQueriesContext(connection) as ctx:
                response = client.get("/admin/purchases/purchase/", {"p": p, **params})
            assert response.status_code == 200
            rows.append([bill.pk for bill in response.context["cl"].result_list])
            by_ids.append(any('"purchases_purchase"."id" IN (' in q["sql"] for q in ctx.captured_queries))
        return rows, by_ids

    def newest_first(of):
        return [b.pk for b in sorted(of, key=lambda b: (b.created_at, b.pk), reverse=True)]

    for client, seen in ((admin_client, bills + theirs), (manager_client, bills)):
        expected = newest_first(type(bills[0]).objects.filter(pk__in=[b.pk for b in seen]))
        rows, by_ids = pages(client, -(-len(expected) // 4))
        assert rows == [expected[n : n + 4] for n in range(0, len(expected), 4)]
        # The first page is read from the time index as it is; a deeper one's ids are found by day.
        assert by_ids == [False] + [True] * (len(rows) - 1)

    # Sorted by a column, or filtered, Django's own pages.
    for params in ({"o": "-4"}, {"till__id__exact": bills[0].till_id}):
        rows, by_ids = pages(admin_client, 2, **params)
        assert by_ids == [False, False] and len(rows[1]) == 4


def test_a_page_of_refunds_through_the_api_joins_its_own_rows_only(admin_api, drawer):
    product = ProductFactory(price=D("10"), tax_percent=D("0"), stock=1000)
    refunds = [refund(ring_up((product, 2)), (product, 1)) for _ in range(5)]
    newest_first = [r.pk for r in sorted(refunds, key=lambda r: (r.created_at, r.pk), reverse=True)]

    pages, joined = [], []
    for p in (1, 2, 3):
        with CaptureQueriesContext(connection) as ctx:
            body = admin_api.get("/api/v1/refunds", {"page": p, "page_size": 2}).json()
        assert body["count"] == 5
        pages.append([row["id"] for row in body["results"]])
        joined += [q["sql"] for q in ctx.captured_queries if 'FROM "purchases_refund" INNER JOIN' in q["sql"]]

    assert pages == [newest_first[0:2], newest_first[2:4], newest_first[4:]]
    # Each page's bills, customers and tills joined to its own refunds, found by id, never past an OFFSET.
    assert len(joined) == 3 and all(" IN (" in sql and "OFFSET" not in sql for sql in joined)


def test_the_admin_bills_checkbox_is_djangos_own(drawer):
    from django.contrib import admin

    from purchases.admin import PurchaseAdmin
    from purchases.models import Purchase

    product = ProductFactory(price=D("10"), tax_percent=D("0"), stock=1000)
    bill = ring_up((product, 1))
    bill = Purchase.objects.get(pk=bill.pk)
    model_admin = PurchaseAdmin(Purchase, admin.site)

    assert model_admin.action_checkbox(bill) == admin.ModelAdmin.action_checkbox(model_admin, bill)
    assert f'value="{bill.pk}"' in model_admin.action_checkbox(bill) and bill.number in model_admin.action_checkbox(
        bill
    )


def test_a_deep_slice_without_a_sealed_rollup_walks_the_index(drawer, deep, postgres_only):
    products = [ProductFactory(price=D("10"), tax_percent=D("0"), stock=1000)]
    _bills_over_days(products)  # never sealed

    positioned, walked = _slices(None)

    assert positioned == walked


# --- The name searches and the admin's totals by till (issue 30: a thousand matches, a till's bills) ------


def test_the_billing_pages_search_works_out_stock_and_prices_for_its_rows_only(cashier_client, drawer):
    from catalog.models import StorePrice
    from catalog.stores import default_store_id

    teas = [ProductFactory(name=f"Tea {n:02d}", price=D("50.00"), stock=n) for n in range(12, 0, -1)]
    exact = ProductFactory(name="Zesty Tea", sku="TEA", price=D("60.00"), stock=3)
    StorePrice.objects.create(store_id=default_store_id(), product=teas[-1], price=D("45.00"))

    with CaptureQueriesContext(connection) as ctx:
        response = cashier_client.get("/billing/products/?q=tea")

    rows = [(row["name"], row["price"], row["stock"]) for row in response.json()["results"]]
    # The exact SKU first, then by name; each row with the till's store's price and stock.
    assert rows == [("Zesty Tea", "60.00", 3), ("Tea 01", "45.00", 1)] + [
        (f"Tea {n:02d}", "50.00", n) for n in range(2, 8)
    ]
    assert exact.sku == "TEA"
    [search] = [q["sql"] for q in ctx.captured_queries if "catalog_storeprice" in q["sql"]]
    rows_part, matches = search.split(" IN (SELECT ", 1)
    # The stock and the price are read in the outer query, for the rows the subquery picked.
    assert "catalog_storeprice" in rows_part and "catalog_storestock" in rows_part
    assert "LIKE" in matches and "LIMIT 8)" in matches
    assert "catalog_storeprice" not in matches and "catalog_storestock" not in matches


def test_a_search_without_a_store_is_the_matches_in_order():
    ProductFactory(name="Masala Tea", sku="MT-1", stock=4)
    ProductFactory(name="Assam Tea", sku="AT-1", stock=2)
    ProductFactory(name="Tea", sku="tea-x", is_active=False)
    exact = ProductFactory(name="Loose Leaves", sku="TEA")

    found = product_search(term="tea", limit=3)

    assert [p.name for p in found] == ["Loose Leaves", "Assam Tea", "Masala Tea"]
    assert found[0] == exact and [p.stock for p in found[1:]] == [2, 4]
