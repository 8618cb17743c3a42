"""Till MAIN takes over the one drawer there was: its counts and its whole ledger."""

from django.db import migrations

MAIN = "MAIN"


def create_main_till(apps, schema_editor):
    Till = apps.get_model("cashdrawer", "Till")
    Denomination = apps.get_model("cashdrawer", "Denomination")
    DrawerMovement = apps.get_model("cashdrawer", "DrawerMovement")
    main, _ = Till.objects.get_or_create(code=MAIN, defaults={"name": "Main till"})
    Denomination.objects.filter(till__isnull=True).update(till=main)
    DrawerMovement.objects.filter(till__isnull=True).update(till=main)


def forget_tills(apps, schema_editor):
    # Going back to one drawer: only possible while MAIN is the only till with a drawer.
    Denomination = apps.get_model("cashdrawer", "Denomination")
    DrawerMovement = apps.get_model("cashdrawer", "DrawerMovement")
    Denomination.objects.update(till=None)
    DrawerMovement.objects.update(till=None)


class Migration(migrations.Migration):
    dependencies = [("cashdrawer", "0005_tills")]

    operations = [migrations.RunPython(create_main_till, forget_tills)]
