"""The test suite. DATABASE_URL picks SQLite (default) or PostgreSQL."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-key")
os.environ.setdefault("DEBUG", "False")

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["*"]
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"auth_token": "1000/min", "pdf": "1000/min"}
LOGGING["loggers"]["billing"]["level"] = "WARNING"
# Jobs stay in the database until a test runs the worker, as in production.
TASKS = {"default": {"BACKEND": "billing_project.core.tasks_backend.DatabaseBackend", "QUEUES": ["default"]}}
INVOICE_MAX_ATTEMPTS = 3
INVOICE_RETRY_BACKOFF_SECONDS = 60
INVOICE_RETRY_BACKOFF_MAX_SECONDS = 3600
EMAIL_TIMEOUT = 5

# Static files straight from the apps (no collectstatic needed).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
