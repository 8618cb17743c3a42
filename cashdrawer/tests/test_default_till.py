"""The default till keeps its identity: DEFAULT_TILL names it by code, so its code cannot change
(a rename would quietly point the setting at whichever till took the code next, or at a new empty
one). Every other field, and every other till's code, still can."""

import pytest
from django.urls import reverse

from billing_project.core.errors import ErrorCode
from cashdrawer.errors import DefaultTillRename
from cashdrawer.models import Till
from cashdrawer.services import till_create, till_default, till_update

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def main(db):
    return till_default()  # MAIN, made by the migrations


def test_the_service_refuses_to_rename_the_default_till(main):
    with pytest.raises(DefaultTillRename) as refused:
        till_update(till_id=main.pk, code="OLD")

    assert refused.value.code == ErrorCode.DEFAULT_TILL_RENAME
    assert refused.value.details == {"code": "MAIN", "default_till": "MAIN"}
    assert Till.objects.get(pk=main.pk).code == "MAIN"


def test_the_default_till_keeps_its_code_and_changes_everything_else(main):
    till_update(till_id=main.pk, code=" MAIN ", name="Front counter", requires_open_session=True)

    saved = Till.objects.get(pk=main.pk)
    assert (saved.code, saved.name, saved.requires_open_session) == ("MAIN", "Front counter", True)


def test_another_till_can_be_renamed(main):
    other = till_create(code="T2")

    till_update(till_id=other.pk, code="T9")

    assert Till.objects.get(pk=other.pk).code == "T9"


def test_the_api_answers_409_default_till_rename_and_the_default_stays_put(manager_api, main):
    refused = manager_api.patch(f"{API}/tills/{main.pk}", {"code": "OLD", "name": "Renamed"}, format="json")
    taken_over = manager_api.post(f"{API}/tills", {"code": "MAIN"}, format="json")

    assert refused.status_code == 409
    assert refused.json()["code"] == "default_till_rename"
    assert "DEFAULT_TILL" in refused.json()["message"]
    assert Till.objects.get(pk=main.pk).code == "MAIN" and Till.objects.get(pk=main.pk).name != "Renamed"
    assert taken_over.status_code == 409 and taken_over.json()["code"] == "till_exists"
    assert till_default().pk == main.pk


def test_the_admin_shows_the_default_tills_code_read_only_and_saves_the_rest(manager_client, main):
    url = reverse("admin:cashdrawer_till_change", args=[main.pk])

    page = manager_client.get(url)
    response = manager_client.post(url, {"code": "OLD", "name": "Front", "is_active": "on"})

    assert 'name="code"' not in page.content.decode()
    assert "DEFAULT_TILL" in page.content.decode()
    assert response.status_code == 302
    saved = Till.objects.get(pk=main.pk)
    assert (saved.code, saved.name) == ("MAIN", "Front")


def test_the_admin_still_renames_another_till(manager_client, main):
    other = till_create(code="T2")
    url = reverse("admin:cashdrawer_till_change", args=[other.pk])

    page = manager_client.get(url)
    response = manager_client.post(url, {"code": "T9", "name": "", "is_active": "on"})

    assert 'name="code"' in page.content.decode()
    assert response.status_code == 302
    assert Till.objects.get(pk=other.pk).code == "T9"


def test_a_default_till_that_does_not_exist_is_made_with_a_warning(settings, caplog):
    settings.DEFAULT_TILL = "FRONT"  # a new setting, or a mistyped one: never quietly

    with caplog.at_level("WARNING", logger="billing.drawer"):
        till = till_default()
        again = till_default()

    assert till.code == "FRONT" and again.pk == till.pk
    warnings = [r.getMessage() for r in caplog.records if r.name == "billing.drawer"]
    assert len(warnings) == 1 and "DEFAULT_TILL" in warnings[0] and "FRONT" in warnings[0]
