"""Development on the embedded SQLite default: `make run`."""

import os

os.environ.setdefault("SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production")
os.environ.setdefault("DEBUG", "True")
os.environ.setdefault("API_DOCS_PUBLIC", "True")

from .base import *  # noqa: F403

# Invoices are printed to the console unless EMAIL_URL / EMAIL_HOST / EMAIL_BACKEND say otherwise.
# They are sent by `manage.py db_worker`, which `make run` starts beside the server.
if not EMAIL_CONFIGURED:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# Static files straight from the apps (no collectstatic needed).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
