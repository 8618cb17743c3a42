from django.db.models import Prefetch
from django_filters.rest_framework import DjangoFilterBackend, FilterSet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import filters, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from billing_project.core.api.exceptions import error_response
from billing_project.core.api.filters import BooleanFilter
from billing_project.core.api.pagination import PageAndCountPagination, PageNumberPagination
from billing_project.core.api.permissions import ActionPermissions, RolePermissions
from billing_project.core.api.schema import ErrorSerializer, describe, error_responses
from billing_project.core.errors import ErrorCode, ValidationFailed
from billing_project.core.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent_response

from .errors import StoreNotFound, StoreNotVisible, TransferNotFound, UnknownCode
from .models import (
    ZERO_STOCK,
    Adjustment,
    Product,
    Receipt,
    StockCount,
    StockCountLine,
    StockMovement,
    StorePrice,
    StoreStock,
    Supplier,
)
from .selectors import product_for_code, product_list, transfer_list
from .serializers import (
    MAX_ID,
    AdjustmentCreateSerializer,
    AdjustmentSerializer,
    CountedSerializer,
    ProductLookupQuerySerializer,
    ProductLookupSerializer,
    ProductSerializer,
    ReceiptCreateSerializer,
    ReceiptSerializer,
    StockCountCreateSerializer,
    StockCountLineSerializer,
    StockCountSerializer,
    StockMovementSerializer,
    StorePriceSerializer,
    StoreStockSerializer,
    SupplierSerializer,
    TransferCreateSerializer,
    TransferFilterSerializer,
    TransferReceiveSerializer,
    TransferSerializer,
)
from .services import (
    STOCK_READ_ONLY,
    product_create,
    product_delete,
    product_update,
    store_price_delete,
    store_price_set,
)
from .stock import (
    adjustment_create,
    receipt_create,
    stock_count_open,
    stock_count_post,
    stock_count_record,
    supplier_save,
)
from .stores import can_see_store, scope, visible_stores
from .transfers import transfer_create, transfer_receive


class ProductFilter(FilterSet):
    is_active = BooleanFilter(help_text="`true`: only the products on sale; `false`: only the archived ones.")

    class Meta:
        model = Product
        fields = ["is_active"]


# A price above the MRP, as the product will stand, is refused by the service.
_WRITE_ERRORS = error_responses(ErrorCode.VALIDATION_ERROR, ErrorCode.PARSE_ERROR, ErrorCode.PRICE_ABOVE_MRP)


@extend_schema_view(
    list=extend_schema(
        description="The catalogue, paginated: `search` looks in names and SKUs, `is_active` keeps the products on "
        "sale or the archived ones."
    ),
    create=extend_schema(
        description="Add a product. Managers only.",
        responses={201: ProductSerializer, **_WRITE_ERRORS},
    ),
    retrieve=extend_schema(description="One product."),
    update=extend_schema(
        description="Replace a product's fields. Managers only.", responses={200: ProductSerializer, **_WRITE_ERRORS}
    ),
    partial_update=extend_schema(
        description="Change some of a product's fields. Managers only.",
        responses={200: ProductSerializer, **_WRITE_ERRORS},
    ),
    destroy=extend_schema(
        description="Deletes the product, or archives it (`is_active=false`) when a bill references it. Managers only."
    ),
)
@extend_schema(tags=["products"])
class ProductViewSet(viewsets.ModelViewSet):
    """The product catalogue. Writes need the manager role."""

    serializer_class = ProductSerializer
    permission_classes = [ActionPermissions]
    action_permissions = {
        ("movements", "GET"): ("catalog.view_stockmovement",),
        ("store_prices", "PUT"): ("catalog.change_product",),
        ("store_prices", "DELETE"): ("catalog.change_product",),
    }
    filter_backends = [DjangoFilterBackend, filters.SearchFilter]
    filterset_class = ProductFilter
    search_fields = ["name", "sku"]
    # The page is sorted by name, which no index serves (docs/performance.md): it reads every product
    # the list selects (a name search's matches, from the table) to sort them, and its count with them.
    pagination_class = PageAndCountPagination
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        if self.action == "list" and "store" in self.request.query_params:
            # That store's stock in ``stock``; a store the user does not see: nothing.
            store = _store_param(self.request.query_params.get("store"))
            if not can_see_store(self.request.user, store):
                return product_list().none()
            return product_list(store=store)
        return product_list()

    @extend_schema(
        responses={200: StoreStockSerializer(many=True)},
        description="The product's stock at each store the user can see (every store for head office), "
        "0 where a store has none.",
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def stock(self, request, pk=None, format=None):
        product = self.get_object()
        rows = dict(StoreStock.objects.filter(product_id=product.pk).values_list("store_id", "stock"))
        data = [
            {
                "store": pk,
                "store_code": code,
                "store_name": name,
                "stock": rows.get(pk, ZERO_STOCK),
                "unit": product.unit,
            }
            for pk, code, name in visible_stores(request.user).order_by("code", "pk").values_list("pk", "code", "name")
        ]
        return Response(StoreStockSerializer(data, many=True).data)

    @extend_schema(
        methods=["GET"],
        responses={200: StorePriceSerializer, 404: OpenApiResponse(ErrorSerializer, description="`not_found`.")},
        description="The product's own price at a store (404 when it has none there: bills charge `price`).",
    )
    @extend_schema(
        methods=["PUT"],
        request=StorePriceSerializer,
        responses={
            200: StorePriceSerializer,
            **error_responses(ErrorCode.VALIDATION_ERROR, ErrorCode.PRICE_ABOVE_MRP, ErrorCode.STORE_NOT_FOUND),
        },
        description="Set the product's own price at a store: bills at that store's tills charge it. Not above "
        "the product's `mrp` (`price_above_mrp`). Managers (`catalog.change_product`).",
    )
    @extend_schema(
        methods=["DELETE"],
        responses={204: None},
        description="Remove the product's own price at a store (404 when it has none there). Managers.",
    )
    @action(
        detail=True,
        methods=["get", "put", "delete"],
        url_path=r"store-prices/(?P<store_id>[0-9]{1,18})",
        pagination_class=None,
        filter_backends=[],
    )
    def store_prices(self, request, pk=None, store_id=None, format=None):
        product = self.get_object()
        store = int(store_id)
        if not can_see_store(request.user, store):
            raise NotFound("No such store.")
        if request.method == "PUT":
            serializer = StorePriceSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            row = store_price_set(product=product, store=store, price=serializer.validated_data["price"])
            return Response(_store_price(row))
        own = StorePrice.objects.filter(store_id=store, product_id=product.pk).first()
        if own is None:
            raise NotFound("The product has no price of its own at this store.")
        if request.method == "DELETE":
            store_price_delete(product=product, store=store)
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(_store_price(own))

    @extend_schema(
        parameters=[ProductLookupQuerySerializer],
        responses={
            200: ProductLookupSerializer,
            400: OpenApiResponse(
                response=ErrorSerializer,
                description=describe(ErrorCode.VALIDATION_ERROR) + " A bad check digit is one.",
            ),
            404: OpenApiResponse(response=ErrorSerializer, description="`product_not_found`: no product has the code."),
        },
        description="Resolve what a scanner sends: a product's barcode (EAN-13, EAN-8, UPC-A), a scale label "
        "(`SCALE_BARCODE_FORMAT`, such as `21PPPPPWWWWWC`: the PLU and the weight in grams, or the price in "
        "paise), a SKU or a product id, tried in that order. A scale label's `quantity` is its weight in the "
        'product\'s unit (750 g of a `kg` product: `"0.750"`) or what its price buys, rounded half-up to 3 '
        "places; any other code's is 1.",
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def lookup(self, request, format=None):
        params = ProductLookupQuerySerializer(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        try:
            match = product_for_code(code=params.validated_data["code"])
        except UnknownCode as exc:
            return error_response(exc.code, exc.message, exc.details, http_status=UnknownCode.lookup_status)
        return Response(ProductLookupSerializer(match, context=self.get_serializer_context()).data)

    @extend_schema(
        responses={200: StockMovementSerializer(many=True)},
        description="The product's stock ledger, newest first, paginated: every change of its stock with its kind "
        "(`sale`, `refund_restock`, `receipt`, `adjustment`, `count`, `import`, `opening`), signed quantity, the "
        "stock after it and what caused it. Managers (`catalog.view_stockmovement`).",
    )
    # Newest first by its index: the list's own pagination, which counts, then reads one page.
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=PageNumberPagination)
    def movements(self, request, pk=None, format=None):
        product = self.get_object()
        rows = scope(StockMovement.objects.filter(product_id=product.pk), request.user)
        rows = rows.select_related("product").order_by("-id")
        page = self.paginate_queryset(rows)
        data = StockMovementSerializer(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)

    def perform_create(self, serializer):
        fields = dict(serializer.validated_data)
        store = _visible_store(self.request.user, fields.pop("store", None))
        serializer.instance = product_create(**fields, store=store, user=self.request.user)

    def perform_update(self, serializer):
        fields = dict(serializer.validated_data)
        fields.pop("store", None)  # only where a new product's opening stock goes
        stock = fields.pop("stock", None)
        # Stock is the ledger's: a PUT may repeat it as it stands, but setting it is refused.
        if "stock" in self.request.data and stock != serializer.instance.stock:
            raise ValidationFailed(STOCK_READ_ONLY, details={"stock": [STOCK_READ_ONLY]})
        serializer.instance = product_update(product=serializer.instance, **fields)

    def perform_destroy(self, instance):
        product_delete(product=instance)


def _store_param(value) -> int:
    if value is None or not value.isascii() or not value.isdigit() or not 0 < int(value) < 2**63:
        raise ValidationFailed("`store` is a store's id.", details={"store": ["A valid integer is required."]})
    return int(value)


def _visible_store(user, store: int | None) -> int | None:
    """A store a write names: ``store_not_found`` when it is not one the user sees (its existence is
    not revealed); None stays None (the default store)."""
    if store is not None and not can_see_store(user, store):
        raise StoreNotFound(f"Store {store} does not exist or is inactive.", details={"store": store})
    return store


def _store_price(row: StorePrice) -> dict:
    return StorePriceSerializer(
        {"store": row.store_id, "product_id": row.product_id, "price": row.price, "updated_at": row.updated_at}
    ).data


# --- The stock ledger, suppliers, goods received, adjustments and counts ---------------------------

_POST_ERRORS = (ErrorCode.IDEMPOTENCY_CONFLICT, ErrorCode.IDEMPOTENCY_IN_PROGRESS)


@extend_schema(tags=["stock"])
class SupplierViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Suppliers goods are received from. Managers."""

    serializer_class = SupplierSerializer
    permission_classes = [RolePermissions]
    filter_backends = [filters.SearchFilter]
    search_fields = ["name", "gstin"]
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        return Supplier.objects.order_by("name", "id")

    def perform_create(self, serializer):
        serializer.instance = supplier_save(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = supplier_save(supplier=serializer.instance, **serializer.validated_data)


@extend_schema_view(
    list=extend_schema(description="Goods received, newest first."),
    retrieve=extend_schema(description="One receipt with its lines."),
)
@extend_schema(tags=["stock"])
class ReceiptViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Goods received from suppliers. POST needs `catalog.add_receipt` (managers)."""

    serializer_class = ReceiptSerializer
    permission_classes = [RolePermissions]
    lookup_value_regex = r"[0-9]{1,18}"

    store_rule = "catalog.receipt"

    def get_queryset(self):
        return scope(Receipt.objects.select_related("supplier").prefetch_related("lines__product"), self.request.user)

    @extend_schema(
        request=ReceiptCreateSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            201: ReceiptSerializer,
            **error_responses(
                ErrorCode.VALIDATION_ERROR,
                ErrorCode.PRODUCT_NOT_FOUND,
                ErrorCode.SUPPLIER_NOT_FOUND,
                ErrorCode.STORE_NOT_FOUND,
                *_POST_ERRORS,
            ),
        },
        description="Goods received against a supplier's invoice: each line adds stock (a `receipt` movement) "
        "and moves the product's `cost_price` to the moving average, to the paisa. A product that does not "
        "exist is refused (`product_not_found`): create it first. No drawer movement. Send an Idempotency-Key.",
    )
    def create(self, request):
        serializer = ReceiptCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        def receive():
            receipt = receipt_create(
                **{
                    **serializer.validated_data,
                    "store": _visible_store(request.user, serializer.validated_data["store"]),
                },
                user=request.user,
            )
            return status.HTTP_201_CREATED, ReceiptSerializer(self.get_queryset().get(pk=receipt.pk)).data

        return idempotent_response(request, receive)


@extend_schema_view(
    list=extend_schema(description="Adjustments, newest first."),
    retrieve=extend_schema(description="One adjustment with its lines."),
)
@extend_schema(tags=["stock"])
class AdjustmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A manager's changes of stock with their reasons. POST needs `catalog.add_adjustment`."""

    serializer_class = AdjustmentSerializer
    permission_classes = [RolePermissions]
    lookup_value_regex = r"[0-9]{1,18}"

    store_rule = "catalog.adjustment"

    def get_queryset(self):
        return scope(Adjustment.objects.prefetch_related("lines__product"), self.request.user)

    @extend_schema(
        request=AdjustmentCreateSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            201: AdjustmentSerializer,
            **error_responses(
                ErrorCode.VALIDATION_ERROR,
                ErrorCode.PRODUCT_NOT_FOUND,
                ErrorCode.INSUFFICIENT_STOCK,
                ErrorCode.STORE_NOT_FOUND,
                *_POST_ERRORS,
            ),
        },
        description="Change stock with a reason (`damaged`, `expired`, `theft`, `found`, or `other` with a "
        "`note`): each line's signed quantity is an `adjustment` movement. Stock never goes below 0: "
        "`insufficient_stock` (409), and nothing is written. Send an Idempotency-Key.",
    )
    def create(self, request):
        serializer = AdjustmentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        def adjust():
            adjustment = adjustment_create(
                **{
                    **serializer.validated_data,
                    "store": _visible_store(request.user, serializer.validated_data["store"]),
                },
                user=request.user,
            )
            return status.HTTP_201_CREATED, AdjustmentSerializer(self.get_queryset().get(pk=adjustment.pk)).data

        return idempotent_response(request, adjust)


@extend_schema_view(
    list=extend_schema(description="Stock counts, newest first (without their lines)."),
    retrieve=extend_schema(description="One stock count with its lines."),
)
@extend_schema(tags=["stock"])
class StockCountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Stock takes: open, record counts line by line while the shop trades, post once. Counting and
    posting need `catalog.add_stockcount` (managers)."""

    serializer_class = StockCountSerializer
    permission_classes = [ActionPermissions]
    lookup_value_regex = r"[0-9]{1,18}"
    action_permissions = {
        ("record", "PUT"): ("catalog.add_stockcount",),
        ("post_count", "POST"): ("catalog.add_stockcount",),
    }

    store_rule = "catalog.stockcount"

    def get_queryset(self):
        if self.action == "list":
            counts = StockCount.objects.prefetch_related(Prefetch("lines", queryset=StockCountLine.objects.none()))
        else:
            counts = StockCount.objects.prefetch_related(
                Prefetch("lines", queryset=StockCountLine.objects.select_related("product").order_by("product_id"))
            )
        return scope(counts, self.request.user)

    def _answer(self, count_id: int) -> dict:
        return StockCountSerializer(self.get_queryset().get(pk=count_id)).data

    @extend_schema(
        request=StockCountCreateSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            201: StockCountSerializer,
            **error_responses(
                ErrorCode.VALIDATION_ERROR, ErrorCode.PRODUCT_NOT_FOUND, ErrorCode.STORE_NOT_FOUND, *_POST_ERRORS
            ),
        },
        description="Open a count over every product or the `products` named; each line records the product's "
        "stock now (`opening`). Send an Idempotency-Key.",
    )
    def create(self, request):
        serializer = StockCountCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        def open_count():
            data = serializer.validated_data
            count = stock_count_open(
                product_ids=data["products"],
                note=data["note"],
                store=_visible_store(request.user, data["store"]),
                user=request.user,
            )
            return status.HTTP_201_CREATED, self._answer(count.pk)

        return idempotent_response(request, open_count)

    @extend_schema(
        request=CountedSerializer,
        responses={
            200: StockCountLineSerializer,
            **error_responses(ErrorCode.VALIDATION_ERROR, ErrorCode.STOCK_COUNT_POSTED),
        },
        description="Record what the shelf holds of a product (404 when it is not in the count): `expected` is "
        "its stock at this moment and "
        "`difference = counted − expected`. A recount replaces both. 409 `stock_count_posted` once posted.",
    )
    @action(detail=True, methods=["put"], url_path=r"lines/(?P<product_id>[0-9]{1,18})", pagination_class=None)
    def record(self, request, pk=None, product_id=None, format=None):
        count = self.get_object()
        if not StockCountLine.objects.filter(count=count, product_id=int(product_id)).exists():
            raise NotFound("This product is not in the stock count.")
        serializer = CountedSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        line = stock_count_record(
            count_id=count.pk,
            product_id=int(product_id),
            counted=serializer.validated_data["counted"],
            user=request.user,
        )
        return Response(StockCountLineSerializer(line).data)

    @extend_schema(
        request=None,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={200: StockCountSerializer, **error_responses(ErrorCode.STOCK_COUNT_POSTED, *_POST_ERRORS)},
        description="Apply each counted line's difference to its product's stock as a `count` movement; "
        "uncounted products are left as they are. Posting twice is 409 `stock_count_posted`.",
    )
    # Not named ``post``: a view set's method of that name would also answer every POST to the
    # count's other routes (``lines/{product_id}``), which DRF dispatches by the HTTP method's name.
    @action(detail=True, methods=["post"], pagination_class=None, url_path="post", url_name="post")
    def post_count(self, request, pk=None, format=None):
        count = self.get_object()

        def apply_count():
            stock_count_post(count_id=count.pk, user=request.user)
            return status.HTTP_200_OK, self._answer(count.pk)

        return idempotent_response(request, apply_count)


# --- Transfers between stores ---------------------------------------------------------------------


_TRANSFER_ERRORS = (ErrorCode.VALIDATION_ERROR, ErrorCode.PRODUCT_NOT_FOUND, ErrorCode.STORE_NOT_FOUND, *_POST_ERRORS)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=["in_transit", "received"], description="Only these transfers."),
            OpenApiParameter(
                "store",
                {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                description="Only the transfers from or to this store (id).",
            ),
        ],
        description="Transfers between stores, newest first, with their lines: those from or to a store you see. "
        "`status` and `store` (from or to it) narrow them.",
    ),
    retrieve=extend_schema(description="One transfer with its lines."),
)
@extend_schema(tags=["stock"])
class TransferViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Goods sent between stores: POST sends (`catalog.add_transfer`), `receive` records what arrived
    (`catalog.receive_transfer`). A user sees a transfer when they see either store; sends only from,
    and receives only into, a store they see. Others: 404 `not_found`."""

    serializer_class = TransferSerializer
    permission_classes = [ActionPermissions]
    action_permissions = {("receive", "POST"): ("catalog.receive_transfer",)}
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        if self.action != "list":
            return transfer_list(user=self.request.user)
        # A plain dict: a QueryDict would let an empty `?status=` through as if it were absent.
        serializer = TransferFilterSerializer(data=self.request.query_params.dict())
        serializer.is_valid(raise_exception=True)
        return transfer_list(user=self.request.user, **serializer.validated_data)

    def _answer(self, transfer_id: int) -> dict:
        return TransferSerializer(self.get_queryset().get(pk=transfer_id)).data

    @extend_schema(
        request=TransferCreateSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            201: TransferSerializer,
            **error_responses(
                *_TRANSFER_ERRORS, ErrorCode.NOT_FOUND, ErrorCode.PRODUCT_INACTIVE, ErrorCode.INSUFFICIENT_STOCK
            ),
        },
        description="Send goods from `from_store` (a store you see: else 404 `not_found`) to `to_store` (another "
        "active store): the stock leaves the source at once, a `transfer_out` movement per line, and the transfer "
        "is `in_transit`. 409 `insufficient_stock` when the source lacks a line's stock, `product_inactive` for an "
        "archived product; 400 `store_not_found` for a store unknown or inactive. Nothing is written on a refusal. "
        "Send an Idempotency-Key.",
    )
    def create(self, request):
        serializer = TransferCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data

        def send():
            if not can_see_store(request.user, data["from_store"]):
                raise StoreNotVisible(details={"from_store": data["from_store"]})
            transfer = transfer_create(**data, user=request.user)
            return status.HTTP_201_CREATED, self._answer(transfer.pk)

        return idempotent_response(request, send)

    @extend_schema(
        request=TransferReceiveSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            200: TransferSerializer,
            **error_responses(*_TRANSFER_ERRORS, ErrorCode.NOT_FOUND, ErrorCode.TRANSFER_ALREADY_RECEIVED),
        },
        description="Record what arrived, at the destination (a store you see: else 404 `not_found`): `lines` name "
        "every product of the transfer once, with the quantity received (0 to the quantity sent; 0: none came). "
        "What arrived goes in as `transfer_in` movements; a shortfall is lost in transit, a `transfer_loss` "
        "movement (quantity 0: the stock left the source at dispatch) naming you. More than was sent, a product "
        "not on the transfer, or one left out: 400 `validation_error`. Receiving twice: 409 "
        "`transfer_already_received`. Send an Idempotency-Key.",
    )
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def receive(self, request, pk=None, format=None):
        transfer = self.get_object()
        serializer = TransferReceiveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        def receive_goods():
            if not can_see_store(request.user, transfer.to_store_id):
                raise TransferNotFound("No such transfer.", details={"transfer_id": transfer.pk})
            transfer_receive(transfer_id=transfer.pk, lines=serializer.validated_data["lines"], user=request.user)
            return status.HTTP_200_OK, self._answer(transfer.pk)

        return idempotent_response(request, receive_goods)
