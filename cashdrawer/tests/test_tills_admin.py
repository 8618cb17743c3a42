"""The admin's tills, per-till drawers, sessions with their Z report, and the ledger by till and session."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from cashdrawer.models import Denomination, Till, TillSession
from cashdrawer.services import denomination_create, session_close, session_open, till_create

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def till(db):
    t = till_create(code="T1", name="Front")
    denomination_create(value=D("100"), count=5, till=t)
    return t


def test_manager_adds_a_till_in_the_admin(manager_client):
    response = manager_client.post(
        reverse("admin:cashdrawer_till_add"), {"code": "T7", "name": "Kiosk", "is_active": "on"}
    )

    assert response.status_code == 302
    assert Till.objects.get(code="T7").name == "Kiosk"


def test_a_taken_code_in_the_admin_is_a_message_and_changes_nothing(manager_client, till):
    response = manager_client.post(reverse("admin:cashdrawer_till_add"), {"code": "T1"}, follow=True)

    assert Till.objects.filter(code="T1").count() == 1
    assert any("already exists" in str(m) for m in response.context["messages"])


def test_the_drawer_screen_shows_and_sets_one_tills_drawer(manager_client, till, manager_user):
    url = reverse("admin:cashdrawer_denomination_changelist") + f"?till={till.pk}"
    denomination = Denomination.objects.get(till=till)

    page = manager_client.get(url)
    assert page.status_code == 200
    assert [row["denomination"].pk for row in page.context["rows"]] == [denomination.pk]

    field = f"count_{denomination.pk}"
    response = manager_client.post(url, {field: "8", f"initial-{field}": "5", "reason": "recount"})

    assert response.status_code == 302
    assert Denomination.objects.get(pk=denomination.pk).count == 8


def test_a_closed_session_is_read_only_and_shows_its_z_report(manager_client, manager_user, till):
    session = session_open(till_id=till.pk, counted=[{"value": "100", "count": 5}])
    session_close(session_id=session.pk, counted=[{"value": "100", "count": 4}], user=manager_user)
    url = reverse("admin:cashdrawer_tillsession_change", args=[session.pk])

    page = manager_client.get(url)
    response = manager_client.post(url, {"note": "changed"})

    assert page.status_code == 200
    content = page.content.decode()
    assert "<tr><th>Over (+) / short (−)</th><td>-₹100.00</td></tr>" in content
    assert "<tr><th>Opening float</th><td>₹500.00</td></tr>" in content
    assert response.status_code == 403
    assert TillSession.objects.get(pk=session.pk).note == ""


def test_an_open_sessions_note_can_be_edited(manager_client, till):
    session = session_open(till_id=till.pk, counted=[{"value": "100", "count": 5}])

    response = manager_client.post(reverse("admin:cashdrawer_tillsession_change", args=[session.pk]), {"note": "x"})

    assert response.status_code == 302
    assert TillSession.objects.get(pk=session.pk).note == "x"


def test_the_ledger_filters_by_till_and_session(manager_client, till, manager_user):
    denomination_create(value=D("10"), count=3)  # at the default till, outside any session
    session = session_open(till_id=till.pk, counted=[{"value": "100", "count": 7}], user=manager_user)
    url = reverse("admin:cashdrawer_drawermovement_changelist")

    by_till = manager_client.get(url, {"till__id__exact": till.pk}).context["cl"].result_list
    by_session = manager_client.get(url, {"session": session.pk}).context["cl"].result_list

    assert {m.till_id for m in by_till} == {till.pk} and len(by_till) == 2
    assert [(m.kind, m.delta) for m in by_session] == [("open_count", 2)]


def test_drawer_audit_command_checks_every_till_and_closed_session(till, manager_user, capsys):
    session = session_open(till_id=till.pk, counted=[{"value": "100", "count": 5}])
    session_close(session_id=session.pk, counted=[{"value": "100", "count": 5}], user=manager_user)
    denomination_create(value=D("10"), count=3)

    call_command("drawer_audit")

    out = capsys.readouterr().out
    assert "in 2 till(s)" in out and "1 closed session(s)" in out
    assert "T1" in out and "MAIN" in out
