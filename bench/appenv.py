"""The environment the benchmark and the fault checks run the app in."""

import secrets


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
