"""OpenAPI schema additions: the one error body, and the errors every operation can return.

Every code and its status come from the registry, ``billing_project.core.errors.ErrorCode``.
"""

from collections import defaultdict

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from billing_project.core.errors import ErrorCode
from billing_project.core.validators import INDIAN_MOBILE_PATTERN, MAX_PHONE_LENGTH


class ErrorSerializer(serializers.Serializer):
    """Every error the API answers with: a stable code to switch on, a message for people, and details."""

    code = serializers.CharField(help_text="Stable, machine-readable error code, e.g. `insufficient_stock`.")
    message = serializers.CharField(help_text="Human-readable explanation.")
    details = serializers.DictField(
        help_text="Per-field messages for `validation_error`; facts about the refusal for domain errors."
    )


def describe(*codes: ErrorCode) -> str:
    """``code``: meaning, for each code, from the registry."""
    return "; ".join(f"`{code}`: {code.meaning}" for code in codes) + "."


def error_responses(*codes: ErrorCode) -> dict[int, OpenApiResponse]:
    """The documented error responses of an operation, one per status, each listing its codes."""
    by_status: dict[int, list[ErrorCode]] = defaultdict(list)
    for code in codes:
        by_status[code.status].append(code)
    return {
        status: OpenApiResponse(response=ErrorSerializer, description=describe(*group))
        for status, group in sorted(by_status.items())
    }


# A free-text query parameter: anything but a NUL byte, which the middleware refuses (400).
TEXT_QUERY = {"type": "string", "pattern": "^[^\\u0000]*$"}
# A customer's mobile number as a query parameter: a spelling the bill takes, or empty (not given).
PHONE_QUERY = {
    "type": "string",
    "maxLength": MAX_PHONE_LENGTH,
    "pattern": f"^(?:{INDIAN_MOBILE_PATTERN[1:-1]})?$",
}

_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_COMMON = {
    str(code.status): describe(code)
    for code in (
        ErrorCode.NOT_AUTHENTICATED,
        ErrorCode.PERMISSION_DENIED,
        ErrorCode.METHOD_NOT_ALLOWED,
        ErrorCode.NOT_ACCEPTABLE,
        ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        ErrorCode.THROTTLED,
        ErrorCode.SERVER_ERROR,
    )
}
_COMMON["503"] = describe(ErrorCode.SERVICE_UNAVAILABLE, ErrorCode.BUSY)
# Any API request can carry a body or a query string, so any can be refused with these (see
# billing_project.core.middleware); the middleware does not cover paths outside the API prefix.
_WITH_BODY = {
    "400": describe(ErrorCode.VALIDATION_ERROR, ErrorCode.PARSE_ERROR),
    "411": describe(ErrorCode.LENGTH_REQUIRED),
    "413": describe(ErrorCode.REQUEST_TOO_LARGE),
}
# Headers the exception handler and the middleware always set on these errors.
_ERROR_HEADERS = {
    "401": ("WWW-Authenticate", "How to authenticate: `Token` (`Bearer` works too).", {"type": "string"}, True),
    "429": ("Retry-After", "Seconds to wait before retrying.", {"type": "string", "pattern": "^[0-9]+$"}, False),
    "503": ("Retry-After", "Seconds to wait before retrying.", {"type": "string", "pattern": "^[0-9]+$"}, True),
}


# What each enum means, for the integrator: drf-spectacular would only list the values with their labels.
ENUM_DESCRIPTIONS = {
    "DirectionEnum": "Which way a cash movement goes: `in` to the drawer, `out` of it.",
    "InvoiceStatusEnum": "Where the invoice email stands: `pending` (queued, or being retried), `sent`, `failed` "
    "(given up) or `skipped` (the customer declined it, or there is no email to send it to: a walk-in sale, a "
    "customer known by phone only).",
    "SupplyTypeEnum": "`B2B`: the buyer gave a GSTIN (a registered business); `B2C`: anyone else.",
    "SessionStatusEnum": "A till session is `open` until its close, then `closed`; a cashier's count past the "
    "variance limit waits in `pending_approval` until a manager approves it (`closed`) or sends it back (`open`).",
    "OverrideActionEnum": "What a manager's override allows: `discount`, `refund`, `cash_movement`, `open_variance`, "
    "`close_variance` or `price_override`.",
    "OverrideOutcomeEnum": "How an override request went: `granted` (a token), `refused` (a wrong PIN, or a user who "
    "may not approve) or `locked` (the PIN was locked after 5 failures).",
    "StockMovementKindEnum": "What changed a product's stock: a `sale`, a `refund_restock`, goods received "
    "(`receipt`), an `adjustment`, a stock `count`, the stock `import`, the ledger's `opening` row, or a transfer "
    "between stores: `transfer_out` at the source, `transfer_in` at the destination, and `transfer_loss` (quantity "
    "0: what was lost in transit, recorded at the destination).",
    "AdjustmentReasonEnum": "Why stock was adjusted: `damaged`, `expired`, `theft`, `found`, or `other` (with a note).",
    "StockCountStatusEnum": "A stock count is `open` while it is counted, then `posted` once its differences apply.",
    "TransferStatusEnum": "A transfer is `in_transit` from its creation (the stock left its source), then `received` "
    "once its destination records what arrived.",
    "UnitEnum": "What a product is sold by: `each` (whole numbers), or by measure to 3 decimal places: `kg`, `g`, "
    "`l`, `ml`, `m`.",
}


def describe_enums(result, generator, request, public):
    """Postprocessing hook: each enum component says what its values mean."""
    for name, schema in result.get("components", {}).get("schemas", {}).items():
        if "enum" in schema and name in ENUM_DESCRIPTIONS:
            schema["description"] = ENUM_DESCRIPTIONS[name]
    return result


def document_parameters(result, generator, request, public):
    """Postprocessing hook: a free-text query parameter (``search``) takes anything but a NUL byte, as
    ``TEXT_QUERY`` says for ours (the middleware refuses a NUL in any query parameter); a path's ``id``
    says what it is."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                free_text = schema.get("type") == "string" and not {"pattern", "enum", "format"} & set(schema)
                if parameter.get("in") == "query" and free_text:
                    schema["pattern"] = TEXT_QUERY["pattern"]
                if parameter.get("in") == "path" and parameter.get("name") == "id" and not parameter.get("description"):
                    parameter["description"] = "The id, as in the object's `id` field."
    return result


def add_error_responses(result, generator, request, public):
    """Postprocessing hook: document the error body on every operation."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(
        "Error",
        {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object", "additionalProperties": {}},
            },
            "required": ["code", "message", "details"],
        },
    )
    schemas["Error"]["properties"].setdefault(
        "request_id",
        {"type": "string", "description": "On a 500 only: the request's id (`X-Request-ID`), to quote to support."},
    )
    # Clients can switch on the code: the schema lists every code the registry has.
    schemas["Error"]["properties"]["code"]["enum"] = [code.value for code in ErrorCode]
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            extra = dict(_COMMON)
            if not operation.get("security") or {} in operation.get("security", []):
                extra.pop("401")
                extra.pop("403")
            if path.startswith(settings.API_V1_PREFIX) or "requestBody" in operation or operation.get("parameters"):
                extra.update(_WITH_BODY)
            if "{" in path:
                extra["404"] = describe(ErrorCode.NOT_FOUND)
            elif any(p.get("in") == "query" and p.get("name") == "page" for p in operation.get("parameters", [])):
                extra["404"] = "`not_found`: the page does not exist (`page` below 1 or past the last page)."
            for status_code, description in extra.items():
                responses.setdefault(
                    status_code, {"description": description, "content": {"application/json": {"schema": _ERROR_REF}}}
                )
            for status_code, (name, description, schema, required) in _ERROR_HEADERS.items():
                response = responses.get(status_code, {})
                if response.get("content", {}).get("application/json", {}).get("schema") == _ERROR_REF:
                    response.setdefault("headers", {})[name] = {
                        "description": description,
                        "schema": schema,
                        "required": required,
                    }
    return result
