"""Django-level error pages (under the API prefix they answer with the API's JSON error body), and
the Prometheus scrape endpoint."""

import hmac

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views import defaults
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from billing_project.core import metrics, request_id
from billing_project.core.errors import ErrorCode, error_body


def _is_api(request) -> bool:
    return request.path.startswith(settings.API_V1_PREFIX.rstrip("/") + "/") or request.path.startswith("/api/")


def not_found(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body(ErrorCode.NOT_FOUND, "Not found."), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return JsonResponse(
            error_body(ErrorCode.SERVER_ERROR, "Internal server error.", request_id=request_id.get()),
            status=ErrorCode.SERVER_ERROR.status,
        )
    return defaults.server_error(request)


def favicon(request):
    """``/favicon.ico``, which browsers ask for on every page they have no icon link for."""
    return redirect(static("purchases/favicon.svg"), permanent=True)


@require_GET
def metrics_view(request):
    """Prometheus metrics, for a scraper that sends ``Authorization: Bearer <METRICS_TOKEN>``.

    Not public: with no token configured this is 404, as if it did not exist; a missing or wrong
    token is 401. Scrape each node directly (each sums its own gunicorn workers)."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), token.encode()):
        return HttpResponse(
            "Unauthorized\n", status=401, content_type="text/plain", headers={"WWW-Authenticate": "Bearer"}
        )
    return HttpResponse(metrics.render(), content_type=CONTENT_TYPE_LATEST)
