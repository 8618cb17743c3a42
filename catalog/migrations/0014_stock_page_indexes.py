"""The admin's product list (a store's stock page) in its order at a chain's 50,000 products (issue
30): ``product_name_order`` of (name || '', id), which only that list's query orders by
(``catalog.models.NAME_ORDER``): a page of 100 without sorting every name. docs/performance.md."""

import django.db.models.expressions
from django.db import migrations, models

import catalog.models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0013_store_of_movements")]

    operations = [
        migrations.AddIndex(
            model_name="product",
            index=models.Index(
                catalog.models.SortsAsItself("name"),
                django.db.models.expressions.F("id"),
                name="product_name_order",
            ),
        ),
    ]
