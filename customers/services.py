from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from billing_project.errors import ValidationFailed

from .models import Customer


def customer_normalize_email(email: str) -> str:
    """Customers are identified by email, case-insensitively: store it trimmed and lower-cased."""
    normalized = (email or "").strip().lower()
    try:
        validate_email(normalized)
    except ValidationError:
        raise ValidationFailed(
            "Enter a valid customer email.", details={"customer_email": ["Enter a valid email address."]}
        ) from None
    return normalized


def customer_get_or_create(*, email: str) -> Customer:
    """Race-safe: ``get_or_create`` inserts inside a savepoint and, when a concurrent transaction
    inserted the same email first (unique-constraint violation), reads that row instead. On
    PostgreSQL the losing INSERT waits for the winner to commit or roll back, so exactly one
    customer is created for two simultaneous first bills."""
    customer, _ = Customer.objects.get_or_create(email=customer_normalize_email(email))
    return customer
