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
without its replay, nor a replay without its bill. A key left "in progress" by a process that died
before committing is taken over after ``STALE_AFTER``.
"""

import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response

from billing_project.db import atomic_write
from billing_project.errors import Busy, Conflict, DomainError, ErrorCode, ValidationFailed
from billing_project.models import IdempotencyKey

MAX_KEY_LENGTH = 255
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
    {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": "^[!-~]+$"},
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
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.",
            details={"Idempotency-Key": [f"Must be 1 to {MAX_KEY_LENGTH} characters."]},
        )
    fingerprint = request_fingerprint(payload, scope)
    record = _claim(user=user, key=key, fingerprint=fingerprint)
    if record.status == IdempotencyKey.Status.COMPLETED:
        # A completed key always has its response (a CHECK constraint says so).
        assert record.response_status is not None and record.response_body is not None
        return record.response_status, record.response_body, True
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
    outermost = not connection.in_atomic_block
    try:
        with atomic_write():
            if outermost:
                _claim_need_not_be_durable()
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


def _claim_need_not_be_durable() -> None:
    """The claim's commit does not wait for its WAL flush (``synchronous_commit`` off, for this
    transaction only): one disk flush less per keyed request. Safe because a claim lost in a
    database crash is harmless (the retry claims the key again, and no work was committed), and
    the work's own transaction, which marks the key completed, commits durably, and with it every
    WAL record written before it, the claim included. Other sessions see the claim as soon as it
    commits, as before, so a concurrent duplicate still gets 409 ``idempotency_in_progress``.
    Only when the claim is a transaction of its own: inside a caller's transaction, SET LOCAL would
    last until that transaction's commit."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _complete(record: IdempotencyKey, status: int, body: dict) -> None:
    IdempotencyKey.objects.filter(pk=record.pk).update(
        status=IdempotencyKey.Status.COMPLETED, response_status=status, response_body=body, completed_at=timezone.now()
    )


def _release(record: IdempotencyKey) -> None:
    IdempotencyKey.objects.filter(pk=record.pk, status=IdempotencyKey.Status.IN_PROGRESS).delete()


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
