"""Move the tokens of DRF's old ``authtoken`` app (stored in plain text, one per user, no expiry)
to hashed knox tokens, so integrators keep working after the upgrade.

A knox token is found by its first 15 characters and checked against a SHA-512 digest of the whole
token; an old 40-character key fits that scheme as it is. Each imported token expires after
``API_TOKEN_TTL_HOURS`` from the upgrade like any new one, and the plain-text rows are deleted.
A fresh install has no ``authtoken_token`` table and this does nothing."""

from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone

LEGACY_TABLE = "authtoken_token"


def import_legacy_tokens(apps, schema_editor):
    from knox.crypto import hash_token
    from knox.settings import CONSTANTS

    connection = schema_editor.connection
    if LEGACY_TABLE not in connection.introspection.table_names():
        return
    table = schema_editor.quote_name(LEGACY_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {schema_editor.quote_name('key')}, user_id FROM {table}")
        rows = cursor.fetchall()
    AuthToken = apps.get_model("knox", "AuthToken")
    expiry = timezone.now() + timedelta(hours=settings.API_TOKEN_TTL_HOURS)
    AuthToken.objects.bulk_create(
        [
            AuthToken(
                digest=hash_token(key), token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH], user_id=user_id, expiry=expiry
            )
            for key, user_id in rows
        ],
        ignore_conflicts=True,
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("knox", "0009_extend_authtoken_field"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(import_legacy_tokens, migrations.RunPython.noop)]
