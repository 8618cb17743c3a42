import pytest
from django.test import Client

from customers.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return UserFactory(username="till", is_staff=True, is_superuser=True)


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_password_guessing_is_throttled(settings, user, path):
    settings.LOGIN_THROTTLE_RATE = "3/min"
    client = Client()
    for _ in range(3):
        response = client.post(path, {"username": "till", "password": "guess"})
        assert b"Too many failed logins" not in response.content

    # Past the limit even the right password is not tried.
    response = client.post(path, {"username": "till", "password": "pass-word-123"})

    assert b"Too many failed logins" in response.content
    assert "_auth_user_id" not in client.session


def test_the_limit_is_per_username_too(settings, user):
    settings.LOGIN_THROTTLE_RATE = "2/min"
    for address in ("10.0.0.1", "10.0.0.2"):
        Client(REMOTE_ADDR=address).post("/accounts/login/", {"username": "till", "password": "guess"})

    response = Client(REMOTE_ADDR="10.0.0.3").post(
        "/accounts/login/", {"username": "till", "password": "pass-word-123"}
    )

    assert b"Too many failed logins" in response.content


def test_a_correct_password_under_the_limit_logs_in(settings, user):
    settings.LOGIN_THROTTLE_RATE = "3/min"
    client = Client()
    client.post("/accounts/login/", {"username": "till", "password": "guess"})

    response = client.post("/accounts/login/", {"username": "till", "password": "pass-word-123"})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_the_token_endpoint_is_throttled(settings, api_client):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import ScopedRateThrottle

    UserFactory(username="till")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"auth_token": "2/min"}}
    api_settings.reload()
    # The stub types rates as numbers; they are strings such as "2/min".
    ScopedRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES  # type: ignore[assignment]
    try:
        statuses = [
            api_client.post("/api/v1/auth/token", {"username": "till", "password": "guess"}, format="json").status_code
            for _ in range(3)
        ]
    finally:
        api_settings.reload()
        ScopedRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES  # type: ignore[assignment]

    assert statuses == [401, 401, 429]
