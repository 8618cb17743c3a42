"""OpenAPI schema additions: the one error body, and the errors every operation can return."""

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable error code, e.g. `insufficient_stock`.")
    message = serializers.CharField(help_text="Human-readable explanation.")
    details = serializers.DictField(
        help_text="Per-field messages for `validation_error`; facts about the refusal for domain errors."
    )


def error_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ErrorSerializer, description=description)


_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_COMMON = {
    "401": "`not_authenticated`: no or invalid credentials.",
    "403": "`permission_denied`: the user's role does not allow this.",
    "405": "`method_not_allowed`.",
    "406": "`not_acceptable`: the Accept header asks for a format the API does not produce.",
    "415": "`unsupported_media_type`.",
    "429": "`throttled`.",
    "500": "`server_error`: no internals are included.",
    "503": "`service_unavailable` (database down) or `busy` (gave up waiting for a lock).",
}
# Any API request can carry a body or a query string, so any can be refused with these (see
# billing_project.middleware); the middleware does not cover paths outside the API prefix.
_WITH_BODY = {
    "400": "`validation_error` with per-field `details` (a NUL byte in a query parameter, too), "
    "or `parse_error` for malformed JSON.",
    "411": "`length_required`: a body sent without Content-Length (chunked); send it with one.",
    "413": "`request_too_large`: the body is over the size limit; `details.limit` is the limit in bytes.",
}
# Headers the exception handler and the middleware always set on these errors.
_ERROR_HEADERS = {
    "401": ("WWW-Authenticate", "How to authenticate: `Token` (`Bearer` works too).", {"type": "string"}, True),
    "429": ("Retry-After", "Seconds to wait before retrying.", {"type": "string", "pattern": "^[0-9]+$"}, False),
    "503": ("Retry-After", "Seconds to wait before retrying.", {"type": "string", "pattern": "^[0-9]+$"}, True),
}


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
                extra["404"] = "`not_found`."
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
