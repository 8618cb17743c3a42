"""The running totals by product of the whole chain (``SalesRollupToDate``), filled from the day rows
already sealed, and the index a report of one store by product reads (``salesrollup_product_store_day``).

The totals are filled day by day in order, each day's from the day before's plus its own day rows by
product, in one ``INSERT … SELECT`` a day: at 5,000,000 bills over 400 days, about two minutes. The
seal's row is locked first, so a seal run from cron meanwhile waits and then adds its bills to the
day rows and to these totals alike. Backwards the table is dropped.
"""

from decimal import Decimal

from django.db import migrations, models

import billing_project.core.db.scaled

SUMS = "bills, gross, discounts, net_sales, refunds, tax, cost, sold_taxable, taxable, quantity, refunded_quantity"


def fill_running_totals(apps, schema_editor):
    summed = ", ".join(f"SUM({field})" for field in SUMS.split(", "))
    with schema_editor.connection.cursor() as cursor:
        if schema_editor.connection.vendor == "postgresql":
            cursor.execute("SELECT 1 FROM purchases_salesrollupseal FOR UPDATE")
        cursor.execute("SELECT DISTINCT day FROM purchases_salesrollup WHERE grouping = 'product' ORDER BY day")
        for (day,) in cursor.fetchall():
            cursor.execute(
                f"INSERT INTO purchases_salesrolluptodate (day, key, {SUMS}) SELECT %s, key, {summed} FROM ("  # noqa: S608
                f"SELECT key, {SUMS} FROM purchases_salesrolluptodate"
                " WHERE day = (SELECT MAX(day) FROM purchases_salesrolluptodate)"
                f" UNION ALL SELECT key, {SUMS} FROM purchases_salesrollup WHERE grouping = 'product' AND day = %s"
                ") AS parts GROUP BY key",
                [day, day],
            )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0014_stock_page_indexes"),
        ("purchases", "0037_rollup_sums_in_paise"),
    ]

    operations = [
        migrations.CreateModel(
            name="SalesRollupToDate",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("bills", models.BigIntegerField(default=0)),
                ("gross", billing_project.core.db.scaled.ScaledIntegerField(decimal_places=2, default=Decimal("0.00"))),
                (
                    "discounts",
                    billing_project.core.db.scaled.ScaledIntegerField(decimal_places=2, default=Decimal("0.00")),
                ),
                (
                    "net_sales",
                    billing_project.core.db.scaled.ScaledIntegerField(decimal_places=2, default=Decimal("0.00")),
                ),
                (
                    "refunds",
                    billing_project.core.db.scaled.ScaledIntegerField(decimal_places=2, default=Decimal("0.00")),
                ),
                ("tax", billing_project.core.db.scaled.ScaledIntegerField(decimal_places=2, default=Decimal("0.00"))),
                ("cost", billing_project.core.db.scaled.ScaledIntegerField(decimal_places=2, default=Decimal("0.00"))),
                (
                    "sold_taxable",
                    billing_project.core.db.scaled.ScaledIntegerField(decimal_places=2, default=Decimal("0.00")),
                ),
                (
                    "taxable",
                    billing_project.core.db.scaled.ScaledIntegerField(decimal_places=2, default=Decimal("0.00")),
                ),
                (
                    "quantity",
                    billing_project.core.db.scaled.ScaledIntegerField(decimal_places=3, default=Decimal("0.000")),
                ),
                (
                    "refunded_quantity",
                    billing_project.core.db.scaled.ScaledIntegerField(decimal_places=3, default=Decimal("0.000")),
                ),
                ("day", models.DateField()),
                ("key", models.CharField(blank=True, max_length=64)),
            ],
        ),
        migrations.AddIndex(
            model_name="salesrollup",
            index=models.Index(
                condition=models.Q(("grouping", "product")),
                fields=["store", "day"],
                include=(
                    "key",
                    "bills",
                    "gross",
                    "discounts",
                    "net_sales",
                    "refunds",
                    "tax",
                    "cost",
                    "sold_taxable",
                    "taxable",
                    "quantity",
                    "refunded_quantity",
                ),
                name="salesrollup_product_store_day",
            ),
        ),
        migrations.AddConstraint(
            model_name="salesrolluptodate",
            constraint=models.UniqueConstraint(fields=("day", "key"), name="salesrolluptodate_one_row"),
        ),
        migrations.AddConstraint(
            model_name="salesrolluptodate",
            constraint=models.CheckConstraint(
                condition=models.Q(("bills__gte", 0)), name="salesrolluptodate_bills_gte_0"
            ),
        ),
        migrations.AddConstraint(
            model_name="salesrolluptodate",
            constraint=models.CheckConstraint(
                condition=models.Q(("quantity__gte", 0), ("refunded_quantity__gte", 0)),
                name="salesrolluptodate_quantities_gte_0",
            ),
        ),
        migrations.RunPython(fill_running_totals, migrations.RunPython.noop, elidable=True),
    ]
