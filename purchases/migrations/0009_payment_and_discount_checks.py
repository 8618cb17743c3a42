"""The invariants of payments and discounts as CHECK constraints, once existing rows are filled in."""

from decimal import Decimal

import django.db.models.expressions
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("purchases", "0008_payments_for_existing_bills")]

    operations = [
        migrations.AddConstraint(
            model_name='purchase',
            constraint=models.CheckConstraint(condition=models.Q(('cash_paid__gte', 0), ('cash_paid__lte', models.F('paid_amount'))), name='purchase_cash_paid_0_paid'),
        ),
        migrations.AddConstraint(
            model_name='purchase',
            constraint=models.CheckConstraint(condition=models.Q(('change_due__lte', models.F('cash_paid'))), name='purchase_change_lte_cash'),
        ),
        migrations.AddConstraint(
            model_name='purchase',
            constraint=models.CheckConstraint(condition=models.Q(('cash_paid__gt', 0), ('rounding', 0), ('payable', 0), _connector='OR'), name='purchase_rounding_only_cash'),
        ),
        migrations.AddConstraint(
            model_name='purchase',
            constraint=models.CheckConstraint(condition=models.Q(('discount_percent__gte', 0), ('discount_percent__lte', 100)), name='purchase_discount_percent_0_100'),
        ),
        migrations.AddConstraint(
            model_name='purchase',
            constraint=models.CheckConstraint(condition=models.Q(('discount_total__gte', 0)), name='purchase_discount_total_gte_0'),
        ),
        migrations.AddConstraint(
            model_name='purchase',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('discount_total', 0), ('discount_percent', 0)), models.Q(('discount_reason', ''), _negated=True), _connector='OR'), name='purchase_discount_has_reason'),
        ),
        migrations.AddConstraint(
            model_name='purchaseitem',
            constraint=models.CheckConstraint(condition=models.Q(('gross__gt', django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(models.F('unit_price'), '*', models.F('quantity')), '-', models.Value(Decimal('0.005')))), ('gross__lt', django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(models.F('unit_price'), '*', models.F('quantity')), '+', models.Value(Decimal('0.005'))))), name='purchaseitem_gross'),
        ),
        migrations.AddConstraint(
            model_name='purchaseitem',
            constraint=models.CheckConstraint(condition=models.Q(('discount_percent__gte', 0), ('discount_percent__lte', 100)), name='purchaseitem_discount_percent_0_100'),
        ),
        migrations.AddConstraint(
            model_name='purchaseitem',
            constraint=models.CheckConstraint(condition=models.Q(('discount_amount__gte', 0), ('discount_amount__lte', models.F('gross'))), name='purchaseitem_discount_amount_0_gross'),
        ),
        migrations.AddConstraint(
            model_name='purchaseitem',
            constraint=models.CheckConstraint(condition=models.Q(('subtotal__gt', django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(models.F('gross'), '-', models.F('discount_amount')), '-', models.Value(Decimal('0.005')))), ('subtotal__lt', django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(models.F('gross'), '-', models.F('discount_amount')), '+', models.Value(Decimal('0.005'))))), name='purchaseitem_subtotal'),
        ),
        migrations.AddConstraint(
            model_name='purchaseitem',
            constraint=models.CheckConstraint(condition=models.Q(('tax_amount__gte', 0)), name='purchaseitem_tax_amount_gte_0'),
        ),
        migrations.AddConstraint(
            model_name='paymentmethod',
            constraint=models.UniqueConstraint(condition=models.Q(('is_cash', True)), fields=('is_cash',), name='paymentmethod_one_cash'),
        ),
        migrations.AddConstraint(
            model_name='paymentmethod',
            constraint=models.CheckConstraint(condition=models.Q(('code', ''), _negated=True), name='paymentmethod_code_not_blank'),
        ),
        migrations.AddConstraint(
            model_name='payment',
            constraint=models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='payment_amount_gt_0'),
        ),
        migrations.AddConstraint(
            model_name='payment',
            constraint=models.CheckConstraint(condition=models.Q(('is_cash', False), ('reference', ''), _connector='OR'), name='payment_reference_not_cash'),
        ),
        migrations.AddConstraint(
            model_name='payment',
            constraint=models.UniqueConstraint(condition=models.Q(('is_cash', True)), fields=('purchase',), name='payment_one_cash_per_bill'),
        ),
    ]
