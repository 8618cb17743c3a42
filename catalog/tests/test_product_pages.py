"""The API's product list reads a page and its count in one pass (``PageAndCountPagination``): every
answer is the one DRF's own pagination gives, count, links and rows, on any page, search or filter."""

from decimal import Decimal

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing_project.core.api.pagination import PageAndCountPagination, PageAndCountPaginator, PageNumberPagination
from catalog.api import ProductViewSet
from catalog.models import Product, StoreStock
from catalog.tests.factories import ProductFactory, StoreFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/products"

QUERIES = [
    {},
    {"search": "rice"},
    {"search": "RICE", "page": "2"},
    {"search": "rice", "page": "3"},  # the last page, of one product
    {"search": "rice", "page": "4"},  # past the last page: 404
    {"search": "rice", "page_size": "2", "page": "5"},
    {"search": "rice", "page_size": "100"},
    {"search": "nothing like it"},  # no product: an empty first page
    {"search": "nothing like it", "page": "2"},
    {"is_active": "false"},
    {"is_active": "true", "search": "Oil"},
    {"page": "0"},
    {"page": "x"},
    {"page_size": "0"},
]


@pytest.fixture
def catalogue():
    store = StoreFactory()
    for n in range(21):  # 50 a page would need many more rows: pages of 10 (page_size)
        ProductFactory(name=f"Rice {n % 7} kg", sku=f"R-{n:02d}", stock=n, store=store.pk if n % 2 else None)
    for n in range(5):
        ProductFactory(name=f"Oil {n}", sku=f"OIL-{n}", is_active=n != 3, price=Decimal("99.50"))
    return store


def _answers(admin_api, pagination, queries):
    ProductViewSet.pagination_class = pagination
    try:
        return [admin_api.get(URL, {"page_size": "10", **query}) for query in queries]
    finally:
        ProductViewSet.pagination_class = PageAndCountPagination


@pytest.mark.parametrize("with_store", [False, True])
def test_every_page_is_drf_s_own(admin_api, catalogue, with_store):
    queries = [{**q, "store": str(catalogue.pk)} if with_store else q for q in QUERIES]

    drf = _answers(admin_api, PageNumberPagination, queries)
    ours = _answers(admin_api, PageAndCountPagination, queries)

    assert [r.status_code for r in ours] == [r.status_code for r in drf]
    assert [r.json() for r in ours] == [r.json() for r in drf]
    statuses = {r.status_code for r in ours}
    assert statuses == {200, 400, 404}  # the pages, a bad page_size, pages that are not there
    assert any(r.status_code == 200 and r.json()["next"] and r.json()["previous"] for r in ours)


def test_the_list_is_the_viewsets_pagination():
    assert ProductViewSet.pagination_class is PageAndCountPagination


def test_a_page_and_its_count_are_read_in_one_pass(admin_api, catalogue):
    with CaptureQueriesContext(connection) as queries:
        response = admin_api.get(URL, {"search": "rice", "page_size": "10", "page": "2"})

    body = response.json()
    assert body["count"] == 21 and len(body["results"]) == 10
    products = [q["sql"] for q in queries.captured_queries if '"catalog_product"' in q["sql"]]
    assert len(products) == 2, products  # the page's ids with the count, then its rows
    assert "OVER ()" in products[0] and not any("__count" in sql for sql in products)


def test_the_paginator_gives_djangos_pages_and_counts(catalogue):
    listed = Product.objects.filter(name__icontains="rice")
    for per_page in (1, 4, 10, 21, 50):
        ours, django = PageAndCountPaginator(listed, per_page), Paginator(listed, per_page)
        for number in range(1, django.num_pages + 1):
            assert list(ours.page(number)) == list(django.page(number))
            assert ours.count == django.count == 21


def test_a_distinct_list_is_counted_as_django_counts_it(catalogue):
    # The window would count the joined rows before DISTINCT: a distinct list is Django's own.
    for product in Product.objects.filter(name__startswith="Oil"):
        StoreStock.objects.create(store=catalogue, product=product, stock=1)  # a second store's row
    listed = Product.objects.filter(store_stock__stock__gte=0).distinct()
    page = PageAndCountPaginator(listed, 5).page(1)

    assert page.paginator.count == Paginator(listed, 5).count == Product.objects.count() == 26
    assert list(page) == list(Paginator(listed, 5).page(1))
