"""Fixtures of the purchases tests: invoice emails (a real SMTP server in-process, and the real task
worker) and the browser tests' store."""

import email
import signal
import socket
from decimal import Decimal
from email import policy

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command

from cashdrawer.tests.factories import drawer_with
from catalog.tests.factories import ProductFactory


class SmtpSink:
    """An SMTP server that keeps what it accepts. ``reject_next = n`` answers the next n
    messages with a temporary failure (451), as a mail server having trouble would."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.data_commands = 0
        self.reject_next = 0

    async def handle_DATA(self, server, session, envelope):
        self.data_commands += 1
        if self.reject_next:
            self.reject_next -= 1
            return "451 4.3.0 Mail server temporarily unavailable"
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 2.0.0 OK: queued"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _use_smtp(settings, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5


@pytest.fixture
def smtp_sink(settings):
    """A real SMTP server on 127.0.0.1, and Django's SMTP backend pointed at it."""
    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    _use_smtp(settings, controller.port)
    yield sink
    controller.stop()


@pytest.fixture
def smtp_down(settings):
    """Django's SMTP backend pointed at a port nobody listens on: connection refused."""
    _use_smtp(settings, free_port())


@pytest.fixture
def run_worker():
    """Run ``manage.py db_worker --batch``: every job that is due, then exit, as a worker
    started now would. The command installs its own signal handlers; they are put back after."""
    signals = [signal.SIGINT, signal.SIGTERM] + ([signal.SIGQUIT] if hasattr(signal, "SIGQUIT") else [])

    def run():
        saved = {sig: signal.getsignal(sig) for sig in signals}
        try:
            call_command("db_worker", batch=True, reload=False, startup_delay=False, interval=0, verbosity=0)
        finally:
            for sig, handler in saved.items():
                signal.signal(sig, handler)

    return run


@pytest.fixture
def store(cashier_user):
    """A cashier, two products and a drawer with change in it."""
    drawer_with({"500": 2, "100": 5, "50": 2, "20": 5, "10": 5, "5": 5, "2": 5, "1": 5})
    return {
        "rice": ProductFactory(
            sku="RICE-5", name="Basmati rice 5 kg", price=Decimal("250.00"), tax_percent=5, stock=20
        ),
        "soap": ProductFactory(sku="SOAP-1", name="Sandal soap", price=Decimal("36.50"), tax_percent=12, stock=10),
        "cashier": cashier_user,
    }
