"""The bill's statements, in the order ``purchase_create`` sends them.

On PostgreSQL a bill is six statements between BEGIN and COMMIT, whatever its number of lines and
payments; docs/architecture.md has the plan and the lock order, and ``purchases/tests/test_queries.py``
pins the count. Each function here is one step (statements 4 and 5 are cashdrawer's
``till_lock_for_bill``, between ``insert_bill_rows`` and ``record_bill``); its docstring says what it
locks, what guards it, and what it refuses. A statement that touches another app's rows takes its
SQL from that app (the products' lock from ``catalog.lock_objects``, the customer's from
``customers.services``, the drawer's ledger from ``cashdrawer.ledger``, the number's counter from
``numbering``); the order they are sent in is here.

Elsewhere (SQLite, for development) each step runs as plain statements: 18 in all.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from billing_project.core.db import (
    Children,
    Writes,
    default_connection,
    guarded_add,
    new_row,
    reserve_with_children,
    statement_cursor,
    transaction_timeouts_sql,
)
from billing_project.core.errors import ValidationFailed
from billing_project.core.quantities import quantity_json, quantity_problem, quantity_text
from cashdrawer.errors import ChangeUnavailable
from cashdrawer.ledger import ledger_post_with
from cashdrawer.models import Denomination, DrawerMovement, Till
from catalog.lock_objects import (
    PRODUCT_ATTNAMES,
    products_lock_and_take_sql,
    store_stock_for_update,
)
from catalog.models import Product, StockMovement, Store, StorePrice, StoreStock
from customers.models import Customer
from customers.services import (
    CUSTOMER_ROW_FIELDS,
    customer_execute,
    customer_from_row,
    customer_get_or_create_ctes,
    customer_get_or_create_params,
)

from ..errors import InsufficientStock, ProductInactive, ProductNotFound
from ..invoices import invoice_job
from ..models import Payment, PaymentMethod, Purchase, PurchaseItem
from ..numbering import counter_upsert_sql, financial_year, format_number, invoice_number_take, series_guard

Kind = DrawerMovement.Kind

_METHOD_FIELDS = ["id", "code", "name", "is_cash", "is_active"]


def bill_timeouts() -> dict[str, int]:
    return {
        "lock_timeout_ms": settings.BILL_LOCK_TIMEOUT_MS,
        "statement_timeout_ms": settings.BILL_STATEMENT_TIMEOUT_MS,
    }


# --- 1. The timeouts, the payment methods and the customer -----------------------------------------


def begin_bill(
    *, method_codes: set[str], email: str | None, phone: str | None, till: int | None = None
) -> tuple[list[PaymentMethod], Customer | None, Store]:
    """Statement 1: the transaction's timeouts, the payment methods named (and the cash method), the
    store of ``till`` (an id; ``None``: the ``DEFAULT_TILL`` code), and the customer of ``email``
    and/or ``phone`` (normalised), found and locked (``FOR KEY SHARE``, or ``FOR UPDATE`` when both
    are given), given what it lacks, or inserted: lock step 1. A walk-in bill (neither) has no
    customer and sends nothing more.

    The methods are configuration, read fresh by every bill (a manager's edit holds from the next bill
    on), in the model's order, without a lock. So is the till's store: the bill's seller (its GSTIN,
    state, name and address, which the bill copies), whose state decides the place of supply's split
    and whose stock the bill takes. A till that is not found reads the default store: the till's own
    lock (step 4) refuses the bill then; it also refuses a bill whose till moved to another store in
    between (a till moves only before its first session). The timeouts' CTE is MATERIALIZED and the
    customer's lock, INSERT and UPDATE run only once it exists, so the bill's ``lock_timeout`` bounds
    the waits this statement can have: a concurrent first bill for the same new email or number, or a
    bill that holds the customer's row. Raises
    ``CustomerConflict`` when the email and the number belong to two customers. The customer is
    ``None`` without an email and a phone, when that race was lost, or on SQLite: then
    ``customer_get_or_create`` decides (``bills._ring_up``). On SQLite the store is one more query."""
    conn = default_connection()
    if conn.vendor != "postgresql":
        methods = list(PaymentMethod.objects.filter(Q(code__in=method_codes) | Q(is_cash=True)))
        return methods, None, _store_of_till_orm(till)
    _, timeouts = transaction_timeouts_sql(**bill_timeouts())
    with_customer = email is not None or phone is not None
    params: list[Any] = [*timeouts]
    if with_customer:
        params += customer_get_or_create_params(email, phone, timezone.now())
    params.append(settings.DEFAULT_TILL if till is None else till)
    sql = _begin_bill_sql(email=email is not None, phone=phone is not None, till_by_code=till is None)
    rows = customer_execute(sql, [*params, sorted(method_codes)], email=email, phone=phone)
    methods = [PaymentMethod.from_db(conn.alias, _METHOD_FIELDS, row[:5]) for row in rows if row[0] is not None]
    seller_end = 5 + len(_STORE_FIELDS)
    store = Store.from_db(conn.alias, _STORE_FIELDS, rows[0][5:seller_end])
    customer = customer_from_row(rows[0][seller_end:], email=email, phone=phone) if with_customer else None
    return methods, customer, store


_STORE_FIELDS = ["id", "code", "name", "legal_name", "address", "state_code", "gstin", "is_active", "is_default"]


def _store_of_till_orm(till: int | None) -> Store:
    """The till's store, else the default store: one query."""
    tills = Till.objects.filter(code=settings.DEFAULT_TILL) if till is None else Till.objects.filter(pk=till)
    return (
        Store.objects.filter(Q(pk__in=Subquery(tills.values("store_id"))) | Q(is_default=True))
        .only(*_STORE_FIELDS)
        .order_by("is_default")
        .first()
    ) or Store.objects.get(is_default=True)


@cache
def _begin_bill_sql(*, email: bool, phone: bool, till_by_code: bool = False) -> str:
    # Built once from the models' names (the timeouts' SQL text does not depend on their values); the
    # values are parameters. The timeouts' one-row CTE is the preserved side of the join, so the
    # statement runs even when no method matches.
    quote = connection.ops.quote_name
    timeouts, _ = transaction_timeouts_sql()
    columns = ", ".join(f"m.{quote(name)}" for name in _METHOD_FIELDS)
    customer = customer_columns = ""
    if email or phone:
        customer = ", " + customer_get_or_create_ctes(
            after="EXISTS (SELECT FROM bill_timeouts)", email=email, phone=phone
        )
        customer_columns = "".join(f", customer.{quote(n)}" for n in CUSTOMER_ROW_FIELDS)
    # The till's store, else (no such till) the default store: the default sorts last.
    stores, tills = quote(Store._meta.db_table), quote(Till._meta.db_table)
    till_match = "t.code = %s" if till_by_code else "t.id = %s"
    seller = (
        f"seller AS (SELECT {', '.join(f's.{quote(n)}' for n in _STORE_FIELDS)} FROM {stores} AS s "  # noqa: S608
        f"WHERE s.id = (SELECT t.store_id FROM {tills} AS t WHERE {till_match}) OR s.is_default "
        "ORDER BY s.is_default LIMIT 1)"
    )
    seller_columns = "".join(f", seller.{quote(n)}" for n in _STORE_FIELDS)
    # The seller and the customer are one row (or none) each: joined, not read column by column.
    joins = "LEFT JOIN seller ON true " + ("LEFT JOIN customer ON true " if customer else "")
    return (
        f"WITH bill_timeouts AS MATERIALIZED ({timeouts}){customer}, {seller} "  # noqa: S608
        f"SELECT {columns}{seller_columns}{customer_columns} FROM bill_timeouts {joins}"
        f"LEFT JOIN {quote(PaymentMethod._meta.db_table)} AS m ON m.code = ANY(%s) OR m.is_cash "
        "ORDER BY m.is_cash DESC, m.code"
    )


# --- 2. The stock -----------------------------------------------------------------------------------


@dataclass
class TakenStock:
    """What ``take_stock`` took: the store it took from, the products by id (each ``price`` is its
    price at that store: its ``StorePrice`` when it has one), and each product's stock at the store
    after the take (the sale movements' ``balance_after``)."""

    store_id: int
    products: dict[int, Product]
    balances: dict[int, Decimal]


def take_stock(quantities: Mapping[int, Decimal], *, store_id: int) -> TakenStock:
    """Statement 2: lock the bill's stock rows at its store (``StoreStock``, by product id: lock
    step 3) and take the bill's quantities off them. ``store_id`` is the store statement 1 read
    (``begin_bill``: the till's; the till's lock at step 4 checks the till is still in it). Refuses,
    in the order of the bill's lines, an unknown product (``ProductNotFound``), an archived one
    (``ProductInactive``), a fraction of a product sold ``each`` (``ValidationFailed``) and a line
    with more than the store's stock (``InsufficientStock``; a product with no row at the store has
    0 there).

    On PostgreSQL it is ONE statement (``catalog.lock_objects.products_lock_and_take_sql``): a CTE
    locks the store's rows in product-id order, to the end before any row is updated, and the
    UPDATE takes the stock only where the product is active, keeps ``stock >= 0`` (the guard; the
    CHECK constraint backs it up) and an ``each`` quantity whole, returning the products with their
    price at the store. When it updates fewer rows than the bill has products, the rows are locked
    and read again to say why, and the refusal rolls the bill back. Elsewhere (SQLite) it is the
    locking SELECT, the checks, then one guarded UPDATE."""
    conn = default_connection()
    if conn.vendor == "postgresql":
        pairs = json.dumps([[pk, str(quantity)] for pk, quantity in quantities.items()])
        params: list[Any] = [store_id, sorted(quantities), timezone.now(), pairs, store_id, len(quantities)]
        with statement_cursor() as cursor:
            cursor.execute(products_lock_and_take_sql(), params)
            rows = cursor.fetchall()
        if len(rows) == len(quantities):
            n = len(PRODUCT_ATTNAMES)
            taken = TakenStock(store_id=store_id, products={}, balances={})
            for row in rows:
                product = Product.from_db(conn.alias, PRODUCT_ATTNAMES, row[:n])
                product.price = row[n]
                taken.products[product.pk] = product
                taken.balances[product.pk] = row[n + 1]
            return taken
    stock_rows = {r.product_id: r for r in store_stock_for_update(store_id, quantities)}
    own_price = StorePrice.objects.filter(store_id=store_id, product_id=OuterRef("pk")).values("price")
    products = {
        p.pk: p
        for p in Product.objects.filter(pk__in=list(quantities))
        .annotate(store_price=Subquery(own_price))
        .order_by("pk")
    }
    for product_id, quantity in quantities.items():
        found = products.get(product_id)
        if found is None:
            raise ProductNotFound(f"Product {product_id} does not exist.", details={"product_id": product_id})
        product = found
        if not product.is_active:
            raise ProductInactive(f"{product.name} is archived and cannot be sold.", details={"product_id": product_id})
        problem = quantity_problem(quantity, product.unit)
        if problem:
            raise ValidationFailed(f"{product.name}: {problem}", details={"items": [problem], "product_id": product_id})
        row = stock_rows.get(product_id)
        available = row.stock if row is not None else Decimal("0.000")
        if available < quantity:
            raise InsufficientStock(
                f"Only {quantity_text(available, product.unit)} of {product.name} in stock; "
                f"{quantity_text(quantity, product.unit)} requested.",
                details={
                    "product_id": product_id,
                    "available": quantity_json(available, product.unit),
                    "requested": quantity_json(quantity, product.unit),
                },
            )
    if conn.vendor == "postgresql":  # every check passes now, yet the guard refused a row
        raise InsufficientStock("Stock changed while the bill was being rung up.")
    deltas = {stock_rows[pk].pk: -qty for pk, qty in quantities.items()}
    if guarded_add(StoreStock, "stock", deltas, also_set={"updated_at": timezone.now()}) != len(deltas):
        raise InsufficientStock("Stock changed while the bill was being rung up.")
    for product in products.values():
        product.price = product.store_price if product.store_price is not None else product.price
    balances = {pk: stock_rows[pk].stock - qty for pk, qty in quantities.items()}
    return TakenStock(store_id=store_id, products=products, balances=balances)


# --- 3. The bill's lines, payments and stock ledger rows, before the till's lock ------------------------


def sale_movements(purchase: Purchase, lines: Sequence[PurchaseItem], taken: TakenStock) -> list[StockMovement]:
    """The stock ledger's ``sale`` rows of the bill's lines, at the store the stock was taken from:
    each product's stock there as ``take_stock`` left it (the row is locked until the commit) is
    the row's ``balance_after``, and its cost price the ``unit_cost``. Built here, written by
    ``insert_bill_rows``."""
    user = purchase.created_by_id
    return [
        new_row(
            StockMovement,
            store_id=taken.store_id,
            product_id=line.product_id,
            kind=StockMovement.Kind.SALE,
            quantity=-line.quantity,
            balance_after=taken.balances[line.product_id],
            unit_cost=line.cost_price,
            reason="",
            user_id=user,
            created_at=purchase.created_at,
        )
        for line in lines
    ]


class BillRows:
    """The rows a bill writes besides its own: its lines, payments and stock ledger rows
    (``sale_movements``), all new. ``insert_bill_rows`` makes it, and writes them on PostgreSQL."""

    def __init__(
        self, *, lines: Sequence[PurchaseItem], payments: Sequence[Payment], stock: Sequence[StockMovement]
    ) -> None:
        self.lines, self.payments, self.stock = lines, payments, stock
        self.family = (Children("purchase", lines), Children("purchase", payments), Children("purchase", stock))
        self.written = False


def insert_bill_rows(
    purchase: Purchase,
    *,
    lines: Sequence[PurchaseItem],
    payments: Sequence[Payment],
    stock: Sequence[StockMovement],
) -> BillRows:
    """Statement 3: the bill's key, taken from the bills' sequence, and its lines, payments and stock
    ledger rows naming it (``reserve_with_children``), before the till's lock: the bills of one till
    queue on that lock, so what can be written before it is written before it. The bill itself
    follows in the last statement (``record_bill``), with its number; the rows' foreign keys to it
    are checked at the commit. New rows: no lock is waited for. Sets the bill's ``pk`` (it is not
    saved yet) and the rows' keys.

    Elsewhere (SQLite, which has no sequence to take a key from) nothing is sent: ``record_bill``
    inserts the bill and then these rows."""
    rows = BillRows(lines=lines, payments=payments, stock=stock)
    if default_connection().vendor == "postgresql":
        reserve_with_children(purchase, *rows.family)
        rows.written = True
    return rows


# --- 4 and 5. The till and its drawer: cashdrawer's ``till_lock_for_bill`` ----------------------------


# --- 6. The bill, its number, its drawer and its invoice email's job -----------------------------------


def record_bill(
    *,
    purchase: Purchase,
    rows: BillRows,
    till: Till,
    session_id: int,
    denominations: Sequence[Denomination],
    tendered: Mapping[Decimal, int],
    change: Mapping[Decimal, int],
    send_invoice: bool,
) -> list[DrawerMovement]:
    """Statement 6, the last: the bill with its till, session and tax invoice number, the drawer's
    counts and its ledger rows (the notes tendered in, the change out), and the invoice email's
    job. Sets the bill's ``number`` and marks it saved; returns the drawer's ledger rows.

    ONE statement on PostgreSQL, whatever the bill's number of lines and payments: the counter's
    upsert (``numbering.counter_upsert_sql``); the bill's INSERT with the key statement 3 took and
    the number the counter gives; the drawer's guarded UPDATE and the ledger's INSERT
    (``cashdrawer.ledger``: inserted only when every count was updated); and the job's INSERT. The
    bill is written once, complete: no row is inserted and then updated. It locks the counter row of
    the till's series and financial year until the commit: the last lock a bill takes, after every
    check that can refuse it, so it is held for the shortest time. The drawer's rows are locked
    already (statement 5). New rows: no other lock is waited for (the bills' count trigger's slot
    row aside: lock step 7). The CHECK constraints on the rows are the guards (a line's
    arithmetic, one cash payment, a balance not below 0…).

    Refuses with ``ChangeUnavailable`` when a drawer count would have gone negative (the guard wrote
    nothing; the lock makes it rare), and ``SeriesExhausted`` after number 999999. Elsewhere (SQLite)
    the number is taken first, then the bill and its rows (``rows``) are inserted and the drawer's
    writes run, each on its own."""
    purchase.till, purchase.session_id = till, session_id
    drawer_moves = [(Kind.TENDER_IN, tendered), (Kind.CHANGE_OUT, {value: -count for value, count in change.items()})]
    series, year = till.invoice_series_code, financial_year(purchase.created_at)
    writes = Writes()
    if writes.run_now():  # SQLite: the number first, then each write runs as it is added
        purchase.number = invoice_number_take(till=till, when=purchase.created_at)
        writes.insert_family("bill", purchase, *rows.family)
    else:
        assert rows.written, "on PostgreSQL the bill's rows are written first (insert_bill_rows)"
        writes.add("counter", counter_upsert_sql(), [series, year])
        purchase.number = f"{series}/{year}/"  # the counter's number follows, as the statement takes it
        bill = writes.insert("bill", [purchase], computed={"number": _NUMBER_SQL}, keyed=True)
    drawer = ledger_post_with(
        writes,
        denominations=denominations,
        moves=drawer_moves,
        session_id=session_id,
        store_id=purchase.store_id,
        user=purchase.created_by,
        reason=f"bill #{purchase.pk}",
        created_at=purchase.created_at,
        purchase=purchase,
    )
    if writes.run_now():
        posted = drawer.movements()
        if posted is None:
            raise ChangeUnavailable("The drawer changed while the bill was being rung up.")
        if send_invoice:
            invoice_job(purchase=purchase)  # queued at once here
        return posted

    job = invoice_job(purchase=purchase) if send_invoice else None
    if job is not None:
        writes.insert("invoice_job", [job.row])
    with series_guard(series=series, year=year), statement_cursor() as cursor:
        cursor.execute(
            f"WITH {writes.sql} SELECT (SELECT last_number FROM counter), {bill.sql}, {drawer.sql or 'NULL'}",  # noqa: S608
            writes.params,
        )
        sequence, key, returned = cursor.fetchone()
    bill.inserted(key)
    purchase.number = format_number(series, year, sequence)
    written = drawer.movements(returned)
    if written is None:
        raise ChangeUnavailable("The drawer changed while the bill was being rung up.")
    if job is not None:
        job.written()
    return written


# The bill's number: its series and year (the row's own value) and the counter's number, as
# ``numbering.format_number`` writes it (``lpad`` is its ``:06d`` for every number the counter's
# range CHECK allows).
_NUMBER_SQL = "{value} || lpad((SELECT last_number FROM counter)::text, 6, '0')"
