"""PostgreSQL compiles a statement's plan to machine code (JIT) when the planner's cost estimate
passes ``jit_above_cost``: worth it for analytical queries that run for many seconds, not for this
app's, whose estimates often pass it while they run in milliseconds (a subquery per row is costed for
every row). At a chain's scale it compiled for longer than it ran: the admin's bills of a day sorted
by lines ran in 112 ms after 338 ms of compiling (the page 0.48 -> 0.15 s without it). ``make
bench-scale``'s cases timed with it on and off on the same chain: none slower beyond the runs'
noise (a few ms either way), a year's reports by hour, cashier and till 10-20 % faster
(bench/RESULTS.md).

So the app's database has ``jit = off`` as the default of every session that connects to it
(``ALTER DATABASE … SET``), through PgBouncer too, which passes no settings at connect. A role that
may not alter the database (not its owner) leaves it as the server has it and says so: set
``jit = off`` in postgresql.conf then (docs/operations.md). Nothing on SQLite."""

from django.db import migrations

SETTING = """
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I {}', current_database());
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'jit is left as the server has it: this role may not alter database %', current_database();
END
$$
"""


def _database_setting(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:  # no parameters: its % signs are PL/pgSQL's
                cursor.execute(SETTING.format(sql))

    return run


class Migration(migrations.Migration):
    dependencies = [("core", "0002_import_legacy_tokens")]

    operations = [
        migrations.RunPython(_database_setting("SET jit = off"), _database_setting("RESET jit"), elidable=False),
    ]
