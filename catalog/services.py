import logging
from decimal import Decimal

from django.db import IntegrityError, transaction

from billing_project.core.db import atomic_write
from billing_project.core.errors import ValidationFailed
from billing_project.core.money import format_money

from .errors import PriceAboveMrp
from .lock_objects import product_for_update
from .models import Product

logger = logging.getLogger("billing.catalog")

_EDITABLE = ("sku", "name", "price", "mrp", "tax_percent", "hsn_code", "stock", "is_active")


def _normalize_sku(sku: str | None) -> str | None:
    sku = (sku or "").strip()
    return sku or None


def _check_sku_free(sku: str | None, *, exclude_pk: int | None = None) -> None:
    others = Product.objects.exclude(pk=exclude_pk) if exclude_pk is not None else Product.objects.all()
    if sku and others.filter(sku=sku).exists():
        raise ValidationFailed(
            "That SKU is already used.", details={"sku": ["A product with this SKU already exists."]}
        )


def check_price_within_mrp(*, price: Decimal, mrp: Decimal | None) -> None:
    """The price may not be above the MRP printed on the pack (``price_above_mrp``); the CHECK
    constraint ``product_price_lte_mrp`` backs this up."""
    if mrp is not None and price > mrp:
        raise PriceAboveMrp(
            f"The price {format_money(price)} is above the MRP {format_money(mrp)}.",
            details={"price": f"{price:.2f}", "mrp": f"{mrp:.2f}"},
        )


def _save(product: Product) -> Product:
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError:
        # A concurrent writer took the SKU between the check and the insert.
        raise ValidationFailed(
            "That SKU is already used.", details={"sku": ["A product with this SKU already exists."]}
        ) from None
    return product


@atomic_write()
def product_create(
    *,
    name: str,
    price: Decimal,
    tax_percent: Decimal = Decimal("0"),
    stock: int = 0,
    sku: str | None = None,
    is_active: bool = True,
    hsn_code: str = "",
    mrp: Decimal | None = None,
) -> Product:
    check_price_within_mrp(price=price, mrp=mrp)
    sku = _normalize_sku(sku)
    _check_sku_free(sku)
    product = _save(
        Product(
            sku=sku,
            name=name.strip(),
            price=price,
            mrp=mrp,
            tax_percent=tax_percent,
            stock=stock,
            is_active=is_active,
            hsn_code=hsn_code,
        )
    )
    logger.info("product %s created: sku=%s price=%s mrp=%s stock=%s", product.pk, sku, price, mrp, stock)
    return product


@atomic_write()
def product_update(*, product: Product, **fields) -> Product:
    """Change catalogue fields. Bills keep their own snapshot, so past bills are unaffected. A price
    or MRP change is checked against the other as it stands under the row lock."""
    unknown = set(fields) - set(_EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    if "sku" in fields:
        fields["sku"] = _normalize_sku(fields["sku"])
        _check_sku_free(fields["sku"], exclude_pk=product.pk)
    if "name" in fields:
        fields["name"] = fields["name"].strip()
    # Re-read under a row lock so a concurrent bill's stock decrement is not overwritten.
    locked = product_for_update(product.pk).get()
    for name, value in fields.items():
        setattr(locked, name, value)
    check_price_within_mrp(price=locked.price, mrp=locked.mrp)
    _save(locked)
    logger.info("product %s updated: %s", locked.pk, ", ".join(sorted(fields)))
    return locked


@atomic_write()
def product_delete(*, product: Product) -> bool:
    """Delete a product, or archive it when a bill references it, since history is never changed.

    Locks the product's row first, as a bill does (``catalog.lock_objects``): a bill selling it
    either committed before (its line is then seen, and the product is archived) or waits and then
    finds the product gone (``product_not_found``). Without the lock, the bill's line committed
    between the check and the DELETE, and the DELETE failed on its foreign key at COMMIT.

    Returns True when the row was deleted (or already was, by a concurrent delete), False when it
    was archived instead. Raises ``Busy`` when the lock is not had in time."""
    pk = product.pk
    locked = product_for_update(pk).first()
    if locked is None:
        logger.info("product %s already deleted", pk)
        return True
    if locked.purchase_items.exists():  # a fresh statement after the lock: sees committed bills
        product_set_active(product=locked, is_active=False)
        product.is_active = False
        return False
    locked.delete()
    logger.info("product %s deleted", pk)
    return True


@atomic_write()
def product_set_active(*, product: Product, is_active: bool) -> Product:
    Product.objects.filter(pk=product.pk).update(is_active=is_active)
    product.refresh_from_db()
    logger.info("product %s %s", product.pk, "unarchived" if is_active else "archived")
    return product
