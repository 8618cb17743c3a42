import django.db.models.deletion
from django.db import migrations, models

# One set-based UPDATE … FROM per table (SQLite 3.33+ and PostgreSQL both take this form). A bill
# takes its till's store (every till is in one since cashdrawer 0015); the few bills without a till
# (written before tills) the default store's. Lines and payments take their bill's, a refund its
# bill's, a refund's lines and payments their refund's. Then each bill snapshots its store as the
# seller: what its documents printed until now (the default store was made from the settings).
FILL = [
    "UPDATE purchases_purchase SET store_id = t.store_id FROM cashdrawer_till AS t "
    "WHERE t.id = purchases_purchase.till_id",
    "UPDATE purchases_purchase SET store_id = s.id FROM catalog_store AS s "
    "WHERE s.is_default AND purchases_purchase.store_id IS NULL",
    "UPDATE purchases_purchaseitem SET store_id = p.store_id FROM purchases_purchase AS p "
    "WHERE p.id = purchases_purchaseitem.purchase_id",
    "UPDATE purchases_payment SET store_id = p.store_id FROM purchases_purchase AS p "
    "WHERE p.id = purchases_payment.purchase_id",
    "UPDATE purchases_refund SET store_id = p.store_id FROM purchases_purchase AS p "
    "WHERE p.id = purchases_refund.purchase_id",
    "UPDATE purchases_refundline SET store_id = r.store_id FROM purchases_refund AS r "
    "WHERE r.id = purchases_refundline.refund_id",
    "UPDATE purchases_refundpayment SET store_id = r.store_id FROM purchases_refund AS r "
    "WHERE r.id = purchases_refundpayment.refund_id",
    "UPDATE purchases_purchase SET seller_name = s.name, "
    "seller_legal_name = COALESCE(NULLIF(s.legal_name, ''), s.name), seller_address = s.address, "
    "seller_gstin = s.gstin, seller_state_code = COALESCE(NULLIF(s.state_code, ''), SUBSTR(s.gstin, 1, 2)) "
    "FROM catalog_store AS s WHERE s.id = purchases_purchase.store_id",
]

TABLES = ("purchase", "purchaseitem", "payment", "refund", "refundline", "refundpayment")


def _store(null: bool):
    return models.ForeignKey(
        db_index=False, null=null, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="catalog.store"
    )


def _text(**kwargs):
    return models.CharField(blank=True, default="", db_default="", **kwargs)


def foreign_keys_checked_now(apps, schema_editor):
    """PostgreSQL checks the new foreign keys as each UPDATE ends, not at COMMIT: ALTER TABLE (the
    NOT NULL below) refuses a table with deferred checks still pending ("pending trigger events")."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    """``store_id`` on the bills, their lines and payments, the refunds and theirs (docs/scale-out.md),
    and each bill's seller snapshot (docs/gst.md)."""

    dependencies = [
        ("purchases", "0029_approved_by"),
        ("cashdrawer", "0016_store_columns"),
        ("catalog", "0008_stores"),
    ]

    operations = [
        *(migrations.AddField(model_name=m, name="store", field=_store(True)) for m in TABLES),
        migrations.AddField(model_name="purchase", name="seller_name", field=_text(max_length=200)),
        migrations.AddField(model_name="purchase", name="seller_legal_name", field=_text(max_length=200)),
        migrations.AddField(
            model_name="purchase",
            name="seller_address",
            field=models.TextField(blank=True, default="", db_default=""),
        ),
        migrations.AddField(
            model_name="purchase",
            name="seller_gstin",
            field=_text(max_length=15, verbose_name="seller's GSTIN"),
        ),
        migrations.AddField(model_name="purchase", name="seller_state_code", field=_text(max_length=2)),
        migrations.RunPython(foreign_keys_checked_now, migrations.RunPython.noop),
        *(migrations.RunSQL(sql, migrations.RunSQL.noop) for sql in FILL),
        *(migrations.AlterField(model_name=m, name="store", field=_store(False)) for m in TABLES),
        migrations.AddIndex(
            model_name="purchase", index=models.Index(fields=["store", "created_at"], name="purchase_store_created")
        ),
        migrations.AddIndex(
            model_name="purchaseitem",
            index=models.Index(fields=["store", "created_at"], name="purchaseitem_store_created"),
        ),
        migrations.AddIndex(
            model_name="refund", index=models.Index(fields=["store", "created_at"], name="refund_store_created")
        ),
    ]
