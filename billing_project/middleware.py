import time

from django.conf import settings
from django.http import JsonResponse

from billing_project import metrics, request_id
from billing_project.errors import ErrorCode, error_body


def _error(code: ErrorCode, message: str, details: dict, headers: dict | None = None) -> JsonResponse:
    return JsonResponse(error_body(code, message, details), status=code.status, headers=headers)


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every answer that does not set its own caching: pages and API
    answers carry bills, customers' emails and the drawer, which no browser or proxy should keep.
    Static files keep WhiteNoise's long-lived caching."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.static_prefix = "/" + settings.STATIC_URL.lstrip("/")

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith(self.static_prefix) and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response


class RequestSizeLimitMiddleware:
    """Refuse, before anything reads them, API requests no view should see:

    - a chunked body (``Transfer-Encoding`` without ``Content-Length``): 411 ``length_required``.
      WSGI reads ``Content-Length`` bytes of body, so such a body would be read as empty and
      answered with a misleading "field is required";
    - a body over DATA_UPLOAD_MAX_MEMORY_SIZE: 413 ``request_too_large`` (DRF reads the stream itself,
      so Django's own limit never applies to JSON bodies);
    - a NUL byte in a query parameter (400 ``validation_error``) or in the Authorization header (401
      ``not_authenticated``). PostgreSQL cannot compare text with NUL in it, so these would otherwise
      fail in the database, and answer differently on SQLite."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.prefix = settings.API_V1_PREFIX.rstrip("/") + "/"

    def __call__(self, request):
        if request.path.startswith(self.prefix) or request.path == settings.API_V1_PREFIX:
            refusal = self._no_length(request) or self._too_large(request) or self._nul_bytes(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    def _no_length(self, request):
        if request.META.get("HTTP_TRANSFER_ENCODING") and not request.META.get("CONTENT_LENGTH"):
            return _error(
                ErrorCode.LENGTH_REQUIRED,
                "Send the request body with a Content-Length header; chunked bodies are not accepted.",
                {},
            )
        return None

    def _too_large(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            return _error(
                ErrorCode.REQUEST_TOO_LARGE, f"The request body is larger than {limit} bytes.", {"limit": limit}
            )
        return None

    def _nul_bytes(self, request):
        bad = sorted({key for key, values in request.GET.lists() if "\x00" in key or any("\x00" in v for v in values)})
        if bad:
            details = {
                key.replace("\x00", "\N{REPLACEMENT CHARACTER}"): ["Null characters are not allowed."] for key in bad
            }
            return _error(ErrorCode.VALIDATION_ERROR, "Invalid input.", details)
        if "\x00" in request.META.get("HTTP_AUTHORIZATION", ""):
            return _error(
                ErrorCode.NOT_AUTHENTICATED, "Invalid authentication credentials.", {}, {"WWW-Authenticate": "Token"}
            )
        return None


class RequestIdMiddleware:
    """First in the chain: every request gets an id (a sane incoming ``X-Request-ID``, or a new one),
    every log line written while it runs carries it, and the response returns it in the header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        rid = request_id.sanitize(request.headers.get(request_id.HEADER))
        request.request_id = rid
        token = request_id.bind(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id.unbind(token)
        response[request_id.HEADER] = rid
        return response


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class MetricsMiddleware:
    """Counts every request by method, route and status, and times it (``billing_http_*``).

    The route is the URL pattern's name, not the path, so ``/purchases/42`` and ``/purchases/43``
    are one series. Added only when ``METRICS_ENABLED``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or match.route) if match is not None else "unmatched"
        method = request.method if request.method in _METHODS else "other"
        metrics.observe_request(method, view, response.status_code, time.perf_counter() - started)
        return response
