"""Production: PostgreSQL behind gunicorn. SECRET_KEY, DATABASE_URL and the email settings have no defaults here."""

from .base import *  # noqa: F403
from .base import env

DATABASES = {alias: DATABASES[alias] for alias in ("default", "replica") if alias in DATABASES}
if "DATABASE_URL" not in env.ENVIRON:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("Set DATABASE_URL for production, e.g. postgres://user:pass@host:5432/billing")
if not EMAIL_CONFIGURED or "DEFAULT_FROM_EMAIL" not in env.ENVIRON:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "Set EMAIL_URL (e.g. smtp+tls://user:pass@smtp.example.com:587) or EMAIL_HOST, and DEFAULT_FROM_EMAIL"
    )

# The token throttle's counts (DRF keeps them in the default cache) must be shared by every gunicorn
# worker and node, or each counts on its own and N workers let N times the rate through. The
# database cache is shared by everything that reaches the database; `manage.py migrate` creates its
# table. Another shared cache (e.g. redis://) works too; gunicorn.conf.py refuses several workers on
# a per-process one.
CACHES = {"default": env.cache("CACHE_URL", default="dbcache://django_cache")}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 30)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if not SECURE_HSTS_PRELOAD:
    # Preloading is a one-way commitment for the whole domain; it is the operator's call, so not
    # opting in is deliberate, not an oversight.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# gunicorn serves the admin's and the billing page's static files through WhiteNoise, from
# `manage.py collectstatic` output, with hashed names and compression.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# One JSON object per log line, with the request id and any `extra=` fields (till, session, bill).
LOGGING["formatters"]["json"] = {
    "()": "pythonjsonlogger.json.JsonFormatter",
    "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
    "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
    "datefmt": "%Y-%m-%dT%H:%M:%S%z",
}
LOGGING["handlers"]["console"]["formatter"] = "json"

# Prometheus scrapes each node directly over the internal network (docs/operations.md): no HTTPS redirect
# for /metrics, nor for the load balancer's health checks.
SECURE_REDIRECT_EXEMPT = [r"^metrics/?$", r"^healthz/?$"]
