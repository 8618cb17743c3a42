"""``ProductNamesVersion`` (issue 30): the one row a report by product's cache of written rows checks
its products' names and units against (``purchases.report_cache``).

On PostgreSQL a statement trigger of the products table adds one to its version whenever a statement
sets a name or a unit (``UPDATE OF name, unit``: the admin's and the API's saves, the importer's
``UPDATE``), deletes or truncates products, in that statement's transaction. The row is upserted, so
the trigger holds even when the row is gone (a test database flushed between tests). A new product
changes no written row (it has sold nothing yet) and a bill writes no product row, so neither bumps
it. Other databases have the row and no trigger: the cache is PostgreSQL's only."""

from django.db import migrations, models

FUNCTION = """
CREATE FUNCTION catalog_product_names_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO catalog_productnamesversion (id, version) VALUES (1, 1)
    ON CONFLICT (id) DO UPDATE SET version = catalog_productnamesversion.version + 1;
    RETURN NULL;
END
$$
"""
TRIGGERS = (
    "CREATE TRIGGER product_names_changed AFTER UPDATE OF name, unit OR DELETE ON catalog_product"
    " FOR EACH STATEMENT EXECUTE FUNCTION catalog_product_names_changed()",
    "CREATE TRIGGER product_names_truncated AFTER TRUNCATE ON catalog_product"
    " FOR EACH STATEMENT EXECUTE FUNCTION catalog_product_names_changed()",
)


def first_row(apps, schema_editor):
    apps.get_model("catalog", "ProductNamesVersion").objects.using(schema_editor.connection.alias).create()


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)
        for trigger in TRIGGERS:
            schema_editor.execute(trigger)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS product_names_changed ON catalog_product")
        schema_editor.execute("DROP TRIGGER IF EXISTS product_names_truncated ON catalog_product")
        schema_editor.execute("DROP FUNCTION IF EXISTS catalog_product_names_changed()")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0014_stock_page_indexes")]

    operations = [
        migrations.CreateModel(
            name="ProductNamesVersion",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("version", models.BigIntegerField(default=0)),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(condition=models.Q(("id", 1)), name="productnamesversion_one_row"),
                    models.CheckConstraint(
                        condition=models.Q(("version__gte", 0)), name="productnamesversion_version_gte_0"
                    ),
                ],
            },
        ),
        migrations.RunPython(first_row, migrations.RunPython.noop),
        migrations.RunPython(create_trigger, drop_trigger),
    ]
