"""An upgraded shop's plain-text DRF tokens become hashed knox tokens that keep working."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from customers.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("billing_project.core.migrations.0002_import_legacy_tokens")


class _SchemaEditor:
    connection = connection

    def quote_name(self, name):
        return connection.ops.quote_name(name)


def test_legacy_tokens_are_hashed_and_keep_working(settings):
    user = UserFactory(username="integrator", is_superuser=True)
    legacy_key = "0123456789abcdef0123456789abcdef01234567"  # DRF's 40 hex characters
    with connection.cursor() as cursor:
        cursor.execute(
            'CREATE TABLE authtoken_token ("key" varchar(40) PRIMARY KEY, created timestamp, user_id integer)'
        )
        cursor.execute(
            'INSERT INTO authtoken_token ("key", created, user_id) VALUES (%s, %s, %s)',
            [legacy_key, timezone.now(), user.pk],
        )

    migration.import_legacy_tokens(apps, _SchemaEditor())

    stored = AuthToken.objects.get(user=user)
    assert legacy_key not in stored.digest
    assert stored.expiry > timezone.now() + timedelta(hours=settings.API_TOKEN_TTL_HOURS - 1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {legacy_key}")
    assert client.get("/api/v1/products").status_code == 200


def test_a_fresh_install_has_nothing_to_import():
    migration.import_legacy_tokens(apps, _SchemaEditor())

    assert not AuthToken.objects.exists()
