"""Product lookups at a supermarket's 50,000 products (issue 30): a SKU in any case by an index of
UPPER(sku), and on PostgreSQL the searches inside names and SKUs (``icontains``, ``iexact``: the
billing page's suggestions, the API's ``?search=``, the admin's search) by trigram indexes.

The trigram indexes are PostgreSQL's own (the ``pg_trgm`` extension, trusted: the database's owner
may create it), so they are SQL run only there and are not in the models' state; SQLite searches
as before. docs/performance.md lists each index with the query it serves."""

from django.db import migrations, models
from django.db.models.functions import Upper

TRIGRAM_INDEXES = {
    "product_name_trgm": "UPPER(name)",
    "product_sku_trgm": "UPPER(sku)",
}


def trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON catalog_product USING gin ({expression} gin_trgm_ops)"
        )
    # The statistics of the new index's expressions: without them the planner guesses that a SKU in
    # any case matches 0.5 % of the products and walks the primary key instead.
    schema_editor.execute("ANALYZE catalog_product")


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0012_ledger_indexes")]

    operations = [
        migrations.AddIndex(model_name="product", index=models.Index(Upper("sku"), name="product_sku_upper")),
        migrations.RunPython(trigram_indexes, drop_trigram_indexes),
    ]
