"""Invoice emails: content, the outbox guarantee, retries, re-send, the API and the admin helpers.
The end-to-end tests against a real SMTP server are in ``test_invoice_smtp.py``."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from catalog.models import Product
from catalog.tests.factories import ProductFactory
from catalog.tests.stores import set_default_store
from purchases.documents import invoice_pdf_print
from purchases.errors import InsufficientStock
from purchases.invoice_admin import invoice_email_status, resend_invoice
from purchases.invoices import (
    InvoiceAlreadyPending,
    invoice_deliver,
    invoice_render,
    invoice_resend,
    invoice_retry_delay,
)
from purchases.models import InvoiceStatus, Purchase
from purchases.selectors import purchase_get
from purchases.services import purchase_create

pytestmark = pytest.mark.django_db

D = Decimal
URL = "/api/v1/purchases"
TASK_PATH = "purchases.invoices.send_invoice_email"


@pytest.fixture
def rice():
    return ProductFactory(name="Basmati Rice", price=D("45.50"), tax_percent=D("5"), stock=10)


@pytest.fixture
def oil():
    return ProductFactory(name="Sunflower Oil", price=D("199.99"), tax_percent=D("18"), stock=3)


def ring_up(*lines, email="ann@example.com", paid="500", tendered=(("500", 1),), **kwargs) -> Purchase:
    return purchase_create(
        customer_email=email,
        items=[{"product_id": p.pk, "quantity": q} for p, q in lines],
        paid_amount=D(paid),
        tendered=[{"value": D(v), "count": c} for v, c in tendered] if tendered else None,
        **kwargs,
    )


def invoice_jobs():
    return DBTaskResult.objects.filter(task_path=TASK_PATH)


def jobs_args() -> list[dict]:
    return [job.args_kwargs["kwargs"] for job in invoice_jobs().order_by("enqueued_at")]


def fresh(purchase: Purchase) -> Purchase:
    return Purchase.objects.get(pk=purchase.pk)


# --- Content ----------------------------------------------------------------------------------


def _part(message, part: str) -> str:
    if part == "text":
        return message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


@pytest.mark.parametrize("part", ["text", "html"])
def test_the_invoice_shows_the_store_the_bill_and_every_amount(settings, drawer, rice, oil, part):
    set_default_store(name="Corner Grocer", address="12 Market Road, Pune")
    settings.CURRENCY = "INR"
    purchase = ring_up((rice, 3), (oil, 1))

    message = invoice_render(purchase_get(purchase_id=purchase.pk))
    content = _part(message, part)

    assert message.to == ["ann@example.com"]
    assert message.subject == f"Your invoice {purchase.number} from Corner Grocer"
    for text in ["Corner Grocer", "12 Market Road, Pune", str(purchase.number), "ann@example.com"]:
        assert text in content
    assert timezone.localtime(purchase.created_at).strftime("%-d %b %Y") in content
    # Lines with their snapshot prices: rice 3 × 45.50 = 136.50, tax 5% 6.83 → 143.33;
    # oil 1 × 199.99, tax 18% 36.00 → 235.99.
    for text in ["Basmati Rice", "₹45.50", "₹136.50", "5%", "₹6.83", "₹143.33"]:
        assert text in content
    for text in ["Sunflower Oil", "₹199.99", "18%", "₹36.00", "₹235.99"]:
        assert text in content
    # subtotal, tax, total, rounding, payable, paid, change, and the change handed back.
    for label, amount in [
        ("Subtotal", "336.49"),
        ("Tax", "42.83"),
        ("Total", "379.32"),
        ("Rounding", "-0.32"),
        ("Payable", "379.00"),
        ("Paid", "500.00"),
        ("Change", "121.00"),
    ]:
        assert label in content
        signed = f"-₹{amount[1:]}" if amount.startswith("-") else f"₹{amount}"
        assert signed in content
    assert "Notes received: 1 × ₹500" in content
    assert "Change given: 1 × ₹100, 1 × ₹20, 1 × ₹1" in content


def test_the_invoice_text_part_lists_the_amounts_in_order(drawer, rice, oil):
    purchase = ring_up((rice, 3), (oil, 1))

    text = invoice_render(purchase_get(purchase_id=purchase.pk)).body

    labels = ("Subtotal:", "Tax:", "Total:", "Rounding:", "Payable:", "Paid:", "Change:")
    assert [line.split() for line in text.splitlines() if line.startswith(labels)] == [
        ["Subtotal:", "₹336.49"],
        ["Tax:", "₹42.83"],
        ["Total:", "₹379.32"],
        ["Rounding:", "-₹0.32"],
        ["Payable:", "₹379.00"],
        ["Paid:", "₹500.00"],
        ["Change:", "₹121.00"],
    ]


def test_the_html_part_escapes_product_names(drawer):
    product = ProductFactory(name="<b>Tea</b> & Co", price=D("10"), tax_percent=D("0"))
    purchase = ring_up((product, 1), paid="10", tendered=None)

    message = invoice_render(purchase_get(purchase_id=purchase.pk))

    html_part = message.alternatives[0][0]
    assert isinstance(html_part, str)
    assert "&lt;b&gt;Tea&lt;/b&gt; &amp; Co" in html_part
    assert "<b>Tea</b> & Co" in message.body


def test_a_bill_paid_exactly_mentions_no_change_given(drawer, rice):
    purchase = ring_up((rice, 2), paid="96", tendered=None)  # 91.00 + 4.55 = 95.55 → 96

    message = invoice_render(purchase_get(purchase_id=purchase.pk))

    assert "Change given" not in message.body
    assert "Change:    ₹0.00" in message.body


# --- The outbox: one job, in the bill's own transaction ----------------------------------------


def test_a_bill_queues_one_invoice_job_inside_its_own_transaction(drawer, rice):
    with transaction.atomic():
        purchase = ring_up((rice, 1), paid="48", tendered=None)
        # The job row is already written, in this transaction, not deferred to on_commit: a
        # committed bill always has its job, even if the process dies right after the commit.
        assert jobs_args() == [{"purchase_id": purchase.pk, "invoice_round": 0, "attempt": 1}]
        # (Only the bill's metrics wait for the commit: an uncommitted bill is not counted.)
        deferred = [entry[1] for entry in connection.run_on_commit]
        assert [getattr(f, "func", f).__module__ for f in deferred] == ["billing_project.core.metrics"]

    job = invoice_jobs().get()
    assert job.status == "READY"
    assert fresh(purchase).invoice_status == InvoiceStatus.PENDING
    assert fresh(purchase).invoice_attempts == 0


@pytest.mark.django_db(transaction=True)
def test_a_bill_rolled_back_after_ringing_up_leaves_no_job_and_no_email(drawer, rice, run_worker):
    with pytest.raises(RuntimeError), transaction.atomic():
        ring_up((rice, 1), paid="48", tendered=None)
        raise RuntimeError("the till crashed before the commit")

    run_worker()

    assert Purchase.objects.count() == 0
    assert not DBTaskResult.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_a_refused_bill_queues_nothing_and_sends_nothing(drawer, rice, run_worker):
    with pytest.raises(InsufficientStock):
        ring_up((rice, 11), paid="1000", tendered=None)

    run_worker()

    assert Purchase.objects.count() == 0
    assert not DBTaskResult.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_exactly_one_invoice_and_records_it(drawer, rice, run_worker):
    purchase = ring_up((rice, 1), email="bob@example.com", paid="48", tendered=None)
    assert mail.outbox == []

    run_worker()
    run_worker()

    assert [m.to for m in mail.outbox] == [["bob@example.com"]]
    purchase = fresh(purchase)
    assert purchase.invoice_status == InvoiceStatus.SENT
    assert purchase.invoice_sent_at is not None
    assert purchase.invoice_attempts == 1
    assert purchase.invoice_last_error == ""


@pytest.mark.django_db(transaction=True)
def test_declining_the_invoice_skips_it(drawer, rice, run_worker):
    purchase = ring_up((rice, 1), paid="48", tendered=None, send_invoice=False)

    run_worker()

    assert fresh(purchase).invoice_status == InvoiceStatus.SKIPPED
    assert not DBTaskResult.objects.exists()
    assert mail.outbox == []


def test_queueing_the_invoice_costs_one_insert_and_on_postgresql_no_round_trip(drawer, rice):
    def queries(**kwargs) -> list[str]:
        with CaptureQueriesContext(connection) as ctx:
            ring_up((rice, 1), paid="48", tendered=None, **kwargs)
        return [q["sql"] for q in ctx.captured_queries]

    queries(send_invoice=False)  # warm up: the customer exists for both runs below
    without, with_invoice = queries(send_invoice=False), queries()

    [extra] = [sql for sql in with_invoice if "django_tasks_database" in sql]
    assert not any("django_tasks_database" in sql for sql in without)
    if connection.vendor == "postgresql":
        # The job's INSERT is a CTE of the bill's last statement, the invoice number's.
        assert len(with_invoice) == len(without)
        assert 'invoice_job AS (INSERT INTO "django_tasks_database_dbtaskresult"' in extra
        assert "purchases_documentcounter" in extra
    else:
        assert len(with_invoice) == len(without) + 1
        assert extra.startswith("INSERT")


# --- Retries, crashes and re-sends --------------------------------------------------------------


@pytest.mark.parametrize(("attempt", "seconds"), [(1, 60), (2, 120), (3, 240), (6, 1920), (7, 3600), (20, 3600)])
def test_the_retry_delay_doubles_up_to_the_maximum(settings, attempt, seconds):
    settings.INVOICE_RETRY_BACKOFF_SECONDS = 60
    settings.INVOICE_RETRY_BACKOFF_MAX_SECONDS = 3600

    assert invoice_retry_delay(attempt) == timedelta(seconds=seconds)


class WorkerKilled(BaseException):
    """Stands in for the worker process dying mid-send: nothing in the task catches it."""


@pytest.mark.django_db(transaction=True)
def test_an_attempt_whose_worker_dies_mid_send_is_retried(settings, drawer, rice, run_worker, monkeypatch):
    settings.INVOICE_RETRY_BACKOFF_SECONDS = 0
    purchase = ring_up((rice, 1), paid="48", tendered=None)

    def die(self, fail_silently=False):
        raise WorkerKilled

    with monkeypatch.context() as patch:
        patch.setattr("django.core.mail.EmailMessage.send", die)
        run_worker()  # attempt 1 dies; the queue also holds attempt 2, which dies too …
    # … so every attempt died, and the job after the last one gave up on it.
    purchase = fresh(purchase)
    assert purchase.invoice_status == InvoiceStatus.FAILED
    assert purchase.invoice_attempts == settings.INVOICE_MAX_ATTEMPTS
    assert "never finished" in purchase.invoice_last_error
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_a_dead_attempt_is_retried_after_the_backoff(settings, drawer, rice, run_worker, monkeypatch):
    purchase = ring_up((rice, 1), paid="48", tendered=None)

    def die(self, fail_silently=False):
        raise WorkerKilled

    with monkeypatch.context() as patch:
        patch.setattr("django.core.mail.EmailMessage.send", die)
        run_worker()
    assert fresh(purchase).invoice_status == InvoiceStatus.PENDING
    retry = invoice_jobs().get(status="READY")
    assert retry.args_kwargs["kwargs"] == {"purchase_id": purchase.pk, "invoice_round": 0, "attempt": 2}
    assert retry.run_after > timezone.now() + timedelta(seconds=50)

    run_worker()  # the retry is not due yet
    assert mail.outbox == []

    invoice_jobs().filter(pk=retry.pk).update(run_after=timezone.now())  # the backoff has passed
    run_worker()

    assert len(mail.outbox) == 1
    assert fresh(purchase).invoice_status == InvoiceStatus.SENT
    assert fresh(purchase).invoice_attempts == 2


@pytest.mark.django_db(transaction=True)
def test_a_sent_invoice_is_not_sent_again_by_a_duplicate_job(drawer, rice, run_worker):
    from purchases.invoices import send_invoice_email

    purchase = ring_up((rice, 1), paid="48", tendered=None)
    send_invoice_email.enqueue(purchase_id=purchase.pk, invoice_round=0, attempt=1)  # e.g. replayed

    run_worker()

    assert len(mail.outbox) == 1
    assert sorted(j.return_value for j in invoice_jobs().filter(status="SUCCESSFUL")) == ["nothing to do", "sent"]


def test_jobs_queued_under_the_old_task_path_still_find_their_tasks():
    """Rows written before the tasks moved beside their work name ``purchases.tasks``: the worker
    resolves them to the same tasks."""
    from purchases.invoices import send_invoice_email
    from purchases.refund_receipts import send_refund_receipt_email

    assert send_invoice_email.module_path == "purchases.invoices.send_invoice_email"
    for old_path, task in (
        ("purchases.tasks.send_invoice_email", send_invoice_email),
        ("purchases.tasks.send_refund_receipt_email", send_refund_receipt_email),
    ):
        assert DBTaskResult(task_path=old_path, backend_name="default", queue_name="default").task.func is task.func


@pytest.mark.django_db(transaction=True)
def test_resending_a_sent_invoice_sends_it_once_more(drawer, rice, run_worker):
    purchase = ring_up((rice, 1), paid="48", tendered=None)
    run_worker()

    invoice_resend(purchase=purchase)
    assert fresh(purchase).invoice_status == InvoiceStatus.PENDING
    run_worker()

    assert len(mail.outbox) == 2
    purchase = fresh(purchase)
    assert purchase.invoice_status == InvoiceStatus.SENT
    assert (purchase.invoice_round, purchase.invoice_attempts) == (1, 1)
    assert mail.outbox[1].extra_headers["Message-ID"] != mail.outbox[0].extra_headers["Message-ID"]


@pytest.mark.django_db(transaction=True)
def test_a_declined_invoice_can_be_sent_later(drawer, rice, run_worker):
    purchase = ring_up((rice, 1), paid="48", tendered=None, send_invoice=False)

    invoice_resend(purchase=purchase)
    run_worker()

    assert len(mail.outbox) == 1
    assert fresh(purchase).invoice_status == InvoiceStatus.SENT


def test_resending_is_refused_while_the_invoice_is_still_queued(drawer, rice):
    purchase = ring_up((rice, 1), paid="48", tendered=None)

    with pytest.raises(InvoiceAlreadyPending):
        invoice_resend(purchase=purchase)

    assert invoice_jobs().count() == 1
    assert fresh(purchase).invoice_round == 0


@pytest.mark.django_db(transaction=True)
def test_a_job_of_an_earlier_round_does_nothing(drawer, rice, run_worker):
    from purchases.invoices import send_invoice_email

    purchase = ring_up((rice, 1), paid="48", tendered=None, send_invoice=False)
    invoice_resend(purchase=purchase)  # round 1
    stale = send_invoice_email.using(run_after=timezone.now()).enqueue(
        purchase_id=purchase.pk, invoice_round=0, attempt=1
    )

    run_worker()

    assert DBTaskResult.objects.get(pk=stale.id).return_value == "nothing to do"
    assert len(mail.outbox) == 1
    assert (fresh(purchase).invoice_round, fresh(purchase).invoice_attempts) == (1, 1)


@pytest.mark.django_db(transaction=True)
def test_a_failed_invoice_resent_before_its_give_up_job_runs_is_still_sent(
    settings, drawer, rice, run_worker, monkeypatch
):
    settings.INVOICE_MAX_ATTEMPTS = 1
    purchase = ring_up((rice, 1), paid="48", tendered=None)

    def refuse(self, fail_silently=False):
        raise ConnectionRefusedError(111, "Connection refused")

    with monkeypatch.context() as patch:
        patch.setattr("django.core.mail.EmailMessage.send", refuse)
        run_worker()  # the only attempt fails; the give-up job for round 0 waits for the backoff
    assert fresh(purchase).invoice_status == InvoiceStatus.FAILED
    assert invoice_jobs().filter(status="READY").count() == 1
    invoice_resend(purchase=purchase)  # round 1
    invoice_jobs().filter(status="READY").update(run_after=timezone.now())  # everything is due

    run_worker()

    purchase = fresh(purchase)
    assert purchase.invoice_status == InvoiceStatus.SENT
    assert (purchase.invoice_round, purchase.invoice_attempts) == (1, 1)
    assert len(mail.outbox) == 1


# --- The bill unaffected by its invoice --------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_broken_mail_setup_never_touches_the_bill(settings, drawer, rice, run_worker, monkeypatch):
    settings.INVOICE_RETRY_BACKOFF_SECONDS = 0
    purchase = ring_up((rice, 2), paid="100", tendered=(("100", 1),))
    before = Purchase.objects.filter(pk=purchase.pk).values(
        "subtotal", "tax_total", "total", "rounding", "payable", "paid_amount", "change_due", "customer_id"
    )[0]
    stock = Product.objects.get(pk=rice.pk).stock

    def refuse(self, fail_silently=False):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    run_worker()

    after = Purchase.objects.filter(pk=purchase.pk).values(*before)[0]
    assert after == before
    assert Product.objects.get(pk=rice.pk).stock == stock
    assert fresh(purchase).invoice_status == InvoiceStatus.FAILED
    assert fresh(purchase).invoice_last_error == "ConnectionRefusedError: [Errno 111] Connection refused"


# --- API ----------------------------------------------------------------------------------------


def _body(product, **extra):
    return {
        "customer_email": "ann@example.com",
        "items": [{"product_id": product.pk, "quantity": 1}],
        "paid_amount": "48",
        **extra,
    }


def test_the_api_shows_a_new_bill_s_invoice_as_pending(admin_api, drawer, rice):
    response = admin_api.post(URL, _body(rice), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["invoice_email_status"] == {
        "status": "pending",
        "sent_at": None,
        "attempts": 0,
        "last_error": "",
    }
    assert invoice_jobs().count() == 1


def test_the_api_can_ring_up_a_bill_without_an_invoice(admin_api, drawer, rice):
    response = admin_api.post(URL, _body(rice, send_invoice=False), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["invoice_email_status"]["status"] == "skipped"
    assert Purchase.objects.get().invoice_status == InvoiceStatus.SKIPPED
    assert not invoice_jobs().exists()


def test_the_api_rejects_a_non_boolean_send_invoice(admin_api, drawer, rice):
    response = admin_api.post(URL, _body(rice, send_invoice="maybe"), format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "send_invoice" in response.json()["details"]
    assert not Purchase.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_api_shows_when_the_invoice_was_sent(admin_api, drawer, rice, run_worker):
    purchase_id = admin_api.post(URL, _body(rice), format="json").json()["id"]
    run_worker()

    status = admin_api.get(f"{URL}/{purchase_id}").json()["invoice_email_status"]

    assert status["status"] == "sent"
    assert status["attempts"] == 1
    sent_at = Purchase.objects.get(pk=purchase_id).invoice_sent_at
    assert status["sent_at"] == timezone.localtime(sent_at).isoformat().replace("+00:00", "Z")


def test_the_api_shows_a_failed_invoice_s_last_error(admin_api, drawer, rice):
    purchase = ring_up((rice, 1), paid="48", tendered=None)
    Purchase.objects.filter(pk=purchase.pk).update(
        invoice_status=InvoiceStatus.FAILED, invoice_attempts=3, invoice_last_error="SMTPDataError: (451, b'busy')"
    )

    status = admin_api.get(f"{URL}/{purchase.pk}").json()["invoice_email_status"]

    assert status == {"status": "failed", "sent_at": None, "attempts": 3, "last_error": "SMTPDataError: (451, b'busy')"}


# --- Admin helpers ------------------------------------------------------------------------------


def _admin_request(superuser):
    request = RequestFactory().post("/admin/purchases/purchase/")
    request.user = superuser
    request.session = SessionStore()
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]  # as MessageMiddleware sets it
    return request


def test_the_resend_action_queues_finished_invoices_and_skips_queued_ones(superuser, drawer, rice):
    queued = ring_up((rice, 1), paid="48", tendered=None)
    declined = ring_up((rice, 1), paid="48", tendered=None, send_invoice=False)
    request = _admin_request(superuser)

    resend_invoice(admin.ModelAdmin(Purchase, admin.site), request, Purchase.objects.all())

    assert fresh(declined).invoice_status == InvoiceStatus.PENDING
    assert fresh(declined).invoice_round == 1
    assert fresh(queued).invoice_round == 0
    assert sorted(args["purchase_id"] for args in jobs_args()) == [queued.pk, declined.pk]
    notes = [str(m) for m in request._messages]
    assert notes == [
        f"Invoice email queued for bill(s) #{declined.pk}.",
        f"Already queued, not sent again: #{queued.pk}. They are sent or retried automatically.",
    ]


def test_a_manager_resends_an_invoice_from_the_admin_list(client, superuser, drawer, rice):
    purchase = ring_up((rice, 1), paid="48", tendered=None, send_invoice=False)
    client.force_login(superuser)
    changelist = reverse("admin:purchases_purchase_changelist")

    response = client.post(changelist, {"action": "resend_invoice", "_selected_action": [purchase.pk]}, follow=True)

    assert response.status_code == 200
    assert f"Invoice email queued for bill(s) #{purchase.pk}." in response.content.decode()
    assert fresh(purchase).invoice_status == InvoiceStatus.PENDING
    assert jobs_args() == [{"purchase_id": purchase.pk, "invoice_round": 1, "attempt": 1}]
    assert 'class="field-invoice">Pending</td>' in client.get(changelist).content.decode()


def test_a_manager_may_resend_an_invoice(manager_client, drawer, rice):
    purchase = ring_up((rice, 1), paid="48", tendered=None, send_invoice=False)
    changelist = reverse("admin:purchases_purchase_changelist")

    response = manager_client.post(
        changelist, {"action": "resend_invoice", "_selected_action": [purchase.pk]}, follow=True
    )

    assert f"Invoice email queued for bill(s) #{purchase.pk}." in response.content.decode()
    assert fresh(purchase).invoice_status == InvoiceStatus.PENDING


def test_a_cashier_may_not_resend_an_invoice(cashier_client, drawer, rice):
    purchase = ring_up((rice, 1), paid="48", tendered=None, send_invoice=False)
    changelist = reverse("admin:purchases_purchase_changelist")

    response = cashier_client.post(
        changelist, {"action": "resend_invoice", "_selected_action": [purchase.pk]}, follow=True
    )

    assert response.status_code == 200
    assert fresh(purchase).invoice_status == InvoiceStatus.SKIPPED
    assert not invoice_jobs().exists()


@pytest.mark.parametrize(("role", "offered"), [("cashier_user", False), ("manager_user", True), ("superuser", True)])
def test_the_resend_action_is_offered_only_with_the_permission(request, role, offered):
    http = RequestFactory().get(reverse("admin:purchases_purchase_changelist"))
    http.user = request.getfixturevalue(role)

    actions = admin.site._registry[Purchase].get_actions(http)

    assert ("resend_invoice" in actions) is offered


@pytest.mark.parametrize(
    ("fields", "shown"),
    [
        ({"invoice_status": "pending"}, "Pending"),
        (
            {"invoice_status": "pending", "invoice_attempts": 2, "invoice_last_error": "boom"},
            "Pending (2 attempt(s) so far; last error: boom)",
        ),
        (
            {"invoice_status": "failed", "invoice_attempts": 3, "invoice_last_error": "boom"},
            "Failed after 3 attempt(s): boom",
        ),
        ({"invoice_status": "skipped"}, "Skipped"),
    ],
)
def test_the_admin_shows_the_invoice_status(drawer, rice, fields, shown):
    purchase = ring_up((rice, 1), paid="48", tendered=None)
    Purchase.objects.filter(pk=purchase.pk).update(**fields)

    assert invoice_email_status(fresh(purchase)) == shown


def test_the_admin_shows_when_the_invoice_was_sent(settings, drawer, rice):
    settings.TIME_ZONE = "Asia/Kolkata"
    purchase = ring_up((rice, 1), paid="48", tendered=None)
    sent_at = datetime(2026, 3, 1, 4, 30, tzinfo=UTC)
    Purchase.objects.filter(pk=purchase.pk).update(invoice_status="sent", invoice_sent_at=sent_at)

    assert invoice_email_status(fresh(purchase)) == "Sent 1 Mar 2026, 10:00"


@pytest.mark.parametrize("what", ["email", "first print"])
def test_the_invoice_reads_its_bills_payments_once_and_not_its_refunds(what, drawer, rice):
    purchase = ring_up((rice, 2))
    with CaptureQueriesContext(connection) as ctx:
        if what == "email":
            assert invoice_deliver(purchase_id=purchase.pk, invoice_round=0, attempt=1) == "sent"
        else:
            invoice_pdf_print(purchase_id=purchase.pk)
    sql = [q["sql"] for q in ctx.captured_queries]

    assert sum('FROM "purchases_payment"' in statement for statement in sql) == 1
    assert not any('FROM "purchases_refund"' in statement for statement in sql)
    assert len(mail.outbox) == (1 if what == "email" else 0)
