"""The one place that turns an exception into an API error body: ``{code, message, details}``."""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import DatabaseError, DataError, OperationalError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response

from billing_project.core import request_id
from billing_project.core.errors import Busy, DomainError, ErrorCode, error_body, is_busy

logger = logging.getLogger("billing.api")

# DRF exception class → (code, message); the first match wins.
_DRF_CODES: list[tuple[type[exceptions.APIException], ErrorCode, str]] = [
    (exceptions.ParseError, ErrorCode.PARSE_ERROR, "Malformed request body."),
    (exceptions.ValidationError, ErrorCode.VALIDATION_ERROR, "Invalid input."),
    (exceptions.NotAuthenticated, ErrorCode.NOT_AUTHENTICATED, "Authentication credentials were not provided."),
    (exceptions.AuthenticationFailed, ErrorCode.NOT_AUTHENTICATED, "Invalid authentication credentials."),
    (exceptions.PermissionDenied, ErrorCode.PERMISSION_DENIED, "You do not have permission to do this."),
    (exceptions.NotFound, ErrorCode.NOT_FOUND, "Not found."),
    (exceptions.MethodNotAllowed, ErrorCode.METHOD_NOT_ALLOWED, "Method not allowed."),
    (exceptions.NotAcceptable, ErrorCode.NOT_ACCEPTABLE, "Cannot satisfy the request's Accept header."),
    (exceptions.UnsupportedMediaType, ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Unsupported media type."),
    (exceptions.Throttled, ErrorCode.THROTTLED, "Too many requests."),
]


def error_response(
    code: ErrorCode, message: str, details=None, headers=None, http_status: int | None = None
) -> Response:
    """The error body with the registry's status for ``code`` (DRF's own status where it differs).
    A 500 also carries the request id, so a cashier can quote it."""
    status = http_status or code.status
    rid = request_id.get() if status == 500 else None
    return Response(error_body(code, message, details, request_id=rid), status=status, headers=headers)


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        return error_response(exc.code, exc.message, exc.details, headers)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.APIException):
        return _api_exception(exc)
    if isinstance(exc, DatabaseError):
        return _database_error(exc)
    logger.exception("unhandled error in %s", _view_name(context))
    return error_response(ErrorCode.SERVER_ERROR, "Internal server error.")


def _api_exception(exc: exceptions.APIException) -> Response:
    headers = {}
    # Set by DRF on the exceptions it raises: the authenticator's header, the throttle's wait.
    if auth_header := getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = auth_header
    if wait := getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(wait))
    code, message = next(
        ((code, message) for cls, code, message in _DRF_CODES if isinstance(exc, cls)),
        (ErrorCode.SERVER_ERROR if exc.status_code >= 500 else ErrorCode.VALIDATION_ERROR, str(exc.default_detail)),
    )
    details: dict[str, Any] = {}
    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
    elif isinstance(exc.detail, str) and exc.detail != exc.default_detail:
        message = str(exc.detail)
    return error_response(code, message, details, headers, http_status=exc.status_code)


def _database_error(exc: DatabaseError) -> Response:
    if is_busy(exc):
        logger.warning("request gave up waiting for the database: %s", getattr(exc.__cause__, "sqlstate", None))
        return exception_handler(Busy(), None)
    if isinstance(exc, DataError):
        # A value the database cannot store that no validation caught: a count pushed past 32 bits,
        # a NUL byte in a text filter. The input is at fault; the service's transaction rolled back.
        logger.warning("database refused a value: %s", exc)
        return error_response(ErrorCode.VALIDATION_ERROR, "A value is out of range or cannot be stored.")
    if isinstance(exc, OperationalError):
        logger.error("database unavailable: %s", exc.__class__.__name__)
        return error_response(
            ErrorCode.SERVICE_UNAVAILABLE,
            "The database is unavailable; try again shortly.",
            headers={"Retry-After": "5"},
        )
    logger.exception("database error")
    return error_response(ErrorCode.SERVER_ERROR, "Internal server error.")


def _view_name(context) -> str:
    view = (context or {}).get("view")
    return view.__class__.__name__ if view else "?"
