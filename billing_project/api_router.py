"""Every API route, on one router. Paths work with and without a trailing slash."""

from django.urls import NoReverseMatch, re_path, reverse
from rest_framework import routers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from billing_project.core.api.views import ObtainTokenView
from cashdrawer.api import DenominationViewSet, OverrideViewSet, PinView, TillSessionViewSet, TillViewSet
from catalog.api import (
    AdjustmentViewSet,
    ProductViewSet,
    ReceiptViewSet,
    StockCountViewSet,
    SupplierViewSet,
    TransferViewSet,
)
from catalog.store_api import StaffStoresView
from catalog.stores_api import StoreViewSet
from purchases.api import CustomerViewSet, PaymentMethodViewSet, PurchaseViewSet, RefundViewSet, ReportViewSet
from purchases.counter_api import HeldBillViewSet, UpiQrView

# The API root's table of contents: (name, URL name or path under the root, methods, what it does).
# A path with ``{…}`` is a template for one object.
ENDPOINTS = [
    (
        "auth/token",
        "auth-token",
        "POST",
        "{username, password} → {token, expiry}. Send it as `Authorization: Token <token>` or `Bearer <token>`.",
    ),
    ("auth/pin", "auth-pin", "POST", "{password, pin}: a manager sets their own override PIN (4 to 8 digits)."),
    (
        "overrides",
        "override-list",
        "GET, POST",
        "POST {username, pin, action, till?}: a manager's single-use override token; GET: the audit list.",
    ),
    ("products", "product-list", "GET, POST", "The catalogue: ?search= on name and SKU, ?is_active=. Managers add."),
    (
        "products/{id}",
        "products/{id}",
        "GET, PUT, PATCH, DELETE",
        "One product. DELETE archives one that is on a bill.",
    ),
    (
        "products/{id}/movements",
        "products/{id}/movements",
        "GET",
        "One product's stock ledger, newest first: every change of its stock and what caused it.",
    ),
    ("suppliers", "supplier-list", "GET, POST", "Suppliers goods are received from. Managers."),
    ("suppliers/{id}", "suppliers/{id}", "GET, PUT, PATCH", "One supplier."),
    (
        "receipts",
        "receipt-list",
        "GET, POST",
        "Goods received against a supplier's invoice: adds stock, moves the cost price. Idempotency-Key.",
    ),
    ("receipts/{id}", "receipts/{id}", "GET", "One receipt with its lines, value and input tax."),
    (
        "adjustments",
        "adjustment-list",
        "GET, POST",
        "Changes of stock with a reason (damaged, expired, theft, found, other). Idempotency-Key.",
    ),
    ("adjustments/{id}", "adjustments/{id}", "GET", "One adjustment."),
    ("stock-counts", "stock-count-list", "GET, POST", "Stock takes: POST opens one over all products or some."),
    ("stock-counts/{id}", "stock-counts/{id}", "GET", "One stock count with its lines and differences."),
    (
        "stock-counts/{id}/lines/{product_id}",
        "stock-counts/{id}/lines/{product_id}",
        "PUT",
        "Record a product's count: expected is its stock at that moment.",
    ),
    ("stock-counts/{id}/post", "stock-counts/{id}/post", "POST", "Apply the counted differences to stock, once."),
    (
        "transfers",
        "transfer-list",
        "GET, POST",
        "Goods sent between stores (?status=, ?store=): POST takes the stock out of the source. Idempotency-Key.",
    ),
    ("transfers/{id}", "transfers/{id}", "GET", "One transfer with its lines, in transit or received."),
    (
        "transfers/{id}/receive",
        "transfers/{id}/receive",
        "POST",
        "Record what arrived, once: it goes into the destination's stock, a shortfall is lost. Idempotency-Key.",
    ),
    (
        "denominations",
        "denomination-list",
        "GET, POST",
        "The drawer's notes and coins, highest first. POST adds a new value (409 if the drawer has it).",
    ),
    ("denominations/{value}", "denominations/{value}", "GET, PUT", "One value, e.g. /500; PUT sets its count."),
    (
        "purchases",
        "purchase-list",
        "GET, POST",
        "Bills, newest first (?customer_email=, ?customer_phone=). POST rings one up; send an Idempotency-Key.",
    ),
    ("purchases/{id}", "purchases/{id}", "GET", "One bill: lines, totals, change handed back, invoice email, refunds."),
    (
        "purchases/{id}/refunds",
        "purchases/{id}/refunds",
        "POST",
        "Take back lines of a bill; money back through its payments, cash out of the till. Idempotency-Key.",
    ),
    ("refunds", "refund-list", "GET", "Refunds, newest first (?purchase=, ?session=, ?till=)."),
    ("refunds/{id}", "refunds/{id}", "GET", "One refund: lines, amounts, payments, cash handed back."),
    (
        "reports/sales",
        "report-sales",
        "GET",
        "Sales by day, hour, product, cashier, till, payment method or tax rate, net of refunds (?format=csv).",
    ),
    (
        "reports/gstr1",
        "report-gstr1",
        "GET",
        "GSTR-1 of a month or quarter (?period=2026-11), in the GST portal's JSON; ?format=csv&section=b2b….",
    ),
    ("payment-methods", "payment-method-list", "GET", "The active payment methods (cash, card, UPI…)."),
    (
        "held-bills",
        "held-bill-list",
        "GET, POST",
        "Parked carts, oldest first (?till=). POST parks one: no stock, no money.",
    ),
    ("held-bills/{id}", "held-bills/{id}", "GET, DELETE", "One parked cart; DELETE discards it."),
    (
        "held-bills/{id}/recall",
        "held-bills/{id}/recall",
        "POST",
        "The cart back to the screen; the parked one is gone.",
    ),
    ("upi-qr", "upi-qr", "GET", "?amount=&ref= → {uri, svg}: the store's UPI QR code for an amount."),
    (
        "staff/{username}/stores",
        "staff/{username}/stores",
        "GET, PUT",
        "The stores a user works at; PUT {stores: [ids]} sets them. Head office only.",
    ),
    ("customers", "customer-list", "GET", "Customers with bill count and total spent (?email=, ?phone=)."),
    ("customers/{id}", "customers/{id}", "GET", "One customer."),
    ("customers/{id}/purchases", "customers/{id}/purchases", "GET", "One customer's bills."),
    ("stores", "store-list", "GET, POST", "The chain's stores: GSTIN, state, address. Head office only."),
    ("stores/{id}", "stores/{id}", "GET, PATCH", "One store. Head office only."),
    ("tills", "till-list", "GET, POST", "Tills with their store and open session. Managers add (?store= default)."),
    (
        "tills/{id}",
        "tills/{id}",
        "GET, PATCH",
        "One till: code, name, store, active, whether it needs an open session.",
    ),
    (
        "tills/{id}/denominations",
        "tills/{id}/denominations",
        "GET, POST",
        "One till's drawer; PUT …/{value} sets a count.",
    ),
    ("tills/{id}/sessions", "tills/{id}/sessions", "POST", "Open a session with the counted float."),
    ("sessions", "session-list", "GET", "Till sessions (shifts), newest first (?till=, ?status=)."),
    ("sessions/{id}", "sessions/{id}", "GET", "One session: opening, expected, counted, variance."),
    ("sessions/{id}/cash-movements", "sessions/{id}/cash-movements", "POST", "Cash in or out, with a reason."),
    (
        "sessions/{id}/close",
        "sessions/{id}/close",
        "POST",
        "Close with a blind count; the variance is posted (202 pending_approval past the limit).",
    ),
    ("sessions/{id}/approve", "sessions/{id}/approve", "POST", "{reason}: a manager approves a pending count."),
    ("sessions/{id}/recount", "sessions/{id}/recount", "POST", "{reason}: a manager sends a pending count back."),
    (
        "sessions/{id}/report",
        "sessions/{id}/report",
        "GET",
        "The X report while open, the frozen Z report once closed.",
    ),
]
# Outside the versioned prefix, listed so that the root names everything.
OTHER_ENDPOINTS = [
    ("schema", "schema", "GET", "The OpenAPI schema."),
    ("docs", "swagger-ui", "GET", "Swagger UI."),
    ("redoc", "redoc", "GET", "Redoc."),
    ("healthz", "healthz", "GET", "200 with a database check, or 503 (no login needed)."),
]


class ApiRootView(routers.APIRootView):
    """Every endpoint of the API with a line on what it does. Every error body is
    `{"code", "message", "details"}`; money is a string with 2 places. Anyone may read this list."""

    permission_classes = [AllowAny]

    def get(self, request, *args, **kwargs):
        namespace = request.resolver_match.namespace
        root = request.build_absolute_uri(_reverse("api-root", namespace))

        def entry(target: str, methods: str, description: str, *, versioned: bool) -> dict:
            if "{" in target:
                url = root.rstrip("/") + "/" + target
            else:
                url = request.build_absolute_uri(_reverse(target, namespace if versioned else ""))
            return {"url": url, "methods": methods, "description": description}

        body = {name: entry(target, m, d, versioned=True) for name, target, m, d in ENDPOINTS}
        body |= {name: entry(target, m, d, versioned=False) for name, target, m, d in OTHER_ENDPOINTS}
        return Response(body)


def _reverse(name: str, namespace: str) -> str:
    try:
        return reverse(f"{namespace}:{name}" if namespace else name)
    except NoReverseMatch:
        return reverse(name)


class OptionalSlashRouter(routers.DefaultRouter):
    APIRootView = ApiRootView

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
# The tills' bills first: Django tries the routes in order, and every bill is a request here.
router.register("purchases", PurchaseViewSet, basename="purchase")
router.register("products", ProductViewSet, basename="product")
router.register("suppliers", SupplierViewSet, basename="supplier")
router.register("receipts", ReceiptViewSet, basename="receipt")
router.register("adjustments", AdjustmentViewSet, basename="adjustment")
router.register("stock-counts", StockCountViewSet, basename="stock-count")
router.register("transfers", TransferViewSet, basename="transfer")
router.register("denominations", DenominationViewSet, basename="denomination")
router.register("payment-methods", PaymentMethodViewSet, basename="payment-method")
router.register("refunds", RefundViewSet, basename="refund")
router.register("reports", ReportViewSet, basename="report")
router.register("customers", CustomerViewSet, basename="customer")
router.register("stores", StoreViewSet, basename="store")
router.register("tills", TillViewSet, basename="till")
router.register("sessions", TillSessionViewSet, basename="session")
router.register("overrides", OverrideViewSet, basename="override")
router.register("held-bills", HeldBillViewSet, basename="held-bill")

urlpatterns = [
    re_path(r"^auth/token/?$", ObtainTokenView.as_view(), name="auth-token"),
    re_path(r"^auth/pin/?$", PinView.as_view(), name="auth-pin"),
    re_path(r"^upi-qr/?$", UpiQrView.as_view(), name="upi-qr"),
    re_path(r"^staff/(?P<username>[\w.@+-]{1,150})/stores/?$", StaffStoresView.as_view(), name="staff-stores"),
    *router.urls,
]
