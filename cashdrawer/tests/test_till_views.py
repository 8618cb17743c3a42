"""The cashier's till pages with Django's test client: pick, open, cash in/out, blind close, report."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from cashdrawer.models import CashMovement, Denomination, TillSession
from cashdrawer.services import denomination_create, session_close, session_open, session_recount, till_create
from catalog.tests.factories import ProductFactory
from purchases.models import Purchase
from purchases.services import purchase_create

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def till(db):
    t = till_create(code="T3", name="Side")
    denomination_create(value=D("100"), count=4, till=t)
    denomination_create(value=D("10"), count=10, till=t)
    return t


@pytest.fixture
def at_till(cashier_client, till):
    response = cashier_client.post(reverse("tills:pick"), {"till": till.pk})
    assert response.status_code == 302
    return cashier_client


def test_picking_a_till_is_remembered_and_shown_on_the_billing_page(at_till, till):
    page = at_till.get(reverse("billing:new"))

    assert page.context["till"] == till
    assert "T3" in page.content.decode() and "no open session" in page.content.decode()


def test_a_bill_on_the_page_goes_to_the_picked_till(at_till, till):
    product = ProductFactory(sku="P1", price=D("90"), tax_percent=D("0"), stock=10)
    form = {
        "customer": "ann@example.com",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-product": "P1",
        "lines-0-quantity": "1",
        "note_100_00": "1",
        "action": "generate",
    }

    response = at_till.post(reverse("billing:new"), form)

    assert response.status_code == 302, response.content.decode()[:2000]
    bill = Purchase.objects.get()
    assert bill.session is not None
    assert bill.till == till and bill.session.till == till and product.pk
    assert dict(Denomination.objects.filter(till=till).values_list("value", "count")) == {D("100"): 5, D("10"): 9}


def test_open_till_counts_the_float_within_the_variance_limit(at_till, till, settings):
    settings.CASH_VARIANCE_LIMIT = D("20.00")
    assert at_till.get(reverse("tills:open")).status_code == 200

    response = at_till.post(reverse("tills:open"), {"count_100.00": "4", "count_10.00": "12"})

    assert response.status_code == 302
    session = TillSession.objects.get(till=till)
    assert session.opening_variance == D("20.00") and not session.auto_opened


def test_the_open_page_suggests_the_float_the_ledger_holds_and_opening_with_it_has_no_variance(at_till, till):
    response = at_till.get(reverse("tills:open"))

    page = response.content.decode()
    assert 'name="count_100.00" data-value="100.00" value="4"' in page
    assert 'name="count_10.00" data-value="10.00" value="10"' in page
    assert response.context["suggested_float"] == "₹500.00"
    assert "Filled in: the ₹500.00 the drawer should hold" in page

    opened = at_till.post(reverse("tills:open"), {"count_100.00": "4", "count_10.00": "10"})

    assert opened.status_code == 302
    assert TillSession.objects.get(till=till).opening_variance == D("0.00")


def test_the_close_page_suggests_nothing(at_till, till):
    session_open(till_id=till.pk, counted=[{"value": "100", "count": 4}, {"value": "10", "count": 10}])

    response = at_till.get(reverse("tills:close"))

    assert 'value="4"' not in response.content.decode() and 'value="10"' not in response.content.decode()
    assert response.context["suggested_float"] == ""


def test_open_with_a_bad_count_keeps_what_was_typed(at_till, till):
    response = at_till.post(reverse("tills:open"), {"count_100.00": "x", "count_10.00": "12"})

    assert response.status_code == 400
    assert not TillSession.objects.exists()
    assert 'value="12"' in response.content.decode()


def test_the_close_page_is_blind_and_a_short_count_waits_for_a_manager(at_till, till, cashier_user, manager_user):
    manager = manager_user
    session = session_open(till_id=till.pk, counted=[{"value": "100", "count": 4}, {"value": "10", "count": 10}])
    page = at_till.get(reverse("tills:close")).content.decode()
    assert "500.00" not in page  # the expected total (4×100 + 10×10) is never shown before the count

    # Short by 10: the count waits for a manager, and the page says so without the shortfall.
    waiting = at_till.post(reverse("tills:close"), {"count_100.00": "4", "count_10.00": "9"})
    assert waiting.status_code == 302
    assert TillSession.objects.get(pk=session.pk).status == "pending_approval"
    page = at_till.get(waiting["Location"]).content.decode()
    assert 'id="pending-approval"' in page and "10.00" not in page and "Short by" not in page
    assert at_till.get(reverse("tills:close"))["Location"] == waiting["Location"]

    at_till.post(reverse("tills:decide", args=[session.pk, "recount"]), {"reason": "count again"})  # not theirs
    assert TillSession.objects.get(pk=session.pk).status == "pending_approval"
    session_recount(session_id=session.pk, reason="count the 10s again", user=manager)
    response = at_till.post(reverse("tills:close"), {"count_100.00": "4", "count_10.00": "10"})

    assert response.status_code == 302
    report = at_till.get(response["Location"])
    assert report.status_code == 200
    content = report.content.decode()
    assert "Z report" in content and 'id="report-expected"' not in content  # blind for the cashier
    assert "purchases/billing.css" in content  # with the report's receipt-width print layout


def test_the_report_writes_money_and_times_as_every_page_does(manager_client, till, manager_user, settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    rice = ProductFactory(sku="RICE", price=D("1250.00"), tax_percent=D("0"), stock=10)
    counted = [{"value": "100", "count": 4}, {"value": "10", "count": 10}]
    session = session_open(till_id=till.pk, counted=counted, note="float from the safe", user=manager_user)
    purchase_create(
        customer_email="ann@example.com",
        items=[{"product_id": rice.pk, "quantity": 2, "discount_percent": D("10")}],
        discount_reason="old stock",
        paid_amount=D("2250"),
        tendered=[{"value": D("100"), "count": 22}, {"value": D("10"), "count": 5}],
        till=till.pk,
        user=manager_user,
    )
    closed = session_close(
        session_id=session.pk,
        counted=[{"value": "100", "count": 26}, {"value": "10", "count": 14}],
        note="one 10 missing",
        user=manager_user,
    )

    content = manager_client.get(reverse("tills:report", args=[session.pk])).content.decode()

    assert re.search(r'id="report-discounts">₹250.00<', content)
    assert re.search(r'id="report-sales">₹2,250.00<', content)
    assert re.search(r'id="report-expected">₹2,750.00<', content)
    assert re.search(r'id="report-variance">-₹10.00<', content)
    assert "Short by ₹10.00" in content
    opened = timezone.localtime(closed.opened_at)
    assert f'Opened <time datetime="{opened.isoformat()}">{date_format(opened, "j M Y, H:i")}</time>' in content
    assert "float from the safe<br>one 10 missing" in content


@pytest.fixture
def manager_at_till(manager_client, till):
    """A manager (whose count may differ from the drawer's records) at the till."""
    assert manager_client.post(reverse("tills:pick"), {"till": till.pk}).status_code == 302
    return manager_client


@pytest.mark.parametrize(
    ("counts", "check"),
    [
        ({"count_100.00": "4", "count_10.00": "12"}, "is over by ₹20.00 against what the drawer should hold."),
        ({"count_100.00": "3", "count_10.00": "9"}, "is short by ₹110.00 against what the drawer should hold."),
        ({"count_100.00": "4", "count_10.00": "10"}, "matches what the drawer should hold."),
    ],
)
def test_opening_a_till_says_whether_the_float_is_short_or_over(manager_at_till, till, counts, check):
    response = manager_at_till.post(reverse("tills:open"), counts, follow=True)

    session = TillSession.objects.get(till=till)
    assert f"Till T3 opened (session #{session.pk}). The float counted {check}" in [
        str(message) for message in response.context["messages"]
    ]


def test_cash_in_out_needs_the_permission_or_a_managers_override(at_till, till, cashier_user):
    session_open(till_id=till.pk, counted=[{"value": "100", "count": 4}, {"value": "10", "count": 10}])
    assert at_till.get(reverse("tills:cash")).status_code == 200  # the page, and the dialog on a refusal
    refused = at_till.post(reverse("tills:cash"), {"direction": "out", "count_100.00": "1", "reason": "supplier"})
    assert refused.status_code == 403
    assert 'id="override-needed" hidden data-action="cash_movement"' in refused.content.decode()
    assert 'value="supplier"' in refused.content.decode()  # what was typed is kept
    assert not CashMovement.objects.exists()

    cashier_user.user_permissions.add(Permission.objects.get(codename="add_cashmovement"))
    response = at_till.post(reverse("tills:cash"), {"direction": "out", "count_100.00": "1", "reason": "supplier"})

    assert response.status_code == 302
    assert CashMovement.objects.get().amount == D("100.00")


def test_cash_out_without_a_reason_is_refused(at_till, till, cashier_user):
    session_open(till_id=till.pk, counted=[{"value": "100", "count": 4}, {"value": "10", "count": 10}])
    cashier_user.user_permissions.add(Permission.objects.get(codename="add_cashmovement"))

    response = at_till.post(reverse("tills:cash"), {"direction": "out", "count_100.00": "1", "reason": ""})

    assert response.status_code == 400
    assert not CashMovement.objects.exists()


def test_a_second_submit_of_the_same_cash_page_records_the_movement_once(at_till, till, cashier_user):
    """A double click, or a reload that posts again: the page's key replays the first answer."""
    session_open(till_id=till.pk, counted=[{"value": "100", "count": 4}, {"value": "10", "count": 10}])
    cashier_user.user_permissions.add(Permission.objects.get(codename="add_cashmovement"))
    page = at_till.get(reverse("tills:cash")).content.decode()
    key = re.search(r'name="submission" value="([0-9a-f]{32})"', page)
    assert key is not None
    form = {"submission": key.group(1), "direction": "out", "count_100.00": "1", "reason": "safe drop"}

    first = at_till.post(reverse("tills:cash"), form)
    second = at_till.post(reverse("tills:cash"), form)

    assert first.status_code == second.status_code == 302
    assert CashMovement.objects.count() == 1
    assert Denomination.objects.get(till=till, value=D("100")).count == 3
