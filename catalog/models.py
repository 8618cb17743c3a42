from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q

from billing_project.core.money import CENT
from billing_project.core.validators import validate_code_text, validate_plain_text

MAX_STOCK = 2_147_483_647
MAX_PRICE = 10**10  # NUMERIC(12, 2)


class ProductQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


PRICE_LTE_MRP_CONSTRAINT = "product_price_lte_mrp"

HSN_DIGITS = r"^[0-9]{4}([0-9]{2}){0,2}$"  # 4, 6 or 8 digits
HSN_PATTERN = r"^([0-9]{4}([0-9]{2}){0,2})?$"  # or blank


class Product(models.Model):
    sku = models.CharField(
        max_length=64, null=True, blank=True, help_text="Unique when set.", validators=[validate_code_text]
    )
    name = models.CharField(max_length=200, validators=[validate_plain_text])
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(CENT)])
    # The maximum retail price printed on the pack: the price may not be above it (CHECK and the
    # services' ``price_above_mrp``). Bills snapshot it on their lines and print the saving.
    mrp = models.DecimalField(
        "MRP",
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(CENT)],
        help_text="Maximum retail price printed on the pack (optional). The price may not be above it.",
    )
    tax_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    stock = models.IntegerField(default=0, validators=[MinValueValidator(0), MaxValueValidator(MAX_STOCK)])
    is_active = models.BooleanField(default=True, help_text="Archived products cannot be sold.")
    hsn_code = models.CharField(
        "HSN/SAC code",
        max_length=8,
        blank=True,
        default="",
        db_default="",  # the stock import inserts with its own SQL
        validators=[RegexValidator(HSN_PATTERN, "4, 6 or 8 digits.")],
        help_text="Goods and services classification (HSN or SAC): 4, 6 or 8 digits. Printed on tax invoices.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="product_stock_gte_0"),
            models.CheckConstraint(condition=Q(price__gt=0), name="product_price_gt_0"),
            models.CheckConstraint(condition=Q(mrp__isnull=True) | Q(mrp__gt=0), name="product_mrp_gt_0"),
            models.CheckConstraint(
                condition=Q(mrp__isnull=True) | Q(price__lte=F("mrp")),
                name=PRICE_LTE_MRP_CONSTRAINT,
                violation_error_message="The price may not be above the MRP.",
            ),
            models.CheckConstraint(
                condition=Q(tax_percent__gte=0, tax_percent__lte=100), name="product_tax_percent_0_100"
            ),
            models.CheckConstraint(condition=Q(hsn_code__regex=HSN_PATTERN), name="product_hsn_code_form"),
            models.UniqueConstraint(
                fields=["sku"], condition=Q(sku__isnull=False) & ~Q(sku=""), name="product_sku_unique_when_set"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.sku})" if self.sku else self.name
