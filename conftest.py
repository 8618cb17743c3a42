"""Fixtures shared by every app's tests."""

import os

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from billing_project.core.testing import properties  # noqa: F401 - registers and loads the hypothesis profiles
from billing_project.core.testing.browser import ARTIFACTS, CHROMIUM, new_page
from customers.tests.factories import UserFactory


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def admin_api(superuser):
    client = APIClient()
    client.force_authenticate(superuser)
    return client


# --- The drawer (cashdrawer) ---------------------------------------------------------------------

# The drawer most bill tests ring up against: INR notes and coins, a few of each.
STANDARD_DRAWER = {"500": 4, "200": 5, "100": 10, "50": 4, "20": 10, "10": 10, "5": 10, "2": 10, "1": 10}


@pytest.fixture
def drawer_counts() -> dict:
    """``{value: count}`` for the ``drawer`` fixture. A module that needs other counts overrides
    this fixture, not ``drawer``."""
    return STANDARD_DRAWER


@pytest.fixture
def drawer(drawer_counts):
    """The drawer, created through the service so its ledger matches (needs a django_db test)."""
    from cashdrawer.tests.factories import drawer_with

    return drawer_with(drawer_counts)


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite has no row locks (select_for_update is a no-op)")


# --- Roles (billing_project.core.roles) -------------------------------------------------------------


@pytest.fixture
def roles(db):
    from billing_project.core.roles import roles_setup

    return roles_setup()


def _user_with_role(username: str, role: str):
    from billing_project.core.roles import role_assign

    user = UserFactory(username=username, is_staff=True)
    role_assign(user=user, role=role)
    return user


@pytest.fixture
def manager_user(roles):
    return _user_with_role("manager", "Manager")


@pytest.fixture
def cashier_user(roles):
    return _user_with_role("cashier", "Cashier")


@pytest.fixture
def manager_api(manager_user):
    client = APIClient()
    client.force_authenticate(manager_user)
    return client


@pytest.fixture
def cashier_api(cashier_user):
    client = APIClient()
    client.force_authenticate(cashier_user)
    return client


@pytest.fixture
def manager_client(client, manager_user):
    """Django test client logged in as a manager, for admin pages."""
    client.force_login(manager_user)
    return client


@pytest.fixture
def cashier_client(client, cashier_user):
    """Django test client logged in as a cashier, for admin pages."""
    client.force_login(cashier_user)
    return client


@pytest.fixture(autouse=True)
def _default_store(request):
    """The default store, as migration catalog 0008 makes it: a test with ``transaction=True``
    flushes the tables, and with them the store every till goes in by default."""
    marker = request.node.get_closest_marker("django_db")
    names = request.fixturenames
    if "transactional_db" in names or "live_server" in names or (marker and marker.kwargs.get("transaction")):
        request.getfixturevalue("transactional_db")
    elif marker is not None or "db" in names:
        request.getfixturevalue("db")
    else:
        return
    from catalog.models import Store

    if not Store.objects.filter(is_default=True).exists():
        Store.objects.create(code="MAIN", name=settings.STORE_NAME or "Main store", is_default=True)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters live in the cache: every test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


# --- Browser (Debian's chromium through Playwright; never a downloaded browser) -------------------


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run. Skips when /usr/bin/chromium is missing."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium")
    playwright_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an asyncio loop in this thread, and Django refuses ORM calls from
    # a thread with a running loop; the tests' own ORM calls are plain synchronous code.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with playwright_api.sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM),
                args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser):
    context, page = new_page(browser)
    yield page
    context.close()


@pytest.fixture
def page_without_js(browser):
    context, page = new_page(browser, java_script_enabled=False)
    yield page
    context.close()


@pytest.fixture
def artifacts():
    """Where screenshots go (``test-artifacts/``, made on first use)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
