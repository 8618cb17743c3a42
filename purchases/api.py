from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.permissions import DjangoModelPermissions
from rest_framework.response import Response

from billing_project.api.schema import error_response

from .selectors import purchase_get, purchase_list
from .serializers import PurchaseCreateSerializer, PurchaseSerializer
from .services import purchase_create


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("customer_email", str, description="Only this customer's bills (any case).")]
    ),
    create=extend_schema(
        request=PurchaseCreateSerializer,
        responses={
            201: PurchaseSerializer,
            400: error_response(
                "`validation_error`, `parse_error`, `product_not_found`, `insufficient_payment` or `tender_mismatch`."
            ),
            409: error_response("`insufficient_stock`, `product_inactive` or `change_unavailable`."),
        },
        description=(
            "Ring up a bill. Lines for the same product are combined. Payment below `payable` is refused; "
            "`tendered` notes, when given, must add up to `paid_amount` and go into the drawer, and the change "
            "is made with the fewest notes the drawer can give. A refused bill writes nothing."
        ),
    ),
)
@extend_schema(tags=["purchases"])
class PurchaseViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Bills, newest first. Bills are never changed or deleted."""

    serializer_class = PurchaseSerializer
    permission_classes = [DjangoModelPermissions]
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        return purchase_list(customer_email=self.request.query_params.get("customer_email"))

    def create(self, request, *args, **kwargs):
        serializer = PurchaseCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        purchase = purchase_create(**serializer.validated_data, user=request.user)
        return Response(PurchaseSerializer(purchase_get(purchase_id=purchase.pk)).data, status=status.HTTP_201_CREATED)
