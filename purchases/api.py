import re

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action

from billing_project.api.permissions import RolePermissions
from billing_project.api.schema import error_responses
from billing_project.errors import ErrorCode, ValidationFailed
from billing_project.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent_response

from .documents import invoice_pdf_filename, invoice_pdf_print
from .models import NUMBER_MAX_LENGTH
from .selectors import purchase_list, purchase_rows
from .serializers import PurchaseCreateSerializer, PurchaseSerializer
from .services import purchase_create

# The browsable API's POST form for a bill: an example body with the input fields only. (Product 1
# is the demo's rice: 2 × 549.00 + 5% tax = 1,152.90, payable 1,153.00, paid with 1,200.00 in notes.)
NUMBER_QUERY_PATTERN = r"^[A-Za-z0-9/-]*$"

EXAMPLE_BILL = {
    "customer_email": "ann@example.com",
    "items": [{"product_id": 1, "quantity": 2}],
    "paid_amount": "1200.00",
    "tendered": [{"value": "500", "count": 2}, {"value": "200", "count": 1}],
    "send_invoice": True,
}


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("customer_email", str, description="Only this customer's bills (any case)."),
            OpenApiParameter(
                "number",
                {"type": "string", "maxLength": NUMBER_MAX_LENGTH, "pattern": NUMBER_QUERY_PATTERN},
                description="Only the bill with this tax invoice number, such as M/2627/000123.",
            ),
        ]
    ),
    invoice_pdf=extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The tax invoice; a reprint is marked DUPLICATE."
            ),
            **error_responses(ErrorCode.NOT_FOUND),
        },
        description=(
            "The bill's tax invoice as a PDF, rendered now. The first print of a bill whose invoice was not yet "
            "issued (emailed) is the original; every later one is marked DUPLICATE."
        ),
    ),
    create=extend_schema(
        request=PurchaseCreateSerializer,
        responses={
            201: PurchaseSerializer,
            **error_responses(
                ErrorCode.VALIDATION_ERROR,
                ErrorCode.PARSE_ERROR,
                ErrorCode.PRODUCT_NOT_FOUND,
                ErrorCode.INSUFFICIENT_PAYMENT,
                ErrorCode.TENDER_MISMATCH,
                ErrorCode.INSUFFICIENT_STOCK,
                ErrorCode.PRODUCT_INACTIVE,
                ErrorCode.CHANGE_UNAVAILABLE,
                ErrorCode.CHANGE_TOO_COMPLEX,
                ErrorCode.TILL_NOT_FOUND,
                ErrorCode.TILL_INACTIVE,
                ErrorCode.SESSION_CLOSED,
                ErrorCode.IDEMPOTENCY_CONFLICT,
                ErrorCode.IDEMPOTENCY_IN_PROGRESS,
            ),
        },
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        description=(
            "Ring up a bill. Lines for the same product are combined. Payment below `payable` is refused; "
            "`tendered` notes, when given, must add up to `paid_amount` and go into the drawer, and the change "
            "is made with the fewest notes the drawer can give. A refused bill writes nothing. "
            "`send_invoice: false` rings the bill up without emailing the invoice. `till` (an id, default the "
            "`DEFAULT_TILL`) is the till whose drawer takes the cash; the bill is recorded in its open session, "
            "opened automatically at the current counts when there is none."
        ),
    ),
)
@extend_schema(tags=["purchases"])
class PurchaseViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Bills, newest first. Bills are never changed or deleted."""

    serializer_class = PurchaseSerializer
    permission_classes = [RolePermissions]
    lookup_value_regex = r"[0-9]{1,18}"

    def get_serializer(self, *args, **kwargs):
        if self.action == "create" and not args and not kwargs:
            # Only the browsable API asks for a bare serializer on create, to fill its POST form.
            return PurchaseCreateSerializer(EXAMPLE_BILL, context=self.get_serializer_context())
        return super().get_serializer(*args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        number = params.get("number")
        if number and (len(number) > NUMBER_MAX_LENGTH or not re.fullmatch(NUMBER_QUERY_PATTERN, number)):
            raise ValidationFailed(
                "An invoice number has up to 16 letters, digits, hyphens and slashes.",
                details={"number": ["Invalid invoice number."]},
            )
        return purchase_list(customer_email=params.get("customer_email"), number=number)

    @action(detail=True, methods=["get"], url_path=r"invoice\.pdf", url_name="invoice-pdf")
    def invoice_pdf(self, request, *args, **kwargs):
        purchase = self.get_object()
        pdf, duplicate = invoice_pdf_print(purchase)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{invoice_pdf_filename(purchase)}"'
        response["X-Duplicate"] = "1" if duplicate else "0"
        return response

    def list(self, request, *args, **kwargs):
        return self.get_paginated_response(PurchaseSerializer(bill_page(self, self.get_queryset()), many=True).data)

    def create(self, request, *args, **kwargs):
        serializer = PurchaseCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        def ring_up():
            purchase = purchase_create(**serializer.validated_data, user=request.user)
            return status.HTTP_201_CREATED, PurchaseSerializer.represent(purchase)

        # Not scoped to the path, so keys stored before tills existed still replay.
        return idempotent_response(request, ring_up, scoped=False)


def bill_page(view, queryset) -> list[dict]:
    """Paginate ``queryset``'s ids, then read just that page's bills as rows (``purchase_rows``)."""
    return purchase_rows(ids=list(view.paginate_queryset(queryset.values_list("id", flat=True))))
