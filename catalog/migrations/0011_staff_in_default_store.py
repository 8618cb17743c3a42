"""Every existing staff user (not a superuser) works at the default store: an upgraded single shop's
managers and cashiers keep seeing its tills, bills and reports once each user sees only their stores."""

from django.db import migrations
from django.db.models import Q


def staff_into_default_store(apps, schema_editor):
    alias = schema_editor.connection.alias
    Store = apps.get_model("catalog", "Store")
    User = apps.get_model("auth", "User")
    store = Store.objects.using(alias).filter(is_default=True).first()
    if store is None:
        return
    staff = (
        User.objects.using(alias)
        .filter(Q(is_staff=True) | Q(groups__isnull=False), is_superuser=False)
        .values_list("pk", flat=True)
        .distinct()
    )
    store.staff.add(*staff)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0010_transfers"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(staff_into_default_store, migrations.RunPython.noop)]
