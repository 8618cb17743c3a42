"""Development on the embedded SQLite default: `make run`."""

import os

os.environ.setdefault("SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production")
os.environ.setdefault("DEBUG", "True")
os.environ.setdefault("API_DOCS_PUBLIC", "True")
# The demo store sells in rupees (CURRENCY=INR), so its clock is India's: bills, receipts and the
# admin show Indian time. Set TIME_ZONE (and CURRENCY) in .env for another store.
os.environ.setdefault("TIME_ZONE", "Asia/Kolkata")

from .base import *  # noqa: F403

# Invoices are printed to the console unless EMAIL_URL / EMAIL_HOST / EMAIL_BACKEND say otherwise.
# They are sent by `manage.py db_worker`, which `make run` starts beside the server.
if not EMAIL_CONFIGURED:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# Static files straight from the apps (no collectstatic needed).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
