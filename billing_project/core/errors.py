"""Domain errors and the one registry of error codes.

:class:`ErrorCode` lists every code the API and the pages can answer with, each with its HTTP status
and what it means. Services raise :class:`DomainError` subclasses that name their code; the API's
exception handler, the middleware, the OpenAPI schema (``billing_project.core.api.schema``), the billing
page's error placement and the error table in docs/api.md all read the codes from here, and a test fails
when docs/api.md and this registry disagree. To add a code, see CONTRIBUTING.md.
"""

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """A stable, machine-readable error code, with its HTTP status and meaning.

    Members are strings (``ErrorCode.BUSY == "busy"``), so they serialize as the bare code.
    """

    status: int
    meaning: str

    def __new__(cls, value: str, status: int, meaning: str) -> "ErrorCode":
        member = str.__new__(cls, value)
        member._value_ = value
        member.status = status
        member.meaning = meaning
        return member

    # --- Any request ---------------------------------------------------------------------------
    VALIDATION_ERROR = (
        "validation_error",
        400,
        "bad or missing fields, bad types, out-of-range numbers, a query parameter given twice (`details` per field)",
    )
    PARSE_ERROR = "parse_error", 400, "malformed JSON"
    NOT_AUTHENTICATED = (
        "not_authenticated",
        401,
        "no or bad credentials, an expired or revoked token, an unknown scheme",
    )
    PERMISSION_DENIED = "permission_denied", 403, "the role does not allow it"
    NOT_FOUND = "not_found", 404, "no such object or page"
    METHOD_NOT_ALLOWED = "method_not_allowed", 405, "bills and customers are never changed through the API"
    NOT_ACCEPTABLE = (
        "not_acceptable",
        406,
        "the Accept header, or `?format=`, asks for a format the endpoint does not produce",
    )
    LENGTH_REQUIRED = "length_required", 411, "a body without `Content-Length` (`Transfer-Encoding: chunked`)"
    REQUEST_TOO_LARGE = "request_too_large", 413, "body over `DATA_UPLOAD_MAX_MEMORY_SIZE`; `details.limit` in bytes"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type", 415, "a body that is not JSON"
    THROTTLED = (
        "throttled",
        429,
        "too many token requests or PDF prints, or failed logins for a username from an address",
    )
    SERVER_ERROR = "server_error", 500, "an unexpected failure; no internals are included"
    SERVICE_UNAVAILABLE = "service_unavailable", 503, "the database is down; `Retry-After` says when to retry"
    BUSY = "busy", 503, "a write gave up waiting for a lock or hit its statement timeout; nothing was written; retry"

    # --- Bills ---------------------------------------------------------------------------------
    PRODUCT_NOT_FOUND = (
        "product_not_found",
        400,
        "unknown product on a bill, goods received, an adjustment or a stock count (404 from `GET /products/lookup`: "
        "no product has the code)",
    )
    INSUFFICIENT_PAYMENT = "insufficient_payment", 400, "paid less than payable"
    TENDER_MISMATCH = "tender_mismatch", 400, "notes don't add up to `paid_amount`, or an unknown denomination"
    INSUFFICIENT_STOCK = (
        "insufficient_stock",
        409,
        "not enough stock for a bill, a transfer (at its source), or an adjustment that would take stock below 0 "
        "(`details`: `product_id`, `available`, `requested`)",
    )
    PRODUCT_INACTIVE = "product_inactive", 409, "archived product on a bill or a transfer"
    CUSTOMER_CONFLICT = (
        "customer_conflict",
        409,
        "a bill's `customer_email` and `customer_phone` belong to two different customers (or one's customer "
        "has another); nothing was written",
    )
    CHANGE_UNAVAILABLE = "change_unavailable", 409, "the drawer cannot make exact change"
    CHANGE_TOO_COMPLEX = "change_too_complex", 409, "working out the change ran past its step budget (see Drawer caps)"
    UNKNOWN_PAYMENT_METHOD = "unknown_payment_method", 400, "a payment's `method` is not an active payment method"
    OVERPAYMENT = (
        "overpayment",
        400,
        "the non-cash payments add up to more than the bill's total (no change from a card)",
    )
    DISCOUNT_NEEDS_MANAGER = (
        "discount_needs_manager",
        403,
        "a discount above `CASHIER_MAX_DISCOUNT_PERCENT` without the `give_large_discount` permission",
    )

    UPI_NOT_CONFIGURED = "upi_not_configured", 404, "`GET /upi-qr` in a store without `UPI_VPA`"

    # --- Refunds -------------------------------------------------------------------------------
    NOT_ON_BILL = "not_on_bill", 400, "a refund names a product that is not on the bill"
    REFUND_EXCEEDS_SOLD = (
        "refund_exceeds_sold",
        409,
        "more than sold − already refunded (`details`: `product_id`, `sold`, `refunded`, `requested`)",
    )
    REFUND_PAYMENT_MISMATCH = (
        "refund_payment_mismatch",
        400,
        "refund `payments` that don't add up to its amount, or give a method more than it can take back",
    )

    # --- Idempotency ---------------------------------------------------------------------------
    IDEMPOTENCY_CONFLICT = "idempotency_conflict", 409, "the `Idempotency-Key` was used with another body"
    IDEMPOTENCY_IN_PROGRESS = "idempotency_in_progress", 409, "a request with the same key is still running; retry"

    # --- The drawer ----------------------------------------------------------------------------
    DENOMINATION_EXISTS = "denomination_exists", 409, "POST of a value the drawer already has (PUT sets its count)"
    TOO_MANY_DENOMINATIONS = "too_many_denominations", 409, "POST of a 25th value (see Drawer caps)"

    # --- Tills and sessions --------------------------------------------------------------------
    TILL_NOT_FOUND = (
        "till_not_found",
        404,
        "a bill, refund, held bill or sales report names a till that does not exist or is another store's",
    )
    TILL_EXISTS = "till_exists", 409, "a till code that is taken"
    DEFAULT_TILL_RENAME = (
        "default_till_rename",
        409,
        "a new code for the till `DEFAULT_TILL` names (point `DEFAULT_TILL` at another till instead)",
    )
    SERIES_EXHAUSTED = "series_exhausted", 409, "a bill in a series that has given number 999999 this financial year"
    SERIES_TAKEN = "series_taken", 409, "an invoice or credit series another till (or the till's other series) uses"
    SESSION_OPEN = "session_open", 409, "opening a till that already has an open session"
    TILL_INACTIVE = "till_inactive", 409, "a bill or an open at an inactive till"
    SESSION_CLOSED = (
        "session_closed",
        409,
        "cash in/out or close on a closed session; a bill at a till that needs one",
    )
    INSUFFICIENT_CASH = "insufficient_cash", 409, "taking out more pieces of a value than the drawer holds"
    VARIANCE_NEEDS_MANAGER = (
        "variance_needs_manager",
        409,
        "an opening count over/short past `CASH_VARIANCE_LIMIT` without approval (a close goes to "
        "`pending_approval` instead)",
    )
    SESSION_PENDING_APPROVAL = (
        "session_pending_approval",
        409,
        "a bill, refund, cash in/out, open or close at a till whose closing count waits for a manager",
    )

    # --- Manager overrides ---------------------------------------------------------------------
    OVERRIDE_REFUSED = (
        "override_refused",
        403,
        "a wrong manager PIN, an unknown username, or a user without `approve_override`",
    )
    OVERRIDE_INVALID = (
        "override_invalid",
        403,
        "an `override_token` already used, expired, or minted for another action",
    )
    OVERRIDE_LOCKED = (
        "override_locked",
        429,
        "a manager's PIN locked for 15 minutes after 5 failures in a row; `Retry-After` says when",
    )

    # --- The catalogue -------------------------------------------------------------------------
    PRICE_ABOVE_MRP = (
        "price_above_mrp",
        400,
        "a product's `price` above its `mrp` (`details`: `price`, `mrp`), through the API, the admin or an import",
    )

    # --- Stock -----------------------------------------------------------------------------------
    STOCK_COUNT_POSTED = (
        "stock_count_posted",
        409,
        "counting or posting a stock count that is already posted (`details`: `count_id`); nothing was written",
    )
    TRANSFER_ALREADY_RECEIVED = (
        "transfer_already_received",
        409,
        "receiving a transfer that is already received (`details`: `transfer_id`); nothing was written",
    )
    SUPPLIER_NOT_FOUND = "supplier_not_found", 400, "goods received from a supplier that does not exist"
    STORE_NOT_FOUND = (
        "store_not_found",
        400,
        "stock received, adjusted, counted or created at a store that does not exist, is inactive or is not "
        "yours; a sales report of a store that does not exist",
    )

    # --- Back office ---------------------------------------------------------------------------
    INVOICE_PENDING = "invoice_pending", 409, "re-send of an invoice email that is already queued (admin)"
    IMPORT_FILE_INVALID = "import_file_invalid", 400, "a stock file that cannot be read (admin import, `seed_stock`)"
    IMPORT_REJECTED = "import_rejected", 400, "a stock file with bad rows; nothing was written"
    REPORT_RANGE_INVALID = (
        "report_range_invalid",
        400,
        "a sales report whose `date_from` is after `date_to`, that spans more than 366 days, or names a day "
        "outside 2000-01-01 to 2999-12-31",
    )
    REPORT_GROUPING_INVALID = (
        "report_grouping_invalid",
        400,
        "a sales report `group_by` that is not one of day, hour, product, cashier, till, payment_method, tax_rate",
    )

    @classmethod
    def with_status(cls, status: int) -> list["ErrorCode"]:
        return [code for code in cls if code.status == status]


def error_body(
    code: ErrorCode, message: str, details: dict[str, Any] | None = None, *, request_id: str | None = None
) -> dict[str, Any]:
    """The API's one error body. Every error response, from a view or a middleware, is built here.

    A 500 also carries the request's id (``request_id``), so a cashier can quote it."""
    body = {"code": str(code), "message": message, "details": details or {}}
    if request_id is not None:
        body["request_id"] = request_id
    return body


class DomainError(Exception):
    """A refusal a service decided on. Subclasses name their ``code``; the status comes with it."""

    code: ErrorCode = ErrorCode.VALIDATION_ERROR
    retry_after: int | None = None  # seconds, sent as Retry-After
    default_message = "The request could not be completed."

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None):
        self.message = message or self.default_message
        self.details = details or {}
        super().__init__(self.message)

    @property
    def status_code(self) -> int:
        return self.code.status

    def as_dict(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.details)


class ValidationFailed(DomainError):
    """Input that breaks a rule, found by a service rather than a serializer."""

    code = ErrorCode.VALIDATION_ERROR
    default_message = "Invalid input."


class Conflict(DomainError):
    """A request that is well formed but conflicts with the state of things (409)."""


class Busy(DomainError):
    """The bill gave up waiting for a lock (a stuck till, a deadlock): nothing was written."""

    code = ErrorCode.BUSY
    retry_after = 1
    default_message = "The till is busy; try again."


# PostgreSQL SQLSTATEs of a transaction that gave up waiting: lock_not_available (lock_timeout),
# query_canceled (statement_timeout), deadlock_detected, serialization_failure.
BUSY_SQLSTATES = frozenset({"55P03", "57014", "40P01", "40001"})


def is_busy(exc: BaseException) -> bool:
    return getattr(exc.__cause__, "sqlstate", None) in BUSY_SQLSTATES
