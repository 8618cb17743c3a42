"""Every bill with a till has a number (after 0008 gave the existing bills theirs)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("purchases", "0012_number_existing_bills")]

    operations = [
        migrations.AddConstraint(
            model_name="purchase",
            constraint=models.CheckConstraint(
                condition=models.Q(("till__isnull", True), ("number__isnull", False), _connector="OR"),
                name="purchase_with_till_has_number",
            ),
        ),
    ]
