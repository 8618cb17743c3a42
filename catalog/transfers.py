"""Transfers: goods sent from one store to another, in two halves, two transactions by design.

1. ``transfer_create`` takes the goods out of the source at once (a ``transfer_out`` movement per
   line, at the source) and the transfer is ``in_transit``: the goods are in neither store's stock.
2. ``transfer_receive`` records what arrived, once: each received quantity goes in at the
   destination (``transfer_in``); a shortfall is *lost in transit*, a ``transfer_loss`` movement at
   the destination naming the receiver. The loss moves no stock (its ``quantity`` is 0, its
   ``balance_after`` the destination's stock as it stands): the goods already left the source at
   dispatch and never reached the destination's shelves. Its amount is the transfer line's
   ``loss`` (``sent − received``), and the movement's ``reason`` says it in words. So each store's
   stock stays the sum of its movements (``stock_audit``), and the chain's stock falls by exactly
   what was lost.

Lock order (docs/architecture.md): a receive locks the transfer's row (step 2, as a stock count's
row), then the destination's stock rows by product id (step 3a); a create locks only the source's
stock rows by product id (step 3a), through ``catalog.stock._post`` as every stock move does.
docs/stock.md has the rules.
"""

import logging
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.utils import timezone

from billing_project.core.db import atomic_write
from billing_project.core.errors import ValidationFailed
from billing_project.core.quantities import MILLI, parse_quantity, quantity_json, quantity_problem, quantity_text
from billing_project.core.types import Actor, recorded_user

from .errors import ProductArchived, ProductMissing, StoreNotFound, TransferAlreadyReceived, TransferNotFound
from .lock_objects import store_stock_for_update, transfer_for_update
from .models import MAX_STOCK, Product, StockMovement, Store, Transfer, TransferLine
from .stock import MAX_LINES, _Line, _post

logger = logging.getLogger("billing.catalog")

Kind = StockMovement.Kind


def _store_id(value: Any, field: str) -> int:
    """An active store's id, else ``StoreNotFound`` (``details``: the field and the id)."""
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed("A store is an id.", details={field: ["A valid integer is required."]}) from None
    if not Store.objects.filter(pk=pk, is_active=True).exists():
        raise StoreNotFound(f"Store {value} does not exist or is inactive.", details={field: pk})
    return pk


def _parsed(lines: Sequence[Mapping[str, Any]], *, allow_zero: bool) -> dict[int, Decimal]:
    """``{product id: quantity}``, in the order given; each product once, each quantity a number
    above 0 (0 or more with ``allow_zero``) to at most 3 places. ``ValidationFailed`` otherwise."""
    if not lines:
        raise ValidationFailed("At least one line.", details={"lines": ["This list may not be empty."]})
    if len(lines) > MAX_LINES:
        raise ValidationFailed(f"At most {MAX_LINES} lines.", details={"lines": ["Too many lines."]})
    parsed: dict[int, Decimal] = {}
    for line in lines:
        product_id = int(line["product_id"])
        quantity = parse_quantity(line["quantity"])
        if quantity is None or quantity < 0 or (quantity == 0 and not allow_zero):
            problem = "Must be 0 or more." if allow_zero else "Quantity must be above 0."
            raise ValidationFailed(problem, details={"lines": [problem], "product_id": product_id})
        if quantity != quantity.quantize(MILLI) or quantity > MAX_STOCK:
            problem = "At most 3 decimal places, and not above the largest stock."
            raise ValidationFailed(problem, details={"lines": [problem], "product_id": product_id})
        if product_id in parsed:
            problem = "Each product once."
            raise ValidationFailed(
                f"Product {product_id} is named twice.", details={"lines": [problem], "product_id": product_id}
            )
        parsed[product_id] = quantity.quantize(MILLI)
    return parsed


@atomic_write()
def transfer_create(
    *, from_store: Any, to_store: Any, lines: Sequence[Mapping[str, Any]], note: str = "", user: Actor
) -> Transfer:
    """Send goods from ``from_store`` to ``to_store`` (ids of two active stores): ``lines`` of
    ``{product_id, quantity}`` (each product once, above 0, whole for an ``each`` product). The
    stock leaves the source now, as one ``transfer_out`` movement per line, and the transfer is
    ``in_transit``.

    Locks the source's ``StoreStock`` rows in product-id order (step 3a), through ``_post``.
    Raises ``StoreNotFound`` (a store unknown or inactive), ``ValidationFailed`` (the same store
    twice, a bad quantity, a fraction of an ``each`` product), ``ProductMissing``,
    ``ProductArchived``, and ``InsufficientStock`` when the source lacks a line's stock. Any
    refusal writes nothing. Who may send from which store is the caller's rule (the API's)."""
    source, destination = _store_id(from_store, "from_store"), _store_id(to_store, "to_store")
    if source == destination:
        problem = "Another store than from_store."
        raise ValidationFailed("A transfer goes to another store.", details={"to_store": [problem]})
    quantities = _parsed(lines, allow_zero=False)
    states = dict(Product.objects.filter(pk__in=list(quantities)).values_list("pk", "is_active"))
    for product_id in quantities:
        if product_id not in states:
            raise ProductMissing(f"Product {product_id} does not exist.", details={"product_id": product_id})
        if not states[product_id]:
            raise ProductArchived(
                f"Product {product_id} is archived and cannot be transferred.", details={"product_id": product_id}
            )
    transfer = Transfer.objects.create(
        from_store_id=source,
        to_store_id=destination,
        note=(note or "").strip()[:255],
        created_by=recorded_user(user),
    )
    code = Store.objects.values_list("code", flat=True).get(pk=destination)
    _post(
        [_Line(pk, -quantity) for pk, quantity in quantities.items()],
        store=source,
        kind=Kind.TRANSFER_OUT,
        user=user,
        reason=f"transfer #{transfer.pk} to {code}",
        transfer=transfer,
    )
    TransferLine.objects.bulk_create(
        TransferLine(transfer=transfer, product_id=pk, quantity=quantity) for pk, quantity in quantities.items()
    )
    logger.info("transfer #%s: %s lines from store %s to %s, by %s", transfer.pk, len(quantities), source, code, user)
    return transfer


@atomic_write()
def transfer_receive(*, transfer_id: int, lines: Sequence[Mapping[str, Any]], user: Actor) -> Transfer:
    """Receive an ``in_transit`` transfer at its destination, once: ``lines`` of ``{product_id,
    quantity}`` name **every** product of the transfer exactly once with the quantity that arrived
    (0 to the quantity sent; 0: none arrived). Each received quantity goes in at the destination
    as a ``transfer_in`` movement; each shortfall is a ``transfer_loss`` movement there, of
    quantity 0 (the stock left the source at dispatch), naming the receiver, with the line's
    ``loss``. The transfer becomes ``received``.

    Locks the transfer's row (step 2), then the destination's ``StoreStock`` rows in product-id
    order (step 3a). Raises ``TransferNotFound``, ``TransferAlreadyReceived`` (received before,
    perhaps a moment ago by a concurrent receive), ``StoreNotFound`` (the destination is inactive
    now), and ``ValidationFailed``: a product that is not on the transfer, a product of the
    transfer left out, more than was sent (an excess is refused: record it as a separate
    adjustment), a fraction of an ``each`` product. Any refusal writes nothing."""
    transfer = transfer_for_update(transfer_id).first()
    if transfer is None:
        raise TransferNotFound(f"Transfer {transfer_id} does not exist.", details={"transfer_id": transfer_id})
    if transfer.status != Transfer.Status.IN_TRANSIT:
        raise TransferAlreadyReceived(
            f"Transfer #{transfer.pk} is already received.", details={"transfer_id": transfer.pk}
        )
    if not Store.objects.filter(pk=transfer.to_store_id, is_active=True).exists():
        raise StoreNotFound(
            f"Store {transfer.to_store_id} is inactive: reactivate it to receive.",
            details={"to_store": transfer.to_store_id},
        )
    received = _parsed(lines, allow_zero=True)
    sent = {line.product_id: line for line in transfer.lines.select_related("product").order_by("product_id")}
    for product_id in received:
        if product_id not in sent:
            problem = "Not on this transfer."
            raise ValidationFailed(
                f"Product {product_id} is not on transfer #{transfer.pk}.",
                details={"lines": [problem], "product_id": product_id},
            )
    missing = [pk for pk in sent if pk not in received]
    if missing:
        problem = "Name every product of the transfer, with 0 for one that did not arrive."
        raise ValidationFailed(
            f"Product {missing[0]} of transfer #{transfer.pk} is left out.",
            details={"lines": [problem], "product_id": missing[0]},
        )
    for product_id, line in sent.items():
        quantity, product = received[product_id], line.product
        problem = quantity_problem(quantity, product.unit, allow_zero=True)
        if problem:
            raise ValidationFailed(f"{product.name}: {problem}", details={"lines": [problem], "product_id": product_id})
        if quantity > line.quantity:
            problem = "More than was sent: record the excess as an adjustment."
            raise ValidationFailed(
                f"{product.name}: {quantity_text(quantity, product.unit)} received, but "
                f"{quantity_text(line.quantity, product.unit)} was sent.",
                details={
                    "lines": [problem],
                    "product_id": product_id,
                    "sent": quantity_json(line.quantity, product.unit),
                    "received": quantity_json(quantity, product.unit),
                },
            )
    destination = transfer.to_store_id
    rows = {row.product_id: row for row in store_stock_for_update(destination, list(sent), create=True)}
    arrived = [_Line(pk, received[pk]) for pk in sent if received[pk] > 0]
    reason = f"transfer #{transfer.pk} from {transfer.from_store.code}"
    products: dict[int, Product] = {}
    if arrived:
        products, _ = _post(
            arrived, store=destination, kind=Kind.TRANSFER_IN, user=user, reason=reason, transfer=transfer
        )
    now, receiver = timezone.now(), recorded_user(user)
    losses = []
    for pk, line in sent.items():
        line.received, line.loss = received[pk], line.quantity - received[pk]
        if line.loss > 0:
            unit = line.product.unit
            losses.append(
                StockMovement(
                    store_id=destination,
                    product_id=pk,
                    kind=Kind.TRANSFER_LOSS,
                    quantity=Decimal("0.000"),
                    balance_after=products[pk].stock if pk in products else rows[pk].stock,
                    unit_cost=line.product.cost_price,
                    reason=(
                        f"lost in transit: {quantity_text(line.loss, unit)} of {quantity_text(line.quantity, unit)} "
                        f"sent, {reason}"
                    )[:255],
                    user=receiver,
                    created_at=now,
                    transfer=transfer,
                )
            )
    StockMovement.objects.bulk_create(losses)
    TransferLine.objects.bulk_update(list(sent.values()), ["received", "loss"])
    transfer.status, transfer.received_at, transfer.received_by = Transfer.Status.RECEIVED, now, receiver
    transfer.save(update_fields=["status", "received_at", "received_by"])
    logger.info("transfer #%s received by %s: %s lines short", transfer.pk, user, len(losses))
    return transfer
