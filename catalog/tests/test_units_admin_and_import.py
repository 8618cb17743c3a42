"""Units and codes in the admin (editable, decimal stock shown as people write it) and in stock files
(`seed_stock`: an optional `unit` column, decimal stock for weighed products)."""

from decimal import Decimal

import pytest

from catalog.models import Product
from catalog.tests.factories import ProductFactory
from catalog.tests.helpers import (
    ADD,
    HEADER,
    change_url,
    product_form,
    run,
    run_failing,
    write,
)

pytestmark = pytest.mark.django_db

D = Decimal


# --- The admin --------------------------------------------------------------------------------------


def test_the_admin_adds_a_weighed_product_with_its_codes(manager_client):
    response = manager_client.post(
        ADD, product_form(unit="kg", stock="12.5", barcode="4006381333931", plu="12345", sku="SUGAR")
    )
    assert response.status_code == 302
    product = Product.objects.get()
    assert (product.unit, product.stock, product.barcode, product.plu) == ("kg", D("12.500"), "4006381333931", "12345")


def test_the_admin_refuses_a_fraction_of_an_each_product_and_a_bad_barcode(manager_client):
    # A fraction of an each product is the service's refusal too, shown as a message.
    response = manager_client.post(ADD, product_form(stock="1.5"), follow=True)
    assert any("whole" in str(m).lower() or "fraction" in str(m).lower() for m in response.context["messages"])
    # The check digit is the service's: its refusal becomes a message.
    response = manager_client.post(ADD, product_form(barcode="4006381333932"), follow=True)
    assert "The barcode's check digit is wrong." in [str(m) for m in response.context["messages"]]
    assert not Product.objects.exists()


def test_the_admin_shows_stock_as_people_write_it(manager_client):
    sugar = ProductFactory(name="Sugar", unit="kg", stock=D("12.500"))
    pen = ProductFactory(name="Pen", stock=7)
    html = manager_client.get(change_url(sugar)).content.decode()
    assert "12.5 kg" in html and 'name="stock"' not in html  # read-only: the ledger changes it
    html = manager_client.get(change_url(pen)).content.decode()
    assert 'name="stock"' not in html


def test_a_form_without_the_unit_keeps_the_products_own(manager_client):
    sugar = ProductFactory(name="Sugar", unit="kg", price=D("48.00"), stock=D("1.250"))
    response = manager_client.post(
        change_url(sugar), product_form(sku=sugar.sku, name="Sugar", price="50.00", stock="1.25")
    )
    assert response.status_code == 302
    sugar.refresh_from_db()
    assert (sugar.unit, sugar.stock, sugar.price) == ("kg", D("1.250"), D("50.00"))


# --- Stock files ------------------------------------------------------------------------------------


def test_a_unit_column_makes_weighed_products_with_decimal_stock(tmp_path):
    path = write(
        tmp_path,
        "stock.csv",
        "sku,name,price,tax_percent,stock,unit\nSUGAR,Sugar,48,5,25.5,kg\nPEN,Pen,10,18,4,\nOIL,Oil,180,5,2.25,L\n",
    )
    run(path)
    assert {p.sku: (p.unit, p.stock) for p in Product.objects.all()} == {
        "SUGAR": ("kg", D("25.500")),
        "PEN": ("each", D("4.000")),
        "OIL": ("l", D("2.250")),
    }
    # Adding to a weighed product's stock names its unit; without it, stock is a whole number.
    run(write(tmp_path, "more.csv", "sku,name,price,tax_percent,stock,unit\nSUGAR,Sugar,48,5,0.125,kg\n"))
    assert Product.objects.get(sku="SUGAR").stock == D("25.625")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("SUGAR,Sugar,48,5,1.2345,kg", "stock: '1.2345' has more than 3 decimal places"),
        ("SUGAR,Sugar,48,5,1,dozen", "unit: 'dozen' is not one of each, kg, g, l, ml, m"),
        ("PEN,Pen,10,18,1.5,each", "stock: '1.5' is not a whole number"),
    ],
)
def test_bad_units_and_quantities_are_row_errors(tmp_path, row, message):
    _, err = run_failing(write(tmp_path, "bad.csv", "sku,name,price,tax_percent,stock,unit\n" + row + "\n"))
    assert message in err
    assert not Product.objects.exists()


def test_an_existing_product_keeps_its_unit(tmp_path):
    ProductFactory(sku="SUGAR", name="Sugar", unit="kg", price=D("48.00"), tax_percent=D("5"), stock=D("1.000"))
    message, err = run_failing(
        write(tmp_path, "bad.csv", "sku,name,price,tax_percent,stock,unit\nSUGAR,Sugar,48,5,1,g\n")
    )
    assert "unit: SUGAR is sold by kg; change its unit in the admin" in err + message
    assert Product.objects.get().stock == D("1.000")
    # Without the unit column, a whole number is added to it as before.
    run(write(tmp_path, "more.csv", HEADER + "SUGAR,Sugar,48,5,2\n"))
    assert Product.objects.get().stock == D("3.000")
