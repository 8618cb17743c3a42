import django.db.models.deletion
from django.db import migrations, models

# One set-based UPDATE … FROM per table: each row takes its till's store (cashdrawer 0015 put every
# till in one). SQLite (3.33+) and PostgreSQL both take this form.
FILL = [
    f"UPDATE cashdrawer_{table} SET store_id = t.store_id FROM cashdrawer_till AS t "  # noqa: S608
    f"WHERE t.id = cashdrawer_{table}.till_id"
    for table in ("tillsession", "cashmovement", "drawermovement")
]


def _store(null: bool):
    return models.ForeignKey(
        db_index=False,
        null=null,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to="catalog.store",
    )


def foreign_keys_checked_now(apps, schema_editor):
    """PostgreSQL checks the new foreign keys as each UPDATE ends, not at COMMIT: ALTER TABLE (the
    NOT NULL below) refuses a table with deferred checks still pending ("pending trigger events")."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    """``store_id`` on the till's rows that grow with trade: sessions, cash movements and the drawer's
    ledger, filled from their till (docs/scale-out.md)."""

    dependencies = [
        ("cashdrawer", "0015_till_store"),
        ("catalog", "0008_stores"),
    ]

    operations = [
        *(
            migrations.AddField(model_name=m, name="store", field=_store(True))
            for m in ("tillsession", "cashmovement", "drawermovement")
        ),
        migrations.RunPython(foreign_keys_checked_now, migrations.RunPython.noop),
        *(migrations.RunSQL(sql, migrations.RunSQL.noop) for sql in FILL),
        *(
            migrations.AlterField(model_name=m, name="store", field=_store(False))
            for m in ("tillsession", "cashmovement", "drawermovement")
        ),
        migrations.AddIndex(
            model_name="tillsession",
            index=models.Index(fields=["store", "opened_at"], name="tillsession_store_opened"),
        ),
    ]
