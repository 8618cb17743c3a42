# GST (issue 27): the bill's supply type, place of supply, buyer's GSTIN, legal name and address,
# and the tax heads; each line's HSN code snapshot and its CGST, SGST and IGST. Filled in for
# existing bills by 0027; their CHECK constraints come in 0028, once every row satisfies them.

from decimal import Decimal

import django.db.models.expressions
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cashdrawer', '0013_main_series'),
        ('catalog', '0005_product_units_and_barcodes'),
        ('customers', '0003_customer_gst_details'),
        ('purchases', '0025_report_cover_cost'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='purchase',
            name='buyer_address',
            field=models.TextField(blank=True, db_default='', default=''),
        ),
        migrations.AddField(
            model_name='purchase',
            name='buyer_legal_name',
            field=models.CharField(blank=True, db_default='', default='', max_length=200),
        ),
        migrations.AddField(
            model_name='purchase',
            name='cgst_total',
            field=models.DecimalField(db_default=Decimal('0.00'), decimal_places=2, default=Decimal('0.00'), max_digits=18),
        ),
        migrations.AddField(
            model_name='purchase',
            name='customer_gstin',
            field=models.CharField(blank=True, max_length=15, null=True, verbose_name="buyer's GSTIN"),
        ),
        migrations.AddField(
            model_name='purchase',
            name='igst_total',
            field=models.DecimalField(db_default=Decimal('0.00'), decimal_places=2, default=Decimal('0.00'), max_digits=18),
        ),
        migrations.AddField(
            model_name='purchase',
            name='place_of_supply',
            field=models.CharField(blank=True, max_length=2, null=True),
        ),
        migrations.AddField(
            model_name='purchase',
            name='sgst_total',
            field=models.DecimalField(db_default=Decimal('0.00'), decimal_places=2, default=Decimal('0.00'), max_digits=18),
        ),
        migrations.AddField(
            model_name='purchase',
            name='supply_type',
            field=models.CharField(choices=[('B2B', 'B2B (a registered buyer)'), ('B2C', 'B2C')], db_default='B2C', default='B2C', max_length=3),
        ),
        migrations.AddField(
            model_name='purchaseitem',
            name='cgst',
            field=models.DecimalField(db_default=Decimal('0.00'), decimal_places=2, default=Decimal('0.00'), max_digits=18),
        ),
        migrations.AddField(
            model_name='purchaseitem',
            name='hsn_code',
            field=models.CharField(blank=True, db_default='', default='', max_length=8, verbose_name='HSN/SAC code'),
        ),
        migrations.AddField(
            model_name='purchaseitem',
            name='igst',
            field=models.DecimalField(db_default=Decimal('0.00'), decimal_places=2, default=Decimal('0.00'), max_digits=18),
        ),
        migrations.AddField(
            model_name='purchaseitem',
            name='sgst',
            field=models.DecimalField(db_default=Decimal('0.00'), decimal_places=2, default=Decimal('0.00'), max_digits=18),
        ),
    ]
