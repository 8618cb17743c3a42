from decimal import Decimal

import pytest

from billing_project.core.errors import DomainError, ValidationFailed
from cashdrawer.errors import ChangeUnavailable, TenderMismatch
from cashdrawer.models import Denomination, DrawerMovement
from cashdrawer.tests.factories import drawer_with
from catalog.models import Product
from catalog.stores import default_store_id
from catalog.tests.factories import ProductFactory
from customers.models import Customer
from customers.tests.factories import CustomerFactory
from purchases.errors import InsufficientPayment, InsufficientStock, ProductInactive, ProductNotFound
from purchases.models import Purchase
from purchases.services import purchase_create
from purchases.tests.helpers import db_state, pieces

pytestmark = pytest.mark.django_db

D = Decimal


def test_bill_amounts_follow_the_money_rules(drawer):
    rice = ProductFactory(name="Rice", price=D("45.50"), tax_percent=D("5"), stock=10)
    oil = ProductFactory(name="Oil", price=D("199.99"), tax_percent=D("18"), stock=3)

    purchase = purchase_create(
        customer_email="Ann@Example.com",
        items=[{"product_id": rice.pk, "quantity": 3}, {"product_id": oil.pk, "quantity": 1}],
        paid_amount=D("500"),
    )

    purchase = Purchase.objects.get(pk=purchase.pk)
    # rice: 136.50 + 6.825 → 6.83 tax; oil: 199.99 + 35.9982 → 36.00 tax
    assert purchase.subtotal == D("336.49")
    assert purchase.tax_total == D("42.83")
    assert purchase.total == D("379.32")
    assert purchase.payable == D("379.00")  # rounded half-up to 1.00
    assert purchase.rounding == D("-0.32")
    assert purchase.change_due == D("121.00")
    lines = {line.product_name: line for line in purchase.items.all()}
    assert lines["Rice"].subtotal == D("136.50") and lines["Rice"].tax_amount == D("6.83")
    assert lines["Oil"].tax_amount == D("36.00") and lines["Oil"].total == D("235.99")
    assert Customer.objects.get().email == "ann@example.com"


@pytest.mark.parametrize(
    ("increment", "method", "expected_payable"),
    [
        ("1.00", "HALF_UP", "119"),
        ("1.00", "DOWN", "118"),
        ("1.00", "UP", "119"),
        ("0.50", "HALF_UP", "118.50"),
        ("0.05", "HALF_UP", "118.60"),
    ],
)
def test_payable_uses_the_cash_rounding_setting(settings, increment, method, expected_payable):
    from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP

    settings.CASH_ROUNDING_INCREMENT = D(increment)
    settings.CASH_ROUNDING_METHOD = {"HALF_UP": ROUND_HALF_UP, "DOWN": ROUND_DOWN, "UP": ROUND_UP}[method]
    drawer_with({"1": 5, "0.50": 2, "0.05": 10, "0.10": 10, "0.20": 5})
    product = ProductFactory(price=D("100.50"), tax_percent=D("18"))  # total 118.59

    purchase = purchase_create(
        customer_email="a@example.com", items=[{"product_id": product.pk, "quantity": 1}], paid_amount=D("120")
    )

    assert purchase.total == D("118.59")
    assert purchase.payable == D(expected_payable)
    assert purchase.rounding == D(expected_payable) - D("118.59")


def test_lines_for_the_same_product_are_combined(drawer):
    product = ProductFactory(stock=5, price=D("10"), tax_percent=D("0"))

    purchase = purchase_create(
        customer_email="a@example.com",
        items=[{"product_id": product.pk, "quantity": 2}, {"product_id": product.pk, "quantity": 3}],
        paid_amount=D("50"),
    )

    (line,) = purchase.items.all()
    assert line.quantity == 5
    assert Product.objects.get(pk=product.pk).stock == 0


def test_line_snapshot_survives_catalogue_changes(drawer):
    product = ProductFactory(name="Tea", price=D("80"), tax_percent=D("5"))
    purchase = purchase_create(
        customer_email="a@example.com", items=[{"product_id": product.pk, "quantity": 1}], paid_amount=D("84")
    )

    Product.objects.filter(pk=product.pk).update(name="Green tea", price=D("95"), tax_percent=D("12"))

    line = Purchase.objects.get(pk=purchase.pk).items.get()
    assert (line.product_name, line.unit_price, line.tax_percent) == ("Tea", D("80.00"), D("5.00"))


def test_tender_goes_into_the_drawer_and_change_comes_out(drawer):
    product = ProductFactory(price=D("120"), tax_percent=D("0"))

    purchase = purchase_create(
        customer_email="a@example.com",
        items=[{"product_id": product.pk, "quantity": 1}],
        paid_amount=D("1000"),
        tendered=[{"value": D("500"), "count": 2}],
    )

    assert purchase.change_due == D("880")
    counts = dict(Denomination.objects.values_list("value", "count"))
    # 880 = 500 + 200×1... fewest pieces from 500×6 (4 + 2 tendered), 200×5, 100×10, 50×4, 20×10, 10×10
    assert pieces(Purchase.objects.get(pk=purchase.pk).change) == {
        D("500"): 1,
        D("200"): 1,
        D("100"): 1,
        D("50"): 1,
        D("20"): 1,
        D("10"): 1,
    }
    assert counts[D("500")] == 4 + 2 - 1
    assert counts[D("200")] == 4
    movements = DrawerMovement.objects.filter(purchase=purchase)
    assert {(m.kind, m.denomination.value, m.delta) for m in movements} >= {
        ("tender_in", D("500"), 2),
        ("change_out", D("500"), -1),
    }


def test_drawer_counts_equal_the_sum_of_movements_after_bills(drawer):
    product = ProductFactory(price=D("37"), tax_percent=D("0"), stock=50)
    for paid in ("50", "100", "200"):
        purchase_create(
            customer_email="a@example.com",
            items=[{"product_id": product.pk, "quantity": 1}],
            paid_amount=D(paid),
            tendered=[{"value": D(paid), "count": 1}],
        )

    for denomination in Denomination.objects.all():
        assert denomination.count == sum(denomination.movements.values_list("delta", flat=True))
        assert denomination.count >= 0


def test_existing_customer_is_reused_case_insensitively(drawer):
    customer = CustomerFactory(email="bob@example.com")
    product = ProductFactory(price=D("10"), tax_percent=D("0"))

    purchase = purchase_create(
        customer_email="  BOB@example.COM ", items=[{"product_id": product.pk, "quantity": 1}], paid_amount=D("10")
    )

    assert purchase.customer_id == customer.pk
    assert Customer.objects.count() == 1


def test_greedy_is_not_enough_for_change():
    drawer_with({"50": 1, "20": 3})
    product = ProductFactory(price=D("40"), tax_percent=D("0"))

    purchase = purchase_create(
        customer_email="a@example.com", items=[{"product_id": product.pk, "quantity": 1}], paid_amount=D("100")
    )

    assert purchase.change == [{"value": D("20.00"), "count": 3}]


# --- Every refusal leaves the database exactly as it was -----------------------------------------


def _refusals(drawer):
    """(kwargs for purchase_create, expected error) for every kind of refusal."""
    product = ProductFactory(price=D("100"), tax_percent=D("18"), stock=2)
    archived = ProductFactory(is_active=False)
    line = [{"product_id": product.pk, "quantity": 1}]
    return [
        ({"items": [{"product_id": 999_999, "quantity": 1}], "paid_amount": D("200")}, ProductNotFound),
        ({"items": [{"product_id": archived.pk, "quantity": 1}], "paid_amount": D("200")}, ProductInactive),
        ({"items": [{"product_id": product.pk, "quantity": 3}], "paid_amount": D("500")}, InsufficientStock),
        ({"items": line, "paid_amount": D("117")}, InsufficientPayment),
        ({"items": line, "paid_amount": D("200"), "tendered": [{"value": D("100"), "count": 1}]}, TenderMismatch),
        ({"items": line, "paid_amount": D("200"), "tendered": [{"value": D("7"), "count": 1}]}, TenderMismatch),
        ({"items": line, "paid_amount": D("100000")}, ChangeUnavailable),
        ({"items": [], "paid_amount": D("200")}, ValidationFailed),
        ({"items": line, "paid_amount": D("200.001")}, ValidationFailed),
        ({"items": [{"product_id": product.pk, "quantity": 0}], "paid_amount": D("200")}, ValidationFailed),
    ]


@pytest.mark.parametrize("case", range(10))
def test_a_refusal_writes_nothing(drawer, case):
    kwargs, error = _refusals(drawer)[case]
    before = db_state()

    with pytest.raises(error) as info:
        purchase_create(customer_email="new.customer@example.com", **kwargs)

    assert isinstance(info.value, DomainError)
    assert db_state() == before
    assert not Customer.objects.filter(email="new.customer@example.com").exists()


def test_insufficient_stock_names_the_product_and_quantities(drawer):
    product = ProductFactory(stock=2)

    with pytest.raises(InsufficientStock) as info:
        purchase_create(
            customer_email="a@example.com", items=[{"product_id": product.pk, "quantity": 5}], paid_amount=D("1000")
        )

    assert info.value.details == {"product_id": product.pk, "available": 2, "requested": 5}
    assert info.value.status_code == 409


def test_a_failure_after_writes_rolls_everything_back(drawer, monkeypatch):
    """An unexpected error after the bill row was written still leaves nothing behind."""
    product = ProductFactory(stock=5, price=D("10"), tax_percent=D("0"))
    before = db_state()

    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("purchases.services.bill_statements.ledger_post_with", explode)
    with pytest.raises(RuntimeError):
        purchase_create(
            customer_email="x@example.com", items=[{"product_id": product.pk, "quantity": 1}], paid_amount=D("20")
        )

    assert db_state() == before


def test_the_bill_locks_its_stores_stock_rows_in_product_order_before_updating(drawer, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    products = [ProductFactory(price=D("10"), tax_percent=D("0")) for _ in range(3)]
    with CaptureQueriesContext(connection) as ctx:
        purchase_create(
            customer_email="a@example.com",
            items=[{"product_id": p.pk, "quantity": 1} for p in reversed(products)],
            paid_amount=D("30"),
        )

    sql = [q["sql"] for q in ctx.captured_queries]
    select_stock = next(i for i, s in enumerate(sql) if 'FROM "catalog_storestock"' in s and "SELECT" in s)
    update_stock = next(i for i, s in enumerate(sql) if 'UPDATE "catalog_storestock"' in s)
    select_drawer = next(i for i, s in enumerate(sql) if 'FROM "cashdrawer_denomination"' in s)
    assert select_stock <= update_stock
    assert select_stock < select_drawer
    assert 'ORDER BY "cashdrawer_denomination"."value" ASC' in sql[select_drawer]
    if connection.vendor == "postgresql":
        # One statement: its CTE locks the store's rows in product order, and the UPDATE waits for all.
        statement = sql[update_stock]
        assert select_stock == update_stock
        # At the store statement 1 read (its till's): its id, a parameter of the locking CTE.
        assert statement.startswith(
            f'WITH locked AS (SELECT s.id FROM "catalog_storestock" AS s WHERE s.store_id = {default_store_id()} AND '  # noqa: S608
        )
        assert 'locked AS (SELECT s.id FROM "catalog_storestock" AS s' in statement
        assert "ORDER BY s.product_id FOR UPDATE)" in statement
        assert "(SELECT count(*) FROM locked) = 3" in statement
    else:
        assert select_stock < update_stock
        assert 'ORDER BY "catalog_storestock"."product_id" ASC' in sql[select_stock]
    if connection.vendor == "postgresql":
        assert "FOR UPDATE" in sql[select_stock] and "FOR UPDATE" in sql[select_drawer]
