from functools import cache

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from billing_project.core.db import default_connection, statement_cursor
from billing_project.core.errors import ValidationFailed
from billing_project.core.validators import validate_customer_email

from .models import Customer


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
    """The customer with ``email`` (normalised by ``customer_normalize_email``), created when new.

    Race-safe. On PostgreSQL it is one statement: the lookup, and an ``INSERT … ON CONFLICT DO
    NOTHING`` that runs only when the lookup found nothing (so a known customer costs no insert and
    no id). When a concurrent transaction inserts the same email first, the INSERT waits for it to
    commit or roll back (the unique index is step 1 of the lock order) and then inserts nothing; the
    statement's snapshot predates that commit, so the row is read again by a second query. Exactly
    one customer is created for two simultaneous first bills. Elsewhere (SQLite) it is
    ``get_or_create``, whose INSERT runs in a savepoint."""
    conn = default_connection()
    email = customer_normalize_email(email)
    if conn.vendor != "postgresql":
        customer, _ = Customer.objects.get_or_create(email=email)
        return customer
    with statement_cursor() as cursor:
        cursor.execute(_get_or_insert_sql(), [email, email, timezone.now()])
        row = cursor.fetchone()
    if row is None:  # lost the race for a new email: the winner's row is committed now
        return Customer.objects.get(email=email)
    return Customer.from_db(conn.alias, _FIELDS, row)


_FIELDS = ["id", "email", "created_at"]


def customer_get_or_create_ctes(*, after: str) -> str:
    """``customer_get_or_create``'s statement as CTEs of another statement (PostgreSQL), to save it
    a round trip: ``customer_found``, ``customer_created`` (the INSERT, which runs only once
    ``after`` holds: an SQL condition, such as a CTE that must run first existing) and
    ``customer``, the customer's row, or none when a concurrent first bill for the same new email
    won the race (then read it with ``customer_get_or_create``). Parameters, in order: the email
    (normalised: ``customer_normalize_email``), the email again, and the time now. Turn the
    ``customer`` row (``id``, ``email``, ``created_at``) into the customer with ``customer_from_row``."""
    return _get_or_insert_ctes(after)


def customer_from_row(row) -> Customer:
    return Customer.from_db(default_connection().alias, _FIELDS, row)


@cache
def _get_or_insert_ctes(after: str) -> str:
    quote = connection.ops.quote_name
    table = quote(Customer._meta.db_table)
    columns = ", ".join(quote(name) for name in _FIELDS)
    return (
        f"customer_found AS (SELECT {columns} FROM {table} WHERE email = %s), "  # noqa: S608
        f"customer_created AS (INSERT INTO {table} (email, created_at) SELECT %s, %s "
        f"WHERE NOT EXISTS (SELECT FROM customer_found) AND {after} "
        f"ON CONFLICT (lower(email)) DO NOTHING RETURNING {columns}), "
        f"customer AS (SELECT {columns} FROM customer_found UNION ALL SELECT {columns} FROM customer_created LIMIT 1)"
    )


@cache
def _get_or_insert_sql() -> str:
    # The CTEs a bill sends in its first statement, sent on their own.
    quote = connection.ops.quote_name
    columns = ", ".join(quote(name) for name in _FIELDS)
    return f"WITH {_get_or_insert_ctes('TRUE')} SELECT {columns} FROM customer"  # noqa: S608
