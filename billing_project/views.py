"""Django-level error pages. Under the API prefix they answer with the API's JSON error body."""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views import defaults

from billing_project.errors import ErrorCode, error_body


def _is_api(request) -> bool:
    return request.path.startswith(settings.API_V1_PREFIX.rstrip("/") + "/") or request.path.startswith("/api/")


def not_found(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body(ErrorCode.NOT_FOUND, "Not found."), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return JsonResponse(
            error_body(ErrorCode.SERVER_ERROR, "Internal server error."), status=ErrorCode.SERVER_ERROR.status
        )
    return defaults.server_error(request)


def favicon(request):
    """``/favicon.ico``, which browsers ask for on every page they have no icon link for."""
    return redirect(static("purchases/favicon.svg"), permanent=True)
