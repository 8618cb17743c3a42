"""Idempotent POSTs: the ``Idempotency-Key`` header, with the usual payment-API semantics.

Every POST that moves money or stock (bills, and later refunds, cash movements and session closes)
goes through :func:`idempotent_response`; the view passes the service call as a function.

- The first request with a key stores its response (status and body) once it has one.
- A retry with the same key, endpoint and body gets that response replayed; no second bill.
- The same key with a different body, or on another endpoint, is refused: 409 ``idempotency_conflict``.
- A duplicate that arrives while the first is still running is refused: 409
  ``idempotency_in_progress``; the client retries and then gets the replay.
- A request refused by validation, that found the till busy, or that failed unexpectedly stores
  nothing: the key is released.

The bill and its stored response are written in one transaction, so a crash can never leave a bill
without its replay, nor a replay without its bill.

What marks a key "in progress" differs by database:

- **PostgreSQL**: a transaction-level advisory lock on the key, taken without waiting
  (``pg_try_advisory_xact_lock``) by the very transaction that does the work and writes the key's
  row with its answer. It lives exactly as long as that transaction: when the request's process
  dies, its connection drops, PostgreSQL rolls the transaction back and the lock is gone, so the
  till's retry proceeds at once; while the first attempt runs, the retry gets 409 at once and never
  waits on it. A transaction-level lock is safe behind PgBouncer in transaction mode (a session
  lock would stay on a shared server connection).
- **SQLite** (development, tests): the key's row is committed as ``in_progress`` before the work
  (SQLite has no row locks to tell a live request from a dead one), and a key left in progress by a
  process that died before committing is taken over after ``STALE_AFTER``. PostgreSQL applies the
  same rule to such a row, which only a process of an earlier version writes.
"""

import hashlib
import json
import re
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response

from billing_project.core.db import atomic_write, default_connection, statement_cursor
from billing_project.core.errors import Busy, Conflict, DomainError, ErrorCode, ValidationFailed
from billing_project.core.models import IdempotencyKey

MAX_KEY_LENGTH = 255
# A key's characters: visible ASCII, no spaces. The schema (IDEMPOTENCY_KEY_PARAMETER) says it and
# every endpoint holds it (KEY_PATTERN), from this one definition.
KEY_CHARACTER = "[!-~]"
KEY_PATTERN = re.compile(rf"{KEY_CHARACTER}{{1,{MAX_KEY_LENGTH}}}")
STALE_AFTER = timedelta(seconds=60)  # well past the bill's statement_timeout
KEEP_FOR = timedelta(hours=24)


class IdempotencyConflict(Conflict):
    code = ErrorCode.IDEMPOTENCY_CONFLICT
    default_message = "This Idempotency-Key was already used with a different request body."


class IdempotencyInProgress(Conflict):
    code = ErrorCode.IDEMPOTENCY_IN_PROGRESS
    default_message = "A request with this Idempotency-Key is still being processed; retry shortly."


IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": f"^{KEY_CHARACTER}+$"},
    OpenApiParameter.HEADER,
    description=(
        f"Up to {MAX_KEY_LENGTH} characters, scoped to the user. A retry with the same key and body replays the "
        "first response (header `Idempotent-Replayed: true`) instead of doing the work a second time."
    ),
)


def request_fingerprint(payload, scope: str = "") -> str:
    """SHA-256 of the endpoint (``scope``, when given) and the canonical body."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((f"{scope}\n{canonical}" if scope else canonical).encode()).hexdigest()


def idempotent_response(request: Request, call: Callable[[], tuple[int, dict]], *, scoped: bool = True) -> Response:
    """Answer a POST with ``call()``'s ``(status, body)``, at most once per ``Idempotency-Key``.

    Without the header the call just runs. With it, see :func:`idempotent_call`; a replay carries
    ``Idempotent-Replayed: true``. The key is scoped to the user and, when ``scoped``, to the method
    and path, so one key sent to two endpoints is a conflict rather than a replay of the other's
    answer. (``POST /purchases`` is not path-scoped, so keys stored before the scoping still replay.)
    """
    key = request.headers.get("Idempotency-Key")
    if key is None:
        http_status, body = call()
        return Response(body, status=http_status)
    scope = f"{request.method} {request.path.rstrip('/')}" if scoped else ""
    http_status, body, replayed = idempotent_call(
        user=request.user, key=key, payload=request.data, call=call, scope=scope
    )
    return Response(body, status=http_status, headers={"Idempotent-Replayed": "true"} if replayed else None)


def idempotent_call(
    *, user, key: str, payload, call: Callable[[], tuple[int, dict]], scope: str = ""
) -> tuple[int, dict, bool]:
    """Run ``call`` at most once per (user, key). Returns ``(status, body, replayed)``."""
    if not KEY_PATTERN.fullmatch(key):
        raise ValidationFailed(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters, without spaces.",
            details={"Idempotency-Key": [f"Must be 1 to {MAX_KEY_LENGTH} printable ASCII characters, without spaces."]},
        )
    fingerprint = request_fingerprint(payload, scope)
    if default_connection().vendor == "postgresql":
        return _call_holding_the_key(user=user, key=key, fingerprint=fingerprint, call=call)
    return _call_after_claiming(user=user, key=key, fingerprint=fingerprint, call=call)


# --- PostgreSQL: the key is held by the transaction that does the work ------------------------------


class _LostRace(Exception):
    """Another request completed the key between this one's look and its lock (see _lock_and_look)."""


def _call_holding_the_key(
    *, user, key: str, fingerprint: str, call: Callable[[], tuple[int, dict]]
) -> tuple[int, dict, bool]:
    """One transaction: hold the key (or answer 409 at once), run ``call`` in a savepoint, and write
    the key's row with the answer before the commit. The key's lock ends with the transaction,
    committed, rolled back, or cut off with its connection: a retry never waits for it."""
    refusal: DomainError | None = None
    try:
        with transaction.atomic():
            held, found = _lock_and_look(user=user, key=key)
            record = None if found is None else IdempotencyKey.objects.filter(pk=found).first()
            if record is not None and (record.status == IdempotencyKey.Status.COMPLETED or not held):
                return _replay(record, key=key, fingerprint=fingerprint)
            if not held:
                raise IdempotencyInProgress(details={"key": key})
            if record is not None:
                _take_over(record, key=key, fingerprint=fingerprint)
            try:
                with transaction.atomic():
                    status, body = call()
            except (ValidationFailed, Busy):
                raise  # nothing was decided: the rollback releases the key for the retry
            except DomainError as exc:
                # A refusal is an answer too: the retry gets the same refusal, as the first request did.
                # Its savepoint is rolled back; the key is still held.
                refusal, status, body = exc, exc.status_code, exc.as_dict()
            _store(user=user, key=key, fingerprint=fingerprint, status=status, body=body)
    except _LostRace:
        return _replay(IdempotencyKey.objects.get(user=user, key=key), key=key, fingerprint=fingerprint)
    if refusal is not None:
        raise refusal
    return status, body, False


def _lock_and_look(*, user, key: str) -> tuple[bool, int | None]:
    """``(held, id)``: whether this transaction now holds the key's advisory lock (never waited for),
    and the id of the key's committed row, if any. One statement, so one snapshot: a request that
    committed the key just after that snapshot and before the lock was free is not seen, and its
    row then makes this one's ``_store`` fail (``_LostRace``), which rolls this one back."""
    with statement_cursor() as cursor:
        cursor.execute(
            f"SELECT pg_try_advisory_xact_lock(%s), (SELECT id FROM {IdempotencyKey._meta.db_table} "  # noqa: S608
            'WHERE user_id = %s AND "key" = %s)',
            [_lock_id(user.pk, key), user.pk, key],
        )
        held, found = cursor.fetchone()
    return held, found


def _lock_id(user_id: int, key: str) -> int:
    """The key's advisory lock: 64 bits of its SHA-256, signed as PostgreSQL's bigint. Another key
    with the same 64 bits would only get a needless 409 while both run."""
    digest = hashlib.sha256(f"idempotency-key\n{user_id}\n{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _take_over(record: IdempotencyKey, *, key: str, fingerprint: str) -> None:
    """A row ``in_progress`` is a claim written the SQLite way (by a process of an earlier version
    during an upgrade), which no lock of ours covers: taken over, once stale, as there."""
    if record.fingerprint != fingerprint:
        raise IdempotencyConflict(details={"key": key})
    stale = timezone.now() - STALE_AFTER
    stale_claim = IdempotencyKey.objects.filter(
        pk=record.pk, status=IdempotencyKey.Status.IN_PROGRESS, locked_at__lt=stale
    )
    if not stale_claim.delete()[0]:
        raise IdempotencyInProgress(details={"key": key})


def _store(*, user, key: str, fingerprint: str, status: int, body: dict) -> None:
    """Write the key's row, completed with its answer, in the transaction that holds the key. Only a
    request that lost the race described in ``_lock_and_look`` finds the row there; its whole
    transaction is then rolled back, its work with it."""
    now = timezone.now()
    try:
        IdempotencyKey.objects.create(
            user=user,
            key=key,
            fingerprint=fingerprint,
            status=IdempotencyKey.Status.COMPLETED,
            response_status=status,
            response_body=body,
            locked_at=now,
            completed_at=now,
        )
    except IntegrityError as exc:
        raise _LostRace from exc


# --- SQLite: the key is claimed first, in a transaction of its own ----------------------------------


def _call_after_claiming(
    *, user, key: str, fingerprint: str, call: Callable[[], tuple[int, dict]]
) -> tuple[int, dict, bool]:
    record = _claim(user=user, key=key, fingerprint=fingerprint)
    if record.status == IdempotencyKey.Status.COMPLETED:
        return _replay(record, key=key, fingerprint=fingerprint)
    try:
        with transaction.atomic():
            status, body = call()
            _complete(record, status, body)
    except (ValidationFailed, Busy):
        # Nothing was decided: the retry must be free to try again.
        _release(record)
        raise
    except DomainError as exc:
        # A refusal is an answer too: the retry gets the same refusal, as the first request did.
        with transaction.atomic():
            _complete(record, exc.status_code, exc.as_dict())
        raise
    except BaseException:
        _release(record)
        raise
    return status, body, False


def _claim(*, user, key: str, fingerprint: str) -> IdempotencyKey:
    """Insert the key as in progress (committed at once, so a concurrent duplicate sees it), or
    return the completed record to replay."""
    now = timezone.now()
    try:
        with atomic_write():
            return IdempotencyKey.objects.create(user=user, key=key, fingerprint=fingerprint, locked_at=now)
    except IntegrityError:
        pass
    record = IdempotencyKey.objects.get(user=user, key=key)
    if record.fingerprint != fingerprint:
        raise IdempotencyConflict(details={"key": key})
    if record.status == IdempotencyKey.Status.COMPLETED:
        return record
    taken_over = IdempotencyKey.objects.filter(
        pk=record.pk, status=IdempotencyKey.Status.IN_PROGRESS, locked_at__lt=now - STALE_AFTER
    ).update(locked_at=now)
    if not taken_over:
        raise IdempotencyInProgress(details={"key": key})
    record.locked_at = now
    return record


def _complete(record: IdempotencyKey, status: int, body: dict) -> None:
    IdempotencyKey.objects.filter(pk=record.pk).update(
        status=IdempotencyKey.Status.COMPLETED, response_status=status, response_body=body, completed_at=timezone.now()
    )


def _release(record: IdempotencyKey) -> None:
    IdempotencyKey.objects.filter(pk=record.pk, status=IdempotencyKey.Status.IN_PROGRESS).delete()


# --- both -------------------------------------------------------------------------------------------


def _replay(record: IdempotencyKey, *, key: str, fingerprint: str) -> tuple[int, dict, bool]:
    """The stored answer of a completed key; 409 for another body, or while it is still in progress."""
    if record.fingerprint != fingerprint:
        raise IdempotencyConflict(details={"key": key})
    if record.status != IdempotencyKey.Status.COMPLETED:
        raise IdempotencyInProgress(details={"key": key})
    # A completed key always has its response (a CHECK constraint says so).
    assert record.response_status is not None and record.response_body is not None
    return record.response_status, record.response_body, True


def idempotency_keys_prune(*, older_than: timedelta = KEEP_FOR) -> int:
    """Delete keys older than ``older_than`` (at least 24 hours are kept). Returns how many."""
    older_than = max(older_than, KEEP_FOR)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted


def page_submission_key() -> str:
    """A fresh key for one rendering of a page's form that moves money or stock (a hidden field)."""
    return uuid.uuid4().hex


def page_once(request, *, key: str, scope: str, body: dict, call: Callable[[], tuple[int, dict]]) -> tuple[int, dict]:
    """``call()`` at most once per rendering of a page's form: a second submit of the same page (a
    double click, a reload that posts again) gets the first answer back instead of doing it twice.
    Without a key the call just runs. A refusal (``DomainError``) is raised the first time and
    returned as its error body on a replay."""
    if not key:
        return call()
    status, answer, _replayed = idempotent_call(
        user=request.user, key=f"page:{key}", payload=body, call=call, scope=f"page {scope}"
    )
    return status, answer
