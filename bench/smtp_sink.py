"""An SMTP server on 127.0.0.1 that accepts every message and counts them, for the benches:

    .venv/bin/python bench/smtp_sink.py PORT

It runs in a process of its own, so the sending process's CPU is the sender's alone. It prints
``ready`` once it listens, and on SIGTERM one line: ``<messages> <with a PDF attached> <bytes>``."""

import email
import signal
import sys
import threading
from email import policy

from aiosmtpd.controller import Controller


class CountingSink:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages = self.with_pdf = self.size = 0

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=policy.default)
        pdf = any(part.get_content_type() == "application/pdf" for part in message.iter_attachments())
        with self.lock:
            self.messages += 1
            self.with_pdf += pdf
            self.size += len(envelope.original_content)
        return "250 2.0.0 OK: queued"


def main() -> None:
    sink = CountingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=int(sys.argv[1]))
    controller.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print("ready", flush=True)
    done.wait()
    controller.stop()
    print(sink.messages, sink.with_pdf, sink.size, flush=True)


if __name__ == "__main__":
    main()
