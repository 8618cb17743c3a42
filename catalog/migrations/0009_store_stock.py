import catalog.models
import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


def into_default_store(apps, schema_editor):
    """Today's stock moves into the default store: one StoreStock row per product (one INSERT …
    SELECT), and every existing movement, receipt, adjustment and count is the default store's (one
    UPDATE each). Set-based: no row is read into Python."""
    Store = apps.get_model("catalog", "Store")
    Product = apps.get_model("catalog", "Product")
    StoreStock = apps.get_model("catalog", "StoreStock")
    alias = schema_editor.connection.alias
    quote = schema_editor.connection.ops.quote_name
    default = Store.objects.using(alias).values_list("pk", flat=True).get(is_default=True)
    schema_editor.execute(
        f"INSERT INTO {quote(StoreStock._meta.db_table)} (store_id, product_id, stock, updated_at) "  # noqa: S608
        f"SELECT %s, id, stock, updated_at FROM {quote(Product._meta.db_table)} ORDER BY id",
        [default],
    )
    for name in ("StockMovement", "Receipt", "Adjustment", "StockCount"):
        apps.get_model("catalog", name).objects.using(alias).filter(store__isnull=True).update(store_id=default)


def from_default_store(apps, schema_editor):
    """Back: each product's stock is its stores' sum (one UPDATE)."""
    Product = apps.get_model("catalog", "Product")
    StoreStock = apps.get_model("catalog", "StoreStock")
    quote = schema_editor.connection.ops.quote_name
    products, rows = quote(Product._meta.db_table), quote(StoreStock._meta.db_table)
    schema_editor.execute(
        f"UPDATE {products} SET stock = COALESCE((SELECT SUM(s.stock) FROM {rows} AS s "  # noqa: S608
        f"WHERE s.product_id = {products}.id), 0)"
    )


class Migration(migrations.Migration):
    """Stock per store (issue 29): ``StoreStock`` and ``StorePrice``; every stock movement, receipt,
    adjustment and count names its store; ``Product.stock`` is dropped (the sum over stores)."""

    dependencies = [
        ('catalog', '0008_stores'),
        ('purchases', '0029_approved_by'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='StorePrice',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('price', models.DecimalField(decimal_places=2, max_digits=12, validators=[django.core.validators.MinValueValidator(Decimal('0.01'))])),
                ('updated_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                'ordering': ['store_id', 'product_id'],
            },
        ),
        migrations.CreateModel(
            name='StoreStock',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('stock', models.DecimalField(decimal_places=3, default=0, max_digits=13, validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(2147483647)])),
                ('updated_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                'ordering': ['store_id', 'product_id'],
            },
        ),
        migrations.AddField(
            model_name='adjustment',
            name='store',
            field=models.ForeignKey(default=catalog.models.default_store_pk, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='adjustments', to='catalog.store'),
        ),
        migrations.AddField(
            model_name='receipt',
            name='store',
            field=models.ForeignKey(default=catalog.models.default_store_pk, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='receipts', to='catalog.store'),
        ),
        migrations.AddField(
            model_name='stockcount',
            name='store',
            field=models.ForeignKey(default=catalog.models.default_store_pk, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='stock_counts', to='catalog.store'),
        ),
        migrations.AddField(
            model_name='stockmovement',
            name='store',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='stock_movements', to='catalog.store'),
        ),
        migrations.AddIndex(
            model_name='stockmovement',
            index=models.Index(fields=['store', 'product', '-id'], name='stockmovement_store_product'),
        ),
        migrations.AddField(
            model_name='storeprice',
            name='product',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='store_prices', to='catalog.product'),
        ),
        migrations.AddField(
            model_name='storeprice',
            name='store',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='prices', to='catalog.store'),
        ),
        migrations.AddField(
            model_name='storestock',
            name='product',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='store_stock', to='catalog.product'),
        ),
        migrations.AddField(
            model_name='storestock',
            name='store',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='stock_rows', to='catalog.store'),
        ),
        migrations.AddIndex(
            model_name='storeprice',
            index=models.Index(fields=['product'], name='storeprice_product'),
        ),
        migrations.AddConstraint(
            model_name='storeprice',
            constraint=models.UniqueConstraint(fields=('store', 'product'), name='storeprice_one_per_store_product'),
        ),
        migrations.AddConstraint(
            model_name='storeprice',
            constraint=models.CheckConstraint(condition=models.Q(('price__gt', 0)), name='storeprice_price_gt_0'),
        ),
        migrations.AddIndex(
            model_name='storestock',
            index=models.Index(fields=['product'], name='storestock_product'),
        ),
        migrations.AddConstraint(
            model_name='storestock',
            constraint=models.UniqueConstraint(fields=('store', 'product'), name='storestock_one_per_store_product'),
        ),
        migrations.AddConstraint(
            model_name='storestock',
            constraint=models.CheckConstraint(condition=models.Q(('stock__gte', 0)), name='storestock_stock_gte_0'),
        ),
        migrations.AddConstraint(
            model_name='storestock',
            constraint=models.CheckConstraint(condition=models.Q(('stock__lte', 2147483647)), name='storestock_stock_lte_max'),
        ),
            migrations.RunPython(into_default_store, from_default_store),
        migrations.AlterField(
            model_name='adjustment',
            name='store',
            field=models.ForeignKey(default=catalog.models.default_store_pk, on_delete=django.db.models.deletion.PROTECT, related_name='adjustments', to='catalog.store'),
        ),
        migrations.AlterField(
            model_name='receipt',
            name='store',
            field=models.ForeignKey(default=catalog.models.default_store_pk, on_delete=django.db.models.deletion.PROTECT, related_name='receipts', to='catalog.store'),
        ),
        migrations.AlterField(
            model_name='stockcount',
            name='store',
            field=models.ForeignKey(default=catalog.models.default_store_pk, on_delete=django.db.models.deletion.PROTECT, related_name='stock_counts', to='catalog.store'),
        ),
        migrations.AlterField(
            model_name='stockmovement',
            name='store',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='stock_movements', to='catalog.store'),
        ),
        migrations.RemoveConstraint(
            model_name='product',
            name='product_stock_gte_0',
        ),
        migrations.RemoveConstraint(
            model_name='product',
            name='product_each_stock_whole',
        ),
        migrations.RemoveField(
            model_name='product',
            name='stock',
        ),
    ]
