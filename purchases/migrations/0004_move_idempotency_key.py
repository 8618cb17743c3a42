# IdempotencyKey now belongs to the shared core (billing_project, label "core"); its table is kept.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("purchases", "0003_idempotency_key"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="IdempotencyKey")],
            database_operations=[],
        ),
    ]
