"""The bill list at a chain's scale (issue 30). docs/performance.md lists each index with the query
it serves.

- Its order, newest first, then by id: the bills' two time indexes take ``id`` as their last key,
  so a page of ids, however deep, is read from the index alone (no sort). Each replaces the index
  it extends, built before the old one is dropped.
- Its exact ``count`` without counting the rows: ``BillCount``, kept by a trigger of the bills on
  PostgreSQL (filled here under a SHARE lock, so no bill slips between the count and the trigger).
"""

from django.db import migrations, models

SLOTS = 64  # purchases.selectors.BILL_COUNT_SLOTS, as it was when this ran

TRIGGER_SQL = [
    f"""
    CREATE FUNCTION purchases_bill_count() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'TRUNCATE' THEN
            DELETE FROM purchases_billcount;
            RETURN NULL;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO purchases_billcount (store_id, slot, bills)
            SELECT store_id, pg_backend_pid() % {SLOTS}, count(*) FROM new_bills GROUP BY store_id
            ON CONFLICT (store_id, slot) DO UPDATE SET bills = purchases_billcount.bills + EXCLUDED.bills;
        END IF;
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            INSERT INTO purchases_billcount (store_id, slot, bills)
            SELECT store_id, pg_backend_pid() % {SLOTS}, -count(*) FROM old_bills GROUP BY store_id
            ON CONFLICT (store_id, slot) DO UPDATE SET bills = purchases_billcount.bills + EXCLUDED.bills;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    "CREATE TRIGGER purchase_count_insert AFTER INSERT ON purchases_purchase"
    " REFERENCING NEW TABLE AS new_bills FOR EACH STATEMENT EXECUTE FUNCTION purchases_bill_count()",
    "CREATE TRIGGER purchase_count_delete AFTER DELETE ON purchases_purchase"
    " REFERENCING OLD TABLE AS old_bills FOR EACH STATEMENT EXECUTE FUNCTION purchases_bill_count()",
    "CREATE TRIGGER purchase_count_truncate AFTER TRUNCATE ON purchases_purchase"
    " FOR EACH STATEMENT EXECUTE FUNCTION purchases_bill_count()",
    # A bill's store never changes; if a hand-written UPDATE ever changes it, the count follows. (A
    # statement trigger with transition tables cannot name a column, and one on every UPDATE would
    # run for every bill's own UPDATE: this row trigger's WHEN is checked only when store_id is set.)
    f"""
    CREATE FUNCTION purchases_bill_count_moved() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO purchases_billcount (store_id, slot, bills)
        VALUES (OLD.store_id, pg_backend_pid() % {SLOTS}, -1), (NEW.store_id, pg_backend_pid() % {SLOTS}, 1)
        ON CONFLICT (store_id, slot) DO UPDATE SET bills = purchases_billcount.bills + EXCLUDED.bills;
        RETURN NULL;
    END
    $$
    """,
    "CREATE TRIGGER purchase_count_store AFTER UPDATE OF store_id ON purchases_purchase FOR EACH ROW"
    " WHEN (OLD.store_id IS DISTINCT FROM NEW.store_id) EXECUTE FUNCTION purchases_bill_count_moved()",
    "LOCK TABLE purchases_purchase IN SHARE MODE",
    "DELETE FROM purchases_billcount",
    "INSERT INTO purchases_billcount (store_id, slot, bills)"
    " SELECT store_id, 0, count(*) FROM purchases_purchase GROUP BY store_id",
]

DROP_SQL = [
    "DROP TRIGGER IF EXISTS purchase_count_store ON purchases_purchase",
    "DROP TRIGGER IF EXISTS purchase_count_truncate ON purchases_purchase",
    "DROP TRIGGER IF EXISTS purchase_count_delete ON purchases_purchase",
    "DROP TRIGGER IF EXISTS purchase_count_insert ON purchases_purchase",
    "DROP FUNCTION IF EXISTS purchases_bill_count_moved()",
    "DROP FUNCTION IF EXISTS purchases_bill_count()",
]


def bill_count_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in TRIGGER_SQL:
            schema_editor.execute(sql, params=None)


def drop_bill_count_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in DROP_SQL:
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("purchases", "0031_ledger_indexes"),
        ("customers", "0004_lookup_indexes"),
        ("catalog", "0012_lookup_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="purchase",
            index=models.Index(
                fields=["created_at", "id"],
                include=(
                    "store",
                    "till",
                    "created_by",
                    "subtotal",
                    "discount_total",
                    "tax_total",
                    "total",
                    "cost_total",
                ),
                name="purchase_created_id_cover",
            ),
        ),
        migrations.RemoveIndex(model_name="purchase", name="purchase_created_cover"),
        migrations.AddIndex(
            model_name="purchase",
            index=models.Index(fields=["store", "created_at", "id"], name="purchase_store_created_id"),
        ),
        migrations.RemoveIndex(model_name="purchase", name="purchase_store_created"),
        migrations.CreateModel(
            name="BillCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("store_id", models.BigIntegerField()),
                ("slot", models.SmallIntegerField()),
                ("bills", models.BigIntegerField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("store_id", "slot"), name="billcount_one_per_store_slot")
                ],
            },
        ),
        migrations.RunPython(bill_count_trigger, drop_bill_count_trigger),
    ]
