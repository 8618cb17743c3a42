"""A store's stock page and its low-stock list (the admin's products ``?store=``, with
``low_stock=``) at a chain's scale (issue 30): what they show, their query budgets, and on
PostgreSQL the plans: the filter reads the store's stock rows, not every product's stock summed."""

import re
from decimal import Decimal

import pytest
from django.contrib.admin import ModelAdmin
from django.contrib.admin.sites import site
from django.db import connection
from django.forms.renderers import DjangoTemplates
from django.forms.utils import ErrorList
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from billing_project.core.admin_helpers import DIRECT_INPUTS
from catalog.models import Product, StoreStock
from catalog.stores import default_store_id
from catalog.tests.factories import ProductFactory, StoreFactory
from catalog.tests.helpers import CHANGELIST

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def chain(settings, manager_user):
    """Two stores: the default one (MAIN) and a branch, where the manager works too. The branch has no
    row of ``Cumin`` (0 there)."""
    settings.LOW_STOCK_THRESHOLD = 5
    branch = StoreFactory(code="BR")
    manager_user.stores.add(branch)
    products = {
        name: ProductFactory(name=name, stock=main)
        for name, main in [("Atta", 2), ("Basmati", 40), ("Cumin", 0), ("Dal", 9), ("Ghee", 1)]
    }
    for name, there in [("Atta", 30), ("Basmati", 4), ("Dal", 5), ("Ghee", D("4.999"))]:
        StoreStock.objects.create(store=branch, product=products[name], stock=there)
    Product.objects.filter(pk=products["Ghee"].pk).update(is_active=False)
    return {"branch": branch, "main": default_store_id(), **products}


def _listed(response) -> list[tuple[str, Decimal]]:
    assert response.status_code == 200
    return [(p.name, p.stock) for p in response.context["cl"].result_list]


def test_a_stores_page_shows_every_product_with_that_stores_stock(manager_client, chain):
    response = manager_client.get(CHANGELIST, {"store": chain["branch"].pk})

    assert _listed(response) == [("Atta", 30), ("Basmati", 4), ("Cumin", 0), ("Dal", 5), ("Ghee", D("4.999"))]
    assert response.context["cl"].result_count == 5


@pytest.mark.parametrize(
    ("store", "low", "expected"),
    [
        ("branch", "yes", [("Basmati", 4), ("Cumin", 0), ("Ghee", D("4.999"))]),
        ("branch", "no", [("Atta", 30), ("Dal", 5)]),
        ("main", "yes", [("Atta", 2), ("Cumin", 0), ("Ghee", 1)]),
        ("main", "no", [("Basmati", 40), ("Dal", 9)]),
    ],
)
def test_the_low_stock_list_at_a_store_is_its_stock_below_the_threshold(manager_client, chain, store, low, expected):
    response = manager_client.get(
        CHANGELIST, {"store": chain[store] if store == "main" else chain[store].pk, "low_stock": low}
    )

    assert _listed(response) == expected
    assert response.context["cl"].result_count == len(expected)


def test_the_low_stock_list_at_a_store_leaves_out_archived_products_when_asked(manager_client, chain):
    response = manager_client.get(CHANGELIST, {"store": chain["branch"].pk, "low_stock": "yes", "is_active__exact": 1})

    assert _listed(response) == [("Basmati", 4), ("Cumin", 0)]


def test_the_low_stock_list_of_every_store_sums_their_stock(manager_client, chain):
    response = manager_client.get(CHANGELIST, {"low_stock": "yes"})

    # Sums: Atta 32, Basmati 44, Cumin 0, Dal 14, Ghee 5.999.
    assert _listed(response) == [("Cumin", 0)]


def test_a_threshold_of_0_lists_no_product_as_low(manager_client, chain, settings):
    settings.LOW_STOCK_THRESHOLD = 0

    low = manager_client.get(CHANGELIST, {"store": chain["branch"].pk, "low_stock": "yes"})
    rest = manager_client.get(CHANGELIST, {"store": chain["branch"].pk, "low_stock": "no"})

    assert _listed(low) == []
    assert len(_listed(rest)) == 5


def test_a_store_the_user_does_not_see_lists_nothing(manager_client, manager_user, chain):
    manager_user.stores.set([chain["branch"]])

    assert _listed(manager_client.get(CHANGELIST, {"store": chain["main"], "low_stock": "yes"})) == []
    assert [
        name for name, _ in _listed(manager_client.get(CHANGELIST, {"store": chain["branch"].pk, "low_stock": "yes"}))
    ] == [
        "Basmati",
        "Cumin",
        "Ghee",
    ]


@pytest.mark.parametrize("low", [None, "yes"])
def test_a_stores_page_costs_the_same_queries_with_5_or_40_products(manager_client, chain, low):
    params = {"store": chain["branch"].pk, "is_active__exact": 1, **({"low_stock": low} if low else {})}
    with CaptureQueriesContext(connection) as few:
        manager_client.get(CHANGELIST, params)
    for n in range(35):
        ProductFactory(name=f"Zz {n}", stock=n % 10)

    with CaptureQueriesContext(connection) as many:
        response = manager_client.get(CHANGELIST, params)

    assert response.status_code == 200 and len(response.context["cl"].result_list) >= 35
    assert len(many) == len(few)


# --- Plans (PostgreSQL): the filter reads the store's rows, not a sum per product -------------------------


def _plan(queryset) -> str:
    """The plan of ``queryset``'s SQL with sequential scans priced out (an empty table makes them
    cheapest): what is left is what the indexes can serve."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
    return plan


@pytest.mark.parametrize("low", ["yes", "no"])
def test_the_low_stock_filter_at_a_store_reads_its_rows_by_their_index(postgres_only, chain, superuser, low):
    request = RequestFactory().get(CHANGELIST, {"store": chain["branch"].pk, "low_stock": low})
    request.user = superuser
    changelist = site.get_model_admin(Product).get_changelist_instance(request)  # the page's queryset

    plan = _plan(changelist.queryset.order_by())

    # The filter: the store's rows, through the (store, product) index, joined to the products; a
    # SubPlan left is the page's stock column, never a sum computed for every product to filter it.
    assert "storestock_one_per_store_product" in plan, plan
    conditions = [line for line in plan.splitlines() if "Filter:" in line or "Cond:" in line]
    assert not any("SubPlan" in line for line in conditions), plan


# --- The page's HTML: the rows written without a template per input are Django's ---------------------


def _without_csrf(response) -> str:
    assert response.status_code == 200
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


@pytest.mark.parametrize("low", [None, "yes"])
def test_the_rows_are_the_html_djangos_own_admin_writes(manager_client, chain, monkeypatch, low):
    params = {"store": chain["branch"].pk, **({"low_stock": low} if low else {})}
    fast = _without_csrf(manager_client.get(CHANGELIST, params))
    product_admin = type(site.get_model_admin(Product))
    for name in ("get_changelist", "get_changelist_formset", "action_checkbox"):
        monkeypatch.setattr(product_admin, name, getattr(ModelAdmin, name))

    djangos = _without_csrf(manager_client.get(CHANGELIST, params))

    assert fast == djangos
    assert "_changelist_filters=store%3D" in fast and 'name="form-0-price"' in fast


@pytest.mark.parametrize(
    ("low", "page"),
    [(None, 1), (None, 2), (None, 3), ("yes", 1), ("yes", 2), ("yes", 3)],
)
def test_each_page_of_the_list_is_the_one_djangos_own_list_shows(manager_client, chain, monkeypatch, low, page):
    # Two rows a page: the stock page (5 products) and the low-stock list (3) have a last page that is
    # not full; the low-stock list's page 3 is past its end (Django's redirect, the same).
    product_admin = type(site.get_model_admin(Product))
    monkeypatch.setattr(product_admin, "list_per_page", 2)
    params = {"store": chain["branch"].pk, "p": page, **({"low_stock": low} if low else {})}
    ours = manager_client.get(CHANGELIST, params)
    for name in ("get_changelist", "get_changelist_formset", "action_checkbox"):
        monkeypatch.setattr(product_admin, name, getattr(ModelAdmin, name))

    djangos = manager_client.get(CHANGELIST, params)

    assert ours.status_code == djangos.status_code
    if djangos.status_code == 200:
        assert _without_csrf(ours) == _without_csrf(djangos)
        assert ours.context["cl"].result_count == djangos.context["cl"].result_count
    else:
        assert ours["Location"] == djangos["Location"]


def _selects(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith("SELECT") and "catalog_product" in q["sql"]]


def test_the_low_stock_list_finds_its_products_once_for_its_count_and_its_page(manager_client, chain, monkeypatch):
    monkeypatch.setattr(type(site.get_model_admin(Product)), "list_per_page", 2)
    with CaptureQueriesContext(connection) as queries:
        response = manager_client.get(CHANGELIST, {"store": chain["branch"].pk, "low_stock": "yes"})

    assert _listed(response) == [("Basmati", 4), ("Cumin", 0)]
    assert response.context["cl"].result_count == 3
    # The store's rows are read by two queries: the page's ids with the count, and the page's two
    # products by their ids (each product's stock there, and the filter again for just those).
    reading_stock = [sql for sql in _selects(queries) if "catalog_storestock" in sql]
    assert len(reading_stock) == 2, reading_stock
    assert "OVER ()" in reading_stock[0]
    assert not any(sql.startswith("SELECT COUNT(*)") for sql in reading_stock), reading_stock


def _product_counts(queries) -> list[str]:
    return [sql for sql in _selects(queries) if sql.startswith("SELECT COUNT(*)")]


@pytest.mark.parametrize("store", ["branch", None])
def test_a_page_of_every_product_counts_them_once(manager_client, chain, store):
    # Its count is the products' total, which Django's list counts again for "N total".
    with CaptureQueriesContext(connection) as queries:
        response = manager_client.get(CHANGELIST, {"store": chain["branch"].pk} if store else {})

    cl = response.context["cl"]
    assert cl.result_count == cl.full_result_count == 5
    assert len(_product_counts(queries)) == 1, _product_counts(queries)


@pytest.mark.parametrize(
    "params",
    [
        {"store": "branch"},
        {},
        {"store": "branch", "is_active__exact": 1},
        {"store": "branch", "q": "a"},
        {"store": "branch", "low_stock": "no"},
        {"store": "branch", "o": "2"},
        {"store": "unseen"},
        {"store": "nonsense"},
    ],
)
def test_the_lists_counts_are_djangos(manager_client, manager_user, chain, monkeypatch, params):
    unseen = StoreFactory(code="XX")
    stores = {"branch": chain["branch"].pk, "unseen": unseen.pk, "nonsense": "x1"}
    params = {**params, **({"store": stores[params["store"]]} if "store" in params else {})}
    ours = manager_client.get(CHANGELIST, params).context["cl"]
    monkeypatch.setattr(type(site.get_model_admin(Product)), "get_changelist", ModelAdmin.get_changelist)

    djangos = manager_client.get(CHANGELIST, params).context["cl"]

    assert (ours.result_count, ours.full_result_count) == (djangos.result_count, djangos.full_result_count)
    assert [p.pk for p in ours.result_list] == [p.pk for p in djangos.result_list]


def _unsorted_plan(queryset) -> str:
    """The plan of ``queryset``'s SQL with sequential scans and sorts priced out: an order that no
    index serves still sorts."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
        cursor.execute("RESET enable_sort")
    return plan


def _page_plan(params, superuser) -> str:
    request = RequestFactory().get(CHANGELIST, params)
    request.user = superuser
    changelist = site.get_model_admin(Product).get_changelist_instance(request)
    return _unsorted_plan(changelist.result_list)


@pytest.mark.parametrize("active", [None, 1])
def test_a_stores_page_is_read_in_its_order_by_the_name_order_index(postgres_only, chain, superuser, active):
    params = {"store": chain["branch"].pk, **({"is_active__exact": active} if active else {})}

    plan = _page_plan(params, superuser)

    assert "product_name_order" in plan, plan
    assert "Sort" not in plan, plan


@pytest.mark.parametrize("params", [{"q": "Atta"}, {"o": "2"}])
def test_a_search_or_another_order_leaves_the_name_order_index_alone(postgres_only, chain, superuser, params):
    assert "product_name_order" not in _page_plan(params, superuser)


def test_an_order_by_the_name_itself_cannot_walk_the_name_order_index(postgres_only, chain):
    # The searches ordered by name (the billing page's suggestions, the API's ?search=) keep their
    # trigram indexes: a walk of the names in order would read most of them to find a late name.
    queryset = Product.objects.filter(name__icontains="a").order_by("name", "id")[:50]

    assert "product_name_order" not in _unsorted_plan(queryset)


@pytest.mark.parametrize("errors", [[], ["Enter a number."]])
def test_a_cells_error_list_is_what_djangos_renderer_writes(errors):
    ours = ErrorList(errors, renderer=DIRECT_INPUTS, field_id="id_form-0-price")
    djangos = ErrorList(errors, renderer=DjangoTemplates(), field_id="id_form-0-price")

    assert str(ours) == str(djangos)
    assert (str(ours) == "") == (not errors)


@pytest.mark.parametrize("threshold", [0, 1, 5, D("5.999"), 6, 50])
def test_stock_below_is_every_product_whose_sum_is_below_the_threshold(chain, threshold):
    # Ghee has 1 at MAIN and 4.999 at the branch: below 5 at each store, 5.999 in all.
    for stores in (None, chain["main"], [chain["main"]], [chain["branch"].pk], [chain["main"], chain["branch"].pk]):
        products = Product.objects.with_stock(stores)
        expected = sorted(p.name for p in products if p.stock < threshold)

        assert sorted(products.stock_below(threshold, stores).values_list("name", flat=True)) == expected


def test_the_admin_index_reads_its_low_stock_list_without_jit(manager_client, chain, postgres_only):
    with CaptureQueriesContext(connection) as ctx:
        response = manager_client.get("/admin/")

    assert [p.name for p in response.context["low_stock"]] == ["Cumin"]
    sqls = [q["sql"] for q in ctx.captured_queries]
    jit_off = [i for i, sql in enumerate(sqls) if "set_config('jit', 'off', true)" in sql]
    low_stock = [i for i, sql in enumerate(sqls) if "CASE WHEN EXISTS" in sql]
    assert len(jit_off) == 1 and len(low_stock) == 2 and all(i > jit_off[0] for i in low_stock)


def test_a_page_of_products_is_found_before_their_stock_is_summed(manager_client, chain, monkeypatch):
    from catalog.admin import ProductAdmin

    monkeypatch.setattr(ProductAdmin, "list_per_page", 2)
    pages, summed = [], []
    for p in (1, 2, 3):
        with CaptureQueriesContext(connection) as ctx:
            pages.append(_listed(manager_client.get(CHANGELIST, {"p": p})))
        summed += [q["sql"] for q in ctx.captured_queries if "catalog_storestock" in q["sql"]]

    # Every store's stock summed, in name order, two a page.
    assert pages == [[("Atta", 32), ("Basmati", 44)], [("Cumin", 0), ("Dal", 14)], [("Ghee", D("5.999"))]]
    # Summed in a query of the page's ids only, never for the products an OFFSET passes over.
    assert len(summed) == 3 and all(" IN (" in sql and "OFFSET" not in sql for sql in summed)


def test_an_empty_low_stock_list_reads_the_stock_once(manager_client, chain):
    Product.objects.filter(pk=chain["Cumin"].pk).update(is_active=False)  # the one low product of every store

    with CaptureQueriesContext(connection) as ctx:
        response = manager_client.get(CHANGELIST, {"low_stock": "yes", "is_active__exact": 1})

    assert _listed(response) == [] and response.context["cl"].result_count == 0
    assert len([q for q in ctx.captured_queries if "catalog_storestock" in q["sql"]]) == 1
