"""Row locks on the catalogue's own models. Every product lock in the system is taken here.

Products are step 3 of the one lock order (docs/architecture.md, "The lock order"): a transaction
that locks several products takes them in primary-key order, after its customer and bill row and
before any till.
"""

from collections.abc import Iterable
from functools import cache

from django.db import connection

from billing_project.core.quantities import Unit

from .models import Product, StoreStock, Transfer


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
    """A bill's products locked and their stock taken in ONE statement (PostgreSQL): the CTE locks
    the rows in primary-key order, as ``products_for_update`` does, to the end before any row is
    updated (the UPDATE waits on its count); the UPDATE takes each quantity only where the product
    is active, the stock stays ``>= 0`` and, for an ``each`` product, the quantity is whole, and
    returns the updated rows' columns (``PRODUCT_ATTNAMES``).
    Parameters: the ids (a list), the time now, the ``[[id, "quantity"], …]`` as JSON (quantities as
    decimal strings), and the number of ids. Fewer rows back than ids: a product is unknown,
    archived or short, or an ``each`` product was given a fraction, and nothing is
    taken that the caller's rollback would not undo."""
    # Only quoted names from the model are interpolated; the values are parameters.
    quote, fields = connection.ops.quote_name, Product._meta.concrete_fields
    column = {f.name: quote(str(f.column)) for f in fields}
    table, pk = quote(Product._meta.db_table), column["id"]
    stock, updated_at, active, unit = column["stock"], column["updated_at"], column["is_active"], column["unit"]
    columns = ", ".join(f"t.{column[f.name]}" for f in fields)
    rows = "(SELECT (e->>0)::bigint AS id, (e->>1)::numeric AS quantity FROM json_array_elements(%s::json) AS e) AS v"
    return (
        f"WITH locked AS (SELECT {pk} FROM {table} WHERE {pk} = ANY(%s::bigint[]) ORDER BY {pk} FOR UPDATE) "  # noqa: S608
        f"UPDATE {table} AS t SET {stock} = t.{stock} - v.quantity, {updated_at} = %s FROM {rows} "
        f"WHERE t.{pk} = v.id AND t.{active} AND t.{stock} - v.quantity >= 0 "
        f"AND (t.{unit} <> '{Unit.EACH}' OR v.quantity = trunc(v.quantity)) "
        f"AND (SELECT count(*) FROM locked) = %s RETURNING {columns}"
    )


def products_by_sku(skus: list[str], *, lock: bool) -> dict[str, tuple]:
    """``{sku: (id, name, price, tax_percent, stock, mrp, unit)}`` for the products with these SKUs, locked in
    primary-key order (step 3 of the lock order) when ``lock``: the stock import's read of what it
    will change."""
    if connection.vendor == "postgresql":
        # One array parameter: a 100,000-name IN list would be compiled and quoted value by value.
        table = connection.ops.quote_name(Product._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT sku, id, name, price, tax_percent, stock, mrp, unit FROM {table} "  # noqa: S608
                f"WHERE sku = ANY(%s::varchar[]) ORDER BY id{' FOR UPDATE' if lock else ''}",
                [skus],
            )
            return {sku: tuple(rest) for sku, *rest in cursor.fetchall()}
    existing: dict[str, tuple] = {}
    chunk = max(1, (connection.features.max_query_params or 10_000) - 1)
    for start in range(0, len(skus), chunk):
        qs = Product.objects.filter(sku__in=skus[start : start + chunk]).order_by("pk")
        if lock:
            qs = qs.select_for_update(of=("self",))
        for sku, pk, name, price, tax_percent, stock, mrp, measure in qs.values_list(
            "sku", "pk", "name", "price", "tax_percent", "stock", "mrp", "unit"
        ):
            if sku is not None:  # always: sku__in never matches NULL
                existing[sku] = (pk, name, price, tax_percent, stock, mrp, measure)
    return existing
