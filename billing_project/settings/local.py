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

# The demo store, unless the environment or .env names a store (any of these four set): its legal
# details, so that the demo's tax invoices carry what a real GST invoice does. The GSTIN is made
# up for the demo: well-formed, Karnataka's state code 29, and a valid check character.
if not any(os.environ.get(name) for name in ("STORE_NAME", "STORE_LEGAL_NAME", "STORE_ADDRESS", "STORE_TAX_ID")):
    STORE_NAME = "Dakshin Provisions"
    STORE_LEGAL_NAME = "Dakshin Provisions Private Limited"
    STORE_ADDRESS = (
        "14, 3rd Main Road, Malleswaram\nBengaluru 560003\nState: Karnataka (code 29)\nPhone: +91 80 4123 4567"
    )
    STORE_TAX_ID = "29AABCD1234E1Z4"
# The demo store's UPI id, so that the billing page shows a QR code for the UPI amount. Made up for
# the demo: a real one (UPI_VPA, UPI_PAYEE_NAME in .env) is the store's own.
if not os.environ.get("UPI_VPA"):
    UPI_VPA = "dakshinprovisions@okaxis"
    UPI_PAYEE_NAME = os.environ.get("UPI_PAYEE_NAME") or STORE_NAME
# An Indian store's sales within its state: each rate's tax as CGST and SGST halves.
if not os.environ.get("TAX_SPLIT"):
    TAX_SPLIT = "cgst_sgst"

# Static files straight from the apps (no collectstatic needed).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
