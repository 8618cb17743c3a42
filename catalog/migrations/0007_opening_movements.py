"""One ``opening`` movement per product for its stock as it stands, so the stock ledger starts
whole: from here on a product's stock is the sum of its movements. One INSERT … SELECT."""

from django.db import migrations
from django.utils import timezone


def openings(apps, schema_editor):
    Product = apps.get_model("catalog", "Product")
    StockMovement = apps.get_model("catalog", "StockMovement")
    quote = schema_editor.connection.ops.quote_name
    schema_editor.execute(
        f"INSERT INTO {quote(StockMovement._meta.db_table)} "
        "(product_id, kind, quantity, balance_after, unit_cost, reason, created_at) "
        f"SELECT id, 'opening', stock, stock, cost_price, '', %s FROM {quote(Product._meta.db_table)} ORDER BY id",
        [timezone.now()],
    )


def no_openings(apps, schema_editor):
    apps.get_model("catalog", "StockMovement").objects.filter(kind="opening").delete()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0006_stock_ledger")]

    operations = [migrations.RunPython(openings, no_openings)]
