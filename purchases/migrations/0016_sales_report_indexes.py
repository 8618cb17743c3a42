"""The sales report's indexes (issue 14): each line gets its bill's ``created_at`` (existing lines
copied from their bill here) and an index on it; the bills' ``created_at`` index carries the figures
the report sums (INCLUDE columns on PostgreSQL; a plain index elsewhere), replacing the plain one."""

import django.utils.timezone
from django.db import migrations, models

COPY_BILL_TIME = (
    "UPDATE purchases_purchaseitem SET created_at = "
    "(SELECT p.created_at FROM purchases_purchase p WHERE p.id = purchases_purchaseitem.purchase_id)"
)


class Migration(migrations.Migration):
    dependencies = [
        ("cashdrawer", "0013_main_series"),
        ("purchases", "0015_sales_report_permission"),
    ]

    operations = [
        migrations.AddField(
            model_name="purchaseitem",
            name="created_at",
            field=models.DateTimeField(null=True, editable=False),
        ),
        migrations.RunSQL(COPY_BILL_TIME, migrations.RunSQL.noop, elidable=False),
        migrations.AlterField(
            model_name="purchaseitem",
            name="created_at",
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False),
        ),
        migrations.AlterField(
            model_name="purchase",
            name="created_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AddIndex(
            model_name="purchase",
            index=models.Index(
                fields=["created_at"],
                include=("till", "created_by", "subtotal", "discount_total", "tax_total", "total"),
                name="purchase_created_cover",
            ),
        ),
        migrations.AddIndex(
            model_name="purchaseitem",
            index=models.Index(fields=["created_at"], name="purchaseitem_created_at"),
        ),
    ]
