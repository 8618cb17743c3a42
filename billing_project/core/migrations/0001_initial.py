# IdempotencyKey moves from purchases to the shared core. The table stays where it is (and keeps its
# name): only Django's state moves, so an upgraded shop keeps its keys.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("purchases", "0003_idempotency_key"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="IdempotencyKey",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("key", models.CharField(max_length=255)),
                        ("fingerprint", models.CharField(help_text="SHA-256 of the canonical request body.", max_length=64)),
                        ("status", models.CharField(choices=[("in_progress", "In progress"), ("completed", "Completed")], default="in_progress", max_length=12)),
                        ("response_status", models.PositiveSmallIntegerField(blank=True, null=True)),
                        ("response_body", models.JSONField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        ("locked_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("completed_at", models.DateTimeField(blank=True, null=True)),
                        ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "db_table": "purchases_idempotencykey",
                        "constraints": [
                            models.UniqueConstraint(fields=("user", "key"), name="idempotencykey_unique_per_user"),
                            models.CheckConstraint(condition=models.Q(("status__in", ["in_progress", "completed"])), name="idempotencykey_status_valid"),
                            models.CheckConstraint(condition=models.Q(("status", "in_progress"), models.Q(("completed_at__isnull", False), ("response_status__isnull", False)), _connector="OR"), name="idempotencykey_completed_has_response"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
