"""The request id: taken from a sane incoming ``X-Request-ID`` or generated, kept for the length of
the request, put on every log line and returned in the response (``RequestIdMiddleware``).

A cashier can quote it from a 500's body (``request_id``) and an operator finds the request's log
lines by it, on whichever node served it.
"""

import logging
import re
import uuid
from contextvars import ContextVar

HEADER = "X-Request-ID"
# Letters, digits and ``._:-``, 8 to 128 characters: enough for a UUID or a proxy's own id, and
# nothing that could break a log line or a header (no spaces, quotes or control characters).
_SANE = re.compile(r"[A-Za-z0-9._:-]{8,128}")
NO_REQUEST = "-"

_current: ContextVar[str] = ContextVar("request_id", default=NO_REQUEST)


def sanitize(incoming: str | None) -> str:
    """The incoming id when it is sane, otherwise a new one."""
    if incoming and _SANE.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def get() -> str:
    """The current request's id, or ``-`` outside a request (the task worker, commands)."""
    return _current.get()


def bind(request_id: str):
    return _current.set(request_id)


def unbind(token) -> None:
    _current.reset(token)


class RequestIdFilter(logging.Filter):
    """Gives every log record a ``request_id`` attribute (set on the handlers in LOGGING)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            # Django logs a 4xx/5xx response (logger django.request) after the middleware has
            # returned, with the request attached: its id is still on the request.
            request = getattr(record, "request", None)
            record.request_id = getattr(request, "request_id", None) or _current.get()
        return True
