"""``rollup_sum(bigint)``: on PostgreSQL, the sum of ``bigint``s as a ``bigint`` (issue 30).

A report by product adds up to 325,000 rollup rows of 11 sums each, in whole paise and thousandths.
PostgreSQL's own ``sum(bigint)`` is a ``numeric``: it adds in 128 bits and builds a ``numeric`` of each
product's sum, half the time of such a read (30 days of every store: 540 -> 230 ms). ``rollup_sum``
adds with ``int8pl``, the ``bigint`` ``+`` operator, which raises an error on an overflow (past
9.2 × 10^18 paise) rather than wrapping: exact, or no answer. Like ``sum``, it is NULL over no rows.
Other databases' ``SUM`` of integers is already an integer (``sales_rollup_reads._whole_sums``)."""

from django.db import migrations

CREATE = (
    "CREATE AGGREGATE rollup_sum(bigint) (SFUNC = int8pl, STYPE = bigint, COMBINEFUNC = int8pl, PARALLEL = SAFE)"
)


def create_rollup_sum(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_rollup_sum(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP AGGREGATE IF EXISTS rollup_sum(bigint)")


class Migration(migrations.Migration):
    dependencies = [("purchases", "0038_product_rows_by_store")]

    operations = [migrations.RunPython(create_rollup_sum, drop_rollup_sum)]
