"""The environment the benchmark and the fault checks run the app in."""

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent


def production_env(database_url: str) -> dict[str, str]:
    """Production settings on this machine: a throwaway secret key, 127.0.0.1 only, no HTTPS
    redirect, warnings-only logging (a line per bill would dominate), and no mail sent (production
    settings insist on mail settings)."""
    return {
        "DJANGO_SETTINGS_MODULE": "billing_project.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": database_url,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "False",
        "DEBUG": "False",
        "LOG_LEVEL": "WARNING",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "DEFAULT_FROM_EMAIL": "bench@example.com",
    }


@contextmanager
def migrated_database(admin_url: str, name: str, *, keep: bool = False) -> Iterator[str]:
    """A new database ``name`` on the server of ``admin_url``, migrated, with this process's
    environment set to run the app on it in-process (``production_env``). Yields its URL; afterwards
    closes Django's connections to it and drops it, unless ``keep``."""
    parts = urlsplit(admin_url)
    url = urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))
    os.environ.update(production_env(url))
    admin = psycopg.connect(admin_url, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=600,
        )
        yield url
    finally:
        from django.db import connections

        connections.close_all()
        if not keep:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


class SqlClock:
    """Django's execute wrapper adding up the wall time the app waits on its SQL statements, in-process:
    ``with connection.execute_wrapper(clock): ...``, then ``clock.seconds`` (``reset()`` between runs)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def reset(self) -> None:
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - t0
