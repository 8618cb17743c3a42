from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from billing_project.core.db import default_connection, statement_cursor
from billing_project.core.errors import Busy, ValidationFailed
from billing_project.core.gst import validate_state_code
from billing_project.core.validators import indian_mobile_e164, validate_customer_email, validate_gstin

from .errors import CustomerConflict
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


def customer_normalize_phone(phone: str, *, field: str = "customer_phone") -> str:
    """A customer's mobile number in E.164 form (``+919876543210``), from any spelling the rule
    takes (``billing_project.core.validators.indian_mobile_e164``); a ``validation_error`` on
    ``field`` otherwise."""
    try:
        return indian_mobile_e164(phone)
    except ValidationError as exc:
        raise ValidationFailed(exc.messages[0], details={field: [exc.messages[0]]}) from None


def customer_get_or_create(*, email: str | None = None, phone: str | None = None) -> Customer:
    """The customer with ``email`` and/or ``phone`` (each normalised: ``customer_normalize_email``,
    ``customer_normalize_phone``), created when new. At least one must be given.

    - Both given and they belong to two different customers, or one's customer is on file with
      another email or number: ``CustomerConflict``, and nothing is written.
    - One known, the other new: the new one is added to that customer.
    - Neither known: one new customer with what was given.

    Race-safe, and deadlock-free. On PostgreSQL it is one statement (``customer_get_or_create_ctes``):
    the lookups, which lock the customer found (lock step 1), and an ``INSERT … ON CONFLICT DO
    NOTHING`` that runs only when they found nothing, or an ``UPDATE`` of the one customer found
    that adds what it lacks. When a concurrent transaction inserts the same email or number first,
    the INSERT waits for it to commit or roll back (the unique indexes are step 1 too) and then
    inserts nothing; the statement's snapshot predates that commit, so the statement is sent again,
    and its new snapshot finds the customer. Exactly one customer is created for two simultaneous
    first bills.

    The lock: a bill's row references its customer, and that foreign key takes ``FOR KEY SHARE`` on
    the customer's row when the bill is inserted, after the products are locked. Adding a number or
    an email changes a unique column, which needs the row exclusively, so without this lock a bill
    adding one to a customer whose other bill is under way would deadlock with it (each waiting for
    the other: the products, the customer's row). The lookup by one of them takes ``FOR KEY SHARE``
    itself, in step 1; the lookup by both, which may update, takes ``FOR UPDATE`` at once (a second
    such bill, or a bill by one of them, waits in step 1, holding nothing), in id order. Elsewhere
    (SQLite: no row locks) it is plain statements, whose INSERT runs in a savepoint (``_settle``)."""
    email = customer_normalize_email(email) if email is not None else None
    phone = customer_normalize_phone(phone) if phone is not None else None
    if email is None and phone is None:
        raise ValueError("customer_get_or_create needs an email or a phone")
    conn = default_connection()
    if conn.vendor != "postgresql":
        return _settle(email, phone)
    sql = _get_or_insert_sql(email is not None, phone is not None)
    for _ in range(3):  # a lost race: the winner's row is committed, and the next statement sees it
        params = customer_get_or_create_params(email, phone, timezone.now())
        rows = customer_execute(sql, params, email=email, phone=phone)
        customer = customer_from_row(rows[0] if rows else None, email=email, phone=phone)
        if customer is not None:
            return customer
    raise Busy("The customer changed while the bill was being rung up; try again.")


# The customer's row as its statement returns it, and then how many customers the lookups found.
_FIELDS = ["id", "email", "phone", "name", "created_at", "gstin", "legal_name", "billing_address", "state_code"]
CUSTOMER_ROW_FIELDS = (*_FIELDS, "matches")


def customer_get_or_create_ctes(*, after: str, email: bool, phone: bool) -> str:
    """``customer_get_or_create``'s statement as CTEs of another statement (PostgreSQL), to save it
    a round trip, for a bill with an ``email``, a ``phone``, or both: ``customer_given``,
    ``customer_found`` (0, 1 or 2 customers), ``customer_added`` (with both: the UPDATE that adds
    the missing one to the one customer found), ``customer_created`` (the INSERT, which runs only
    once ``after`` holds: an SQL condition, such as a CTE that must run first existing) and
    ``customer``, one row of ``CUSTOMER_ROW_FIELDS``, or none when a concurrent first bill for the
    same new email or number won the race. Its parameters are ``customer_get_or_create_params``.
    Turn the ``customer`` row into the customer with ``customer_from_row``; with both, run the
    statement through ``customer_execute`` (the UPDATE can meet a concurrent bill's new customer)."""
    return _get_or_insert_ctes(after, email, phone)


def customer_get_or_create_params(email: str | None, phone: str | None, now: datetime) -> list[Any]:
    """The parameters of ``customer_get_or_create_ctes``, in order (normalised email and phone)."""
    return [email, phone, now]


def customer_execute(sql: str, params: Sequence[Any], *, email: str | None, phone: str | None) -> list[tuple]:
    """Run a statement that holds ``customer_get_or_create_ctes`` (for ``email`` and ``phone``,
    normalised) and return its rows. With both, a unique violation is the UPDATE meeting a
    concurrent transaction that gave what it adds to another customer: ``CustomerConflict`` (the
    transaction is aborted; the refusal rolls it back)."""
    try:
        with statement_cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    except IntegrityError:
        if email is None or phone is None:
            raise
        raise _conflict(email, phone) from None


def customer_from_row(row: Sequence[Any] | None, *, email: str | None, phone: str | None) -> Customer | None:
    """The customer of a ``customer`` row (``CUSTOMER_ROW_FIELDS``), or ``None`` when it must be
    read again (``customer_get_or_create``): a lost race, or a customer that changed between the
    statement's snapshot and its lock. Raises ``CustomerConflict``."""
    if row is None or row[0] is None:
        return None
    if row[len(_FIELDS)] > 1:
        raise _conflict(email, phone)
    customer = Customer.from_db(default_connection().alias, _FIELDS, row[: len(_FIELDS)])
    if _other(customer.email, email) or _other(customer.phone, phone):
        raise _conflict(email, phone, two=False)
    if (email is not None and customer.email is None) or (phone is not None and customer.phone is None):
        return None  # the UPDATE found the row changed: decide again from what is committed
    return customer


def _other(stored: str | None, given: str | None) -> bool:
    return given is not None and stored is not None and stored != given


TWO_CUSTOMERS = "The email and the mobile number belong to two different customers; give one of them."
ANOTHER_ON_FILE = (
    "The customer of one is on file with another email or mobile number; give one of them, or the one on file."
)


def _conflict(email: str | None, phone: str | None, *, two: bool = True) -> CustomerConflict:
    # The values are the caller's own, and stay out of the message (and so out of the logs).
    message = TWO_CUSTOMERS if two else ANOTHER_ON_FILE
    given = [name for name, value in (("customer_email", email), ("customer_phone", phone)) if value is not None]
    return CustomerConflict(message, details={name: [message] for name in given})


def _settle(email: str | None, phone: str | None) -> Customer:
    """``customer_get_or_create`` in plain statements (SQLite, which has no row locks to take, and
    one writer at a time)."""
    lookup = (Q(email=email) if email is not None else Q()) | (Q(phone=phone) if phone is not None else Q())
    for _ in range(2):
        found = list(Customer.objects.filter(lookup)[:2])
        if len(found) > 1:
            raise _conflict(email, phone)
        if not found:
            try:
                with transaction.atomic():
                    return Customer.objects.create(email=email, phone=phone)
            except IntegrityError:
                continue  # a concurrent first bill inserted it: read it
        customer = found[0]
        if _other(customer.email, email) or _other(customer.phone, phone):
            raise _conflict(email, phone, two=False)
        missing = {
            name: value
            for name, value in (("email", email), ("phone", phone))
            if value is not None and getattr(customer, name) is None
        }
        if not missing:
            return customer
        try:
            with transaction.atomic():
                added = Customer.objects.filter(pk=customer.pk, **{f"{n}__isnull": True for n in missing}).update(
                    **missing
                )
        except IntegrityError:
            raise _conflict(email, phone) from None  # what it adds is another customer's now
        if added:
            for name, value in missing.items():
                setattr(customer, name, value)
            return customer
    raise Busy("The customer changed while the bill was being rung up; try again.")


@cache
def _get_or_insert_ctes(after: str, email: bool, phone: bool) -> str:
    quote = connection.ops.quote_name
    table = quote(Customer._meta.db_table)
    columns = ", ".join(quote(name) for name in _FIELDS)
    # The customers found are locked in step 1 (see customer_get_or_create): FOR KEY SHARE, which the
    # bill's foreign key takes anyway, or, when both are given (an UPDATE may add one), FOR UPDATE at
    # once, never raised later (two bills raising their locks on one row would deadlock), in id order
    # (a pair of two customers). Like the writes, the locking reads wait only once ``after`` holds
    # (in a bill: its timeouts are set).
    names = [name for name, wanted in (("email", email), ("phone", phone)) if wanted]
    given = " OR ".join(f"{name} = (SELECT {name} FROM customer_given)" for name in names)  # noqa: S608
    lock = "ORDER BY id FOR UPDATE" if email and phone else "FOR KEY SHARE"
    ctes = [
        "customer_given AS (SELECT %s::text AS email, %s::text AS phone, %s::timestamptz AS now)",
        f"customer_found AS (SELECT {columns} FROM {table} WHERE ({given}) AND {after} {lock})",  # noqa: S608
    ]
    sources = []
    if email and phone:
        # The one customer found gets what it lacks; a customer with another email or number is a
        # conflict, not an update (the caller refuses it from the row).
        own = ", ".join(f"{table}.{quote(name)}" for name in _FIELDS)
        ctes.append(
            f"customer_added AS (UPDATE {table} SET email = COALESCE({table}.email, g.email), "  # noqa: S608
            f"phone = COALESCE({table}.phone, g.phone) FROM customer_found AS f, customer_given AS g "
            f"WHERE {table}.id = f.id AND (SELECT count(*) FROM customer_found) = 1 "
            f"AND (({table}.email IS NULL AND {table}.phone = g.phone) "
            f"OR ({table}.phone IS NULL AND {table}.email = g.email)) AND {after} RETURNING {own})"
        )
        sources.append("customer_added")
    target = "(lower(email))" if not phone else "(phone)" if not email else ""
    ctes.append(
        f"customer_created AS (INSERT INTO {table} (email, phone, created_at) "  # noqa: S608
        f"SELECT email, phone, now FROM customer_given WHERE NOT EXISTS (SELECT FROM customer_found) AND {after} "
        f"ON CONFLICT {target} DO NOTHING RETURNING {columns})"
    )
    sources += ["customer_created", "customer_found"]
    rows = " UNION ALL ".join(f"(SELECT {columns} FROM {source} LIMIT 1)" for source in sources)  # noqa: S608
    ctes.append(
        f"customer AS (SELECT {columns}, (SELECT count(*) FROM customer_found) AS matches "  # noqa: S608
        f"FROM ({rows}) AS c LIMIT 1)"
    )
    return ", ".join(ctes)


@cache
def _get_or_insert_sql(email: bool, phone: bool) -> str:
    # The CTEs a bill sends in its first statement, sent on their own.
    columns = ", ".join(connection.ops.quote_name(name) for name in CUSTOMER_ROW_FIELDS)
    return f"WITH {_get_or_insert_ctes('TRUE', email, phone)} SELECT {columns} FROM customer"  # noqa: S608


def customer_set_gst_details(
    *,
    customer_id: int,
    gstin: str | None,
    legal_name: str = "",
    billing_address: str = "",
    state_code: str | None = None,
) -> Customer:
    """Record a business buyer's GST registration: its GSTIN (normalised and checked, check
    character included; empty: none), legal name, billing address and state. A GSTIN sets the state
    to its first two digits; without one, ``state_code`` is taken as given. The customer's later
    bills copy these (``purchase_create``); the bills already rung up keep what they copied.

    Raises ``ValidationFailed`` (``gstin``, ``state_code``) and ``Customer.DoesNotExist``."""
    gstin, state_code = customer_check_gst_details(gstin=gstin, state_code=state_code)
    with transaction.atomic():
        customer = Customer.objects.select_for_update(of=("self",)).get(pk=customer_id)
        customer.gstin, customer.state_code = gstin, state_code
        customer.legal_name, customer.billing_address = (legal_name or "").strip(), (billing_address or "").strip()
        customer.save(update_fields=["gstin", "state_code", "legal_name", "billing_address"])
    return customer


def customer_check_gst_details(*, gstin: str | None, state_code: str | None) -> tuple[str | None, str | None]:
    """The GSTIN (normalised) and the state it sets, or ``ValidationFailed`` naming each bad field:
    a GSTIN that fails its check, a state code that is no state, or one that is not the GSTIN's."""
    problems: dict[str, list[str]] = {}
    gstin = (gstin or "").strip() or None
    state_code = (state_code or "").strip() or None
    if gstin is not None:
        try:
            gstin = validate_gstin(gstin)
        except ValidationError as exc:
            problems["gstin"] = exc.messages
        else:
            if state_code is not None and state_code != gstin[:2]:
                problems["state_code"] = [f"The GSTIN is registered in state {gstin[:2]}."]
            state_code = gstin[:2]
    elif state_code is not None:
        try:
            validate_state_code(state_code)
        except ValidationError as exc:
            problems["state_code"] = exc.messages
    if problems:
        raise ValidationFailed(next(iter(problems.values()))[0], details=problems)
    return gstin, state_code
