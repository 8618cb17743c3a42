"""The admin's list of every bill at a chain's scale (issue 30): the totals above it (bills, subtotal,
tax, total, payable, discounts) summed over 5,000,000 bills took about 0.6 s a page. ``BillCount``
now keeps those sums beside the count, by the same trigger of the bills (migration 0033) in the
same transaction as the bills, so the list of every bill reads them as it reads its count. A bill's
amounts never change after it is written; a hand-written UPDATE of them, or of its store, moves the
sums too. Filled here under a SHARE lock (bills wait for one pass over the bills: a few seconds at
5,000,000), so no bill slips between the sums and the trigger."""

import importlib

from django.db import migrations, models

SLOTS = 64  # as migration 0033
AMOUNTS = ("subtotal", "tax_total", "total", "payable", "discount_total")
_COLUMNS = ", ".join(AMOUNTS)
_SUMS = ", ".join(f"sum({amount})" for amount in AMOUNTS)
_NEGATED_SUMS = ", ".join(f"-sum({amount})" for amount in AMOUNTS)
_ADDED = ", ".join(f"{amount} = purchases_billcount.{amount} + EXCLUDED.{amount}" for amount in AMOUNTS)
_OLD = ", ".join(f"-OLD.{amount}" for amount in AMOUNTS)
_NEW = ", ".join(f"NEW.{amount}" for amount in AMOUNTS)
_CHANGED = " OR ".join(f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in ("store_id", *AMOUNTS))

TRIGGER_SQL = [
    f"""
    CREATE OR REPLACE FUNCTION purchases_bill_count() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'TRUNCATE' THEN
            DELETE FROM purchases_billcount;
            RETURN NULL;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO purchases_billcount (store_id, slot, bills, {_COLUMNS})
            SELECT store_id, pg_backend_pid() % {SLOTS}, count(*), {_SUMS} FROM new_bills GROUP BY store_id
            ON CONFLICT (store_id, slot) DO UPDATE SET bills = purchases_billcount.bills + EXCLUDED.bills, {_ADDED};
        END IF;
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            INSERT INTO purchases_billcount (store_id, slot, bills, {_COLUMNS})
            SELECT store_id, pg_backend_pid() % {SLOTS}, -count(*), {_NEGATED_SUMS} FROM old_bills GROUP BY store_id
            ON CONFLICT (store_id, slot) DO UPDATE SET bills = purchases_billcount.bills + EXCLUDED.bills, {_ADDED};
        END IF;
        RETURN NULL;
    END
    $$
    """,  # noqa: S608 - only this module's own column names are formatted in
    # A bill moved to another store, or its amounts changed, by a hand-written UPDATE: its old figures
    # leave its old store's sums and its new ones join its new store's (one row when the store is the
    # same: an upsert may touch a row once).
    f"""
    CREATE OR REPLACE FUNCTION purchases_bill_count_moved() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO purchases_billcount (store_id, slot, bills, {_COLUMNS})
        SELECT store_id, pg_backend_pid() % {SLOTS}, sum(bills), {_SUMS}
        FROM (VALUES (OLD.store_id, -1, {_OLD}), (NEW.store_id, 1, {_NEW})) AS moved (store_id, bills, {_COLUMNS})
        GROUP BY store_id
        ON CONFLICT (store_id, slot) DO UPDATE SET bills = purchases_billcount.bills + EXCLUDED.bills, {_ADDED};
        RETURN NULL;
    END
    $$
    """,  # noqa: S608 - only this module's own column names are formatted in
    "DROP TRIGGER IF EXISTS purchase_count_store ON purchases_purchase",
    f"CREATE TRIGGER purchase_count_store AFTER UPDATE OF store_id, {_COLUMNS} ON purchases_purchase"
    f" FOR EACH ROW WHEN ({_CHANGED}) EXECUTE FUNCTION purchases_bill_count_moved()",
    "LOCK TABLE purchases_purchase IN SHARE MODE",
    "DELETE FROM purchases_billcount",
    f"INSERT INTO purchases_billcount (store_id, slot, bills, {_COLUMNS})"  # noqa: S608
    f" SELECT store_id, 0, count(*), {_SUMS} FROM purchases_purchase GROUP BY store_id",
]

# Back to migration 0033's count alone (the sums' columns are then dropped): its two functions and
# its trigger of a bill's store, as it wrote them.
_COUNT_ONLY = importlib.import_module("purchases.migrations.0033_lookup_indexes")
COUNT_ONLY_SQL = [
    _COUNT_ONLY.TRIGGER_SQL[0].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"),
    _COUNT_ONLY.TRIGGER_SQL[4].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"),
    "DROP TRIGGER IF EXISTS purchase_count_store ON purchases_purchase",
    _COUNT_ONLY.TRIGGER_SQL[5],
]


def on_postgresql(statements: list[str]):
    """A RunPython step that executes ``statements`` on PostgreSQL (SQLite has no trigger)."""

    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql, params=None)

    return run


def _sum_of_amounts():
    return models.DecimalField(max_digits=25, decimal_places=2, default=0, db_default=0)


class Migration(migrations.Migration):
    dependencies = [("purchases", "0041_seal_steps")]

    operations = [
        *(migrations.AddField(model_name="billcount", name=amount, field=_sum_of_amounts()) for amount in AMOUNTS),
        migrations.RunPython(on_postgresql(TRIGGER_SQL), on_postgresql(COUNT_ONLY_SQL)),
    ]
