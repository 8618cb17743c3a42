"""A client generated from the served schema works: openapi-python-client builds a typed package from
``/api/schema/`` (offline, without a warning: each warning is a schema it skipped or a response it
dropped), and against a live server that package rings up a bill, refunds part of it and reads the
session's report, every answer parsed into its model and every figure the database's."""

import importlib
import json
import subprocess
import sys
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Sum
from django.urls import resolve
from rest_framework.test import APIRequestFactory, force_authenticate

from cashdrawer.services import session_report
from cashdrawer.tests.factories import drawer_with
from catalog.models import Product
from catalog.tests.factories import ProductFactory
from customers.tests.factories import UserFactory
from purchases.models import Purchase, Refund

pytest.importorskip("openapi_python_client", reason="openapi-python-client is a development requirement")


PACKAGE = "billing_api_client"
PASSWORD = "pass-word-123"  # customers.tests.factories.UserFactory
# The generator knows no application/pdf: the PDFs are bytes to it. No formatting hooks (ruff): the
# package is imported, not read.
CONFIG = "post_hooks: []\ncontent_type_overrides:\n  application/pdf: application/octet-stream\n"


@pytest.fixture(scope="module")
def client_package(tmp_path_factory):
    """The package generated from the served schema (rendered by the schema view, as
    ``test_fuzz_schema.served_schema`` does), imported from a temporary folder."""
    tmp_path = tmp_path_factory.mktemp("generated")
    request = APIRequestFactory().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    force_authenticate(request, user=get_user_model()(username="schema", is_superuser=True, is_staff=True))
    served = resolve("/api/schema/").func(request)
    served.render()
    (tmp_path / "schema.json").write_bytes(served.content)
    (tmp_path / "config.yml").write_text(CONFIG)

    generated = subprocess.run(  # noqa: S603 (this interpreter, the locked generator)
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(tmp_path / "schema.json"),
            "--config",
            str(tmp_path / "config.yml"),
            "--meta",
            "none",
            "--output-path",
            str(tmp_path / PACKAGE),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    output = (generated.stdout + generated.stderr).strip().splitlines()
    assert generated.returncode == 0, output
    # It prints one line when all goes well; anything else is a warning about a part it left out.
    assert output == [f"Generating {tmp_path / PACKAGE}"]
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE), json.loads(served.content)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def test_every_component_has_its_model(client_package):
    _, schema = client_package
    models = importlib.import_module(f"{PACKAGE}.models")

    missing = [name for name in schema["components"]["schemas"] if not hasattr(models, name)]

    assert missing == []


@pytest.mark.django_db(transaction=True)
def test_a_bill_a_refund_and_the_session_report_through_the_generated_client(client_package, live_server):
    UserFactory(username="integrator", is_superuser=True, is_staff=True)
    package, _ = client_package
    api = importlib.import_module(f"{PACKAGE}.api")
    models = importlib.import_module(f"{PACKAGE}.models")
    for module in ("auth.auth_token_create", "purchases.purchases_create", "refunds.purchases_refunds_create"):
        importlib.import_module(f"{PACKAGE}.api.{module}")
    importlib.import_module(f"{PACKAGE}.api.sessions.sessions_report_retrieve")
    drawer_with({"500": 2, "100": 5, "50": 2, "20": 5, "10": 5, "5": 5, "2": 5, "1": 5})
    rice = ProductFactory(name="Basmati rice 5 kg", price=Decimal("250.00"), tax_percent=5, stock=20)

    token = api.auth.auth_token_create.sync(
        client=package.Client(base_url=live_server.url),
        body=models.TokenCreateRequest(username="integrator", password=PASSWORD),
    )
    assert isinstance(token, models.Token)
    client = package.AuthenticatedClient(base_url=live_server.url, token=token.token, prefix="Token")

    bill = api.purchases.purchases_create.sync(
        client=client,
        body=models.PurchaseCreateRequest(
            customer_email="ann@example.com",
            items=[models.PurchaseItemRequest(product_id=rice.pk, quantity=2)],
            paid_amount="600",
            tendered=[
                models.NotesAndCoinsRequest(value="500", count=1),
                models.NotesAndCoinsRequest(value="100", count=1),
            ],
            send_invoice=False,
        ),
        idempotency_key="bill-1",
    )

    assert isinstance(bill, models.Purchase), bill
    stored = Purchase.objects.get(pk=bill.id)
    assert (bill.total, bill.payable, bill.change_due) == (str(stored.total), str(stored.payable), "75.00")
    assert [(piece.value, piece.count) for piece in bill.change] == [("50.00", 1), ("20.00", 1), ("5.00", 1)]
    assert all(isinstance(item, models.PurchaseItem) for item in bill.items)
    assert bill.additional_properties == {}

    refund = api.refunds.purchases_refunds_create.sync(
        str(bill.id),
        client=client,
        body=models.RefundCreateRequest(
            items=[models.RefundLineRequest(product_id=rice.pk, quantity=1)], reason="Torn bag"
        ),
        idempotency_key="refund-1",
    )

    assert isinstance(refund, models.Refund), refund
    stored_refund = Refund.objects.get(pk=refund.id)
    assert (refund.purchase, refund.amount, refund.reason) == (bill.id, str(stored_refund.amount), "Torn bag")
    assert Product.objects.get(pk=rice.pk).stock == 19
    assert refund.additional_properties == {}

    report = api.sessions.sessions_report_retrieve.sync(str(bill.session), client=client)

    assert isinstance(report, models.SessionReport), report
    assert isinstance(report.cash, models.SessionReportCash)
    assert isinstance(report.refunds, models.SessionReportRefunds)
    assert all(isinstance(payment, models.SessionReportPayment) for payment in report.payments)
    assert all(isinstance(rate, models.SessionReportTaxRate) for rate in report.tax_by_rate)
    assert report.status == models.SessionStatusEnum.OPEN
    bills = Purchase.objects.filter(session_id=bill.session)
    assert report.bills == bills.count() == 1
    assert report.gross_sales == f"{bills.aggregate(total=Sum('total'))['total']:.2f}"
    assert (report.refunds.count, report.refunds.total) == (1, str(stored_refund.amount))
    assert report.cash.refunds == str(stored_refund.amount)  # paid back in cash: the bill was
    assert [(payment.method, payment.amount) for payment in report.payments] == [("cash", str(stored.payable))]
    # Every figure the server has, and nothing the schema leaves out.
    assert report.to_dict() == session_report(session_id=bill.session)
    assert report.additional_properties == {}
