import django.db.models.deletion
from django.db import migrations, models

import catalog.stores


def tills_into_default_store(apps, schema_editor):
    Store = apps.get_model("catalog", "Store")
    Till = apps.get_model("cashdrawer", "Till")
    alias = schema_editor.connection.alias
    default = Store.objects.using(alias).get(is_default=True)
    Till.objects.using(alias).filter(store__isnull=True).update(store=default)


class Migration(migrations.Migration):
    """Every till belongs to a store: the existing ones to the default store (catalog 0008)."""

    dependencies = [
        ("cashdrawer", "0014_overrides_and_pending_approval"),
        ("catalog", "0008_stores"),
    ]

    operations = [
        migrations.AddField(
            model_name="till",
            name="store",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="tills", to="catalog.store"
            ),
        ),
        migrations.RunPython(tills_into_default_store, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="till",
            name="store",
            field=models.ForeignKey(
                default=catalog.stores.default_store_id,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="tills",
                to="catalog.store",
            ),
        ),
    ]
