"""What a client locked out by django-axes sees (``AXES_LOCKOUT_CALLABLE``): the API's JSON
``throttled`` error, or the login page's friendly message, both 429 with ``Retry-After``."""

from axes.helpers import get_cool_off
from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render

from billing_project.core.errors import ErrorCode, error_body

LOCKED_OUT_MESSAGE = "Too many failed logins. Wait a few minutes and try again."


def retry_after_seconds(request) -> int:
    cool_off = get_cool_off(request)
    return int(cool_off.total_seconds()) if cool_off else 60


def lockout_response(request, original_response=None, credentials=None):
    wait = retry_after_seconds(request)
    headers = {"Retry-After": str(wait)}
    prefix = settings.API_V1_PREFIX.rstrip("/")
    if request.path == prefix or request.path.startswith(prefix + "/"):
        body = error_body(ErrorCode.THROTTLED, "Too many failed logins from this address.")
        return JsonResponse(body, status=ErrorCode.THROTTLED.status, headers=headers)
    minutes = max(1, round(wait / 60))
    context = {"message": LOCKED_OUT_MESSAGE, "minutes": minutes}
    response = render(request, "registration/locked_out.html", context, status=429)
    response["Retry-After"] = headers["Retry-After"]
    return response
