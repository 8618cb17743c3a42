"""``GET/PUT /staff/{username}/stores``: the stores a user works at, set by head office."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_project.core.api.fields import StrictIntegerField
from billing_project.core.api.schema import error_responses
from billing_project.core.errors import ErrorCode

from .stores import sees_all_stores, staff_stores_set

MAX_ID = 2**63 - 1


class StaffStoreSerializer(serializers.Serializer):
    """A store a user works at: its id, code and name."""

    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class StaffStoresSerializer(serializers.Serializer):
    """A user and the stores they work at, by code."""

    username = serializers.CharField()
    stores = StaffStoreSerializer(many=True)


class StaffStoresSetSerializer(serializers.Serializer):
    """The stores a user is to work at, by id: exactly these, replacing the ones they had."""

    stores = serializers.ListField(
        child=StrictIntegerField(min_value=1, max_value=MAX_ID),
        allow_empty=True,
        max_length=1000,
        help_text="Store ids: the user works at exactly these (an empty list: at none).",
    )


def _answer(user, stores) -> dict:
    return {
        "username": user.get_username(),
        "stores": [{"id": store.pk, "code": store.code, "name": store.name} for store in stores],
    }


@extend_schema(tags=["stores"])
class StaffStoresView(APIView):
    """The stores a user works at. Head office only (`catalog.view_all_stores`)."""

    permission_classes = [IsAuthenticated]
    store_rule = "auth.user"  # head office only: it sees every store

    def _user(self, request, username: str):
        if not sees_all_stores(request.user):
            raise PermissionDenied("Only head office puts staff in stores.")
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise NotFound("No such user.")
        return user

    @extend_schema(
        operation_id="staff_stores_retrieve",
        responses={200: StaffStoresSerializer, **error_responses(ErrorCode.PERMISSION_DENIED, ErrorCode.NOT_FOUND)},
        description="The stores the user works at, by code. Head office only (`catalog.view_all_stores`), "
        "otherwise 403 `permission_denied`; an unknown user is 404 `not_found`.",
    )
    def get(self, request, username: str):
        user = self._user(request, username)
        return Response(_answer(user, user.stores.order_by("code")))

    @extend_schema(
        operation_id="staff_stores_update",
        request=StaffStoresSetSerializer,
        responses={
            200: StaffStoresSerializer,
            **error_responses(ErrorCode.VALIDATION_ERROR, ErrorCode.PERMISSION_DENIED, ErrorCode.NOT_FOUND),
        },
        description="Put the user in exactly these stores (`{stores: [store ids]}`); answers as `GET`. A user "
        "without `view_all_stores` sees only their stores' tills, sessions, bills, refunds and reports. An "
        "unknown store id is a `validation_error` on `stores`. Head office only.",
    )
    def put(self, request, username: str):
        user = self._user(request, username)
        serializer = StaffStoresSetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        stores = staff_stores_set(user=user, store_ids=serializer.validated_data["stores"])
        return Response(_answer(user, stores))
