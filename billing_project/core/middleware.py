import time

import csp.constants
import csp.middleware
import csp.utils
from django.conf import settings
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware
from django.contrib.messages.storage import default_storage
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import JsonResponse

from billing_project.core import metrics, request_id
from billing_project.core.db.orm_internals import lazy_messages, messages_untouched
from billing_project.core.errors import ErrorCode, error_body


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
      fail in the database, and answer differently on SQLite;
    - a query parameter given more than once (400 ``validation_error``): every parameter the API takes
      is one value, and DRF would silently read the last (``?page=1&page=2``)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.prefix = settings.API_V1_PREFIX.rstrip("/") + "/"

    def __call__(self, request):
        if request.path.startswith(self.prefix) or request.path == settings.API_V1_PREFIX:
            refusal = (
                self._no_length(request)
                or self._too_large(request)
                or self._nul_bytes(request)
                or self._repeated(request)
            )
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

    def _repeated(self, request):
        repeated = sorted(key for key, values in request.GET.lists() if len(values) > 1)
        if repeated:
            return _error(
                ErrorCode.VALIDATION_ERROR, "Invalid input.", {key: ["Give this parameter once."] for key in repeated}
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


_CSP_OVERRIDES = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)


class CSPMiddleware(csp.middleware.CSPMiddleware):
    """django-csp's middleware, with the policy built once instead of on every response.

    Without a nonce (no template used ``request.csp_nonce``: every API answer) and without a view's
    own ``@csp_update``/``@csp_replace``, the header is a function of the settings alone, so it is
    built once and reused (rebuilt when a CSP setting changes). Anything else, the pages with their
    nonces included, goes through django-csp unchanged. The exemptions, the excluded prefixes and
    the "nonce read after the header was written" error behave as in django-csp."""

    def process_response(self, request, response):
        if (
            settings.DEBUG
            or getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in _CSP_OVERRIDES)
        ):
            return super().process_response(request, response)
        for report_only, header, setting, exempt in (
            (False, csp.constants.HEADER, "CONTENT_SECURITY_POLICY", "_csp_exempt"),
            (True, csp.constants.HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", "_csp_exempt_ro"),
        ):
            policy, prefixes = _csp_policy(report_only, setting)
            if (
                policy
                and header not in response
                and getattr(response, exempt, False) is False
                and not request.path_info.startswith(prefixes)
            ):
                response[header] = policy
        request.csp_nonce = csp.middleware.CheckableLazyObject(self._csp_nonce_post_response)
        return response


_csp_policies: dict[bool, tuple[str, tuple[str, ...]]] = {}


def _csp_policy(report_only: bool, setting: str) -> tuple[str, tuple[str, ...]]:
    """The header built from the settings alone, and the setting's excluded prefixes."""
    built = _csp_policies.get(report_only)
    if built is None:
        config = getattr(settings, setting, None) or {}
        built = _csp_policies[report_only] = (
            csp.utils.build_policy(report_only=report_only),
            tuple(config.get("EXCLUDE_URL_PREFIXES", None) or ()),
        )
    return built


@receiver(setting_changed)
def _csp_settings_changed(*, setting, **kwargs):
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _csp_policies.clear()


class MessageMiddleware(DjangoMessageMiddleware):
    """Django's messages, with the storage made when a request first uses it (a page that shows or
    adds a message) instead of on every request: API answers never do, and building the storage
    (a cookie store and a session store) and saving it back cost every API request a few dozen
    calls. A request that never touched its messages leaves the cookie and the session as Django's
    middleware would: an unused storage saves nothing."""

    def process_request(self, request):
        lazy_messages(request, lambda: default_storage(request))

    def process_response(self, request, response):
        if messages_untouched(request):
            return response
        return super().process_response(request, response)
