"""The shared database helpers."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.db.models.expressions import RawSQL
from django.db.transaction import TransactionManagementError

from billing_project.core.db import compiled_rows, guarded_add_then_insert, insert_rows, insert_with_children
from catalog.lock_objects import products_for_update
from catalog.models import Product, StoreStock
from catalog.tests.factories import ProductFactory
from customers.models import Customer

pytestmark = pytest.mark.django_db

D = Decimal


def test_insert_rows_writes_every_row_and_sets_the_keys_in_order():
    rows = [Customer(email=f"c{i}@example.com") for i in range(3)]

    returned = insert_rows(rows)

    assert returned == rows
    assert [c.email for c in Customer.objects.order_by("pk")] == ["c0@example.com", "c1@example.com", "c2@example.com"]
    for row in rows:
        stored = Customer.objects.get(pk=row.pk)
        assert (stored.email, stored.created_at) == (
            row.email,
            row.created_at,
        )  # auto_now_add filled in, as the ORM does
        assert row.created_at is not None
        assert row._state.adding is False


def test_insert_rows_of_nothing_writes_nothing():
    assert insert_rows([]) == []
    assert not Customer.objects.exists()


def row(product) -> int:
    """The product's stock row at the default store (where a factory puts its stock)."""
    return StoreStock.objects.values_list("pk", flat=True).get(product=product)


def test_guarded_add_then_insert_inserts_when_every_row_was_updated():
    a, b = ProductFactory(stock=5), ProductFactory(stock=2)
    rows = [Customer(email="x@example.com"), Customer(email="y@example.com")]

    assert guarded_add_then_insert(StoreStock, "stock", {row(a): -5, row(b): 3}, rows) == rows

    assert [p.stock for p in Product.objects.order_by("pk")] == [0, 5]
    assert [(c.pk, c.email) for c in Customer.objects.order_by("pk")] == [(r.pk, r.email) for r in rows]
    assert all(r.pk is not None and r._state.adding is False and r.created_at is not None for r in rows)


def test_guarded_add_then_insert_inserts_nothing_when_a_guard_refused_a_row():
    a, b = ProductFactory(stock=5), ProductFactory(stock=2)

    with transaction.atomic():
        assert (
            guarded_add_then_insert(StoreStock, "stock", {row(a): -1, row(b): -3}, [Customer(email="x@example.com")])
            is None
        )
        assert not Customer.objects.exists()  # the row that passed its guard is the caller's to roll back
        transaction.set_rollback(True)

    assert [p.stock for p in Product.objects.order_by("pk")] == [5, 2]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement form is PostgreSQL's")
def test_guarded_add_then_insert_keeps_the_columns_limits():
    from django.db import DataError

    product = ProductFactory(stock=5)
    too_long = Customer(email="x" * 300 + "@example.com")  # longer than the column: refused, not cut short

    with pytest.raises(DataError), transaction.atomic():
        guarded_add_then_insert(StoreStock, "stock", {row(product): -1}, [too_long])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="computed values are CTEs of one statement")
def test_writes_computed_values_take_the_rows_own_value_or_an_earlier_ctes():
    from billing_project.core.db import Writes, statement_cursor

    writes = Writes()
    first = writes.insert("first", [Customer(email="a@example.com")], computed={"email": "upper({value})"})
    second = writes.insert(
        "second",
        [Customer(email="b@example.com"), Customer(email="c@example.com")],
        computed={"name": "'after #' || (SELECT id FROM first)::text"},
    )
    with statement_cursor() as cursor:
        cursor.execute(f"WITH {writes.sql} SELECT {first.sql}, {second.sql}", writes.params)
        keys = cursor.fetchone()

    firsts, seconds = first.inserted(keys[0]), second.inserted(keys[1])
    assert firsts is not None and seconds is not None
    [a], (b, c) = firsts, seconds
    assert [(x.email, x.name) for x in Customer.objects.order_by("pk")] == [
        ("A@EXAMPLE.COM", None),
        ("b@example.com", f"after #{a.pk}"),
        ("c@example.com", f"after #{a.pk}"),
    ]
    assert [x.pk for x in Customer.objects.order_by("pk")] == [a.pk, b.pk, c.pk]


def _bill_lines_payment():
    """A new bill of two lines paid in cash, and its rows, none of them written."""
    from catalog.stores import default_store_id
    from purchases.models import Payment, PaymentMethod, Purchase, PurchaseItem

    products = [ProductFactory(price=D("10"), tax_percent=D("0")) for _ in range(2)]
    customer = insert_rows([Customer(email="c@example.com")])[0]
    bill = Purchase(
        customer=customer,
        store_id=default_store_id(),
        subtotal=D("30"),
        tax_total=D("0"),
        total=D("30"),
        rounding=D("0"),
    )
    bill.payable = bill.paid_amount = bill.cash_paid = D("30")
    bill.change_due = D("0")
    lines = [
        PurchaseItem(
            product=products[i - 1],
            product_name=f"line {i}",
            quantity=i,
            unit_price=D("10"),
            tax_percent=D("0"),
            gross=D(10 * i),
            subtotal=D(10 * i),
            tax_amount=D("0"),
            total=D(10 * i),
            store_id=bill.store_id,
        )
        for i in (1, 2)
    ]
    cash = PaymentMethod.objects.get(is_cash=True)
    payment = Payment(method=cash, is_cash=True, amount=D("30"), store_id=bill.store_id)

    return bill, lines, payment


def test_insert_with_children_writes_the_parent_and_its_children_with_their_keys_in_order(drawer):
    from purchases.models import Payment, PurchaseItem

    bill, lines, payment = _bill_lines_payment()

    insert_with_children(bill, ("purchase", lines), ("purchase", []), ("purchase", [payment]))

    assert bill.pk is not None and bill._state.adding is False and bill.created_at is not None
    stored = list(
        PurchaseItem.objects.filter(purchase=bill).order_by("pk").values_list("pk", "product_name", "quantity")
    )
    assert stored == [(line.pk, line.product_name, line.quantity) for line in lines]
    assert all(line.purchase_id == bill.pk for line in lines)
    assert list(Payment.objects.filter(purchase=bill).values_list("amount", flat=True)) == [D("30")]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a key is reserved from a PostgreSQL sequence")
def test_reserve_with_children_writes_the_children_first_and_the_parent_later_with_its_key(drawer):
    from billing_project.core.db import Children, Writes, reserve_with_children, statement_cursor
    from purchases.models import Payment, Purchase, PurchaseItem

    bill, lines, payment = _bill_lines_payment()

    reserve_with_children(bill, Children("purchase", lines), Children("purchase", [payment]))

    assert bill.pk is not None and bill._state.adding is True  # its key taken, the row not yet written
    assert not Purchase.objects.filter(pk=bill.pk).exists()
    stored = list(PurchaseItem.objects.filter(purchase_id=bill.pk).order_by("pk").values_list("pk", "product_name"))
    assert stored == [(line.pk, line.product_name) for line in lines]
    assert [payment.pk] == list(Payment.objects.filter(purchase_id=bill.pk).values_list("pk", flat=True))

    writes = Writes()
    written = writes.insert("bill", [bill], keyed=True)
    with statement_cursor() as cursor:
        cursor.execute(f"WITH {writes.sql} SELECT {written.sql}", writes.params)
        (keys,) = cursor.fetchone()
    assert written.inserted(keys) == [bill]
    assert bill._state.adding is False
    assert Purchase.objects.get(pk=bill.pk).items.count() == 2
    with statement_cursor() as cursor:  # the children's keys to it hold now
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a key is reserved from a PostgreSQL sequence")
def test_children_of_a_reserved_key_whose_parent_never_comes_cannot_commit(drawer):
    from django.db import IntegrityError

    from billing_project.core.db import Children, reserve_with_children, statement_cursor

    bill, lines, payment = _bill_lines_payment()

    with pytest.raises(IntegrityError), transaction.atomic():
        reserve_with_children(bill, Children("purchase", lines), Children("purchase", [payment]))
        with statement_cursor() as cursor:  # what the commit would check
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _products(ids):
    return products_for_update(ids)


def _priced(name: str, cents: int):
    return Product.objects.filter(name=name, price__gte=cents).annotate(doubled=F("stock") * 2).order_by("pk")


def test_compiled_rows_run_each_call_with_its_own_values_as_the_orm_would():
    products = [ProductFactory(stock=i + 1) for i in range(4)]
    for ids in ([products[0].pk], [products[1].pk, products[3].pk], [products[2].pk, 0], [products[0].pk]):
        rows = compiled_rows(_products, ids)
        expected = list(products_for_update(ids))
        assert [(p.pk, p.name, p.price, p.stock, p.is_active, p.updated_at) for p in rows] == [
            (p.pk, p.name, p.price, p.stock, p.is_active, p.updated_at) for p in expected
        ]
        assert all(p._state.adding is False for p in rows)


def test_compiled_rows_carry_annotations_and_string_arguments():
    soap = ProductFactory(name="Soap", price=D("10"), stock=3)
    ProductFactory(name="Tea", price=D("10"), stock=4)

    (row,) = compiled_rows(_priced, "Soap", 5)

    assert (row.pk, row.doubled) == (soap.pk, 6)
    assert compiled_rows(_priced, "Soap", 11) == []


def test_compiled_rows_refuse_a_value_the_orm_folds_into_the_sql():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's querysets here need converters and are built by the ORM on every call")
    with pytest.raises(ValueError, match="as a parameter"):
        # (Customers: a plain manager; a product's carries its stock, a sum the ORM converts.)
        compiled_rows(lambda n: Customer.objects.annotate(n=RawSQL(str(n), [])), 3)  # noqa: S611 - the point of the test


@pytest.mark.django_db(transaction=True)
def test_compiled_rows_refuse_a_lock_outside_a_transaction_as_the_orm_does(postgres_only):
    product = ProductFactory()
    with pytest.raises(TransactionManagementError):
        list(products_for_update([product.pk]))
    with transaction.atomic():
        assert [p.pk for p in compiled_rows(_products, [product.pk])] == [product.pk]  # compiled now

    with pytest.raises(TransactionManagementError):
        compiled_rows(_products, [product.pk])


def _fields(obj) -> dict:
    return {k: v for k, v in obj.__dict__.items() if k != "_state"}


@pytest.mark.parametrize("with_purchase", [False, True])
def test_new_row_builds_what_the_constructor_builds(drawer, with_purchase):
    from django.utils import timezone

    from billing_project.core.db import new_row
    from cashdrawer.models import DrawerMovement
    from purchases.models import Purchase, PurchaseItem
    from purchases.tests.factories import purchase_for

    denomination = drawer[0]
    purchase = purchase_for(ProductFactory(price=D("10"), tax_percent=D("0"))) if with_purchase else None
    values = {
        "till_id": denomination.till_id,
        "session_id": None,
        "denomination": denomination,
        "kind": DrawerMovement.Kind.TENDER_IN,
        "delta": 2,
        "count_after": 7,
        "purchase": purchase,
        "user": None,
        "reason": "bill #1",
        "created_at": timezone.now(),
    }
    ours, theirs = new_row(DrawerMovement, **values), DrawerMovement(**values)

    assert _fields(ours) == _fields(theirs)
    assert ours._state.adding and ours._state.db is None
    assert ours._state.fields_cache == theirs._state.fields_cache
    assert ours.denomination is denomination and ours.purchase is purchase
    # Defaults for what is not given, as the constructor fills them in.
    now = timezone.now()
    assert _fields(new_row(Purchase, created_at=now)) == _fields(Purchase(created_at=now))
    line = new_row(PurchaseItem, quantity=2, product_name="Tea")
    assert (line.quantity, line.product_name, line.purchase_id) == (2, "Tea", None)
    with pytest.raises(TypeError, match="no field"):
        new_row(PurchaseItem, colour="red")


def _prepared_by_the_fields(objs, fields) -> str:
    import json

    conn = connection
    return json.dumps([[f.get_db_prep_save(f.pre_save(o, True), conn) for f in fields] for o in objs], default=str)


def test_json_rows_write_what_the_fields_prepare(drawer):
    """The values _json_rows takes as they are render exactly as the fields' own preparation
    (PostgreSQL's; elsewhere every value goes through the field, and this holds trivially)."""
    import datetime as dt
    import warnings

    from billing_project.core.db.writes import _insert_fields, _json_rows
    from cashdrawer.models import DrawerMovement
    from purchases.models import PurchaseItem

    aware = dt.datetime(2026, 3, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)
    naive = dt.datetime(2026, 3, 31, 23, 59, 59)
    product = ProductFactory(price=D("10"), tax_percent=D("5"))
    lines = [
        PurchaseItem(
            product=product,
            product_name=name,
            quantity=q,
            unit_price=price,
            tax_percent=D("5"),
            gross=price,
            discount_percent=pct,
            discount_amount=D("0.00"),
            subtotal=price,
            tax_amount=D("-0.00"),
            total=price,
            created_at=when,
        )
        for name, q, price, pct, when in [
            ("Tea", 3, D("12.50"), D("0"), aware),
            ("Ünïcode “quoted” \\ \n", True, D("1E+2"), D("12.3456"), naive),
            ("", -7, D("0.10"), D("100.00"), aware),
        ]
    ]
    movements = [
        DrawerMovement(
            till_id=drawer[0].till_id,
            session_id=None,
            denomination=drawer[0],
            kind=kind,
            delta=delta,
            count_after=5,
            purchase=None,
            user=None,
            reason="bill #1",
            created_at=aware,
        )
        for kind, delta in [(DrawerMovement.Kind.TENDER_IN, 2), ("change_out", -2)]
    ]
    for objs in (lines, movements):
        fields = [f for f in _insert_fields(type(objs[0])) if not getattr(f, "auto_now_add", False)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the naive datetime, on both sides
            assert _json_rows(objs, fields) == _prepared_by_the_fields(objs, fields)


def test_json_rows_refuse_what_the_fields_refuse():
    from django.core.exceptions import ValidationError

    from billing_project.core.db.writes import _insert_fields, _json_rows
    from purchases.models import PurchaseItem

    line = PurchaseItem(product_name="Tea", quantity=1, unit_price=D("NaN"))
    fields = [f for f in _insert_fields(PurchaseItem) if f.name == "unit_price"]
    with pytest.raises(ValidationError):
        _prepared_by_the_fields([line], fields)
    with pytest.raises(ValidationError):
        _json_rows([line], fields)


def test_shared_cursor_serves_one_cursor_per_block_and_still_logs_queries():
    from django.test.utils import CaptureQueriesContext

    from billing_project.core.db import shared_cursor, statement_cursor

    def cursor_used():
        with statement_cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchall() == [(1,)]
            return cursor

    assert cursor_used() is not cursor_used()  # outside a block: a new cursor each time, closed after
    with shared_cursor():
        first, second = cursor_used(), cursor_used()
        with shared_cursor():  # nested: the outer block's
            assert cursor_used() is first
        with CaptureQueriesContext(connection) as ctx:  # starts logging: a logging cursor from now on
            logged = cursor_used()
            cursor_used()
        assert [q["sql"] for q in ctx.captured_queries] == ["SELECT 1", "SELECT 1"]
    assert first is second
    assert logged is not first
    with pytest.raises(Exception):  # noqa: B017 - closed with the block (each driver says it its own way)
        logged.execute("SELECT 1")
