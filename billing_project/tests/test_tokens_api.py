"""API tokens: hashed, several per user, expiring, revocable; Token and Bearer schemes."""

from datetime import timedelta

import pytest
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from billing_project.core.tokens import api_token_issue, api_token_revoke
from customers.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"


@pytest.fixture
def user():
    return UserFactory(username="till", is_superuser=True)


def _issue(client=None):
    client = client or APIClient()
    response = client.post("/api/v1/auth/token", {"username": "till", "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def _get(token, scheme="Token"):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {token}")
    return client.get("/api/v1/products")


def test_a_token_response_keeps_its_shape_and_adds_the_expiry(user, settings):
    before = timezone.now()

    body = _issue()

    assert set(body) == {"token", "expiry"}
    expiry = AuthToken.objects.get(user=user).expiry
    assert before + timedelta(hours=settings.API_TOKEN_TTL_HOURS) <= expiry
    assert expiry <= timezone.now() + timedelta(hours=settings.API_TOKEN_TTL_HOURS)


def test_only_a_hash_of_the_token_is_stored(user):
    token = _issue()["token"]

    stored = AuthToken.objects.get(user=user)
    assert token != stored.digest
    assert token not in stored.digest
    assert len(stored.token_key) < len(token)


def test_each_till_gets_its_own_token_and_all_work(user):
    first, second = _issue()["token"], _issue()["token"]

    assert first != second
    assert AuthToken.objects.filter(user=user).count() == 2
    assert _get(first).status_code == 200
    assert _get(second).status_code == 200


def test_a_revoked_token_gets_401_and_the_others_keep_working(user):
    lost, kept = _issue()["token"], _issue()["token"]
    lost_row = AuthToken.objects.get(token_key=lost[:15])

    assert api_token_revoke(tokens=[lost_row]) == 1

    response = _get(lost)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert _get(kept).status_code == 200


def test_an_expired_token_gets_401(user):
    instance, token = api_token_issue(user=user)
    AuthToken.objects.filter(pk=instance.pk).update(expiry=timezone.now() - timedelta(seconds=1))

    response = _get(token)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert not AuthToken.objects.filter(pk=instance.pk).exists()


def test_the_token_lifetime_comes_from_the_setting(user, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_TTL": timedelta(hours=2)}

    body = _issue()

    expiry = AuthToken.objects.get(user=user).expiry
    assert timedelta(hours=1, minutes=59) < expiry - timezone.now() <= timedelta(hours=2)
    assert body["expiry"]


@pytest.mark.parametrize("scheme", ["Token", "Bearer", "bearer", "TOKEN"])
def test_token_and_bearer_schemes_both_work(user, scheme):
    token = _issue()["token"]

    assert _get(token, scheme).status_code == 200


@pytest.mark.parametrize("header", ["Basic dGlsbDpwYXNz", "Digest abc", "JWT abc"])
def test_an_unknown_scheme_gets_401_that_names_the_accepted_ones(user, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get("/api/v1/products")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert "Bearer" in response.json()["message"] and "Token" in response.json()["message"]
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Token \xe9\xe9"])
def test_a_malformed_token_header_gets_401(user, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get("/api/v1/products")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_an_inactive_users_token_gets_401(user):
    token = _issue()["token"]
    user.is_active = False
    user.save()

    assert _get(token).status_code == 401


def test_the_browsable_api_keeps_session_auth(user):
    client = APIClient()
    client.force_login(user)

    response = client.get("/api/v1/products", HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert b"Products" in response.content or b"products" in response.content


def _authenticate(token):
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from billing_project.core.api.authentication import TokenAuthentication

    request = Request(APIRequestFactory().get("/api/v1/products", HTTP_AUTHORIZATION=f"Token {token}"))
    return TokenAuthentication().authenticate(request)


def test_a_token_costs_one_query_however_many_tokens_the_user_has(user, django_assert_num_queries):
    for _ in range(3):
        api_token_issue(user=user)
    instance, token = api_token_issue(user=user)

    with django_assert_num_queries(1):
        authenticated, auth = _authenticate(token)

    assert authenticated == user
    assert auth.pk == instance.pk


def test_issuing_a_token_prunes_the_users_expired_ones(user):
    old, _ = api_token_issue(user=user)
    other_user = UserFactory(username="other")
    others, _ = api_token_issue(user=other_user)
    AuthToken.objects.filter(pk__in=[old.pk, others.pk]).update(expiry=timezone.now() - timedelta(seconds=1))

    new, _ = api_token_issue(user=user)

    assert set(AuthToken.objects.values_list("pk", flat=True)) == {new.pk, others.pk}


def test_a_checked_token_is_remembered_and_costs_no_query(user, django_assert_num_queries):
    instance, token = api_token_issue(user=user)
    _authenticate(token)

    with django_assert_num_queries(0):
        authenticated, auth = _authenticate(token)

    assert authenticated == user
    assert auth.pk == instance.pk
    assert authenticated is not _authenticate(token)[0]  # a fresh user object per request


def test_without_the_cache_every_request_reads_the_token(user, settings, django_assert_num_queries):
    settings.API_TOKEN_CACHE_SECONDS = 0
    _, token = api_token_issue(user=user)
    _authenticate(token)

    with django_assert_num_queries(1):
        _authenticate(token)


def test_a_remembered_token_revoked_in_this_process_gets_401_at_once(user):
    instance, token = api_token_issue(user=user)
    assert _get(token).status_code == 200

    api_token_revoke(tokens=[instance])

    assert _get(token).status_code == 401


def test_a_remembered_users_deactivation_in_this_process_takes_effect_at_once(user):
    _, token = api_token_issue(user=user)
    assert _get(token).status_code == 200

    user.is_active = False
    user.save()

    assert _get(token).status_code == 401


def test_a_token_revoked_elsewhere_stops_working_within_the_cache_time(user, settings, monkeypatch):
    from billing_project.core.api import authentication

    now = [1000.0]
    monkeypatch.setattr(authentication, "_clock", lambda: now[0])
    instance, token = api_token_issue(user=user)
    assert _get(token).status_code == 200
    # Another worker revokes it: this process gets no signal.
    AuthToken.objects.filter(pk=instance.pk)._raw_delete(AuthToken.objects.db)

    now[0] += settings.API_TOKEN_CACHE_SECONDS - 1
    assert _get(token).status_code == 200
    now[0] += 1
    response = _get(token)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_remembered_token_that_expires_gets_401_and_is_deleted(user, monkeypatch):
    from billing_project.core.api import authentication

    instance, token = api_token_issue(user=user)
    assert _get(token).status_code == 200
    later = instance.expiry + timedelta(seconds=1)
    monkeypatch.setattr(authentication.timezone, "now", lambda: later)

    response = _get(token)

    assert response.status_code == 401
    assert not AuthToken.objects.filter(pk=instance.pk).exists()


def _get_as(token, path="/api/v1/products"):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get(path)


def test_a_remembered_tills_role_check_costs_no_query(cashier_user, django_assert_num_queries):
    _, token = api_token_issue(user=cashier_user)
    _authenticate(token)

    with django_assert_num_queries(0):
        authenticated, _ = _authenticate(token)
        assert authenticated.has_perms(["purchases.add_purchase", "catalog.view_product"])
        assert not authenticated.has_perm("purchases.export_purchase")  # a manager's


def test_a_role_taken_away_in_this_process_takes_effect_at_once(cashier_user):
    from billing_project.core.roles import CASHIER, role_assign

    _, token = api_token_issue(user=cashier_user)
    assert _get_as(token).status_code == 200

    cashier_user.groups.clear()
    assert _get_as(token).status_code == 403
    role_assign(user=cashier_user, role=CASHIER)
    assert _get_as(token).status_code == 200


def test_a_role_taken_away_elsewhere_takes_effect_within_the_cache_time(cashier_user, settings, monkeypatch):
    from django.contrib.auth import get_user_model

    from billing_project.core.api import authentication

    now = [1000.0]
    monkeypatch.setattr(authentication, "_clock", lambda: now[0])
    _, token = api_token_issue(user=cashier_user)
    assert _get_as(token).status_code == 200
    # Another worker takes the role away: this process gets no signal.
    memberships = get_user_model().groups.through.objects.filter(user_id=cashier_user.pk)
    memberships._raw_delete(memberships.db)

    now[0] += settings.API_TOKEN_CACHE_SECONDS - 1
    assert _get_as(token).status_code == 200
    now[0] += 1
    assert _get_as(token).status_code == 403
