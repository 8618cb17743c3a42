"""What refunds can still pay back, per bill: ``refundable`` (of the payable) and ``cash_refundable``
(of the cash the drawer kept, cash paid − change), each less what the bill's refunds paid back.

Existing bills get them from their refunds. A bill that earlier refunds already paid back more than
it took (possible before this release, with explicit refund payments) gets 0: nothing more can go
back, and its refunds stay as they were. So the CHECK constraints of 0018 hold for every row (they
are added in a migration of their own: PostgreSQL does not alter a table in the transaction that
updated its rows)."""

from decimal import Decimal

from django.db import migrations, models
from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Greatest, Least

ZERO = Value(Decimal("0.00"), output_field=DecimalField(max_digits=18, decimal_places=2))


def _paid_back(queryset, key: str):
    """The sum of ``amount`` over ``queryset`` for the bill in ``key``, 0 when there is none."""
    sums = queryset.filter(**{key: OuterRef("pk")}).order_by().values(key).annotate(s=Sum("amount")).values("s")
    return Coalesce(Subquery(sums, output_field=DecimalField(max_digits=18, decimal_places=2)), ZERO)


def forwards(apps, schema_editor):
    Purchase = apps.get_model("purchases", "Purchase")
    Refund = apps.get_model("purchases", "Refund")
    RefundPayment = apps.get_model("purchases", "RefundPayment")
    Purchase.objects.update(refundable=Greatest(F("payable") - _paid_back(Refund.objects.all(), "purchase"), ZERO))
    cash_back = _paid_back(RefundPayment.objects.filter(is_cash=True), "refund__purchase")
    Purchase.objects.update(
        cash_refundable=Least(Greatest(F("cash_paid") - F("change_due") - cash_back, ZERO), F("refundable"))
    )


class Migration(migrations.Migration):
    dependencies = [("purchases", "0016_sales_report_indexes")]

    operations = [
        migrations.AddField(
            model_name="purchase",
            name="cash_refundable",
            field=models.DecimalField(
                decimal_places=2, db_default=Decimal("0.00"), default=Decimal("0.00"), max_digits=18
            ),
        ),
        migrations.AddField(
            model_name="purchase",
            name="refundable",
            field=models.DecimalField(
                decimal_places=2, db_default=Decimal("0.00"), default=Decimal("0.00"), max_digits=18
            ),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
