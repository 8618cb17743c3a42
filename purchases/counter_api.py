"""The API of the counter's conveniences: parked bills (``/held-bills``) and the UPI QR code (``/upi-qr``).

Both are for whoever rings bills up (``purchases.add_purchase``): a parked bill is a cart, not a bill,
and a QR code is a picture of the store's UPI id and an amount."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_project.core.api.input import validate_input
from billing_project.core.api.schema import error_responses
from billing_project.core.errors import ErrorCode
from billing_project.core.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent_response
from cashdrawer.errors import TillNotFound
from catalog.stores import CHAIN_WIDE, can_see, scope, till_visible

from .errors import HeldBillNotFound
from .models import HeldBill
from .serializers import HeldBillCreateSerializer, HeldBillFilterSerializer, HeldBillSerializer
from .services import held_bill_create, held_bill_discard, held_bill_list, held_bill_recall
from .upi import AMOUNT_QUERY_PATTERN, UPI_REF_MAX_LENGTH, upi_qr

RING_UP = "purchases.add_purchase"


class CanRingUp(BasePermission):
    """``purchases.add_purchase`` (cashiers and managers); 401 when not logged in."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm(RING_UP))


@extend_schema_view(
    list=extend_schema(
        parameters=[HeldBillFilterSerializer],
        description="Parked bills, oldest first: `?till=` one till's (what its billing page lists).",
    ),
    retrieve=extend_schema(description="One parked bill."),
    destroy=extend_schema(
        responses={204: None, **error_responses(ErrorCode.NOT_FOUND)},
        description="Discard a parked bill. 404 `not_found` when it was recalled or discarded already.",
    ),
    create=extend_schema(
        request=HeldBillCreateSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            201: HeldBillSerializer,
            **error_responses(
                ErrorCode.VALIDATION_ERROR,
                ErrorCode.PARSE_ERROR,
                ErrorCode.PRODUCT_NOT_FOUND,
                ErrorCode.PRODUCT_INACTIVE,
                ErrorCode.TILL_NOT_FOUND,
                ErrorCode.TILL_INACTIVE,
                ErrorCode.IDEMPOTENCY_CONFLICT,
                ErrorCode.IDEMPOTENCY_IN_PROGRESS,
            ),
        },
        description=(
            "Park a cart at a till while the customer fetches something: its lines (checked as a bill's are: the "
            "products exist, are sold and take the quantity) and its customer. It takes no stock and no money. "
            "Lines of one product are combined. `Idempotency-Key` is optional."
        ),
    ),
)
class HeldBillViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Parked bills (saved carts), oldest first. Recall one to ring it up; it is then gone."""

    serializer_class = HeldBillSerializer
    permission_classes = [CanRingUp]
    lookup_value_regex = r"[0-9]{1,18}"
    store_rule = "purchases.heldbill"

    def get_queryset(self):
        if self.action != "list":
            return scope(held_bill_list(), self.request.user)
        params = HeldBillFilterSerializer(data=self.request.query_params.dict())
        params.is_valid(raise_exception=True)
        return scope(held_bill_list(till_id=params.validated_data.get("till")), self.request.user)

    def _check_visible(self, pk) -> None:
        if not can_see(self.request.user, HeldBill, int(pk)):
            raise HeldBillNotFound(details={"id": int(pk)})

    def create(self, request, *args, **kwargs):
        data = validate_input(HeldBillCreateSerializer, request.data)
        if not till_visible(request.user, data["till"]):
            raise TillNotFound(details={"till": data["till"]})

        def park():
            held = held_bill_create(**data, user=request.user)
            return status.HTTP_201_CREATED, HeldBillSerializer(held).data

        return idempotent_response(request, park)

    def destroy(self, request, *args, **kwargs):
        self._check_visible(kwargs["pk"])
        held_bill_discard(held_bill_id=int(kwargs["pk"]))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            200: HeldBillSerializer,
            **error_responses(ErrorCode.NOT_FOUND, ErrorCode.IDEMPOTENCY_CONFLICT, ErrorCode.IDEMPOTENCY_IN_PROGRESS),
        },
        description=(
            "Take the cart back to the screen: answers the parked bill and deletes it. A second recall is 404 "
            "`not_found`; of two at once, exactly one gets the cart. With an `Idempotency-Key`, a retried recall "
            "answers the same cart again."
        ),
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    def recall(self, request, pk=None, format=None):
        def take_back():
            self._check_visible(pk)
            return status.HTTP_200_OK, HeldBillSerializer(held_bill_recall(held_bill_id=int(pk))).data

        return idempotent_response(request, take_back)


class UpiQrSerializer(serializers.Serializer):
    """The store's UPI QR code for an amount: the UPI link and its picture."""

    uri = serializers.CharField(
        help_text="`upi://pay?pa=<UPI_VPA>&pn=<UPI_PAYEE_NAME>&am=<amount>&cu=INR&tn=<ref>`, each value "
        "URL-encoded; `tn` only with a `ref`."
    )
    svg = serializers.CharField(help_text="The QR code of `uri`, an SVG with a viewBox and no fixed size.")


@extend_schema(tags=["purchases"])
class UpiQrView(APIView):
    """The store's UPI QR code for an amount: `?amount=&ref=` → `{uri, svg}`."""

    permission_classes = [CanRingUp]
    queryset = HeldBill.objects.none()
    store_rule = CHAIN_WIDE  # the store's UPI id: no rows

    @extend_schema(
        operation_id="upi_qr",
        parameters=[
            OpenApiParameter(
                "amount",
                {"type": "string", "pattern": AMOUNT_QUERY_PATTERN},
                required=True,
                description="Above 0, at most 2 decimal places (`262.50`).",
            ),
            OpenApiParameter(
                "ref",
                {"type": "string", "maxLength": UPI_REF_MAX_LENGTH},
                description="The payment's note (`tn`): the bill's reference, printable text.",
            ),
        ],
        responses={
            200: UpiQrSerializer,
            **error_responses(ErrorCode.VALIDATION_ERROR, ErrorCode.UPI_NOT_CONFIGURED),
        },
        description=(
            "A QR code a customer scans with any UPI app to pay the store `amount`. An amount that is not above 0, "
            "or has more than 2 decimal places, is a `validation_error`; a good request in a store without "
            "`UPI_VPA` is 404 `upi_not_configured`."
        ),
    )
    def get(self, request):
        qr = upi_qr(amount=request.query_params.get("amount"), ref=request.query_params.get("ref", ""))
        return Response({"uri": qr.uri, "svg": qr.svg})
