from django_filters.rest_framework import DjangoFilterBackend, FilterSet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import filters, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from billing_project.core.api.exceptions import error_response
from billing_project.core.api.filters import BooleanFilter
from billing_project.core.api.permissions import RolePermissions
from billing_project.core.api.schema import ErrorSerializer, describe, error_responses
from billing_project.core.errors import ErrorCode, ValidationFailed

from .errors import UnknownCode
from .models import Product
from .selectors import product_for_code, product_list
from .serializers import ProductLookupQuerySerializer, ProductLookupSerializer, ProductSerializer
from .services import STOCK_READ_ONLY, product_create, product_delete, product_update


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
    permission_classes = [RolePermissions]
    filter_backends = [DjangoFilterBackend, filters.SearchFilter]
    filterset_class = ProductFilter
    search_fields = ["name", "sku"]
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        return product_list()

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
    def lookup(self, request):
        params = ProductLookupQuerySerializer(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        try:
            match = product_for_code(code=params.validated_data["code"])
        except UnknownCode as exc:
            return error_response(exc.code, exc.message, exc.details, http_status=UnknownCode.lookup_status)
        return Response(ProductLookupSerializer(match).data)

    def perform_create(self, serializer):
        serializer.instance = product_create(**serializer.validated_data, user=self.request.user)

    def perform_update(self, serializer):
        fields = dict(serializer.validated_data)
        stock = fields.pop("stock", None)
        # Stock is the ledger's: a PUT may repeat it as it stands, but setting it is refused.
        if "stock" in self.request.data and stock != serializer.instance.stock:
            raise ValidationFailed(STOCK_READ_ONLY, details={"stock": [STOCK_READ_ONLY]})
        serializer.instance = product_update(product=serializer.instance, **fields)

    def perform_destroy(self, instance):
        product_delete(product=instance)
