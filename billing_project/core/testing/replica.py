"""A second connection named ``replica`` to the test database, for tests of what reads the replica."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import load_backend


@contextmanager
def replica_connection(settings) -> Iterator[BaseDatabaseWrapper]:
    """A second connection named ``replica`` to the test database (it sees committed rows). Made
    inside the test, after the test case has fenced the configured aliases."""
    default = connections["default"].settings_dict
    replica = load_backend(default["ENGINE"]).DatabaseWrapper({**default}, alias="replica")
    connections["replica"] = replica
    settings.DATABASES = {**settings.DATABASES, "replica": {**default}}
    try:
        yield replica
    finally:
        replica.close()
        if hasattr(replica, "close_pool"):  # PostgreSQL with DB_POOL: the pool holds sessions open
            replica.close_pool()
        del connections["replica"]
