"""Password guessing (django-axes on every login path) and the client address behind a proxy."""

import pytest
from axes.models import AccessAttempt
from django.test import Client, RequestFactory
from rest_framework.settings import api_settings
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from billing_project.client_ip import client_ip
from customers.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"  # UserFactory's
LOGIN_PATHS = ["/accounts/login/", "/admin/login/", "/api-auth/login/"]


@pytest.fixture
def user():
    return UserFactory(username="till", is_staff=True, is_superuser=True)


@pytest.fixture
def limit_3(settings):
    settings.AXES_FAILURE_LIMIT = 3


def _token(client, password, **extra):
    return client.post("/api/v1/auth/token", {"username": "till", "password": password}, format="json", **extra)


@pytest.fixture
def token_rate():
    """Set DRF's token throttle rate for one test (DRF reads it once, at import)."""

    def set_rate(rate):
        ScopedRateThrottle.THROTTLE_RATES = {"auth_token": rate}

    yield set_rate
    api_settings.reload()
    ScopedRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES  # type: ignore[assignment]  # the stub types rates as numbers


# --- every login path locks out -----------------------------------------------------------------


@pytest.mark.parametrize("path", LOGIN_PATHS)
def test_password_guessing_locks_out_every_login_page(limit_3, user, path):
    client = Client()
    statuses = [client.post(path, {"username": "till", "password": "guess"}).status_code for _ in range(3)]

    # Past the limit even the right password is not tried.
    response = client.post(path, {"username": "till", "password": PASSWORD})

    assert statuses == [200, 200, 429]
    assert response.status_code == 429
    assert b"Too many failed logins" in response.content
    assert int(response["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session


def test_the_token_endpoint_locks_out_with_the_json_throttled_body(limit_3, user):
    client = APIClient()
    statuses = [_token(client, "guess").status_code for _ in range(3)]

    response = _token(client, PASSWORD)

    assert statuses == [401, 401, 429]
    assert response.status_code == 429
    assert set(response.json()) == {"code", "message", "details"}
    assert response.json()["code"] == "throttled"
    assert int(response["Retry-After"]) > 0


def test_failures_are_stored_in_the_database_for_every_worker(user):
    Client().post("/accounts/login/", {"username": "till", "password": "guess"})
    _token(APIClient(), "guess")

    attempt = AccessAttempt.objects.get(username="till", ip_address="127.0.0.1")
    assert attempt.failures_since_start == 2


def test_a_correct_password_under_the_limit_logs_in_and_resets_the_count(limit_3, user):
    client = Client()
    client.post("/accounts/login/", {"username": "till", "password": "guess"})
    client.post("/accounts/login/", {"username": "till", "password": "guess"})

    response = client.post("/accounts/login/", {"username": "till", "password": PASSWORD})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    assert not AccessAttempt.objects.filter(username="till").exists()


# --- the lockout is per username and address together --------------------------------------------


def test_one_addresss_failures_do_not_lock_the_user_out_elsewhere(limit_3, user):
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(3):
        attacker.post("/accounts/login/", {"username": "till", "password": "guess"})
    assert attacker.post("/accounts/login/", {"username": "till", "password": PASSWORD}).status_code == 429

    till = Client(REMOTE_ADDR="10.0.0.7")
    response = till.post("/accounts/login/", {"username": "till", "password": PASSWORD})

    assert response.status_code == 302
    assert till.session["_auth_user_id"] == str(user.pk)
    assert _token(APIClient(REMOTE_ADDR="10.0.0.7"), PASSWORD).status_code == 200


def test_one_users_failures_do_not_lock_out_another_user_at_the_same_address(limit_3, user):
    UserFactory(username="other")
    client = Client()
    for _ in range(3):
        client.post("/accounts/login/", {"username": "till", "password": "guess"})

    response = client.post("/accounts/login/", {"username": "other", "password": PASSWORD})

    assert response.status_code == 302


# --- the client address: one trusted-proxy setting ------------------------------------------------


def test_without_a_proxy_a_spoofed_forwarded_header_does_not_escape_the_token_throttle(token_rate, user):
    token_rate("3/min")
    client = APIClient()
    statuses = [_token(client, "guess", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code for n in range(1, 5)]

    assert statuses == [401, 401, 401, 429]


def test_without_a_proxy_a_spoofed_forwarded_header_does_not_escape_the_lockout(limit_3, user):
    client = Client()
    for n in range(3):
        client.post("/accounts/login/", {"username": "till", "password": "guess"}, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")

    response = client.post(
        "/accounts/login/", {"username": "till", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="192.0.2.200"
    )

    assert response.status_code == 429


def test_behind_a_proxy_each_client_is_throttled_on_its_own_address(settings, token_rate, user):
    settings.TRUSTED_PROXY_COUNT = 1
    token_rate("2/min")
    proxy = APIClient(REMOTE_ADDR="10.0.0.1")  # every request arrives from the proxy
    # The client prepends addresses of its choice; the proxy appends the one it saw.
    spoofed = [_token(proxy, "guess", HTTP_X_FORWARDED_FOR=f"1.1.1.{n}, 203.0.113.5").status_code for n in range(3)]

    other_client = _token(proxy, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.20")

    assert spoofed == [401, 401, 429]
    assert other_client.status_code == 200


def test_behind_a_proxy_the_lockout_keys_on_the_forwarded_client(settings, limit_3, user):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = Client(REMOTE_ADDR="10.0.0.1")
    for n in range(3):
        proxy.post(
            "/accounts/login/",
            {"username": "till", "password": "guess"},
            HTTP_X_FORWARDED_FOR=f"1.1.1.{n}, 203.0.113.5",
        )

    locked = proxy.post(
        "/accounts/login/", {"username": "till", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="203.0.113.5"
    )
    other = proxy.post(
        "/accounts/login/", {"username": "till", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="198.51.100.20"
    )

    assert locked.status_code == 429
    assert other.status_code == 302
    assert AccessAttempt.objects.get(username="till").ip_address == "203.0.113.5"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.1", "10.0.0.1"),  # no proxy: the header is the client's own claim
        (1, "", "10.0.0.1"),
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "6.6.6.6, 198.51.100.1", "198.51.100.1"),
        (2, "6.6.6.6, 198.51.100.1, 10.0.0.2", "198.51.100.1"),
        (2, "198.51.100.1", "198.51.100.1"),  # fewer entries than proxies: all written by proxies
        (1, "not-an-address", "10.0.0.1"),
        (1, " 2001:db8::1 ", "2001:db8::1"),
    ],
)
def test_client_ip(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == expected
