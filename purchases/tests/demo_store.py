"""What `make run` sets up, for the demo's tests: the store the local settings configure (read in a
fresh interpreter, as `make run` starts Django) and the ``seed_demo`` command."""

import io
import json
import os
import subprocess
import sys

from django.core.management import call_command

STORE_SETTINGS = (
    "STORE_NAME",
    "STORE_LEGAL_NAME",
    "STORE_ADDRESS",
    "STORE_TAX_ID",
    "TAX_SPLIT",
    "CURRENCY",
    "TIME_ZONE",
)


def local_settings(**env: str) -> dict[str, str]:
    """The store's settings under ``billing_project.settings.local`` with nothing of the store in the
    environment but ``env``."""
    code = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in {STORE_SETTINGS!r}}}))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in (*STORE_SETTINGS, "DATABASE_URL")}
    clean.update(env, DJANGO_SETTINGS_MODULE="billing_project.settings.local")
    result = subprocess.run([sys.executable, "-c", code], env=clean, capture_output=True, text=True, check=True)  # noqa: S603
    return json.loads(result.stdout)


def seed(*args: str) -> str:
    """``seed_demo`` as `make run` runs it (``--force``: the test settings have DEBUG off)."""
    out = io.StringIO()
    call_command("seed_demo", "--force", *args, stdout=out)
    return out.getvalue()
