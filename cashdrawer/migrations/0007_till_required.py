import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cashdrawer", "0006_main_till")]

    operations = [
        migrations.AlterField(
            model_name="denomination",
            name="till",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="denominations", to="cashdrawer.till"
            ),
        ),
        migrations.AlterField(
            model_name="drawermovement",
            name="till",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="movements", to="cashdrawer.till"
            ),
        ),
    ]
