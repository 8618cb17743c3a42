"""Sending the task worker's emails over one SMTP connection, kept from one job to the next.

Django's ``EmailMessage.send()`` opens a connection for every message: TCP (and TLS, and the login
where the server wants one), the greeting, ``EHLO`` and ``QUIT``, several round trips around the
one message. A worker sending a backlog of invoices paid them all for every email. ``mail_send``
keeps this thread's connection open between messages instead, as long as it stays in use:

- it is opened again after ``KEEP_IDLE_SECONDS`` without a message, after ``KEEP_MESSAGES``
  messages (mail servers limit the messages of one connection), and when the mail settings
  changed;
- before a message goes over a kept connection, the socket is polled (no round trip): a server that
  closed it meanwhile (an idle timeout, usually with ``421``) has left something to read or an end
  of file, so a new connection is opened;
- any error closes the connection and is raised as ``send()`` raised it, so the caller counts a
  failed attempt exactly as before. A message is never sent a second time here: a retry is the
  caller's, with its backoff (at-least-once delivery, one ``Message-ID`` per bill and round).

Only Django's SMTP backend is kept; any other backend (the tests' in-memory one, the console) sends
as ``message.send()`` does. One connection per thread: ``smtplib`` connections are not shared.
"""

import atexit
import select
import threading
import time
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.utils.module_loading import import_string

KEEP_IDLE_SECONDS = 10.0
KEEP_MESSAGES = 100

# The settings a connection was opened with: a change (another server, or a test's own) opens another.
_SETTINGS = (
    "EMAIL_BACKEND",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "EMAIL_USE_SSL",
    "EMAIL_TIMEOUT",
    "EMAIL_SSL_CERTFILE",
    "EMAIL_SSL_KEYFILE",
)


@dataclass
class _Kept:
    backend: SmtpBackend
    key: tuple
    last_used: float
    messages: int = 0


_local = threading.local()


def _settings_key() -> tuple:
    return tuple(getattr(settings, name, None) for name in _SETTINGS)


def _usable(kept: _Kept, key: tuple) -> bool:
    if kept.key != key or kept.messages >= KEEP_MESSAGES:
        return False
    if time.monotonic() - kept.last_used > KEEP_IDLE_SECONDS:
        return False
    smtp = kept.backend.connection
    sock = getattr(smtp, "sock", None)
    if sock is None:
        return False
    try:
        # A healthy idle SMTP connection has nothing to say: anything readable is the server's
        # goodbye (421) or the end of the stream.
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


def mail_close() -> None:
    """Close this thread's kept connection, if any (politely: ``QUIT``; errors are ignored)."""
    kept: _Kept | None = getattr(_local, "kept", None)
    _local.kept = None
    if kept is not None:
        kept.backend.fail_silently = True
        try:
            kept.backend.close()
        except OSError:  # a connection already broken (a reset, a broken pipe): nothing to close
            kept.backend.connection = None


def mail_send(message: EmailMessage) -> int:
    """Send ``message`` as ``message.send()`` would (same backend, same errors; returns how many
    messages were sent), over this thread's kept SMTP connection when the backend is SMTP."""
    key = _settings_key()
    kept: _Kept | None = getattr(_local, "kept", None)
    if kept is not None and not _usable(kept, key):
        mail_close()
        kept = None
    if kept is None:
        if not issubclass(import_string(settings.EMAIL_BACKEND), SmtpBackend):
            return message.send()
        backend = cast(SmtpBackend, get_connection())
        backend.open()  # opened here, so send_messages leaves it open after the message
        kept = _local.kept = _Kept(backend=backend, key=key, last_used=time.monotonic())
    # ``send()`` itself, over the kept connection (it sends on ``message.connection`` when set).
    message.connection = kept.backend
    try:
        sent = message.send()
    except BaseException:
        mail_close()
        raise
    kept.messages += 1
    kept.last_used = time.monotonic()
    return sent


atexit.register(mail_close)
