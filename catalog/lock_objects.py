"""Row locks on the catalogue's own models. Every product lock in the system is taken here.

Products are step 3 of the one lock order (docs/architecture.md, "The lock order"): a transaction
that locks several products takes them in primary-key order, after its customer and bill row and
before any till.
"""

from collections.abc import Iterable
from decimal import Decimal
from functools import cache

from django.db import connection

from billing_project.core.quantities import Unit

from .models import Product, StorePrice, StoreStock, Transfer

ZERO = Decimal("0.000")


def products_for_update(ids: Iterable[int]):
    """Products locked ``FOR NO KEY UPDATE`` in primary-key order: a change of their own columns
    (price, cost, archive) that does not wait for, nor hold up, a bill's ``FOR KEY SHARE`` on the
    product (its lines' foreign key)."""
    return Product.objects.select_for_update(of=("self",), no_key=True).filter(pk__in=list(ids)).order_by("pk")


def product_for_update(pk: int):
    return Product.objects.select_for_update(of=("self",), no_key=True).filter(pk=pk)


def transfer_for_update(pk: int):
    """One transfer's row (lock step 2, as a stock count's): its receipts queue on it, so a transfer
    is received once."""
    return Transfer.objects.select_for_update(of=("self",)).filter(pk=pk)


def store_stock_for_update(store_id: int, product_ids: Iterable[int], *, create: bool = False):
    """The ``StoreStock`` rows of ``store_id`` for these products, locked in product-id order (lock
    step 3, as a bill's ``products_lock_and_take_sql``). With ``create``, the missing rows are
    inserted first at 0 (``ON CONFLICT DO NOTHING``: a concurrent first row waits for the other's
    commit); the ids must be products that exist."""
    ids = sorted(set(product_ids))
    if create and ids:
        StoreStock.objects.bulk_create(
            [StoreStock(store_id=store_id, product_id=pk) for pk in ids], ignore_conflicts=True
        )
    return (
        StoreStock.objects.select_for_update(of=("self",))
        .filter(store_id=store_id, product_id__in=ids)
        .order_by("product_id")
    )


PRODUCT_ATTNAMES = [f.attname for f in Product._meta.concrete_fields]


@cache
def products_lock_and_take_sql() -> str:
    """A bill's stock locked and taken at its store in ONE statement (PostgreSQL). The CTE locks the
    store's ``StoreStock`` rows of the bill's products in product-id order (as
    ``store_stock_for_update`` does), to the end before any row is updated (the UPDATE waits on its
    count); the UPDATE takes each quantity only where the product is active, the store's stock stays
    ``>= 0`` and, for an ``each`` product, the quantity is whole. The product rows are read, not
    locked (a bill's lines key-share them at their INSERT). Returns, per product taken, its columns
    (``PRODUCT_ATTNAMES``), then its price at the store (its ``StorePrice``, else its own) and the
    store's stock after the take. Parameters: the store's id, the product ids
    (a list), the time now, the ``[[id, "quantity"], …]`` as JSON (quantities as decimal strings),
    the store's id again, and the number of ids. Fewer rows back than ids: a product is unknown,
    archived or short at the store (no row there: 0), or an ``each`` product was given a fraction,
    and nothing is taken that the caller's rollback would not undo.

    Three tables, one statement: the store's price is a subquery of the rows returned rather than a
    third join, which PostgreSQL plans in less time (bench/RESULTS.md, issue 29)."""
    # Only quoted names from the models are interpolated; the values are parameters.
    quote = connection.ops.quote_name
    fields = Product._meta.concrete_fields
    column = {f.name: quote(str(f.column)) for f in fields}
    products, pk = quote(Product._meta.db_table), column["id"]
    active, unit, price = column["is_active"], column["unit"], column["price"]
    rows, prices = quote(StoreStock._meta.db_table), quote(StorePrice._meta.db_table)
    columns = ", ".join(f"p.{column[f.name]}" for f in fields)
    values = "SELECT (e->>0)::bigint AS id, (e->>1)::numeric AS quantity FROM json_array_elements(%s::json) AS e"
    store_price = f"(SELECT sp.price FROM {prices} AS sp WHERE sp.store_id = s.store_id AND sp.product_id = p.{pk})"  # noqa: S608
    return (
        f"WITH locked AS (SELECT s.id FROM {rows} AS s WHERE s.store_id = %s "  # noqa: S608
        f"AND s.product_id = ANY(%s::bigint[]) ORDER BY s.product_id FOR UPDATE) "
        f"UPDATE {rows} AS s SET stock = s.stock - v.quantity, updated_at = %s "
        f"FROM ({values}) AS v JOIN {products} AS p ON p.{pk} = v.id "
        f"WHERE s.store_id = %s AND s.product_id = v.id "
        f"AND p.{active} AND s.stock - v.quantity >= 0 "
        f"AND (p.{unit} <> '{Unit.EACH}' OR v.quantity = trunc(v.quantity)) "
        f"AND (SELECT count(*) FROM locked) = %s "
        f"RETURNING {columns}, COALESCE({store_price}, p.{price}), s.stock"
    )


def store_prices(store_id: int, product_ids: Iterable[int]) -> dict[int, Decimal]:
    """``{product id: price}`` of the products that have their own price at ``store_id``."""
    return dict(
        StorePrice.objects.filter(store_id=store_id, product_id__in=list(product_ids)).values_list(
            "product_id", "price"
        )
    )


def products_by_sku(skus: list[str], *, lock: bool, store_id: int | None = None) -> dict[str, tuple]:
    """``{sku: (id, name, price, tax_percent, stock, mrp, unit)}`` for the products with these SKUs,
    ``stock`` being their stock at ``store_id`` (0 without a row; None: the products only, stock 0).
    With ``lock`` (the stock import's read of what it will change): the products ``FOR NO KEY
    UPDATE`` in primary-key order, then their stock rows at the store in product order (lock step
    3, as a bill's)."""
    if connection.vendor == "postgresql":
        # One array parameter: a 100,000-name IN list would be compiled and quoted value by value.
        quote = connection.ops.quote_name
        table, rows = quote(Product._meta.db_table), quote(StoreStock._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT sku, id, name, price, tax_percent, 0, mrp, unit FROM {table} "  # noqa: S608
                f"WHERE sku = ANY(%s::varchar[]) ORDER BY id{' FOR NO KEY UPDATE' if lock else ''}",
                [skus],
            )
            found = {sku: list(rest) for sku, *rest in cursor.fetchall()}
            if store_id is not None and found:
                cursor.execute(
                    f"SELECT product_id, stock FROM {rows} WHERE store_id = %s "  # noqa: S608
                    f"AND product_id = ANY(%s::bigint[]) ORDER BY product_id{' FOR UPDATE' if lock else ''}",
                    [store_id, sorted(row[0] for row in found.values())],
                )
                stocks = dict(cursor.fetchall())
                for row in found.values():
                    row[4] = stocks.get(row[0], ZERO)
            return {sku: tuple(rest) for sku, rest in found.items()}
    existing: dict[str, list] = {}
    chunk = max(1, (connection.features.max_query_params or 10_000) - 2)
    for start in range(0, len(skus), chunk):
        qs = Product.objects.filter(sku__in=skus[start : start + chunk]).order_by("pk")
        if lock:
            qs = qs.select_for_update(of=("self",), no_key=True)
        if store_id is not None:
            qs = qs.with_stock(store_id)
        for sku, pk, name, price, tax_percent, stock, mrp, measure in qs.values_list(
            "sku", "pk", "name", "price", "tax_percent", "stock", "mrp", "unit"
        ):
            if sku is not None:  # always: sku__in never matches NULL
                existing[sku] = [pk, name, price, tax_percent, stock if store_id is not None else ZERO, mrp, measure]
    return {sku: tuple(rest) for sku, rest in existing.items()}
