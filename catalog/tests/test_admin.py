from decimal import Decimal

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from billing_project.core.errors import ValidationFailed
from catalog.models import Product
from catalog.tests.factories import ProductFactory
from catalog.tests.helpers import ADD, CHANGELIST, change_url, list_edit_form, product_form
from purchases.tests.factories import purchase_for

pytestmark = pytest.mark.django_db

IMPORT = reverse("admin:catalog_product_import")


def delete_url(product):
    return reverse("admin:catalog_product_delete", args=[product.pk])


@pytest.mark.parametrize("page", ["changelist", "change", "add", "import", "delete"])
def test_every_product_page_renders_for_a_manager(manager_client, page):
    product = ProductFactory()
    url = {
        "changelist": CHANGELIST,
        "change": change_url(product),
        "add": ADD,
        "import": IMPORT,
        "delete": delete_url(product),
    }[page]

    response = manager_client.get(url)

    assert response.status_code == 200


def test_changelist_shows_the_columns_and_editable_price_and_stock_for_a_manager(manager_client):
    product = ProductFactory(sku="RICE-1", name="Rice", price=Decimal("60.00"), tax_percent=Decimal("5.00"), stock=9)

    response = manager_client.get(CHANGELIST)

    html = response.content.decode()
    assert [c["text"] for c in response.context["result_headers"]][1:] == [
        "name",
        "sku",
        "price",
        "MRP",
        "tax",
        "stock",
        "unit",
        "is active",
    ]
    assert "RICE-1" in html
    assert 'name="form-0-price"' in html
    assert 'name="form-0-stock"' not in html  # stock changes only through the ledger
    assert product.name in html


def test_cashier_sees_products_read_only(cashier_client):
    ProductFactory()

    response = cashier_client.get(CHANGELIST)

    assert response.status_code == 200
    assert 'name="form-0-price"' not in response.content.decode()


@pytest.mark.parametrize("page", ["add", "import", "delete"])
def test_cashier_cannot_reach_product_pages_that_write(cashier_client, page):
    product = ProductFactory()
    url = {"add": ADD, "import": IMPORT, "delete": delete_url(product)}[page]

    assert cashier_client.get(url).status_code == 403
    assert cashier_client.post(url, {"post": "yes"}).status_code == 403
    assert Product.objects.filter(pk=product.pk).exists()


def test_cashier_cannot_change_price_or_stock(cashier_client):
    product = ProductFactory(price=Decimal("10.00"), stock=5)

    change = cashier_client.post(change_url(product), product_form(sku=product.sku, price="1.00", stock="500"))
    listed = cashier_client.post(CHANGELIST, list_edit_form((product, "1.00", "500")))

    assert change.status_code == 403
    assert listed.status_code == 403
    product.refresh_from_db()
    assert (product.price, product.stock) == (Decimal("10.00"), 5)


def spy_on(monkeypatch, name):
    """Record the calls to ``catalog.admin.<name>`` while still calling the real service."""
    import catalog.admin

    real, calls = getattr(catalog.admin, name), []

    def spy(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(catalog.admin, name, spy)
    return calls


def test_add_product_goes_through_the_service(manager_client, monkeypatch):
    calls = spy_on(monkeypatch, "product_create")

    response = manager_client.post(ADD, product_form(sku="  TEA-1  ", name="  Green tea "))

    assert response.status_code == 302
    assert len(calls) == 1
    product = Product.objects.get()
    assert (product.sku, product.name, product.price, product.tax_percent, product.stock) == (
        "TEA-1",
        "Green tea",
        Decimal("120.50"),
        Decimal("5.00"),
        12,
    )


def test_add_product_with_a_used_sku_is_a_form_error(manager_client):
    ProductFactory(sku="TEA-1")

    response = manager_client.post(ADD, product_form(sku="TEA-1"))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert Product.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value"), [("price", "0"), ("price", "1.234"), ("tax_percent", "101"), ("stock", "-1"), ("name", "")]
)
def test_invalid_product_is_a_form_error_and_nothing_is_written(manager_client, field, value):
    response = manager_client.post(ADD, product_form(**{field: value}))

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Product.objects.exists()


def test_change_product_writes_only_the_changed_fields_through_the_service(manager_client, monkeypatch):
    product = ProductFactory(name="Tea", price=Decimal("10.00"), stock=5)
    calls = spy_on(monkeypatch, "product_update")

    response = manager_client.post(
        change_url(product), product_form(sku=product.sku, name="Tea", price="12.00", tax_percent="18", stock="5")
    )

    assert response.status_code == 302
    assert [sorted(set(call) - {"product"}) for call in calls] == [["price"]]
    product.refresh_from_db()
    assert (product.price, product.stock) == (Decimal("12.00"), 5)


def test_price_edited_from_the_list_and_a_stock_sent_with_it_is_ignored(manager_client):
    first, second = ProductFactory(price=Decimal("10.00"), stock=5), ProductFactory(price=Decimal("20.00"), stock=6)

    response = manager_client.post(
        CHANGELIST, list_edit_form((first, "11.50", "5"), (second, "20.00", "60")), follow=True
    )

    assert response.status_code == 200
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.price, first.stock) == (Decimal("11.50"), 5)
    assert (second.price, second.stock) == (Decimal("20.00"), 6)


@pytest.mark.parametrize(("price", "stock"), [("-1", "5"), ("0.001", "5")])
def test_invalid_list_edit_shows_errors_inline_and_writes_nothing(manager_client, price, stock):
    product = ProductFactory(price=Decimal("10.00"), stock=5)
    other = ProductFactory(price=Decimal("30.00"), stock=7)

    response = manager_client.post(CHANGELIST, list_edit_form((other, "31.00", "8"), (product, price, stock)))

    assert response.status_code == 200
    assert response.context["cl"].formset.errors[1]
    assert 'class="errorlist' in response.content.decode()
    product.refresh_from_db()
    other.refresh_from_db()
    assert (product.price, product.stock, other.price, other.stock) == (Decimal("10.00"), 5, Decimal("30.00"), 7)


def test_archive_and_unarchive_actions(manager_client):
    products = ProductFactory.create_batch(2)
    ids = [str(p.pk) for p in products]

    manager_client.post(CHANGELIST, {"action": "archive", "_selected_action": ids})
    archived = list(Product.objects.order_by("pk").values_list("is_active", flat=True))
    manager_client.post(CHANGELIST, {"action": "unarchive", "_selected_action": ids[:1]})
    after = list(Product.objects.order_by("pk").values_list("is_active", flat=True))

    assert archived == [False, False]
    assert after == [True, False]


def test_cashier_cannot_archive(cashier_client):
    product = ProductFactory()

    cashier_client.post(CHANGELIST, {"action": "archive", "_selected_action": [str(product.pk)]})

    assert Product.objects.get(pk=product.pk).is_active


def test_delete_removes_a_product_that_is_on_no_bill(manager_client):
    product = ProductFactory()

    response = manager_client.post(delete_url(product), {"post": "yes"})

    assert response.status_code == 302
    assert not Product.objects.filter(pk=product.pk).exists()


def test_delete_archives_a_product_that_is_on_a_bill(manager_client):
    product = ProductFactory(stock=10)
    purchase_for(product)

    page = manager_client.get(delete_url(product))
    response = manager_client.post(delete_url(product), {"post": "yes"}, follow=True)

    assert "archived instead of deleted" in page.content.decode()
    assert response.status_code == 200
    assert "archived instead of deleted" in response.content.decode()
    assert Product.objects.get(pk=product.pk).is_active is False
    entry = LogEntry.objects.get(object_id=str(product.pk))
    assert (entry.action_flag, entry.change_message) == (CHANGE, "Archived instead of deleted: it is on a bill.")


def test_a_domain_error_while_saving_becomes_a_message_and_writes_nothing(manager_client, monkeypatch):
    import catalog.admin

    def taken_meanwhile(**kwargs):
        Product.objects.create(sku="RACE", name="written then rolled back", price=Decimal("1.00"))
        raise ValidationFailed("That SKU is already used.")

    monkeypatch.setattr(catalog.admin, "product_create", taken_meanwhile)

    response = manager_client.post(ADD, product_form(sku="TEA-1"), follow=True)

    assert response.status_code == 200
    assert "That SKU is already used." in [str(m) for m in response.context["messages"]]
    assert not Product.objects.exists()
    assert not LogEntry.objects.exists()


def test_changelist_query_count_does_not_grow_with_products(manager_client, django_assert_max_num_queries):
    ProductFactory.create_batch(30)

    with django_assert_max_num_queries(12):
        response = manager_client.get(CHANGELIST)

    assert len(response.context["cl"].result_list) == 30


def test_low_stock_filter_uses_the_setting(manager_client, settings):
    settings.LOW_STOCK_THRESHOLD = 5
    ProductFactory(name="Low", stock=4)
    ProductFactory(name="Edge", stock=5)
    ProductFactory(name="Plenty", stock=50)

    low = manager_client.get(CHANGELIST, {"low_stock": "yes"})
    not_low = manager_client.get(CHANGELIST, {"low_stock": "no"})

    assert [p.name for p in low.context["cl"].result_list] == ["Low"]
    assert sorted(p.name for p in not_low.context["cl"].result_list) == ["Edge", "Plenty"]


def test_active_filter(manager_client):
    ProductFactory(name="On sale")
    ProductFactory(name="Archived", is_active=False)

    response = manager_client.get(CHANGELIST, {"is_active__exact": "0"})

    assert [p.name for p in response.context["cl"].result_list] == ["Archived"]


@pytest.mark.parametrize(("term", "expected"), [("rice", ["Basmati rice"]), ("OIL-9", ["Sunflower oil"])])
def test_search_by_name_or_sku(manager_client, term, expected):
    ProductFactory(name="Basmati rice", sku="RICE-1")
    ProductFactory(name="Sunflower oil", sku="OIL-9")

    response = manager_client.get(CHANGELIST, {"q": term})

    assert [p.name for p in response.context["cl"].result_list] == expected


def upload(name: str, content: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode(), content_type="text/csv")


def test_import_a_csv_file_from_the_admin(manager_client):
    ProductFactory(sku="A1", name="Old", stock=3)
    content = "sku,name,price,tax_percent,stock\nA1,Rice,60.00,5,10\nB2,Tea,120,12,4\n"

    response = manager_client.post(IMPORT, {"file": upload("stock.csv", content)})

    assert response.status_code == 302
    assert {p.sku: (p.name, p.stock) for p in Product.objects.all()} == {"A1": ("Rice", 13), "B2": ("Tea", 4)}


def test_import_with_a_bad_row_shows_its_line_and_writes_nothing(manager_client):
    content = "sku,name,price,tax_percent,stock\nA1,Rice,60.00,5,10\nB2,Tea,-1,12,4\n"

    response = manager_client.post(IMPORT, {"file": upload("stock.csv", content)})

    assert response.status_code == 200
    assert "line 3: price" in response.content.decode()
    assert not Product.objects.exists()


def test_partial_import_from_the_admin_writes_the_good_rows(manager_client):
    content = "sku,name,price,tax_percent,stock\nA1,Rice,60.00,5,10\nB2,Tea,-1,12,4\n"

    response = manager_client.post(IMPORT, {"file": upload("stock.csv", content), "partial": "on", "set_stock": "on"})

    assert response.status_code == 200
    assert "line 3: price" in response.content.decode()
    assert list(Product.objects.values_list("sku", "stock")) == [("A1", 10)]


def test_import_of_an_unknown_file_type_is_a_form_error(manager_client):
    response = manager_client.post(IMPORT, {"file": upload("stock.xlsx", "x")})

    assert response.status_code == 200
    assert "file" in response.context["form"].errors
