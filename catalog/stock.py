"""The stock ledger's services: every change of a product's stock outside a bill or a refund writes
its ``StockMovement`` here, in the same transaction (bills and refunds write theirs inside their own
statements: ``purchases.services``). docs/stock.md has the rules and the count's arithmetic.

Lock order (docs/architecture.md): a stock count's row before any product, as a bill's row comes
before its products; products by primary key (``lock_objects.products_for_update``).
"""

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from billing_project.core.db import atomic_write, guarded_add
from billing_project.core.errors import ValidationFailed
from billing_project.core.money import CENT, line_tax, money
from billing_project.core.quantities import MILLI, parse_quantity, quantity_json, quantity_problem, quantity_text
from billing_project.core.types import Actor, recorded_user

from .errors import InsufficientStock, ProductMissing, StockCountPosted, StoreNotFound, SupplierNotFound
from .lock_objects import products_for_update, store_stock_for_update
from .models import (
    MAX_STOCK,
    Adjustment,
    AdjustmentLine,
    Product,
    Receipt,
    ReceiptLine,
    StockCount,
    StockCountLine,
    StockMovement,
    Store,
    StoreStock,
    Supplier,
    default_store_pk,
)

logger = logging.getLogger("billing.catalog")

Kind = StockMovement.Kind
MAX_LINES = 500
MAX_AMOUNT = Decimal(10**10)  # NUMERIC(12, 2)
ZERO = Decimal("0.000")


def _quantity(value: Any, *, field: str = "lines", signed: bool = False) -> Decimal:
    quantity = parse_quantity(value)
    if quantity is None or (quantity <= 0 and not signed) or quantity == 0:
        problem = "A quantity other than 0." if signed else "Quantity must be above 0."
        raise ValidationFailed(problem, details={field: [problem]})
    if quantity != quantity.quantize(MILLI) or abs(quantity) > MAX_STOCK:
        problem = "At most 3 decimal places, and not above the largest stock."
        raise ValidationFailed(problem, details={field: [problem]})
    return quantity.quantize(MILLI)


def stock_store(store: Any) -> int:
    """The store a stock write is at: ``store`` (an id) when given, else the default store.
    ``StoreNotFound`` for a store that does not exist or is inactive."""
    if store is None or store == "":
        return default_store_pk()
    try:
        pk = int(store)
    except (TypeError, ValueError):
        raise ValidationFailed("A store is an id.", details={"store": ["A valid integer is required."]}) from None
    if not Store.objects.filter(pk=pk, is_active=True).exists():
        raise StoreNotFound(f"Store {store} does not exist or is inactive.", details={"store": pk})
    return pk


@dataclass
class _Line:
    product_id: int
    quantity: Decimal  # signed
    unit_cost: Decimal | None = None


def _post(
    lines: Sequence[_Line],
    *,
    store: int,
    kind: str,
    user: Actor,
    reason: str = "",
    clamp: bool = False,
    **reference: Any,
) -> tuple[dict[int, Product], list[StockMovement]]:
    """At ``store`` (an id): lock the lines' ``StoreStock`` rows (by product id, a missing one made
    at 0), check and apply each line's quantity to that store's stock in one guarded UPDATE, and
    write one movement per line at the store with its ``balance_after`` (the store's stock after
    it). Refuses an unknown product (``ProductMissing``), a fraction of an ``each`` product, and
    stock below 0 (``InsufficientStock``: nothing written) unless ``clamp`` (a count's difference,
    applied no further than to 0). Returns the products, each with ``stock`` set to the store's
    stock as it now is, and the movements. Transfers, receipts, adjustments and counts all move
    stock through here."""
    ids = sorted({line.product_id for line in lines})
    products = {p.pk: p for p in Product.objects.filter(pk__in=ids).with_stock(store)}
    for line in lines:
        if line.product_id not in products:
            raise ProductMissing(
                f"Product {line.product_id} does not exist; create it first.", details={"product_id": line.product_id}
            )
    rows = {row.product_id: row for row in store_stock_for_update(store, ids, create=True)}
    running: dict[int, Decimal] = {}
    moves: list[StockMovement] = []
    now = timezone.now()
    for line in lines:
        product = products[line.product_id]
        problem = quantity_problem(abs(line.quantity), product.unit)
        if problem:
            raise ValidationFailed(f"{product.name}: {problem}", details={"lines": [problem], "product_id": product.pk})
        before = running.get(product.pk, rows[product.pk].stock)
        quantity = line.quantity
        if before + quantity < 0:
            if not clamp:
                raise InsufficientStock(
                    f"Only {quantity_text(before, product.unit)} of {product.name} in stock; "
                    f"{quantity_text(-quantity, product.unit)} cannot be taken off.",
                    details={
                        "product_id": product.pk,
                        "available": quantity_json(before, product.unit),
                        "requested": quantity_json(-quantity, product.unit),
                    },
                )
            quantity = -before
        if before + quantity > MAX_STOCK:
            problem = f"More than {MAX_STOCK} in stock."
            raise ValidationFailed(f"{product.name}: {problem}", details={"lines": [problem], "product_id": product.pk})
        if quantity == 0:
            continue
        running[product.pk] = before + quantity
        moves.append(
            StockMovement(
                store_id=store,
                product=product,
                kind=kind,
                quantity=quantity,
                balance_after=before + quantity,
                unit_cost=line.unit_cost if line.unit_cost is not None else product.cost_price,
                reason=reason[:255],
                user=recorded_user(user),
                created_at=now,
                **reference,
            )
        )
    deltas = {rows[pk].pk: stock - rows[pk].stock for pk, stock in running.items() if stock != rows[pk].stock}
    if deltas and guarded_add(StoreStock, "stock", deltas, also_set={"updated_at": now}) != len(deltas):
        raise InsufficientStock("Stock changed meanwhile.")  # cannot happen under the locks
    for pk, stock in running.items():
        rows[pk].stock = products[pk].stock = stock
    StockMovement.objects.bulk_create(moves)
    return products, moves


def opening_movement(
    product: Product, *, kind: str = Kind.OPENING, user: Actor = None, store: int | None = None
) -> StockMovement:
    """The first movement of a new product at ``store`` (default: the default store): its stock as
    created (``opening``, or ``import``), which becomes its ``StoreStock`` row there. A product
    created at one store has no row at the others (0 there)."""
    store = store if store is not None else default_store_pk()
    stock = product.stock
    StoreStock.objects.create(store_id=store, product=product, stock=stock)
    return StockMovement.objects.create(
        store_id=store,
        product=product,
        kind=kind,
        quantity=stock,
        balance_after=stock,
        unit_cost=product.cost_price,
        user=recorded_user(user),
    )


# --- Adjustments --------------------------------------------------------------------------------------


@atomic_write()
def adjustment_create(
    *, lines: Sequence[Mapping[str, Any]], reason: str, note: str = "", store: Any = None, user: Actor
) -> Adjustment:
    """A manager's change of stock at ``store`` (an id; default: the default store): ``lines`` of
    ``{product_id, quantity}`` (signed), with a
    ``reason`` (``damaged``, ``expired``, ``theft``, ``found``, or ``other`` with a ``note``). Stock
    never goes below 0: ``InsufficientStock`` and nothing is written."""
    note = (note or "").strip()
    if reason not in Adjustment.Reason.values:
        problem = f"One of {', '.join(Adjustment.Reason.values)}."
        raise ValidationFailed(f"Unknown reason {reason!r}.", details={"reason": [problem]})
    if reason == Adjustment.Reason.OTHER and not note:
        raise ValidationFailed(
            "Say what the adjustment is for.", details={"note": ["Required when the reason is other."]}
        )
    parsed = _lines(lines, signed=True)
    store_id = stock_store(store)
    adjustment = Adjustment.objects.create(
        store_id=store_id, reason=reason, note=note[:255], created_by=recorded_user(user)
    )
    _post(parsed, store=store_id, kind=Kind.ADJUSTMENT, user=user, reason=note or reason, adjustment=adjustment)
    AdjustmentLine.objects.bulk_create(
        AdjustmentLine(adjustment=adjustment, product_id=line.product_id, quantity=line.quantity) for line in parsed
    )
    logger.info("adjustment #%s: %s lines, %s, by %s", adjustment.pk, len(parsed), reason, user)
    return adjustment


def _lines(lines: Sequence[Mapping[str, Any]], *, signed: bool = False) -> list[_Line]:
    if not lines:
        raise ValidationFailed("At least one line.", details={"lines": ["This list may not be empty."]})
    if len(lines) > MAX_LINES:
        raise ValidationFailed(f"At most {MAX_LINES} lines.", details={"lines": ["Too many lines."]})
    return [_Line(int(line["product_id"]), _quantity(line["quantity"], signed=signed)) for line in lines]


# --- Goods received -----------------------------------------------------------------------------------


def moving_average(*, stock: Decimal, cost: Decimal, quantity: Decimal, unit_cost: Decimal) -> Decimal:
    """(old stock × old cost + quantity × unit cost) / (old stock + quantity), to the paisa."""
    total = stock + quantity
    if total <= 0:
        return unit_cost
    return ((stock * cost + quantity * unit_cost) / total).quantize(CENT, rounding=ROUND_HALF_UP)


@atomic_write()
def receipt_create(
    *,
    supplier: int,
    supplier_invoice: str,
    invoice_date: date,
    lines: Sequence[Mapping[str, Any]],
    note: str = "",
    store: Any = None,
    user: Actor,
) -> Receipt:
    """Goods received at ``store`` (an id; default: the default store) against a supplier's
    invoice: each line ``{product_id, quantity, unit_cost,
    tax_percent}`` adds stock at the store through a ``receipt`` movement and moves the product's
    ``cost_price`` (one for the chain) to the moving average over the chain's stock. Records the
    invoice's value, input tax and total; no drawer movement. A
    product that does not exist is refused (``ProductMissing``), as is an unknown supplier."""
    supplier_row = Supplier.objects.filter(pk=supplier).first()
    if supplier_row is None:
        raise SupplierNotFound(f"Supplier {supplier} does not exist.", details={"supplier": supplier})
    invoice = (supplier_invoice or "").strip()
    if not invoice:
        raise ValidationFailed(
            "The supplier's invoice number is required.", details={"supplier_invoice": ["Required."]}
        )
    parsed = _lines(lines)
    store_id = stock_store(store)
    costs: list[tuple[Decimal, Decimal]] = []
    for raw in lines:
        unit_cost, tax_percent = Decimal(str(raw["unit_cost"])), Decimal(str(raw.get("tax_percent") or 0))
        if not unit_cost.is_finite() or unit_cost < 0 or unit_cost != unit_cost.quantize(CENT) or unit_cost >= 10**10:
            raise ValidationFailed("A unit cost is 0 or more, to the paisa.", details={"lines": ["Invalid unit_cost."]})
        if not tax_percent.is_finite() or not 0 <= tax_percent <= 100 or tax_percent != tax_percent.quantize(CENT):
            raise ValidationFailed("A tax rate is 0 to 100 percent.", details={"lines": ["Invalid tax_percent."]})
        costs.append((unit_cost, tax_percent))
    for line, (unit_cost, _) in zip(parsed, costs, strict=True):
        line.unit_cost = unit_cost
    receipt_lines = []
    for line, (unit_cost, tax_percent) in zip(parsed, costs, strict=True):
        subtotal = money(line.quantity * unit_cost)
        receipt_lines.append(
            ReceiptLine(
                product_id=line.product_id,
                quantity=line.quantity,
                unit_cost=unit_cost,
                tax_percent=tax_percent,
                subtotal=subtotal,
                tax_amount=line_tax(subtotal=subtotal, tax_percent=tax_percent),
            )
        )
    subtotal = sum((r.subtotal for r in receipt_lines), Decimal("0.00"))
    tax_total = sum((r.tax_amount for r in receipt_lines), Decimal("0.00"))
    if subtotal + tax_total >= MAX_AMOUNT:
        problem = "The invoice's total is too large."
        raise ValidationFailed(problem, details={"lines": [problem]})
    receipt = Receipt.objects.create(
        store_id=store_id,
        supplier=supplier_row,
        supplier_invoice=invoice[:64],
        invoice_date=invoice_date,
        note=(note or "").strip()[:255],
        subtotal=subtotal,
        tax_total=tax_total,
        total=subtotal + tax_total,
        created_by=recorded_user(user),
    )
    # The costs before the stock moves: the average weighs the chain's stock (every store's) as it
    # was, line by line. The products are locked FOR NO KEY UPDATE first (their cost), then the
    # store's stock rows (``_post``): a bill, which locks the stock rows and only key-shares the
    # product, neither waits for this lock nor holds one this waits for in turn.
    ids = sorted({line.product_id for line in parsed})
    before = {p.pk: (p.stock, p.cost_price) for p in products_for_update(ids)}
    averages: dict[int, tuple[Decimal, Decimal]] = {}
    for line in parsed:
        if line.product_id not in before:
            raise ProductMissing(
                f"Product {line.product_id} does not exist; create it first.", details={"product_id": line.product_id}
            )
        stock, cost = averages.get(line.product_id, before[line.product_id])
        assert line.unit_cost is not None
        averages[line.product_id] = (
            stock + line.quantity,
            moving_average(stock=stock, cost=cost, quantity=line.quantity, unit_cost=line.unit_cost),
        )
    _post(
        parsed,
        store=store_id,
        kind=Kind.RECEIPT,
        user=user,
        reason=f"{supplier_row.name} {invoice}"[:255],
        receipt=receipt,
    )
    for pk, (_, cost) in averages.items():
        if cost != before[pk][1]:
            Product.objects.filter(pk=pk).update(cost_price=cost)
    for received in receipt_lines:
        received.receipt = receipt
    ReceiptLine.objects.bulk_create(receipt_lines)
    logger.info("receipt #%s from supplier %s: %s lines, total %s", receipt.pk, supplier, len(parsed), receipt.total)
    return receipt


# --- Suppliers ----------------------------------------------------------------------------------------


@atomic_write()
def supplier_save(*, supplier: Supplier | None = None, **fields: Any) -> Supplier:
    """Create (``supplier`` None) or change a supplier. The GSTIN, when given, is checked and stored
    in upper case (``validate_gstin``)."""
    from django.core.exceptions import ValidationError

    from billing_project.core.validators import validate_gstin

    if "gstin" in fields:
        gstin = (fields["gstin"] or "").strip().upper()
        if gstin:
            try:
                gstin = validate_gstin(gstin)
            except ValidationError as exc:
                raise ValidationFailed(exc.messages[0], details={"gstin": exc.messages}) from None
        fields["gstin"] = gstin
    if "name" in fields:
        fields["name"] = (fields["name"] or "").strip()
        if not fields["name"]:
            raise ValidationFailed("A supplier needs a name.", details={"name": ["This field may not be blank."]})
    supplier = supplier or Supplier()
    for name, value in fields.items():
        setattr(supplier, name, value if value is not None else "")
    supplier.save()
    return supplier


# --- Stock counts -------------------------------------------------------------------------------------


@atomic_write()
def stock_count_open(
    *, product_ids: Iterable[int] | None = None, note: str = "", store: Any = None, user: Actor
) -> StockCount:
    """Open a count at ``store`` (an id; default: the default store) over every product
    (``product_ids`` None) or those named, recording each one's stock at that store as it now is
    (``opening``)."""
    store_id = stock_store(store)
    products = Product.objects.with_stock(store_id)
    if product_ids is not None:
        products = products.filter(pk__in=list(product_ids))
    if product_ids is not None:
        wanted = set(product_ids)
        missing = sorted(wanted - set(products.values_list("pk", flat=True)))
        if missing:
            raise ProductMissing(f"Product {missing[0]} does not exist.", details={"product_id": missing[0]})
        if not wanted:
            raise ValidationFailed("Name at least one product.", details={"products": ["May not be empty."]})
    count = StockCount.objects.create(
        store_id=store_id, note=(note or "").strip()[:255], created_by=recorded_user(user)
    )
    StockCountLine.objects.bulk_create(
        StockCountLine(count=count, product_id=pk, opening=stock)
        for pk, stock in products.order_by("pk").values_list("pk", "stock")
    )
    logger.info("stock count #%s opened by %s", count.pk, user)
    return count


def _count_store(count: StockCount) -> int:
    store_id = count.store_id
    assert store_id is not None  # NOT NULL
    return store_id


def _count_for_update(count_id: int) -> StockCount:
    count = StockCount.objects.select_for_update().get(pk=count_id)  # the API found it first (404)
    if count.status == StockCount.Status.POSTED:
        raise StockCountPosted(f"Stock count #{count.pk} is already posted.", details={"count_id": count.pk})
    return count


@atomic_write()
def stock_count_record(*, count_id: int, product_id: int, counted: Any, user: Actor) -> StockCountLine:
    """Record what the count's store's shelf holds of a product: ``expected`` is the product's stock
    at that store at this moment (read under the ``StoreStock`` row's lock, so a bill is either
    before or after it), and ``difference = counted − expected``. A recount replaces both. The
    count's row is locked first: a post waits or comes before (then ``StockCountPosted``)."""
    count = _count_for_update(count_id)
    line = StockCountLine.objects.filter(count=count, product_id=product_id).first()
    if line is None:
        raise ProductMissing(
            f"Product {product_id} is not in stock count #{count.pk}.", details={"product_id": product_id}
        )
    product = Product.objects.get(pk=product_id)  # the count's line holds it (CASCADE)
    row = store_stock_for_update(_count_store(count), [product_id], create=True).get()
    quantity = parse_quantity(counted)
    problem = "A number is required." if quantity is None else quantity_problem(quantity, product.unit, allow_zero=True)
    if problem:
        raise ValidationFailed(f"{product.name}: {problem}", details={"counted": [problem]})
    assert quantity is not None
    if quantity > MAX_STOCK:
        raise ValidationFailed("Too large.", details={"counted": [f"At most {MAX_STOCK}."]})
    line.counted, line.expected = quantity.quantize(MILLI), row.stock
    line.difference = line.counted - line.expected
    line.counted_at, line.counted_by = timezone.now(), recorded_user(user)
    line.save(update_fields=["counted", "expected", "difference", "counted_at", "counted_by"])
    line.product = product
    return line


@atomic_write()
def stock_count_post(*, count_id: int, user: Actor) -> StockCount:
    """Apply each counted line's difference to its product's stock at the count's store as a
    ``count`` movement, and mark
    the count posted. Uncounted products are left as they are. Posting twice is
    ``StockCountPosted``. A difference that would take stock below 0 (goods sold after the count
    that the shelf did not have) takes it to 0."""
    count = _count_for_update(count_id)
    lines = [
        _Line(pk, difference)
        for pk, difference in count.lines.filter(counted__isnull=False)
        .exclude(difference=0)
        .order_by("product_id")
        .values_list("product_id", "difference")
    ]
    if lines:
        _post(
            lines,
            store=_count_store(count),
            kind=Kind.COUNT,
            user=user,
            reason=f"stock count #{count.pk}",
            clamp=True,
            stock_count=count,
        )
    count.status, count.posted_at, count.posted_by = StockCount.Status.POSTED, timezone.now(), recorded_user(user)
    count.save(update_fields=["status", "posted_at", "posted_by"])
    logger.info("stock count #%s posted by %s: %s differences", count.pk, user, len(lines))
    return count


def stock_count_variance(count: StockCount) -> dict[str, Any]:
    """A count's variance: the counted lines' differences, their value at cost, and how many lines
    are counted."""
    return stock_count_variances([count.pk])[count.pk]


def stock_count_variances(count_ids: list[int]) -> dict[int, dict[str, Any]]:
    """``stock_count_variance`` of each of the counts ``count_ids``, in one query (a list's page)."""
    sums = (
        StockCountLine.objects.filter(count_id__in=count_ids)
        .order_by()
        .values("count_id")
        .annotate(
            n_counted=Count("pk", filter=Q(counted__isnull=False)),
            n_lines=Count("pk"),
            at_cost=Sum(F("difference") * F("product__cost_price"), filter=Q(counted__isnull=False)),
        )
    )
    variances = {pk: {"lines": 0, "counted": 0, "value": money(0)} for pk in count_ids}
    for row in sums:
        variances[row["count_id"]] = {
            "lines": row["n_lines"],
            "counted": row["n_counted"],
            "value": money(row["at_cost"] or 0),
        }
    return variances


# --- The audit ----------------------------------------------------------------------------------------


@dataclass
class StoreAudit:
    store: int
    code: str
    products: int = 0
    movements: int = 0
    problems: int = 0


@dataclass
class StockAudit:
    products: int
    movements: int
    problems: list[str]
    stores: list[StoreAudit]

    @property
    def ok(self) -> bool:
        return not self.problems


def stock_audit() -> StockAudit:
    """Each store's stock against its ledger: for every (store, product), the ``StoreStock`` row
    (none: 0) equals the sum of the product's movements at that store, and each movement's
    ``balance_after`` is the previous one's at the same store plus its quantity (the first one's:
    its quantity). Also a movement at a store that does not exist, and a sale at another store than
    its bill's. ``products`` counts the (store, product) pairs checked. Run it on a quiet shop."""
    problems: list[str] = []
    stores = {
        pk: StoreAudit(store=pk, code=code) for pk, code in Store.objects.order_by("pk").values_list("pk", "code")
    }
    # A movement's store has no foreign key of its own (its stock row's has): check it here.
    problems += [
        f"movement {mid} of product {pk}: store {store} does not exist"
        for mid, store, pk in StockMovement.objects.exclude(store_id__in=list(stores))
        .order_by("id")
        .values_list("id", "store_id", "product_id")
    ]
    problems += [
        f"movement {mid} of product {pk}: a sale at store {store} on bill {bill} of store {bill_store}"
        for mid, pk, store, bill, bill_store in StockMovement.objects.filter(kind=StockMovement.Kind.SALE)
        .exclude(store_id=F("purchase__store_id"))
        .order_by("id")
        .values_list("id", "product_id", "store_id", "purchase_id", "purchase__store_id")
    ]
    at_a_store = StockMovement.objects.filter(store_id__in=list(stores))
    sums = {
        (store, pk): total
        for store, pk, total in at_a_store.order_by()
        .values("store_id", "product_id")
        .annotate(total=Sum("quantity"))
        .values_list("store_id", "product_id", "total")
    }
    names = dict(Product.objects.values_list("pk", "name"))
    stocks = {
        (store, pk): stock
        for store, pk, stock in StoreStock.objects.order_by().values_list("store_id", "product_id", "stock").iterator()
    }
    for key in sorted(set(sums) | set(stocks)):
        store, pk = key
        stores[store].products += 1
        stock = stocks.get(key, ZERO)
        total = Decimal(sums.get(key) or 0).quantize(MILLI)
        if total != stock:
            stores[store].problems += 1
            problems.append(
                f"store {stores[store].code}, product {pk} ({names.get(pk, '?')}): stock {stock} "
                f"but its movements there add up to {total}"
            )
    movements = 0
    previous: dict[tuple[int, int], Decimal] = {}
    rows = at_a_store.order_by("store_id", "product_id", "id").values_list(
        "id", "store_id", "product_id", "quantity", "balance_after"
    )
    for mid, store, pk, quantity, balance in rows.iterator(chunk_size=5000):
        movements += 1
        stores[store].movements += 1
        expected = previous.get((store, pk), ZERO) + quantity
        if balance != expected:
            stores[store].problems += 1
            problems.append(
                f"movement {mid} of product {pk} at store {stores[store].code}: balance_after {balance}, "
                f"expected {expected}"
            )
        previous[(store, pk)] = balance
    return StockAudit(
        products=sum(s.products for s in stores.values()),
        movements=movements,
        problems=problems,
        stores=list(stores.values()),
    )
