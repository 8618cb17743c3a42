from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .limits import MAX_COUNT, MAX_DENOMINATIONS, MAX_VALUE

__all__ = ["MAX_COUNT", "MAX_DENOMINATIONS", "MAX_VALUE", "Denomination", "DrawerMovement"]


class Denomination(models.Model):
    """One note or coin value in the drawer, and how many of it the drawer holds now.

    ``count`` is a running total of this denomination's movements; never write it directly:
    go through ``cashdrawer.services`` so the ledger stays in step.
    """

    value = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        unique=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(MAX_VALUE)],
    )
    count = models.IntegerField(default=0, validators=[MinValueValidator(0), MaxValueValidator(MAX_COUNT)])

    class Meta:
        ordering = ["-value"]
        constraints = [
            models.CheckConstraint(condition=Q(value__gt=0), name="denomination_value_gt_0"),
            models.CheckConstraint(condition=Q(value__lte=MAX_VALUE), name="denomination_value_lte_max"),
            models.CheckConstraint(condition=Q(count__gte=0), name="denomination_count_gte_0"),
            models.CheckConstraint(condition=Q(count__lte=MAX_COUNT), name="denomination_count_lte_max"),
        ]

    def __str__(self):
        return f"{self.value}"

    @property
    def total(self):
        return self.value * self.count


class DrawerMovement(models.Model):
    """The drawer's ledger: every change to a count, with what caused it. Rows are never changed."""

    class Kind(models.TextChoices):
        TENDER_IN = "tender_in", "Tender in"
        CHANGE_OUT = "change_out", "Change out"
        MANUAL_SET = "manual_set", "Manual set"

    denomination = models.ForeignKey(Denomination, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    delta = models.IntegerField()
    count_after = models.IntegerField()
    purchase = models.ForeignKey(
        "purchases.Purchase", on_delete=models.PROTECT, null=True, blank=True, related_name="drawer_movements"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(delta=0), name="movement_delta_not_0"),
            models.CheckConstraint(condition=Q(count_after__gte=0), name="movement_count_after_gte_0"),
            models.CheckConstraint(
                condition=(
                    Q(kind="tender_in", delta__gt=0, purchase__isnull=False)
                    | Q(kind="change_out", delta__lt=0, purchase__isnull=False)
                    | Q(kind="manual_set", purchase__isnull=True)
                ),
                name="movement_kind_consistent",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.delta:+d} × {self.denomination.value}"

    @property
    def value(self):
        return self.denomination.value

    @property
    def pieces(self) -> int:
        return abs(self.delta)
