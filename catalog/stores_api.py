"""``/api/v1/stores``: the chain's stores, for head office only."""

from typing import ClassVar

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from billing_project.core.api.fields import PlainTextField, StrictBooleanField, StrictCharField
from billing_project.core.api.permissions import RolePermissions
from billing_project.core.api.schema import error_responses
from billing_project.core.errors import ErrorCode

from .models import Store
from .store_services import store_create, store_update
from .stores import sees_all_stores


class StoreSerializer(serializers.ModelSerializer):
    """A store of the chain: its GST registration (on every invoice of its tills) and address."""

    code = PlainTextField(code=True, max_length=16, help_text="Short unique code, such as MAIN.")
    name = PlainTextField(max_length=200)
    legal_name = PlainTextField(
        max_length=200, required=False, allow_blank=True, help_text="On tax invoices. Blank: the name."
    )
    address = StrictCharField(
        max_length=2000, required=False, allow_blank=True, help_text="As printed; lines separated by newlines."
    )
    state_code = StrictCharField(
        max_length=2,
        required=False,
        allow_blank=True,
        help_text="The GST state code of the store's address (core.gst.STATES), such as 29. Blank: the GSTIN's "
        "first two digits.",
    )
    gstin = StrictCharField(
        max_length=20,
        required=False,
        allow_blank=True,
        help_text="The store's GSTIN (its first two digits are the state code). Blank: unregistered.",
    )
    is_active = StrictBooleanField(required=False, help_text="The default store is always active.")
    is_default = serializers.BooleanField(read_only=True, help_text="The store tills and stock go in by default.")

    class Meta:
        model = Store
        fields = ["id", "code", "name", "legal_name", "address", "state_code", "gstin", "is_active", "is_default"]
        read_only_fields = ["id", "is_default"]
        extra_kwargs: ClassVar[dict] = {"code": {"validators": []}}  # a duplicate is refused by the service


class HeadOfficePermissions(RolePermissions):
    """The store model's permissions (``view_store``, ``add_store``, ``change_store``) and
    ``catalog.view_all_stores``: head office only; anyone else is 403 ``permission_denied``."""

    def has_permission(self, request, view):
        return super().has_permission(request, view) and sees_all_stores(request.user)


_WRITE_ERRORS = error_responses(ErrorCode.VALIDATION_ERROR, ErrorCode.PARSE_ERROR)


@extend_schema_view(
    list=extend_schema(description="Every store, by code. Head office only."),
    create=extend_schema(
        description="Open a store. Head office only.", responses={201: StoreSerializer, **_WRITE_ERRORS}
    ),
    retrieve=extend_schema(description="One store. Head office only."),
    partial_update=extend_schema(
        description="Change a store; bills already rung up keep the seller they copied. Head office only.",
        responses={200: StoreSerializer, **_WRITE_ERRORS},
    ),
)
@extend_schema(tags=["stores"])
class StoreViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = StoreSerializer
    permission_classes = [HeadOfficePermissions]
    lookup_value_regex = r"[0-9]{1,18}"
    http_method_names = ["get", "post", "patch", "head", "options"]
    queryset = Store.objects.order_by("code")

    def create(self, request, *args, **kwargs):
        serializer = StoreSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        store = store_create(**serializer.validated_data)
        return Response(StoreSerializer(store).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        store = self.get_object()
        serializer = StoreSerializer(store, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        store = store_update(store_id=store.pk, **serializer.validated_data)
        return Response(StoreSerializer(store).data)
