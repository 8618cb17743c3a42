"""Django's PostgreSQL backend, with the connection pool's check replaced by one without a round
trip (billing_project.core.pool_check). Django builds the pool with psycopg_pool's own check when
CONN_HEALTH_CHECKS is on and takes no other; this backend swaps it in once, when the pool is made."""

from django.db.backends.postgresql import base

from billing_project.core.db.orm_internals import use_pool_check
from billing_project.core.pool_check import check_connection


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self):
        pool = super().pool
        if pool is not None:
            use_pool_check(pool, check_connection)
        return pool
