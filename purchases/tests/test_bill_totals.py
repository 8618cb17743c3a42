"""The sums of the bills' amounts that ``BillCount`` keeps beside their count (migration 0042), which
the admin's list of every bill shows above it (``reports.stores_purchase_totals``): the bills' own
sums after every INSERT, DELETE and TRUNCATE of bills, every change of a bill's store or amounts,
and bills rung up at once on several connections; and the list of every bill reads them instead of
summing the bills."""

from decimal import Decimal

import pytest
from django.db import connection, models
from django.test.utils import CaptureQueriesContext

from billing_project.core.testing.concurrency import run_concurrently
from cashdrawer.services import denomination_create, till_create
from catalog.models import StoreStock
from catalog.stores import default_store_id
from catalog.tests.factories import ProductFactory
from catalog.tests.stores import store_with
from purchases.models import Purchase
from purchases.reports import purchase_totals, stores_purchase_totals
from purchases.services import purchase_create
from purchases.tests.helpers import ring_up

D = Decimal
CHANGELIST = "/admin/purchases/purchase/"
# Every amount of a bill, as SQL's column list.
AMOUNTS = ", ".join(f.attname for f in Purchase._meta.concrete_fields if isinstance(f, models.DecimalField))
# A statement summing the bills themselves (the totals of a filtered list).
SUMMED_BILLS = 'SUM("purchases_purchase"'


def _kept_as_summed(*stores: int) -> None:
    """The kept totals of every store, of each store, of both and of none are the bills' own sums."""
    for store_ids in (None, *([store] for store in stores), list(stores), []):
        bills = Purchase.objects.all() if store_ids is None else Purchase.objects.filter(store_id__in=store_ids)
        assert stores_purchase_totals(store_ids=store_ids) == purchase_totals(bills), store_ids


@pytest.mark.django_db
def test_the_kept_totals_follow_every_insert_delete_update_and_truncate(drawer, postgres_only):
    main, branch = default_store_id(), store_with("BR").pk
    at_branch = till_create(code="BR-1", store=branch)
    rice = ProductFactory(price=D("112.35"), tax_percent=D("5"), stock=1000)
    StoreStock.objects.create(store_id=branch, product=rice, stock=100)
    bills = [ring_up((rice, n)) for n in (1, 2, 3)] + [ring_up((rice, 4), till=at_branch.pk)]
    _kept_as_summed(main, branch)

    with connection.cursor() as cursor:
        # Two bills in one hand-written statement: copies of two bills, without their numbers.
        cursor.execute(
            "CREATE TEMPORARY TABLE copied ON COMMIT DROP AS SELECT * FROM purchases_purchase WHERE id = ANY(%s)",
            [[bills[0].pk, bills[3].pk]],
        )
        cursor.execute(
            "UPDATE copied SET id = nextval(pg_get_serial_sequence('purchases_purchase', 'id')),"
            " number = replace(number, '/00', '/90')"
        )
        cursor.execute("INSERT INTO purchases_purchase SELECT * FROM copied RETURNING id")
        added = [row[0] for row in cursor.fetchall()]
        _kept_as_summed(main, branch)
        # A bill's amounts (all of them, as another bill's: the table's checks hold them together), and
        # another's store, changed by hand; the app never does either.
        cursor.execute(
            f"UPDATE purchases_purchase SET ({AMOUNTS}) = (SELECT {AMOUNTS} FROM purchases_purchase WHERE id = %s)"  # noqa: S608
            " WHERE id = %s",
            [bills[2].pk, bills[1].pk],
        )
        cursor.execute("UPDATE purchases_purchase SET store_id = %s WHERE id = %s", [branch, bills[2].pk])
        cursor.execute("UPDATE purchases_purchase SET invoice_last_error = 'x' WHERE id = %s", [bills[0].pk])
        _kept_as_summed(main, branch)
        cursor.execute("DELETE FROM purchases_purchase WHERE id = ANY(%s)", [added])
        _kept_as_summed(main, branch)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred checks first: TRUNCATE waits for none
        cursor.execute("TRUNCATE purchases_purchase CASCADE")
    _kept_as_summed(main, branch)
    assert stores_purchase_totals(store_ids=None) == purchase_totals(Purchase.objects.none())


@pytest.mark.django_db(transaction=True)
def test_bills_rung_up_at_once_at_four_tills_are_all_in_the_kept_totals(postgres_only):
    tills = [till_create(code=f"T{n}") for n in range(4)]
    for till in tills:
        denomination_create(value=D("100"), count=0, till=till.pk)
    products = [ProductFactory(price=D("100"), tax_percent=rate, stock=1000) for rate in (D("0"), D("5"), D("18"))]

    def bill(i: int) -> Purchase:
        product = products[i % 3]
        payable = (product.price * (1 + product.tax_percent / 100)).quantize(D("1"))
        return purchase_create(
            customer_email=f"buyer{i}@example.com",
            items=[{"product_id": product.pk, "quantity": 1}],
            paid_amount=payable,
            till=tills[i % 4].pk,
        )

    results = run_concurrently(24, bill)

    assert [r for r in results if not isinstance(r, Purchase)] == []
    assert Purchase.objects.count() == 24
    _kept_as_summed(default_store_id())


@pytest.mark.django_db
def test_the_list_of_every_bill_reads_its_totals_from_the_kept_sums(manager_client, drawer, postgres_only):
    rice = ProductFactory(price=D("99.99"), tax_percent=D("12"), stock=100)
    first, second = ring_up((rice, 1)), ring_up((rice, 3), email="b@example.com")

    with CaptureQueriesContext(connection) as every:
        shown = manager_client.get(CHANGELIST).context["totals"]
    with CaptureQueriesContext(connection) as searched:
        only_b = manager_client.get(CHANGELIST, {"q": "b@example"}).context["totals"]

    assert shown == purchase_totals(Purchase.objects.all())
    assert shown["count"] == 2 and shown["payable"] == first.payable + second.payable
    assert not any(SUMMED_BILLS in query["sql"] for query in every.captured_queries)
    # Its count ("N total") and its totals in one read of the kept rows.
    assert sum('FROM "purchases_billcount"' in query["sql"] for query in every.captured_queries) == 1
    assert only_b == purchase_totals(Purchase.objects.filter(pk=second.pk))
    assert any(SUMMED_BILLS in query["sql"] for query in searched.captured_queries)
