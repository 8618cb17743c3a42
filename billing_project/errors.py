"""Domain errors. Services raise these; the API's exception handler, the admin and the billing page
turn them into a response. Each carries a stable ``code``, a human ``message`` and ``details``."""

from typing import Any


class DomainError(Exception):
    code = "domain_error"
    status_code = 400
    default_message = "The request could not be completed."

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None):
        self.message = message or self.default_message
        self.details = details or {}
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class ValidationFailed(DomainError):
    """Input that breaks a rule, found by a service rather than a serializer."""

    code = "validation_error"
    default_message = "Invalid input."


class Conflict(DomainError):
    status_code = 409
