"""Migration tests: the database taken to a given state and back to the latest."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(targets):
    """Migrate the test database to ``targets`` (``[(app, migration name)]``); returns the
    historical apps of that state, for building rows as an upgraded shop had them."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def latest_nodes():
    """The targets of the latest state: every app's last migration."""
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def migrate_to_latest():
    """Put the test database back to the latest state (after a test that migrated it back)."""
    return migrate(latest_nodes())
