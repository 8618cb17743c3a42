"""The read replica router: only the sales report reads from the replica; everything else, every
write and every migration uses the primary."""

from datetime import date

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from billing_project.core.db_router import ReplicaRouter, report_alias, reporting_reads
from billing_project.core.testing.replica import replica_connection
from purchases.models import Purchase
from purchases.sales_report import sales_report

router = ReplicaRouter()
pytestmark = pytest.mark.filterwarnings("ignore:Overriding setting DATABASES:UserWarning")


@pytest.fixture
def with_replica(settings):
    settings.DATABASES = {**settings.DATABASES, "replica": {**settings.DATABASES["default"]}}


def test_without_a_replica_everything_uses_the_primary():
    with reporting_reads():
        assert router.db_for_read(Purchase) == "default"
        assert report_alias() == "default"
    assert router.db_for_read(Purchase) == "default"


def test_with_a_replica_only_report_reads_use_it(with_replica):
    assert router.db_for_read(Purchase) == "default"
    assert router.db_for_write(Purchase) == "default"
    with reporting_reads() as alias:
        assert alias == "replica"
        assert router.db_for_read(Purchase) == "replica"
        # A write inside the report's block still goes to the primary.
        assert router.db_for_write(Purchase) == "default"
    assert router.db_for_read(Purchase) == "default"


def test_the_report_block_ends_even_on_an_error(with_replica):
    with pytest.raises(ZeroDivisionError), reporting_reads():
        1 / 0  # noqa: B018
    assert router.db_for_read(Purchase) == "default"


def test_migrations_run_only_on_the_primary(with_replica):
    assert router.allow_migrate("default", "purchases", "purchase") is True
    assert router.allow_migrate("replica", "purchases", "purchase") is False
    with reporting_reads():
        assert router.allow_migrate("replica", "purchases") is False


@pytest.mark.django_db(transaction=True)
def test_the_report_reads_the_replica_and_not_the_primary(settings):
    with (
        replica_connection(settings) as replica,
        CaptureQueriesContext(replica) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        report = sales_report(date_from=date(2026, 1, 1), date_to=date(2026, 1, 7), group_by="day")

    assert len(report["rows"]) == 7
    assert len(on_replica.captured_queries) >= 2
    assert on_primary.captured_queries == []
