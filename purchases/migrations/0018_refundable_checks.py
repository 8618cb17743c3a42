"""The CHECK constraints on what refunds can still pay back (0017 filled it in for existing bills):
never below 0, never above the payable, and the cash part never above the cash the drawer kept."""

from decimal import Decimal

import django.db.models.expressions
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("purchases", "0017_refundable")]

    operations = [
        migrations.AddConstraint(
            model_name="purchase",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("refundable__gte", 0),
                    (
                        "refundable__lt",
                        django.db.models.expressions.CombinedExpression(
                            models.F("payable"), "+", models.Value(Decimal("0.005"))
                        ),
                    ),
                ),
                name="purchase_refundable_0_payable",
            ),
        ),
        migrations.AddConstraint(
            model_name="purchase",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("cash_refundable__gte", 0),
                    (
                        "cash_refundable__lt",
                        django.db.models.expressions.CombinedExpression(
                            django.db.models.expressions.CombinedExpression(
                                models.F("cash_paid"), "-", models.F("change_due")
                            ),
                            "+",
                            models.Value(Decimal("0.005")),
                        ),
                    ),
                    (
                        "cash_refundable__lt",
                        django.db.models.expressions.CombinedExpression(
                            models.F("refundable"), "+", models.Value(Decimal("0.005"))
                        ),
                    ),
                ),
                name="purchase_cash_refundable_0_kept",
            ),
        ),
    ]
