"""Payment methods and payments (split tender), and discounts on bills and lines: the new tables and columns."""

import django.db.models.deletion
import django.db.models.expressions
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cashdrawer', '0009_till_text_rules'),
        ('catalog', '0002_text_without_invisible_characters'),
        ('customers', '0001_initial'),
        ('purchases', '0006_bills_at_main'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Payment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('is_cash', models.BooleanField()),
                ('amount', models.DecimalField(decimal_places=2, max_digits=18)),
                ('reference', models.CharField(blank=True, default='', max_length=100)),
            ],
            options={
                'ordering': ['id'],
            },
        ),
        migrations.CreateModel(
            name='PaymentMethod',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.SlugField(max_length=20, unique=True)),
                ('name', models.CharField(max_length=60)),
                ('is_cash', models.BooleanField(default=False)),
                ('is_active', models.BooleanField(default=True)),
            ],
            options={
                'ordering': ['-is_cash', 'code'],
            },
        ),
        migrations.AlterModelOptions(
            name='purchase',
            options={'ordering': ['-created_at', '-id'], 'permissions': [('resend_invoice', 'Can re-send invoice emails'), ('give_large_discount', 'Can give a discount above CASHIER_MAX_DISCOUNT_PERCENT')]},
        ),
        migrations.RemoveConstraint(
            model_name='purchaseitem',
            name='purchaseitem_subtotal',
        ),
        migrations.AddField(
            model_name='purchase',
            name='cash_paid',
            field=models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=18),
        ),
        migrations.AddField(
            model_name='purchase',
            name='discount_percent',
            field=models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=5),
        ),
        migrations.AddField(
            model_name='purchase',
            name='discount_reason',
            field=models.CharField(blank=True, default='', max_length=200),
        ),
        migrations.AddField(
            model_name='purchase',
            name='discount_total',
            field=models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=18),
        ),
        migrations.AddField(
            model_name='purchaseitem',
            name='discount_amount',
            field=models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=18),
        ),
        migrations.AddField(
            model_name='purchaseitem',
            name='discount_percent',
            field=models.DecimalField(decimal_places=6, default=Decimal('0'), max_digits=9),
        ),
        migrations.AddField(
            model_name='purchaseitem',
            name='gross',
            field=models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=18),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='payment',
            name='purchase',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='payments', to='purchases.purchase'),
        ),
        migrations.AddField(
            model_name='payment',
            name='method',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='purchases.paymentmethod'),
        ),
    ]
