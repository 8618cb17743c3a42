"""Helpers of the browser tests: Debian's ``chromium`` driven by Playwright, never a downloaded
browser. The fixtures (``browser``, ``page``, ``page_without_js``, ``artifacts``) are in the root
``conftest.py``; screenshots go to ``test-artifacts/`` at the project root."""

import re
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
PASSWORD = "pass-word-123"  # customers.tests.factories.UserFactory
# How long a page may take to reach what a test waits for. Generous: a loaded CI machine (two cores
# running the live server, the browser and PostgreSQL) has taken over 10 s; a page that never gets
# there still fails.
TIMEOUT_MS = 30_000


def expect(*args, **kwargs):
    """Playwright's ``expect``, waiting up to ``TIMEOUT_MS``."""
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=TIMEOUT_MS)
    return playwright_expect(*args, **kwargs)


def new_page(browser, **options):
    """A fresh context (a laptop's screen) and its page."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context, context.new_page()


def log_in(page, live_server, username="cashier", password=PASSWORD):
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}/billing/")
    # The URL changes when the page starts to arrive; its deferred script (the keyboard's handlers)
    # runs before "load". Enter pressed before it would submit the form as a browser does without it.
    page.wait_for_load_state("load")
