# The CHECK constraints of the GST fields (0026), once 0027 has filled them in for existing bills.

from decimal import Decimal

import django.db.models.expressions
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('purchases', '0027_gst_for_existing_bills'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='purchase',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('supply_type', 'B2B'), ('customer_gstin__isnull', False)), models.Q(('supply_type', 'B2C'), ('customer_gstin__isnull', True)), _connector='OR'), name='purchase_b2b_iff_gstin'),
        ),
        migrations.AddConstraint(
            model_name='purchase',
            constraint=models.CheckConstraint(condition=models.Q(('customer_gstin__isnull', True), ('customer_gstin__regex', '^[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]$'), _connector='OR'), name='purchase_customer_gstin_form'),
        ),
        migrations.AddConstraint(
            model_name='purchase',
            constraint=models.CheckConstraint(condition=models.Q(('place_of_supply__isnull', True), ('place_of_supply__regex', '^[0-9]{2}$'), _connector='OR'), name='purchase_place_of_supply_form'),
        ),
        migrations.AddConstraint(
            model_name='purchase',
            constraint=models.CheckConstraint(condition=models.Q(('cgst_total__gte', 0), ('igst_total__gte', 0), ('sgst_total__gte', 0)), name='purchase_tax_heads_gte_0'),
        ),
        migrations.AddConstraint(
            model_name='purchase',
            constraint=models.CheckConstraint(condition=models.Q(('tax_total__gt', django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(models.F('cgst_total'), '+', models.F('sgst_total')), '+', models.F('igst_total')), '-', models.Value(Decimal('0.005')))), ('tax_total__lt', django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(models.F('cgst_total'), '+', models.F('sgst_total')), '+', models.F('igst_total')), '+', models.Value(Decimal('0.005'))))), name='purchase_tax_heads_sum'),
        ),
        migrations.AddConstraint(
            model_name='purchaseitem',
            constraint=models.CheckConstraint(condition=models.Q(('hsn_code__regex', '^([0-9]{4}([0-9]{2}){0,2})?$')), name='purchaseitem_hsn_code_form'),
        ),
        migrations.AddConstraint(
            model_name='purchaseitem',
            constraint=models.CheckConstraint(condition=models.Q(('cgst__gte', 0), ('igst__gte', 0), ('sgst__gte', 0)), name='purchaseitem_tax_heads_gte_0'),
        ),
        migrations.AddConstraint(
            model_name='purchaseitem',
            constraint=models.CheckConstraint(condition=models.Q(('tax_amount__gt', django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(models.F('cgst'), '+', models.F('sgst')), '+', models.F('igst')), '-', models.Value(Decimal('0.005')))), ('tax_amount__lt', django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(models.F('cgst'), '+', models.F('sgst')), '+', models.F('igst')), '+', models.Value(Decimal('0.005'))))), name='purchaseitem_tax_heads_sum'),
        ),
        migrations.AddConstraint(
            model_name='purchaseitem',
            constraint=models.CheckConstraint(condition=models.Q(('cgst__gt', django.db.models.expressions.CombinedExpression(models.F('sgst'), '-', models.Value(Decimal('0.005')))), ('cgst__lt', django.db.models.expressions.CombinedExpression(models.F('sgst'), '+', models.Value(Decimal('0.015'))))), name='purchaseitem_cgst_half_up'),
        ),
        migrations.AddConstraint(
            model_name='purchaseitem',
            constraint=models.CheckConstraint(condition=models.Q(('igst', 0), models.Q(('cgst', 0), ('sgst', 0)), _connector='OR'), name='purchaseitem_igst_or_halves'),
        ),
    ]
