"""Bills from before tills were rung up at the one drawer, which is now till MAIN."""

from django.db import migrations


def bills_at_main(apps, schema_editor):
    Till = apps.get_model("cashdrawer", "Till")
    Purchase = apps.get_model("purchases", "Purchase")
    main = Till.objects.filter(code="MAIN").first()
    if main is not None:
        Purchase.objects.filter(till__isnull=True).update(till=main)


class Migration(migrations.Migration):
    dependencies = [("purchases", "0005_tills"), ("cashdrawer", "0006_main_till")]

    operations = [migrations.RunPython(bills_at_main, migrations.RunPython.noop)]
