"""``mail_send``: the worker's emails over one kept SMTP connection, against a real SMTP server on
127.0.0.1. Each connection is told apart by the client's port (``session.peer``)."""

import socket

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.core.mail import EmailMessage

from billing_project.core import mail as kept_mail
from billing_project.core.mail import mail_close, mail_send


class Server:
    """Keeps (connection, subject) of every message accepted; ``reject_next`` answers 451."""

    def __init__(self):
        self.received: list[tuple[tuple, str]] = []
        self.reject_next = 0
        self.restart = lambda: None  # set by the fixture

    async def handle_DATA(self, server, session, envelope):
        if self.reject_next:
            self.reject_next -= 1
            return "451 4.3.0 Try again later"
        subject = next(line for line in envelope.original_content.decode().splitlines() if line.startswith("Subject:"))
        self.received.append((session.peer, subject.removeprefix("Subject: ")))
        return "250 2.0.0 OK: queued"

    def connections(self) -> int:
        return len({peer for peer, _ in self.received})

    def subjects(self) -> list[str]:
        return [subject for _, subject in self.received]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    server = Server()
    controllers = [Controller(server, hostname="127.0.0.1", port=settings.EMAIL_PORT)]
    controllers[0].start()

    def restart():
        """The server goes away and comes back on the same port, as after an idle timeout."""
        controllers[-1].stop()
        controllers.append(Controller(server, hostname="127.0.0.1", port=settings.EMAIL_PORT))
        controllers[-1].start()

    server.restart = restart
    yield server
    mail_close()
    controllers[-1].stop()


def message(subject: str) -> EmailMessage:
    return EmailMessage(subject=subject, body="Your invoice.", from_email="shop@example.com", to=["ann@example.com"])


def test_messages_in_a_row_share_one_connection(smtp):
    server = smtp
    assert [mail_send(message(f"Invoice {n}")) for n in range(3)] == [1, 1, 1]

    assert server.subjects() == ["Invoice 0", "Invoice 1", "Invoice 2"]
    assert server.connections() == 1


def test_a_connection_the_server_closed_is_opened_again_and_the_message_sent(smtp):
    server = smtp
    mail_send(message("Before"))
    server.restart()

    assert mail_send(message("After")) == 1

    assert server.subjects() == ["Before", "After"]
    assert server.connections() == 2


def test_an_error_is_raised_as_before_and_the_next_message_gets_a_new_connection(smtp):
    server = smtp
    mail_send(message("First"))
    server.reject_next = 1

    with pytest.raises(Exception, match="Try again later"):
        mail_send(message("Refused"))
    mail_send(message("Next"))

    assert server.subjects() == ["First", "Next"]
    assert server.connections() == 2


def test_a_connection_idle_too_long_is_not_used_again(smtp, monkeypatch):
    server = smtp
    monkeypatch.setattr(kept_mail, "KEEP_IDLE_SECONDS", 0.0)
    mail_send(message("One"))
    mail_send(message("Two"))

    assert server.connections() == 2


def test_a_connection_carries_at_most_keep_messages(smtp, monkeypatch):
    server = smtp
    monkeypatch.setattr(kept_mail, "KEEP_MESSAGES", 2)
    for n in range(5):
        mail_send(message(f"Invoice {n}"))

    assert len(server.received) == 5
    assert server.connections() == 3


def test_other_mail_settings_open_another_connection(smtp, settings):
    server = smtp
    mail_send(message("Old settings"))
    settings.EMAIL_TIMEOUT = 7  # any change of the mail settings

    mail_send(message("New settings"))

    assert server.connections() == 2


def test_another_backend_sends_as_send_does(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    assert mail_send(message("In memory")) == 1

    assert [m.subject for m in mail.outbox] == ["In memory"]
