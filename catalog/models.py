from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Cast

from billing_project.core.money import CENT
from billing_project.core.quantities import QUANTITY_MAX_DIGITS, QUANTITY_PLACES, Unit, quantity_text
from billing_project.core.validators import validate_code_text, validate_plain_text

from .barcodes import BARCODE_DIGITS, BARCODE_MAX_LENGTH, PLU_MAX_LENGTH, PLU_PATTERN

MAX_STOCK = 2_147_483_647
MAX_PRICE = 10**10  # NUMERIC(12, 2)


class ProductQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


PRICE_LTE_MRP_CONSTRAINT = "product_price_lte_mrp"

HSN_DIGITS = r"^[0-9]{4}([0-9]{2}){0,2}$"  # 4, 6 or 8 digits
HSN_PATTERN = r"^([0-9]{4}([0-9]{2}){0,2})?$"  # or blank


def quantity_field(**kwargs) -> models.DecimalField:
    """A quantity: whole for ``each`` products, to 3 places for measured ones (``core.quantities``)."""
    return models.DecimalField(max_digits=QUANTITY_MAX_DIGITS, decimal_places=QUANTITY_PLACES, **kwargs)


def whole_unless_measured(field: str, unit_field: str = "unit") -> Q:
    """The CHECK that an ``each`` quantity is whole: ``unit <> 'each' OR q = CAST(q AS bigint)``
    (portable: SQLite has no trunc())."""
    return ~Q(**{unit_field: Unit.EACH}) | Q(**{field: Cast(field, models.BigIntegerField())})


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
    unit = models.CharField(
        max_length=4,
        choices=Unit.choices,
        default=Unit.EACH,
        db_default=Unit.EACH,  # the stock import inserts with its own SQL
        help_text="each: sold in whole numbers; kg, g, l, ml, m: by measure, to 3 decimal places.",
    )
    stock = quantity_field(default=0, validators=[MinValueValidator(0), MaxValueValidator(MAX_STOCK)])
    barcode = models.CharField(
        max_length=BARCODE_MAX_LENGTH,
        null=True,
        blank=True,
        unique=True,
        help_text="EAN-13, EAN-8 or UPC-A, with its check digit. Unique when set.",
    )
    plu = models.CharField(
        "PLU",
        max_length=PLU_MAX_LENGTH,
        null=True,
        blank=True,
        unique=True,
        validators=[RegexValidator(PLU_PATTERN, "Digits, without a leading zero.")],
        help_text="The number the weighing scales print on their labels. Unique when set.",
    )
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
            models.CheckConstraint(condition=Q(unit__in=Unit.values), name="product_unit_valid"),
            models.CheckConstraint(condition=whole_unless_measured("stock"), name="product_each_stock_whole"),
            models.CheckConstraint(
                condition=Q(barcode__isnull=True) | Q(barcode__regex=BARCODE_DIGITS), name="product_barcode_form"
            ),
            models.CheckConstraint(condition=Q(plu__isnull=True) | Q(plu__regex=PLU_PATTERN), name="product_plu_form"),
            models.UniqueConstraint(
                fields=["sku"], condition=Q(sku__isnull=False) & ~Q(sku=""), name="product_sku_unique_when_set"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.sku})" if self.sku else self.name

    @property
    def stock_text(self) -> str:
        """``12`` or ``1.250 kg``."""
        return quantity_text(self.stock, self.unit)

    @property
    def price_unit(self) -> str:
        """What the price is for: ``each`` or ``per kg``."""
        return "each" if self.unit == Unit.EACH else f"per {self.unit}"
