"""Tax invoice PDFs, timed in-process: renders, prints, reprints and invoice emails per worker.

    DATABASE_URL=postgres://… .venv/bin/python bench/invoice_pdf_bench.py [--lines 12,100,200]
        [--renders 20] [--emails 40] [--mail smtp|locmem] [--profile]

In a throwaway test database, for each size in ``--lines`` it rings up one bill of that many lines
and prints, in milliseconds:

- ``first``: the process's first render of that size (the very first one also loads the fonts);
- ``render``: the median and p95 of ``--renders`` renders of the document (``document_pdf``), wall
  clock, and the median CPU time of this process (on a busy machine wall time waits for the CPU;
  the CPU time does not);
- ``print 1``: the first print (``invoice_pdf_print``: render, store, ORIGINAL FOR RECIPIENT);
- ``reprint``: the median and p95 of later prints (the stored PDF with the DUPLICATE mark laid over).

For the first size it then prints the PDF as a cashier gets it, p50 and p95 over ``--renders`` new
bills: the original (each bill's first print) and a reprint (its third print, the stored DUPLICATE).

Then ``--emails`` bills of the first size are rung up with their invoice email queued, and one
``manage.py db_worker --batch`` sends them all: invoice emails per second for one worker, wall
clock and CPU. With ``--mail smtp`` (the default) they go through Django's SMTP backend to an SMTP
server on 127.0.0.1 in a process of its own (``bench/smtp_sink.py``, which counts what it accepts
and the PDFs attached); ``--mail locmem`` keeps them in memory. ``--profile`` prints cProfile's view
of one render of the largest size. The first size's bill also prints its query count, with and
without the numbering statement.
"""

import argparse
import cProfile
import io
import os
import pstats
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_project.settings.test")

T = TypeVar("T")


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]


def timed(call: Callable[[], T]) -> tuple[float, float, T]:
    """(wall ms, CPU ms, result) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000, result


def time_one(purchase_id: int, renders: int) -> tuple[float, list[float], list[float], bytes, float, list[float]]:
    """A bill's invoice: the first render, ``renders`` more (wall and CPU ms), the last PDF, the first
    print and ``renders`` reprints (wall ms)."""
    from purchases.documents import document_pdf, invoice_document, invoice_pdf_print
    from purchases.selectors import purchase_get

    purchase = purchase_get(purchase_id=purchase_id)
    first, _, pdf = timed(lambda: document_pdf(invoice_document(purchase)))
    walls, cpus = [], []
    for _ in range(renders):
        wall, cpu, pdf = timed(lambda: document_pdf(invoice_document(purchase)))
        walls.append(wall)
        cpus.append(cpu)
    printed = timed(lambda: invoice_pdf_print(purchase_id=purchase_id))[0]
    reprints = [timed(lambda: invoice_pdf_print(purchase_id=purchase_id))[0] for _ in range(renders)]
    return first, walls, cpus, pdf, printed, reprints


def smtp_sink() -> tuple[subprocess.Popen, int]:
    """``bench/smtp_sink.py`` on a free port of 127.0.0.1, listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    script = Path(__file__).resolve().parent / "smtp_sink.py"
    sink = subprocess.Popen([sys.executable, str(script), str(port)], stdout=subprocess.PIPE, text=True)
    assert sink.stdout is not None and sink.stdout.readline().strip() == "ready", "the SMTP sink did not start"
    return sink, port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", default="12,100,200", help="comma-separated line counts (default 12,100,200)")
    parser.add_argument("--renders", type=int, default=20, help="renders and reprints timed per size (default 20)")
    parser.add_argument("--emails", type=int, default=40, help="invoice emails sent by one worker (0: none)")
    parser.add_argument(
        "--mail", choices=("smtp", "locmem"), default="smtp", help="where the emails go (default: an SMTP sink)"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile one render of the largest size")
    args = parser.parse_args()
    sizes = [int(n) for n in args.lines.split(",") if n.strip()]

    import django

    django.setup()
    from django.conf import settings
    from django.core import mail
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, get_runner, override_settings, setup_test_environment

    setup_test_environment()
    runner = get_runner(settings)(verbosity=0)
    old = runner.setup_databases()
    try:
        from pypdf import PdfReader

        from cashdrawer.tests.factories import INR, drawer_with
        from catalog.tests.factories import ProductFactory
        from purchases.documents import document_pdf, invoice_document, invoice_pdf_print
        from purchases.models import InvoiceStatus, Purchase
        from purchases.selectors import purchase_get
        from purchases.services import purchase_create

        drawer_with(dict.fromkeys(INR, 50_000))
        products = [
            # The factory, as ``product_create`` does, opens the product's stock ledger at the store.
            ProductFactory(
                name=f"Product {i} basmati rice premium",
                price=Decimal("99.50") + i,
                tax_percent=Decimal((5, 12, 18)[i % 3]),
                hsn_code="1006",
                stock=10**6,
            )
            for i in range(max(sizes))
        ]

        def ring_up(lines: int, *, send_invoice: bool = False):
            items: list = [{"product_id": p.pk, "quantity": 2} for p in products[:lines]]
            return purchase_create(
                customer_email="bench@example.com",
                items=items,
                paid_amount=Decimal("100000"),
                send_invoice=send_invoice,
            )

        print(f"on {connection.vendor}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start")
        print(f"{'lines':>5} {'pages':>5} {'bytes':>7} {'first':>7} {'render p50':>11} {'p95':>7} {'CPU p50':>8}"
              f" {'print 1':>8} {'reprint p50':>12} {'p95':>6}")  # fmt: skip
        for index, lines in enumerate(sizes):
            if index == 0:
                with CaptureQueriesContext(connection) as queries:
                    bill = ring_up(lines)
                numbering = [q for q in queries.captured_queries if "ON CONFLICT" in q["sql"]]
                print(f"(a {lines}-line bill: {len(queries.captured_queries)} queries, of which numbering "
                      f"{len(numbering)})")  # fmt: skip
            else:
                bill = ring_up(lines)
            first, walls, cpus, pdf, printed, reprints = time_one(bill.pk, args.renders)
            pages = len(PdfReader(io.BytesIO(pdf)).pages)
            print(
                f"{lines:>5} {pages:>5} {len(pdf):>7} {first:>7.0f} {statistics.median(walls):>11.0f}"
                f" {p95(walls):>7.0f} {statistics.median(cpus):>8.0f} {printed:>8.0f}"
                f" {statistics.median(reprints):>12.1f} {p95(reprints):>6.1f}"
            )

        lines = sizes[0]
        originals, reprints = [], []
        for _ in range(args.renders):
            pk = ring_up(lines).pk
            originals.append(timed(lambda: invoice_pdf_print(purchase_id=pk))[0])  # noqa: B023
            invoice_pdf_print(purchase_id=pk)  # the first reprint lays the DUPLICATE mark and keeps it
            reprints.append(timed(lambda: invoice_pdf_print(purchase_id=pk))[0])  # noqa: B023
        print(
            f"a {lines}-line tax invoice as printed, {args.renders} bills: original (first print) p50"
            f" {statistics.median(originals):.0f} ms, p95 {p95(originals):.0f} ms; reprint p50"
            f" {statistics.median(reprints):.1f} ms, p95 {p95(reprints):.1f} ms"
        )

        if args.emails:
            queued = [ring_up(lines, send_invoice=True).pk for _ in range(args.emails)]
            mail.outbox = []
            sink = None
            if args.mail == "smtp":
                sink, port = smtp_sink()
                backend = override_settings(
                    EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                    EMAIL_HOST="127.0.0.1",
                    EMAIL_PORT=port,
                    EMAIL_HOST_USER="",
                    EMAIL_HOST_PASSWORD="",
                    EMAIL_USE_TLS=False,
                    EMAIL_USE_SSL=False,
                )
            else:
                backend = override_settings()
            with backend:
                wall, cpu, _ = timed(
                    lambda: call_command(
                        "db_worker", batch=True, reload=False, startup_delay=False, interval=0, verbosity=0
                    )
                )
            sent = Purchase.objects.filter(pk__in=queued, invoice_status=InvoiceStatus.SENT).count()
            where = f"{len(mail.outbox)} in memory"
            if sink is not None:
                sink.terminate()
                received, with_pdf, size = sink.communicate(timeout=30)[0].split()
                where = f"the SMTP sink on 127.0.0.1 took {received}, {with_pdf} with the PDF, {int(size) // 1024} KiB"
            print(
                f"invoice emails with a {lines}-line PDF, one worker: {sent} sent in {wall / 1000:.1f} s ="
                f" {sent / (wall / 1000):.1f} a second ({cpu / max(sent, 1):.0f} ms of CPU each); {where}"
            )

        if args.profile:
            purchase = purchase_get(purchase_id=ring_up(max(sizes)).pk)
            document = invoice_document(purchase)
            profile = cProfile.Profile()
            profile.enable()
            document_pdf(document)
            profile.disable()
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(30)
            print(out.getvalue())
    finally:
        runner.teardown_databases(old)


if __name__ == "__main__":
    main()
