import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAcceptable, NotFound
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import BasePermission
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from billing_project.core.api.input import validate_input
from billing_project.core.api.negotiation import ContentNegotiation
from billing_project.core.api.pagination import PageByIdsListMixin
from billing_project.core.api.permissions import OverridablePermissions, RolePermissions
from billing_project.core.api.renderers import OrjsonRenderer
from billing_project.core.api.schema import PHONE_QUERY, TEXT_QUERY, error_responses
from billing_project.core.errors import ErrorCode, ValidationFailed
from billing_project.core.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent_response
from cashdrawer.errors import TillNotFound
from catalog.stores import CHAIN_WIDE, can_see, scope, till_visible, visible_store_ids
from customers.services import customer_normalize_phone

from .documents import (
    PdfRateThrottle,
    credit_note_pdf_print,
    invoice_pdf_print,
    pdf_response,
)
from .gstr1 import gstr1, gstr1_csv_response, gstr1_json_response, gstr1_section
from .models import NUMBER_MAX_LENGTH, Purchase, Refund
from .sales_report import GROUPINGS, MAX_DAYS, sales_report, sales_report_csv_response
from .selectors import (
    bill_count,
    customer_list,
    payment_method_list,
    purchase_ids_slice,
    purchase_list,
    purchase_rows,
    refund_list,
)
from .serializers import (
    CustomerSerializer,
    Gstr1QuerySerializer,
    PaymentMethodSerializer,
    PurchaseCreateSerializer,
    PurchaseSerializer,
    RefundCreateSerializer,
    RefundFilterSerializer,
    RefundSerializer,
    SalesReportQuerySerializer,
    SalesReportSerializer,
)
from .services import purchase_create, refund_create

# The browsable API's POST form for a bill: an example body with the input fields only. (Product 1
# is the demo's rice: 2 × 549.00 + 5% tax = 1,152.90, payable 1,153.00, paid with 1,200.00 in notes.)
NUMBER_QUERY_PATTERN = r"^[A-Za-z0-9/-]*$"

EXAMPLE_BILL = {
    "customer_email": "ann@example.com",
    "customer_phone": "98765 43210",
    "items": [{"product_id": 1, "quantity": 2}],
    "paid_amount": "1200.00",
    "tendered": [{"value": "500", "count": 2}, {"value": "200", "count": 1}],
    "send_invoice": True,
}


class PdfNegotiation(ContentNegotiation):
    """For the PDF actions: they answer with their PDF whatever the ``Accept`` header, so a client
    that asks for ``application/pdf`` gets it instead of 406; a refusal (404, 429) is JSON. An unknown
    ``?format=`` is still 406, as on every endpoint."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            if request.query_params.get(self.settings.URL_FORMAT_OVERRIDE) is not None:
                raise
            return renderers[0], renderers[0].media_type


@extend_schema_view(
    retrieve=extend_schema(
        description="One bill: its lines, totals, payments, the change handed back, the invoice email and its refunds."
    ),
    list=extend_schema(
        description="Bills, newest first. Bills are never changed or deleted.",
        parameters=[
            OpenApiParameter("customer_email", TEXT_QUERY, description="Only this customer's bills (any case)."),
            OpenApiParameter(
                "customer_phone",
                PHONE_QUERY,
                description="Only this customer's bills: their mobile number, in any spelling a bill takes "
                "(`9876543210`, `+91 98765 43210`…; a `+` in a query string is sent as `%2B`).",
            ),
            OpenApiParameter(
                "number",
                {"type": "string", "maxLength": NUMBER_MAX_LENGTH, "pattern": NUMBER_QUERY_PATTERN},
                description="Only the bill with this tax invoice number, such as M/2627/000123.",
            ),
        ],
    ),
    invoice_pdf=extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The tax invoice, marked ORIGINAL FOR RECIPIENT (first print) or DUPLICATE (later ones).",
            ),
            **error_responses(ErrorCode.NOT_FOUND, ErrorCode.THROTTLED),
        },
        description=(
            "The bill's tax invoice as a PDF. The first print is marked ORIGINAL FOR RECIPIENT, as is the emailed "
            "copy (the email does not count as a print); every later print is marked DUPLICATE (`X-Duplicate: 1`) "
            "and is the first print's PDF with that mark. At most `PDF_THROTTLE_RATE` prints per user, with the "
            "pages' prints and credit notes (429 `throttled`)."
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
                ErrorCode.CUSTOMER_CONFLICT,
                ErrorCode.UNKNOWN_PAYMENT_METHOD,
                ErrorCode.OVERPAYMENT,
                ErrorCode.DISCOUNT_NEEDS_MANAGER,
                ErrorCode.OVERRIDE_INVALID,
                ErrorCode.INSUFFICIENT_PAYMENT,
                ErrorCode.TENDER_MISMATCH,
                ErrorCode.INSUFFICIENT_STOCK,
                ErrorCode.PRODUCT_INACTIVE,
                ErrorCode.CHANGE_UNAVAILABLE,
                ErrorCode.CHANGE_TOO_COMPLEX,
                ErrorCode.TILL_NOT_FOUND,
                ErrorCode.TILL_INACTIVE,
                ErrorCode.SESSION_CLOSED,
                ErrorCode.SESSION_PENDING_APPROVAL,
                ErrorCode.IDEMPOTENCY_CONFLICT,
                ErrorCode.IDEMPOTENCY_IN_PROGRESS,
            ),
        },
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        description=(
            "Ring up a bill. The customer is known by `customer_email`, `customer_phone` (an Indian mobile number, "
            "returned as E.164) or both: either finds them, one new identifier is added to the customer the other "
            "finds, and two that belong to two different customers are 409 `customer_conflict`. With neither, the "
            "bill is a walk-in sale: `customer` is null and no invoice is emailed (`skipped`). "
            "Lines for the same product are combined. Payment below `payable` is refused; "
            "`tendered` notes, when given, must add up to `paid_amount` and go into the drawer, and the change "
            "is made with the fewest notes the drawer can give. A refused bill writes nothing. "
            "`send_invoice: false` rings the bill up without emailing the invoice. `till` (an id, default the "
            "`DEFAULT_TILL`) is the till whose drawer takes the cash; the bill is recorded in its open session, "
            "opened automatically at the current counts when there is none. "
            "`payments` splits the bill between methods (at most one cash payment, which alone is rounded "
            "and gives change; card, UPI… together never more than the total); `paid_amount` + `tendered` "
            "is the shorthand for one cash payment. `discount_percent` on a line and on the bill, with a "
            "`discount_reason`; above `CASHIER_MAX_DISCOUNT_PERCENT` it needs a manager."
        ),
    ),
)
@extend_schema(tags=["purchases"])
class PurchaseViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Bills, newest first. Bills are never changed or deleted."""

    serializer_class = PurchaseSerializer
    queryset = Purchase.objects.none()  # names the model for the permissions; get_queryset() builds the real one
    permission_classes = [OverridablePermissions]
    lookup_value_regex = r"[0-9]{1,18}"
    store_rule = "purchases.purchase"
    action_permissions = {("refunds", "POST"): ("purchases.add_refund",)}
    # A cashier without add_refund may refund with a manager's override token (refund_create checks it).
    overridable_actions = {("refunds", "POST")}

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
        phone = params.get("customer_phone")
        bills = purchase_list(
            customer_email=params.get("customer_email"),
            customer_phone=customer_normalize_phone(phone) if phone else None,
            number=number,
        )
        return scope(bills, self.request.user)

    @action(
        detail=True,
        methods=["get"],
        url_path=r"invoice\.pdf",
        url_name="invoice-pdf",
        throttle_classes=[PdfRateThrottle],
        content_negotiation_class=PdfNegotiation,
    )
    def invoice_pdf(self, request, *args, **kwargs):
        # Not get_object(): a reprint needs none of the bill's lines, only its stored PDF.
        if not can_see(request.user, Purchase, int(kwargs["pk"])):
            raise NotFound()
        try:
            return pdf_response(invoice_pdf_print(purchase_id=int(kwargs["pk"])))
        except Purchase.DoesNotExist:
            raise NotFound() from None

    def list(self, request, *args, **kwargs):
        # The user's stores read first: scope() then cuts the bills by their ids, which the planner
        # reads in the list's order from the time index, rather than by a subquery.
        stores = visible_store_ids(request.user)
        bills = self.get_queryset()
        filtered = any(request.query_params.get(name) for name in ("customer_email", "customer_phone", "number"))
        # Unfiltered, the list is the user's stores' bills: counted by BillCount, not row by row.
        count = None if filtered else bill_count(store_ids=stores)
        page = bill_page(self, bills, count=count, store_ids=stores)
        return self.get_paginated_response(PurchaseSerializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        # The bill found as get_object() finds it (the user's stores; 404 otherwise), then read as the
        # list reads its page (purchase_rows): the same fields, without model instances and prefetches.
        pk = get_object_or_404(self.get_queryset().values_list("id", flat=True), pk=kwargs["pk"])
        return Response(PurchaseSerializer(purchase_rows(ids=[pk])[0]).data)

    def create(self, request, *args, **kwargs):
        data = validate_input(PurchaseCreateSerializer, request.data)
        # purchase_create refuses a till of a store the user does not see (till_not_found).

        def ring_up():
            purchase = purchase_create(**data, user=request.user)
            return status.HTTP_201_CREATED, PurchaseSerializer.represent(purchase)

        # Not scoped to the path, so keys stored before tills existed still replay.
        return idempotent_response(request, ring_up, scoped=False)

    @extend_schema(
        request=RefundCreateSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            201: RefundSerializer,
            **error_responses(
                ErrorCode.VALIDATION_ERROR,
                ErrorCode.PARSE_ERROR,
                ErrorCode.NOT_ON_BILL,
                ErrorCode.REFUND_EXCEEDS_SOLD,
                ErrorCode.REFUND_PAYMENT_MISMATCH,
                ErrorCode.OVERRIDE_INVALID,
                ErrorCode.CHANGE_UNAVAILABLE,
                ErrorCode.CHANGE_TOO_COMPLEX,
                ErrorCode.TILL_NOT_FOUND,
                ErrorCode.TILL_INACTIVE,
                ErrorCode.SESSION_CLOSED,
                ErrorCode.SESSION_PENDING_APPROVAL,
                ErrorCode.IDEMPOTENCY_CONFLICT,
                ErrorCode.IDEMPOTENCY_IN_PROGRESS,
            ),
        },
        description=(
            "Take back lines of this bill. Each line pays back its share of the line's own amounts (the last "
            "refund of a line takes exactly what is left); more than sold − already refunded is 409 "
            "`refund_exceeds_sold`. The money goes back through the bill's payments, non-cash first, the rest in "
            "cash out of `till`'s drawer (default `DEFAULT_TILL`) in its open session, in the fewest pieces it can "
            "give. `restock: false` writes the goods off. Needs `purchases.add_refund`, or an `override_token` for "
            "`refund` from a manager who has it (403 `override_invalid` for a used, expired or other action's "
            "token). A refusal writes nothing."
        ),
        tags=["refunds"],
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    def refunds(self, request, pk=None, format=None):
        purchase = self.get_object()
        serializer = RefundCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        check_till(request.user, serializer.validated_data.get("till"))

        def refund():
            created = refund_create(purchase_id=purchase.pk, **serializer.validated_data, user=request.user)
            return status.HTTP_201_CREATED, RefundSerializer.represent(created)

        return idempotent_response(request, refund)


ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("purchase", ID_SCHEMA, description="Only this bill's refunds."),
            OpenApiParameter("session", ID_SCHEMA, description="Only refunds paid out in this session."),
            OpenApiParameter("till", ID_SCHEMA, description="Only refunds paid out at this till."),
        ],
        description="Refunds, newest first. A refund is made on its bill (`POST /purchases/{id}/refunds`) and never "
        "changed.",
    ),
    retrieve=extend_schema(description="One refund: its lines, amounts, payments and the cash handed back."),
)
@extend_schema(tags=["refunds"])
@extend_schema_view(
    credit_note_pdf=extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The credit note, marked ORIGINAL FOR RECIPIENT (first print) or DUPLICATE (later ones).",
            ),
            **error_responses(ErrorCode.NOT_FOUND, ErrorCode.THROTTLED),
        },
        description=(
            "The refund's credit note as a PDF, naming the invoice it credits. The first print is marked ORIGINAL "
            "FOR RECIPIENT, as is the emailed copy; every later print is marked DUPLICATE (`X-Duplicate: 1`). "
            "Throttled with the invoice prints (`PDF_THROTTLE_RATE` per user, 429 `throttled`)."
        ),
    ),
)
class RefundViewSet(PageByIdsListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Refunds, newest first. Refunds are made on their bill (`POST /purchases/{id}/refunds`) and never changed."""

    serializer_class = RefundSerializer
    permission_classes = [RolePermissions]
    lookup_value_regex = r"[0-9]{1,18}"
    store_rule = "purchases.refund"

    def get_queryset(self):
        if self.action != "list":
            return scope(refund_list(), self.request.user)
        serializer = RefundFilterSerializer(data=self.request.query_params.dict())
        serializer.is_valid(raise_exception=True)
        refunds = refund_list(
            purchase_id=serializer.validated_data.get("purchase"),
            session_id=serializer.validated_data.get("session"),
            till_id=serializer.validated_data.get("till"),
        )
        return scope(refunds, self.request.user)

    @action(
        detail=True,
        methods=["get"],
        url_path=r"credit-note\.pdf",
        url_name="credit-note-pdf",
        throttle_classes=[PdfRateThrottle],
        content_negotiation_class=PdfNegotiation,
    )
    def credit_note_pdf(self, request, *args, **kwargs):
        if not can_see(request.user, Refund, int(kwargs["pk"])):
            raise NotFound()
        try:
            return pdf_response(credit_note_pdf_print(refund_id=int(kwargs["pk"])))
        except Refund.DoesNotExist:
            raise NotFound() from None


def check_till(user, till_id: int | None) -> None:
    """A write at a till of a store ``user`` does not see is answered as one at a till that does not
    exist (``till_not_found``); ``None`` is the default till."""
    if not till_visible(user, till_id):
        raise TillNotFound(details={"till": till_id} if till_id is not None else {})


def bill_page(view, queryset, *, count: int | None = None, store_ids: list[int] | None = None) -> list[dict]:
    """Paginate ``queryset``'s ids, then read just that page's bills as rows (``purchase_rows``).
    ``count``: how many bills ``queryset`` has, when known exactly (``bill_count`` of the stores
    ``store_ids``, None: every store); its deep pages are then positioned by day
    (``purchase_ids_slice``)."""
    if count is None:
        page = view.paginate_queryset(queryset.values_list("id", flat=True))
    else:
        ids = _BillIds(queryset, store_ids=store_ids, total=count)
        page = view.paginator.paginate_queryset(ids, view.request, view, count=count)
    return purchase_rows(ids=list(page))


class _BillIds:
    """The ids of ``bills`` (every bill of the stores ``store_ids``, ``total`` of them, newest first)
    as the paginator slices them: ``purchase_ids_slice``."""

    ordered = True  # in the list's order (the paginator asks)

    def __init__(self, bills, *, store_ids: list[int] | None, total: int):
        self.bills, self.store_ids, self.total = bills, store_ids, total

    def __getitem__(self, window: slice) -> list[int]:
        return purchase_ids_slice(
            self.bills, store_ids=self.store_ids, total=self.total, start=window.start, stop=window.stop
        )


@extend_schema(tags=["purchases"])
class PaymentMethodViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The payment methods a bill can be paid with: the active ones, cash first. Not paginated."""

    serializer_class = PaymentMethodSerializer
    permission_classes = [RolePermissions]
    pagination_class = None
    store_rule = CHAIN_WIDE

    def get_queryset(self):
        return payment_method_list()


class CanViewSalesReport(BasePermission):
    """``purchases.view_sales_report`` (the Manager role has it); 401 when not logged in."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("purchases.view_sales_report"))


class CSVRenderer(BaseRenderer):
    """Selects ``?format=csv``; the view writes the CSV itself (``sales_report_csv_response``)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):  # pragma: no cover - never reached
        raise NotImplementedError("the sales report view returns its CSV as an HttpResponse")


SALES_REPORT_DESCRIPTION = (
    "Sales over a range of the store's local days (`TIME_ZONE`), grouped one way, net of discounts and refunds. "
    "A bill counts on the local day it was rung up; a refund counts on the local day it was made, not the bill's "
    "(refunds count in the period when they happened), at the till and for the cashier that made it, for the "
    "product and tax rate of the line taken back and for the methods it was paid back by. "
    "`gross` = the lines' price × quantity; `discounts` = the lines' discounts; `net_sales` = the bills' totals "
    "(subtotal + tax, before cash rounding); `refunds` = the refunds' totals (before rounding); "
    "`net_after_refunds` = `net_sales` − `refunds`; `tax` = the bills' tax − the refunds' tax; `cost` = what "
    "the goods sold cost at the cost price each line snapshot, less the refunded goods' at the same cost; "
    "`margin` = the taxable value sold net of refunds − `cost`. "
    "By `day` every day of the range has a row (zeros included), by `hour` every hour 0–23 of the local day; by "
    "`product` best first (`net_after_refunds`), with `quantity` and `refunded_quantity`; by `tax_rate` with "
    "`taxable` and `tax` net of refunds (the filing figures); by `payment_method` `net_sales` is what each method "
    "kept (cash: paid − change − rounding) and gross, discounts and tax are shared in proportion. `bills` by day, "
    "hour, cashier and till add up to the total; by product, tax rate and method a row counts the bills that have "
    "one, so they do not. `?format=csv` returns the same rows as CSV. Needs `purchases.view_sales_report`."
)


@extend_schema(tags=["reports"])
@extend_schema_view(
    sales=extend_schema(
        operation_id="reports_sales",
        parameters=[
            SalesReportQuerySerializer,
            OpenApiParameter(
                "group_by", {"type": "string", "enum": list(GROUPINGS), "default": "day"}, description="How rows group."
            ),
            OpenApiParameter(
                "format", {"type": "string", "enum": ["json", "csv"]}, description="`csv` for a CSV download."
            ),
        ],
        responses={
            200: SalesReportSerializer,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The rows as CSV, with a header."),
            **error_responses(
                ErrorCode.VALIDATION_ERROR,
                ErrorCode.REPORT_RANGE_INVALID,
                ErrorCode.REPORT_GROUPING_INVALID,
                ErrorCode.TILL_NOT_FOUND,
                ErrorCode.STORE_NOT_FOUND,
            ),
        },
        description=SALES_REPORT_DESCRIPTION + f" At most {MAX_DAYS} days; default the last 30.",
    ),
    gstr1=extend_schema(
        operation_id="reports_gstr1",
        parameters=[
            Gstr1QuerySerializer,
            OpenApiParameter(
                "format", {"type": "string", "enum": ["json", "csv"]}, description="`csv` for one section as CSV."
            ),
        ],
        responses={
            (200, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="The return, with the GST portal's key names (docs/gst.md)."
            ),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="One section as CSV, with a header."),
            **error_responses(ErrorCode.VALIDATION_ERROR),
        },
        description="GSTR-1 of a month or a quarter, from the bills and refunds as they were made: `b2b`, `b2cl` "
        "(inter-state B2C invoices above ₹1,00,000), `b2cs` (the other B2C sales by place of supply and rate, net "
        "of their credit notes), `cdnr`, `cdnur`, `hsn` (`hsn_b2b`, `hsn_b2c`) and `doc_issue`. Amounts are "
        "numbers with 2 places. Needs `purchases.view_sales_report`.",
    ),
)
class ReportViewSet(viewsets.ViewSet):
    """Back-office reports: `GET /reports/sales?date_from=&date_to=&group_by=&till=&format=csv` and
    `GET /reports/gstr1?period=2026-11&gstin=&format=csv&section=b2b`."""

    permission_classes = [CanViewSalesReport]
    # A report by product is 50,000 rows: its JSON written by orjson, as DRF's renderer writes it.
    renderer_classes = [
        *(OrjsonRenderer if renderer is JSONRenderer else renderer for renderer in viewsets.ViewSet.renderer_classes),
        CSVRenderer,
    ]
    store_rule = "purchases.purchase"

    @action(detail=False, methods=["get"])
    def sales(self, request, format=None):  # DRF's name: /reports/sales.json
        params = SalesReportQuerySerializer(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        as_csv = request.accepted_renderer.format == "csv"
        # By product the rows come as the row serializer would write them (up to 50,000 of them).
        as_json = params.validated_data["group_by"] == "product" and not as_csv
        report = sales_report(**params.validated_data, store_ids=visible_store_ids(request.user), as_json=as_json)
        if as_csv:
            return sales_report_csv_response(report)
        if not as_json:
            return Response(SalesReportSerializer(report).data)
        data = SalesReportSerializer({**report, "rows": []}).data
        data["rows"] = report["rows"]
        return Response(data)

    @action(detail=False, methods=["get"])
    def gstr1(self, request, format=None):  # DRF's name: /reports/gstr1.json
        params = validate_input(Gstr1QuerySerializer, request.query_params.dict())
        period = params["period"]
        section = gstr1_section(params.get("section")) if request.accepted_renderer.format == "csv" else None
        report = gstr1(period=period, gstin=params.get("gstin"), store_ids=visible_store_ids(request.user))
        if section is not None:
            return gstr1_csv_response(report, period, section)
        return gstr1_json_response(report, period)

    def handle_exception(self, exc):
        # Errors are JSON bodies, also when the CSV was asked for.
        if isinstance(getattr(self.request, "accepted_renderer", None), CSVRenderer):
            self.request.accepted_renderer = JSONRenderer()
            self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("email", TEXT_QUERY, description="Exact email, any case."),
            OpenApiParameter(
                "phone",
                PHONE_QUERY,
                description="Mobile number, in any spelling a bill takes (`9876543210`, `+91 98765 43210`…; a `+` in "
                "a query string is sent as `%2B`).",
            ),
        ],
        description="Customers, with their bill count and what they have spent and been refunded. A customer is "
        "created by their first bill and known by email, mobile number or both.",
    ),
    retrieve=extend_schema(
        description="One customer, with their bill count and what they have spent and been refunded."
    ),
)
@extend_schema(tags=["customers"])
class CustomerViewSet(PageByIdsListMixin, viewsets.ReadOnlyModelViewSet):
    """Customers are created by their first bill; they are identified by email, mobile number or both."""

    serializer_class = CustomerSerializer
    permission_classes = [RolePermissions]
    lookup_value_regex = r"[0-9]{1,18}"
    # Customers shop at any store of the chain; their bills are the user's stores' only.
    store_rule = CHAIN_WIDE

    def get_queryset(self):
        params = self.request.query_params
        phone = params.get("phone")
        return customer_list(
            email=params.get("email"), phone=customer_normalize_phone(phone, field="phone") if phone else None
        )

    @extend_schema(responses=PurchaseSerializer(many=True), description="The customer's bills, newest first.")
    @action(detail=True, methods=["get"], serializer_class=PurchaseSerializer)
    def purchases(self, request, pk=None, format=None):
        # The customer found as get_object() finds them (404 otherwise), without their figures.
        customer_id = get_object_or_404(self.get_queryset().values_list("pk", flat=True), pk=pk)
        page = bill_page(self, scope(purchase_list(customer_id=customer_id), request.user))
        return self.get_paginated_response(PurchaseSerializer(page, many=True).data)
