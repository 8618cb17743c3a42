import io
import json
from decimal import Decimal

import pytest

from catalog.models import MAX_STOCK, Product
from catalog.tests.factories import ProductFactory
from catalog.tests.helpers import HEADER, run, run_failing, write

pytestmark = pytest.mark.django_db


def products():
    return {p.sku: (p.name, p.price, p.tax_percent, p.stock, p.is_active) for p in Product.objects.all()}


def test_csv_creates_products(tmp_path):
    path = write(tmp_path, "stock.csv", HEADER + "RICE-1,Rice 1 kg,60.00,5,10\nTEA-1,Tea,120.5,12,4\n")

    out, err = run(path)

    assert products() == {
        "RICE-1": ("Rice 1 kg", Decimal("60.00"), Decimal("5.00"), 10, True),
        "TEA-1": ("Tea", Decimal("120.50"), Decimal("12.00"), 4, True),
    }
    assert "Created 2, updated 0, unchanged 0, skipped 0 bad row(s)" in out
    assert err == ""


def test_bad_rows_are_reported_with_their_line_numbers_and_nothing_is_written(tmp_path):
    content = (
        HEADER  # line 1
        + "A1,Rice,60.00,5,10\n"  # line 2: good
        + 'A2,"Soap\nbar",40,18,x\n'  # lines 3-4: bad stock; the record starts on line 3
        + "\n"  # line 5: blank
        + "A3,Oil,0,18,3\n"  # line 6: bad price
        + "A1,Again,1,1,1\n"  # line 7: duplicate SKU
        + "A5,Tea,1.234,101,-2\n"  # line 8: three problems
        + ",No sku,10,5,1\n"  # line 9: no SKU
        + "A6,Salt,10,5\n"  # line 10: a field short
    )
    path = write(tmp_path, "stock.csv", content)

    message, err = run_failing(path)

    assert "6 bad row(s); nothing was written" in message
    assert err.splitlines() == [
        "line 3: name: Remove the invisible or control character (U+000A).; stock: 'x' is not a whole number",
        "line 6: price: must be greater than 0 and less than 10000000000",
        "line 7: sku 'A1' is also on line 2",
        "line 8: price: '1.234' has more than 2 decimal places; tax_percent: must be between 0 and 100; "
        "stock: must be between 0 and 2147483647",
        "line 9: sku: is required",
        "line 10: has 4 fields, but the header has 5",
    ]
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("A1,,10,5,1", "name: is required"),
        ("A1,Rice,,5,1", "price: is required"),
        ("A1,Rice,abc,5,1", "price: 'abc' is not a number"),
        ("A1,Rice,NaN,5,1", "price: 'NaN' is not a number"),
        ("A1,Rice,-5,5,1", "price: must be greater than 0"),
        ("A1,Rice,10000000000,5,1", "price: must be greater than 0"),
        ("A1,Rice,1e30,5,1", "price: must be greater than 0"),
        ("A1,Rice,10,1e-30,1", "tax_percent: '1e-30' has more than 2 decimal places"),
        ("A1,Rice,10,5,1e3", "stock: '1e3' is not a whole number"),
        ("A1,Rice,10,-1,1", "tax_percent: must be between 0 and 100"),
        ("A1,Rice,10,5.555,1", "tax_percent: '5.555' has more than 2 decimal places"),
        ("A1,Rice,10,5,2.5", "stock: '2.5' is not a whole number"),
        ("A1,Rice,10,5,", "stock: is required"),
        ("A1,Rice,10,5,2147483648", "stock: must be between 0 and 2147483647"),
        ("A1," + "n" * 201 + ",10,5,1", "name: is longer than 200 characters"),
        ("S" * 65 + ",Rice,10,5,1", "sku: is longer than 64 characters"),
    ],
)
def test_each_field_is_validated(tmp_path, row, message):
    path = write(tmp_path, "stock.csv", HEADER + row + "\n")

    _, err = run_failing(path)

    assert err.startswith("line 2: ")
    assert message in err
    assert not Product.objects.exists()


def test_trailing_zeros_and_spaces_are_fine(tmp_path):
    path = write(tmp_path, "stock.csv", "SKU , Name ,Price,Tax_Percent,Stock\n A1 , Rice ,60.500, 5 , +7 \n")

    run(path)

    assert products() == {"A1": ("Rice", Decimal("60.50"), Decimal("5.00"), 7, True)}


def test_partial_writes_the_good_rows_and_reports_the_bad_ones(tmp_path):
    path = write(tmp_path, "stock.csv", HEADER + "A1,Rice,60,5,10\nA2,Tea,-1,5,1\nA3,Oil,150,18,2\n")

    out, err = run(path, "--partial")

    assert set(products()) == {"A1", "A3"}
    assert "line 3: price" in err
    assert "Created 2, updated 0, unchanged 0, skipped 1 bad row(s)" in out


def test_dry_run_writes_nothing_but_counts(tmp_path):
    ProductFactory(sku="A1", name="Rice", stock=3)
    path = write(tmp_path, "stock.csv", HEADER + "A1,Rice,60,5,10\nA2,Tea,10,5,1\n")

    out, _ = run(path, "--dry-run")

    assert "Would create 1, update 1" in out
    assert "Dry run: nothing was written." in out
    assert Product.objects.count() == 1
    assert Product.objects.get(sku="A1").stock == 3


def test_upsert_by_sku_adds_stock_by_default(tmp_path):
    existing = ProductFactory(sku="A1", name="Old name", price=Decimal("1.00"), stock=3, is_active=False)
    path = write(tmp_path, "stock.csv", HEADER + "A1,Rice,60,5,10\nB1,Tea,10,5,1\n")

    out, _ = run(path)

    existing.refresh_from_db()
    assert (existing.name, existing.price, existing.tax_percent, existing.stock) == (
        "Rice",
        Decimal("60.00"),
        Decimal("5.00"),
        13,
    )
    assert existing.is_active is False  # an archived product stays archived
    assert Product.objects.count() == 2
    assert "Created 1, updated 1" in out


def test_set_replaces_stock(tmp_path):
    ProductFactory(sku="A1", stock=30)
    path = write(tmp_path, "stock.csv", HEADER + "A1,Rice,60,5,10\n")

    run(path, "--set")

    assert Product.objects.get(sku="A1").stock == 10


def test_set_is_idempotent(tmp_path):
    path = write(tmp_path, "stock.csv", HEADER + "A1,Rice,60,5,10\nB1,Tea,10,5,1\n")

    run(path, "--set")
    first = products()
    out, _ = run(path, "--set")

    assert products() == first
    assert Product.objects.count() == 2
    assert "Created 0, updated 0, unchanged 2" in out


def test_adding_twice_adds_twice_without_duplicates(tmp_path):
    path = write(tmp_path, "stock.csv", HEADER + "A1,Rice,60,5,10\n")

    run(path)
    run(path)

    assert list(Product.objects.values_list("sku", "stock")) == [("A1", 20)]


def test_writes_in_batches(tmp_path):
    ProductFactory(sku="P0003", stock=1)
    rows = "".join(f"P{i:04d},Product {i},{i}.25,18,{i}\n" for i in range(1, 12))
    path = write(tmp_path, "stock.csv", HEADER + rows)

    out, _ = run(path, "--batch-size", "3")

    assert Product.objects.count() == 11
    assert Product.objects.get(sku="P0003").stock == 4
    assert Product.objects.get(sku="P0011").price == Decimal("11.25")
    assert "Created 10, updated 1" in out


def test_stock_overflow_when_adding_is_refused_with_its_line(tmp_path):
    ProductFactory(sku="A1", stock=MAX_STOCK - 5)
    path = write(tmp_path, "stock.csv", HEADER + "B1,Tea,10,5,1\nA1,Rice,60,5,10\n")

    message, err = run_failing(path)

    assert "refused; nothing was written" in message
    assert "line 3: stock:" in err
    assert not Product.objects.filter(sku="B1").exists()
    assert Product.objects.get(sku="A1").stock == MAX_STOCK - 5


def test_stock_overflow_with_partial_skips_the_row(tmp_path):
    ProductFactory(sku="A1", stock=MAX_STOCK - 5)
    path = write(tmp_path, "stock.csv", HEADER + "B1,Tea,10,5,1\nA1,Rice,60,5,10\n")

    out, err = run(path, "--partial")

    assert "line 3: stock:" in err
    assert Product.objects.filter(sku="B1").exists()
    assert Product.objects.get(sku="A1").stock == MAX_STOCK - 5
    assert "skipped 1 bad row(s)" in out


def test_plain_progress_lines_when_output_is_not_a_terminal(tmp_path):
    rows = "".join(f"P{i:04d},Product {i},10,18,1\n" for i in range(20))
    path = write(tmp_path, "stock.csv", HEADER + rows)

    out, _ = run(path, "--batch-size", "5")

    assert "progress: 20/20 rows (100%)" in out
    assert "\r" not in out


def test_json_file(tmp_path):
    records = [
        {"sku": "A1", "name": "Rice", "price": 60.5, "tax_percent": 5, "stock": 10},
        {"sku": "A2", "name": "Tea", "price": "120.00", "tax_percent": "12", "stock": "4"},
    ]
    path = write(tmp_path, "stock.json", json.dumps(records))

    run(path)

    assert products() == {
        "A1": ("Rice", Decimal("60.50"), Decimal("5.00"), 10, True),
        "A2": ("Tea", Decimal("120.00"), Decimal("12.00"), 4, True),
    }


def test_json_bad_records_are_reported_by_their_index(tmp_path):
    records = [
        {"sku": "A1", "name": "Rice", "price": "60", "tax_percent": 5, "stock": 10},
        {"sku": "A2", "name": "Tea", "price": 0.001, "tax_percent": 5, "stock": 1},
        "not an object",
        {"sku": "A1", "name": "Dup", "price": "1", "tax_percent": 5, "stock": 1},
        {"sku": "A4", "name": "Flag", "price": True, "tax_percent": 5, "stock": 1.5},
    ]
    path = write(tmp_path, "stock.json", json.dumps({"products": records}))

    _, err = run_failing(path)

    assert err.splitlines() == [
        "record 2: price: Decimal('0.001') has more than 2 decimal places",
        "record 3: is not an object",
        "record 4: sku 'A1' is also on record 1",
        "record 5: price: True is not a number; stock: Decimal('1.5') is not a whole number",
    ]
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("stock.xlsx", "x", "Unknown file type '.xlsx'"),
        ("stock.csv", "", "The file is empty"),
        ("stock.csv", "sku,name,price\nA1,Rice,1\n", "The header lacks tax_percent, stock"),
        ("stock.csv", "sku,name,price,tax_percent,stock,sku\n", "the header repeats sku"),
        ("stock.json", '[{"sku": "A1",', "Invalid JSON at line 1"),
        ("stock.json", '{"sku": "A1"}', "Expected a JSON list of products"),
        ("stock.json", '[{"price": NaN}]', "Invalid JSON"),
    ],
)
def test_unreadable_files_are_clear_errors(tmp_path, name, content, message):
    path = write(tmp_path, name, content)

    error, _ = run_failing(path)

    assert message in error


def test_missing_file(tmp_path):
    error, _ = run_failing(tmp_path / "nope.csv")

    assert "No such file" in error


def test_not_utf8(tmp_path):
    path = tmp_path / "stock.csv"
    path.write_bytes(HEADER.encode() + "A1,Caf\xe9,10,5,1\n".encode("latin-1"))

    error, _ = run_failing(path)

    assert "not UTF-8" in error
    assert not Product.objects.exists()


def test_extra_columns_are_ignored_with_a_warning(tmp_path):
    path = write(tmp_path, "stock.csv", "sku,name,price,tax_percent,stock,colour\nA1,Rice,10,5,1,red\n")

    _, err = run(path)

    assert "Ignored columns: colour" in err
    assert Product.objects.get().sku == "A1"


def test_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "stock.csv"
    path.write_bytes("\ufeff".encode() + (HEADER + "A1,Chai ☕,10,5,1\n").encode())

    run(path)

    assert Product.objects.get().name == "Chai ☕"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_bill_rung_up_during_an_import_keeps_its_stock_decrement(postgres_only):
    """The import locks the products it will change before reading their stock, so a bill for
    one of them waits for the import to commit instead of having its decrement overwritten."""
    import threading
    import time

    from django.db import connection

    from catalog.importing import parse_stream, product_import_rows
    from purchases.tests.factories import purchase_for

    product = ProductFactory(sku="A1", price=Decimal("10.00"), tax_percent=Decimal("0"), stock=10)
    parsed = parse_stream(io.StringIO(HEADER + "A1,Rice,10.00,0,5\n"), "csv")
    locked, release, errors = threading.Event(), threading.Event(), []

    def paused(_count):
        locked.set()
        release.wait(10)

    def run_in_thread(target):
        def run():
            try:
                target()
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                connection.close()

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    importer = run_in_thread(lambda: product_import_rows(rows=parsed.rows, progress=paused))
    assert locked.wait(10)
    biller = run_in_thread(lambda: purchase_for(Product.objects.get(pk=product.pk), quantity=1))
    time.sleep(0.5)  # the bill is now waiting for the product's row lock
    release.set()
    importer.join(10)
    biller.join(10)

    assert errors == []
    assert Product.objects.get(pk=product.pk).stock == 10 + 5 - 1
