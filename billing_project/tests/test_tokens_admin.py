"""Managers list API tokens in the admin and revoke them; cashiers cannot."""

import pytest
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from billing_project.core.tokens import api_token_issue

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:knox_authtoken_changelist")


def test_a_manager_lists_every_token_without_its_secret(manager_client, cashier_user):
    _, first = api_token_issue(user=cashier_user)
    _, second = api_token_issue(user=cashier_user)

    response = manager_client.get(CHANGELIST)

    assert response.status_code == 200
    content = response.content.decode()
    assert content.count("cashier") >= 2
    assert first not in content and second not in content
    assert first[:8] in content and second[:8] in content


def test_a_manager_revokes_a_lost_tills_token(manager_client, cashier_user):
    lost, lost_token = api_token_issue(user=cashier_user)
    kept, kept_token = api_token_issue(user=cashier_user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {lost_token}")
    assert api.get("/api/v1/products").status_code == 200  # now remembered by this process

    response = manager_client.post(
        CHANGELIST, {"action": "revoke_selected", "_selected_action": [lost.pk]}, follow=True
    )

    assert response.status_code == 200
    assert "Revoked 1 token." in response.content.decode()
    assert list(AuthToken.objects.values_list("pk", flat=True)) == [kept.pk]
    api.credentials(HTTP_AUTHORIZATION=f"Token {lost_token}")
    assert api.get("/api/v1/products").status_code == 401
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {kept_token}")
    assert api.get("/api/v1/products").status_code == 200


def test_tokens_cannot_be_added_or_edited_in_the_admin(manager_client, cashier_user):
    token, _ = api_token_issue(user=cashier_user)

    assert manager_client.get(reverse("admin:knox_authtoken_add")).status_code == 403
    change = manager_client.post(reverse("admin:knox_authtoken_change", args=[token.pk]), {"expiry": ""})
    assert AuthToken.objects.get(pk=token.pk).expiry == token.expiry
    assert change.status_code in (200, 403)


def test_a_cashier_cannot_see_the_tokens(cashier_client):
    assert cashier_client.get(CHANGELIST).status_code == 403


def test_a_manager_unlocks_a_locked_out_till(manager_client, cashier_user, settings):
    from axes.models import AccessAttempt
    from django.test import Client

    settings.AXES_FAILURE_LIMIT = 2
    till = Client(REMOTE_ADDR="10.0.0.9")
    for _ in range(2):
        till.post("/accounts/login/", {"username": "cashier", "password": "guess"})
    attempt = AccessAttempt.objects.get(username="cashier")

    response = manager_client.post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )

    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert till.post("/accounts/login/", {"username": "cashier", "password": "pass-word-123"}).status_code == 302
