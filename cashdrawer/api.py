from decimal import Decimal

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from billing_project.api.permissions import RolePermissions
from billing_project.api.schema import error_responses
from billing_project.errors import ErrorCode

from .models import Denomination
from .serializers import DenominationCountSerializer, DenominationSerializer
from .services import denomination_create, drawer_set_count

VALUE_PARAMETER = OpenApiParameter(
    "value",
    str,
    OpenApiParameter.PATH,
    pattern=r"^[0-9]{1,10}(?:\.[0-9]{1,2})?$",
    description="The note or coin value: `500` and `500.00` both work.",
)


@extend_schema_view(
    create=extend_schema(
        responses={
            201: DenominationSerializer,
            **error_responses(ErrorCode.DENOMINATION_EXISTS, ErrorCode.TOO_MANY_DENOMINATIONS),
        }
    ),
    retrieve=extend_schema(parameters=[VALUE_PARAMETER]),
    update=extend_schema(
        parameters=[VALUE_PARAMETER],
        request=DenominationCountSerializer,
        responses=DenominationSerializer,
        description="Set the count. The change is recorded in the drawer ledger as a manual movement.",
    ),
)
@extend_schema(tags=["denominations"])
class DenominationViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The cash drawer: one row per note or coin value, highest first. Not paginated."""

    queryset = Denomination.objects.order_by("-value")
    serializer_class = DenominationSerializer
    permission_classes = [RolePermissions]
    pagination_class = None
    lookup_field = "value"
    lookup_value_regex = r"[0-9]{1,10}(?:\.[0-9]{1,2})?"

    def get_object(self):
        # Compare as a Decimal, so `/500` finds the 500.00 row.
        self.kwargs[self.lookup_field] = Decimal(self.kwargs[self.lookup_field])
        return super().get_object()

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = denomination_create(
            value=data["value"], count=data.get("count", 0), user=self.request.user, reason="denomination added"
        )

    def update(self, request, *args, **kwargs):
        denomination = self.get_object()
        serializer = DenominationCountSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        denomination = drawer_set_count(
            value=denomination.value,
            count=serializer.validated_data["available_count"],
            user=request.user,
            reason=serializer.validated_data["reason"] or "set through the API",
        )
        return Response(DenominationSerializer(denomination).data, status=status.HTTP_200_OK)
