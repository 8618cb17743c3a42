from django.core.exceptions import ValidationError

from billing_project.errors import ValidationFailed

from .models import Customer
from .validators import validate_customer_email


def customer_normalize_email(email: str) -> str:
    """Customers are identified by email, case-insensitively: trimmed, lower-cased, and with an
    internationalised domain in one spelling (``xn--bcher-kva.example`` is ``bücher.example``)."""
    local, _, domain = (email or "").strip().lower().rpartition("@")
    try:
        if "xn--" in domain:
            domain = domain.encode("ascii").decode("idna")
        normalized = f"{local}@{domain}"
        validate_customer_email(normalized)
    except (ValidationError, UnicodeError) as exc:
        message = exc.messages[0] if isinstance(exc, ValidationError) else "Enter a valid email address."
        raise ValidationFailed(message, details={"customer_email": [message]}) from None
    return normalized


def customer_get_or_create(*, email: str) -> Customer:
    """Race-safe: ``get_or_create`` inserts inside a savepoint and, when a concurrent transaction
    inserted the same email first (unique-constraint violation), reads that row instead. On
    PostgreSQL the losing INSERT waits for the winner to commit or roll back, so exactly one
    customer is created for two simultaneous first bills."""
    customer, _ = Customer.objects.get_or_create(email=customer_normalize_email(email))
    return customer
