"""Opening a till with a count that differs from the ledger: past CASH_VARIANCE_LIMIT only a user
with approve_variance may open it, exactly as for a close; a refusal changes nothing."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import override_settings

from billing_project.core.errors import ErrorCode
from cashdrawer.errors import VarianceNeedsManager
from cashdrawer.models import Denomination, DrawerMovement, TillSession
from cashdrawer.selectors import drawer_audit
from cashdrawer.services import denomination_create, session_open, till_create
from customers.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def till(db):
    """A drawer of ₹20,506.00: 40 × 500, 5 × 100, 6 × 1."""
    t = till_create(code="T1")
    for value, count in (("500", 40), ("100", 5), ("1", 6)):
        denomination_create(value=D(value), count=count, till=t)
    return t


@pytest.fixture
def cashier(db):
    return UserFactory(username="counter")  # no approve_variance


@pytest.fixture
def manager(db):
    user = UserFactory(username="boss")
    user.user_permissions.add(Permission.objects.get(codename="approve_variance"))
    return user


def counts(till) -> dict:
    return dict(Denomination.objects.filter(till=till).values_list("value", "count"))


FULL = [{"value": "500", "count": 40}, {"value": "100", "count": 5}, {"value": "1", "count": 6}]


def assert_nothing_changed(till):
    assert counts(till) == {D("500"): 40, D("100"): 5, D("1"): 6}
    assert not TillSession.objects.filter(till=till).exists()
    assert not DrawerMovement.objects.filter(till=till, kind="open_count").exists()
    assert drawer_audit().ok


@pytest.mark.parametrize(
    ("counted", "variance"),
    [
        ([], "-20506.00"),  # the whole drawer written off
        ([{"value": "500", "count": 100_000}, *FULL[1:]], "49980000.00"),  # ₹4.998 crore invented
        ([{"value": "500", "count": 40}, {"value": "100", "count": 5}, {"value": "1", "count": 5}], "-1.00"),
    ],
    ids=["writes-off-the-drawer", "invents-cash", "one-rupee-short"],
)
def test_a_cashiers_open_past_the_limit_needs_a_manager_and_changes_nothing(till, cashier, counted, variance):
    with pytest.raises(VarianceNeedsManager) as refused:
        session_open(till_id=till.pk, counted=counted, user=cashier)

    assert refused.value.code == ErrorCode.VARIANCE_NEEDS_MANAGER
    assert "a manager opens the till" in refused.value.message
    assert refused.value.details == {"limit": "0.00", "variance": variance}
    assert_nothing_changed(till)


def test_an_open_without_a_user_is_held_to_the_limit_too(till):
    with pytest.raises(VarianceNeedsManager):
        session_open(till_id=till.pk, counted=[])

    assert_nothing_changed(till)


def test_a_cashiers_exact_open_goes_through(till, cashier):
    session = session_open(till_id=till.pk, counted=FULL, user=cashier)

    assert TillSession.objects.get(pk=session.pk).opening_variance == D("0.00")
    assert not DrawerMovement.objects.filter(kind="open_count").exists()


@override_settings(CASH_VARIANCE_LIMIT=D("5.00"))
@pytest.mark.parametrize("ones", [1, 11])
def test_a_cashiers_open_within_the_limit_goes_through_as_before(till, cashier, ones):
    counted = [*FULL[:2], {"value": "1", "count": ones}]

    session = session_open(till_id=till.pk, counted=counted, user=cashier)

    assert TillSession.objects.get(pk=session.pk).opening_variance == D(ones - 6)
    assert counts(till)[D("1")] == ones
    assert DrawerMovement.objects.get(kind="open_count", session=session).delta == ones - 6
    assert drawer_audit().ok


def test_a_managers_open_past_the_limit_goes_through_with_its_movements(till, manager):
    session = session_open(till_id=till.pk, counted=[{"value": "100", "count": 5}], user=manager)

    assert TillSession.objects.get(pk=session.pk).opening_variance == D("-20006.00")
    assert counts(till) == {D("500"): 0, D("100"): 5, D("1"): 0}
    moves = DrawerMovement.objects.filter(kind="open_count", session=session)
    assert sorted((m.denomination.value, m.delta, m.user_id) for m in moves) == [
        (D("1"), -6, manager.pk),
        (D("500"), -40, manager.pk),
    ]
    assert drawer_audit().ok


# --- The API: POST /tills/{id}/sessions ------------------------------------------------------------


def test_the_api_answers_409_variance_needs_manager_to_a_cashier_and_201_to_a_manager(till, cashier_api, manager_api):
    body = {"counted": [{"value": "100", "count": 5}], "note": "morning"}

    refused = cashier_api.post(f"/api/v1/tills/{till.pk}/sessions", body, format="json")

    assert refused.status_code == 409
    assert refused.json()["code"] == "variance_needs_manager"
    assert refused.json()["details"] == {"limit": "0.00", "variance": "-20006.00"}
    assert_nothing_changed(till)

    opened = manager_api.post(f"/api/v1/tills/{till.pk}/sessions", body, format="json")

    assert opened.status_code == 201, opened.content
    assert opened.json()["opening_variance"] == "-20006.00"
    assert counts(till) == {D("500"): 0, D("100"): 5, D("1"): 0}


def test_a_refused_open_with_a_key_can_be_retried_with_the_right_count(till, cashier_api):
    url, key = f"/api/v1/tills/{till.pk}/sessions", {"HTTP_IDEMPOTENCY_KEY": "open-t1-morning"}

    refused = cashier_api.post(url, {"counted": []}, format="json", **key)
    assert refused.status_code == 409

    opened = cashier_api.post(url, {"counted": FULL}, format="json", HTTP_IDEMPOTENCY_KEY="open-t1-recount")

    assert opened.status_code == 201, opened.content
    assert opened.json()["opening_variance"] == "0.00"


# --- The till page -----------------------------------------------------------------------------------


def test_the_open_page_tells_the_cashier_and_keeps_what_they_typed(till, cashier_client):
    assert cashier_client.post("/billing/till/", {"till": till.pk}).status_code == 302
    typed = {"count_500.00": "4", "count_100.00": "5", "count_1.00": "6", "note": "shift two"}

    response = cashier_client.post("/billing/till/open/", typed)

    assert response.status_code == 409
    page = response.content.decode()
    assert 'id="count-error"' in page
    assert "short by ₹18,000.00" in page and "a manager opens the till" in page
    assert 'value="4"' in page and 'value="5"' in page and 'value="6"' in page
    assert 'value="shift two"' in page
    assert_nothing_changed(till)
