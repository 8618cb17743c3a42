"""Password guessing (django-axes on every login path) and the client address behind a proxy."""

import logging
import re
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client, RequestFactory
from django.urls import URLResolver, get_resolver
from rest_framework.settings import api_settings
from rest_framework.test import APIClient
from rest_framework.throttling import BaseThrottle, ScopedRateThrottle

from billing_project.core.api.throttling import ClientIPScopedRateThrottle
from billing_project.core.client_ip import client_ip, client_key
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
        (1, " 2001:db8::1 ", "2001:db8::1"),
        # What a proxy may write besides a bare address: a port, brackets, leading zeros, a
        # dual-stack socket's IPv4-mapped form, a zone.
        (1, "203.0.113.7:5555", "203.0.113.7"),
        (1, "6.6.6.6, 203.0.113.7:5555", "203.0.113.7"),
        (1, "203.000.113.007", "203.0.113.7"),
        (1, "010.0.0.001:80", "10.0.0.1"),
        (1, "[2001:db8::1]:443", "2001:db8::1"),
        (1, "[2001:db8::1]", "2001:db8::1"),
        (1, "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        (1, "::ffff:203.0.113.7", "203.0.113.7"),
        (1, "[::ffff:203.0.113.7]:8080", "203.0.113.7"),
        (1, "fe80::1%eth0", "fe80::1"),
        (1, '"203.0.113.7"', "203.0.113.7"),
    ],
)
def test_client_ip(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == expected


@pytest.mark.parametrize(
    ("remote", "expected"),
    [("::ffff:192.0.2.5", "192.0.2.5"), ("2001:DB8::0001", "2001:db8::1"), ("192.0.2.5", "192.0.2.5")],
)
def test_client_ip_without_a_proxy_normalises_the_socket_address(remote, expected):
    assert client_ip(RequestFactory().get("/", REMOTE_ADDR=remote)) == expected


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),  # IPv4 stays whole
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("2001:db8:0:1::1", "2001:db8:0:1::"),  # IPv6: the /64 (one subscriber's network), as its first address
        ("2001:db8:0:1:ffff:ffff:ffff:ffff", "2001:db8:0:1::"),
        ("2001:db8:0:2::1", "2001:db8:0:2::"),
        ("[2001:db8:0:1::9]:443", "2001:db8:0:1::"),
    ],
)
def test_client_key_is_the_ipv4_address_or_the_ipv6_64(settings, address, key):
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=address)

    assert client_key(request) == key


@pytest.mark.parametrize(
    "forwarded", ["not-an-address", "unknown", "203.0.113.999", "203.0.113.7:port", "[203.0.113.7]"]
)
def test_an_unparsable_forwarded_entry_is_keyed_on_the_proxy_with_a_warning(settings, caplog, forwarded):
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"6.6.6.6, {forwarded}")

    with caplog.at_level(logging.WARNING, logger="billing.client_ip"):
        assert client_ip(request) == "10.0.0.1"
        assert client_key(request) == "10.0.0.1"

    warnings = [r for r in caplog.records if r.name == "billing.client_ip"]
    assert len(warnings) == 1  # once per request, however many throttles ask
    assert warnings[0].levelno == logging.WARNING
    assert forwarded in warnings[0].getMessage() and "10.0.0.1" in warnings[0].getMessage()


# --- IPv6: one /64 is one client ------------------------------------------------------------------


def _v6(n: int) -> dict:
    return {"HTTP_X_FORWARDED_FOR": f"2001:db8:0:1::{n:x}"}


def test_rotating_ipv6_addresses_in_one_64_does_not_escape_the_token_lockout(settings, user):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = APIClient(REMOTE_ADDR="10.0.0.1")

    statuses = [_token(proxy, "guess", **_v6(n)).status_code for n in range(1, 31)]
    right = _token(proxy, PASSWORD, **_v6(0xFFFF))
    elsewhere = _token(proxy, PASSWORD, HTTP_X_FORWARDED_FOR="2001:db8:0:2::1")

    assert statuses == [401] * 9 + [429] * 21  # the 10th failure locks the pair out
    assert right.status_code == 429
    assert elsewhere.status_code == 200  # another network is another client
    assert AccessAttempt.objects.get(username="till").ip_address == "2001:db8:0:1::"


def test_rotating_ipv6_addresses_in_one_64_does_not_escape_the_login_page_lockout(settings, user):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = Client(REMOTE_ADDR="10.0.0.1")
    form = {"username": "till", "password": "guess"}

    statuses = [proxy.post("/accounts/login/", form, **_v6(n)).status_code for n in range(1, 31)]
    right = proxy.post("/accounts/login/", {"username": "till", "password": PASSWORD}, **_v6(0xFFFF))

    assert statuses == [200] * 9 + [429] * 21
    assert right.status_code == 429
    assert "_auth_user_id" not in proxy.session


def test_rotating_ipv6_addresses_in_one_64_does_not_escape_the_token_throttle(settings, token_rate, user):
    settings.TRUSTED_PROXY_COUNT = 1
    token_rate("3/min")
    proxy = APIClient(REMOTE_ADDR="10.0.0.1")

    statuses = [_token(proxy, "guess", **_v6(n)).status_code for n in range(1, 5)]
    other_network = _token(proxy, "guess", HTTP_X_FORWARDED_FOR="2001:db8:0:2::1")

    assert statuses == [401, 401, 401, 429]
    assert other_network.status_code == 401


def test_a_forwarded_port_is_the_clients_address_not_the_proxys(settings, limit_3, user):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = Client(REMOTE_ADDR="10.0.0.1")
    for port in (5555, 5556, 5557):
        proxy.post(
            "/accounts/login/", {"username": "till", "password": "guess"}, HTTP_X_FORWARDED_FOR=f"203.0.113.7:{port}"
        )

    locked = proxy.post(
        "/accounts/login/", {"username": "till", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="203.000.113.007"
    )
    other = proxy.post(
        "/accounts/login/", {"username": "till", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="198.51.100.20:443"
    )

    assert locked.status_code == 429
    assert other.status_code == 302
    assert AccessAttempt.objects.get(username="till").ip_address == "203.0.113.7"


# --- one key for every throttle ---------------------------------------------------------------------


def _drf_views(patterns):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _drf_views(pattern.url_patterns)
        elif getattr(pattern.callback, "cls", None) is not None:  # APIView.as_view() and viewsets set it
            yield pattern.callback.cls


def test_every_throttle_and_the_lockout_key_on_client_key():
    # api_settings imports the dotted paths: classes, though the stub types them as strings.
    throttles: set[type[BaseThrottle]] = set(api_settings.DEFAULT_THROTTLE_CLASSES)  # type: ignore[arg-type]
    for view in _drf_views(get_resolver().url_patterns):
        throttles.update(getattr(view, "throttle_classes", None) or [])

    assert ClientIPScopedRateThrottle in throttles
    for throttle in throttles:
        assert throttle.get_ident is ClientIPScopedRateThrottle.get_ident, throttle
    assert settings.AXES_CLIENT_IP_CALLABLE == "billing_project.core.client_ip.client_key"


def test_only_client_ip_reads_the_client_address_from_the_request():
    """Metrics, logs, request ids, axes and the throttles all get the address from client_ip."""
    root = Path(__file__).resolve().parents[2]
    reads = re.compile(r"""["'](REMOTE_ADDR|HTTP_X_FORWARDED_FOR|X-Forwarded-For)["']""", re.IGNORECASE)
    readers = {
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if not {".venv", "tests"} & set(path.relative_to(root).parts) and reads.search(path.read_text("utf-8"))
    }

    assert readers == {"billing_project/core/client_ip.py"}
