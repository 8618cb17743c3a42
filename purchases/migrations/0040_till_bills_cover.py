"""The admin's bills of a till at a chain's scale (issue 30): the till's index carries the figures of
the totals shown above the list (``reports.purchase_totals``), so a till's 31,000 bills are summed
from the index alone instead of from as many pages of the table, which a store's year of bills
spreads them over (cold, that read took 100-250 ms; from the index it takes about 6). The new index
is built before the old one is dropped, so the till's foreign key is never without one. On
PostgreSQL only the index's keys are its columns; elsewhere the included ones are ignored."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("purchases", "0039_rollup_sum")]

    operations = [
        migrations.AddIndex(
            model_name="purchase",
            index=models.Index(
                fields=["till", "created_at", "id"],
                include=["subtotal", "discount_total", "tax_total", "total", "payable"],
                name="purchase_till_created_cover",
            ),
        ),
        migrations.RemoveIndex(model_name="purchase", name="purchase_till_created_id"),
    ]
