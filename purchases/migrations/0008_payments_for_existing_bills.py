"""Existing bills were paid all in cash: a line's gross is its subtotal (no discount), the cash paid is
the amount paid, and each bill gets one cash payment. Creates the payment methods cash, card and upi."""

from django.db import migrations
from django.db.models import F

METHODS = [("cash", "Cash", True), ("card", "Card", False), ("upi", "UPI", False)]


def forwards(apps, schema_editor):
    PaymentMethod = apps.get_model("purchases", "PaymentMethod")
    Purchase = apps.get_model("purchases", "Purchase")
    PurchaseItem = apps.get_model("purchases", "PurchaseItem")
    Payment = apps.get_model("purchases", "Payment")
    for code, name, is_cash in METHODS:
        PaymentMethod.objects.get_or_create(code=code, defaults={"name": name, "is_cash": is_cash})
    cash = PaymentMethod.objects.get(code="cash")
    PurchaseItem.objects.update(gross=F("subtotal"))
    Purchase.objects.update(cash_paid=F("paid_amount"))
    batch = []
    for pk, paid in Purchase.objects.filter(paid_amount__gt=0).values_list("pk", "paid_amount").iterator():
        batch.append(Payment(purchase_id=pk, method=cash, is_cash=True, amount=paid))
        if len(batch) >= 1000:
            Payment.objects.bulk_create(batch)
            batch = []
    Payment.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [("purchases", "0007_payments_and_discounts")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
