from django.apps import AppConfig


class ApiTokensConfig(AppConfig):
    """API tokens for integrators and till devices: django-rest-knox's hashed, expiring tokens,
    issued by ``services.api_token_issue`` and listed and revoked in the admin."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "apitokens"
    verbose_name = "API tokens"
