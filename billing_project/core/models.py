"""Models of the shared core."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class IdempotencyKey(models.Model):
    """A client's ``Idempotency-Key`` for a POST that moves money or stock, and the response it got."""

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the canonical request body.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    locked_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "purchases_idempotencykey"  # created by purchases before the model moved here
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotencykey_unique_per_user"),
            models.CheckConstraint(
                condition=Q(status__in=["in_progress", "completed"]), name="idempotencykey_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="in_progress") | Q(response_status__isnull=False, completed_at__isnull=False),
                name="idempotencykey_completed_has_response",
            ),
        ]

    def __str__(self):
        return f"{self.key} ({self.status})"
