"""Domain errors. Services raise these; the API's exception handler, the admin and the billing page
turn them into a response. Each carries a stable ``code``, a human ``message`` and ``details``."""

from typing import Any


def error_body(code: str, message: str, details: dict | None = None) -> dict[str, Any]:
    """The API's one error body. Every error response, from a view or a middleware, is built here."""
    return {"code": code, "message": message, "details": details or {}}


class DomainError(Exception):
    code = "domain_error"
    status_code = 400
    retry_after: int | None = None  # seconds, sent as Retry-After
    default_message = "The request could not be completed."

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None):
        self.message = message or self.default_message
        self.details = details or {}
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.details)


class ValidationFailed(DomainError):
    """Input that breaks a rule, found by a service rather than a serializer."""

    code = "validation_error"
    default_message = "Invalid input."


class Conflict(DomainError):
    status_code = 409


class Busy(DomainError):
    """The bill gave up waiting for a lock (a stuck till, a deadlock): nothing was written."""

    code = "busy"
    status_code = 503
    retry_after = 1
    default_message = "The till is busy; try again."


# PostgreSQL SQLSTATEs of a transaction that gave up waiting: lock_not_available (lock_timeout),
# query_canceled (statement_timeout), deadlock_detected, serialization_failure.
BUSY_SQLSTATES = frozenset({"55P03", "57014", "40P01", "40001"})


def is_busy(exc: BaseException) -> bool:
    return getattr(exc.__cause__, "sqlstate", None) in BUSY_SQLSTATES
